/*
 * store.c
 *		Records: versions, atomic writes, no-op detection, feed entries and
 *		history (SPEC §4).
 *
 * Every write to one record follows the same path (write_record):
 *
 *	read	the newest committed version of (ns, id) (rowaccess.c)
 *	check	expected_version against it (40001 otherwise)
 *	compute	the new data and keys (a patch batch, a keys change, a version
 *			from history)
 *	store	nothing when equal to the current state (a no-op); otherwise
 *			INSERT (version 1) or UPDATE (version + 1), one feed entry, and
 *			a history row when the namespace keeps history
 *
 * The UPDATE succeeds only if the version read is still the newest; if a
 * concurrent writer changed the row meanwhile (after waiting for it), the
 * loop reads again and computes on the newer version, so no update is
 * lost.  A missing record that two callers create at once: both see
 * nothing, one INSERT wins, the other's ON CONFLICT DO NOTHING waits for
 * it and the loop starts over, now finding the row.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "compat.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/itemptr.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"

#include "feed.h"
#include "patch.h"
#include "store.h"

/* The assockey set operations, from assockey.c. */
extern Datum assockey_union(PG_FUNCTION_ARGS);
extern Datum assockey_minus(PG_FUNCTION_ARGS);
extern Datum assockey_size(PG_FUNCTION_ARGS);

/* What a write does to a record. */
typedef enum ChangeKind
{
	CHANGE_PATCH,   /* apply a batch to the data */
	CHANGE_LINK,    /* add keys */
	CHANGE_UNLINK,  /* remove keys */
	CHANGE_ROLLBACK /* restore a kept version */
} ChangeKind;

typedef struct Change
{
	ChangeKind  kind;
	const char *op;         /* the feed's op: set, erase, patch, ... */
	AssocBatch  batch;      /* CHANGE_PATCH */
	Datum       paths;      /* text[] of touched paths, or 0 = NULL */
	Datum       keys;       /* CHANGE_LINK, CHANGE_UNLINK */
	int64       to_version; /* CHANGE_ROLLBACK */
	bool        must_exist; /* P0002 when the record is missing */
} Change;

/* The empty object a new record's data starts from. */
static Jsonb *
empty_object(void)
{
	JsonbValue v;

	v.type = jbvObject;
	v.val.object.nPairs = 0;
	v.val.object.pairs = NULL;
	return JsonbValueToJsonb(&v);
}

/* The empty assockey, '{}'. */
static Datum
empty_keys(void)
{
	Oid in;
	Oid ioparam;

	getTypeInputInfo(store_assockey_type(), &in, &ioparam);
	return OidInputFunctionCall(in, "{}", ioparam, -1);
}

/* Raise 22023 when a value written contains a forbidden key. */
static void
check_value(Jsonb *value)
{
	const char *key;
	int         keylen;

	if (assoc_jsonb_has_forbidden_keys(value, &key, &keylen))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("value contains forbidden key \"%s\"",
							   pnstrdup(key, keylen)),
						errdetail("The keys __proto__, constructor and "
								  "prototype may not be stored.")));
}

/* Raise 22023 unless a whole-record value is an object or an array. */
static void
check_whole_value(Jsonb *value, const char *what)
{
	if (JB_ROOT_IS_SCALAR(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for %s: expected an object or an array",
						what)));
	check_value(value);
}

/* The record argument at argno: not NULL, 1 to 1024 bytes. */
static text *
id_arg(FunctionCallInfo fcinfo, int argno)
{
	text *id;

	store_check_not_null(fcinfo, argno, "record id");
	id = PG_GETARG_TEXT_PP(argno);
	store_check_id(id);
	return id;
}

/* The error for a record that must exist and does not. */
static void
error_no_record(StoreCall *call, text *id)
{
	ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
					errmsg("record \"%s\" does not exist in namespace \"%s\"",
						   text_to_cstring(id), call->ns_name)));
}

