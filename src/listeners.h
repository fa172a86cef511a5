/*
 * listeners.h
 *		The registry of listened channels (listeners.c).
 */
#ifndef ASSOC_LISTENERS_H
#define ASSOC_LISTENERS_H

/* Channels the registry holds for the whole cluster. */
#define LISTEN_REGISTRY_MAX 16384

extern void assoc_listeners_init(void);
extern bool assoc_listened(const char *channel);

#endif /* ASSOC_LISTENERS_H */
