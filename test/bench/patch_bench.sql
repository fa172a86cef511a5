-- Driven by test/bench/patch_bench.sh.
\pset footer off
SET client_min_messages = warning;
SET bench.samples = :samples;
SELECT setseed(0.5);

-- A document of sections x keys leaves, each leaf about 120 bytes.
CREATE FUNCTION bench_doc(sections int, keys int) RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_object_agg('s' || s, (
           SELECT jsonb_object_agg('k' || k, jsonb_build_object(
                    'n', k, 'name', 'item ' || s || '/' || k, 'on', k % 2 = 0,
                    'tags', jsonb_build_array('a', 'b', k), 'text', repeat('t', 60)))
           FROM generate_series(1, keys) AS k))
  FROM generate_series(1, sections) AS s $$;

-- A random batch of n entries over existing leaves, as the patch batch and
-- as the equivalent nested jsonb_set / #- expression over "d".
CREATE FUNCTION bench_batch(sections int, keys int, n int, OUT batch jsonb, OUT nested text)
LANGUAGE plpgsql AS $$
DECLARE
  p text[];
  v jsonb;
BEGIN
  batch := '[]';
  nested := 'd';
  FOR i IN 1..n LOOP
    p := ARRAY['s' || (1 + floor(random() * sections))::int,
               'k' || (1 + floor(random() * keys))::int,
               (ARRAY['n', 'name', 'on', 'text'])[1 + floor(random() * 4)::int]];
    IF random() < 0.9 THEN
      v := to_jsonb(round((random() * 1000)::numeric, 2));
      batch := batch || jsonb_build_array(jsonb_build_object('path', array_to_string(p, '.'), 'data', v));
      nested := format('jsonb_set(%s, %L, %L)', nested, p, v);
    ELSE
      batch := batch || jsonb_build_array(jsonb_build_object('path', array_to_string(p, '.')));
      nested := format('(%s #- %L)', nested, p);
    END IF;
  END LOOP;
END $$;

CREATE TABLE results (size text, bytes int, entries int, method text, sample int, us float8);

-- Time "iterations" evaluations of expr (over a document d) in PL/pgSQL.
CREATE FUNCTION bench_time(d jsonb, expr text, iterations int) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  t1 timestamptz;
BEGIN
  EXECUTE format($f$
    CREATE OR REPLACE FUNCTION pg_temp.bench_loop(d jsonb, iterations int) RETURNS void
    LANGUAGE plpgsql AS $b$
    DECLARE r jsonb;
    BEGIN
      FOR i IN 1..iterations LOOP r := %s; END LOOP;
    END $b$ $f$, expr);
  PERFORM pg_temp.bench_loop(d, 1);
  t0 := clock_timestamp();
  PERFORM pg_temp.bench_loop(d, iterations);
  t1 := clock_timestamp();
  RETURN extract(epoch FROM t1 - t0) * 1e6 / iterations;
END $$;

DO $$
DECLARE
  sz record;
  n int;
  d jsonb;
  b record;
  iters int;
  single text;
  samples int := current_setting('bench.samples')::int;
BEGIN
  FOR sz IN SELECT * FROM (VALUES ('1 KB', 2, 4, 20000), ('64 KB', 16, 32, 600), ('1 MB', 64, 128, 40))
                     AS t(label, sections, keys, iters) LOOP
    d := bench_doc(sz.sections, sz.keys);
    FOREACH n IN ARRAY ARRAY[1, 10, 100] LOOP
      b := bench_batch(sz.sections, sz.keys, n);
      EXECUTE format('SELECT assoc.patch(d, %L) = %s FROM (SELECT $1 AS d) AS x', b.batch, b.nested)
        INTO STRICT single USING d;
      IF single IS DISTINCT FROM 'true' THEN
        RAISE EXCEPTION 'assoc.patch and nested jsonb_set disagree (% entries, %)', n, sz.label;
      END IF;
      single := format('jsonb_set(d, %L, %L)', ARRAY['s1', 'k1', 'n'], '42');
      iters := greatest(5, sz.iters / greatest(1, n / 10));
      FOR s IN 1..samples LOOP
        INSERT INTO results VALUES
          (sz.label, octet_length(d::text), n, 'patch', s, bench_time(d, format('assoc.patch(d, %L::jsonb)', b.batch), iters)),
          (sz.label, octet_length(d::text), n, 'nested', s, bench_time(d, b.nested, iters)),
          (sz.label, octet_length(d::text), n, 'single', s, bench_time(d, single, iters));
      END LOOP;
    END LOOP;
  END LOOP;
END $$;

\echo
\echo 'median microseconds per call; ratios from the medians'
SELECT size, entries,
       round(patch::numeric, 1) AS "assoc.patch",
       round(nested::numeric, 1) AS "nested jsonb_set",
       round(single::numeric, 1) AS "one jsonb_set",
       round((nested / patch)::numeric, 1) AS "nested / patch",
       round((patch / single)::numeric, 2) AS "patch / one jsonb_set"
FROM (SELECT size, min(bytes) AS bytes, entries,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE method = 'patch') AS patch,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE method = 'nested') AS nested,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE method = 'single') AS single
      FROM results GROUP BY size, entries) AS m
ORDER BY bytes, entries;
