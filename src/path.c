/*
 * path.c
 *		The path grammar (README, "Paths"), in pure C.
 *
 * A path is split on every "." into pieces; each piece is trimmed of white
 * space and empty pieces are skipped.  A piece is a key followed by zero
 * or more indexes "[n]" (n decimal, white space allowed inside the
 * brackets).  Keys that trim to __proto__, constructor or prototype are
 * forbidden everywhere.
 *
 * White space is one rule, defined once (assoc_path_space_code_points and
 * assoc_path_space_len): the code points JavaScript's
 * String.prototype.trim() removes, which is how a deepstream client reads
 * a path.  It applies around pieces, to the end of a key before its "["
 * (for the forbidden check: the key itself keeps that white space, as
 * deepstream's tokenizer does), inside brackets, and to stored keys
 * (assoc_path_trims_to_forbidden, used by has_forbidden_keys).
 *
 * Text is walked character by character, as the encoding description
 * says, so a white-space byte sequence is only ever matched at the start
 * of a character, and no read goes past the end of the input even when
 * it is not valid in the encoding (as the fuzz target feeds it).
 *
 * The parser allocates nothing: tokens point into the caller's text and
 * are written into the caller's array.  That keeps it usable from the
 * libFuzzer target, where no PostgreSQL runtime exists.
 *
 * Layer: pure library (README, "How the code is organised"); plain C, no
 * PostgreSQL calls (fuzzed outside the server).
 */
#include "path.h"

#include <string.h>

/*
 * JavaScript's white space (ECMAScript WhiteSpace and LineTerminator, the
 * set String.prototype.trim() removes), in code point order.
 */
const uint32_t assoc_path_space_code_points[ASSOC_PATH_NSPACES] = {
	0x0009, 0x000A, 0x000B, 0x000C, 0x000D, 0x0020, 0x00A0, 0x1680, 0x2000,
	0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009,
	0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF};

/*
 * One step of a loop over the input: every 65536 steps (counted in
 * *steps), let the caller check for interrupts (path.h).
 */
static inline void
interrupt_point(const AssocPathEncoding *enc, uint32_t *steps)
{
	if ((++*steps & 0xFFFF) == 0 && enc->check_interrupts != NULL)
		enc->check_interrupts();
}

/*
 * Start an encoding description with the given character lengths (by
 * first byte) and no white space; assoc_path_encoding_add_space adds it.
 * It has no interrupt check until the caller sets one.
 * A length outside 1..ASSOC_PATH_SPACE_MAXLEN is taken as 1.
 */
void
assoc_path_encoding_init(AssocPathEncoding *enc, const uint8_t char_len[256])
{
	memset(enc, 0, sizeof(*enc));
	for (int b = 0; b < 256; b++)
		enc->char_len[b] =
			(char_len[b] >= 1 && char_len[b] <= ASSOC_PATH_SPACE_MAXLEN)
				? char_len[b]
				: 1;
}

/*
 * Add the byte sequence of one white-space character to an encoding
 * description.  Returns false (and adds nothing) for an empty or too long
 * sequence or when the table is full.
 */
bool
assoc_path_encoding_add_space(AssocPathEncoding *enc, const uint8_t *bytes,
							  size_t len)
{
	if (len == 0 || len > ASSOC_PATH_SPACE_MAXLEN ||
		enc->nspaces >= ASSOC_PATH_NSPACES)
		return false;
	memcpy(enc->space[enc->nspaces], bytes, len);
	enc->space_len[enc->nspaces] = (uint8_t) len;
	enc->nspaces++;
	enc->space_lead[bytes[0]] = true;
	return true;
}

/*
 * Describe UTF-8: character lengths from the lead byte as PostgreSQL
 * counts them (pg_utf_mblen), and every white-space code point encoded.
 */
