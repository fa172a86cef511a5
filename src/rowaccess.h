/*
 * rowaccess.h
 *		Row access (rowaccess.c): the hot path's direct table access.
 */
#ifndef ASSOC_ROWACCESS_H
#define ASSOC_ROWACCESS_H

#include "storage/lockdefs.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "access/transam.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"

#include "channel.h"

/*
 * One call's direct table access: its executor state, the tables opened
 * for writes and the slots, made on first use in the call's memory
 * context (cxt, which the caller sets).  The call frame embeds one
 * (AssocCall.rows); zeroed means nothing is open yet.
 */
typedef struct AssocRows
{
	MemoryContext   cxt;         /* where the executor state lives */
	EState         *estate;      /* direct writes */
	ResultRelInfo  *records_rri; /* assoc.records, opened for writes */
	ResultRelInfo  *feed_rri;    /* assoc.feed, opened for writes */
	bool            feed_origin; /* ... with the column origin */
	TupleTableSlot *record_slot; /* a record as read */
	TupleTableSlot *new_slot;    /* a record as written */
	TupleTableSlot *feed_slot;   /* a feed entry as written */
} AssocRows;

/* A namespace's row in assoc.namespaces, as assoc_rows_namespace reads it. */
typedef struct AssocNamespaceRow
{
	Oid    owner;
	int    history_depth;
	int64  incarnation;
	bytea *secret;
} AssocNamespaceRow;

/* A record as read for a write: its row's address and current state. */
typedef struct Record
{
	bool            exists;
	ItemPointerData tid;
	Jsonb          *data;
	Datum           keys;    /* a detoasted assockey */
	int64           version; /* 0 when missing */
	TupleTableSlot *slot;    /* the row read (rowaccess.c), or NULL */
} Record;

/* Columns of assoc.namespaces, assoc.records and assoc.feed (store.sql). */
enum
{
	NS_NS = 1,
	NS_OWNER,
	NS_HISTORY_DEPTH,
	NS_INCARNATION,
	NS_CHANNEL_SECRET,
	NS_CREATED_AT,
	NS_NATTS = NS_CREATED_AT
};
enum
{
	REC_NS = 1,
	REC_ID,
	REC_KEYS,
	REC_DATA,
	REC_VERSION,
	REC_CREATED_AT,
	REC_UPDATED_AT,
	REC_NATTS = REC_UPDATED_AT
};
enum
{
	FEED_NS = 1,
	FEED_XID,
	FEED_SEQ,
	FEED_ID,
	FEED_VERSION,
	FEED_OP,
	FEED_PATHS,
	FEED_NOTIFY,
	FEED_AT,
	FEED_ORIGIN, /* since 0.2.0 */
	FEED_NATTS = FEED_ORIGIN
};

/*
 * The relations used, looked up by name once per backend and again after
 * an invalidation of one of them (rows_forget).  The primary key indexes
 * are not cached: they are taken from the opened table's relcache entry
 * (RelationGetPrimaryKeyIndex), so they always belong to it.
 */
enum
{
	REL_NAMESPACES,
	REL_RECORDS,
	REL_FEED,
	REL_FEED_NOTIFY_IDX,
	REL_COUNT
};
extern Relation assoc_rows_open(int which, LOCKMODE lockmode, bool missing_ok);
extern Oid      assoc_rows_primary_key(Relation rel);
extern bool
assoc_rows_fetch_by_key(Relation rel, Oid index_oid, Snapshot snapshot,
						Datum *keys, int nkeys, TupleTableSlot *slot);
extern void assoc_rows_check_natts(Relation rel, int natts);
extern bool assoc_rows_feed_has_origin(Relation feed);
extern Oid  assoc_rows_records_oid(void);
extern Oid  assoc_rows_feed_oid(void);
extern void assoc_rows_open_records(AssocRows *rows);
extern bool assoc_rows_namespace(text *ns, AssocNamespaceRow *row);
extern void
assoc_rows_fetch_record(AssocRows *rows, const char *fn, const char *ns_name,
						text *ns, text *id, Record *rec, bool lock);
extern bool assoc_rows_update_record(AssocRows *rows, const Record *rec,
									 Jsonb *data, Datum keys, int64 version);
extern void assoc_rows_open_feed(AssocRows *rows);
extern void
assoc_rows_insert_feed(AssocRows *rows, text *ns, uint64 pos, text *id,
					   int64 version, const char *op, Datum paths, bool notify,
					   const char *origin, int64 *seq);
extern void assoc_rows_close(AssocRows *rows);

/* For the notification worker (rowscan.c). */
extern bool assoc_rows_installed(void);
extern bool
assoc_rows_scan_notify(Snapshot snapshot, FeedPos after, uint64 below,
					   NotifyEntryFn fn, void *arg, bool *held);

#endif /* ASSOC_ROWACCESS_H */
