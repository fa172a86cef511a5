/*
 * horizon.c
 *		Feed positions and the delivery horizon (README, "Change
 *		subscriptions", "Delivery horizon"): where an entry sits in the feed
 *		of its database, and below which position a reader may deliver
 *		entries without ever handing out a cursor that a later entry could
 *		fall behind.
 *
 * An entry's position is (pos, seq): pos is drawn once per writing
 * transaction, at its first feed entry, seq numbers the transaction's
 * entries.  Readers (assoc.changes, assoc.head, the notification worker)
 * deliver the entries their snapshot sees that lie below the horizon of
 * that snapshot.
 *
 * A pos is an xid in its high bits and a count in its low POS_SHIFT bits;
 * base(x) is the pos of xid x + 1 with a count of 0.  With the library
 * preloaded, pos comes from the database's clock in shared memory (its
 * notification slot), drawn under the exclusive lock:
 *
 *		pos = max(last + 1, base(xid))		(xid: the writer's top-level xid)
 *
 * so its xid part never runs ahead of the xids assigned: a writer that
 * draws after a younger one counts up in the low bits.  The writer is
 * registered, at the index of its PGPROC, with its xid and pos in the same
 * critical section, and the draw is recorded as a tick: the next xid to
 * assign at that moment, and pos.  The registration is cleared after the
 * transaction has left the proc array (the commit and abort callbacks run
 * after ProcArrayEndTransaction); at PREPARE it moves to the prepared
 * transaction's own PGPROC, where it stays until that is reused.  Four
 * facts follow:
 *
 *	(F1) positions are drawn in increasing order, and a transaction that
 *		 has not drawn yet will draw above the clock's last;
 *	(F2) every pos is at least base(xid) of its writer;
 *	(F3) a transaction that has drawn is registered until it is no longer
 *		 running;
 *	(F4) a transaction whose xid is x or above drew after every tick whose
 *		 next xid is at most x (it had its xid when it drew, and the next
 *		 xid only grows), so above that tick's pos.  lower(x) is the larger
 *		 of the latest such tick's pos + 1 and base(x), or base(x) (F2)
 *		 when no tick kept tells: what a writer with an xid of x or above
 *		 draws is not below it.
 *
 * The horizon of a snapshot S is the smallest of
 *
 *	(a) last + 1, read under the lock (F1: every later draw is above it);
 *	(b) lower(xmax of S) (F4: a writer that started after S is above it);
 *	(c) the pos of every registered writer that S sees as running;
 *	(d) lower(xid) for every xid S sees as running that is neither
 *		registered nor running any more: it ended between S and now, maybe
 *		after drawing (F4), and S does not see its entries;
 *
 * raised to base(xmin of S) when that is higher (every xid below xmin has
 * ended, and F2 puts every other writer, whose xid is xmin or above, at
 * base(xmin) or above).  (a)-(c) and which xids are registered are read
 * under the shared lock, so no draw or registration interleaves with
 * them; whether an unregistered xid of (d) still runs is asked after it,
 * which is safe: one that still runs then was running and undrawn under
 * the lock, so it draws above (a).
 * Claim: every writer S sees as running has pos >= horizon.  A writer
 * running at S either still runs and is registered (c) or not yet drawn
 * (a), or has ended since: then it is registered no more and its xid is in
 * S (d), or it started after S (b).  So an entry below the horizon belongs
 * to a writer that had ended when S was taken: S sees it if it committed.
 * A reader that hands out the cursor of such an entry has delivered every
 * committed entry before it, and every entry still to become visible lies
 * above the horizon: nothing can appear behind a cursor handed out.  A
 * writer that commits between S and the computation is (d), not skipped.
 * Writers of other databases and transactions that never write the feed
 * are never (a)-(c), and (d) only for the instant between a snapshot and
 * its horizon, so neither holds delivery back; a long transaction that
 * has written the feed does, until it ends (c).
 *
 * Positions never go backwards across a crash: the clock hands out
 * positions only up to a high-water mark logged in the sequence
 * assoc.feed_clock (setval writes WAL; every commit that used a position
 * flushes that record first), raised CLOCK_STEP past the draw, by one
 * backend after its draw when less than half of that is left (so others
 * seldom wait for it), or by a draw that finds none left.  Loading the
 * clock (the first draw after a start, or in a newly taken slot) sets
 * last to the mark, starts the ticks again from a tick of the load, and
 * registers every prepared transaction of the database at base(xid) (F2:
 * not above what it drew), since its real pos was lost with shared
 * memory.  A draw also notes, while the worker has not run yet, the
 * lowest position drawn: where its first batch starts.
 *
 * Where there is no clock, the horizon is base(xmin) as above: that
 * is without the preloaded library, on a standby, in a database without a
 * notification slot (every slot taken), and until the database's clock is
 * loaded.  A writer without a clock draws its pos from the sequence
 * itself, under its lock: the larger of base(xid) and the mark + 1,
 * logged as the new mark, so above every pos drawn before, with or without
 * the clock; with the preloaded library it is also registered, and kept
 * only if, under the lock afterwards, the database still has no clock
 * (loading reads the mark under the sequence's lock).  Every pos keeps F2,
 * so the xmin horizon is safe whichever way it was drawn, and switching
 * between the two never loses an entry.  After a restart the clock may
 * stand ahead of the xids by the logged mark's lead (a CLOCK_STEP or two,
 * more after restarts in quick succession), which delays xmin-horizon
 * readers until the xids have caught up.
 *
 * Until ALTER EXTENSION pg_assoc UPDATE, 0.1.0's objects have no
 * sequence: positions are then xids (pos = xid, not registered) and the
 * horizon the snapshot's xmin, 0.1.0's own rule.  A writer looks for the
 * sequence once it holds its lock on assoc.feed, which the update takes
 * exclusively, so no writer of 0.1.0 positions outlives the update; a
 * reader asks whether its snapshot sees the sequence, so one whose
 * snapshot is older than the update keeps 0.1.0's rule (it sees 0.1.0's
 * feed).  The same holds after DROP EXTENSION and CREATE EXTENSION of
 * 0.1.0: without the sequence the clock is not used, whatever the slot
 * remembers.
 *
 * Layer: the write path (README, "How the code is organised"); calls the
 * notification state (notify.c) and PostgreSQL.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/sequence.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "horizon.h"
#include "notify.h"

/*
 * A position is an xid shifted left by POS_SHIFT bits, plus a count in
 * the low bits (file header).
 */
