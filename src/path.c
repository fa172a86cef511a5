/*
 * path.c
 *		The path grammar (SPEC §1), in pure C.
 *
 * A path is split on every "." into pieces; each piece is trimmed of ASCII
 * white space and empty pieces are skipped.  A piece is a key followed by
 * zero or more indexes "[n]" (n decimal, spaces allowed inside the
 * brackets).  Keys equal to __proto__, constructor or prototype (after
 * trimming) are forbidden everywhere.
 *
 * The parser allocates nothing: tokens point into the caller's text and
 * are written into the caller's array.  That keeps it usable from the
 * libFuzzer target, where no PostgreSQL runtime exists.
 */
#include "path.h"

#include <string.h>

/* ASCII white space, as trimmed around pieces and inside brackets. */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		   c == '\v';
}

/*
 * Is this key one of the forbidden segment names?  The comparison is
 * exact and case-sensitive; callers pass the key already trimmed.
 */
bool
assoc_path_is_forbidden_key(const char *key, size_t len)
{
	switch (len)
	{
		case 9:
			return memcmp(key, "__proto__", 9) == 0 ||
				   memcmp(key, "prototype", 9) == 0;
		case 11:
			return memcmp(key, "constructor", 11) == 0;
		default:
			return false;
	}
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
 * Parse one bracket group starting at *pos (which points at '[') and ending
 * no later than piece_end; piece_start locates an unclosed bracket's piece.  On success stores the index and advances *pos
 * past the ']'.
 */
static AssocPathStatus
parse_index(const char *base, const char *piece_start, const char **pos,
			const char *piece_end, int32_t *index, AssocPathResult *result)
{
	const char *open = *pos;
	const char *close = memchr(open + 1, ']', (size_t) (piece_end - open - 1));
	const char *p = open + 1;
	const char *digits;
	bool        all_digits = true;

	if (close == NULL)
		return fail(result, ASSOC_PATH_UNCLOSED, base, piece_start, piece_end);

	while (p < close && is_space(*p))
		p++;
	digits = p;
	while (p < close && *p >= '0' && *p <= '9')
		p++;
	if (p == digits)
		all_digits = false;
	{
		const char *digits_end = p;

		while (p < close && is_space(*p))
			p++;
		if (p != close)
			all_digits = false;
		if (!all_digits)
			return fail(result, ASSOC_PATH_BAD_INDEX, base, open, close + 1);
		if (!assoc_path_digits_to_index(digits, (size_t) (digits_end - digits),
										index))
			return fail(result, ASSOC_PATH_INDEX_RANGE, base, open, close + 1);
	}
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
parse_piece(const char *base, const char *start, const char *end,
			AssocPathToken *tokens, int max_tokens, AssocPathResult *result)
{
	const char     *p = start;
	const char     *key_end;
	const char     *trimmed_end;
	AssocPathToken  token;
	AssocPathStatus status;

	while (p < end && *p != '[' && *p != ']')
		p++;
	if (p < end && *p == ']')
		return fail(result, ASSOC_PATH_STRAY_BRACKET, base, start, end);
	key_end = p;
	if (key_end == start)
		return fail(result, ASSOC_PATH_EMPTY_KEY, base, start, end);

	/* The key keeps white space before '[', but is checked trimmed. */
	trimmed_end = key_end;
	while (trimmed_end > start && is_space(trimmed_end[-1]))
		trimmed_end--;
	if (assoc_path_is_forbidden_key(start, (size_t) (trimmed_end - start)))
		return fail(result, ASSOC_PATH_FORBIDDEN, base, start, trimmed_end);

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
		status = parse_index(base, start, &p, end, &token.index, result);
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
 * Parse a path of len bytes into at most max_tokens tokens.  Returns
 * ASSOC_PATH_OK and sets result->ntokens, or an error status with the
 * offending range in result.  The first error from the left wins.
 */
AssocPathStatus
assoc_path_parse(const char *path, size_t len, AssocPathToken *tokens,
				 int max_tokens, AssocPathResult *result)
{
	const char *end = path + len;
	const char *piece = path;

	result->status = ASSOC_PATH_OK;
	result->ntokens = 0;
	result->err_start = 0;
	result->err_len = 0;

	while (piece <= end)
	{
		const char *dot = memchr(piece, '.', (size_t) (end - piece));
		const char *piece_end = dot ? dot : end;
		const char *s = piece;
		const char *e = piece_end;

		while (s < e && is_space(*s))
			s++;
		while (e > s && is_space(e[-1]))
			e--;
		if (s < e)
		{
			AssocPathStatus status =
				parse_piece(path, s, e, tokens, max_tokens, result);

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
