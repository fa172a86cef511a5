/*
 * search.c
 *		assoc.search, its plan (assoc.search_explain) and the text search
 *		vector of a document (assoc.search_vector): the paged search of
 *		one namespace (README, "Search").
 *
 * A search reads its arguments as the calling role (order_by and fields
 * in search_args.c; the term becomes a tsquery in the configuration named
 * by assoc.search_config), checks that the caller is a member of the
 * namespace's owner (42704 otherwise, as for a namespace that does not
 * exist), and runs one fixed statement (SP_SEARCH, stmt.c) as the
 * extension owner with every value bound as a parameter.  It cannot run as
 * the caller under row-level security: the operators it needs (@@ on
 * tsquery and on jsonpath, jsonb comparison) are not LEAKPROOF, so the
 * planner would not use their indexes for a non-superuser.
 *
 * The statement is planned for each call's values (a custom plan): an
 * absent condition ($2 IS NULL ...) folds away, and the ones given match
 * the indexes on assoc.records (README, "Search").  It counts every match
 * and returns one page ordered by the matches' sort keys (search_key.c);
 * "next" is the token of the page's last row when another row follows,
 * and "after" continues from a token with a keyset condition, so a deep
 * page costs what the first one does.
 *
 * Layer: SQL entry points (README, "How the code is organised"); calls the
 * call frame, the statement executor and the libraries.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "catalog/index.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "tsearch/ts_type.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/jsonpath.h"
#include "utils/numeric.h"
#include "optimizer/plancat.h"
#include "utils/memutils.h"
#include "utils/selfuncs.h"
#include "utils/tuplestore.h"

#include "assockey.h"
#include "compat.h"
#include "frame.h"
#include "rowaccess.h"
#include "rules.h"
#include "search.h"
#include "search_args.h"
#include "search_key.h"
#include "stmt.h"

/* assoc.search_config: the text search configuration of a term. */
static char *search_config = NULL;

/* assoc.max_page_size: the largest page_size (superuser-only). */
static int max_page_size = 1000;

/* The planner hooks in place before the search statement's own. */
static get_relation_stats_hook_type prev_relation_stats_hook = NULL;
static get_index_stats_hook_type    prev_index_stats_hook = NULL;
static get_relation_info_hook_type  prev_relation_info_hook = NULL;

/*
 * Define the search settings (called by _PG_init).  The page limit is
 * superuser-only: it bounds what one call may return, as an operator
 * decides; the configuration is each session's to choose, since an index
 * serves only the configuration it was built with.
 */
void
assoc_search_init(void)
{
	DefineCustomStringVariable(
		"assoc.search_config",
		"Text search configuration of assoc.search's term.",
		"Resolved with search_path pg_catalog; qualify a configuration of "
		"another schema.  An index on assoc.search_vector(data, config) "
		"serves searches whose configuration is the same.",
		&search_config, "simple", PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable(
		"assoc.max_page_size", "Largest page_size of assoc.search.",
		"A larger page_size is rejected with SQLSTATE "
		"22023.",
		&max_page_size, 1000, 1, 1000000, PGC_SUSET, 0, NULL, NULL, NULL);
}

/* Arguments of assoc.search, in the order of its SQL signature. */
enum
{
	ARG_NS,
	ARG_TERM,
	ARG_PAGE,
	ARG_PAGE_SIZE,
	ARG_ORDER_BY,
	ARG_FIELDS,
	ARG_KEYS,
	ARG_FILTER,
	ARG_AFTER
};

/* One search's arguments, read and checked. */
typedef struct SearchArgs
{
	Oid             config; /* regconfig of the term */
	Datum           query;  /* its tsquery; 0 without a term */
	int32           page;
	int32           page_size;
	text           *order_by; /* NULL: by id */
	AssocSortOrder  order;
	bool            has_fields;
	AssocFields     fields;
	uint8           fingerprint[PG_SHA256_DIGEST_LENGTH];
	struct varlena *after_key; /* NULL without after */
} SearchArgs;

/* The 22023 error of a bad argument. */
static void
error_argument(const char *message)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("%s", message)));
}

/*
 * The configuration named by assoc.search_config, resolved with the
 * pinned search path (pg_catalog), so that a search path of the caller's
 * choosing cannot substitute a configuration of its own.
 */
static Oid
search_config_oid(void)
{
	int   path = compat_push_search_path();
	Datum oid =
		DirectFunctionCall1(regconfigin, CStringGetDatum(search_config));

	compat_pop_search_path(path);
	return DatumGetObjectId(oid);
}

