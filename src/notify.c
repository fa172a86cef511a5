/*
 * notify.c
 *		Notifications of committed changes (README, "Change
 *		subscriptions"): the shared state, the commit callback that wakes
 *		the worker, and writers' own NOTIFYs without it.  Channel names and
 *		payloads are in channel.c, the worker in notify_worker.c.
 *
 * PostgreSQL makes every transaction that issued NOTIFY take one
 * cluster-wide lock at commit and hold it through the commit's WAL flush,
 * so NOTIFYing writers commit one at a time.  Writers therefore do not
 * NOTIFY.  With the library in shared_preload_libraries:
 *
 *	assoc_feed_append()		assoc_notify_written(): note that this transaction wrote
 *						feed entries to announce
 *	commit				notify_xact_callback(): count the commit and set the
 *						latch of the database's worker, starting one if
 *						none runs
 *	worker batch		one transaction: find the feed entries committed
 *						since the last batch, NOTIFY them on their namespace
 *						and record channels where a session listens
 *						(listeners.c), one notification per channel (a JSON
 *						array when several), commit; one notify lock per
 *						batch
 *
 * Which entries are new: the worker remembers, per database, the position
 * up to which its batches have announced (the horizon).  Each batch
 * announces the entries its snapshot sees from there up to the delivery
 * horizon of that snapshot (horizon.c), the bound below which no entry can
 * appear any more, and moves the horizon there; once visible an entry is
 * announced and no later batch selects it again.  The state lives in
 * shared memory, so a worker that exits when idle (letting its database
 * be dropped) is followed by one that continues where it left off.  It is
 * advanced only once the batch's transaction has committed: a batch that
 * fails (a lock timeout, a relation rebuilt under it) is rolled back, its
 * notifications with it, and tried again from the same place, so no
 * committed entry is skipped.  Notifications stay at most once: the feed
 * is the truth.
 *
 * The worker's loop catches the errors of a batch and of pruning as
 * PostgreSQL's own workers do (worker_step), waits NOTIFY_RETRY_MS and
 * tries again; after NOTIFY_MAX_FAILURES failures in a row it exits and
 * the next commit starts another.  It exits quietly when the extension is
 * dropped, also when the drop happens while it waits for a lock.
 *
 * Without the preloaded library, assoc_feed_append NOTIFYs in the writing
 * transaction itself (assoc_notify_entry) and warns once per session.
 *
 * Layer: the write path (README, "How the code is organised"); calls
 * forward.c, listeners.c, channel.c and PostgreSQL.
 */
#include "postgres.h"

#include "access/twophase.h"
#include "access/xact.h"
#include "commands/async.h"
#include "compat.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "channel.h"
#include "forward.h"
#include "listeners.h"
#include "notify.h"

bool assoc_notify = true;
bool assoc_notify_preloaded = false;

/* assoc.origin: recorded in each feed entry and its notification. */
char *assoc_origin = NULL;

/* Longest assoc.origin, in bytes: it travels in every notification. */
#define ASSOC_ORIGIN_MAX 255

/*
 * Check hook of assoc.origin: at most ASSOC_ORIGIN_MAX characters of
 * printable ASCII, so that an entry's notification stays far below
 * PostgreSQL's payload limit and is valid text in every encoding
 * (a value given as a connection option is never checked against the
 * database encoding; invalid bytes would reach every listener).
 */
static bool
check_origin(char **newval, void **extra, GucSource source)
{
	const char *p;

	if (*newval == NULL)
		return true;
	for (p = *newval; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
		{
			GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
			GUC_check_errdetail("assoc.origin holds printable ASCII "
								"characters only.");
			return false;
		}
	if (p - *newval > ASSOC_ORIGIN_MAX)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errdetail("assoc.origin is at most %d characters.",
							ASSOC_ORIGIN_MAX);
		return false;
	}
	return true;
}

