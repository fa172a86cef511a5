/*
 * record.h
 *		The write path of one record (record.c): read, check, compute,
 *		store, with the feed entry and history of each effective write.
 */
#ifndef ASSOC_RECORD_H
#define ASSOC_RECORD_H

#include "executor/tuptable.h"
#include "utils/jsonb.h"

#include "frame.h"
#include "patch.h"
#include "rowaccess.h"

/* What a write does to a record. */
typedef enum ChangeKind
{
	CHANGE_PATCH,   /* apply a batch to the data */
	CHANGE_LINK,    /* add keys */
	CHANGE_UNLINK,  /* remove keys */
	CHANGE_ROLLBACK /* restore a kept version */
} ChangeKind;

typedef struct Change
{
	ChangeKind  kind;
	const char *op;         /* the feed's op: set, erase, patch, ... */
	AssocBatch  batch;      /* CHANGE_PATCH */
	Datum       paths;      /* text[] of touched paths, or 0 = NULL */
	Datum       keys;       /* CHANGE_LINK, CHANGE_UNLINK */
	int64       to_version; /* CHANGE_ROLLBACK */
	bool        must_exist; /* P0002 when the record is missing */
} Change;

extern void  assoc_record_check_value(Jsonb *value);
extern void  assoc_record_check_whole_value(Jsonb *value, const char *what);
extern text *assoc_record_id_arg(FunctionCallInfo fcinfo, int argno);
extern void  assoc_record_check_expected(AssocCall *call, text *id,
										 const Record *rec, int argno);
extern int64
assoc_record_store(AssocCall *call, text *id, const Record *rec, Jsonb *data,
				   Datum keys, const char *op, Datum paths, bool *conflict,
				   TupleTableSlot **row);
extern int64
assoc_record_write(FunctionCallInfo fcinfo, const char *fn,
				   const Change *change, int expected_arg, int op_id_arg);

#endif /* ASSOC_RECORD_H */
