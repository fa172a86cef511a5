#!/usr/bin/env node
'use strict';
/*
 * Differential test: assoc.patch / path_get / path_set / path_erase /
 * parse_path in the database against the independent JavaScript reference
 * in ./reference/paths.js (written from SPEC §1–§2 only).
 *
 *   npm install --prefix test/clients        # provides node-postgres ("pg")
 *   (or: npm install --prefix /some/dir pg  and  NODE_PATH=/some/dir/node_modules)
 *   PGHOST=/tmp PGPORT=5432 PGUSER=postgres PGDATABASE=postgres \
 *     DIFF_CASES=3000 DIFF_SEED=12345 node test/clients/patch_differential_test.js
 *
 * Environment:
 *   PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD  standard libpq-style connection
 *   DIFF_CASES    number of random patch batches (default 3000)
 *   DIFF_SEED     PRNG seed (default: random; always printed)
 *   DIFF_SINGLE   fraction of cases that also check parse_path/path_get/
 *                 path_set/path_erase per single path (default 0.3)
 *   DIFF_MESSAGES 1 (default) also checks error messages where the spec fixes
 *                 them ("invalid path ..." and naming the forbidden segment);
 *                 0 compares SQLSTATEs only
 *   DIFF_PROBES   1 (default) prints how the database answers the cases the
 *                 spec leaves open (informational, never fails)
 *   DIFF_VERBOSE  1 prints every case
 *
 * The extension must exist in the database (CREATE EXTENSION pg_assoc).
 * Exit status: 0 all equal, 1 first mismatch (printed with seed, document,
 * batch and both results), 2 setup error.
 */

const ref = require('./reference/paths.js');

let pg;
try {
  pg = require('pg');
} catch (e) {
  console.error('node-postgres not found: run `npm install --prefix test/clients` (or set NODE_PATH)');
  process.exit(2);
}

// ---------------------------------------------------------------- settings
const CASES = parseInt(process.env.DIFF_CASES || '3000', 10);
const SEED = process.env.DIFF_SEED !== undefined && process.env.DIFF_SEED !== ''
  ? (parseInt(process.env.DIFF_SEED, 10) >>> 0)
  : (Math.floor(Math.random() * 0xffffffff) >>> 0);
const SINGLE = process.env.DIFF_SINGLE !== undefined ? Number(process.env.DIFF_SINGLE) : 0.3;
const CHECK_MESSAGES = (process.env.DIFF_MESSAGES || '1') !== '0';
const PROBES = (process.env.DIFF_PROBES || '1') !== '0';
const VERBOSE = process.env.DIFF_VERBOSE === '1';

