/*
 * forward.c
 *		Notifications forwarded to a proxy database (README, "Scaling
 *		out": subscriptions through the proxy).
 *
 * With assoc.proxy_conninfo set, the notification worker sends every
 * notification of a committed batch also to that database, with the same
 * channel and payload, so that a client LISTENing on the proxy hears the
 * changes of namespaces on every shard (their channel names are the
 * shard's, which assoc.channel through the proxy returns).
 *
 * The proxy must never delay the shard: the worker announces its batches
 * locally as before, and forwarding runs beside them on one non-blocking
 * libpq connection, moved on whenever the worker waits (assoc_forward_wait
 * waits on the connection's socket as well as on the worker's latch).  A
 * batch's notifications are kept until its transaction commits, then
 * queued; up to FORWARD_SEND_MAX go in one statement of pg_notify calls.
 * A proxy that is down, refuses, or does not answer within
 * FORWARD_TIMEOUT_MS loses what was in flight, and is tried again after a
 * growing pause; while it is away the queue keeps at most
 * FORWARD_QUEUE_MAX notifications, dropping the oldest.  Delivery is at
 * most once, as for local notifications: the feed read through the proxy
 * is the truth.
 *
 * Nothing here may wait: libpq looks host names up synchronously, so the
 * setting's check refuses a host that is neither an address nor a socket
 * directory (unless hostaddr gives the address), and a service file;
 * GSSAPI encryption, which may ask a Kerberos server synchronously, is off
 * unless the string asks for it.  The connection speaks the shard
 * database's encoding, which the payloads are in.  Interrupts are not
 * answered here: the worker answers them between batches (a cancel is
 * meant for a batch, and would otherwise end the worker).
 *
 * Layer: write path (README, "How the code is organised"), below notify.c
 * (which hands it a batch's notifications) and the worker (which waits
 * through it).
 */
#include "postgres.h"

#include <arpa/inet.h>

#include "libpq-fe.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "forward.h"

/* Notifications kept while the proxy is away, and sent per statement. */
#define FORWARD_QUEUE_MAX 10000
#define FORWARD_SEND_MAX  100
/* How long a connection or an answer may take. */
#define FORWARD_TIMEOUT_MS 10000
/* The pause before connecting again after a failure, doubled up to max. */
#define FORWARD_RETRY_MIN_MS 1000
#define FORWARD_RETRY_MAX_MS 30000
/* At most one log line about dropped notifications per this long. */
#define FORWARD_REPORT_MS 10000

/* assoc.proxy_conninfo: where to forward ("" = nowhere). */
static char *proxy_conninfo = NULL;

/* One notification to forward. */
typedef struct Forwarded
{
	char *channel;
	char *payload;
} Forwarded;

/* Where the connection stands. */
typedef enum ForwardState
{
	FORWARD_DOWN,       /* no connection (retry_at says when to try) */
	FORWARD_CONNECTING, /* PQconnectPoll in progress */
	FORWARD_IDLE,       /* connected, nothing in flight (watching EOF) */
	FORWARD_SENDING,    /* a statement is being flushed */
	FORWARD_WAITING     /* waiting for the statement's result */
} ForwardState;

static MemoryContext forward_cxt = NULL;
static List         *pending = NIL; /* the batch being announced */
static List         *queue = NIL;   /* committed, oldest first */
static int           inflight = 0;  /* queue's first items in the statement */
static PGconn       *conn = NULL;
static char         *conn_for = NULL; /* the conninfo conn was made with */
static ForwardState  state = FORWARD_DOWN;
static PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
static TimestampTz deadline = 0; /* for a connection or an answer */
static TimestampTz retry_at = 0;
static int         retry_ms = FORWARD_RETRY_MIN_MS;
static int64       dropped = 0; /* dropped since the last report */
static TimestampTz reported_at = 0;
static bool        fd_acquired = false;

