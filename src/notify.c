/*
 * notify.c
 *		Notifications of committed changes (SPEC §5): channel names,
 *		payloads, and the notification worker that sends them.
 *
 * PostgreSQL makes every transaction that issued NOTIFY take one
 * cluster-wide lock at commit and hold it through the commit's WAL flush,
 * so NOTIFYing writers commit one at a time.  Writers therefore do not
 * NOTIFY.  With the library in shared_preload_libraries:
 *
 *	feed_append()		notify_written(): note that this transaction wrote
 *						feed entries to announce
 *	commit				notify_xact_callback(): count the commit and set the
 *						latch of the database's worker, starting one if
 *						none runs
 *	worker batch		one transaction: find the feed entries committed
 *						since the last batch, NOTIFY each on its namespace
 *						and record channel, commit; one notify lock per batch
 *
 * Which entries are new: the worker remembers, per database, the xmax of
 * its last batch's snapshot (the horizon) and the transactions that
 * snapshot saw running (pending).  An entry not yet announced either
 * belongs to a pending transaction or lies at or after the horizon; once
 * visible it is announced and no later batch selects it again.  The state
 * lives in shared memory, so a worker that exits when idle (letting its
 * database be dropped) is followed by one that continues where it left
 * off.  It is advanced only once the batch's transaction has committed:
 * a batch that fails (a lock timeout, a relation rebuilt under it) is
 * rolled back, its notifications with it, and tried again from the same
 * place, so no committed entry is skipped.  Notifications stay at most
 * once: the feed is the truth.
 *
 * The worker's loop catches the errors of a batch and of pruning as
 * PostgreSQL's own workers do (worker_step), waits NOTIFY_RETRY_MS and
 * tries again; after NOTIFY_MAX_FAILURES failures in a row it exits and
 * the next commit starts another.  It exits quietly when the extension is
 * dropped, also when the drop happens while it waits for a lock.
 *
 * Without the preloaded library, feed_append NOTIFYs in the writing
 * transaction itself (notify_entry) and warns once per session.
 */
#include "postgres.h"

#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "common/hmac.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "compat.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "feed.h"
#include "store.h"

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

/* PostgreSQL's payload limit: a payload must be shorter than this. */
#define NOTIFY_MAX_PAYLOAD (BLCKSZ - NAMEDATALEN - 128)

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

bool assoc_notify = true;
bool assoc_notify_preloaded = false;

static NotifyShared *shared = NULL;
static NotifySlot   *my_slot = NULL; /* this backend's database's slot */
static bool          xact_wrote = false;
static bool          warned_direct = false;
static bool          warned_full = false;

/*
 * The worker's memory between transactions (a batch's result until the
 * slot has it), reset every round of its loop.
 */
static MemoryContext worker_cxt = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

PGDLLEXPORT void assoc_notify_worker_main(Datum main_arg);

/* Size of the shared state. */
static Size
notify_shmem_size(void)
{
	int maxpending = MaxBackends + max_prepared_xacts;

	return add_size(
		offsetof(NotifyShared, pending),
		mul_size(sizeof(uint64), mul_size(maxpending, NOTIFY_DATABASES)));
}

/* shmem_request_hook: reserve the shared state and its lock. */
static void
notify_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(notify_shmem_size());
	RequestNamedLWLockTranche("pg_assoc", 1);
}

