-- A short session showing pg_assoc end to end (run by test/demo.sh).
\set ECHO queries
\pset footer off

CREATE EXTENSION IF NOT EXISTS pg_assoc;

-- Paths: deepstream's grammar, forbidden segments rejected everywhere.
SELECT assoc.parse_path('personalData.children[1].name');
\set ON_ERROR_STOP 0
SELECT assoc.parse_path('user.__proto__.isAdmin');
\set ON_ERROR_STOP 1

-- Document functions work on any jsonb column.
CREATE TEMP TABLE profile (id int PRIMARY KEY, doc jsonb);
INSERT INTO profile VALUES (1, '{"firstname": "Homer", "children": [{"name": "Bart"}]}');
SELECT assoc.path_get(doc, 'children[0].name') FROM profile;
SELECT assoc.path_set(doc, 'children[2].name', '"Maggie"') FROM profile;
SELECT assoc.path_erase(doc, 'firstname') FROM profile;

-- One atomic batch, applied in one pass: later entries see earlier ones,
-- an entry without "data" erases.
UPDATE profile SET doc = assoc.patch(doc, '[
  {"path": "lastname", "data": "Simpson"},
  {"path": "children[1]", "data": {"name": "Lisa"}},
  {"path": "children[1].age", "data": 8},
  {"path": "firstname"}
]') WHERE id = 1 RETURNING doc;

-- A bad entry rejects the whole batch; nothing changes.
\set ON_ERROR_STOP 0
UPDATE profile SET doc = assoc.patch(doc, '[
  {"path": "ok", "data": 1},
  {"path": "children.constructor", "data": 2}
]') WHERE id = 1;
\set ON_ERROR_STOP 1
SELECT doc FROM profile;
SELECT assoc.has_forbidden_keys('{"a": {"__proto__": {"isAdmin": true}}}');
