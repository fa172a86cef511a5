#!/usr/bin/env node
'use strict';
// Apps-Engine's permission manager grants every permission only when
// NODE_ENV is 'test' at the time of the call (checked below).
process.env.NODE_ENV = 'test';
/*
 * The Rocket.Chat Apps-Engine persistence bridge of clients/rocketchat,
 * driven through Apps-Engine's own accessors (Persistence, PersistenceRead)
 * against pg_assoc:
 *
 *   * the namespace naming rule (verbatim "rc." + app id, or "rc.h." + hash);
 *   * every accessor method: create, createWithAssociation(s), read,
 *     readByAssociation(s), update and updateByAssociation(s) with and without
 *     upsert, remove, removeByAssociation(s), and purge through the bridge;
 *   * associations as sets (order-insensitive reads, exact-set updates), as
 *     RocketChatAssociationRecord objects and as plain {model, id} objects;
 *   * odd record and association ids (, : { } quotes backslash), hyphenated
 *     models, two apps that cannot see or change each other's records;
 *   * forbidden keys refused with 22023 and nothing stored, dates stored as
 *     ISO strings, clear errors for bad input.
 *
 *   NODE_PATH=test/clients/node_modules PGHOST=/tmp PGPORT=5432 PGUSER=postgres \
 *     PGDATABASE=postgres node test/clients/rocketchat_test.js
 *
 * NODE_PATH must name this directory's node_modules, where
 * @rocket.chat/apps-engine is installed (clients/rocketchat has none, as
 * test/run.sh arranges).  Needs CREATE EXTENSION pg_assoc in
 * the database.  Prints one line per check; exit status 1 at the first
 * failure, 0 when every check passes.
 */

const path = require('path');
const crypto = require('crypto');
const assert = require('node:assert');

const BRIDGE_DIR = path.join(__dirname, '..', '..', 'clients', 'rocketchat');
const MODULES = path.join(__dirname, 'node_modules');

/* The bridge lives outside this directory: it finds Apps-Engine through NODE_PATH. */
try {
  require.resolve('@rocket.chat/apps-engine/server/bridges/PersistenceBridge', { paths: [BRIDGE_DIR] });
} catch (err) {
  console.log('not ok - @rocket.chat/apps-engine is not found from clients/rocketchat: set NODE_PATH=' + MODULES);
  process.exit(1);
}

const { Pool } = require('pg');
const { PgAssocPersistenceBridge, namespaceFor } = require('../../clients/rocketchat');
const { PersistenceBridge } = require('@rocket.chat/apps-engine/server/bridges/PersistenceBridge');
const { Persistence, PersistenceRead } = require('@rocket.chat/apps-engine/server/accessors');
const { RocketChatAssociationRecord, RocketChatAssociationModel } =
  require('@rocket.chat/apps-engine/definition/metadata');

// Fixed app ids, so that a later run can purge what an interrupted one left.
const APP_A = '5e0b1c2d-aaaa-4d6e-9f00-70636c69656e';
const APP_B = '5e0b1c2d-bbbb-4d6e-9f00-70636c69656e';
const APP_ODD = 'com.example.pg_assoc test/app';   // not verbatim: hashed
const APP_RACE = '5e0b1c2d-cccc-4d6e-9f00-70636c69656e';
const APPS = [APP_A, APP_B, APP_ODD, APP_RACE];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ODD_ID = 'x,y:{z}"q\'\\ ü';

let count = 0;

/* Run one check; print it; a failure prints why and stops the test. */
async function check(what, fn) {
  count++;
  try {
    await fn();
  } catch (err) {
    console.log('not ok ' + count + ' - ' + what);
    const e = new Error('check ' + count + ' failed: ' + what);
    e.cause = err;
    throw e;
  }
  console.log('ok ' + count + ' - ' + what);
}

/* An association record as an app builds it. */
function rec(model, id) {
  return new RocketChatAssociationRecord(model, id);
}

/* Assert that a promise rejects and return its error. */
async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new assert.AssertionError({ message: 'expected a rejection, got a result' });
}

/* Data records sorted by the order of their ids (read_by's order). */
function byId(pairs) {
  return pairs.slice().sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]))).map((p) => p[1]);
}

