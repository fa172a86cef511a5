-- (a) the same change as one plain server-side UPDATE with nested jsonb_set.
\set id random(1, 100000)
\set v1 random(1, 1000000)
\set v2 random(1, 1000000)
\set v3 random(1, 1000000)
UPDATE public.plain
   SET data = jsonb_set(jsonb_set(jsonb_set(data,
                '{profile,score}', to_jsonb(:v1::int)),
                '{counters,c3}', to_jsonb(:v2::int)),
                '{status}', to_jsonb('s' || :v3)),
       version = version + 1
 WHERE id = 'user/' || :id;
