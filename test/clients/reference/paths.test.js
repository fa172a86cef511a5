'use strict';
// Unit tests of the JS reference (SPEC §1–§2). Run: node --test test/clients/reference/
const test = require('node:test');
const assert = require('node:assert/strict');
const ref = require('./paths.js');

const { parsePath, get, set, erase, patch } = ref;

function rejects(fn, re) {
  assert.throws(fn, (e) => {
    assert.equal(e.code, '22023', `code of ${e.message}`);
    if (re) assert.match(e.message, re);
    return true;
  });
}

function deepFreeze(v) {
  if (v !== null && typeof v === 'object') {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze(v[k]);
  }
  return v;
}

test('parse_path: SPEC example and grammar', () => {
  assert.deepEqual(parsePath('a.b[2]'), ['a', 'b', 2]);
  assert.deepEqual(parsePath('a..b'), ['a', 'b']);
  assert.deepEqual(parsePath('a.b'), ['a', 'b']);
  assert.deepEqual(parsePath(' a . b '), ['a', 'b']);
  assert.deepEqual(parsePath('\ta\n.\r b\f'), ['a', 'b']);
  assert.deepEqual(parsePath('.a.'), ['a']);
  assert.deepEqual(parsePath('children[1]'), ['children', 1]);
  assert.deepEqual(parsePath('grid[2][3]'), ['grid', 2, 3]);
  assert.deepEqual(parsePath('a[ 1 ]'), ['a', 1]);
  assert.deepEqual(parsePath('a[  7]'), ['a', 7]);
  assert.deepEqual(parsePath('a[01]'), ['a', 1]);
  assert.deepEqual(parsePath('a[000]'), ['a', 0]);
  assert.deepEqual(parsePath('a[2147483647]'), ['a', 2147483647]);
  assert.deepEqual(parsePath('a[00000000000002147483647]'), ['a', 2147483647]);
  assert.deepEqual(parsePath('a.4'), ['a', '4']);
  assert.deepEqual(parsePath('a.04'), ['a', '04']);
  assert.deepEqual(parsePath('personalData.firstname'), ['personalData', 'firstname']);
  assert.deepEqual(parsePath('a b.c'), ['a b', 'c']);
  assert.deepEqual(parsePath('ключ.日本[0]'), ['ключ', '日本', 0]);
});

// JavaScript's white space: what String.prototype.trim() removes.
const JS_WS = ['\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680',
  '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a',
  '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff'];
// Look-alikes that trim() keeps.
const NOT_WS = ['\u0085', '\u001f', '\u180e', '\u200b', '\u2060', '\u00ad'];

test('white space is exactly what trim() removes', () => {
  assert.equal(JS_WS.length, 25);
  for (const c of JS_WS) assert.equal(`${c}x${c}`.trim(), 'x', `U+${c.codePointAt(0).toString(16)}`);
  for (const c of NOT_WS) assert.equal(`${c}x${c}`.trim(), `${c}x${c}`);
});

test('parse_path: every white-space character, every place the grammar trims', () => {
  for (const c of JS_WS) {
    const u = `U+${c.codePointAt(0).toString(16)}`;
    assert.deepEqual(parsePath(`${c}a${c}.${c}${c}b[1]${c}.${c}`), ['a', 'b', 1], u);
    assert.deepEqual(parsePath(`a${c}[0]`), [`a${c}`, 0], u); // the key keeps it before "["
    assert.deepEqual(parsePath(`a[${c}7${c}${c}]`), ['a', 7], u);
    rejects(() => parsePath(`a[${c}]`), /^invalid path/);
    rejects(() => parsePath(`${c}.${c}`), /^invalid path/);
    rejects(() => parsePath(`${c}__proto__`), /forbidden segment "__proto__"/);
    rejects(() => parsePath(`a.constructor${c}`), /forbidden segment "constructor"/);
    rejects(() => parsePath(`x[0].${c}prototype${c}${c}.y`), /forbidden segment "prototype"/);
    rejects(() => parsePath(`__proto__${c}[0]`), /forbidden segment "__proto__"/);
    rejects(() => patch({}, [{ path: 'a', data: 1 }, { path: `b.${c}constructor[1]` }]), /constructor/);
    assert.equal(ref.hasForbiddenKeys(JSON.parse(JSON.stringify({ a: [{ [`${c}__proto__`]: 1 }] }))), true, u);
    assert.equal(ref.hasForbiddenKeys({ [`constructor${c}`]: 1 }), true, u);
    assert.equal(ref.hasForbiddenKeys({ x: { [`${c}${c}prototype${c}`]: null } }), true, u);
    assert.equal(ref.hasForbiddenKeys({ [`__pro${c}to__`]: 1, [`a${c}prototype`]: 2 }), false, u);
  }
  for (const c of NOT_WS) {
    assert.deepEqual(parsePath(`${c}__proto__.constructor${c}`), [`${c}__proto__`, `constructor${c}`]);
    rejects(() => parsePath(`a[${c}1]`), /^invalid path/);
    assert.equal(ref.hasForbiddenKeys({ [`${c}prototype${c}`]: 1 }), false);
  }
});

