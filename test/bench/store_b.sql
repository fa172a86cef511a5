-- (b) client-side read-modify-write, as storage connectors do it: lock and
-- read the document and version, send the whole changed document back.
-- Approximation: pgbench cannot compute in the client, so the document
-- makes the full round trip (fetched with \gset, sent back as a parameter)
-- but the 3 changes are applied to it server-side with nested jsonb_set
-- in the UPDATE, instead of in the client's CPU.
\set id random(1, 100000)
\set v1 random(1, 1000000)
\set v2 random(1, 1000000)
\set v3 random(1, 1000000)
BEGIN;
SELECT data AS doc, version AS ver FROM public.plain WHERE id = 'user/' || :id FOR UPDATE \gset
UPDATE public.plain
   SET data = jsonb_set(jsonb_set(jsonb_set(:doc::jsonb,
                '{profile,score}', to_jsonb(:v1::int)),
                '{counters,c3}', to_jsonb(:v2::int)),
                '{status}', to_jsonb('s' || :v3)),
       version = :ver::bigint + 1
 WHERE id = 'user/' || :id;
COMMIT;
