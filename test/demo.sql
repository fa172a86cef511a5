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

-- The record store, deepstream style: records by name, paths, versions.
SELECT assoc.create_namespace('demo_app');
SELECT assoc.set('demo_app', 'user/42', 'personalData.firstname', '"Homer"') AS version;
SELECT assoc.set_multi('demo_app', 'user/42', '[
  {"path": "personalData.lastname", "data": "Simpson"},
  {"path": "children[1]", "data": {"name": "Lisa"}}
]') AS version;
SELECT assoc.set('demo_app', 'user/42', 'personalData.lastname', '"Simpson"') AS no_op_keeps_version;
SELECT assoc.get('demo_app', 'user/42');
-- Optimistic concurrency: a stale expected_version is refused.
\set ON_ERROR_STOP 0
SELECT assoc.set('demo_app', 'user/42', 'age', '39', expected_version => 1);
\set ON_ERROR_STOP 1
-- An offline client's retry with the same op_id is applied once.
SELECT assoc.set('demo_app', 'user/42', 'age', '39', op_id => 'phone-7');
SELECT assoc.set('demo_app', 'user/42', 'age', '39', op_id => 'phone-7') AS retried;

-- Rocket.Chat style: records by compound association keys.
SELECT assoc.create('demo_app', '{"msg": "hello"}', '{room:GENERAL,user:42}', 'msg-1');
SELECT assoc.create('demo_app', '{"msg": "hi"}', '{room:GENERAL,user:7}', 'msg-2');
SELECT id, keys, data FROM assoc.read_by('demo_app', '{room:GENERAL}');
SELECT id, data, version FROM assoc.update_by('demo_app', '{room:GENERAL,user:42}', '{"msg": "edited"}');
SELECT id FROM assoc.remove_by('demo_app', '{user:7}');

-- Search: free text over string values, a JSON path filter, keys, an
-- order and a projection; "next" continues with the following page.
SELECT jsonb_pretty(assoc.search('demo_app', term => 'simpson', order_by => '@updated_at DESC',
                                 fields => 'personalData.lastname, age', page_size => 1));
SELECT assoc.search('demo_app', filter => '$.msg == "edited"', keys => '{room:GENERAL}') -> 'data';

-- History and rollback.
SELECT assoc.alter_namespace('demo_app', history_depth => 5);
SELECT assoc.set('demo_app', 'settings', 'theme', '"dark"'), assoc.set('demo_app', 'settings', 'theme', '"light"');
SELECT version, data, op FROM assoc.history('demo_app', 'settings');
SELECT assoc.rollback('demo_app', 'settings', 1) AS new_version;
SELECT assoc.get('demo_app', 'settings');

-- Subscriptions: every effective write left one feed entry; a client
-- follows the feed by cursor and listens on channels for live changes.
SELECT id, version, op, paths FROM assoc.changes('demo_app');
SELECT assoc.channel('demo_app', 'user/42') AS user_channel \gset
LISTEN :user_channel;
SELECT assoc.set('demo_app', 'user/42', 'mood', '"happy"') AS version;
-- The notification worker announces it after commit (psql shows it below).
SELECT assoc.wait_notified() AS announced;
SELECT 'a client that was away asks for what followed its last cursor:' AS note;
SELECT cursor AS last_seen FROM assoc.changes('demo_app', NULL, 1) \gset
SELECT id, version, op FROM assoc.changes('demo_app', :'last_seen', 3);
UNLISTEN *;