/*
 * The tsquery of a term (websearch_to_tsquery syntax), 22023 when it has
 * no word to search for.  The parser's notice about such a query is
 * silenced: the error says it.
 */
static Datum
term_query(text *term, Oid config)
{
	int   nest = NewGUCNestLevel();
	Datum query;

	(void) set_config_option("client_min_messages", "warning", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	query =
		DirectFunctionCall2(websearch_to_tsquery_byid,
							ObjectIdGetDatum(config), PointerGetDatum(term));
	AtEOXact_GUC(true, nest);
	if (DatumGetTSQuery(query)->size == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("term has no word to search for"),
				 errdetail("In text search configuration \"%s\", the term "
						   "\"%s\" gives an empty query.",
						   search_config,
						   assoc_text_for_message(VARDATA_ANY(term),
												  VARSIZE_ANY_EXHDR(term)))));
	return query;
}

/*
 * Read and check the arguments that need no catalog of the store: page,
 * page_size, order_by, fields, and the term's query.  As the caller.
 */
static void
read_arguments(FunctionCallInfo fcinfo, SearchArgs *args)
{
	memset(args, 0, sizeof(SearchArgs));
	assoc_check_not_null(fcinfo, ARG_PAGE, "page");
	assoc_check_not_null(fcinfo, ARG_PAGE_SIZE, "page_size");
	args->page = PG_GETARG_INT32(ARG_PAGE);
	args->page_size = PG_GETARG_INT32(ARG_PAGE_SIZE);
	if (args->page < 1)
		error_argument("page must be at least 1");
	if (args->page_size < 1 || args->page_size > max_page_size)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("page_size must be between 1 and %d", max_page_size),
				 errhint("The limit is set by assoc.max_page_size.")));
	if (!PG_ARGISNULL(ARG_AFTER) && args->page != 1)
		error_argument("page must be 1 when after is given");

	if (!PG_ARGISNULL(ARG_ORDER_BY))
	{
		args->order_by = PG_GETARG_TEXT_PP(ARG_ORDER_BY);
		assoc_sort_order_parse(VARDATA_ANY(args->order_by),
							   VARSIZE_ANY_EXHDR(args->order_by),
							   &args->order);
	}
	if (!PG_ARGISNULL(ARG_FIELDS))
	{
		text *fields = PG_GETARG_TEXT_PP(ARG_FIELDS);

		assoc_fields_parse(VARDATA_ANY(fields), VARSIZE_ANY_EXHDR(fields),
						   &args->fields);
		args->has_fields = true;
	}
	if (!PG_ARGISNULL(ARG_TERM))
	{
		args->config = search_config_oid();
		args->query = term_query(PG_GETARG_TEXT_PP(ARG_TERM), args->config);
	}
}

/* Append one part of a fingerprint, with its length; NULL as its own. */
static void
fingerprint_part(StringInfo buf, const char *bytes, int len)
{
	int32 n = bytes ? len : -1;

	appendBinaryStringInfo(buf, (const char *) &n, sizeof(n));
	if (bytes)
		appendBinaryStringInfo(buf, bytes, len);
}

/* fingerprint_part of a Datum's text output. */
static void
fingerprint_text(StringInfo buf, FunctionCallInfo fcinfo, int argno,
				 PGFunction out)
{
	char *s = NULL;

	if (!PG_ARGISNULL(argno))
		s = DatumGetCString(DirectFunctionCall1(out, PG_GETARG_DATUM(argno)));
	fingerprint_part(buf, s, s ? strlen(s) : 0);
}

/*
 * The fingerprint of a search: a SHA-256 digest of the namespace (its
 * incarnation, so a token outlives neither a drop nor a re-creation), the
 * term with its configuration, the filter, the keys and the order, in
 * canonical forms.  A token carries it, and only a search with the same
 * fingerprint accepts the token.
 */
