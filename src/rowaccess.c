/*
 * rowaccess.c
 *		Direct table access for the hot paths: the namespace lookup,
 *		reading, locking and updating a record, appending a feed entry,
 *		through index scans and the table access method rather than SQL
 *		(the notification worker's scan of the feed is in rowscan.c).
 *
 * One assoc.set_multi used to run four SQL statements through SPI (the
 * namespace, SELECT ... FOR UPDATE, UPDATE, INSERT into the feed); each
 * paid for plan-cache checks and an executor start and end.  Here the
 * same work is a few index probes and two row writes.  Semantics are those
 * of the statements they replace:
 *
 *	lookups		a snapshot taken now (READ COMMITTED) or the transaction's
 *				(REPEATABLE READ), after a command counter increment, as a
 *				new SQL statement would see
 *	update		read the row, compute, then update it only if it is still
 *				the newest version (waiting for a concurrent writer); if it
 *				is not, the caller reads the newest one and computes again.
 *				No update is lost, as with the row lock of SELECT ... FOR
 *				UPDATE, without writing a lock to the row first.  Under
 *				REPEATABLE READ a concurrent update is a serialization
 *				failure, as in SQL
 *	lock		for removals: table_tuple_lock in FOR UPDATE strength,
 *				following the update chain to the newest version
 *	writes		index entries as the executor makes them (none for a HOT
 *				update).  An update does not re-evaluate the CHECK on
 *				assoc.records: every write function validates what it
 *				stores, and re-checking would parse the constraint and walk
 *				the whole document on every write.  Inserts go through
 *				ExecSimpleRelationInsert with all constraints
 *
 * Rarer writes (new records, which need ON CONFLICT; deletes; history;
 * the op_id ledger) stay SQL statements (stmt.c, assoc_stmt_plan).
 *
 * Layer: row access (README, "How the code is organised"); calls the
 * libraries and PostgreSQL.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/xid8.h"

#include "compat.h"
#include "rowaccess.h"
#include "rules.h"

static const char *const rel_names[REL_COUNT] = {
	[REL_NAMESPACES] = "namespaces",
	[REL_RECORDS] = "records",
	[REL_FEED] = "feed",
	[REL_FEED_NOTIFY_IDX] = "feed_notify_idx",
};
static Oid  rel_oids[REL_COUNT];
static bool rels_valid = false; /* rel_oids are as the names say */
static bool callback_registered = false;

/* The feed position of this transaction's last entry. */
static FullTransactionId feed_xid;
static int64             feed_seq;

/*
 * Relcache callback: when one of the relations is invalidated (dropped
 * with the extension, renamed, rebuilt by REINDEX CONCURRENTLY, ...) or on
 * a full reset, the names are looked up again at the next use.  Only the
 * flag changes: an invalidation is taken in whenever a lock is acquired,
 * so in the middle of a use of the OIDs, and a use goes on with the OIDs
 * it copied (assoc_rows_open).
 */
static void
rows_forget(Datum arg, Oid relid)
{
	if (relid == InvalidOid)
		rels_valid = false;
	for (int i = 0; i < REL_COUNT; i++)
		if (relid == rel_oids[i])
			rels_valid = false;
}

/*
 * Look the relations up by name unless they are known.  When the schema or
 * one of them is missing: false with missing_ok, else
 * assoc_error_not_installed.
 * A lookup may take in invalidations (rows_forget) of the OIDs it has just
 * found: it is then repeated, a few times at most (a backend flooded with
 * cache resets keeps the last answer, checked at the next use).
 */
static bool
rows_refresh(bool missing_ok)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(rows_forget, (Datum) 0);
		callback_registered = true;
	}
	for (int round = 0; !rels_valid && round < 4; round++)
	{
		Oid nsp;

		CHECK_FOR_INTERRUPTS();
		rels_valid = true; /* cleared by rows_forget during the lookups */
		nsp = get_namespace_oid("assoc", true);
		for (int i = 0; i < REL_COUNT; i++)
		{
			rel_oids[i] = OidIsValid(nsp)
							  ? get_relname_relid(rel_names[i], nsp)
							  : InvalidOid;
			if (!OidIsValid(rel_oids[i]))
			{
				rels_valid = false;
				if (missing_ok)
					return false;
				assoc_error_not_installed(
					psprintf("relation assoc.%s", rel_names[i]));
			}
		}
	}
	return true;
}