/* 40001 unless the record's version is the expected one (argument argno). */
static void
check_expected(StoreCall *call, text *id, const Record *rec, int argno)
{
	FunctionCallInfo fcinfo = call->fcinfo;
	int64            expected;

	if (argno < 0 || PG_ARGISNULL(argno))
		return;
	expected = PG_GETARG_INT64(argno);
	if (expected != rec->version)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("version conflict on record \"%s\" in namespace "
						"\"%s\": expected version " INT64_FORMAT
						", current version " INT64_FORMAT,
						text_to_cstring(id), call->ns_name, expected,
						rec->version),
				 errhint("Read the record again and retry the write.")));
}

/* Are two detoasted assockeys equal?  Canonical form: bytewise. */
static bool
keys_equal(Datum a, Datum b)
{
	return VARSIZE_ANY(DatumGetPointer(a)) ==
			   VARSIZE_ANY(DatumGetPointer(b)) &&
		   memcmp(DatumGetPointer(a), DatumGetPointer(b),
				  VARSIZE_ANY(DatumGetPointer(a))) == 0;
}

/*
 * Keep a new version in the history when the namespace keeps history, and
 * drop the versions that fall out of its depth.
 */
static void
history_append(StoreCall *call, text *id, int64 version, Jsonb *data,
			   Datum keys, const char *op)
{
	Datum values[6];

	if (call->history_depth <= 0)
		return;
	values[0] = PointerGetDatum(call->ns);
	values[1] = PointerGetDatum(id);
	values[2] = Int64GetDatum(version);
	values[3] = JsonbPGetDatum(data);
	values[4] = keys;
	values[5] = CStringGetTextDatum(op);
	store_exec(SP_HIST_INSERT, values, NULL, false, 0);
	values[2] = Int64GetDatum(version - call->history_depth);
	store_exec(SP_HIST_TRIM, values, NULL, false, 0);
}

/*
 * Are two documents equal as jsonb?  Equal bytes settle it at once (the
 * patch engine encodes as PostgreSQL does); otherwise jsonb's own
 * comparison decides, since equal numbers can differ in scale.
 */
static bool
jsonb_same(Jsonb *a, Jsonb *b)
{
	if (VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0)
		return true;
	return DatumGetBool(
		DirectFunctionCall2(jsonb_eq, JsonbPGetDatum(a), JsonbPGetDatum(b)));
}

/*
 * Store the new state of a locked record.  Returns the version after the
 * write: the current one for a no-op.  *conflict is set when an INSERT
 * met a row created concurrently; the caller then locks again.  *row, if
 * given, receives the written row (r.*) described by *desc, or NULL for a
 * no-op.
 */
static int64
record_store(StoreCall *call, text *id, const Record *rec, Jsonb *data,
			 Datum keys, const char *op, Datum paths, bool *conflict,
			 HeapTuple *row, TupleDesc *desc)
{
	Datum values[4];
	int64 version;

	*conflict = false;
	if (row)
		*row = NULL;
	if (rec->exists && keys_equal(rec->keys, keys) &&
		jsonb_same(rec->data, data))
		return rec->version;

	if (!rec->exists)
	{
		values[0] = PointerGetDatum(call->ns);
		values[1] = PointerGetDatum(id);
		values[2] = keys;
		values[3] = JsonbPGetDatum(data);
		if (store_exec(row ? SP_REC_INSERT_ROW : SP_REC_INSERT, values, NULL,
					   false, 0) == 0)
		{
			*conflict = true;
			return 0;
		}
		version = 1;
	}
	else if (row == NULL)
	{
		/* Read by rows_fetch_record: written through the table AM. */
		version = rec->version + 1;
		if (!rows_update_record(call, rec, data, keys, version))
		{
			*conflict = true;
			return 0;
		}
	}
	else
	{
		version = rec->version + 1;
		values[0] = PointerGetDatum(&rec->tid);
		values[1] = JsonbPGetDatum(data);
		values[2] = keys;
		values[3] = Int64GetDatum(version);
		if (store_exec(SP_REC_UPDATE_ROW, values, NULL, false, 0) != 1)
			elog(ERROR, "locked record \"%s\" was not updated",
				 text_to_cstring(id));
	}
	if (row)
	{
		*row = SPI_tuptable->vals[0];
		*desc = SPI_tuptable->tupdesc;
	}
	feed_append(call, id, version, op, paths);
	history_append(call, id, version, data, keys, op);
	return version;
}

