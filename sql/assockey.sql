-- The assockey type (SPEC §3): text I/O, limits, errors, operators,
-- constructors and accessors.  Index behaviour is in assockey_index.sql.
\set VERBOSITY default
SET search_path = public, assoc;

-- err(q): run q and show 'ok' or SQLSTATE, message and detail, so every
-- error is pinned exactly on one line.
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    d text;
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    -- long runs of one character (limit tests) are shortened to 'xxx…'
    RETURN regexp_replace(SQLSTATE || ': ' || SQLERRM || coalesce(' | ' || nullif(d, ''), ''),
                          '(.)\1{15,}', '\1\1\1…', 'g');
END $$;

-- Canonical form: sorted bytewise by (model, id), duplicates removed.
SELECT '{user:42,room:GENERAL}'::assockey;
SELECT '{room:GENERAL,user:42,room:GENERAL,user:42}'::assockey;
SELECT '{user:42,room:GENERAL}'::assockey = '{room:GENERAL,user:42}' AS same;
SELECT '{}'::assockey AS empty, '  {  }  '::assockey AS spaced_empty;
SELECT ' { room:a ,	user:b
 } '::assockey AS trimmed;
-- Bytewise, not collation order: upper case before lower case, 'a' < 'a-'
-- < 'a.' < 'aa' < 'b', shorter id first.
SELECT '{b:1,a.:1,aa:1,a-:1,a:1,A:1,a:10,a:9,a:1a,a:B}'::assockey;
SELECT '{room:é,room:e,room:z,room:É}'::assockey;
-- ids may hold ':' and inner spaces; the split is at the first ':'.
SELECT '{misc:a:b:c,room:a b}'::assockey;
SELECT assoc.ids('{misc:a:b:c}', 'misc');

-- Quoting: elements holding , { } " \ or trailing white space are quoted
-- with backslash escapes on output; quotes and escapes may appear anywhere
-- on input, as in PostgreSQL arrays.
SELECT '{"room:a,b"}'::assockey AS comma,
       '{room:"{x}"}'::assockey AS braces,
       '{"room:say \"hi\""}'::assockey AS quote,
       '{room:back\\slash}'::assockey AS backslash;
SELECT '{"room:x "}'::assockey AS trailing_space,
       '{room:\ x}'::assockey AS leading_space_id,
       E'{"room:tab\t"}'::assockey AS trailing_tab;
SELECT '{r\oom:\x}'::assockey AS escapes_anywhere,
       '{"room":"GENERAL"}'::assockey AS quoted_parts;
SELECT assoc.ids('{"room:x ", "room:say \"hi\"", room:back\\slash}', 'room');
-- Round trip text -> assockey -> text is identity on canonical text.
SELECT t, t::assockey::text = t AS round_trip
FROM (VALUES ('{}'), ('{room:GENERAL,user:42}'), ('{"room:a,b","room:x "}'),
             ('{"msg:\"\\",room:a:b,room:x y}'),
             ('{room:a b,user:ü}'), ('{"room:{}"}')) v(t);
SELECT k::text::assockey = k AS stable
FROM (SELECT '{"room:  x ", "a:\\", "b:,", c:ż}'::assockey AS k) s;

-- Unicode ids are stored exactly (no normalization or case folding).
SELECT '{user:Ünïcødé,room:日本語,room:😀}'::assockey;
SELECT '{user:ß}'::assockey = '{user:SS}' AS folded,
       '{room:General}'::assockey = '{room:GENERAL}' AS case_folded;
SELECT assoc.size('{room:😀,room:😀}');

-- Limits: model 1-63 characters of [A-Za-z0-9_.-]; id 1-1024 bytes.
SELECT assoc.size(('{' || repeat('m', 63) || ':x}')::assockey) AS model_63;
SELECT assoc.size(('{room:' || repeat('x', 1024) || '}')::assockey) AS id_1024;
SELECT assoc.size(('{room:' || repeat('é', 512) || '}')::assockey) AS id_1024_bytes;
SELECT pg_temp.err($$SELECT ('{' || repeat('m', 64) || ':x}')::assoc.assockey$$) AS model_64;
SELECT pg_temp.err($$SELECT ('{room:' || repeat('x', 1025) || '}')::assoc.assockey$$) AS id_1025;
SELECT pg_temp.err($$SELECT ('{room:' || repeat('é', 513) || '}')::assoc.assockey$$) AS id_1026_bytes;
SELECT assoc.size('{A-Z_a.z-09:x}') AS model_charset;