/*
 * Open relation which of the extension with lockmode, the way PostgreSQL
 * opens a relation named by the user: lock it, then check that it still
 * exists.  A relation dropped while this backend waited for the lock (DROP
 * EXTENSION, or DROP and CREATE EXTENSION in one transaction) is looked up
 * by name again.  NULL with missing_ok when the extension is gone, else
 * assoc_error_not_installed.  The OID is copied before the lock is taken, so an
 * invalidation taken in by locking cannot change it under the caller.
 */
Relation
assoc_rows_open(int which, LOCKMODE lockmode, bool missing_ok)
{
	for (int round = 0;; round++)
	{
		Oid      relid;
		Relation rel;

		if (!rows_refresh(missing_ok))
			return NULL;
		relid = rel_oids[which];
		rel = (which == REL_FEED_NOTIFY_IDX)
				  ? try_relation_open(relid, lockmode)
				  : try_table_open(relid, lockmode);
		if (rel != NULL)
		{
			if (which == REL_FEED_NOTIFY_IDX &&
				rel->rd_rel->relkind != RELKIND_INDEX)
				elog(ERROR, "assoc.%s is not an index", rel_names[which]);
			return rel;
		}
		rels_valid = false; /* dropped meanwhile: the names again */
		if (round == 2)
		{
			if (missing_ok)
				return NULL;
			assoc_error_not_installed(
				psprintf("relation assoc.%s", rel_names[which]));
		}
	}
}

/* The primary key index of rel (namespaces, records). */
Oid
assoc_rows_primary_key(Relation rel)
{
	Oid index = RelationGetPrimaryKeyIndex(rel);

	if (!OidIsValid(index))
		elog(ERROR, "table %s has no primary key",
			 RelationGetRelationName(rel));
	return index;
}

/*
 * Is the extension installed in this database?  For the notification
 * worker, which runs in databases that may have dropped it.
 */
bool
assoc_rows_installed(void)
{
	if (rels_valid)
		return true;
	if (!OidIsValid(get_extension_oid("pg_assoc", true)))
		return false;
	return rows_refresh(true);
}

/*
 * The OID of assoc.feed (InvalidOid when the extension is not installed):
 * the notification worker's state belongs to one feed.
 */
Oid
assoc_rows_feed_oid(void)
{
	return rows_refresh(true) ? rel_oids[REL_FEED] : InvalidOid;
}

/* The OID of assoc.records, for the extension owner's lookup. */
Oid
assoc_rows_records_oid(void)
{
	rows_refresh(false);
	return rel_oids[REL_RECORDS];
}

/*
 * The snapshot a new statement would take: after a command counter
 * increment, so that this transaction's earlier changes are seen.
 * Registered; the caller unregisters it.
 */
static Snapshot
statement_snapshot(void)
{
	CommandCounterIncrement();
	return RegisterSnapshot(GetTransactionSnapshot());
}

/*
 * Fetch into slot the row of an index whose leading key columns equal
 * keys[0..nkeys-1] (text), as seen by snapshot.  False when none.
 */
