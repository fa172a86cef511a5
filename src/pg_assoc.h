/*
 * pg_assoc.h
 *		Settings shared by the components of pg_assoc.
 */
#ifndef PG_ASSOC_H
#define PG_ASSOC_H

/* assoc.max_path_depth: most tokens a path may have (superuser-only). */
extern int assoc_max_path_depth;

/* assoc.max_padding: most nulls one path write may pad an array with. */
extern int assoc_max_padding;

/* assoc.op_retention: seconds op_id ledger entries are kept. */
extern int assoc_op_retention;

/* assoc.feed_retention: seconds feed entries are kept. */
extern int assoc_feed_retention;

#endif /* PG_ASSOC_H */
