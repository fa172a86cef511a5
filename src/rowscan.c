/*
 * rowscan.c
 *		Reads that need no call's write state: the namespace row every call
 *		starts from (at the address where the session found it last, or
 *		through the primary key), and the notification worker's reading of
 *		the feed (the entries to announce, found by index scans of
 *		feed_notify_idx under the batch's snapshot, each with its
 *		namespace's channel secret).
 *
 * Layer: row access (README, "How the code is organised"); calls
 * rowaccess.c's relations and PostgreSQL.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "rowaccess.h"

/*
 * Where the rows of the namespaces read last were: a hint, checked at each
 * use.  Every write reads its namespace row twice (before and after taking
 * the namespace's lock, frame.c), every read once, and a session mostly
 * uses one or a few namespaces, so the row is first fetched at the address
 * where it was found, without the primary key's index.  The row there is
 * taken only if the snapshot sees it and it has the same name; since the
 * name is the primary key, a visible row with that name is the namespace's
 * row, with its current columns.  Anything else falls back to the index,
 * which gives the row's new address: a changed row (its new version is
 * elsewhere), a removed one, a table rewritten or truncated, the extension
 * created anew (README, "How a write flows").
 */
#define NS_HINTS 8

typedef struct NamespaceHint
{
	Oid             relid;           /* assoc.namespaces when noted */
	ItemPointerData tid;             /* where its row was */
	char            ns[NAMEDATALEN]; /* the name (at most 63 bytes) */
} NamespaceHint;

static NamespaceHint ns_hints[NS_HINTS];
static int           ns_hints_next;

/*
 * The hint of namespace ns in rel, or NULL when there is none; with take,
 * one is taken for it (the oldest, its address left to the caller) unless
 * the name cannot be kept (NAMEDATALEN bytes or more, or a NUL byte).  The
 * relation's OID only skips hints of an earlier assoc.namespaces (the
 * extension created again); what makes a hint safe to use is hint_fetch's
 * check of the row it finds.
 */
static NamespaceHint *
hint_slot(Relation rel, text *ns, bool take)
{
	const char    *name = VARDATA_ANY(ns);
	int            len = VARSIZE_ANY_EXHDR(ns);
	NamespaceHint *h;

	if (len >= NAMEDATALEN || memchr(name, '\0', len) != NULL)
		return NULL;
	for (int i = 0; i < NS_HINTS; i++)
	{
		h = &ns_hints[i];
		if (h->relid == RelationGetRelid(rel) &&
			memcmp(h->ns, name, len) == 0 && h->ns[len] == '\0')
			return h;
	}
	if (!take)
		return NULL;
	h = &ns_hints[ns_hints_next];
	ns_hints_next = (ns_hints_next + 1) % NS_HINTS;
	memcpy(h->ns, name, len);
	h->ns[len] = '\0';
	h->relid = RelationGetRelid(rel);
	return h;
}

/*
 * Fetch the row of namespace ns at its hinted address into slot, if the
 * snapshot sees a row of that name there.  False otherwise, also when no
 * hint is noted or the address is past the table's end (VACUUM truncates
 * empty pages at the end).
 */
static bool
hint_fetch(Relation rel, Snapshot snapshot, text *ns, TupleTableSlot *slot)
{
	NamespaceHint *h = hint_slot(rel, ns, false);
	Datum          name;
	bool           isnull;

	if (h == NULL ||
		ItemPointerGetBlockNumber(&h->tid) >= RelationGetNumberOfBlocks(rel))
		return false;
	if (!table_tuple_fetch_row_version(rel, &h->tid, snapshot, slot))
		return false;
	name = slot_getattr(slot, NS_NS, &isnull);
	return !isnull &&
		   VARSIZE_ANY_EXHDR(DatumGetPointer(name)) == VARSIZE_ANY_EXHDR(ns) &&
		   memcmp(VARDATA_ANY(DatumGetPointer(name)), VARDATA_ANY(ns),
				  VARSIZE_ANY_EXHDR(ns)) == 0;
}

/* Note where the row of namespace ns was found (slot's tts_tid). */
static void
hint_note(Relation rel, text *ns, TupleTableSlot *slot)
{
	NamespaceHint *h;

	if (!ItemPointerIsValid(&slot->tts_tid))
		return;
	h = hint_slot(rel, ns, true);
	if (h != NULL)
		h->tid = slot->tts_tid;
}

/*
 * Read the namespace row of ns into *row (owner, history_depth,
 * incarnation, channel secret).  False when there is none.  Runs as the
 * extension owner: row-level security does not apply.  The row is read as
 * of now, whatever the isolation level, like catalog data: a namespace
 * dropped after a REPEATABLE READ snapshot was taken is gone.  It is
 * fetched at its hinted address when that still holds it, through the
 * primary key otherwise.
 */