void
assoc_path_encoding_utf8(AssocPathEncoding *enc)
{
	uint8_t lens[256];

	for (int b = 0; b < 256; b++)
		lens[b] = (b & 0xE0) == 0xC0   ? 2
				  : (b & 0xF0) == 0xE0 ? 3
				  : (b & 0xF8) == 0xF0 ? 4
									   : 1;
	assoc_path_encoding_init(enc, lens);
	for (int i = 0; i < ASSOC_PATH_NSPACES; i++)
	{
		uint32_t cp = assoc_path_space_code_points[i];
		uint8_t  seq[3];
		size_t   n;

		if (cp < 0x80)
		{
			seq[0] = (uint8_t) cp;
			n = 1;
		}
		else if (cp < 0x800)
		{
			seq[0] = (uint8_t) (0xC0 | (cp >> 6));
			seq[1] = (uint8_t) (0x80 | (cp & 0x3F));
			n = 2;
		}
		else
		{
			seq[0] = (uint8_t) (0xE0 | (cp >> 12));
			seq[1] = (uint8_t) (0x80 | ((cp >> 6) & 0x3F));
			seq[2] = (uint8_t) (0x80 | (cp & 0x3F));
			n = 3;
		}
		(void) assoc_path_encoding_add_space(enc, seq, n);
	}
}

/*
 * The byte length of the character at p, never beyond end (input that is
 * not valid in the encoding is cut at the end, not read past it).
 */
static size_t
char_len(const AssocPathEncoding *enc, const char *p, const char *end)
{
	size_t n = enc->char_len[(uint8_t) *p];
	size_t avail = (size_t) (end - p);

	return n < avail ? n : avail;
}

/* Is cp one of the white-space code points (the rule, file header)? */
bool
assoc_path_is_space_code_point(uint32_t cp)
{
	for (int i = 0; i < ASSOC_PATH_NSPACES; i++)
		if (assoc_path_space_code_points[i] == cp)
			return true;
	return false;
}

/*
 * The white-space rule: the byte length of the white-space character at
 * p (which must be the start of a character), or 0 when the character
 * there is not white space.  Never reads at or past end.
 */
size_t
assoc_path_space_len(const AssocPathEncoding *enc, const char *p,
					 const char *end)
{
	const uint8_t *s = (const uint8_t *) p;
	size_t         avail;

	if (p >= end)
		return 0;
	if (s[0] >= 0x80 && enc->is_space != NULL)
	{
		size_t n = char_len(enc, p, end);

		return enc->is_space(s, n) ? n : 0;
	}
	if (!enc->space_lead[s[0]])
		return 0;
	avail = (size_t) (end - p);
	for (int i = 0; i < enc->nspaces; i++)
	{
		size_t n = enc->space_len[i];

		if (n <= avail && enc->space[i][0] == s[0] &&
			memcmp(enc->space[i], s, n) == 0)
			return n;
	}
	return 0;
}

/* Skip white-space characters from p, not beyond end. */
static const char *
skip_spaces(const AssocPathEncoding *enc, const char *p, const char *end)
{
	size_t   n;
	uint32_t steps = 0;

	while ((n = assoc_path_space_len(enc, p, end)) > 0)
	{
		interrupt_point(enc, &steps);
		p += n;
	}
	return p;
}

/*
 * The end of [start, end) without its trailing white space.  start must
 * be the start of a character; the text is walked forward, since in some
 * encodings a character's last bytes may look like white space.
 */
static const char *
trim_end(const AssocPathEncoding *enc, const char *start, const char *end)
{
	const char *p = start;
	const char *last = start; /* end of the last non-space character */
	uint32_t    steps = 0;

	while (p < end)
	{
		size_t n = assoc_path_space_len(enc, p, end);

		interrupt_point(enc, &steps);
		if (n > 0)
			p += n;
		else
		{
			p += char_len(enc, p, end);
			last = p;
		}
	}
	return last;
}

/*
 * The length of the forbidden segment name that [key, key + len) starts
 * with, or 0 when it starts with none.
 */
static size_t
forbidden_name_at(const char *key, size_t len)
{
	if (len >= 11 && memcmp(key, "constructor", 11) == 0)
		return 11;
	if (len >= 9 &&
		(memcmp(key, "__proto__", 9) == 0 || memcmp(key, "prototype", 9) == 0))
		return 9;
	return 0;
}

