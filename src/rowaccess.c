/*
 * rowaccess.c
 *		Direct table access for the write path: reading, locking, inserting,
 *		updating and deleting the rows of the store (records, feed entries,
 *		history, the op_id ledger) through index scans and the table access
 *		method rather than SQL (the namespace lookup and the notification
 *		worker's scan of the feed are in rowscan.c).
 *
 * One assoc.set_multi used to run four SQL statements through SPI (the
 * namespace, SELECT ... FOR UPDATE, UPDATE, INSERT into the feed), and
 * more for an op_id or history; each paid for plan-cache checks and an
 * executor start and end.  Here the same work is a few index probes and
 * row writes.  Semantics are those of the statements they replace:
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
 *				failure, as in SQL.  Index entries as the executor makes
 *				them (none for a HOT update).  The CHECK on assoc.records is
 *				not evaluated again: every write function validates what it
 *				stores, and re-checking would walk the whole document
 *	lock		for removals: table_tuple_lock in FOR UPDATE strength,
 *				following the update chain to the newest version
 *	insert		ExecSimpleRelationInsert: constraints, then the row and its
 *				index entries.  Where SQL would say ON CONFLICT (a new
 *				record, an op_id's ledger row), the caller holds a lock on
 *				the key (frame.c) and looks for the row first as ON
 *				CONFLICT does (assoc_rows_fetch_latest)
 *	delete		table_tuple_delete of a row found by an index scan, as
 *				DELETE: waiting for a concurrent writer; a row removed
 *				meanwhile is skipped (READ COMMITTED) or a serialization
 *				failure (REPEATABLE READ)
 *
 * No trigger fires: the frame refuses tables that have any (frame.c).
 * The statements left (stmt.c) read (search, the feed, the records that
 * update_by and remove_by lock) or maintain (namespaces, pruning).
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
#include "storage/lmgr.h"
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
	[REL_HISTORY] = "history",
	[REL_OPS] = "ops",
	[REL_FEED_NOTIFY_IDX] = "feed_notify_idx",
};
static Oid  rel_oids[REL_COUNT];
static bool rels_valid = false; /* rel_oids are as the names say */
static bool callback_registered = false;

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
 * Begin a scan of index index_oid of rel, as seen by snapshot, for the
 * rows whose leading key columns equal keys[0..nkeys-1] (text) and, when
 * extra is given, whose next column meets it (at most ROWS_MAX_KEYS keys
 * in all).  rows_scan_end ends it.
 */
#define ROWS_MAX_KEYS 3
static IndexScanDesc
rows_scan_begin(Relation rel, Oid index_oid, Snapshot snapshot, Datum *keys,
				int nkeys, ScanKey extra)
{
	Relation      index = index_open(index_oid, AccessShareLock);
	ScanKeyData   skey[ROWS_MAX_KEYS];
	int           n = nkeys + (extra != NULL);
	IndexScanDesc scan;

	Assert(n <= ROWS_MAX_KEYS);
	for (int i = 0; i < nkeys; i++)
		ScanKeyEntryInitialize(&skey[i], 0, i + 1, BTEqualStrategyNumber,
							   InvalidOid, index->rd_indcollation[i], F_TEXTEQ,
							   keys[i]);
	if (extra != NULL)
		skey[nkeys] = *extra;
	scan = index_beginscan(rel, index, snapshot, n, 0);
	index_rescan(scan, skey, n, NULL, 0); /* copies the keys */
	return scan;
}

/* End a scan of rows_scan_begin, closing its index. */
static void
rows_scan_end(IndexScanDesc scan)
{
	Relation index = scan->indexRelation;

	index_endscan(scan);
	index_close(index, AccessShareLock);
}

/*
 * Fetch into slot the row of an index whose leading key columns equal
 * keys[0..nkeys-1] (text), and, when extra is given, whose next column
 * meets it, as seen by snapshot.  False when none.
 */
bool
assoc_rows_fetch_by_key(Relation rel, Oid index_oid, Snapshot snapshot,
						Datum *keys, int nkeys, ScanKey extra,
						TupleTableSlot *slot)
{
	IndexScanDesc scan =
		rows_scan_begin(rel, index_oid, snapshot, keys, nkeys, extra);
	bool found = index_getnext_slot(scan, ForwardScanDirection, slot);

	rows_scan_end(scan);
	return found;
}