// ---------------------------------------------------------------- PRNG
function mulberry32(a) {
  return function next() {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(SEED);
const chance = (p) => rnd() < p;
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
const pick = (arr) => arr[Math.floor(rnd() * arr.length)];

// ---------------------------------------------------------------- canonical JSON
function canon(v) {
  if (v === undefined) return 'SQL-NULL';
  return JSON.stringify(sortKeys(v));
}
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) {
      Object.defineProperty(out, k, { value: sortKeys(v[k]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return v;
}

// ---------------------------------------------------------------- generators
// Keys that paths can address (no '.', '[', ']', no leading/trailing white space).
const ADDRESSABLE_KEYS = [
  'a', 'b', 'c', 'x', 'y', 'name', 'items', 'personalData', 'firstname', 'children',
  '0', '1', '2', '4', '10', '007', '2147483647',
  'with space', 'ключ', '日本語', 'émoji😀', 'ß', 'Ω',
  '__PROTO__', 'constructors', 'user_proto', 'Prototype', 'CONSTRUCTOR',
  'toString', 'hasOwnProperty', 'valueOf', 'length',
  'a-b', 'a_b', '$', '@id', '#', 'null', 'true', '"q"', 'back\\slash', 'tab\tin',
  // characters that look like white space but are not JavaScript's
  'nel\u0085', '\u200bzw', 'mvs\u180e', 'soft\u00adhy', '\u0085', 'in\u00a0side', 'x\u3000y',
];
// Keys that can live in documents but cannot be written by a path.
const UNADDRESSABLE_KEYS = [' lead', 'trail ', 'dot.ted', 'br[0]', 'x]', '', ' ',
  '\u00a0lead', 'trail\u3000', '\ufeff', '\u2028x', 'y\u1680'];
// Keys that trim (as JavaScript does) to a forbidden name: documents may
// hold them (assoc.patch is pure), has_forbidden_keys must find them.
const FORBIDDEN_DOC_KEYS = ['__proto__', ' constructor', 'prototype\t', '\u00a0__proto__',
  'constructor\u3000', '\ufeffprototype\u2029', '\u2000\u200a__proto__\u205f'];
const STRINGS = ['', 'str', 'Homer', 'ключ', '日本', '😀', 'a.b[1]', 'null', '0', ' spaced ', '\n', 'quote"', 'back\\',
  '\u0001\u001f', '\t', '€', 'x'.repeat(300), '\u2028', '<>&\''];

function genScalar() {
  switch (int(0, 7)) {
    case 0: return null;
    case 1: return chance(0.5);
    case 2: return int(-1000, 1000);
    case 3: return Math.round((rnd() - 0.5) * 1e6) / 100; // two decimals
    case 4: return pick([0, -1, 1e20, 2147483648, 0.5, -0.25, 123456789012]);
    default: return pick(STRINGS);
  }
}

function genKey() {
  if (chance(0.02)) return pick(FORBIDDEN_DOC_KEYS);
  if (chance(0.05)) return pick(UNADDRESSABLE_KEYS);
  if (chance(0.2)) return 'k' + int(0, 30);
  return pick(ADDRESSABLE_KEYS);
}

function genValue(depth) {
  if (depth <= 0 || chance(0.35)) return genScalar();
  if (chance(0.55)) {
    const o = {};
    const n = int(0, 5);
    for (let i = 0; i < n; i++) {
      Object.defineProperty(o, genKey(), { value: genValue(depth - 1), enumerable: true, writable: true, configurable: true });
    }
    return o;
  }
  const n = int(0, 5);
  const a = [];
  for (let i = 0; i < n; i++) a.push(genValue(depth - 1));
  return a;
}

function genDoc() {
  const r = rnd();
  if (r > 0.97) {
    // wide object: many keys of mixed lengths and scripts (jsonb sorts keys by length, then bytes)
    const o = {};
    for (let i = int(20, 80); i > 0; i--) {
      const k = chance(0.5) ? genKey() : pick(['k', 'ж', '日', 'z', 'é', '1']).repeat(int(1, 12)) + (chance(0.3) ? String(int(0, 99)) : '');
      Object.defineProperty(o, k, { value: genValue(int(0, 2)), enumerable: true, writable: true, configurable: true });
    }
    return o;
  }
  if (r > 0.94) {
    // long array below a key
    const a = [];
    for (let i = int(100, 1500); i > 0; i--) a.push(chance(0.9) ? genScalar() : genValue(2));
    return { [pick(['a', 'items', 'children'])]: a, b: genValue(2) };
  }
  if (r < 0.03) return genScalar(); // scalar / null root
  if (r < 0.10) { const a = []; for (let i = int(0, 4); i > 0; i--) a.push(genValue(3)); return a; }
  const o = {};
  for (let i = int(0, 6); i > 0; i--) {
    Object.defineProperty(o, genKey(), { value: genValue(int(1, 4)), enumerable: true, writable: true, configurable: true });
  }
  return o;
}

// JavaScript's white space (what String.prototype.trim() removes).
const WS = [' ', '  ', '\t', '\n', '\r', '\f', '\v', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002',
  '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029',
  '\u202f', '\u205f', '\u3000', '\ufeff', ' \u00a0', '\u3000\t'];

function renderIndex(n) {
  let s = String(n);
  if (chance(0.1)) s = '0'.repeat(int(1, 3)) + s;
  const sp1 = chance(0.1) ? pick(WS) : '';
  const sp2 = chance(0.1) ? pick(WS) : '';
  return `[${sp1}${s}${sp2}]`;
}

/* Render a token list (first must be a key) as path text, with random
 * white space around pieces and empty pieces. */
function renderTokens(tokens) {
  let out = '';
  if (chance(0.03)) out += '.';
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (typeof t === 'number') { out += renderIndex(t); continue; }
    if (i > 0) out += chance(0.05) ? '..' : '.';
    if (chance(0.08)) out += pick(WS);
    out += t;
    // white space may follow the key only if no index follows in this piece
    if (chance(0.08) && typeof tokens[i + 1] !== 'number') out += pick(WS);
  }
  if (chance(0.03)) out += '.';
  return out;
}

/* A random token path walking through `doc` (which may change between entries). */
function genTokens(doc) {
  const tokens = [];
  let node = doc;
  const len = chance(0.15) ? int(4, 7) : int(1, 4);
  for (let i = 0; i < len; i++) {
    const first = i === 0;
    let tok;
    if (Array.isArray(node) && !first) {
      const L = node.length;
      const r = rnd();
      if (r < 0.45 && L > 0) tok = int(0, L - 1);
      else if (r < 0.55) tok = L;
      else if (r < 0.65) tok = L + int(1, 4);
      else if (r < 0.67) tok = L + pick([1023, 1024, 1025, 1026, 5000]);
      else if (r < 0.80) tok = String(L > 0 ? int(0, L) : 0) + ''; // digit key on array
      else if (r < 0.83) tok = '0' + String(int(0, Math.max(L, 1)));
      else if (r < 0.87) tok = pick(['x', 'a', 'name', '1a', '-1', '+1', '1.5']); // non-digit key: rejected for writes
      else if (r < 0.89) tok = pick(['99999999999', '2147483648', '4294967297', '00000000001']);
      else if (r < 0.92) tok = pick([2147483647, 100000]);
      else tok = int(0, 3);
    } else if (Array.isArray(node) && first) {
      // first token is always a key; on an array root use digit keys mostly
      tok = chance(0.8) ? String(int(0, node.length + 2)) : pick(['x', 'a', '01']);
    } else if (node !== null && typeof node === 'object') {
      const keys = Object.keys(node).filter((k) => !UNADDRESSABLE_KEYS.includes(k) && !FORBIDDEN_DOC_KEYS.includes(k)
        && !/[.[\]]/.test(k) && k.trim() === k);
      if (keys.length > 0 && chance(0.7)) tok = pick(keys);
      else tok = genKey();
      if (UNADDRESSABLE_KEYS.includes(tok) || FORBIDDEN_DOC_KEYS.includes(tok)) tok = 'k' + int(0, 30);
      // an index on an object addresses the key "n"
      if (!first && /^[0-9]+$/.test(tok) && tok.length < 10 && chance(0.4)) tok = Number(tok);
    } else {
      // absent, scalar or null: created on write
      tok = first || chance(0.6) ? genKey() : int(0, 4);
      if (UNADDRESSABLE_KEYS.includes(tok) || FORBIDDEN_DOC_KEYS.includes(tok)) tok = 'k' + int(0, 30);
    }
    tokens.push(tok);
    // descend
    if (node !== null && typeof node === 'object') {
      let a;
      if (Array.isArray(node)) {
        const idx = typeof tok === 'number' ? tok : (/^[0-9]+$/.test(tok) ? Number(tok) : -1);
        node = idx >= 0 && idx < node.length ? node[idx] : undefined;
      } else {
        a = typeof tok === 'number' ? String(tok) : tok;
        node = Object.prototype.hasOwnProperty.call(node, a) ? node[a] : undefined;
      }
    } else {
      node = undefined;
    }
  }
  return tokens;
}

const MALFORMED = [
  '', '.', ' ', '..', '[0]', 'a.[1]', 'a[-1]', 'a[x]', 'a[1e2]', 'a[0x2]', 'a[]', 'a[ ]',
  'a[0', 'a]0[', 'a[0]b', 'a[2147483648]', 'a[1]]', 'a[[1]]', 'a[ 1 2 ]', 'a.b[0]c', ']', '[',
];
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

function genPath(doc) {
  const r = rnd();
  if (r < 0.02) return pick(MALFORMED);
  if (r < 0.04) {
    // forbidden segment in a random position
    const tokens = genTokens(doc).filter((t) => typeof t === 'string' || chance(0.5));
    const keysAt = tokens.map((t, i) => (typeof t === 'string' ? i : -1)).filter((i) => i >= 0);
    const pos = keysAt.length > 0 && chance(0.7) ? pick(keysAt) : -1;
    let seg = pick(FORBIDDEN);
    // white space around it, as a client could send it (trimmed, so forbidden)
    if (chance(0.4)) seg = (chance(0.5) ? pick(WS) : '') + seg + (chance(0.5) ? pick(WS) : '');
    if (pos >= 0) tokens[pos] = seg; else tokens.push(seg);
    if (typeof tokens[0] !== 'string') tokens.unshift('a');
    return renderTokens(tokens);
  }
  if (r < 0.045) {
    // too deep
    return Array.from({ length: 129 }, () => 'd').join('.');
  }
  if (r < 0.055) {
    // deep: 100..129 tokens, keys and small indexes mixed
    const tokens = ['deep'];
    for (let i = int(99, 128); i > 0; i--) tokens.push(chance(0.4) ? int(0, 2) : pick(['d', 'e', '0', '1']));
    return renderTokens(tokens);
  }
  if (r < 0.06) {
    // white space between a key and its index ('a [0]' is the key "a ")
    return pick(['a [0]', 'a\t[1].b', 'items [2]', 'b [0][1]', 'a\u00a0[0]', 'items\u3000[1].x', 'b\ufeff[0][2]']);
  }
  const tokens = genTokens(doc);
  if (typeof tokens[0] !== 'string') tokens.unshift(genKey());
  return renderTokens(tokens);
}

function genData() {
  return chance(0.6) ? genScalar() : genValue(int(1, 3));
}

/* A batch of 1..8 entries; paths are generated against the document as the
 * earlier entries leave it (computed with the reference where it succeeds). */
function genBatch(doc) {
  const r0 = rnd();
  if (r0 < 0.01) return pick([[], {}, 'x', 1, null, {path: 'a', data: 1}]);
  const n = int(1, 8);
  const batch = [];
  let cur = doc;
  const used = [];
  for (let i = 0; i < n; i++) {
    let path;
    const r = rnd();
    if (used.length > 0 && r < 0.12) path = pick(used); // duplicate
    else if (used.length > 0 && r < 0.2) {
      // overlapping: extend or shorten an earlier path
      const p = pick(used);
      path = chance(0.5) ? p + pick(['.z', '[0]', '[2]', '.0', ' . k1']) : p.replace(/(\.[^.]*|\[[^\]]*\])$/, '') || p;
    } else path = genPath(cur);
    used.push(path);
    let entry;
    const k = rnd();
    if (k < 0.25) entry = { path };
    else if (k < 0.33) entry = { path, data: null };
    else entry = { path, data: genData() };
    // rare malformed entries
    const m = rnd();
    if (m < 0.006) entry = { path, value: 1 };
    else if (m < 0.009) entry = { path, data: 1, extra: true };
    else if (m < 0.011) entry = pick([1, 'a', null, [], [path]]);
    else if (m < 0.013) entry = { data: 1 };
    else if (m < 0.015) entry = { path: pick([1, null, true, ['a'], { p: 'a' }]), data: 1 };
    else if (m < 0.017) entry = { path: '' };
    batch.push(entry);
    try { cur = ref.patch(cur === undefined ? {} : cur, [entry], refOptions); } catch (e) { /* keep */ }
  }
  return batch;
}

/* Overlap-heavy batches: a tiny vocabulary of keys and indexes so entries
 * keep hitting the same places, changing their types, erasing parents and
 * writing below them again. This is where a one-pass batch apply differs
 * most from applying entries one by one. */
const SMALL_KEYS = ['p', 'q', '0', '1', '01', 'r s'];
function genSmallValue(depth) {
  const r = rnd();
  if (depth <= 0 || r < 0.4) return pick([null, 0, 1, 'v', true, {}, []]);
  if (r < 0.7) {
    const o = {};
    for (let i = int(0, 3); i > 0; i--) o[pick(SMALL_KEYS)] = genSmallValue(depth - 1);
    return o;
  }
  const a = [];
  for (let i = int(0, 4); i > 0; i--) a.push(genSmallValue(depth - 1));
  return a;
}
function genSmallPath() {
  const tokens = [pick(['p', 'q', '0'])];
  for (let i = int(0, 3); i > 0; i--) tokens.push(chance(0.5) ? pick(SMALL_KEYS) : int(0, 4));
  return renderTokens(tokens);
}
function genOverlapCase() {
  const doc = chance(0.9) ? genSmallValue(4) : pick([null, 1, 'x', [], {}]);
  const batch = [];
  for (let i = int(1, 8); i > 0; i--) {
    const path = genSmallPath();
    const k = rnd();
    if (k < 0.3) batch.push({ path });
    else if (k < 0.4) batch.push({ path, data: null });
    else batch.push({ path, data: genSmallValue(2) });
  }
  return { doc, batch };
}

// ---------------------------------------------------------------- running
let refOptions = {};
const notes = new Set();
let client;
const stats = { cases: 0, single: 0, parse: 0, okBoth: 0, rejBoth: 0, probes: 0, per: {} };

async function db(sql, params) {
  try {
    const res = await client.query(sql, params);
    const t = res.rows[0].r;
    return { ok: true, value: t === null ? undefined : JSON.parse(t) };
  } catch (e) {
    if (!e.code) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

function runRef(fn) {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    if (!e.code) throw e; // a bug in the reference itself
    return { ok: false, code: e.code, message: e.message, nullArgument: !!e.nullArgument };
  }
}

function show(v) {
  if (v === undefined) return 'SQL NULL';
  return JSON.stringify(v);
}

function describe(res) {
  return res.ok ? `value ${show(res.value)}` : `ERROR ${res.code}: ${res.message}`;
}

/* Which forbidden segment (if any) a path names, per the reference grammar. */
function forbiddenIn(path) {
  if (typeof path !== 'string') return null;
  for (const raw of path.split('.')) {
    const key = raw.replace(/\[.*$/s, '').trim();
    if (FORBIDDEN.includes(key)) return key;
  }
  return null;
}

/* The verdict on one comparison: null when database and reference agree,
 * otherwise a description of the disagreement. */
function judge(what, dbRes, refRes, paths) {
  if (refRes.ok && dbRes.ok) {
    return canon(refRes.value) !== canon(dbRes.value) ? 'different results' : null;
  }
  if (!refRes.ok && !dbRes.ok) {
    if (dbRes.code === '22004' && refRes.nullArgument) {
      // SPEC §2 only says a NULL erase path / NULL batch is "rejected";
      // 22004 (null_value_not_allowed) is accepted as well, and reported.
      notes.add(`${what}: a NULL ${what === 'patch' ? 'batch' : 'path'} is rejected with 22004 (reference: 22023): "${dbRes.message}"`);
      return null;
    }
    if (dbRes.code !== refRes.code) return `both reject, but SQLSTATE ${dbRes.code} != ${refRes.code}`;
    if (CHECK_MESSAGES) {
      // The spec fixes two things about messages: path errors begin with
      // "invalid path" and forbidden segments are named.
      const forb = (paths || []).map(forbiddenIn).filter(Boolean);
      if (forb.length > 0 && refRes.message.includes('forbidden segment') && !forb.some((x) => dbRes.message.includes(x))) {
        return `message does not name the forbidden segment (${forb.join(', ')})`;
      }
      if (what === 'parse_path' && !/^invalid path/.test(dbRes.message)) {
        return 'path error message does not begin with "invalid path"';
      }
    }
    return null;
  }
  return refRes.ok ? 'database rejects, reference accepts' : 'database accepts, reference rejects';
}

/* Where two JSON values first differ, as a path-like string. */
function firstDifference(x, y, at = '$') {
  if (canon(x) === canon(y)) return null;
  if (Array.isArray(x) && Array.isArray(y)) {
    if (x.length !== y.length) return `${at} (array length ${x.length} vs ${y.length})`;
    for (let i = 0; i < x.length; i++) { const d = firstDifference(x[i], y[i], `${at}[${i}]`); if (d) return d; }
  } else if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x) && !Array.isArray(y)) {
    const kx = Object.keys(x).sort(); const ky = Object.keys(y).sort();
    if (canon(kx) !== canon(ky)) return `${at} (keys ${JSON.stringify(kx)} vs ${JSON.stringify(ky)})`;
    for (const k of kx) { const d = firstDifference(x[k], y[k], `${at}.${JSON.stringify(k)}`); if (d) return d; }
  }
  return `${at}: ${show(x)} vs ${show(y)}`;
}

const clip = (t, n) => (t.length > n ? `${t.slice(0, n)}... (${t.length} chars)` : t);

function report(what, problem, inputs, dbRes, refRes, heading) {
  console.error(`\n${heading || 'MISMATCH'} in ${what}: ${problem}`);
  console.error(`  seed:      ${SEED}  (case ${stats.cases})`);
  for (const [k, v] of Object.entries(inputs)) console.error(`  ${k.padEnd(10)} ${clip(show(v), 20000)}`);
  console.error(`  database:  ${clip(describe(dbRes), 4000)}`);
  console.error(`  reference: ${clip(describe(refRes), 4000)}`);
  if (dbRes.ok && refRes.ok) console.error(`  first difference (database vs reference): ${clip(firstDifference(dbRes.value, refRes.value), 2000)}`);
}

function compare(what, inputs, dbRes, refRes, paths) {
  const per = stats.per[what] || (stats.per[what] = { equal: 0, rejected: 0 });
  const problem = judge(what, dbRes, refRes, paths);
  if (VERBOSE) console.log(`${what} ${JSON.stringify(inputs)} -> ${describe(dbRes)}`);
  if (!problem) {
    if (dbRes.ok) { stats.okBoth++; per.equal++; } else { stats.rejBoth++; per.rejected++; }
    return true;
  }
  report(what, problem, inputs, dbRes, refRes);
  const lit = (v) => (v === undefined || v === null ? 'NULL' : `'${String(v).replace(/'/g, "''")}'`);
  const sqlFor = {
    parse_path: () => `SELECT assoc.parse_path(${lit(inputs.path)});`,
    path_get: () => `SELECT assoc.path_get(${lit(J(inputs.doc))}, ${lit(inputs.path)});`,
    path_set: () => `SELECT assoc.path_set(${lit(J(inputs.doc))}, ${lit(inputs.path)}, ${lit(J(inputs.value))});`,
    path_erase: () => `SELECT assoc.path_erase(${lit(J(inputs.doc))}, ${lit(inputs.path)});`,
  }[what];
  if (sqlFor) console.error(`  SQL:       ${clip(sqlFor(), 20000)}`);
  console.error(`  reproduce: DIFF_SEED=${SEED} DIFF_CASES=${CASES} DIFF_SINGLE=${SINGLE} node test/clients/patch_differential_test.js`);
  return false;
}

const J = (v) => (v === undefined ? null : JSON.stringify(v));

async function evalPatch(doc, batch) {
  const dbRes = await db('SELECT assoc.patch($1::jsonb, $2::jsonb)::text AS r', [J(doc), J(batch)]);
  const refRes = runRef(() => ref.patch(doc, batch, refOptions));
  const paths = Array.isArray(batch) ? batch.map((e) => e && e.path) : [];
  return { dbRes, refRes, problem: judge('patch', dbRes, refRes, paths) };
}

async function checkPatch(doc, batch) {
  const { dbRes, refRes } = await evalPatch(doc, batch);
  const paths = Array.isArray(batch) ? batch.map((e) => e && e.path) : [];
  if (compare('patch', { doc, batch }, dbRes, refRes, paths)) return true;
  await shrinkPatch(doc, batch);
  return false;
}

/* Greedy shrinking of a failing patch case: drop batch entries, then delete
 * or simplify parts of the document and of the data, while the same kind of
 * disagreement remains. Prints the smallest case found. */
async function shrinkPatch(doc0, batch0) {
  if (!Array.isArray(batch0)) return;
  const first = await evalPatch(doc0, batch0);
  const kind = first.problem;
  let doc = doc0;
  let batch = batch0;
  let budget = 2000;
  const still = async (d, b) => {
    if (budget-- <= 0) return false;
    const r = await evalPatch(d, b);
    return r.problem === kind;
  };
  // candidates that are "smaller" than v
  function* smaller(v) {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) yield v.slice(0, i).concat(v.slice(i + 1));
      for (let i = 0; i < v.length; i++) for (const c of smaller(v[i])) { const w = v.slice(); w[i] = c; yield w; }
    } else if (v !== null && typeof v === 'object') {
      const keys = Object.keys(v);
      for (const k of keys) { const w = ref._clone(v); delete w[k]; yield w; }
      for (const k of keys) {
        for (const c of smaller(v[k])) {
          const w = ref._clone(v);
          Object.defineProperty(w, k, { value: c, enumerable: true, writable: true, configurable: true });
          yield w;
        }
      }
    } else if (v !== null && v !== 0 && v !== '') yield (typeof v === 'string' ? '' : typeof v === 'number' ? 0 : null);
  }
  let progress = true;
  while (progress && budget > 0) {
    progress = false;
    for (let i = 0; i < batch.length && batch.length > 1; i++) {
      const b = batch.slice(0, i).concat(batch.slice(i + 1));
      if (await still(doc, b)) { batch = b; i--; progress = true; }
    }
    if (doc !== undefined) {
      for (const d of smaller(doc)) {
        if (await still(d, batch)) { doc = d; progress = true; break; }
        if (budget <= 0) break;
      }
    }
    for (let i = 0; i < batch.length && !progress; i++) {
      const e = batch[i];
      if (!e || typeof e !== 'object' || !Object.prototype.hasOwnProperty.call(e, 'data')) continue;
      for (const c of smaller(e.data)) {
        const b = batch.slice(); b[i] = Object.assign({}, e, { data: c });
        if (await still(doc, b)) { batch = b; progress = true; break; }
        if (budget <= 0) break;
      }
    }
  }
  const last = await evalPatch(doc, batch);
  report('patch', kind, { doc, batch }, last.dbRes, last.refRes, 'SHRUNK');
  console.error(`  SQL:       SELECT assoc.patch('${J(doc).replace(/'/g, "''")}', '${J(batch).replace(/'/g, "''")}');`);
}

