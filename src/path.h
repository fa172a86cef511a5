/*
 * path.h
 *		The path grammar of pg_assoc: deepstream-style paths such as
 *		"personalData.children[1].name".
 *
 * This header and path.c are pure C (no PostgreSQL headers) so that the
 * same parser links into the extension and into the libFuzzer target in
 * test/fuzz/.  Errors are reported by return value; patch.c turns them
 * into ereport(ERROR) with SQLSTATE 22023.
 */
#ifndef ASSOC_PATH_H
#define ASSOC_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest array index a path may name (fits a JSONB element count). */
#define ASSOC_PATH_MAX_INDEX 2147483647

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

extern AssocPathStatus
assoc_path_parse(const char *path, size_t len, AssocPathToken *tokens,
				 int max_tokens, AssocPathResult *result);

extern bool assoc_path_is_forbidden_key(const char *key, size_t len);
extern bool
assoc_path_digits_to_index(const char *s, size_t len, int32_t *index);
extern const char *assoc_path_status_text(AssocPathStatus status);

#endif /* ASSOC_PATH_H */
