/*
 * frame.h
 *		The call frame of every write (frame.c).
 *
 * Every write function runs the same way:
 *
 *	assoc_call_open()	validate the namespace name, connect to SPI and
 *						switch to the extension owner (saving the CALLING
 *						role), read the namespace (rowscan.c), check that
 *						the calling role is a member of its owner, lock it
 *	assoc_ledger_claim()	with an op_id: take its lock and look it up, or
 *						return the first call's result
 *	...					read, compute, compare, write, feed entry, history
 *	assoc_ledger_finish()	insert the ledger row with the result
 *	assoc_call_close()	switch back to the caller and disconnect from SPI
 */
#ifndef ASSOC_FRAME_H
#define ASSOC_FRAME_H

#include "access/transam.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "nodes/execnodes.h"
#include "storage/itemptr.h"
#include "storage/lock.h"
#include "storage/lockdefs.h"

#include "rowaccess.h"

/*
 * The caller saved by assoc_owner_enter while a function works as the
 * extension owner: in every call frame (AssocCall.sw), and alone where a
 * function needs no frame (namespace creation, pruning).
 */
typedef struct AssocOwnerSwitch
{
	Oid caller;     /* the calling role */
	int caller_sec; /* its security context */
} AssocOwnerSwitch;

/*
 * Kinds of the store's own locks (frame.c): the fourth field of their
 * advisory-lock tags, never 1 or 2 (pg_advisory_lock's).
 */
typedef enum FrameLockKind
{
	FRAME_LOCK_NAMESPACE = 0x4153, /* a namespace, by incarnation */
	FRAME_LOCK_KEYS = 0x4154,      /* an upsert's (namespace, keys) */
	FRAME_LOCK_RECORD = 0x4155,    /* a new record's (namespace, id) */
	FRAME_LOCK_OP_ID = 0x4156      /* an op_id's (namespace, op_id) */
} FrameLockKind;

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
	bool             fenced;      /* being moved: writes are refused */
	AssocOwnerSwitch sw;          /* the caller, while working as owner */
	bool             connected;
	MemoryContext    cxt;       /* the call's memory, inside SPI */
	int              op_id_arg; /* its argument number, -1 if none */
	text            *op_id;     /* NULL when the call has none */
	bytea           *args_hash; /* digest of the call's arguments */
	LOCKTAG          op_lock;   /* the op_id's lock, held while claimed */
	AssocRows        rows;      /* direct table access (rowaccess.c) */
} AssocCall;

extern void assoc_call_open(AssocCall *call, FunctionCallInfo fcinfo,
							const char *fn, int ns_arg, int op_id_arg);
extern void assoc_call_open_locked(AssocCall *call, FunctionCallInfo fcinfo,
								   const char *fn, int ns_arg, int op_id_arg,
								   LOCKMODE mode, bool fenced_ok);
extern void assoc_call_open_read(AssocCall *call, FunctionCallInfo fcinfo,
								 const char *fn, int ns_arg);
extern void assoc_call_lock(AssocCall *call, FrameLockKind kind,
							const void *key, size_t len, LOCKTAG *tag);
extern void assoc_call_unlock(const LOCKTAG *tag);
extern void assoc_call_close(AssocCall *call);
extern Oid  assoc_extension_owner(void);
extern void assoc_frame_check_tables(void);
extern void assoc_owner_enter(AssocOwnerSwitch *sw);
extern void assoc_owner_leave(AssocOwnerSwitch *sw);

#endif /* ASSOC_FRAME_H */
