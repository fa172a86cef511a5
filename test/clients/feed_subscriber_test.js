#!/usr/bin/env node
'use strict';
/*
 * The change-subscription story of SPEC §5, end to end through node-postgres:
 *
 *   * assoc.channel gives distinct, stable, unquoted channel names
 *     (assoc_ + 32 hex) for a namespace and for each of its records;
 *   * a subscriber LISTENing on a record's channel receives every committed
 *     change of that record, in order (versions 1..N consecutive), with the
 *     exact entry {ns, id, v, op, paths, cursor, origin} (a payload holds one
 *     entry, or several in a JSON array), the cursor being the one
 *     assoc.changes gives for that entry; a rolled-back write, a no-op write
 *     and a write to another record never arrive on it; the namespace
 *     channel carries the changes of both records;
 *   * a subscriber that disconnects, misses M changes and reconnects gets
 *     exactly those M from assoc.changes(ns, last cursor) (paged by 7),
 *     nothing lost or duplicated, and then live notifications again;
 *   * after drop_namespace + create_namespace of the same name, an old
 *     cursor is refused with SQLSTATE 55000.
 *
 *   PGHOST=/tmp PGPORT=5432 PGUSER=postgres PGDATABASE=postgres \
 *     node test/clients/feed_subscriber_test.js
 *
 * Needs the library in shared_preload_libraries (or not: then writers notify
 * themselves) and CREATE EXTENSION pg_assoc in the database.  Exit status 0
 * when every check passes, 1 otherwise.
 */

const crypto = require('crypto');
const { Client } = require('pg');

const N = 50;             // live changes in the first phase
const M = 23;             // changes made while the subscriber is away
const K = 5;              // live changes after reconnecting (the last a remove)
const PAGE = 7;           // page size of the catch-up
const WAIT_MS = 10000;    // longest wait for one notification or feed entry
const REC = 'rec1';
const OTHER = 'rec2';
const NS = 'feedjs_' + crypto.randomBytes(6).toString('hex');

let failures = 0;

/* Print one check; count it when it fails. */
function check(cond, what) {
  console.log((cond ? 'ok     ' : 'NOT OK ') + what);
  if (!cond) failures++;
  return cond;
}

/* Fail at once: the rest of the test depends on it. */
function fatal(what) {
  console.log('NOT OK ' + what);
  throw new Error(what);
}

/* Same JSON value (object members compared in sorted order). */
function sameJson(a, b) {
  const norm = (v) => {
    if (Array.isArray(v)) return v.map(norm);
    if (v !== null && typeof v === 'object') {
      const o = {};
      for (const k of Object.keys(v).sort()) o[k] = norm(v[k]);
      return o;
    }
    return v;
  };
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/*
 * The k-th change of record REC (k = 1, 2, ...): the SQL call, its
 * parameters after (ns, id), and the feed's op and paths it must produce.
 * Every one of them changes the record, so it makes version k.
 */
function planned(k) {
  switch (k % 5) {
    case 1:
      return { sql: 'SELECT assoc.set($1, $2, $3, $4::jsonb) AS v', args: ['count', JSON.stringify(k)],
        op: 'set', paths: ['count'] };
    case 2: {
      const patches = [{ path: 'a.b[1]', data: k }, { path: 'tmp', data: 't-' + k }, { path: 'ü"q.x', data: true }];
      return { sql: 'SELECT assoc.set_multi($1, $2, $3::jsonb) AS v', args: [JSON.stringify(patches)],
        op: 'patch', paths: patches.map((p) => p.path) };
    }
    case 3:
      return { sql: 'SELECT assoc.erase($1, $2, $3) AS v', args: ['tmp'], op: 'erase', paths: ['tmp'] };
    case 4: {
      const patches = [{ path: 'count' }, { path: ' list[ 2 ] ', data: { k } }];
      return { sql: 'SELECT assoc.set_multi($1, $2, $3::jsonb) AS v', args: [JSON.stringify(patches)],
        op: 'patch', paths: patches.map((p) => p.path) };
    }
    default:
      return { sql: 'SELECT assoc.set($1, $2, NULL, $3::jsonb) AS v', args: [JSON.stringify({ whole: k })],
        op: 'set', paths: null };
  }
}

/* Make the k-th planned change of REC in its own transaction; check its version. */
async function writeChange(writer, k) {
  const p = planned(k);
  const res = await writer.query(p.sql, [NS, REC, ...p.args]);
  const v = Number(res.rows[0].v);
  if (v !== k) fatal(`change ${k} of ${REC} returned version ${v}`);
  return { id: REC, v: k, op: p.op, paths: p.paths };
}

/* Wait until the worker has announced every committed write. */
async function waitNotified(writer) {
  const res = await writer.query('SELECT assoc.wait_notified($1) AS done', [WAIT_MS]);
  if (!res.rows[0].done) fatal('assoc.wait_notified timed out');
}

/*
 * A listening connection: notifications are queued as they come, and
 * next() hands them out in arrival order, or null after WAIT_MS.
 */
class Subscriber {
  constructor() {
    this.client = new Client();
    this.queue = [];
    this.waiter = null;
    this.client.on('notification', (msg) => {
      this.queue.push(msg);
      if (this.waiter) this.waiter();
    });
    this.client.on('error', (err) => console.log('subscriber connection error: ' + err.message));
  }

  /* Connect and LISTEN on the given channels. */
  async start(channels) {
    await this.client.connect();
    for (const ch of channels) await this.client.query('LISTEN ' + ch);
  }

  /* The next notification, or null when none comes within ms. */
  async next(ms = WAIT_MS) {
    if (this.queue.length === 0) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        this.waiter = () => { clearTimeout(timer); resolve(); };
      });
      this.waiter = null;
    }
    return this.queue.length ? this.queue.shift() : null;
  }

  /*
   * Receive until `want` entries on channel `until` have come; returns the
   * payloads of all entries, one per entry (payloadEntries), split by
   * channel.  Fails when one is missing for WAIT_MS.
   */
  async collect(until, want, what) {
    const byChannel = {};
    let got = 0;
    while (got < want) {
      const msg = await this.next();
      if (msg === null) fatal(`${what}: only ${got} of ${want} entries on ${until} within ${WAIT_MS} ms`);
      const entries = payloadEntries(msg.payload);
      (byChannel[msg.channel] = byChannel[msg.channel] || []).push(...entries);
      if (msg.channel === until) got += entries.length;
    }
    return byChannel;
  }

  async end() {
    await this.client.end();
  }
}

