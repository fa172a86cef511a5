/*
 * listeners.c
 *		The channels sessions listen on (README, "Change subscriptions"):
 *		a registry in shared memory of the assoc_ channels LISTENed in each
 *		database, so that the notification worker sends nothing on a
 *		channel nobody listens on.
 *
 * PostgreSQL delivers a notification by signalling every listening backend
 * of the database; each one reads every notification from the queue,
 * whatever channels it listens on.  A batch holds a notification for each
 * record it changed, and most records have no listener, so the worker
 * (notify.c) asks here before it sends on a channel.
 *
 * The registry may hold a channel nobody listens on any more (a needless
 * notification costs, it loses nothing), never lack one that a committed
 * LISTEN listens on:
 *	- LISTEN on a channel named like assoc.channel's (assoc_ and 32
 *	  lowercase hex digits) registers (database, channel) as the statement
 *	  runs, before its transaction commits.  A feed entry committed after
 *	  that commit is announced by a batch whose snapshot is taken after it,
 *	  and the batch asks here after taking its snapshot, so it finds the
 *	  channel.  (Entries committed before the LISTEN commits may reach it or
 *	  not, as PostgreSQL's own notifications may.)
 *	- UNLISTEN (a channel, or *) and DISCARD ALL remove channels only once
 *	  their transaction has committed, and only those that the
 *	  transaction's statements, in order, leave unlistened; statements of a
 *	  rolled-back subtransaction are forgotten, as PostgreSQL forgets them.
 *	  Which channels go is worked out before the commit (where an error
 *	  is still allowed), and they are removed after it.
 *	- a LISTEN whose transaction or subtransaction rolls back takes out
 *	  the channel it added, as PostgreSQL forgets it (a channel the
 *	  session listened on before stays).
 *	- a session that ends leaves all its channels.
 *	- a LISTEN that finds the registry full marks its session as
 *	  overflowing: while any session of the cluster overflows, every
 *	  channel counts as listened (the worker sends on all of them, as
 *	  without the registry), until the channels that found no room are
 *	  unlistened or rolled back, or the session ends.  It is logged once
 *	  per session.
 * A channel that several sessions listen on is registered once, with the
 * number of them.  Only LISTEN statements are seen (the utility hook),
 * which is how clients listen; the registry lives only where the library
 * is preloaded, as the worker does.
 *
 * Layer: the write path (README, "How the code is organised"), below
 * notify.c, which asks it, and channels.c (assoc.notify_registry), which
 * counts it; calls channel.c and PostgreSQL.
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "tcop/utility.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#include "channel.h"
#include "listeners.h"

/* A registered channel: its database and name (zero-padded), and users. */
typedef struct ListenKey
{
	Oid  db;
	char channel[ASSOC_CHANNEL_LEN + 1];
} ListenKey;

typedef struct ListenEntry
{
	ListenKey key;
	int       sessions; /* sessions that registered it */
} ListenEntry;

/* The shared part besides the hash table. */
typedef struct ListenShared
{
	LWLock *lock;        /* guards the table and overflowing */
	int     overflowing; /* sessions with a channel that found no room */
} ListenShared;

static ListenShared *shared = NULL;
static HTAB         *registry = NULL;

/* A channel this session listens on, as far as the registry knows. */
typedef struct MyChannel
{
	char             channel[ASSOC_CHANNEL_LEN + 1]; /* the hash key */
	bool             registered;                     /* false: found no room */
	SubTransactionId added;   /* the subtransaction whose LISTEN added it;
							 * invalid once its transaction committed */
	bool             leaving; /* to remove when the transaction commits */
} MyChannel;

static HTAB *mine = NULL;     /* this session's channels */
static int   my_unregistered; /* of them, how many found no room */
static bool  exit_hooked = false;
static bool  logged_full = false;

/* A LISTEN or UNLISTEN of the current transaction, in statement order. */
typedef struct PendingAction
{
	char             channel[ASSOC_CHANNEL_LEN + 1]; /* "" with UNLISTEN * */
	bool             listen;
	SubTransactionId subid; /* the subtransaction that ran it */
} PendingAction;

static List *pending = NIL;  /* of PendingAction *, in TopMemoryContext */
static bool  marked = false; /* some of mine are marked leaving */
static bool  adding = false; /* some of mine were added by this xact */

static shmem_request_hook_type  prev_shmem_request_hook = NULL;
static shmem_startup_hook_type  prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_utility_hook = NULL;