async function checkSingle(doc, path, value) {
  stats.single++;
  let ok = true;
  if (path !== null) {
    stats.parse++;
    ok = compare('parse_path', { path },
      await db('SELECT assoc.parse_path($1)::text AS r', [path]),
      runRef(() => ref.parsePath(path, refOptions)), [path]) && ok;
    if (!ok) return false;
  }
  ok = compare('path_get', { doc, path },
    await db('SELECT assoc.path_get($1::jsonb, $2)::text AS r', [J(doc), path]),
    runRef(() => ref.get(doc, path === null ? undefined : path, refOptions)), [path]);
  if (!ok) return false;
  ok = compare('path_set', { doc, path, value },
    await db('SELECT assoc.path_set($1::jsonb, $2, $3::jsonb)::text AS r', [J(doc), path, J(value)]),
    runRef(() => ref.set(doc, path === null ? undefined : path, value, refOptions)), [path]);
  if (!ok) return false;
  ok = compare('path_erase', { doc, path },
    await db('SELECT assoc.path_erase($1::jsonb, $2)::text AS r', [J(doc), path]),
    runRef(() => ref.erase(doc, path === null ? undefined : path, refOptions)), [path]);
  if (!ok) return false;
  return checkForbiddenKeys(doc);
}

/* has_forbidden_keys against the model: keys trimmed as path pieces are. */
async function checkForbiddenKeys(doc) {
  return compare('has_forbidden_keys', { doc },
    await db('SELECT assoc.has_forbidden_keys($1::jsonb)::text AS r', [J(doc)]),
    runRef(() => (doc === undefined ? undefined : ref.hasForbiddenKeys(doc))), []);
}

