/*
 * rowaccess.c
 *		Direct table access for the hot paths: the namespace lookup,
 *		reading, locking and updating a record, appending a feed entry,
 *		and the notification worker's scan of the feed, through index
 *		scans and the table access method rather than SQL.
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
 * the op_id ledger) stay SQL statements (namespace.c, store_plan).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/xid8.h"

#include "compat.h"
#include "feed.h"
#include "store.h"

/* Columns of assoc.namespaces, assoc.records and assoc.feed (store.sql). */
enum
{
	NS_NS = 1,
	NS_OWNER,
	NS_HISTORY_DEPTH,
	NS_INCARNATION,
	NS_CHANNEL_SECRET,
	NS_CREATED_AT,
	NS_NATTS = NS_CREATED_AT
};
enum
{
	REC_NS = 1,
	REC_ID,
	REC_KEYS,
	REC_DATA,
	REC_VERSION,
	REC_CREATED_AT,
	REC_UPDATED_AT,
	REC_NATTS = REC_UPDATED_AT
};
enum
{
	FEED_NS = 1,
	FEED_XID,
	FEED_SEQ,
	FEED_ID,
	FEED_VERSION,
	FEED_OP,
	FEED_PATHS,
	FEED_NOTIFY,
	FEED_AT,
	FEED_NATTS = FEED_AT
};

/*
 * The relations used, looked up by name once per backend and again after
 * an invalidation of one of them (rows_forget).  The primary key indexes
 * are not cached: they are taken from the opened table's relcache entry
 * (RelationGetPrimaryKeyIndex), so they always belong to it.
 */
enum
{
	REL_NAMESPACES,
	REL_RECORDS,
	REL_FEED,
	REL_FEED_NOTIFY_IDX,
	REL_COUNT
};
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
 * it copied (rows_open).
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
 * The error of a call whose objects are gone: the extension was dropped
 * while it ran (it waited for a lock the drop held).  55000, not an
 * internal error: the caller can tell what happened.  what names the
 * missing object ("relation assoc.records").
 */
void
rows_error_not_installed(const char *what)
{
	ereport(
		ERROR,
		(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
		 errmsg("extension \"pg_assoc\" is not installed in this database"),
		 errdetail("The %s does not exist: the extension was dropped while "
				   "the call was running.",
				   what)));
}

/*
 * Look the relations up by name unless they are known.  When the schema or
 * one of them is missing: false with missing_ok, else
 * rows_error_not_installed.
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
				rows_error_not_installed(
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
 * rows_error_not_installed.  The OID is copied before the lock is taken, so an
 * invalidation taken in by locking cannot change it under the caller.
 */
static Relation
rows_open(int which, LOCKMODE lockmode, bool missing_ok)
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
			rows_error_not_installed(
				psprintf("relation assoc.%s", rel_names[which]));
		}
	}
}

/* The primary key index of rel (namespaces, records). */
static Oid
primary_key(Relation rel)
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
rows_installed(void)
{
	if (rels_valid)
		return true;
	if (!OidIsValid(get_extension_oid("pg_assoc", true)))
		return false;
	return rows_refresh(true);
}

/* The OID of assoc.records, for the extension owner's lookup. */
Oid
rows_records_oid(void)
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
static bool
fetch_by_key(Relation rel, Oid index_oid, Snapshot snapshot, Datum *keys,
			 int nkeys, TupleTableSlot *slot)
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

/* Check that a relation still has the columns this file expects. */
static void
check_natts(Relation rel, int natts)
{
	if (RelationGetDescr(rel)->natts != natts)
		elog(ERROR, "table %s has %d columns, expected %d",
			 RelationGetRelationName(rel), RelationGetDescr(rel)->natts,
			 natts);
}

/*
 * Read the namespace row of ns into call (owner, history_depth,
 * incarnation, channel secret).  False when there is none.  Runs as the
 * extension owner: row-level security does not apply.  The row is read as
 * of now, whatever the isolation level, like catalog data: a namespace
 * dropped after a REPEATABLE READ snapshot was taken is gone.
 */
