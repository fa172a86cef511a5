/*
 * notify_listen.c
 *		Listeners for test/bench/notify_bench.sh, in C with libpq: the same
 *		protocol as notify_listen.js, at a fraction of its CPU, so that the
 *		benchmark measures what notifications cost the server rather than
 *		what a JavaScript client spends parsing them on the same two cores.
 *
 *   notify_listen K CHANNEL          all K connections on one channel
 *   notify_listen K CH1,CH2,...,CHK  connection i on channel i
 *
 * Connects with the libpq environment (PGHOST, PGPORT, PGUSER,
 * PGDATABASE).  Prints "ready" once every connection listens.  Counts the
 * feed entries of each payload (one entry, or several in a JSON array:
 * each has one "cursor" member, and quotes inside strings are escaped, so
 * the text occurs once per entry).  A payload is bad when it is not a JSON
 * object or array, or when it does not hold one "ns":"bench" member per
 * entry.  On SIGTERM it waits until no notification arrived for QUIET_MS
 * (at most DRAIN_MAX_MS, so listeners that lag behind still finish), then
 * prints
 *   received TOTAL min MIN max MAX bad BAD
 * (per-connection counts) and exits.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define QUIET_MS      500
#define DRAIN_MAX_MS  60000
#define MAX_LISTENERS 1000
#define MAX_CHANNEL   63 /* NAMEDATALEN - 1: longer names are cut */

static volatile sig_atomic_t stopping = 0;

/* SIGTERM: start draining. */
static void
on_term(int sig)
{
	(void) sig;
	stopping = 1;
}

/* Milliseconds of a monotonic clock. */
static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Occurrences of needle in the string text. */
static long
occurrences(const char *text, const char *needle)
{
	size_t len = strlen(needle);
	long   n = 0;

	for (const char *at = strstr(text, needle); at != NULL;
		 at = strstr(at + len, needle))
		n++;
	return n;
}

/* Print the message of a failed connection and exit. */
static void
fail(int i, PGconn *conn, const char *what)
{
	fprintf(stderr, "listener %d: %s: %s", i, what, PQerrorMessage(conn));
	exit(1);
}

/*
 * Count the notifications that connection i has received, checking each
 * payload's shape (see the head of this file).
 */
static void
drain(int i, PGconn *conn, long *count, long *bad, long long *last)
{
	PGnotify *n;

	if (!PQconsumeInput(conn))
		fail(i, conn, "read");
	while ((n = PQnotifies(conn)) != NULL)
	{
		const char *p = n->extra;
		size_t      len = strlen(p);
		long        e = occurrences(p, "\"cursor\":");

		*count += e;
		if (e == 0 || len < 2 ||
			!((p[0] == '{' && p[len - 1] == '}') ||
			  (p[0] == '[' && p[len - 1] == ']')) ||
			occurrences(p, "\"ns\":\"bench\"") != e)
			(*bad)++;
		PQfreemem(n);
		*last = now_ms();
	}
}

/*
 * Open k connections, LISTEN on their channels, then count notifications
 * until SIGTERM (or SIGINT) and a quiet spell; print the counts.
 */
int
main(int argc, char **argv)
{
	static PGconn       *conns[MAX_LISTENERS];
	static long          counts[MAX_LISTENERS];
	static struct pollfd fds[MAX_LISTENERS];
	char                *channels[MAX_LISTENERS];
	int                  nchannels = 0;
	bool                 invalid = argc != 3;
	int                  k = argc > 1 ? atoi(argv[1]) : 0;
	long                 bad = 0;
	long long            last = now_ms();
	long long            stop_at = 0;
	long                 total = 0;
	long                 min;
	long                 max = 0;

	for (char *c = invalid ? NULL : strtok(argv[2], ","); c != NULL;
		 c = strtok(NULL, ","))
	{
		if (nchannels == MAX_LISTENERS || strlen(c) > MAX_CHANNEL ||
			strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(c))
		{
			invalid = true;
			break;
		}
		channels[nchannels++] = c;
	}
	if (invalid || k <= 0 || k > MAX_LISTENERS ||
		(nchannels != 1 && nchannels != k))
	{
		fprintf(stderr,
				"usage: notify_listen K CHANNEL|CH1,...,CHK (K at most %d, "
				"channels of at most %d characters of [a-z0-9_])\n",
				MAX_LISTENERS, MAX_CHANNEL);
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);

	for (int i = 0; i < k; i++)
	{
		char      sql[MAX_CHANNEL + 8];
		PGresult *res;

		conns[i] = PQconnectdb("application_name=notify_listen");
		if (PQstatus(conns[i]) != CONNECTION_OK)
			fail(i, conns[i], "connect");
		snprintf(sql, sizeof(sql), "LISTEN %s",
				 channels[nchannels == 1 ? 0 : i]);
		res = PQexec(conns[i], sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			fail(i, conns[i], "LISTEN");
		PQclear(res);
		if (PQsetnonblocking(conns[i], 1) != 0)
			fail(i, conns[i], "non-blocking mode");
		fds[i].fd = PQsocket(conns[i]);
		fds[i].events = POLLIN;
		/* What arrived with the LISTEN's reply, before any poll. */
		drain(i, conns[i], &counts[i], &bad, &last);
	}
	printf("ready\n");
	fflush(stdout);

	for (;;)
	{
		long long t = now_ms();
		int       rc;

		if (stopping && stop_at == 0)
			stop_at = t + DRAIN_MAX_MS;
		if (stopping && (t - last >= QUIET_MS || t >= stop_at))
			break;
		rc = poll(fds, k, 100);
		if (rc < 0 && errno != EINTR)
		{
			perror("poll");
			return 1;
		}
		for (int i = 0; rc > 0 && i < k; i++)
			if (fds[i].revents & (POLLIN | POLLERR | POLLHUP))
				drain(i, conns[i], &counts[i], &bad, &last);
	}

	min = counts[0];
	for (int i = 0; i < k; i++)
	{
		total += counts[i];
		if (counts[i] < min)
			min = counts[i];
		if (counts[i] > max)
			max = counts[i];
		PQfinish(conns[i]);
	}
	printf("received %ld min %ld max %ld bad %ld\n", total, min, max, bad);
	return 0;
}
