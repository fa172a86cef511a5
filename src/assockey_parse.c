/*
 * assockey_parse.c
 *	  Pure-C parser, validator, canonicalizer and formatter of assockey text.
 *
 * No postgres.h: every function reports failure by return value so this file
 * links unchanged into the extension and into the libFuzzer target.  The
 * caller supplies all memory.
 *
 * Layer: pure library (README, "How the code is organised"); plain C,
 * no PostgreSQL calls (fuzzed outside the server).
 */
#include "assockey_parse.h"

#include <stdlib.h>
#include <string.h>

/*
 * ak_isspace: the white space PostgreSQL's array parser trims around
 * elements (ASCII only, so multi-byte characters are never mistaken).
 */
static int
ak_isspace(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		   c == '\f';
}

/*
 * assoc_ak_error_message: human-readable sentence for an error code, used as the
 * errdetail by the extension and in fuzzer diagnostics.
 */
const char *
assoc_ak_error_message(AkError err)
{
	switch (err)
	{
		case AK_OK:
			return "no error";
		case AK_ERR_NO_OPEN_BRACE:
			return "assockey value must start with \"{\"";
		case AK_ERR_MISSING_CLOSE:
			return "unexpected end of input, expected \",\" or \"}\"";
		case AK_ERR_UNTERMINATED_QUOTE:
			return "unterminated quoted string";
		case AK_ERR_TRAILING_ESCAPE:
			return "unexpected end of input after \"\\\"";
		case AK_ERR_NESTED_BRACE:
			return "unexpected \"{\" (quote or escape it)";
		case AK_ERR_JUNK_AFTER:
			return "junk after closing \"}\"";
		case AK_ERR_EMPTY_ELEMENT:
			return "empty element";
		case AK_ERR_NO_COLON:
			return "element must have the form model:id";
		case AK_ERR_MODEL_EMPTY:
			return "model must not be empty";
		case AK_ERR_MODEL_TOO_LONG:
			return "model must be at most 63 characters";
		case AK_ERR_MODEL_CHAR:
			return "model may contain only A-Z, a-z, 0-9, \"_\", \".\" and "
				   "\"-\"";
		case AK_ERR_ID_EMPTY:
			return "id must not be empty";
		case AK_ERR_ID_TOO_LONG:
			return "id must be at most 1024 bytes";
		case AK_ERR_NUL:
			return "zero byte not allowed";
	}
	return "unknown error";
}

/*
 * assoc_ak_validate_model: check the model rule (README, "Compound association keys"), 1-63 characters of
 * [A-Za-z0-9_.-].  Shared by the parser and the SQL constructors.
 */
AkError
assoc_ak_validate_model(const char *model, size_t len)
{
	size_t i;

	if (len == 0)
		return AK_ERR_MODEL_EMPTY;
	if (len > AK_MODEL_MAXLEN)
		return AK_ERR_MODEL_TOO_LONG;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) model[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return AK_ERR_MODEL_CHAR;
	}
	return AK_OK;
}

/*
 * assoc_ak_validate_id: check the id rule (README, "Compound association keys"), 1-1024 bytes without a zero byte.
 * Encoding validity is checked by the extension, which knows the encoding.
 */
AkError
assoc_ak_validate_id(const char *id, size_t len)
{
	if (len == 0)
		return AK_ERR_ID_EMPTY;
	if (len > AK_ID_MAXLEN)
		return AK_ERR_ID_TOO_LONG;
	if (memchr(id, '\0', len) != NULL)
		return AK_ERR_NUL;
	return AK_OK;
}

/*
 * ak_bytes_cmp: bytewise comparison, shorter prefix first (memcmp order,
 * never collation dependent).
 */
static int
ak_bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/*
 * assoc_ak_elem_cmp: the canonical element order, bytewise by (model, id).
 */
int
assoc_ak_elem_cmp(const AkElem *a, const AkElem *b)
{
	int r = ak_bytes_cmp(a->model, a->model_len, b->model, b->model_len);

	if (r != 0)
		return r;
	return ak_bytes_cmp(a->id, a->id_len, b->id, b->id_len);
}

