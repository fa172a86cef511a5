#!/bin/bash
# Benchmark of assockey indexing (issue 4), run on demand (not in CI).
#
# Builds ROWS records (default 1M), each with 1-4 associations: one of 10k
# rooms, then users (100k), livechat-message (20k), discussion (2k) and misc
# (10).  The same keys are stored four ways, one table each:
#   ak_gin    assockey              GIN (assockey_gin_ops)
#   arr_gin   text[] of 'model:id'  GIN (array_ops)
#   js_gin    jsonb [{"model","id"}] GIN (jsonb_path_ops)
#   ak_btree  assockey              btree (equality only)
# and prints index sizes and the median latency of QUERIES (default 300)
# different parameters per query kind, measured inside the server
# (clock_timestamp around EXECUTE), the variants interleaved per parameter
# so machine noise hits all of them alike.  Every variant must return the
# same count for a parameter; the script says so if not.
#
# The order of the variants changes from one parameter to the next, cycling
# through all 24 permutations, so each variant runs as often first, second,
# ... and right after each other variant.  A fixed order is not fair: the
# query that runs right after a costly one (the jsonb variant touches the
# most memory) finds the CPU caches cold.  Measured with two identical
# text[] tables in the fixed order, the one run first was 9-13% slower
# than its copy run second.
#
#   sudo test/bench/assockey_bench.sh            # as root: makes its own cluster
#   ROWS=200000 QUERIES=100 test/bench/assockey_bench.sh
#
# The extension must be installed (make install).  The cluster lives in a
# temp dir owned by postgres, listens only on a socket there, and is
# stopped on exit.
set -euo pipefail

ROWS=${ROWS:-1000000}
QUERIES=${QUERIES:-300}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PORT=${PORT:-5499}
RUNAS=${RUNAS:-postgres}

DIR=$(mktemp -d /tmp/assockey_bench.XXXXXX)
chown "$RUNAS" "$DIR"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$RUNAS" -- "$@"; else "$@"; fi; }
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT

as_pg "$PGBIN/initdb" -D "$DIR/data" -A trust >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w start -o \
	"-p $PORT -k $DIR -c listen_addresses='' -c shared_buffers=2GB \
	 -c maintenance_work_mem=1GB -c work_mem=64MB -c max_parallel_workers_per_gather=0 \
	 -c jit=off -c autovacuum=off" >/dev/null
PSQL=(as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -U "$RUNAS" -d postgres)

echo "assockey benchmark: $ROWS records, $QUERIES parameters per query kind"
echo "PostgreSQL: $("${PSQL[@]}" -Atc 'SHOW server_version')"

"${PSQL[@]}" <<SQL
CREATE EXTENSION pg_assoc;
SET search_path = public, assoc;
SELECT setseed(0.5);
\echo building data
CREATE TABLE src AS
SELECT i AS id,
       ARRAY(SELECT DISTINCT CASE WHEN g = 1 THEN 'room:' || floor(random() * 10000)::int
                                  WHEN x < 0.70 THEN 'user:' || floor(random() * 100000)::int
                                  WHEN x < 0.85 THEN 'livechat-message:' || floor(random() * 20000)::int
                                  WHEN x < 0.95 THEN 'discussion:' || floor(random() * 2000)::int
                                  ELSE 'misc:' || floor(random() * 10)::int END
             FROM generate_series(1, 1 + floor(random() * 4)::int + 0 * i) g,
                  LATERAL (SELECT random() + 0 * g AS x) r) AS arr
FROM generate_series(1, $ROWS) i;
CREATE TABLE ak_gin AS SELECT id, assockey_from_array(arr) AS k FROM src;
CREATE TABLE ak_btree AS SELECT * FROM ak_gin;
CREATE TABLE arr_gin AS SELECT id, arr FROM src;
CREATE TABLE js_gin AS
SELECT id, coalesce((SELECT jsonb_agg(jsonb_build_object('model', split_part(e, ':', 1),
                                                         'id', substr(e, strpos(e, ':') + 1)))
                     FROM unnest(arr) e), '[]') AS j
FROM src;
\echo building indexes
\timing on
CREATE INDEX ak_gin_idx ON ak_gin USING gin (k);
CREATE INDEX arr_gin_idx ON arr_gin USING gin (arr);
CREATE INDEX js_gin_idx ON js_gin USING gin (j jsonb_path_ops);
CREATE INDEX ak_btree_idx ON ak_btree USING btree (k);
\timing off
VACUUM ANALYZE ak_gin;
VACUUM ANALYZE ak_btree;
VACUUM ANALYZE arr_gin;
VACUUM ANALYZE js_gin;

