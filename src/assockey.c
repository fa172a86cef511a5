/*
 * assockey.c
 *	  The assockey type: text and binary I/O, constructors and accessors
 *	  (the operators are assockey_ops.c).
 *
 * An assockey is a set of (model, id) associations kept in canonical form
 * (see assockey.h).  Every way in (text, recv, constructors, set operators)
 * produces canonical data, so equality is byte equality.
 *
 * Layer: SQL entry points, keys family, and the assockey type the write
 * path uses (README, "How the code is organised"); calls assockey_parse.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "compat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "assockey.h"
#include "rules.h"

/*
 * assoc_ak_iter_init: start iterating over the elements of a detoasted key.
 */
void
assoc_ak_iter_init(AkIter *it, const AssocKey *key)
{
	it->key = key;
	it->i = 0;
	it->ptr = AK_DATA(key);
}

/*
 * assoc_ak_iter_next: fetch the next element into e; false at the end.  The
 * element points into the key, nothing is copied.
 */
bool
assoc_ak_iter_next(AkIter *it, AkElem *e)
{
	uint16 w;

	if (it->i >= it->key->nelems)
		return false;
	w = it->key->lens[it->i++];
	e->model = it->ptr;
	e->model_len = AK_MLEN(w);
	e->id = it->ptr + e->model_len;
	e->id_len = AK_IDLEN(w);
	it->ptr = e->id + e->id_len;
	return true;
}

/*
 * assoc_ak_elements: all elements of a key as a palloc'd array (pointing into the
 * key), for callers that need random access.
 */
AkElem *
assoc_ak_elements(const AssocKey *key)
{
	AkElem *elems = palloc(sizeof(AkElem) * Max(key->nelems, 1));
	AkIter  it;
	int     n = 0;

	assoc_ak_iter_init(&it, key);
	while (assoc_ak_iter_next(&it, &elems[n]))
		n++;
	return elems;
}

/*
 * assoc_ak_build: make a new key from elements.  Unless the caller guarantees
 * canonical order (sorted, no duplicates), the elements are sorted and
 * deduplicated first (which reorders the caller's array).  The elements
 * must already be valid.
 */
AssocKey *
assoc_ak_build(AkElem *elems, size_t n, bool canonical)
{
	Size      size;
	size_t    i;
	AssocKey *key;
	char     *p;

	if (!canonical)
		n = assoc_ak_canonicalize(elems, n);
	if (n > (size_t) (MaxAllocSize / sizeof(uint16)))
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("assockey has too many associations")));
	size = AK_HDRSZ + AK_LENS_SIZE(n);
	for (i = 0; i < n; i++)
	{
		size += elems[i].model_len + elems[i].id_len;
		if (size > MaxAllocSize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("assockey would exceed the maximum size of %d "
							"bytes",
							(int) MaxAllocSize)));
	}
	key = palloc(size);
	SET_VARSIZE(key, size);
	key->nelems = (int32) n;
	p = AK_DATA(key);
	for (i = 0; i < n; i++)
	{
		key->lens[i] = AK_PACK(elems[i].model_len, elems[i].id_len);
		memcpy(p, elems[i].model, elems[i].model_len);
		p += elems[i].model_len;
		memcpy(p, elems[i].id, elems[i].id_len);
		p += elems[i].id_len;
	}
	return key;
}

/*
 * assoc_ak_elem_hash: 64-bit hash of one association, the GIN key and the basis of
 * hashing.  Chaining the model's hash into the id's seed keeps ("ab","c")
 * and ("a","bc") apart without a contiguous buffer.
 */
uint64
assoc_ak_elem_hash(const AkElem *e)
{
	uint64 h = hash_bytes_extended((const unsigned char *) e->model,
								   (int) e->model_len, 0);

	return hash_bytes_extended((const unsigned char *) e->id, (int) e->id_len,
							   h);
}

/*
 * assoc_ak_elem_text: write "model:id" unquoted (the element statistics' value
 * form) to dst, returning its length; dst needs model_len + id_len + 1.
 */
size_t
assoc_ak_elem_text(const AkElem *e, char *dst)
{
	memcpy(dst, e->model, e->model_len);
	dst[e->model_len] = ':';
	memcpy(dst + e->model_len + 1, e->id, e->id_len);
	return e->model_len + 1 + e->id_len;
}

/*
 * ak_check_encoding: reject ids that are not valid in the server encoding
 * (the parser is encoding-agnostic).  Returns false instead of raising so
 * each caller picks its own SQLSTATE and message.
 */