/* Whether a host (one of a comma-separated list) needs no name lookup. */
static bool
host_is_literal(const char *host, int len)
{
	char          name[256];
	unsigned char addr[16];

	if (len == 0 || host[0] == '/' || host[0] == '@')
		return true; /* the default, or a socket directory */
	if (len >= (int) sizeof(name))
		return false;
	memcpy(name, host, len);
	name[len] = '\0';
	return inet_pton(AF_INET, name, addr) == 1 ||
		   inet_pton(AF_INET6, name, addr) == 1;
}

/*
 * Check hook of assoc.proxy_conninfo: a connection string libpq parses,
 * whose hosts need no name lookup (file header).  The message never
 * quotes the string, which may hold a password.
 */
static bool
check_proxy_conninfo(char **newval, void **extra, GucSource source)
{
	PQconninfoOption *options;
	char             *error = NULL;
	const char       *host = NULL;
	bool              hostaddr = false;
	bool              service = false;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	options = PQconninfoParse(*newval, &error);
	if (options == NULL)
	{
		if (error != NULL)
			PQfreemem(error);
		GUC_check_errmsg(
			"assoc.proxy_conninfo is not a valid connection string");
		return false;
	}
	for (PQconninfoOption *o = options; o->keyword != NULL; o++)
	{
		if (o->val == NULL || o->val[0] == '\0')
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = true;
		else if (strcmp(o->keyword, "service") == 0)
			service = true;
	}
	if (service)
	{
		GUC_check_errmsg("assoc.proxy_conninfo must not name a service");
		GUC_check_errdetail("A service file may give host names, which libpq "
							"looks up while the notification worker waits.");
		PQconninfoFree(options);
		return false;
	}
	for (const char *h = (host != NULL && !hostaddr) ? host : NULL; h != NULL;)
	{
		const char *comma = strchr(h, ',');
		int         len = comma ? (int) (comma - h) : (int) strlen(h);

		if (!host_is_literal(h, len))
		{
			GUC_check_errmsg("assoc.proxy_conninfo names host \"%.*s\", which "
							 "would be looked up by name",
							 len, h);
			GUC_check_errdetail("libpq looks host names up while the "
								"notification worker waits.");
			GUC_check_errhint("Give its address with hostaddr=, or a socket "
							  "directory.");
			PQconninfoFree(options);
			return false;
		}
		h = comma ? comma + 1 : NULL;
	}
	PQconninfoFree(options);
	return true;
}

/* Defines assoc.proxy_conninfo (README, "Settings"). */
void
assoc_forward_init(void)
{
	DefineCustomStringVariable(
		"assoc.proxy_conninfo",
		"Connection string of a proxy database the notification worker "
		"forwards every notification to (empty: none).",
		NULL, &proxy_conninfo, "", PGC_SIGHUP, GUC_SUPERUSER_ONLY,
		check_proxy_conninfo, NULL, NULL);
}

/* Whether notifications are forwarded. */
bool
assoc_forward_enabled(void)
{
	return proxy_conninfo != NULL && proxy_conninfo[0] != '\0';
}

/* The context the queue lives in, made on first use. */
static MemoryContext
forward_context(void)
{
	if (forward_cxt == NULL)
		forward_cxt = AllocSetContextCreate(
			TopMemoryContext, "pg_assoc forward", ALLOCSET_DEFAULT_SIZES);
	return forward_cxt;
}

/* Free one notification. */
static void
forwarded_free(Forwarded *f)
{
	pfree(f->channel);
	pfree(f->payload);
	pfree(f);
}

/* Keep one notification of the batch being announced, for after commit. */
void
assoc_forward_add(const char *channel, const char *payload)
{
	MemoryContext old = MemoryContextSwitchTo(forward_context());
	Forwarded    *f = palloc(sizeof(Forwarded));

	f->channel = pstrdup(channel);
	f->payload = pstrdup(payload);
	pending = lappend(pending, f);
	MemoryContextSwitchTo(old);
}

/* Free the first n notifications of list and take them off it. */
static List *
forwarded_drop(List *list, int n)
{
	for (int i = 0; i < n; i++)
		forwarded_free((Forwarded *) list_nth(list, i));
	return list_delete_first_n(list, n);
}

