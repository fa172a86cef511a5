/*
 * stmt.c
 *		The statement executor: the table of the store's statements, each
 *		prepared once per backend, run with search_path pinned.
 *
 * Every statement is schema-qualified and names its operators
 * (OPERATOR(pg_catalog.=)); assoc_stmt_exec also pins search_path to
 * pg_catalog for the run (README, "Isolation between applications").  The plans keep the OID of
 * assoc.assockey; a pg_type change frees them (assoc_stmt_assockey_type).
 *
 * Layer: the call frame and statement executor (README, "How the code is
 * organised"); calls PostgreSQL and the shared rules (rules.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "compat.h"
#include "rules.h"
#include "stmt.h"

/* One statement: its text, argument types and the saved plan. */
typedef struct StmtPlan
{
	const char *sql;
	int         nargs;
	Oid         argtypes[10]; /* AK, SK: the extension's types */
	SPIPlanPtr  plan;
	bool        custom; /* planned for each execution's values */
} StmtPlan;

/*
 * Placeholders for the extension's own types, whose OIDs are known only
 * at run time: assoc.assockey and assoc.search_key.  Neither is the OID
 * of any type (pg_type's OIDs start at 16).
 */
#define AK InvalidOid
#define SK ((Oid) 1)

/*
 * The search (search.c): every match of the namespace's conditions, each
 * with its sort key, counted; one page of them, after a key or at an
 * offset; and the page's records.  A condition whose value is NULL folds
 * away in the plan made for the call's values (the statement is planned
 * for each execution), and the rest match the indexes of assoc.records.
 * An empty keys value matches nothing, as in read_by.  The page's rows
 * are read again by their tuple ids, which the statement's one snapshot
 * keeps valid, rather than by another descent of the primary key.
 * "visible" tells
 * whether the statement's snapshot sees the namespace with the
 * incarnation ($10) whose owner the caller was checked against: a
 * snapshot older than that check may see another creation of the name.
 */
#define SEARCH_SQL                                                            \
	"WITH m AS MATERIALIZED ("                                                \
	"SELECT r.ctid AS t, assoc.search_key(r.data, r.id, r.version, "          \
	"r.created_at, r.updated_at, $6) AS k FROM assoc.records AS r "           \
	"WHERE r.ns OPERATOR(pg_catalog.=) $1 "                                   \
	"AND ($2 IS NULL OR assoc.search_vector(r.data, $3) "                     \
	"OPERATOR(pg_catalog.@@) $2) "                                            \
	"AND ($4 IS NULL OR r.data OPERATOR(pg_catalog.@@) $4) "                  \
	"AND ($5 IS NULL OR (assoc.size($5) OPERATOR(pg_catalog.>) 0 "            \
	"AND r.keys OPERATOR(assoc.@>) $5))), "                                   \
	"p AS (SELECT m.t, m.k FROM m "                                           \
	"WHERE $7 IS NULL OR m.k OPERATOR(assoc.>) $7 "                           \
	"ORDER BY m.k USING OPERATOR(assoc.<) LIMIT $8 OFFSET $9) "               \
	"SELECT c.n, c.visible, p.k, r.id, r.version, r.keys, r.data "            \
	"FROM (SELECT pg_catalog.count(*) AS n, EXISTS (SELECT FROM "             \
	"assoc.namespaces AS s WHERE s.ns OPERATOR(pg_catalog.=) $1 "             \
	"AND s.incarnation OPERATOR(pg_catalog.=) $10) AS visible FROM m) AS c "  \
	"LEFT JOIN (p JOIN assoc.records AS r ON r.ctid OPERATOR(pg_catalog.=) "  \
	"p.t) ON true ORDER BY p.k USING OPERATOR(assoc.<)"
#define SEARCH_TYPES                                                          \
	{                                                                         \
		TEXTOID, TSQUERYOID, REGCONFIGOID, JSONPATHOID, AK, TEXTOID, SK,      \
			INT8OID, INT8OID, INT8OID                                         \
	}

/*
 * The feed entries of assoc.changes (feed.c) after a position and below
 * the delivery cutoff, whichever columns a statement reads.
 */
#define FEED_CHANGES_FROM                                                     \
	"FROM assoc.feed WHERE ns OPERATOR(pg_catalog.=) $1 "                     \
	"AND (xid, seq) OPERATOR(pg_catalog.>) ($2, $3) "                         \
	"AND xid OPERATOR(pg_catalog.<) $4 ORDER BY xid, seq LIMIT $5"

