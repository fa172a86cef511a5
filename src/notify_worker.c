/*
 * notify_worker.c
 *		The notification worker: one per database, woken at commit
 *		(notify.c), it announces committed feed entries in batches and
 *		prunes the feed and the op_id ledger every minute.  notify.c's
 *		header tells how it finds new entries and why no committed entry
 *		is skipped.
 *
 * Layer: an entry point (a background worker's main; README, "How the
 * code is organised"); calls maintenance, row access, the notification
 * signal's shared state and the libraries.
 */
#include "postgres.h"

#include "access/xact.h"
#include "compat.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "channel.h"
#include "cursor.h"
#include "forward.h"
#include "horizon.h"
#include "maintenance.h"
#include "notify.h"
#include "rowaccess.h"

/*
 * The worker's memory between transactions (a batch's result until the
 * slot has it), reset every round of its loop.
 */
static MemoryContext worker_cxt = NULL;

/* before_shmem_exit callback of the worker: leave the slot. */
static void
notify_worker_exit(int code, Datum arg)
{
	NotifySlot *slot = &assoc_notify_shared->slots[DatumGetInt32(arg)];

	/* An error outside a transaction leaves LWLocks held: not this one. */
	LWLockReleaseAll();
	LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
	if (slot->latch == MyLatch)
	{
		slot->running = false;
		slot->latch = NULL;
	}
	LWLockRelease(assoc_notify_shared->lock);
	ConditionVariableBroadcast(&slot->cv);
}

/* Counts of one batch and its notifications, for batch_entry. */
typedef struct BatchCounts
{
	int        announced;
	int        skipped;
	NotifyOut *out;
} BatchCounts;

/* assoc_rows_scan_notify callback: announce one entry, up to the batch limit. */
static void
batch_entry(const FeedEntry *entry, const bytea *secret, void *arg)
{
	BatchCounts *counts = (BatchCounts *) arg;

	if (counts->announced >= NOTIFY_BATCH_MAX)
	{
		counts->skipped++;
		return;
	}
	assoc_notify_out_add(counts->out, entry, secret);
	counts->announced++;
}

/* One batch of the worker: where it started, what it found and did. */
typedef struct Batch
{
	NotifySlot *slot;
	uint64      seen;      /* commits counted before its snapshot */
	bool        installed; /* false: the extension is gone */
	BatchCounts counts;
	FeedPos     next;    /* the slot's next horizon: announced up to here */
	Oid         feed;    /* the assoc.feed next is of */
	bool        held;    /* visible entries lie at or after next */
	bool        writers; /* its snapshot saw a feed writer running */
} Batch;

/*
 * Where a batch starts: the slot's horizon.  Before the slot's first
 * batch, the lowest position drawn since the slot was taken (the clock
 * notes it when it draws, horizon.c), or the delivery horizon when
 * nothing was drawn; entries below were written before the slot was
 * taken, by an earlier start of the server for instance, and were
 * announced then or never will be.  With 0.1.0's positions (xids, noted
 * after the draw) the lower of the two, as in 0.1.0.  On a feed other
 * than the one the slot's horizon is of (the extension dropped and
 * created again), from its beginning: no batch has announced any of it.
 */
static FeedPos
batch_start(NotifySlot *slot, uint64 delivery, bool clocked, Oid feed)
{
	FeedPos start;

	LWLockAcquire(assoc_notify_shared->lock, LW_SHARED);
	start = slot->horizon;
	if (slot->positioned && slot->feed_oid != feed)
	{
		start.xid = 0;
		start.seq = 0;
	}
	else if (!slot->positioned &&
			 (start.xid == 0 || (!clocked && start.xid > delivery)))
	{
		start.xid = delivery;
		start.seq = 0;
	}
	LWLockRelease(assoc_notify_shared->lock);
	return start;
}

/*
 * The work of a batch inside its transaction: take its snapshot, announce
 * the entries it sees from the slot's horizon up to the snapshot's
 * delivery horizon (horizon.c; batch_entry).  b->installed becomes false
 * when the extension is gone.
 */
static void
batch_announce(Batch *b)
{
	Snapshot snapshot;
	FeedPos  start;
	uint64   delivery;
	bool     clocked;

	PushActiveSnapshot(GetTransactionSnapshot());
	snapshot = GetActiveSnapshot();
	pgstat_report_activity(STATE_RUNNING, "announcing feed entries");
	delivery = assoc_horizon_of(snapshot, &clocked, &b->writers);
	b->feed = assoc_rows_feed_oid();
	start = batch_start(b->slot, delivery, clocked, b->feed);
	b->counts.out = assoc_notify_out_begin();
	b->installed = assoc_rows_scan_notify(snapshot, start, delivery,
										  batch_entry, &b->counts, &b->held);
	assoc_notify_out_end(b->counts.out);
	b->counts.out = NULL;
	b->next = start;
	if (delivery > start.xid)
	{
		b->next.xid = delivery;
		b->next.seq = 0;
	}
	PopActiveSnapshot();
}

