/*
 * namespace.c
 *		Namespaces and access: who may use a namespace, and the switch to
 *		the extension owner that the write functions write with.
 *
 * Isolation rule (SPEC §4): a role may read or write a namespace only if
 * it is a member of the namespace's owner role.  Reads are plain queries
 * under row-level security.  Writes are C functions: they check the
 * calling role here (GetUserId() before any switch) and then run their
 * statements as the owner of the extension's tables, the only role with
 * write privileges on them.  A SECURITY DEFINER function could not do
 * this: it cannot see its caller.
 *
 * The store's statements are prepared once per backend (store_plan) and
 * always schema-qualified; the functions also pin search_path.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "feed.h"
#include "pg_assoc.h"
#include "store.h"

/* One statement: its text, argument types and the saved plan. */
typedef struct StorePlan
{
	const char *sql;
	int         nargs;
	Oid         argtypes[6]; /* InvalidOid here = the assockey type */
	SPIPlanPtr  plan;
} StorePlan;

#define AK InvalidOid /* placeholder for the assockey type */

static StorePlan plans[SP_COUNT] = {
	[SP_NS_INSERT] = {"INSERT INTO assoc.namespaces (ns, owner, incarnation, "
					  "channel_secret) "
					  "VALUES ($1, $2::pg_catalog.regrole, "
					  "pg_catalog.nextval('assoc.incarnation_seq'), $3) "
					  "ON CONFLICT (ns) DO NOTHING",
					  3,
					  {TEXTOID, OIDOID, BYTEAOID}},
	[SP_NS_ROTATE] = {"UPDATE assoc.namespaces SET channel_secret = $2 "
					  "WHERE ns OPERATOR(pg_catalog.=) $1",
					  2,
					  {TEXTOID, BYTEAOID}},
	[SP_NS_SECRET] = {"SELECT channel_secret FROM assoc.namespaces "
					  "WHERE ns OPERATOR(pg_catalog.=) $1",
					  1,
					  {TEXTOID}},
	[SP_NS_UPDATE_DEPTH] = {"UPDATE assoc.namespaces SET history_depth = $2 "
							"WHERE ns OPERATOR(pg_catalog.=) $1",
							2,
							{TEXTOID, INT4OID}},
	[SP_NS_DELETE] =
		{"DELETE FROM assoc.namespaces WHERE ns OPERATOR(pg_catalog.=) $1",
		 1,
		 {TEXTOID}},
	[SP_NS_DELETE_RECORDS] =
		{"DELETE FROM assoc.records WHERE ns OPERATOR(pg_catalog.=) $1",
		 1,
		 {TEXTOID}},
	[SP_NS_DELETE_HISTORY] =
		{"DELETE FROM assoc.history WHERE ns OPERATOR(pg_catalog.=) $1",
		 1,
		 {TEXTOID}},
	[SP_NS_DELETE_FEED] =
		{"DELETE FROM assoc.feed WHERE ns OPERATOR(pg_catalog.=) $1",
		 1,
		 {TEXTOID}},
	[SP_NS_DELETE_OPS] =
		{"DELETE FROM assoc.ops WHERE ns OPERATOR(pg_catalog.=) $1",
		 1,
		 {TEXTOID}},
	[SP_NS_PRUNE_HISTORY] =
		{"DELETE FROM assoc.history h WHERE h.ns OPERATOR(pg_catalog.=) $1 "
		 "AND ($2 OPERATOR(pg_catalog.=) 0 OR h.version "
		 "OPERATOR(pg_catalog.<) "
		 "((SELECT r.version FROM assoc.records r "
		 "WHERE r.ns OPERATOR(pg_catalog.=) h.ns "
		 "AND r.id OPERATOR(pg_catalog.=) h.id) OPERATOR(pg_catalog.-) $2))",
		 2,
		 {TEXTOID, INT4OID}},
	[SP_NS_VISIBLE] =
		{"SELECT 1 FROM assoc.namespaces WHERE ns OPERATOR(pg_catalog.=) $1",
		 1,
		 {TEXTOID}},
	[SP_REC_INSERT] =
		{"INSERT INTO assoc.records (ns, id, keys, data, version) "
		 "VALUES ($1, $2, $3, $4, 1) ON CONFLICT (ns, id) DO NOTHING",
		 4,
		 {TEXTOID, TEXTOID, AK, JSONBOID}},
	[SP_REC_INSERT_ROW] =
		{"INSERT INTO assoc.records AS r (ns, id, keys, data, version) "
		 "VALUES ($1, $2, $3, $4, 1) ON CONFLICT (ns, id) DO NOTHING "
		 "RETURNING r.*",
		 4,
		 {TEXTOID, TEXTOID, AK, JSONBOID}},
	[SP_REC_UPDATE_ROW] =
		{"UPDATE assoc.records AS r SET data = $2, keys = $3, version = $4, "
		 "updated_at = pg_catalog.now() WHERE ctid OPERATOR(pg_catalog.=) $1 "
		 "RETURNING r.*",
		 4,
		 {TIDOID, JSONBOID, AK, INT8OID}},
	[SP_REC_DELETE] =
		{"DELETE FROM assoc.records WHERE ctid OPERATOR(pg_catalog.=) $1",
		 1,
		 {TIDOID}},
	[SP_REC_BY_KEYS_LOCK] =
		{"SELECT ctid, r.* FROM assoc.records AS r "
		 "WHERE r.ns OPERATOR(pg_catalog.=) $1 "
		 "AND r.keys OPERATOR(assoc.=) $2 ORDER BY r.id FOR UPDATE",
		 2,
		 {TEXTOID, AK}},
	[SP_REC_BY_KEYS_LATEST] =
		{"SELECT 1 FROM assoc.records "
		 "WHERE ns OPERATOR(pg_catalog.=) $1 AND keys OPERATOR(assoc.=) $2 "
		 "LIMIT 1",
		 2,
		 {TEXTOID, AK}},
	[SP_REC_REMOVE_BY] = {"DELETE FROM assoc.records AS r "
						  "WHERE ns OPERATOR(pg_catalog.=) $1 "
						  "AND keys OPERATOR(assoc.@>) $2 "
						  "RETURNING r.*",
						  2,
						  {TEXTOID, AK}},
	[SP_FEED_NS] = {"SELECT n.incarnation, coalesce(p.xid, '0'), "
					"coalesce(p.seq, 0), "
					"pg_catalog.pg_snapshot_xmin("
					"pg_catalog.pg_current_snapshot()) "
					"FROM assoc.namespaces AS n "
					"LEFT JOIN assoc.feed_pruned AS p "
					"ON p.ns OPERATOR(pg_catalog.=) n.ns "
					"WHERE n.ns OPERATOR(pg_catalog.=) $1",
					1,
					{TEXTOID}},
	[SP_FEED_CHANGES] = {"SELECT xid, seq, id, version, op, paths, at "
						 "FROM assoc.feed WHERE ns OPERATOR(pg_catalog.=) $1 "
						 "AND (xid, seq) OPERATOR(pg_catalog.>) ($2, $3) "
						 "AND xid OPERATOR(pg_catalog.<) $4 "
						 "ORDER BY xid, seq LIMIT $5",
						 5,
						 {TEXTOID, XID8OID, INT8OID, XID8OID, INT8OID}},
	[SP_FEED_PRUNE_NAMESPACES] = {"SELECT ns FROM assoc.namespaces "
								  "ORDER BY ns",
								  0,
								  {InvalidOid}},
	[SP_FEED_FIRST_KEPT] =
		{"SELECT xid, seq FROM assoc.feed WHERE ns OPERATOR(pg_catalog.=) $1 "
		 "AND (at OPERATOR(pg_catalog.>=) $2 OR xid OPERATOR(pg_catalog.>=) "
		 "pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())) "
		 "ORDER BY xid, seq LIMIT 1",
		 2,
		 {TEXTOID, TIMESTAMPTZOID}},
	[SP_FEED_PRUNE] =
		{"WITH d AS (DELETE FROM assoc.feed WHERE ns OPERATOR(pg_catalog.=) "
		 "$1 "
		 "AND (xid, seq) OPERATOR(pg_catalog.<) ($2, $3) "
		 "AND at OPERATOR(pg_catalog.<) $4 "
		 "AND xid OPERATOR(pg_catalog.<) "
		 "pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot()) "
		 "RETURNING xid, seq) "
		 "SELECT pg_catalog.count(*), "
		 "(SELECT xid FROM d ORDER BY xid DESC, seq DESC LIMIT 1), "
		 "(SELECT seq FROM d ORDER BY xid DESC, seq DESC LIMIT 1) FROM d",
		 4,
		 {TEXTOID, XID8OID, INT8OID, TIMESTAMPTZOID}},
	[SP_FEED_SET_PRUNED] =
		{"INSERT INTO assoc.feed_pruned AS p (ns, xid, seq) "
		 "VALUES ($1, $2, $3) ON CONFLICT (ns) DO UPDATE "
		 "SET xid = excluded.xid, seq = excluded.seq "
		 "WHERE (p.xid, p.seq) OPERATOR(pg_catalog.<) "
		 "(excluded.xid, excluded.seq)",
		 3,
		 {TEXTOID, XID8OID, INT8OID}},
	[SP_NS_DELETE_PRUNED] =
		{"DELETE FROM assoc.feed_pruned WHERE ns OPERATOR(pg_catalog.=) $1",
		 1,
		 {TEXTOID}},
	[SP_HIST_INSERT] =
		{"INSERT INTO assoc.history (ns, id, version, data, keys, op) "
		 "VALUES ($1, $2, $3, $4, $5, $6)",
		 6,
		 {TEXTOID, TEXTOID, INT8OID, JSONBOID, AK, TEXTOID}},
	[SP_HIST_TRIM] = {"DELETE FROM assoc.history "
					  "WHERE ns OPERATOR(pg_catalog.=) $1 "
					  "AND id OPERATOR(pg_catalog.=) $2 "
					  "AND version OPERATOR(pg_catalog.<) $3",
					  3,
					  {TEXTOID, TEXTOID, INT8OID}},
	[SP_HIST_DELETE] = {"DELETE FROM assoc.history "
						"WHERE ns OPERATOR(pg_catalog.=) $1 "
						"AND id OPERATOR(pg_catalog.=) $2",
						2,
						{TEXTOID, TEXTOID}},
	[SP_HIST_GET] = {"SELECT data, keys FROM assoc.history "
					 "WHERE ns OPERATOR(pg_catalog.=) $1 "
					 "AND id OPERATOR(pg_catalog.=) $2 "
					 "AND version OPERATOR(pg_catalog.=) $3",
					 3,
					 {TEXTOID, TEXTOID, INT8OID}},
	[SP_OPS_CLAIM] =
		{"INSERT INTO assoc.ops (ns, op_id, fn, args) VALUES ($1, $2, $3, $4) "
		 "ON CONFLICT (ns, op_id) DO NOTHING RETURNING ctid",
		 4,
		 {TEXTOID, TEXTOID, TEXTOID, BYTEAOID}},
	[SP_OPS_GET] = {"SELECT fn, args, result FROM assoc.ops "
					"WHERE ns OPERATOR(pg_catalog.=) $1 "
					"AND op_id OPERATOR(pg_catalog.=) $2",
					2,
					{TEXTOID, TEXTOID}},
	[SP_OPS_SET_RESULT] = {"UPDATE assoc.ops SET result = $2 "
						   "WHERE ctid OPERATOR(pg_catalog.=) $1",
						   2,
						   {TIDOID, JSONBOID}},
	[SP_OPS_PRUNE] = {"DELETE FROM assoc.ops WHERE at OPERATOR(pg_catalog.<) "
					  "(pg_catalog.now() OPERATOR(pg_catalog.-) "
					  "pg_catalog.make_interval(secs => $1))",
					  1,
					  {FLOAT8OID}},
	[SP_ROWS_FROM_JSONB] =
		{"SELECT e OPERATOR(pg_catalog.->>) 'ns', "
		 "e OPERATOR(pg_catalog.->>) 'id', "
		 "assoc.assockey_from_jsonb(e OPERATOR(pg_catalog.->) 'keys'), "
		 "e OPERATOR(pg_catalog.->) 'data', "
		 "(e OPERATOR(pg_catalog.->>) 'version')::pg_catalog.int8, "
		 "(e OPERATOR(pg_catalog.->>) 'created_at')::pg_catalog.timestamptz, "
		 "(e OPERATOR(pg_catalog.->>) 'updated_at')::pg_catalog.timestamptz "
		 "FROM pg_catalog.jsonb_array_elements($1) AS e",
		 1,
		 {JSONBOID}},
};