bool
assoc_rows_fetch_by_key(Relation rel, Oid index_oid, Snapshot snapshot,
						Datum *keys, int nkeys, TupleTableSlot *slot)
{
	Relation      index = index_open(index_oid, AccessShareLock);
	ScanKeyData   skey[2];
	IndexScanDesc scan;
	bool          found;

	for (int i = 0; i < nkeys; i++)
		ScanKeyEntryInitialize(&skey[i], 0, i + 1, BTEqualStrategyNumber,
							   InvalidOid, index->rd_indcollation[i], F_TEXTEQ,
							   keys[i]);
	scan = index_beginscan(rel, index, snapshot, nkeys, 0);
	index_rescan(scan, skey, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	index_close(index, AccessShareLock);
	return found;
}

/*
 * Has assoc.feed the column origin (0.2.0), or is it still 0.1.0's table,
 * which the new library must write and read until ALTER EXTENSION
 * pg_assoc UPDATE adds it?  Any other shape is an error.
 */
bool
assoc_rows_feed_has_origin(Relation feed)
{
	if (RelationGetDescr(feed)->natts == FEED_NATTS - 1)
		return false;
	assoc_rows_check_natts(feed, FEED_NATTS);
	return true;
}

/* Check that a relation still has the columns this file expects. */
void
assoc_rows_check_natts(Relation rel, int natts)
{
	if (RelationGetDescr(rel)->natts != natts)
		elog(ERROR, "table %s has %d columns, expected %d",
			 RelationGetRelationName(rel), RelationGetDescr(rel)->natts,
			 natts);
}

/*
 * Read the namespace row of ns into *row (owner, history_depth,
 * incarnation, channel secret).  False when there is none.  Runs as the
 * extension owner: row-level security does not apply.  The row is read as
 * of now, whatever the isolation level, like catalog data: a namespace
 * dropped after a REPEATABLE READ snapshot was taken is gone.
 */
bool
assoc_rows_namespace(text *ns, AssocNamespaceRow *row)
{
	Relation        rel;
	TupleTableSlot *slot;
	Snapshot        snapshot;
	Datum           key = PointerGetDatum(ns);
	bool            found;

	rel = assoc_rows_open(REL_NAMESPACES, AccessShareLock, false);
	assoc_rows_check_natts(rel, NS_NATTS);
	slot = table_slot_create(rel, NULL);
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	found = assoc_rows_fetch_by_key(rel, assoc_rows_primary_key(rel), snapshot,
									&key, 1, slot);
	if (found)
	{
		bool isnull;

		row->owner = DatumGetObjectId(slot_getattr(slot, NS_OWNER, &isnull));
		row->history_depth =
			DatumGetInt32(slot_getattr(slot, NS_HISTORY_DEPTH, &isnull));
		row->incarnation =
			DatumGetInt64(slot_getattr(slot, NS_INCARNATION, &isnull));
		row->secret =
			DatumGetByteaPCopy(slot_getattr(slot, NS_CHANNEL_SECRET, &isnull));
	}
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(slot);
	/* Locked to the end of the transaction, as a statement would keep it. */
	table_close(rel, NoLock);
	return found;
}

/*
 * The call's executor state for direct writes, made on first use in the
 * call's memory context (assoc_call_open's).
 */
static EState *
rows_estate(AssocRows *rows)
{
	if (rows->estate == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(rows->cxt);

		rows->estate = CreateExecutorState();
		rows->estate->es_output_cid = GetCurrentCommandId(true);
		MemoryContextSwitchTo(old);
	}
	return rows->estate;
}

/*
 * A slot of the call's executor state for rows of rel (table_slot_create's
 * kind when ops is NULL), made on first use in the executor state's memory,
 * where it lives until assoc_rows_close: the caller's context may be reset
 * between rounds of a write.
 */
static TupleTableSlot *
rows_slot(AssocRows *rows, TupleTableSlot **slot, Relation rel,
		  const TupleTableSlotOps *ops)
{
	if (*slot == NULL)
	{
		EState       *estate = rows_estate(rows);
		MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

		*slot =
			ops == NULL
				? table_slot_create(rel, &estate->es_tupleTable)
				: ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), ops);
		MemoryContextSwitchTo(old);
	}
	return *slot;
}

/*
 * Open relation which (REL_RECORDS, REL_FEED) for direct writes, with its
 * indexes.  A relation dropped while the call waited for its lock (DROP
 * EXTENSION) is a clean error (assoc_rows_open).
 */
static ResultRelInfo *
open_for_write(AssocRows *rows, int which, int natts)
{
	EState        *estate = rows_estate(rows);
	MemoryContext  old = MemoryContextSwitchTo(estate->es_query_cxt);
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	Relation       rel = assoc_rows_open(which, RowExclusiveLock, false);

	if (which == REL_FEED)
		rows->feed_origin = assoc_rows_feed_has_origin(rel);
	else
		assoc_rows_check_natts(rel, natts);
	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	MemoryContextSwitchTo(old);
	return rri;
}

/* Release what direct writes of a call opened (assoc_call_close). */
void
assoc_rows_close(AssocRows *rows)
{
	ResultRelInfo *rris[2] = {rows->records_rri, rows->feed_rri};

	for (int i = 0; i < 2; i++)
		if (rris[i] != NULL)
		{
			ExecCloseIndices(rris[i]);
			table_close(rris[i]->ri_RelationDesc, NoLock);
		}
	if (rows->estate != NULL)
	{
		ExecResetTupleTable(rows->estate->es_tupleTable, false);
		FreeExecutorState(rows->estate);
	}
	rows->records_rri = rows->feed_rri = NULL;
	rows->record_slot = rows->new_slot = rows->feed_slot = NULL;
	rows->estate = NULL;
}