/* shmem_startup_hook: create (or attach to) the shared state. */
static void
notify_shmem_startup(void)
{
	bool found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("pg_assoc notify", notify_shmem_size(), &found);
	if (!found)
	{
		memset(shared, 0, notify_shmem_size());
		shared->lock = &(GetNamedLWLockTranche("pg_assoc"))->lock;
		shared->maxpending = MaxBackends + max_prepared_xacts;
		for (int i = 0; i < NOTIFY_DATABASES; i++)
		{
			pg_atomic_init_u64(&shared->slots[i].committed, 0);
			ConditionVariableInit(&shared->slots[i].cv);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* The pending xids of a slot. */
static uint64 *
slot_pending(NotifySlot *slot)
{
	return &shared->pending[(slot - shared->slots) * shared->maxpending];
}

/*
 * Called at commit, abort and prepare of every transaction: a committed
 * transaction that wrote entries to announce wakes the database's worker.
 * Runs after the commit is visible, so the worker's next snapshot sees it.
 * Must not raise an error.
 */
static void
notify_xact_callback(XactEvent event, void *arg)
{
	NotifySlot *slot = my_slot;
	bool        start;

	if (!xact_wrote)
		return;
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PREPARE)
		return;
	xact_wrote = false;
	if (event != XACT_EVENT_COMMIT || slot == NULL)
		return;

	LWLockAcquire(shared->lock, LW_SHARED);
	pg_atomic_fetch_add_u64(&slot->committed, 1);
	start = !slot->running;
	if (!start)
		SetLatch(slot->latch);
	LWLockRelease(shared->lock);
	if (!start)
		return;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (slot->running)
		SetLatch(slot->latch);
	else if (!slot->requested || TimestampDifferenceExceeds(
									 slot->requested_at, GetCurrentTimestamp(),
									 NOTIFY_START_RETRY_MS))
	{
		BackgroundWorker worker;

		memset(&worker, 0, sizeof(worker));
		worker.bgw_flags =
			BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
		worker.bgw_restart_time = BGW_NEVER_RESTART;
		snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_assoc");
		snprintf(worker.bgw_function_name, BGW_MAXLEN,
				 "assoc_notify_worker_main");
		snprintf(worker.bgw_name, BGW_MAXLEN,
				 "pg_assoc notify worker for database %u", slot->dboid);
		snprintf(worker.bgw_type, BGW_MAXLEN, "pg_assoc notify");
		worker.bgw_main_arg = Int32GetDatum((int) (slot - shared->slots));
		if (RegisterDynamicBackgroundWorker(&worker, NULL))
		{
			slot->requested = true;
			slot->requested_at = GetCurrentTimestamp();
		}
		else
			ereport(LOG, (errmsg("pg_assoc could not start a notification "
								 "worker for database %u",
								 slot->dboid),
						  errhint("Raise max_worker_processes.")));
	}
	LWLockRelease(shared->lock);
}

/*
 * Called from _PG_init.  Loaded through shared_preload_libraries, the
 * library reserves its shared state and watches commits; loaded on
 * demand, writers notify directly.
 */
void
notify_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	assoc_notify_preloaded = true;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = notify_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = notify_shmem_startup;
	RegisterXactCallback(notify_xact_callback, NULL);
}

/*
 * This backend's database's slot, taken on first use.  When every slot
 * is taken, one of a database that no longer exists is reused.  NULL when
 * none is free: notifications of this database are then not sent.
 */
static NotifySlot *
attach_slot(void)
{
	NotifySlot *found = NULL;
	Oid         gone[NOTIFY_DATABASES];
	int         ngone = 0;

	if (my_slot != NULL || shared == NULL)
		return my_slot;

	/*
	 * Which databases with a slot no longer exist: looked up before taking
	 * the lock, which every committing writer needs, since a catalog
	 * lookup may read and lock pg_database.
	 */
	for (int i = 0; i < NOTIFY_DATABASES; i++)
	{
		Oid db = shared->slots[i].dboid; /* a hint; checked again below */

		if (OidIsValid(db) && db != MyDatabaseId &&
			!SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(db)))
			gone[ngone++] = db;
	}

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < NOTIFY_DATABASES && found == NULL; i++)
		if (shared->slots[i].dboid == MyDatabaseId)
			found = &shared->slots[i];
	for (int i = 0; i < NOTIFY_DATABASES && found == NULL; i++)
	{
		NotifySlot *s = &shared->slots[i];
		bool        dropped = false;

		for (int g = 0; g < ngone; g++)
			dropped |= (s->dboid == gone[g]);
		if (s->dboid == InvalidOid ||
			(dropped && !s->running &&
			 (!s->requested || TimestampDifferenceExceeds(
								   s->requested_at, GetCurrentTimestamp(),
								   NOTIFY_START_RETRY_MS))))
		{
			s->dboid = MyDatabaseId;
			s->requested = false;
			s->positioned = false;
			s->horizon.xid = 0;
			s->horizon.seq = 0;
			s->npending = 0;
			s->announced = pg_atomic_read_u64(&s->committed);
			found = s;
		}
	}
	LWLockRelease(shared->lock);
	if (found == NULL && !warned_full)
	{
		warned_full = true;
		ereport(WARNING,
				(errmsg("pg_assoc sends no notifications for this database"),
				 errdetail("%d databases already have notification state.",
						   NOTIFY_DATABASES)));
	}
	my_slot = found;
	return found;
}

