/*
 * feed.c
 *		The durable change feed: entries, cursors, reading and pruning
 *		(SPEC §5).
 *
 * Every effective write adds one assoc.feed row in the writing transaction.
 * Its position is (xid, seq): the writing transaction's full xid and the
 * entry's number within that transaction.  A global sequence would not be
 * gap-free: a transaction may take a number, commit late, and so appear
 * "behind" a reader that has already moved on.  Positions ordered by xid first are,
 * once delivery is cut at the reader's snapshot xmin: every transaction
 * with an xid below xmin has finished, and any transaction still to write
 * gets an xid at or above it, so nothing can ever appear below a position
 * already delivered.  Writers are not serialized for this; a long-running
 * writing transaction only delays delivery of the entries after it.
 *
 * A cursor is the text "token-xid-seq".  The token is a hash of the
 * cluster's system identifier, the database and the namespace's
 * incarnation: a cursor of a dropped and recreated namespace, of another
 * namespace, or from before a restore into another database or cluster
 * (where transaction ids are another count; the feed is not dumped) is
 * refused.  assoc.feed_pruned remembers the last position pruned, so a
 * cursor that has fallen behind retention is refused too, rather than
 * silently skipping entries.
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "common/hashfn.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "compat.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "feed.h"
#include "pg_assoc.h"
#include "store.h"

/* Compare two feed positions in feed order. */
static int
pos_cmp(FeedPos a, FeedPos b)
{
	if (a.xid != b.xid)
		return a.xid < b.xid ? -1 : 1;
	if (a.seq != b.seq)
		return a.seq < b.seq ? -1 : 1;
	return 0;
}

/*
 * The token of a namespace's cursors in this database: positions are
 * transaction ids, meaningful only where they were written.
 */
static uint64
cursor_token(int64 incarnation)
{
	struct
	{
		uint64 system;
		int64  incarnation;
		Oid    database;
	} key;

	memset(&key, 0, sizeof(key));
	key.system = GetSystemIdentifier();
	key.incarnation = incarnation;
	key.database = MyDatabaseId;
	return DatumGetUInt64(
		hash_any_extended((const unsigned char *) &key, sizeof(key), 0));
}

/* The text form of a cursor: "token-xid-seq". */
char *
feed_cursor(int64 incarnation, FeedPos pos)
{
	return psprintf(UINT64_FORMAT "-" UINT64_FORMAT "-" INT64_FORMAT,
					cursor_token(incarnation), pos.xid, pos.seq);
}

/*
 * Read one unsigned decimal number of at most max from *s, advancing it;
 * false when there is none or it is too large.
 */
static bool
parse_number(const char **s, uint64 max, uint64 *out)
{
	const char *p = *s;
	uint64      v = 0;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		int d = *p - '0';

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*s = p;
	*out = v;
	return true;
}

/* Parse a cursor's text, raising 22P02 when it is not one. */
static void
parse_cursor(const char *text, uint64 *token, FeedPos *pos)
{
	const char *s = text;
	uint64      tok, xid, seq;

	if (!parse_number(&s, PG_UINT64_MAX, &tok) || *s++ != '-' ||
		!parse_number(&s, PG_UINT64_MAX, &xid) || *s++ != '-' ||
		!parse_number(&s, PG_INT64_MAX, &seq) || *s != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid cursor \"%s\"", text),
				 errdetail("A cursor is a value returned by assoc.changes() "
						   "or assoc.head(), passed back unchanged.")));
	*token = tok;
	pos->xid = xid;
	pos->seq = (int64) seq;
}

/*
 * Append one feed entry for an effective write (called by store.c as the
 * extension owner).  With notifications on, the entry is also announced:
 * at once by this backend when the library is not preloaded, otherwise by
 * the notification worker once this transaction commits.
 */
void
feed_append(StoreCall *call, text *id, int64 version, const char *op,
			Datum paths)
{
	FullTransactionId xid;
	int64             seq;

	rows_insert_feed(call, id, version, op, paths, assoc_notify, &xid, &seq);
	if (!assoc_notify)
		return;
	if (!assoc_notify_preloaded)
	{
		FeedEntry entry;

		entry.ns = call->ns_name;
		entry.incarnation = call->incarnation;
		entry.pos.xid = U64FromFullTransactionId(xid);
		entry.pos.seq = seq;
		entry.id = text_to_cstring(id);
		entry.version = version;
		entry.op = op;
		entry.paths = paths;
		notify_entry(&entry, call->secret);
	}
	else
		notify_written(xid);
}

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
					 "one REPEATABLE READ transaction, then follow the feed "
					 "from that cursor.")));
}

/*
 * The namespace row as the caller sees it (row-level security decides),
 * with the delivery cutoff: the xmin of the statement's snapshot.  All of
 * it and the feed rows read after it come from that one snapshot (SPI in
 * read-only mode), so a concurrent prune cannot slip between the check of
 * the cursor and the read of the entries.
 */
static void
feed_namespace(text *ns, int64 *incarnation, FeedPos *pruned, uint64 *xmin)
{
	Datum     values[1];
	HeapTuple tuple;
	TupleDesc desc;
	bool      isnull;

	values[0] = PointerGetDatum(ns);
	if (store_exec(SP_FEED_NS, values, NULL, true, 1) != 1)
		store_error_no_namespace(text_to_cstring(ns));
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	*incarnation = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	pruned->xid = DatumGetUInt64(SPI_getbinval(tuple, desc, 2, &isnull));
	pruned->seq = DatumGetInt64(SPI_getbinval(tuple, desc, 3, &isnull));
	*xmin = DatumGetUInt64(SPI_getbinval(tuple, desc, 4, &isnull));
}