-- Malformed text: 22P02, pointing at the character and element.
SELECT '{room'::assockey;
SELECT '{room:a,user:}'::assockey;
SELECT q, pg_temp.err(format('SELECT %L::assoc.assockey', q))
FROM (VALUES (''), ('   '), ('room:a'), ('{room:a'), ('{room:a,'), ('{'),
             ('{room:a} x'), ('{room:a}}'), ('{,}'), ('{room:a,,user:b}'),
             ('{room:a,}'), ('{ , room:a}'), ('{""}'), ('{  "" }'),
             ('{room}'), ('{:x}'), ('{room:}'), ('{room: }'), ('{"room:a}'),
             ('{room:a\'), ('{room:{a}}'), ('{room:a{}'), ('{ro om:x}'),
             ('{ro/om:x}'), ('{rööm:x}'), ('{room:x,user x:1}'),
             ('{{room:x}}'), ('{"room" :x}'), ('{room:a}{user:b}'),
             ('{日本:x}')) v(q);

-- Operators.
SELECT a, b,
       a @> b AS contains, a <@ b AS contained, a && b AS overlaps,
       a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le, a > b AS gt,
       a >= b AS ge, a || b AS "union", a - b AS minus
FROM (VALUES ('{}'::assockey, '{}'::assockey),
             ('{room:a}', '{}'),
             ('{}', '{room:a}'),
             ('{room:a,user:1}', '{room:a}'),
             ('{room:a}', '{room:a,user:1}'),
             ('{room:a,user:1}', '{user:1,room:a}'),
             ('{room:a,user:1}', '{user:1,user:2}'),
             ('{room:a}', '{room:b}'),
             ('{room:a}', '{room:A}'),
             ('{room:a,room:b}', '{room:b,room:c}')) v(a, b)
ORDER BY 1, 2;
-- k @> '{}' is true for every k; k && '{}' is never true.
SELECT bool_and(k @> '{}') AS all_contain_empty, bool_or(k && '{}') AS any_overlap_empty,
       bool_and('{}' <@ k) AS empty_contained_in_all
FROM (VALUES ('{}'::assockey), ('{room:a}'), ('{room:a,user:b}')) v(k);
-- NULLs: operators are strict.
SELECT NULL::assockey @> '{}' AS c, '{room:a}'::assockey = NULL AS e,
       '{room:a}'::assockey || NULL AS u;
-- Total order: sorts element by element, the empty key first.
SELECT k FROM (VALUES ('{room:b}'::assockey), ('{}'), ('{room:a,user:1}'),
                      ('{room:a}'), ('{room:a,room:b}'), ('{a:z}')) v(k)
ORDER BY k;
-- btree and hash support: DISTINCT, GROUP BY, UNIQUE, hash join.
SELECT count(DISTINCT k) FROM (VALUES ('{room:a,user:1}'::assockey), ('{user:1,room:a}'),
                                      ('{user:1,room:a,room:a}'), ('{room:a}')) v(k);
CREATE TEMP TABLE ak_u (k assockey UNIQUE);
INSERT INTO ak_u VALUES ('{room:a,user:1}');
INSERT INTO ak_u VALUES ('{user:1,room:a}');
SELECT assockey_hash('{room:a,user:1}') = assockey_hash('{user:1,room:a,user:1}') AS hash_eq,
       assockey_hash_extended('{room:a}', 7) = assockey_hash_extended('{room:a}', 7) AS ext_eq,
       assockey_hash_extended('{room:a}', 7) <> assockey_hash_extended('{room:a}', 8) AS seeded;
CREATE TEMP TABLE ak_v AS SELECT '{user:1,room:a}'::assockey AS k;
INSERT INTO ak_u VALUES ('{room:b}');
SET enable_mergejoin = off;
SET enable_nestloop = off;
SET enable_indexscan = off;
SET enable_indexonlyscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT * FROM ak_v JOIN ak_u USING (k);
SELECT * FROM ak_v JOIN ak_u USING (k);
SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT k, count(*) FROM ak_u GROUP BY k;
RESET enable_sort;
RESET enable_mergejoin;
RESET enable_nestloop;
RESET enable_indexscan;
RESET enable_indexonlyscan;
RESET enable_bitmapscan;

-- Constructors.
SELECT assoc.assockey('room', 'GENERAL'), assoc.assockey('user', 'a,b "c"');
SELECT assoc.assockey(NULL, 'x') IS NULL AS strict_model, assoc.assockey('room', NULL) IS NULL AS strict_id;
SELECT pg_temp.err(q)
FROM (VALUES ($$SELECT assoc.assockey('', 'x')$$),
             ($$SELECT assoc.assockey('ro:om', 'x')$$),
             ($$SELECT assoc.assockey(repeat('m', 64), 'x')$$),
             ($$SELECT assoc.assockey('room', '')$$),
             ($$SELECT assoc.assockey('room', repeat('x', 1025))$$)) v(q);
SELECT assoc.assockey_from_array(ARRAY['user:42', 'room:GENERAL', 'room:GENERAL', 'misc:a:b']);
SELECT assoc.assockey_from_array('{}'::text[]) AS empty,
       assoc.assockey_from_array(ARRAY[['room:a', 'user:b'], ['room:c', 'room:a']]) AS two_dims,
       assoc.assockey_from_array(NULL) IS NULL AS strict;
SELECT pg_temp.err(q)
FROM (VALUES ($$SELECT assoc.assockey_from_array(ARRAY['room:a', NULL])$$),
             ($$SELECT assoc.assockey_from_array(ARRAY['room'])$$),
             ($$SELECT assoc.assockey_from_array(ARRAY[':x'])$$),
             ($$SELECT assoc.assockey_from_array(ARRAY['room:'])$$),
             ($$SELECT assoc.assockey_from_array(ARRAY['r m:x'])$$)) v(q);
SELECT assoc.assockey_from_jsonb('[{"model": "room", "id": "GENERAL"}, {"id": "42", "model": "user"}]');
SELECT assoc.assockey_from_jsonb('[]') AS empty,
       assoc.assockey_from_jsonb('[{"model": "room", "id": "a,b"}, {"model": "room", "id": "a,b"}]') AS dup,
       assoc.assockey_from_jsonb(NULL) IS NULL AS strict;
SELECT pg_temp.err(format('SELECT assoc.assockey_from_jsonb(%L)', j))
FROM (VALUES ('{"model": "room", "id": "x"}'), ('"room:x"'), ('null'),
             ('[["room", "x"]]'), ('["room:x"]'), ('[{"model": "room"}]'),
             ('[{"id": "x"}]'), ('[{"model": "room", "id": null}]'),
             ('[{"model": null, "id": "x"}]'), ('[{"model": "room", "id": 42}]'),
             ('[{"model": "room", "id": "x", "extra": 1}]'),
             ('[{"model": "room", "id": "x"}, {"model": "r m", "id": "y"}]'),
             ('[{"model": "room", "id": ""}]')) v(j);

-- Cast to json: to_json, to_jsonb and row_to_json give Rocket.Chat's form.
SELECT to_json('{room:GENERAL,user:42}'::assockey);
SELECT to_jsonb('{room:GENERAL,"user:4\"2"}'::assockey);
SELECT row_to_json(r) FROM (SELECT 1 AS id, '{room:a}'::assockey AS keys) r;
SELECT '{}'::assockey::json AS empty_json;
SELECT assoc.assockey_from_jsonb(to_jsonb(k)) = k AS jsonb_round_trip
FROM (VALUES ('{room:GENERAL,user:42}'::assockey), ('{"room:a,b\\"}'), ('{}')) v(k);

-- Accessors.
SELECT assoc.models(k), assoc.ids(k, 'room') AS rooms, assoc.ids(k, 'nope') AS none,
       assoc.size(k)
FROM (VALUES ('{room:b,user:1,room:a,misc:x}'::assockey), ('{}')) v(k);
SELECT assoc.ids(NULL, 'room') IS NULL AS strict1, assoc.ids('{room:a}', NULL) IS NULL AS strict2;

-- Binary output (input is tested through a binary client, test/clients).
SELECT assockey_send('{room:ab,user:1}');

-- Catalog: volatility, strictness, leakproofness and comments.
SELECT p.proname, p.provolatile, p.proisstrict, p.proleakproof, p.proparallel,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'pg_assoc'
WHERE p.proname LIKE 'assockey%' OR p.proname IN ('models', 'ids', 'size')
ORDER BY 1;
SELECT o.oprname, o.oprcode, o.oprrest, o.oprjoin, o.oprcom::regoperator,
       o.oprnegate::regoperator, o.oprcanhash, o.oprcanmerge,
       obj_description(o.oid, 'pg_operator') IS NOT NULL AS commented
FROM pg_operator o WHERE o.oprleft = 'assoc.assockey'::regtype ORDER BY 1;
SELECT opcname, amname, opcdefault, obj_description(c.oid, 'pg_opclass') IS NOT NULL AS commented
FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
WHERE opcintype = 'assoc.assockey'::regtype ORDER BY 1;
SELECT obj_description('assoc.assockey'::regtype, 'pg_type') IS NOT NULL AS type_commented,
       (SELECT obj_description(oid, 'pg_cast') IS NOT NULL FROM pg_cast
        WHERE castsource = 'assoc.assockey'::regtype AND casttarget = 'json'::regtype) AS cast_commented;