/*
 * A row changed or removed after this transaction's snapshot: under
 * REPEATABLE READ that is a serialization failure, as in SQL; under READ
 * COMMITTED the caller reads the newest version instead.
 */
static void
serialization_failure_or(TM_Result res)
{
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to concurrent %s",
						res == TM_Updated ? "update" : "delete")));
}

/* Open assoc.records for writing, once per call. */
void
assoc_rows_open_records(AssocRows *rows)
{
	if (rows->records_rri == NULL)
		rows->records_rri = open_for_write(rows, REL_RECORDS, REC_NATTS);
}

/*
 * Read the newest state of record id of namespace ns into rec
 * (rec->exists false when missing).  With lock, also lock the row as
 * SELECT ... FOR UPDATE would, following it to its newest version;
 * without, assoc_rows_update_record finds out whether it is still the newest.
 * fn and ns_name name the call in the error after too many rounds.
 */
void
assoc_rows_fetch_record(AssocRows *rows, const char *fn, const char *ns_name,
						text *ns, text *id, Record *rec, bool lock)
{
	Relation        rel;
	TupleTableSlot *slot;
	Datum           keys[2] = {PointerGetDatum(ns), PointerGetDatum(id)};

	assoc_rows_open_records(rows);
	rel = rows->records_rri->ri_RelationDesc;
	slot = rows_slot(rows, &rows->record_slot, rel, NULL);
	memset(rec, 0, sizeof(Record));
	for (int round = 1;; round++)
	{
		Snapshot       snapshot;
		TM_FailureData tmfd;
		TM_Result      res = TM_Ok;
		bool           isnull;

		CHECK_FOR_INTERRUPTS();
		if (round > ASSOC_MAX_ROUNDS)
			assoc_error_rounds(fn, ns_name, "lock a record");
		snapshot = statement_snapshot();
		if (!assoc_rows_fetch_by_key(rel, assoc_rows_primary_key(rel),
									 snapshot, keys, 2, slot))
		{
			UnregisterSnapshot(snapshot);
			return;
		}

		/*
		 * READ COMMITTED follows the update chain to the newest version;
		 * under REPEATABLE READ a version newer than the snapshot is a
		 * serialization failure, as for SELECT ... FOR UPDATE.
		 */
		if (lock)
			res = table_tuple_lock(rel, &slot->tts_tid, snapshot, slot,
								   GetCurrentCommandId(false),
								   LockTupleExclusive, LockWaitBlock,
								   IsolationUsesXactSnapshot()
									   ? 0
									   : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
								   &tmfd);
		UnregisterSnapshot(snapshot);
		if (res == TM_Updated || res == TM_Deleted)
			serialization_failure_or(res);
		if (res == TM_Deleted)
			continue; /* removed meanwhile: look again */
		if (res != TM_Ok)
			elog(ERROR, "could not lock record \"%s\": result %d",
				 text_to_cstring(id), (int) res);

		rec->exists = true;
		ItemPointerCopy(&slot->tts_tid, &rec->tid);
		rec->data = (Jsonb *) PG_DETOAST_DATUM_COPY(
			slot_getattr(slot, REC_DATA, &isnull));
		rec->keys = PointerGetDatum(
			PG_DETOAST_DATUM_COPY(slot_getattr(slot, REC_KEYS, &isnull)));
		rec->version = DatumGetInt64(slot_getattr(slot, REC_VERSION, &isnull));
		rec->slot = slot;
		return;
	}
}

/*
 * Write the new state of a record read by assoc_rows_fetch_record: data, keys,
 * version and updated_at change, the rest is kept.  Returns false when
 * the row is no longer the newest version (a concurrent writer committed
 * a change or a removal after it was read): the caller reads it again.
 */