/* Directed cases: everything the spec or the agreed decisions fix. */
function directedCases() {
  const big = Array.from({ length: 128 }, (_, i) => `k${i}`).join('.');
  const cases = [];
  const P = (doc, batch) => cases.push({ kind: 'patch', doc, batch });
  const S = (doc, path, value) => cases.push({ kind: 'single', doc, path, value });
  S({}, 'a.b[2]', 1);
  S({}, 'x.y.z', 1);
  S({ personalData: { firstname: 'Homer', lastname: 'S' }, children: ['Bart', 'Lisa'] }, 'personalData.firstname', 'Marge');
  S({ personalData: { firstname: 'Homer' }, children: ['Bart', 'Lisa', 'Maggie'] }, 'children[1]', 'X');
  S({ children: ['Bart', 'Lisa'] }, 'children.1', 'X');
  S({ children: ['Bart', 'Lisa'] }, 'children.01', 'X');
  S({ children: ['Bart', 'Lisa'] }, 'children[01]', 'X');
  S({ children: ['Bart', 'Lisa'] }, 'children.x', 'X');
  S({ children: ['Bart', 'Lisa'] }, 'children.99999999999', 'X');
  S({ children: ['Bart', 'Lisa'] }, 'children.2147483648', 'X');
  S({ children: ['Bart', 'Lisa'] }, 'children[2147483647]', 'X');
  S({ children: ['Bart', 'Lisa'] }, 'children[5]', 'X');
  S({ o: { 1: 'one' } }, 'o[01]', 'X');
  S({ o: { 1: 'one' } }, 'o.01', 'X');
  S({}, 'a.4.b', 1);
  S({}, 'a[4].b', 1);
  S({}, 'a[1024]', 1);
  S({}, 'a[1025]', 1);
  S({ a: [1] }, 'a[1025]', 1);
  S({ a: [1] }, 'a[1026]', 1);
  S({}, 'a[1024][1024]', 1);
  S({}, 'a[1025].b', 1);
  S({ a: [] }, 'a[100000]', 1);
  S(5, 'a', 1);
  S(null, 'a[1]', 1);
  S('str', 'a.b', 1);
  S([1, 2], '1', 'x');
  S([1, 2], '0[1]', 'x');
  S([1, 2], 'a', 'x');
  S({ a: 1 }, null, { b: 2 });
  S({ a: 1 }, null, [1]);
  S({ a: 1 }, null, 3);
  S({ a: 1 }, null, 'x');
  S({ a: 1 }, null, null);
  S({ n: null }, 'n', 1);
  S({ n: null }, 'n.x', 1);
  S({ s: 's' }, 's[0]', 1);
  S({ a: 1 }, big, 1);
  S({ a: 1 }, big + '.x', 1);
  S({ a: 1 }, 'a' + '[0]'.repeat(127), 1);
  S({ a: 1 }, 'a' + '[0]'.repeat(128), 1);
  for (const p of ['', '.', ' ', '[0]', 'a.[1]', 'a[-1]', 'a[x]', 'a[1e2]', 'a[0x2]', 'a[]', 'a[ ]',
    'a[0', 'a]0[', 'a[0]b', 'a..b', ' a . b ', 'a[ 1 ]', 'a[2147483648]', 'a[99999999999]']) S({ a: [1, { b: 2 }] }, p, 1);
  for (const seg of FORBIDDEN) {
    for (const p of [seg, `${seg}.a`, `a.${seg}`, `a.${seg}.b`, `arr[0].${seg}`, `${seg}[0]`, ` ${seg} `, `a[1].${seg}[2]`]) {
      S({ a: { b: 1 }, arr: [{}] }, p, 1);
      P({ a: 1 }, [{ path: 'a', data: 2 }, { path: p, data: 1 }]);
    }
  }
  for (const k of ['__PROTO__', 'constructors', 'user_proto']) S({}, `${k}.x`, 1);
  for (const c of WS) {
    S({ a: [1, 2] }, `${c}a${c}[${c}1${c}]${c}`, 'x');
    S({ a: { b: 1 } }, `a.${c}${pick(FORBIDDEN)}${c}`, 1);
    S({}, `a${c}[0]`, 1);
    P({ a: 1 }, [{ path: 'a', data: 2 }, { path: `${c}__proto__[0]`, data: 1 }]);
  }
  for (const k of FORBIDDEN_DOC_KEYS) {
    const doc = {};
    Object.defineProperty(doc, k, { value: { x: 1 }, enumerable: true, writable: true, configurable: true });
    cases.push({ kind: 'forbidden_keys', doc });
    cases.push({ kind: 'forbidden_keys', doc: { a: [doc] } });
  }
  for (const k of ['\u0085__proto__', '__proto__\u200b', 'proto\u00a0type', 'a constructor']) {
    cases.push({ kind: 'forbidden_keys', doc: { [k]: 1 } });
  }
  P({}, [{ path: 'a' }]);
  P({ a: 1 }, [{ path: 'a', data: null }]);
  P({ a: 1 }, [{ path: 'a', value: 1 }]);
  P({ a: 1 }, [{ path: 'a', data: 1, extra: 1 }]);
  P({ a: 1 }, []);
  P({ a: 1 }, {});
  P({ a: 1 }, { path: 'a', data: 1 });
  P({ a: 1 }, [1]);
  P({ a: 1 }, [null]);
  P({ a: 1 }, [{ data: 1 }]);
  P({ a: 1 }, [{ path: '' }]);
  P({ a: 1 }, [{ path: 1 }]);
  P({ a: 1 }, [{ path: null }]);
  P({ a: [] }, [{ path: 'b', data: 1 }, { path: 'a.x', data: 1 }]);
  P({}, [{ path: 'a[1000]', data: 1 }, { path: 'a[2000]', data: 2 }]);
  P({}, [{ path: 'a.b', data: 1 }, { path: 'a', data: [] }, { path: 'a[1]', data: 3 }]);
  P({}, [{ path: 'a', data: [] }, { path: 'a.x', data: 1 }]);
  P({}, [{ path: 'a', data: { z: [1] } }, { path: 'a.z[0]', data: 2 }]);
  P({ a: [1] }, [{ path: 'a.0', data: { x: 1 } }, { path: 'a[0].y', data: 2 }]);
  P(undefined, [{ path: 'a', data: 1 }]);
  P({ a: 1 }, undefined);
  return cases;
}

