-- (a + op_id) what a user writes instead of an op_id: in one transaction,
-- an INSERT ... ON CONFLICT into an idempotency table (public.plain_ops,
-- shaped as assoc.ops: the key, a result, a timestamp indexed for pruning)
-- and the UPDATE of (a).  The op_id is unique per call, as in store_x_op.sql.
\set id random(1, 100000)
\set v1 random(1, 1000000)
\set v2 random(1, 1000000)
\set v3 random(1, 1000000)
\set op random(1, 1000000000000000)
BEGIN;
INSERT INTO public.plain_ops (op_id) VALUES ('c' || :client_id || '-' || :op)
    ON CONFLICT DO NOTHING;
UPDATE public.plain
   SET data = jsonb_set(jsonb_set(jsonb_set(data,
                '{profile,score}', to_jsonb(:v1::int)),
                '{counters,c3}', to_jsonb(:v2::int)),
                '{status}', to_jsonb('s' || :v3)),
       version = version + 1
 WHERE id = 'user/' || :id;
COMMIT;