/* Size of the shared part and of the table. */
static Size
listeners_shmem_size(void)
{
	return add_size(
		MAXALIGN(sizeof(ListenShared)),
		hash_estimate_size(LISTEN_REGISTRY_MAX, sizeof(ListenEntry)));
}

/* shmem_request_hook: reserve the registry and its lock. */
static void
listeners_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(listeners_shmem_size());
	RequestNamedLWLockTranche("pg_assoc listeners", 1);
}

/* shmem_startup_hook: create (or attach to) the registry. */
static void
listeners_shmem_startup(void)
{
	HASHCTL info;
	bool    found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared =
		ShmemInitStruct("pg_assoc listeners", sizeof(ListenShared), &found);
	if (!found)
	{
		shared->lock = &(GetNamedLWLockTranche("pg_assoc listeners"))->lock;
		shared->overflowing = 0;
	}
	info.keysize = sizeof(ListenKey);
	info.entrysize = sizeof(ListenEntry);
	registry = ShmemInitHash("pg_assoc listened channels", LISTEN_REGISTRY_MAX,
							 LISTEN_REGISTRY_MAX, &info,
							 HASH_ELEM | HASH_BLOBS | HASH_FIXED_SIZE);
	LWLockRelease(AddinShmemInitLock);
}

/* The registry's key of channel in this database. */
static void
key_of(const char *channel, ListenKey *key)
{
	memset(key, 0, sizeof(*key));
	key->db = MyDatabaseId;
	strlcpy(key->channel, channel, sizeof(key->channel));
}

/*
 * Take one session out of my channel c's registration, and forget c;
 * caller holds the lock.  Cannot fail: commit, abort and exit call it.
 */
static void
leave_channel(MyChannel *c)
{
	if (c->registered)
	{
		ListenKey    key;
		ListenEntry *e;

		key_of(c->channel, &key);
		e = hash_search(registry, &key, HASH_FIND, NULL);
		Assert(e != NULL);
		if (e != NULL && --e->sessions <= 0)
			hash_search(registry, &key, HASH_REMOVE, NULL);
	}
	else if (--my_unregistered == 0)
		shared->overflowing--;
	hash_search(mine, c->channel, HASH_REMOVE, NULL);
}

/* Which of the session's channels leave_where removes. */
typedef enum LeaveWhich
{
	LEAVE_ALL,     /* the session ends */
	LEAVE_MARKED,  /* the transaction committed: those marked leaving */
	LEAVE_ADDED,   /* it rolled back: those it added */
	LEAVE_ADDED_BY /* a subtransaction rolled back: those it added */
} LeaveWhich;

/*
 * Remove the session's channels that which picks (subid: the
 * subtransaction of LEAVE_ADDED_BY).  Cannot fail: commit, abort and exit
 * call it.
 */
static void
leave_where(LeaveWhich which, SubTransactionId subid)
{
	HASH_SEQ_STATUS seq;
	MyChannel      *c;

	if (mine == NULL)
		return;
	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	hash_seq_init(&seq, mine);
	while ((c = hash_seq_search(&seq)) != NULL)
		if (which == LEAVE_ALL || (which == LEAVE_MARKED && c->leaving) ||
			(which == LEAVE_ADDED && c->added != InvalidSubTransactionId) ||
			(which == LEAVE_ADDED_BY && c->added == subid))
			leave_channel(c);
	LWLockRelease(shared->lock);
}

/* before_shmem_exit callback: the session leaves all its channels. */
static void
listeners_exit(int code, Datum arg)
{
	leave_where(LEAVE_ALL, InvalidSubTransactionId);
}

/*
 * Register channel for this session (at LISTEN, before its transaction
 * commits), unless it already is; with no room left, the session
 * overflows instead, which is logged once per session.
 */