static Oid  assockey_oid = InvalidOid; /* the type the plans were made for */
static bool assockey_stale = false;
static bool callback_registered = false;

/*
 * Syscache callback on pg_type: the assockey type may have been dropped
 * and created again (with the extension).  Only note it: the callback can
 * run while one of the saved plans is being executed, so the plans are
 * freed later, by store_assockey_type, when no statement of the store is
 * running.
 */
static void
store_type_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	if (OidIsValid(assockey_oid) &&
		(hashvalue == 0 ||
		 hashvalue ==
			 GetSysCacheHashValue1(TYPEOID, ObjectIdGetDatum(assockey_oid))))
		assockey_stale = true;
}

/*
 * The OID of assoc.assockey, looked up once per backend and again after a
 * pg_type change.  When it has changed, the saved plans (which keep their
 * parameter types) are freed, to be prepared anew.  Called before any
 * statement of the store runs (store_plan).
 */
Oid
store_assockey_type(void)
{
	if (!OidIsValid(assockey_oid) || assockey_stale)
	{
		Oid nsp = get_namespace_oid("assoc", true);
		Oid current = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									  CStringGetDatum("assockey"),
									  ObjectIdGetDatum(nsp));

		if (!OidIsValid(current))
			rows_error_not_installed("type assoc.assockey");
		if (OidIsValid(assockey_oid) && current != assockey_oid)
		{
			for (int i = 0; i < SP_COUNT; i++)
			{
				if (plans[i].plan != NULL)
					SPI_freeplan(plans[i].plan);
				plans[i].plan = NULL;
			}
		}
		assockey_oid = current;
		assockey_stale = false;
		if (!callback_registered)
		{
			CacheRegisterSyscacheCallback(TYPEOID, store_type_changed,
										  (Datum) 0);
			callback_registered = true;
		}
	}
	return assockey_oid;
}

