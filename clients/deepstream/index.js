'use strict';
/*
 * A deepstream 7 storage connector that keeps deepstream's records as
 * pg_assoc records (README: "deepstream storage connector").
 *
 *   storage:
 *     path: <repo>/clients/deepstream
 *     options: { namespace: app, pg: { host, port, user, database, password, max } }
 *
 * A deepstream record is the pg_assoc record of the same id in the
 * namespace `namespace`; its data is the record's data. deepstream counts
 * versions itself and pg_assoc counts the effective writes; the version
 * deepstream last stored is kept per record in the namespace
 * `<namespace>.dsv`, written in the same transaction as the data, so a
 * read answers that version plus the writes others (SQL, other services)
 * made since. Every statement takes its values as parameters: no SQL text
 * is built from a record name or from data.
 */

const { Pool } = require('pg');
const { Follower } = require('./follower');
const { unstorableText } = require('./forbidden');

/* pg_assoc's limit on record ids (README: "Bad input"). */
const MAX_ID_BYTES = 1024;
/* Namespace names are 1–63 of [A-Za-z0-9_.-]; four are kept for `.dsv`/`.dsc`. */
const NAMESPACE_RE = /^[A-Za-z0-9_.-]{1,59}$/;
/* A data namespace with a suffix of ours would share another one's entries. */
const SUFFIX_RE = /\.ds[vc]$/;
/* assoc.origin: printable ASCII, at most 255 characters. */
const ORIGIN_RE = /^[\x20-\x7e]{1,255}$/;
/* SQLSTATEs retried: serialization failure (expected_version) and deadlock. */
const RETRIED = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 20;

/*
 * The version deepstream sees, computed in SQL from the record `r` and its
 * version entry `m`: -1 when the record is missing; pg_assoc's version for a
 * record deepstream never wrote; deepstream's version plus the writes made
 * since, when the entry belongs to this incarnation of the record (same
 * created_at, and a version not below the entry's); and deepstream's
 * version plus all of pg_assoc's writes when the record was removed and
 * created again behind deepstream's back, so versions never go down.
 */
const EFFECTIVE_VERSION = `
  CASE WHEN r.version IS NULL THEN -1
       WHEN m.data IS NULL THEN r.version
       WHEN (m.data->>'c')::timestamptz = r.created_at AND r.version >= (m.data->>'at')::bigint
         THEN (m.data->>'v')::bigint + r.version - (m.data->>'at')::bigint
       ELSE (m.data->>'v')::bigint + r.version END`;

/* The record's data, versions and effective version in one read. */
const READ_STATE = `
  SELECT r.data, r.version AS pgv, m.version AS mv, ${EFFECTIVE_VERSION} AS v
    FROM (SELECT 1) AS one
    LEFT JOIN assoc.records AS r ON r.ns = $1 AND r.id = $3
    LEFT JOIN assoc.records AS m ON m.ns = $2 AND m.id = $3`;

/* The version entry of a record just written, from its row. */
const WRITE_VERSION = `
  SELECT assoc.set($2, $3, NULL,
                   jsonb_build_object('v', $4::bigint, 'at', r.version, 'c', r.created_at),
                   expected_version => $5)
    FROM assoc.records AS r WHERE r.ns = $1 AND r.id = $3`;

/* Why deepstream cannot store `name` unchanged in pg_assoc, or null. */
function recordNameError(name) {
  if (typeof name !== 'string' || name.length === 0) return 'record name must be a non-empty string';
  const unstorable = unstorableText(name);
  if (unstorable) return `record name ${JSON.stringify(name.slice(0, 64))} holds ${unstorable}`;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_ID_BYTES) {
    return `record name of ${bytes} bytes exceeds pg_assoc's limit of ${MAX_ID_BYTES} bytes`;
  }
  return null;
}

/*
 * Settles a deepstream callback with the outcome of `promise`, outside the
 * promise chain: an exception thrown by deepstream's callback must not turn
 * into an unhandled rejection or be reported as a storage error.
 */
