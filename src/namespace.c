/*
 * namespace.c
 *		The namespace SQL functions: create_namespace, drop_namespace,
 *		alter_namespace, check_namespace, prune, and the steps of a move to
 *		another server that need the namespace's lock (move_fence,
 *		move_quiesce, move_drop; the copying is in src/namespace.sql).
 *
 * Isolation rule (README, "The record store"): a role may read or write a namespace only if
 * it is a member of the namespace's owner role; the call frame (frame.c)
 * checks it.
 *
 * Layer: SQL entry points (README, "How the code is organised"); calls the
 * write path, the call frame and statement executor, and the libraries.
 */
#include "postgres.h"

#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "compat.h"
#include "channel.h"
#include "frame.h"
#include "maintenance.h"
#include "rules.h"
#include "stmt.h"

PG_FUNCTION_INFO_V1(assoc_create_namespace);

/*
 * assoc.create_namespace(ns, owner DEFAULT NULL): a new namespace owned by
 * owner (NULL = the calling role).  The caller must be a member of the
 * owner role, as with CREATE SCHEMA ... AUTHORIZATION.
 */
Datum
assoc_create_namespace(PG_FUNCTION_ARGS)
{
	text            *ns;
	Oid              caller = GetUserId();
	Oid              owner = PG_ARGISNULL(1) ? caller : PG_GETARG_OID(1);
	AssocOwnerSwitch owner_switch;
	Datum            values[3];
	uint64           inserted;
	bytea           *secret;

	ns = assoc_ns_arg(fcinfo, 0);
	if (!is_member_of_role(caller, owner))
		ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
						errmsg("must be a member of role \"%s\" to create a "
							   "namespace it owns",
							   GetUserNameFromId(owner, false))));

	assoc_frame_check_tables();
	assoc_owner_enter(&owner_switch);
	values[0] = PointerGetDatum(ns);
	values[1] = ObjectIdGetDatum(owner);
	assoc_channel_new_secret(&secret);
	values[2] = PointerGetDatum(secret);
	inserted = assoc_stmt_exec(SP_NS_INSERT, values, NULL, false, 0);
	assoc_owner_leave(&owner_switch);

	if (inserted != 1)
		ereport(ERROR, (errcode(ERRCODE_DUPLICATE_OBJECT),
						errmsg("namespace \"%s\" already exists",
							   text_to_cstring(ns))));
	PG_RETURN_VOID();
}

/*
 * Delete a namespace opened exclusively in call, with its records,
 * history, feed, pruning mark and op_id ledger: drop_namespace and
 * move_drop.
 */
static void
delete_namespace(AssocCall *call)
{
	Datum values[1];

	values[0] = PointerGetDatum(call->ns);
	/* The ledger before the feed, in the order assoc.prune() deletes. */
	assoc_stmt_exec(SP_NS_DELETE_OPS, values, NULL, false, 0);
	assoc_stmt_exec(SP_NS_DELETE_RECORDS, values, NULL, false, 0);
	assoc_stmt_exec(SP_NS_DELETE_HISTORY, values, NULL, false, 0);
	assoc_stmt_exec(SP_NS_DELETE_FEED, values, NULL, false, 0);
	assoc_stmt_exec(SP_NS_DELETE_PRUNED, values, NULL, false, 0);
	assoc_stmt_exec(SP_NS_DELETE, values, NULL, false, 0);
}

/*
 * Only the extension owner (or a superuser) may call what touches every
 * namespace or moves one (fn: the SQL function's name, for the message).
 */
static void
require_extension_owner(const char *fn, const char *what)
{
	if (!has_privs_of_role(GetUserId(), assoc_extension_owner()))
		ereport(
			ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s", what),
			 errdetail("Only the extension owner may call assoc.%s().", fn)));
}

PG_FUNCTION_INFO_V1(assoc_drop_namespace);

/*
 * assoc.drop_namespace(ns): removes the namespace and all its records,
 * history, feed entries and op_id ledger, after waiting for its writers.
 */
Datum
assoc_drop_namespace(PG_FUNCTION_ARGS)
{
	AssocCall call;

	/* Wait for the namespace's writers and keep new ones out. */
	assoc_call_open_locked(&call, fcinfo, "drop_namespace", 0, -1,
						   AccessExclusiveLock, false);
	delete_namespace(&call);
	assoc_call_close(&call);
	PG_RETURN_VOID();
}

/*
 * Open a namespace for a step of a move (fn: its SQL name), with the lock
 * in mode, fenced or not; argument argno, when not NULL, is the
 * incarnation the move expects, so that a namespace dropped and created
 * again under the same name meanwhile is refused rather than taken for
 * the move's (55000).
 */
static void
move_open(AssocCall *call, FunctionCallInfo fcinfo, const char *fn, int argno,
		  LOCKMODE mode)
{
	assoc_call_open_locked(call, fcinfo, fn, 0, -1, mode, true);
	if (!PG_ARGISNULL(argno) && PG_GETARG_INT64(argno) != call->incarnation)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("namespace \"%s\" is not the one the move began with",
						call->ns_name),
				 errdetail("Its incarnation is " INT64_FORMAT
						   ", the move's " INT64_FORMAT ".",
						   call->incarnation, PG_GETARG_INT64(argno))));
}

PG_FUNCTION_INFO_V1(assoc_move_fence);

