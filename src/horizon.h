/*
 * horizon.h
 *		Feed positions and the delivery horizon (horizon.c).
 */
#ifndef ASSOC_HORIZON_H
#define ASSOC_HORIZON_H

#include "utils/snapshot.h"

extern void   assoc_horizon_init(void);
extern uint64 assoc_horizon_position(void);
extern uint64
			assoc_horizon_of(Snapshot snapshot, bool *clocked, bool *writers);
extern bool assoc_horizon_drawn(void);

#endif /* ASSOC_HORIZON_H */
