/*
 * search_key.c
 *		The sort key of a search (the SQL type assoc.search_key) and the
 *		continuation token that carries one (README, "Search").
 *
 * A search orders its matches by up to eight items (order_by) and then by
 * id.  Rather than a statement per combination of items and directions,
 * each match gets one value, its sort key, holding every item's value and
 * direction and, last, the id; one btree comparison
 * (assoc_search_key_compare) orders keys and so serves both the ORDER BY
 * of the search statement and its keyset condition ("after the last row
 * of the previous page").  An item is one of:
 *
 *	KEY_JSONB	the jsonb value at a path, compared as jsonb's btree
 *				compares (compareJsonbContainers: JSON null lowest, then
 *				type rank, strings in the database's default collation)
 *	KEY_MISSING	no value at the path: greater than every value, so last
 *				in ascending order and first in descending order, as SQL
 *				NULL sorts by default
 *	KEY_INT		@version, @created_at, @updated_at
 *	KEY_TEXT	@id and the final id, compared bytewise (collation "C",
 *				the id column's)
 *
 * The key is a varlena: a header, the item count, and the items, each an
 * 8-byte item header and its payload, starting 4-byte aligned so that a
 * jsonb payload can be read in place.  The type is STORAGE plain and
 * ALIGNMENT int4, so a key inside a tuple is never given a short header
 * and stays aligned.  Keys are made only here: the type's input function
 * refuses text, and it has no binary input.
 *
 * A token is the key of a page's last row, written out (jsonb as text),
 * behind a MAC: an HMAC-SHA-256, keyed with the namespace's channel
 * secret, of the fingerprint of the search that made it (search.c) and of
 * the key.  Reading a token back checks the MAC, so a token of another
 * search, or one altered, is refused before any of it is read; then every
 * item is checked against the order and jsonb is parsed from its text, so
 * that not even a token forged by a role that can read the secret (a
 * member of the namespace's owner) is trusted as binary.
 *
 * Layer: pure library (README, "How the code is organised"); calls the
 * search arguments, document and patch libraries.
 */
#include "postgres.h"

#include "common/base64.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "document.h"
#include "patch.h"
#include "rules.h"
#include "search_args.h"
#include "search_key.h"

/* Kinds of sort key items (file header). */
enum
{
	KEY_MISSING = 0,
	KEY_JSONB = 1,
	KEY_INT = 2,
	KEY_TEXT = 3
};

/* The header of one item of a key; its payload follows. */
typedef struct KeyItem
{
	uint8  kind;
	uint8  desc;
	uint16 unused;
	uint32 len; /* payload bytes */
} KeyItem;

/* Bytes before the first item: the varlena header and the item count. */
#define KEY_ITEMS_OFFSET (VARHDRSZ + sizeof(uint32))

/* Version byte of the token format, and the bytes of its MAC. */
#define TOKEN_FORMAT     1
#define TOKEN_MAC_LEN    16
#define TOKEN_MAC_DOMAIN "pg_assoc search token"

/* ---------------------------------------------------------------------
 * Making and reading keys
 * ---------------------------------------------------------------------
 */

/* A key being made: its bytes and its item count. */
typedef struct KeyBuilder
{
	StringInfoData buf;
	uint32         nitems;
} KeyBuilder;

/* Start a key: room for the varlena header and the count. */
static void
key_begin(KeyBuilder *kb)
{
	initStringInfo(&kb->buf);
	appendStringInfoSpaces(&kb->buf, KEY_ITEMS_OFFSET);
	kb->nitems = 0;
}

/* Append one item, 4-byte aligned, with its payload. */
static void
key_add(KeyBuilder *kb, uint8 kind, bool desc, const void *payload, uint32 len)
{
	KeyItem item = {kind, desc ? 1 : 0, 0, len};

	while (kb->buf.len != INTALIGN(kb->buf.len))
		appendStringInfoChar(&kb->buf, '\0');
	appendBinaryStringInfo(&kb->buf, (const char *) &item, sizeof(item));
	if (len > 0)
		appendBinaryStringInfo(&kb->buf, payload, len);
	kb->nitems++;
}