/*
 * assoc.move_fence(ns, fenced, incarnation DEFAULT NULL): fences a
 * namespace (true), so that every call that would change it fails with
 * 40001, or opens it again (false); a step of moving it to another server
 * (README, "Moving a namespace").  A fence does not wait for the
 * namespace's writers, so none queues behind it: a writer reads the
 * namespace before and after taking the namespace's lock, and fails once
 * it finds it fenced; assoc.move_quiesce then waits for those that found
 * it open.  Opening takes the lock exclusively, so that it comes after
 * any step of a move still waiting for the namespace.
 */
Datum
assoc_move_fence(PG_FUNCTION_ARGS)
{
	AssocCall call;
	Datum     values[2];

	require_extension_owner("move_fence", "fence a namespace");
	assoc_check_not_null(fcinfo, 1, "fenced");
	move_open(&call, fcinfo, "move_fence", 2,
			  PG_GETARG_BOOL(1) ? AccessShareLock : AccessExclusiveLock);
	values[0] = PointerGetDatum(call.ns);
	values[1] = PG_GETARG_DATUM(1);
	assoc_stmt_exec(SP_NS_FENCE, values, NULL, false, 0);
	assoc_call_close(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(assoc_move_quiesce);

/*
 * assoc.move_quiesce(ns, incarnation DEFAULT NULL): waits, by taking the
 * namespace's lock exclusively, for the writers that found a fenced
 * namespace still open.  They hold the lock in share mode until they end,
 * and every writer after them finds the fence: once this returns, a copy
 * read holds every write the namespace will ever acknowledge here.
 */
Datum
assoc_move_quiesce(PG_FUNCTION_ARGS)
{
	AssocCall call;

	require_extension_owner("move_quiesce", "quiesce a namespace");
	move_open(&call, fcinfo, "move_quiesce", 1, AccessExclusiveLock);
	if (!call.fenced)
		ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						errmsg("namespace \"%s\" is not fenced", call.ns_name),
						errhint("Fence it first with assoc.move_fence().")));
	assoc_call_close(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(assoc_move_drop);

/*
 * assoc.move_drop(ns, incarnation DEFAULT NULL): removes a fenced
 * namespace, as drop_namespace does an open one: the copy a move left
 * behind, or one it abandoned.  A namespace that is not fenced is
 * refused, so that a move can never remove the copy that serves.
 */
Datum
assoc_move_drop(PG_FUNCTION_ARGS)
{
	AssocCall call;

	require_extension_owner("move_drop", "remove a moved namespace");
	move_open(&call, fcinfo, "move_drop", 1, AccessExclusiveLock);
	if (!call.fenced)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("namespace \"%s\" is not fenced", call.ns_name),
				 errdetail("assoc.move_drop() removes only the fenced copy "
						   "of a namespace that a move left behind."),
				 errhint("Use assoc.drop_namespace() to drop a namespace.")));
	delete_namespace(&call);
	assoc_call_close(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(assoc_alter_namespace);

/*
 * assoc.alter_namespace(ns, history_depth DEFAULT NULL): changes the
 * number of previous versions kept per record; lowering it trims the
 * history at once.  NULL leaves the setting as it is.
 */
Datum
assoc_alter_namespace(PG_FUNCTION_ARGS)
{
	AssocCall call;
	Datum     values[2];

	/*
	 * Exclusive, like a drop: the history is trimmed while no writer of
	 * the namespace runs, since writers trim it too and two trims deleting
	 * the same rows in different orders would deadlock.  Writers waiting
	 * meanwhile read the new depth once they have the lock.
	 */
	assoc_call_open_locked(&call, fcinfo, "alter_namespace", 0, -1,
						   AccessExclusiveLock, false);
	if (!PG_ARGISNULL(1))
	{
		int32 depth = PG_GETARG_INT32(1);

		if (depth < 0 || depth > 10000)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("invalid history_depth %d", depth),
							errdetail("history_depth is the number of "
									  "previous versions kept, 0 to 10000.")));
		values[0] = PointerGetDatum(call.ns);
		values[1] = Int32GetDatum(depth);
		assoc_stmt_exec(SP_NS_UPDATE_DEPTH, values, NULL, false, 0);
		assoc_stmt_exec(SP_NS_PRUNE_HISTORY, values, NULL, false, 0);
	}
	assoc_call_close(&call);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(assoc_check_namespace);

/*
 * assoc.check_namespace(ns) and assoc.check_record(ns, id): the read
 * functions' guard.  Runs as the caller, so row-level security decides: a
 * namespace the caller may not use looks exactly like one that does not
 * exist (42704).  With a second argument, a NULL record id is 22004.
 */
Datum
assoc_check_namespace(PG_FUNCTION_ARGS)
{
	text  *ns;
	Datum  values[1];
	uint64 found;

	ns = assoc_ns_arg(fcinfo, 0);
	if (PG_NARGS() > 1)
		assoc_check_not_null(fcinfo, 1, "record id");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = PointerGetDatum(ns);
	found = assoc_stmt_exec(SP_NS_VISIBLE, values, NULL, true, 1);
	SPI_finish();
	if (found != 1)
		assoc_error_no_namespace(text_to_cstring(ns));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(assoc_prune);

/*
 * assoc.prune(): assoc_prune_all for the extension owner (or a superuser): it
 * touches every namespace.  The notification worker runs it every minute
 * while it runs.
 */
Datum
assoc_prune(PG_FUNCTION_ARGS)
{
	require_extension_owner("prune", "prune the op_id ledger and feed");
	PG_RETURN_INT64(assoc_prune_all());
}
