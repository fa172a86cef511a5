/*
 * ledger.h
 *		The op_id ledger (ledger.c): a repeated call with the same op_id
 *		returns the first call's result.
 */
#ifndef ASSOC_LEDGER_H
#define ASSOC_LEDGER_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "frame.h"

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

extern bool   assoc_ledger_claim(AssocCall *call, Jsonb **result);
extern void   assoc_ledger_finish(AssocCall *call, Jsonb *result);
extern void   assoc_ledger_rows_begin(LedgerRows *rows, const char *fn);
extern void   assoc_ledger_rows_add(LedgerRows *rows, const Datum *values,
									const bool *nulls);
extern Jsonb *assoc_ledger_rows_end(LedgerRows *rows);

#endif /* ASSOC_LEDGER_H */