/* Finish a key: write its size and count; the buffer is the varlena. */
static struct varlena *
key_end(KeyBuilder *kb)
{
	struct varlena *key = (struct varlena *) kb->buf.data;

	SET_VARSIZE(key, kb->buf.len);
	memcpy(VARDATA(key), &kb->nitems, sizeof(uint32));
	return key;
}

/* A position while reading a key's items. */
typedef struct KeyReader
{
	const char *base;
	uint32      size;
	uint32      off;
	uint32      left; /* items not yet read */
} KeyReader;

/* Start reading a key (a detoasted varlena with a 4-byte header). */
static void
key_read_begin(KeyReader *kr, const struct varlena *key)
{
	kr->base = (const char *) key;
	kr->size = VARSIZE(key);
	if (kr->size < KEY_ITEMS_OFFSET)
		elog(ERROR, "corrupt assoc.search_key: %u bytes", kr->size);
	memcpy(&kr->left, VARDATA(key), sizeof(uint32));
	kr->off = KEY_ITEMS_OFFSET;
}

/*
 * Read the next item's header and payload; false after the last one.
 * Bounds are checked: a key is made only by key_end, but a corrupt datum
 * must not make the comparison read past it.
 */
static bool
key_read_next(KeyReader *kr, KeyItem *item, const char **payload)
{
	uint32 off = INTALIGN(kr->off);

	if (kr->left == 0)
		return false;
	if (off > kr->size || kr->size - off < sizeof(KeyItem))
		elog(ERROR, "corrupt assoc.search_key: item past its end");
	memcpy(item, kr->base + off, sizeof(KeyItem));
	off += sizeof(KeyItem);
	if (item->len > kr->size - off || item->kind > KEY_TEXT)
		elog(ERROR, "corrupt assoc.search_key: bad item");
	*payload = kr->base + off;
	kr->off = off + item->len;
	kr->left--;
	return true;
}

/*
 * The sort key of a record under an order: each item's value, then the
 * id.  A path's value is copied out of the data as jsonb.
 */
struct varlena *
assoc_search_key_make(const AssocSortOrder *order, const AssocSortRow *row)
{
	KeyBuilder kb;

	key_begin(&kb);
	for (int i = 0; i < order->nitems; i++)
	{
		const AssocSortItem *it = &order->items[i];
		AssocValue           value;
		Jsonb               *jb;

		switch (it->source)
		{
			case ASSOC_SORT_PATH:
				if (row->data != NULL &&
					assoc_path_lookup(row->data, &it->path, &value))
				{
					jb = assoc_value_to_jsonb(&value);
					key_add(&kb, KEY_JSONB, it->desc, jb, VARSIZE(jb));
				}
				else
					key_add(&kb, KEY_MISSING, it->desc, NULL, 0);
				break;
			case ASSOC_SORT_ID:
				key_add(&kb, KEY_TEXT, it->desc, VARDATA_ANY(row->id),
						VARSIZE_ANY_EXHDR(row->id));
				break;
			case ASSOC_SORT_VERSION:
				key_add(&kb, KEY_INT, it->desc, &row->version, sizeof(int64));
				break;
			case ASSOC_SORT_CREATED_AT:
				key_add(&kb, KEY_INT, it->desc, &row->created_at,
						sizeof(int64));
				break;
			case ASSOC_SORT_UPDATED_AT:
				key_add(&kb, KEY_INT, it->desc, &row->updated_at,
						sizeof(int64));
				break;
		}
	}
	key_add(&kb, KEY_TEXT, false, VARDATA_ANY(row->id),
			VARSIZE_ANY_EXHDR(row->id));
	return key_end(&kb);
}

