/*
 * patch.c
 *		One-pass get, set, erase and multi-path patch over JSONB (README, "Document functions").
 *
 * The working copy of a document is a tree of "slots".  A slot either
 * refers to bytes of an input (a scalar, or a whole binary container that
 * nobody has touched) or holds an expanded container (PatchNode) whose
 * children are slots again.  Applying a path expands only the containers
 * on that path, one level at a time, by reading their JEntry arrays; the
 * untouched children stay references.  Encoding the result walks the
 * expanded nodes and memcpy()s every referenced subtree, so a batch costs
 * one copy of the document plus the work on the touched paths.
 *
 * The encoder writes PostgreSQL's on-disk JSONB format directly
 * (utils/jsonb.h): a container header, one JEntry per child (keys first,
 * then values, with an offset instead of a length every JB_OFFSET_STRIDE
 * entries), then the children's data, with containers and numerics
 * aligned to 4 bytes and the padding counted in their length.  A binary
 * container is position independent once it starts on a 4-byte boundary,
 * which is what makes copying it whole correct.
 *
 * Layer: pure library (README, "How the code is organised"); calls
 * document.c, path.c and PostgreSQL.
 */
#include "postgres.h"

#include "compat.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/jsonb.h"

#include "patch.h"

typedef struct PatchNode PatchNode;

/*
 * A place in the working tree: an object member or an array element.
 * When node is NULL the value is the referenced bytes (value); otherwise
 * the value is the expanded container node.
 */
typedef struct Slot
{
	const char *key; /* object members only */
	uint32      keylen;
	AssocValue  value;
	PatchNode  *node;
} Slot;

/*
 * An expanded object (members sorted in JSONB key order) or array.
 */
struct PatchNode
{
	bool  is_object;
	int   n;
	int   cap;
	Slot *slots;
};

/* ---------------------------------------------------------------------
 * The working tree
 * ---------------------------------------------------------------------
 */

/* A new, empty expanded container with room for cap children. */
static PatchNode *
node_new(bool is_object, int cap)
{
	PatchNode *node = palloc(sizeof(PatchNode));

	node->is_object = is_object;
	node->n = 0;
	node->cap = Max(cap, 4);
	node->slots = palloc(sizeof(Slot) * node->cap);
	return node;
}

/*
 * Free an expanded container that a later entry of the batch replaced or
 * erased, with the containers expanded below it.  Without this, a batch
 * that alternately pads an array and replaces it would keep every padded
 * copy until the end of the call.  Keys and values are references into
 * the inputs (or small copies of path keys) and stay.
 */
static void
node_free(PatchNode *node)
{
	check_stack_depth();
	for (int i = 0; i < node->n; i++)
		if (node->slots[i].node != NULL)
			node_free(node->slots[i].node);
	pfree(node->slots);
	pfree(node);
}

/* Drop the expanded container a slot holds, if any (see node_free). */
static inline void
slot_release(Slot *slot)
{
	if (slot->node != NULL)
		node_free(slot->node);
	slot->node = NULL;
}

/*
 * Expand a binary container one level: one slot per child, each referring
 * to the child's bytes.  Offsets are accumulated in one sequential pass.
 */
static PatchNode *
node_expand(const JsonbContainer *c)
{
	int        n = JsonContainerSize(c);
	bool       is_object = JsonContainerIsObject(c);
	int        nchildren = is_object ? 2 * n : n;
	PatchNode *node = node_new(is_object, n + 1);
	uint32     offset = 0;

	for (int i = 0; i < nchildren; i++)
	{
		JEntry entry = c->children[i];
		uint32 next = offset;
		Slot  *slot;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();

		JBE_ADVANCE_OFFSET(next, entry);
		if (is_object && i < n)
		{
			slot = &node->slots[i];
			slot->key = (const char *) &c->children[nchildren] + offset;
			slot->keylen = next - offset;
		}
		else
		{
			slot = &node->slots[is_object ? i - n : i];
			if (!is_object)
			{
				slot->key = NULL;
				slot->keylen = 0;
			}
			assoc_value_from_child(c, nchildren, i, offset, next - offset,
								   &slot->value);
			slot->node = NULL;
		}
		offset = next;
	}
	node->n = n;
	return node;
}

