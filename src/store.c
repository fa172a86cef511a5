/*
 * store.c
 *		The record SQL functions: set, erase, set_multi, link, unlink,
 *		rollback, remove, create, update_by and remove_by (README, "The record store").  Each
 *		reads and checks its arguments and hands the write to record.c.
 *
 * Layer: SQL entry points (README, "How the code is organised"); calls the
 * write path, the call frame and statement executor, row access and the
 * libraries.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "compat.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "assockey.h"
#include "feed_write.h"
#include "frame.h"
#include "history.h"
#include "ledger.h"
#include "record.h"
#include "patch.h"
#include "rowaccess.h"
#include "rules.h"
#include "stmt.h"

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

/* A new record's generated id: a random UUID, as text (create, upsert). */
static text *
new_record_id(void)
{
	return cstring_to_text(DatumGetCString(DirectFunctionCall1(
		uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0))));
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
		value = assoc_value_to_jsonb(&assoc_null_value);
	else
		value = PG_GETARG_JSONB_P(3);
	if (PG_ARGISNULL(2))
		assoc_record_check_whole_value(value, "the whole record");
	else
		assoc_record_check_value(value);
	single_entry(fcinfo, 2, value, &change);
	PG_RETURN_INT64(assoc_record_write(fcinfo, "set", &change, 4, 5));
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
	assoc_check_not_null(fcinfo, 2, "path");
	single_entry(fcinfo, 2, NULL, &change);
	PG_RETURN_INT64(assoc_record_write(fcinfo, "erase", &change, 3, 4));
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
	assoc_check_not_null(fcinfo, 2, "patches");
	assoc_batch_from_jsonb(PG_GETARG_JSONB_P(2), &change.batch);
	for (int i = 0; i < change.batch.nentries; i++)
	{
		const AssocValue *v = &change.batch.entries[i].value;

		if (!change.batch.entries[i].erase && v->type == JENTRY_ISCONTAINER)
			assoc_record_check_value(assoc_value_to_jsonb(v));
	}
	change.paths = paths_array(&change.batch);
	PG_RETURN_INT64(assoc_record_write(fcinfo, "set_multi", &change, 3, 4));
}

/* link and unlink: keys argument 2, then expected_version and op_id. */
static Datum
keys_change(FunctionCallInfo fcinfo, ChangeKind kind, const char *op)
{
	Change change = {0};

	change.kind = kind;
	change.op = op;
	change.must_exist = true;
	assoc_check_not_null(fcinfo, 2, "keys");
	change.keys = PointerGetDatum(PG_DETOAST_DATUM(PG_GETARG_DATUM(2)));
	return Int64GetDatum(assoc_record_write(fcinfo, op, &change, 3, 4));
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
	assoc_check_not_null(fcinfo, 2, "to_version");
	change.to_version = PG_GETARG_INT64(2);
	PG_RETURN_INT64(assoc_record_write(fcinfo, "rollback", &change, 3, 4));
}

/*
 * Remove a record locked by this transaction (at tid, at version): its
 * row, its history and a feed entry at version + 1.
 */
