/*
 * frame.h
 *		The call frame of every write (frame.c).
 *
 * Every write function runs the same way:
 *
 *	assoc_call_open()	validate the namespace name, connect to SPI, read the
 *						namespace (rowaccess.c), check that the CALLING role
 *						is a member of its owner, then switch to the
 *						extension owner for table access
 *	assoc_ledger_claim()	with an op_id: claim it, or return the first
 *						call's result
 *	...					lock, compute, compare, write, feed entry, history
 *	assoc_ledger_finish()	record the result under the op_id
 *	assoc_call_close()	switch back to the caller and disconnect from SPI
 */
#ifndef ASSOC_FRAME_H
#define ASSOC_FRAME_H

#include "access/transam.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "storage/itemptr.h"
#include "storage/lockdefs.h"

typedef struct AssocCall
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
} AssocCall;

/* The caller saved by assoc_owner_enter, outside a call frame. */
typedef struct AssocOwnerSwitch
{
	Oid caller;
	int caller_sec;
} AssocOwnerSwitch;

extern void assoc_call_open(AssocCall *call, FunctionCallInfo fcinfo,
							const char *fn, int ns_arg, int op_id_arg);
extern void assoc_call_open_locked(AssocCall *call, FunctionCallInfo fcinfo,
								   const char *fn, int ns_arg, int op_id_arg,
								   LOCKMODE mode);
extern void assoc_call_lock_keys(AssocCall *call, Datum keys);
extern void assoc_call_close(AssocCall *call);
extern Oid  assoc_extension_owner(void);
extern void assoc_frame_check_tables(void);
extern void assoc_owner_enter(AssocOwnerSwitch *sw);
extern void assoc_owner_leave(AssocOwnerSwitch *sw);

#endif /* ASSOC_FRAME_H */