static StmtPlan plans[SP_COUNT] = {
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
	[SP_NS_FENCE] = {"UPDATE assoc.namespaces SET fenced = $2 "
					 "WHERE ns OPERATOR(pg_catalog.=) $1",
					 2,
					 {TEXTOID, BOOLOID}},
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
	[SP_REC_CONTAINING_LOCK] =
		{"SELECT ctid, r.* FROM assoc.records AS r "
		 "WHERE r.ns OPERATOR(pg_catalog.=) $1 "
		 "AND r.keys OPERATOR(assoc.@>) $2 ORDER BY r.id FOR UPDATE",
		 2,
		 {TEXTOID, AK}},
	[SP_FEED_NS] = {"SELECT n.incarnation, coalesce(p.xid, '0'), "
					"coalesce(p.seq, 0) "
					"FROM assoc.namespaces AS n "
					"LEFT JOIN assoc.feed_pruned AS p "
					"ON p.ns OPERATOR(pg_catalog.=) n.ns "
					"WHERE n.ns OPERATOR(pg_catalog.=) $1",
					1,
					{TEXTOID}},
	/* The last position to announce (assoc.wait_notified). */
	[SP_FEED_LAST_NOTIFY] = {"SELECT xid FROM assoc.feed WHERE notify "
							 "ORDER BY xid DESC LIMIT 1",
							 0,
							 {InvalidOid}},
	[SP_FEED_CHANGES] = {"SELECT xid, seq, id, version, op, paths, at, "
						 "origin " FEED_CHANGES_FROM,
						 5,
						 {TEXTOID, XID8OID, INT8OID, XID8OID, INT8OID}},
	/* The same on 0.1.0's feed, which has no origin, until the update. */
	[SP_FEED_CHANGES_01] = {"SELECT xid, seq, id, version, op, paths, "
							"at " FEED_CHANGES_FROM,
							5,
							{TEXTOID, XID8OID, INT8OID, XID8OID, INT8OID}},
	[SP_FEED_PRUNE_NAMESPACES] = {"SELECT ns FROM assoc.namespaces "
								  "ORDER BY ns",
								  0,
								  {InvalidOid}},
	[SP_FEED_FIRST_KEPT] =
		{"SELECT xid, seq FROM assoc.feed WHERE ns OPERATOR(pg_catalog.=) $1 "
		 "AND (at OPERATOR(pg_catalog.>=) $2 OR xid OPERATOR(pg_catalog.>=) "
		 "$3) "
		 "ORDER BY xid, seq LIMIT 1",
		 3,
		 {TEXTOID, TIMESTAMPTZOID, XID8OID}},
	[SP_FEED_PRUNE] =
		{"WITH d AS (DELETE FROM assoc.feed WHERE ns OPERATOR(pg_catalog.=) "
		 "$1 "
		 "AND (xid, seq) OPERATOR(pg_catalog.<) ($2, $3) "
		 "AND at OPERATOR(pg_catalog.<) $4 "
		 "AND xid OPERATOR(pg_catalog.<) $5 "
		 "RETURNING xid, seq) "
		 "SELECT pg_catalog.count(*), "
		 "(SELECT xid FROM d ORDER BY xid DESC, seq DESC LIMIT 1), "
		 "(SELECT seq FROM d ORDER BY xid DESC, seq DESC LIMIT 1) FROM d",
		 5,
		 {TEXTOID, XID8OID, INT8OID, TIMESTAMPTZOID, XID8OID}},
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
	[SP_SEARCH] = {SEARCH_SQL, 10, SEARCH_TYPES, NULL, true},
	[SP_SEARCH_EXPLAIN] = {"EXPLAIN (COSTS OFF) " SEARCH_SQL, 10, SEARCH_TYPES,
						   NULL, true},
};

static Oid  assockey_oid = InvalidOid; /* the type the plans were made for */
static bool assockey_stale = false;
static bool callback_registered = false;

/*
 * Syscache callback on pg_type: the assockey type may have been dropped
 * and created again (with the extension).  Only note it: the callback can
 * run while one of the saved plans is being executed, so the plans are
 * freed later, by assoc_stmt_assockey_type, when no statement of the store is
 * running.
 */