static void
compute_fingerprint(FunctionCallInfo fcinfo, AssocCall *call, SearchArgs *args)
{
	StringInfoData     buf;
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, (const char *) &call->incarnation,
						   sizeof(call->incarnation));
	fingerprint_part(&buf, VARDATA_ANY(call->ns), VARSIZE_ANY_EXHDR(call->ns));
	fingerprint_text(&buf, fcinfo, ARG_TERM, textout);
	if (!PG_ARGISNULL(ARG_TERM))
		appendBinaryStringInfo(&buf, (const char *) &args->config,
							   sizeof(Oid));
	fingerprint_text(&buf, fcinfo, ARG_FILTER, jsonpath_out);
	fingerprint_text(&buf, fcinfo, ARG_KEYS, assockey_out);
	assoc_sort_order_describe(&args->order, &buf);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) buf.data, buf.len) < 0 ||
		pg_cryptohash_final(ctx, args->fingerprint,
							sizeof(args->fingerprint)) < 0)
		elog(ERROR, "could not compute the fingerprint of a search");
	pg_cryptohash_free(ctx);
}

/*
 * Open the call as a reader, then finish reading the arguments that need
 * the namespace: the fingerprint and the after token.
 */
static void
open_search(FunctionCallInfo fcinfo, AssocCall *call, SearchArgs *args,
			const char *fn)
{
	read_arguments(fcinfo, args);
	assoc_call_open_read(call, fcinfo, fn, ARG_NS);
	compute_fingerprint(fcinfo, call, args);
	if (!PG_ARGISNULL(ARG_AFTER))
	{
		text *after = PG_GETARG_TEXT_PP(ARG_AFTER);

		args->after_key = assoc_search_token_decode(
			VARDATA_ANY(after), VARSIZE_ANY_EXHDR(after), &args->order,
			args->fingerprint, call->secret);
	}
}

/*
 * Statistics hook (get_relation_stats_hook) while the search statement is
 * planned: no statistics of assoc.records' data and keys columns.  The
 * statement is planned as the extension owner, for whom PostgreSQL would
 * run the caller's filter and term against the most common values and
 * histogram of those columns, sampled from every namespace, and the plan
 * it chose would tell the caller whether another application's documents
 * match.  Without them, estimates come from the caller's values alone
 * (and the namespace's share of the table).
 */
static bool
hide_document_stats(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum,
					VariableStatData *vardata)
{
	if (rte->relid == assoc_rows_records_oid() &&
		(attnum == REC_DATA || attnum == REC_KEYS || attnum <= 0))
	{
		vardata->statsTuple = NULL;
		return true;
	}
	return prev_relation_stats_hook &&
		   prev_relation_stats_hook(root, rte, attnum, vardata);
}

/*
 * Statistics hook (get_index_stats_hook) while the search statement is
 * planned: no statistics of index expressions on assoc.records (the term
 * index's assoc.search_vector(data, ...)), for the reason above.
 */
static bool
hide_index_stats(PlannerInfo *root, Oid indexOid, AttrNumber indexattnum,
				 VariableStatData *vardata)
{
	if (IndexGetRelation(indexOid, true) == assoc_rows_records_oid())
	{
		vardata->statsTuple = NULL;
		return true;
	}
	return prev_index_stats_hook &&
		   prev_index_stats_hook(root, indexOid, indexattnum, vardata);
}

/*
 * Relation hook (get_relation_info_hook) while the search statement is
 * planned: no extended statistics on assoc.records (CREATE STATISTICS on
 * its expressions would give the planner the same samples as above).
 */
static void
hide_extended_stats(PlannerInfo *root, Oid relid, bool inhparent,
					RelOptInfo *rel)
{
	if (prev_relation_info_hook)
		prev_relation_info_hook(root, relid, inhparent, rel);
	if (relid == assoc_rows_records_oid())
		rel->statlist = NIL;
}

/*
 * Put the hooks above in place, or take them away, around the search
 * statement.  Counted, so that a search run while another one's statement
 * is planned or run (no such path exists today) neither installs them
 * twice nor removes them early.
 */
static void
hide_stats(bool on)
{
	static int depth = 0;

	if (on && depth++ == 0)
	{
		prev_relation_stats_hook = get_relation_stats_hook;
		prev_index_stats_hook = get_index_stats_hook;
		prev_relation_info_hook = get_relation_info_hook;
		get_relation_stats_hook = hide_document_stats;
		get_index_stats_hook = hide_index_stats;
		get_relation_info_hook = hide_extended_stats;
	}
	else if (!on && --depth == 0)
	{
		get_relation_stats_hook = prev_relation_stats_hook;
		get_index_stats_hook = prev_index_stats_hook;
		get_relation_info_hook = prev_relation_info_hook;
	}
}

/*
 * Run the search statement, or its EXPLAIN, with the call's values, the
 * document statistics hidden from its planning (hide_stats).
 */
