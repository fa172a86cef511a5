/*
 * store.h
 *		The record store's call frame, shared by namespace.c (access and
 *		namespaces), ledger.c (op_id idempotency) and store.c (records).
 *
 * Every write function runs the same way:
 *
 *	store_open()	validate the namespace name, connect to SPI, read the
 *					namespace (rowaccess.c), check that the CALLING role is
 *					a member of its owner, then switch to the extension
 *					owner for table access
 *	ledger_claim()	with an op_id: claim it, or return the first call's result
 *	...				lock, compute, compare, write, feed entry, history
 *	ledger_finish()	record the result under the op_id
 *	store_close()	switch back to the caller and disconnect from SPI
 */
#ifndef ASSOC_STORE_H
#define ASSOC_STORE_H

#include "postgres.h"

#include "access/transam.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "storage/itemptr.h"
#include "storage/lockdefs.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/snapshot.h"

typedef struct StoreCall
{
	const char      *fn; /* SQL name of the function, e.g. "set" */
	FunctionCallInfo fcinfo;
	text            *ns;      /* the namespace argument */
	char            *ns_name; /* ... as a C string, for messages */
	Oid              owner;   /* the namespace's owner role */
	int              history_depth;
	int64            incarnation; /* tells namespaces of one name apart */
	bytea           *secret;      /* the namespace's channel secret */
	Oid              caller;      /* the calling role */
	int              caller_sec;  /* its security context */
	bool             connected;
	MemoryContext    cxt;         /* the call's memory, inside SPI */
	int              op_id_arg;   /* its argument number, -1 if none */
	text            *op_id;       /* NULL when the call has none */
	bytea           *args_hash;   /* digest of the call's arguments */
	ItemPointerData  op_tid;      /* the ledger row this call claimed */
	EState          *estate;      /* direct writes (rowaccess.c) */
	ResultRelInfo   *records_rri; /* assoc.records, opened for writes */
	ResultRelInfo   *feed_rri;    /* assoc.feed, opened for writes */
	TupleTableSlot  *record_slot; /* a record as read */
	TupleTableSlot  *new_slot;    /* a record as written */
	TupleTableSlot  *feed_slot;   /* a feed entry as written */
} StoreCall;

/*
 * Most rounds of a retry loop (reading a record again after a concurrent
 * change, locking a namespace again after it was created anew).  Each
 * round that fails has seen another transaction win, so even a record that
 * many writers update at once needs far fewer; more mean the tables are not
 * what the store expects, and the loop ends with store_error_rounds (each
 * round takes microseconds and frees its memory, so the bound is reached
 * quickly and without growth).
 */
#define STORE_MAX_ROUNDS 1000

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

/*
 * The rows a by-associations call returned, collected for its op_id
 * (ledger.c): encoded one by one as the elements of a jsonb array.
 */
typedef struct LedgerRows
{
	const char    *fn;       /* the call's SQL name, for messages */
	StringInfoData jentries; /* one JEntry per row */
	StringInfoData data;     /* the rows' containers, each 4-aligned */
	int32          count;
} LedgerRows;

/* A numbered statement of the store, prepared once per backend. */
typedef enum StorePlanId
{
	SP_NS_INSERT,
	SP_NS_ROTATE,
	SP_NS_SECRET,
	SP_NS_UPDATE_DEPTH,
	SP_NS_DELETE,
	SP_NS_DELETE_RECORDS,
	SP_NS_DELETE_HISTORY,
	SP_NS_DELETE_FEED,
	SP_NS_DELETE_OPS,
	SP_NS_PRUNE_HISTORY,
	SP_NS_VISIBLE,
	SP_REC_INSERT,
	SP_REC_INSERT_ROW,
	SP_REC_UPDATE_ROW,
	SP_REC_DELETE,
	SP_REC_BY_KEYS_LOCK,
	SP_REC_BY_KEYS_LATEST,
	SP_REC_REMOVE_BY,
	SP_FEED_NS,
	SP_FEED_CHANGES,
	SP_FEED_PRUNE_NAMESPACES,
	SP_FEED_FIRST_KEPT,
	SP_FEED_PRUNE,
	SP_FEED_SET_PRUNED,
	SP_NS_DELETE_PRUNED,
	SP_HIST_INSERT,
	SP_HIST_TRIM,
	SP_HIST_DELETE,
	SP_HIST_GET,
	SP_OPS_CLAIM,
	SP_OPS_GET,
	SP_OPS_SET_RESULT,
	SP_OPS_PRUNE,
	SP_ROWS_FROM_JSONB,
	SP_COUNT
} StorePlanId;

/* namespace.c */
extern text *store_ns_arg(FunctionCallInfo fcinfo, int argno);
extern void  store_check_id(text *id);
extern void  store_error_no_namespace(const char *ns) pg_attribute_noreturn();
extern void
store_check_not_null(FunctionCallInfo fcinfo, int argno, const char *what);
extern void store_open(StoreCall *call, FunctionCallInfo fcinfo,
					   const char *fn, int ns_arg, int op_id_arg);
extern void
store_open_locked(StoreCall *call, FunctionCallInfo fcinfo, const char *fn,
				  int ns_arg, int op_id_arg, LOCKMODE mode);
extern void store_lock_keys(StoreCall *call, Datum keys);
extern void
store_error_rounds(StoreCall *call, const char *what) pg_attribute_noreturn();
extern void       store_close(StoreCall *call);
extern SPIPlanPtr store_plan(StorePlanId id);
extern Oid        store_assockey_type(void);
extern int64      store_prune(void);
extern uint64     store_exec(StorePlanId id, Datum *values, const char *nulls,
							 bool read_only, long count);
extern uint64
store_exec_snapshot(StorePlanId id, Datum *values, const char *nulls,
					bool read_only, long count, Snapshot snapshot);
extern Portal store_cursor_open(StorePlanId id, Datum *values,
								const char *nulls, bool read_only);
extern uint64 store_cursor_fetch(Portal portal, long count);

/* rowaccess.c */
extern Oid  rows_records_oid(void);
extern void rows_error_not_installed(const char *what) pg_attribute_noreturn();
extern void rows_open_records(StoreCall *call);
extern bool rows_namespace(StoreCall *call);
extern void
rows_fetch_record(StoreCall *call, text *id, Record *rec, bool lock);
extern bool rows_update_record(StoreCall *call, const Record *rec, Jsonb *data,
							   Datum keys, int64 version);
extern void
rows_insert_feed(StoreCall *call, text *id, int64 version, const char *op,
				 Datum paths, bool notify, FullTransactionId *xid, int64 *seq);
extern void rows_close(StoreCall *call);

/* ledger.c */
extern bool ledger_claim(StoreCall *call, Jsonb **result);
extern void ledger_finish(StoreCall *call, Jsonb *result);
extern void ledger_rows_begin(LedgerRows *rows, const char *fn);
extern void
ledger_rows_add(LedgerRows *rows, const Datum *values, const bool *nulls);
extern Jsonb *ledger_rows_end(LedgerRows *rows);

/* Convert between the few result types and the ledger's jsonb. */
extern Jsonb *jsonb_from_int8(int64 value);
extern Jsonb *jsonb_from_bool(bool value);
extern Jsonb *jsonb_from_text(text *value);

#endif /* ASSOC_STORE_H */