static void
stmt_type_changed(Datum arg, int cacheid, uint32 hashvalue)
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
 * statement of the store runs (assoc_stmt_plan).
 */
Oid
assoc_stmt_assockey_type(void)
{
	if (!OidIsValid(assockey_oid) || assockey_stale)
	{
		Oid nsp = get_namespace_oid("assoc", true);
		Oid current = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									  CStringGetDatum("assockey"),
									  ObjectIdGetDatum(nsp));

		if (!OidIsValid(current))
			assoc_error_not_installed("type assoc.assockey");
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
			CacheRegisterSyscacheCallback(TYPEOID, stmt_type_changed,
										  (Datum) 0);
			callback_registered = true;
		}
	}
	return assockey_oid;
}

/*
 * The OID of assoc.search_key, for the search statements.  Looked up when
 * they are prepared: a database still at 0.1.0 has no such type, and its
 * other statements must not need it.  A new type means a new extension,
 * whose assockey is new too, so the plans are freed with assockey's.
 */
static Oid
stmt_search_key_type(void)
{
	Oid nsp = get_namespace_oid("assoc", true);
	Oid oid =
		GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
						CStringGetDatum("search_key"), ObjectIdGetDatum(nsp));

	if (!OidIsValid(oid))
		assoc_error_not_installed("type assoc.search_key");
	return oid;
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
 * ANALYZE, by then with statistics.)  A statement marked custom (the
 * search) is instead planned at each execution for its values, with the
 * session's planner settings.  Must be called inside SPI.
 */
SPIPlanPtr
assoc_stmt_plan(AssocStmtId id)
{
	StmtPlan *p = &plans[id];

	(void) assoc_stmt_assockey_type(); /* frees the plans of a dropped type */
	if (p->plan == NULL)
	{
		Oid        types[lengthof(p->argtypes)];
		SPIPlanPtr plan;
		int        nest = NewGUCNestLevel();
		int        path;

		for (int i = 0; i < p->nargs; i++)
			types[i] = p->argtypes[i] == AK   ? assoc_stmt_assockey_type()
					   : p->argtypes[i] == SK ? stmt_search_key_type()
											  : p->argtypes[i];
		if (!p->custom)
			(void) set_config_option("enable_seqscan", "off", PGC_USERSET,
									 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
									 false);
		path = compat_push_search_path();
		plan = SPI_prepare_cursor(p->sql, p->nargs, types,
								  p->custom ? CURSOR_OPT_CUSTOM_PLAN
											: CURSOR_OPT_GENERIC_PLAN);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", p->sql,
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		if (!p->custom)
		{
			CachedPlan *cplan = SPI_plan_get_cached_plan(plan);

			ReleaseCachedPlan(cplan, CurrentResourceOwner);
		}
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
assoc_stmt_exec_snapshot(AssocStmtId id, Datum *values, const char *nulls,
						 bool read_only, long count, Snapshot snapshot)
{
	SPIPlanPtr plan = assoc_stmt_plan(id);
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

/* assoc_stmt_exec_snapshot on the current snapshot. */
uint64
assoc_stmt_exec(AssocStmtId id, Datum *values, const char *nulls,
				bool read_only, long count)
{
	return assoc_stmt_exec_snapshot(id, values, nulls, read_only, count,
									InvalidSnapshot);
}

/*
 * Open a store statement as an SPI cursor, for statements whose rows are
 * read a batch at a time (assoc_stmt_cursor_fetch) instead of all at once into
 * one SPI result.  Opened, like every execution, under the pinned search
 * path: opening revalidates the saved plan, and a plan revalidated under
 * the caller's path would be analysed again under it.  A SELECT runs as
 * it is fetched; a DELETE ... RETURNING runs whole at the first fetch and
 * keeps its rows in the portal's tuplestore, which spills to disk past
 * work_mem.  The caller closes it with SPI_cursor_close.
 */
Portal
assoc_stmt_cursor_open(AssocStmtId id, Datum *values, const char *nulls,
					   bool read_only)
{
	SPIPlanPtr plan = assoc_stmt_plan(id);
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
assoc_stmt_cursor_fetch(Portal portal, long count)
{
	int path;

	path = compat_push_search_path();
	SPI_cursor_fetch(portal, true, count);
	compat_pop_search_path(path);
	return SPI_processed;
}