/* Make room for one more child. */
static void
node_grow(PatchNode *node, int needed)
{
	if (needed <= node->cap)
		return;
	node->cap = Max(needed, node->cap * 2);
	node->slots = repalloc(node->slots, sizeof(Slot) * node->cap);
}

/*
 * Make the slot hold an expanded container and return it: expand a binary
 * container in place, or replace an absent, null or scalar value by a new
 * array (when the next token is an index) or object (when it is a key).
 */
static PatchNode *
slot_container(Slot *slot, bool next_is_index)
{
	if (slot->node == NULL)
	{
		if (assoc_value_is_container(&slot->value))
			slot->node =
				node_expand((const JsonbContainer *) slot->value.data);
		else
			slot->node = node_new(!next_is_index, 4);
	}
	return slot->node;
}

/*
 * Find the member "key" of an expanded object; if absent and create is
 * true, insert it (as null) in key order.  Returns NULL when absent and
 * not created; *pos is its position either way.
 */
static Slot *
object_member(PatchNode *node, const char *key, uint32 keylen, bool create,
			  int *pos)
{
	int   lo = 0;
	int   hi = node->n;
	Slot *slot;

	while (lo < hi)
	{
		int mid = lo + (hi - lo) / 2;
		int cmp = assoc_key_cmp(node->slots[mid].key, node->slots[mid].keylen,
								key, keylen);

		if (cmp == 0)
		{
			*pos = mid;
			return &node->slots[mid];
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*pos = lo;
	if (!create)
		return NULL;

	node_grow(node, node->n + 1);
	memmove(&node->slots[lo + 1], &node->slots[lo],
			sizeof(Slot) * (node->n - lo));
	node->n++;
	slot = &node->slots[lo];
	slot->key = pnstrdup(key, keylen);
	slot->keylen = keylen;
	slot->value = assoc_null_value;
	slot->node = NULL;
	return slot;
}

/* Raise the error for a key that cannot address an array element. */
static void
error_key_on_array(const AssocPath *path, const AssocPathToken *tok)
{
	ereport(
		ERROR,
		(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
		 errmsg("path \"%s\" cannot be applied: key \"%s\" addresses an array",
				assoc_text_for_message(path->text, path->textlen),
				assoc_text_for_message(tok->key, tok->keylen)),
		 errdetail("An array element is addressed by an index such as [0] or "
				   "by a key made of decimal digits.")));
}

/*
 * Element "index" of an expanded array, padding the array with nulls up
 * to it when create is true.  Returns NULL for an element past the end
 * when create is false.  assoc.max_padding bounds the nulls one write
 * pads, over all the entries of its batch and all their arrays (*padded
 * counts them): a limit per entry would let a[1024], a[2048], ... build an
 * array of any length, and one per array would let k1[1024], k2[1024], ...
 * turn a small batch into a document of any size.
 */
static Slot *
array_element(PatchNode *node, int32 index, bool create, const AssocPath *path,
			  int64 *padded)
{
	int64 pad;

	if (index < node->n)
		return &node->slots[index];
	if (!create)
		return NULL;

	pad = (int64) index - node->n;
	if (*padded + pad > assoc_max_padding)
	{
		const char *shown = assoc_text_for_message(path->text, path->textlen);

		if (*padded == 0)
			ereport(
				ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("path \"%s\" cannot be applied: index %d would pad "
						"an array of length %d with " INT64_FORMAT
						" nulls, more than assoc.max_padding (%d)",
						shown, index, node->n, pad, assoc_max_padding),
				 errhint("assoc.max_padding limits the nulls one write "
						 "(one path_set, patch, set, erase or set_multi "
						 "call) may pad into arrays.")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("path \"%s\" cannot be applied: index %d would pad "
						"an array of length %d with " INT64_FORMAT
						" nulls, " INT64_FORMAT
						" in this write, more than assoc.max_padding (%d)",
						shown, index, node->n, pad, *padded + pad,
						assoc_max_padding),
				 errhint("assoc.max_padding limits the nulls one write "
						 "(one path_set, patch, set, erase or set_multi "
						 "call) may pad into arrays.")));
	}
	*padded += pad;

	node_grow(node, index + 1);
	while (node->n <= index)
	{
		Slot *slot = &node->slots[node->n++];

		if ((node->n & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		slot->key = NULL;
		slot->keylen = 0;
		slot->value = assoc_null_value;
		slot->node = NULL;
	}
	return &node->slots[index];
}

/*
 * The child slot a token addresses in an expanded container, created
 * (for objects) or padded to (for arrays, counted in *padded) when create
 * is true.
 */
static Slot *
node_child(PatchNode *node, const AssocPathToken *tok, bool create,
		   const AssocPath *path, int *pos, int64 *padded)
{
	if (node->is_object)
	{
		char        buf[16];
		const char *key;
		uint32      keylen;

		assoc_token_object_key(tok, buf, &key, &keylen);
		return object_member(node, key, keylen, create, pos);
	}
	else
	{
		int32 index;

		if (!assoc_token_array_index(tok, &index))
			error_key_on_array(path, tok);
		*pos = index;
		return array_element(node, index, create, path, padded);
	}
}

/*
 * Apply one entry to the working tree rooted at *root.  Every token but
 * the last descends, creating or replacing containers as needed; set
 * stores the value at the last token; erase removes an object member or
 * nulls an array element (an element past the end is left alone).  Erase
 * creates the containers on its way exactly like set.  *padded counts the
 * nulls the write has padded so far (array_element).
 */
static void
apply_entry(Slot *root, const AssocPatchEntry *entry, int64 *padded)
{
	const AssocPath *path = &entry->path;
	Slot            *slot = root;
	int              last = path->ntokens - 1;
	int              pos;

	if (path->ntokens == 0)
	{
		/* The whole document: only set reaches here (checked by callers). */
		slot_release(root);
		root->value = entry->value;
		return;
	}

	for (int i = 0; i < last; i++)
	{
		PatchNode *node = slot_container(slot, path->tokens[i].is_index);

		CHECK_FOR_INTERRUPTS();
		slot = node_child(node, &path->tokens[i], true, path, &pos, padded);
	}

	{
		const AssocPathToken *tok = &path->tokens[last];
		PatchNode            *node = slot_container(slot, tok->is_index);

		if (!entry->erase)
		{
			slot = node_child(node, tok, true, path, &pos, padded);
			slot_release(slot);
			slot->value = entry->value;
		}
		else if ((slot = node_child(node, tok, false, path, &pos, padded)) !=
				 NULL)
		{
			slot_release(slot);
			if (node->is_object)
			{
				memmove(&node->slots[pos], &node->slots[pos + 1],
						sizeof(Slot) * (node->n - pos - 1));
				node->n--;
			}
			else
				slot->value = assoc_null_value;
		}
	}
}

/* ---------------------------------------------------------------------
 * Encoding
 * ---------------------------------------------------------------------
 */

/* Pad the buffer with zero bytes to a 4-byte boundary; returns the pad. */
static int
pad_to_int(StringInfo buf)
{
	int padlen = INTALIGN(buf->len) - buf->len;

	if (padlen > 0)
		appendBinaryStringInfo(buf, "\0\0\0", padlen);
	return padlen;
}

/* Raise the error for a result larger than JSONB can represent. */
static void
check_jsonb_size(uint64 len)
{
	if (len > JENTRY_OFFLENMASK)
		ereport(
			ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg(
				 "total size of jsonb result exceeds the maximum of %u bytes",
				 JENTRY_OFFLENMASK)));
}

static uint32
encode_node(StringInfo buf, const PatchNode *node, bool raw_scalar);

/*
 * Append a slot's value to the buffer and return its JEntry (type and
 * length including any alignment padding, before offset conversion).
 */
static uint32
encode_slot(StringInfo buf, const Slot *slot)
{
	const AssocValue *v = &slot->value;
	int               padlen = 0;

	if (slot->node != NULL)
		return encode_node(buf, slot->node, false);

	switch (v->type)
	{
		case JENTRY_ISCONTAINER:
		case JENTRY_ISNUMERIC:
			padlen = pad_to_int(buf);
			/* FALLTHROUGH */
		case JENTRY_ISSTRING:
			appendBinaryStringInfo(buf, v->data, v->len);
			break;
		default: /* null, true, false: no data */
			break;
	}
	check_jsonb_size((uint64) padlen + v->len);
	return v->type | (padlen + v->len);
}

/*
 * Store a child's JEntry, converting the length to an offset on every
 * JB_OFFSET_STRIDE'th child as the format requires.
 */
static void
put_jentry(StringInfo buf, int jentry_pos, int i, uint32 meta,
		   uint64 *totallen)
{
	JEntry entry;

	*totallen += JBE_OFFLENFLD(meta);
	check_jsonb_size(*totallen);
	entry = meta;
	if (i % JB_OFFSET_STRIDE == 0)
		entry = (meta & JENTRY_TYPEMASK) | (uint32) *totallen | JENTRY_HAS_OFF;
	memcpy(buf->data + jentry_pos + i * sizeof(JEntry), &entry,
		   sizeof(JEntry));
}

/*
 * Append an expanded container (keys, then values) and return its JEntry.
 * raw_scalar marks the one-element pseudo array of a scalar document.
 */
static uint32
encode_node(StringInfo buf, const PatchNode *node, bool raw_scalar)
{
	int    base = buf->len;
	int    nkeys = node->is_object ? node->n : 0;
	uint32 header;
	int    jentry_pos;
	uint64 totallen = 0;

	check_stack_depth();
	pad_to_int(buf);

	header = (uint32) node->n | (node->is_object ? JB_FOBJECT : JB_FARRAY);
	if (raw_scalar)
		header |= JB_FSCALAR;
	appendBinaryStringInfo(buf, (const char *) &header, sizeof(uint32));

	jentry_pos = buf->len;
	enlargeStringInfo(buf, (nkeys + node->n) * sizeof(JEntry));
	buf->len += (nkeys + node->n) * sizeof(JEntry);

	for (int i = 0; i < nkeys; i++)
	{
		const Slot *slot = &node->slots[i];

		appendBinaryStringInfo(buf, slot->key, slot->keylen);
		put_jentry(buf, jentry_pos, i, JENTRY_ISSTRING | slot->keylen,
				   &totallen);
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	for (int i = 0; i < node->n; i++)
	{
		uint32 meta = encode_slot(buf, &node->slots[i]);

		put_jentry(buf, jentry_pos, nkeys + i, meta, &totallen);
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}

	check_jsonb_size((uint64) (buf->len - base));
	return JENTRY_ISCONTAINER | (uint32) (buf->len - base);
}

/*
 * Encode a working tree root as a jsonb datum.  A scalar root becomes the
 * format's one-element pseudo array.  size_hint (the inputs' size) sizes
 * the buffer once, sparing large documents a chain of doublings.
 */
static Jsonb *
encode_root(const Slot *root, Size size_hint)
{
	StringInfoData buf;
	Jsonb         *result;

	initStringInfo(&buf);
	if (size_hint > (Size) buf.maxlen)
		enlargeStringInfo(&buf, (int) Min(size_hint, MaxAllocSize / 2));
	buf.len = VARHDRSZ; /* room for the varlena header */

	if (root->node != NULL)
		encode_node(&buf, root->node, false);
	else if (assoc_value_is_container(&root->value))
		appendBinaryStringInfo(&buf, root->value.data, root->value.len);
	else
	{
		PatchNode wrapper;
		Slot      only = *root;

		wrapper.is_object = false;
		wrapper.n = wrapper.cap = 1;
		wrapper.slots = &only;
		encode_node(&buf, &wrapper, true);
	}

	result = (Jsonb *) buf.data;
	SET_VARSIZE(result, buf.len);
	return result;
}

/* A value as a jsonb datum of its own (for path_get). */
Jsonb *
assoc_value_to_jsonb(const AssocValue *value)
{
	Slot root = {NULL, 0, *value, NULL};

	return encode_root(&root, VARHDRSZ + value->len + 16);
}

/*
 * Apply a whole batch to a document in one pass and return the new
 * document.  The inputs are never modified; entries apply in order, each
 * seeing the result of the earlier ones.
 */
Jsonb *
assoc_batch_apply(Jsonb *doc, const AssocBatch *batch)
{
	Slot  root = {NULL, 0, {0, NULL, 0}, NULL};
	Size  size_hint = VARSIZE(doc);
	int64 padded = 0;

	assoc_value_from_jsonb(doc, &root.value);
	for (int i = 0; i < batch->nentries; i++)
	{
		/* An entry may move a whole expanded object (an insertion). */
		CHECK_FOR_INTERRUPTS();
		apply_entry(&root, &batch->entries[i], &padded);
		if (!batch->entries[i].erase)
			size_hint += batch->entries[i].value.len + 16;
	}
	return encode_root(&root, size_hint);
}

/* ---------------------------------------------------------------------
 * Batches from JSON
 * ---------------------------------------------------------------------
 */

/* Raise the error for a malformed batch. */
static void
error_batch(const char *problem, int entry)
{
	if (entry < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid patch: %s", problem),
						errhint("A patch is a non-empty JSON array of "
								"{\"path\": ..., \"data\": ...} objects.")));
	ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid patch: patches[%d] %s", entry, problem),
					errhint("An entry is {\"path\": \"a.b[0]\", \"data\": "
							"value}; without \"data\" it erases the path.")));
}

