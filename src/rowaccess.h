/*
 * rowaccess.h
 *		Row access (rowaccess.c): the hot path's direct table access.
 */
#ifndef ASSOC_ROWACCESS_H
#define ASSOC_ROWACCESS_H

#include "storage/lock.h"
#include "storage/lockdefs.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "access/skey.h"
#include "access/transam.h"
#include "executor/tuptable.h"
#include "nodes/execnodes.h"

#include "channel.h"

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
	REL_HISTORY,
	REL_OPS,
	REL_FEED_NOTIFY_IDX, /* the only index, last */
	REL_COUNT
};
/*
 * One call's direct table access: its executor state, the tables opened
 * for writes and their slots, by REL_ number, made on first use in the
 * call's memory context (cxt, which the caller sets).  The call frame
 * embeds one (AssocCall.rows); zeroed means nothing is open yet.
 */
typedef struct AssocRows
{
	MemoryContext   cxt;                        /* where the state lives */
	EState         *estate;                     /* direct writes */
	ResultRelInfo  *rri[REL_FEED_NOTIFY_IDX];   /* tables opened for writes */
	TupleTableSlot *read[REL_FEED_NOTIFY_IDX];  /* a row as read */
	TupleTableSlot *write[REL_FEED_NOTIFY_IDX]; /* a row as written */
	bool            feed_origin; /* assoc.feed has the column origin */
} AssocRows;

/* A namespace's row in assoc.namespaces, as assoc_rows_namespace reads it. */
typedef struct AssocNamespaceRow
{
	Oid    owner;
	int    history_depth;
	int64  incarnation;
	bytea *secret;
	bool   fenced; /* being moved to another server (README, Scaling out) */
} AssocNamespaceRow;

/* A record as read for a write: its row's address and current state. */
typedef struct Record
{
	bool            exists;
	ItemPointerData tid;
	Jsonb          *data;
	Datum           keys;       /* a detoasted assockey */
	int64           version;    /* 0 when missing */
	Datum           created_at; /* its timestamptz */
} Record;

/*
 * Columns of assoc.namespaces, assoc.records, assoc.feed, assoc.history and
 * assoc.ops (store.sql).
 */
enum
{
	NS_NS = 1,
	NS_OWNER,
	NS_HISTORY_DEPTH,
	NS_INCARNATION,
	NS_CHANNEL_SECRET,
	NS_CREATED_AT,
	NS_FENCED, /* since 0.2.0 */
	NS_NATTS = NS_FENCED
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
enum
{
	HIST_NS = 1,
	HIST_ID,
	HIST_VERSION,
	HIST_DATA,
	HIST_KEYS,
	HIST_OP,
	HIST_AT,
	HIST_NATTS = HIST_AT
};
enum
{
	OPS_NS = 1,
	OPS_OP_ID,
	OPS_FN,
	OPS_ARGS,
	OPS_RESULT,
	OPS_AT,
	OPS_NATTS = OPS_AT
};

extern Relation assoc_rows_open(int which, LOCKMODE lockmode, bool missing_ok);
extern Oid      assoc_rows_primary_key(Relation rel);
extern bool     assoc_rows_fetch_by_key(Relation rel, Oid index_oid,
										Snapshot snapshot, Datum *keys, int nkeys,
										ScanKey extra, TupleTableSlot *slot);
extern void     assoc_rows_check_natts(Relation rel, int natts);
extern bool     assoc_rows_feed_has_origin(Relation feed);
extern Oid      assoc_rows_records_oid(void);
extern Oid      assoc_rows_feed_oid(void);
extern bool     assoc_rows_namespace(text *ns, AssocNamespaceRow *row);

/* Generic row work on a table opened for writes (which: REL_RECORDS ...). */
extern Relation        assoc_rows_table(AssocRows *rows, int which);
extern TupleTableSlot *assoc_rows_new_row(AssocRows *rows, int which);
extern void            assoc_rows_insert(AssocRows *rows, int which);
extern TupleTableSlot *assoc_rows_fetch(AssocRows *rows, int which,
										Datum *keys, int nkeys, ScanKey extra);
extern TupleTableSlot *
assoc_rows_fetch_latest(AssocRows *rows, int which, Datum *keys, int nkeys,
						ScanKey extra, const LOCKTAG *held);
extern void assoc_rows_key_int8(ScanKey key, AttrNumber attno,
								StrategyNumber strategy, int64 value);
extern int  assoc_rows_delete_where(AssocRows *rows, int which, Datum *keys,
									int nkeys, ScanKey extra);
extern bool assoc_rows_delete(AssocRows *rows, int which, ItemPointer tid);

/* Records. */
extern void
assoc_rows_fetch_record(AssocRows *rows, const char *fn, const char *ns_name,
						text *ns, text *id, Record *rec, bool lock);
extern TupleTableSlot *
assoc_rows_insert_record(AssocRows *rows, text *ns, text *id, Jsonb *data,
						 Datum keys);
extern TupleTableSlot             *
assoc_rows_update_record(AssocRows *rows, text *ns, text *id,
									 const Record *rec, Jsonb *data, Datum keys,
									 int64 version);
extern void assoc_rows_close(AssocRows *rows);

/* For the notification worker (rowscan.c). */
extern bool assoc_rows_installed(void);
extern bool
assoc_rows_scan_notify(Snapshot snapshot, FeedPos after, uint64 below,
					   NotifyEntryFn fn, void *arg, bool *held);

#endif /* ASSOC_ROWACCESS_H */