/*
 * The saved plan of a statement, prepared on first use, like every
 * execution, under the pinned search path (compat_push_search_path): the
 * statements name their own objects with the schema, and pinning keeps a
 * caller's search_path (or a database's default one, for the notification
 * worker) from resolving any other name to objects of its choosing.  The
 * plan cache re-analyses a statement whose path differs from the one it
 * was prepared with, so the path is pinned around every execution as
 * around the preparation.
 *
 * Its generic plan is made at once with enable_seqscan off: a plan made
 * while a table is still small would otherwise scan it sequentially for as
 * long as it is kept.  (Plans are remade after invalidations, such as an
 * ANALYZE, by then with statistics.)  Must be called inside SPI.
 */
SPIPlanPtr
store_plan(StorePlanId id)
{
	StorePlan *p = &plans[id];

	(void) store_assockey_type(); /* frees the plans of a dropped type */
	if (p->plan == NULL)
	{
		Oid         types[6];
		SPIPlanPtr  plan;
		CachedPlan *cplan;
		int         nest = NewGUCNestLevel();
		int         path;

		for (int i = 0; i < p->nargs; i++)
			types[i] = OidIsValid(p->argtypes[i]) ? p->argtypes[i]
												  : store_assockey_type();
		(void) set_config_option("enable_seqscan", "off", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
		path = compat_push_search_path();
		plan = SPI_prepare_cursor(p->sql, p->nargs, types,
								  CURSOR_OPT_GENERIC_PLAN);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", p->sql,
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		cplan = SPI_plan_get_cached_plan(plan);
		ReleaseCachedPlan(cplan, CurrentResourceOwner);
		compat_pop_search_path(path);
		AtEOXact_GUC(true, nest);
		p->plan = plan;
	}
	return p->plan;
}

/*
 * Execute a store statement with the pinned search path (compat_push_search_path)
 * and return SPI_processed.  This is the one way the C code runs SQL: a
 * statement executed under the caller's search path would be analysed again
 * under it by the plan cache, and a caller's operator or function could then
 * run as the extension owner.  With a snapshot, the statement runs on it
 * (SPI_execute_snapshot) instead of the current one.
 */
uint64
store_exec_snapshot(StorePlanId id, Datum *values, const char *nulls,
					bool read_only, long count, Snapshot snapshot)
{
	SPIPlanPtr plan = store_plan(id);
	int        rc;
	int        path;

	path = compat_push_search_path();
	if (snapshot != InvalidSnapshot)
		rc = SPI_execute_snapshot(plan, values, nulls, snapshot,
								  InvalidSnapshot, read_only, false, count);
	else
		rc = SPI_execute_plan(plan, values, nulls, read_only, count);
	compat_pop_search_path(path);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s", plans[id].sql,
			 SPI_result_code_string(rc));
	return SPI_processed;
}

