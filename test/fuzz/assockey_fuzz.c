/*
 * assockey_fuzz.c
 *	  libFuzzer target for the assockey text parser (src/assockey_parse.c).
 *
 * For every input: assoc_ak_parse must return without crashing or reading out of
 * bounds.  When it accepts the input, the canonical elements must satisfy
 * the model/id rules and be strictly ordered, and the canonical text must
 * parse back to the same elements and format to the same text again
 * (round trip identity on canonical text).  Any violation aborts.
 *
 *	make test/fuzz/assockey_fuzz && test/fuzz/assockey_fuzz -runs=10000000
 */
#include "assockey_parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Abort with a message: libFuzzer records the input as a crash. */
static void
fail(const char *what)
{
	fprintf(stderr, "assockey_fuzz: %s\n", what);
	abort();
}

/*
 * format_all: canonical text of elements into a malloc'd buffer, the same
 * way assockey_out writes it.
 */
static char *
format_all(const AkElem *e, size_t n, size_t *len)
{
	size_t size = 3, i;
	char  *out, *p;

	for (i = 0; i < n; i++)
		size += assoc_ak_elem_format_size(&e[i]) + 1;
	out = malloc(size);
	p = out;
	*p++ = '{';
	for (i = 0; i < n; i++)
	{
		size_t w;

		if (i > 0)
			*p++ = ',';
		w = assoc_ak_elem_format(p, &e[i]);
		if (w != assoc_ak_elem_format_size(&e[i]))
			fail("format size mismatch");
		p += w;
	}
	*p++ = '}';
	*len = (size_t) (p - out);
	return out;
}

/*
 * parse_canonical: parse and canonicalize; returns elements (malloc'd) or
 * NULL on a parse error.  *buf receives the unescape buffer to free.
 */
static AkElem *
parse_canonical(const char *in, size_t len, size_t *n, char **buf)
{
	size_t        maxelems = AK_MAX_ELEMS(len);
	AkElem       *elems = malloc(sizeof(AkElem) * maxelems);
	AkParseResult res;

	*buf = malloc(len + 1);
	if (assoc_ak_parse(in, len, *buf, elems, maxelems, &res) != AK_OK)
	{
		if (res.err_pos > len)
			fail("error position past the end");
		if (assoc_ak_error_message(res.error) == NULL)
			fail("no error message");
		free(elems);
		free(*buf);
		*buf = NULL;
		return NULL;
	}
	*n = assoc_ak_canonicalize(elems, res.nelems);
	return elems;
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t  n, n2, i, len1, len2;
	char   *buf, *buf2, *text1, *text2;
	AkElem *e, *e2;

	e = parse_canonical((const char *) data, size, &n, &buf);
	if (e == NULL)
		return 0;
	for (i = 0; i < n; i++)
	{
		if (assoc_ak_validate_model(e[i].model, e[i].model_len) != AK_OK ||
			assoc_ak_validate_id(e[i].id, e[i].id_len) != AK_OK)
			fail("accepted an invalid element");
		if (i > 0 && assoc_ak_elem_cmp(&e[i - 1], &e[i]) >= 0)
			fail("canonical elements not strictly ordered");
	}
	text1 = format_all(e, n, &len1);
	e2 = parse_canonical(text1, len1, &n2, &buf2);
	if (e2 == NULL)
		fail("canonical text does not parse");
	if (n2 != n)
		fail("round trip changed the element count");
	for (i = 0; i < n; i++)
		if (assoc_ak_elem_cmp(&e[i], &e2[i]) != 0)
			fail("round trip changed an element");
	text2 = format_all(e2, n2, &len2);
	if (len1 != len2 || memcmp(text1, text2, len1) != 0)
		fail("canonical text is not a fixed point");
	free(text1);
	free(text2);
	free(e);
	free(e2);
	free(buf);
	free(buf2);
	return 0;
}
