/*
 * path.h
 *		The path grammar of pg_assoc: deepstream-style paths such as
 *		"personalData.children[1].name".
 *
 * This header and path.c are pure C (no PostgreSQL headers) so that the
 * same parser links into the extension and into the libFuzzer target in
 * test/fuzz/.  Errors are reported by return value; patch.c turns them
 * into ereport(ERROR) with SQLSTATE 22023.
 *
 * White space is JavaScript's (what String.prototype.trim() removes), so
 * a path means what a deepstream client computes.  The parser sees bytes
 * in the database encoding: an AssocPathEncoding describes how long each
 * character is and which byte sequences are the white-space code points
 * in that encoding.  UTF-8 is built in (assoc_path_encoding_utf8); the
 * extension describes any other server encoding once per backend.
 */
#ifndef ASSOC_PATH_H
#define ASSOC_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest array index a path may name (fits a JSONB element count). */
#define ASSOC_PATH_MAX_INDEX 2147483647

/* Number of code points in JavaScript's white-space set. */
#define ASSOC_PATH_NSPACES 25

/* Longest byte sequence of one white-space character in any encoding. */
#define ASSOC_PATH_SPACE_MAXLEN 4

/*
 * The white-space code points (assoc_path_space_code_points, in path.c):
 * U+0009-U+000D, U+0020, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000, U+FEFF.
 */
extern const uint32_t assoc_path_space_code_points[ASSOC_PATH_NSPACES];

/*
 * How the parser reads text in one encoding: the byte length of a
 * character from its first byte (every server encoding of PostgreSQL
 * tells a character's length from its first byte, and none uses an
 * ASCII byte inside a multibyte character), and which characters are
 * white space: the byte sequences of the white-space code points, or for
 * characters from 0x80 on, when is_space is set, that function, which
 * decodes the character to its code point (an encoding may write one
 * code point in more than one way, as EUC_TW does).
 */
typedef struct AssocPathEncoding
{
	uint8_t char_len[256];   /* 1..ASSOC_PATH_SPACE_MAXLEN */
	bool    space_lead[256]; /* some white space starts with this byte */
	int     nspaces;
	uint8_t space_len[ASSOC_PATH_NSPACES];
	uint8_t space[ASSOC_PATH_NSPACES][ASSOC_PATH_SPACE_MAXLEN];

	/*
	 * Called (when not NULL) every 65536 steps of any loop over the input,
	 * so that the extension can honour a cancellation while a path of
	 * hundreds of megabytes is read.  It may leave by longjmp: the parser
	 * holds no resources.
	 */
	void (*check_interrupts)(void);

	/*
	 * When not NULL: is the character of len bytes at p (its first byte
	 * 0x80 or more) one of the white-space code points?
	 */
	bool (*is_space)(const uint8_t *p, size_t len);
} AssocPathEncoding;

/*
 * One token of a parsed path: a key (pointing into the parsed text, not
 * NUL-terminated) or an array index.
 */
typedef struct AssocPathToken
{
	bool        is_index; /* true: [n]; false: a key */
	int32_t     index;    /* the index, when is_index */
	const char *key;      /* the key bytes, when !is_index */
	int32_t     keylen;   /* their length */
} AssocPathToken;

/* Why a path was rejected. */
typedef enum AssocPathStatus
{
	ASSOC_PATH_OK = 0,
	ASSOC_PATH_EMPTY,         /* no pieces at all */
	ASSOC_PATH_EMPTY_KEY,     /* a piece whose key is empty: "[0]" */
	ASSOC_PATH_BAD_INDEX,     /* not digits between brackets: "a[x]" */
	ASSOC_PATH_INDEX_RANGE,   /* index above ASSOC_PATH_MAX_INDEX */
	ASSOC_PATH_UNCLOSED,      /* "[" without "]": "a[0" */
	ASSOC_PATH_STRAY_BRACKET, /* "]" without "[": "a]0[" */
	ASSOC_PATH_TRAILING,      /* text after the last "]": "a[0]b" */
	ASSOC_PATH_TOO_DEEP,      /* more tokens than allowed */
	ASSOC_PATH_FORBIDDEN      /* __proto__, constructor or prototype */
} AssocPathStatus;

/*
 * Result of a parse: the status, the token count, and on error the byte
 * range of the offending piece (or bracket group / segment) in the input.
 */
typedef struct AssocPathResult
{
	AssocPathStatus status;
	int             ntokens;
	size_t          err_start;
	size_t          err_len;
} AssocPathResult;

extern void assoc_path_encoding_utf8(AssocPathEncoding *enc);
extern bool assoc_path_is_space_code_point(uint32_t cp);
extern void
assoc_path_encoding_init(AssocPathEncoding *enc, const uint8_t char_len[256]);
extern bool assoc_path_encoding_add_space(AssocPathEncoding *enc,
										  const uint8_t *bytes, size_t len);

extern size_t assoc_path_space_len(const AssocPathEncoding *enc, const char *p,
								   const char *end);
extern bool
assoc_path_trims_to_forbidden(const AssocPathEncoding *enc, const char *key,
							  size_t len, size_t *name_start,
							  size_t *name_len);

extern AssocPathStatus
assoc_path_parse(const AssocPathEncoding *enc, const char *path, size_t len,
				 AssocPathToken *tokens, int max_tokens,
				 AssocPathResult *result);

extern bool
assoc_path_digits_to_index(const char *s, size_t len, int32_t *index);
extern const char *assoc_path_status_text(AssocPathStatus status);

#endif /* ASSOC_PATH_H */
