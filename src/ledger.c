/*
 * ledger.c
 *		Idempotent retries: the op_id ledger (SPEC §4).
 *
 * A write called with an op_id first claims (ns, op_id) in assoc.ops with
 * INSERT ... ON CONFLICT DO NOTHING.  The claim row is written in the same
 * transaction as the write itself, so it commits or vanishes with it.  A
 * concurrent call with the same op_id blocks on the claim until the first
 * transaction ends; it then finds the row and returns the stored result.
 * A call whose arguments differ from the first call's (compared by a
 * SHA-256 digest of the function name and every other argument's text
 * form) fails with 23505.
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "store.h"

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
args_digest(StoreCall *call)
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
 * (no op_id, or a new one); true when the op_id was used before with the
 * same arguments, with *result set to that call's stored result (in the
 * caller's memory context).  Different arguments raise 23505.
 */
bool
ledger_claim(StoreCall *call, Jsonb **result)
{
	Datum     values[4];
	bool      isnull;
	HeapTuple row;
	TupleDesc desc;
	char     *fn;
	bytea    *args;

	if (call->op_id == NULL)
		return false;

	call->args_hash = args_digest(call);
	values[0] = PointerGetDatum(call->ns);
	values[1] = PointerGetDatum(call->op_id);
	values[2] = CStringGetTextDatum(call->fn);
	values[3] = PointerGetDatum(call->args_hash);
	if (store_exec(SP_OPS_CLAIM, values, NULL, false, 0) == 1)
	{
		ItemPointerCopy(
			(ItemPointer) DatumGetPointer(SPI_getbinval(
				SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)),
			&call->op_tid);
		return false;
	}

	if (store_exec(SP_OPS_GET, values, NULL, false, 1) != 1)
		elog(ERROR, "op_id \"%s\" vanished from the ledger",
			 text_to_cstring(call->op_id));
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	fn = TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull));
	args = DatumGetByteaPP(SPI_getbinval(row, desc, 2, &isnull));
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

	*result = DatumGetJsonbP(SPI_getbinval(row, desc, 3, &isnull));
	if (isnull)
		elog(ERROR, "op_id \"%s\" has no recorded result",
			 text_to_cstring(call->op_id));
	*result = (Jsonb *) SPI_datumTransfer(PointerGetDatum(*result), false, -1);
	return true;
}

/* Record the result of a call that claimed its op_id. */
void
ledger_finish(StoreCall *call, Jsonb *result)
{
	Datum values[2];

	if (call->op_id == NULL)
		return;
	values[0] = PointerGetDatum(&call->op_tid);
	values[1] = JsonbPGetDatum(result);
	store_exec(SP_OPS_SET_RESULT, values, NULL, false, 0);
}

/* A jsonb number holding a bigint (a version). */
Jsonb *
jsonb_from_int8(int64 value)
{
	JsonbValue v;

	v.type = jbvNumeric;
	v.val.numeric = int64_to_numeric(value);
	return JsonbValueToJsonb(&v);
}

/* A jsonb boolean. */
Jsonb *
jsonb_from_bool(bool value)
{
	JsonbValue v;

	v.type = jbvBool;
	v.val.boolean = value;
	return JsonbValueToJsonb(&v);
}

/* A jsonb string holding a text value (an id). */
Jsonb *
jsonb_from_text(text *value)
{
	JsonbValue v;

	v.type = jbvString;
	v.val.string.val = VARDATA_ANY(value);
	v.val.string.len = VARSIZE_ANY_EXHDR(value);
	return JsonbValueToJsonb(&v);
}
