/*
 * document.h
 *		Documents as read (document.c): parsed paths, values referring to
 *		binary JSONB, lookup, forbidden keys, and the path settings.
 */
#ifndef ASSOC_DOCUMENT_H
#define ASSOC_DOCUMENT_H

#include "utils/builtins.h"
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
assoc_container_child(const JsonbContainer *c, int index, AssocValue *value);
extern bool
assoc_path_lookup(Jsonb *doc, const AssocPath *path, AssocValue *result);
extern bool
assoc_jsonb_has_forbidden_keys(Jsonb *doc, const char **key, int *keylen);

/*
 * Small accessors the patch engine calls for every child it expands,
 * inline so that a call from patch.c costs no call through the PLT.
 */

/*
 * Fill *value with child "index" of container c, whose data starts at
 * offset "offset" from the end of the JEntry array.  Containers and
 * numerics are stored 4-byte aligned with the padding counted in their
 * length; the reference excludes it.
 */
static inline void
assoc_value_from_child(const JsonbContainer *c, int nchildren, int index,
					   uint32 offset, uint32 length, AssocValue *value)
{
	const char *base = (const char *) &c->children[nchildren];
	JEntry      entry = c->children[index];

	value->type = entry & JENTRY_TYPEMASK;
	if (value->type == JENTRY_ISCONTAINER || value->type == JENTRY_ISNUMERIC)
	{
		uint32 aligned = INTALIGN(offset);

		value->data = base + aligned;
		value->len = length - (aligned - offset);
	}
	else
	{
		value->data = base + offset;
		value->len = length;
	}
}

/* Is this value a binary container (an object or an array)? */
static inline bool
assoc_value_is_container(const AssocValue *v)
{
	return v->type == JENTRY_ISCONTAINER;
}

/* Is this value, a binary container, an object? */
static inline bool
assoc_container_is_object(const AssocValue *v)
{
	return JsonContainerIsObject((const JsonbContainer *) v->data);
}

/*
 * The array element a token addresses: an index, or a key made only of
 * decimal digits ("a.4").  Returns false for any other key.
 */
static inline bool
assoc_token_array_index(const AssocPathToken *tok, int32 *index)
{
	if (tok->is_index)
	{
		*index = tok->index;
		return true;
	}
	return assoc_path_digits_to_index(tok->key, tok->keylen, index);
}

/*
 * The object key a token addresses: the key itself, or for an index [n]
 * the key "n" (decimal, no leading zeros), written into buf.
 */
static inline void
assoc_token_object_key(const AssocPathToken *tok, char *buf, const char **key,
					   uint32 *keylen)
{
	if (tok->is_index)
	{
		*keylen = (uint32) pg_ltoa(tok->index, buf);
		*key = buf;
	}
	else
	{
		*key = tok->key;
		*keylen = (uint32) tok->keylen;
	}
}

#endif /* ASSOC_DOCUMENT_H */