static void
remove_record(AssocCall *call, text *id, ItemPointer tid, int64 version)
{
	if (!assoc_rows_delete(&call->rows, REL_RECORDS, tid))
		elog(ERROR, "locked record \"%s\" was not removed",
			 text_to_cstring(id));
	assoc_history_delete(call, id);
	assoc_feed_append(call, id, version + 1, "remove", (Datum) 0);
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
	AssocCall call;
	text     *id = assoc_record_id_arg(fcinfo, 1);
	Jsonb    *prior;
	Record    rec;

	assoc_call_open(&call, fcinfo, "remove", 0, 3);
	if (assoc_ledger_claim(&call, &prior))
	{
		assoc_call_close(&call);
		PG_RETURN_DATUM(
			DirectFunctionCall1(jsonb_bool, JsonbPGetDatum(prior)));
	}
	assoc_rows_fetch_record(&call.rows, call.fn, call.ns_name, call.ns, id,
							&rec, true);
	assoc_record_check_expected(&call, id, &rec, 2);
	if (rec.exists)
		remove_record(&call, id, &rec.tid, rec.version);
	assoc_ledger_finish(&call, assoc_jsonb_from_bool(rec.exists));
	assoc_call_close(&call);
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
	AssocCall call;
	Jsonb    *data;
	Datum     keys;
	text     *id;
	Jsonb    *prior;
	Record    rec = {0};
	bool      conflict;

	assoc_check_not_null(fcinfo, 1, "data");
	data = PG_GETARG_JSONB_P(1);
	assoc_record_check_whole_value(data, "a record's data");
	assoc_check_not_null(fcinfo, 2, "keys");
	keys = PointerGetDatum(PG_DETOAST_DATUM(PG_GETARG_DATUM(2)));
	if (PG_ARGISNULL(3))
		id = new_record_id();
	else
		id = assoc_record_id_arg(fcinfo, 3);

	assoc_call_open(&call, fcinfo, "create", 0, 4);
	if (assoc_ledger_claim(&call, &prior))
	{
		AssocValue v;

		assoc_value_from_jsonb(prior, &v);
		assoc_call_close(&call);
		PG_RETURN_TEXT_P(cstring_to_text_with_len(v.data, v.len));
	}
	assoc_record_store(&call, id, &rec, data, keys, "create", (Datum) 0,
					   &conflict, NULL);
	if (conflict)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("record \"%s\" already exists in namespace \"%s\"",
						text_to_cstring(id), call.ns_name)));
	assoc_ledger_finish(&call, assoc_jsonb_from_text(id));
	assoc_call_close(&call);
	PG_RETURN_TEXT_P(id);
}

/* ---------------------------------------------------------------------
 * By associations: update_by and remove_by return the rows they touched.
 *
 * The matching rows are read and locked by one statement (in id order, so
 * that two such calls lock in the same order) through a cursor; the work on
 * each row is that of the write functions, through the table AM.  Their
 * memory does not grow with the number of rows: rows are fetched a batch
 * at a time, each row's work runs in a memory context reset after it,
 * rows go to the function's tuplestore (which spills to disk past
 * work_mem) as they are produced, and nothing is kept for the op_id ledger
 * without an op_id.
 * ---------------------------------------------------------------------
 */

/* Columns of assoc.records in a result row. */
#define RECORD_NATTS 7

/* The data column's index among them. */
#define RECORD_DATA 3

/* Rows fetched from a statement's cursor at a time. */
#define ROWS_PER_FETCH 100

/* What the work on each row of update_by or remove_by needs (each_row). */
typedef struct RowWork
{
	AssocCall     *call;
	ReturnSetInfo *rsinfo;
	LedgerRows    *ledger; /* with an op_id, else NULL */
	Jsonb         *data;   /* update_by: the data every row gets */
} RowWork;

/*
 * The work on one row that SP_REC_BY_KEYS_LOCK or SP_REC_CONTAINING_LOCK
 * returned (its ctid, then the record's columns), locked by this
 * transaction.
 */
typedef void (*RowFn)(RowWork *work, HeapTuple row, TupleDesc desc);

/*
 * Read and lock the records of the call's namespace (values[0]) whose keys
 * equal (SP_REC_BY_KEYS_LOCK, update_by) or contain
 * (SP_REC_CONTAINING_LOCK, remove_by) values[1], through a cursor of
 * statement id, and do fn's work on each: ROWS_PER_FETCH rows fetched at a
 * time, each row's work in a memory context reset after it.  Returns the
 * number of rows.
 */
static uint64
each_row(RowWork *work, AssocStmtId id, Datum *values, RowFn fn)
{
	Portal        portal;
	MemoryContext row_cxt;
	MemoryContext old;
	uint64        total = 0;
	uint64        n;

	portal = assoc_stmt_cursor_open(id, values, NULL, false);
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "pg_assoc row",
									ALLOCSET_DEFAULT_SIZES);
	while ((n = assoc_stmt_cursor_fetch(portal, ROWS_PER_FETCH)) > 0)
	{
		SPITupleTable *batch = SPI_tuptable;

		for (uint64 i = 0; i < n; i++)
		{
			CHECK_FOR_INTERRUPTS();
			old = MemoryContextSwitchTo(row_cxt);
			fn(work, batch->vals[i], batch->tupdesc);
			MemoryContextSwitchTo(old);
			MemoryContextReset(row_cxt);
		}
		total += n;
		SPI_freetuptable(batch);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(row_cxt);
	return total;
}

