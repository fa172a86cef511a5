#!/usr/bin/python3
"""The change-subscription story of SPEC §5, end to end through psycopg 3.

  * assoc.channel gives distinct, stable, unquoted channel names
    (assoc_ + 32 hex) for a namespace and for each of its records;
  * a subscriber LISTENing on a record's channel receives every committed
    change of that record, in order (versions 1..N consecutive), with the
    exact entry {ns, id, v, op, paths, cursor, origin} (a payload holds one
    entry, or several in a JSON array), the cursor being the one
    assoc.changes gives for that entry; a rolled-back write, a no-op write
    and a write to another record never arrive on it; the namespace channel
    carries the changes of both records;
  * a subscriber that disconnects, misses M changes and reconnects gets
    exactly those M from assoc.changes(ns, last cursor) (paged by 7),
    nothing lost or duplicated, and then live notifications again;
  * after drop_namespace + create_namespace of the same name, an old cursor
    is refused with SQLSTATE 55000.

Notifications are read with AsyncConnection.notifies() under
asyncio.wait_for, so a missing one fails the test after 10 s instead of
hanging (psycopg 3.1's notifies() has no timeout of its own).

    PGHOST=/tmp PGPORT=5432 PGUSER=postgres PGDATABASE=postgres \\
        /usr/bin/python3 test/clients/feed_subscriber_test.py

The extension must exist in the database (CREATE EXTENSION pg_assoc).
Exit status 0 when every check passes, 1 otherwise.
"""
import asyncio
import collections
import json
import os
import re
import secrets
import signal
import sys

import psycopg
from psycopg.types.json import Jsonb

N = 50            # live changes in the first phase
M = 23            # changes made while the subscriber is away
K = 5             # live changes after reconnecting (the last is a remove)
PAGE = 7          # page size of the catch-up
WAIT_S = 10.0     # longest wait for one notification or feed entry
REC = "rec1"
OTHER = "rec2"
NS = "feedpy_" + secrets.token_hex(6)
CHANNEL_FORM = re.compile(r"assoc_[0-9a-f]{32}")

FAILURES = []


class Fatal(Exception):
    """A failure the rest of the test cannot go on after."""