-- Query parameters, drawn from existing rows so that most queries match.
ALTER TABLE src ADD PRIMARY KEY (id);
CREATE TABLE pick AS
SELECT n, (SELECT arr FROM src WHERE id = r.a) AS a, (SELECT arr FROM src WHERE id = r.b) AS b,
          (SELECT arr FROM src WHERE id = r.c) AS c
FROM generate_series(1, $QUERIES * 4) n,
     LATERAL (SELECT 1 + floor(random() * $ROWS)::int + 0 * n AS a,
                     1 + floor(random() * $ROWS)::int AS b,
                     1 + floor(random() * $ROWS)::int AS c) r;
CREATE TABLE params AS
SELECT 'contains one' AS kind, n, ARRAY[a[1 + floor(random() * cardinality(a))::int]] AS q
FROM pick WHERE n <= $QUERIES
UNION ALL
SELECT 'contains two', n, a[1:2]
FROM (SELECT n, a, row_number() OVER (ORDER BY n) AS rn FROM pick WHERE cardinality(a) >= 2) s
WHERE rn <= $QUERIES
UNION ALL
SELECT 'equality', n, a FROM pick WHERE n <= $QUERIES
UNION ALL
SELECT 'overlap', n, ARRAY[a[1], b[cardinality(b)], c[1]] FROM pick WHERE n <= $QUERIES;

-- The SQL each variant runs for a kind and a parameter (an array of
-- 'model:id'); count(id) makes every variant read the heap rows.
CREATE FUNCTION bench_sql(variant text, kind text, q text[]) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS \$\$
DECLARE
    ak text := quote_literal(assoc.assockey_from_array(q)::text);
    ar text := quote_literal(q::text);
    js text := quote_literal((SELECT jsonb_agg(jsonb_build_object(
                   'model', split_part(e, ':', 1), 'id', substr(e, strpos(e, ':') + 1)))
                   FROM unnest(q) e)::text);
BEGIN
    IF variant = 'assockey GIN' THEN
        RETURN 'SELECT count(id) FROM ak_gin WHERE k '
            || CASE kind WHEN 'equality' THEN '=' WHEN 'overlap' THEN '&&' ELSE '@>' END
            || ' ' || ak || '::assoc.assockey';
    ELSIF variant = 'assockey btree' THEN
        IF kind <> 'equality' THEN RETURN NULL; END IF;
        RETURN 'SELECT count(id) FROM ak_btree WHERE k = ' || ak || '::assoc.assockey';
    ELSIF variant = 'text[] GIN' THEN
        RETURN 'SELECT count(id) FROM arr_gin WHERE '
            || CASE kind WHEN 'equality' THEN 'arr @> ' || ar || '::text[] AND arr <@ ' || ar || '::text[]'
                         WHEN 'overlap' THEN 'arr && ' || ar || '::text[]'
                         ELSE 'arr @> ' || ar || '::text[]' END;
    ELSE -- jsonb_path_ops GIN
        IF kind = 'overlap' THEN
            RETURN 'SELECT count(id) FROM js_gin WHERE '
                || (SELECT string_agg(format('j @> %L::jsonb',
                        jsonb_build_array(jsonb_build_object('model', split_part(e, ':', 1),
                                                             'id', substr(e, strpos(e, ':') + 1)))),
                        ' OR ') FROM unnest(q) e);
        END IF;
        RETURN 'SELECT count(id) FROM js_gin WHERE j @> ' || js || '::jsonb'
            || CASE kind WHEN 'equality' THEN ' AND j <@ ' || js || '::jsonb' ELSE '' END;
    END IF;
END \$\$;

CREATE TABLE timings (kind text, n int, variant text, ms float8, cnt bigint);
-- The 24 orders of the variants, numbered 0..23 (see the top of the file).
CREATE TABLE orders AS
WITH v(name) AS (VALUES ('assockey GIN'), ('text[] GIN'), ('jsonb_path_ops GIN'), ('assockey btree')),
     p AS (SELECT ARRAY[a.name, b.name, c.name, d.name] AS o FROM v a, v b, v c, v d
           WHERE a.name NOT IN (b.name, c.name, d.name) AND b.name NOT IN (c.name, d.name)
             AND c.name <> d.name)
SELECT (row_number() OVER (ORDER BY o) - 1)::int AS k, o FROM p;
CREATE TABLE plans (kind text, variant text, plan text);

CREATE PROCEDURE run_bench() LANGUAGE plpgsql AS \$\$
DECLARE
    p record;
    v text;
    s text;
    t0 timestamptz;
    c bigint;
    pass int;
    i int := 0;
    ord text[];
