/*
 * channel.h
 *		Channel names, secrets and payloads (channel.c).
 */
#ifndef ASSOC_CHANNEL_H
#define ASSOC_CHANNEL_H

#include "cursor.h"

/* One feed entry, as the notifications announce it. */
typedef struct FeedEntry
{
	const char *ns;
	int64       incarnation;
	FeedPos     pos;
	const char *id;
	int64       version;
	const char *op;
	Datum       paths;  /* text[], or 0 for NULL */
	const char *origin; /* the writer's assoc.origin, or NULL */
} FeedEntry;

/* Receives one entry to announce and its namespace's channel secret. */
typedef void (*NotifyEntryFn)(const FeedEntry *entry, const bytea *secret,
							  void *arg);

/* Length of a channel name: "assoc_" and 32 hex digits. */
#define ASSOC_CHANNEL_LEN (6 + 32)

/* Length of a channel secret in bytes. */
#define ASSOC_SECRET_LEN 32

/* PostgreSQL's payload limit: a payload must be shorter than this. */
#define NOTIFY_MAX_PAYLOAD (BLCKSZ - NAMEDATALEN - 128)

extern void assoc_channel_new_secret(bytea **secret);
extern void assoc_channel_name(const bytea *secret, const char *ns,
							   const char *id, char *out);
extern void
assoc_channel_of_namespace(const bytea *secret, const char *ns, char *out);
extern bool  assoc_channel_is_name(const char *name);
extern char *assoc_channel_payload(const FeedEntry *entry);

#endif /* ASSOC_CHANNEL_H */