def check(cond, what):
    """Print one check; remember it when it fails."""
    print(("ok     " if cond else "NOT OK ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def fatal(what):
    """Fail at once."""
    print("NOT OK " + what, flush=True)
    FAILURES.append(what)
    raise Fatal(what)


def planned(k):
    """The k-th change of REC (k = 1, 2, ...): (sql, parameters after ns and
    id, op, paths) — the feed's op and paths it must produce.  Each one
    changes the record, so it makes version k."""
    kind = k % 5
    if kind == 1:
        return ("SELECT assoc.set(%s, %s, %s, %s)", ["count", Jsonb(k)],
                "set", ["count"])
    if kind == 2:
        patches = [{"path": "a.b[1]", "data": k},
                   {"path": "tmp", "data": "t-%d" % k},
                   {"path": 'ü"q.x', "data": True}]
        return ("SELECT assoc.set_multi(%s, %s, %s)", [Jsonb(patches)],
                "patch", [p["path"] for p in patches])
    if kind == 3:
        return ("SELECT assoc.erase(%s, %s, %s)", ["tmp"], "erase", ["tmp"])
    if kind == 4:
        patches = [{"path": "count"}, {"path": " list[ 2 ] ", "data": {"k": k}}]
        return ("SELECT assoc.set_multi(%s, %s, %s)", [Jsonb(patches)],
                "patch", [p["path"] for p in patches])
    return ("SELECT assoc.set(%s, %s, NULL, %s)", [Jsonb({"whole": k})],
            "set", None)


async def value(conn, query, params=()):
    """The single value a query returns."""
    cur = await conn.execute(query, params)
    return (await cur.fetchone())[0]


async def write_change(writer, k):
    """Make the k-th planned change of REC in its own transaction, check its
    version, and return the change as the feed must show it."""
    query, args, op, paths = planned(k)
    v = await value(writer, query, [NS, REC] + args)
    if v != k:
        fatal("change %d of %s returned version %s" % (k, REC, v))
    return {"id": REC, "v": k, "op": op, "paths": paths}


async def wait_notified(writer):
    """Wait until every committed write has been announced."""
    if not await value(writer, "SELECT assoc.wait_notified(%s)",
                       [int(WAIT_S * 1000)]):
        fatal("assoc.wait_notified timed out")


class Subscriber:
    """A listening connection.  Notifications that arrive while it runs a
    statement (LISTEN, the catch-up) reach the notify handler and wait in
    `early`; the others come from conn.notifies().  Receiving starts only
    after its last statement, so the two never interleave."""

    def __init__(self, conn):
        self.conn = conn
        self.early = collections.deque()
        self.stream = None
        conn.add_notify_handler(self.early.append)

    @classmethod
    async def start(cls, channels):
        """Connect (autocommit) and LISTEN on the channels."""
        sub = cls(await psycopg.AsyncConnection.connect(autocommit=True))
        for channel in channels:
            if not CHANNEL_FORM.fullmatch(channel):
                fatal("channel %r needs quoting" % channel)
            await sub.conn.execute("LISTEN " + channel)
        return sub

    async def next(self, timeout=WAIT_S):
        """The next notification, or None when none comes within timeout."""
        if self.early:
            return self.early.popleft()
        if self.stream is None:
            self.stream = self.conn.notifies()
        try:
            return await asyncio.wait_for(anext(self.stream), timeout)
        except asyncio.TimeoutError:
            self.stream = None  # cancelled while waiting: nothing was lost
            return None

    async def collect(self, until, want, what):
        """Receive until `want` entries on channel `until` have come; return
        the payloads of all entries, one per entry (payload_entries), by
        channel."""
        by_channel = collections.defaultdict(list)
        got = 0
        while got < want:
            n = await self.next()
            if n is None:
                fatal("%s: only %d of %d entries on %s within %g s"
                      % (what, got, want, until, WAIT_S))
            entries = payload_entries(n.payload)
            by_channel[n.channel].extend(entries)
            if n.channel == until:
                got += len(entries)
        return by_channel

    async def close(self):
        await self.conn.close()


async def read_feed(conn, after, want, page=1000):
    """Every feed entry after cursor `after`, read in pages of `page` until
    one comes back short.  Delivery is gap-free, so another session's open
    transaction may hold entries back: until `want` have come (or WAIT_S
    passed) it polls again.  Returns the entries and the page sizes."""
    entries, pages = [], []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    cursor = after
    while True:
        cur = await conn.execute(
            "SELECT cursor, id, version, op, paths, origin"
            " FROM assoc.changes(%s, %s, %s)",
            [NS, cursor, page])
        rows = await cur.fetchall()
        for c, ident, v, op, paths, origin in rows:
            entries.append({"cursor": c, "id": ident, "v": v, "op": op,
                            "paths": paths, "origin": origin})
            cursor = c
        if rows:
            pages.append(len(rows))
        if len(rows) == page:
            continue
        if len(entries) >= want or loop.time() > deadline:
            return entries, pages
        await asyncio.sleep(0.05)


def parse_json(text):
    """A payload's JSON value; not JSON is fatal."""
    try:
        return json.loads(text)
    except ValueError:
        fatal("payload is not JSON: " + text)


def payload_entries(text):
    """The entries of a notification's payload, each as the text of one
    JSON object: the payload itself, or the elements of a JSON array of two
    or more entries (a batch's entries for one channel), which stays under
    PostgreSQL's 8000-byte limit."""
    p = parse_json(text)
    if not isinstance(p, list):
        return [text]
    if len(p) < 2:
        fatal("an array payload holds %d entries: %s" % (len(p), text))
    if len(text.encode()) >= 8000:
        fatal("a payload of %d bytes" % len(text.encode()))
    return [json.dumps(e) for e in p]


def parse_payload(text):
    """A payload as a dict, checked to be JSON with exactly the documented
    members and an integer version."""
    p = parse_json(text)
    if sorted(p) != ["cursor", "id", "ns", "op", "origin", "paths", "v"]:
        fatal("payload members are %s: %s" % (sorted(p), text))
    if type(p["v"]) is not int:
        fatal('payload "v" is not a JSON integer: ' + text)
    return p


def check_payloads(payloads, entries, what):
    """Each payload equals the feed entry it announces, field by field, in
    feed order; report the first difference."""
    if len(payloads) != len(entries):
        return check(False, "%s: %d notifications for %d feed entries"
                     % (what, len(payloads), len(entries)))
    for i, (text, e) in enumerate(zip(payloads, entries)):
        want = {"ns": NS, "id": e["id"], "v": e["v"], "op": e["op"],
                "paths": e["paths"], "cursor": e["cursor"],
                "origin": e["origin"]}
        if parse_payload(text) != want:
            return check(False, "%s: notification %d is %s, expected %s"
                         % (what, i + 1, text, json.dumps(want)))
    return check(True, "%s: %d payloads exact, in feed order"
                 % (what, len(payloads)))


def check_entries(entries, expected, what):
    """The entries are the expected changes (id, v, op, paths), in order."""
    got = [{k: e[k] for k in ("id", "v", "op", "paths")} for e in entries]
    if got == expected:
        return check(True, "%s: %d entries as written" % (what, len(got)))
    at = next((i for i, (g, x) in enumerate(zip(got, expected)) if g != x),
              min(len(got), len(expected)))
    return check(False, "%s: %d entries, %d expected; at %d: got %s, expected %s"
                 % (what, len(got), len(expected), at,
                    got[at] if at < len(got) else None,
                    expected[at] if at < len(expected) else None))


def consecutive(versions, first):
    """True when the versions are first, first + 1, ... without a gap."""
    return versions == list(range(first, first + len(versions)))


async def run(writer):
    """The four phases: live, away and catch-up, live again, recreated
    namespace."""
    # Channels.
    ns_channel = await value(writer, "SELECT assoc.channel(%s, NULL)", [NS])
    rec_channel = await value(writer, "SELECT assoc.channel(%s, %s)", [NS, REC])
    other_channel = await value(writer, "SELECT assoc.channel(%s, %s)", [NS, OTHER])
    check(all(CHANNEL_FORM.fullmatch(c)
              for c in (ns_channel, rec_channel, other_channel)),
          "channel names are assoc_ + 32 lower-case hex")
    check(len({ns_channel, rec_channel, other_channel}) == 3,
          "namespace and record channels are distinct")
    check(rec_channel == await value(writer, "SELECT assoc.channel(%s, %s)",
                                     [NS, REC]),
          "a record channel is stable")
    check(ns_channel == await value(writer, "SELECT assoc.channel(%s)", [NS]),
          "assoc.channel(ns) is the namespace channel")

    # Phase 1: live.
    sub = await Subscriber.start([rec_channel, ns_channel])
    written = []  # every effective change, in commit order
    for k in range(1, N + 1):
        written.append(await write_change(writer, k))
        if k == 10:
            async with writer.transaction(force_rollback=True):
                await writer.execute("SELECT assoc.set(%s, %s, %s, %s)",
                                     [NS, REC, "count", Jsonb("rolled back")])
        elif k == 20:
            v = await value(writer, "SELECT assoc.set(%s, %s, %s, %s)",
                            [NS, OTHER, "x", Jsonb(1)])
            check(v == 1, "write to %s made version 1" % OTHER)
            written.append({"id": OTHER, "v": 1, "op": "set", "paths": ["x"]})
        elif k == 30:
            gone = await value(writer, "SELECT assoc.remove(%s, %s)", [NS, OTHER])
            check(gone is True, "remove of %s removed it" % OTHER)
            written.append({"id": OTHER, "v": 2, "op": "remove", "paths": None})
        elif k == 40:
            query, args, _, _ = planned(k)  # the same write again: a no-op
            v = await value(writer, query, [NS, REC] + args)
            check(v == k, "repeating change %d is a no-op (version stays %d)"
                  % (k, k))
    await wait_notified(writer)
    print("wrote %d changes of %s (plus a rollback, a no-op, 2 changes of %s)"
          % (N, REC, OTHER))

    live = await sub.collect(rec_channel, N, "live phase")
    feed1, _ = await read_feed(writer, None, len(written))
    check_entries(feed1, written, "assoc.changes from the start")
    rec_versions = [parse_payload(t)["v"] for t in live[rec_channel]]
    check(len(rec_versions) == N and consecutive(rec_versions, 1),
          "record channel: versions 1..%d consecutive, nothing else (got %d)"
          % (N, len(rec_versions)))
    check_payloads(live[rec_channel], [e for e in feed1 if e["id"] == REC],
                   "record channel")
    ns_ids = {parse_payload(t)["id"] for t in live[ns_channel]}
    check(ns_ids == {REC, OTHER},
          "namespace channel: changes of both %s and %s" % (REC, OTHER))
    check_payloads(live[ns_channel], feed1, "namespace channel")
    check(set(live) == {rec_channel, ns_channel},
          "no notification on any other channel")

    # Phase 2: away, then catch up from the last cursor seen.
    last_seen = parse_payload(live[ns_channel][-1])["cursor"]
    await sub.close()
    missed = [await write_change(writer, k) for k in range(N + 1, N + M + 1)]
    await wait_notified(writer)
    print("subscriber away: wrote %d changes of %s" % (M, REC))

    # LISTEN first, then read the feed: no change can fall in between.
    sub = await Subscriber.start([rec_channel, ns_channel])
    caught, pages = await read_feed(sub.conn, last_seen, M, PAGE)
    check_entries(caught, missed,
                  "catch-up from the last cursor in pages of %d" % PAGE)
    check(consecutive([e["v"] for e in caught], N + 1),
          "catch-up versions %d..%d consecutive" % (N + 1, N + M))
    check(len({e["cursor"] for e in caught}) == len(caught),
          "catch-up cursors distinct")
    check(len(pages) == -(-M // PAGE) and all(n <= PAGE for n in pages),
          "catch-up came in %d pages of at most %d: %s"
          % (len(pages), PAGE, ", ".join(map(str, pages))))
    feed2, _ = await read_feed(writer, last_seen, M)
    check(caught == feed2, "catch-up cursors equal those another session reads")

    # Phase 3: live again, ending with a remove.
    later = [await write_change(writer, k) for k in range(N + M + 1, N + M + K)]
    check(await value(writer, "SELECT assoc.remove(%s, %s)", [NS, REC]) is True,
          "remove of %s removed it" % REC)
    later.append({"id": REC, "v": N + M + K, "op": "remove", "paths": None})
    await wait_notified(writer)
    again = await sub.collect(rec_channel, K, "after reconnecting")
    feed3, _ = await read_feed(writer, caught[-1]["cursor"], K)
    check_entries(feed3, later, "assoc.changes after the catch-up")
    again_versions = [parse_payload(t)["v"] for t in again[rec_channel]]
    check(len(again_versions) == K and consecutive(again_versions, N + M + 1),
          "after reconnecting, record channel: versions %d..%d live, no stale one"
          % (N + M + 1, N + M + K))
    check_payloads(again[rec_channel], feed3, "record channel after reconnecting")
    check_payloads(again[ns_channel], feed3, "namespace channel after reconnecting")
    head = await value(writer, "SELECT assoc.head(%s)", [NS])
    check(await value(writer, "SELECT count(*) FROM assoc.changes(%s, %s)",
                      [NS, head]) == 0,
          "nothing after assoc.head")
    extra = await sub.next(0.5)
    check(extra is None, "no further notification"
          + (": " + extra.payload if extra else ""))
    await sub.close()

    # Phase 4: a cursor of a dropped and recreated namespace.
    old_cursor = feed3[-1]["cursor"]
    await writer.execute("SELECT assoc.drop_namespace(%s)", [NS])
    await writer.execute("SELECT assoc.create_namespace(%s)", [NS])
    try:
        await writer.execute("SELECT * FROM assoc.changes(%s, %s)", [NS, old_cursor])
        state = "no error"
    except psycopg.Error as ex:
        state = ex.sqlstate
    check(state == "55000",
          "old cursor after drop + create of the namespace: SQLSTATE %s, "
          "expected 55000" % state)
    check(await value(writer, "SELECT count(*) FROM assoc.changes(%s)", [NS]) == 0,
          "the recreated namespace has an empty feed")


async def main():
    """Create the namespace, run the phases, drop the namespace."""
    writer = await psycopg.AsyncConnection.connect(autocommit=True)
    try:
        print("namespace " + NS)
        await writer.execute("SELECT assoc.create_namespace(%s)", [NS])
        try:
            await run(writer)
        except Fatal:
            pass
        finally:
            await writer.execute("SELECT assoc.drop_namespace(%s)", [NS])
    finally:
        await writer.close()


def watchdog(signum, frame):
    """Whatever happens, never hang."""
    print("NOT OK test did not finish within 120 s", flush=True)
    os._exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(120)
    asyncio.run(main())
    print("all checks passed" if not FAILURES
          else "%d check(s) failed" % len(FAILURES))
    sys.exit(1 if FAILURES else 0)