/*
 * A feed entry to announce was written by transaction xid (preloaded
 * library).  Until the database's worker has run its first batch, the
 * lowest such xid is where that batch starts.
 */
void
notify_written(FullTransactionId xid)
{
	NotifySlot *slot;
	uint64      x = U64FromFullTransactionId(xid);

	if (xact_wrote)
		return;
	slot = attach_slot();
	if (slot == NULL)
		return;
	if (!slot->positioned)
	{
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
		if (!slot->positioned &&
			(slot->horizon.xid == 0 || x < slot->horizon.xid))
		{
			slot->horizon.xid = x;
			slot->horizon.seq = 0;
		}
		LWLockRelease(shared->lock);
	}
	xact_wrote = true;
}

/* A new random channel secret. */
void
notify_new_secret(bytea **secret)
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
notify_channel_name(const bytea *secret, const char *ns, const char *id,
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
 * The JSON payload of an entry: {"ns","id","v","op","paths","cursor"}.
 * When it would exceed PostgreSQL's payload limit, "paths" is left out
 * and "truncated": true says so; the write never fails for it.
 */
char *
notify_payload(const FeedEntry *entry)
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
	escape_json(&buf, feed_cursor(entry->incarnation, entry->pos));
	appendStringInfoChar(&buf, '}');
	if (buf.len >= NOTIFY_MAX_PAYLOAD)
	{
		buf.len = mark;
		buf.data[mark] = '\0';
		appendStringInfoString(&buf, ",\"truncated\":true,\"cursor\":");
		escape_json(&buf, feed_cursor(entry->incarnation, entry->pos));
		appendStringInfoChar(&buf, '}');
	}
	return buf.data;
}

/*
 * The channel of a namespace, remembered for the last namespace and
 * secret asked for: a batch usually announces many entries of one
 * namespace.
 */