/* qsort adapter for assoc_ak_elem_cmp. */
static int
ak_elem_qsort_cmp(const void *a, const void *b)
{
	return assoc_ak_elem_cmp((const AkElem *) a, (const AkElem *) b);
}

/*
 * assoc_ak_canonicalize: sort elements in canonical order and drop duplicates in
 * place, returning the new count.  Equal sets become identical sequences.
 */
size_t
assoc_ak_canonicalize(AkElem *elems, size_t n)
{
	size_t i, j;
	int    sorted = 1;

	if (n < 2)
		return n;
	for (i = 1; i < n && sorted; i++)
		if (assoc_ak_elem_cmp(&elems[i - 1], &elems[i]) >= 0)
			sorted = 0;
	if (sorted)
		return n;
	qsort(elems, n, sizeof(AkElem), ak_elem_qsort_cmp);
	for (i = 1, j = 0; i < n; i++)
	{
		if (assoc_ak_elem_cmp(&elems[j], &elems[i]) != 0)
			elems[++j] = elems[i];
	}
	return j + 1;
}

/*
 * ak_split_element: split the unescaped element text at its first ':' and
 * validate both halves.
 */
static AkError
ak_split_element(const char *text, size_t len, AkElem *e)
{
	const char *colon = memchr(text, ':', len);
	AkError     err;

	if (colon == NULL)
		return AK_ERR_NO_COLON;
	e->model = text;
	e->model_len = (size_t) (colon - text);
	e->id = colon + 1;
	e->id_len = len - e->model_len - 1;
	err = assoc_ak_validate_model(e->model, e->model_len);
	if (err != AK_OK)
		return err;
	return assoc_ak_validate_id(e->id, e->id_len);
}

/* Skip white space from position p. */
static size_t
ak_skip_space(const char *in, size_t len, size_t p)
{
	while (p < len && ak_isspace((unsigned char) in[p]))
		p++;
	return p;
}

/* Record an error in res and return its code. */
static AkError
ak_fail(AkParseResult *res, AkError err, size_t pos, size_t elem)
{
	res->error = err;
	res->err_pos = pos;
	res->err_elem = elem;
	return err;
}

/*
 * assoc_ak_parse: parse the text form of an assockey.
 *
 * in/len is the input (need not be NUL-terminated).  outbuf must hold at
 * least len bytes: unescaped element text is written there and the elements
 * point into it.  elems must hold AK_MAX_ELEMS(len) entries (maxelems).  The
 * elements come back in input order; call assoc_ak_canonicalize afterwards.
 * Quoting follows PostgreSQL arrays: double-quoted segments and backslash
 * escapes may appear anywhere in an element; unquoted, unescaped white space
 * at an element's edges is dropped.
 */
