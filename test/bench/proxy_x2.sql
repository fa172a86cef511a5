-- (p2) through the proxy: assoc.set_multi with a 3-entry batch on a random
-- record of a random one of the two shards' namespaces.
\set id random(1, 100000)
\set shard random(0, 1)
\set v1 random(1, 1000000)
\set v2 random(1, 1000000)
\set v3 random(1, 1000000)
SELECT assoc.set_multi(CASE WHEN :shard = 0 THEN 'bench' ELSE 'bench1' END, 'user/' || :id,
  format('[{"path": "profile.score", "data": %s}, {"path": "counters.c3", "data": %s}, {"path": "status", "data": "s%s"}]',
         :v1::int, :v2::int, :v3::int)::jsonb);
