#!/usr/bin/python3
"""Binary I/O of assoc.assockey through a real client (psycopg 3, libpq).

assockey_send/assockey_recv cannot be called from SQL (recv takes internal),
so this drives them with binary parameters and results:

  * send produces: int32 count, then per element int32 model length, model
    bytes, int32 id length, id bytes (client encoding);
  * recv accepts exactly canonical data and rejects, with SQLSTATE 22P03
    (invalid_binary_representation), unsorted or duplicated elements, bad
    models and ids, bad counts and lengths; an id that is not valid in the
    encoding is rejected by the encoding check (22021);
  * binary round trip of random keys (with quoting-relevant and unicode ids)
    gives back equal keys.

    PGHOST=/tmp PGPORT=5432 PGUSER=postgres PGDATABASE=postgres \\
        /usr/bin/python3 test/clients/assockey_binary_test.py

The extension must exist in the database (CREATE EXTENSION pg_assoc).
Exit status 0 when every check passes, 1 otherwise.
"""
import random
import struct
import sys

import psycopg

FAILURES = []


def check(cond, what):
    print(("ok     " if cond else "NOT OK ") + what)
    if not cond:
        FAILURES.append(what)


def encode(elems):
    """Binary form of a list of (model, id) pairs, in the order given."""
    out = struct.pack("!i", len(elems))
    for model, ident in elems:
        m = model.encode() if isinstance(model, str) else model
        i = ident.encode() if isinstance(ident, str) else ident
        out += struct.pack("!i", len(m)) + m + struct.pack("!i", len(i)) + i
    return out


def recv(pgconn, oid, data):
    """Send data as a binary assockey parameter; return (sqlstate, text)."""
    res = pgconn.exec_params(b"SELECT $1::text", [data], [oid], [1], 0)
    state = res.error_field(psycopg.pq.DiagnosticField.SQLSTATE)
    if state:
        msg = res.error_field(psycopg.pq.DiagnosticField.MESSAGE_PRIMARY)
        return state.decode(), msg.decode()
    return "00000", res.get_value(0, 0).decode()


def main():
    conn = psycopg.connect(autocommit=True)
    oid = conn.execute("SELECT 'assoc.assockey'::regtype::oid").fetchone()[0]
    pg = conn.pgconn

    # send
    res = pg.exec_params(
        b"SELECT '{user:1,room:ab}'::assoc.assockey", [], None, None, 1)
    check(res.get_value(0, 0) == encode([("room", "ab"), ("user", "1")]),
          "send: count, then length-prefixed model and id")

    # recv: accepted
    cases = [
        ([], "{}"),
        ([("room", "GENERAL"), ("user", "42")], "{room:GENERAL,user:42}"),
        ([("room", "a,b"), ("room", "x ")], '{"room:a,b","room:x "}'),
        ([("A", "1"), ("a", "1"), ("a-", "1")], "{A:1,a:1,a-:1}"),
        ([("m" * 63, "x"), ("room", "y" * 1024)],
         "{%s:x,room:%s}" % ("m" * 63, "y" * 1024)),
        ([("room", "ü"), ("room", "日本")], "{room:ü,room:日本}"),
    ]
    for elems, text in cases:
        got = recv(pg, oid, encode(elems))
        check(got == ("00000", text), "recv accepts %r" % (text[:40],))

    # recv: rejected
    bad = [
        (encode([("user", "1"), ("room", "a")]), "22P03", "unsorted"),
        (encode([("room", "a"), ("room", "a")]), "22P03", "duplicate"),
        (encode([("room", "b"), ("room", "a")]), "22P03", "unsorted ids"),
        (encode([("room", "aa"), ("room", "a")]), "22P03", "longer id first"),
        (encode([("", "a")]), "22P03", "empty model"),
        (encode([("ro om", "a")]), "22P03", "model character"),
        (encode([("m" * 64, "a")]), "22P03", "model too long"),
        (encode([("room", "")]), "22P03", "empty id"),
        (encode([("room", "y" * 1025)]), "22P03", "id too long"),
        (encode([("room", "a\0b")]), None, "zero byte in id"),
        (encode([("room", b"\xff\xfe")]), "22021", "invalid UTF-8 id"),
        (struct.pack("!i", -1), "22P03", "negative count"),
        (struct.pack("!i", 5), "22P03", "count beyond the data"),
        (encode([("room", "a")])[:-1], None, "truncated"),
        (encode([("room", "a")]) + b"x", None, "trailing bytes"),
        (struct.pack("!ii", 1, -4) + b"x" * 8, "22P03", "negative model length"),
    ]
    for data, want, what in bad:
        state, msg = recv(pg, oid, data)
        ok = state != "00000" and (want is None or state == want)
        check(ok, "recv rejects %s (%s: %s)" % (what, state, msg))

    # Binary round trip of random keys.
    rnd = random.Random(20240501)
    pool = ["a,b", 'q"t', "b\\s", "{x}", " lead", "trail ", "c:d", "ü",
            "日本", "x y"]
    keys = []
    for _ in range(2000):
        elems = set()
        for _ in range(rnd.randint(0, 5)):
            model = rnd.choice(["room", "user", "misc", "livechat-message"])
            ident = (rnd.choice(pool) if rnd.random() < 0.3
                     else str(rnd.randint(0, 50)))
            elems.add((model, ident))
        keys.append(sorted(elems, key=lambda e: (e[0].encode(),
                                                 e[1].encode())))
    mismatches = 0
    for elems in keys:
        data = encode(elems)
        res = pg.exec_params(
            b"SELECT $1::assoc.assockey, "
            b"$1::assoc.assockey OPERATOR(assoc.=) "
            b"assoc.assockey_from_array($2::text[])",
            [data, ("{%s}" % ",".join(
                '"%s:%s"' % (m, i.replace("\\", "\\\\").replace('"', '\\"'))
                for m, i in elems)).encode()],
            [oid, 0], [1, 0], 1)
        if res.error_field(psycopg.pq.DiagnosticField.SQLSTATE):
            mismatches += 1
            continue
        if res.get_value(0, 0) != data or res.get_value(0, 1) != b"\x01":
            mismatches += 1
    check(mismatches == 0,
          "binary round trip of %d random keys (%d mismatches)"
          % (len(keys), mismatches))

    conn.close()
    if FAILURES:
        print("%d check(s) failed" % len(FAILURES))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