/*
 * One batch (a worker_step; arg is its Batch): in one transaction,
 * announce the entries that became deliverable since the last batch (file
 * header), found by an index scan (rowscan.c).  The slot is left as it
 * was: batch_publish advances it once this has committed, so a batch that
 * fails is tried again from the same place.  b->installed is false when
 * the extension is not installed in the database, or was dropped while
 * the batch waited for a lock.
 */
static void
notify_batch(void *arg)
{
	Batch *b = (Batch *) arg;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	b->installed = assoc_rows_installed();
	if (b->installed)
		batch_announce(b);
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * After a batch's transaction has committed: everything before its next
 * horizon is announced (what assoc.wait_notified waits for).
 */
static void
batch_publish(const Batch *b)
{
	NotifySlot *slot = b->slot;

	LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
	slot->horizon = b->next;
	slot->feed_oid = b->feed;
	slot->positioned = true;
	LWLockRelease(assoc_notify_shared->lock);
	ConditionVariableBroadcast(&slot->cv);
	if (b->counts.skipped > 0)
		ereport(LOG, (errmsg("pg_assoc announced %d feed entries and left "
							 "%d to the feed",
							 b->counts.announced, b->counts.skipped),
					  errdetail("One batch announces at most %d entries.",
								NOTIFY_BATCH_MAX)));
}

/*
 * Lock the tables the prune writes or reads, in the order of the install
 * script (the order DROP EXTENSION locks them in, so the two wait for each
 * other instead of deadlocking), each looked up by name again after its
 * lock: false when one of them is gone.
 */
static bool
prune_lock_tables(void)
{
	static const char *const names[] = {"namespaces", "feed", "feed_pruned",
										"ops"};

	for (int i = 0; i < lengthof(names); i++)
	{
		RangeVar *rv = makeRangeVar("assoc", (char *) names[i], -1);

		if (!OidIsValid(RangeVarGetRelidExtended(
				rv, i == 0 ? AccessShareLock : RowExclusiveLock,
				RVR_MISSING_OK, NULL, NULL)))
			return false;
	}
	return true;
}

/*
 * Prune the feed and the op_id ledger (assoc_prune_all) in a transaction of
 * its own (a worker_step).  Skipped when the extension is not installed,
 * or was dropped while this waited for the locks of its tables.
 */
static void
notify_prune(void *arg)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (assoc_rows_installed() && prune_lock_tables())
	{
		pgstat_report_activity(STATE_RUNNING, "pruning the feed");
		(void) assoc_prune_all();
	}
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/* Error context callback of a worker_step: what the worker was doing. */
static void
worker_step_context(void *arg)
{
	errcontext("%s", (const char *) arg);
}

/*
 * Run step(arg), a unit of the worker's work in its own transaction, the
 * way PostgreSQL's own background workers run theirs (autovacuum's loop
 * over tables): an error is written to the server log, its transaction is
 * aborted and the error state flushed, with interrupts held meanwhile, and
 * the worker goes on.  Returns false when step failed.  Leaves the worker
 * in the memory context it was called in.
 */
static bool
worker_step(void (*step)(void *), void *arg, const char *what)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		ErrorContextCallback errcb;

		errcb.callback = worker_step_context;
		errcb.arg = (void *) what;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;
		step(arg);
		error_context_stack = errcb.previous;
	}
	PG_CATCH();
	{
		HOLD_INTERRUPTS();
		EmitErrorReport();
		AbortOutOfAnyTransaction();
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		pgstat_report_activity(STATE_IDLE, NULL);
		RESUME_INTERRUPTS();
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	return ok;
}

/*
 * Leave the slot if no commit was counted since seen was read (under the
 * lock a committing writer takes to decide whether to start a worker, so
 * none is missed).  True when left: the caller exits.
 */
static bool
worker_leave(NotifySlot *slot, uint64 seen)
{
	bool idle;

	LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
	idle = pg_atomic_read_u64(&slot->committed) == seen;
	if (idle)
	{
		slot->running = false;
		slot->latch = NULL;
	}
	LWLockRelease(assoc_notify_shared->lock);
	return idle;
}

/*
 * Answer interrupts between batches: SIGTERM ends the worker.  A query
 * cancel is meant for a batch (one waiting for a lock, say), and between
 * batches there is no error handler to catch it: raised here it would end
 * the worker with an error, so it is dropped.
 */
static void
worker_check_interrupts(void)
{
	QueryCancelPending = false;
	CHECK_FOR_INTERRUPTS();
}

/* Wait ms milliseconds, answering interrupts (SIGTERM) meanwhile. */
static void
worker_sleep(long ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);
	long        left;

	while ((left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
												   end)) > 0)
	{
		(void) assoc_forward_wait(
			WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left);
		ResetLatch(MyLatch);
		worker_check_interrupts();
	}
}

/*
 * Wait for the next batch: after one that announced something (gather),
 * let commits gather for NOTIFY_MIN_INTERVAL_MS; then wait for a commit,
 * and exit after NOTIFY_IDLE_MS without one, so that the database can be
 * dropped.  After a batch that left entries behind the delivery horizon
 * (held), try again after NOTIFY_HELD_MS at the latest: the transaction
 * holding them back may end without a commit that wakes the worker (an
 * abort, or a commit with assoc.notify off).  While a transaction that
 * drew a position was running in the last batch's snapshot (writers), a
 * prepared one say, whose COMMIT PREPARED wakes nobody, the worker does
 * not leave: it looks again every NOTIFY_IDLE_MS, so once more after such
 * a transaction has ended.
 */
