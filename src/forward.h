/*
 * forward.h
 *		Notifications forwarded to a proxy database (README, "Scaling
 *		out": subscriptions through the proxy).
 */
#ifndef ASSOC_FORWARD_H
#define ASSOC_FORWARD_H

/* Defines assoc.proxy_conninfo (the library's _PG_init). */
extern void assoc_forward_init(void);

/* Whether notifications are forwarded (assoc.proxy_conninfo is set). */
extern bool assoc_forward_enabled(void);

/* Keep one notification of the batch being announced, for after commit. */
extern void assoc_forward_add(const char *channel, const char *payload);

/* The batch committed (true: send what it kept) or failed (drop it). */
extern void assoc_forward_batch_end(bool committed);

/*
 * WaitLatch for the notification worker that also moves forwarding on:
 * waits on the latch, the timeout and the proxy connection's socket, then
 * does what can be done without blocking.  Returns WaitLatch's result.
 */
extern int assoc_forward_wait(int events, long timeout);

/* Whether nothing waits to be forwarded (the worker may leave). */
extern bool assoc_forward_idle(void);

#endif /* ASSOC_FORWARD_H */