/*
 * Does this key, trimmed of white space at both ends, equal __proto__,
 * constructor or prototype (exactly, case-sensitive)?  On true, the name's
 * byte range within the key is returned in *name_start and *name_len.
 * This is the one forbidden-key check: the parser applies it to each
 * piece's key and has_forbidden_keys to stored object keys.
 */
bool
assoc_path_trims_to_forbidden(const AssocPathEncoding *enc, const char *key,
							  size_t len, size_t *name_start, size_t *name_len)
{
	const char *end = key + len;
	const char *name = skip_spaces(enc, key, end);
	size_t      n = forbidden_name_at(name, (size_t) (end - name));

	if (n == 0 || skip_spaces(enc, name + n, end) != end)
		return false;
	*name_start = (size_t) (name - key);
	*name_len = n;
	return true;
}

/*
 * Convert a non-empty run of decimal digits to an index.  Leading zeros are
 * allowed ("01" is 1).  Returns false when the text is not all digits or
 * the value exceeds ASSOC_PATH_MAX_INDEX.  Used for bracket indexes and
 * for digit keys addressing array elements ("a.4").
 */
bool
assoc_path_digits_to_index(const char *s, size_t len, int32_t *index)
{
	int64_t value = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		value = value * 10 + (s[i] - '0');
		if (value > ASSOC_PATH_MAX_INDEX)
			return false;
	}
	*index = (int32_t) value;
	return true;
}

/* Record an error and its location; returns the status for tail calls. */
static AssocPathStatus
fail(AssocPathResult *result, AssocPathStatus status, const char *base,
	 const char *start, const char *end)
{
	result->status = status;
	result->err_start = (size_t) (start - base);
	result->err_len = (size_t) (end - start);
	return status;
}

/*
 * Parse one bracket group starting at *pos (which points at '[') and
 * ending no later than piece_end: white space, decimal digits, white
 * space, ']'.  piece_start locates an unclosed bracket's piece.  On
 * success stores the index and advances *pos past the ']'.
 */
static AssocPathStatus
parse_index(const AssocPathEncoding *enc, const char *base,
			const char *piece_start, const char **pos, const char *piece_end,
			int32_t *index, AssocPathResult *result)
{
	const char *open = *pos;
	const char *close = memchr(open + 1, ']', (size_t) (piece_end - open - 1));
	const char *digits;
	const char *digits_end;
	const char *p;
	uint32_t    steps = 0;

	if (close == NULL)
		return fail(result, ASSOC_PATH_UNCLOSED, base, piece_start, piece_end);

	digits = skip_spaces(enc, open + 1, close);
	digits_end = digits;
	while (digits_end < close && *digits_end >= '0' && *digits_end <= '9')
	{
		interrupt_point(enc, &steps);
		digits_end++;
	}
	p = skip_spaces(enc, digits_end, close);
	if (digits_end == digits || p != close)
		return fail(result, ASSOC_PATH_BAD_INDEX, base, open, close + 1);
	if (!assoc_path_digits_to_index(digits, (size_t) (digits_end - digits),
									index))
		return fail(result, ASSOC_PATH_INDEX_RANGE, base, open, close + 1);
	*pos = close + 1;
	return ASSOC_PATH_OK;
}

/*
 * Append a token, failing with ASSOC_PATH_TOO_DEEP when the caller's array
 * (sized to the depth limit) is full.
 */
static AssocPathStatus
push_token(AssocPathToken *tokens, int max_tokens, AssocPathResult *result,
		   const AssocPathToken *token, const char *base, const char *start,
		   const char *end)
{
	if (result->ntokens >= max_tokens)
		return fail(result, ASSOC_PATH_TOO_DEEP, base, start, end);
	tokens[result->ntokens++] = *token;
	return ASSOC_PATH_OK;
}

/*
 * Parse one trimmed, non-empty piece [start, end): a key, then indexes.
 */
