'use strict';
/*
 * A Rocket.Chat Apps-Engine persistence bridge backed by pg_assoc.
 *
 *   const { Pool } = require('pg');
 *   const { PgAssocPersistenceBridge } = require('pg-assoc-rocketchat');
 *   const persistence = new PgAssocPersistenceBridge(new Pool());
 *   // in the host's AppBridges: getPersistenceBridge() { return persistence; }
 *
 * Each app keeps its records in its own pg_assoc namespace (namespaceFor):
 * "rc." + the app id when the id is 1-60 characters of [A-Za-z0-9_-] (Rocket.Chat's
 * app ids are UUIDs), otherwise "rc.h." + the first 40 hex digits of the SHA-256
 * of the app id.  The namespace is created on the app's first write and dropped
 * by purge.
 *
 * Associations are sets: a record created with [room:A, user:B] is found by
 * readByAssociations([user:B]) and by [user:B, room:A] alike, and
 * updateByAssociations matches the records whose associations are exactly the
 * given set.  They may be RocketChatAssociationRecord objects (getModel/getID)
 * or plain {model, id} objects (what the Deno runtime sends).  Models are 1-63
 * characters of [A-Za-z0-9_.-]; ids are strings of 1-1024 UTF-8 bytes without
 * NUL.  A non-string id (a number, say) is refused rather than converted, so
 * that 42 and '42' are never taken for the same association.
 *
 * Data is stored as JSON.stringify gives it: a Date becomes its ISO string, an
 * undefined member disappears.  It must serialize to a JSON object or array.
 * pg_assoc refuses keys named __proto__, constructor or prototype anywhere in
 * it (SQLSTATE 22023); that error reaches the caller unchanged, with its code.
 *
 * Every value reaches the server as a query parameter, never as SQL text.
 */

const crypto = require('crypto');
const { PersistenceBridge } = require('@rocket.chat/apps-engine/server/bridges/PersistenceBridge');

const PREFIX = 'rocketchat bridge: ';
const VERBATIM_APP_ID = /^[A-Za-z0-9_-]{1,60}$/;
const MODEL = /^[A-Za-z0-9_.-]{1,63}$/;
const MAX_ID_BYTES = 1024;
// Rounds of a read-then-write (remove, update) that lost to a concurrent
// writer of the same record before giving up with the last 40001.
const MAX_ATTEMPTS = 10;

/* An Error whose message says it comes from this bridge. */
function bridgeError(message) {
  return new Error(PREFIX + message);
}

/*
 * The pg_assoc namespace of an app: "rc." + appId when that is a valid name
 * and cannot be mistaken for the hashed form (no dot), else "rc.h." + 40 hex
 * digits of SHA-256(appId).
 */
function namespaceFor(appId) {
  if (typeof appId !== 'string' || appId === '') {
    throw bridgeError('appId must be a non-empty string, got ' + describe(appId));
  }
  if (VERBATIM_APP_ID.test(appId)) return 'rc.' + appId;
  return 'rc.h.' + crypto.createHash('sha256').update(appId, 'utf8').digest('hex').slice(0, 40);
}

/* A short description of a bad value for error messages. */
function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}

/* Whether a string is a valid pg_assoc id: 1-1024 UTF-8 bytes, no NUL. */
function validId(s) {
  return typeof s === 'string' && s !== '' && !s.includes('\u0000') &&
    Buffer.byteLength(s, 'utf8') <= MAX_ID_BYTES;
}

/* Check a record id given by an app; pg_assoc would refuse it less clearly. */
function checkRecordId(id) {
  if (!validId(id)) {
    throw bridgeError('record id must be a string of 1-' + MAX_ID_BYTES +
      ' bytes without NUL, got ' + describe(id));
  }
  return id;
}

/*
 * The JSON text of an app's data.  Rocket.Chat stores objects; pg_assoc
 * stores an object or an array at the root, so anything serializing to
 * something else (a string, a number, a Date, undefined) is refused here.
 */
function dataJson(data) {
  if (typeof data !== 'object' || data === null) {
    throw bridgeError('data must be an object, got ' + describe(data));
  }
  const json = JSON.stringify(data);
  if (typeof json !== 'string' || (json[0] !== '{' && json[0] !== '[')) {
    throw bridgeError('data must serialize to a JSON object or array, got ' +
      (json === undefined ? 'nothing' : json.slice(0, 40)));
  }
  return json;
}

