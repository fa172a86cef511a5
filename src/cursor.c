/*
 * cursor.c
 *		Feed positions and cursors: their order, their text form
 *		"token-xid-seq", and its parser (README, "Change subscriptions"; feed.c tells why a
 *		position is (xid, seq) and what the token guards against).
 *
 * Layer: pure library (README, "How the code is organised"); calls only
 * PostgreSQL.
 */
#include "postgres.h"

#include <limits.h>

#include "access/xlog.h"
#include "common/hashfn.h"
#include "miscadmin.h"

#include "cursor.h"

/* Compare two feed positions in feed order. */
int
assoc_cursor_cmp(FeedPos a, FeedPos b)
{
	if (a.xid != b.xid)
		return a.xid < b.xid ? -1 : 1;
	if (a.seq != b.seq)
		return a.seq < b.seq ? -1 : 1;
	return 0;
}

/*
 * The token of a namespace's cursors in this database: positions are
 * transaction ids, meaningful only where they were written.
 */
uint64
assoc_cursor_token(int64 incarnation)
{
	struct
	{
		uint64 system;
		int64  incarnation;
		Oid    database;
	} key;

	memset(&key, 0, sizeof(key));
	key.system = GetSystemIdentifier();
	key.incarnation = incarnation;
	key.database = MyDatabaseId;
	return DatumGetUInt64(
		hash_any_extended((const unsigned char *) &key, sizeof(key), 0));
}

/* The text form of a cursor: "token-xid-seq". */
char *
assoc_cursor_format(int64 incarnation, FeedPos pos)
{
	return psprintf(UINT64_FORMAT "-" UINT64_FORMAT "-" INT64_FORMAT,
					assoc_cursor_token(incarnation), pos.xid, pos.seq);
}

/*
 * Read one unsigned decimal number of at most max from *s, advancing it;
 * false when there is none or it is too large.
 */
static bool
parse_number(const char **s, uint64 max, uint64 *out)
{
	const char *p = *s;
	uint64      v = 0;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++)
	{
		int d = *p - '0';

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*s = p;
	*out = v;
	return true;
}

/* Parse a cursor's text, raising 22P02 when it is not one. */
void
assoc_cursor_parse(const char *text, uint64 *token, FeedPos *pos)
{
	const char *s = text;
	uint64      tok, xid, seq;

	if (!parse_number(&s, PG_UINT64_MAX, &tok) || *s++ != '-' ||
		!parse_number(&s, PG_UINT64_MAX, &xid) || *s++ != '-' ||
		!parse_number(&s, PG_INT64_MAX, &seq) || *s != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid cursor \"%s\"", text),
				 errdetail("A cursor is a value returned by assoc.changes() "
						   "or assoc.head(), passed back unchanged.")));
	*token = tok;
	pos->xid = xid;
	pos->seq = (int64) seq;
}