/* store_exec_snapshot on the current snapshot. */
uint64
store_exec(StorePlanId id, Datum *values, const char *nulls, bool read_only,
		   long count)
{
	return store_exec_snapshot(id, values, nulls, read_only, count,
							   InvalidSnapshot);
}

/*
 * Open a store statement as an SPI cursor, for statements whose rows are
 * read a batch at a time (store_cursor_fetch) instead of all at once into
 * one SPI result.  Opened, like every execution, under the pinned search
 * path: opening revalidates the saved plan, and a plan revalidated under
 * the caller's path would be analysed again under it.  A SELECT runs as
 * it is fetched; a DELETE ... RETURNING runs whole at the first fetch and
 * keeps its rows in the portal's tuplestore, which spills to disk past
 * work_mem.  The caller closes it with SPI_cursor_close.
 */
Portal
store_cursor_open(StorePlanId id, Datum *values, const char *nulls,
				  bool read_only)
{
	SPIPlanPtr plan = store_plan(id);
	Portal     portal;
	int        path;

	path = compat_push_search_path();
	portal = SPI_cursor_open(NULL, plan, values, nulls, read_only);
	compat_pop_search_path(path);
	if (portal == NULL)
		elog(ERROR, "SPI_cursor_open failed for \"%s\": %s", plans[id].sql,
			 SPI_result_code_string(SPI_result));
	return portal;
}