/*
 * A scan key on an int8 index column attno (the history's version):
 * strategy BTEqualStrategyNumber or BTLessStrategyNumber.
 */
void
assoc_rows_key_int8(ScanKey key, AttrNumber attno, StrategyNumber strategy,
					int64 value)
{
	Assert(strategy == BTEqualStrategyNumber ||
		   strategy == BTLessStrategyNumber);
	ScanKeyEntryInitialize(key, 0, attno, strategy, InvalidOid, InvalidOid,
						   strategy == BTEqualStrategyNumber ? F_INT8EQ
															 : F_INT8LT,
						   Int64GetDatum(value));
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
 * Open table which (REL_RECORDS .. REL_OPS) for direct writes, with its
 * indexes, once per call: locked in RowExclusiveLock until the
 * transaction ends, as a statement writing it would.  A table dropped
 * while the call waited for its lock (DROP EXTENSION) is a clean error
 * (assoc_rows_open); one whose columns are not those this file writes is
 * refused.  Returns its ResultRelInfo.
 */
static ResultRelInfo *
rows_rri(AssocRows *rows, int which)
{
	static const int natts[REL_FEED_NOTIFY_IDX] = {
		[REL_RECORDS] = REC_NATTS,
		[REL_FEED] = FEED_NATTS,
		[REL_HISTORY] = HIST_NATTS,
		[REL_OPS] = OPS_NATTS,
	};
	EState        *estate;
	MemoryContext  old;
	ResultRelInfo *rri;
	Relation       rel;

	Assert(which > REL_NAMESPACES && which < REL_FEED_NOTIFY_IDX);
	if (rows->rri[which] != NULL)
		return rows->rri[which];
	estate = rows_estate(rows);
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	rri = makeNode(ResultRelInfo);
	rel = assoc_rows_open(which, RowExclusiveLock, false);

	/*
	 * The frame checked the catalogs before this lock (frame.c); a rule or
	 * trigger added while the call waited for it is in the relcache entry
	 * now, and no write of this call may skip it.
	 */
	if (rel->rd_rules != NULL)
		assoc_error_table_refused(rel_names[which], "it has rules");
	if (rel->trigdesc != NULL)
		assoc_error_table_refused(rel_names[which], "it has triggers");
	if (which == REL_FEED)
		rows->feed_origin = assoc_rows_feed_has_origin(rel);
	else
		assoc_rows_check_natts(rel, natts[which]);
	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	/* Slots in the executor state's memory: the caller's may be reset. */
	rows->read[which] = table_slot_create(rel, &estate->es_tupleTable);
	rows->write[which] =
		ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsVirtual);
	MemoryContextSwitchTo(old);
	rows->rri[which] = rri;
	return rri;
}

/* Table which, opened for writes (rows_rri). */
Relation
assoc_rows_table(AssocRows *rows, int which)
{
	return rows_rri(rows, which)->ri_RelationDesc;
}