/*
 * The batch committed: queue what it kept, dropping the oldest beyond
 * FORWARD_QUEUE_MAX (never one in flight).  Or it failed: drop it.
 */
void
assoc_forward_batch_end(bool committed)
{
	MemoryContext old;

	if (pending == NIL)
		return;
	if (!committed)
	{
		pending = forwarded_drop(pending, list_length(pending));
		return;
	}
	old = MemoryContextSwitchTo(forward_context());
	queue = list_concat(queue, pending);
	list_free(pending);
	pending = NIL;
	if (list_length(queue) > FORWARD_QUEUE_MAX)
	{
		/* The oldest after those in flight go, in one rebuild of the list. */
		int   excess = Min(list_length(queue) - FORWARD_QUEUE_MAX,
						   list_length(queue) - inflight);
		List *kept;

		for (int i = inflight; i < inflight + excess; i++)
			forwarded_free((Forwarded *) list_nth(queue, i));
		kept = list_concat(list_copy_head(queue, inflight),
						   list_copy_tail(queue, inflight + excess));
		list_free(queue);
		queue = kept;
		dropped += excess;
	}
	MemoryContextSwitchTo(old);
}

/*
 * Close the connection (if any) and forget what was in flight (the caller
 * says so, or counts it as dropped).
 */
static void
forward_close(void)
{
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
	if (fd_acquired)
		ReleaseExternalFD();
	fd_acquired = false;
	queue = forwarded_drop(queue, inflight);
	inflight = 0;
	state = FORWARD_DOWN;
}

/* A failure: log it, close, and try again after a growing pause. */
static void
forward_fail(const char *what)
{
	int lost = inflight;

	forward_close();
	ereport(LOG,
			(errmsg("pg_assoc could not forward notifications to the "
					"proxy: %s",
					what),
			 lost > 0 ? errdetail("%d notifications in flight are lost "
								  "(the feed keeps every change); it "
								  "connects again in %d ms.",
								  lost, retry_ms)
					  : errdetail("It connects again in %d ms.", retry_ms)));
	retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), retry_ms);
	retry_ms = Min(retry_ms * 2, FORWARD_RETRY_MAX_MS);
}

/* Log how many notifications were dropped, at most every FORWARD_REPORT_MS. */
static void
forward_report(bool now)
{
	if (dropped == 0 ||
		(!now && !TimestampDifferenceExceeds(
					 reported_at, GetCurrentTimestamp(), FORWARD_REPORT_MS)))
		return;
	ereport(LOG, (errmsg("pg_assoc dropped %lld notifications it could not "
						 "forward to the proxy",
						 (long long) dropped)));
	dropped = 0;
	reported_at = GetCurrentTimestamp();
}

/* At the worker's exit: what was never forwarded is dropped, and said so. */
static void
forward_at_exit(int code, Datum arg)
{
	dropped += list_length(queue);
	if (conn != NULL)
		PQfinish(conn);
	conn = NULL;
	forward_report(true);
}

/* Notices of the proxy (none are expected) are not written to stderr. */
static void
forward_notice(void *arg, const PGresult *res)
{
	elog(DEBUG1, "pg_assoc forward: %s", PQresultErrorMessage(res));
}

/*
 * Start connecting, without waiting: the string's own settings, in the
 * shard database's encoding, GSSAPI encryption off unless asked for.
 */
static void
forward_connect(void)
{
	static bool exit_hook = false;
	const char *keys[] = {"gssencmode", "fallback_application_name", "dbname",
						  "client_encoding", NULL};
	const char *values[] = {"disable", "pg_assoc forward", proxy_conninfo,
							GetDatabaseEncodingName(), NULL};

	if (!exit_hook)
	{
		on_proc_exit(forward_at_exit, (Datum) 0);
		exit_hook = true;
	}
	if (conn_for != NULL)
		pfree(conn_for);
	conn_for = MemoryContextStrdup(forward_context(), proxy_conninfo);
	if (!AcquireExternalFD())
	{
		forward_fail("too many open files (max_files_per_process)");
		return;
	}
	fd_acquired = true;
	conn = PQconnectStartParams(keys, values, 1);
	if (conn == NULL)
	{
		forward_fail("out of memory");
		return;
	}
	if (PQstatus(conn) == CONNECTION_BAD)
	{
		forward_fail(pchomp(PQerrorMessage(conn)));
		return;
	}
	PQsetNoticeReceiver(conn, forward_notice, NULL);
	state = FORWARD_CONNECTING;
	polling = PGRES_POLLING_WRITING;
	deadline =
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), FORWARD_TIMEOUT_MS);
}

