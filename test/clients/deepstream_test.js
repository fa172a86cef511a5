#!/usr/bin/env node
'use strict';
/*
 * The deepstream storage connector and permission guard (clients/deepstream,
 * README "deepstream storage connector") in a real deepstream 7.0.2 server,
 * started in this process on 127.0.0.1, with two @deepstream/client 7.0.5
 * clients:
 *
 *   * set by path, setWithAck, erase and subscribe, and what lands in
 *     assoc.records and in the version entries (<ns>.dsv);
 *   * a burst of 50 sets ends consistent; concurrent sets of one record end
 *     with the last; a lower version is ignored, an equal one wins; data is
 *     taken when set is called;
 *   * an assoc.set_multi from SQL reaches a subscribed client through the
 *     follower with the next version, and deepstream's next write continues
 *     from it; the connector's own writes are not reloaded;
 *   * the follower catches up after its connection is killed, and after a
 *     restart from the cursor it kept;
 *   * the permission guard refuses __proto__/constructor/prototype in paths
 *     and data, and Object.prototype stays clean;
 *   * delete, deleteBulk, and record names with quotes, semicolons,
 *     slashes and unicode stored verbatim; names pg_assoc cannot store are
 *     errors; pg_assoc's refusals are errors to the callback.
 *
 *   PGHOST=/tmp PGPORT=5432 PGUSER=postgres PGDATABASE=postgres \
 *     NODE_PATH=test/clients/node_modules node test/clients/deepstream_test.js
 *
 * Needs CREATE EXTENSION pg_assoc in the database and NODE_PATH pointing at
 * this directory's node_modules (the connector lives outside it). Exit
 * status 0 when every check passes, 1 otherwise.
 */

const assert = require('node:assert/strict');
const crypto = require('crypto');
const net = require('net');
const path = require('path');
const { Client } = require('pg');
const { Deepstream } = require('@deepstream/server');
const { DeepstreamClient } = require('@deepstream/client');
const MessageDistributor = require('@deepstream/server/dist/src/utils/message-distributor').default;

const CONNECTOR = path.resolve(__dirname, '../../clients/deepstream');
const PgAssocStorage = require(CONNECTOR);
const NS = 'dsjs_' + crypto.randomBytes(5).toString('hex');
const ORIGIN = `deepstream/${NS}`;

let failures = 0;
let checks = 0;

/* Runs one named check; a failure is printed and counted, the run goes on. */
async function check(what, fn) {
  checks++;
  try {
    await fn();
    console.log('ok - ' + what);
  } catch (err) {
    failures++;
    console.log('not ok - ' + what);
    console.log('  ' + String(err && err.stack ? err.stack : err).split('\n').slice(0, 30).join('\n  '));
  }
}

/* Resolves once `cond()` is true, polling; fails with `what` after `ms`. */
async function until(what, cond, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/* A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/* deepstream's own rules behind the guard: records under readonly/ cannot be written. */
const RULES = {
  presence: { '*': { allow: true } },
  record: {
    '*': { create: true, write: true, read: true, delete: true, listen: true, notify: true },
    'readonly/*': { write: false },
  },
  event: { '*': { publish: true, subscribe: true, listen: true } },
  rpc: { '*': { provide: true, request: true } },
};

/* NOTIFY messages handed to deepstream's record handler, by correlation id. */
const notified = [];
const distribute = MessageDistributor.prototype.distribute;
MessageDistributor.prototype.distribute = function spy(socket, message) {
  if (message.topic === 5 && message.action === 2) notified.push({ id: message.correlationId, names: [...message.names] });
  return distribute.call(this, socket, message);
};
/* The record names the follower asked deepstream to reload. */
function followerReloads() {
  return notified.filter((n) => String(n.id).startsWith('pg_assoc-follower')).flatMap((n) => n.names);
}

/* Starts a deepstream server with the connector and the guard. */
async function startServer(port, extra = {}) {
  const server = new Deepstream({
    serverName: 'ds-test',
    showLogo: false,
    logLevel: 'ERROR',
    httpServer: { type: 'default', options: { port, host: '127.0.0.1' } },
    connectionEndpoints: [
      { type: 'ws-binary', options: { urlPath: '/deepstream' } },
      { type: 'http', options: { allowAuthData: true, postPath: '/api', getPath: '/api' } },
    ],
    telemetry: { type: 'deepstreamIO', options: { enabled: false } },
    storage: {
      path: CONNECTOR,
      options: { namespace: NS, pg: { max: 4, application_name: 'ds-storage' }, follow: true, followInterval: 60000, ...extra },
    },
    permission: { path: path.join(CONNECTOR, 'permission.js'), options: { next: { type: 'config', options: { permissions: RULES } } } },
  });
  await new Promise((resolve, reject) => {
    server.on('started', resolve);
    server.on('error', reject);
    server.start();
  });
  return server;
}

/* Stops a server and waits until it has. */
function stopServer(server) {
  return new Promise((resolve) => {
    server.on('stopped', resolve);
    server.stop();
  });
}

/* Posts messages to deepstream's HTTP API and returns the parsed answer. */
async function httpApi(port, body) {
  const res = await fetch(`http://127.0.0.1:${port}/api`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ body }),
  });
  return res.json();
}