test('parse_path: every rejected form of SPEC §1', () => {
  const bad = [
    '', '.', ' ', '..', ' . ', '\t',
    '[0]', 'a.[1]', ' [1]',
    'a[-1]', 'a[x]', 'a[1e2]', 'a[0x2]', 'a[]', 'a[ ]', 'a[+1]', 'a[1.5]', 'a[1 2]',
    'a[0', 'a]0[', 'a[0]b', 'a]', 'a[0]]', 'a[[0]]', 'a[0] ]', 'a[0]x[1]',
    'a[2147483648]', 'a[99999999999]',
  ];
  for (const p of bad) rejects(() => parsePath(p), /^invalid path/);
  rejects(() => parsePath(null));
});

test('parse_path: depth limit', () => {
  const p128 = Array.from({ length: 128 }, (_, i) => `k${i}`).join('.');
  assert.equal(parsePath(p128).length, 128);
  rejects(() => parsePath(p128 + '.x'));
  rejects(() => parsePath('a' + '[0]'.repeat(128)));
  assert.equal(parsePath('a' + '[0]'.repeat(127)).length, 128);
  assert.equal(parsePath('a.b.c', { maxPathDepth: 3 }).length, 3);
  rejects(() => parsePath('a.b.c.d', { maxPathDepth: 3 }));
});

test('forbidden segments in every position and every entry point', () => {
  for (const seg of ['__proto__', 'constructor', 'prototype']) {
    const paths = [
      seg, `${seg}.a`, `a.${seg}`, `a.${seg}.b`, `arr[0].${seg}`, `${seg}[0]`,
      ` ${seg} `, `a. ${seg}\t.b`, `a..${seg}`, `a[1][2].${seg}[3]`,
    ];
    for (const p of paths) {
      rejects(() => parsePath(p), new RegExp(seg));
      rejects(() => get({ a: 1 }, p), new RegExp(seg));
      rejects(() => set({}, p, 1), new RegExp(seg));
      rejects(() => erase({}, p), new RegExp(seg));
      rejects(() => patch({}, [{ path: p, data: 1 }]), new RegExp(seg));
      rejects(() => patch({}, [{ path: p }]), new RegExp(seg));
      rejects(() => patch({}, [{ path: 'ok', data: 1 }, { path: p, data: 1 }]), new RegExp(seg));
    }
  }
});

test('ordinary keys that resemble forbidden ones', () => {
  for (const k of ['__PROTO__', 'constructors', 'user_proto', 'Constructor', 'prototypes', '_proto_', '__proto', 'proto__']) {
    assert.deepEqual(parsePath(`a.${k}`), ['a', k]);
    assert.deepEqual(set({}, k, 1), { [k]: 1 });
    assert.deepEqual(set({}, `${k}.x[1]`, true), { [k]: { x: [null, true] } });
    assert.equal(get({ [k]: 5 }, k), 5);
    assert.deepEqual(erase({ [k]: 5, b: 1 }, k), { b: 1 });
  }
  // keys that are Object.prototype members are plain keys
  assert.equal(get({}, 'toString'), undefined);
  assert.equal(get({}, 'hasOwnProperty'), undefined);
  assert.deepEqual(set({}, 'toString', 1), { toString: 1 });
});