/*
 * Fetch up to count more rows of a store cursor into SPI_tuptable (which
 * the caller frees with SPI_freetuptable) and return how many; 0 at the
 * end.  Under the pinned search path, as the statement was opened.
 */
uint64
store_cursor_fetch(Portal portal, long count)
{
	int path;

	path = compat_push_search_path();
	SPI_cursor_fetch(portal, true, count);
	compat_pop_search_path(path);
	return SPI_processed;
}

/*
 * The role that owns the extension's tables (the extension owner), found
 * through assoc.records.
 */
static Oid
extension_owner(void)
{
	Oid       rel = rows_records_oid();
	HeapTuple tuple;
	Oid       owner;

	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rel));
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for relation %u", rel);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/* Raise 22004 when argument argno is NULL; what names it in the message. */
void
store_check_not_null(FunctionCallInfo fcinfo, int argno, const char *what)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("%s must not be NULL", what)));
}

/* A namespace name is 1-63 characters of [A-Za-z0-9_.-]. */
static void
store_check_ns_name(text *ns)
{
	const char *s = VARDATA_ANY(ns);
	int         len = VARSIZE_ANY_EXHDR(ns);
	bool        ok = len >= 1 && len <= 63;

	for (int i = 0; ok && i < len; i++)
		ok = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
			 (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' ||
			 s[i] == '-';
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid namespace name \"%s\"", text_to_cstring(ns)),
				 errdetail("A namespace name is 1 to 63 characters of A-Z, "
						   "a-z, 0-9, \"_\", \".\" and \"-\".")));
}

/*
 * The namespace argument at argno: 22004 when NULL, 22023 unless it is 1-63
 * characters of [A-Za-z0-9_.-].
 */
text *
store_ns_arg(FunctionCallInfo fcinfo, int argno)
{
	text *ns;

	store_check_not_null(fcinfo, argno, "namespace");
	ns = PG_GETARG_TEXT_PP(argno);
	store_check_ns_name(ns);
	return ns;
}

/* A record id is 1 to 1024 bytes (text never holds NUL). */
void
store_check_id(text *id)
{
	int len = VARSIZE_ANY_EXHDR(id);

	if (len < 1 || len > 1024)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid record id: length %d", len),
						errdetail("A record id is 1 to 1024 bytes.")));
}

/* The error for a namespace that is missing or not the caller's. */
void
store_error_no_namespace(const char *ns)
{
	ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
					errmsg("namespace \"%s\" does not exist", ns)));
}

/*
 * The store's own heavyweight locks.  Their tags are advisory-lock tags of
 * the current database whose fourth field is one of these kinds, which
 * pg_advisory_lock() never uses (it uses 1 and 2): no user lock can
 * collide with them.  The other two fields hold a 64-bit identity.
 */
typedef enum StoreLockKind
{
	STORE_LOCK_NAMESPACE = 0x4153, /* a namespace, by incarnation */
	STORE_LOCK_KEYS = 0x4154       /* an upsert's (namespace, keys) */
} StoreLockKind;

/* Take a store lock of a kind on a 64-bit identity, to transaction end. */
static void
store_lock(StoreLockKind kind, uint64 id, LOCKMODE mode)
{
	LOCKTAG tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (id >> 32), (uint32) id,
						 kind);
	(void) LockAcquire(&tag, mode, false, false);
}

/*
 * Serialize the upserts of one set of keys in the call's namespace (its
 * incarnation): a lock on the first 64 bits of a SHA-256 digest of both.
 * A cryptographic digest, so that no role can choose keys of its own
 * namespace whose lock stalls another application's upserts.
 */