static void
run_statement(AssocStmtId id, FunctionCallInfo fcinfo, AssocCall *call,
			  SearchArgs *args)
{
	Datum values[10];
	char  nulls[10];

	memset(nulls, ' ', sizeof(nulls));
	values[0] = PointerGetDatum(call->ns);
	values[1] = args->query;
	nulls[1] = args->query ? ' ' : 'n';
	values[2] = ObjectIdGetDatum(args->config);
	nulls[2] = args->query ? ' ' : 'n';
	values[3] =
		PG_ARGISNULL(ARG_FILTER) ? (Datum) 0 : PG_GETARG_DATUM(ARG_FILTER);
	nulls[3] = PG_ARGISNULL(ARG_FILTER) ? 'n' : ' ';
	values[4] = PG_ARGISNULL(ARG_KEYS) ? (Datum) 0 : PG_GETARG_DATUM(ARG_KEYS);
	nulls[4] = PG_ARGISNULL(ARG_KEYS) ? 'n' : ' ';
	values[5] = PointerGetDatum(args->order_by);
	nulls[5] = args->order_by ? ' ' : 'n';
	values[6] = PointerGetDatum(args->after_key);
	nulls[6] = args->after_key ? ' ' : 'n';
	/* One row more than the page tells whether another page follows. */
	values[7] = Int64GetDatum((int64) args->page_size + 1);
	values[8] = Int64GetDatum((int64) (args->page - 1) * args->page_size);
	values[9] = Int64GetDatum(call->incarnation);

	hide_stats(true);
	PG_TRY();
	{
		/* EXPLAIN is a utility statement, which SPI runs only read-write. */
		(void) assoc_stmt_exec(id, values, nulls, id == SP_SEARCH, 0);
	}
	PG_FINALLY();
	{
		hide_stats(false);
	}
	PG_END_TRY();
}

/* Push a key of an object being built. */
static void
push_key(JsonbParseState **st, const char *key)
{
	assoc_jsonb_push_string(st, WJB_KEY, key, strlen(key));
}

/*
 * Push one page row as {"id", "version", "keys", "data"}, its data
 * projected onto fields when they are given.  The projection (and the
 * stored document, detoasted) is made in scratch memory, reset for every
 * row (a field copies the projection built so far), and only its result
 * is kept, in the answer's memory.
 */
static void
push_item(JsonbParseState **st, SearchArgs *args, HeapTuple tuple,
		  TupleDesc desc, MemoryContext scratch)
{
	bool   isnull;
	text  *id = DatumGetTextPP(SPI_getbinval(tuple, desc, 4, &isnull));
	Datum  stored = SPI_getbinval(tuple, desc, 7, &isnull);
	Jsonb *data;

	if (args->has_fields)
	{
		MemoryContext answer = MemoryContextSwitchTo(scratch);
		Jsonb        *projected =
			assoc_fields_project(&args->fields, DatumGetJsonbP(stored));

		MemoryContextSwitchTo(answer);
		data = palloc(VARSIZE(projected));
		memcpy(data, projected, VARSIZE(projected));
		MemoryContextReset(scratch);
	}
	else
		data = DatumGetJsonbP(stored);
	(void) pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	push_key(st, "id");
	assoc_jsonb_push_string(st, WJB_VALUE, VARDATA_ANY(id),
							VARSIZE_ANY_EXHDR(id));
	push_key(st, "version");
	assoc_jsonb_push_int8(
		st, WJB_VALUE, DatumGetInt64(SPI_getbinval(tuple, desc, 5, &isnull)));
	push_key(st, "keys");
	assoc_ak_push_json(st, SPI_getbinval(tuple, desc, 6, &isnull));
	push_key(st, "data");
	assoc_jsonb_push_jsonb(st, WJB_VALUE, data);
	(void) pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

/*
 * The answer {"page", "pageSize", "count", "data", "next"} from the
 * statement's rows: the first columns of every row are the count and
 * whether the statement's snapshot sees the namespace the caller was
 * checked against (42704 if not); a row without an id is the only row of
 * an empty page; a row past page_size means another page follows,
 * continuing after the last row shown.
 */
static Jsonb *
build_answer(AssocCall *call, SearchArgs *args)
{
	JsonbParseState *st = NULL;
	TupleDesc        desc = SPI_tuptable->tupdesc;
	uint64           nrows = SPI_processed;
	bool             isnull;
	int64            count;
	uint64           shown = 0;
	char            *next = NULL;
	MemoryContext    scratch;

	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], desc, 2, &isnull)))
		assoc_error_no_namespace(call->ns_name);
	count =
		DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], desc, 1, &isnull));
	scratch = AllocSetContextCreate(CurrentMemoryContext, "assoc.search row",
									ALLOCSET_DEFAULT_SIZES);
	(void) pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	push_key(&st, "page");
	assoc_jsonb_push_int8(&st, WJB_VALUE, args->page);
	push_key(&st, "pageSize");
	assoc_jsonb_push_int8(&st, WJB_VALUE, args->page_size);
	push_key(&st, "count");
	assoc_jsonb_push_int8(&st, WJB_VALUE, count);
	push_key(&st, "data");
	(void) pushJsonbValue(&st, WJB_BEGIN_ARRAY, NULL);
	for (uint64 i = 0; i < nrows && i < (uint64) args->page_size; i++)
	{
		HeapTuple tuple = SPI_tuptable->vals[i];

		CHECK_FOR_INTERRUPTS();
		(void) SPI_getbinval(tuple, desc, 4, &isnull);
		if (isnull)
			break;
		push_item(&st, args, tuple, desc, scratch);
		shown++;
	}
	(void) pushJsonbValue(&st, WJB_END_ARRAY, NULL);
	if (nrows > shown && shown > 0)
	{
		struct varlena *key = (struct varlena *) PG_DETOAST_DATUM(
			SPI_getbinval(SPI_tuptable->vals[shown - 1], desc, 3, &isnull));

		next = assoc_search_token_encode(key, args->fingerprint, call->secret);
	}
	push_key(&st, "next");
	assoc_jsonb_push_string(&st, WJB_VALUE, next, next ? strlen(next) : 0);
	MemoryContextDelete(scratch);
	return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, NULL));
}

