'use strict';
/*
 * The follower of the deepstream connector (option `follow: true`, README:
 * "deepstream storage connector"): it brings the changes that SQL writers
 * and other services make to the namespace's records to deepstream's
 * subscribers.
 *
 * It LISTENs on the namespace's channel and, woken by a notification (or
 * every `followInterval` ms, or after a reconnect), reads `assoc.changes`
 * from its cursor. For each record changed by a writer whose origin is not
 * this connector's, it asks deepstream to reload the record, exactly as a
 * client's `record.notify(names)` does: deepstream drops the record from
 * its cache, reads it from storage and sends it to the subscribers with the
 * version the storage answers. The cursor is kept in the namespace
 * `<namespace>.dsc` under the follower's name and moves only once deepstream
 * has acknowledged, so a restart or a lost connection repeats a
 * notification rather than lose one. A notification payload is only a
 * hint; the feed is the truth.
 */

const { Client } = require('pg');

/* deepstream's wire constants (@deepstream/protobuf): topic RECORD, actions NOTIFY and RECORD_NOTIFY_ERROR. */
const TOPIC_RECORD = 5;
const ACTION_NOTIFY = 2;
const ACTION_NOTIFY_ERROR = 113;
/*
 * Entries read per assoc.changes call, and records per deepstream notify:
 * deepstream reads a chunk's records at once, each within its
 * storageRetrievalTimeout, so a chunk stays near a pool's size.
 */
const PAGE = 1000;
const CHUNK = 10;
/* How long a failed look waits before the follower tries again. */
const RETRY_MS = 1000;
/* How long deepstream may take to reload one chunk of records. */
const NOTIFY_TIMEOUT_MS = 30000;

class Follower {
  /* `storage` is the connector; options are the connector's options. */
  constructor(storage, services, options, config) {
    this.storage = storage;
    this.services = services;
    this.pgOptions = options.pg || {};
    this.cursors = `${storage.namespace}.dsc`;
    this.serverName = (config && config.serverName) || '';
    // Each node keeps its own cursor: with deepstream's local cache every node follows.
    this.name = options.followerName === undefined ? `${storage.origin}/${this.serverName}` : String(options.followerName);
    this.interval = options.followInterval === undefined ? 5000 : Number(options.followInterval);
    this.channel = null;
    this.running = false;
    this.listener = null;
    this.cursor = null;
    this.busy = null;
    this.again = false;
    this.timer = null;
    this.reconnectDelay = 250;
    this.correlation = 0;
  }

  /* Loads (or starts) the cursor, listens, and starts the periodic look. */
  async start() {
    await this.storage.ensureNamespace(this.cursors);
    const { rows } = await this.storage.pool.query(
      "SELECT data->>'cursor' AS cursor FROM assoc.records WHERE ns = $1 AND id = $2",
      [this.cursors, this.name]);
    if (rows.length > 0 && rows[0].cursor) {
      this.cursor = rows[0].cursor;
    } else {
      const head = await this.storage.pool.query('SELECT assoc.head($1) AS head', [this.storage.namespace]);
      await this.saveCursor(head.rows[0].head);
    }
    this.running = true;
    await this.listen();
    this.timer = setInterval(() => this.kick(true), this.interval);
    this.timer.unref();
    this.kick();
  }

  /* Stops listening and waits for a running catch-up to end. */
  async stop() {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const listener = this.listener;
    this.listener = null;
    if (listener) await listener.end().catch(() => {});
    if (this.busy) await this.busy;
  }

  /* Opens the listening connection; on failure tries again, backing off. */
  async listen() {
    const client = new Client(this.pgOptions);
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    client.on('notification', (msg) => this.onNotification(msg));
    try {
      await client.connect();
      const { rows } = await client.query('SELECT assoc.channel($1) AS channel', [this.storage.namespace]);
      await client.query(`LISTEN ${client.escapeIdentifier(rows[0].channel)}`);
      this.channel = rows[0].channel;
    } catch (err) {
      client.end().catch(() => {});
      throw err;
    }
    if (!this.running) {
      await client.end().catch(() => {});
      return;
    }
    this.listener = client;
    this.reconnectDelay = 250;
  }

  /*
   * Listens again, on the channel the namespace has now: after
   * assoc.rotate_channels or a namespace created again, the old one is
   * silent. Ending the connection makes lost() reconnect.
   */
  relisten() {
    if (this.listener) this.listener.end().catch(() => {});
  }

  /* The listening connection ended: reconnect, then catch up from the cursor. */
  lost(client, err) {
    if (this.listener !== client || !this.running) return;
    this.listener = null;
    if (err) this.storage.log('PLUGIN_ERROR', `pg_assoc follower lost its connection: ${err.message}`);
    const retry = () => {
      if (!this.running) return;
      this.listen().then(() => this.kick(), (e) => {
        this.storage.log('PLUGIN_ERROR', `pg_assoc follower cannot listen: ${e.message}`);
        this.reconnectDelay = Math.min(this.reconnectDelay * 2, 10000);
        setTimeout(retry, this.reconnectDelay).unref();
      });
    };
    setTimeout(retry, this.reconnectDelay).unref();
  }

  /*
   * A notification: catch up unless every entry it names is this
   * connector's own (those need no reload; the cursor passes them at the
   * next look).
   */
  onNotification(msg) {
    let entries;
    try {
      const payload = JSON.parse(msg.payload);
      entries = Array.isArray(payload) ? payload : [payload];
    } catch (_) {
      entries = [{}];
    }
    if (entries.some((e) => e.origin !== this.storage.origin)) this.kick();
  }