static void
register_channel(const char *channel)
{
	MyChannel *c;
	bool       found;

	if (mine == NULL)
	{
		HASHCTL ctl;

		ctl.keysize = ASSOC_CHANNEL_LEN + 1;
		ctl.entrysize = sizeof(MyChannel);
		ctl.hcxt = TopMemoryContext;
		mine = hash_create("pg_assoc channels of this session", 16, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	if (!exit_hooked)
	{
		before_shmem_exit(listeners_exit, (Datum) 0);
		exit_hooked = true;
	}
	c = hash_search(mine, channel, HASH_ENTER, &found);
	if (found)
		return;
	/* Set before anything that could fail leaves c half made. */
	c->registered = true;
	c->added = GetCurrentSubTransactionId();
	c->leaving = false;
	adding = true;

	LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	{
		ListenKey    key;
		ListenEntry *e;

		key_of(channel, &key);
		e = hash_search(registry, &key, HASH_ENTER_NULL, &found);
		c->registered = e != NULL;
		if (e != NULL)
			e->sessions = found ? e->sessions + 1 : 1;
		else if (my_unregistered++ == 0)
			shared->overflowing++;
	}
	LWLockRelease(shared->lock);
	if (!c->registered && !logged_full)
	{
		logged_full = true;
		ereport(LOG,
				(errmsg("pg_assoc's registry of listened channels is full"),
				 errdetail("The registry holds %d channels for the cluster. "
						   "Until the channels that found no room are "
						   "unlistened or rolled back, or this session ends, "
						   "notification workers send on every channel.",
						   LISTEN_REGISTRY_MAX)));
	}
}

/* Remember a LISTEN or UNLISTEN (channel "" for all) of this transaction. */
static void
note_action(const char *channel, bool listen)
{
	MemoryContext  old = MemoryContextSwitchTo(TopMemoryContext);
	PendingAction *a = palloc(sizeof(PendingAction));

	strlcpy(a->channel, channel, sizeof(a->channel));
	a->listen = listen;
	a->subid = GetCurrentSubTransactionId();
	pending = lappend(pending, a);
	MemoryContextSwitchTo(old);
}

/*
 * ProcessUtility_hook: run the statement, then, for LISTEN, UNLISTEN and
 * DISCARD ALL on this session's channels, register the channel or note
 * the action for the commit.  Other statements pass through.
 */
static void
listeners_utility(PlannedStmt *pstmt, const char *queryString,
				  bool readOnlyTree, ProcessUtilityContext context,
				  ParamListInfo params, QueryEnvironment *queryEnv,
				  DestReceiver *dest, QueryCompletion *qc)
{
	Node *stmt = pstmt->utilityStmt;
	char  channel[ASSOC_CHANNEL_LEN + 1] = "";
	bool  listen = false;
	bool  noted = false;

	if (IsA(stmt, ListenStmt))
	{
		const char *name = ((ListenStmt *) stmt)->conditionname;

		noted = listen = assoc_channel_is_name(name);
		if (noted)
			strlcpy(channel, name, sizeof(channel));
	}
	else if (IsA(stmt, UnlistenStmt))
	{
		const char *name = ((UnlistenStmt *) stmt)->conditionname;

		noted = name == NULL || assoc_channel_is_name(name);
		if (name != NULL && noted)
			strlcpy(channel, name, sizeof(channel));
	}
	else if (IsA(stmt, DiscardStmt))
		noted = ((DiscardStmt *) stmt)->target == DISCARD_ALL;

	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params,
						  queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	/* Nothing to undo for a session that never registered a channel. */
	if (!noted || (!listen && mine == NULL))
		return;
	if (listen)
		register_channel(channel);
	note_action(channel, listen);
}

/* An empty table of the last action per channel (mark_leaving). */
static HTAB *
actions_table(void)
{
	HASHCTL ctl;

	ctl.keysize = ASSOC_CHANNEL_LEN + 1;
	ctl.entrysize = sizeof(PendingAction);
	ctl.hcxt = CurrentMemoryContext;
	return hash_create("pg_assoc listen actions", 16, &ctl,
					   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
}

/*
 * Before the commit: mark the channels that this transaction's LISTENs
 * and UNLISTENs, in order, leave unlistened.  A channel no statement
 * named keeps its state unless an UNLISTEN * came; the last statement
 * naming a channel after the last UNLISTEN * decides for it.
 */
static void
mark_leaving(void)
{
	HTAB           *last;
	bool            all_off = false;
	HASH_SEQ_STATUS seq;
	MyChannel      *c;
	ListCell       *lc;

	if (mine == NULL || pending == NIL || hash_get_num_entries(mine) == 0)
		return;
	last = actions_table();
	foreach (lc, pending)
	{
		PendingAction *a = lfirst(lc);

		/* A cancel here fails the COMMIT; the abort undoes it as above. */
		CHECK_FOR_INTERRUPTS();
		if (a->channel[0] == '\0')
		{
			hash_destroy(last);
			last = actions_table();
			all_off = true;
		}
		else
			*((PendingAction *) hash_search(last, a->channel, HASH_ENTER,
											NULL)) = *a;
	}
	hash_seq_init(&seq, mine);
	while ((c = hash_seq_search(&seq)) != NULL)
	{
		PendingAction *a = hash_search(last, c->channel, HASH_FIND, NULL);

		c->leaving = a != NULL ? !a->listen : all_off;
		marked |= c->leaving;
	}
	hash_destroy(last);
}

/*
 * Forget this transaction's actions and marks; the channels it added and
 * that stay are the session's now.
 */
static void
forget_pending(void)
{
	list_free_deep(pending);
	pending = NIL;
	if (marked || adding)
	{
		HASH_SEQ_STATUS seq;
		MyChannel      *c;

		hash_seq_init(&seq, mine);
		while ((c = hash_seq_search(&seq)) != NULL)
		{
			c->leaving = false;
			c->added = InvalidSubTransactionId;
		}
		marked = false;
		adding = false;
	}
}

/*
 * Transaction callback: before a commit, mark what leaves; after it,
 * remove those channels (no allocation, no error).  At abort, or prepare
 * (which PostgreSQL refuses while a LISTEN is pending), remove the
 * channels the transaction added: PostgreSQL forgets its LISTENs.
 */
static void
listeners_xact(XactEvent event, void *arg)
{
	if (pending == NIL && !adding)
		return;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			mark_leaving();
			return;
		case XACT_EVENT_COMMIT:
			if (marked)
				leave_where(LEAVE_MARKED, InvalidSubTransactionId);
			forget_pending();
			return;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			if (adding)
				leave_where(LEAVE_ADDED, InvalidSubTransactionId);
			forget_pending();
			return;
		default:
			return;
	}
}

/*
 * Subtransaction callback: a committed subtransaction's actions and
 * added channels become its parent's; a rolled-back one's actions are
 * forgotten and the channels it added removed.
 */
static void
listeners_subxact(SubXactEvent event, SubTransactionId mySubid,
				  SubTransactionId parentSubid, void *arg)
{
	ListCell *lc;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		HASH_SEQ_STATUS seq;
		MyChannel      *c;

		foreach (lc, pending)
		{
			PendingAction *a = lfirst(lc);

			if (a->subid == mySubid)
				a->subid = parentSubid;
		}
		if (!adding)
			return;
		hash_seq_init(&seq, mine);
		while ((c = hash_seq_search(&seq)) != NULL)
			if (c->added == mySubid)
				c->added = parentSubid;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		foreach (lc, pending)
		{
			PendingAction *a = lfirst(lc);

			if (a->subid == mySubid)
			{
				pending = foreach_delete_current(pending, lc);
				pfree(a);
			}
		}
		if (adding)
			leave_where(LEAVE_ADDED_BY, mySubid);
	}
}

/*
 * Called from _PG_init: where the library is preloaded, reserve the
 * registry and watch LISTEN statements and transaction ends.
 */
void
assoc_listeners_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = listeners_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = listeners_shmem_startup;
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = listeners_utility;
	RegisterXactCallback(listeners_xact, NULL);
	RegisterSubXactCallback(listeners_subxact, NULL);
}

