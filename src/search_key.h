/*
 * search_key.h
 *		The sort key of a search and its continuation token (search_key.c).
 */
#ifndef ASSOC_SEARCH_KEY_H
#define ASSOC_SEARCH_KEY_H

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

#include "search_args.h"

/* Bytes of a search's fingerprint (a SHA-256 digest, search.c). */
#define ASSOC_SEARCH_FINGERPRINT_LEN 32

/* The columns of a record that its sort key is made from. */
typedef struct AssocSortRow
{
	Jsonb      *data; /* NULL: every path is missing */
	text       *id;
	int64       version;
	TimestampTz created_at;
	TimestampTz updated_at;
} AssocSortRow;

extern struct varlena *
assoc_search_key_make(const AssocSortOrder *order, const AssocSortRow *row);
extern int
assoc_search_key_compare(const struct varlena *a, const struct varlena *b);
extern char *
assoc_search_token_encode(const struct varlena *key, const uint8 *fingerprint,
						  const bytea *secret);
extern struct varlena *
assoc_search_token_decode(const char *token, int len,
						  const AssocSortOrder *order,
						  const uint8 *fingerprint, const bytea *secret);

#endif /* ASSOC_SEARCH_KEY_H */