/*
 * Send the queue's first notifications in one statement of pg_notify
 * calls, as parameters.  Returns false when the send failed.
 */
static bool
forward_send(void)
{
	int            n = Min(list_length(queue), FORWARD_SEND_MAX);
	const char   **values = palloc(sizeof(char *) * 2 * n);
	StringInfoData sql;
	int            ok;

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int i = 0; i < n; i++)
	{
		Forwarded *f = (Forwarded *) list_nth(queue, i);

		appendStringInfo(&sql, "%spg_catalog.pg_notify($%d, $%d)",
						 i == 0 ? "" : ", ", 2 * i + 1, 2 * i + 2);
		values[2 * i] = f->channel;
		values[2 * i + 1] = f->payload;
	}
	ok = PQsendQueryParams(conn, sql.data, 2 * n, NULL, values, NULL, NULL, 0);
	pfree(sql.data);
	pfree(values);
	if (!ok)
		return false;
	inflight = n;
	state = FORWARD_SENDING;
	deadline =
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), FORWARD_TIMEOUT_MS);
	return true;
}

/* The statement in flight is done: its notifications leave the queue. */
static void
forward_sent(void)
{
	queue = forwarded_drop(queue, inflight);
	inflight = 0;
	state = FORWARD_IDLE;
	retry_ms = FORWARD_RETRY_MIN_MS;
}

/* Read what the proxy answered; false when the connection failed. */
static bool
forward_read(void)
{
	PGresult *res;

	if (!PQconsumeInput(conn))
		return false;
	while (!PQisBusy(conn))
	{
		res = PQgetResult(conn);
		if (res == NULL)
		{
			forward_sent();
			return true;
		}
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			ereport(LOG,
					(errmsg("pg_assoc could not forward %d notifications "
							"to the proxy: %s",
							inflight, pchomp(PQresultErrorMessage(res)))));
		PQclear(res);
	}
	return true;
}

/*
 * Move forwarding on as far as it goes without blocking; rc is what the
 * last wait returned (which socket events happened).
 */
static void
forward_pump(int rc)
{
	for (;;)
	{
		if (state != FORWARD_DOWN && state != FORWARD_IDLE &&
			GetCurrentTimestamp() >= deadline)
		{
			forward_fail(state == FORWARD_CONNECTING
							 ? "the connection was not made in time"
							 : "no answer in time");
			return;
		}
		switch (state)
		{
			case FORWARD_DOWN:
				if (queue == NIL || GetCurrentTimestamp() < retry_at)
					return;
				forward_connect();
				if (state == FORWARD_DOWN)
					return;
				rc = 0;
				continue;
			case FORWARD_CONNECTING:
				/* libpq says which socket event to wait for before each poll. */
				if (!(polling == PGRES_POLLING_READING &&
					  (rc & WL_SOCKET_READABLE)) &&
					!(polling == PGRES_POLLING_WRITING &&
					  (rc & WL_SOCKET_WRITEABLE)))
					return;
				polling = PQconnectPoll(conn);
				rc = 0;
				if (polling == PGRES_POLLING_FAILED)
				{
					forward_fail(pchomp(PQerrorMessage(conn)));
					return;
				}
				if (polling != PGRES_POLLING_OK)
					return;
				if (PQsetnonblocking(conn, 1) != 0)
				{
					forward_fail(pchomp(PQerrorMessage(conn)));
					return;
				}
				state = FORWARD_IDLE;
				continue;
			case FORWARD_IDLE:
				/*
				 * A connection the proxy closed (a restart) is noticed here,
				 * before a statement is lost on it: connect again at once.
				 */
				if ((rc & WL_SOCKET_READABLE) &&
					(!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK))
				{
					forward_close();
					retry_at = 0;
					rc = 0;
					continue;
				}
				rc = 0;
				if (queue == NIL)
					return;
				if (!forward_send())
				{
					forward_fail(pchomp(PQerrorMessage(conn)));
					return;
				}
				continue;
			case FORWARD_SENDING:
				switch (PQflush(conn))
				{
					case 0:
						state = FORWARD_WAITING;
						continue;
					case 1:
						if (!(rc & WL_SOCKET_READABLE) ||
							!PQconsumeInput(conn))
							return;
						rc = 0;
						continue;
					default:
						forward_fail(pchomp(PQerrorMessage(conn)));
						return;
				}
			case FORWARD_WAITING:
				if (!forward_read())
				{
					forward_fail(pchomp(PQerrorMessage(conn)));
					return;
				}
				if (state == FORWARD_WAITING)
					return;
				continue;
		}
	}
}