test('get', () => {
  const doc = deepFreeze({
    personalData: { firstname: 'Homer', lastname: 'Simpson' },
    children: ['Bart', 'Lisa', 'Maggie'],
    n: null,
    s: 'str',
    grid: [[1, 2], [3, [4, 5]]],
    o: { 1: 'one', 4: 'four' },
  });
  assert.equal(get(doc, 'personalData.firstname'), 'Homer');
  assert.equal(get(doc, 'children[1]'), 'Lisa');
  assert.equal(get(doc, 'children.1'), 'Lisa');
  assert.equal(get(doc, 'children.01'), 'Lisa');
  assert.equal(get(doc, 'children[01]'), 'Lisa');
  assert.equal(get(doc, 'children[3]'), undefined);
  assert.equal(get(doc, 'children.x'), undefined);
  assert.equal(get(doc, 'children.99999999999'), undefined);
  assert.equal(get(doc, 'children.2147483648'), undefined);
  assert.equal(get(doc, 'n'), null);
  assert.equal(get(doc, 'n.x'), undefined);
  assert.equal(get(doc, 's.x'), undefined);
  assert.equal(get(doc, 's[0]'), undefined);
  assert.equal(get(doc, 'missing'), undefined);
  assert.equal(get(doc, 'grid[1][1][0]'), 4);
  assert.equal(get(doc, 'grid.1.1.1'), 5);
  assert.equal(get(doc, 'o[1]'), 'one');
  assert.equal(get(doc, 'o[04]'), 'four');
  assert.equal(get(doc, 'o.04'), undefined); // key "04" is not key "4"
  assert.deepEqual(get(doc, null), doc);
  assert.deepEqual(get(doc, undefined), doc);
  assert.equal(get(undefined, 'a'), undefined);
  assert.equal(get(5, 'a'), undefined);
  assert.equal(get(null, 'a'), undefined);
  assert.equal(get([10, 20], '1'), 20);
  rejects(() => get(doc, 'a[x]'));
  rejects(() => get(doc, ''));
  rejects(() => get(doc, 'a[2147483648]'));
});

test('set: deepstream style', () => {
  const doc = deepFreeze({ personalData: { firstname: 'Homer' }, children: ['Bart', 'Lisa'] });
  assert.deepEqual(set(doc, 'personalData.firstname', 'Marge'),
    { personalData: { firstname: 'Marge' }, children: ['Bart', 'Lisa'] });
  assert.deepEqual(set(doc, 'children[1]', 'Maggie'),
    { personalData: { firstname: 'Homer' }, children: ['Bart', 'Maggie'] });
  assert.deepEqual(set(doc, 'children[2]', 'Maggie').children, ['Bart', 'Lisa', 'Maggie']);
  assert.deepEqual(set(doc, 'children[4]', 'X').children, ['Bart', 'Lisa', null, null, 'X']);
  assert.deepEqual(set(doc, 'children.1', 'Y').children, ['Bart', 'Y']);
  assert.deepEqual(set(doc, 'children.04', 'Y').children, ['Bart', 'Lisa', null, null, 'Y']);
  rejects(() => set(doc, 'children.x', 1), /invalid path/);
  rejects(() => set(doc, 'children.99999999999', 1));
  rejects(() => set(doc, 'children.2147483648', 1));
  rejects(() => set(doc, 'children.x.y', 1));
});

test('set: intermediates', () => {
  assert.deepEqual(set({}, 'a.b.c', 1), { a: { b: { c: 1 } } });
  assert.deepEqual(set({}, 'a[2]', 1), { a: [null, null, 1] });
  assert.deepEqual(set({}, 'a[0][1]', 1), { a: [[null, 1]] });
  assert.deepEqual(set({}, 'a[1].b', 1), { a: [null, { b: 1 }] });
  assert.deepEqual(set({}, 'a.4', 1), { a: { 4: 1 } });
  assert.deepEqual(set({}, 'a.4.b', 1), { a: { 4: { b: 1 } } });
  assert.deepEqual(set({}, 'a.4[0]', 1), { a: { 4: [1] } });
  assert.deepEqual(set({ a: 5 }, 'a.b', 1), { a: { b: 1 } });
  assert.deepEqual(set({ a: null }, 'a[0]', 1), { a: [1] });
  assert.deepEqual(set({ a: 'x' }, 'a[0]', 1), { a: [1] });
  assert.deepEqual(set({ a: [1, 'x', 3] }, 'a[1].k', 1), { a: [1, { k: 1 }, 3] });
  assert.deepEqual(set({ a: [1, 'x', 3] }, 'a[1][1]', 1), { a: [1, [null, 1], 3] });
  assert.deepEqual(set({ a: { b: 1 } }, 'a[3]', 1), { a: { b: 1, 3: 1 } });
  assert.deepEqual(set({ a: { b: 1 } }, 'a[03].c', 1), { a: { b: 1, 3: { c: 1 } } });
  assert.deepEqual(set({ a: [[0]] }, 'a.0.0', 9), { a: [[9]] });
  assert.deepEqual(set({ a: [] }, 'a.0.x', 9), { a: [{ x: 9 }] });
  assert.deepEqual(set({ a: [] }, 'a[0].4', 9), { a: [{ 4: 9 }] });
});

