// Listeners for test/bench/notify_bench.sh: K connections LISTEN on one
// channel each and count the feed entries they are notified of (a payload
// holds one entry, or several in a JSON array), so the NOTIFY queue is
// consumed while pgbench writes.
//
//   node notify_listen.js K CHANNEL          all K on one channel
//   node notify_listen.js K CH1,CH2,...,CHK  connection i on channel i
//
// Connects with the libpq environment (PGHOST, PGPORT, PGUSER,
// PGDATABASE).  Prints "ready" once every connection listens.  On SIGTERM
// it waits until no notification arrived for QUIET_MS (at most
// DRAIN_MAX_MS, so listeners that lag behind still finish), then prints
//   received TOTAL min MIN max MAX bad BAD
// (per-connection counts; BAD counts payloads that are not the expected
// JSON) and exits.
'use strict';
const path = require('path');
const { Client } = require(process.env.PG_MODULE ||
	path.join(__dirname, '..', 'clients', 'node_modules', 'pg'));

const QUIET_MS = 500;
const DRAIN_MAX_MS = 60000;

const k = parseInt(process.argv[2], 10);
const channels = (process.argv[3] || '').split(',');
if (!(k > 0) || !channels.every((c) => /^[a-z0-9_]+$/.test(c)) ||
	(channels.length !== 1 && channels.length !== k)) {
	console.error('usage: node notify_listen.js K CHANNEL|CH1,...,CHK');
	process.exit(2);
}

const counts = new Array(k).fill(0);
let bad = 0;
let last = Date.now();
const clients = [];

// Each entry has one "cursor" member; quotes inside strings are escaped,
// so the text occurs once per entry.  Counted with indexOf, which
// allocates nothing (50 listeners read every byte of every payload).
const CURSOR_MEMBER = '"cursor":';

function entries(payload) {
	let n = 0;
	for (let at = payload.indexOf(CURSOR_MEMBER); at >= 0;
		at = payload.indexOf(CURSOR_MEMBER, at + CURSOR_MEMBER.length))
		n++;
	return n;
}

function onNotification(i, msg) {
	const n = entries(msg.payload);
	const before = counts[i];
	counts[i] += n;
	last = Date.now();
	// Check the payload shape on a sample (parsing every one costs the
	// client CPU that the server's writers share on a small machine).
	if (n === 0 || Math.floor(before / 64) !== Math.floor(counts[i] / 64)) {
		try {
			const p = JSON.parse(msg.payload);
			const entries = Array.isArray(p) ? p : [p];
			if (entries.length !== n ||
				entries.some((e) => e.ns !== 'bench' || typeof e.id !== 'string' || !e.cursor)) bad++;
		} catch (e) {
			bad++;
		}
	}
}

async function main() {
	for (let i = 0; i < k; i++) {
		const c = new Client({ application_name: 'notify_listen' });
		c.on('notification', (msg) => onNotification(i, msg));
		c.on('error', (e) => {
			console.error(`listener ${i}: ${e.message}`);
			process.exit(1);
		});
		await c.connect();
		await c.query(`LISTEN ${channels.length === 1 ? channels[0] : channels[i]}`);
		clients.push(c);
	}
	console.log('ready');
}

function finish() {
	const start = Date.now();
	const tick = () => {
		const now = Date.now();
		if (now - last < QUIET_MS && now - start < DRAIN_MAX_MS) {
			setTimeout(tick, 100);
			return;
		}
		const total = counts.reduce((a, b) => a + b, 0);
		console.log(`received ${total} min ${Math.min(...counts)} ` +
			`max ${Math.max(...counts)} bad ${bad}`);
		Promise.all(clients.map((c) => c.end().catch(() => {})))
			.then(() => process.exit(0));
	};
	tick();
}

process.on('SIGTERM', finish);
process.on('SIGINT', finish);
main().catch((e) => {
	console.error(e.message);
	process.exit(1);
});