void
store_lock_keys(StoreCall *call, Datum keys)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8              digest[PG_SHA256_DIGEST_LENGTH];
	uint64             id;

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) &call->incarnation,
							 sizeof(call->incarnation)) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) DatumGetPointer(keys),
							 VARSIZE_ANY(DatumGetPointer(keys))) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute the lock of an upsert's keys");
	pg_cryptohash_free(ctx);
	memcpy(&id, digest, sizeof(id));
	store_lock(STORE_LOCK_KEYS, id, ExclusiveLock);
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
	SetUserIdAndSecContext(extension_owner(),
						   *caller_sec | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
}

/* The tables of the store, as store_check_tables checks them. */
static const char *const store_tables[] = {
	"namespaces", "records", "history", "feed", "feed_pruned", "ops"};
static Oid    store_table_oids[lengthof(store_tables)];
static bool   store_tables_checked = false;
static uint64 store_tables_changes = 0; /* invalidations seen */

/*
 * Relcache callback: a change to one of the tables is checked again.  The
 * count lets a check that absorbed an invalidation while it ran (in its
 * own catalog reads) know that it may have looked too early.
 */
static void
store_tables_changed(Datum arg, Oid relid)
{
	for (int i = 0; i < lengthof(store_tables); i++)
		if (!OidIsValid(relid) || relid == store_table_oids[i])
		{
			store_tables_checked = false;
			store_tables_changes++;
		}
}

