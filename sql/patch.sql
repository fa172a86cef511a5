-- Document functions (SPEC §2): path_get, path_set, path_erase, patch,
-- has_forbidden_keys.
\set VERBOSITY default

CREATE TEMP TABLE person AS SELECT '{
  "firstname": "Homer",
  "personalData": {"firstname": "Homer", "age": 39, "tags": null},
  "children": [{"name": "Bart"}, {"name": "Lisa"}, {"name": "Maggie"}],
  "grid": [[1, 2], [3, 4]],
  "7": "seven",
  "flag": true
}'::jsonb AS doc;

-- path_get: values, JSON null, absent, through scalars, arrays.
SELECT assoc.path_get(doc, 'personalData.firstname') FROM person;
SELECT assoc.path_get(doc, 'children[1]') FROM person;
SELECT assoc.path_get(doc, 'children[1].name') FROM person;
SELECT assoc.path_get(doc, 'children.1.name') FROM person;     -- digit key on an array
SELECT assoc.path_get(doc, 'children.01.name') FROM person;
SELECT assoc.path_get(doc, 'grid[1][0]') FROM person;
SELECT assoc.path_get(doc, '[7]'::text) FROM person;           -- rejected: empty key
SELECT assoc.path_get(doc, 'personalData.tags') FROM person;   -- JSON null
SELECT assoc.path_get(doc, 'personalData.tags') IS NULL AS sql_null FROM person;
SELECT assoc.path_get(doc, 'personalData.missing') IS NULL AS absent FROM person;
SELECT assoc.path_get(doc, 'children[3]') IS NULL AS past_end FROM person;
SELECT assoc.path_get(doc, 'children.x') IS NULL AS key_of_array FROM person;
SELECT assoc.path_get(doc, 'firstname.x') IS NULL AS through_scalar FROM person;
SELECT assoc.path_get(doc, 'flag[0]') IS NULL AS through_bool FROM person;
SELECT assoc.path_get(doc, 'personalData.tags.x') IS NULL AS through_null FROM person;
SELECT assoc.path_get('{"a": {"7": "seven"}}', 'a[7]');         -- [n] on an object is key "n"
SELECT assoc.path_get('{"a": {"7": "seven"}}', 'a[007]');
SELECT assoc.path_get('[10, 20, 30]', '2');                      -- a digit key on a root array
SELECT assoc.path_get('{"a": 1.50}', 'a'), assoc.path_get('{"a": "x"}', 'a');
SELECT assoc.path_get(doc, NULL) = doc AS whole FROM person;
SELECT assoc.path_get('"scalar"', NULL), assoc.path_get('"scalar"', 'a') IS NULL AS absent;
SELECT assoc.path_get(NULL, 'a') IS NULL AS null_doc;
SELECT assoc.path_get(NULL, NULL) IS NULL AS null_both;
SELECT assoc.path_get(NULL, 'a.__proto__');                     -- a bad path is an error even so
SELECT assoc.path_get(doc, 'a[x]') FROM person;