/*
 * Whether some session of this database may listen on channel: true
 * while a session overflows, and without the registry (not preloaded).
 * The worker calls it after taking its batch's snapshot (see above).
 */
bool
assoc_listened(const char *channel)
{
	ListenKey key;
	bool      found;

	if (registry == NULL)
		return true;
	key_of(channel, &key);
	LWLockAcquire(shared->lock, LW_SHARED);
	found = shared->overflowing > 0 ||
			hash_search(registry, &key, HASH_FIND, NULL) != NULL;
	LWLockRelease(shared->lock);
	return found;
}

/*
 * Fill counts with what the registry holds now, for monitoring: false,
 * with counts zero, without the registry (not preloaded).  The table
 * holds at most LISTEN_REGISTRY_MAX entries, so one pass under the shared
 * lock is short.
 */
bool
assoc_listeners_count(ListenCounts *counts)
{
	HASH_SEQ_STATUS status;
	ListenEntry    *e;

	memset(counts, 0, sizeof(*counts));
	if (registry == NULL)
		return false;
	LWLockAcquire(shared->lock, LW_SHARED);
	hash_seq_init(&status, registry);
	while ((e = hash_seq_search(&status)) != NULL)
	{
		counts->cluster++;
		if (e->key.db == MyDatabaseId)
			counts->here++;
	}
	counts->overflowing = shared->overflowing;
	LWLockRelease(shared->lock);
	return true;
}