/* Cases the spec leaves open (or where the spec's wording and the database
 * may differ): print what the database does next to the reference, never
 * fail. Each probe: [label, fn, args] with fn one of the five functions and
 * args JS values (undefined = SQL NULL). */
const VT = '\u000b';
const PROBES_LIST = [
  ["key with trailing space before an index 'a [0]' (key 'a' or 'a '?)", 'parse_path', ['a [0]']],
  ["space between indexes 'a[0] [1]'", 'parse_path', ['a[0] [1]']],
  ["tab inside brackets 'a[\\t1]' (spec: 'optional spaces')", 'parse_path', ['a[\t1]']],
  ["newline inside brackets 'a[1\\n]'", 'parse_path', ['a[1\n]']],
  ["vertical tab inside brackets 'a[\\v1]'", 'parse_path', [`a[${VT}1]`]],
  ["vertical tab trimmed around a piece '\\va\\v'", 'parse_path', [`${VT}a${VT}`]],
  ["NBSP (U+00A0) trimmed as JavaScript's trim() does '\\u00a0a'", 'parse_path', ['\u00a0a']],
  ["NEL (U+0085) is not JavaScript white space '\\u0085__proto__'", 'parse_path', ['\u0085__proto__']],
  ["U+180E is not JavaScript white space", 'parse_path', ['\u180e__proto__']],
  ["fullwidth digit index 'a[１]'", 'parse_path', ['a[１]']],
  ["forbidden key then space before index '__proto__ [0]'", 'parse_path', ['__proto__ [0]']],
  ["index with 11 digits but small value 'a[00000000001]'", 'parse_path', ['a[00000000001]']],
  ["digit key with 11 digits but small value on an array", 'path_set', [{ a: [0, 1] }, 'a.00000000001', 9]],
  ["Arabic-Indic digit key on an array", 'path_set', [{ a: [0, 1] }, 'a.١', 9]],
  ['path_get NULL doc, invalid path', 'path_get', [undefined, '']],
  ['path_set NULL doc, NULL path, scalar value', 'path_set', [undefined, undefined, 1]],
  ['path_set NULL doc, NULL path, object value', 'path_set', [undefined, undefined, {}]],
  ['path_set NULL doc, forbidden path', 'path_set', [undefined, '__proto__', 1]],
  ['path_erase NULL doc, NULL path', 'path_erase', [undefined, undefined]],
  ['path_erase NULL path', 'path_erase', [{ a: 1 }, undefined]],
  ['patch NULL batch', 'patch', [{ a: 1 }, undefined]],
  ['patch NULL doc, NULL batch', 'patch', [undefined, undefined]],
  ['patch NULL doc, empty batch', 'patch', [undefined, []]],
  ['parse_path NULL', 'parse_path', [undefined]],
  ['patch value containing a forbidden key (pure function; §4 rejects it only in the store)', 'patch', [{}, null], '{"__proto__":1}'],
  ['path_set value containing a forbidden key', 'path_set', [{}, 'a', { constructor: 1 }]],
  ['path_set SQL NULL value', 'path_set', [{}, 'a', undefined]],
  ['path_get NULL path on a scalar document', 'path_get', [5, undefined]],
  ["erase digit key past the end of an array 'a.9'", 'path_erase', [{ a: [1] }, 'a.9']],
  ['erase a huge index past the end (no padding)', 'path_erase', [{ a: [1] }, 'a[2147483647]']],
  ["patch entry whose path is only white space", 'patch', [{}, [{ path: ' ' }]]],
];