/*
 * Every feed entry after cursor `after`, read in pages of `max` until a
 * page comes back short.  Delivery is gap-free, so another session's open
 * transaction may hold entries back: until `want` entries have come (or
 * WAIT_MS passed) it polls again.  Returns the entries and the page sizes.
 */
async function readFeed(client, after, want, max = 1000) {
  const entries = [];
  const pages = [];
  const deadline = Date.now() + WAIT_MS;
  let cursor = after;
  for (;;) {
    const res = await client.query(
      'SELECT cursor, id, version, op, paths, origin FROM assoc.changes($1, $2, $3)', [NS, cursor, max]);
    for (const r of res.rows) {
      entries.push({ cursor: r.cursor, id: r.id, v: Number(r.version), op: r.op, paths: r.paths,
        origin: r.origin });
      cursor = r.cursor;
    }
    if (res.rows.length > 0) pages.push(res.rows.length);
    if (res.rows.length === max) continue;
    if (entries.length >= want || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { entries, pages };
}

/*
 * The entries of a notification's payload, each as the text of one JSON
 * object: the payload itself, or the elements of a JSON array of two or
 * more entries (a batch's entries for one channel), which stays under
 * PostgreSQL's 8000-byte limit.
 */
function payloadEntries(text) {
  const p = parseJson(text);
  if (!Array.isArray(p)) return [text];
  if (p.length < 2) fatal('an array payload holds ' + p.length + ' entries: ' + text);
  if (Buffer.byteLength(text) >= 8000) fatal('a payload of ' + Buffer.byteLength(text) + ' bytes');
  return p.map((e) => JSON.stringify(e));
}

/* A payload's JSON value; not JSON is fatal. */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    fatal('payload is not JSON: ' + text);
  }
}

/* Parse a payload, checking it is JSON with exactly the documented members. */
function parsePayload(text) {
  const p = parseJson(text);
  const keys = Object.keys(p).sort().join(',');
  if (keys !== 'cursor,id,ns,op,origin,paths,v') fatal('payload members are ' + keys + ': ' + text);
  if (typeof p.v !== 'number') fatal('payload "v" is not a JSON number: ' + text);
  return p;
}

/*
 * Compare received payloads with the feed entries they announce, field by
 * field; report the first difference.
 */
function checkPayloads(payloads, entries, what) {
  if (payloads.length !== entries.length) {
    return check(false, `${what}: ${payloads.length} entries notified for ${entries.length} feed entries`);
  }
  for (let i = 0; i < entries.length; i++) {
    const p = parsePayload(payloads[i]);
    const want = { ns: NS, id: entries[i].id, v: entries[i].v, op: entries[i].op, paths: entries[i].paths,
      cursor: entries[i].cursor, origin: entries[i].origin };
    if (!sameJson(p, want)) {
      return check(false, `${what}: entry ${i + 1} is ${payloads[i]}, expected ${JSON.stringify(want)}`);
    }
  }
  return check(true, `${what}: ${payloads.length} payloads exact, in feed order`);
}

