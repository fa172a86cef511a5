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

#include "utils/builtins.h"

#include "channel.h"
#include "feed_write.h"
#include "horizon.h"
#include "notify.h"
#include "rowaccess.h"

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

	assoc_rows_open_feed(&call->rows);
	pos = assoc_horizon_position();
	assoc_rows_insert_feed(&call->rows, call->ns, pos, id, version, op, paths,
						   assoc_notify, origin, &seq);
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
