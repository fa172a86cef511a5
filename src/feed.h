/*
 * feed.h
 *		The change feed (feed.c) and its notifications (notify.c).
 *
 * A write's way out of the store:
 *
 *	feed_append()		store.c's writers add one assoc.feed row per
 *						effective write, in the writing transaction
 *	notify_entry()		without the preloaded library: NOTIFY at once
 *	notify_written()	with it: at commit, the database's notification
 *						worker is woken and NOTIFYs the committed entries in
 *						batches (notify.c)
 *	assoc.changes()		readers page through the feed by cursor, seeing
 *						only entries no running transaction can precede
 */
#ifndef ASSOC_FEED_H
#define ASSOC_FEED_H

#include "postgres.h"

#include "access/transam.h"
#include "fmgr.h"
#include "utils/snapshot.h"

#include "store.h"

/*
 * A feed position: the writing transaction and the entry's sequence
 * number.  Feed order is (xid, seq); seq alone is not gap-free.
 */
typedef struct FeedPos
{
	uint64 xid; /* a FullTransactionId's value */
	int64  seq;
} FeedPos;

/* One feed entry, as notify.c announces it. */
typedef struct FeedEntry
{
	const char *ns;
	int64       incarnation;
	FeedPos     pos;
	const char *id;
	int64       version;
	const char *op;
	Datum       paths; /* text[], or 0 for NULL */
} FeedEntry;

/* Receives one entry to announce and its namespace's channel secret. */
typedef void (*NotifyEntryFn)(const FeedEntry *entry, const bytea *secret,
							  void *arg);

/* Length of a channel name: "assoc_" and 32 hex digits. */
#define ASSOC_CHANNEL_LEN (6 + 32)

/* Length of a channel secret in bytes. */
#define ASSOC_SECRET_LEN 32

/* feed.c */
extern void  feed_append(StoreCall *call, text *id, int64 version,
						 const char *op, Datum paths);
extern char *feed_cursor(int64 incarnation, FeedPos pos);
extern int64 feed_prune(void);

/* rowaccess.c, for the notification worker */
extern bool rows_installed(void);
extern bool
rows_scan_notify(Snapshot snapshot, const uint64 *pending, int npending,
				 FeedPos after, NotifyEntryFn fn, void *arg);

/* notify.c */
extern bool  assoc_notify;
extern bool  assoc_notify_preloaded;
extern void  notify_init(void);
extern void  notify_new_secret(bytea **secret);
extern void  notify_channel_name(const bytea *secret, const char *ns,
								 const char *id, char *out);
extern char *notify_payload(const FeedEntry *entry);
extern void  notify_entry(const FeedEntry *entry, const bytea *secret);
extern void  notify_written(FullTransactionId xid);

#endif /* ASSOC_FEED_H */
