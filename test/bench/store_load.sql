-- Driven by test/bench/store_bench.sh: 100k records of about 1 KB in
-- namespace 'bench' (loaded directly as superuser, version 1) and the same
-- documents in public.plain for the baselines, plus the hot record.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT assoc.create_namespace('bench') \g /dev/null

CREATE FUNCTION pg_temp.bench_doc(i int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_build_object(
    'name', 'user ' || i,
    'email', 'user' || i || '@example.com',
    'status', 'new',
    'profile', jsonb_build_object('score', i % 1000, 'level', i % 7,
                                  'bio', repeat('b', 200), 'lang', 'en'),
    'counters', (SELECT jsonb_object_agg('c' || k, k * i % 97)
                   FROM generate_series(1, 10) AS k),
    'tags', jsonb_build_array('alpha', 'beta', 'gamma', i % 13),
    'notes', repeat('n', 420)) $$;

INSERT INTO assoc.records (ns, id, data, version)
SELECT 'bench', 'user/' || i, pg_temp.bench_doc(i), 1
  FROM generate_series(1, 100000) AS i;
-- The hot record of the lost-update check: version 1, one path per client.
INSERT INTO assoc.records (ns, id, data, version)
VALUES ('bench', 'hot', '{"c": {}}', 1);

CREATE TABLE public.plain (id text PRIMARY KEY, data jsonb, version bigint);
INSERT INTO public.plain
SELECT id, data, version FROM assoc.records WHERE ns = 'bench' AND id <> 'hot';

-- The hand-written alternatives to op_id and history (store_a_op.sql,
-- store_a_h.sql), shaped as assoc.ops and assoc.history.
CREATE TABLE public.plain_ops (
    op_id  text PRIMARY KEY,
    result jsonb,
    at     timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON public.plain_ops (at);
CREATE TABLE public.plain_history (
    id      text,
    version bigint,
    data    jsonb,
    op      text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, version));

VACUUM ANALYZE assoc.records;
VACUUM ANALYZE public.plain;
VACUUM ANALYZE assoc.feed;
VACUUM ANALYZE assoc.history;
VACUUM ANALYZE assoc.ops;

SELECT count(*) AS records,
       round(avg(octet_length(data::text))) AS avg_text_bytes,
       round(avg(pg_column_size(data))) AS avg_jsonb_bytes,
       pg_size_pretty(pg_table_size('assoc.records')) AS records_size,
       pg_size_pretty(pg_table_size('public.plain')) AS plain_size
  FROM assoc.records WHERE ns = 'bench';

-- The methods make the same change: apply it both ways to one record.
SELECT assoc.set_multi('bench', 'user/1',
  '[{"path": "profile.score", "data": 7}, {"path": "counters.c3", "data": 8}, {"path": "status", "data": "s9"}]') AS x_version \g /dev/null
UPDATE public.plain
   SET data = jsonb_set(jsonb_set(jsonb_set(data, '{profile,score}', to_jsonb(7)),
                '{counters,c3}', to_jsonb(8)), '{status}', to_jsonb('s' || 9)),
       version = version + 1
 WHERE id = 'user/1';
DO $$
BEGIN
  IF (SELECT data FROM assoc.records WHERE ns = 'bench' AND id = 'user/1')
     IS DISTINCT FROM (SELECT data FROM public.plain WHERE id = 'user/1') THEN
    RAISE EXCEPTION 'set_multi and nested jsonb_set gave different documents';
  END IF;
END $$;
\echo == same change check: set_multi and nested jsonb_set give identical documents