#define POS_SHIFT       12
#define POS_OF_XID(xid) ((uint64) (xid) << POS_SHIFT)
#define BASE(xid)       POS_OF_XID((xid) + 1)

/*
 * How far the clock's logged high-water mark is raised past a draw; it is
 * raised ahead of need when less than half of that is left.
 */
#define CLOCK_STEP POS_OF_XID(256)

/* The transaction this backend drew a position for, and the position. */
static FullTransactionId drawn_xid = {0};
static uint64            drawn_pos = 0;

/* This backend's writer. */
static FeedWriter *
my_writer(void)
{
	return &assoc_notify_shared->writers[MyProc - ProcGlobal->allProcs];
}

/* The full form of an xid that a current snapshot holds (notify_worker.c). */
static uint64
widen(FullTransactionId next, TransactionId xid)
{
	uint32 epoch = EpochFromFullTransactionId(next);

	if (xid > XidFromFullTransactionId(next))
		epoch--;
	return U64FromFullTransactionId(
		FullTransactionIdFromEpochAndXid(epoch, xid));
}

/* Register writer w (lock held exclusively). */
static void
register_writer(FeedWriter *w, Oid db, FullTransactionId xid, uint64 pos)
{
	w->db = db;
	w->xid = xid;
	pg_atomic_write_u64(&w->pos, pos);
}