/* Release what direct writes of a call opened (assoc_call_close). */
void
assoc_rows_close(AssocRows *rows)
{
	for (int i = 0; i < REL_FEED_NOTIFY_IDX; i++)
		if (rows->rri[i] != NULL)
		{
			ExecCloseIndices(rows->rri[i]);
			table_close(rows->rri[i]->ri_RelationDesc, NoLock);
			rows->rri[i] = NULL;
			rows->read[i] = rows->write[i] = NULL;
		}
	if (rows->estate != NULL)
	{
		ExecResetTupleTable(rows->estate->es_tupleTable, false);
		FreeExecutorState(rows->estate);
	}
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

/*
 * The write slot of table which, cleared, every column not null: the
 * caller fills tts_values (and the nulls it needs), then inserts it with
 * assoc_rows_insert.
 */
TupleTableSlot *
assoc_rows_new_row(AssocRows *rows, int which)
{
	TupleTableSlot *slot;

	(void) rows_rri(rows, which);
	slot = rows->write[which];
	ExecClearTuple(slot);
	memset(slot->tts_isnull, false,
		   sizeof(bool) * slot->tts_tupleDescriptor->natts);
	return slot;
}

/*
 * Insert the row filled in table which's write slot (assoc_rows_new_row),
 * with its index entries and constraint checks, as INSERT does.  The slot
 * keeps the row's values and its address afterwards.
 */
void
assoc_rows_insert(AssocRows *rows, int which)
{
	EState         *estate = rows_estate(rows);
	TupleTableSlot *slot = rows->write[which];

	ExecStoreVirtualTuple(slot);
	estate->es_output_cid = GetCurrentCommandId(true);
	ExecSimpleRelationInsert(rows->rri[which], estate, slot);
	/* What index expressions and constraints computed, row by row. */
	ResetPerTupleExprContext(estate);
}

/*
 * Read into table which's read slot its row whose primary key is keys
 * (text) and, when extra is given, the next key column meeting it, as a
 * new statement would see it (lookups, file header).  Returns the slot, or
 * NULL when there is none.
 */
TupleTableSlot *
assoc_rows_fetch(AssocRows *rows, int which, Datum *keys, int nkeys,
				 ScanKey extra)
{
	Relation        rel = assoc_rows_table(rows, which);
	TupleTableSlot *slot = rows->read[which];
	Snapshot        snapshot = statement_snapshot();
	bool            found;

	found = assoc_rows_fetch_by_key(rel, assoc_rows_primary_key(rel), snapshot,
									keys, nkeys, extra, slot);
	UnregisterSnapshot(snapshot);
	return found ? slot : NULL;
}

/*
 * assoc_rows_fetch as the conflict check of INSERT ... ON CONFLICT finds
 * the row: the newest committed one or this transaction's own, after
 * waiting for a transaction that is inserting or removing it.  The caller
 * holds held, the lock that serializes the inserters of that key
 * (frame.c); it is released while waiting and taken again after, as ON
 * CONFLICT holds no lock while it waits, so that the transaction waited
 * for may take it too.  Under REPEATABLE READ a row the transaction's
 * snapshot cannot see is a serialization failure, as for ON CONFLICT.
 */
TupleTableSlot *
assoc_rows_fetch_latest(AssocRows *rows, int which, Datum *keys, int nkeys,
						ScanKey extra, const LOCKTAG *held)
{
	Relation        rel = assoc_rows_table(rows, which);
	TupleTableSlot *slot = rows->read[which];
	SnapshotData    dirty;
	bool            found;

	for (;;)
	{
		TransactionId   xwait;
		ItemPointerData tid;

		CHECK_FOR_INTERRUPTS();
		InitDirtySnapshot(dirty);
		found = assoc_rows_fetch_by_key(rel, assoc_rows_primary_key(rel),
										&dirty, keys, nkeys, extra, slot);
		xwait = TransactionIdIsValid(dirty.xmin) ? dirty.xmin : dirty.xmax;
		if (!found || !TransactionIdIsValid(xwait))
			break;
		tid = slot->tts_tid;
		ExecClearTuple(slot); /* no buffer pin held while waiting */
		LockRelease(held, ExclusiveLock, false);
		XactLockTableWait(xwait, rel, &tid, XLTW_InsertIndex);
		(void) LockAcquire(held, ExclusiveLock, false, false);
	}
	CommandCounterIncrement(); /* the snapshot's command id: see our own */
	if (found && IsolationUsesXactSnapshot() &&
		!table_tuple_satisfies_snapshot(rel, slot, GetTransactionSnapshot()))
		ereport(ERROR, (errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						errmsg("could not serialize access due to concurrent "
							   "update")));
	return found ? slot : NULL;
}

/*
 * Delete the row at tid of table which, as DELETE does, waiting for a
 * concurrent writer of it.  False when it was changed or removed since it
 * was read (under REPEATABLE READ a serialization failure), or removed by
 * this transaction already.
 */
bool
assoc_rows_delete(AssocRows *rows, int which, ItemPointer tid)
{
	EState        *estate = rows_estate(rows);
	Relation       rel = assoc_rows_table(rows, which);
	TM_FailureData tmfd;
	TM_Result      res;

	CheckCmdReplicaIdentity(rel, CMD_DELETE); /* as DELETE checks */
	estate->es_output_cid = GetCurrentCommandId(true);
	res = table_tuple_delete(rel, tid, estate->es_output_cid,
							 GetActiveSnapshot(), InvalidSnapshot, true, &tmfd,
							 false);
	if (res == TM_Updated || res == TM_Deleted)
		serialization_failure_or(res);
	else if (res != TM_Ok && res != TM_SelfModified)
		elog(ERROR, "could not delete a row of %s: result %d",
			 RelationGetRelationName(rel), (int) res);
	return res == TM_Ok;
}

/*
 * Delete every row of table which whose primary key starts with keys
 * (text) and, when extra is given, whose next key column meets it, as a
 * DELETE statement with that condition would (the history of a record,
 * or its versions below a bound).  Returns the number deleted.
 */
int
assoc_rows_delete_where(AssocRows *rows, int which, Datum *keys, int nkeys,
						ScanKey extra)
{
	Relation        rel = assoc_rows_table(rows, which);
	TupleTableSlot *slot = rows->read[which];
	Snapshot        snapshot = statement_snapshot();
	IndexScanDesc   scan;
	int             deleted = 0;

	scan = rows_scan_begin(rel, assoc_rows_primary_key(rel), snapshot, keys,
						   nkeys, extra);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		if (assoc_rows_delete(rows, which, &slot->tts_tid))
			deleted++;
	}
	rows_scan_end(scan);
	UnregisterSnapshot(snapshot);
	return deleted;
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
	Relation        rel = assoc_rows_table(rows, REL_RECORDS);
	TupleTableSlot *slot = rows->read[REL_RECORDS];
	Datum           keys[2] = {PointerGetDatum(ns), PointerGetDatum(id)};

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
									 snapshot, keys, 2, NULL, slot))
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
		rec->created_at = slot_getattr(slot, REC_CREATED_AT, &isnull);
		return;
	}
}

