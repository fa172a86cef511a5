/*
 * path_fuzz.c
 *		libFuzzer target for the path grammar (src/path.c).
 *
 * The first input byte picks the encoding the rest is read in: UTF-8 (as
 * built into path.c), a LATIN1-like single-byte encoding (white space:
 * ASCII and 0xA0) or an EUC_JP-like multibyte one (white space: ASCII and
 * A1 A1; 8E starts two-byte, 8F three-byte and A1-FE two-byte
 * characters), described as the extension describes a server encoding.
 * The rest goes to assoc_path_parse() and assoc_path_trims_to_forbidden(),
 * and the invariants the extension relies on are checked: tokens and
 * error ranges stay inside the input, keys are non-empty and free of '.',
 * '[' and ']', indexes are in range, the token count respects the limit,
 * and, against an independent model of JavaScript's white space (code
 * points decoded here, not the parser's byte tables), no accepted key
 * starts with white space, none ends with it unless an index follows, no
 * accepted key trims to a forbidden name, and the stored-key check agrees
 * with the model.  Any violation aborts, which libFuzzer reports.
 *
 *   make test/fuzz/path_fuzz && test/fuzz/path_fuzz -runs=10000000
 */
#include <stdlib.h>
#include <string.h>

#include "path.h"

#define MAX_TOKENS 16

enum
{
	ENC_UTF8,
	ENC_LATIN1,
	ENC_EUCJP,
	NENC
};

static AssocPathEncoding encodings[NENC];

/* Abort (a libFuzzer crash) when an invariant does not hold. */
static void
check(int condition)
{
	if (!condition)
		abort();
}

/* The model's white space: JavaScript's, by code point. */
static int
model_is_space_cp(uint32_t cp)
{
	return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0xA0 ||
		   cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
		   cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 ||
		   cp == 0xFEFF;
}

/*
 * The model: the length of the character at p (never past end) and
 * whether it is white space.  UTF-8 is decoded, and only a well-formed,
 * shortest sequence is a code point; the other encodings know their few
 * white-space characters by value.
 */
