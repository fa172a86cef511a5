-- The record store (SPEC §4): namespaces, versions, writes by name and by
-- associations, no-ops, expected_version, op_id, history, forbidden data.
\set VERBOSITY default
SELECT assoc.create_namespace('app');

-- By name (deepstream style): versions count effective writes.
SELECT assoc.version('app', 'user/42') AS missing_version, assoc.get('app', 'user/42') IS NULL AS missing;
SELECT assoc.set('app', 'user/42', 'personalData.firstname', '"Homer"');
SELECT assoc.set('app', 'user/42', 'personalData.firstname', '"Homer"') AS no_op;
SELECT assoc.set('app', 'user/42', 'children[1]', '{"name": "Lisa"}');
SELECT assoc.set_multi('app', 'user/42', '[{"path": "personalData.lastname", "data": "Simpson"},
                                          {"path": "children[0]", "data": {"name": "Bart"}},
                                          {"path": "children[1].age", "data": 8}]');
SELECT assoc.set_multi('app', 'user/42', '[{"path": "personalData.lastname", "data": "Simpson"}]') AS no_op;
SELECT assoc.erase('app', 'user/42', 'children[0]');
SELECT assoc.erase('app', 'user/42', 'nothing.here') AS erase_creates_intermediates;
SELECT assoc.get('app', 'user/42');
SELECT assoc.get('app', 'user/42', 'children[1].name'), assoc.get('app', 'user/42', 'absent') IS NULL AS absent;
SELECT assoc.version('app', 'user/42');
SELECT assoc.set('app', 'user/42', NULL, '{"replaced": true}');
SELECT assoc.set('app', 'user/42', NULL, '[1, 2]');
SELECT assoc.set('app', 'user/42', NULL, '"scalar"');
SELECT assoc.set('app', 'user/42', NULL, NULL);
SELECT assoc.set('app', 'user/42', 'n', NULL);
SELECT assoc.get('app', 'user/42');
SELECT assoc.erase('app', 'fresh', 'a.b'), assoc.get('app', 'fresh');

-- expected_version: the write happens only at that version (0 = must not exist).
SELECT assoc.set('app', 'cas', 'v', '1', 0);
SELECT assoc.set('app', 'cas', 'v', '1', 0);
SELECT assoc.set('app', 'cas', 'v', '2', 1);
SELECT assoc.set('app', 'cas', 'v', '3', 1);
SELECT assoc.set_multi('app', 'cas', '[{"path": "v", "data": 3}]', 5);
SELECT assoc.erase('app', 'cas', 'v', 7);
SELECT assoc.remove('app', 'cas', 1);
SELECT assoc.set('app', 'cas', 'v', '2', 2) AS no_op_at_expected;
SELECT assoc.version('app', 'cas');

-- Remove: the record and its history go; created again it starts at 1.
SELECT assoc.remove('app', 'cas', 2), assoc.remove('app', 'cas'), assoc.version('app', 'cas');
SELECT assoc.set('app', 'cas', 'v', '"again"');

-- op_id: a retry returns the first result and changes nothing.
SELECT assoc.set('app', 'offline', 'count', '1', NULL, 'op-1');
SELECT assoc.set('app', 'offline', 'count', '2');
SELECT assoc.set('app', 'offline', 'count', '1', NULL, 'op-1') AS replayed;
SELECT assoc.get('app', 'offline');
SELECT assoc.set('app', 'offline', 'count', '5', NULL, 'op-1');
SELECT assoc.erase('app', 'offline', 'count', NULL, 'op-1');
SELECT assoc.set('app', 'offline', 'count', '2', NULL, 'op-noop') AS first_is_no_op;
SELECT assoc.set('app', 'offline', 'count', '3');
SELECT assoc.set('app', 'offline', 'count', '2', NULL, 'op-noop') AS replayed_no_op;
SELECT assoc.set('app', 'offline', 'x', '1', 3, 'op-cas');
SELECT assoc.set('app', 'offline', 'x', '1', 3, 'op-cas') AS stale_expected_replayed;
SELECT assoc.version('app', 'offline');
SELECT assoc.remove('app', 'offline', NULL, 'op-rm'), assoc.remove('app', 'offline', NULL, 'op-rm');
SELECT assoc.set('app', 'offline', 'x', '1', NULL, '');