/*
 * The control for the guard: a deepstream server without it, given the
 * HTTP API write the guard refuses; prints whether Object.prototype of this
 * (child) process was changed.
 */
async function unguardedProbe(port) {
  const server = new Deepstream({
    serverName: 'ds-unguarded',
    showLogo: false,
    logLevel: 'OFF',
    httpServer: { type: 'default', options: { port, host: '127.0.0.1' } },
    connectionEndpoints: [{ type: 'http', options: { allowAuthData: true, postPath: '/api', getPath: '/api' } }],
    telemetry: { type: 'deepstreamIO', options: { enabled: false } },
  });
  await new Promise((resolve) => {
    server.on('started', resolve);
    server.start();
  });
  await httpApi(port, [{ topic: 'record', action: 'write', recordName: 'x', path: '__proto__.polluted', data: 'yes' }]);
  console.log(`polluted: ${({}).polluted}`);
  await stopServer(server);
}

/* A logged-in client of the server on `port`. */
async function connect(port) {
  const c = new DeepstreamClient(`127.0.0.1:${port}/deepstream`, { offlineEnabled: false });
  c.on('error', () => {});
  await c.login();
  return c;
}

/* The stored data and pg_assoc version of a record, or null. */
async function row(db, id) {
  const { rows } = await db.query('SELECT data, version FROM assoc.records WHERE ns = $1 AND id = $2', [NS, id]);
  return rows.length ? { data: rows[0].data, version: Number(rows[0].version) } : null;
}

/* The version entry the connector keeps for a record, or null. */
async function versionEntry(db, id) {
  const { rows } = await db.query('SELECT data FROM assoc.records WHERE ns = $1 AND id = $2', [`${NS}.dsv`, id]);
  return rows.length ? rows[0].data : null;
}

/* Promise forms of the storage callbacks. */
function sget(storage, name) {
  return new Promise((resolve, reject) => storage.get(name, (err, version, data) => (err ? reject(new Error(err)) : resolve({ version, data }))));
}
function sset(storage, name, version, data) {
  return new Promise((resolve, reject) => storage.set(name, version, data, (err) => (err ? reject(new Error(err)) : resolve())));
}
function sdelete(storage, names) {
  return new Promise((resolve, reject) => storage.deleteBulk(names, (err) => (err ? reject(new Error(err)) : resolve())));
}