test('set: root treated like any other node', () => {
  assert.deepEqual(set(5, 'a', 1), { a: 1 });
  assert.deepEqual(set(null, 'a[1]', 1), { a: [null, 1] });
  assert.deepEqual(set('s', 'a.b', 1), { a: { b: 1 } });
  assert.deepEqual(set([1, 2], '1', 'x'), [1, 'x']);
  assert.deepEqual(set([1, 2], '3', 'x'), [1, 2, null, 'x']);
  assert.deepEqual(set([1, 2], '0[1]', 'x'), [[null, 'x'], 2]);
  rejects(() => set([1, 2], 'a', 1));
  assert.equal(set(undefined, 'a', 1), undefined);
  assert.deepEqual(set({}, 'a', undefined), { a: null });
});

test('set: NULL path replaces the document', () => {
  assert.deepEqual(set({ a: 1 }, null, { b: 2 }), { b: 2 });
  assert.deepEqual(set({ a: 1 }, null, [1]), [1]);
  assert.deepEqual(set(5, null, {}), {});
  for (const v of [1, 'x', true, null, undefined]) rejects(() => set({ a: 1 }, null, v));
});

test('padding limit', () => {
  assert.equal(set({}, 'a[1024]', 1).a.length, 1025);
  rejects(() => set({}, 'a[1025]', 1), /padding/);
  assert.equal(set({ a: [1] }, 'a[1025]', 1).a.length, 1026);
  rejects(() => set({ a: [1] }, 'a[1026]', 1));
  assert.equal(set({}, 'a[1000][24]', 1).a[1000].length, 25); // all arrays of one write together
  rejects(() => set({}, 'a[1024][1]', 1), /padding/);
  rejects(() => set({}, 'a[1025].b', 1));
  rejects(() => erase({}, 'a[1025].b'));
  rejects(() => set([], '1025', 1));
  assert.equal(set({}, 'a[5]', 1, { maxPadding: 5 }).a.length, 6);
  rejects(() => set({}, 'a[6]', 1, { maxPadding: 5 }));
  assert.equal(set({}, 'a[0]', 1, { maxPadding: 0 }).a.length, 1);
  // erase past the end does not pad, so it is never a padding error
  assert.deepEqual(erase({ a: [] }, 'a[100000]'), { a: [] });
  // per write: what one batch pads into its arrays counts together
  rejects(() => patch({}, [{ path: 'a[1000]', data: 1 }, { path: 'a[2000]', data: 2 }]), /padding/);
  rejects(() => patch({}, [{ path: 'a[500]', data: 1 }, { path: 'b', data: 1 }, { path: 'a[1026]', data: 2 }]), /padding/);
  rejects(() => patch({}, [{ path: 'x.a[1000].b' }, { path: 'x.a[1030]', data: 2 }]), /padding/); // erase pads on its way
  assert.equal(patch({}, [{ path: 'a[1000]', data: 1 }, { path: 'a[1025]', data: 2 }]).a.length, 1026); // 1000 + 24
  rejects(() => patch({}, [{ path: 'a[1000]', data: 1 }, { path: 'a[1026]', data: 2 }]), /padding/); // 1000 + 25
  // sibling arrays and a replaced array share the write's count
  assert.equal(patch({}, [{ path: 'a[512]', data: 1 }, { path: 'b[512]', data: 2 }]).b.length, 513);
  rejects(() => patch({}, [{ path: 'a[1024]', data: 1 }, { path: 'b[1]', data: 2 }]), /padding/);
  rejects(() => patch({}, [{ path: 'a[1000]', data: 1 }, { path: 'a', data: [] }, { path: 'a[1000]', data: 2 }]), /padding/);
  // separate calls are separate writes
  assert.equal(set(set({}, 'a[1000]', 1), 'a[2000]', 2).a.length, 2001);
  // appending at the end pads nothing, however many entries
  const many = Array.from({ length: 3000 }, (_, i) => ({ path: `a[${i}]`, data: i }));
  assert.equal(patch({}, many).a.length, 3000);
});

