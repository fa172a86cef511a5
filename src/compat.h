/*
 * compat.h
 *		Every difference between the PostgreSQL versions pg_assoc builds on
 *		(15 and 17), in one place.  The rest of the code calls these names
 *		and contains no version test.
 *
 * Include after postgres.h.
 */
#ifndef ASSOC_COMPAT_H
#define ASSOC_COMPAT_H

/* The versions pg_assoc supports (README, "Supported versions"). */
#if PG_VERSION_NUM < 150000
#error "pg_assoc needs PostgreSQL 15 or later"
#endif

#include "access/tableam.h"
#include "catalog/namespace.h"
#include "commands/vacuum.h"
#include "executor/executor.h"
#include "utils/guc.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h" /* the varlena macros left postgres.h in 16 */
#endif

/*
 * The pinned search path of every statement pg_assoc runs (the README's
 * "Isolation"): pg_catalog only, so that no object of the caller's can
 * stand in for one a statement names.  15 pushes an override search path
 * that leaves out the temporary schema; 17 removed override search paths,
 * so there the setting is changed for the duration, the way a function's
 * SET clause does it, with the temporary schema last (it is never searched
 * for functions or operators, and every relation and type a statement
 * names is schema-qualified).  compat_pop_search_path restores what
 * compat_push_search_path returned; an error restores it at (sub)transaction
 * abort in both versions.  On 17 a saved plan prepared before the session
 * had a temporary schema is analysed again once after it gets one (the
 * path's meaning changed), as after any invalidation.
 */
#if PG_VERSION_NUM >= 170000
static inline int
compat_push_search_path(void)
{
	int nest = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

static inline void
compat_pop_search_path(int nest)
{
	AtEOXact_GUC(true, nest);
}
#else
static inline int
compat_push_search_path(void)
{
	static OverrideSearchPath *path = NULL;

	if (path == NULL)
	{
		path = MemoryContextAllocZero(TopMemoryContext,
									  sizeof(OverrideSearchPath));
		path->schemas = NIL;
		path->addCatalog = true;
		path->addTemp = false;
	}
	PushOverrideSearchPath(path);
	return 0;
}

static inline void
compat_pop_search_path(int nest)
{
	PopOverrideSearchPath();
}
#endif

/*
 * Which index entries a new tuple version needs after table_tuple_update.
 * 15 answers all or none; 16 added "summarizing (BRIN) indexes only", for
 * a HOT update that changed a summarized column.
 */
typedef enum CompatIndexUpdate
{
	COMPAT_INDEXES_NONE,
	COMPAT_INDEXES_ALL,
	COMPAT_INDEXES_SUMMARIZING
} CompatIndexUpdate;

/* table_tuple_update that waits for a concurrent writer (wait = true). */
static inline TM_Result
compat_tuple_update(Relation rel, ItemPointer tid, TupleTableSlot *slot,
					CommandId cid, Snapshot snapshot, TM_FailureData *tmfd,
					LockTupleMode *lockmode, CompatIndexUpdate *indexes)
{
	TM_Result res;
#if PG_VERSION_NUM >= 160000
	TU_UpdateIndexes which;

	res = table_tuple_update(rel, tid, slot, cid, snapshot, InvalidSnapshot,
							 true, tmfd, lockmode, &which);
	*indexes = which == TU_All           ? COMPAT_INDEXES_ALL
			   : which == TU_Summarizing ? COMPAT_INDEXES_SUMMARIZING
										 : COMPAT_INDEXES_NONE;
#else
	bool update_indexes;

	res = table_tuple_update(rel, tid, slot, cid, snapshot, InvalidSnapshot,
							 true, tmfd, lockmode, &update_indexes);
	*indexes = update_indexes ? COMPAT_INDEXES_ALL : COMPAT_INDEXES_NONE;
#endif
	return res;
}

/*
 * Insert the index entries a new tuple version needs: all of them after an
 * insert (COMPAT_INDEXES_ALL, update false), or what compat_tuple_update
 * answered after an update.
 */
static inline void
compat_insert_index_tuples(ResultRelInfo *rri, TupleTableSlot *slot,
						   EState *estate, bool update,
						   CompatIndexUpdate indexes)
{
	if (indexes == COMPAT_INDEXES_NONE || rri->ri_NumIndices == 0)
		return;
#if PG_VERSION_NUM >= 160000
	list_free(ExecInsertIndexTuples(rri, slot, estate, update, false, NULL,
									NIL,
									indexes == COMPAT_INDEXES_SUMMARIZING));
#else
	list_free(
		ExecInsertIndexTuples(rri, slot, estate, update, false, NULL, NIL));
#endif
}

/*
 * The statistics target ANALYZE uses for a column, valid once
 * std_typanalyze has resolved it (a column without its own target takes
 * default_statistics_target): 17 keeps it in VacAttrStats, 15 in the
 * column's pg_attribute copy.
 */
static inline int
compat_stattarget(VacAttrStats *stats)
{
#if PG_VERSION_NUM >= 170000
	return stats->attstattarget;
#else
	return stats->attr->attstattarget;
#endif
}

#endif /* ASSOC_COMPAT_H */