/* Does the relation have rules (pg_rewrite rows)? */
static bool
has_rules(Oid relid)
{
	Relation    rel = table_open(RewriteRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	bool        found;

	ScanKeyInit(&key, Anum_pg_rewrite_ev_class, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, RewriteRelRulenameIndexId, true, NULL, 1,
							  &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* Has Citus distributed the relation (a pg_dist_partition row)? */
static bool
is_distributed(Oid dist_partition, Oid relid)
{
	Relation    rel = table_open(dist_partition, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	bool        found;

	/* Its first column, logicalrelid, is the distributed table. */
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Refuse to write when a table of the store is not a plain heap table as
 * the extension created it: partitioned, distributed by Citus, of another
 * access method, or rewritten by rules.  The write path reads and writes
 * these tables directly (rowaccess.c) and through fixed statements, so on
 * such a table a write could land elsewhere, or a lookup could miss a row
 * that an insert then finds.  Checked at the first write of a backend and
 * again after a table changes, from the catalogs: no lock is taken on the
 * tables themselves, so a maintenance command holding one (VACUUM FULL of
 * assoc.ops) holds back only the writers that use that table.
 */
static void
store_check_tables(void)
{
	static bool registered = false;
	Oid         nsp;
	Oid         dist;
	uint64      changes = store_tables_changes;

	if (store_tables_checked)
		return;
	if (!registered)
	{
		CacheRegisterRelcacheCallback(store_tables_changed, (Datum) 0);
		registered = true;
	}
	nsp = get_namespace_oid("assoc", false);
	dist = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	for (int i = 0; i < lengthof(store_tables); i++)
	{
		Oid           relid = get_relname_relid(store_tables[i], nsp);
		HeapTuple     tuple;
		Form_pg_class form;
		const char   *cause = NULL;

		if (!OidIsValid(relid))
			ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
							errmsg("relation assoc.%s does not exist",
								   store_tables[i]),
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
		if (cause == NULL && has_rules(relid))
			cause = "it has rules";
		else if (cause == NULL && OidIsValid(dist) &&
				 is_distributed(dist, relid))
			cause = "it is distributed by Citus";
		if (cause != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("pg_assoc cannot write to table assoc.%s: %s",
							store_tables[i], cause),
					 errdetail("The store reads and writes its tables "
							   "directly and needs them as plain heap "
							   "tables, as the extension created them."),
					 errhint("See \"Limits\" in the pg_assoc README.")));
		store_table_oids[i] = relid;
	}
	/* A table changed while it was checked: check again next time. */
	store_tables_checked = (changes == store_tables_changes);
}

/*
 * Read the call's namespace and check that the calling role may use it;
 * 42704 otherwise, the same error for a namespace that exists but is not
 * the caller's as for one that does not exist.
 */
static void
read_namespace(StoreCall *call)
{
	if (!rows_namespace(call) || !is_member_of_role(call->caller, call->owner))
		store_error_no_namespace(call->ns_name);
}

/*
 * Begin a store call: validate and look up the namespace, check that the
 * calling role is a member of its owner, lock it (mode: AccessShareLock for
 * writers, AccessExclusiveLock to keep them out), and switch to the
 * extension owner.  op_id_arg < 0: no op_id.  Errors raised from here on
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
store_open_locked(StoreCall *call, FunctionCallInfo fcinfo, const char *fn,
				  int ns_arg, int op_id_arg, LOCKMODE mode)
{
	memset(call, 0, sizeof(StoreCall));
	call->fn = fn;
	call->fcinfo = fcinfo;
	call->op_id_arg = op_id_arg;
	call->ns = store_ns_arg(fcinfo, ns_arg);
	call->ns_name = text_to_cstring(call->ns);
	if (op_id_arg >= 0 && !PG_ARGISNULL(op_id_arg))
	{
		call->op_id = PG_GETARG_TEXT_PP(op_id_arg);
		if (VARSIZE_ANY_EXHDR(call->op_id) < 1 ||
			VARSIZE_ANY_EXHDR(call->op_id) > 1024)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("invalid op_id: length %d",
								   (int) VARSIZE_ANY_EXHDR(call->op_id)),
							errdetail("An op_id is 1 to 1024 bytes.")));
	}

	/* Writes go through the table AM, which does not check these. */
	PreventCommandIfReadOnly(psprintf("assoc.%s()", fn));
	PreventCommandIfParallelMode(psprintf("assoc.%s()", fn));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	call->connected = true;
	call->cxt = CurrentMemoryContext;
	become_owner(&call->caller, &call->caller_sec);

	/*
	 * assoc.namespaces before assoc.records: the order DROP EXTENSION locks
	 * them in, so that a write and a drop of the extension wait for each
	 * other instead of deadlocking.
	 */
	store_check_tables();
	read_namespace(call);
	rows_open_records(call);
	for (int round = 1;; round++)
	{
		int64 locked = call->incarnation;

		CHECK_FOR_INTERRUPTS();
		store_lock(STORE_LOCK_NAMESPACE, (uint64) locked, mode);
		read_namespace(call);
		if (call->incarnation == locked)
			break;
		if (round >= STORE_MAX_ROUNDS)
			store_error_rounds(call, "lock the namespace");
	}
}

/* store_open_locked for writers: the namespace lock in share mode. */
void
store_open(StoreCall *call, FunctionCallInfo fcinfo, const char *fn,
		   int ns_arg, int op_id_arg)
{
	store_open_locked(call, fcinfo, fn, ns_arg, op_id_arg, AccessShareLock);
}

/*
 * The error of a retry loop that went round more often than concurrent
 * writers can explain (STORE_MAX_ROUNDS): the extension's tables are not
 * what the store expects (see the README's limits), and retrying forever
 * would only hold the backend.
 */
void
store_error_rounds(StoreCall *call, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("assoc.%s could not %s in namespace \"%s\" after %d "
					"attempts",
					call->fn, what, call->ns_name, STORE_MAX_ROUNDS),
			 errdetail("Each attempt found the state changed by another "
					   "transaction, more often than concurrent writers "
					   "explain."),
			 errhint("Check that the tables of schema assoc are the "
					 "extension's own, unchanged.")));
}

/* End a store call: back to the caller, out of SPI. */
void
store_close(StoreCall *call)
{
	rows_close(call);
	SetUserIdAndSecContext(call->caller, call->caller_sec);
	if (call->connected && SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	call->connected = false;
}

PG_FUNCTION_INFO_V1(assoc_create_namespace);

/*
 * assoc.create_namespace(ns, owner DEFAULT NULL): a new namespace owned by
 * owner (NULL = the calling role).  The caller must be a member of the
 * owner role, as with CREATE SCHEMA ... AUTHORIZATION.
 */
Datum
assoc_create_namespace(PG_FUNCTION_ARGS)
{
	text  *ns;
	Oid    caller = GetUserId();
	Oid    owner = PG_ARGISNULL(1) ? caller : PG_GETARG_OID(1);
	Oid    save_user;
	int    save_sec;
	Datum  values[3];
	uint64 inserted;
	bytea *secret;

	ns = store_ns_arg(fcinfo, 0);
	if (!is_member_of_role(caller, owner))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("must be a member of role \"%s\" to create a "
							   "namespace it owns",
							   GetUserNameFromId(owner, false))));

	store_check_tables();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	become_owner(&save_user, &save_sec);
	values[0] = PointerGetDatum(ns);
	values[1] = ObjectIdGetDatum(owner);
	notify_new_secret(&secret);
	values[2] = PointerGetDatum(secret);
	inserted = store_exec(SP_NS_INSERT, values, NULL, false, 0);
	SetUserIdAndSecContext(save_user, save_sec);
	SPI_finish();

	if (inserted != 1)
		ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
						errmsg("namespace \"%s\" already exists",
							   text_to_cstring(ns))));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(assoc_drop_namespace);