PG_FUNCTION_INFO_V1(assoc_changes);

/*
 * assoc.changes(ns, after DEFAULT NULL, max DEFAULT 1000): the feed entries
 * after the cursor after (NULL: from the oldest kept), at most max of
 * them, in feed order, each with its own cursor.  Only entries of
 * transactions older than every running one are returned (file header),
 * so polling with the last cursor seen never misses an entry.
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
	uint64         xmin;
	Datum          values[5];
	uint64         n;

	ns = store_ns_arg(fcinfo, 0);
	store_check_not_null(fcinfo, 2, "max");
	max = PG_GETARG_INT32(2);
	if (max < 1)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid max %d", max),
						errdetail("max is the most entries returned, at "
								  "least 1.")));
	if (!PG_ARGISNULL(1))
	{
		after = text_to_cstring(PG_GETARG_TEXT_PP(1));
		parse_cursor(after, &after_token, &pos);
	}

	InitMaterializedSRF(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	feed_namespace(ns, &incarnation, &pruned, &xmin);
	if (after != NULL && after_token != cursor_token(incarnation))
		error_resync(after, text_to_cstring(ns),
					 "The cursor is from another namespace, from one "
					 "dropped and created again under this name, or from "
					 "before the database was restored.");
	if (after != NULL && pos_cmp(pos, pruned) < 0)
		error_resync(after, text_to_cstring(ns),
					 "Entries after it were pruned (assoc.feed_retention).");

	values[0] = PointerGetDatum(ns);
	values[1] = UInt64GetDatum(pos.xid);
	values[2] = Int64GetDatum(pos.seq);
	values[3] = UInt64GetDatum(xmin);
	values[4] = Int64GetDatum(max);
	n = store_exec(SP_FEED_CHANGES, values, NULL, true, 0);
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple tuple = SPI_tuptable->vals[i];
		TupleDesc desc = SPI_tuptable->tupdesc;
		Datum     out[6];
		bool      nulls[6] = {false};
		bool      isnull;
		FeedPos   p;

		CHECK_FOR_INTERRUPTS();
		p.xid = DatumGetUInt64(SPI_getbinval(tuple, desc, 1, &isnull));
		p.seq = DatumGetInt64(SPI_getbinval(tuple, desc, 2, &isnull));
		out[0] = CStringGetTextDatum(feed_cursor(incarnation, p));
		for (int c = 1; c < 6; c++)
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
	uint64  xmin;

	ns = store_ns_arg(fcinfo, 0);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	feed_namespace(ns, &incarnation, &pruned, &xmin);
	SPI_finish();
	head.xid = xmin;
	head.seq = 0;
	if (pos_cmp(head, pruned) < 0)
		head = pruned;
	PG_RETURN_TEXT_P(cstring_to_text(feed_cursor(incarnation, head)));
}

/*
 * The names of all namespaces, copied out of SPI's result (which is freed)
 * into the current memory context.
 */
static Datum *
prune_namespaces(uint64 *nns)
{
	Datum *names;

	*nns = store_exec(SP_FEED_PRUNE_NAMESPACES, NULL, NULL, false, 0);
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
 * older than cutoff of finished transactions, and remember the last
 * position deleted.  Each statement's result is freed once read.  Returns
 * the number of entries deleted.
 */
static int64
prune_namespace(Datum ns, TimestampTz cutoff)
{
	Datum     values[4];
	FeedPos   stop = {PG_UINT64_MAX, PG_INT64_MAX};
	bool      isnull;
	HeapTuple tuple;
	TupleDesc desc;
	int64     deleted;

	/* The first entry to keep: the end of the prunable prefix. */
	values[0] = ns;
	values[1] = TimestampTzGetDatum(cutoff);
	if (store_exec(SP_FEED_FIRST_KEPT, values, NULL, false, 1) == 1)
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
	store_exec(SP_FEED_PRUNE, values, NULL, false, 0);
	tuple = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	deleted = DatumGetInt64(SPI_getbinval(tuple, desc, 1, &isnull));
	/* The last position deleted: xid8 and int8, passed by value. */
	values[1] = SPI_getbinval(tuple, desc, 2, &isnull);
	values[2] = SPI_getbinval(tuple, desc, 3, &isnull);
	SPI_freetuptable(SPI_tuptable);
	if (deleted > 0)
	{
		store_exec(SP_FEED_SET_PRUNED, values, NULL, false, 0);
		SPI_freetuptable(SPI_tuptable);
	}
	return deleted;
}

/*
 * Delete the feed entries older than assoc.feed_retention, namespace by
 * namespace, and remember the last position deleted so that older
 * cursors are refused.  Only a prefix in feed order is deleted, and only
 * entries of finished transactions: an entry is kept while any entry
 * before it is kept.  Runs as the extension owner inside SPI; returns the
 * number of entries deleted.  Memory stays bounded by the number of
 * namespaces: each namespace's work runs in a context reset after it.
 */
int64
feed_prune(void)
{
	TimestampTz cutoff =
		GetCurrentTimestamp() - (int64) assoc_feed_retention * USECS_PER_SEC;
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
		total += prune_namespace(names[i], cutoff);
		MemoryContextSwitchTo(old);
		MemoryContextReset(round_cxt);
	}
	MemoryContextDelete(round_cxt);
	pfree(names);
	return total;
}