BEGIN
    FOR pass IN 1..2 LOOP           -- pass 1 warms the caches, pass 2 counts
        FOR p IN SELECT * FROM params ORDER BY kind, n LOOP
            SELECT o INTO ord FROM orders WHERE k = i % 24;
            i := i + 1;
            FOREACH v IN ARRAY ord LOOP
                s := bench_sql(v, p.kind, p.q);
                CONTINUE WHEN s IS NULL;
                t0 := clock_timestamp();
                EXECUTE s INTO c;
                IF pass = 2 THEN
                    INSERT INTO timings VALUES (p.kind, p.n, v,
                        1000 * extract(epoch FROM clock_timestamp() - t0), c);
                END IF;
            END LOOP;
        END LOOP;
        COMMIT;
    END LOOP;
END \$\$;
\echo running queries
CALL run_bench();

-- One plan per kind and variant, to show every variant used its index.
DO \$\$
DECLARE
    p record;
    v text;
    line text;
    plan text;
BEGIN
    FOR p IN SELECT DISTINCT ON (kind) * FROM params ORDER BY kind, n LOOP
        FOREACH v IN ARRAY ARRAY['assockey GIN', 'text[] GIN', 'jsonb_path_ops GIN', 'assockey btree'] LOOP
            CONTINUE WHEN bench_sql(v, p.kind, p.q) IS NULL;
            plan := '';
            FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || bench_sql(v, p.kind, p.q) LOOP
                IF line ~ 'Index|Seq Scan' THEN
                    plan := plan || regexp_replace(line, '^[ ->]*', '') || '; ';
                END IF;
            END LOOP;
            INSERT INTO plans VALUES (p.kind, v, plan);
        END LOOP;
    END LOOP;
END \$\$;
SQL

echo
echo "== index sizes =="
"${PSQL[@]}" -P footer=off <<'SQL'
SELECT v AS index, pg_size_pretty(pg_relation_size(i)) AS size,
       round(pg_relation_size(i) / 1048576.0, 1) AS mb,
       round(pg_relation_size(i)::numeric / pg_relation_size('ak_gin_idx'), 2) AS "vs assockey GIN"
FROM (VALUES ('assockey GIN', 'ak_gin_idx'::regclass), ('text[] GIN', 'arr_gin_idx'),
             ('jsonb_path_ops GIN', 'js_gin_idx'), ('assockey btree', 'ak_btree_idx')) v(v, i);
SELECT v AS "table", round(pg_relation_size(t) / 1048576.0, 1) AS heap_mb
FROM (VALUES ('assockey', 'ak_gin'::regclass), ('text[]', 'arr_gin'), ('jsonb', 'js_gin')) v(v, t);
SQL

echo "== median latency (ms), ratio = alternative / assockey GIN (>1: assockey GIN faster) =="
"${PSQL[@]}" -P footer=off <<'SQL'
WITH med AS (
    SELECT kind, variant, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms, count(*) AS n,
           avg(cnt) AS rows
    FROM timings GROUP BY kind, variant),
w AS (
    SELECT kind, max(n) AS n, round(max(rows) FILTER (WHERE variant = 'assockey GIN'), 1) AS avg_rows,
           max(ms) FILTER (WHERE variant = 'assockey GIN') AS ak,
           max(ms) FILTER (WHERE variant = 'text[] GIN') AS arr,
           max(ms) FILTER (WHERE variant = 'jsonb_path_ops GIN') AS js,
           max(ms) FILTER (WHERE variant = 'assockey btree') AS akb
    FROM med GROUP BY kind)
SELECT kind AS query, n, avg_rows,
       round(ak::numeric, 3) AS "assockey GIN",
       round(arr::numeric, 3) AS "text[] GIN",
       round(js::numeric, 3) AS "jsonb GIN",
       round(akb::numeric, 3) AS "assockey btree",
       round((arr / ak)::numeric, 2) AS "text[]/ak",
       round((js / ak)::numeric, 2) AS "jsonb/ak",
       round((akb / ak)::numeric, 2) AS "btree/ak"
FROM w ORDER BY array_position(ARRAY['contains one', 'contains two', 'equality', 'overlap'], kind);
SELECT count(*) AS "parameters where variants disagree"
FROM (SELECT kind, n FROM timings GROUP BY kind, n HAVING count(DISTINCT cnt) > 1) s;
SQL
echo "== plans (one parameter per kind) =="
"${PSQL[@]}" -P footer=off -c "SELECT kind, variant, plan FROM plans ORDER BY kind, variant"