bool
assoc_rows_namespace(text *ns, AssocNamespaceRow *row)
{
	Relation        rel;
	TupleTableSlot *slot;
	Snapshot        snapshot;
	Datum           key = PointerGetDatum(ns);
	Oid             pkey;
	bool            found;

	rel = assoc_rows_open(REL_NAMESPACES, AccessShareLock, false);
	/* Until ALTER EXTENSION pg_assoc UPDATE, no column fenced: none is. */
	if (RelationGetDescr(rel)->natts != NS_NATTS - 1)
		assoc_rows_check_natts(rel, NS_NATTS);
	/* The hint relies on the name being unique: the key must be there. */
	pkey = assoc_rows_primary_key(rel);
	slot = table_slot_create(rel, NULL);
	CommandCounterIncrement();
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	/*
	 * Not under SERIALIZABLE, where the two reads lock differently: a fetch
	 * at an address that now holds another namespace's row would take a
	 * predicate lock on that row, and a fetch that finds the row takes none
	 * on the index page, as the index scan does.
	 */
	found = !IsolationIsSerializable() && hint_fetch(rel, snapshot, ns, slot);
	if (!found)
	{
		found =
			assoc_rows_fetch_by_key(rel, pkey, snapshot, &key, 1, NULL, slot);
		if (found)
			hint_note(rel, ns, slot);
	}
	if (found)
	{
		bool isnull;

		row->owner = DatumGetObjectId(slot_getattr(slot, NS_OWNER, &isnull));
		row->history_depth =
			DatumGetInt32(slot_getattr(slot, NS_HISTORY_DEPTH, &isnull));
		row->incarnation =
			DatumGetInt64(slot_getattr(slot, NS_INCARNATION, &isnull));
		row->secret =
			DatumGetByteaPCopy(slot_getattr(slot, NS_CHANNEL_SECRET, &isnull));
		row->fenced = RelationGetDescr(rel)->natts >= NS_FENCED &&
					  DatumGetBool(slot_getattr(slot, NS_FENCED, &isnull));
	}
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(slot);
	/* Locked to the end of the transaction, as a statement would keep it. */
	table_close(rel, NoLock);
	return found;
}

/*
 * The namespace ns as snapshot sees it: its incarnation and channel
 * secret (allocated in the current context).  False when it is gone.
 */
