// Commit-to-client notification latency for test/bench/notify_bench.sh.
//
//   node notify_latency.js N ID [WARMUP]
//
// One writer connection makes WARMUP (default 50) and then N sequential
// assoc.set_multi calls on record ID of namespace 'bench', each its own
// transaction, and notes the time right after each call returns (the
// commit is then done).  A listener connection, in the same process and
// so on the same clock, LISTENs on the record's channel and notes when
// each version's notification arrives.  Latency = arrival - commit return;
// it can be slightly negative when the notification overtakes the
// writer's reply (writers that NOTIFY themselves signal the listeners
// during their commit).  Prints one line:
//   n N got G missing M median MS p99 MS max MS min MS call_median MS
// Connects with the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE).
'use strict';
const path = require('path');
const { Client } = require(process.env.PG_MODULE ||
	path.join(__dirname, '..', 'clients', 'node_modules', 'pg'));

const n = parseInt(process.argv[2], 10);
const id = process.argv[3];
const warmup = process.argv[4] === undefined ? 50 : parseInt(process.argv[4], 10);
if (!(n > 0) || !id || !(warmup >= 0)) {
	console.error('usage: node notify_latency.js N ID [WARMUP]');
	process.exit(2);
}

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const committed = new Map(); // version -> ms
const received = new Map(); // version -> ms
let bad = 0;

function quantile(sorted, q) {
	if (sorted.length === 0) return NaN;
	const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
	return sorted[i];
}

async function main() {
	const writer = new Client({ application_name: 'notify_latency_writer' });
	const listener = new Client({ application_name: 'notify_latency_listener' });
	for (const c of [writer, listener]) {
		c.on('error', (e) => {
			console.error(e.message);
			process.exit(1);
		});
		c.on('notice', () => {}); // the direct mode's one-time warning
		await c.connect();
	}
	const channel = (await writer.query('SELECT assoc.channel($1, $2) AS c',
		['bench', id])).rows[0].c;
	listener.on('notification', (msg) => {
		const t = now();
		let p;
		try {
			p = JSON.parse(msg.payload);
		} catch (e) {
			bad++;
			return;
		}
		for (const e of Array.isArray(p) ? p : [p]) {
			if (e.id !== id) {
				bad++;
				continue;
			}
			const v = Number(e.v);
			if (!received.has(v)) received.set(v, t);
		}
	});
	await listener.query(`LISTEN ${channel}`);

	const sql = 'SELECT assoc.set_multi($1, $2, $3::jsonb) AS v';
	const calls = [];
	for (let i = 0; i < warmup + n; i++) {
		const patches = JSON.stringify([
			{ path: 'profile.score', data: i },
			{ path: 'counters.c3', data: i * 7 },
			{ path: 'status', data: 's' + i },
		]);
		const t0 = now();
		const r = await writer.query(sql, ['bench', id, patches]);
		const t1 = now();
		if (i >= warmup) {
			committed.set(Number(r.rows[0].v), t1);
			calls.push(t1 - t0);
		}
	}
	// Wait for the stragglers (at most 10 s).
	const deadline = now() + 10000;
	const allIn = () => [...committed.keys()].every((v) => received.has(v));
	while (!allIn() && now() < deadline) await new Promise((r) => setTimeout(r, 20));

	const lat = [];
	for (const [v, t] of committed) if (received.has(v)) lat.push(received.get(v) - t);
	lat.sort((a, b) => a - b);
	calls.sort((a, b) => a - b);
	const f = (x) => x.toFixed(2);
	console.log(`n ${committed.size} got ${lat.length} missing ${committed.size - lat.length} ` +
		`median ${f(quantile(lat, 0.5))} p99 ${f(quantile(lat, 0.99))} ` +
		`max ${f(lat[lat.length - 1])} min ${f(lat[0])} ` +
		`call_median ${f(quantile(calls, 0.5))} bad ${bad}`);
	await writer.end();
	await listener.end();
}

main().catch((e) => {
	console.error(e.message);
	process.exit(1);
});
