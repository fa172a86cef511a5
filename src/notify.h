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

/*
 * While entries wait behind a transaction that is still writing the feed,
 * the worker looks again this often (notify_worker.c, worker_wait).
 */
#define NOTIFY_HELD_MS 50

/* How often a running worker prunes the feed and the op_id ledger. */
#define NOTIFY_PRUNE_MS 60000

/* After a failed batch, the worker waits this long before trying again. */
#define NOTIFY_RETRY_MS 1000

/* A worker whose batches failed this many times in a row exits. */
#define NOTIFY_MAX_FAILURES 10

/* A requested worker that has not started after this is requested again. */
#define NOTIFY_START_RETRY_MS 10000

/*
 * The last draws of a database's feed clock (horizon.c): the next xid to
 * assign when the position was drawn, and the position.
 */
#define CLOCK_TICKS 256
typedef struct ClockTick
{
	uint64 next_xid;
	uint64 pos;
} ClockTick;

/* The notification state of one database. */
typedef struct NotifySlot
{
	Oid               dboid;     /* InvalidOid: free */
	bool              running;   /* a worker serves the database */
	bool              requested; /* a worker was registered, not yet running */
	TimestampTz       requested_at;
	Latch            *latch;      /* the running worker's latch */
	bool              positioned; /* horizon is a batch's */
	FeedPos           horizon;    /* announced up to here; before the first
									 batch: the lowest position written */
	pg_atomic_uint64  committed;  /* commits (and PREPAREs) of writers */
	Oid               feed_oid;   /* the assoc.feed the horizon is of */
	ConditionVariable cv;         /* broadcast after every batch */

	/* The database's feed clock (horizon.c). */
	bool      clock_loaded;  /* read from clock_seq since the slot was taken */
	Oid       clock_seq;     /* the sequence assoc.feed_clock */
	uint64    clock_last;    /* the last position drawn */
	uint64    clock_hwm;     /* positions up to here are logged in clock_seq */
	bool      clock_raising; /* a backend raises the mark ahead of need */
	int       clock_nticks;  /* ticks recorded, up to CLOCK_TICKS */
	int       clock_tick;    /* where the next one goes */
	ClockTick clock_ticks[CLOCK_TICKS];
} NotifySlot;

/*
 * A transaction that has drawn a feed position (horizon.c), at the index
 * of its PGPROC: a backend's own, or a prepared transaction's.  pos is 0
 * when there is none; it is cleared without the lock, the rest is written
 * under it.
 */
typedef struct FeedWriter
{
	Oid               db;
	FullTransactionId xid;
	pg_atomic_uint64  pos;
} FeedWriter;

/* Shared memory: the slots, then one writer per PGPROC. */
typedef struct NotifyShared
{
	LWLock    *lock; /* protects the slots but committed, and the writers */
	int        nwriters;
	NotifySlot slots[NOTIFY_DATABASES];
	FeedWriter writers[FLEXIBLE_ARRAY_MEMBER];
} NotifyShared;

extern bool          assoc_notify;
extern bool          assoc_notify_preloaded;
extern char         *assoc_origin;
extern NotifyShared *assoc_notify_shared;

extern void        assoc_notify_init(void);
extern NotifySlot *assoc_notify_attach_slot(void);
extern NotifySlot *assoc_notify_find_slot(void);
extern void assoc_notify_entry(const FeedEntry *entry, const bytea *secret);

typedef struct NotifyOut NotifyOut;
extern NotifyOut        *assoc_notify_out_begin(void);
extern void      assoc_notify_out_add(NotifyOut *out, const FeedEntry *entry,
									  const bytea *secret);
extern void      assoc_notify_out_end(NotifyOut *out);
extern void      assoc_notify_written(uint64 pos);
PGDLLEXPORT void assoc_notify_worker_main(Datum main_arg);

#endif /* ASSOC_NOTIFY_H */