static AssocPathStatus
parse_piece(const AssocPathEncoding *enc, const char *base, const char *start,
			const char *end, AssocPathToken *tokens, int max_tokens,
			AssocPathResult *result)
{
	const char     *p = start;
	const char     *key_end;
	size_t          name_start;
	size_t          name_len;
	AssocPathToken  token;
	AssocPathStatus status;
	uint32_t        steps = 0;

	while (p < end && *p != '[' && *p != ']')
	{
		interrupt_point(enc, &steps);
		p++;
	}
	if (p < end && *p == ']')
		return fail(result, ASSOC_PATH_STRAY_BRACKET, base, start, end);
	key_end = p;
	if (key_end == start)
		return fail(result, ASSOC_PATH_EMPTY_KEY, base, start, end);

	/* The key keeps white space before '[', but is checked trimmed. */
	if (assoc_path_trims_to_forbidden(enc, start, (size_t) (key_end - start),
									  &name_start, &name_len))
		return fail(result, ASSOC_PATH_FORBIDDEN, base, start + name_start,
					start + name_start + name_len);

	token.is_index = false;
	token.index = -1;
	token.key = start;
	token.keylen = (int32_t) (key_end - start);
	status = push_token(tokens, max_tokens, result, &token, base, start, end);
	if (status != ASSOC_PATH_OK)
		return status;

	while (p < end)
	{
		if (*p == ']')
			return fail(result, ASSOC_PATH_STRAY_BRACKET, base, start, end);
		if (*p != '[')
			return fail(result, ASSOC_PATH_TRAILING, base, start, end);
		token.is_index = true;
		token.key = NULL;
		token.keylen = 0;
		status = parse_index(enc, base, start, &p, end, &token.index, result);
		if (status != ASSOC_PATH_OK)
			return status;
		status =
			push_token(tokens, max_tokens, result, &token, base, start, end);
		if (status != ASSOC_PATH_OK)
			return status;
	}
	return ASSOC_PATH_OK;
}

/*
 * Parse a path of len bytes, in the encoding enc describes, into at most
 * max_tokens tokens.  Returns ASSOC_PATH_OK and sets result->ntokens, or
 * an error status with the offending range in result.  The first error
 * from the left wins.
 */
AssocPathStatus
assoc_path_parse(const AssocPathEncoding *enc, const char *path, size_t len,
				 AssocPathToken *tokens, int max_tokens,
				 AssocPathResult *result)
{
	const char *end = path + len;
	const char *piece = path;
	uint32_t    steps = 0;

	result->status = ASSOC_PATH_OK;
	result->ntokens = 0;
	result->err_start = 0;
	result->err_len = 0;

	while (piece <= end)
	{
		const char *dot = memchr(piece, '.', (size_t) (end - piece));
		const char *piece_end = dot ? dot : end;
		const char *s = skip_spaces(enc, piece, piece_end);
		const char *e = trim_end(enc, s, piece_end);

		interrupt_point(enc, &steps);
		if (s < e)
		{
			AssocPathStatus status =
				parse_piece(enc, path, s, e, tokens, max_tokens, result);

			if (status != ASSOC_PATH_OK)
				return status;
		}
		if (dot == NULL)
			break;
		piece = dot + 1;
	}

	if (result->ntokens == 0)
		return fail(result, ASSOC_PATH_EMPTY, path, path, end);
	return ASSOC_PATH_OK;
}

/* A short English description of each status, for error messages. */
const char *
assoc_path_status_text(AssocPathStatus status)
{
	switch (status)
	{
		case ASSOC_PATH_OK:
			return "valid";
		case ASSOC_PATH_EMPTY:
			return "it has no pieces";
		case ASSOC_PATH_EMPTY_KEY:
			return "empty key";
		case ASSOC_PATH_BAD_INDEX:
			return "index is not a decimal number";
		case ASSOC_PATH_INDEX_RANGE:
			return "index is out of range";
		case ASSOC_PATH_UNCLOSED:
			return "\"[\" is not closed";
		case ASSOC_PATH_STRAY_BRACKET:
			return "stray \"]\"";
		case ASSOC_PATH_TRAILING:
			return "text follows the last \"]\"";
		case ASSOC_PATH_TOO_DEEP:
			return "too many tokens";
		case ASSOC_PATH_FORBIDDEN:
			return "forbidden segment";
	}
	return "unknown error";
}
