'use strict';
/*
 * Independent JavaScript reference implementation of SPEC §1 (paths) and
 * §2 (document functions) of pg_assoc, written from the specification only.
 * It exists so that test/clients/patch_differential.js can compare the C
 * implementation (assoc.parse_path / path_get / path_set / path_erase /
 * patch) against something written without looking at the C sources.
 *
 * Conventions:
 *   - JSON values are plain JS values (objects, arrays, strings, numbers,
 *     booleans, null).
 *   - SQL NULL is represented by `undefined` (a NULL document, a NULL path,
 *     the NULL result of get).
 *   - Every failure throws a PathError whose .code is the SQLSTATE ('22023').
 *   - All functions are pure: inputs are never mutated.
 *   - Options object { maxPathDepth = 128, maxPadding = 1024,
 *     nullDocFirst = false } may be passed as the last argument of every
 *     function.
 */

// nullDocFirst: false (default) validates the other arguments before a NULL
// document short-cuts to NULL (so an invalid path is an error even on a NULL
// document); true returns NULL for a NULL document without looking further.
const DEFAULTS = Object.freeze({ maxPathDepth: 128, maxPadding: 1024, nullDocFirst: false });
const INT32_MAX = 2147483647;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
// White space is JavaScript's own: String.prototype.trim() around pieces
// and keys, and \s (the same set) inside brackets, as a deepstream client
// reads a path.

class PathError extends Error {
  constructor(message, code = '22023') {
    super(message);
    this.name = 'PathError';
    this.code = code;
  }
}

/* A rejected NULL argument (NULL path for erase, NULL batch). The spec says
 * only "rejected"; the code stays 22023 (SPEC §7 "invalid patch") and the
 * error is tagged so the differential test can tell these apart. */
function nullArg(message) {
  const e = new PathError(message);
  e.nullArgument = true;
  return e;
}

function opts(o) {
  return Object.assign({}, DEFAULTS, o || {});
}