async function runProbes() {
  console.log('\n-- probes (spec silent or worded loosely; informational, never fail) --');
  let differ = 0;
  for (const [label, fn, args0, dataOverride] of PROBES_LIST) {
    stats.probes++;
    const args = args0.slice();
    // a JS object literal cannot carry "__proto__" as a key; patch probe uses raw JSON
    let params;
    if (fn === 'patch' && dataOverride) {
      params = [J(args[0]), `[{"path":"a","data":${dataOverride}}]`];
      args[1] = JSON.parse(params[1]);
    } else {
      params = args.map((v, i) => (fn === 'parse_path' || i === 1 && fn !== 'patch' ? (v === undefined ? null : v) : J(v)));
    }
    const sql = {
      parse_path: 'SELECT assoc.parse_path($1)::text AS r',
      path_get: 'SELECT assoc.path_get($1::jsonb, $2)::text AS r',
      path_set: 'SELECT assoc.path_set($1::jsonb, $2, $3::jsonb)::text AS r',
      path_erase: 'SELECT assoc.path_erase($1::jsonb, $2)::text AS r',
      patch: 'SELECT assoc.patch($1::jsonb, $2::jsonb)::text AS r',
    }[fn];
    const dbRes = await db(sql, params);
    const refRes = runRef(() => {
      switch (fn) {
        case 'parse_path': return args[0] === undefined ? undefined : ref.parsePath(args[0], refOptions);
        case 'path_get': return ref.get(args[0], args[1], refOptions);
        case 'path_set': return ref.set(args[0], args[1], args[2], refOptions);
        case 'path_erase': return ref.erase(args[0], args[1], refOptions);
        default: return ref.patch(args[0], args[1], refOptions);
      }
    });
    const same = dbRes.ok === refRes.ok && (dbRes.ok ? canon(dbRes.value) === canon(refRes.value) : dbRes.code === refRes.code);
    if (!same) differ++;
    console.log(`  ${same ? '  ' : '≠ '}${label}\n        database:  ${describe(dbRes)}\n        reference: ${describe(refRes)}`);
  }
  console.log(`  (${differ} of ${PROBES_LIST.length} probes differ from the reference)`);
}

