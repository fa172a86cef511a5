-- (x + op_id) as store_x.sql, with a unique op_id per call (client id and
-- a random number from 10^15: a repeat would be a replay, i.e. a no-op).
\set id random(1, 100000)
\set v1 random(1, 1000000)
\set v2 random(1, 1000000)
\set v3 random(1, 1000000)
\set op random(1, 1000000000000000)
SELECT assoc.set_multi('bench', 'user/' || :id,
  format('[{"path": "profile.score", "data": %s}, {"path": "counters.c3", "data": %s}, {"path": "status", "data": "s%s"}]',
         :v1::int, :v2::int, :v3::int)::jsonb,
  op_id => 'c' || :client_id || '-' || :op);
