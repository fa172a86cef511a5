-- pg_assoc upgrade from 0.1.0 to 0.2.0 (ALTER EXTENSION pg_assoc UPDATE).
--
-- Every change to the extension's SQL objects since 0.1.0 is made here as
-- well as in the component scripts (src/*.sql) that generate the 0.2.0
-- install script; test/t/050_upgrade.pl checks, from the catalogs, that an
-- upgraded database and a fresh install end up with the same objects.

\echo Use "ALTER EXTENSION pg_assoc UPDATE TO '0.2.0'" to load this file. \quit

-- ---------------------------------------------------------------------
-- The op_id ledger keeps no removed data (src/ledger.c; README,
-- "Idempotent retries").  0.1.0 kept every row assoc.remove_by returned,
-- data included, so a removed record lived on in assoc.ops until
-- assoc.op_retention.  Its entries keep their rows without "data", as
-- 0.2.0 writes them: a replay returns data NULL.  No object changes.
-- ---------------------------------------------------------------------
UPDATE assoc.ops AS o
   SET result = (SELECT COALESCE(pg_catalog.jsonb_agg(
                                     e.value OPERATOR(pg_catalog.-) 'data'::text
                                     ORDER BY e.ordinality),
                                 '[]'::jsonb)
                   FROM pg_catalog.jsonb_array_elements(o.result)
                        WITH ORDINALITY AS e (value, ordinality))
 WHERE o.fn OPERATOR(pg_catalog.=) 'remove_by'
   AND pg_catalog.jsonb_typeof(o.result) OPERATOR(pg_catalog.=) 'array'
   AND pg_catalog.jsonb_path_exists(o.result, '$[*].data');