function settle(promise, callback, what, name) {
  promise.then(
    (result) => process.nextTick(callback, null, ...(result || [])),
    (err) => process.nextTick(callback, describe(what, name, err)),
  );
}

/* A database error as the string deepstream's callbacks take. */
function describe(what, name, err) {
  const state = err && err.code ? ` (SQLSTATE ${err.code})` : '';
  return `pg_assoc could not ${what} record ${JSON.stringify(name)}: ${err && err.message}${state}`;
}

class PgAssocStorage {
  /* Options as described in the README; services and config are deepstream's. */
  constructor(options, services, config) {
    const o = options || {};
    if (typeof o.namespace !== 'string' || !NAMESPACE_RE.test(o.namespace) || SUFFIX_RE.test(o.namespace)) {
      throw new Error('pg_assoc storage: option namespace must be 1-59 characters of [A-Za-z0-9_.-], ' +
        `not ending in .dsv or .dsc, got ${JSON.stringify(o.namespace)}`);
    }
    this.namespace = o.namespace;
    this.versions = `${o.namespace}.dsv`;
    this.origin = o.origin === undefined ? `deepstream/${o.namespace}` : o.origin;
    if (typeof this.origin !== 'string' || !ORIGIN_RE.test(this.origin)) {
      throw new Error('pg_assoc storage: option origin must be 1-255 printable ASCII characters');
    }
    this.description = `pg_assoc storage (namespace ${o.namespace})`;
    this.logger = services && services.logger;
    this.pool = new Pool(o.pg || {});
    this.pool.on('error', (err) => this.log('PLUGIN_ERROR', `idle pg_assoc connection failed: ${err.message}`));
    this.queues = new Map();
    this.follower = o.follow ? new Follower(this, services, o, config) : null;
    this.ready = null;
  }

  /* Creates the namespaces if missing and starts the follower. */
  whenReady() {
    if (!this.ready) {
      this.ready = (async () => {
        await this.ensureNamespace(this.namespace);
        await this.ensureNamespace(this.versions);
        if (this.follower) await this.follower.start();
      })();
    }
    return this.ready;
  }

  /* Stops the follower and closes the pool once queued writes are done. */
  async close() {
    if (this.follower) await this.follower.stop();
    await Promise.all([...this.queues.values()].map((p) => p.catch(() => {})));
    await this.pool.end();
  }

  /* Logs through deepstream's logger when there is one. */
  log(event, message) {
    if (this.logger) this.logger.error(event, message);
  }

  /*
   * Makes sure the connecting role can use namespace `ns`, creating it
   * (owned by that role) when missing. A name in use by another application
   * is an error, as pg_assoc reports it.
   */
  async ensureNamespace(ns) {
    const visible = 'SELECT 1 FROM assoc.namespaces WHERE ns = $1';
    if ((await this.pool.query(visible, [ns])).rowCount > 0) return;
    try {
      await this.pool.query('SELECT assoc.create_namespace($1)', [ns]);
    } catch (err) {
      // Another node may have created it meanwhile; any other owner is refused below.
      if (err.code !== '42710' || (await this.pool.query(visible, [ns])).rowCount === 0) {
        throw new Error(`pg_assoc storage: cannot use namespace ${JSON.stringify(ns)}: ${err.message}`);
      }
    }
  }

  /*
   * Runs `task` after every earlier task queued for any of `names`, so that
   * the writes to one record are applied in the order deepstream made them.
   */
  enqueue(names, task) {
    const before = names.map((n) => this.queues.get(n)).filter(Boolean);
    const run = Promise.all(before.map((p) => p.catch(() => {}))).then(task);
    const tail = run.catch(() => {});
    for (const n of names) this.queues.set(n, tail);
    tail.then(() => {
      for (const n of names) if (this.queues.get(n) === tail) this.queues.delete(n);
    });
    return run;
  }

