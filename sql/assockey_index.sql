-- The assockey GIN index (SPEC §3): same answers with and without it,
-- empty-set semantics, planner estimates from element statistics, and
-- index use by a non-superuser under row-level security.
\set VERBOSITY default
SET search_path = public, assoc;

-- 1. Parity.  4000 deterministic random keys of 0-4 associations drawn
-- from 3 models x 10 ids (so containment and overlap are common), plus
-- NULL keys; 60 query keys including '{}'.
SELECT setseed(0.25);
CREATE TABLE ak_rand (id int PRIMARY KEY, k assockey);
INSERT INTO ak_rand
SELECT i, CASE WHEN i % 97 = 0 THEN NULL ELSE
       (SELECT assockey_from_array(coalesce(array_agg(
                   (ARRAY['room', 'user', 'misc'])[1 + floor(random() * 3)::int]
                   || ':' || floor(random() * 10)::int), '{}'))
        FROM generate_series(1, floor(random() * 5)::int + 0 * i)) END
FROM generate_series(1, 4000) i;
CREATE INDEX ak_rand_k_idx ON ak_rand USING gin (k);
ANALYZE ak_rand;
CREATE TABLE ak_q (qid int PRIMARY KEY, k assockey NOT NULL);
INSERT INTO ak_q VALUES (0, '{}'), (1, '{nope:x}'), (2, '{room:1,nope:x}');
INSERT INTO ak_q
SELECT i, (SELECT assockey_from_array(coalesce(array_agg(
                   (ARRAY['room', 'user', 'misc'])[1 + floor(random() * 3)::int]
                   || ':' || floor(random() * 10)::int), '{}'))
           FROM generate_series(1, 1 + floor(random() * 6)::int + 0 * i))
FROM generate_series(3, 39) i;
INSERT INTO ak_q SELECT 40 + id, k FROM ak_rand WHERE id BETWEEN 100 AND 119 AND k IS NOT NULL;
SELECT count(*) AS rows, count(*) FILTER (WHERE k = '{}') AS empty_keys,
       count(*) FILTER (WHERE k IS NULL) AS null_keys
FROM ak_rand;

-- ak_results(): for every query key and operator, the sorted ids that match.
CREATE FUNCTION pg_temp.ak_results() RETURNS TABLE (op text, qid int, ids int[])
LANGUAGE sql AS $$
    SELECT '@>', q.qid, array_agg(r.id ORDER BY r.id) FILTER (WHERE r.id IS NOT NULL)
    FROM ak_q q LEFT JOIN ak_rand r ON r.k @> q.k GROUP BY q.qid
    UNION ALL
    SELECT '<@', q.qid, array_agg(r.id ORDER BY r.id) FILTER (WHERE r.id IS NOT NULL)
    FROM ak_q q LEFT JOIN ak_rand r ON r.k <@ q.k GROUP BY q.qid
    UNION ALL
    SELECT '&&', q.qid, array_agg(r.id ORDER BY r.id) FILTER (WHERE r.id IS NOT NULL)
    FROM ak_q q LEFT JOIN ak_rand r ON r.k && q.k GROUP BY q.qid
    UNION ALL
    SELECT '=', q.qid, array_agg(r.id ORDER BY r.id) FILTER (WHERE r.id IS NOT NULL)
    FROM ak_q q LEFT JOIN ak_rand r ON r.k = q.k GROUP BY q.qid
$$;

-- Without the index.
SET enable_indexscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ak_rand WHERE k @> '{room:1}';
CREATE TEMP TABLE ak_res_seq AS SELECT * FROM pg_temp.ak_results();
RESET enable_indexscan;
RESET enable_bitmapscan;

-- Through the index (the GIN index for every operator, also '{}').
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ak_rand WHERE k @> '{room:1}';
EXPLAIN (COSTS OFF) SELECT id FROM ak_rand WHERE k <@ '{}';
EXPLAIN (COSTS OFF) SELECT q.qid, r.id FROM ak_q q JOIN ak_rand r ON r.k && q.k;
CREATE TEMP TABLE ak_res_idx AS SELECT * FROM pg_temp.ak_results();
RESET enable_seqscan;

-- Identical results, and not trivially so.
SELECT count(*) AS differences
FROM ak_res_seq s FULL JOIN ak_res_idx i USING (op, qid)
WHERE s.ids IS DISTINCT FROM i.ids;
SELECT op, count(*) AS queries, sum(coalesce(cardinality(ids), 0)) AS matches,
       count(*) FILTER (WHERE ids IS NOT NULL) AS queries_with_matches
FROM ak_res_idx GROUP BY op ORDER BY op;
-- Empty-set semantics through the index.
SELECT op, cardinality(ids) AS matches FROM ak_res_idx WHERE qid = 0 ORDER BY op;
SET enable_seqscan = off;
SELECT (SELECT count(*) FROM ak_rand WHERE k @> '{}') AS contains_empty,
       (SELECT count(*) FROM ak_rand WHERE k IS NOT NULL) AS non_null,
       (SELECT count(*) FROM ak_rand WHERE k && '{}') AS overlaps_empty,
       (SELECT count(*) FROM ak_rand WHERE k <@ '{}') AS contained_in_empty,
       (SELECT count(*) FROM ak_rand WHERE k = '{}') AS equals_empty;