AkError
assoc_ak_parse(const char *in, size_t len, char *outbuf, AkElem *elems,
			   size_t maxelems, AkParseResult *res)
{
	size_t p;
	size_t o = 0;

	res->error = AK_OK;
	res->err_pos = 0;
	res->err_elem = 0;
	res->nelems = 0;

	if (memchr(in, '\0', len) != NULL)
		return ak_fail(res, AK_ERR_NUL,
					   (size_t) ((const char *) memchr(in, '\0', len) - in),
					   0);

	p = ak_skip_space(in, len, 0);
	if (p >= len || in[p] != '{')
		return ak_fail(res, AK_ERR_NO_OPEN_BRACE, p, 0);
	p = ak_skip_space(in, len, p + 1);
	if (p < len && in[p] == '}')
	{
		p = ak_skip_space(in, len, p + 1);
		if (p < len)
			return ak_fail(res, AK_ERR_JUNK_AFTER, p, 0);
		return AK_OK;
	}

	for (;;)
	{
		size_t  elem_start = p;
		size_t  out_start = o;
		size_t  keep = 0; /* output length to keep (edge trimming) */
		size_t  elemno = res->nelems + 1;
		AkError err;

		while (p < len)
		{
			unsigned char c = (unsigned char) in[p];

			if (c == '"')
			{
				size_t qstart = p++;

				while (p < len && in[p] != '"')
				{
					if (in[p] == '\\')
					{
						p++;
						if (p >= len)
							break;
					}
					outbuf[o++] = in[p++];
				}
				if (p >= len)
					return ak_fail(res, AK_ERR_UNTERMINATED_QUOTE, qstart,
								   elemno);
				p++; /* closing quote */
				keep = o - out_start;
			}
			else if (c == '\\')
			{
				if (p + 1 >= len)
					return ak_fail(res, AK_ERR_TRAILING_ESCAPE, p, elemno);
				outbuf[o++] = in[p + 1];
				p += 2;
				keep = o - out_start;
			}
			else if (c == ',' || c == '}')
				break;
			else if (c == '{')
				return ak_fail(res, AK_ERR_NESTED_BRACE, p, elemno);
			else
			{
				outbuf[o++] = (char) c;
				p++;
				if (!ak_isspace(c))
					keep = o - out_start;
			}
		}
		if (p >= len)
			return ak_fail(res, AK_ERR_MISSING_CLOSE, p, elemno);
		o = out_start + keep;
		if (keep == 0)
			return ak_fail(res, AK_ERR_EMPTY_ELEMENT, elem_start, elemno);
		if (res->nelems >= maxelems) /* cannot happen with AK_MAX_ELEMS */
			return ak_fail(res, AK_ERR_MISSING_CLOSE, p, elemno);
		err = ak_split_element(outbuf + out_start, keep, &elems[res->nelems]);
		if (err != AK_OK)
			return ak_fail(res, err, elem_start, elemno);
		res->nelems++;

		if (in[p] == ',')
		{
			p = ak_skip_space(in, len, p + 1);
			continue;
		}
		/* in[p] == '}' */
		p = ak_skip_space(in, len, p + 1);
		if (p < len)
			return ak_fail(res, AK_ERR_JUNK_AFTER, p, 0);
		return AK_OK;
	}
}

/*
 * assoc_ak_elem_needs_quotes: whether the element must be double-quoted on output,
 * namely when its id holds , { } " \ or ends in white space.  The model
 * cannot hold any of these and the element never starts with white space.
 */
int
assoc_ak_elem_needs_quotes(const AkElem *e)
{
	size_t i;

	for (i = 0; i < e->id_len; i++)
	{
		char c = e->id[i];

		if (c == ',' || c == '{' || c == '}' || c == '"' || c == '\\')
			return 1;
	}
	return ak_isspace((unsigned char) e->id[e->id_len - 1]);
}

/*
 * assoc_ak_elem_format_size: bytes assoc_ak_elem_format writes for e (an upper bound is
 * not enough for callers that size varlenas, so this is exact).
 */
size_t
assoc_ak_elem_format_size(const AkElem *e)
{
	size_t n = e->model_len + 1 + e->id_len;
	size_t i;

	if (!assoc_ak_elem_needs_quotes(e))
		return n;
	for (i = 0; i < e->id_len; i++)
		if (e->id[i] == '"' || e->id[i] == '\\')
			n++;
	return n + 2;
}

/*
 * assoc_ak_elem_format: write the canonical text of one element to dst (no NUL
 * terminator) and return the number of bytes written.
 */
size_t
assoc_ak_elem_format(char *dst, const AkElem *e)
{
	char  *d = dst;
	int    quote = assoc_ak_elem_needs_quotes(e);
	size_t i;

	if (quote)
		*d++ = '"';
	memcpy(d, e->model, e->model_len);
	d += e->model_len;
	*d++ = ':';
	if (!quote)
	{
		memcpy(d, e->id, e->id_len);
		d += e->id_len;
	}
	else
	{
		for (i = 0; i < e->id_len; i++)
		{
			if (e->id[i] == '"' || e->id[i] == '\\')
				*d++ = '\\';
			*d++ = e->id[i];
		}
		*d++ = '"';
	}
	return (size_t) (d - dst);
}
