-- (x) assoc.set_multi with a 3-entry batch on a random record.
\set id random(1, 100000)
\set v1 random(1, 1000000)
\set v2 random(1, 1000000)
\set v3 random(1, 1000000)
SELECT assoc.set_multi('bench', 'user/' || :id,
  format('[{"path": "profile.score", "data": %s}, {"path": "counters.c3", "data": %s}, {"path": "status", "data": "s%s"}]',
         :v1::int, :v2::int, :v3::int)::jsonb);
