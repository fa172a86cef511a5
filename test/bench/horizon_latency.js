// Commit-to-delivery latency of assoc.changes for test/bench/horizon_bench.sh.
//
//   node horizon_latency.js N TIMEOUT_MS [HOLD_DB]
//
// One writer connection makes N sequential assoc.set calls on namespace
// 'hz' (each its own transaction) and notes the time each call returns
// (the commit is then done); a reader connection then polls
// assoc.changes('hz', last cursor) every millisecond until the entry is
// there, or TIMEOUT_MS have passed.  Latency = arrival - commit return.
// With HOLD_DB, a third connection to that database first runs BEGIN and
// takes an xid, and holds it, idle, until the end.
// Prints one line:
//   n N got G missing M median MS p99 MS max MS
// Connects with the libpq environment (PGHOST, PGPORT, PGUSER, PGDATABASE).
'use strict';
const path = require('path');
const { Client } = require(process.env.PG_MODULE ||
	path.join(__dirname, '..', 'clients', 'node_modules', 'pg'));

const n = parseInt(process.argv[2], 10);
const timeout = parseInt(process.argv[3], 10);
const holdDb = process.argv[4];
if (!(n > 0) || !(timeout > 0)) {
	console.error('usage: node horizon_latency.js N TIMEOUT_MS [HOLD_DB]');
	process.exit(2);
}

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function quantile(sorted, q) {
	if (sorted.length === 0) return NaN;
	const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
	return sorted[i];
}

async function connect(options) {
	const c = new Client(options);
	c.on('error', (e) => {
		console.error(e.message);
		process.exit(1);
	});
	await c.connect();
	return c;
}

async function main() {
	const writer = await connect({ application_name: 'horizon_writer' });
	const reader = await connect({ application_name: 'horizon_reader' });
	let holder = null;
	if (holdDb) {
		holder = await connect({ application_name: 'horizon_holder', database: holdDb });
		await holder.query('BEGIN');
		await holder.query('SELECT pg_current_xact_id()');
	}
	let cursor = (await reader.query("SELECT assoc.head('hz') AS c")).rows[0].c;
	const lat = [];
	for (let i = 0; i < n; i++) {
		const r = await writer.query("SELECT assoc.set('hz', 'r', 'n', $1::jsonb) AS v", [String(i)]);
		const t1 = now();
		const v = Number(r.rows[0].v);
		let seen = false;
		while (!seen && now() - t1 < timeout) {
			const c = await reader.query(
				"SELECT cursor, id, version FROM assoc.changes('hz', $1)", [cursor]);
			for (const row of c.rows) {
				cursor = row.cursor;
				if (Number(row.version) === v) seen = true;
			}
			if (!seen) await sleep(1);
		}
		if (seen) lat.push(now() - t1);
	}
	lat.sort((a, b) => a - b);
	const f = (x) => (Number.isNaN(x) ? 'NaN' : x.toFixed(2));
	console.log(`n ${n} got ${lat.length} missing ${n - lat.length} ` +
		`median ${f(quantile(lat, 0.5))} p99 ${f(quantile(lat, 0.99))} ` +
		`max ${f(lat.length ? lat[lat.length - 1] : NaN)}`);
	if (holder) await holder.query('ROLLBACK');
	for (const c of [writer, reader, holder]) if (c) await c.end();
}

main().catch((e) => {
	console.error(e.message);
	process.exit(1);
});