-- By associations (Rocket.Chat style).
SELECT assoc.create('app', '{"msg": "hello"}', '{room:GENERAL,user:42}', 'm1');
SELECT assoc.create('app', '{"msg": "hi"}', '{room:GENERAL,user:7}', 'm2');
SELECT assoc.create('app', '{"msg": "dm"}', '{room:DM,user:42}', 'm3');
SELECT assoc.create('app', '{"msg": "no keys"}', id => 'm4');
SELECT length(assoc.create('app', '{"generated": true}', '{misc:gen}')) AS uuid_length;
SELECT assoc.create('app', '{"dup": true}', '{}', 'm1');
SELECT assoc.create('app', '"scalar"');
SELECT assoc.create('app', '{"a": {"constructor": 1}}');
SELECT assoc.create('app', NULL);
SELECT assoc.create('app', '{}', NULL);
SELECT id, keys, data, version FROM assoc.read_by('app', '{room:GENERAL}');
SELECT id FROM assoc.read_by('app', '{user:42}');
SELECT id FROM assoc.read_by('app', '{room:GENERAL,user:42}');
SELECT count(*) AS empty_keys_read_nothing FROM assoc.read_by('app', '{}');
SELECT id, keys, data, version FROM assoc.update_by('app', '{room:GENERAL,user:42}', '{"msg": "edited"}');
SELECT id, version FROM assoc.update_by('app', '{room:GENERAL,user:42}', '{"msg": "edited"}') AS no_op;
SELECT count(*) FROM assoc.update_by('app', '{room:NOWHERE}', '{"x": 1}') AS no_match;
SELECT keys, data, version FROM assoc.update_by('app', '{room:NEW}', '{"x": 1}', upsert => true);
SELECT keys, data, version FROM assoc.update_by('app', '{room:NEW}', '{"x": 2}', upsert => true);
SELECT count(*) FROM assoc.read_by('app', '{room:NEW}');
SELECT assoc.update_by('app', '{}', '{}');
SELECT count(*) AS no_match_no_upsert FROM assoc.update_by('app', '{room:X}', '[1]', false);
SELECT assoc.update_by('app', '{room:X}', '1');
SELECT assoc.link('app', 'm2', '{thread:t1,user:8}'), assoc.unlink('app', 'm2', '{user:7}');
SELECT assoc.link('app', 'm2', '{thread:t1}') AS no_op;
SELECT keys FROM assoc.records WHERE ns = 'app' AND id = 'm2';
SELECT assoc.link('app', 'ghost', '{a:b}');
SELECT assoc.unlink('app', 'ghost', '{a:b}');
SELECT assoc.link('app', 'm2', NULL);
SELECT id, keys, version FROM assoc.remove_by('app', '{room:GENERAL}');
SELECT count(*) AS empty_keys_remove_nothing FROM assoc.remove_by('app', '{}');
SELECT id FROM assoc.records WHERE ns = 'app' AND length(id) <> 36 ORDER BY id;
SELECT id, keys FROM assoc.remove_by('app', '{room:DM}', 'rm-1');
SELECT id, keys FROM assoc.remove_by('app', '{room:DM}', 'rm-1') AS replayed;
SELECT keys, data FROM assoc.update_by('app', '{room:NEW}', '{"x": 3}', false, 'up-1');
SELECT id = (SELECT id FROM assoc.read_by('app', '{room:NEW}')) AS same_row, keys, data
  FROM assoc.update_by('app', '{room:NEW}', '{"x": 3}', false, 'up-1') AS replayed;

-- History and rollback (TeamSnap style).
SELECT assoc.alter_namespace('app', history_depth => 2);
SELECT assoc.set('app', 'doc', 'v', '1'), assoc.set('app', 'doc', 'v', '2'),
       assoc.link('app', 'doc', '{team:a}'), assoc.set('app', 'doc', 'v', '4');
SELECT version, data, keys, op FROM assoc.history('app', 'doc');
SELECT assoc.rollback('app', 'doc', 3);
SELECT assoc.get('app', 'doc'), (SELECT keys FROM assoc.records WHERE ns = 'app' AND id = 'doc');
SELECT version, data, keys, op FROM assoc.history('app', 'doc');
SELECT assoc.rollback('app', 'doc', 5) AS current_is_no_op;
SELECT assoc.rollback('app', 'doc', 1);
SELECT assoc.rollback('app', 'doc', 99);
SELECT assoc.rollback('app', 'ghost', 1);
SELECT assoc.rollback('app', 'doc', 4, 4);
SELECT assoc.alter_namespace('app', history_depth => 0);
SELECT count(*) AS history_dropped FROM assoc.history('app', 'doc');
SELECT assoc.alter_namespace('app', history_depth => -1);
SELECT assoc.remove('app', 'doc');

