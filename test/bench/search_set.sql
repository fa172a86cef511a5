-- assoc.set_multi with a 3-entry batch (a number, a string, a number) on a
-- random record of namespace 'other'
-- (test/bench/search_bench.sh; -D size=N): the searches' namespace, 'big',
-- is left as loaded.
\set id random(1, :size)
\set v1 random(1, 1000000)
\set v2 random(1, 1000000)
\set v3 random(1, 1000000)
SELECT assoc.set_multi('other', 'r/' || :id,
  format('[{"path": "score", "data": %s}, {"path": "note", "data": "n%s"}, {"path": "seen", "data": %s}]',
         :v1::int, :v2::int, :v3::int)::jsonb);
