#!/usr/bin/env node
'use strict';
/*
 * Keyset paging of assoc.search under concurrent writes (README, "Search"),
 * through node-postgres:
 *
 *   * one connection walks a search page by page, passing each answer's
 *     "next" as "after", ordered by a value with many ties and a name
 *     ("rank desc, name");
 *   * meanwhile another connection changes the rank of other records,
 *     removes some, and creates new ones, between and during the pages;
 *   * every record that was present throughout the walk and whose sort
 *     values never changed is returned exactly once, and those records come
 *     back in the search's order; the walk ends (next is null).
 *
 *   PGHOST=/tmp PGPORT=5432 PGUSER=postgres PGDATABASE=postgres \
 *     node test/clients/search_paging_test.js
 *
 * Needs CREATE EXTENSION pg_assoc in the database.  Exit status 0 when every
 * check passes, 1 otherwise.
 */

const crypto = require('crypto');
const { Client } = require('pg');

const N = 400;          // records at the start
const RANKS = 12;       // distinct ranks: many ties
const PAGE = 7;         // page size of the walk
const WALKS = 3;        // walks, each with its own concurrent writer
const NS = 'searchjs_' + crypto.randomBytes(6).toString('hex');

let failures = 0;
function check(ok, what) {
  if (ok) {
    console.log('ok - ' + what);
  } else {
    failures++;
    console.log('not ok - ' + what);
  }
}

/*
 * The order of "rank desc, name" with the id as tie-break.  A record the
 * writer removed and then set again has a rank and no name: a missing
 * value sorts after every value in ascending order.
 */
function compare(a, b) {
  if (a.rank !== b.rank) return b.rank - a.rank;
  if (a.name !== b.name) {
    if (a.name == null) return 1;
    if (b.name == null) return -1;
    return a.name < b.name ? -1 : 1;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/* Records r0..r(N-1); a third of them (id % 3 == 0) are the writer's. */
async function load(db) {
  await db.query('SELECT assoc.create_namespace($1)', [NS]);
  await db.query(
    `SELECT count(assoc.create($1, jsonb_build_object('rank', i % $2, 'name', 'n' || lpad((i * 7919 % $3)::text, 4, '0')),
                               '{}', 'r' || i))
       FROM generate_series(0, $3 - 1) i`, [NS, RANKS, N]);
  const rows = await db.query(
    `SELECT id, (data->>'rank')::int AS rank, data->>'name' AS name FROM assoc.records WHERE ns = $1`, [NS]);
  return rows.rows;
}

/*
 * The writer: until told to stop, change the rank of one of its records,
 * remove one, or create a new one, in short transactions.  Returns the ids
 * it touched.
 */
async function writer(db, state, walk) {
  const touched = new Set();
  let n = 0;
  while (!state.done) {
    const pick = 'r' + (3 * Math.floor(Math.random() * (N / 3)));
    const op = n % 3;
    if (op === 0) {
      await db.query('SELECT assoc.set($1, $2, $3, $4::jsonb)',
        [NS, pick, 'rank', String(Math.floor(Math.random() * RANKS))]);
      touched.add(pick);
    } else if (op === 1) {
      await db.query('SELECT assoc.remove($1, $2)', [NS, pick]);
      touched.add(pick);
    } else {
      const id = `w${walk}_${n}`;
      await db.query('SELECT assoc.create($1, $2::jsonb, $3, $4)',
        [NS, JSON.stringify({ rank: Math.floor(Math.random() * RANKS), name: 'n' + n }), '{}', id]);
      touched.add(id);
    }
    n++;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return touched;
}

/* The walk: every page through after; returns the rows in order. */
async function walkSearch(db, state) {
  const seen = [];
  let after = null;
  let pages = 0;
  try {
    for (;;) {
      const r = await db.query(
        `SELECT assoc.search($1, page_size => $2, order_by => 'rank desc, name', after => $3) AS a`,
        [NS, PAGE, after]);
      const answer = r.rows[0].a;
      for (const item of answer.data) {
        seen.push({ id: item.id, rank: item.data.rank, name: item.data.name === undefined ? null : item.data.name });
      }
      pages++;
      after = answer.next;
      if (after === null) break;
      if (pages > 10 * N) throw new Error('the walk does not end');
    }
  } finally {
    state.done = true;
  }
  return { seen, pages };
}

async function main() {
  const pager = new Client();
  const other = new Client();
  await pager.connect();
  await other.connect();
  const initial = await load(pager);

  try {
    for (let walk = 1; walk <= WALKS; walk++) {
      const before = new Map((await pager.query(
        `SELECT id, (data->>'rank')::int AS rank, data->>'name' AS name FROM assoc.records WHERE ns = $1`,
        [NS])).rows.map((r) => [r.id, r]));
      const state = { done: false };
      const [{ seen, pages }, touched] = await Promise.all([walkSearch(pager, state), writer(other, state, walk)]);

      const stable = [...before.values()].filter((r) => !touched.has(r.id)).sort(compare);
      const count = new Map();
      for (const s of seen) count.set(s.id, (count.get(s.id) || 0) + 1);
      const missing = stable.filter((r) => !count.has(r.id)).map((r) => r.id);
      const repeated = stable.filter((r) => count.get(r.id) > 1).map((r) => r.id);
      check(touched.size > 0 && pages > 1,
        `walk ${walk}: ${pages} pages while the writer touched ${touched.size} records`);
      check(missing.length === 0, `walk ${walk}: no untouched record missed` +
        (missing.length ? ` (missed ${missing.slice(0, 5).join(', ')})` : ''));
      check(repeated.length === 0, `walk ${walk}: no untouched record repeated` +
        (repeated.length ? ` (repeated ${repeated.slice(0, 5).join(', ')})` : ''));
      const order = seen.filter((s) => !touched.has(s.id)).map((s) => s.id);
      check(order.join() === stable.map((r) => r.id).join(),
        `walk ${walk}: the ${stable.length} untouched records in the search's order`);
    }
    check(initial.length === N, `${N} records loaded`);

    // Without writers, a walk returns exactly the namespace, in order;
    // records without a name come last among their rank.
    await pager.query(`SELECT assoc.set($1, 'nameless' || i, 'rank', '5') FROM generate_series(1, 3) i`, [NS]);
    const state = { done: false };
    const { seen } = await walkSearch(pager, state);
    const all = (await pager.query(
      `SELECT id, (data->>'rank')::int AS rank, data->>'name' AS name FROM assoc.records WHERE ns = $1`,
      [NS])).rows.sort(compare);
    const at = all.findIndex((r, i) => !seen[i] || seen[i].id !== r.id);
    if (at >= 0 || seen.length !== all.length) {
      console.log('# first difference at ' + at + ': search ' + JSON.stringify(seen.slice(Math.max(at - 2, 0), at + 3)) +
        ', table ' + JSON.stringify(all.slice(Math.max(at - 2, 0), at + 3)));
    }
    check(seen.map((s) => s.id).join() === all.map((r) => r.id).join(),
      `a quiet walk returns all ${all.length} records once, in order`);
  } finally {
    await pager.query('SELECT assoc.drop_namespace($1)', [NS]);
    await pager.end();
    await other.end();
  }
  console.log(failures === 0 ? 'all checks passed' : `${failures} checks failed`);
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