RESET enable_seqscan;
-- Index maintenance: updates and deletes keep the answers right.
UPDATE ak_rand SET k = k || '{misc:updated}' WHERE id % 10 = 1;
DELETE FROM ak_rand WHERE id % 10 = 2;
SET enable_seqscan = off;
SELECT count(*) FROM ak_rand WHERE k @> '{misc:updated}';
RESET enable_seqscan;
SET enable_bitmapscan = off;
SELECT count(*) FROM ak_rand WHERE k @> '{misc:updated}';
RESET enable_bitmapscan;

-- 2. The planner.  60000 keys: each row one of 3000 rooms and one of
-- 20000 users; 95% also carry misc:common.  With statistics covering the
-- whole table the estimates are deterministic.
CREATE TABLE ak_big (id int PRIMARY KEY, ns text NOT NULL, k assockey NOT NULL);
INSERT INTO ak_big
SELECT i, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END,
       assockey_from_array(ARRAY['room:' || i % 3000, 'user:' || (i * 7919) % 20000]
                           || CASE WHEN i % 20 <> 0 THEN ARRAY['misc:common'] ELSE '{}' END)
FROM generate_series(1, 60000) i;
CREATE INDEX ak_big_k_idx ON ak_big USING gin (k);
ALTER TABLE ak_big ALTER COLUMN k SET STATISTICS 1000;
ANALYZE ak_big;
-- Element statistics are in pg_stats (most common associations first).
SELECT (SELECT array_agg(e ORDER BY f DESC, e) FROM
          (SELECT unnest(most_common_elems::text::text[]) e,
                  unnest(most_common_elem_freqs[1:cardinality(most_common_elems::text::text[])]) f) s
        ) [1:3] AS top_elems,
       elem_count_histogram[1:3] AS count_hist
FROM pg_stats WHERE tablename = 'ak_big' AND attname = 'k';

-- est(q): the planner's row estimate for q.
CREATE FUNCTION pg_temp.est(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN (j->0->'Plan'->>'Plan Rows')::int;
END $$;
-- Estimates next to the true counts.
SELECT op, q, pg_temp.est(format('SELECT * FROM ak_big WHERE k %s %L', op, q)) AS estimate,
       (SELECT count(*) FROM ak_big b
        WHERE CASE op WHEN '@>' THEN b.k @> q::assockey
                      WHEN '&&' THEN b.k && q::assockey
                      ELSE b.k <@ q::assockey END) AS actual
FROM (VALUES ('@>', '{user:42}'), ('@>', '{room:42}'),
             ('@>', '{room:42,misc:common}'), ('@>', '{misc:common}'),
             ('@>', '{nope:x}'), ('@>', '{}'),
             ('&&', '{room:1,room:2,room:3}'), ('&&', '{misc:common}'),
             ('&&', '{}'),
             ('<@', '{room:1,user:1,misc:common}'), ('<@', '{}')) v(op, q);
-- A selective containment query uses the GIN index ...
EXPLAIN (COSTS OFF) SELECT id FROM ak_big WHERE k @> '{user:42}';
EXPLAIN (COSTS OFF) SELECT id FROM ak_big WHERE k @> '{room:42,misc:common}';
EXPLAIN (COSTS OFF) SELECT id FROM ak_big WHERE k && '{user:1,user:2}';
-- ... an unselective one scans the table.
EXPLAIN (COSTS OFF) SELECT id FROM ak_big WHERE k @> '{misc:common}';
EXPLAIN (COSTS OFF) SELECT id FROM ak_big WHERE k && '{misc:common,room:1}';
SELECT id FROM ak_big WHERE k @> '{user:42}' ORDER BY id;

-- 3. Row-level security: a non-superuser's selective query still uses the
-- index, because the operator function is LEAKPROOF.
CREATE ROLE regress_assockey_reader;
ALTER TABLE ak_big ENABLE ROW LEVEL SECURITY;
CREATE POLICY ak_big_ns ON ak_big USING (ns = 'a');
GRANT SELECT ON ak_big TO regress_assockey_reader;
SET ROLE regress_assockey_reader;
EXPLAIN (COSTS OFF) SELECT id FROM ak_big WHERE k @> '{user:42}';
SELECT id FROM ak_big WHERE k @> '{user:42}' ORDER BY id;
EXPLAIN (COSTS OFF) SELECT id FROM ak_big WHERE k = '{room:42,user:14798,misc:common}';
RESET ROLE;

-- 4. The estimator keeps each column's decoded statistics per backend and
-- drops them when the column is analysed again: the estimate follows the
-- data, also within one session.
CREATE FUNCTION pg_temp.estimated_rows(query text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
    RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END
$$;
CREATE TABLE ak_stats (k assoc.assockey);
INSERT INTO ak_stats SELECT CASE WHEN i % 10 = 0 THEN '{room:A}' ELSE '{room:B}' END::assoc.assockey
  FROM generate_series(1, 10000) AS i;
ANALYZE ak_stats;
SELECT pg_temp.estimated_rows($$SELECT * FROM ak_stats WHERE k @> '{room:A}'$$) AS room_a_before;
SELECT pg_temp.estimated_rows($$SELECT * FROM ak_stats WHERE k @> '{room:A}'$$) AS room_a_cached;
UPDATE ak_stats SET k = '{room:A}';
ANALYZE ak_stats;
SELECT pg_temp.estimated_rows($$SELECT * FROM ak_stats WHERE k @> '{room:A}'$$) AS room_a_after;
SELECT pg_temp.estimated_rows($$SELECT * FROM ak_stats WHERE k <@ '{room:A,room:C}'$$) AS contained_after;

DROP TABLE ak_big, ak_rand, ak_q, ak_stats;
DROP ROLE regress_assockey_reader;
