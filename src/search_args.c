/*
 * search_args.c
 *		The text arguments of assoc.search: order_by ("path [ASC|DESC]",
 *		comma-separated) and fields (comma-separated paths), and the
 *		projection of a record's data onto fields (README, "Search").
 *
 * Both lists are split on commas, so a path used in them cannot contain
 * one.  Every path is read by the path grammar (document.c), which
 * rejects forbidden segments.  An order item's last word, separated by
 * white space as JavaScript's trim() reads it, is its direction when it
 * is ASC or DESC in any case; an item starting with "@" names a record
 * column.  Nothing here builds SQL: the parsed lists are data for the
 * sort key (search_key.c) and for the projection below.
 *
 * Layer: pure library (README, "How the code is organised"); calls the
 * document and patch libraries.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"

#include "compat.h"
#include "document.h"
#include "patch.h"
#include "search_args.h"

/* The record columns order_by may name. */
static const struct
{
	const char     *name;
	AssocSortSource source;
} record_columns[] = {
	{"@id", ASSOC_SORT_ID},
	{"@version", ASSOC_SORT_VERSION},
	{"@created_at", ASSOC_SORT_CREATED_AT},
	{"@updated_at", ASSOC_SORT_UPDATED_AT},
};

/*
 * Split a comma-separated list into at most max items, calling fn on
 * each (its bytes, length and 1-based number).  Commas are ASCII, which
 * no server encoding uses inside a multibyte character.
 */
static int
split_list(const char *text, int len, int max, const char *what,
		   void (*fn)(const char *item, int len, int n, void *arg), void *arg)
{
	const char *start = text;
	const char *end = text + len;
	int         n = 0;

	for (;;)
	{
		const char *comma = memchr(start, ',', end - start);
		const char *stop = comma ? comma : end;

		CHECK_FOR_INTERRUPTS();
		if (++n > max)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s: more than %d items", what, max)));
		fn(start, (int) (stop - start), n, arg);
		if (comma == NULL)
			return n;
		start = comma + 1;
	}
}

/*
 * Find the words of an order item, separated by JavaScript white space:
 * the first word's start, and the last word's start and end, with the
 * end of the word before it (NULL when there is one word).  Returns false
 * when the item holds no word.
 */
static bool
item_words(const char *s, int len, const char **first, const char **last,
		   const char **last_end, const char **before_last)
{
	const AssocPathEncoding *enc = assoc_path_db_encoding();
	const char              *p = s;
	const char              *end = s + len;
	const char              *word_end = NULL; /* end of the latest word */
	bool                     in_space = true;

	*first = *last = *before_last = NULL;
	while (p < end)
	{
		size_t space = assoc_path_space_len(enc, p, end);
		int    clen;

		if (space > 0)
		{
			if (!in_space)
				word_end = p;
			in_space = true;
			p += space;
			continue;
		}
		if (in_space)
		{
			if (*first == NULL)
				*first = p;
			*before_last = word_end;
			*last = p;
			in_space = false;
		}
		clen = enc->char_len[(unsigned char) *p];
		p += Min(clen, end - p);
	}
	if (!in_space)
		word_end = end;
	*last_end = word_end;
	return *first != NULL;
}

/* Parse one order_by item into the next slot of the order. */
static void
parse_order_item(const char *item, int len, int n, void *arg)
{
	AssocSortOrder *order = (AssocSortOrder *) arg;
	AssocSortItem  *out = &order->items[order->nitems];
	const char     *first;
	const char     *last;
	const char     *last_end;
	const char     *before_last;
	int             pathlen = len;
	const char     *name_end;
	int             wordlen;

	if (!item_words(item, len, &first, &last, &last_end, &before_last))
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid order_by: item %d is empty", n)));
	out->desc = false;
	name_end = last_end;
	wordlen = (int) (last_end - last);
	if (before_last != NULL &&
		((wordlen == 3 && pg_strncasecmp(last, "asc", 3) == 0) ||
		 (wordlen == 4 && pg_strncasecmp(last, "desc", 4) == 0)))
	{
		out->desc = (wordlen == 4);
		pathlen = (int) (before_last - item);
		name_end = before_last;
	}

	if (*first == '@')
	{
		int namelen = (int) (name_end - first);

		out->source = ASSOC_SORT_PATH;
		for (int i = 0; i < lengthof(record_columns); i++)
			if (strlen(record_columns[i].name) == namelen &&
				memcmp(record_columns[i].name, first, namelen) == 0)
				out->source = record_columns[i].source;
		if (out->source == ASSOC_SORT_PATH)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid order_by: unknown record column \"%s\"",
							assoc_text_for_message(first, namelen)),
					 errdetail("The record columns are @id, @version, "
							   "@created_at and @updated_at.")));
	}
	else
	{
		out->source = ASSOC_SORT_PATH;
		assoc_path_parse_or_error(item, pathlen, "order_by", &out->path);
	}
	order->nitems++;
}

/*
 * Parse order_by (text of len bytes) into order; errors (22023) name the
 * item.  The parsed paths point into text, which must outlive order.
 */
