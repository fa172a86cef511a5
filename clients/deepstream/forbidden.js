'use strict';
/*
 * pg_assoc's rules for forbidden names and for text it can store, for code
 * that must refuse a write before it reaches the database (README: "Paths",
 * "Forbidden segments").
 *
 * A path piece or an object key is forbidden when, trimmed of white space
 * as String.prototype.trim() trims it, it is exactly `__proto__`,
 * `constructor` or `prototype`. This is the rule pg_assoc applies to paths
 * and to stored keys, and it is the rule a JavaScript server must apply
 * too: deepstream trims each piece of a path before it uses it as a key.
 */

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/* The forbidden name `text` trims to, or null. */
function forbiddenName(text) {
  const name = String(text).trim();
  return FORBIDDEN.has(name) ? name : null;
}

/*
 * The first forbidden name a path uses, or null. The path is read as both
 * pg_assoc and deepstream read it: split on `.`, each piece trimmed, the key
 * being what precedes the first `[`. Bracketed parts are checked too, so a
 * path that is not an index (`a[__proto__]`) is refused as well.
 */
function forbiddenInPath(path) {
  if (typeof path !== 'string') return null;
  for (const raw of path.split('.')) {
    for (const part of raw.trim().split(/[[\]]/)) {
      const name = forbiddenName(part);
      if (name) return name;
    }
  }
  return null;
}

/*
 * The first non-null answer of `visitKey` for an object key or of
 * `visitString` for a string anywhere in a JSON value, or null. The walk
 * uses its own stack rather than recursion, so a deeply nested document
 * (JSON parsing has no depth limit) cannot exhaust the caller's stack.
 */
function findInValue(value, visitKey, visitString) {
  const stack = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      const found = visitString(v);
      if (found) return found;
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    for (const key of Object.keys(v)) {
      const found = visitKey(key);
      if (found) return found;
      stack.push(v[key]);
    }
  }
  return null;
}

/* The first forbidden key anywhere in a JSON value, or null. */
function forbiddenInValue(value) {
  return findInValue(value, forbiddenName, () => null);
}

/* A UTF-16 surrogate without its pair: UTF-8, and so jsonb, cannot hold it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/* What in a string PostgreSQL's jsonb cannot store, or null. */
function unstorableText(text) {
  if (text.includes('\0')) return 'a NUL character';
  if (LONE_SURROGATE.test(text)) return 'a lone UTF-16 surrogate';
  return null;
}

/*
 * What in a JSON value PostgreSQL's jsonb cannot store (a string or key
 * with NUL or a lone surrogate), or null.
 */
function unstorableInValue(value) {
  return findInValue(value, unstorableText, unstorableText);
}

module.exports = { forbiddenName, forbiddenInPath, forbiddenInValue, unstorableText, unstorableInValue };