function hasOwn(obj, key) {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function isContainer(v) {
  return v !== null && typeof v === 'object';
}

function isObject(v) {
  return isContainer(v) && !Array.isArray(v);
}

/* Set an own data property, safe even for "__proto__" (documents may carry
 * such keys even though paths can never name them). */
function putKey(obj, key, value) {
  Object.defineProperty(obj, key, {
    value, writable: true, enumerable: true, configurable: true,
  });
}

/* Deep copy keeping every own key as an own data property. */
function clone(v) {
  if (Array.isArray(v)) return v.map(clone);
  if (isContainer(v)) {
    const out = {};
    for (const k of Object.keys(v)) putKey(out, k, clone(v[k]));
    return out;
  }
  return v;
}

function invalid(path, why) {
  return new PathError(`invalid path ${JSON.stringify(path)}: ${why}`);
}

/* Parse a decimal digit string (leading zeros allowed) into a number, or
 * return -1 if it exceeds INT32_MAX. */
function digitsValue(d) {
  const stripped = d.replace(/^0+/, '') || '0';
  if (stripped.length > 10) return -1;
  const n = Number(stripped);
  return n > INT32_MAX ? -1 : n;
}

const DIGITS_RE = /^[0-9]+$/;
const INDEX_RE = /^\[\s*([0-9]+)\s*\]/; // \s is the white space trim() removes

/**
 * parsePath(text) -> array of tokens: strings for keys, numbers for indexes.
 * Throws PathError (code 22023) for invalid or forbidden paths.
 */
function parsePath(text, options) {
  const o = opts(options);
  if (typeof text !== 'string') throw invalid(text, 'path must be a string');
  const tokens = [];
  for (const raw of text.split('.')) {
    const piece = raw.trim();
    if (piece.length === 0) continue;
    const lb = piece.indexOf('[');
    const key = lb < 0 ? piece : piece.slice(0, lb);
    if (key.length === 0) throw invalid(text, 'empty key');
    if (key.includes(']')) throw invalid(text, 'stray "]"');
    if (FORBIDDEN.has(key.trim())) {
      throw new PathError(`invalid path ${JSON.stringify(text)}: forbidden segment "${key.trim()}"`);
    }
    tokens.push(key);
    let rest = lb < 0 ? '' : piece.slice(lb);
    while (rest.length > 0) {
      const m = INDEX_RE.exec(rest);
      if (!m) throw invalid(text, 'bad index');
      const n = digitsValue(m[1]);
      if (n < 0) throw invalid(text, 'index out of range');
      tokens.push(n);
      rest = rest.slice(m[0].length);
    }
  }
  if (tokens.length === 0) throw invalid(text, 'empty path');
  if (tokens.length > o.maxPathDepth) throw invalid(text, 'too many tokens');
  return tokens;
}

/* How a token addresses a child of container `node`:
 *   {kind:'key', key}     on an object
 *   {kind:'elem', index}  on an array
 *   {kind:'bad', why}     non-digit key (or out-of-range digit key) on an array */
function address(node, tok) {
  if (Array.isArray(node)) {
    if (typeof tok === 'number') return { kind: 'elem', index: tok };
    if (DIGITS_RE.test(tok)) {
      const n = digitsValue(tok);
      if (n < 0) return { kind: 'bad', why: `array index "${tok}" out of range` };
      return { kind: 'elem', index: n };
    }
    return { kind: 'bad', why: `key "${tok}" on an array` };
  }
  return { kind: 'key', key: typeof tok === 'number' ? String(tok) : tok };
}

/**
 * get(doc, path) -> value, or undefined for SQL NULL.
 * path undefined/null -> whole document.
 */
function get(doc, path, options) {
  const o = opts(options);
  if (o.nullDocFirst && doc === undefined) return undefined;
  if (path === undefined || path === null) return clone(doc);
  const tokens = parsePath(path, o);
  if (doc === undefined) return undefined;
  let node = doc;
  for (const tok of tokens) {
    if (!isContainer(node)) return undefined;
    const a = address(node, tok);
    if (a.kind === 'bad') return undefined;
    if (a.kind === 'key') {
      if (!hasOwn(node, a.key)) return undefined;
      node = node[a.key];
    } else {
      if (a.index >= node.length) return undefined;
      node = node[a.index];
    }
  }
  return clone(node);
}

function newContainerFor(tok) {
  return typeof tok === 'number' ? [] : {};
}

/* Ensure array `arr` has a slot at `index`, padding with nulls; enforce
 * maxPadding: the nulls one call (set, erase or a whole patch batch) pads
 * into all its arrays, counted in `padded.n` (one counter per call), may not
 * exceed it. Returns nothing; afterwards arr.length > index. */
function padTo(arr, index, o, path, padded) {
  if (index >= arr.length) {
    const pad = index - arr.length;
    const total = padded.n + pad;
    if (total > o.maxPadding) {
      throw new PathError(`invalid path ${JSON.stringify(path)}: padding ${pad} nulls (${total} in this write) exceeds max_padding ${o.maxPadding}`);
    }
    padded.n = total;
    while (arr.length <= index) arr.push(null);
  }
}

/* Walk `tokens` on the (already cloned, mutable) root holder, creating
 * intermediates as set does; returns {container, addr} for the last token.
 * `holder` is {v: root}, so the root can be replaced like any other node. */
function walkForWrite(holder, tokens, o, path, padded) {
  if (!isContainer(holder.v)) holder.v = newContainerFor(tokens[0]);
  let node = holder.v;
  for (let i = 0; i < tokens.length - 1; i++) {
    const a = address(node, tokens[i]);
    if (a.kind === 'bad') throw new PathError(`invalid path ${JSON.stringify(path)}: ${a.why}`);
    let child;
    if (a.kind === 'key') {
      child = hasOwn(node, a.key) ? node[a.key] : undefined;
      if (!isContainer(child)) {
        child = newContainerFor(tokens[i + 1]);
        putKey(node, a.key, child);
      }
    } else {
      child = a.index < node.length ? node[a.index] : undefined;
      if (!isContainer(child)) {
        padTo(node, a.index, o, path, padded);
        child = newContainerFor(tokens[i + 1]);
        node[a.index] = child;
      }
    }
    node = child;
  }
  const last = address(node, tokens[tokens.length - 1]);
  if (last.kind === 'bad') throw new PathError(`invalid path ${JSON.stringify(path)}: ${last.why}`);
  return { container: node, addr: last };
}

function setTokens(holder, tokens, value, o, path, padded) {
  const { container, addr } = walkForWrite(holder, tokens, o, path, padded);
  if (addr.kind === 'key') {
    putKey(container, addr.key, clone(value));
  } else {
    padTo(container, addr.index, o, path, padded);
    container[addr.index] = clone(value);
  }
}

function eraseTokens(holder, tokens, o, path, padded) {
  const { container, addr } = walkForWrite(holder, tokens, o, path, padded);
  if (addr.kind === 'key') {
    delete container[addr.key];
  } else if (addr.index < container.length) {
    container[addr.index] = null;
  }
}

/**
 * set(doc, path, value) -> new document. value undefined = SQL NULL = JSON null.
 * doc undefined -> undefined. path undefined/null -> value (must be object or array).
 */
function set(doc, path, value, options) {
  const o = opts(options);
  if (value === undefined) value = null;
  if (o.nullDocFirst && doc === undefined) return undefined;
  if (path === undefined || path === null) {
    if (!isContainer(value)) throw new PathError('invalid value: a whole-document set needs an object or an array');
    return doc === undefined ? undefined : clone(value);
  }
  const tokens = parsePath(path, o);
  if (doc === undefined) return undefined;
  const holder = { v: clone(doc) };
  setTokens(holder, tokens, value, o, path, { n: 0 });
  return holder.v;
}

/**
 * erase(doc, path) -> new document. doc undefined -> undefined.
 * path undefined/null -> rejected.
 */
function erase(doc, path, options) {
  const o = opts(options);
  if (o.nullDocFirst && doc === undefined) return undefined;
  if (path === undefined || path === null) throw nullArg('invalid path: NULL path cannot be erased');
  const tokens = parsePath(path, o);
  if (doc === undefined) return undefined;
  const holder = { v: clone(doc) };
  eraseTokens(holder, tokens, o, path, { n: 0 });
  return holder.v;
}

/* Validate a patch batch; returns [{tokens, path, erase, data}]. */
function validatePatches(patches, o) {
  if (patches === undefined || patches === null) throw nullArg('invalid patch: NULL batch');
  if (!Array.isArray(patches)) throw new PathError('invalid patch: batch must be a JSON array');
  if (patches.length === 0) throw new PathError('invalid patch: batch is empty');
  return patches.map((e, i) => {
    if (!isObject(e)) throw new PathError(`invalid patch: entry ${i} is not an object`);
    for (const k of Object.keys(e)) {
      if (k !== 'path' && k !== 'data') throw new PathError(`invalid patch: entry ${i} has unknown member "${k}"`);
    }
    if (!hasOwn(e, 'path') || typeof e.path !== 'string') throw new PathError(`invalid patch: entry ${i} needs a string "path"`);
    if (e.path.length === 0) throw new PathError(`invalid patch: entry ${i} has an empty path`);
    const tokens = parsePath(e.path, o);
    return { tokens, path: e.path, erase: !hasOwn(e, 'data'), data: e.data };
  });
}

/**
 * patch(doc, patches) -> new document. All entries are validated first (a
 * NULL or invalid batch is rejected even for a NULL document); a NULL
 * document then gives undefined. Any failing entry rejects the whole call.
 */
function patch(doc, patches, options) {
  const o = opts(options);
  if (o.nullDocFirst && doc === undefined) return undefined;
  const entries = validatePatches(patches, o);
  if (doc === undefined) return undefined;
  const holder = { v: clone(doc) };
  const padded = { n: 0 }; // one write: padding counts across entries
  for (const e of entries) {
    if (e.erase) eraseTokens(holder, e.tokens, o, e.path, padded);
    else setTokens(holder, e.tokens, e.data, o, e.path, padded);
  }
  return holder.v;
}

/** True if any object key anywhere in doc, trimmed as path pieces are, is a
 * forbidden segment name. */
function hasForbiddenKeys(doc) {
  if (Array.isArray(doc)) return doc.some(hasForbiddenKeys);
  if (isContainer(doc)) {
    return Object.keys(doc).some((k) => FORBIDDEN.has(k.trim()) || hasForbiddenKeys(doc[k]));
  }
  return false;
}

module.exports = {
  parsePath,
  get,
  set,
  erase,
  patch,
  hasForbiddenKeys,
  validatePatches,
  PathError,
  DEFAULTS,
  FORBIDDEN,
  INT32_MAX,
  _clone: clone,
};