/*
 * Compute a record's next data and keys for a change.  Returns false when
 * the change leaves the record as it is without looking further (rollback
 * to the current version).
 */
static bool
compute_change(StoreCall *call, text *id, const Record *rec,
			   const Change *change, Jsonb **data, Datum *keys)
{
	Datum values[3];
	bool  isnull;

	*data = rec->exists ? rec->data : empty_object();
	*keys = rec->exists ? rec->keys : empty_keys();
	switch (change->kind)
	{
		case CHANGE_PATCH:
			*data = assoc_batch_apply(*data, &change->batch);
			break;
		case CHANGE_LINK:
			*keys = DirectFunctionCall2(assockey_union, *keys, change->keys);
			break;
		case CHANGE_UNLINK:
			*keys = DirectFunctionCall2(assockey_minus, *keys, change->keys);
			break;
		case CHANGE_ROLLBACK:
			if (change->to_version == rec->version)
				return false;
			values[0] = PointerGetDatum(call->ns);
			values[1] = PointerGetDatum(id);
			values[2] = Int64GetDatum(change->to_version);
			if (store_exec(SP_HIST_GET, values, NULL, false, 1) != 1)
				ereport(
					ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg(
						 "version " INT64_FORMAT
						 " of record \"%s\" in namespace \"%s\" is not kept",
						 change->to_version, text_to_cstring(id),
						 call->ns_name),
					 errdetail("The current version is " INT64_FORMAT
							   "; the namespace keeps %d previous versions.",
							   rec->version, call->history_depth)));
			*data = DatumGetJsonbP(SPI_getbinval(
				SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			*keys = PointerGetDatum(PG_DETOAST_DATUM(SPI_getbinval(
				SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)));
			break;
	}
	return true;
}

/*
 * The one write path for a record addressed by id (argument 1): set,
 * erase, set_multi, link, unlink and rollback.  Returns the version after
 * the write.  A round that meets a concurrent change starts over on the
 * newer version (file header), in a memory context reset every round and
 * at most STORE_MAX_ROUNDS times.
 */
static int64
write_record(FunctionCallInfo fcinfo, const char *fn, const Change *change,
			 int expected_arg, int op_id_arg)
{
	StoreCall     call;
	text         *id = id_arg(fcinfo, 1);
	Jsonb        *prior;
	int64         version;
	MemoryContext round_cxt;

	store_open(&call, fcinfo, fn, 0, op_id_arg);
	if (ledger_claim(&call, &prior))
	{
		store_close(&call);
		return DatumGetInt64(
			DirectFunctionCall1(jsonb_int8, JsonbPGetDatum(prior)));
	}

	round_cxt = AllocSetContextCreate(
		CurrentMemoryContext, "pg_assoc write round", ALLOCSET_DEFAULT_SIZES);
	for (int round = 1;; round++)
	{
		Record        rec;
		Jsonb        *data;
		Datum         keys;
		bool          conflict = false;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		if (round > STORE_MAX_ROUNDS)
			store_error_rounds(
				&call, psprintf("write record \"%s\"", text_to_cstring(id)));
		MemoryContextReset(round_cxt);
		old = MemoryContextSwitchTo(round_cxt);
		rows_fetch_record(&call, id, &rec, false);
		if (change->must_exist && !rec.exists)
			error_no_record(&call, id);
		check_expected(&call, id, &rec, expected_arg);
		if (!compute_change(&call, id, &rec, change, &data, &keys))
			version = rec.version;
		else
			version = record_store(&call, id, &rec, data, keys, change->op,
								   change->paths, &conflict, NULL, NULL);
		MemoryContextSwitchTo(old);
		if (!conflict)
			break;
	}
	MemoryContextDelete(round_cxt);

	ledger_finish(&call, jsonb_from_int8(version));
	store_close(&call);
	return version;
}

/* A text[] of the given paths, for the feed. */
static Datum
paths_array(const AssocBatch *batch)
{
	Datum *elems = palloc(sizeof(Datum) * batch->nentries);

	for (int i = 0; i < batch->nentries; i++)
		elems[i] = PointerGetDatum(cstring_to_text_with_len(
			batch->entries[i].path.text, batch->entries[i].path.textlen));
	return PointerGetDatum(construct_array(elems, batch->nentries, TEXTOID, -1,
										   false, TYPALIGN_INT));
}

/* One set or erase entry at the path argument (NULL = whole data). */
static void
single_entry(FunctionCallInfo fcinfo, int path_arg, Jsonb *value,
			 Change *change)
{
	AssocPatchEntry *entry = palloc0(sizeof(AssocPatchEntry));

	change->kind = CHANGE_PATCH;
	change->batch.nentries = 1;
	change->batch.entries = entry;
	entry->erase = (value == NULL);
	if (value != NULL)
		assoc_value_from_jsonb(value, &entry->value);
	if (PG_ARGISNULL(path_arg))
	{
		change->paths = (Datum) 0;
		return;
	}
	assoc_path_parse_or_error(VARDATA_ANY(PG_GETARG_TEXT_PP(path_arg)),
							  VARSIZE_ANY_EXHDR(PG_GETARG_TEXT_PP(path_arg)),
							  NULL, &entry->path);
	change->paths = paths_array(&change->batch);
}

PG_FUNCTION_INFO_V1(assoc_set);

/*
 * assoc.set(ns, id, path, value, expected_version, op_id) → bigint: value
 * at path (NULL path = the whole data, an object or array; NULL value =
 * JSON null), creating the record if missing.
 */
Datum
assoc_set(PG_FUNCTION_ARGS)
{
	Change change = {0};
	Jsonb *value;

	change.op = "set";
	if (PG_ARGISNULL(3))
		value = DatumGetJsonbP(
			DirectFunctionCall1(jsonb_in, CStringGetDatum("null")));
	else
		value = PG_GETARG_JSONB_P(3);
	if (PG_ARGISNULL(2))
		check_whole_value(value, "the whole record");
	else
		check_value(value);
	single_entry(fcinfo, 2, value, &change);
	PG_RETURN_INT64(write_record(fcinfo, "set", &change, 4, 5));
}

PG_FUNCTION_INFO_V1(assoc_erase);

/*
 * assoc.erase(ns, id, path, expected_version, op_id) → bigint: the path
 * erased, creating the record if missing.
 */
Datum
assoc_erase(PG_FUNCTION_ARGS)
{
	Change change = {0};

	change.op = "erase";
	store_check_not_null(fcinfo, 2, "path");
	single_entry(fcinfo, 2, NULL, &change);
	PG_RETURN_INT64(write_record(fcinfo, "erase", &change, 3, 4));
}

PG_FUNCTION_INFO_V1(assoc_set_multi);

/*
 * assoc.set_multi(ns, id, patches, expected_version, op_id) → bigint: a
 * whole batch applied atomically with one version bump.
 */
Datum
assoc_set_multi(PG_FUNCTION_ARGS)
{
	Change change = {0};

	change.kind = CHANGE_PATCH;
	change.op = "patch";
	store_check_not_null(fcinfo, 2, "patches");
	assoc_batch_from_jsonb(PG_GETARG_JSONB_P(2), &change.batch);
	for (int i = 0; i < change.batch.nentries; i++)
	{
		const AssocValue *v = &change.batch.entries[i].value;

		if (!change.batch.entries[i].erase && v->type == JENTRY_ISCONTAINER)
			check_value(assoc_value_to_jsonb(v));
	}
	change.paths = paths_array(&change.batch);
	PG_RETURN_INT64(write_record(fcinfo, "set_multi", &change, 3, 4));
}

/* link and unlink: keys argument 2, then expected_version and op_id. */
static Datum
keys_change(FunctionCallInfo fcinfo, ChangeKind kind, const char *op)
{
	Change change = {0};

	change.kind = kind;
	change.op = op;
	change.must_exist = true;
	store_check_not_null(fcinfo, 2, "keys");
	change.keys = PointerGetDatum(PG_DETOAST_DATUM(PG_GETARG_DATUM(2)));
	return Int64GetDatum(write_record(fcinfo, op, &change, 3, 4));
}

PG_FUNCTION_INFO_V1(assoc_link);

/* assoc.link(ns, id, keys, expected_version, op_id) → bigint. */
Datum
assoc_link(PG_FUNCTION_ARGS)
{
	return keys_change(fcinfo, CHANGE_LINK, "link");
}

PG_FUNCTION_INFO_V1(assoc_unlink);

/* assoc.unlink(ns, id, keys, expected_version, op_id) → bigint. */
Datum
assoc_unlink(PG_FUNCTION_ARGS)
{
	return keys_change(fcinfo, CHANGE_UNLINK, "unlink");
}

PG_FUNCTION_INFO_V1(assoc_rollback);

/*
 * assoc.rollback(ns, id, to_version, expected_version, op_id) → bigint:
 * the data and keys of a kept version, as a new version.
 */
Datum
assoc_rollback(PG_FUNCTION_ARGS)
{
	Change change = {0};

	change.kind = CHANGE_ROLLBACK;
	change.op = "rollback";
	change.must_exist = true;
	store_check_not_null(fcinfo, 2, "to_version");
	change.to_version = PG_GETARG_INT64(2);
	PG_RETURN_INT64(write_record(fcinfo, "rollback", &change, 3, 4));
}

PG_FUNCTION_INFO_V1(assoc_remove);

/*
 * assoc.remove(ns, id, expected_version, op_id) → boolean: deletes the
 * record and its history.  The feed entry carries version + 1, so a
 * client that keeps the highest version per record ends on the removal.
 */
Datum
assoc_remove(PG_FUNCTION_ARGS)
{
	StoreCall call;
	text     *id = id_arg(fcinfo, 1);
	Jsonb    *prior;
	Record    rec;
	Datum     values[2];

	store_open(&call, fcinfo, "remove", 0, 3);
	if (ledger_claim(&call, &prior))
	{
		store_close(&call);
		PG_RETURN_DATUM(
			DirectFunctionCall1(jsonb_bool, JsonbPGetDatum(prior)));
	}
	rows_fetch_record(&call, id, &rec, true);
	check_expected(&call, id, &rec, 2);
	if (rec.exists)
	{
		values[0] = PointerGetDatum(&rec.tid);
		store_exec(SP_REC_DELETE, values, NULL, false, 0);
		values[0] = PointerGetDatum(call.ns);
		values[1] = PointerGetDatum(id);
		store_exec(SP_HIST_DELETE, values, NULL, false, 0);
		feed_append(&call, id, rec.version + 1, "remove", (Datum) 0);
	}
	ledger_finish(&call, jsonb_from_bool(rec.exists));
	store_close(&call);
	PG_RETURN_BOOL(rec.exists);
}

PG_FUNCTION_INFO_V1(assoc_create);

/*
 * assoc.create(ns, data, keys DEFAULT '{}', id DEFAULT NULL, op_id) → text:
 * a new record at version 1; its id is generated (a UUID) when NULL.  An
 * existing id is 23505.
 */
Datum
assoc_create(PG_FUNCTION_ARGS)
{
	StoreCall call;
	Jsonb    *data;
	Datum     keys;
	text     *id;
	Jsonb    *prior;
	Record    rec = {0};
	bool      conflict;

	store_check_not_null(fcinfo, 1, "data");
	data = PG_GETARG_JSONB_P(1);
	check_whole_value(data, "a record's data");
	store_check_not_null(fcinfo, 2, "keys");
	keys = PointerGetDatum(PG_DETOAST_DATUM(PG_GETARG_DATUM(2)));
	if (PG_ARGISNULL(3))
		id = cstring_to_text(DatumGetCString(DirectFunctionCall1(
			uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0))));
	else
		id = id_arg(fcinfo, 3);

	store_open(&call, fcinfo, "create", 0, 4);
	if (ledger_claim(&call, &prior))
	{
		AssocValue v;

		assoc_value_from_jsonb(prior, &v);
		store_close(&call);
		PG_RETURN_TEXT_P(cstring_to_text_with_len(v.data, v.len));
	}
	record_store(&call, id, &rec, data, keys, "create", (Datum) 0, &conflict,
				 NULL, NULL);
	if (conflict)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("record \"%s\" already exists in namespace \"%s\"",
						text_to_cstring(id), call.ns_name)));
	ledger_finish(&call, jsonb_from_text(id));
	store_close(&call);
	PG_RETURN_TEXT_P(id);
}