static bool
ak_check_encoding(const AkElem *e)
{
	return pg_verifymbstr(e->id, (int) e->id_len, true);
}

/* ---------------------------------------------------------------------
 * Text I/O
 * ---------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(assockey_in);
/*
 * assockey_in: parse the text form with the pure-C parser, turn its error
 * code into a 22P02 pointing at the character and element, canonicalize.
 */
Datum
assockey_in(PG_FUNCTION_ARGS)
{
	char         *str = PG_GETARG_CSTRING(0);
	size_t        len = strlen(str);
	char         *buf = palloc(len + 1);
	size_t        maxelems = AK_MAX_ELEMS(len);
	AkElem       *elems = palloc(sizeof(AkElem) * maxelems);
	AkParseResult res;
	size_t        i;

	if (assoc_ak_parse(str, len, buf, elems, maxelems, &res) != AK_OK)
	{
		int charpos = pg_mbstrlen_with_len(str, (int) res.err_pos) + 1;

		if (res.err_elem > 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							errmsg("malformed assockey literal: \"%s\"", str),
							errdetail("Element %d, at character %d: %s.",
									  (int) res.err_elem, charpos,
									  assoc_ak_error_message(res.error))));
		ereport(ERROR, (errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						errmsg("malformed assockey literal: \"%s\"", str),
						errdetail("At character %d: %s.", charpos,
								  assoc_ak_error_message(res.error))));
	}
	for (i = 0; i < res.nelems; i++)
		if (!ak_check_encoding(&elems[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("malformed assockey literal: \"%s\"", str),
					 errdetail("Element %d: id is not valid in encoding "
							   "\"%s\".",
							   (int) i + 1, GetDatabaseEncodingName())));
	PG_RETURN_ASSOCKEY_P(assoc_ak_build(elems, res.nelems, false));
}

PG_FUNCTION_INFO_V1(assockey_out);
/*
 * assockey_out: canonical text form; elements quoted exactly when
 * assoc_ak_elem_needs_quotes says so, so text -> assockey -> text is identity on
 * canonical text.
 */
Datum
assockey_out(PG_FUNCTION_ARGS)
{
	AssocKey *key = PG_GETARG_ASSOCKEY_P(0);
	AkIter    it;
	AkElem    e;
	Size      size = 3;
	char     *out, *p;

	assoc_ak_iter_init(&it, key);
	while (assoc_ak_iter_next(&it, &e))
		size += assoc_ak_elem_format_size(&e) + 1;
	out = palloc(size);
	p = out;
	*p++ = '{';
	assoc_ak_iter_init(&it, key);
	while (assoc_ak_iter_next(&it, &e))
	{
		if (p != out + 1)
			*p++ = ',';
		p += assoc_ak_elem_format(p, &e);
	}
	*p++ = '}';
	*p = '\0';
	PG_RETURN_CSTRING(out);
}

/* ---------------------------------------------------------------------
 * Binary I/O: int32 count, then per element int32 length + model bytes and
 * int32 length + id text (converted between client and server encoding).
 * ---------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(assockey_recv);
/*
 * assockey_recv: read the binary form, validating every element and
 * rejecting data that is not canonical (unsorted or duplicated) with 22P03,
 * so a binary client cannot store a key that compares wrongly.
 */
Datum
assockey_recv(PG_FUNCTION_ARGS)
{
	StringInfo buf = (StringInfo) PG_GETARG_POINTER(0);
	int32      n = pq_getmsgint(buf, 4);
	AkElem    *elems;
	int32      i;

	if (n < 0 || n > (buf->len - buf->cursor) / 8)
		ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						errmsg("invalid assockey element count %d", n)));
	elems = palloc(sizeof(AkElem) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		int32   mlen = pq_getmsgint(buf, 4);
		int32   idlen;
		int     nbytes;
		AkError err;

		if (mlen < 0 || mlen > buf->len - buf->cursor)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid model length in assockey element %d",
							i + 1)));
		elems[i].model = pq_getmsgbytes(buf, mlen);
		elems[i].model_len = mlen;
		idlen = pq_getmsgint(buf, 4);
		if (idlen < 0 || idlen > buf->len - buf->cursor)
			ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
							errmsg("invalid id length in assockey element %d",
								   i + 1)));
		/* pq_getmsgtext converts the encoding and verifies it */
		elems[i].id = pq_getmsgtext(buf, idlen, &nbytes);
		elems[i].id_len = nbytes;
		err = assoc_ak_validate_model(elems[i].model, elems[i].model_len);
		if (err == AK_OK)
			err = assoc_ak_validate_id(elems[i].id, elems[i].id_len);
		if (err != AK_OK)
			ereport(ERROR, (errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
							errmsg("invalid assockey element %d: %s", i + 1,
								   assoc_ak_error_message(err))));
		if (i > 0 && assoc_ak_elem_cmp(&elems[i - 1], &elems[i]) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("assockey binary data is not canonical"),
					 errdetail("Element %d is not greater than element %d "
							   "in bytewise (model, id) order.",
							   i + 1, i)));
	}
	PG_RETURN_ASSOCKEY_P(assoc_ak_build(elems, n, true));
}

