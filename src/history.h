/*
 * history.h
 *		A record's kept versions (history.c).
 */
#ifndef ASSOC_HISTORY_H
#define ASSOC_HISTORY_H

#include "utils/jsonb.h"

#include "frame.h"

extern void assoc_history_append(AssocCall *call, text *id, int64 version,
								 Jsonb *data, Datum keys, const char *op);
extern bool assoc_history_get(AssocCall *call, text *id, int64 version,
							  Jsonb **data, Datum *keys);
extern void assoc_history_delete(AssocCall *call, text *id);

#endif /* ASSOC_HISTORY_H */