  /*
   * Starts a catch-up, or asks the running one to look once more. A failed
   * one is tried again after RETRY_MS from the same cursor. The periodic
   * look (`periodic`) also checks that the channel listened on is current.
   */
  kick(periodic = false) {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = (periodic ? this.checkChannel() : Promise.resolve())
      .then(() => this.catchUp())
      .catch((err) => {
        this.storage.log('PLUGIN_ERROR', `pg_assoc follower: ${err.message}`);
        setTimeout(() => this.kick(), RETRY_MS).unref();
      })
      .then(() => {
        this.busy = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /* Listens again when the namespace's channel is not the one listened on. */
  async checkChannel() {
    const { rows } = await this.storage.pool.query('SELECT assoc.channel($1) AS channel', [this.storage.namespace]);
    if (this.listener && rows[0].channel !== this.channel) this.relisten();
  }

  /* Reads the feed from the cursor to its end, reloading foreign changes. */
  async catchUp() {
    // deepstream's handlers exist only once all its services are ready.
    if (!this.services || !this.services.messageDistributor) {
      setTimeout(() => this.kick(), 100).unref();
      return;
    }
    const pool = this.storage.pool;
    while (this.running) {
      let rows;
      try {
        ({ rows } = await pool.query(
          'SELECT cursor, id, origin FROM assoc.changes($1, $2, $3)',
          [this.storage.namespace, this.cursor, PAGE]));
      } catch (err) {
        if (err.code !== '55000' || !/cannot be continued/.test(err.message)) throw err;
        await this.resynchronise(err);
        continue;
      }
      if (rows.length === 0) return;
      const names = [...new Set(rows.filter((r) => r.origin !== this.storage.origin).map((r) => r.id))];
      await this.notify(names);
      await this.saveCursor(rows[rows.length - 1].cursor);
      if (rows.length < PAGE) return;
    }
  }

  /*
   * The cursor cannot be continued (entries pruned, the namespace restored
   * or created again): as the README's resynchronising recipe says, read
   * the head and the records in one snapshot (a read-only REPEATABLE READ
   * transaction, which holds no feed writer back), reload every record a
   * page at a time, go on from the head, and listen again (a namespace
   * created again has another channel).
   */
  async resynchronise(cause) {
    this.storage.log('PLUGIN_ERROR', `pg_assoc follower resynchronises: ${cause.message}`);
    // A connection of its own: deepstream reloads the records through the
    // pool while this transaction stays open.
    const client = new Client(this.pgOptions);
    await client.connect();
    let head;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      head = (await client.query('SELECT assoc.head($1) AS head', [this.storage.namespace])).rows[0].head;
      for (let last = ''; ;) {
        const { rows } = await client.query(
          'SELECT id FROM assoc.records WHERE ns = $1 AND id > $2 ORDER BY id LIMIT $3',
          [this.storage.namespace, last, PAGE]);
        if (rows.length === 0) break;
        await this.notify(rows.map((r) => r.id));
        last = rows[rows.length - 1].id;
      }
      await client.query('COMMIT');
    } finally {
      await client.end().catch(() => {});
    }
    await this.saveCursor(head);
    this.relisten();
  }

  /* Keeps the cursor in the database, so a restart continues from it. */
  async saveCursor(cursor) {
    if (cursor === this.cursor) return;
    await this.storage.pool.query(
      "SELECT assoc.set($1, $2, NULL, jsonb_build_object('cursor', $3::text))",
      [this.cursors, this.name, cursor]);
    this.cursor = cursor;
  }

  /* Asks deepstream to reload `names`, in chunks, each acknowledged. */
  async notify(names) {
    for (let i = 0; i < names.length; i += CHUNK) {
      await this.notifyChunk(names.slice(i, i + CHUNK));
    }
  }

  /*
   * One record.notify, handed to deepstream's record handler as a client's
   * would be (it has passed permissions: the follower is the server's own).
   * deepstream acknowledges once every record is reloaded, also when some
   * failed (after an error message each): then the chunk fails, so that the
   * cursor stays and the reload is tried again.
   */
  notifyChunk(names) {
    return new Promise((resolve, reject) => {
      const correlationId = `pg_assoc-follower-${++this.correlation}`;
      const failed = [];
      const timer = setTimeout(() => reject(new Error(`deepstream did not reload ${names.length} records within ${NOTIFY_TIMEOUT_MS} ms`)), NOTIFY_TIMEOUT_MS);
      const socket = {
        uuid: `pg_assoc-follower/${this.serverName || ''}`,
        user: 'pg_assoc-follower',
        userId: 'pg_assoc-follower',
        serverData: null,
        clientData: null,
        isRemote: false,
        sendMessage: (m) => {
          if (!m || !m.isError) return;
          if (m.action === ACTION_NOTIFY_ERROR) {
            clearTimeout(timer);
            reject(new Error(`deepstream refused the notify: ${m.parsedData}`));
            return;
          }
          failed.push(m.name);
        },
        sendAckMessage: () => {
          clearTimeout(timer);
          if (failed.length === 0) {
            resolve();
          } else {
            reject(new Error(`deepstream could not reload ${failed.map((n) => JSON.stringify(n)).join(', ')}`));
          }
        },
        sendBinaryMessage: () => {},
        getMessage: () => null,
        parseData: () => true,
      };
      this.services.messageDistributor.distribute(socket, {
        topic: TOPIC_RECORD,
        action: ACTION_NOTIFY,
        names,
        correlationId,
      });
    });
  }
}

module.exports = { Follower };