async function main() {
  console.log(`patch_differential: DIFF_SEED=${SEED} DIFF_CASES=${CASES} DIFF_SINGLE=${SINGLE}`);
  client = new pg.Client();
  await client.connect();
  const fns = await client.query(`SELECT array_agg(p.proname::text) AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                                  WHERE n.nspname = 'assoc' AND p.proname IN ('parse_path','path_get','path_set','path_erase','patch')`);
  const have = fns.rows[0].f || [];
  if (have.length < 5) {
    console.error(`assoc path functions missing (found: ${have.join(', ') || 'none'}); CREATE EXTENSION pg_assoc first`);
    await client.end();
    process.exit(2);
  }
  // Use the server's limits (superuser settings) if it exposes them.
  const s = await client.query(`SELECT current_setting('assoc.max_path_depth', true) AS d, current_setting('assoc.max_padding', true) AS p`);
  if (s.rows[0].d) refOptions.maxPathDepth = parseInt(s.rows[0].d, 10);
  if (s.rows[0].p) refOptions.maxPadding = parseInt(s.rows[0].p, 10);
  console.log(`limits: ${JSON.stringify(Object.assign({}, ref.DEFAULTS, refOptions))}`);

  const t0 = Date.now();
  // 1. directed cases
  let directed = 0;
  for (const c of directedCases()) {
    directed++;
    const ok = c.kind === 'patch' ? await checkPatch(c.doc, c.batch)
      : c.kind === 'forbidden_keys' ? await checkForbiddenKeys(c.doc)
        : await checkSingle(c.doc, c.path, c.value);
    if (!ok) { console.error('  (directed case)'); await client.end(); process.exit(1); }
  }
  console.log(`directed cases: ${directed} ok`);

  // 2. random cases
  for (let i = 0; i < CASES; i++) {
    stats.cases = i + 1;
    let doc;
    let batch;
    if (chance(0.35)) ({ doc, batch } = genOverlapCase());
    else {
      doc = chance(0.005) ? undefined : genDoc();
      batch = genBatch(doc);
    }
    if (!(await checkPatch(doc, batch))) { await client.end(); process.exit(1); }
    if (chance(SINGLE)) {
      const path = chance(0.03) ? null : genPath(doc);
      const value = chance(0.05) ? undefined : genData();
      if (!(await checkSingle(doc, path, value))) { await client.end(); process.exit(1); }
    }
    if ((i + 1) % 1000 === 0) console.log(`  ${i + 1} cases...`);
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`random cases: ${CASES} patch batches, ${stats.single} single-path checks (${stats.parse} parse_path) in ${secs}s`);
  console.log(`outcomes: ${stats.okBoth} equal results, ${stats.rejBoth} rejected by both (22023)`);
  for (const [k, v] of Object.entries(stats.per)) console.log(`  ${k.padEnd(10)} equal ${v.equal}, rejected by both ${v.rejected}`);
  if (notes.size > 0) {
    console.log('\n-- accepted differences where the spec is silent --');
    for (const n of notes) console.log(`  ${n}`);
  }
  if (PROBES) await runProbes();
  await client.end();
  console.log(`\nOK: no mismatches (seed ${SEED})`);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