/* Entries equal to the expected changes (id, v, op, paths), in order. */
function checkEntries(entries, expected, what) {
  const got = entries.map((e) => ({ id: e.id, v: e.v, op: e.op, paths: e.paths }));
  const i = got.findIndex((g, j) => !sameJson(g, expected[j]));
  if (got.length === expected.length && i < 0) return check(true, `${what}: ${got.length} entries as written`);
  const at = i < 0 ? Math.min(got.length, expected.length) : i;
  return check(false, `${what}: ${got.length} entries, ${expected.length} expected; at ${at}: got ` +
    `${JSON.stringify(got[at])}, expected ${JSON.stringify(expected[at])}`);
}

/* True when the versions vs are first, first + 1, ... without a gap. */
function consecutive(vs, first) {
  return vs.every((v, i) => v === first + i);
}

async function main() {
  const writer = new Client();
  writer.on('error', (err) => console.log('writer connection error: ' + err.message));
  await writer.connect();
  // Its writes carry an origin, which every payload and feed entry repeats.
  await writer.query("SET assoc.origin = 'js-writer'");
  let sub = null;
  let created = false;
  try {
    console.log('namespace ' + NS);
    await writer.query('SELECT assoc.create_namespace($1)', [NS]);
    created = true;

    // Channels.
    const ch = async (id) => (await writer.query('SELECT assoc.channel($1, $2) AS c', [NS, id])).rows[0].c;
    const nsChannel = await ch(null);
    const recChannel = await ch(REC);
    const otherChannel = await ch(OTHER);
    const form = /^assoc_[0-9a-f]{32}$/;
    check(form.test(nsChannel) && form.test(recChannel) && form.test(otherChannel),
      'channel names are assoc_ + 32 lower-case hex');
    check(new Set([nsChannel, recChannel, otherChannel]).size === 3,
      'namespace and record channels are distinct');
    check(recChannel === await ch(REC), 'a record channel is stable');
    const defaulted = (await writer.query('SELECT assoc.channel($1) AS c', [NS])).rows[0].c;
    check(defaulted === nsChannel, 'assoc.channel(ns) is the namespace channel');

    // Phase 1: live.
    sub = new Subscriber();
    await sub.start([recChannel, nsChannel]);
    const written = [];  // every effective change, in commit order
    for (let k = 1; k <= N; k++) {
      written.push(await writeChange(writer, k));
      if (k === 10) {
        await writer.query('BEGIN');
        await writer.query('SELECT assoc.set($1, $2, $3, $4::jsonb)', [NS, REC, 'count', '"rolled back"']);
        await writer.query('ROLLBACK');
      } else if (k === 20) {
        const v = Number((await writer.query('SELECT assoc.set($1, $2, $3, $4::jsonb) AS v',
          [NS, OTHER, 'x', '1'])).rows[0].v);
        check(v === 1, `write to ${OTHER} made version 1`);
        written.push({ id: OTHER, v: 1, op: 'set', paths: ['x'] });
      } else if (k === 30) {
        const gone = (await writer.query('SELECT assoc.remove($1, $2) AS r', [NS, OTHER])).rows[0].r;
        check(gone === true, `remove of ${OTHER} removed it`);
        written.push({ id: OTHER, v: 2, op: 'remove', paths: null });
      } else if (k === 40) {
        const p = planned(k);  // the same write again: a no-op
        const v = Number((await writer.query(p.sql, [NS, REC, ...p.args])).rows[0].v);
        check(v === k, `repeating change ${k} is a no-op (version stays ${k})`);
      }
    }
    await waitNotified(writer);
    console.log(`wrote ${N} changes of ${REC} (plus a rollback, a no-op, 2 changes of ${OTHER})`);

    const live = await sub.collect(recChannel, N, 'live phase');
    const feed1 = await readFeed(writer, null, written.length);
    checkEntries(feed1.entries, written, 'assoc.changes from the start');
    const recPayloads = live[recChannel] || [];
    const recVersions = recPayloads.map((t) => parsePayload(t).v);
    check(recVersions.length === N && consecutive(recVersions, 1),
      `record channel: versions 1..${N} consecutive, nothing else (got ${recVersions.length})`);
    checkPayloads(recPayloads, feed1.entries.filter((e) => e.id === REC), 'record channel');
    const nsPayloads = live[nsChannel] || [];
    const nsIds = new Set(nsPayloads.map((t) => parsePayload(t).id));
    check(nsIds.has(REC) && nsIds.has(OTHER), `namespace channel: changes of both ${REC} and ${OTHER}`);
    checkPayloads(nsPayloads, feed1.entries, 'namespace channel');
    const stray = Object.keys(live).filter((c) => c !== recChannel && c !== nsChannel);
    check(stray.length === 0, 'no notification on any other channel');

    // Phase 2: away, then catch up from the last cursor seen.
    const lastSeen = parsePayload(nsPayloads[nsPayloads.length - 1]).cursor;
    await sub.end();
    sub = null;
    const missed = [];
    for (let k = N + 1; k <= N + M; k++) missed.push(await writeChange(writer, k));
    await waitNotified(writer);
    console.log(`subscriber away: wrote ${M} changes of ${REC}`);

    sub = new Subscriber();
    await sub.start([recChannel, nsChannel]);  // LISTEN first, then read the feed: no window
    const caught = await readFeed(sub.client, lastSeen, M, PAGE);
    checkEntries(caught.entries, missed, `catch-up from the last cursor in pages of ${PAGE}`);
    check(consecutive(caught.entries.map((e) => e.v), N + 1), `catch-up versions ${N + 1}..${N + M} consecutive`);
    check(new Set(caught.entries.map((e) => e.cursor)).size === caught.entries.length, 'catch-up cursors distinct');
    check(caught.pages.length === Math.ceil(M / PAGE) && caught.pages.every((n) => n <= PAGE),
      `catch-up came in ${caught.pages.length} pages of at most ${PAGE}: ${caught.pages.join(', ')}`);
    const feed2 = await readFeed(writer, lastSeen, M);
    check(sameJson(caught.entries, feed2.entries), 'catch-up cursors equal those another session reads');

    // Phase 3: live again.
    const later = [];
    for (let k = N + M + 1; k < N + M + K; k++) later.push(await writeChange(writer, k));
    const removed = (await writer.query('SELECT assoc.remove($1, $2) AS r', [NS, REC])).rows[0].r;
    check(removed === true, `remove of ${REC} removed it`);
    later.push({ id: REC, v: N + M + K, op: 'remove', paths: null });
    await waitNotified(writer);
    const again = await sub.collect(recChannel, K, 'after reconnecting');
    const lastCaught = caught.entries[caught.entries.length - 1].cursor;
    const feed3 = await readFeed(writer, lastCaught, K);
    checkEntries(feed3.entries, later, 'assoc.changes after the catch-up');
    const againVersions = (again[recChannel] || []).map((t) => parsePayload(t).v);
    check(consecutive(againVersions, N + M + 1) && againVersions.length === K,
      `after reconnecting, record channel: versions ${N + M + 1}..${N + M + K} live, no stale one`);
    checkPayloads(again[recChannel] || [], feed3.entries, 'record channel after reconnecting');
    checkPayloads(again[nsChannel] || [], feed3.entries, 'namespace channel after reconnecting');
    const head = (await writer.query('SELECT assoc.head($1) AS h', [NS])).rows[0].h;
    const afterHead = await writer.query('SELECT count(*)::int AS n FROM assoc.changes($1, $2)', [NS, head]);
    check(afterHead.rows[0].n === 0, 'nothing after assoc.head');
    const extra = await sub.next(500);
    check(extra === null, 'no further notification' + (extra ? ': ' + extra.payload : ''));
    await sub.end();
    sub = null;

    // Phase 4: a cursor of a dropped and recreated namespace.
    const oldCursor = feed3.entries[feed3.entries.length - 1].cursor;
    await writer.query('SELECT assoc.drop_namespace($1)', [NS]);
    await writer.query('SELECT assoc.create_namespace($1)', [NS]);
    let state = null;
    try {
      await writer.query('SELECT * FROM assoc.changes($1, $2)', [NS, oldCursor]);
      state = 'no error';
    } catch (e) {
      state = e.code;
    }
    check(state === '55000', `old cursor after drop + create of the namespace: SQLSTATE ${state}, expected 55000`);
    const fresh = await writer.query('SELECT count(*)::int AS n FROM assoc.changes($1)', [NS]);
    check(fresh.rows[0].n === 0, 'the recreated namespace has an empty feed');
  } finally {
    if (sub) await sub.end().catch(() => {});
    if (created) {
      await writer.query('SELECT assoc.drop_namespace($1)', [NS])
        .catch((e) => console.log('drop_namespace at the end failed: ' + e.message));
    }
    await writer.end();
  }
}

// Whatever happens, never hang.
setTimeout(() => {
  console.log('NOT OK test did not finish within 120 s');
  process.exit(1);
}, 120000).unref();

main().then(() => {
  console.log(failures === 0 ? 'all checks passed' : `${failures} check(s) failed`);
  process.exit(failures === 0 ? 0 : 1);
}, (err) => {
  console.log('FAILED: ' + (err && err.stack ? err.stack : err));
  process.exit(1);
});