static bool
namespace_as_of(Relation nsrel, Snapshot snapshot, const char *ns,
				int64 *incarnation, bytea **secret)
{
	TupleTableSlot *slot = table_slot_create(nsrel, NULL);
	Datum           key = CStringGetTextDatum(ns);
	bool            found, isnull;

	found = assoc_rows_fetch_by_key(nsrel, assoc_rows_primary_key(nsrel),
									snapshot, &key, 1, NULL, slot);
	if (found)
	{
		*incarnation =
			DatumGetInt64(slot_getattr(slot, NS_INCARNATION, &isnull));
		*secret =
			DatumGetByteaPCopy(slot_getattr(slot, NS_CHANNEL_SECRET, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	return found;
}

/* The relations assoc_rows_scan_notify reads. */
typedef struct NotifyRels
{
	Relation nsrel;
	Relation feed;
	Relation index;
	bool     origin; /* the feed has the column origin (0.2.0) */
} NotifyRels;

/*
 * Open the relations assoc_rows_scan_notify reads, in the order in which DROP
 * EXTENSION locks them (the order of the install script), so that a drop
 * and a batch wait for each other instead of deadlocking.  The index is
 * looked up after the feed is locked: a REINDEX CONCURRENTLY that replaced
 * it has then been taken in.  False, with nothing left open, when the
 * extension is gone (dropped while the batch waited for a lock).
 */
static bool
open_notify_rels(NotifyRels *rels)
{
	rels->nsrel = assoc_rows_open(REL_NAMESPACES, AccessShareLock, true);
	if (rels->nsrel == NULL)
		return false;
	rels->feed = assoc_rows_open(REL_FEED, AccessShareLock, true);
	if (rels->feed == NULL)
	{
		table_close(rels->nsrel, AccessShareLock);
		return false;
	}
	rels->index = assoc_rows_open(REL_FEED_NOTIFY_IDX, AccessShareLock, true);
	if (rels->index == NULL)
	{
		table_close(rels->feed, AccessShareLock);
		table_close(rels->nsrel, AccessShareLock);
		return false;
	}
	rels->origin = assoc_rows_feed_has_origin(rels->feed);
	return true;
}

/*
 * The state of one assoc_rows_scan_notify: the relations and slot it
 * reads, and the namespace of the current run of entries (entries come in
 * runs of one namespace, looked up once per run).
 */
typedef struct NotifyScan
{
	NotifyRels      rels;
	Snapshot        snapshot;
	TupleTableSlot *slot;
	MemoryContext   entry_cxt; /* reset after each entry */
	NotifyEntryFn   fn;
	void           *arg;
	char            ns_name[NAMEDATALEN];
	int64           incarnation;
	bytea          *secret;
	bool            ns_found;
} NotifyScan;

/*
 * Announce the feed entry in the scan's slot: read its namespace (again
 * only when a new run starts) and its columns, and call fn with them.  An
 * entry of a namespace that is gone is skipped.
 */
static void
scan_announce(NotifyScan *s, FeedPos pos)
{
	FeedEntry     e;
	bool          isnull;
	MemoryContext old = MemoryContextSwitchTo(s->entry_cxt);

	e.pos = pos;
	e.ns = TextDatumGetCString(slot_getattr(s->slot, FEED_NS, &isnull));
	if (strcmp(e.ns, s->ns_name) != 0)
	{
		MemoryContextSwitchTo(old);
		if (s->secret != NULL)
			pfree(s->secret);
		s->secret = NULL;
		strlcpy(s->ns_name, e.ns, sizeof(s->ns_name));
		s->ns_found = namespace_as_of(s->rels.nsrel, s->snapshot, s->ns_name,
									  &s->incarnation, &s->secret);
		MemoryContextSwitchTo(s->entry_cxt);
	}
	if (s->ns_found)
	{
		e.incarnation = s->incarnation;
		e.id = TextDatumGetCString(slot_getattr(s->slot, FEED_ID, &isnull));
		e.version =
			DatumGetInt64(slot_getattr(s->slot, FEED_VERSION, &isnull));
		e.op = TextDatumGetCString(slot_getattr(s->slot, FEED_OP, &isnull));
		e.paths = slot_getattr(s->slot, FEED_PATHS, &isnull);
		if (isnull)
			e.paths = (Datum) 0;
		e.origin = NULL;
		if (s->rels.origin)
		{
			Datum origin = slot_getattr(s->slot, FEED_ORIGIN, &isnull);

			if (!isnull)
				e.origin = TextDatumGetCString(origin);
		}
		s->fn(&e, s->secret, s->arg);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(s->entry_cxt);
}

/*
 * Call fn for each feed entry to announce (notify set) that snapshot sees
 * after position after and below position (below, 0), in feed order, with
 * its namespace's channel secret: one range scan of feed_notify_idx.
 * *held is set when the snapshot sees an entry to announce at or after
 * below, which a later batch announces.  Each call of fn runs in a memory
 * context reset after it.  Returns false, having called nothing, when the
 * extension is not installed (any more).
 */
bool
assoc_rows_scan_notify(Snapshot snapshot, FeedPos after, uint64 below,
					   NotifyEntryFn fn, void *arg, bool *held)
{
	NotifyScan    s = {0};
	ScanKeyData   skey;
	IndexScanDesc scan;

	*held = false;
	if (!open_notify_rels(&s.rels))
		return false;
	s.snapshot = snapshot;
	s.fn = fn;
	s.arg = arg;
	s.slot = table_slot_create(s.rels.feed, NULL);
	s.entry_cxt = AllocSetContextCreate(
		CurrentMemoryContext, "pg_assoc notify entry", ALLOCSET_DEFAULT_SIZES);
	ScanKeyInit(&skey, 1, BTGreaterEqualStrategyNumber, F_XID8GE,
				UInt64GetDatum(after.xid));
	scan = index_beginscan(s.rels.feed, s.rels.index, snapshot, 1, 0);
	index_rescan(scan, &skey, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, s.slot))
	{
		FeedPos pos;
		bool    isnull;

		CHECK_FOR_INTERRUPTS();
		pos.xid = DatumGetUInt64(slot_getattr(s.slot, FEED_XID, &isnull));
		pos.seq = DatumGetInt64(slot_getattr(s.slot, FEED_SEQ, &isnull));
		if (pos.xid == after.xid && pos.seq <= after.seq)
			continue;
		if (pos.xid >= below)
		{
			*held = true;
			break;
		}
		scan_announce(&s, pos);
	}
	index_endscan(scan);
	MemoryContextDelete(s.entry_cxt);
	ExecDropSingleTupleTableSlot(s.slot);
	index_close(s.rels.index, AccessShareLock);
	table_close(s.rels.feed, AccessShareLock);
	table_close(s.rels.nsrel, AccessShareLock);
	return true;
}