/*
 * assoc.drop_namespace(ns): removes the namespace and all its records,
 * history, feed entries and op_id ledger, after waiting for its writers.
 */
Datum
assoc_drop_namespace(PG_FUNCTION_ARGS)
{
	StoreCall call;
	Datum     values[1];

	/* Wait for the namespace's writers and keep new ones out. */
	store_open_locked(&call, fcinfo, "drop_namespace", 0, -1,
					  AccessExclusiveLock);
	values[0] = PointerGetDatum(call.ns);
	/* The ledger before the feed, in the order assoc.prune() deletes. */
	store_exec(SP_NS_DELETE_OPS, values, NULL, false, 0);
	store_exec(SP_NS_DELETE_RECORDS, values, NULL, false, 0);
	store_exec(SP_NS_DELETE_HISTORY, values, NULL, false, 0);
	store_exec(SP_NS_DELETE_FEED, values, NULL, false, 0);
	store_exec(SP_NS_DELETE_PRUNED, values, NULL, false, 0);
	store_exec(SP_NS_DELETE, values, NULL, false, 0);
	store_close(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(assoc_alter_namespace);

/*
 * assoc.alter_namespace(ns, history_depth DEFAULT NULL): changes the
 * number of previous versions kept per record; lowering it trims the
 * history at once.  NULL leaves the setting as it is.
 */
Datum
assoc_alter_namespace(PG_FUNCTION_ARGS)
{
	StoreCall call;
	Datum     values[2];

	/*
	 * Exclusive, like a drop: the history is trimmed while no writer of
	 * the namespace runs, since writers trim it too and two trims deleting
	 * the same rows in different orders would deadlock.  Writers waiting
	 * meanwhile read the new depth once they have the lock.
	 */
	store_open_locked(&call, fcinfo, "alter_namespace", 0, -1,
					  AccessExclusiveLock);
	if (!PG_ARGISNULL(1))
	{
		int32 depth = PG_GETARG_INT32(1);

		if (depth < 0 || depth > 10000)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("invalid history_depth %d", depth),
							errdetail("history_depth is the number of "
									  "previous versions kept, 0 to 10000.")));
		values[0] = PointerGetDatum(call.ns);
		values[1] = Int32GetDatum(depth);
		store_exec(SP_NS_UPDATE_DEPTH, values, NULL, false, 0);
		store_exec(SP_NS_PRUNE_HISTORY, values, NULL, false, 0);
	}
	store_close(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(assoc_check_namespace);

/*
 * assoc.check_namespace(ns) and assoc.check_record(ns, id): the read
 * functions' guard.  Runs as the caller, so row-level security decides: a
 * namespace the caller may not use looks exactly like one that does not
 * exist (42704).  With a second argument, a NULL record id is 22004.
 */
Datum
assoc_check_namespace(PG_FUNCTION_ARGS)
{
	text  *ns;
	Datum  values[1];
	uint64 found;

	ns = store_ns_arg(fcinfo, 0);
	if (PG_NARGS() > 1)
		store_check_not_null(fcinfo, 1, "record id");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = PointerGetDatum(ns);
	found = store_exec(SP_NS_VISIBLE, values, NULL, true, 1);
	SPI_finish();
	if (found != 1)
		store_error_no_namespace(text_to_cstring(ns));
	PG_RETURN_VOID();
}

/*
 * Delete op_id ledger entries older than assoc.op_retention (never less
 * than assoc.feed_retention) and feed entries older than
 * assoc.feed_retention (feed.c), as the extension owner.  Returns how
 * many.  Called by assoc.prune() and by the notification worker.
 */
int64
store_prune(void)
{
	Oid   save_user;
	int   save_sec;
	Datum values[1];
	int64 deleted;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	become_owner(&save_user, &save_sec);
	values[0] =
		Float8GetDatum((double) Max(assoc_op_retention, assoc_feed_retention));
	deleted = store_exec(SP_OPS_PRUNE, values, NULL, false, 0);
	deleted += feed_prune();
	SetUserIdAndSecContext(save_user, save_sec);
	SPI_finish();
	return deleted;
}

PG_FUNCTION_INFO_V1(assoc_prune);

/*
 * assoc.prune(): store_prune for the extension owner (or a superuser): it
 * touches every namespace.  The notification worker runs it every minute
 * while it runs.
 */
Datum
assoc_prune(PG_FUNCTION_ARGS)
{
	if (!has_privs_of_role(GetUserId(), extension_owner()))
		ereport(
			ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to prune the op_id ledger and feed"),
			 errdetail("Only the extension owner may call assoc.prune().")));
	PG_RETURN_INT64(store_prune());
}