/*
 * Read and validate a batch: a non-empty JSON array of objects with a
 * string "path" and an optional "data" (absent = erase), no other members.
 * Every path is parsed here, so a batch with any bad entry fails before
 * anything is applied.  Values stay references into patches.
 */
void
assoc_batch_from_jsonb(Jsonb *patches, AssocBatch *batch)
{
	const JsonbContainer *root = &patches->root;
	int                   n;

	if (JB_ROOT_IS_SCALAR(patches) || !JB_ROOT_IS_ARRAY(patches))
		error_batch("expected a JSON array", -1);
	n = JsonContainerSize(root);
	if (n == 0)
		error_batch("the array is empty", -1);

	batch->nentries = n;
	batch->entries = palloc(sizeof(AssocPatchEntry) * n);
	for (int i = 0; i < n; i++)
	{
		AssocPatchEntry      *entry = &batch->entries[i];
		AssocValue            item;
		const JsonbContainer *obj;
		int                   nmembers;
		bool                  has_path = false;

		CHECK_FOR_INTERRUPTS();
		assoc_container_child(root, i, &item);
		if (!assoc_value_is_container(&item) ||
			!assoc_container_is_object(&item))
			error_batch("is not an object", i);
		obj = (const JsonbContainer *) item.data;
		nmembers = JsonContainerSize(obj);
		entry->erase = true;

		for (int m = 0; m < nmembers; m++)
		{
			AssocValue key;
			AssocValue value;

			assoc_container_child(obj, m, &key);
			assoc_container_child(obj, m + nmembers, &value);
			if (key.len == 4 && memcmp(key.data, "path", 4) == 0)
			{
				if (value.type != JENTRY_ISSTRING || value.len == 0)
					error_batch(
						"has a \"path\" that is not a non-empty string", i);
				has_path = true;
				entry->path.text = value.data;
				entry->path.textlen = value.len;
			}
			else if (key.len == 4 && memcmp(key.data, "data", 4) == 0)
			{
				entry->erase = false;
				entry->value = value;
			}
			else
				error_batch(
					psprintf("has unknown member \"%s\"",
							 assoc_text_for_message(key.data, key.len)),
					i);
		}
		if (!has_path)
			error_batch("has no \"path\"", i);

		assoc_path_parse_or_error(entry->path.text, entry->path.textlen,
								  psprintf("patches[%d]", i), &entry->path);
	}
}