/* ---------------------------------------------------------------------
 * By associations: update_by and remove_by return the rows they touched.
 *
 * Their memory does not grow with the number of rows: the matching rows
 * are read through a cursor a batch at a time, each row's work runs in an
 * SPI level whose memory is freed after it (row_begin), rows go to the
 * function's tuplestore (which spills to disk past work_mem) as they are
 * produced, and nothing is kept for the op_id ledger without an op_id.
 * ---------------------------------------------------------------------
 */

/* Columns of assoc.records in a result row starting at column first. */
#define RECORD_NATTS 7

/* The data column's index among them. */
#define RECORD_DATA 3

/* Rows fetched from a statement's cursor at a time. */
#define ROWS_PER_FETCH 100

/*
 * Begin the work on one row: a cancel or timeout stops the call here, and
 * the row's work runs in an SPI level of its own.  A statement run for the
 * row (its UPDATE, its history) leaves its SPI result, and everything
 * allocated after it, in the memory of the current SPI level; row_end's
 * SPI_finish frees all of it.  What the call keeps across rows (its
 * executor state and slots, rowaccess.c) lives in the call's memory.
 */
static void
row_begin(void)
{
	CHECK_FOR_INTERRUPTS();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* End the work on one row, freeing its memory (row_begin). */
static void
row_end(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/* What the work on each row of update_by or remove_by needs (each_row). */
typedef struct RowWork
{
	StoreCall     *call;
	ReturnSetInfo *rsinfo;
	LedgerRows    *ledger; /* with an op_id, else NULL */
	Jsonb         *data;   /* update_by: the data every row gets */
} RowWork;

/* The work on one row a statement of each_row returned. */
typedef void (*RowFn)(RowWork *work, HeapTuple row, TupleDesc desc);

/*
 * Run statement id with values as a cursor and do fn's work on every row
 * it returns: ROWS_PER_FETCH rows fetched at a time, each row's work in
 * an SPI level of its own (row_begin).  Returns the number of rows.
 */
static uint64
each_row(RowWork *work, StorePlanId id, Datum *values, RowFn fn)
{
	Portal portal = store_cursor_open(id, values, NULL, false);
	uint64 total = 0;
	uint64 n;

	while ((n = store_cursor_fetch(portal, ROWS_PER_FETCH)) > 0)
	{
		SPITupleTable *batch = SPI_tuptable;

		for (uint64 i = 0; i < n; i++)
		{
			row_begin();
			fn(work, batch->vals[i], batch->tupdesc);
			row_end();
		}
		total += n;
		SPI_freetuptable(batch);
	}
	SPI_cursor_close(portal);
	return total;
}

/*
 * Put one row of assoc.records (columns first .. first + 6 of an SPI row)
 * into the function's result and, with an op_id, into the rows kept for
 * the ledger, without its data (emit_prior_rows).
 */
static void
emit_row(ReturnSetInfo *rsinfo, HeapTuple row, TupleDesc desc, int first,
		 LedgerRows *ledger)
{
	Datum values[RECORD_NATTS];
	bool  nulls[RECORD_NATTS];

	for (int i = 0; i < RECORD_NATTS; i++)
		values[i] = SPI_getbinval(row, desc, first + i, &nulls[i]);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	if (ledger != NULL)
		ledger_rows_add(ledger, values, nulls);
}

/*
 * Replay a ledger result of rows into the function's result, reading the
 * array through a cursor a batch at a time.  The ledger keeps rows without
 * their data, so that no record's data outlives it there (a record updated
 * under an op_id may be removed later).  An update_by replay gives every
 * row the data of the call, which its arguments' digest proves equal to
 * the first call's and which the first call wrote to every row it
 * returned; a removal's replay gives data NULL.
 */
static void
emit_prior_rows(ReturnSetInfo *rsinfo, Jsonb *prior, Jsonb *data)
{
	Datum  values[1];
	Portal portal;
	uint64 n;

	values[0] = JsonbPGetDatum(prior);
	portal = store_cursor_open(SP_ROWS_FROM_JSONB, values, NULL, true);
	while ((n = store_cursor_fetch(portal, ROWS_PER_FETCH)) > 0)
	{
		SPITupleTable *batch = SPI_tuptable;

		for (uint64 i = 0; i < n; i++)
		{
			Datum cols[RECORD_NATTS];
			bool  nulls[RECORD_NATTS];

			CHECK_FOR_INTERRUPTS();
			for (int c = 0; c < RECORD_NATTS; c++)
				cols[c] = SPI_getbinval(batch->vals[i], batch->tupdesc, c + 1,
										&nulls[c]);
			if (data != NULL)
			{
				cols[RECORD_DATA] = JsonbPGetDatum(data);
				nulls[RECORD_DATA] = false;
			}
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, cols,
								 nulls);
		}
		SPI_freetuptable(batch);
	}
	SPI_cursor_close(portal);
}

/* A non-NULL, non-empty keys argument (update_by rejects '{}'). */
static Datum
keys_arg(FunctionCallInfo fcinfo, int argno, bool allow_empty)
{
	Datum keys;

	store_check_not_null(fcinfo, argno, "keys");
	keys = PointerGetDatum(PG_DETOAST_DATUM(PG_GETARG_DATUM(argno)));
	if (!allow_empty &&
		DatumGetInt32(DirectFunctionCall1(assockey_size, keys)) == 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("keys must not be empty for assoc.update_by"),
						errdetail("An empty key would address every record "
								  "without associations.")));
	return keys;
}