static void
worker_wait(NotifySlot *slot, uint64 seen, bool gather, bool held,
			bool writers)
{
	int rc;

	if (held)
	{
		(void) assoc_forward_wait(
			WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, NOTIFY_HELD_MS);
		ResetLatch(MyLatch);
		return;
	}
	if (gather)
		(void) assoc_forward_wait(WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								  NOTIFY_MIN_INTERVAL_MS);
	rc = assoc_forward_wait(WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							NOTIFY_IDLE_MS);
	ResetLatch(MyLatch);
	if ((rc & WL_TIMEOUT) && !(rc & WL_LATCH_SET) && !writers &&
		assoc_forward_idle() && worker_leave(slot, seen))
		proc_exit(0);
}

/*
 * Connect to the database of slot index and take the slot, or exit when
 * another worker has it (or it was given to another database meanwhile).
 * The worker's transactions change nothing durable, and it runs as a
 * superuser, so no database default may redirect its names, nor make its
 * batches read-only, of another isolation level or cut short.
 */
static NotifySlot *
worker_attach(int index)
{
	NotifySlot *slot = &assoc_notify_shared->slots[index];
	Oid         dboid;

	LWLockAcquire(assoc_notify_shared->lock, LW_SHARED);
	dboid = slot->dboid;
	LWLockRelease(assoc_notify_shared->lock);
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);

	LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
	if (slot->running || slot->dboid != MyDatabaseId)
	{
		if (slot->dboid == MyDatabaseId)
			slot->requested = false;
		LWLockRelease(assoc_notify_shared->lock);
		proc_exit(0);
	}
	slot->running = true;
	slot->requested = false;
	slot->latch = MyLatch;
	LWLockRelease(assoc_notify_shared->lock);
	before_shmem_exit(notify_worker_exit, Int32GetDatum(index));

	SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET,
					PGC_S_OVERRIDE);
	SetConfigOption("jit", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET,
					PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	return slot;
}

/*
 * After a failed batch: wait NOTIFY_RETRY_MS before the next try, or, the
 * NOTIFY_MAX_FAILURES-th time in a row, exit (the next commit starts
 * another worker).
 */
static void
worker_failed(int failures)
{
	if (failures >= NOTIFY_MAX_FAILURES)
	{
		ereport(LOG, (errmsg("pg_assoc notification worker stops after %d "
							 "failed batches",
							 failures),
					  errdetail("The next commit of a write starts "
								"another.")));
		proc_exit(0);
	}
	worker_sleep(NOTIFY_RETRY_MS);
}

/*
 * After a batch that committed: publish its position to the slot and
 * prune every NOTIFY_PRUNE_MS, or, when the extension is gone, leave the
 * slot and exit if nothing new was committed meanwhile (worker_leave).
 */
static void
worker_after_batch(NotifySlot *slot, Batch *b, TimestampTz *last_prune)
{
	if (!b->installed)
	{
		if (worker_leave(slot, b->seen))
			proc_exit(0);
		return;
	}
	batch_publish(b);
	if (TimestampDifferenceExceeds(*last_prune, GetCurrentTimestamp(),
								   NOTIFY_PRUNE_MS))
	{
		*last_prune = GetCurrentTimestamp();
		(void) worker_step(notify_prune, NULL,
						   "pg_assoc pruning the feed and the op_id "
						   "ledger");
	}
}

/*
 * The notification worker of one database (main_arg: its slot).  Runs
 * batches while commits wake it (at most one per NOTIFY_MIN_INTERVAL_MS
 * while they keep coming), prunes every minute, and exits after
 * NOTIFY_IDLE_MS without commits, when the extension is dropped, or after
 * NOTIFY_MAX_FAILURES failed batches in a row.
 */
void
assoc_notify_worker_main(Datum main_arg)
{
	NotifySlot *slot;
	TimestampTz last_prune = 0;
	int         failures = 0;

	pqsignal(SIGTERM, die);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	BackgroundWorkerUnblockSignals();
	slot = worker_attach(DatumGetInt32(main_arg));
	worker_cxt = AllocSetContextCreate(TopMemoryContext, "pg_assoc notify",
									   ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(worker_cxt);

	for (;;)
	{
		Batch b;

		worker_check_interrupts();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(worker_cxt);
		memset(&b, 0, sizeof(b));
		b.slot = slot;
		/* Read before the batch's snapshot: these commits are visible. */
		b.seen = pg_atomic_read_u64(&slot->committed);
		if (!worker_step(notify_batch, &b, "pg_assoc announcing feed entries"))
		{
			assoc_forward_batch_end(false);
			worker_failed(++failures);
			continue;
		}
		assoc_forward_batch_end(true);
		failures = 0;
		worker_after_batch(slot, &b, &last_prune);
		worker_wait(slot, b.seen, b.counts.announced > 0, b.held, b.writers);
	}
}