void
assoc_sort_order_parse(const char *text, int len, AssocSortOrder *order)
{
	order->nitems = 0;
	(void) split_list(text, len, ASSOC_SEARCH_MAX_ORDER, "order_by",
					  parse_order_item, order);
}

/*
 * Append a canonical description of an order to buf, for the fingerprint
 * of a search (search_key.c): two texts that order the same way ("a" and
 * "a ASC", "a.b" and " a . b") describe alike.
 */
void
assoc_sort_order_describe(const AssocSortOrder *order, StringInfo buf)
{
	appendBinaryStringInfo(buf, (const char *) &order->nitems,
						   sizeof(order->nitems));
	for (int i = 0; i < order->nitems; i++)
	{
		const AssocSortItem *item = &order->items[i];
		char head[2] = {(char) item->source, (char) item->desc};

		appendBinaryStringInfo(buf, head, sizeof(head));
		if (item->source != ASSOC_SORT_PATH)
			continue;
		appendBinaryStringInfo(buf, (const char *) &item->path.ntokens,
							   sizeof(item->path.ntokens));
		for (int t = 0; t < item->path.ntokens; t++)
		{
			const AssocPathToken *tok = &item->path.tokens[t];

			appendStringInfoChar(buf, tok->is_index ? 'i' : 'k');
			if (tok->is_index)
				appendBinaryStringInfo(buf, (const char *) &tok->index,
									   sizeof(tok->index));
			else
			{
				appendBinaryStringInfo(buf, (const char *) &tok->keylen,
									   sizeof(tok->keylen));
				appendBinaryStringInfo(buf, tok->key, tok->keylen);
			}
		}
	}
}

/* Parse one fields item into the next path of the list. */
static void
parse_field(const char *item, int len, int n, void *arg)
{
	AssocFields *fields = (AssocFields *) arg;

	assoc_path_parse_or_error(item, len, "fields",
							  &fields->paths[fields->npaths]);
	fields->npaths++;
}

/*
 * Parse fields (text of len bytes); errors (22023) name the path.  The
 * parsed paths point into text, which must outlive fields.
 */
void
assoc_fields_parse(const char *text, int len, AssocFields *fields)
{
	fields->npaths = 0;
	(void) split_list(text, len, ASSOC_SEARCH_MAX_FIELDS, "fields",
					  parse_field, fields);
}

/*
 * The nulls that setting path pads into the containers it creates from
 * token "from" on: each index token there makes a new array padded with
 * nulls up to the index.
 */
static int64
fresh_padding(const AssocPath *path, int from)
{
	int64 padding = 0;

	for (int k = from; k < path->ntokens; k++)
		if (path->tokens[k].is_index)
			padding += path->tokens[k].index;
	return padding;
}

/*
 * Can path be set in the projection built so far (out) without an error?
 * It cannot when a key other than digits meets an array that an earlier
 * field made (fields "a[0]" and "a.x" of a record whose "a" is an object
 * with keys "0" and "x"), or when the nulls it pads, counted over all its
 * arrays as one write counts them, would pass assoc.max_padding.  Such a
 * field is omitted from the projection.
 */
static bool
projection_accepts(Jsonb *out, const AssocPath *path)
{
	AssocValue node;
	int64      padding = 0;

	assoc_value_from_jsonb(out, &node);
	for (int k = 0; k < path->ntokens; k++)
	{
		const JsonbContainer *c;

		if (!assoc_value_is_container(&node))
		{
			padding += fresh_padding(path, k); /* replaced by a container */
			break;
		}
		c = (const JsonbContainer *) node.data;
		if (JsonContainerIsObject(c))
		{
			AssocPath prefix = *path;

			prefix.ntokens = k + 1;
			if (!assoc_path_lookup(out, &prefix, &node))
			{
				padding += fresh_padding(path, k + 1); /* a new key */
				break;
			}
		}
		else
		{
			int32 index;
			int32 size = (int32) JsonContainerSize(c);

			if (!assoc_token_array_index(&path->tokens[k], &index))
				return false;
			if (index >= size)
			{
				padding += (int64) index - size + fresh_padding(path, k + 1);
				break;
			}
			assoc_container_child(c, index, &node);
		}
	}
	return padding <= assoc_max_padding;
}

/*
 * The projection of data onto fields: an object holding, for each field
 * found in data, its value at that path, placed as assoc.path_set places
 * it (nested objects, arrays for indexes).  Fields absent from data, or
 * that cannot be placed (projection_accepts), are omitted.
 */
Jsonb *
assoc_fields_project(const AssocFields *fields, Jsonb *data)
{
	Jsonb *out =
		DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")));

	for (int i = 0; i < fields->npaths; i++)
	{
		AssocPatchEntry entry;
		AssocBatch      batch = {1, &entry};

		CHECK_FOR_INTERRUPTS();
		if (!assoc_path_lookup(data, &fields->paths[i], &entry.value) ||
			!projection_accepts(out, &fields->paths[i]))
			continue;
		entry.path = fields->paths[i];
		entry.erase = false;
		out = assoc_batch_apply(out, &batch);
	}
	return out;
}
