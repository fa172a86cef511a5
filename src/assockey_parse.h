/*
 * assockey_parse.h
 *	  Pure-C text parser and formatter for the assockey type.
 *
 * This header and assockey_parse.c do not include postgres.h: they link both
 * into the extension (which turns error codes into ereport) and into the
 * libFuzzer target test/fuzz/assockey_fuzz.c.  Nothing here allocates; the
 * caller provides every buffer.
 *
 * Text form: '{' [ element { ',' element } ] '}' with optional white space
 * around the braces and elements.  An element is "model:id", split at its
 * first ':'; it may be written with double quotes and backslash escapes
 * exactly like a PostgreSQL array element.
 */
#ifndef ASSOCKEY_PARSE_H
#define ASSOCKEY_PARSE_H

#include <stddef.h>

/* Limits of a key's parts (README, "Compound association keys"). */
#define AK_MODEL_MAXLEN 63
#define AK_ID_MAXLEN    1024

/* One parsed association; pointers into the caller's output buffer. */
typedef struct AkElem
{
	const char *model;
	size_t      model_len;
	const char *id;
	size_t      id_len;
} AkElem;

/* Error codes returned by assoc_ak_parse and the validators. */
typedef enum AkError
{
	AK_OK = 0,
	AK_ERR_NO_OPEN_BRACE,      /* text does not start with '{' */
	AK_ERR_MISSING_CLOSE,      /* text ended before the closing '}' */
	AK_ERR_UNTERMINATED_QUOTE, /* a '"' was never closed */
	AK_ERR_TRAILING_ESCAPE,    /* a '\' at the very end */
	AK_ERR_NESTED_BRACE,       /* an unquoted, unescaped '{' in an element */
	AK_ERR_JUNK_AFTER,         /* something after the closing '}' */
	AK_ERR_EMPTY_ELEMENT,      /* nothing between two delimiters */
	AK_ERR_NO_COLON,           /* element without ':' */
	AK_ERR_MODEL_EMPTY,        /* ':' first */
	AK_ERR_MODEL_TOO_LONG,     /* model longer than 63 characters */
	AK_ERR_MODEL_CHAR,         /* model character outside [A-Za-z0-9_.-] */
	AK_ERR_ID_EMPTY,           /* nothing after ':' */
	AK_ERR_ID_TOO_LONG,        /* id longer than 1024 bytes */
	AK_ERR_NUL                 /* a zero byte */
} AkError;

/* Outcome of assoc_ak_parse: error code, where, and how many elements. */
typedef struct AkParseResult
{
	AkError error;
	size_t  err_pos;  /* byte offset into the input */
	size_t  err_elem; /* 1-based element number, 0 if none */
	size_t  nelems;   /* elements parsed (before canonicalizing) */
} AkParseResult;

/* Upper bound of elements a text of len bytes can hold. */
#define AK_MAX_ELEMS(len) ((len) / 2 + 1)

extern AkError
assoc_ak_parse(const char *in, size_t len, char *outbuf, AkElem *elems,
			   size_t maxelems, AkParseResult *res);
extern const char *assoc_ak_error_message(AkError err);
extern AkError     assoc_ak_validate_model(const char *model, size_t len);
extern AkError     assoc_ak_validate_id(const char *id, size_t len);
extern int         assoc_ak_elem_cmp(const AkElem *a, const AkElem *b);
extern size_t      assoc_ak_canonicalize(AkElem *elems, size_t n);
extern int         assoc_ak_elem_needs_quotes(const AkElem *e);
extern size_t      assoc_ak_elem_format_size(const AkElem *e);
extern size_t      assoc_ak_elem_format(char *dst, const AkElem *e);

#endif /* ASSOCKEY_PARSE_H */
