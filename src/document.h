/*
 * document.h
 *		Documents as read (document.c): parsed paths, values referring to
 *		binary JSONB, lookup, forbidden keys, and the path settings.
 */
#ifndef ASSOC_DOCUMENT_H
#define ASSOC_DOCUMENT_H

#include "utils/jsonb.h"

#include "path.h"

/* A parsed path, with its text kept for error messages. */
typedef struct AssocPath
{
	const char     *text; /* the path as written (not NUL-terminated) */
	int             textlen;
	int             ntokens; /* 0 = the whole document */
	AssocPathToken *tokens;
} AssocPath;

/*
 * A value written by a batch entry: a reference to JSONB bytes owned by
 * the caller (a scalar, or a binary container), never copied until the
 * result is encoded.
 */
typedef struct AssocValue
{
	uint32      type; /* JENTRY_ISSTRING ... JENTRY_ISCONTAINER */
	const char *data; /* the bytes (a container: its header) */
	uint32      len;  /* their length, without alignment padding */
} AssocValue;

/* assoc.max_path_depth and assoc.max_padding, defined by assoc_document_init. */
extern int  assoc_max_path_depth;
extern int  assoc_max_padding;
extern void assoc_document_init(void);

/* JSON null, the value of absent data and the filler of padded arrays. */
extern const AssocValue assoc_null_value;

/* JSONB order of object keys: shorter first, then bytewise. */
static inline int
assoc_key_cmp(const char *a, uint32 alen, const char *b, uint32 blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

extern const AssocPathEncoding *assoc_path_db_encoding(void);
extern void  assoc_path_parse_or_error(const char *text, int len,
									   const char *where, AssocPath *path);
extern char *assoc_text_for_message(const char *text, int len);
extern void  assoc_value_from_jsonb(Jsonb *jb, AssocValue *value);
extern void
assoc_value_from_child(const JsonbContainer *c, int nchildren, int index,
					   uint32 offset, uint32 length, AssocValue *value);
extern bool assoc_token_array_index(const AssocPathToken *tok, int32 *index);
extern void assoc_token_object_key(const AssocPathToken *tok, char *buf,
								   const char **key, uint32 *keylen);
extern void
assoc_container_child(const JsonbContainer *c, int index, AssocValue *value);
extern bool assoc_value_is_container(const AssocValue *v);
extern bool assoc_container_is_object(const AssocValue *v);
extern bool
assoc_path_lookup(Jsonb *doc, const AssocPath *path, AssocValue *result);
extern bool
assoc_jsonb_has_forbidden_keys(Jsonb *doc, const char **key, int *keylen);

#endif /* ASSOC_DOCUMENT_H */