PG_FUNCTION_INFO_V1(assockey_send);
/*
 * assockey_send: write the binary form read by assockey_recv.
 */
Datum
assockey_send(PG_FUNCTION_ARGS)
{
	AssocKey      *key = PG_GETARG_ASSOCKEY_P(0);
	StringInfoData buf;
	AkIter         it;
	AkElem         e;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, key->nelems);
	assoc_ak_iter_init(&it, key);
	while (assoc_ak_iter_next(&it, &e))
	{
		pq_sendint32(&buf, (int32) e.model_len);
		pq_sendbytes(&buf, e.model, (int) e.model_len);
		/* length-prefixed text in the client encoding */
		{
			char *conv = pg_server_to_client(e.id, (int) e.id_len);
			int   clen = conv == e.id ? (int) e.id_len : strlen(conv);

			pq_sendint32(&buf, clen);
			pq_sendbytes(&buf, conv, clen);
			if (conv != e.id)
				pfree(conv);
		}
	}
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------------------------------------------------------------------
 * Constructors
 * ---------------------------------------------------------------------
 */

/*
 * ak_check_pair: validate a model and an id given as separate values
 * (assockey(), assockey_from_jsonb), raising 22023 with the model named.
 */
static void
ak_check_pair(const AkElem *e, const char *where)
{
	AkError err = assoc_ak_validate_model(e->model, e->model_len);

	if (err != AK_OK)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid association model \"%s\"%s",
							   e->model_len <= AK_MODEL_MAXLEN * 4
								   ? pnstrdup(e->model, e->model_len)
								   : "...",
							   where),
						errdetail("The %s.", assoc_ak_error_message(err))));
	err = assoc_ak_validate_id(e->id, e->id_len);
	if (err == AK_OK && !ak_check_encoding(e))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid association id for model \"%.*s\"%s",
							   (int) e->model_len, e->model, where),
						errdetail("The id is not valid in encoding \"%s\".",
								  GetDatabaseEncodingName())));
	if (err != AK_OK)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid association id for model \"%.*s\"%s",
							   (int) e->model_len, e->model, where),
						errdetail("The %s.", assoc_ak_error_message(err))));
}

PG_FUNCTION_INFO_V1(assockey_make);
/*
 * assockey_make: assoc.assockey(model, id), the one-element key.  STRICT.
 */
Datum
assockey_make(PG_FUNCTION_ARGS)
{
	text  *model = PG_GETARG_TEXT_PP(0);
	text  *id = PG_GETARG_TEXT_PP(1);
	AkElem e;

	e.model = VARDATA_ANY(model);
	e.model_len = VARSIZE_ANY_EXHDR(model);
	e.id = VARDATA_ANY(id);
	e.id_len = VARSIZE_ANY_EXHDR(id);
	ak_check_pair(&e, "");
	PG_RETURN_ASSOCKEY_P(assoc_ak_build(&e, 1, true));
}

PG_FUNCTION_INFO_V1(assockey_from_array);
/*
 * assockey_from_array: assoc.assockey_from_array(text[]); each element is
 * "model:id" split at the first ':'.  A NULL element is 22004, a malformed
 * one 22P02 (it is a text representation).  Any dimensionality is
 * accepted and flattened.  STRICT.
 */
