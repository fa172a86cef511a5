/*
 * search_args.h
 *		The text arguments of assoc.search (search_args.c): the order
 *		(order_by) and the projection (fields), parsed once per call.
 */
#ifndef ASSOC_SEARCH_ARGS_H
#define ASSOC_SEARCH_ARGS_H

#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "document.h"

/* Most items of order_by, and most paths of fields (README, "Search"). */
#define ASSOC_SEARCH_MAX_ORDER  8
#define ASSOC_SEARCH_MAX_FIELDS 64

/* What an order item sorts by: a path of the data, or a record column. */
typedef enum AssocSortSource
{
	ASSOC_SORT_PATH = 0,
	ASSOC_SORT_ID,         /* @id */
	ASSOC_SORT_VERSION,    /* @version */
	ASSOC_SORT_CREATED_AT, /* @created_at */
	ASSOC_SORT_UPDATED_AT  /* @updated_at */
} AssocSortSource;

typedef struct AssocSortItem
{
	AssocSortSource source;
	bool            desc;
	AssocPath       path; /* when source is ASSOC_SORT_PATH */
} AssocSortItem;

/* A parsed order_by; 0 items orders by id alone. */
typedef struct AssocSortOrder
{
	int           nitems;
	AssocSortItem items[ASSOC_SEARCH_MAX_ORDER];
} AssocSortOrder;

/* A parsed fields list. */
typedef struct AssocFields
{
	int       npaths;
	AssocPath paths[ASSOC_SEARCH_MAX_FIELDS];
} AssocFields;

extern void
assoc_sort_order_parse(const char *text, int len, AssocSortOrder *order);
extern void
assoc_sort_order_describe(const AssocSortOrder *order, StringInfo buf);
extern void assoc_fields_parse(const char *text, int len, AssocFields *fields);
extern Jsonb *assoc_fields_project(const AssocFields *fields, Jsonb *data);

#endif /* ASSOC_SEARCH_ARGS_H */
