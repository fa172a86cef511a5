/*
 * channels.c
 *		The channel SQL functions: channel, rotate_channels, wait_notified
 *		and notify_registry (README, "Change subscriptions").
 *
 * Layer: SQL entry points (README, "How the code is organised"); calls
 * the call frame, the notification signal's shared state, the registry
 * of listened channels and channel.c.
 */
#include "postgres.h"

#include "compat.h"
#include "access/htup_details.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "channel.h"
#include "frame.h"
#include "horizon.h"
#include "listeners.h"
#include "notify.h"
#include "rowaccess.h"
#include "rules.h"
#include "stmt.h"

PG_FUNCTION_INFO_V1(assoc_channel);

/*
 * assoc.channel(ns, id DEFAULT NULL): the channel to LISTEN on for a
 * namespace or one of its records.  The secret is read as the caller,
 * under row-level security: a role that may not read the namespace gets
 * the "does not exist" error and no name.
 */
Datum
assoc_channel(PG_FUNCTION_ARGS)
{
	text  *ns;
	char  *id = NULL;
	char   channel[ASSOC_CHANNEL_LEN + 1];
	Datum  values[1];
	bool   isnull;
	bytea *secret;

	ns = assoc_ns_arg(fcinfo, 0);
	if (!PG_ARGISNULL(1))
	{
		assoc_check_id(PG_GETARG_TEXT_PP(1));
		id = text_to_cstring(PG_GETARG_TEXT_PP(1));
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	values[0] = PointerGetDatum(ns);
	if (assoc_stmt_exec(SP_NS_SECRET, values, NULL, true, 1) != 1)
		assoc_error_no_namespace(text_to_cstring(ns));
	secret = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 1, &isnull));
	assoc_channel_name(secret, text_to_cstring(ns), id, channel);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(channel));
}

PG_FUNCTION_INFO_V1(assoc_rotate_channels);

/*
 * assoc.rotate_channels(ns): a new secret for the namespace, so that every
 * channel name handed out before stops receiving its notifications.
 */
Datum
assoc_rotate_channels(PG_FUNCTION_ARGS)
{
	AssocCall call;
	Datum     values[2];
	bytea    *secret;

	assoc_call_open(&call, fcinfo, "rotate_channels", 0, -1);
	assoc_channel_new_secret(&secret);
	values[0] = PointerGetDatum(call.ns);
	values[1] = PointerGetDatum(secret);
	assoc_stmt_exec(SP_NS_ROTATE, values, NULL, false, 0);
	assoc_call_close(&call);
	PG_RETURN_VOID();
}

/*
 * The last position of an entry to announce that the statement's snapshot
 * sees, 0 when none (read as the extension owner, whatever the caller may
 * read).
 */
static uint64
last_to_announce(void)
{
	AssocOwnerSwitch sw;
	uint64           last = 0;
	bool             isnull;

	assoc_owner_enter(&sw);
	if (assoc_stmt_exec(SP_FEED_LAST_NOTIFY, NULL, NULL, true, 1) == 1)
		last = DatumGetUInt64(SPI_getbinval(
			SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	assoc_owner_leave(&sw);
	return last;
}

PG_FUNCTION_INFO_V1(assoc_wait_notified);

/*
 * assoc.wait_notified(timeout_ms DEFAULT 10000): wait until the worker has
 * announced every write committed in this database before the call: its
 * horizon has passed the last position to announce that the statement's
 * snapshot sees (an entry that waits behind a transaction still writing
 * the feed waits with it).  Refused (25000) in a transaction that has
 * written the feed, which would wait for itself.
 * True at once without the preloaded library (writers notify at commit);
 * false when the timeout passes first.  Makes tests deterministic.
 */
Datum
assoc_wait_notified(PG_FUNCTION_ARGS)
{
	int32       timeout_ms;
	NotifySlot *slot;
	uint64      target;
	Oid         feed;
	TimestampTz start = GetCurrentTimestamp();
	bool        done = false;

	assoc_check_not_null(fcinfo, 0, "timeout_ms");
	timeout_ms = PG_GETARG_INT32(0);
	if (timeout_ms < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("invalid timeout_ms %d", timeout_ms),
						errdetail("timeout_ms is a number of milliseconds, "
								  "0 or more.")));
	if (assoc_horizon_drawn())
		ereport(
			ERROR,
			(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
			 errmsg("assoc.wait_notified cannot wait in a transaction that "
					"has written feed entries"),
			 errdetail("Its entries, and those written after them, are "
					   "announced once it has ended.")));
	if (!assoc_notify_preloaded || assoc_notify_shared == NULL)
		PG_RETURN_BOOL(true);
	LWLockAcquire(assoc_notify_shared->lock, LW_SHARED);
	slot = assoc_notify_find_slot();
	LWLockRelease(assoc_notify_shared->lock);
	if (slot == NULL)
		PG_RETURN_BOOL(true);

	target = last_to_announce();
	feed = assoc_rows_feed_oid();
	ConditionVariablePrepareToSleep(&slot->cv);
	for (;;)
	{
		long elapsed;

		LWLockAcquire(assoc_notify_shared->lock, LW_SHARED);
		/*
		 * Announced past the target, or, before the worker's first batch,
		 * nothing to announce at or below it (the slot notes the lowest
		 * position drawn since it was taken).
		 */
		done = target == 0 ||
			   (!slot->positioned &&
				(slot->horizon.xid == 0 || slot->horizon.xid > target)) ||
			   (slot->positioned && slot->feed_oid == feed &&
				slot->horizon.xid > target);
		LWLockRelease(assoc_notify_shared->lock);
		if (done)
			break;
		elapsed =
			TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		if (elapsed >= timeout_ms)
			break;
		ConditionVariableTimedSleep(&slot->cv, timeout_ms - elapsed,
									PG_WAIT_EXTENSION);
	}
	ConditionVariableCancelSleep();
	PG_RETURN_BOOL(done);
}

PG_FUNCTION_INFO_V1(assoc_notify_registry);

/*
 * assoc.notify_registry(): what the registry of listened channels holds,
 * so that an operator can see whether notifications go only where someone
 * listens (filtering), how full the registry is, and whether a session
 * overflowed it.  Without the preloaded library there is no registry:
 * filtering is false and the other columns NULL.  Forwarding to a proxy
 * (assoc.proxy_conninfo) sends every channel whatever this says.
 */
Datum
assoc_notify_registry(PG_FUNCTION_ARGS)
{
	TupleDesc    tupdesc;
	ListenCounts counts;
	Datum        values[5];
	bool         nulls[5] = {false, false, false, false, false};
	bool         present;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE ||
		tupdesc->natts != 5)
		elog(ERROR, "assoc.notify_registry must return five columns");
	present = assoc_listeners_count(&counts);
	values[0] = BoolGetDatum(present && counts.overflowing == 0);
	values[1] = Int32GetDatum(counts.here);
	values[2] = Int32GetDatum(counts.cluster);
	values[3] = Int32GetDatum(LISTEN_REGISTRY_MAX);
	values[4] = Int32GetDatum(counts.overflowing);
	for (int i = 1; i < 5; i++)
		nulls[i] = !present;
	PG_RETURN_DATUM(
		HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