Datum
assockey_from_array(PG_FUNCTION_ARGS)
{
	ArrayType *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum     *values;
	bool      *nulls;
	int        n, i;
	AkElem    *elems;

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &values, &nulls,
					  &n);
	elems = palloc(sizeof(AkElem) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		text       *t;
		const char *s;
		int         len;
		const char *colon;
		AkError     err;

		CHECK_FOR_INTERRUPTS();
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("association array element %d is NULL", i + 1)));
		t = DatumGetTextPP(values[i]);
		s = VARDATA_ANY(t);
		len = VARSIZE_ANY_EXHDR(t);
		colon = memchr(s, ':', len);
		if (colon == NULL)
			err = AK_ERR_NO_COLON;
		else
		{
			elems[i].model = s;
			elems[i].model_len = colon - s;
			elems[i].id = colon + 1;
			elems[i].id_len = len - (colon - s) - 1;
			err = assoc_ak_validate_model(elems[i].model, elems[i].model_len);
			if (err == AK_OK)
				err = assoc_ak_validate_id(elems[i].id, elems[i].id_len);
		}
		if (err != AK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid association in array element %d: \"%s\"",
							i + 1, text_to_cstring(t)),
					 errdetail("The %s.", assoc_ak_error_message(err))));
	}
	PG_RETURN_ASSOCKEY_P(assoc_ak_build(elems, n, false));
}

/*
 * ak_jsonb_string: fetch member name of a jsonb object as a string element
 * of a Rocket.Chat association, raising 22004 for JSON null and 22023 for a
 * missing member or any other JSON type.
 */
static void
ak_jsonb_string(JsonbValue *v, const char *name, int elemno, const char **s,
				size_t *len)
{
	if (v == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("association %d has no \"%s\" member", elemno, name),
				 errhint("Each element must look like {\"model\": \"room\", "
						 "\"id\": \"GENERAL\"}.")));
	if (v->type == jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("association %d has a null \"%s\"", elemno, name)));
	if (v->type != jbvString)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("association %d: \"%s\" must be a string",
							   elemno, name)));
	*s = v->val.string.val;
	*len = v->val.string.len;
}

PG_FUNCTION_INFO_V1(assockey_from_jsonb);
/*
 * assockey_from_jsonb: build a key from Rocket.Chat's form
 * [{"model": "room", "id": "GENERAL"}, ...].  Shape errors are 22023 (an
 * unknown member too, so typos are not silently dropped), JSON null model
 * or id 22004.  STRICT.
 */
Datum
assockey_from_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb             *jb = PG_GETARG_JSONB_P(0);
	JsonbIterator     *it;
	JsonbValue         v;
	JsonbIteratorToken tok;
	int                n, i;
	AkElem            *elems;
	char               where[64];

	if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("assockey jsonb must be an array of associations"),
				 errhint("Use the form [{\"model\": \"room\", \"id\": "
						 "\"GENERAL\"}, ...].")));
	n = JB_ROOT_COUNT(jb);
	elems = palloc(sizeof(AkElem) * Max(n, 1));
	it = JsonbIteratorInit(&jb->root);
	tok = JsonbIteratorNext(&it, &v, true); /* WJB_BEGIN_ARRAY */
	for (i = 0; i < n; i++)
	{
		JsonbValue *model = NULL, *id = NULL;

		CHECK_FOR_INTERRUPTS();
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_ELEM);
		if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("association %d must be a JSON object", i + 1),
					 errhint("Each element must look like {\"model\": "
							 "\"room\", \"id\": \"GENERAL\"}.")));
		{
			JsonbIterator     *oit = JsonbIteratorInit(v.val.binary.data);
			JsonbValue         k, val;
			JsonbIteratorToken otok;

			while ((otok = JsonbIteratorNext(&oit, &k, true)) != WJB_DONE)
			{
				if (otok != WJB_KEY)
					continue;
				otok = JsonbIteratorNext(&oit, &val, true);
				if (k.val.string.len == 5 &&
					memcmp(k.val.string.val, "model", 5) == 0)
				{
					model = palloc(sizeof(JsonbValue));
					*model = val;
				}
				else if (k.val.string.len == 2 &&
						 memcmp(k.val.string.val, "id", 2) == 0)
				{
					id = palloc(sizeof(JsonbValue));
					*id = val;
				}
				else
					ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
									errmsg("association %d has unknown member "
										   "\"%s\"",
										   i + 1,
										   pnstrdup(k.val.string.val,
													k.val.string.len)),
									errhint("Only \"model\" and \"id\" are "
											"allowed.")));
			}
		}
		ak_jsonb_string(model, "model", i + 1, &elems[i].model,
						&elems[i].model_len);
		ak_jsonb_string(id, "id", i + 1, &elems[i].id, &elems[i].id_len);
		snprintf(where, sizeof(where), " in association %d", i + 1);
		ak_check_pair(&elems[i], where);
	}
	(void) tok;
	PG_RETURN_ASSOCKEY_P(assoc_ak_build(elems, n, false));
}

