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

/* deepstream's wire constants: topic RECORD, action NOTIFY (@deepstream/protobuf). */
const TOPIC_RECORD = 5;
const ACTION_NOTIFY = 2;
/* Entries read per assoc.changes call and records per deepstream notify. */
const PAGE = 1000;
const CHUNK = 100;
/* How long deepstream may take to reload one chunk of records. */
const NOTIFY_TIMEOUT_MS = 30000;

class Follower {
  /* `storage` is the connector; options are the connector's options. */
  constructor(storage, services, options, config) {
    this.storage = storage;
    this.services = services;
    this.pgOptions = options.pg || {};
    this.cursors = `${storage.namespace}.dsc`;
    this.name = options.followerName === undefined ? storage.origin : String(options.followerName);
    this.interval = options.followInterval === undefined ? 5000 : Number(options.followInterval);
    this.serverName = config && config.serverName;
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
    this.timer = setInterval(() => this.kick(), this.interval);
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

  /* Starts a catch-up, or asks the running one to look once more. */
  kick() {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = this.catchUp()
      .catch((err) => this.storage.log('PLUGIN_ERROR', `pg_assoc follower: ${err.message}`))
      .then(() => {
        this.busy = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
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
        if (err.code !== '55000') throw err;
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
   * the records and the head in one snapshot, reload every record, and go
   * on from the head.
   */
  async resynchronise(cause) {
    this.storage.log('PLUGIN_ERROR', `pg_assoc follower resynchronises: ${cause.message}`);
    const client = await this.storage.pool.connect();
    let head;
    let ids;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      head = (await client.query('SELECT assoc.head($1) AS head', [this.storage.namespace])).rows[0].head;
      ids = (await client.query('SELECT id FROM assoc.records WHERE ns = $1', [this.storage.namespace])).rows.map((r) => r.id);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await this.notify(ids);
    await this.saveCursor(head);
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
   * deepstream acknowledges once every record is reloaded and sends the
   * notification on to the other nodes of its cluster.
   */
  notifyChunk(names) {
    return new Promise((resolve, reject) => {
      const correlationId = `pg_assoc-follower-${++this.correlation}`;
      const timer = setTimeout(() => reject(new Error(`deepstream did not reload ${names.length} records within ${NOTIFY_TIMEOUT_MS} ms`)), NOTIFY_TIMEOUT_MS);
      const socket = {
        uuid: `pg_assoc-follower/${this.serverName || ''}`,
        user: 'pg_assoc-follower',
        userId: 'pg_assoc-follower',
        serverData: null,
        clientData: null,
        isRemote: false,
        sendMessage: (m) => {
          if (m && m.isError) this.storage.log('PLUGIN_ERROR', `deepstream could not reload a record: ${m.parsedData || m.action}`);
        },
        sendAckMessage: () => {
          clearTimeout(timer);
          resolve();
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
