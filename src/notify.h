/*
 * notify.h
 *		The notification signal (notify.c) and the shared state it keeps
 *		with the notification worker (notify_worker.c).  notify.c's header
 *		tells how a commit reaches listeners.
 */
#ifndef ASSOC_NOTIFY_H
#define ASSOC_NOTIFY_H

#include "access/transam.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "utils/timestamp.h"

#include "channel.h"

/* Databases that can have a notification worker at once. */
#define NOTIFY_DATABASES 32

/* A worker with nothing to do for this long exits. */
#define NOTIFY_IDLE_MS 2000

/* Most entries one batch announces; the rest are left to the feed. */
#define NOTIFY_BATCH_MAX 10000

/*
 * After a batch that announced something, the worker lets this long pass
 * before the next one: under a stream of commits, batches grow instead of
 * each commit costing a transaction of the worker (and a wake-up of every
 * listening backend).  The first commit after a quiet spell is announced
 * at once.
 */
#define NOTIFY_MIN_INTERVAL_MS 10

/* How often a running worker prunes the feed and the op_id ledger. */
#define NOTIFY_PRUNE_MS 60000

/* After a failed batch, the worker waits this long before trying again. */
#define NOTIFY_RETRY_MS 1000

/* A worker whose batches failed this many times in a row exits. */
#define NOTIFY_MAX_FAILURES 10

/* A requested worker that has not started after this is requested again. */
#define NOTIFY_START_RETRY_MS 10000

/* The notification state of one database. */
typedef struct NotifySlot
{
	Oid               dboid;     /* InvalidOid: free */
	bool              running;   /* a worker serves the database */
	bool              requested; /* a worker was registered, not yet running */
	TimestampTz       requested_at;
	Latch            *latch;      /* the running worker's latch */
	bool              positioned; /* horizon and pending are a batch's */
	FeedPos           horizon;    /* before the first batch: lowest writer */
	int               npending;   /* xids in this slot's pending array */
	pg_atomic_uint64  committed;  /* commits of transactions with entries */
	uint64            announced;  /* committed as of the last batch's start */
	ConditionVariable cv;         /* broadcast after every batch */
} NotifySlot;

/* Shared memory: the slots, then each slot's pending xids. */
typedef struct NotifyShared
{
	LWLock    *lock; /* protects the slots but committed */
	int        maxpending;
	NotifySlot slots[NOTIFY_DATABASES];
	uint64     pending[FLEXIBLE_ARRAY_MEMBER];
} NotifyShared;

extern bool          assoc_notify;
extern bool          assoc_notify_preloaded;
extern char         *assoc_origin;
extern NotifyShared *assoc_notify_shared;

extern void    assoc_notify_init(void);
extern uint64 *assoc_notify_slot_pending(NotifySlot *slot);
extern void    assoc_notify_entry(const FeedEntry *entry, const bytea *secret);
extern void    assoc_notify_written(FullTransactionId xid);
PGDLLEXPORT void assoc_notify_worker_main(Datum main_arg);

#endif /* ASSOC_NOTIFY_H */