/*
 * Record a tick of slot's clock (lock held exclusively): the next xid to
 * assign now, and pos (file header, F4).
 */
static void
clock_tick(NotifySlot *slot, uint64 pos)
{
	ClockTick *tick = &slot->clock_ticks[slot->clock_tick];

	tick->next_xid = U64FromFullTransactionId(ReadNextFullTransactionId());
	tick->pos = pos;
	slot->clock_tick = (slot->clock_tick + 1) % CLOCK_TICKS;
	if (slot->clock_nticks < CLOCK_TICKS)
		slot->clock_nticks++;
}

/*
 * lower(xid) of the file header: not above what a transaction whose xid
 * is xid or above draws, from the latest tick whose next xid is at most
 * xid (ticks are in order of next xid; a binary search), or base(xid).
 */
static uint64
clock_lower(const NotifySlot *slot, uint64 xid)
{
	int oldest =
		(slot->clock_tick - slot->clock_nticks + CLOCK_TICKS) % CLOCK_TICKS;
	int lo = 0, hi = slot->clock_nticks; /* ticks [0, lo) qualify */

	while (lo < hi)
	{
		int mid = lo + (hi - lo) / 2;

		if (slot->clock_ticks[(oldest + mid) % CLOCK_TICKS].next_xid <= xid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return BASE(xid);
	return Max(slot->clock_ticks[(oldest + lo - 1) % CLOCK_TICKS].pos + 1,
			   BASE(xid));
}

/*
 * The sequence holding this database's high-water mark, InvalidOid when
 * there is none (the extension's objects are still 0.1.0's).
 */
static Oid
clock_sequence(void)
{
	Oid nsp = get_namespace_oid("assoc", true);

	return OidIsValid(nsp) ? get_relname_relid("feed_clock", nsp) : InvalidOid;
}

/*
 * Whether snapshot sees the sequence assoc.feed_clock, that is the 0.2.0
 * objects: a snapshot taken before ALTER EXTENSION pg_assoc UPDATE
 * committed sees 0.1.0's feed and must keep 0.1.0's rule.
 */
static bool
clock_sequence_seen(Snapshot snapshot)
{
	Oid         seq = clock_sequence();
	HeapTuple   tuple;
	Relation    rel;
	ScanKeyData key;
	SysScanDesc scan;
	bool        seen;

	if (!OidIsValid(seq))
		return false;
	/* The usual case: the row as cached is one the snapshot sees. */
	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(seq));
	if (HeapTupleIsValid(tuple))
	{
		TransactionId xmin = HeapTupleHeaderGetXmin(tuple->t_data);

		seen = TransactionIdIsCurrentTransactionId(xmin) ||
			   (!XidInMVCCSnapshot(xmin, snapshot) &&
				TransactionIdDidCommit(xmin));
		ReleaseSysCache(tuple);
		if (seen)
			return true;
	}
	/* Any version of its pg_class row: a later GRANT makes a new one. */
	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_class_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(seq));
	scan = systable_beginscan(rel, ClassOidIndexId, true, snapshot, 1, &key);
	seen = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return seen;
}

/*
 * Read the logged high-water mark of sequence seq; with take, log and
 * return the larger of floor and the mark + 1 (a position drawn from the
 * sequence itself), otherwise log floor when it is above the mark and
 * return the mark.  Advances are serialized by a self-conflicting lock on
 * the sequence, so the mark never goes back.  Runs as the extension owner
 * (a write call).
 */
