/*
 * patch.h
 *		One-pass reading and patching of JSONB documents by path.
 *
 * A batch is an ordered list of writes (set a value at a path, or erase a
 * path).  assoc_batch_apply() applies a whole batch to a document in one
 * pass: it expands only the containers the paths run through, and copies
 * every untouched subtree into the result as binary, so the cost grows
 * with the size of the document plus the size of the batch, not with
 * their product.  The SQL functions path_set, path_erase and patch are
 * all batches; the store layer uses the same entry points.
 */
#ifndef ASSOC_PATCH_H
#define ASSOC_PATCH_H

#include "postgres.h"

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

/* One entry of a batch: set path to value, or erase path. */
typedef struct AssocPatchEntry
{
	AssocPath  path;
	bool       erase;
	AssocValue value; /* when !erase */
} AssocPatchEntry;

typedef struct AssocBatch
{
	int              nentries;
	AssocPatchEntry *entries;
} AssocBatch;

extern const AssocPathEncoding *assoc_path_db_encoding(void);
extern void   assoc_path_parse_or_error(const char *text, int len,
										const char *where, AssocPath *path);
extern void   assoc_value_from_jsonb(Jsonb *jb, AssocValue *value);
extern void   assoc_batch_from_jsonb(Jsonb *patches, AssocBatch *batch);
extern Jsonb *assoc_batch_apply(Jsonb *doc, const AssocBatch *batch);
extern bool
assoc_path_lookup(Jsonb *doc, const AssocPath *path, AssocValue *result);
extern Jsonb *assoc_value_to_jsonb(const AssocValue *value);
extern bool
assoc_jsonb_has_forbidden_keys(Jsonb *doc, const char **key, int *keylen);

#endif /* ASSOC_PATCH_H */
