/*
 * listeners.h
 *		The registry of listened channels (listeners.c).
 */
#ifndef ASSOC_LISTENERS_H
#define ASSOC_LISTENERS_H

/* Channels the registry holds for the whole cluster. */
#define LISTEN_REGISTRY_MAX 16384

/* What the registry holds, for assoc.notify_registry(). */
typedef struct ListenCounts
{
	int here;        /* channels registered for this database */
	int cluster;     /* channels registered for every database */
	int overflowing; /* sessions with a channel that found no room */
} ListenCounts;

extern void assoc_listeners_init(void);
extern bool assoc_listened(const char *channel);
extern bool assoc_listeners_count(ListenCounts *counts);

#endif /* ASSOC_LISTENERS_H */