/* Compare two items of one kind (neither missing). */
static int
compare_values(uint8 kind, const char *a, uint32 alen, const char *b,
			   uint32 blen)
{
	switch (kind)
	{
		case KEY_JSONB:
			return compareJsonbContainers(&((Jsonb *) a)->root,
										  &((Jsonb *) b)->root);
		case KEY_INT:
		{
			int64 x;
			int64 y;

			memcpy(&x, a, sizeof(int64));
			memcpy(&y, b, sizeof(int64));
			return (x > y) - (x < y);
		}
		case KEY_TEXT:
		{
			int c = memcmp(a, b, Min(alen, blen));

			if (c != 0)
				return c < 0 ? -1 : 1;
			return (alen > blen) - (alen < blen);
		}
	}
	elog(ERROR, "corrupt assoc.search_key: item kind %u", kind);
	return 0;
}

/*
 * The btree comparison of two sort keys of one order: item by item, a
 * missing value after every value, each item reversed when descending.
 * Keys of different orders are an error, not an order.
 */
int
assoc_search_key_compare(const struct varlena *a, const struct varlena *b)
{
	KeyReader   ra;
	KeyReader   rb;
	KeyItem     ia;
	KeyItem     ib;
	const char *pa;
	const char *pb;

	key_read_begin(&ra, a);
	key_read_begin(&rb, b);
	for (;;)
	{
		bool more_a = key_read_next(&ra, &ia, &pa);
		bool more_b = key_read_next(&rb, &ib, &pb);
		int  c;

		if (more_a != more_b || (more_a && ia.desc != ib.desc))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot compare sort keys of different orders")));
		if (!more_a)
			return 0;
		if (ia.kind == KEY_MISSING || ib.kind == KEY_MISSING)
			c = (ia.kind == KEY_MISSING) - (ib.kind == KEY_MISSING);
		else if (ia.kind != ib.kind)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot compare sort keys of different orders")));
		else
			c = compare_values(ia.kind, pa, ia.len, pb, ib.len);
		if (c != 0)
			return ia.desc ? -c : c;
	}
}

/* ---------------------------------------------------------------------
 * Tokens
 * ---------------------------------------------------------------------
 */

/* Append a 32-bit length, big-endian. */
static void
append_len(StringInfo buf, uint32 len)
{
	char b[4] = {(char) (len >> 24), (char) (len >> 16), (char) (len >> 8),
				 (char) len};

	appendBinaryStringInfo(buf, b, 4);
}

/*
 * The MAC of a token's body for a search (file header): the first
 * TOKEN_MAC_LEN bytes of HMAC-SHA-256(secret, TOKEN_MAC_DOMAIN ||
 * fingerprint || body).  The domain string (with its NUL) keeps these
 * MACs apart from the channel names the same secret keys (channel.c).
 */
static void
token_mac(const uint8 *fingerprint, const bytea *secret, const char *body,
		  int len, uint8 *mac)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	uint8        digest[PG_SHA256_DIGEST_LENGTH];

	if (ctx == NULL ||
		pg_hmac_init(ctx, (const uint8 *) VARDATA_ANY(secret),
					 VARSIZE_ANY_EXHDR(secret)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) TOKEN_MAC_DOMAIN,
					   sizeof(TOKEN_MAC_DOMAIN)) < 0 ||
		pg_hmac_update(ctx, fingerprint, ASSOC_SEARCH_FINGERPRINT_LEN) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) body, len) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute the MAC of a search token");
	pg_hmac_free(ctx);
	memcpy(mac, digest, TOKEN_MAC_LEN);
}

/*
 * The token of a key: base64url (no padding) of the format byte, the MAC,
 * and the body: the item count and each item as kind, direction, length
 * and value (jsonb as its text).
 */