static void
namespace_channel(const bytea *secret, const char *ns, char *out)
{
	static char cached_ns[NAMEDATALEN];
	static char cached_secret[64];
	static int  cached_len = -1; /* -1: nothing cached */
	static char cached_channel[ASSOC_CHANNEL_LEN + 1];
	int         len = VARSIZE_ANY_EXHDR(secret);

	if (len != cached_len || strcmp(ns, cached_ns) != 0 ||
		memcmp(VARDATA_ANY(secret), cached_secret, len) != 0)
	{
		notify_channel_name(secret, ns, NULL, cached_channel);
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

/*
 * Queue the notifications of one entry, on its namespace's channel and on
 * its record's, in the current transaction: they are sent if it commits.
 */
void
notify_entry(const FeedEntry *entry, const bytea *secret)
{
	char  ns_channel[ASSOC_CHANNEL_LEN + 1];
	char  record_channel[ASSOC_CHANNEL_LEN + 1];
	char *payload;

	if (!assoc_notify_preloaded && !warned_direct)
	{
		warned_direct = true;
		ereport(WARNING,
				(errmsg("pg_assoc is not in shared_preload_libraries, so "
						"writers send their notifications themselves"),
				 errdetail("Every transaction that sends a notification "
						   "takes a cluster-wide lock at commit, which "
						   "limits write throughput."),
				 errhint("Add pg_assoc to shared_preload_libraries, or set "
						 "assoc.notify to off.")));
	}
	namespace_channel(secret, entry->ns, ns_channel);
	notify_channel_name(secret, entry->ns, entry->id, record_channel);
	payload = notify_payload(entry);
	Async_Notify(ns_channel, payload);
	Async_Notify(record_channel, payload);
	pfree(payload);
}

/* before_shmem_exit callback of the worker: leave the slot. */
static void
notify_worker_exit(int code, Datum arg)
{
	NotifySlot *slot = &shared->slots[DatumGetInt32(arg)];

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (slot->latch == MyLatch)
	{
		slot->running = false;
		slot->latch = NULL;
	}
	LWLockRelease(shared->lock);
	ConditionVariableBroadcast(&slot->cv);
}

/* Counts of one batch, for batch_entry. */
typedef struct BatchCounts
{
	int announced;
	int skipped;
} BatchCounts;

/* rows_scan_notify callback: announce one entry, up to the batch limit. */
static void
batch_entry(const FeedEntry *entry, const bytea *secret, void *arg)
{
	BatchCounts *counts = (BatchCounts *) arg;

	if (counts->announced >= NOTIFY_BATCH_MAX)
	{
		counts->skipped++;
		return;
	}
	notify_entry(entry, secret);
	counts->announced++;
}

/*
 * The full form of an xid of a current snapshot: within 2^31 of the next
 * xid to assign, so in its epoch or the one before.
 */
static uint64
widen_xid(FullTransactionId next, TransactionId xid)
{
	uint32 epoch = EpochFromFullTransactionId(next);

	if (xid > XidFromFullTransactionId(next))
		epoch--;
	return U64FromFullTransactionId(
		FullTransactionIdFromEpochAndXid(epoch, xid));
}

/* qsort comparator of uint64. */
static int
uint64_cmp(const void *a, const void *b)
{
	uint64 x = *(const uint64 *) a, y = *(const uint64 *) b;

	return x < y ? -1 : x > y;
}

/* One batch of the worker: where it started, what it found and did. */
typedef struct Batch
{
	NotifySlot *slot;
	uint64      seen;      /* commits counted before its snapshot */
	bool        installed; /* false: the extension is gone */
	BatchCounts counts;
	uint64      xmax;     /* its snapshot's xmax: the next horizon */
	uint64     *running;  /* the xids it saw running: the next pending */
	int         nrunning; /* (running lives in worker_cxt) */
} Batch;

/*
 * Read a batch's snapshot: its xmax and the transactions it sees running
 * become the slot's horizon and pending once the batch has committed
 * (batch_publish), so they are kept in worker_cxt.  Returns its xmin.
 */
static uint64
batch_read_snapshot(Batch *b, Snapshot snapshot)
{
	FullTransactionId next = ReadNextFullTransactionId();

	if (snapshot->xcnt > shared->maxpending)
		elog(ERROR, "snapshot has %d running transactions, more than %d",
			 snapshot->xcnt, shared->maxpending);
	b->xmax = widen_xid(next, snapshot->xmax);
	b->nrunning = snapshot->xcnt;
	b->running =
		MemoryContextAlloc(worker_cxt, sizeof(uint64) * Max(b->nrunning, 1));
	for (int i = 0; i < b->nrunning; i++)
		b->running[i] = widen_xid(next, snapshot->xip[i]);
	return widen_xid(next, snapshot->xmin);
}

/*
 * Where a batch starts: the slot's horizon, and its pending xids sorted
 * into *pending (current context).  Before the slot's first batch there
 * are none, and the horizon is the lowest writer's xid or xmin.
 */
static FeedPos
batch_start(NotifySlot *slot, uint64 xmin, uint64 **pending, int *npending)
{
	FeedPos horizon;
	int     n;

	LWLockAcquire(shared->lock, LW_SHARED);
	horizon = slot->horizon;
	n = slot->positioned ? slot->npending : 0;
	*pending = palloc(sizeof(uint64) * Max(n, 1));
	memcpy(*pending, slot_pending(slot), sizeof(uint64) * n);
	if (!slot->positioned && (horizon.xid == 0 || horizon.xid > xmin))
	{
		horizon.xid = xmin;
		horizon.seq = 0;
	}
	LWLockRelease(shared->lock);
	*npending = n;
	qsort(*pending, n, sizeof(uint64), uint64_cmp);
	return horizon;
}

/*
 * One batch (a worker_step; arg is its Batch): in one transaction,
 * announce the entries that became visible since the last batch (file
 * header), found by index scans (rowaccess.c).  The slot is left as it
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
	b->installed = rows_installed();
	if (b->installed)
	{
		Snapshot snapshot;
		FeedPos  horizon;
		uint64  *pending;
		int      npending;

		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot = GetActiveSnapshot();
		pgstat_report_activity(STATE_RUNNING, "announcing feed entries");
		horizon = batch_start(b->slot, batch_read_snapshot(b, snapshot),
							  &pending, &npending);
		b->installed = rows_scan_notify(snapshot, pending, npending, horizon,
										batch_entry, &b->counts);
		PopActiveSnapshot();
	}
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * After a batch's transaction has committed: everything before its
 * snapshot's xmax but what was running is announced, and so is every
 * commit counted before the batch (what assoc.wait_notified waits for).
 */
static void
batch_publish(const Batch *b)
{
	NotifySlot *slot = b->slot;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	slot->horizon.xid = b->xmax;
	slot->horizon.seq = 0;
	memcpy(slot_pending(slot), b->running, sizeof(uint64) * b->nrunning);
	slot->npending = b->nrunning;
	slot->positioned = true;
	if (b->seen > slot->announced)
		slot->announced = b->seen;
	LWLockRelease(shared->lock);
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
 * Prune the feed and the op_id ledger (store_prune) in a transaction of
 * its own (a worker_step).  Skipped when the extension is not installed,
 * or was dropped while this waited for the locks of its tables.
 */
static void
notify_prune(void *arg)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (rows_installed() && prune_lock_tables())
	{
		pgstat_report_activity(STATE_RUNNING, "pruning the feed");
		(void) store_prune();
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

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	idle = pg_atomic_read_u64(&slot->committed) == seen;
	if (idle)
	{
		slot->running = false;
		slot->latch = NULL;
	}
	LWLockRelease(shared->lock);
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
		(void) WaitLatch(MyLatch,
						 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, left,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		worker_check_interrupts();
	}
}

/*
 * Wait for the next batch: after one that announced something (gather),
 * let commits gather for NOTIFY_MIN_INTERVAL_MS; then wait for a commit,
 * and exit after NOTIFY_IDLE_MS without one, so that the database can be
 * dropped.
 */
static void
worker_wait(NotifySlot *slot, uint64 seen, bool gather)
{
	int rc;

	if (gather)
		(void) WaitLatch(MyLatch, WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 NOTIFY_MIN_INTERVAL_MS, PG_WAIT_EXTENSION);
	rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
				   NOTIFY_IDLE_MS, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	if ((rc & WL_TIMEOUT) && !(rc & WL_LATCH_SET) && worker_leave(slot, seen))
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
	NotifySlot *slot = &shared->slots[index];
	Oid         dboid;

	LWLockAcquire(shared->lock, LW_SHARED);
	dboid = slot->dboid;
	LWLockRelease(shared->lock);
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	if (slot->running || slot->dboid != MyDatabaseId)
	{
		if (slot->dboid == MyDatabaseId)
			slot->requested = false;
		LWLockRelease(shared->lock);
		proc_exit(0);
	}
	slot->running = true;
	slot->requested = false;
	slot->latch = MyLatch;
	LWLockRelease(shared->lock);
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
			if (++failures >= NOTIFY_MAX_FAILURES)
			{
				ereport(LOG,
						(errmsg("pg_assoc notification worker stops after %d "
								"failed batches",
								failures),
						 errdetail("The next commit of a write starts "
								   "another.")));
				proc_exit(0);
			}
			worker_sleep(NOTIFY_RETRY_MS);
			continue;
		}
		failures = 0;
		if (!b.installed)
		{
			if (worker_leave(slot, b.seen))
				proc_exit(0);
		}
		else
		{
			batch_publish(&b);
			if (TimestampDifferenceExceeds(last_prune, GetCurrentTimestamp(),
										   NOTIFY_PRUNE_MS))
			{
				last_prune = GetCurrentTimestamp();
				(void) worker_step(notify_prune, NULL,
								   "pg_assoc pruning the feed and the op_id "
								   "ledger");
			}
		}
		worker_wait(slot, b.seen, b.counts.announced > 0);
	}
}

PG_FUNCTION_INFO_V1(assoc_channel);

/*
 * assoc.channel(ns, id DEFAULT NULL): the channel to LISTEN on for a
 * namespace or one of its records.  The secret is read as the caller,
 * under row-level security: a role that may not read the namespace gets
 * the "does not exist" error and no name.
 */
Datum
assoc_channel(PG_FUNCTION_ARGS)
{
	text  *ns;
	char  *id = NULL;
	char   channel[ASSOC_CHANNEL_LEN + 1];
	Datum  values[1];
	bool   isnull;
	bytea *secret;

	ns = store_ns_arg(fcinfo, 0);
	if (!PG_ARGISNULL(1))
	{
		store_check_id(PG_GETARG_TEXT_PP(1));
		id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = PointerGetDatum(ns);
	if (store_exec(SP_NS_SECRET, values, NULL, true, 1) != 1)
		store_error_no_namespace(text_to_cstring(ns));
	secret = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));
	notify_channel_name(secret, text_to_cstring(ns), id, channel);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(channel));
}