/*
 * Put one row of assoc.records (its seven columns) into the function's
 * result and, with an op_id, into the rows kept for the ledger, without
 * its data (emit_prior_rows).
 */
static void
emit_values(RowWork *work, Datum *values, bool *nulls)
{
	tuplestore_putvalues(work->rsinfo->setResult, work->rsinfo->setDesc,
						 values, nulls);
	if (work->ledger != NULL)
		assoc_ledger_rows_add(work->ledger, values, nulls);
}

/* emit_values for a record's row as read: columns 2 .. 8 of an SPI row. */
static void
emit_row(RowWork *work, HeapTuple row, TupleDesc desc)
{
	Datum values[RECORD_NATTS];
	bool  nulls[RECORD_NATTS];

	for (int i = 0; i < RECORD_NATTS; i++)
		values[i] = SPI_getbinval(row, desc, i + 2, &nulls[i]);
	emit_values(work, values, nulls);
}

/* emit_values for a record's row as written (record.c). */
static void
emit_slot(RowWork *work, TupleTableSlot *slot)
{
	slot_getallattrs(slot);
	emit_values(work, slot->tts_values, slot->tts_isnull);
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
	portal = assoc_stmt_cursor_open(SP_ROWS_FROM_JSONB, values, NULL, true);
	while ((n = assoc_stmt_cursor_fetch(portal, ROWS_PER_FETCH)) > 0)
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

	assoc_check_not_null(fcinfo, argno, "keys");
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
 * One row of update_by, read and locked by SP_REC_BY_KEYS_LOCK: replace
 * its data (a no-op when equal) and return the row as it is now.
 */
static void
update_row(RowWork *work, HeapTuple row, TupleDesc desc)
{
	Record          rec = {0};
	TupleTableSlot *written;
	bool            isnull;
	bool            conflict;
	text           *id;

	rec.exists = true;
	ItemPointerCopy(
		(ItemPointer) DatumGetPointer(SPI_getbinval(row, desc, 1, &isnull)),
		&rec.tid);
	id = DatumGetTextPP(SPI_getbinval(row, desc, 3, &isnull));
	rec.keys = PointerGetDatum(
		PG_DETOAST_DATUM(SPI_getbinval(row, desc, 4, &isnull)));
	rec.data = DatumGetJsonbP(SPI_getbinval(row, desc, 5, &isnull));
	rec.version = DatumGetInt64(SPI_getbinval(row, desc, 6, &isnull));
	rec.created_at = SPI_getbinval(row, desc, 7, &isnull);
	assoc_record_store(work->call, id, &rec, work->data, rec.keys, "update",
					   (Datum) 0, &conflict, &written);
	if (conflict)
		elog(ERROR, "locked record \"%s\" was not updated",
			 text_to_cstring(id));
	if (written)
		emit_slot(work, written);
	else
		emit_row(work, row, desc);
}

/*
 * update_by's upsert when no record matched: create one record with the
 * keys (values[1]) and the data, under a generated id, and return it.
 * The keys' lock (assoc_call_lock) is held, so concurrent upserts of
 * the same keys create one record.
 */
static void
upsert_record(RowWork *work, Datum *values)
{
	AssocCall      *call = work->call;
	Record          rec = {0};
	TupleTableSlot *written;
	bool            conflict;
	text           *id = new_record_id();

	/*
	 * Under REPEATABLE READ the snapshot may predate a record that a
	 * concurrent upsert created and committed while this call waited
	 * for the lock: creating another would duplicate the key.
	 */
	if (IsolationUsesXactSnapshot() &&
		assoc_stmt_exec_snapshot(SP_REC_BY_KEYS_LATEST, values, NULL, true, 1,
								 GetLatestSnapshot()) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not serialize access due to a concurrent "
						"upsert of the same keys in namespace \"%s\"",
						call->ns_name)));
	assoc_record_store(call, id, &rec, work->data, values[1], "create",
					   (Datum) 0, &conflict, &written);
	if (conflict)
		elog(ERROR, "generated record id \"%s\" already exists",
			 text_to_cstring(id));
	emit_slot(work, written);
}

PG_FUNCTION_INFO_V1(assoc_update_by);