NotifyShared      *assoc_notify_shared = NULL;
static NotifySlot *my_slot = NULL; /* this backend's database's slot */
static bool        xact_wrote = false;
static bool        warned_direct = false;
static bool        warned_full = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* PGPROCs, so writers: backends, auxiliary processes, prepared transactions. */
static int
notify_nwriters(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

/* Size of the shared state. */
static Size
notify_shmem_size(void)
{
	return add_size(offsetof(NotifyShared, writers),
					mul_size(sizeof(FeedWriter), notify_nwriters()));
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
	assoc_notify_shared =
		ShmemInitStruct("pg_assoc notify", notify_shmem_size(), &found);
	if (!found)
	{
		memset(assoc_notify_shared, 0, notify_shmem_size());
		assoc_notify_shared->lock = &(GetNamedLWLockTranche("pg_assoc"))->lock;
		assoc_notify_shared->nwriters = notify_nwriters();
		for (int i = 0; i < NOTIFY_DATABASES; i++)
		{
			pg_atomic_init_u64(&assoc_notify_shared->slots[i].committed, 0);
			ConditionVariableInit(&assoc_notify_shared->slots[i].cv);
		}
		for (int i = 0; i < assoc_notify_shared->nwriters; i++)
			pg_atomic_init_u64(&assoc_notify_shared->writers[i].pos, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Called at commit, abort and prepare of every transaction: a committed
 * transaction that wrote entries to announce wakes the database's worker.
 * Runs after the commit is visible, so the worker's next snapshot sees it.
 * A prepared one wakes it too: the worker then stays until it ends
 * (notify_worker.c, worker_wait), since COMMIT PREPARED wakes nobody.
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
	if (event == XACT_EVENT_ABORT || slot == NULL)
		return;

	LWLockAcquire(assoc_notify_shared->lock, LW_SHARED);
	pg_atomic_fetch_add_u64(&slot->committed, 1);
	start = !slot->running;
	if (!start)
		SetLatch(slot->latch);
	LWLockRelease(assoc_notify_shared->lock);
	if (!start)
		return;

	LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
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
		worker.bgw_main_arg =
			Int32GetDatum((int) (slot - assoc_notify_shared->slots));
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
	LWLockRelease(assoc_notify_shared->lock);
}

/*
 * Called from _PG_init: the settings assoc.notify and assoc.origin.
 * Loaded through shared_preload_libraries, the library reserves its
 * shared state and watches commits; loaded on demand, writers notify
 * directly.
 */
void
assoc_notify_init(void)
{
	DefineCustomBoolVariable(
		"assoc.notify", "Whether writes send notifications.",
		"Recorded with each feed entry; off writes the feed only.",
		&assoc_notify, true, PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable(
		"assoc.origin", "Who writes: recorded in each feed entry.",
		"Carried in each entry's notification and returned by "
		"assoc.changes, so that a service can skip its own writes.  Empty "
		"is none (NULL).",
		&assoc_origin, "", PGC_USERSET, 0, check_origin, NULL, NULL);

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
 * This database's slot as the slots are now (caller holds the lock):
 * NULL when it has none.
 */
NotifySlot *
assoc_notify_find_slot(void)
{
	if (my_slot != NULL)
		return my_slot;
	for (int i = 0; i < NOTIFY_DATABASES; i++)
		if (assoc_notify_shared->slots[i].dboid == MyDatabaseId)
			return &assoc_notify_shared->slots[i];
	return NULL;
}

/*
 * This backend's database's slot, taken on first use.  When every slot
 * is taken, one of a database that no longer exists is reused.  NULL when
 * none is free: notifications of this database are then not sent, and
 * its feed falls back to the xmin horizon (horizon.c).
 */
NotifySlot *
assoc_notify_attach_slot(void)
{
	NotifySlot *found = NULL;
	Oid         gone[NOTIFY_DATABASES];
	int         ngone = 0;

	if (my_slot != NULL || assoc_notify_shared == NULL)
		return my_slot;

	/*
	 * Which databases with a slot no longer exist: looked up before taking
	 * the lock, which every committing writer needs, since a catalog
	 * lookup may read and lock pg_database.
	 */
	for (int i = 0; i < NOTIFY_DATABASES; i++)
	{
		Oid db = assoc_notify_shared->slots[i]
					 .dboid; /* a hint; checked again below */

		if (OidIsValid(db) && db != MyDatabaseId &&
			!SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(db)))
			gone[ngone++] = db;
	}

	LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
	found = assoc_notify_find_slot();
	for (int i = 0; i < NOTIFY_DATABASES && found == NULL; i++)
	{
		NotifySlot *s = &assoc_notify_shared->slots[i];
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
			s->clock_loaded = false;
			s->feed_oid = InvalidOid;
			found = s;
		}
	}
	LWLockRelease(assoc_notify_shared->lock);
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
 * A feed entry to announce was written at position pos (preloaded
 * library).  Until the database's worker has run its first batch, the
 * lowest such position is where that batch starts (the clock notes it
 * already when it draws; 0.1.0's positions, xids, are noted here).
 */
void
assoc_notify_written(uint64 pos)
{
	NotifySlot *slot;

	if (xact_wrote)
		return;
	slot = assoc_notify_attach_slot();
	if (slot == NULL)
		return;
	if (!slot->positioned)
	{
		LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
		if (!slot->positioned &&
			(slot->horizon.xid == 0 || pos < slot->horizon.xid))
		{
			slot->horizon.xid = pos;
			slot->horizon.seq = 0;
		}
		LWLockRelease(assoc_notify_shared->lock);
	}
	xact_wrote = true;
}

/* One channel's notification that a batch is gathering. */
typedef struct OutChannel
{
	char               name[ASSOC_CHANNEL_LEN + 1]; /* the hash key */
	bool               local;   /* a session here may listen (listeners.c) */
	bool               wanted;  /* sent here or forwarded: gathered */
	StringInfoData     payload; /* one entry, or "[" and the entries so far */
	int                count;   /* entries in payload */
	struct OutChannel *next;    /* the channels in the order first seen */
} OutChannel;

/* The notifications a batch gathers, per channel (assoc_notify_out_*). */
struct NotifyOut
{
	MemoryContext cxt;
	HTAB         *channels;
	OutChannel   *first;
	OutChannel   *last;
};

/*
 * Start gathering a batch's notifications, in a memory context of their
 * own under the current one.  A channel gets one notification for all
 * its entries of the batch: the entry alone, or a JSON array of them,
 * split where the next entry would reach PostgreSQL's payload limit
 * (README, "Change subscriptions"): one queue entry and one read per
 * listener for many changes.
 */
NotifyOut *
assoc_notify_out_begin(void)
{
	MemoryContext cxt =
		AllocSetContextCreate(CurrentMemoryContext, "pg_assoc notifications",
							  ALLOCSET_DEFAULT_SIZES);
	NotifyOut *out = MemoryContextAllocZero(cxt, sizeof(NotifyOut));
	HASHCTL    ctl;

	out->cxt = cxt;
	ctl.keysize = ASSOC_CHANNEL_LEN + 1;
	ctl.entrysize = sizeof(OutChannel);
	ctl.hcxt = cxt;
	out->channels = hash_create("pg_assoc notification channels", 64, &ctl,
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	return out;
}

/* Queue channel c's gathered notification, if any, and empty it. */
static void
out_send(OutChannel *c)
{
	if (c->count == 0)
		return;
	if (c->count > 1)
		appendStringInfoChar(&c->payload, ']');
	if (c->local)
		Async_Notify(c->name, c->payload.data);
	if (assoc_forward_enabled())
		assoc_forward_add(c->name, c->payload.data);
	resetStringInfo(&c->payload);
	c->count = 0;
}

/*
 * The batch's notification of channel, started when first seen; whether
 * it is sent here is decided then, after the batch's snapshot was taken
 * (listeners.c tells why that is soon enough).  Forwarding to a proxy
 * sends on every channel: who listens there is not known here.
 */
static OutChannel *
out_channel(NotifyOut *out, const char *channel)
{
	bool        found;
	OutChannel *c = hash_search(out->channels, channel, HASH_ENTER, &found);

	if (!found)
	{
		c->local = assoc_listened(channel);
		c->wanted = c->local || assoc_forward_enabled();
		memset(&c->payload, 0, sizeof(c->payload));
		if (c->wanted)
		{
			MemoryContext old = MemoryContextSwitchTo(out->cxt);

			initStringInfo(&c->payload);
			MemoryContextSwitchTo(old);
		}
		c->count = 0;
		c->next = NULL;
		if (out->last)
			out->last->next = c;
		else
			out->first = c;
		out->last = c;
	}
	return c;
}

/* Add one entry's payload (below the limit) to channel c's notification. */
static void
out_append(NotifyOut *out, OutChannel *c, const char *entry)
{
	int len = strlen(entry);
	int total;

	/* The length with this entry: "[", the entries and commas, "]". */
	total = c->payload.len + len + (c->count == 0 ? 0 : 2) +
			(c->count == 1 ? 1 : 0);
	if (total >= NOTIFY_MAX_PAYLOAD)
		out_send(c);
	if (c->count == 1)
	{
		MemoryContext  old = MemoryContextSwitchTo(out->cxt);
		StringInfoData array;

		initStringInfo(&array);
		appendStringInfoChar(&array, '[');
		appendBinaryStringInfo(&array, c->payload.data, c->payload.len);
		pfree(c->payload.data);
		c->payload = array;
		MemoryContextSwitchTo(old);
	}
	if (c->count > 0)
		appendStringInfoChar(&c->payload, ',');
	appendBinaryStringInfo(&c->payload, entry, len);
	c->count++;
}

/*
 * Gather the notifications of one entry, on its namespace's channel and
 * on its record's, where someone may listen (or forwarding takes them).
 */
void
assoc_notify_out_add(NotifyOut *out, const FeedEntry *entry,
					 const bytea *secret)
{
	char        ns_channel[ASSOC_CHANNEL_LEN + 1];
	char        record_channel[ASSOC_CHANNEL_LEN + 1];
	OutChannel *ns_out;
	OutChannel *record_out;
	char       *payload;

	assoc_channel_of_namespace(secret, entry->ns, ns_channel);
	assoc_channel_name(secret, entry->ns, entry->id, record_channel);
	ns_out = out_channel(out, ns_channel);
	record_out = out_channel(out, record_channel);
	if (!ns_out->wanted && !record_out->wanted)
		return;
	payload = assoc_channel_payload(entry);
	if (ns_out->wanted)
		out_append(out, ns_out, payload);
	if (record_out->wanted)
		out_append(out, record_out, payload);
	pfree(payload);
}

/*
 * Queue what a batch gathered, channel by channel in the order they were
 * first seen, in the current transaction (sent if it commits), and free
 * it.
 */
void
assoc_notify_out_end(NotifyOut *out)
{
	for (OutChannel *c = out->first; c != NULL; c = c->next)
		out_send(c);
	MemoryContextDelete(out->cxt);
}

/*
 * Queue the notifications of one entry, on its namespace's channel and on
 * its record's, in the current transaction: they are sent if it commits.
 */
void
assoc_notify_entry(const FeedEntry *entry, const bytea *secret)
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
	assoc_channel_of_namespace(secret, entry->ns, ns_channel);
	assoc_channel_name(secret, entry->ns, entry->id, record_channel);
	payload = assoc_channel_payload(entry);
	Async_Notify(ns_channel, payload);
	Async_Notify(record_channel, payload);
	pfree(payload);
}
