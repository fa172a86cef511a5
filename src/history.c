/*
 * history.c
 *		A record's kept versions in assoc.history (README, "History and
 *		rollback"): appended with every effective write of a namespace
 *		that keeps history, trimmed to its history_depth, read by
 *		rollback, deleted with the record.
 *
 * The rows of one record are written only by the writers of that record,
 * one at a time: each writes its version only after its update of the
 * record's row succeeded (an update waits for, or fails on, a concurrent
 * one), or after creating the record under the lock of its id (record.c);
 * and by the namespace's maintenance (alter_namespace, drop_namespace),
 * which keeps writers out.  Every access goes through the primary key
 * (ns, id, version) and the table AM (rowaccess.c).
 *
 * Layer: the write path (README, "How the code is organised"); calls row
 * access and the libraries.
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "history.h"
#include "rowaccess.h"

/*
 * Keep a new version in the history when the namespace keeps history, and
 * drop the versions that fall out of its depth (those below version -
 * history_depth): the current version and history_depth previous ones
 * stay.
 */
void
assoc_history_append(AssocCall *call, text *id, int64 version, Jsonb *data,
					 Datum keys, const char *op)
{
	TupleTableSlot *row;
	Datum           pkey[2] = {PointerGetDatum(call->ns), PointerGetDatum(id)};
	ScanKeyData     below;

	if (call->history_depth <= 0)
		return;
	row = assoc_rows_new_row(&call->rows, REL_HISTORY);
	row->tts_values[HIST_NS - 1] = PointerGetDatum(call->ns);
	row->tts_values[HIST_ID - 1] = PointerGetDatum(id);
	row->tts_values[HIST_VERSION - 1] = Int64GetDatum(version);
	row->tts_values[HIST_DATA - 1] = JsonbPGetDatum(data);
	row->tts_values[HIST_KEYS - 1] = keys;
	row->tts_values[HIST_OP - 1] = CStringGetTextDatum(op);
	row->tts_values[HIST_AT - 1] =
		TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	assoc_rows_insert(&call->rows, REL_HISTORY);

	assoc_rows_key_int8(&below, HIST_VERSION, BTLessStrategyNumber,
						version - call->history_depth);
	(void) assoc_rows_delete_where(&call->rows, REL_HISTORY, pkey, 2, &below);
}

/*
 * The data and keys of a kept version of record id into *data and *keys
 * (copies in the current memory context), as a new statement would read
 * them.  False when it is not kept.
 */
bool
assoc_history_get(AssocCall *call, text *id, int64 version, Jsonb **data,
				  Datum *keys)
{
	Datum           pkey[2] = {PointerGetDatum(call->ns), PointerGetDatum(id)};
	ScanKeyData     exact;
	TupleTableSlot *row;
	bool            isnull;

	assoc_rows_key_int8(&exact, HIST_VERSION, BTEqualStrategyNumber, version);
	row = assoc_rows_fetch(&call->rows, REL_HISTORY, pkey, 2, &exact);
	if (row == NULL)
		return false;
	*data =
		(Jsonb *) PG_DETOAST_DATUM_COPY(slot_getattr(row, HIST_DATA, &isnull));
	*keys = PointerGetDatum(
		PG_DETOAST_DATUM_COPY(slot_getattr(row, HIST_KEYS, &isnull)));
	return true;
}

/* Delete every kept version of record id (it is being removed). */
void
assoc_history_delete(AssocCall *call, text *id)
{
	Datum pkey[2] = {PointerGetDatum(call->ns), PointerGetDatum(id)};

	(void) assoc_rows_delete_where(&call->rows, REL_HISTORY, pkey, 2, NULL);
}
