-- (a + history) what a user writes instead of history_depth = 10: in one
-- transaction, the UPDATE of (a) keeping the new version in
-- public.plain_history (shaped as assoc.history), and the trim of the
-- versions that fall out of the depth.
\set id random(1, 100000)
\set v1 random(1, 1000000)
\set v2 random(1, 1000000)
\set v3 random(1, 1000000)
BEGIN;
WITH u AS (
  UPDATE public.plain
     SET data = jsonb_set(jsonb_set(jsonb_set(data,
                  '{profile,score}', to_jsonb(:v1::int)),
                  '{counters,c3}', to_jsonb(:v2::int)),
                  '{status}', to_jsonb('s' || :v3)),
         version = version + 1
   WHERE id = 'user/' || :id
  RETURNING id, version, data)
INSERT INTO public.plain_history (id, version, data, op)
SELECT id, version, data, 'patch' FROM u;
DELETE FROM public.plain_history
 WHERE id = 'user/' || :id
   AND version < (SELECT version FROM public.plain WHERE id = 'user/' || :id) - 10;
COMMIT;