PG_FUNCTION_INFO_V1(assoc_search);
/*
 * assoc.search(ns, term, page, page_size, order_by, fields, keys, filter,
 * after): one page of the namespace's matching records (file header).
 */
Datum
assoc_search(PG_FUNCTION_ARGS)
{
	MemoryContext caller_cxt = CurrentMemoryContext;
	AssocCall     call;
	SearchArgs    args;
	Jsonb        *answer;
	Jsonb        *result;

	open_search(fcinfo, &call, &args, "search");
	run_statement(SP_SEARCH, fcinfo, &call, &args);
	answer = build_answer(&call, &args);
	result = MemoryContextAlloc(caller_cxt, VARSIZE(answer));
	memcpy(result, answer, VARSIZE(answer));
	assoc_call_close(&call);
	PG_RETURN_JSONB_P(result);
}

PG_FUNCTION_INFO_V1(assoc_search_explain);
/*
 * assoc.search_explain(same arguments): the plan of the statement that
 * assoc.search runs for these arguments, as EXPLAIN (COSTS OFF) shows it,
 * for the same callers.  Costs are left out: they are estimates from the
 * whole table, other namespaces included.
 */
Datum
assoc_search_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AssocCall      call;
	SearchArgs     args;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	open_search(fcinfo, &call, &args, "search_explain");
	run_statement(SP_SEARCH_EXPLAIN, fcinfo, &call, &args);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool  isnull;
		Datum line = SPI_getbinval(SPI_tuptable->vals[i],
								   SPI_tuptable->tupdesc, 1, &isnull);

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &line,
							 &isnull);
	}
	assoc_call_close(&call);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(assoc_search_vector);
/*
 * assoc.search_vector(data, config): the text search vector of every
 * string value of a document (object values and array elements at any
 * depth, not keys), as jsonb_to_tsvector(config, data, '"string"') makes
 * it: separate values do not form phrases together.  IMMUTABLE, for an
 * expression index; the flag document is made once per expression.
 */
Datum
assoc_search_vector(PG_FUNCTION_ARGS)
{
	Datum flags = PointerGetDatum(fcinfo->flinfo->fn_extra);

	if (fcinfo->flinfo->fn_extra == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		flags = DirectFunctionCall1(jsonb_in, CStringGetDatum("\"string\""));
		fcinfo->flinfo->fn_extra = DatumGetPointer(flags);
		MemoryContextSwitchTo(old);
	}
	return DirectFunctionCall3(jsonb_to_tsvector_byid, PG_GETARG_DATUM(1),
							   PG_GETARG_DATUM(0), flags);
}