/*
 * The JSON array [{model, id}, ...] that assoc.assockey_from_jsonb takes, from
 * RocketChatAssociationRecord objects or plain {model, id} objects.  Order and
 * duplicates do not matter: pg_assoc makes a set of them.
 */
function keysJson(associations) {
  if (!Array.isArray(associations)) {
    throw bridgeError('associations must be an array, got ' + describe(associations));
  }
  const pairs = associations.map((a, i) => {
    const n = i + 1;
    if (typeof a !== 'object' || a === null) {
      throw bridgeError('association ' + n + ' is not an object, got ' + describe(a));
    }
    const model = typeof a.getModel === 'function' ? a.getModel() : a.model;
    const id = typeof a.getID === 'function' ? a.getID() : a.id;
    if (model === undefined || model === null) throw bridgeError('association ' + n + ' has no model');
    if (typeof model !== 'string' || !MODEL.test(model)) {
      throw bridgeError('association ' + n + ' has an invalid model ' + describe(model) +
        ' (1-63 characters of [A-Za-z0-9_.-])');
    }
    if (id === undefined || id === null) throw bridgeError('association ' + n + ' has no id');
    if (!validId(id)) {
      throw bridgeError('association ' + n + ' (' + model + ') has an invalid id ' + describe(id) +
        ' (a string of 1-' + MAX_ID_BYTES + ' bytes without NUL)');
    }
    return { model, id };
  });
  return JSON.stringify(pairs);
}

/* Whether err is pg_assoc's "namespace ns does not exist" (and not another 42704). */
function isMissingNamespace(err, ns) {
  return err && err.code === '42704' && err.message === 'namespace "' + ns + '" does not exist';
}

/* Whether err is a version conflict or serialization failure worth a retry. */
function isConflict(err) {
  return err && err.code === '40001';
}

class PgAssocPersistenceBridge extends PersistenceBridge {
  /* Keep the pool (a pg.Pool, or anything with pg's query(text, values)). */
  constructor(pool) {
    super();
    if (!pool || typeof pool.query !== 'function') {
      throw bridgeError('a pg.Pool (or an object with query(text, values)) is required');
    }
    this.pool = pool;
  }

  /* The namespace of an app, as documented above; exposed for tools and tests. */
  static namespaceFor(appId) {
    return namespaceFor(appId);
  }

  /* Run one parameterized statement and return its rows. */
  async runRows(text, values) {
    return (await this.pool.query(text, values)).rows;
  }

  /*
   * Run a write in the app's namespace; when the namespace does not exist
   * yet, create it (a concurrent creator's 42710 is as good) and run the
   * write again.
   */
  async runWrite(ns, text, values) {
    try {
      return await this.runRows(text, values);
    } catch (err) {
      if (!isMissingNamespace(err, ns)) throw err;
    }
    try {
      await this.runRows('SELECT assoc.create_namespace($1)', [ns]);
    } catch (err) {
      if (err.code !== '42710') throw err;
    }
    return this.runRows(text, values);
  }

  /* Run a read; a namespace that does not exist yet holds nothing (null). */
  async runRead(ns, text, values) {
    try {
      return await this.runRows(text, values);
    } catch (err) {
      if (isMissingNamespace(err, ns)) return null;
      throw err;
    }
  }

  /* Drop the app's namespace with all its records; nothing to drop is fine. */
  async purge(appId) {
    const ns = namespaceFor(appId);
    await this.runRead(ns, 'SELECT assoc.drop_namespace($1)', [ns]);
  }

  /* Store data without associations; returns the generated id (a UUID). */
  async create(data, appId) {
    return this.createWithAssociations(data, [], appId);
  }

  /* Store data with a set of associations; returns the generated id (a UUID). */
  async createWithAssociations(data, associations, appId) {
    const ns = namespaceFor(appId);
    const rows = await this.runWrite(ns,
      'SELECT assoc.create($1, $2::jsonb, assoc.assockey_from_jsonb($3::jsonb)) AS id',
      [ns, dataJson(data), keysJson(associations)]);
    return rows[0].id;
  }