/*
 * One row of update_by, as read and locked by SP_REC_BY_KEYS_LOCK (ctid,
 * then the record's columns): replace its data (a no-op when equal) and
 * return the row as it is now.
 */
static void
update_row(RowWork *work, HeapTuple row, TupleDesc desc)
{
	Record    rec = {0};
	HeapTuple written;
	TupleDesc written_desc;
	bool      isnull;
	bool      conflict;
	text     *id;

	rec.exists = true;
	ItemPointerCopy(
		(ItemPointer) DatumGetPointer(SPI_getbinval(row, desc, 1, &isnull)),
		&rec.tid);
	id = DatumGetTextPP(SPI_getbinval(row, desc, 3, &isnull));
	rec.keys = PointerGetDatum(
		PG_DETOAST_DATUM(SPI_getbinval(row, desc, 4, &isnull)));
	rec.data = DatumGetJsonbP(SPI_getbinval(row, desc, 5, &isnull));
	rec.version = DatumGetInt64(SPI_getbinval(row, desc, 6, &isnull));
	record_store(work->call, id, &rec, work->data, rec.keys, "update",
				 (Datum) 0, &conflict, &written, &written_desc);
	if (written)
		emit_row(work->rsinfo, written, written_desc, 1, work->ledger);
	else
		emit_row(work->rsinfo, row, desc, 2, work->ledger);
}