async function main() {
  const pool = new Pool({ max: 4 });
  const bridge = new PgAssocPersistenceBridge(pool);
  const writeA = new Persistence(bridge, APP_A);
  const readA = new PersistenceRead(bridge, APP_A);
  const writeB = new Persistence(bridge, APP_B);
  const readB = new PersistenceRead(bridge, APP_B);
  const nsA = namespaceFor(APP_A);

  /* The records stored in an app's namespace: id, keys as json, data. */
  async function stored(appId) {
    const r = await pool.query('SELECT id, keys::json AS keys, data FROM assoc.records WHERE ns = $1 ORDER BY id',
      [namespaceFor(appId)]);
    return r.rows;
  }

  /* Whether an app's namespace exists. */
  async function nsExists(appId) {
    const r = await pool.query('SELECT count(*)::int AS n FROM assoc.namespaces WHERE ns = $1', [namespaceFor(appId)]);
    return r.rows[0].n === 1;
  }

  try {
    await check('purge drops what an earlier run left; no namespace of the test apps remains', async () => {
      for (const app of APPS) await bridge.doPurge(app);
      for (const app of APPS) assert.strictEqual(await nsExists(app), false, app);
    });

    await check('the bridge is a PersistenceBridge', () => {
      assert.ok(bridge instanceof PersistenceBridge);
      assert.throws(() => new PgAssocPersistenceBridge(), /^Error: rocketchat bridge: a pg.Pool/);
    });

    await check('namespace names: "rc." + a UUID app id, "rc.h." + 40 hex digits of SHA-256 otherwise', () => {
      const hash = (s) => crypto.createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 40);
      assert.strictEqual(namespaceFor(APP_A), 'rc.' + APP_A);
      assert.strictEqual(PgAssocPersistenceBridge.namespaceFor(APP_A), 'rc.' + APP_A);
      assert.strictEqual(namespaceFor('a_B-9'), 'rc.a_B-9');
      assert.strictEqual(namespaceFor('x'.repeat(60)), 'rc.' + 'x'.repeat(60));
      assert.strictEqual(namespaceFor('x'.repeat(61)), 'rc.h.' + hash('x'.repeat(61)));
      assert.strictEqual(namespaceFor(APP_ODD), 'rc.h.' + hash(APP_ODD));
      assert.strictEqual(namespaceFor('h.abc'), 'rc.h.' + hash('h.abc'));
      assert.strictEqual(namespaceFor('ü'), 'rc.h.' + hash('ü'));
      assert.throws(() => namespaceFor(''), /appId must be a non-empty string/);
      assert.throws(() => namespaceFor(42), /appId must be a non-empty string, got number/);
    });

    await check('without NODE_ENV=test the permission manager refuses and the bridge is not called', async () => {
      const saved = console.error;
      const logged = [];
      let called = false;
      const spy = new (class extends PgAssocPersistenceBridge {
        async readById() { called = true; return { x: 1 }; }
      })(pool);
      console.error = (...args) => logged.push(args.join(' '));
      process.env.NODE_ENV = 'production';
      let result;
      try {
        result = await new PersistenceRead(spy, APP_A).read('anything');
      } finally {
        process.env.NODE_ENV = 'test';
        console.error = saved;
      }
      assert.strictEqual(result, undefined);
      assert.strictEqual(called, false);
      assert.ok(logged.some((l) => /lacks the following permissions/.test(l)), logged.join('\n'));
      assert.deepStrictEqual(await new PersistenceRead(spy, APP_A).read('anything'), { x: 1 });
      assert.strictEqual(called, true);
    });

    await check('an app that never wrote: reads find nothing, purge is fine, no namespace is created', async () => {
      assert.strictEqual(await readA.read('nothing'), undefined);
      assert.deepStrictEqual(await readA.readByAssociation(rec('room', 'GENERAL')), []);
      assert.strictEqual(await writeA.remove('nothing'), undefined);
      assert.strictEqual(await writeA.removeByAssociation(rec('room', 'GENERAL')), undefined);
      const err = await rejection(writeA.update('nothing', { a: 1 }));
      assert.match(err.message, /^rocketchat bridge: no record "nothing" to update/);
      const err2 = await rejection(writeA.updateByAssociation(rec('room', 'GENERAL'), { a: 1 }));
      assert.match(err2.message, /^rocketchat bridge: no record of app .* has exactly the associations/);
      await bridge.doPurge(APP_A);
      assert.strictEqual(await nsExists(APP_A), false);
    });

    let plainId;
    await check('create returns a UUID, makes the namespace, and read gives the data back', async () => {
      plainId = await writeA.create({ n: 1, s: 'text', nested: { list: [1, 'two', null, true] } });
      assert.match(plainId, UUID);
      assert.strictEqual(await nsExists(APP_A), true);
      assert.deepStrictEqual(await readA.read(plainId), { n: 1, s: 'text', nested: { list: [1, 'two', null, true] } });
      assert.deepStrictEqual(await stored(APP_A), [{ id: plainId, keys: [],
        data: { n: 1, s: 'text', nested: { list: [1, 'two', null, true] } } }]);
    });

    await check('read of a missing id is undefined', async () => {
      assert.strictEqual(await readA.read('no-such-record'), undefined);
      assert.strictEqual(await readA.read(ODD_ID), undefined);
    });

    let generalId;
    await check('createWithAssociation and readByAssociation', async () => {
      generalId = await writeA.createWithAssociation({ kind: 'general' }, rec(RocketChatAssociationModel.ROOM, 'GENERAL'));
      assert.match(generalId, UUID);
      assert.deepStrictEqual(await readA.readByAssociation(rec('room', 'GENERAL')), [{ kind: 'general' }]);
      assert.deepStrictEqual(await readA.readByAssociation({ model: 'room', id: 'GENERAL' }), [{ kind: 'general' }]);
      assert.deepStrictEqual(await readA.readByAssociation(rec('room', 'general')), []);
    });

    // r1: {room:R, user:U}; r2: {room:R}; r3: {room:R, user:V, misc:M}
    const ids = {};
    await check('createWithAssociations with records and with plain objects', async () => {
      ids.r1 = await writeA.createWithAssociations({ r: 1 }, [rec('room', 'R'), rec('user', 'U')]);
      ids.r2 = await writeA.createWithAssociations({ r: 2 }, [{ model: 'room', id: 'R' }]);
      ids.r3 = await writeA.createWithAssociations({ r: 3 },
        [{ model: 'misc', id: 'M' }, rec('user', 'V'), { model: 'room', id: 'R' }]);
      for (const k of ['r1', 'r2', 'r3']) assert.match(ids[k], UUID);
      const rows = (await stored(APP_A)).filter((r) => [ids.r1, ids.r2, ids.r3].includes(r.id));
      assert.deepStrictEqual(rows.map((r) => [r.id, r.keys]), byId([
        [ids.r1, [ids.r1, [{ model: 'room', id: 'R' }, { model: 'user', id: 'U' }]]],
        [ids.r2, [ids.r2, [{ model: 'room', id: 'R' }]]],
        [ids.r3, [ids.r3, [{ model: 'misc', id: 'M' }, { model: 'room', id: 'R' }, { model: 'user', id: 'V' }]]],
      ]));
    });

    await check('readByAssociations is all-of, ordered by record id', async () => {
      assert.deepStrictEqual(await readA.readByAssociation(rec('room', 'R')),
        byId([[ids.r1, { r: 1 }], [ids.r2, { r: 2 }], [ids.r3, { r: 3 }]]));
      assert.deepStrictEqual(await readA.readByAssociations([rec('room', 'R'), rec('user', 'U')]), [{ r: 1 }]);
      assert.deepStrictEqual(await readA.readByAssociations([rec('room', 'R'), rec('user', 'V'), rec('misc', 'M')]),
        [{ r: 3 }]);
      assert.deepStrictEqual(await readA.readByAssociations([rec('user', 'U'), rec('user', 'V')]), []);
      assert.deepStrictEqual(await readA.readByAssociations([]), []);
    });

    await check('readByAssociations is order-insensitive, and records and plain objects agree', async () => {
      const want = [{ r: 3 }];
      const forms = [
        [rec('room', 'R'), rec('user', 'V')],
        [rec('user', 'V'), rec('room', 'R')],
        [{ model: 'user', id: 'V' }, { model: 'room', id: 'R' }],
        [{ id: 'R', model: 'room' }, rec('user', 'V')],
        [rec('user', 'V'), rec('room', 'R'), rec('user', 'V')],
      ];
      for (const f of forms) assert.deepStrictEqual(await readA.readByAssociations(f), want);
    });

    await check('odd association ids and hyphenated models', async () => {
      const odd = [
        rec('livechat-visitor', 'a,b:{c}"q\'\\'),
        rec(RocketChatAssociationModel.VIDEO_CONFERENCE, ' spaced id '),
        { model: 'room.v2_x', id: '{}' },
      ];
      const id = await writeA.createWithAssociations({ odd: true }, odd);
      const row = (await stored(APP_A)).find((r) => r.id === id);
      assert.deepStrictEqual(row.keys, [
        { model: 'livechat-visitor', id: 'a,b:{c}"q\'\\' },
        { model: 'room.v2_x', id: '{}' },
        { model: 'video-conference', id: ' spaced id ' },
      ]);
      assert.deepStrictEqual(await readA.readByAssociation({ model: 'livechat-visitor', id: 'a,b:{c}"q\'\\' }),
        [{ odd: true }]);
      assert.deepStrictEqual(await readA.readByAssociations(odd.slice().reverse()), [{ odd: true }]);
      assert.deepStrictEqual(await readA.readByAssociation(rec('video-conference', 'spaced id')), []);
      assert.deepStrictEqual(await writeA.removeByAssociation(rec('room.v2_x', '{}')), [{ odd: true }]);
    });

    await check('update replaces the data, keeps the associations, returns the id', async () => {
      assert.strictEqual(await writeA.update(ids.r1, { r: 1, updated: true }), ids.r1);
      assert.deepStrictEqual(await readA.read(ids.r1), { r: 1, updated: true });
      assert.deepStrictEqual(await readA.readByAssociations([rec('user', 'U'), rec('room', 'R')]),
        [{ r: 1, updated: true }]);
      const row = (await stored(APP_A)).find((r) => r.id === ids.r1);
      assert.deepStrictEqual(row.keys, [{ model: 'room', id: 'R' }, { model: 'user', id: 'U' }]);
    });

    await check('update without upsert of a missing id is refused and creates nothing', async () => {
      const before = await stored(APP_A);
      const err = await rejection(writeA.update(ODD_ID, { a: 1 }, false));
      assert.strictEqual(err.message,
        'rocketchat bridge: no record "' + ODD_ID + '" to update for app ' + APP_A + ' (pass upsert to create it)');
      assert.deepStrictEqual(await stored(APP_A), before);
    });

    await check('update with upsert creates a record with that (odd) id and no associations', async () => {
      assert.strictEqual(await writeA.update(ODD_ID, { odd: 'id' }, true), ODD_ID);
      assert.deepStrictEqual(await readA.read(ODD_ID), { odd: 'id' });
      assert.deepStrictEqual((await stored(APP_A)).find((r) => r.id === ODD_ID).keys, []);
      assert.strictEqual(await writeA.update(ODD_ID, { odd: 'again' }, true), ODD_ID);
      assert.deepStrictEqual(await readA.read(ODD_ID), { odd: 'again' });
    });

    await check('updateByAssociation matches the exact set only', async () => {
      assert.strictEqual(await writeA.updateByAssociation(rec('room', 'R'), { r: 2, v: 2 }), ids.r2);
      assert.deepStrictEqual(await readA.read(ids.r2), { r: 2, v: 2 });
      assert.deepStrictEqual(await readA.read(ids.r1), { r: 1, updated: true });
      assert.deepStrictEqual(await readA.read(ids.r3), { r: 3 });
    });

    await check('updateByAssociations is order-insensitive, records and plain objects alike', async () => {
      assert.strictEqual(await writeA.updateByAssociations(
        [{ model: 'user', id: 'U' }, { model: 'room', id: 'R' }], { r: 1, v: 2 }), ids.r1);
      assert.deepStrictEqual(await readA.read(ids.r1), { r: 1, v: 2 });
      assert.strictEqual(await writeA.updateByAssociations(
        [rec('room', 'R'), rec('misc', 'M'), rec('user', 'V')], { r: 3, v: 2 }, false), ids.r3);
      assert.deepStrictEqual(await readA.read(ids.r3), { r: 3, v: 2 });
      assert.deepStrictEqual(await readA.read(ids.r2), { r: 2, v: 2 });
    });

    await check('updateByAssociations without upsert and no exact match is refused, nothing stored', async () => {
      const before = await stored(APP_A);
      const err = await rejection(writeA.updateByAssociations([rec('room', 'R'), rec('misc', 'M')], { no: 1 }));
      assert.strictEqual(err.message, 'rocketchat bridge: no record of app ' + APP_A +
        ' has exactly the associations [{"model":"room","id":"R"},{"model":"misc","id":"M"}] (pass upsert to create one)');
      assert.deepStrictEqual(await stored(APP_A), before);
    });

    let upserted;
    await check('updateByAssociations with upsert and no match creates one with those associations', async () => {
      upserted = await writeA.updateByAssociations([rec('misc', 'M'), rec('room', 'R')], { up: 1 }, true);
      assert.match(upserted, UUID);
      assert.deepStrictEqual(await readA.read(upserted), { up: 1 });
      assert.deepStrictEqual((await stored(APP_A)).find((r) => r.id === upserted).keys,
        [{ model: 'misc', id: 'M' }, { model: 'room', id: 'R' }]);
      assert.strictEqual(await writeA.updateByAssociations([{ model: 'room', id: 'R' }, { model: 'misc', id: 'M' }],
        { up: 2 }, true), upserted);
      assert.deepStrictEqual(await readA.readByAssociations([rec('misc', 'M'), rec('room', 'R')]),
        byId([[ids.r3, { r: 3, v: 2 }], [upserted, { up: 2 }]]));
    });

    await check('updateByAssociations with two records of the same set updates both, returns the first id', async () => {
      const twin = await writeA.createWithAssociations({ twin: 0 }, [rec('room', 'R'), rec('user', 'U')]);
      const first = [ids.r1, twin].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))[0];
      assert.strictEqual(await writeA.updateByAssociations([rec('user', 'U'), rec('room', 'R')], { both: 1 }), first);
      assert.deepStrictEqual(await readA.read(ids.r1), { both: 1 });
      assert.deepStrictEqual(await readA.read(twin), { both: 1 });
      assert.deepStrictEqual(await writeA.remove(twin), { both: 1 });
    });

    await check('remove returns the removed data, then undefined', async () => {
      assert.deepStrictEqual(await writeA.remove(ODD_ID), { odd: 'again' });
      assert.strictEqual(await readA.read(ODD_ID), undefined);
      assert.strictEqual(await writeA.remove(ODD_ID), undefined);
    });

    await check('removeByAssociation removes every match and returns their data', async () => {
      const before = (await stored(APP_A)).map((r) => r.id);
      const removed = await writeA.removeByAssociation(rec('room', 'R'));
      assert.deepStrictEqual(removed, byId([[ids.r1, { both: 1 }], [ids.r2, { r: 2, v: 2 }],
        [ids.r3, { r: 3, v: 2 }], [upserted, { up: 2 }]]));
      assert.deepStrictEqual(await readA.readByAssociation(rec('room', 'R')), []);
      const after = (await stored(APP_A)).map((r) => r.id);
      assert.deepStrictEqual(after, before.filter((id) => ![ids.r1, ids.r2, ids.r3, upserted].includes(id)));
      assert.ok(after.includes(plainId) && after.includes(generalId));
      assert.strictEqual(await writeA.removeByAssociation(rec('room', 'R')), undefined);
    });

    await check('removeByAssociations is all-of and order-insensitive', async () => {
      const x = await writeA.createWithAssociations({ x: 1 }, [rec('user', 'u1'), rec('room', 'rr')]);
      const y = await writeA.createWithAssociations({ y: 1 }, [rec('user', 'u2'), rec('room', 'rr')]);
      assert.deepStrictEqual(await writeA.removeByAssociations([{ model: 'room', id: 'rr' }, rec('user', 'u2')]),
        [{ y: 1 }]);
      assert.deepStrictEqual(await readA.read(x), { x: 1 });
      assert.strictEqual(await readA.read(y), undefined);
      assert.deepStrictEqual(await writeA.removeByAssociations([rec('room', 'rr'), rec('user', 'u1')]), [{ x: 1 }]);
    });

    await check('dates are stored as ISO strings', async () => {
      const at = new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789));
      const id = await writeA.create({ at, list: [at] });
      assert.deepStrictEqual(await readA.read(id), { at: '2024-02-29T12:34:56.789Z', list: ['2024-02-29T12:34:56.789Z'] });
      assert.deepStrictEqual(await writeA.remove(id), { at: '2024-02-29T12:34:56.789Z', list: ['2024-02-29T12:34:56.789Z'] });
    });

    await check('undefined members are dropped, arrays are stored', async () => {
      const id = await writeA.create({ kept: 1, dropped: undefined });
      assert.deepStrictEqual(await writeA.remove(id), { kept: 1 });
      const arr = await writeA.create(['a', { b: 1 }]);
      assert.deepStrictEqual(await writeA.remove(arr), ['a', { b: 1 }]);
    });

    await check('forbidden keys are refused with 22023 naming the key, and nothing is stored', async () => {
      const before = await stored(APP_A);
      const cases = [
        [() => writeA.create(JSON.parse('{"__proto__": 1}')), '__proto__'],
        [() => writeA.createWithAssociation({ constructor: 1 }, rec('room', 'F')), 'constructor'],
        [() => writeA.create({ a: { b: [1, { prototype: 2 }] } }), 'prototype'],
        [() => writeA.update(plainId, JSON.parse('{"ok": {"__proto__": {"x": 1}}}')), '__proto__'],
        [() => writeA.update('forbidden-new', { constructor: 1 }, true), 'constructor'],
        [() => writeA.updateByAssociation(rec('room', 'GENERAL'), { deep: { prototype: 1 } }), 'prototype'],
        [() => writeA.updateByAssociation(rec('room', 'F'), { constructor: 1 }, true), 'constructor'],
      ];
      for (const [fn, key] of cases) {
        const err = await rejection(fn());
        assert.ok(err instanceof Error);
        assert.strictEqual(err.code, '22023', err.message);
        assert.strictEqual(err.message, 'value contains forbidden key "' + key + '"');
      }
      assert.deepStrictEqual(await stored(APP_A), before);
      assert.deepStrictEqual(await readA.read(plainId), { n: 1, s: 'text', nested: { list: [1, 'two', null, true] } });
    });

    await check('bad input is refused with a clear error before reaching the server', async () => {
      const cases = [
        [() => writeA.createWithAssociations({}, [rec('room', 'a'), { id: 'x' }]), 'association 2 has no model'],
        [() => writeA.createWithAssociations({}, [{ model: 'room' }]), 'association 1 has no id'],
        [() => readA.readByAssociation(rec('room', 42)),
          'association 1 (room) has an invalid id number (a string of 1-1024 bytes without NUL)'],
        [() => readA.readByAssociation(rec('room', '')),
          'association 1 (room) has an invalid id "" (a string of 1-1024 bytes without NUL)'],
        [() => readA.readByAssociation(rec('room', 'x'.repeat(1025))),
          'association 1 (room) has an invalid id "' + 'x'.repeat(1025) + '" (a string of 1-1024 bytes without NUL)'],
        [() => readA.readByAssociation(rec('room', 'a\u0000b')),
          'association 1 (room) has an invalid id "a\\u0000b" (a string of 1-1024 bytes without NUL)'],
        [() => readA.readByAssociation(rec('r m', 'x')),
          'association 1 has an invalid model "r m" (1-63 characters of [A-Za-z0-9_.-])'],
        [() => readA.readByAssociation(null), 'association 1 is not an object, got null'],
        [() => readA.readByAssociations('room:x'), 'associations must be an array, got "room:x"'],
        [() => writeA.create('text'), 'data must be an object, got "text"'],
        [() => writeA.create(null), 'data must be an object, got null'],
        [() => writeA.create(new Date(0)), 'data must serialize to a JSON object or array, got "1970-01-01T00:00:00.000Z"'],
        [() => readA.read(''), 'record id must be a string of 1-1024 bytes without NUL, got ""'],
        [() => writeA.remove(7), 'record id must be a string of 1-1024 bytes without NUL, got number'],
        [() => writeA.updateByAssociations([], { a: 1 }, true), 'updateByAssociations needs at least one association'],
      ];
      for (const [fn, message] of cases) {
        const err = await rejection(fn());
        assert.strictEqual(err.message, 'rocketchat bridge: ' + message);
      }
      // Multi-byte ids count in bytes: 342 three-byte characters are 1026 bytes.
      assert.strictEqual(await readA.read('\u20ac'.repeat(341)), undefined);
      const long = await rejection(readA.read('\u20ac'.repeat(342)));
      assert.match(long.message, /^rocketchat bridge: record id must be a string of 1-1024 bytes without NUL, got "/);
    });

    // App B against app A's records.
    await check('app B cannot read app A\'s records by id or associations', async () => {
      assert.strictEqual(await readB.read(plainId), undefined);
      assert.strictEqual(await readB.read(generalId), undefined);
      assert.deepStrictEqual(await readB.readByAssociation(rec('room', 'GENERAL')), []);
    });

    await check('app B cannot update or remove app A\'s records', async () => {
      const before = await stored(APP_A);
      const e1 = await rejection(writeB.update(generalId, { stolen: 1 }));
      assert.match(e1.message, /^rocketchat bridge: no record ".*" to update for app 5e0b1c2d-bbbb-/);
      const e2 = await rejection(writeB.updateByAssociation(rec('room', 'GENERAL'), { stolen: 1 }));
      assert.match(e2.message, /^rocketchat bridge: no record of app 5e0b1c2d-bbbb-.* has exactly the associations/);
      assert.strictEqual(await writeB.remove(generalId), undefined);
      assert.strictEqual(await writeB.removeByAssociation(rec('room', 'GENERAL')), undefined);
      assert.deepStrictEqual(await stored(APP_A), before);
    });

    await check('app B\'s writes with the same id and associations stay in app B', async () => {
      const before = await stored(APP_A);
      assert.strictEqual(await writeB.update(generalId, { mine: 'B' }, true), generalId);
      const bId = await writeB.updateByAssociation(rec('room', 'GENERAL'), { b: 'general' }, true);
      assert.deepStrictEqual(await readB.read(generalId), { mine: 'B' });
      assert.deepStrictEqual(await readB.readByAssociation(rec('room', 'GENERAL')), [{ b: 'general' }]);
      assert.deepStrictEqual(await readA.read(generalId), { kind: 'general' });
      assert.deepStrictEqual(await readA.readByAssociation(rec('room', 'GENERAL')), [{ kind: 'general' }]);
      assert.deepStrictEqual(await stored(APP_A), before);
      assert.deepStrictEqual((await stored(APP_B)).map((r) => r.id).sort(), [bId, generalId].sort());
    });

    await check('purging app B leaves app A alone', async () => {
      await bridge.doPurge(APP_B);
      assert.strictEqual(await nsExists(APP_B), false);
      assert.strictEqual(await readB.read(generalId), undefined);
      assert.deepStrictEqual(await readA.read(generalId), { kind: 'general' });
    });

    await check('an app id that is not verbatim works through its hashed namespace', async () => {
      const w = new Persistence(bridge, APP_ODD);
      const r = new PersistenceRead(bridge, APP_ODD);
      const id = await w.createWithAssociation({ odd: 'app' }, rec('user', 'U'));
      assert.deepStrictEqual(await stored(APP_ODD), [{ id, keys: [{ model: 'user', id: 'U' }], data: { odd: 'app' } }]);
      assert.ok(namespaceFor(APP_ODD).startsWith('rc.h.'));
      assert.deepStrictEqual(await r.readByAssociation(rec('user', 'U')), [{ odd: 'app' }]);
      assert.strictEqual(await readA.read(id), undefined);
      await bridge.doPurge(APP_ODD);
      assert.strictEqual(await nsExists(APP_ODD), false);
    });

    await check('concurrent first writes of an app all succeed (racing namespace creation)', async () => {
      const w = new Persistence(bridge, APP_RACE);
      const made = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) =>
        (i % 2 ? w.create({ i }) : w.updateByAssociation(rec('room', 'race' + i), { i }, true))));
      assert.strictEqual(new Set(made).size, 8);
      assert.strictEqual((await stored(APP_RACE)).length, 8);
      await bridge.doPurge(APP_RACE);
    });

    await check('purge drops app A\'s namespace; its records are gone; purging again is fine', async () => {
      await bridge.doPurge(APP_A);
      assert.strictEqual(await nsExists(APP_A), false);
      assert.strictEqual(await readA.read(plainId), undefined);
      assert.deepStrictEqual(await readA.readByAssociation(rec('room', 'GENERAL')), []);
      const r = await pool.query('SELECT count(*)::int AS n FROM assoc.records WHERE ns = $1', [nsA]);
      assert.strictEqual(r.rows[0].n, 0);
      await bridge.doPurge(APP_A);
    });
  } finally {
    for (const app of APPS) await bridge.doPurge(app).catch(() => {});
    await pool.end();
  }
  console.log('all ' + count + ' checks passed');
}

main().then(() => process.exit(0), (err) => {
  console.error(err.message);
  if (err.cause) console.error(err.cause);
  process.exit(1);
});