char *
assoc_search_token_encode(const struct varlena *key, const uint8 *fingerprint,
						  const bytea *secret)
{
	StringInfoData raw;
	KeyReader      kr;
	KeyItem        item;
	const char    *payload;
	char          *out;
	int            n;

	initStringInfo(&raw);
	appendStringInfoChar(&raw, (char) TOKEN_FORMAT);
	appendStringInfoSpaces(&raw, TOKEN_MAC_LEN);
	key_read_begin(&kr, key);
	appendStringInfoChar(&raw, (char) kr.left);
	while (key_read_next(&kr, &item, &payload))
	{
		appendStringInfoChar(&raw, (char) item.kind);
		appendStringInfoChar(&raw, (char) item.desc);
		if (item.kind == KEY_JSONB)
		{
			char *json =
				JsonbToCString(NULL, &((Jsonb *) payload)->root, item.len);

			append_len(&raw, strlen(json));
			appendStringInfoString(&raw, json);
		}
		else
		{
			append_len(&raw, item.len);
			appendBinaryStringInfo(&raw, payload, item.len);
		}
	}
	token_mac(fingerprint, secret, raw.data + 1 + TOKEN_MAC_LEN,
			  raw.len - 1 - TOKEN_MAC_LEN, (uint8 *) raw.data + 1);

	out = palloc(pg_b64_enc_len(raw.len) + 1);
	n = pg_b64_encode(raw.data, raw.len, out, pg_b64_enc_len(raw.len));
	if (n < 0)
		elog(ERROR, "could not encode a search token");
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (int i = 0; i < n; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return out;
}

/* The error for a token that is not one this extension wrote. */
static void
error_bad_token(const char *why)
{
	ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					errmsg("invalid after token: %s", why),
					errhint("Pass the \"next\" value of a search's answer "
							"unchanged.")));
}

/* Read n bytes of a decoded token, or refuse it as cut short. */
static const char *
take(const char **p, const char *end, uint32 n)
{
	const char *at = *p;

	if ((uint32) (end - at) < n)
		error_bad_token("it is cut short");
	*p += n;
	return at;
}