/*
 * Fill the write slot of assoc.records with a record's row: ns, id, keys,
 * data, version, created_at, and updated_at now (the transaction's start,
 * as now() in SQL).
 */
static TupleTableSlot *
record_row(AssocRows *rows, text *ns, text *id, Jsonb *data, Datum keys,
		   int64 version, Datum created_at)
{
	TupleTableSlot *slot = assoc_rows_new_row(rows, REL_RECORDS);
	Datum          *values = slot->tts_values;

	values[REC_NS - 1] = PointerGetDatum(ns);
	values[REC_ID - 1] = PointerGetDatum(id);
	values[REC_KEYS - 1] = keys;
	values[REC_DATA - 1] = JsonbPGetDatum(data);
	values[REC_VERSION - 1] = Int64GetDatum(version);
	values[REC_CREATED_AT - 1] = created_at;
	values[REC_UPDATED_AT - 1] =
		TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	return slot;
}

/*
 * Insert a new record at version 1, with every constraint of
 * assoc.records checked, and return its row (the write slot).  The caller
 * has found it missing under the record's lock (record.c).
 */
TupleTableSlot *
assoc_rows_insert_record(AssocRows *rows, text *ns, text *id, Jsonb *data,
						 Datum keys)
{
	TupleTableSlot *slot =
		record_row(rows, ns, id, data, keys, 1,
				   TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()));

	assoc_rows_insert(rows, REL_RECORDS);
	return slot;
}

/*
 * Write the new state of a record read by assoc_rows_fetch_record: data,
 * keys, version and updated_at change, the rest is kept.  Returns the row
 * written (the write slot), or NULL when the row is no longer the newest
 * version (a concurrent writer committed a change or a removal after it
 * was read): the caller reads it again.
 */
TupleTableSlot *
assoc_rows_update_record(AssocRows *rows, text *ns, text *id,
						 const Record *rec, Jsonb *data, Datum keys,
						 int64 version)
{
	EState           *estate = rows_estate(rows);
	ResultRelInfo    *rri = rows_rri(rows, REL_RECORDS);
	Relation          rel = rri->ri_RelationDesc;
	TupleTableSlot   *slot;
	ItemPointerData   tid = rec->tid;
	TM_FailureData    tmfd;
	TM_Result         res;
	LockTupleMode     lockmode;
	CompatIndexUpdate indexes;

	CheckCmdReplicaIdentity(rel, CMD_UPDATE); /* as UPDATE checks */
	slot = record_row(rows, ns, id, data, keys, version, rec->created_at);
	ExecStoreVirtualTuple(slot);
	estate->es_output_cid = GetCurrentCommandId(true);
	res = compat_tuple_update(rel, &tid, slot, estate->es_output_cid,
							  GetActiveSnapshot(), &tmfd, &lockmode, &indexes);
	if (res == TM_Updated || res == TM_Deleted)
	{
		serialization_failure_or(res);
		return NULL;
	}
	if (res != TM_Ok)
		elog(ERROR, "could not update a record: result %d", (int) res);
	compat_insert_index_tuples(rri, slot, estate, true, indexes);
	ResetPerTupleExprContext(estate);
	return slot;
}
