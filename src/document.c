/*
 * document.c
 *		Documents as read: paths parsed in the database encoding, values
 *		and containers of binary JSONB, path lookup, and the search for
 *		forbidden keys (README, "Document functions"); the path settings.
 *
 * Nothing here copies a document: a value is a reference to the bytes of
 * its input (AssocValue).  patch.c builds the written document from them.
 *
 * Layer: pure library (README, "How the code is organised"); calls
 * path.c and PostgreSQL.
 */
#include "postgres.h"

#include "catalog/pg_conversion.h"
#include "catalog/pg_namespace.h"
#include "compat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"

#include "document.h"

/* assoc.max_path_depth: most tokens a path may have (superuser-only). */
int assoc_max_path_depth = 128;

/* assoc.max_padding: most nulls one write may pad arrays with. */
int assoc_max_padding = 1024;

/*
 * Define the path settings (called by _PG_init).  Superuser-only
 * (PGC_SUSET): they change the results of IMMUTABLE functions, so ordinary
 * roles must not be able to vary them between, say, an index build and a
 * query.
 */
void
assoc_document_init(void)
{
	DefineCustomIntVariable(
		"assoc.max_path_depth", "Largest number of tokens a path may have.",
		"Longer paths are rejected with SQLSTATE 22023.",
		&assoc_max_path_depth, 128, 1, 65536, PGC_SUSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable(
		"assoc.max_padding",
		"Largest number of nulls one write may pad into arrays, in all.",
		"Counted over all entries of a batch; writing far past the end of "
		"an array is rejected with SQLSTATE 22023.",
		&assoc_max_padding, 1024, 0, 100000000, PGC_SUSET, 0, NULL, NULL,
		NULL);
}

/* Longest path text quoted in an error message. */
#define MESSAGE_PATH_MAX 200

/*
 * Return a NUL-terminated copy of a path (or key) for an error message,
 * clipped at a character boundary so huge input makes a readable error.
 */
char *
assoc_text_for_message(const char *text, int len)
{
	int cut;

	if (len <= MESSAGE_PATH_MAX)
		return pnstrdup(text, len);
	cut = pg_mbcliplen(text, len, MESSAGE_PATH_MAX);
	return psprintf("%s...", pnstrdup(text, cut));
}

/*
 * The parser's interrupt check (path.h): a path of hundreds of megabytes
 * takes a noticeable time to read, and a cancellation must not wait.
 */
static void
path_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/* The conversion from the database encoding to UTF-8 (db_char_is_space). */
static Oid db_to_utf8 = InvalidOid;

/*
 * AssocPathEncoding.is_space for a database encoding other than UTF-8:
 * decode the character of len bytes at p to its code point, through the
 * encoding's default conversion to UTF-8, and test it against the rule.
 * Decoding rather than comparing bytes finds every way an encoding writes
 * a code point: EUC_TW writes U+3000 both as A1A1 and as 8EA1A1A1.  A
 * character the conversion cannot map is not white space.
 */
static bool
db_char_is_space(const uint8_t *p, size_t len)
{
	unsigned char utf8[4 * ASSOC_PATH_SPACE_MAXLEN + 8];

	if (len == 0 || len > ASSOC_PATH_SPACE_MAXLEN)
		return false;
	memset(utf8, 0, sizeof(utf8));
	if (pg_do_encoding_conversion_buf(db_to_utf8, GetDatabaseEncoding(),
									  PG_UTF8, (unsigned char *) p, (int) len,
									  utf8, sizeof(utf8), true) != (int) len)
		return false;
	return pg_utf_mblen(utf8) == (int) strlen((char *) utf8) &&
		   assoc_path_is_space_code_point(utf8_to_unicode(utf8));
}

/*
 * The path grammar's view of the database encoding (path.h), built on
 * first use and kept for the life of the backend (a backend never changes
 * database).  UTF-8 is built into path.c.  For any other encoding, the
 * character lengths come from PostgreSQL's own table, ASCII white space
 * is shared by every encoding, and a character from 0x80 on is decoded to
 * its code point (db_char_is_space) by the encoding's default conversion
 * to UTF-8 in pg_catalog (found by schema, never through the caller's
 * search_path).  SQL_ASCII has no conversion and takes each byte as a
 * character; clients store UTF-8 there unchanged and read it back as
 * UTF-8, so the UTF-8 sequences of the white-space code points count as
 * white space there too.
 */
const AssocPathEncoding *
assoc_path_db_encoding(void)
{
	static AssocPathEncoding enc;
	static bool              ready = false;
	int                      db_encoding;
	uint8                    lens[256];

	if (ready)
		return &enc;

	db_encoding = GetDatabaseEncoding();
	if (db_encoding == PG_UTF8 || db_encoding == PG_SQL_ASCII)
	{
		assoc_path_encoding_utf8(&enc);
		if (db_encoding == PG_SQL_ASCII)
			memset(enc.char_len, 1, sizeof(enc.char_len));
	}
	else
	{
		for (int b = 0; b < 256; b++)
		{
			char s[2] = {(char) b, '\0'};

			lens[b] =
				(uint8) (b < 0x80 ? 1 : pg_encoding_mblen(db_encoding, s));
		}
		assoc_path_encoding_init(&enc, lens);
		for (int i = 0; i < ASSOC_PATH_NSPACES; i++)
		{
			uint8 c = (uint8) assoc_path_space_code_points[i];

			if (assoc_path_space_code_points[i] < 0x80)
				(void) assoc_path_encoding_add_space(&enc, &c, 1);
		}
		db_to_utf8 =
			FindDefaultConversion(PG_CATALOG_NAMESPACE, db_encoding, PG_UTF8);
		if (OidIsValid(db_to_utf8))
			enc.is_space = db_char_is_space;
	}
	enc.check_interrupts = path_check_interrupts;
	ready = true;
	return &enc;
}

/*
 * Parse a path, raising SQLSTATE 22023 with a message naming the path and
 * the offending piece when it is invalid or forbidden.  "where" (may be
 * NULL) says which argument the path came from, e.g. "patches[2]".  The
 * token array lives in the current memory context.
 */
void
assoc_path_parse_or_error(const char *text, int len, const char *where,
						  AssocPath *path)
{
	AssocPathResult result;
	AssocPathStatus status;
	int             max_tokens = Min(assoc_max_path_depth, len + 1);
	char           *shown;
	char           *piece;
	char           *in;

	path->text = text;
	path->textlen = len;
	path->tokens = palloc(sizeof(AssocPathToken) * Max(max_tokens, 1));
	status = assoc_path_parse(assoc_path_db_encoding(), text, len,
							  path->tokens, max_tokens, &result);
	path->ntokens = result.ntokens;
	if (status == ASSOC_PATH_OK)
		return;

	/* A path cut short by "len + 1" tokens cannot happen: one per byte. */
	shown = assoc_text_for_message(text, len);
	piece =
		assoc_text_for_message(text + result.err_start, (int) result.err_len);
	in = where ? psprintf(" in %s", where) : "";

	switch (status)
	{
		case ASSOC_PATH_FORBIDDEN:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid path \"%s\"%s: forbidden segment \"%s\"",
							shown, in, piece),
					 errdetail("The segments __proto__, constructor and "
							   "prototype are never allowed.")));
			break;
		case ASSOC_PATH_TOO_DEEP:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid path \"%s\"%s: more than %d tokens",
							shown, in, assoc_max_path_depth),
					 errhint("The limit is set by assoc.max_path_depth.")));
			break;
		case ASSOC_PATH_EMPTY:
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("invalid path \"%s\"%s: %s", shown, in,
								   assoc_path_status_text(status))));
			break;
		case ASSOC_PATH_BAD_INDEX:
		case ASSOC_PATH_INDEX_RANGE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid path \"%s\"%s: %s in \"%s\"", shown, in,
							assoc_path_status_text(status), piece),
					 errdetail("An index is written [n] with n a decimal "
							   "number from 0 to %d.",
							   ASSOC_PATH_MAX_INDEX)));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid path \"%s\"%s: %s in piece \"%s\"", shown,
							in, assoc_path_status_text(status), piece)));
			break;
	}
}

