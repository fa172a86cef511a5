/*
 * record.c
 *		Records: versions, atomic writes, no-op detection, feed entries and
 *		history (README, "The record store").
 *
 * Every write to one record follows the same path (assoc_record_write):
 *
 *	read	the newest committed version of (ns, id) (rowaccess.c)
 *	check	expected_version against it (40001 otherwise)
 *	compute	the new data and keys (a patch batch, a keys change, a version
 *			from history)
 *	store	nothing when equal to the current state (a no-op); otherwise
 *			insert (version 1) or update (version + 1) the row, one feed
 *			entry, and a history row when the namespace keeps history
 *			(history.c), all through the table AM (rowaccess.c)
 *
 * The update succeeds only if the version read is still the newest; if a
 * concurrent writer changed the row meanwhile (after waiting for it), the
 * loop reads again and computes on the newer version, so no update is
 * lost.  A missing record that two callers create at once: both see
 * nothing; each takes the lock of the id and looks again for the row as
 * ON CONFLICT would, so the second waits for the first to end, finds its
 * row and starts over, now updating it.
 *
 * Layer: the write path (README, "How the code is organised"); calls the
 * ledger, feed append, history, the call frame, row access and the
 * libraries.
 */
#include "postgres.h"

#include "compat.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

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

	getTypeInputInfo(assoc_stmt_assockey_type(), &in, &ioparam);
	return OidInputFunctionCall(in, "{}", ioparam, -1);
}

/* Raise 22023 when a value written contains a forbidden key. */
void
assoc_record_check_value(Jsonb *value)
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
void
assoc_record_check_whole_value(Jsonb *value, const char *what)
{
	if (JB_ROOT_IS_SCALAR(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for %s: expected an object or an array",
						what)));
	assoc_record_check_value(value);
}

/* The record argument at argno: not NULL, 1 to 1024 bytes. */
text *
assoc_record_id_arg(FunctionCallInfo fcinfo, int argno)
{
	text *id;

	assoc_check_not_null(fcinfo, argno, "record id");
	id = PG_GETARG_TEXT_PP(argno);
	assoc_check_id(id);
	return id;
}

/* The error for a record that must exist and does not. */
static void
error_no_record(AssocCall *call, text *id)
{
	ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND),
					errmsg("record \"%s\" does not exist in namespace \"%s\"",
						   text_to_cstring(id), call->ns_name)));
}

/* 40001 unless the record's version is the expected one (argument argno). */
void
assoc_record_check_expected(AssocCall *call, text *id, const Record *rec,
							int argno)
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
 * Insert a new record (version 1) unless one was created since the caller
 * found it missing: under the lock of its id (frame.c), which every
 * creator of (ns, id) takes, the newest committed row decides, as INSERT
 * ... ON CONFLICT DO NOTHING would.  The lock is released once the row is
 * inserted: the next creator then waits for this transaction, which it
 * finds inserting the row.  Returns the row, or NULL when it exists now.
 */
static TupleTableSlot *
record_insert(AssocCall *call, text *id, Jsonb *data, Datum keys)
{
	Datum           pkey[2] = {PointerGetDatum(call->ns), PointerGetDatum(id)};
	LOCKTAG         lock;
	TupleTableSlot *row = NULL;

	assoc_call_lock(call, FRAME_LOCK_RECORD, VARDATA_ANY(id),
					VARSIZE_ANY_EXHDR(id), &lock);
	if (assoc_rows_fetch_latest(&call->rows, REL_RECORDS, pkey, 2, NULL,
								&lock) == NULL)
		row = assoc_rows_insert_record(&call->rows, call->ns, id, data, keys);
	assoc_call_unlock(&lock);
	return row;
}

/*
 * Store the new state of a record read by assoc_rows_fetch_record (or
 * locked by the caller).  Returns the version after the write: the
 * current one for a no-op.  *conflict is set when the record changed
 * since it was read (a concurrent update or removal, or a creation of a
 * missing one); the caller reads it again.  *row, if given, receives the
 * row written (its slot's values stay valid until the next write of the
 * call), or NULL for a no-op.
 */
int64
assoc_record_store(AssocCall *call, text *id, const Record *rec, Jsonb *data,
				   Datum keys, const char *op, Datum paths, bool *conflict,
				   TupleTableSlot **row)
{
	TupleTableSlot *written;
	int64           version;

	*conflict = false;
	if (row)
		*row = NULL;
	if (rec->exists && keys_equal(rec->keys, keys) &&
		jsonb_same(rec->data, data))
		return rec->version;

	if (!rec->exists)
	{
		version = 1;
		written = record_insert(call, id, data, keys);
	}
	else
	{
		version = rec->version + 1;
		written = assoc_rows_update_record(&call->rows, call->ns, id, rec,
										   data, keys, version);
	}
	if (written == NULL)
	{
		*conflict = true;
		return 0;
	}
	if (row)
		*row = written;
	assoc_feed_append(call, id, version, op, paths);
	assoc_history_append(call, id, version, data, keys, op);
	return version;
}

/*
 * Compute a record's next data and keys for a change.  Returns false when
 * the change leaves the record as it is without looking further (rollback
 * to the current version).
 */
static bool
compute_change(AssocCall *call, text *id, const Record *rec,
			   const Change *change, Jsonb **data, Datum *keys)
{
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
			if (!assoc_history_get(call, id, change->to_version, data, keys))
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
			break;
	}
	return true;
}

/*
 * The one write path for a record addressed by id (argument 1): set,
 * erase, set_multi, link, unlink and rollback.  Returns the version after
 * the write.  A round that meets a concurrent change starts over on the
 * newer version (file header), in a memory context reset every round and
 * at most ASSOC_MAX_ROUNDS times.
 */
int64
assoc_record_write(FunctionCallInfo fcinfo, const char *fn,
				   const Change *change, int expected_arg, int op_id_arg)
{
	AssocCall     call;
	text         *id = assoc_record_id_arg(fcinfo, 1);
	Jsonb        *prior;
	int64         version;
	MemoryContext round_cxt;

	assoc_call_open(&call, fcinfo, fn, 0, op_id_arg);
	if (assoc_ledger_claim(&call, &prior))
	{
		assoc_call_close(&call);
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
		if (round > ASSOC_MAX_ROUNDS)
			assoc_error_rounds(
				call.fn, call.ns_name,
				psprintf("write record \"%s\"", text_to_cstring(id)));
		MemoryContextReset(round_cxt);
		old = MemoryContextSwitchTo(round_cxt);
		assoc_rows_fetch_record(&call.rows, call.fn, call.ns_name, call.ns, id,
								&rec, false);
		if (change->must_exist && !rec.exists)
			error_no_record(&call, id);
		assoc_record_check_expected(&call, id, &rec, expected_arg);
		if (!compute_change(&call, id, &rec, change, &data, &keys))
			version = rec.version;
		else
			version =
				assoc_record_store(&call, id, &rec, data, keys, change->op,
								   change->paths, &conflict, NULL);
		MemoryContextSwitchTo(old);
		if (!conflict)
			break;
	}
	MemoryContextDelete(round_cxt);

	assoc_ledger_finish(&call, assoc_jsonb_from_int8(version));
	assoc_call_close(&call);
	return version;
}
