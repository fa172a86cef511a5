/*
 * maintenance.h
 *		Pruning and its settings (maintenance.c).
 */
#ifndef ASSOC_MAINTENANCE_H
#define ASSOC_MAINTENANCE_H

/* assoc.op_retention and assoc.feed_retention, in seconds. */
extern int assoc_op_retention;
extern int assoc_feed_retention;

extern void  assoc_maintenance_init(void);
extern int64 assoc_prune_all(void);
extern int64 assoc_prune_feed(void);

#endif /* ASSOC_MAINTENANCE_H */