  /*
   * Runs `body(client)` in one transaction with this connector's origin,
   * again from the start when pg_assoc reports a concurrent change (40001)
   * or a deadlock, so that each attempt decides on what is committed.
   */
  async transaction(body) {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken = false;
      try {
        await client.query('BEGIN');
        await client.query("SELECT set_config('assoc.origin', $1, true)", [this.origin]);
        const result = await body(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (_) {
          broken = true;
        }
        if (!RETRIED.has(err.code) || attempt >= MAX_ATTEMPTS) throw err;
      } finally {
        client.release(broken);
      }
    }
  }

  /*
   * deepstream's read: the version deepstream sees and the data, or -1,
   * null. It waits for this connector's queued writes of the record, so a
   * read after a write (deepstream reloading a record) sees it.
   */
  get(name, callback) {
    const invalid = recordNameError(name);
    if (invalid) return process.nextTick(callback, `pg_assoc storage: ${invalid}`);
    settle(this.enqueue([name], async () => {
      const { rows } = await this.pool.query(READ_STATE, [this.namespace, this.versions, name]);
      const v = Number(rows[0].v);
      return [v, v < 0 ? null : rows[0].data];
    }), callback, 'read', name);
  }

  /*
   * deepstream's write of a whole record at `version`. The data is
   * serialized now (deepstream changes the object afterwards); a version
   * below the one stored is ignored, an equal one is written (last wins).
   * Version 0 is always written: deepstream passes it when it creates a
   * record and for every write to a record under storageHotPathPrefixes.
   */
  set(name, version, data, callback) {
    const invalid = recordNameError(name);
    if (invalid) return process.nextTick(callback, `pg_assoc storage: ${invalid}`);
    if (!Number.isSafeInteger(version) || version < 0) {
      return process.nextTick(callback, `pg_assoc storage: invalid version ${version} for record ${JSON.stringify(name)}`);
    }
    let text;
    try {
      text = JSON.stringify(data);
    } catch (err) {
      return process.nextTick(callback, `pg_assoc storage: record ${JSON.stringify(name)} cannot be serialized: ${err.message}`);
    }
    if (text === undefined) text = 'null';
    settle(this.enqueue([name], () => this.transaction(async (client) => {
      const { rows } = await client.query(READ_STATE, [this.namespace, this.versions, name]);
      const state = rows[0];
      if (version > 0 && version < Number(state.v)) return;
      await client.query('SELECT assoc.set($1, $2, NULL, $3::jsonb, expected_version => $4)',
        [this.namespace, name, text, state.pgv === null ? 0 : state.pgv]);
      await client.query(WRITE_VERSION,
        [this.namespace, this.versions, name, version, state.mv === null ? 0 : state.mv]);
    })), callback, 'write', name);
  }

  /* deepstream's delete of one record. */
  delete(name, callback) {
    this.deleteBulk([name], callback);
  }

  /* deepstream's delete of several records, in one transaction. */
  deleteBulk(names, callback) {
    if (!Array.isArray(names)) return process.nextTick(callback, 'pg_assoc storage: deleteBulk expects an array of record names');
    for (const name of names) {
      const invalid = recordNameError(name);
      if (invalid) return process.nextTick(callback, `pg_assoc storage: ${invalid}`);
    }
    const unique = [...new Set(names)];
    // Removed in byte order, so that concurrent bulk deletes lock rows in one order.
    const sorted = unique.map((n) => Buffer.from(n, 'utf8')).sort(Buffer.compare).map((b) => b.toString('utf8'));
    settle(this.enqueue(unique, () => this.transaction(async (client) => {
      await client.query(
        `SELECT assoc.remove(s.ns, s.id)
           FROM (SELECT ns, id FROM unnest($3::text[]) WITH ORDINALITY AS t(id, n),
                        unnest(ARRAY[$1, $2]) AS ns
                  ORDER BY n, ns OFFSET 0) AS s`,
        [this.namespace, this.versions, sorted]);
    })), callback, 'delete', names.length === 1 ? names[0] : names.join(', '));
  }
}

module.exports = PgAssocStorage;
module.exports.PgAssocStorage = PgAssocStorage;
module.exports.recordNameError = recordNameError;