static uint64
sequence_mark(Oid seq, uint64 floor, bool take)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum  value;
	uint64 mark = 0;

	LockRelationOid(seq, ShareUpdateExclusiveLock);
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(seq);
	fcinfo->args[0].isnull = false;
	value = pg_sequence_last_value(fcinfo);
	if (!fcinfo->isnull)
		mark = (uint64) DatumGetInt64(value);
	if (take)
		floor = Max(floor, mark + 1);
	if (floor > mark)
	{
		DirectFunctionCall2(setval_oid, ObjectIdGetDatum(seq),
							Int64GetDatum((int64) floor));
		mark = floor;
	}
	UnlockRelationOid(seq, ShareUpdateExclusiveLock);
	return mark;
}

/*
 * Register every prepared transaction of this database that is not
 * registered, at base(xid) (file header; lock held exclusively).
 */
static void
register_prepared(void)
{
	FullTransactionId next = ReadNextFullTransactionId();
	int               first = MaxBackends + NUM_AUXILIARY_PROCS;

	LWLockAcquire(ProcArrayLock, LW_SHARED);
	for (int i = first; i < assoc_notify_shared->nwriters; i++)
	{
		PGPROC       *proc = &ProcGlobal->allProcs[i];
		FeedWriter   *w = &assoc_notify_shared->writers[i];
		TransactionId xid = proc->xid;
		uint64        full;

		if (!TransactionIdIsNormal(xid) || proc->databaseId != MyDatabaseId)
			continue;
		full = widen(next, xid);
		if (pg_atomic_read_u64(&w->pos) != 0 && w->db == MyDatabaseId &&
			U64FromFullTransactionId(w->xid) == full)
			continue;
		register_writer(w, MyDatabaseId, FullTransactionIdFromU64(full),
						BASE(full));
	}
	LWLockRelease(ProcArrayLock);
}

/*
 * Load the clock of this database's slot from sequence seq (file header),
 * unless another backend has done it meanwhile.
 */
static void
clock_load(Oid seq)
{
	uint64      mark = sequence_mark(seq, 0, false);
	NotifySlot *slot;

	LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
	slot = assoc_notify_find_slot();
	if (slot != NULL && (!slot->clock_loaded || slot->clock_seq != seq))
	{
		slot->clock_last = Max(slot->clock_last, mark);
		slot->clock_hwm = mark;
		slot->clock_seq = seq;
		slot->clock_nticks = 0;
		slot->clock_raising = false;
		clock_tick(slot, slot->clock_last);
		if (!slot->clock_loaded)
			register_prepared();
		slot->clock_loaded = true;
	}
	LWLockRelease(assoc_notify_shared->lock);
}

/*
 * Raise the logged mark of sequence seq to target and take it into this
 * database's clock; raising says this backend set the slot's
 * clock_raising, which is cleared here, also when the raise fails.
 */