test('erase', () => {
  assert.deepEqual(erase({}, 'x.y.z'), { x: { y: {} } });
  const doc = deepFreeze({ personalData: { firstname: 'Homer', lastname: 'S' }, children: ['Bart', 'Lisa', 'Maggie'] });
  assert.deepEqual(erase(doc, 'personalData.firstname'),
    { personalData: { lastname: 'S' }, children: ['Bart', 'Lisa', 'Maggie'] });
  assert.deepEqual(erase(doc, 'children[1]').children, ['Bart', null, 'Maggie']);
  assert.deepEqual(erase(doc, 'children.1').children, ['Bart', null, 'Maggie']);
  assert.deepEqual(erase(doc, 'children[5]').children, ['Bart', 'Lisa', 'Maggie']);
  assert.deepEqual(erase(doc, 'children'), { personalData: { firstname: 'Homer', lastname: 'S' } });
  assert.deepEqual(erase(doc, 'nothing'), doc);
  rejects(() => erase(doc, 'children.x'));
  rejects(() => erase(doc, 'children.99999999999'));
  assert.deepEqual(erase({}, 'a[3].b'), { a: [null, null, null, {}] });
  assert.deepEqual(erase({}, 'a[3]'), { a: [] }); // array created for a (next token is an index); nothing past the end to erase
  assert.deepEqual(erase({ a: { 3: 1, b: 2 } }, 'a[3]'), { a: { b: 2 } });
  assert.deepEqual(erase({ a: 1 }, 'a.b'), { a: {} });
  assert.deepEqual(erase({ a: 1 }, 'a[0][0]'), { a: [[]] });
  assert.deepEqual(erase(5, 'a'), {});
  assert.deepEqual(erase(null, 'a.b'), { a: {} });
  assert.deepEqual(erase([1, 2], '0'), [null, 2]);
  assert.equal(erase(undefined, 'a'), undefined);
  rejects(() => erase({ a: 1 }, null));
  rejects(() => erase({ a: 1 }, undefined));
});

test('patch: batches', () => {
  const doc = deepFreeze({ a: 1, b: [1, 2], c: { d: 1 } });
  assert.deepEqual(patch(doc, [{ path: 'a', data: 2 }, { path: 'b[3]', data: 'x' }, { path: 'c.d' }]),
    { a: 2, b: [1, 2, null, 'x'], c: {} });
  assert.deepEqual(patch(doc, [{ path: 'a', data: null }]), { a: null, b: [1, 2], c: { d: 1 } });
  assert.deepEqual(patch(doc, [{ path: 'a' }]), { b: [1, 2], c: { d: 1 } });
  // order, overlap and duplicates
  assert.deepEqual(patch({}, [{ path: 'a', data: 1 }, { path: 'a', data: 2 }]), { a: 2 });
  assert.deepEqual(patch({}, [{ path: 'a.b', data: 1 }, { path: 'a', data: [] }, { path: 'a[1]', data: 3 }]), { a: [null, 3] });
  assert.deepEqual(patch({}, [{ path: 'a', data: [] }, { path: 'a.x', data: 1 }].slice(0, 1)), { a: [] });
  rejects(() => patch({}, [{ path: 'a', data: [] }, { path: 'a.x', data: 1 }]));
  assert.deepEqual(patch({}, [{ path: 'a.b', data: 1 }, { path: 'a.b' }]), { a: {} });
  assert.deepEqual(patch({ a: [1] }, [{ path: 'a.0', data: { x: 1 } }, { path: 'a[0].y', data: 2 }]), { a: [{ x: 1, y: 2 }] });
  // data is copied, never aliased
  const data = { z: [1] };
  const out = patch({}, [{ path: 'a', data }, { path: 'a.z[0]', data: 2 }]);
  assert.deepEqual(out, { a: { z: [2] } });
  assert.deepEqual(data, { z: [1] });
  // NULL document
  assert.equal(patch(undefined, [{ path: 'a', data: 1 }]), undefined);
});