bool
rows_namespace(StoreCall *call)
{
	Relation        rel;
	TupleTableSlot *slot;
	Snapshot        snapshot;
	Datum           key = PointerGetDatum(call->ns);
	bool            found;

	rel = rows_open(REL_NAMESPACES, AccessShareLock, false);
	check_natts(rel, NS_NATTS);
	slot = table_slot_create(rel, NULL);
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	found = fetch_by_key(rel, primary_key(rel), snapshot, &key, 1, slot);
	if (found)
	{
		bool isnull;

		call->owner = DatumGetObjectId(slot_getattr(slot, NS_OWNER, &isnull));
		call->history_depth =
			DatumGetInt32(slot_getattr(slot, NS_HISTORY_DEPTH, &isnull));
		call->incarnation =
			DatumGetInt64(slot_getattr(slot, NS_INCARNATION, &isnull));
		call->secret =
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
 * call's memory context (store_open's).
 */
static EState *
call_estate(StoreCall *call)
{
	if (call->estate == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(call->cxt);

		call->estate = CreateExecutorState();
		call->estate->es_output_cid = GetCurrentCommandId(true);
		MemoryContextSwitchTo(old);
	}
	return call->estate;
}

/*
 * A slot of the call's executor state for rows of rel (table_slot_create's
 * kind when ops is NULL), made on first use in the executor state's memory,
 * where it lives until rows_close: the caller's context may be reset
 * between rounds of a write.
 */
static TupleTableSlot *
call_slot(StoreCall *call, TupleTableSlot **slot, Relation rel,
		  const TupleTableSlotOps *ops)
{
	if (*slot == NULL)
	{
		EState       *estate = call_estate(call);
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
 * EXTENSION) is a clean error (rows_open).
 */
static ResultRelInfo *
open_for_write(StoreCall *call, int which, int natts)
{
	EState        *estate = call_estate(call);
	MemoryContext  old = MemoryContextSwitchTo(estate->es_query_cxt);
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	Relation       rel = rows_open(which, RowExclusiveLock, false);

	check_natts(rel, natts);
	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);
	MemoryContextSwitchTo(old);
	return rri;
}

/* Release what direct writes of a call opened (store_close). */
void
rows_close(StoreCall *call)
{
	ResultRelInfo *rris[2] = {call->records_rri, call->feed_rri};

	for (int i = 0; i < 2; i++)
		if (rris[i] != NULL)
		{
			ExecCloseIndices(rris[i]);
			table_close(rris[i]->ri_RelationDesc, NoLock);
		}
	if (call->estate != NULL)
	{
		ExecResetTupleTable(call->estate->es_tupleTable, false);
		FreeExecutorState(call->estate);
	}
	call->records_rri = call->feed_rri = NULL;
	call->record_slot = call->new_slot = call->feed_slot = NULL;
	call->estate = NULL;
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
rows_open_records(StoreCall *call)
{
	if (call->records_rri == NULL)
		call->records_rri = open_for_write(call, REL_RECORDS, REC_NATTS);
}

/*
 * Read the newest state of record id of the call's namespace into rec
 * (rec->exists false when missing).  With lock, also lock the row as
 * SELECT ... FOR UPDATE would, following it to its newest version;
 * without, rows_update_record finds out whether it is still the newest.
 */
void
rows_fetch_record(StoreCall *call, text *id, Record *rec, bool lock)
{
	Relation        rel;
	TupleTableSlot *slot;
	Datum           keys[2] = {PointerGetDatum(call->ns), PointerGetDatum(id)};

	rows_open_records(call);
	rel = call->records_rri->ri_RelationDesc;
	slot = call_slot(call, &call->record_slot, rel, NULL);
	memset(rec, 0, sizeof(Record));
	for (int round = 1;; round++)
	{
		Snapshot       snapshot;
		TM_FailureData tmfd;
		TM_Result      res = TM_Ok;
		bool           isnull;

		CHECK_FOR_INTERRUPTS();
		if (round > STORE_MAX_ROUNDS)
			store_error_rounds(call, "lock a record");
		snapshot = statement_snapshot();
		if (!fetch_by_key(rel, primary_key(rel), snapshot, keys, 2, slot))
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
 * Write the new state of a record read by rows_fetch_record: data, keys,
 * version and updated_at change, the rest is kept.  Returns false when
 * the row is no longer the newest version (a concurrent writer committed
 * a change or a removal after it was read): the caller reads it again.
 */
bool
rows_update_record(StoreCall *call, const Record *rec, Jsonb *data, Datum keys,
				   int64 version)
{
	EState           *estate = call_estate(call);
	ResultRelInfo    *rri = call->records_rri;
	Relation          rel = rri->ri_RelationDesc;
	TupleTableSlot   *newslot;
	ItemPointerData   tid = rec->tid;
	TM_FailureData    tmfd;
	TM_Result         res;
	LockTupleMode     lockmode;
	CompatIndexUpdate indexes;

	newslot = call_slot(call, &call->new_slot, rel, &TTSOpsVirtual);
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
 * Append one row to assoc.feed: its position is this transaction's xid
 * and the next number of a counter restarted for every transaction, so
 * writers share no sequence.  Sets *xid and *seq to the position.
 */
void
rows_insert_feed(StoreCall *call, text *id, int64 version, const char *op,
				 Datum paths, bool notify, FullTransactionId *xid, int64 *seq)
{
	EState           *estate = call_estate(call);
	TupleTableSlot   *slot;
	FullTransactionId top = GetTopFullTransactionId();

	if (call->feed_rri == NULL)
		call->feed_rri = open_for_write(call, REL_FEED, FEED_NATTS);
	if (!FullTransactionIdEquals(top, feed_xid))
	{
		feed_xid = top;
		feed_seq = 0;
	}
	*xid = top;
	*seq = ++feed_seq;

	slot = call_slot(call, &call->feed_slot, call->feed_rri->ri_RelationDesc,
					 &TTSOpsVirtual);
	ExecClearTuple(slot);
	memset(slot->tts_isnull, false, sizeof(bool) * FEED_NATTS);
	slot->tts_values[FEED_NS - 1] = PointerGetDatum(call->ns);
	slot->tts_values[FEED_XID - 1] = FullTransactionIdGetDatum(top);
	slot->tts_values[FEED_SEQ - 1] = Int64GetDatum(*seq);
	slot->tts_values[FEED_ID - 1] = PointerGetDatum(id);
	slot->tts_values[FEED_VERSION - 1] = Int64GetDatum(version);
	slot->tts_values[FEED_OP - 1] = CStringGetTextDatum(op);
	slot->tts_values[FEED_PATHS - 1] = paths;
	slot->tts_isnull[FEED_PATHS - 1] = (paths == (Datum) 0);
	slot->tts_values[FEED_NOTIFY - 1] = BoolGetDatum(notify);
	slot->tts_values[FEED_AT - 1] =
		TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	ExecStoreVirtualTuple(slot);
	estate->es_output_cid = GetCurrentCommandId(true);
	ExecSimpleRelationInsert(call->feed_rri, estate, slot);
}

/*
 * The namespace ns as snapshot sees it: its incarnation and channel
 * secret (allocated in the current context).  False when it is gone.
 */
static bool
notify_namespace(Relation nsrel, Snapshot snapshot, const char *ns,
				 int64 *incarnation, bytea **secret)
{
	TupleTableSlot *slot = table_slot_create(nsrel, NULL);
	Datum           key = CStringGetTextDatum(ns);
	bool            found, isnull;

	found = fetch_by_key(nsrel, primary_key(nsrel), snapshot, &key, 1, slot);
	if (found)
	{
		*incarnation =
			DatumGetInt64(slot_getattr(slot, NS_INCARNATION, &isnull));
		*secret =
			DatumGetByteaPCopy(slot_getattr(slot, NS_CHANNEL_SECRET, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	return found;
}

/* The relations rows_scan_notify reads. */
typedef struct NotifyRels
{
	Relation nsrel;
	Relation feed;
	Relation index;
} NotifyRels;

/*
 * Open the relations rows_scan_notify reads, in the order in which DROP
 * EXTENSION locks them (the order of the install script), so that a drop
 * and a batch wait for each other instead of deadlocking.  The index is
 * looked up after the feed is locked: a REINDEX CONCURRENTLY that replaced
 * it has then been taken in.  False, with nothing left open, when the
 * extension is gone (dropped while the batch waited for a lock).
 */
static bool
open_notify_rels(NotifyRels *rels)
{
	rels->nsrel = rows_open(REL_NAMESPACES, AccessShareLock, true);
	if (rels->nsrel == NULL)
		return false;
	rels->feed = rows_open(REL_FEED, AccessShareLock, true);
	if (rels->feed == NULL)
	{
		table_close(rels->nsrel, AccessShareLock);
		return false;
	}
	rels->index = rows_open(REL_FEED_NOTIFY_IDX, AccessShareLock, true);
	if (rels->index == NULL)
	{
		table_close(rels->feed, AccessShareLock);
		table_close(rels->nsrel, AccessShareLock);
		return false;
	}
	check_natts(rels->feed, FEED_NATTS);
	return true;
}

/*
 * Call fn for each feed entry to announce (notify set) that snapshot sees
 * and that belongs to one of the transactions pending[] (sorted, all
 * below after.xid) or lies after position after, in feed order, with its
 * namespace's channel secret.  Index scans of feed_notify_idx: one probe
 * per pending transaction, then one range.  Each call of fn runs in a
 * memory context reset after it.  Returns false, having called nothing,
 * when the extension is not installed (any more).
 */
bool
rows_scan_notify(Snapshot snapshot, const uint64 *pending, int npending,
				 FeedPos after, NotifyEntryFn fn, void *arg)
{
	NotifyRels      rels;
	Relation        feed, index, nsrel;
	TupleTableSlot *slot;
	MemoryContext   entry_cxt;
	char            ns_name[NAMEDATALEN] = "";
	int64           incarnation = 0;
	bytea          *secret = NULL;
	bool            ns_found = false;

	if (!open_notify_rels(&rels))
		return false;
	feed = rels.feed;
	index = rels.index;
	nsrel = rels.nsrel;
	slot = table_slot_create(feed, NULL);
	entry_cxt = AllocSetContextCreate(
		CurrentMemoryContext, "pg_assoc notify entry", ALLOCSET_DEFAULT_SIZES);
	for (int probe = 0; probe <= npending; probe++)
	{
		bool          range = (probe == npending);
		ScanKeyData   skey;
		IndexScanDesc scan;

		ScanKeyInit(&skey, 1,
					range ? BTGreaterEqualStrategyNumber
						  : BTEqualStrategyNumber,
					range ? F_XID8GE : F_XID8EQ,
					UInt64GetDatum(range ? after.xid : pending[probe]));
		scan = index_beginscan(feed, index, snapshot, 1, 0);
		index_rescan(scan, &skey, 1, NULL, 0);
		while (index_getnext_slot(scan, ForwardScanDirection, slot))
		{
			FeedEntry     e;
			bool          isnull;
			MemoryContext old;

			CHECK_FOR_INTERRUPTS();
			e.pos.xid = DatumGetUInt64(slot_getattr(slot, FEED_XID, &isnull));
			e.pos.seq = DatumGetInt64(slot_getattr(slot, FEED_SEQ, &isnull));
			if (range && e.pos.xid == after.xid && e.pos.seq <= after.seq)
				continue;
			old = MemoryContextSwitchTo(entry_cxt);
			e.ns = TextDatumGetCString(slot_getattr(slot, FEED_NS, &isnull));
			if (strcmp(e.ns, ns_name) != 0)
			{
				/* Entries come in runs of one namespace: look up per run. */
				MemoryContextSwitchTo(old);
				if (secret != NULL)
					pfree(secret);
				secret = NULL;
				strlcpy(ns_name, e.ns, sizeof(ns_name));
				ns_found = notify_namespace(nsrel, snapshot, ns_name,
											&incarnation, &secret);
				MemoryContextSwitchTo(entry_cxt);
			}
			if (ns_found)
			{
				e.incarnation = incarnation;
				e.id =
					TextDatumGetCString(slot_getattr(slot, FEED_ID, &isnull));
				e.version =
					DatumGetInt64(slot_getattr(slot, FEED_VERSION, &isnull));
				e.op =
					TextDatumGetCString(slot_getattr(slot, FEED_OP, &isnull));
				e.paths = slot_getattr(slot, FEED_PATHS, &isnull);
				if (isnull)
					e.paths = (Datum) 0;
				fn(&e, secret, arg);
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(entry_cxt);
		}
		index_endscan(scan);
	}
	MemoryContextDelete(entry_cxt);
	ExecDropSingleTupleTableSlot(slot);
	index_close(index, AccessShareLock);
	table_close(feed, AccessShareLock);
	table_close(nsrel, AccessShareLock);
	return true;
}