/*
 * assoc.update_by(ns, keys, data, upsert DEFAULT false, op_id) → SETOF
 * assoc.records: replaces the data of every record whose keys equal keys
 * (a no-op where the data is already equal) and returns them; with upsert
 * and no match, creates one record.  Concurrent upserts of one key are
 * serialized, so they create one record.  The records are locked as they
 * are read from the cursor, in id order; with an op_id the rows returned
 * are kept in the ledger without their data (emit_prior_rows).
 */
Datum
assoc_update_by(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AssocCall      call;
	Datum          keys;
	Jsonb         *data;
	bool           upsert;
	Jsonb         *prior;
	LedgerRows     rows;
	RowWork        work = {0};
	Datum          values[2];

	InitMaterializedSRF(fcinfo, 0);
	keys = keys_arg(fcinfo, 1, false);
	assoc_check_not_null(fcinfo, 2, "data");
	data = PG_GETARG_JSONB_P(2);
	assoc_record_check_whole_value(data, "a record's data");
	upsert = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);

	assoc_call_open(&call, fcinfo, "update_by", 0, 4);
	if (assoc_ledger_claim(&call, &prior))
	{
		emit_prior_rows(rsinfo, prior, data);
		assoc_call_close(&call);
		return (Datum) 0;
	}
	if (upsert)
		assoc_call_lock(&call, FRAME_LOCK_KEYS, DatumGetPointer(keys),
						VARSIZE_ANY(DatumGetPointer(keys)), NULL);
	work.call = &call;
	work.rsinfo = rsinfo;
	work.data = data;
	if (call.op_id != NULL)
	{
		assoc_ledger_rows_begin(&rows, call.fn);
		work.ledger = &rows;
	}

	values[0] = PointerGetDatum(call.ns);
	values[1] = keys;
	if (each_row(&work, SP_REC_BY_KEYS_LOCK, values, update_row) == 0 &&
		upsert)
		upsert_record(&work, values);

	assoc_ledger_finish(&call, work.ledger != NULL
								   ? assoc_ledger_rows_end(work.ledger)
								   : NULL);
	assoc_call_close(&call);
	return (Datum) 0;
}

/*
 * One row of remove_by, read and locked by SP_REC_CONTAINING_LOCK: remove it
 * (remove_record) and return it as it was.
 */
static void
remove_row(RowWork *work, HeapTuple row, TupleDesc desc)
{
	bool  isnull;
	text *id = DatumGetTextPP(SPI_getbinval(row, desc, 3, &isnull));
	int64 version = DatumGetInt64(SPI_getbinval(row, desc, 6, &isnull));

	remove_record(
		work->call, id,
		(ItemPointer) DatumGetPointer(SPI_getbinval(row, desc, 1, &isnull)),
		version);
	emit_row(work, row, desc);
}

PG_FUNCTION_INFO_V1(assoc_remove_by);

/*
 * assoc.remove_by(ns, keys, op_id) → SETOF assoc.records: deletes every
 * record whose keys contain keys and returns exactly the rows it deleted,
 * as they were; each gets a feed entry and loses its history.  An empty
 * keys removes nothing.  With an op_id, the rows are kept in the ledger
 * without their data.
 */
Datum
assoc_remove_by(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	AssocCall      call;
	Datum          keys;
	Jsonb         *prior;
	LedgerRows     rows;
	RowWork        work = {0};
	Datum          values[2];

	InitMaterializedSRF(fcinfo, 0);
	keys = keys_arg(fcinfo, 1, true);
	assoc_call_open(&call, fcinfo, "remove_by", 0, 2);
	if (assoc_ledger_claim(&call, &prior))
	{
		emit_prior_rows(rsinfo, prior, NULL);
		assoc_call_close(&call);
		return (Datum) 0;
	}
	work.call = &call;
	work.rsinfo = rsinfo;
	if (call.op_id != NULL)
	{
		assoc_ledger_rows_begin(&rows, call.fn);
		work.ledger = &rows;
	}

	if (DatumGetInt32(DirectFunctionCall1(assockey_size, keys)) > 0)
	{
		values[0] = PointerGetDatum(call.ns);
		values[1] = keys;
		(void) each_row(&work, SP_REC_CONTAINING_LOCK, values, remove_row);
	}

	assoc_ledger_finish(&call, work.ledger != NULL
								   ? assoc_ledger_rows_end(work.ledger)
								   : NULL);
	assoc_call_close(&call);
	return (Datum) 0;
}