bool
assoc_rows_update_record(AssocRows *rows, const Record *rec, Jsonb *data,
						 Datum keys, int64 version)
{
	EState           *estate = rows_estate(rows);
	ResultRelInfo    *rri = rows->records_rri;
	Relation          rel = rri->ri_RelationDesc;
	TupleTableSlot   *newslot;
	ItemPointerData   tid = rec->tid;
	TM_FailureData    tmfd;
	TM_Result         res;
	LockTupleMode     lockmode;
	CompatIndexUpdate indexes;

	newslot = rows_slot(rows, &rows->new_slot, rel, &TTSOpsVirtual);
	slot_getallattrs(rec->slot);
	ExecClearTuple(newslot);
	for (int i = 0; i < REC_NATTS; i++)
	{
		newslot->tts_values[i] = rec->slot->tts_values[i];
		newslot->tts_isnull[i] = rec->slot->tts_isnull[i];
	}
	newslot->tts_values[REC_DATA - 1] = JsonbPGetDatum(data);
	newslot->tts_values[REC_KEYS - 1] = keys;
	newslot->tts_values[REC_VERSION - 1] = Int64GetDatum(version);
	newslot->tts_values[REC_UPDATED_AT - 1] =
		TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	ExecStoreVirtualTuple(newslot);

	estate->es_output_cid = GetCurrentCommandId(true);
	res = compat_tuple_update(rel, &tid, newslot, estate->es_output_cid,
							  GetActiveSnapshot(), &tmfd, &lockmode, &indexes);
	if (res == TM_Updated || res == TM_Deleted)
	{
		serialization_failure_or(res);
		return false;
	}
	if (res != TM_Ok)
		elog(ERROR, "could not update a record: result %d", (int) res);
	compat_insert_index_tuples(rri, newslot, estate, true, indexes);
	return true;
}

/*
 * Open assoc.feed for appending (locked until the transaction ends); the
 * writer draws its position after this (horizon.c).
 */
void
assoc_rows_open_feed(AssocRows *rows)
{
	if (rows->feed_rri == NULL)
		rows->feed_rri = open_for_write(rows, REL_FEED, FEED_NATTS);
}

/*
 * Append one row to assoc.feed at position (pos, the next number of a
 * counter restarted for every transaction), so writers share no sequence;
 * pos is the transaction's (horizon.c).  Sets *seq.  origin (the writer's
 * assoc.origin, NULL for none) is kept when the table has the column,
 * that is once the extension is updated to 0.2.0.
 */
void
assoc_rows_insert_feed(AssocRows *rows, text *ns, uint64 pos, text *id,
					   int64 version, const char *op, Datum paths, bool notify,
					   const char *origin, int64 *seq)
{
	EState           *estate = rows_estate(rows);
	TupleTableSlot   *slot;
	FullTransactionId top = GetTopFullTransactionId();

	assoc_rows_open_feed(rows);
	if (!FullTransactionIdEquals(top, feed_xid))
	{
		feed_xid = top;
		feed_seq = 0;
	}
	*seq = ++feed_seq;

	slot = rows_slot(rows, &rows->feed_slot, rows->feed_rri->ri_RelationDesc,
					 &TTSOpsVirtual);
	ExecClearTuple(slot);
	memset(slot->tts_isnull, false,
		   sizeof(bool) * slot->tts_tupleDescriptor->natts);
	slot->tts_values[FEED_NS - 1] = PointerGetDatum(ns);
	slot->tts_values[FEED_XID - 1] = UInt64GetDatum(pos);
	slot->tts_values[FEED_SEQ - 1] = Int64GetDatum(*seq);
	slot->tts_values[FEED_ID - 1] = PointerGetDatum(id);
	slot->tts_values[FEED_VERSION - 1] = Int64GetDatum(version);
	slot->tts_values[FEED_OP - 1] = CStringGetTextDatum(op);
	slot->tts_values[FEED_PATHS - 1] = paths;
	slot->tts_isnull[FEED_PATHS - 1] = (paths == (Datum) 0);
	slot->tts_values[FEED_NOTIFY - 1] = BoolGetDatum(notify);
	slot->tts_values[FEED_AT - 1] =
		TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	if (rows->feed_origin)
	{
		slot->tts_values[FEED_ORIGIN - 1] =
			origin ? CStringGetTextDatum(origin) : (Datum) 0;
		slot->tts_isnull[FEED_ORIGIN - 1] = (origin == NULL);
	}
	ExecStoreVirtualTuple(slot);
	estate->es_output_cid = GetCurrentCommandId(true);
	ExecSimpleRelationInsert(rows->feed_rri, estate, slot);
}
