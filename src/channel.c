/*
 * channel.c
 *		Channel names, channel secrets and payloads (README, "Change
 *		subscriptions"): what a listener LISTENs on and what it receives.
 *
 * A channel name is "assoc_" and 32 hex digits of an HMAC-SHA-256 of the
 * namespace (and record id) under the namespace's secret, so only members
 * of the namespace can compute it (README, "Change subscriptions").
 *
 * Layer: pure library (README, "How the code is organised"); calls only
 * PostgreSQL and cursor.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "compat.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "channel.h"
#include "cursor.h"

/* A new random channel secret. */
void
assoc_channel_new_secret(bytea **secret)
{
	bytea *s = palloc(VARHDRSZ + ASSOC_SECRET_LEN);

	SET_VARSIZE(s, VARHDRSZ + ASSOC_SECRET_LEN);
	if (!pg_strong_random(VARDATA(s), ASSOC_SECRET_LEN))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("could not generate a channel secret")));
	*secret = s;
}

/*
 * The channel of a namespace (id NULL) or of one of its records: "assoc_"
 * and the first 128 bits, in hex, of HMAC-SHA256 keyed with the
 * namespace's secret over a tag, the namespace name and the id.  Without
 * the secret the name cannot be derived.  out has room for
 * ASSOC_CHANNEL_LEN + 1 bytes.
 */
void
assoc_channel_name(const bytea *secret, const char *ns, const char *id,
				   char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8             digest[PG_SHA256_DIGEST_LENGTH];
	pg_hmac_ctx      *ctx = pg_hmac_create(PG_SHA256);

	if (ctx == NULL)
		elog(ERROR, "out of memory computing a channel name");
	if (pg_hmac_init(ctx, (const uint8 *) VARDATA_ANY(secret),
					 VARSIZE_ANY_EXHDR(secret)) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) (id ? "r" : "n"), 1) < 0 ||
		pg_hmac_update(ctx, (const uint8 *) ns, strlen(ns) + 1) < 0 ||
		(id != NULL &&
		 pg_hmac_update(ctx, (const uint8 *) id, strlen(id)) < 0) ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a channel name: %s",
			 pg_hmac_error(ctx));
	pg_hmac_free(ctx);
	memcpy(out, "assoc_", 6);
	for (int i = 0; i < 16; i++)
	{
		out[6 + 2 * i] = hex[digest[i] >> 4];
		out[7 + 2 * i] = hex[digest[i] & 15];
	}
	out[ASSOC_CHANNEL_LEN] = '\0';
}

/*
 * Without paths a payload always fits (assoc_channel_payload): PostgreSQL
 * built with smaller pages would have a smaller limit.
 */
StaticAssertDecl(NOTIFY_MAX_PAYLOAD > 7000,
				 "a payload without paths may not fit PostgreSQL's limit");

/* End a payload with its "origin" member: the string, or null. */
static void
append_origin(StringInfo buf, const char *origin)
{
	appendStringInfoString(buf, ",\"origin\":");
	if (origin == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, origin);
	appendStringInfoChar(buf, '}');
}

/*
 * The JSON payload of an entry:
 * {"ns","id","v","op","paths","cursor","origin"}.
 * When it would exceed PostgreSQL's payload limit, "paths" is left out
 * and "truncated": true says so; the write never fails for it.  Without
 * paths it always fits: an id of 1024 bytes escaped to 6 bytes each, a
 * namespace of 63, an origin of 255 printable characters escaped to 2
 * bytes each and the rest come to under 7000 bytes.
 */
char *
assoc_channel_payload(const FeedEntry *entry)
{
	StringInfoData buf;
	int            mark;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"ns\":");
	escape_json(&buf, entry->ns);
	appendStringInfoString(&buf, ",\"id\":");
	escape_json(&buf, entry->id);
	appendStringInfo(&buf, ",\"v\":" INT64_FORMAT ",\"op\":", entry->version);
	escape_json(&buf, entry->op);
	mark = buf.len;
	appendStringInfoString(&buf, ",\"paths\":");
	if (entry->paths == (Datum) 0)
		appendStringInfoString(&buf, "null");
	else
	{
		Datum *elems;
		bool  *nulls;
		int    n;

		deconstruct_array(DatumGetArrayTypeP(entry->paths), TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, &nulls, &n);
		appendStringInfoChar(&buf, '[');
		for (int i = 0; i < n && buf.len < NOTIFY_MAX_PAYLOAD; i++)
		{
			if (i > 0)
				appendStringInfoChar(&buf, ',');
			escape_json(&buf, TextDatumGetCString(elems[i]));
		}
		appendStringInfoChar(&buf, ']');
	}
	appendStringInfoString(&buf, ",\"cursor\":");
	escape_json(&buf, assoc_cursor_format(entry->incarnation, entry->pos));
	append_origin(&buf, entry->origin);
	if (buf.len >= NOTIFY_MAX_PAYLOAD)
	{
		buf.len = mark;
		buf.data[mark] = '\0';
		appendStringInfoString(&buf, ",\"truncated\":true,\"cursor\":");
		escape_json(&buf, assoc_cursor_format(entry->incarnation, entry->pos));
		append_origin(&buf, entry->origin);
	}
	return buf.data;
}

/*
 * Whether name is a channel name assoc_channel_name can give: "assoc_"
 * and 32 lowercase hex digits (listeners.c registers only those).
 */
bool
assoc_channel_is_name(const char *name)
{
	if (name == NULL || strlen(name) != ASSOC_CHANNEL_LEN ||
		strncmp(name, "assoc_", 6) != 0)
		return false;
	for (const char *p = name + 6; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/*
 * The channel of a namespace, remembered for the last namespace and
 * secret asked for: a batch usually announces many entries of one
 * namespace.
 */
void
assoc_channel_of_namespace(const bytea *secret, const char *ns, char *out)
{
	static char cached_ns[NAMEDATALEN];
	static char cached_secret[64];
	static int  cached_len = -1; /* -1: nothing cached */
	static char cached_channel[ASSOC_CHANNEL_LEN + 1];
	int         len = VARSIZE_ANY_EXHDR(secret);

	if (len != cached_len || strcmp(ns, cached_ns) != 0 ||
		memcmp(VARDATA_ANY(secret), cached_secret, len) != 0)
	{
		assoc_channel_name(secret, ns, NULL, cached_channel);
		cached_len = -1;
		if (len <= (int) sizeof(cached_secret) && strlen(ns) < NAMEDATALEN)
		{
			strcpy(cached_ns, ns);
			memcpy(cached_secret, VARDATA_ANY(secret), len);
			cached_len = len;
		}
	}
	memcpy(out, cached_channel, ASSOC_CHANNEL_LEN + 1);
}
