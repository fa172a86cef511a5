/*
 * maintenance.c
 *		Pruning: op_id ledger entries older than assoc.op_retention and feed
 *		entries older than assoc.feed_retention, and the two settings.
 *
 * Layer: the write path (README, "How the code is organised"); calls the
 * call frame and statement executor below it.
 */
#include "postgres.h"

#include <limits.h>

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "cursor.h"
#include "frame.h"
#include "horizon.h"
#include "maintenance.h"
#include "stmt.h"

/* assoc.op_retention: seconds op_id ledger entries are kept. */
int assoc_op_retention = 7 * 24 * 3600;

/* assoc.feed_retention: seconds feed entries are kept. */
int assoc_feed_retention = 24 * 3600;

/*
 * Define the retention settings (called by _PG_init).  Server-wide
 * (PGC_SIGHUP): one worker prunes for every session.
 */
void
assoc_maintenance_init(void)
{
	DefineCustomIntVariable(
		"assoc.op_retention", "How long op_id ledger entries are kept.",
		"Never shorter than assoc.feed_retention in effect.",
		&assoc_op_retention, 7 * 24 * 3600, 60, INT_MAX, PGC_SIGHUP,
		GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("assoc.feed_retention",
							"How long change feed entries are kept.", NULL,
							&assoc_feed_retention, 24 * 3600, 60, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

/*
 * Delete op_id ledger entries older than assoc.op_retention (never less
 * than assoc.feed_retention) and feed entries older than
 * assoc.feed_retention (assoc_prune_feed), as the extension owner.  Returns how
 * many.  Called by assoc.prune() and by the notification worker.
 */
int64
assoc_prune_all(void)
{
	AssocOwnerSwitch owner_switch;
	Datum            values[1];
	int64            deleted;

	assoc_owner_enter(&owner_switch);
	values[0] =
		Float8GetDatum((double) Max(assoc_op_retention, assoc_feed_retention));
	deleted = assoc_stmt_exec(SP_OPS_PRUNE, values, NULL, false, 0);
	deleted += assoc_prune_feed();
	assoc_owner_leave(&owner_switch);
	return deleted;
}

/*
 * The names of all namespaces, copied out of SPI's result (which is freed)
 * into the current memory context.
 */
static Datum *
prune_namespaces(uint64 *nns)
{
	Datum *names;

	*nns = assoc_stmt_exec(SP_FEED_PRUNE_NAMESPACES, NULL, NULL, false, 0);
	names = palloc(sizeof(Datum) * Max(*nns, 1));
	for (uint64 i = 0; i < *nns; i++)
	{
		bool isnull;

		CHECK_FOR_INTERRUPTS();
		names[i] = PointerGetDatum(DatumGetTextPCopy(SPI_getbinval(
			SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)));
	}
	SPI_freetuptable(SPI_tuptable);
	return names;
}

/*
 * Prune one namespace's feed: delete the prefix, in feed order, of entries
 * older than cutoff below the delivery horizon, and remember the last
 * position deleted.  Each statement's result is freed once read.  Returns
 * the number of entries deleted.
 */
static int64
prune_namespace(Datum ns, TimestampTz cutoff, uint64 horizon)
{
	Datum     values[5];
	FeedPos   stop = {PG_UINT64_MAX, PG_INT64_MAX};
	bool      isnull;
	HeapTuple tuple;
	TupleDesc desc;
	int64     deleted;

	/* The first entry to keep: the end of the prunable prefix. */
	values[0] = ns;
	values[1] = TimestampTzGetDatum(cutoff);
	values[2] = UInt64GetDatum(horizon);
	if (assoc_stmt_exec(SP_FEED_FIRST_KEPT, values, NULL, false, 1) == 1)
	{
		stop.xid = DatumGetUInt64(SPI_getbinval(
			SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		stop.seq = DatumGetInt64(SPI_getbinval(
			SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	}
	SPI_freetuptable(SPI_tuptable);
	values[1] = UInt64GetDatum(stop.xid);
	values[2] = Int64GetDatum(stop.seq);
	values[3] = TimestampTzGetDatum(cutoff);
	values[4] = UInt64GetDatum(horizon);
	assoc_stmt_exec(SP_FEED_PRUNE, values, NULL, false, 0);
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	deleted = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	/* The last position deleted: xid8 and int8, passed by value. */
	values[1] = SPI_getbinval(tuple, desc, 2, &isnull);
	values[2] = SPI_getbinval(tuple, desc, 3, &isnull);
	SPI_freetuptable(SPI_tuptable);
	if (deleted > 0)
	{
		assoc_stmt_exec(SP_FEED_SET_PRUNED, values, NULL, false, 0);
		SPI_freetuptable(SPI_tuptable);
	}
	return deleted;
}

/*
 * Delete the feed entries older than assoc.feed_retention, namespace by
 * namespace, and remember the last position deleted so that older
 * cursors are refused.  Only a prefix in feed order is deleted, and only
 * below the delivery horizon of the caller's snapshot (horizon.c: every
 * entry still to become visible lies above it): an entry is kept while
 * any entry before it is kept.  Runs as the extension owner inside SPI; returns the
 * number of entries deleted.  Memory stays bounded by the number of
 * namespaces: each namespace's work runs in a context reset after it.
 */
int64
assoc_prune_feed(void)
{
	TimestampTz cutoff =
		GetCurrentTimestamp() - (int64) assoc_feed_retention * USECS_PER_SEC;
	uint64        horizon = assoc_horizon_of(GetActiveSnapshot(), NULL, NULL);
	int64         total = 0;
	uint64        nns;
	Datum        *names = prune_namespaces(&nns);
	MemoryContext round_cxt =
		AllocSetContextCreate(CurrentMemoryContext, "pg_assoc prune namespace",
							  ALLOCSET_SMALL_SIZES);

	for (uint64 i = 0; i < nns; i++)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(round_cxt);
		total += prune_namespace(names[i], cutoff, horizon);
		MemoryContextSwitchTo(old);
		MemoryContextReset(round_cxt);
	}
	MemoryContextDelete(round_cxt);
	pfree(names);
	return total;
}