PG_FUNCTION_INFO_V1(assoc_update_by);

/*
 * assoc.update_by(ns, keys, data, upsert DEFAULT false, op_id) → SETOF
 * assoc.records: replaces the data of every record whose keys equal keys
 * (a no-op where the data is already equal) and returns them; with upsert
 * and no match, creates one record.  Concurrent upserts of one key are
 * serialized, so they create one record.  The records are locked as they
 * are read from the cursor, in id order; with an op_id the rows returned
 * are kept in the ledger, data included.
 */
Datum
assoc_update_by(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	StoreCall      call;
	Datum          keys;
	Jsonb         *data;
	bool           upsert;
	Jsonb         *prior;
	LedgerRows     rows;
	RowWork        work = {0};
	Datum          values[2];

	InitMaterializedSRF(fcinfo, 0);
	keys = keys_arg(fcinfo, 1, false);
	store_check_not_null(fcinfo, 2, "data");
	data = PG_GETARG_JSONB_P(2);
	check_whole_value(data, "a record's data");
	upsert = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);

	store_open(&call, fcinfo, "update_by", 0, 4);
	if (ledger_claim(&call, &prior))
	{
		emit_prior_rows(rsinfo, prior, data);
		store_close(&call);
		return (Datum) 0;
	}
	if (upsert)
		store_lock_keys(&call, keys);
	work.call = &call;
	work.rsinfo = rsinfo;
	work.data = data;
	if (call.op_id != NULL)
	{
		ledger_rows_begin(&rows, call.fn);
		work.ledger = &rows;
	}

	values[0] = PointerGetDatum(call.ns);
	values[1] = keys;
	if (each_row(&work, SP_REC_BY_KEYS_LOCK, values, update_row) == 0 &&
		upsert)
	{
		Record    rec = {0};
		HeapTuple written;
		TupleDesc written_desc;
		bool      conflict;
		text     *id = cstring_to_text(DatumGetCString(DirectFunctionCall1(
				uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0))));

		/*
		 * Under REPEATABLE READ the snapshot may predate a record that a
		 * concurrent upsert created and committed while this call waited
		 * for the lock: creating another would duplicate the key.
		 */
		if (IsolationUsesXactSnapshot() &&
			store_exec_snapshot(SP_REC_BY_KEYS_LATEST, values, NULL, true, 1,
								GetLatestSnapshot()) > 0)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent "
							"upsert of the same keys in namespace \"%s\"",
							call.ns_name)));
		record_store(&call, id, &rec, data, keys, "create", (Datum) 0,
					 &conflict, &written, &written_desc);
		if (conflict)
			elog(ERROR, "generated record id \"%s\" already exists",
				 text_to_cstring(id));
		emit_row(rsinfo, written, written_desc, 1, work.ledger);
	}

	ledger_finish(&call,
				  work.ledger != NULL ? ledger_rows_end(work.ledger) : NULL);
	store_close(&call);
	return (Datum) 0;
}

