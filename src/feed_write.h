/*
 * feed_write.h
 *		Feed append (feed_write.c): one assoc.feed row per effective write.
 */
#ifndef ASSOC_FEED_WRITE_H
#define ASSOC_FEED_WRITE_H

#include "frame.h"

extern void assoc_feed_append(AssocCall *call, text *id, int64 version,
							  const char *op, Datum paths);

#endif /* ASSOC_FEED_WRITE_H */