static size_t
model_char(int enc, const unsigned char *p, const unsigned char *end,
		   int *is_space)
{
	size_t avail = (size_t) (end - p);
	size_t n = encodings[enc].char_len[p[0]];

	if (n > avail)
		n = avail;
	*is_space = 0;
	if (p[0] < 0x80)
	{
		*is_space = model_is_space_cp(p[0]);
		return 1;
	}
	if (enc == ENC_UTF8)
	{
		uint32_t cp;
		uint32_t min;
		size_t   want = (p[0] & 0xE0) == 0xC0   ? 2
						: (p[0] & 0xF0) == 0xE0 ? 3
						: (p[0] & 0xF8) == 0xF0 ? 4
												: 0;

		if (want == 0 || want > avail)
			return n;
		cp = p[0] & (0x7F >> want);
		for (size_t i = 1; i < want; i++)
		{
			if ((p[i] & 0xC0) != 0x80)
				return n;
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		min = want == 2 ? 0x80 : want == 3 ? 0x800 : 0x10000;
		*is_space = cp >= min && model_is_space_cp(cp);
	}
	else if (enc == ENC_LATIN1)
		*is_space = p[0] == 0xA0;
	else
		*is_space = n == 2 && p[0] == 0xA1 && p[1] == 0xA1;
	return n;
}

/* The model's trim: [*s, *e) without white space at either end. */
static void
model_trim(int enc, const unsigned char **s, const unsigned char **e)
{
	const unsigned char *p = *s;
	const unsigned char *start = NULL;
	const unsigned char *last = NULL;

	while (p < *e)
	{
		int    sp;
		size_t n = model_char(enc, p, *e, &sp);

		if (!sp)
		{
			if (start == NULL)
				start = p;
			last = p + n;
		}
		p += n;
	}
	if (start == NULL)
		*s = *e = p;
	else
	{
		*s = start;
		*e = last;
	}
}

/* Does the model say this text trims to a forbidden name? */
static int
model_forbidden(int enc, const char *key, size_t len)
{
	const unsigned char *s = (const unsigned char *) key;
	const unsigned char *e = s + len;
	size_t               n;

	model_trim(enc, &s, &e);
	n = (size_t) (e - s);
	return (n == 9 && (memcmp(s, "__proto__", 9) == 0 ||
					   memcmp(s, "prototype", 9) == 0)) ||
		   (n == 11 && memcmp(s, "constructor", 11) == 0);
}

/* Describe the three encodings once. */
static void
init_encodings(void)
{
	uint8_t lens[256];

	assoc_path_encoding_utf8(&encodings[ENC_UTF8]);

	for (int b = 0; b < 256; b++)
		lens[b] = 1;
	assoc_path_encoding_init(&encodings[ENC_LATIN1], lens);
	for (int b = 0x8E; b < 256; b++)
		lens[b] = b == 0x8E ? 2 : b == 0x8F ? 3 : b >= 0xA1 ? 2 : 1;
	assoc_path_encoding_init(&encodings[ENC_EUCJP], lens);
	for (int i = 0; i < ASSOC_PATH_NSPACES; i++)
	{
		uint32_t cp = assoc_path_space_code_points[i];
		uint8_t  c = (uint8_t) cp;

		if (cp < 0x80)
		{
			check(
				assoc_path_encoding_add_space(&encodings[ENC_LATIN1], &c, 1));
			check(assoc_path_encoding_add_space(&encodings[ENC_EUCJP], &c, 1));
		}
	}
	check(assoc_path_encoding_add_space(&encodings[ENC_LATIN1],
										(const uint8_t *) "\xA0", 1));
	check(assoc_path_encoding_add_space(&encodings[ENC_EUCJP],
										(const uint8_t *) "\xA1\xA1", 2));
}

/* The fuzzer's entry point: one input, one parse, all invariants. */
int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static int      ready = 0;
	char           *text;
	int             enc;
	AssocPathToken  tokens[MAX_TOKENS];
	AssocPathResult result;
	AssocPathStatus status;
	size_t          name_start;
	size_t          name_len;
	int             forbidden;

	if (!ready)
	{
		init_encodings();
		ready = 1;
	}
	if (size == 0)
		return 0;
	enc = data[0] % NENC;
	data++;
	size--;

	/* A private copy, so reads past the end are caught by ASan. */
	text = malloc(size ? size : 1);
	memcpy(text, data, size);

	forbidden = assoc_path_trims_to_forbidden(&encodings[enc], text, size,
											  &name_start, &name_len);
	check(forbidden == model_forbidden(enc, text, size));
	if (forbidden)
		check(name_start <= size && name_len <= size - name_start &&
			  (name_len == 9 || name_len == 11));

	status = assoc_path_parse(&encodings[enc], text, size, tokens, MAX_TOKENS,
							  &result);
	check(status == result.status);
	if (forbidden && memchr(text, '.', size) == NULL &&
		memchr(text, '[', size) == NULL && memchr(text, ']', size) == NULL)
		check(status == ASSOC_PATH_FORBIDDEN);

	if (status == ASSOC_PATH_OK)
	{
		check(result.ntokens >= 1 && result.ntokens <= MAX_TOKENS);
		check(!tokens[0].is_index);
		for (int i = 0; i < result.ntokens; i++)
		{
			const AssocPathToken *t = &tokens[i];
			const unsigned char  *s;
			const unsigned char  *e;

			if (t->is_index)
			{
				check(t->index >= 0 && t->index <= ASSOC_PATH_MAX_INDEX);
				continue;
			}
			check(t->keylen > 0);
			check(t->key >= text && t->key + t->keylen <= text + size);
			check(memchr(t->key, '.', t->keylen) == NULL);
			check(memchr(t->key, '[', t->keylen) == NULL);
			check(memchr(t->key, ']', t->keylen) == NULL);
			check(!model_forbidden(enc, t->key, (size_t) t->keylen));

			/* Trimmed at the start; at the end too unless "[" follows. */
			s = (const unsigned char *) t->key;
			e = s + t->keylen;
			model_trim(enc, &s, &e);
			check(s == (const unsigned char *) t->key);
			if (i + 1 == result.ntokens || !tokens[i + 1].is_index)
				check(e == (const unsigned char *) t->key + t->keylen);
		}
	}
	else
	{
		check(result.err_start <= size);
		check(result.err_len <= size - result.err_start);
		check(assoc_path_status_text(status) != NULL);
	}
	free(text);
	return 0;
}