/*
 * One row removed by remove_by (a row of SP_REC_REMOVE_BY's RETURNING):
 * return it, delete its history and add its feed entry.
 */
static void
remove_row(RowWork *work, HeapTuple row, TupleDesc desc)
{
	Datum values[2];
	bool  isnull;
	text *id = DatumGetTextPP(SPI_getbinval(row, desc, 2, &isnull));
	int64 version = DatumGetInt64(SPI_getbinval(row, desc, 5, &isnull));

	emit_row(work->rsinfo, row, desc, 1, work->ledger);
	values[0] = PointerGetDatum(work->call->ns);
	values[1] = PointerGetDatum(id);
	store_exec(SP_HIST_DELETE, values, NULL, false, 0);
	feed_append(work->call, id, version + 1, "remove", (Datum) 0);
}

PG_FUNCTION_INFO_V1(assoc_remove_by);

/*
 * assoc.remove_by(ns, keys, op_id) → SETOF assoc.records: deletes every
 * record whose keys contain keys in one statement and returns exactly the
 * rows it deleted; each gets a feed entry and loses its history.  An empty
 * keys removes nothing.  The statement runs whole at the first fetch from
 * its cursor (its rows wait in the portal's tuplestore).  With an op_id,
 * the rows are kept in the ledger without their data.
 */
Datum
assoc_remove_by(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	StoreCall      call;
	Datum          keys;
	Jsonb         *prior;
	LedgerRows     rows;
	RowWork        work = {0};
	Datum          values[2];

	InitMaterializedSRF(fcinfo, 0);
	keys = keys_arg(fcinfo, 1, true);
	store_open(&call, fcinfo, "remove_by", 0, 2);
	if (ledger_claim(&call, &prior))
	{
		emit_prior_rows(rsinfo, prior, NULL);
		store_close(&call);
		return (Datum) 0;
	}
	work.call = &call;
	work.rsinfo = rsinfo;
	if (call.op_id != NULL)
	{
		ledger_rows_begin(&rows, call.fn);
		work.ledger = &rows;
	}

	if (DatumGetInt32(DirectFunctionCall1(assockey_size, keys)) > 0)
	{
		values[0] = PointerGetDatum(call.ns);
		values[1] = keys;
		(void) each_row(&work, SP_REC_REMOVE_BY, values, remove_row);
	}

	ledger_finish(&call,
				  work.ledger != NULL ? ledger_rows_end(work.ledger) : NULL);
	store_close(&call);
	return (Datum) 0;
}
