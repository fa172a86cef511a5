/*
 * ledger.c
 *		Idempotent retries: the op_id ledger (README, "The record store").
 *
 * A write called with an op_id first takes the lock of (ns, op_id)
 * (frame.c) and looks the op_id up in assoc.ops as INSERT ... ON CONFLICT
 * would (rowaccess.c: the newest committed row or this transaction's own,
 * after waiting for a transaction writing it).  When it is new, the call does its work and
 * then inserts the ledger row with its result, in the same transaction as
 * the write itself, so the row commits or vanishes with it, and releases
 * the lock.  A concurrent call with the same op_id waits for the lock,
 * then for the first transaction to end; it then finds the row and
 * returns the stored result (under REPEATABLE READ, a row its snapshot
 * cannot see is a serialization failure, as ON CONFLICT would raise).  A call whose arguments
 * differ from the first call's (compared by a SHA-256 digest of the
 * function name and every other argument's text form) fails with 23505.
 *
 * The result of update_by and remove_by is the set of rows they returned:
 * a jsonb array with one object per row, in the form to_jsonb gives a row
 * of assoc.records, built row by row (assoc_ledger_rows_add), without the data
 * (README, "Idempotent retries" under "The record store"): no record's data lives on in the ledger
 * after the record is removed.  A replay of update_by gives every row the
 * call's data, a replay of remove_by data NULL (emit_prior_rows, store.c).
 *
 * Layer: the write path (README, "How the code is organised"); calls the
 * call frame, row access, the assockey type and the libraries.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "compat.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "assockey.h"
#include "ledger.h"
#include "rowaccess.h"
#include "rules.h"

/* Feed bytes into the digest, failing loudly if the library does. */
static void
digest_update(pg_cryptohash_ctx *ctx, const void *data, size_t len)
{
	if (pg_cryptohash_update(ctx, data, len) < 0)
		elog(ERROR, "could not update SHA-256 digest: %s",
			 pg_cryptohash_error(ctx));
}

/*
 * Digest of the call: the function name, then for every argument but the
 * op_id a NULL marker or its text output, length-prefixed so that no two
 * argument lists give the same byte stream.  Types are not hashed: the
 * function name fixes them (no store function is overloaded), and an OID
 * would differ after pg_dump/pg_restore (the extension's own types get
 * new OIDs), turning every retry of a restored ledger into 23505.
 */
