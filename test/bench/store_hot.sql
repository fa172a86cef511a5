-- Lost-update check: every client writes its own path of ONE record with a
-- fresh value (random over 10^15, so never a no-op in practice).
\set v random(1, 1000000000000000)
SELECT assoc.set_multi('bench', 'hot',
  format('[{"path": "c.k%s", "data": %s}]', :client_id::int, :v::bigint)::jsonb);