-- path_set: replace, create, pad, digit keys, [n] on objects.
SELECT assoc.path_set(doc, 'personalData.firstname', '"Marge"') -> 'personalData' FROM person;
SELECT assoc.path_set(doc, 'children[1]', '{"name": "Lisa", "age": 8}') -> 'children' FROM person;
SELECT assoc.path_set(doc, 'children.2.name', '"Mag"') -> 'children' FROM person;
SELECT assoc.path_set('{}', 'a.b.c', '1');
SELECT assoc.path_set('{}', 'a[2].b', '1');
SELECT assoc.path_set('{}', 'a[0][1]', '"x"');
SELECT assoc.path_set('{}', 'a.0', '"digit key makes an object"');
SELECT assoc.path_set('{"a": 5}', 'a.b', '1');                -- scalar replaced by an object
SELECT assoc.path_set('{"a": null}', 'a[1]', '1');            -- null replaced by an array
SELECT assoc.path_set('{"a": "s"}', 'a[0].b', 'true');
SELECT assoc.path_set('{"a": {"x": 1}}', 'a[3]', '"key 3"');   -- [n] on an object: key "n"
SELECT assoc.path_set('{"a": [1]}', 'a[3]', '4');              -- padding
SELECT assoc.path_set('{"a": [1, 2, 3]}', 'a[1]', 'null');
SELECT assoc.path_set('{"a": 1}', 'a', NULL);                  -- SQL NULL stores JSON null
SELECT assoc.path_set('{"a": 1}', 'b', '{"deep": [1, {"x": []}]}');
SELECT assoc.path_set('[]', '0', '"first"');                   -- digit key on a root array
SELECT assoc.path_set('5', 'a', '1');                           -- a scalar document is replaced
SELECT assoc.path_set('null', 'a[1]', '1');
SELECT assoc.path_set('{}', ' first name . x ', '1');
SELECT assoc.path_set('{"a": [1]}', 'a.x', '1');               -- rejected: key on an array
SELECT assoc.path_set('{"a": [1]}', 'a.x.y', '1');
SELECT assoc.path_set('{"a": [1]}', 'a.99999999999', '1');
SELECT assoc.path_set('{}', 'a.constructor', '1');
SELECT assoc.path_set('{}', 'a[1025]', '1');                   -- rejected: too much padding
SELECT jsonb_array_length(assoc.path_set('{}', 'a[1024]', '1') -> 'a');
SELECT jsonb_array_length(assoc.path_set('{"a": [1, 2]}', 'a[1026]', '1') -> 'a');
SET assoc.max_padding = 2;
SELECT assoc.path_set('{"a": [1]}', 'a[3]', '1');
SELECT assoc.path_set('{"a": [1]}', 'a[4]', '1');
SELECT assoc.path_set('{}', 'a[2][0]', '1');
RESET assoc.max_padding;
-- A NULL path replaces the whole document, with an object or an array only.
SELECT assoc.path_set('{"a": 1}', NULL, '{"b": 2}'), assoc.path_set('{"a": 1}', NULL, '[2]');
SELECT assoc.path_set('{"a": 1}', NULL, '3');
SELECT assoc.path_set('{"a": 1}', NULL, NULL);
SELECT assoc.path_set(NULL, 'a', '1') IS NULL AS null_doc;
SELECT assoc.path_set(NULL, 'a[x]', '1');

-- path_erase: members removed, elements nulled, intermediates created.
SELECT assoc.path_erase(doc, 'personalData.age') -> 'personalData' FROM person;
SELECT assoc.path_erase(doc, 'children[0]') -> 'children' FROM person;
SELECT assoc.path_erase(doc, 'children.1') -> 'children' FROM person;
SELECT assoc.path_erase(doc, 'children[9]') -> 'children' FROM person;   -- past the end: unchanged
SELECT assoc.path_erase(doc, 'missing') = doc AS unchanged FROM person;
SELECT assoc.path_erase('{}', 'x.y.z');
SELECT assoc.path_erase('{}', 'x[1].y');
SELECT assoc.path_erase('{"a": 1}', 'a.b');                  -- scalar replaced on the way
SELECT assoc.path_erase('{"a": {"7": 1, "8": 2}}', 'a[7]');
SELECT assoc.path_erase('{"a": [1]}', 'a.x');
SELECT assoc.path_erase('{"a": 1}', 'prototype');
SELECT assoc.path_erase('{"a": 1}', NULL);
SELECT assoc.path_erase(NULL, 'a') IS NULL AS null_doc;

