-- The shard side of moving a namespace to another server (README, "Scaling
-- out"): the fence, and the functions pg_assoc_proxy copies a namespace
-- with.  Digests are of the rows' text; they are compared, never printed.
\set VERBOSITY default
SELECT assoc.create_namespace('mv_app');
SELECT assoc.alter_namespace('mv_app', 2);
SELECT assoc.set('mv_app', 'r1', NULL, '{"a": 1}', NULL, 'op-1');
SELECT assoc.set('mv_app', 'r1', 'b', '[true, null]');
SELECT assoc.set('mv_app', 'r2', NULL, '[]', NULL, 'op-2');
SELECT assoc.link('mv_app', 'r2', '{room:GENERAL}');

-- Keys in order, with bounds and a limit; records and ops have version 0.
SELECT key, version, digest ~ '^[0-9a-f]{64}$' AS digest, size > 0 AS size
  FROM assoc.move_digests('mv_app', 'records', '', -1, NULL, NULL, NULL);
SELECT key, version FROM assoc.move_digests('mv_app', 'history', '', -1, NULL, NULL, NULL);
SELECT key, version FROM assoc.move_digests('mv_app', 'history', 'r1', 1, NULL, NULL, 2);
SELECT key, version FROM assoc.move_digests('mv_app', 'history', 'r1', 1, 'r2', 1, NULL);
SELECT key, version FROM assoc.move_digests('mv_app', 'ops', '', -1, NULL, NULL, NULL);
SELECT key FROM assoc.move_digests('mv_app', 'feed', '', -1, NULL, NULL, NULL);
SELECT assoc.move_rows('mv_app', 'records', '{r2,nope}', '{0,0}') ~ '^\(mv_app,r2,\{room:GENERAL\},\[\],2,' AS row_text;

-- The text, and so the digest, does not depend on the session's settings.
CREATE TEMPORARY TABLE d AS SELECT * FROM assoc.move_digests('mv_app', 'history', '', -1, NULL, NULL, NULL);
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'SQL, DMY';
SET bytea_output = 'escape';
SELECT count(*) AS same FROM assoc.move_digests('mv_app', 'history', '', -1, NULL, NULL, NULL) x
  JOIN d USING (key, version, digest);
RESET TimeZone;
RESET DateStyle;
RESET bytea_output;

-- Nothing is written into a namespace that is open.
SELECT assoc.move_apply('mv_app', 'records', '{}', '{r1}', '{0}');
SELECT assoc.move_receive('mv_app', assoc.move_namespace_row('mv_app'));
SELECT assoc.move_drop('mv_app');

-- Fenced: every change fails with 40001, reads go on.
SELECT assoc.move_fence('mv_app', true);
SELECT fenced FROM assoc.namespaces WHERE ns = 'mv_app';
SELECT assoc.set('mv_app', 'r1', 'c', '1');
SELECT assoc.set('mv_app', 'r1', NULL, '{"a": 1}', NULL, 'op-1');
SELECT assoc.create('mv_app', '{}');
SELECT * FROM assoc.update_by('mv_app', '{room:GENERAL}', '{}');
SELECT * FROM assoc.remove_by('mv_app', '{room:GENERAL}');
SELECT assoc.remove('mv_app', 'r1');
SELECT assoc.alter_namespace('mv_app', 0);
SELECT assoc.rotate_channels('mv_app');
SELECT assoc.drop_namespace('mv_app');
SELECT assoc.get('mv_app', 'r1'), assoc.version('mv_app', 'r2');
SELECT id FROM assoc.read_by('mv_app', '{room:GENERAL}');
SELECT count(*) FROM assoc.changes('mv_app');
SELECT assoc.move_fence('mv_app', true);

-- Rows given as text replace those of the same key; gone keys are deleted.
SELECT assoc.move_apply('mv_app', 'records',
    ARRAY[replace(assoc.move_rows('mv_app', 'records', '{r1}', '{0}')::text, ': 1,', ': 2,')], '{}', '{}');
SELECT assoc.get('mv_app', 'r1');
SELECT assoc.move_apply('mv_app', 'history', '{}', '{r1}', '{1}');
SELECT version FROM assoc.history('mv_app', 'r1');
SELECT assoc.move_apply('mv_app', 'ops', ARRAY(SELECT assoc.move_rows('mv_app', 'ops', '{op-2}', '{0}')), '{op-1}', '{0}');
SELECT op_id FROM assoc.ops WHERE ns = 'mv_app';
SELECT assoc.move_apply('mv_app', 'records', ARRAY[replace(assoc.move_rows('mv_app', 'records', '{r1}', '{0}')::text, '(mv_app,', '(other,')], '{}', '{}');
SELECT assoc.move_apply('mv_app', 'records',
    ARRAY['(mv_app,r9,{},"{""__proto__"": 1}",1,"2026-01-01 00:00:00+00","2026-01-01 00:00:00+00")'], '{}', '{}');
SELECT assoc.move_apply('mv_app', 'records', '{"not a row"}', '{}', '{}');

-- A fenced copy is made from another server's row, with its own
-- incarnation and the same channel secret; an existing one is updated.
SELECT assoc.move_receive('mv_copy', replace(assoc.move_namespace_row('mv_app'), '(mv_app,', '(mv_copy,'))
       AS copy_incarnation \gset
SELECT incarnation = :copy_incarnation AS returns_its_incarnation FROM assoc.namespaces WHERE ns = 'mv_copy';
SELECT n.fenced, n.history_depth, n.channel_secret = a.channel_secret AS same_secret,
       n.incarnation <> a.incarnation AS own_incarnation
  FROM assoc.namespaces n, assoc.namespaces a WHERE n.ns = 'mv_copy' AND a.ns = 'mv_app';
SELECT assoc.move_receive('mv_copy', replace(replace(assoc.move_namespace_row('mv_app'), '(mv_app,', '(mv_copy,'), ',2,', ',5,'))
       = :copy_incarnation AS same_incarnation;
SELECT history_depth FROM assoc.namespaces WHERE ns = 'mv_copy';
SELECT assoc.move_receive('mv_copy', assoc.move_namespace_row('mv_app'));
SELECT assoc.move_receive('mv_copy', replace(replace(assoc.move_namespace_row('mv_app'), '(mv_app,', '(mv_copy,'), ',postgres,', ',regress_no_such_role,'));
-- Never the source's incarnation, also where the sequence would give it
-- (a shard cloned from the source): the source's cursors stay refused.
SELECT last_value AS seq_was FROM assoc.incarnation_seq \gset
SELECT setval('assoc.incarnation_seq', incarnation, false) > 0 AS rewound FROM assoc.namespaces WHERE ns = 'mv_app';
SELECT assoc.move_receive('mv_clone', replace(assoc.move_namespace_row('mv_app'), '(mv_app,', '(mv_clone,'))
       <> incarnation AS own_incarnation
  FROM assoc.namespaces WHERE ns = 'mv_app';
SELECT setval('assoc.incarnation_seq', :seq_was) > 0 AS restored;
SELECT assoc.move_drop('mv_clone');
SELECT assoc.move_drop('mv_copy');
SELECT count(*) FROM assoc.namespaces WHERE ns = 'mv_copy';

-- Only the extension owner moves: EXECUTE is not granted, and granting it
-- is not enough.
CREATE ROLE regress_assoc_mover;
SET ROLE regress_assoc_mover;
SELECT assoc.move_fence('mv_app', false);
SELECT assoc.move_digests('mv_app', 'records', '', -1, NULL, NULL, NULL);
RESET ROLE;
GRANT EXECUTE ON FUNCTION assoc.move_fence(text, boolean), assoc.move_drop(text) TO regress_assoc_mover;
SET ROLE regress_assoc_mover;
SELECT assoc.move_fence('mv_app', false);
SELECT assoc.move_drop('mv_app');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION assoc.move_fence(text, boolean), assoc.move_drop(text) FROM regress_assoc_mover;
DROP ROLE regress_assoc_mover;
SELECT assoc.move_fence(NULL, false);
SELECT assoc.move_fence('mv_app', NULL);
SELECT assoc.move_fence('nowhere', false);

-- Opened again, it takes changes; a fenced one is removed with move_drop.
SELECT assoc.move_fence('mv_app', false);
SELECT assoc.set('mv_app', 'r1', 'c', '1');
SELECT assoc.move_fence('mv_app', true);
SELECT assoc.move_drop('mv_app');
SELECT count(*) FROM assoc.namespaces WHERE ns = 'mv_app';
SELECT count(*) FROM assoc.records WHERE ns = 'mv_app';
