-- Driven by test/bench/search_bench.sh: records lo..hi of both namespaces
-- (search_setup.sql's generator), inserted directly as superuser at
-- version 1.  Variables: lo, hi, a, r, m (see search_setup.sql).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
INSERT INTO assoc.records (ns, id, keys, data, version)
SELECT ns, 'r/' || i, public.sb_keys(i, :a, :r), public.sb_doc(i, :a, :r, :m), 1
  FROM (VALUES ('big'), ('other')) AS n(ns), generate_series(:lo, :hi) AS i;