/* The socket events the connection waits for now (0: none). */
static int
forward_socket_events(void)
{
	switch (state)
	{
		case FORWARD_CONNECTING:
			return polling == PGRES_POLLING_READING ? WL_SOCKET_READABLE
													: WL_SOCKET_WRITEABLE;
		case FORWARD_SENDING:
			return WL_SOCKET_WRITEABLE | WL_SOCKET_READABLE;
		case FORWARD_WAITING:
		case FORWARD_IDLE:
			return WL_SOCKET_READABLE;
		default:
			return 0;
	}
}

/* When forwarding wants to run next on its own (0: not before an event). */
static TimestampTz
forward_timer(void)
{
	if (state == FORWARD_DOWN)
		return queue == NIL ? 0 : retry_at;
	if (state == FORWARD_IDLE)
		return 0;
	return deadline;
}

/*
 * WaitLatch for the notification worker that also moves forwarding on.
 * Returns when the latch is set, the timeout passed or the postmaster
 * died (the result as WaitLatch gives it, without socket events); socket
 * events and forwarding's own timers are handled meanwhile.
 */
int
assoc_forward_wait(int events, long timeout)
{
	TimestampTz end =
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout);

	if (conn_for != NULL &&
		(!assoc_forward_enabled() || strcmp(conn_for, proxy_conninfo) != 0))
	{
		/* assoc.proxy_conninfo changed: a new connection, or none. */
		dropped += inflight;
		forward_close();
		pfree(conn_for);
		conn_for = NULL;
		retry_at = 0;
		retry_ms = FORWARD_RETRY_MIN_MS;
	}
	if (!assoc_forward_enabled())
	{
		queue = forwarded_drop(queue, list_length(queue));
		return WaitLatch(MyLatch, events, timeout, PG_WAIT_EXTENSION);
	}
	for (;;)
	{
		TimestampTz now;
		TimestampTz until;
		TimestampTz timer;
		int         socket_events;
		int         rc;

		forward_pump(0);
		now = GetCurrentTimestamp();
		until = end;
		timer = forward_timer();
		if (timer != 0 && timer < until)
			until = timer;
		socket_events = forward_socket_events();
		rc = WaitLatchOrSocket(
			MyLatch, (events & ~WL_TIMEOUT) | WL_TIMEOUT | socket_events,
			socket_events ? PQsocket(conn) : PGINVALID_SOCKET,
			Max(TimestampDifferenceMilliseconds(now, until), 0),
			PG_WAIT_EXTENSION);
		if (rc & (WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE))
			forward_pump(rc);
		forward_report(false);
		if (rc & (WL_LATCH_SET | WL_POSTMASTER_DEATH))
			return rc &
				   ~(WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE | WL_TIMEOUT);
		if (GetCurrentTimestamp() >= end)
			return WL_TIMEOUT;
	}
}

/* Whether nothing waits to be forwarded (the worker may leave). */
bool
assoc_forward_idle(void)
{
	return queue == NIL || !assoc_forward_enabled() || state == FORWARD_DOWN;
}