/* The base64url text of a token, decoded; *rawlen its length. */
static char *
token_bytes(const char *token, int len, int *rawlen)
{
	int   padded = len + (4 - len % 4) % 4;
	char *b64 = palloc(padded + 1);
	char *raw = palloc(pg_b64_dec_len(padded) + 1);

	if (len % 4 == 1)
		error_bad_token("it is not base64url");
	for (int i = 0; i < len; i++)
	{
		char c = token[i];

		if (c == '+' || c == '/' || c == '=')
			error_bad_token("it is not base64url");
		b64[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	memset(b64 + len, '=', padded - len);
	*rawlen = pg_b64_decode(b64, padded, raw, pg_b64_dec_len(padded));
	if (*rawlen < 0)
		error_bad_token("it is not base64url");
	/* One text per token: the unused bits of the last character are 0. */
	if (*rawlen > 0)
	{
		char *again = palloc(pg_b64_enc_len(*rawlen) + 1);
		int   n = pg_b64_encode(raw, *rawlen, again, pg_b64_enc_len(*rawlen));

		if (n != padded || memcmp(again, b64, padded) != 0)
			error_bad_token("it is not base64url");
	}
	return raw;
}

/*
 * The key a token carries, for the search whose order, fingerprint and
 * namespace secret are given; 22023 when the token is malformed, altered
 * or belongs to another search (another namespace, term, filter, keys or
 * order).  Every item is checked against the order, and jsonb values are
 * parsed from their text.
 */
struct varlena *
assoc_search_token_decode(const char *token, int len,
						  const AssocSortOrder *order,
						  const uint8 *fingerprint, const bytea *secret)
{
	int         rawlen;
	char       *raw = token_bytes(token, len, &rawlen);
	const char *p = raw;
	const char *end = raw + rawlen;
	const char *mac;
	uint8       expected[TOKEN_MAC_LEN];
	KeyBuilder  kb;
	int         nitems;

	if (*take(&p, end, 1) != TOKEN_FORMAT)
		error_bad_token("unknown format");
	mac = take(&p, end, TOKEN_MAC_LEN);
	token_mac(fingerprint, secret, p, (int) (end - p), expected);
	if (timingsafe_bcmp(mac, expected, TOKEN_MAC_LEN) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("after token does not continue this search"),
				 errdetail("A token continues only the search that returned "
						   "it, unaltered: the same namespace, term, filter, "
						   "keys and order_by.")));
	nitems = (unsigned char) *take(&p, end, 1);
	if (nitems != order->nitems + 1)
		error_bad_token("wrong number of items");

	key_begin(&kb);
	for (int i = 0; i < nitems; i++)
	{
		bool        last = (i == order->nitems);
		uint8       kind = (uint8) *take(&p, end, 1);
		bool        desc = *take(&p, end, 1) != 0;
		const char *lenp = take(&p, end, 4);
		uint32      vlen = ((uint32) (uint8) lenp[0] << 24) |
					  ((uint32) (uint8) lenp[1] << 16) |
					  ((uint32) (uint8) lenp[2] << 8) | (uint8) lenp[3];
		const char     *value = take(&p, end, vlen);
		AssocSortSource source = last ? ASSOC_SORT_ID : order->items[i].source;
		bool            want_desc = last ? false : order->items[i].desc;
		bool            ok;

		switch (source)
		{
			case ASSOC_SORT_PATH:
				ok = kind == KEY_JSONB || (kind == KEY_MISSING && vlen == 0);
				break;
			case ASSOC_SORT_ID:
				ok = kind == KEY_TEXT && vlen > 0 &&
					 pg_verifymbstr(value, vlen, true) &&
					 memchr(value, '\0', vlen) == NULL;
				break;
			default:
				ok = kind == KEY_INT && vlen == sizeof(int64);
				break;
		}
		if (!ok || desc != want_desc)
			error_bad_token("an item does not match the order");
		if (kind == KEY_JSONB)
		{
			char  *json = pnstrdup(value, vlen);
			Jsonb *jb;

			if (strlen(json) != vlen)
				error_bad_token("an item does not match the order");
			jb = DatumGetJsonbP(
				DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
			key_add(&kb, KEY_JSONB, desc, jb, VARSIZE(jb));
		}
		else
			key_add(&kb, kind, desc, value, vlen);
	}
	if (p != end)
		error_bad_token("trailing bytes");
	return key_end(&kb);
}

/* ---------------------------------------------------------------------
 * The SQL type assoc.search_key
 * ---------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(assoc_search_key_in);
/*
 * Input: refused.  Keys come only from assoc.search_key(...) (and tokens,
 * parsed with checks); a key read from text would be trusted as binary.
 */
Datum
assoc_search_key_in(PG_FUNCTION_ARGS)
{
	ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					errmsg("cannot accept a value of type assoc.search_key"),
					errdetail("Sort keys are made by the function "
							  "assoc.search_key().")));
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(assoc_search_key_out);
/*
 * Output, for reading a key while debugging: a JSON array of
 * [direction, value] pairs, ["asc"] for a missing value.
 */
Datum
assoc_search_key_out(PG_FUNCTION_ARGS)
{
	struct varlena *key = PG_GETARG_VARLENA_P(0);
	StringInfoData  out;
	KeyReader       kr;
	KeyItem         item;
	const char     *payload;
	bool            first = true;

	initStringInfo(&out);
	appendStringInfoChar(&out, '[');
	key_read_begin(&kr, key);
	while (key_read_next(&kr, &item, &payload))
	{
		int64 v;

		appendStringInfo(&out, "%s[\"%s\"", first ? "" : ", ",
						 item.desc ? "desc" : "asc");
		first = false;
		switch (item.kind)
		{
			case KEY_JSONB:
				appendStringInfoString(&out, ", ");
				(void) JsonbToCString(&out, &((Jsonb *) payload)->root,
									  item.len);
				break;
			case KEY_INT:
				memcpy(&v, payload, sizeof(v));
				appendStringInfo(&out, ", " INT64_FORMAT, v);
				break;
			case KEY_TEXT:
				appendStringInfoString(&out, ", ");
				escape_json(&out, pnstrdup(payload, item.len));
				break;
		}
		appendStringInfoChar(&out, ']');
	}
	appendStringInfoChar(&out, ']');
	PG_RETURN_CSTRING(out.data);
}

/* The comparison of the SQL arguments 0 and 1. */
static int
compare_args(FunctionCallInfo fcinfo)
{
	struct varlena *a = PG_GETARG_VARLENA_P(0);
	struct varlena *b = PG_GETARG_VARLENA_P(1);

	return assoc_search_key_compare(a, b);
}

PG_FUNCTION_INFO_V1(assoc_search_key_cmp);
/* btree support function 1 of assoc.search_key. */
Datum
assoc_search_key_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(compare_args(fcinfo));
}