test('patch: invalid batches', () => {
  const bads = [
    undefined, null, {}, 1, 'x', [], [1], [null], [[]], ['a'],
    [{}], [{ data: 1 }], [{ path: '' }], [{ path: ' ' }], [{ path: 1 }], [{ path: null, data: 1 }],
    [{ path: ['a'] }], [{ path: 'a', value: 1 }], [{ path: 'a', data: 1, extra: 2 }],
    [{ path: 'a', Data: 1 }], [{ path: 'a', data: 1 }, { path: 'b', valu: 2 }],
    [{ path: 'a[x]', data: 1 }], [{ path: 'a', data: 1 }, 5],
    [{ path: 'a', data: 1 }, { path: '[0]', data: 1 }],
  ];
  for (const b of bads) rejects(() => patch({ a: 1 }, b));
  // semantic failure later in the batch fails the whole batch
  rejects(() => patch({ a: [] }, [{ path: 'b', data: 1 }, { path: 'a.x', data: 1 }]));
  rejects(() => patch({ a: [] }, [{ path: 'b', data: 1 }, { path: 'a[5000]', data: 1 }]));
});

test('purity: inputs are not mutated', () => {
  const doc = deepFreeze({ a: [1, { b: 2 }], c: { d: null } });
  const snapshot = JSON.stringify(doc);
  set(doc, 'a[1].b', 3);
  set(doc, 'a[5]', 3);
  erase(doc, 'c.d');
  erase(doc, 'a[0]');
  patch(doc, deepFreeze([{ path: 'a[1].b', data: 3 }, { path: 'x.y.z' }, { path: 'c', data: { e: 1 } }]));
  get(doc, 'a');
  assert.equal(JSON.stringify(doc), snapshot);
  // results do not alias the input
  const g = get(doc, 'a');
  assert.notEqual(g, doc.a);
});

test('documents carrying a __proto__ key are handled as data', () => {
  const doc = JSON.parse('{"__proto__": {"x": 1}, "a": 1}');
  const out = set(doc, 'a', 2);
  assert.deepEqual(Object.keys(out).sort(), ['__proto__', 'a']);
  assert.equal(JSON.stringify(out), '{"__proto__":{"x":1},"a":2}');
  assert.equal(ref.hasForbiddenKeys(doc), true);
  assert.equal(ref.hasForbiddenKeys({ a: [{ constructor: 1 }] }), true);
  assert.equal(ref.hasForbiddenKeys({ a: [{ __PROTO__: 1 }] }), false);
  assert.equal(ref.hasForbiddenKeys({ a: [{ ' __proto__': 1 }] }), true);
});

test('NULL document: other arguments are validated first (default), or not (nullDocFirst)', () => {
  assert.equal(get(undefined, 'a'), undefined);
  assert.equal(get(undefined, null), undefined);
  assert.equal(set(undefined, 'a', 1), undefined);
  assert.equal(set(undefined, null, {}), undefined);
  assert.equal(erase(undefined, 'a'), undefined);
  assert.equal(patch(undefined, [{ path: 'a' }]), undefined);
  rejects(() => get(undefined, ''));
  rejects(() => set(undefined, '__proto__', 1), /__proto__/);
  rejects(() => set(undefined, null, 1));
  rejects(() => erase(undefined, 'a[x]'));
  rejects(() => erase(undefined, null));
  rejects(() => patch(undefined, []));
  rejects(() => patch(undefined, null));
  rejects(() => patch(undefined, [{ path: 'a', value: 1 }]));
  const o = { nullDocFirst: true };
  assert.equal(get(undefined, '', o), undefined);
  assert.equal(set(undefined, null, 1, o), undefined);
  assert.equal(erase(undefined, null, o), undefined);
  assert.equal(patch(undefined, null, o), undefined);
  assert.equal(patch(undefined, [], o), undefined);
});

test('NULL path of erase and NULL batch are tagged as rejected NULL arguments', () => {
  assert.throws(() => erase({}, null), (e) => e.code === '22023' && e.nullArgument === true);
  assert.throws(() => patch({}, null), (e) => e.code === '22023' && e.nullArgument === true);
  assert.throws(() => patch({}, []), (e) => e.code === '22023' && !e.nullArgument);
});
