/*
 * feed.c
 *		Reading the durable change feed: assoc.changes and assoc.head
 *		(README, "Change subscriptions").  Entries are appended by
 *		feed_write.c, cursors are cursor.c, pruning is maintenance.c.
 *
 * Every effective write adds one assoc.feed row in the writing transaction,
 * at a position (pos, seq) that horizon.c draws: pos once per writing
 * transaction, seq numbering its entries.  A global sequence read at each
 * write would not be gap-free: a transaction may take a number, commit
 * late, and so appear "behind" a reader that has already moved on.  So
 * readers deliver only what lies below the delivery horizon of their
 * snapshot (horizon.c), a bound that no entry still to become visible can
 * fall below: nothing ever appears behind a cursor already handed out.
 * Only transactions of this database that have written the feed hold the
 * horizon back, each until it ends; without the preloaded library and on
 * a standby it is the snapshot's xmin, as in 0.1.0.
 *
 * A cursor is the text "token-xid-seq".  The token is a hash of the
 * cluster's system identifier, the database and the namespace's
 * incarnation: a cursor of a dropped and recreated namespace, of another
 * namespace, or from before a restore into another database or cluster
 * (where transaction ids are another count; the feed is not dumped) is
 * refused.  assoc.feed_pruned remembers the last position pruned, so a
 * cursor that has fallen behind retention is refused too, rather than
 * silently skipping entries.
 *
 * Layer: SQL entry points (README, "How the code is organised"); the
 * write path appends entries (feed_write.c), pruning is maintenance.c.
 */
#include "postgres.h"

#include <limits.h>

#include "access/xlog.h"
#include "compat.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "cursor.h"
#include "horizon.h"
#include "rules.h"
#include "stmt.h"

/* The error for a cursor the feed can no longer continue from. */
static void
error_resync(const char *cursor, const char *ns, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cursor \"%s\" cannot be continued in namespace \"%s\"",
					cursor, ns),
			 errdetail("%s", why),
			 errhint("Resynchronise: read the records and assoc.head() in "
					 "one REPEATABLE READ transaction (or call "
					 "assoc.snapshot()), then follow the feed from that "
					 "cursor.")));
}

/*
 * The namespace row as the caller sees it (row-level security decides),
 * with the delivery horizon of the statement's snapshot (horizon.c).  All
 * of it and the feed rows read after it come from that one snapshot (SPI
 * in read-only mode), so a concurrent prune cannot slip between the check
 * of the cursor and the read of the entries.
 */
static void
feed_namespace(text *ns, int64 *incarnation, FeedPos *pruned, uint64 *horizon)
{
	Datum     values[1];
	HeapTuple tuple;
	TupleDesc desc;
	bool      isnull;

	values[0] = PointerGetDatum(ns);
	if (assoc_stmt_exec(SP_FEED_NS, values, NULL, true, 1) != 1)
		assoc_error_no_namespace(text_to_cstring(ns));
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	*incarnation = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	pruned->xid = DatumGetUInt64(SPI_getbinval(tuple, desc, 2, &isnull));
	pruned->seq = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
	*horizon = assoc_horizon_of(GetActiveSnapshot(), NULL, NULL);

	/*
	 * The horizon rests on positions drawn and marks logged by others,
	 * which may not be on disk yet (an asynchronous commit, a mark raised
	 * by a writer that has not committed): flushed first, a cursor handed
	 * out is never passed by a position drawn after a crash.
	 */
	if (!RecoveryInProgress())
		XLogFlush(GetXLogInsertEndRecPtr());
}

PG_FUNCTION_INFO_V1(assoc_changes);

/*
 * assoc.changes(ns, after DEFAULT NULL, max DEFAULT 1000): the feed entries
 * after the cursor after (NULL: from the oldest kept), at most max of
 * them, in feed order, each with its own cursor.  Only entries below the
 * delivery horizon are returned (file header), so polling with the last
 * cursor seen never misses an entry.
 */
Datum
assoc_changes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text          *ns;
	char          *after = NULL;
	int32          max;
	int64          incarnation;
	uint64         after_token = 0;
	FeedPos        pos = {0, 0}, pruned;
	uint64         horizon;
	Datum          values[5];
	uint64         n;
	int            ncols;

	ns = assoc_ns_arg(fcinfo, 0);
	assoc_check_not_null(fcinfo, 2, "max");
	max = PG_GETARG_INT32(2);
	if (max < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid max %d", max),
						errdetail("max is the most entries returned, at "
								  "least 1.")));
	if (!PG_ARGISNULL(1))
	{
		after = text_to_cstring(PG_GETARG_TEXT_PP(1));
		assoc_cursor_parse(after, &after_token, &pos);
	}

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	feed_namespace(ns, &incarnation, &pruned, &horizon);
	if (after != NULL && after_token != assoc_cursor_token(incarnation))
		error_resync(after, text_to_cstring(ns),
					 "The cursor is from another namespace, from one "
					 "dropped and created again under this name, or from "
					 "before the database was restored.");
	if (after != NULL && assoc_cursor_cmp(pos, pruned) < 0)
		error_resync(after, text_to_cstring(ns),
					 "Entries after it were pruned (assoc.feed_retention).");

	values[0] = PointerGetDatum(ns);
	values[1] = UInt64GetDatum(pos.xid);
	values[2] = Int64GetDatum(pos.seq);
	values[3] = UInt64GetDatum(horizon);
	values[4] = Int64GetDatum(max);
	/*
	 * The columns the SQL definition declares: 0.2.0's has origin, and so
	 * has its table; until ALTER EXTENSION pg_assoc UPDATE, 0.1.0's has
	 * neither (the two change together).
	 */
	ncols = rsinfo->setDesc->natts;
	if (ncols != 6 && ncols != 7)
		elog(ERROR, "assoc.changes declares %d columns, expected 6 or 7",
			 ncols);
	n = assoc_stmt_exec(ncols == 7 ? SP_FEED_CHANGES : SP_FEED_CHANGES_01,
						values, NULL, true, 0);
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple tuple = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		Datum     out[7];
		bool      nulls[7] = {false};
		bool      isnull;
		FeedPos   p;

		CHECK_FOR_INTERRUPTS();
		p.xid = DatumGetUInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		p.seq = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		out[0] = CStringGetTextDatum(assoc_cursor_format(incarnation, p));
		for (int c = 1; c < ncols; c++)
			out[c] = SPI_getbinval(tuple, desc, c + 2, &nulls[c]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(assoc_head);

/*
 * assoc.head(ns): the cursor of the present.  Entries of transactions not
 * yet visible to the snapshot lie after it, entries of transactions it
 * already sees may too (delivered again: clients keep the highest
 * version), so records read in the same REPEATABLE READ transaction plus
 * assoc.changes() from this cursor miss nothing.
 */
Datum
assoc_head(PG_FUNCTION_ARGS)
{
	text   *ns;
	int64   incarnation;
	FeedPos pruned, head;
	uint64  horizon;

	ns = assoc_ns_arg(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	feed_namespace(ns, &incarnation, &pruned, &horizon);
	SPI_finish();
	head.xid = horizon;
	head.seq = 0;
	if (assoc_cursor_cmp(head, pruned) < 0)
		head = pruned;
	PG_RETURN_TEXT_P(cstring_to_text(assoc_cursor_format(incarnation, head)));
}