/* Number of JEntries of a container: objects hold keys and values. */
static inline int
container_children(const JsonbContainer *c)
{
	int n = JsonContainerSize(c);

	return JsonContainerIsObject(c) ? 2 * n : n;
}

/* Child "index" of container c, by random access. */
void
assoc_container_child(const JsonbContainer *c, int index, AssocValue *value)
{
	assoc_value_from_child(c, container_children(c), index,
						   getJsonbOffset(c, index), getJsonbLength(c, index),
						   value);
}

/*
 * Reference a jsonb datum as a value: its root container, or for a scalar
 * document the scalar itself (stored as a one-element pseudo array).
 */
void
assoc_value_from_jsonb(Jsonb *jb, AssocValue *value)
{
	if (JB_ROOT_IS_SCALAR(jb))
		assoc_container_child(&jb->root, 0, value);
	else
	{
		value->type = JENTRY_ISCONTAINER;
		value->data = (const char *) &jb->root;
		value->len = VARSIZE(jb) - VARHDRSZ;
	}
}

/* JSON null, the value of absent data and the filler of padded arrays. */
const AssocValue assoc_null_value = {JENTRY_ISNULL, NULL, 0};

/*
 * Find a member of a binary object by binary search over its sorted keys.
 */
static bool
container_find_key(const JsonbContainer *c, const char *key, uint32 keylen,
				   AssocValue *value)
{
	int         n = JsonContainerSize(c);
	const char *base = (const char *) &c->children[2 * n];
	int         lo = 0;
	int         hi = n;

	while (lo < hi)
	{
		int    mid = lo + (hi - lo) / 2;
		uint32 off = getJsonbOffset(c, mid);
		uint32 len = getJsonbLength(c, mid);
		int    cmp = assoc_key_cmp(base + off, len, key, keylen);

		if (cmp == 0)
		{
			assoc_container_child(c, mid + n, value);
			return true;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Look a path up in a document without copying anything.  Returns false
 * when the path is absent, runs through a scalar, or asks an array for a
 * non-digit key.
 */
bool
assoc_path_lookup(Jsonb *doc, const AssocPath *path, AssocValue *result)
{
	AssocValue cur;
	char       buf[16];

	assoc_value_from_jsonb(doc, &cur);
	for (int i = 0; i < path->ntokens; i++)
	{
		const AssocPathToken *tok = &path->tokens[i];
		const JsonbContainer *c;

		if (!assoc_value_is_container(&cur))
			return false;
		c = (const JsonbContainer *) cur.data;
		if (JsonContainerIsObject(c))
		{
			const char *key;
			uint32      keylen;

			assoc_token_object_key(tok, buf, &key, &keylen);
			if (!container_find_key(c, key, keylen, &cur))
				return false;
		}
		else
		{
			int32 index;

			if (!assoc_token_array_index(tok, &index) ||
				index >= (int32) JsonContainerSize(c))
				return false;
			assoc_container_child(c, index, &cur);
		}
	}
	*result = cur;
	return true;
}

/* ---------------------------------------------------------------------
 * Forbidden keys
 * ---------------------------------------------------------------------
 */

/*
 * Search a binary container for an object key that trims to a forbidden
 * segment name (assoc_path_trims_to_forbidden: the white-space rule of
 * paths, so " __proto__" is found as a path piece would be read).  Only
 * containers are descended into; scalars are skipped without decoding.
 */
static bool
container_has_forbidden_keys(const AssocPathEncoding *enc,
							 const JsonbContainer *c, const char **key,
							 int *keylen)
{
	int         n = JsonContainerSize(c);
	bool        is_object = JsonContainerIsObject(c);
	int         nchildren = is_object ? 2 * n : n;
	const char *base = (const char *) &c->children[nchildren];
	uint32      offset = 0;

	check_stack_depth();
	for (int i = 0; i < nchildren; i++)
	{
		JEntry entry = c->children[i];
		uint32 next = offset;

		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		JBE_ADVANCE_OFFSET(next, entry);
		if (is_object && i < n)
		{
			size_t name_start;
			size_t name_len;

			if (assoc_path_trims_to_forbidden(
					enc, base + offset, next - offset, &name_start, &name_len))
			{
				*key = base + offset;
				*keylen = (int) (next - offset);
				return true;
			}
		}
		else if (JBE_ISCONTAINER(entry))
		{
			const JsonbContainer *child =
				(const JsonbContainer *) (base + INTALIGN(offset));

			if (container_has_forbidden_keys(enc, child, key, keylen))
				return true;
		}
		offset = next;
	}
	return false;
}

/*
 * Does any object key anywhere in doc, trimmed of white space as path
 * pieces are, equal __proto__, constructor or prototype?  On true, *key
 * and *keylen name the first one found (untrimmed).
 */
bool
assoc_jsonb_has_forbidden_keys(Jsonb *doc, const char **key, int *keylen)
{
	return container_has_forbidden_keys(assoc_path_db_encoding(), &doc->root,
										key, keylen);
}
