/*
 * docfuncs.c
 *		The document functions of SQL (README, "Document functions"): parse_path, path_get,
 *		path_set, path_erase, patch and has_forbidden_keys.
 *
 * Thin wrappers over the engine in patch.c: they turn arguments into
 * paths and batches (set and erase are batches of one entry), apply the
 * NULL conventions, and return jsonb.  Arguments are validated before a
 * NULL document short-cuts to NULL, so a bad path is always an error.
 *
 * Layer: SQL entry points, documents family (README, "How the code is
 * organised"); calls document.c and patch.c.
 */
#include "postgres.h"

#include "compat.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "patch.h"

/* Parse a text argument as a path. */
static void
path_from_text(text *t, AssocPath *path)
{
	assoc_path_parse_or_error(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), NULL,
							  path);
}

PG_FUNCTION_INFO_V1(assoc_parse_path);

/*
 * assoc.parse_path(text) → jsonb: the tokens of a path, keys as strings
 * and indexes as numbers, so users can see how a path is read.
 */
Datum
assoc_parse_path(PG_FUNCTION_ARGS)
{
	AssocPath        path;
	JsonbParseState *state = NULL;
	JsonbValue      *result;

	path_from_text(PG_GETARG_TEXT_PP(0), &path);

	pushJsonbValue(&state, WJB_BEGIN_ARRAY, NULL);
	for (int i = 0; i < path.ntokens; i++)
	{
		JsonbValue v;

		if (path.tokens[i].is_index)
		{
			v.type = jbvNumeric;
			v.val.numeric = int64_to_numeric(path.tokens[i].index);
		}
		else
		{
			v.type = jbvString;
			v.val.string.val = (char *) path.tokens[i].key;
			v.val.string.len = path.tokens[i].keylen;
		}
		pushJsonbValue(&state, WJB_ELEM, &v);
	}
	result = pushJsonbValue(&state, WJB_END_ARRAY, NULL);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(result));
}

PG_FUNCTION_INFO_V1(assoc_path_get);

/*
 * assoc.path_get(doc, path) → jsonb: the value at path, SQL NULL when
 * absent; a NULL path returns the whole document.  The path is validated
 * even when doc is NULL, so a bad path is always an error.
 */
Datum
assoc_path_get(PG_FUNCTION_ARGS)
{
	AssocPath  path;
	AssocValue found;
	Jsonb     *doc;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	path_from_text(PG_GETARG_TEXT_PP(1), &path);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	doc = PG_GETARG_JSONB_P(0);
	if (!assoc_path_lookup(doc, &path, &found))
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(assoc_value_to_jsonb(&found));
}

PG_FUNCTION_INFO_V1(assoc_path_set);

/*
 * assoc.path_set(doc, path, value) → jsonb: doc with value at path.  An
 * SQL NULL value stores JSON null; a NULL path replaces the whole
 * document, which must then be an object or an array.
 */
Datum
assoc_path_set(PG_FUNCTION_ARGS)
{
	AssocBatch      batch;
	AssocPatchEntry entry;

	entry.erase = false;
	if (PG_ARGISNULL(2))
		entry.value = assoc_null_value;
	else
		assoc_value_from_jsonb(PG_GETARG_JSONB_P(2), &entry.value);

	if (PG_ARGISNULL(1))
	{
		if (entry.value.type != JENTRY_ISCONTAINER)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for the whole document: expected "
							"an object or an array"),
					 errdetail("A NULL path replaces the whole document.")));
		entry.path.text = NULL;
		entry.path.textlen = 0;
		entry.path.ntokens = 0;
		entry.path.tokens = NULL;
	}
	else
		path_from_text(PG_GETARG_TEXT_PP(1), &entry.path);

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	batch.nentries = 1;
	batch.entries = &entry;
	PG_RETURN_JSONB_P(assoc_batch_apply(PG_GETARG_JSONB_P(0), &batch));
}

PG_FUNCTION_INFO_V1(assoc_path_erase);

/*
 * assoc.path_erase(doc, path) → jsonb: doc with path erased (object
 * member removed, array element set to null).  A NULL path is rejected.
 */
Datum
assoc_path_erase(PG_FUNCTION_ARGS)
{
	AssocBatch      batch;
	AssocPatchEntry entry;

	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("path must not be NULL for assoc.path_erase")));
	path_from_text(PG_GETARG_TEXT_PP(1), &entry.path);
	entry.erase = true;
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	batch.nentries = 1;
	batch.entries = &entry;
	PG_RETURN_JSONB_P(assoc_batch_apply(PG_GETARG_JSONB_P(0), &batch));
}

PG_FUNCTION_INFO_V1(assoc_patch);

/*
 * assoc.patch(doc, patches) → jsonb: applies an ordered batch atomically
 * in one pass.  The batch is validated whole before anything is applied.
 */
Datum
assoc_patch(PG_FUNCTION_ARGS)
{
	AssocBatch batch;

	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("patches must not be NULL for assoc.patch")));
	assoc_batch_from_jsonb(PG_GETARG_JSONB_P(1), &batch);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_JSONB_P(assoc_batch_apply(PG_GETARG_JSONB_P(0), &batch));
}

PG_FUNCTION_INFO_V1(assoc_has_forbidden_keys);

/*
 * assoc.has_forbidden_keys(doc) → boolean: true if any object key
 * anywhere in doc, trimmed of white space as path pieces are, is
 * __proto__, constructor or prototype (a deepstream client that trims it
 * would reach Object.prototype through it).  STRICT.
 */
Datum
assoc_has_forbidden_keys(PG_FUNCTION_ARGS)
{
	const char *key;
	int         keylen;

	PG_RETURN_BOOL(
		assoc_jsonb_has_forbidden_keys(PG_GETARG_JSONB_P(0), &key, &keylen));
}
