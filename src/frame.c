/*
 * frame.c
 *		The call frame of every write and of the search: who may use a
 *		namespace, the switch to the extension owner that these functions
 *		work as, and the store's locks.
 *
 * Isolation rule (README, "Isolation between applications"): a role may
 * read or write a namespace only if it is a member of the namespace's
 * owner role.  Reads are plain queries under row-level security, but for
 * assoc.search, which uses this frame (assoc_call_open_read) for the
 * reason search.c gives.  Writes are C functions: they check the
 * calling role here (GetUserId() before any switch) and then run their
 * statements as the owner of the extension's tables, the only role with
 * write privileges on them.  A SECURITY DEFINER function could not do
 * this: it cannot see its caller.
 *
 * The store's statements are prepared once per backend and always
 * schema-qualified (stmt.c).
 *
 * Layer: the call frame (README, "How the code is organised"); calls row
 * access and the libraries.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_trigger.h"
#include "commands/defrem.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/wait_event.h"

#include "compat.h"
#include "frame.h"
#include "rowaccess.h"
#include "rules.h"

/*
 * The role that owns the extension's tables (the extension owner), found
 * through assoc.records.
 */
Oid
assoc_extension_owner(void)
{
	Oid       rel = assoc_rows_records_oid();
	HeapTuple tuple;
	Oid       owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", rel);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * The store's own heavyweight locks (FrameLockKind, frame.h).  Their tags
 * are advisory-lock tags of the current database whose fourth field is
 * the kind, which pg_advisory_lock() never uses (it uses 1 and 2): no
 * user lock can collide with them.  The other two fields hold a 64-bit
 * identity.
 */

/*
 * Take a store lock of a kind on a 64-bit identity, to transaction end
 * unless released; its tag is copied to *out when out is not NULL.
 */
static void
frame_lock(FrameLockKind kind, uint64 id, LOCKMODE mode, LOCKTAG *out)
{
	LOCKTAG tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (id >> 32), (uint32) id,
						 kind);
	(void) LockAcquire(&tag, mode, false, false);
	if (out != NULL)
		*out = tag;
}

/*
 * Serialize the writers of one key of the call's namespace (its
 * incarnation) that SQL would serialize with a unique index and ON
 * CONFLICT: a new record's id, an op_id, an upsert's keys.  The lock is on
 * the first 64 bits of a SHA-256 digest of the incarnation, the kind and
 * the key's len bytes; a cryptographic digest, so that no role can choose
 * keys of its own namespace whose lock stalls another application's
 * writes.  Two keys that share the 64 bits merely wait for each other.
 * Held to the end of the transaction, or until assoc_call_unlock(tag)
 * when tag is given (its tag is stored there); assoc_rows_fetch_latest
 * releases it while it waits for another transaction and takes it again.
 */
void
assoc_call_lock(AssocCall *call, FrameLockKind kind, const void *key,
				size_t len, LOCKTAG *tag)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8              digest[PG_SHA256_DIGEST_LENGTH];
	uint32             k = kind;
	uint64             id;

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) &call->incarnation,
							 sizeof(call->incarnation)) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) &k, sizeof(k)) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) key, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute the lock of a key");
	pg_cryptohash_free(ctx);
	memcpy(&id, digest, sizeof(id));
	frame_lock(kind, id, ExclusiveLock, tag);
}

/*
 * Release a key's lock before the end of the transaction: once the row it
 * guards is inserted (whose inserting transaction the next writer of the
 * key then waits for) or found, so that a transaction writing many keys
 * does not fill the shared lock table.
 */
void
assoc_call_unlock(const LOCKTAG *tag)
{
	if (!LockRelease(tag, ExclusiveLock, false))
		elog(ERROR, "a key lock of pg_assoc was not held");
}

/*
 * Switch to the extension owner for table access (see file header),
 * saving the caller's identity for the switch back.  The restricted
 * context keeps anything run meanwhile from changing session state.
 */