/*
 * Push an assockey into JSON being built, as its cast to json gives it
 * (assockey_to_json): [{"model": ..., "id": ...}, ...] in canonical
 * order.  For the rows the op_id ledger keeps and the items of a search,
 * which must read as to_jsonb would have written them.
 */
void
assoc_ak_push_json(JsonbParseState **state, Datum keys)
{
	AssocKey *key = DatumGetAssocKeyP(keys);
	AkIter    it;
	AkElem    e;

	(void) pushJsonbValue(state, WJB_BEGIN_ARRAY, NULL);
	assoc_ak_iter_init(&it, key);
	while (assoc_ak_iter_next(&it, &e))
	{
		(void) pushJsonbValue(state, WJB_BEGIN_OBJECT, NULL);
		assoc_jsonb_push_string(state, WJB_KEY, "model", 5);
		assoc_jsonb_push_string(state, WJB_VALUE, e.model, e.model_len);
		assoc_jsonb_push_string(state, WJB_KEY, "id", 2);
		assoc_jsonb_push_string(state, WJB_VALUE, e.id, e.id_len);
		(void) pushJsonbValue(state, WJB_END_OBJECT, NULL);
	}
	(void) pushJsonbValue(state, WJB_END_ARRAY, NULL);
}

PG_FUNCTION_INFO_V1(assockey_to_json);
/*
 * assockey_to_json: the cast to json, giving Rocket.Chat's form; to_json,
 * to_jsonb and row_to_json find it through the cast.
 */
Datum
assockey_to_json(PG_FUNCTION_ARGS)
{
	AssocKey      *key = PG_GETARG_ASSOCKEY_P(0);
	StringInfoData buf;
	AkIter         it;
	AkElem         e;
	bool           first = true;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	assoc_ak_iter_init(&it, key);
	while (assoc_ak_iter_next(&it, &e))
	{
		char *s;

		if (!first)
			appendStringInfoChar(&buf, ',');
		first = false;
		appendStringInfoString(&buf, "{\"model\":\"");
		appendBinaryStringInfo(&buf, e.model, (int) e.model_len);
		appendStringInfoString(&buf, "\",\"id\":");
		s = pnstrdup(e.id, e.id_len);
		escape_json(&buf, s);
		pfree(s);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoChar(&buf, ']');
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/* ---------------------------------------------------------------------
 * Accessors
 * ---------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(assockey_models);
/*
 * assockey_models: distinct models of the key, in canonical order.
 */
Datum
assockey_models(PG_FUNCTION_ARGS)
{
	AssocKey *key = PG_GETARG_ASSOCKEY_P(0);
	Datum    *out = palloc(sizeof(Datum) * Max(key->nelems, 1));
	int       n = 0;
	AkIter    it;
	AkElem    e, prev = {0};

	assoc_ak_iter_init(&it, key);
	while (assoc_ak_iter_next(&it, &e))
	{
		if (n > 0 && prev.model_len == e.model_len &&
			memcmp(prev.model, e.model, e.model_len) == 0)
			continue;
		out[n++] = PointerGetDatum(
			cstring_to_text_with_len(e.model, (int) e.model_len));
		prev = e;
	}
	PG_RETURN_ARRAYTYPE_P(
		construct_array(out, n, TEXTOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(assockey_ids);
/*
 * assockey_ids: ids associated with one model, in canonical order; an empty
 * array when the model does not occur.
 */
Datum
assockey_ids(PG_FUNCTION_ARGS)
{
	AssocKey   *key = PG_GETARG_ASSOCKEY_P(0);
	text       *model = PG_GETARG_TEXT_PP(1);
	const char *m = VARDATA_ANY(model);
	size_t      mlen = VARSIZE_ANY_EXHDR(model);
	Datum      *out = palloc(sizeof(Datum) * Max(key->nelems, 1));
	int         n = 0;
	AkIter      it;
	AkElem      e;

	assoc_ak_iter_init(&it, key);
	while (assoc_ak_iter_next(&it, &e))
	{
		if (e.model_len == mlen && memcmp(e.model, m, mlen) == 0)
			out[n++] = PointerGetDatum(
				cstring_to_text_with_len(e.id, (int) e.id_len));
	}
	PG_RETURN_ARRAYTYPE_P(
		construct_array(out, n, TEXTOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(assockey_size);
/*
 * assockey_size: number of associations.
 */
Datum
assockey_size(PG_FUNCTION_ARGS)
{
	AssocKey *key = PG_GETARG_ASSOCKEY_P(0);

	PG_RETURN_INT32(key->nelems);
}
