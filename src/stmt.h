/*
 * stmt.h
 *		The statement executor (stmt.c): the store's numbered statements,
 *		prepared once per backend and run with search_path pinned.
 */
#ifndef ASSOC_STMT_H
#define ASSOC_STMT_H

#include "executor/spi.h"
#include "utils/snapshot.h"

/* A numbered statement of the store, prepared once per backend. */
typedef enum AssocStmtId
{
	SP_NS_INSERT,
	SP_NS_ROTATE,
	SP_NS_SECRET,
	SP_NS_UPDATE_DEPTH,
	SP_NS_FENCE,
	SP_NS_DELETE,
	SP_NS_DELETE_RECORDS,
	SP_NS_DELETE_HISTORY,
	SP_NS_DELETE_FEED,
	SP_NS_DELETE_OPS,
	SP_NS_PRUNE_HISTORY,
	SP_NS_VISIBLE,
	SP_REC_BY_KEYS_LOCK,
	SP_REC_BY_KEYS_LATEST,
	SP_REC_CONTAINING_LOCK,
	SP_FEED_NS,
	SP_FEED_LAST_NOTIFY,
	SP_FEED_CHANGES,
	SP_FEED_CHANGES_01,
	SP_FEED_PRUNE_NAMESPACES,
	SP_FEED_FIRST_KEPT,
	SP_FEED_PRUNE,
	SP_FEED_SET_PRUNED,
	SP_NS_DELETE_PRUNED,
	SP_OPS_PRUNE,
	SP_ROWS_FROM_JSONB,
	SP_SEARCH,
	SP_SEARCH_EXPLAIN,
	SP_COUNT
} AssocStmtId;

extern Oid        assoc_stmt_assockey_type(void);
extern SPIPlanPtr assoc_stmt_plan(AssocStmtId id);
extern uint64 assoc_stmt_exec(AssocStmtId id, Datum *values, const char *nulls,
							  bool read_only, long count);
extern uint64
assoc_stmt_exec_snapshot(AssocStmtId id, Datum *values, const char *nulls,
						 bool read_only, long count, Snapshot snapshot);
extern Portal assoc_stmt_cursor_open(AssocStmtId id, Datum *values,
									 const char *nulls, bool read_only);
extern uint64 assoc_stmt_cursor_fetch(Portal portal, long count);

#endif /* ASSOC_STMT_H */