static void
become_owner(Oid *caller, int *caller_sec)
{
	GetUserIdAndSecContext(caller, caller_sec);
	SetUserIdAndSecContext(assoc_extension_owner(),
						   *caller_sec | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
}

/* The tables of the store, as assoc_frame_check_tables checks them. */
static const char *const frame_tables[] = {
	"namespaces", "records", "history", "feed", "feed_pruned", "ops"};
static Oid    table_oids[lengthof(frame_tables)];
static bool   tables_checked = false;
static uint64 tables_changes = 0; /* invalidations seen */

/*
 * Relcache callback: a change to one of the tables is checked again.  The
 * count lets a check that absorbed an invalidation while it ran (in its
 * own catalog reads) know that it may have looked too early.
 */
static void
tables_changed(Datum arg, Oid relid)
{
	for (int i = 0; i < lengthof(frame_tables); i++)
		if (!OidIsValid(relid) || relid == table_oids[i])
		{
			tables_checked = false;
			tables_changes++;
		}
}

/*
 * Does catalog (a table of the catalogs, or Citus's pg_dist_partition) hold
 * a row whose column attno is relid?  Scanned through index (InvalidOid:
 * sequentially).  The checks of assoc_frame_check_tables: rules
 * (pg_rewrite), triggers (pg_trigger) and a Citus distribution.
 */
static bool
catalog_has_row(Oid catalog, Oid index, AttrNumber attno, Oid relid)
{
	Relation    rel = table_open(catalog, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	bool        found;

	ScanKeyInit(&key, attno, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, index, OidIsValid(index), NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Refuse to write when a table of the store is not a plain heap table as
 * the extension created it: partitioned, distributed by Citus, of another
 * access method, rewritten by rules, or with triggers (also those of a
 * foreign key that references it).  The write path reads and writes
 * these tables directly (rowaccess.c) and through fixed statements, so on
 * such a table a write could land elsewhere, or a lookup could miss a row
 * that an insert then finds.  Checked at the first write of a backend and
 * again after a table changes, from the catalogs: no lock is taken on the
 * tables themselves, so a maintenance command holding one (VACUUM FULL of
 * assoc.ops) holds back only the writers that use that table.
 */
void
assoc_frame_check_tables(void)
{
	static bool registered = false;
	Oid         nsp;
	Oid         dist;
	uint64      changes = tables_changes;

	if (tables_checked)
		return;
	if (!registered)
	{
		CacheRegisterRelcacheCallback(tables_changed, (Datum) 0);
		registered = true;
	}
	nsp = get_namespace_oid("assoc", false);
	dist = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	for (int i = 0; i < lengthof(frame_tables); i++)
	{
		Oid           relid = get_relname_relid(frame_tables[i], nsp);
		HeapTuple     tuple;
		Form_pg_class form;
		const char   *cause = NULL;

		if (!OidIsValid(relid))
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
							errmsg("relation assoc.%s does not exist",
								   frame_tables[i]),
							errhint("Drop and create extension pg_assoc "
									"again, or restore it from a dump.")));
		tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		if (!HeapTupleIsValid(tuple))
			elog(ERROR, "cache lookup failed for relation %u", relid);
		form = (Form_pg_class) GETSTRUCT(tuple);
		if (form->relkind == RELKIND_PARTITIONED_TABLE)
			cause = "it is partitioned";
		else if (form->relkind != RELKIND_RELATION)
			cause = "it is not an ordinary table";
		else if (form->relam != HEAP_TABLE_AM_OID)
			cause = psprintf("it uses access method \"%s\" instead of heap",
							 get_am_name(form->relam));
		ReleaseSysCache(tuple);
		/*
		 * The store's own tables have no rules and no triggers; the direct
		 * writes fire none, so a trigger someone added, or the internal ones
		 * of a foreign key referencing the table or of a deferrable
		 * constraint, would be silently skipped.  Citus's first column of
		 * pg_dist_partition, logicalrelid, is the distributed table.
		 */
		if (cause == NULL &&
			catalog_has_row(RewriteRelationId, RewriteRelRulenameIndexId,
							Anum_pg_rewrite_ev_class, relid))
			cause = "it has rules";
		else if (cause == NULL &&
				 catalog_has_row(TriggerRelationId, TriggerRelidNameIndexId,
								 Anum_pg_trigger_tgrelid, relid))
			cause = "it has triggers";
		else if (cause == NULL && OidIsValid(dist) &&
				 catalog_has_row(dist, InvalidOid, 1, relid))
			cause = "it is distributed by Citus";
		if (cause != NULL)
			assoc_error_table_refused(frame_tables[i], cause);
		table_oids[i] = relid;
	}
	/* A table changed while it was checked: check again next time. */
	tables_checked = (changes == tables_changes);
}

/*
 * Read the call's namespace and check that the calling role may use it;
 * 42704 otherwise, the same error for a namespace that exists but is not
 * the caller's as for one that does not exist.
 */
static void
read_namespace(AssocCall *call)
{
	AssocNamespaceRow row;

	if (!assoc_rows_namespace(call->ns, &row) ||
		!is_member_of_role(call->sw.caller, row.owner))
		assoc_error_no_namespace(call->ns_name);
	call->owner = row.owner;
	call->history_depth = row.history_depth;
	call->incarnation = row.incarnation;
	call->secret = row.secret;
	call->fenced = row.fenced;
}

/*
 * The error of a call that would change a fenced namespace: one being
 * moved to another server (README, "Moving a namespace").  40001, so that
 * clients and drivers retry it as they retry a serialization failure:
 * once the move has switched, the retry reaches the namespace's new
 * server.  The error comes after a pause (ASSOC_FENCE_PAUSE_MS, when
 * pause is true: before the namespace's lock is taken, though a
 * transaction that wrote the namespace earlier holds it meanwhile), so
 * that clients retrying at once do not spin, each retry through PL/Proxy
 * costing a new connection to the shard and the move the cores it
 * needs.
 */
static void
error_fenced(const AssocCall *call, bool pause)
{
	if (pause)
	{
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 ASSOC_FENCE_PAUSE_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	ereport(ERROR,
			(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
			 errmsg("namespace \"%s\" is being moved to another server",
					call->ns_name),
			 errdetail("assoc.%s() changes the namespace, which refuses "
					   "changes until the move has switched.",
					   call->fn),
			 errhint("Retry the call (with its op_id, if it has one).")));
}

/*
 * The start of every call frame: the call's function and its namespace
 * argument, validated; no op_id.
 */
static void
call_begin(AssocCall *call, FunctionCallInfo fcinfo, const char *fn,
		   int ns_arg)
{
	memset(call, 0, sizeof(AssocCall));
	call->fn = fn;
	call->fcinfo = fcinfo;
	call->op_id_arg = -1;
	call->ns = assoc_ns_arg(fcinfo, ns_arg);
	call->ns_name = text_to_cstring(call->ns);
}

/*
 * Connect to SPI and switch to the extension owner for a call frame; its
 * memory, and that of its direct table access, is SPI's from here on.
 */
static void
call_enter(AssocCall *call)
{
	assoc_owner_enter(&call->sw);
	call->connected = true;
	call->cxt = CurrentMemoryContext;
	call->rows.cxt = call->cxt;
}

/*
 * Begin a store call: validate and look up the namespace, check that the
 * calling role is a member of its owner, lock it (mode: AccessShareLock for
 * writers, AccessExclusiveLock to keep them out), and switch to the
 * extension owner.  op_id_arg < 0: no op_id.  A fenced namespace (one
 * being moved) is refused with 40001 unless fenced_ok, checked before the
 * lock and again once it is held: a writer that found the namespace open
 * holds the lock until it ends, which assoc.move_quiesce waits for, and
 * every writer after the fence finds it.  Errors raised from here on
 * leave the user switch to transaction abort, which restores the caller.
 *
 * The namespace lock is keyed on the namespace's incarnation, unique per
 * creation of a namespace, so no two namespaces share a lock; and it is
 * taken only after the caller has been found to be a member, so that no
 * role can wait on, or hold back, another application's namespace.  The
 * namespace is read again once the lock is held: a drop that committed
 * meanwhile makes it missing (42704); one dropped and created again under
 * the same name has another incarnation, and the lock is taken anew.
 */
void
assoc_call_open_locked(AssocCall *call, FunctionCallInfo fcinfo,
					   const char *fn, int ns_arg, int op_id_arg,
					   LOCKMODE mode, bool fenced_ok)
{
	call_begin(call, fcinfo, fn, ns_arg);
	call->op_id_arg = op_id_arg;
	if (op_id_arg >= 0 && !PG_ARGISNULL(op_id_arg))
	{
		call->op_id = PG_GETARG_TEXT_PP(op_id_arg);
		assoc_check_op_id(call->op_id);
	}

	/* Writes go through the table AM, which does not check these. */
	PreventCommandIfReadOnly(psprintf("assoc.%s()", fn));
	PreventCommandIfParallelMode(psprintf("assoc.%s()", fn));

	call_enter(call);

	/*
	 * assoc.namespaces before assoc.records: the order DROP EXTENSION locks
	 * them in, so that a write and a drop of the extension wait for each
	 * other instead of deadlocking.
	 */
	assoc_frame_check_tables();
	read_namespace(call);
	/* Fenced already: fail rather than queue for the lock. */
	if (call->fenced && !fenced_ok)
		error_fenced(call, true);
	(void) assoc_rows_table(&call->rows, REL_RECORDS);
	for (int round = 1;; round++)
	{
		int64 locked = call->incarnation;

		CHECK_FOR_INTERRUPTS();
		frame_lock(FRAME_LOCK_NAMESPACE, (uint64) locked, mode, NULL);
		read_namespace(call);
		if (call->incarnation == locked)
			break;
		if (round >= ASSOC_MAX_ROUNDS)
			assoc_error_rounds(call->fn, call->ns_name, "lock the namespace");
	}
	if (call->fenced && !fenced_ok)
		error_fenced(call, false);
}

/*
 * Begin a reading call (assoc.search): validate and look up the namespace,
 * check that the calling role is a member of its owner (42704 otherwise),
 * and switch to the extension owner.  No lock is taken: a reader runs one
 * statement, which sees the namespace's rows in one snapshot, and it may
 * run where writes cannot (a read-only transaction, a standby).
 */
void
assoc_call_open_read(AssocCall *call, FunctionCallInfo fcinfo, const char *fn,
					 int ns_arg)
{
	call_begin(call, fcinfo, fn, ns_arg);
	call_enter(call);
	read_namespace(call);
}

/* assoc_call_open_locked for writers: the namespace lock in share mode. */
void
assoc_call_open(AssocCall *call, FunctionCallInfo fcinfo, const char *fn,
				int ns_arg, int op_id_arg)
{
	assoc_call_open_locked(call, fcinfo, fn, ns_arg, op_id_arg,
						   AccessShareLock, false);
}

/* End a store call: back to the caller, out of SPI. */
void
assoc_call_close(AssocCall *call)
{
	assoc_rows_close(&call->rows);
	if (call->connected)
		assoc_owner_leave(&call->sw);
	call->connected = false;
}

/*
 * Connect to SPI and switch to the extension owner, saving the caller in
 * sw for assoc_owner_leave: for every call frame (assoc_call_open) and for
 * the functions that need none (namespace creation, pruning).  The one
 * place this pair is written.
 */
void
assoc_owner_enter(AssocOwnerSwitch *sw)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	become_owner(&sw->caller, &sw->caller_sec);
}

/* Switch back to the caller saved by assoc_owner_enter, out of SPI. */
void
assoc_owner_leave(AssocOwnerSwitch *sw)
{
	SetUserIdAndSecContext(sw->caller, sw->caller_sec);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}
