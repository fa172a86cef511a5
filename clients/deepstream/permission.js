'use strict';
/*
 * A deepstream 7 permission plugin that refuses every record write whose
 * path or data uses a forbidden name (`__proto__`, `constructor`,
 * `prototype`, after trimming), by pg_assoc's own rule (README: "deepstream
 * storage connector", "Forbidden segments").
 *
 * deepstream applies a write to its in-memory copy of the record before the
 * storage sees it, and its path code has no guard: a write with the path
 * `__proto__.x` changes Object.prototype of the server process, and
 * `setWithAck` reports success even when the storage refuses the data. This
 * plugin stops such a message before any handler runs.
 *
 *   permission:
 *     path: <repo>/clients/deepstream/permission.js
 *     options:
 *       next: { type: config, options: { path: permissions.yml } }
 *
 * Every other message is passed to `next`: deepstream's own `config`
 * permission (rules given as `permissions` or read from `path`), any
 * permission plugin given by `path`, or `{ type: none }` to allow the rest.
 * `next` is required, so that leaving it out cannot open a server.
 *
 * It also refuses data pg_assoc cannot store (a string or key with NUL or a
 * lone UTF-16 surrogate, which jsonb refuses), which deepstream would
 * otherwise keep in its cache and send to subscribers while the storage
 * write fails, and a message whose data is not JSON, which makes
 * deepstream 7.0.2 throw out of its message handler.
 */

const fs = require('fs');
const path = require('path');
const { forbiddenInPath, forbiddenInValue, unstorableInValue } = require('./forbidden');

/* deepstream's wire constants (@deepstream/protobuf): the record topic and its writes. */
const TOPIC_RECORD = 5;
const RECORD_WRITES = new Set([
  16, // CREATEANDUPDATE
  17, // CREATEANDPATCH
  18, // UPDATE
  19, // PATCH
  20, // ERASE
  24, // SUBSCRIBECREATEANDUPDATE
]);

/* A module of deepstream's server (the host package). */
function host(module) {
  return require(`@deepstream/server/dist/src/${module}`);
}

/*
 * The rules file of deepstream's config permission, read as deepstream
 * reads it: a path relative to deepstream's configuration directory, YAML
 * or JSON (with the YAML parser deepstream itself uses).
 */
function readRules(file) {
  const resolved = host('config/file-utils').lookupConfRequirePath(file);
  if (/\.ya?ml$/i.test(resolved)) {
    const yaml = require(require.resolve('js-yaml', { paths: [path.dirname(require.resolve('@deepstream/server'))] }));
    return yaml.safeLoad ? yaml.safeLoad(fs.readFileSync(resolved, 'utf8')) : yaml.load(fs.readFileSync(resolved, 'utf8'));
  }
  return require(resolved);
}

/* The permission plugin `next` names, constructed as deepstream would; null for `none`. */
function loadNext(next, services, config) {
  if (!next || typeof next !== 'object') {
    throw new Error('pg_assoc permission: option next is required: { type: config, options: { path | permissions } } ' +
      'for deepstream\'s rules, a permission plugin { path, options }, or { type: none } to allow everything else');
  }
  if (next.path) {
    const mod = require(next.path);
    const Plugin = mod.default || mod;
    return new Plugin(next.options || {}, services, config);
  }
  if (next.type === 'none') return null;
  if (next.type === 'config') {
    const options = { ...(next.options || {}) };
    if (options.permissions === undefined && options.path) options.permissions = readRules(options.path);
    const { ConfigPermission } = host('services/permission/valve/config-permission');
    return new ConfigPermission(options, services, config);
  }
  throw new Error(`pg_assoc permission: option next needs a path or type config or none, got ${JSON.stringify(next)}`);
}

class ForbiddenKeyPermission {
  /* Options: `next`, the permission plugin that decides everything else. */
  constructor(options, services, config) {
    this.next = loadNext((options || {}).next, services, config);
    this.description = `pg_assoc forbidden-name guard${this.next ? ` before ${this.next.description}` : ''}`;
  }

  /* Waits for `next`. */
  async whenReady() {
    if (this.next && this.next.whenReady) await this.next.whenReady();
  }

  /* Closes `next`. */
  async close() {
    if (this.next && this.next.close) await this.next.close();
  }

  /* Hands deepstream's record handler on (the config permission reads records with it). */
  setRecordHandler(recordHandler) {
    if (this.next && this.next.setRecordHandler) this.next.setRecordHandler(recordHandler);
  }

  /*
   * Refuses a record write that uses a forbidden name, with a message naming
   * it; passes everything else on.
   */
  canPerformAction(socketWrapper, message, callback, passItOn) {
    if (message.topic === TOPIC_RECORD && RECORD_WRITES.has(message.action)) {
      const refusal = this.refusal(socketWrapper, message);
      if (refusal) {
        callback(socketWrapper, message, passItOn, refusal, false);
        return;
      }
    }
    if (this.next) {
      this.next.canPerformAction(socketWrapper, message, callback, passItOn);
    } else {
      callback(socketWrapper, message, passItOn, null, true);
    }
  }

  /* Why `message` must not be applied, or null. */
  refusal(socketWrapper, message) {
    const record = `record ${JSON.stringify(message.name)}`;
    const inPath = forbiddenInPath(message.path);
    if (inPath) return `${record}: forbidden segment "${inPath}" in path ${JSON.stringify(message.path)}`;
    if (message.parsedData === undefined && message.data !== undefined) {
      // The binary endpoint's parser throws on bad JSON; the HTTP one returns an Error.
      let parsed;
      try {
        parsed = socketWrapper && socketWrapper.parseData ? socketWrapper.parseData(message) : true;
      } catch (err) {
        parsed = err;
      }
      if (parsed !== true) return `${record}: data is not valid JSON`;
    }
    const inData = forbiddenInValue(message.parsedData);
    if (inData) return `${record}: forbidden key "${inData}" in data`;
    const unstorable = unstorableInValue(message.parsedData);
    if (unstorable) return `${record}: data holds ${unstorable}, which pg_assoc cannot store`;
    return null;
  }
}

module.exports = ForbiddenKeyPermission;
module.exports.ForbiddenKeyPermission = ForbiddenKeyPermission;
