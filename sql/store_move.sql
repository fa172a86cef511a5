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

-- Keys in order, after a bound, at most max; records and ops have
-- version 0.  Each row version has a stamp (xmin/ctid/time): a change
-- gives another.
SELECT key, version, stamp ~ '^[0-9]+/\([0-9]+,[0-9]+\)/\d{4}-\d\d-\d\d \d\d:\d\d:[0-9.]+\+00$' AS stamp
  FROM assoc.move_stamps('mv_app', 'records', '', -1, NULL, NULL, 10);
SELECT key, version FROM assoc.move_stamps('mv_app', 'history', '', -1, NULL, NULL, 10);
SELECT key, version FROM assoc.move_stamps('mv_app', 'history', 'r1', 1, NULL, NULL, 2);
SELECT key, version FROM assoc.move_stamps('mv_app', 'history', 'r1', 1, 'r2', 1, NULL);
SELECT key, version FROM assoc.move_stamps('mv_app', 'records', '', -1, 'r1', 0, NULL);
SELECT key, version FROM assoc.move_stamps('mv_app', 'ops', 'op-1', 0, NULL, NULL, 10);
SELECT key FROM assoc.move_stamps('mv_app', 'feed', '', -1, NULL, NULL, 10);
CREATE TEMPORARY TABLE s AS SELECT * FROM assoc.move_stamps('mv_app', 'records', '', -1, NULL, NULL, 10);
SELECT assoc.set('mv_app', 'r2', '0', '1');
SELECT key, s.stamp = n.stamp AS same_stamp FROM s JOIN assoc.move_stamps('mv_app', 'records', '', -1, NULL, NULL, 10) AS n USING (key, version);

-- Rows as text, in the order asked, with their stamps; NULLs for a row
-- that is gone; cut after the row that reaches max_bytes.
SELECT m.key, m.version, m.source_row ~ '^\(mv_app,r[12],' AS row_text,
       m.stamp = (SELECT n.stamp FROM assoc.move_stamps('mv_app', 'records', '', -1, NULL, NULL, 10) AS n WHERE n.key = m.key) AS stamp
  FROM assoc.move_rows('mv_app', 'records', '{r2,nope,r1}', '{0,0,0}', 1000000) AS m;
SELECT key FROM assoc.move_rows('mv_app', 'records', '{r2,nope,r1}', '{0,0,0}', 1);
SELECT key, version FROM assoc.move_rows('mv_app', 'history', '{r1,r2}', '{2,1}', 1000000);

-- The text does not depend on the session's settings.
CREATE TEMPORARY TABLE t AS SELECT * FROM assoc.move_rows('mv_app', 'history', '{r1,r1,r2,r2}', '{1,2,1,2}', 1000000);
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'SQL, DMY';
SET bytea_output = 'escape';
SELECT count(*) AS same FROM assoc.move_rows('mv_app', 'history', '{r1,r1,r2,r2}', '{1,2,1,2}', 1000000) AS x
  JOIN t USING (key, version, source_row);
SELECT count(*) AS same FROM assoc.move_rows('mv_app', 'ops', '{op-1,op-2}', '{0,0}', 1000000) AS x
  WHERE source_row ~ ',"\\\\x[0-9a-f]+",';
RESET TimeZone;
RESET DateStyle;
RESET bytea_output;

-- Nothing is written into a namespace that is open.
SELECT assoc.move_apply('mv_app', 'records', '{}', '{r1}', '{0}');
SELECT assoc.move_receive('mv_app', assoc.move_namespace_row('mv_app'));
SELECT assoc.move_drop('mv_app');
SELECT assoc.move_quiesce('mv_app');

-- Only the namespace of the incarnation a move expects.
\set VERBOSITY terse
SELECT assoc.move_fence('mv_app', true, 0);
\set VERBOSITY default
SELECT fenced FROM assoc.namespaces WHERE ns = 'mv_app';

-- Fenced: every change fails with 40001, reads go on; quiescing waits for
-- the writes that found it open (none here).
SELECT assoc.move_fence('mv_app', true, incarnation) FROM assoc.namespaces WHERE ns = 'mv_app';
SELECT assoc.move_quiesce('mv_app', incarnation) FROM assoc.namespaces WHERE ns = 'mv_app';
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

-- The keys given are deleted, then the rows given (as text) inserted.
SELECT assoc.move_apply('mv_app', 'records',
    ARRAY(SELECT replace(source_row, ': 1,', ': 2,') FROM assoc.move_rows('mv_app', 'records', '{r1}', '{0}', 1000000)),
    '{r1}', '{0}');
SELECT assoc.get('mv_app', 'r1');
SELECT assoc.move_apply('mv_app', 'history', '{}', '{r1}', '{1}');
SELECT version FROM assoc.history('mv_app', 'r1');
SELECT assoc.move_apply('mv_app', 'ops', ARRAY(SELECT source_row FROM assoc.move_rows('mv_app', 'ops', '{op-2}', '{0}', 1000000)),
    '{op-1,op-2}', '{0,0}');
-- A row whose key is not deleted first replaces nothing.
SELECT assoc.move_apply('mv_app', 'ops', ARRAY(SELECT source_row FROM assoc.move_rows('mv_app', 'ops', '{op-2}', '{0}', 1000000)),
    '{}', '{}');
SELECT op_id FROM assoc.ops WHERE ns = 'mv_app';
SELECT assoc.move_apply('mv_app', 'records',
    ARRAY(SELECT replace(source_row, '(mv_app,', '(other,') FROM assoc.move_rows('mv_app', 'records', '{r1}', '{0}', 1000000)),
    '{}', '{}');
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
SELECT assoc.move_stamps('mv_app', 'records', '', -1, NULL, NULL, 10);
RESET ROLE;
GRANT EXECUTE ON FUNCTION assoc.move_fence(text, boolean, bigint), assoc.move_quiesce(text, bigint),
    assoc.move_drop(text, bigint) TO regress_assoc_mover;
SET ROLE regress_assoc_mover;
SELECT assoc.move_fence('mv_app', false);
SELECT assoc.move_quiesce('mv_app');
SELECT assoc.move_drop('mv_app');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION assoc.move_fence(text, boolean, bigint), assoc.move_quiesce(text, bigint),
    assoc.move_drop(text, bigint) FROM regress_assoc_mover;
DROP ROLE regress_assoc_mover;
SELECT assoc.move_fence(NULL, false);
SELECT assoc.move_fence('mv_app', NULL);
SELECT assoc.move_fence('nowhere', false);

-- Opened again, it takes changes; a fenced one is removed with move_drop.
SELECT assoc.move_fence('mv_app', false);
SELECT assoc.set('mv_app', 'r1', 'c', '1');
SELECT assoc.move_fence('mv_app', true);
\set VERBOSITY terse
SELECT assoc.move_drop('mv_app', 0);
\set VERBOSITY default
SELECT assoc.move_drop('mv_app');
SELECT count(*) FROM assoc.namespaces WHERE ns = 'mv_app';
SELECT count(*) FROM assoc.records WHERE ns = 'mv_app';