PG_FUNCTION_INFO_V1(assoc_rotate_channels);

/*
 * assoc.rotate_channels(ns): a new secret for the namespace, so that every
 * channel name handed out before stops receiving its notifications.
 */
Datum
assoc_rotate_channels(PG_FUNCTION_ARGS)
{
	StoreCall call;
	Datum     values[2];
	bytea    *secret;

	store_open(&call, fcinfo, "rotate_channels", 0, -1);
	notify_new_secret(&secret);
	values[0] = PointerGetDatum(call.ns);
	values[1] = PointerGetDatum(secret);
	store_exec(SP_NS_ROTATE, values, NULL, false, 0);
	store_close(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(assoc_wait_notified);

/*
 * assoc.wait_notified(timeout_ms DEFAULT 10000): wait until the worker has
 * announced every write committed in this database before the call.
 * True at once without the preloaded library (writers notify at commit);
 * false when the timeout passes first.  Makes tests deterministic.
 */
Datum
assoc_wait_notified(PG_FUNCTION_ARGS)
{
	int32       timeout_ms;
	NotifySlot *slot = NULL;
	uint64      target;
	TimestampTz start = GetCurrentTimestamp();
	bool        done = false;

	store_check_not_null(fcinfo, 0, "timeout_ms");
	timeout_ms = PG_GETARG_INT32(0);
	if (timeout_ms < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid timeout_ms %d", timeout_ms),
						errdetail("timeout_ms is a number of milliseconds, "
								  "0 or more.")));
	if (!assoc_notify_preloaded || shared == NULL)
		PG_RETURN_BOOL(true);
	LWLockAcquire(shared->lock, LW_SHARED);
	for (int i = 0; i < NOTIFY_DATABASES && slot == NULL; i++)
		if (shared->slots[i].dboid == MyDatabaseId)
			slot = &shared->slots[i];
	LWLockRelease(shared->lock);
	if (slot == NULL)
		PG_RETURN_BOOL(true);

	target = pg_atomic_read_u64(&slot->committed);
	ConditionVariablePrepareToSleep(&slot->cv);
	for (;;)
	{
		long elapsed;

		LWLockAcquire(shared->lock, LW_SHARED);
		done = slot->announced >= target;
		LWLockRelease(shared->lock);
		if (done)
			break;
		elapsed =
			TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		if (elapsed >= timeout_ms)
			break;
		ConditionVariableTimedSleep(&slot->cv, timeout_ms - elapsed,
									PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	PG_RETURN_BOOL(done);
}
