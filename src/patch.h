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

#include "utils/jsonb.h"

#include "document.h"

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

extern void   assoc_batch_from_jsonb(Jsonb *patches, AssocBatch *batch);
extern Jsonb *assoc_batch_apply(Jsonb *doc, const AssocBatch *batch);
extern Jsonb *assoc_value_to_jsonb(const AssocValue *value);

#endif /* ASSOC_PATCH_H */
