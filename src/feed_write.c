/*
 * feed_write.c
 *		Feed append: the one assoc.feed row of each effective write, in the
 *		writing transaction, and its notification (README, "How a write
 *		flows", steps 4 and 6).
 *
 * Its position is the transaction's (horizon.c).  Without the preloaded
 * library the entry is announced at once
 * (notify.c's assoc_notify_entry); with it the database's notification
 * worker is woken at commit (assoc_notify_written).
 *
 * Layer: the write path (README, "How the code is organised"); calls row
 * access and the notification signal below it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "channel.h"
#include "feed_write.h"
#include "horizon.h"
#include "notify.h"
#include "rowaccess.h"

/* The feed position of this transaction's last entry. */
static FullTransactionId feed_xid;
static int64             feed_seq;

/*
 * Insert one row into assoc.feed (opened by the caller) at position (pos,
 * the next number of a counter restarted for every transaction), so
 * writers share no sequence; pos is the transaction's (horizon.c).
 * Returns the number.  origin (the writer's assoc.origin, NULL for none)
 * is kept when the table has the column, that is once the extension is
 * updated to 0.2.0.
 */
static int64
feed_insert(AssocRows *rows, text *ns, uint64 pos, text *id, int64 version,
			const char *op, Datum paths, bool notify, const char *origin)
{
	TupleTableSlot   *slot = assoc_rows_new_row(rows, REL_FEED);
	Datum            *values = slot->tts_values;
	FullTransactionId top = GetTopFullTransactionId();

	if (!FullTransactionIdEquals(top, feed_xid))
	{
		feed_xid = top;
		feed_seq = 0;
	}
	values[FEED_NS - 1] = PointerGetDatum(ns);
	values[FEED_XID - 1] = UInt64GetDatum(pos);
	values[FEED_SEQ - 1] = Int64GetDatum(++feed_seq);
	values[FEED_ID - 1] = PointerGetDatum(id);
	values[FEED_VERSION - 1] = Int64GetDatum(version);
	values[FEED_OP - 1] = CStringGetTextDatum(op);
	values[FEED_PATHS - 1] = paths;
	slot->tts_isnull[FEED_PATHS - 1] = (paths == (Datum) 0);
	values[FEED_NOTIFY - 1] = BoolGetDatum(notify);
	values[FEED_AT - 1] =
		TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	if (rows->feed_origin)
	{
		values[FEED_ORIGIN - 1] =
			origin ? CStringGetTextDatum(origin) : (Datum) 0;
		slot->tts_isnull[FEED_ORIGIN - 1] = (origin == NULL);
	}
	assoc_rows_insert(rows, REL_FEED);
	return feed_seq;
}

/*
 * Append one feed entry for an effective write (called by record.c as the
 * extension owner).  With notifications on, the entry is also announced:
 * at once by this backend when the library is not preloaded, otherwise by
 * the notification worker once this transaction commits.
 */
void
assoc_feed_append(AssocCall *call, text *id, int64 version, const char *op,
				  Datum paths)
{
	uint64 pos;
	int64  seq;

	const char *origin =
		(assoc_origin && assoc_origin[0]) ? assoc_origin : NULL;

	/* Locked until the transaction ends; the position is drawn after. */
	(void) assoc_rows_table(&call->rows, REL_FEED);
	pos = assoc_horizon_position();
	seq = feed_insert(&call->rows, call->ns, pos, id, version, op, paths,
					  assoc_notify, origin);
	if (!assoc_notify)
		return;
	if (!assoc_notify_preloaded)
	{
		FeedEntry entry;

		entry.ns = call->ns_name;
		entry.incarnation = call->incarnation;
		entry.pos.xid = pos;
		entry.pos.seq = seq;
		entry.id = text_to_cstring(id);
		entry.version = version;
		entry.op = op;
		entry.paths = paths;
		/* As the row has it: 0.1.0's feed keeps no origin. */
		entry.origin = call->rows.feed_origin ? origin : NULL;
		assoc_notify_entry(&entry, call->secret);
	}
	else
		assoc_notify_written(pos);
}