-- patch: an ordered batch, one pass, atomic.
SELECT assoc.patch(doc, '[
  {"path": "personalData.firstname", "data": "Marge"},
  {"path": "children[3]", "data": {"name": "Abe"}},
  {"path": "children[3].age", "data": 83},
  {"path": "grid[0]"},
  {"path": "flag", "data": null},
  {"path": "7"}
]') FROM person;
-- Later entries see earlier ones; overlapping and duplicate paths apply in order.
SELECT assoc.patch('{}', '[{"path": "a", "data": {"b": 1}}, {"path": "a.c", "data": 2}, {"path": "a", "data": [0]}, {"path": "a[2]", "data": 9}]');
SELECT assoc.patch('{"a": 1}', '[{"path": "a", "data": 2}, {"path": "a", "data": 3}]');
SELECT assoc.patch('{"a": 1}', '[{"path": "a"}, {"path": "a.b", "data": 1}]');
SELECT assoc.patch('{"a": {"b": 1}}', '[{"path": "a.b"}, {"path": "a"}]');
SELECT assoc.patch('{"k": [1, 2]}', '[{"path": "k[5]", "data": 1}, {"path": "k[1]"}, {"path": "k.0", "data": "zero"}]');
SELECT assoc.patch('[1, 2]', '[{"path": "0", "data": {"x": 1}}]');
-- Errors: the whole batch fails, naming the entry.
SELECT assoc.patch('{}', '[]');
SELECT assoc.patch('{}', '{"path": "a", "data": 1}');
SELECT assoc.patch('{}', '"a"');
SELECT assoc.patch('{}', '[{"path": "a", "data": 1}, 5]');
SELECT assoc.patch('{}', '[{"path": "a", "value": 1}]');
SELECT assoc.patch('{}', '[{"data": 1}]');
SELECT assoc.patch('{}', '[{"path": 7, "data": 1}]');
SELECT assoc.patch('{}', '[{"path": "", "data": 1}]');
SELECT assoc.patch('{}', '[{"path": " ", "data": 1}]');
SELECT assoc.patch('{}', '[{"path": "a", "data": 1}, {"path": "b", "data": 2}, {"path": "c.__proto__.x", "data": 3}]');
SELECT assoc.patch('{}', '[{"path": "a", "data": 1}, {"path": "b[x]", "data": 2}]');
SELECT assoc.patch('{"a": [1]}', '[{"path": "b", "data": 1}, {"path": "a.x", "data": 2}]');
SELECT assoc.patch('{}', NULL);
SELECT assoc.patch(NULL, '[{"path": "a", "data": 1}]') IS NULL AS null_doc;
SELECT assoc.patch(NULL, '[{"path": "a[x]", "data": 1}]');
-- A failed patch in an UPDATE changes nothing.
CREATE TEMP TABLE docs (id int PRIMARY KEY, doc jsonb);
INSERT INTO docs VALUES (1, '{"n": 1}'), (2, '{"n": [1]}');
UPDATE docs SET doc = assoc.patch(doc, '[{"path": "n.x", "data": 1}]');
SELECT * FROM docs ORDER BY id;
UPDATE docs SET doc = assoc.patch(doc, '[{"path": "m", "data": 2}, {"path": "n"}]');
SELECT * FROM docs ORDER BY id;

-- has_forbidden_keys: key names anywhere, trimmed of white space as path
-- pieces are (every white-space character is in path_space.sql).
SELECT assoc.has_forbidden_keys('{"a": [{"b": {"__proto__": 1}}]}'),
       assoc.has_forbidden_keys('[{"constructor": null}]'),
       assoc.has_forbidden_keys('{"prototype": 1}'),
       assoc.has_forbidden_keys('{"a": "__proto__", "b": ["constructor"]}'),
       assoc.has_forbidden_keys('{"__PROTO__": 1, "constructors": 2, "a prototype": 3}'),
       assoc.has_forbidden_keys('5'),
       assoc.has_forbidden_keys(NULL) IS NULL AS strict;
SELECT assoc.has_forbidden_keys('{"a": {" prototype": 3}}') AS leading,
       assoc.has_forbidden_keys('{"__proto__\t": 3}') AS trailing,
       assoc.has_forbidden_keys(E'{"\u00a0constructor\u3000": 3}') AS non_ascii;

-- Volatility and strictness as declared.
SELECT p.proname, p.provolatile, p.proparallel, p.proisstrict
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'assoc' AND p.proname IN
       ('parse_path', 'path_get', 'path_set', 'path_erase', 'patch', 'has_forbidden_keys')
 ORDER BY 1;