PG_FUNCTION_INFO_V1(assoc_search_key_lt);
/* The operator <. */
Datum
assoc_search_key_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) < 0);
}

PG_FUNCTION_INFO_V1(assoc_search_key_le);
/* The operator <=. */
Datum
assoc_search_key_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) <= 0);
}

PG_FUNCTION_INFO_V1(assoc_search_key_eq);
/* The operator =. */
Datum
assoc_search_key_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) == 0);
}

PG_FUNCTION_INFO_V1(assoc_search_key_ge);
/* The operator >=. */
Datum
assoc_search_key_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) >= 0);
}

PG_FUNCTION_INFO_V1(assoc_search_key_gt);
/* The operator >. */
Datum
assoc_search_key_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) > 0);
}

/* The parsed order_by kept across calls of assoc.search_key. */
typedef struct OrderCache
{
	MemoryContext  cxt; /* holds text and order; reset on a new text */
	bool           valid;
	char          *text; /* the order_by it was parsed from; NULL: none */
	int            len;
	AssocSortOrder order;
} OrderCache;

/*
 * The order of an order_by argument, parsed once per distinct text for
 * the calling expression (fn_extra), since a search calls assoc.search_key
 * once per match with the same order_by.  A new text replaces the old one
 * in the cache's own memory context, so that a query passing a different
 * order_by on every row does not accumulate them.
 */
static const AssocSortOrder *
cached_order(FunctionCallInfo fcinfo, int argno)
{
	OrderCache   *cache = (OrderCache *) fcinfo->flinfo->fn_extra;
	text         *arg = PG_ARGISNULL(argno) ? NULL : PG_GETARG_TEXT_PP(argno);
	const char   *s = arg ? VARDATA_ANY(arg) : NULL;
	int           len = arg ? VARSIZE_ANY_EXHDR(arg) : 0;
	MemoryContext old;

	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt,
									   sizeof(OrderCache));
		cache->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt,
										   "assoc.search_key order",
										   ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->valid && (cache->text == NULL) == (s == NULL) &&
		cache->len == len && (s == NULL || memcmp(cache->text, s, len) == 0))
		return &cache->order;

	cache->valid = false;
	MemoryContextReset(cache->cxt);
	old = MemoryContextSwitchTo(cache->cxt);
	cache->text = s ? pnstrdup(s, len) : NULL;
	cache->len = len;
	if (s != NULL)
		assoc_sort_order_parse(cache->text, len, &cache->order);
	else
		cache->order.nitems = 0;
	MemoryContextSwitchTo(old);
	cache->valid = true;
	return &cache->order;
}

PG_FUNCTION_INFO_V1(assoc_search_key_of);
/*
 * assoc.search_key(data, id, version, created_at, updated_at, order_by):
 * the sort key of a record under order_by (NULL: by id alone).
 */
Datum
assoc_search_key_of(PG_FUNCTION_ARGS)
{
	const AssocSortOrder *order = cached_order(fcinfo, 5);
	AssocSortRow          row;

	for (int i = 1; i <= 4; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the record columns of a sort key must not be "
							"NULL")));
	row.data = PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0);
	row.id = PG_GETARG_TEXT_PP(1);
	assoc_check_id(row.id);
	row.version = PG_GETARG_INT64(2);
	row.created_at = PG_GETARG_TIMESTAMPTZ(3);
	row.updated_at = PG_GETARG_TIMESTAMPTZ(4);
	PG_RETURN_POINTER(assoc_search_key_make(order, &row));
}