static void
clock_raise(Oid seq, uint64 target, bool raising)
{
	volatile uint64 mark = 0;
	NotifySlot     *slot;

	PG_TRY();
	{
		mark = sequence_mark(seq, target, false);
	}
	PG_CATCH();
	{
		if (raising)
		{
			LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
			slot = assoc_notify_find_slot();
			if (slot != NULL)
				slot->clock_raising = false;
			LWLockRelease(assoc_notify_shared->lock);
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
	slot = assoc_notify_find_slot();
	if (slot != NULL && slot->clock_seq == seq && mark > slot->clock_hwm)
		slot->clock_hwm = mark;
	if (slot != NULL && raising)
		slot->clock_raising = false;
	LWLockRelease(assoc_notify_shared->lock);
}

/*
 * The position of the current transaction's feed entries: drawn at its
 * first entry and registered (file header), the same for the rest.
 */
uint64
assoc_horizon_position(void)
{
	FullTransactionId top = GetTopFullTransactionId();
	uint64            xid = U64FromFullTransactionId(top);
	Oid               seq;
	uint64            pos;
	bool              raise = false;

	if (FullTransactionIdEquals(top, drawn_xid))
		return drawn_pos;
	seq = clock_sequence();
	if (!OidIsValid(seq) || !assoc_notify_preloaded)
	{
		/* 0.1.0's objects, or no clock (file header). */
		drawn_xid = top;
		drawn_pos =
			OidIsValid(seq) ? sequence_mark(seq, BASE(xid), true) : xid;
		return drawn_pos;
	}
	(void) assoc_notify_attach_slot();
	for (;;)
	{
		NotifySlot *slot;

		CHECK_FOR_INTERRUPTS();
		LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
		slot = assoc_notify_find_slot();
		if (slot == NULL)
		{
			/*
			 * No clock: drawn from the sequence, and kept only if the
			 * database still has no clock (file header).
			 */
			LWLockRelease(assoc_notify_shared->lock);
			pos = sequence_mark(seq, BASE(xid), true);
			LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
			if (assoc_notify_find_slot() == NULL)
				break;
			LWLockRelease(assoc_notify_shared->lock);
			continue;
		}
		if (!slot->clock_loaded || slot->clock_seq != seq)
		{
			LWLockRelease(assoc_notify_shared->lock);
			clock_load(seq);
			continue;
		}
		pos = Max(slot->clock_last + 1, BASE(xid));
		seq = slot->clock_seq;
		if (pos <= slot->clock_hwm)
		{
			slot->clock_last = pos;
			clock_tick(slot, pos);
			/* Where the worker's first batch starts (notify_worker.c). */
			if (!slot->positioned &&
				(slot->horizon.xid == 0 || pos < slot->horizon.xid))
			{
				slot->horizon.xid = pos;
				slot->horizon.seq = 0;
			}
			/* One backend raises the mark before the others need it. */
			raise =
				!slot->clock_raising && slot->clock_hwm - pos < CLOCK_STEP / 2;
			if (raise)
				slot->clock_raising = true;
			break;
		}
		LWLockRelease(assoc_notify_shared->lock);
		clock_raise(seq, pos + CLOCK_STEP, false);
	}
	register_writer(my_writer(), MyDatabaseId, top, pos);
	LWLockRelease(assoc_notify_shared->lock);
	drawn_xid = top;
	drawn_pos = pos;
	if (raise)
		clock_raise(seq, pos + CLOCK_STEP, true);
	return pos;
}

/* qsort and bsearch comparator of uint64. */
static int
uint64_cmp(const void *a, const void *b)
{
	uint64 x = *(const uint64 *) a, y = *(const uint64 *) b;

	return x < y ? -1 : x > y;
}

/* A candidate of (d) in assoc_horizon_of: an xid and its lower bound. */
typedef struct Ended
{
	TransactionId xid;
	uint64        bound;
} Ended;

/*
 * The delivery horizon of snapshot (file header): entries at positions
 * below it that the snapshot sees may be delivered.
 */
uint64
assoc_horizon_of(Snapshot snapshot, bool *clocked, bool *writers)
{
	FullTransactionId next = ReadNextFullTransactionId();
	uint64            xmin = widen(next, snapshot->xmin);
	uint64            floor = BASE(xmin);
	uint64            horizon;
	NotifySlot       *slot;
	uint64           *registered;
	int               nregistered = 0;
	Ended            *ended;
	int               nended = 0;

	if (clocked)
		*clocked = false;
	if (writers)
		*writers = false;
	if (!clock_sequence_seen(snapshot))
		return xmin; /* 0.1.0's objects: 0.1.0's rule */
	if (!assoc_notify_preloaded || assoc_notify_shared == NULL ||
		snapshot->takenDuringRecovery || RecoveryInProgress())
		return floor;
	registered = palloc(sizeof(uint64) * assoc_notify_shared->nwriters);
	ended = palloc(sizeof(Ended) * Max(snapshot->xcnt, 1));
	LWLockAcquire(assoc_notify_shared->lock, LW_SHARED);
	slot = assoc_notify_find_slot();
	if (slot == NULL || !slot->clock_loaded)
	{
		LWLockRelease(assoc_notify_shared->lock);
		pfree(registered);
		pfree(ended);
		return floor;
	}
	/* (a) and (b) */
	horizon = Min(slot->clock_last + 1,
				  clock_lower(slot, widen(next, snapshot->xmax)));
	/*
	 * (c), noting every registered xid for (d).  Full xids are compared,
	 * so a registration left by a prepared transaction long ago is never
	 * taken for a running one.
	 */
	for (int i = 0; i < assoc_notify_shared->nwriters; i++)
	{
		FeedWriter *w = &assoc_notify_shared->writers[i];
		uint64      pos = pg_atomic_read_u64(&w->pos);
		uint64      xid = U64FromFullTransactionId(w->xid);

		if (pos == 0 || xid < xmin)
			continue;
		registered[nregistered++] = xid;
		if (w->db == MyDatabaseId &&
			XidInMVCCSnapshot(XidFromFullTransactionId(w->xid), snapshot))
		{
			if (writers)
				*writers = true;
			if (pos < horizon)
				horizon = pos;
		}
	}
	/* The candidates of (d): not registered, with their lower bounds. */
	qsort(registered, nregistered, sizeof(uint64), uint64_cmp);
	for (int i = 0; i < snapshot->xcnt; i++)
	{
		uint64 xid = widen(next, snapshot->xip[i]);
		uint64 bound = clock_lower(slot, xid);

		if (bound < horizon && bsearch(&xid, registered, nregistered,
									   sizeof(uint64), uint64_cmp) == NULL)
		{
			ended[nended].xid = snapshot->xip[i];
			ended[nended++].bound = bound;
		}
	}
	LWLockRelease(assoc_notify_shared->lock);

	/*
	 * (d), outside the lock, which writers need: a candidate still running
	 * now was running and not registered under the lock, so it draws above
	 * (a) whenever it does.
	 */
	for (int i = 0; i < nended; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (ended[i].bound < horizon &&
			!TransactionIdIsInProgress(ended[i].xid))
			horizon = ended[i].bound;
	}
	pfree(registered);
	pfree(ended);
	if (clocked)
		*clocked = true;
	return Max(horizon, floor);
}

/*
 * Whether the current transaction has drawn a position: its entries, and
 * every entry drawn after them, wait for it to end.
 */
bool
assoc_horizon_drawn(void)
{
	FullTransactionId top = GetTopFullTransactionIdIfAny();

	return FullTransactionIdIsValid(top) &&
		   FullTransactionIdEquals(top, drawn_xid);
}

/*
 * Called at the end of every transaction: the writer's registration is
 * cleared at commit and abort (after the proc array), and moved to the
 * prepared transaction's PGPROC at PREPARE (file header).  Must not raise
 * an error.
 */
static void
horizon_xact_callback(XactEvent event, void *arg)
{
	FeedWriter *w;

	if (!FullTransactionIdIsValid(drawn_xid))
		return;
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			pg_atomic_write_u64(&my_writer()->pos, 0);
			break;
		case XACT_EVENT_PREPARE:
			w = &assoc_notify_shared
					 ->writers[TwoPhaseGetDummyProc(
								   XidFromFullTransactionId(drawn_xid),
								   false) -
							   ProcGlobal->allProcs];
			LWLockAcquire(assoc_notify_shared->lock, LW_EXCLUSIVE);
			register_writer(w, MyDatabaseId, drawn_xid, drawn_pos);
			pg_atomic_write_u64(&my_writer()->pos, 0);
			LWLockRelease(assoc_notify_shared->lock);
			break;
		default:
			return;
	}
	drawn_xid = InvalidFullTransactionId;
	drawn_pos = 0;
}

/*
 * Called from _PG_init when the library is preloaded (notify.c has
 * reserved the shared state): watch the end of every transaction.
 */
void
assoc_horizon_init(void)
{
	if (assoc_notify_preloaded)
		RegisterXactCallback(horizon_xact_callback, NULL);
}