  /* The data of the app's record with this id, or undefined. */
  async readById(id, appId) {
    const ns = namespaceFor(appId);
    const rows = await this.runRows('SELECT data FROM assoc.records WHERE ns = $1 AND id = $2',
      [ns, checkRecordId(id)]);
    return rows.length ? rows[0].data : undefined;
  }

  /*
   * The data of the app's records having all these associations (and maybe
   * others), ordered by record id; none given matches nothing.
   */
  async readByAssociations(associations, appId) {
    const ns = namespaceFor(appId);
    const rows = await this.runRead(ns,
      'SELECT data FROM assoc.read_by($1, assoc.assockey_from_jsonb($2::jsonb))',
      [ns, keysJson(associations)]);
    return rows ? rows.map((r) => r.data) : [];
  }

  /*
   * Remove the app's record with this id and return the data it had, or
   * undefined when there is none.  The data is read and the record removed
   * in one statement, at the version read: a concurrent write in between
   * makes pg_assoc refuse (40001), and the pair is tried again.
   */
  async remove(id, appId) {
    const ns = namespaceFor(appId);
    checkRecordId(id);
    for (let attempt = 1; ; attempt++) {
      try {
        const rows = await this.runRead(ns,
          `SELECT r.data, assoc.remove(r.ns, r.id, r.version) AS removed
             FROM assoc.records r WHERE r.ns = $1 AND r.id = $2`, [ns, id]);
        return rows && rows.length ? rows[0].data : undefined;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  /*
   * Remove every record of the app having all these associations and return
   * their data (ordered by record id), exactly the rows removed; undefined
   * when none matched, as Rocket.Chat's own bridge answers.
   */
  async removeByAssociations(associations, appId) {
    const ns = namespaceFor(appId);
    const rows = await this.runRead(ns,
      'SELECT data FROM assoc.remove_by($1, assoc.assockey_from_jsonb($2::jsonb)) ORDER BY id',
      [ns, keysJson(associations)]);
    return rows && rows.length ? rows.map((r) => r.data) : undefined;
  }

  /*
   * Replace the data of the app's record with this id, keeping its
   * associations, and return the id.  With upsert a missing record is created
   * with that id and no associations; without, a missing record is an error.
   */
  async update(id, data, upsert, appId) {
    const ns = namespaceFor(appId);
    checkRecordId(id);
    const json = dataJson(data);
    if (upsert) {
      await this.runWrite(ns, 'SELECT assoc.set($1, $2, NULL::text, $3::jsonb)', [ns, id, json]);
      return id;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        // assoc.set would create a missing record: write only at the version
        // found, and only when there is one.
        const rows = await this.runRead(ns,
          `SELECT assoc.set($1, $2, NULL::text, $3::jsonb, v) AS version
             FROM assoc.version($1, $2) AS v WHERE v > 0`, [ns, id, json]);
        if (!rows || !rows.length) {
          throw bridgeError('no record "' + id + '" to update for app ' + appId + ' (pass upsert to create it)');
        }
        return id;
      } catch (err) {
        if (!isConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  /*
   * Replace the data of the app's records whose associations are exactly this
   * set; returns the id of the first of them by id.  With upsert and no such
   * record one is created; without, no match is an error.
   */
  async updateByAssociations(associations, data, upsert, appId) {
    const ns = namespaceFor(appId);
    const keys = keysJson(associations);
    if (keys === '[]') throw bridgeError('updateByAssociations needs at least one association');
    const json = dataJson(data);
    const text = `SELECT id FROM assoc.update_by($1, assoc.assockey_from_jsonb($2::jsonb), $3::jsonb, $4)
                    ORDER BY id`;
    const values = [ns, keys, json, Boolean(upsert)];
    const rows = upsert ? await this.runWrite(ns, text, values) : await this.runRead(ns, text, values);
    if (!rows || !rows.length) {
      throw bridgeError('no record of app ' + appId + ' has exactly the associations ' + keys +
        ' (pass upsert to create one)');
    }
    return rows[0].id;
  }
}

module.exports = { PgAssocPersistenceBridge, namespaceFor };