-- Feed entries: one per effective write, none for no-ops.
SELECT id, version, op, paths FROM assoc.feed WHERE ns = 'app' AND id IN ('user/42', 'm2', 'doc') ORDER BY xid, seq;

-- Bad input: NULLs, names, ids, paths, values; nothing changes.
SELECT assoc.get(NULL, 'x');
SELECT assoc.get('app', NULL);
SELECT assoc.version('app', NULL);
SELECT assoc.read_by('app', NULL);
SELECT assoc.set(NULL, 'x', 'a', '1');
SELECT assoc.set('app', NULL, 'a', '1');
SELECT assoc.set('app', '', 'a', '1');
SELECT assoc.set('app', repeat('x', 1025), 'a', '1');
SELECT length(repeat('é', 512)) AS chars, assoc.set('app', repeat('é', 512), 'a', '1') AS id_of_1024_bytes;
SELECT assoc.set('app', 'x', 'a.__proto__', '1');
SELECT assoc.set('app', 'x', 'a[x]', '1');
SELECT assoc.set('app', 'x', 'a', '{"b": [{"prototype": 1}]}');
SELECT assoc.set_multi('app', 'x', '[{"path": "a", "data": 1}, {"path": "b", "data": {"__proto__": {}}}]');
SELECT assoc.set_multi('app', 'x', '[]');
SELECT assoc.set_multi('app', 'x', NULL);
SELECT assoc.erase('app', 'x', NULL);
SELECT assoc.set('app', 'x', 'a', '[1]'), assoc.set('app', 'x', 'a.b', '1');
SELECT assoc.get('app', 'x');
SELECT assoc.set('no-such-ns', 'x', 'a', '1');
SELECT assoc.get('no-such-ns', 'x');
SELECT assoc.set('bad name!', 'x', 'a', '1');
SELECT assoc.set(repeat('n', 64), 'x', 'a', '1');
SELECT assoc.create_namespace('app');
SELECT assoc.create_namespace('');
SELECT assoc.create_namespace(NULL);

-- The CHECK backs the write functions up for the owner and superusers.
\set VERBOSITY terse
UPDATE assoc.records SET data = '{"__proto__": 1}' WHERE ns = 'app' AND id = 'user/42';
INSERT INTO assoc.records (ns, id, data, version) VALUES ('app', 'direct', '{"a": {"constructor": 1}}', 1);
\set VERBOSITY default
SELECT assoc.get('app', 'user/42') AS unchanged;

-- Writes are refused in read-only transactions (25006), and change nothing.
BEGIN READ ONLY;
SELECT assoc.set_multi('app', 'user/42', '[{"path": "ro", "data": 1}]');
ROLLBACK;
BEGIN READ ONLY;
SELECT assoc.remove('app', 'user/42');
ROLLBACK;
SET default_transaction_read_only = on;
SELECT assoc.rotate_channels('app');
RESET default_transaction_read_only;
SELECT assoc.get('app', 'user/42', 'ro') AS not_written;

-- drop_namespace removes everything of the namespace.
SELECT assoc.create_namespace('temp');
SELECT assoc.set('temp', 'r', 'a', '1', NULL, 'op');
SELECT assoc.drop_namespace('temp');
SELECT (SELECT count(*) FROM assoc.records WHERE ns = 'temp') AS records,
       (SELECT count(*) FROM assoc.feed WHERE ns = 'temp') AS feed,
       (SELECT count(*) FROM assoc.ops WHERE ns = 'temp') AS ops;
SELECT assoc.get('temp', 'r');
SELECT assoc.drop_namespace('temp');

-- The op_id ledger is pruned after assoc.op_retention (7 days by default).
SELECT count(*) AS ledger_entries FROM assoc.ops WHERE ns = 'app';
UPDATE assoc.ops SET at = now() - interval '8 days' WHERE ns = 'app' AND op_id IN ('op-1', 'op-noop');
SELECT assoc.prune() AS pruned;
SELECT op_id FROM assoc.ops WHERE ns = 'app' ORDER BY op_id;
-- A pruned op_id is new again.
SELECT assoc.set('app', 'offline', 'count', '1', NULL, 'op-1') AS applied_again;

-- Every function pins search_path or is C; every object is documented.
SELECT p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'assoc' AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false);
SELECT p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'assoc' AND obj_description(p.oid, 'pg_proc') IS NULL;
