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
 *       next: { type: config, options: { permissions: {...} } }   # optional
 *
 * Every other message is passed to `next` (deepstream's own `config`
 * permission, or any permission plugin given by `path`), or allowed when
 * there is none.
 */

const { forbiddenInPath, forbiddenInValue } = require('./forbidden');

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

/* The permission plugin `next` names, constructed as deepstream would. */
function loadNext(next, services, config) {
  if (!next) return null;
  let Plugin;
  if (next.path) {
    const mod = require(next.path);
    Plugin = mod.default || mod;
  } else if (next.type === 'config') {
    Plugin = require('@deepstream/server/dist/src/services/permission/valve/config-permission').ConfigPermission;
  } else if (next.type === 'none') {
    return null;
  } else {
    throw new Error(`pg_assoc permission: option next needs a path or type config, got ${JSON.stringify(next)}`);
  }
  return new Plugin(next.options || {}, services, config);
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
    const inPath = forbiddenInPath(message.path);
    if (inPath) return `record ${message.name}: forbidden segment "${inPath}" in path ${JSON.stringify(message.path)}`;
    if (message.parsedData === undefined && message.data !== undefined) {
      const parsed = socketWrapper && socketWrapper.parseData ? socketWrapper.parseData(message) : true;
      if (parsed !== true) return `record ${message.name}: data is not valid JSON`;
    }
    const inData = forbiddenInValue(message.parsedData);
    if (inData) return `record ${message.name}: forbidden key "${inData}" in data`;
    return null;
  }
}

module.exports = ForbiddenKeyPermission;
module.exports.ForbiddenKeyPermission = ForbiddenKeyPermission;