static bytea *
args_digest(AssocCall *call)
{
	FunctionCallInfo   fcinfo = call->fcinfo;
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bytea             *result = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	uint32             len = strlen(call->fn);

	if (pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize SHA-256 digest");
	digest_update(ctx, &len, sizeof(len));
	digest_update(ctx, call->fn, len);
	for (int i = 0; i < PG_NARGS(); i++)
	{
		Oid   type;
		Oid   out;
		bool  varlena;
		char *text;

		if (i == call->op_id_arg)
			continue;
		if (PG_ARGISNULL(i))
		{
			digest_update(ctx, "N", 1);
			continue;
		}
		type = get_fn_expr_argtype(fcinfo->flinfo, i);
		if (!OidIsValid(type))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("assoc.%s cannot take an op_id in this call",
							call->fn),
					 errdetail("The type of argument %d is not known, so the "
							   "call cannot be compared with a retry.",
							   i + 1)));
		getTypeOutputInfo(type, &out, &varlena);
		text = OidOutputFunctionCall(out, PG_GETARG_DATUM(i));
		len = strlen(text);
		digest_update(ctx, "V", 1);
		digest_update(ctx, &len, sizeof(len));
		digest_update(ctx, text, len);
	}
	if (pg_cryptohash_final(ctx, (uint8 *) VARDATA(result),
							PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not finalize SHA-256 digest");
	pg_cryptohash_free(ctx);
	SET_VARSIZE(result, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return result;
}

/*
 * Claim the call's op_id.  Returns false when the call should go ahead
 * (no op_id, or a new one, whose lock it now holds); true when the op_id
 * was used before with the same arguments, with *result set to that
 * call's stored result, in the memory of the function's caller (outside
 * SPI, so that it outlives assoc_call_close).  Different arguments raise
 * 23505.
 */
bool
assoc_ledger_claim(AssocCall *call, Jsonb **result)
{
	Datum           keys[2];
	TupleTableSlot *row;
	bool            isnull;
	char           *fn;
	bytea          *args;
	Datum           datum;

	if (call->op_id == NULL)
		return false;

	call->args_hash = args_digest(call);
	assoc_call_lock(call, FRAME_LOCK_OP_ID, VARDATA_ANY(call->op_id),
					VARSIZE_ANY_EXHDR(call->op_id), &call->op_lock);
	keys[0] = PointerGetDatum(call->ns);
	keys[1] = PointerGetDatum(call->op_id);
	row = assoc_rows_fetch_latest(&call->rows, REL_OPS, keys, 2, NULL,
								  &call->op_lock);
	if (row == NULL)
		return false; /* new: the lock is kept until assoc_ledger_finish */
	assoc_call_unlock(&call->op_lock);

	fn = TextDatumGetCString(slot_getattr(row, OPS_FN, &isnull));
	args = DatumGetByteaPP(slot_getattr(row, OPS_ARGS, &isnull));
	if (strcmp(fn, call->fn) != 0 ||
		VARSIZE_ANY_EXHDR(args) != PG_SHA256_DIGEST_LENGTH ||
		memcmp(VARDATA_ANY(args), VARDATA(call->args_hash),
			   PG_SHA256_DIGEST_LENGTH) != 0)
		ereport(ERROR, (errcode(ERRCODE_UNIQUE_VIOLATION),
						errmsg("op_id \"%s\" was already used in namespace "
							   "\"%s\" with different arguments",
							   text_to_cstring(call->op_id), call->ns_name),
						errdetail("The first call was assoc.%s; a retry must "
								  "repeat the same call.",
								  fn)));

	datum = slot_getattr(row, OPS_RESULT, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("op_id \"%s\" in namespace \"%s\" has no recorded "
						"result",
						text_to_cstring(call->op_id), call->ns_name),
				 errhint("Its row in assoc.ops was changed by hand; delete it "
						 "to use the op_id again.")));
	/* Out of SPI's memory, which the caller's assoc_call_close frees. */
	*result = (Jsonb *) DatumGetPointer(
		SPI_datumTransfer(PointerGetDatum(DatumGetJsonbP(datum)), false, -1));
	return true;
}

/*
 * Record the result of a call that claimed its op_id: its ledger row,
 * inserted under the op_id's lock (assoc_ledger_claim), which is then
 * released: a concurrent call with the op_id goes on to wait for this
 * transaction, which it finds inserting the row.
 */
void
assoc_ledger_finish(AssocCall *call, Jsonb *result)
{
	TupleTableSlot *row;

	if (call->op_id == NULL)
		return;
	row = assoc_rows_new_row(&call->rows, REL_OPS);
	row->tts_values[OPS_NS - 1] = PointerGetDatum(call->ns);
	row->tts_values[OPS_OP_ID - 1] = PointerGetDatum(call->op_id);
	row->tts_values[OPS_FN - 1] = CStringGetTextDatum(call->fn);
	row->tts_values[OPS_ARGS - 1] = PointerGetDatum(call->args_hash);
	row->tts_values[OPS_RESULT - 1] = JsonbPGetDatum(result);
	row->tts_values[OPS_AT - 1] =
		TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	assoc_rows_insert(&call->rows, REL_OPS);
	assoc_call_unlock(&call->op_lock);
}

/*
 * Start collecting the rows of a call (fn: its SQL name, for messages)
 * for its op_id.  The buffers live in the current memory context and grow
 * there whatever context is current when rows are added.
 */
void
assoc_ledger_rows_begin(LedgerRows *rows, const char *fn)
{
	rows->fn = fn;
	initStringInfo(&rows->jentries);
	initStringInfo(&rows->data);
	rows->count = 0;
}

/*
 * One row of assoc.records as the jsonb object to_jsonb makes of it (the
 * ledger's format since 0.1.0, read back by SP_ROWS_FROM_JSONB); without
 * the "data" member (see emit_prior_rows in store.c).  values and nulls are the table's
 * seven columns in order.  Allocated in the current memory context.
 */
static Jsonb *
row_to_jsonb(const Datum *values, const bool *nulls)
{
	static const char *const names[] = {
		"ns", "id", "keys", "data", "version", "created_at", "updated_at"};
	JsonbParseState *state = NULL;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < lengthof(names); i++)
	{
		text *text_value;
		char *timestamp;

		if (i == 3)
			continue; /* data */
		assoc_jsonb_push_string(&state, WJB_KEY, names[i], strlen(names[i]));
		if (nulls[i])
		{
			assoc_jsonb_push_string(&state, WJB_VALUE, NULL, 0);
			continue;
		}
		switch (i)
		{
			case 0: /* ns, id */
			case 1:
				text_value = DatumGetTextPP(values[i]);
				assoc_jsonb_push_string(&state, WJB_VALUE,
										VARDATA_ANY(text_value),
										VARSIZE_ANY_EXHDR(text_value));
				break;
			case 2:
				assoc_ak_push_json(&state, values[i]);
				break;
			case 4:
				assoc_jsonb_push_int8(&state, WJB_VALUE,
									  DatumGetInt64(values[i]));
				break;
			default: /* the timestamps, as to_jsonb writes them */
				timestamp =
					JsonEncodeDateTime(NULL, values[i], TIMESTAMPTZOID, NULL);
				assoc_jsonb_push_string(&state, WJB_VALUE, timestamp,
										strlen(timestamp));
				break;
		}
	}
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

/*
 * Add one row returned by the call (the seven columns of assoc.records),
 * without its data.  The row is encoded at once and its bytes
 * appended as the next element of a JSONB array (see assoc_ledger_rows_end), so
 * the rows cost about their encoded size, not a tree of every value; the
 * work is done in the current memory context, which the caller may reset
 * after each row.  The array must fit JSONB's limit of JENTRY_OFFLENMASK
 * bytes (54000 otherwise).
 */
void
assoc_ledger_rows_add(LedgerRows *rows, const Datum *values, const bool *nulls)
{
	static const char zeros[sizeof(uint32)] = {0};
	Jsonb            *row = row_to_jsonb(values, nulls);
	uint32            len = VARSIZE(row) - VARHDRSZ;
	int               start = rows->data.len;
	int               pad = INTALIGN(start) - start;
	JEntry            entry;

	if ((uint64) sizeof(uint32) * (rows->count + 2) + start + pad + len >
		JENTRY_OFFLENMASK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the rows of assoc.%s are too large to keep under an "
						"op_id",
						rows->fn),
				 errdetail("The op_id ledger keeps at most %d bytes of rows "
						   "per call.",
						   JENTRY_OFFLENMASK),
				 errhint("Call it without an op_id, or for fewer records.")));

	/* A nested container starts 4-aligned; the padding counts as its own. */
	appendBinaryStringInfo(&rows->data, zeros, pad);
	appendBinaryStringInfo(&rows->data, (const char *) &row->root, len);
	if (rows->count % JB_OFFSET_STRIDE == 0)
		entry = JENTRY_ISCONTAINER | JENTRY_HAS_OFF | rows->data.len;
	else
		entry = JENTRY_ISCONTAINER | (rows->data.len - start);
	appendBinaryStringInfo(&rows->jentries, (const char *) &entry,
						   sizeof(entry));
	rows->count++;
	pfree(row);
}

/*
 * The rows collected as one jsonb array, in JSONB's binary format: the
 * array's header, one JEntry per row (every JB_OFFSET_STRIDE-th an end
 * offset, the others lengths) and the rows' containers, as
 * JsonbValueToJsonb lays out an array of objects.  Frees the buffers.
 */
Jsonb *
assoc_ledger_rows_end(LedgerRows *rows)
{
	Size size =
		VARHDRSZ + sizeof(uint32) + rows->jentries.len + rows->data.len;
	Jsonb *result = palloc(size);

	SET_VARSIZE(result, size);
	result->root.header = JB_FARRAY | (uint32) rows->count;
	memcpy(result->root.children, rows->jentries.data, rows->jentries.len);
	memcpy((char *) result->root.children + rows->jentries.len,
		   rows->data.data, rows->data.len);
	pfree(rows->jentries.data);
	pfree(rows->data.data);
	return result;
}