/* The next update a subscription of `record` receives, as [data, version]. */
function nextUpdate(record, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no update of ${what}`)), 10000);
    const cb = (data) => {
      clearTimeout(timer);
      record.unsubscribe(cb);
      resolve([data, record.version]);
    };
    record.subscribe(cb);
  });
}

async function main() {
  const db = new Client();
  await db.connect();
  const port = await freePort();
  let server = await startServer(port);
  const a = await connect(port);
  const b = await connect(port);
  const storage = new PgAssocStorage({ namespace: NS, pg: { max: 2 } }, null, null);
  await storage.whenReady();

  await check('the connector created its namespaces, owned by the connecting role', async () => {
    const { rows } = await db.query(
      "SELECT ns, owner = current_user::regrole AS mine FROM assoc.namespaces WHERE ns LIKE $1 || '%' ORDER BY ns", [NS]);
    assert.deepEqual(rows, [{ ns: NS, mine: true }, { ns: `${NS}.dsc`, mine: true }, { ns: `${NS}.dsv`, mine: true }]);
  });

  await check('setWithAck by path: data in assoc.records, deepstream version 1 kept beside it', async () => {
    const r = a.record.getRecord('user/1');
    await r.whenReady();
    await r.setWithAck('profile.name', 'Homer');
    assert.equal(r.version, 1);
    // deepstream stored the new record as {} at its version 0 first: two writes for pg_assoc.
    assert.deepEqual(await row(db, 'user/1'), { data: { profile: { name: 'Homer' } }, version: 2 });
    const entry = await versionEntry(db, 'user/1');
    assert.equal(entry.v, 1);
    assert.equal(entry.at, 2);
    assert.deepEqual(await sget(storage, 'user/1'), { version: 1, data: { profile: { name: 'Homer' } } });
  });

  await check('set by path reaches a subscribed client and lands in assoc.records', async () => {
    const rb = b.record.getRecord('user/1');
    await rb.whenReady();
    const update = nextUpdate(rb, 'user/1');
    a.record.getRecord('user/1').set('profile.age', 39);
    const [data, version] = await update;
    assert.deepEqual(data, { profile: { name: 'Homer', age: 39 } });
    assert.equal(version, 2);
    await until('the write in assoc.records', async () => (await row(db, 'user/1')).version === 3);
    assert.deepEqual((await row(db, 'user/1')).data, { profile: { name: 'Homer', age: 39 } });
    assert.equal((await versionEntry(db, 'user/1')).v, 2);
  });

  await check('erase with ack removes the path from the stored data', async () => {
    const r = a.record.getRecord('user/1');
    await r.eraseWithAck('profile.age');
    assert.deepEqual(await row(db, 'user/1'), { data: { profile: { name: 'Homer' } }, version: 4 });
    assert.equal((await versionEntry(db, 'user/1')).v, 3);
    assert.equal((await sget(storage, 'user/1')).version, 3);
  });

  await check('a burst of 50 sets ends consistent in deepstream and in pg_assoc', async () => {
    const r = a.record.getRecord('burst');
    await r.whenReady();
    for (let i = 1; i <= 50; i++) r.set(`n${i % 7}`, i);
    await r.setWithAck('done', true);
    const expected = { n1: 50, n2: 44, n3: 45, n4: 46, n5: 47, n6: 48, n0: 49, done: true };
    assert.deepEqual(r.get(), expected);
    assert.equal(r.version, 51);
    const stored = await row(db, 'burst');
    assert.deepEqual(stored.data, expected);
    assert.equal((await versionEntry(db, 'burst')).v, 51);
    assert.deepEqual(await sget(storage, 'burst'), { version: 51, data: expected });
  });

  await check('a write from SQL reaches a subscriber through the follower with the next version', async () => {
    const rb = b.record.getRecord('user/1');
    await rb.whenReady();
    const before = rb.version;
    const update = nextUpdate(rb, 'user/1');
    await db.query(`SELECT assoc.set_multi($1, 'user/1', '[{"path": "profile.name", "data": "Marge"},
                                                          {"path": "profile.kids", "data": 3}]')`, [NS]);
    const [data, version] = await update;
    assert.deepEqual(data, { profile: { name: 'Marge', kids: 3 } });
    assert.equal(version, before + 1);
    assert.ok(followerReloads().includes('user/1'));
    assert.deepEqual(await sget(storage, 'user/1'), { version: before + 1, data });
  });

  await check("deepstream's next write continues the version and keeps the SQL change", async () => {
    const r = a.record.getRecord('user/1');
    await until('the writer to see the SQL change', () => r.get('profile.kids') === 3);
    const before = r.version;
    await r.setWithAck('profile.city', 'Springfield');
    assert.equal(r.version, before + 1);
    const stored = await row(db, 'user/1');
    assert.deepEqual(stored.data, { profile: { name: 'Marge', kids: 3, city: 'Springfield' } });
    assert.equal((await sget(storage, 'user/1')).version, before + 1);
  });

  await check("the connector's own writes are not reloaded by the follower", async () => {
    const r = a.record.getRecord('own/1');
    await r.whenReady();
    await r.setWithAck('x', 1);
    await db.query('SELECT assoc.set($1, $2, $3, $4)', [NS, 'foreign/1', 'y', '2']);
    await until('the follower to reload foreign/1', () => followerReloads().includes('foreign/1'));
    assert.ok(!followerReloads().includes('own/1'));
    // Two entries: deepstream's creation of the record, then the write.
    const { rows } = await db.query("SELECT origin FROM assoc.changes($1) WHERE id = 'own/1'", [NS]);
    assert.deepEqual(rows, [{ origin: ORIGIN }, { origin: ORIGIN }]);
  });

  await check('a removal from SQL reaches a subscriber as a delete', async () => {
    const r = a.record.getRecord('sql/doomed');
    await r.whenReady();
    await r.setWithAck('x', 1);
    const rb = b.record.getRecord('sql/doomed');
    await rb.whenReady();
    const deleted = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no delete event')), 10000);
      rb.on('delete', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    await db.query("SELECT assoc.remove($1, 'sql/doomed')", [NS]);
    await deleted;
    assert.deepEqual(await sget(storage, 'sql/doomed'), { version: -1, data: null });
  });

  await check('a record written only by SQL is read with pg_assoc\'s version', async () => {
    await db.query('SELECT assoc.set($1, $2, NULL, $3)', [NS, 'sql/only', '{"a": 1}']);
    await db.query('SELECT assoc.set($1, $2, $3, $4)', [NS, 'sql/only', 'b', '2']);
    assert.deepEqual(await sget(storage, 'sql/only'), { version: 2, data: { a: 1, b: 2 } });
    assert.deepEqual(await sget(storage, 'no/such/record'), { version: -1, data: null });
  });

  await check('the permission guard refuses forbidden paths from a client; Object.prototype stays clean', async () => {
    const r = a.record.getRecord('guarded');
    await r.whenReady();
    await r.setWithAck('ok', 1);
    // The client itself drops __proto__ paths (it finds no change); constructor and
    // prototype paths it sends, and the guard refuses them.
    for (const p of [' constructor .prototype.polluted', 'a.prototype\u00a0.polluted', 'list[0].constructor']) {
      await assert.rejects(r.setWithAck(p, 'yes'), (e) => e === 'MESSAGE_PERMISSION_ERROR', p);
    }
    assert.equal(({}).polluted, undefined);
    assert.deepEqual((await row(db, 'guarded')).data, { ok: 1 });
  });

  await check('the permission guard refuses forbidden keys in data from a client', async () => {
    const r = a.record.getRecord('guarded');
    const refused = (e) => e === 'MESSAGE_PERMISSION_ERROR';
    await assert.rejects(r.setWithAck('x', JSON.parse('{"a": {"__proto__": {"polluted": 1}}}')), refused);
    await assert.rejects(r.setWithAck(JSON.parse('{"constructor": {"prototype": 1}}')), refused);
    await assert.rejects(r.setWithAck('list', [{ ' prototype\u3000': 1 }]), refused);
    assert.equal(({}).polluted, undefined);
    assert.deepEqual((await row(db, 'guarded')).data, { ok: 1 });
    const fresh = b.record.getRecord('guarded/2');
    await fresh.whenReady();
    await fresh.setWithAck('user_proto', { __PROTO__: 1, constructors: 2 });
    assert.deepEqual((await row(db, 'guarded/2')).data, { user_proto: { __PROTO__: 1, constructors: 2 } });
  });

  await check('the guard refuses data pg_assoc cannot store (NUL, lone surrogates)', async () => {
    const r = a.record.getRecord('guarded');
    const refused = (e) => e === 'MESSAGE_PERMISSION_ERROR';
    await assert.rejects(r.setWithAck('s', 'a\u0000b'), refused);
    await assert.rejects(r.setWithAck('s', { ['k\u0000']: 1 }), refused);
    await assert.rejects(r.setWithAck('s', ['\ud800']), refused);
    assert.deepEqual((await row(db, 'guarded')).data, { ok: 1 });
  });

  await check("deepstream's own rules apply behind the guard (next)", async () => {
    const r = a.record.getRecord('readonly/x');
    await r.whenReady();
    await assert.rejects(r.setWithAck('a', 1), (e) => e === 'MESSAGE_DENIED');
    assert.equal(await row(db, 'readonly/x'), null);
  });

  await check('data that is not JSON is refused, and the server goes on', async () => {
    // Without the guard's catch this message throws out of deepstream's
    // handler and ends this process. The write after it, on the same
    // connection, is handled after it.
    a.services.connection.sendMessage({ topic: 5, action: 16, name: 'badjson', version: -1, data: '{bad', correlationId: 'bad1', isWriteAck: true });
    const r = a.record.getRecord('after/bad');
    await r.whenReady();
    await r.setWithAck('alive', true);
    assert.deepEqual((await row(db, 'after/bad')).data, { alive: true });
    assert.equal(await row(db, 'badjson'), null);
  });

  await check('without the guard, an HTTP API write to __proto__.x pollutes the server (the hole it closes)', async () => {
    const { execFileSync } = require('child_process');
    const out = execFileSync(process.execPath, [__filename, '--unguarded-probe', String(await freePort())],
      { encoding: 'utf8', env: process.env, stdio: ['ignore', 'pipe', 'ignore'] });
    assert.match(out, /^polluted: yes$/m);
  });

  await check('the guard refuses the same HTTP API writes, in paths and data', async () => {
    const writes = [
      { path: '__proto__.polluted', data: 'yes' },
      { path: 'a.\u00a0__proto__.polluted', data: 'yes' },
      { path: 'x', data: JSON.parse('{"__proto__": {"polluted": "yes"}}') },
      { data: JSON.parse('{"prototype": 1}') },
    ];
    for (const w of writes) {
      const body = await httpApi(port, [{ topic: 'record', action: 'write', recordName: 'guarded', ...w }]);
      assert.equal(body.result, 'FAILURE', JSON.stringify(w));
      assert.equal(body.body[0].errorEvent, 114);
    }
    const ok = await httpApi(port, [{ topic: 'record', action: 'write', recordName: 'guarded', path: 'viaHttp', data: true }]);
    assert.equal(ok.result, 'SUCCESS');
    assert.equal(({}).polluted, undefined);
    await until('the HTTP write in assoc.records', async () => (await row(db, 'guarded')).data.viaHttp === true);
    assert.deepEqual((await row(db, 'guarded')).data, { ok: 1, viaHttp: true });
  });

  await check('the guard names what it refuses and passes everything else on', async () => {
    const Guard = require(path.join(CONNECTOR, 'permission.js'));
    assert.throws(() => new Guard({}, null, null), /option next is required/);
    const guard = new Guard({ next: { type: 'none' } }, null, null);
    const ask = (message) => new Promise((resolve) => guard.canPerformAction(
      { parseData: (m) => { m.parsedData = JSON.parse(m.data); return true; } }, message,
      (_s, _m, _p, error, allowed) => resolve([error, allowed]), null));
    assert.deepEqual(await ask({ topic: 5, action: 19, name: 'r', path: 'a. constructor[0]', data: '1' }),
      ['record "r": forbidden segment "constructor" in path "a. constructor[0]"', false]);
    assert.deepEqual(await ask({ topic: 5, action: 18, name: 'r', data: '{"a": [{"b": {"\u00a0__proto__": 1}}]}' }),
      ['record "r": forbidden key "__proto__" in data', false]);
    assert.deepEqual(await ask({ topic: 5, action: 20, name: 'r\nfake log line', path: 'prototype' }),
      ['record "r\\nfake log line": forbidden segment "prototype" in path "prototype"', false]);
    assert.deepEqual(await ask({ topic: 5, action: 16, name: 'r', data: '{"a": "\\u0000"}' }),
      ['record "r": data holds a NUL character, which pg_assoc cannot store', false]);
    assert.deepEqual(await ask({ topic: 5, action: 16, name: 'r', data: '{bad' }),
      ['record "r": data is not valid JSON', false]);
    assert.deepEqual(await ask({ topic: 5, action: 19, name: 'r', path: 'user_proto.__PROTO__', data: '{"constructors": 1}' }), [null, true]);
    assert.deepEqual(await ask({ topic: 5, action: 3, name: '__proto__' }), [null, true]);
    let deep = '1';
    for (let i = 0; i < 100000; i++) deep = `{"a": ${deep}}`;
    assert.deepEqual(await ask({ topic: 5, action: 18, name: 'r', data: deep }), [null, true]);
  });

  await check('record names with quotes, semicolons, slashes and unicode are stored verbatim', async () => {
    const names = [
      'it\'s "quoted"; DROP TABLE assoc.records; --',
      "x' OR '1'='1",
      '/leading/and/trailing/',
      'ünïcødé 🐘 名前',
      '  spaced  ',
    ];
    for (const name of names) {
      const r = a.record.getRecord(name);
      await r.whenReady();
      await r.setWithAck('name', name);
    }
    const { rows } = await db.query('SELECT id, data->>\'name\' AS name FROM assoc.records WHERE ns = $1 AND id = ANY($2) ORDER BY id', [NS, names]);
    assert.deepEqual(rows.map((x) => x.id).sort(), [...names].sort());
    for (const x of rows) assert.equal(x.name, x.id);
    const other = await sget(storage, "x' OR '1'='1");
    assert.deepEqual(other.data, { name: "x' OR '1'='1" });
  });

  await check('names pg_assoc cannot store are errors, never altered ids', async () => {
    const bad = ['a'.repeat(1025), 'é'.repeat(513), 'nul\0inside', 'lone \ud800 surrogate', ''];
    for (const name of bad) {
      await assert.rejects(sset(storage, name, 1, { a: 1 }), /pg_assoc storage: /);
      await assert.rejects(sget(storage, name), /pg_assoc storage: /);
    }
    await sset(storage, 'é'.repeat(512), 1, { a: 1 });
    assert.equal((await row(db, 'é'.repeat(512))).version, 1);
    const { rows } = await db.query("SELECT count(*)::int AS n FROM assoc.records WHERE ns = $1 AND (id LIKE 'nul%' OR id LIKE 'lone%' OR length(id) > 512)", [NS]);
    assert.equal(rows[0].n, 0);
  });

  await check("pg_assoc's refusals are errors to the callback, and change nothing", async () => {
    await assert.rejects(sset(storage, 'refused', 1, JSON.parse('{"__proto__": 1}')), /forbidden.*SQLSTATE 22023/);
    await assert.rejects(sset(storage, 'refused', 1, 42), /SQLSTATE 22023/);
    await assert.rejects(sset(storage, 'refused', 1.5, {}), /invalid version/);
    const circular = {};
    circular.self = circular;
    await assert.rejects(sset(storage, 'refused', 1, circular), /cannot be serialized/);
    assert.equal(await row(db, 'refused'), null);
    assert.equal(await versionEntry(db, 'refused'), null);
  });

  await check('concurrent sets of one record, without waiting, end with the last', async () => {
    const writes = [];
    for (let v = 1; v <= 30; v++) writes.push(sset(storage, 'race', v, { v }));
    await Promise.all(writes);
    assert.deepEqual(await sget(storage, 'race'), { version: 30, data: { v: 30 } });
    assert.equal((await row(db, 'race')).version, 30);
  });

  await check('an equal version is written (last wins), in call order; a lower one ignored', async () => {
    const writes = [];
    for (let n = 1; n <= 30; n++) writes.push(sset(storage, 'race', 31, { n }));
    writes.push(sset(storage, 'race', 12, { who: 'stale' }));
    await Promise.all(writes);
    assert.deepEqual(await sget(storage, 'race'), { version: 31, data: { n: 30 } });
  });

  await check('data is taken when set is called', async () => {
    const data = { who: 'at the call' };
    const write = sset(storage, 'race', 32, data);
    data.who = 'changed after the call';
    await write;
    assert.deepEqual((await row(db, 'race')).data, { who: 'at the call' });
  });

  await check('an unchanged write moves only deepstream\'s version', async () => {
    const before = await row(db, 'race');
    await sset(storage, 'race', 40, { who: 'at the call' });
    assert.deepEqual(await row(db, 'race'), before);
    assert.deepEqual(await sget(storage, 'race'), { version: 40, data: { who: 'at the call' } });
    await db.query("SELECT assoc.set($1, 'race', 'sql', '1')", [NS]);
    assert.equal((await sget(storage, 'race')).version, 41);
  });

  await check('version 0 (record creation, hot-path writes) is always written', async () => {
    await sset(storage, 'hot', 0, { n: 1 });
    await db.query("SELECT assoc.set($1, 'hot', 'sql', '1')", [NS]);
    assert.equal((await sget(storage, 'hot')).version, 1);
    await sset(storage, 'hot', 0, { n: 2 });
    assert.deepEqual(await sget(storage, 'hot'), { version: 0, data: { n: 2 } });
  });

  await check('two connectors writing one record concurrently both land, in order per connector', async () => {
    const other = new PgAssocStorage({ namespace: NS, pg: { max: 2 } }, null, null);
    await other.whenReady();
    const writes = [];
    for (let v = 1; v <= 20; v++) {
      writes.push(sset(storage, 'shared', 2 * v, { by: 'one', v: 2 * v }));
      writes.push(sset(other, 'shared', 2 * v + 1, { by: 'two', v: 2 * v + 1 }));
    }
    await Promise.all(writes);
    await other.close();
    assert.deepEqual(await sget(storage, 'shared'), { version: 41, data: { by: 'two', v: 41 } });
  });

  await check('delete through deepstream removes the record and its version entry', async () => {
    const r = a.record.getRecord('doomed');
    await r.whenReady();
    await r.setWithAck('x', 1);
    assert.ok(await row(db, 'doomed'));
    await r.delete();
    await until('the delete in assoc.records', async () => (await row(db, 'doomed')) === null);
    assert.equal(await versionEntry(db, 'doomed'), null);
    assert.deepEqual(await sget(storage, 'doomed'), { version: -1, data: null });
  });

  await check('deleteBulk removes every named record in one transaction', async () => {
    for (const n of ['bulk/1', 'bulk/2', 'bulk/3']) await sset(storage, n, 1, { n });
    await sdelete(storage, ['bulk/1', 'bulk/3', 'bulk/1', 'bulk/missing']);
    assert.equal(await row(db, 'bulk/1'), null);
    assert.equal(await row(db, 'bulk/3'), null);
    assert.ok(await row(db, 'bulk/2'));
    await assert.rejects(sdelete(storage, ['bulk/2', 'bad\0name']), /holds a NUL character/);
    assert.ok(await row(db, 'bulk/2'));
  });

  await check('the follower catches up after its connection is killed', async () => {
    const rb = b.record.getRecord('user/1');
    const before = rb.version;
    const { rows } = await db.query(
      "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND datname = current_database() AND application_name = 'ds-storage'");
    assert.deepEqual(rows, [{ killed: true }]);
    const update = nextUpdate(rb, 'user/1');
    await db.query('SELECT assoc.set($1, $2, $3, $4)', [NS, 'user/1', 'profile.kids', '4']);
    const [data, version] = await update;
    assert.equal(data.profile.kids, 4);
    assert.equal(version, before + 1);
  });

  await check('a cursor that cannot be continued: the follower resynchronises and listens on the new channel', async () => {
    const rb = b.record.getRecord('user/1');
    const before = rb.version;
    await db.query('SELECT assoc.drop_namespace($1)', [NS]);
    await db.query('SELECT assoc.create_namespace($1)', [NS]);
    await db.query('SELECT assoc.set($1, $2, NULL, $3)', [NS, 'user/1', '{"profile": {"name": "Maggie"}}']);
    // Only a reconnect or the periodic look finds the old channel silent.
    await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND application_name = 'ds-storage'");
    await until('the subscriber to get the record created again', () => rb.get('profile.name') === 'Maggie');
    assert.deepEqual(rb.get(), { profile: { name: 'Maggie' } });
    // Created again behind deepstream's back: its last version (5) plus pg_assoc's 1,
    // which a client at 6 takes by its merge strategy (remote wins by default).
    assert.equal(before, 6);
    assert.equal(rb.version, 6);
    assert.deepEqual(await sget(storage, 'user/1'), { version: 6, data: { profile: { name: 'Maggie' } } });
    await until('the follower to listen on the new channel', async () => (await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE query = 'LISTEN "' || assoc.channel($1) || '"' AND application_name = 'ds-storage'`, [NS])).rows[0].n === 1);
    const next = nextUpdate(rb, 'user/1');
    await db.query('SELECT assoc.set($1, $2, $3, $4)', [NS, 'user/1', 'profile.age', '1']);
    const [data2, version2] = await next;
    assert.deepEqual(data2, { profile: { name: 'Maggie', age: 1 } });
    assert.equal(version2, 7);
  });

  await check('after a restart the follower continues from the cursor it kept', async () => {
    const kept = async () => (await db.query(
      "SELECT data->>'cursor' AS c FROM assoc.records WHERE ns = $1 AND id = $2", [`${NS}.dsc`, `${ORIGIN}/ds-test`])).rows[0].c;
    const caughtUp = async () => (await db.query('SELECT count(*)::int AS n FROM assoc.changes($1, $2)', [NS, await kept()])
      .catch((err) => ({ rows: [{ n: err.code }] }))).rows[0].n === 0;
    await until('the follower to reach the end of the feed', caughtUp);
    a.close();
    b.close();
    await stopServer(server);
    await db.query('SELECT assoc.set($1, $2, NULL, $3)', [NS, 'while/down', '{"missed": true}']);
    notified.length = 0;
    server = await startServer(port, { followInterval: 300 });
    await until('the follower to reload while/down', () => followerReloads().includes('while/down'));
    await until('the follower to reach the end of the feed again', caughtUp);
    assert.deepEqual(followerReloads(), ['while/down']);
  });

  await check('after assoc.rotate_channels the follower listens on the new channel', async () => {
    const listening = async () => (await db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE query = 'LISTEN "' || assoc.channel($1) || '"' AND application_name = 'ds-storage'`, [NS])).rows[0].n === 1;
    await until('the follower to listen', listening);
    await db.query('SELECT assoc.rotate_channels($1)', [NS]);
    assert.equal(await listening(), false);
    await until('the follower to listen on the rotated channel', listening);
    await db.query('SELECT assoc.set($1, $2, NULL, $3)', [NS, 'after/rotate', '{"r": 1}']);
    await until('the follower to reload after/rotate', () => followerReloads().includes('after/rotate'));
  });

  await check('a reload deepstream fails is tried again, not skipped', async () => {
    await sset(storage, 'flaky', 1, { n: 1 });
    const c = await connect(port);
    const r = c.record.getRecord('flaky');
    await r.whenReady();
    const live = server.services.storage;
    const get = live.get;
    let failures = 0;
    live.get = function failOnce(name, callback, ...rest) {
      if (name === 'flaky' && failures === 0) {
        failures++;
        return process.nextTick(callback, 'injected failure');
      }
      return get.call(this, name, callback, ...rest);
    };
    try {
      const update = nextUpdate(r, 'flaky');
      await db.query("SELECT assoc.set($1, 'flaky', 'n', '2')", [NS]);
      const [data, version] = await update;
      assert.deepEqual(data, { n: 2 });
      assert.equal(version, 2);
      assert.equal(failures, 1);
    } finally {
      live.get = get;
      c.close();
    }
  });

  await stopServer(server);
  await storage.close();
  for (const ns of [NS, `${NS}.dsv`, `${NS}.dsc`]) await db.query('SELECT assoc.drop_namespace($1)', [ns]);
  await db.end();
  console.log(`${checks - failures} of ${checks} checks passed`);
  process.exit(failures === 0 ? 0 : 1);
}

if (process.argv[2] === '--unguarded-probe') {
  unguardedProbe(Number(process.argv[3])).then(() => process.exit(0), (err) => {
    console.error(err);
    process.exit(1);
  });
} else {
  main().catch((err) => {
    console.log('not ok - ' + (err && err.stack ? err.stack : err));
    process.exit(1);
  });
}
