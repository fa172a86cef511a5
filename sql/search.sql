-- Search (SPEC §6, README "Search"): every parameter and its errors, the
-- order of null, missing and mixed values, projection, paging with next and
-- after, hostile text, isolation between applications, and the plans.
\set VERBOSITY default
CREATE ROLE regress_search_app NOLOGIN;
CREATE ROLE regress_search_alice LOGIN IN ROLE regress_search_app;
CREATE ROLE regress_search_bob LOGIN;
SELECT assoc.create_namespace('srch', 'regress_search_app');
SELECT assoc.create_namespace('bobs', 'regress_search_bob');

-- Records whose "v" is every kind of JSON value, missing, or null.
SELECT assoc.create('srch', d, k, id) FROM (VALUES
  ('n1', '{"v": null, "name": "Ann Lee", "tags": ["red", "blue"]}'::jsonb, '{room:A}'::assoc.assockey),
  ('s1', '{"v": "apple", "name": "Bob Stone", "tags": ["green"]}', '{room:A,user:1}'),
  ('s2', '{"v": "Banana", "name": "Cid", "deep": {"x": {"y": "needle in a haystack"}}}', '{room:B}'),
  ('i1', '{"v": 10, "name": "Dee", "status": "married"}', '{room:A}'),
  ('i2', '{"v": 9.5, "name": "Eve", "status": "married", "tags": ["red"]}', '{room:B,user:2}'),
  ('b1', '{"v": true, "name": "Fay", "status": "single"}', '{}'),
  ('b2', '{"v": false, "name": "Gus"}', '{}'),
  ('a1', '{"v": [1, 2], "name": "Hal"}', '{}'),
  ('a0', '{"v": [], "name": "Ian"}', '{}'),
  ('o1', '{"v": {"k": 1}, "name": "Jo"}', '{}'),
  ('m1', '{"name": "Kim", "red": "key only"}', '{}'),
  ('m2', '{"name": "Lou", "v2": "x"}', '{}')) AS t(id, d, k);

-- Defaults: every record, ordered by id, ten to a page.
SELECT assoc.search('srch') - 'data' - 'next';
SELECT jsonb_path_query_array(assoc.search('srch'), '$.data[*].id');

-- order_by follows jsonb's own order: compare with ORDER BY on the table.
SELECT jsonb_path_query_array(assoc.search('srch', page_size => 20, order_by => 'v'), '$.data[*].id')
     = (SELECT jsonb_agg(id ORDER BY data -> 'v' NULLS LAST, id) FROM assoc.records WHERE ns = 'srch') AS asc_matches;
SELECT jsonb_path_query_array(assoc.search('srch', page_size => 20, order_by => 'v DESC'), '$.data[*].id')
     = (SELECT jsonb_agg(id ORDER BY data -> 'v' DESC NULLS FIRST, id) FROM assoc.records WHERE ns = 'srch') AS desc_matches;
-- Missing sorts last ascending, first descending; JSON null is the lowest
-- scalar (jsonb orders an empty array before every scalar).
SELECT jsonb_path_query_array(assoc.search('srch', page_size => 20, order_by => 'v'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', page_size => 20, order_by => '  v   desc '), '$.data[*].id');
-- Directions in any case, several items, record columns.
SELECT jsonb_path_query_array(assoc.search('srch', page_size => 20, order_by => 'status dEsC, name Asc'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', page_size => 3, order_by => '@id desc'), '$.data[*].id');
SELECT assoc.set('srch', 'b2', 'v', 'false');
SELECT assoc.set('srch', 'b2', 'v', 'true');
SELECT jsonb_path_query_array(assoc.search('srch', page_size => 2, order_by => '@version desc, @updated_at desc, @created_at'), '$.data[*].id');
-- A path of a nested value; an index.
SELECT jsonb_path_query_array(assoc.search('srch', page_size => 3, order_by => 'tags[0] desc'), '$.data[*].id');
-- A word that is not a direction stays part of the path ("name x" is a key).
SELECT jsonb_path_query_array(assoc.search('srch', page_size => 2, order_by => 'name x'), '$.data[*].id');

-- order_by errors: forbidden segments, bad paths, unknown columns, empty
-- items, more than 8 items.
SELECT assoc.search('srch', order_by => 'a.__proto__');
SELECT assoc.search('srch', order_by => 'constructor DESC');
SELECT assoc.search('srch', order_by => E'\u00a0prototype\u00a0');
SELECT assoc.search('srch', order_by => 'a[x]');
SELECT assoc.search('srch', order_by => '@foo');
SELECT assoc.search('srch', order_by => '@id,');
SELECT assoc.search('srch', order_by => ' ');
SELECT assoc.search('srch', order_by => 'a,b,c,d,e,f,g,h,i');

-- fields: nested paths build objects, indexes build arrays as path_set
-- does, absent paths are omitted.
SELECT jsonb_path_query_array(assoc.search('srch', fields => 'name, deep.x.y, tags[1], nothing.here', order_by => 'name', page_size => 3), '$.data[*].data');
-- A field that cannot be placed beside an earlier one is omitted.
SELECT assoc.create('srch', '{"a": {"0": "zero", "x": "ex"}, "arr": [1, 2, 3]}', '{}', 'f1');
SELECT assoc.search('srch', fields => 'a[0], a.x, arr[2], arr.1', keys => NULL, filter => '$.a.x == "ex"') -> 'data' -> 0 -> 'data';
SET assoc.max_padding = 1;
SELECT assoc.search('srch', fields => 'arr[2], name', filter => '$.a.x == "ex"') -> 'data' -> 0 -> 'data';
RESET assoc.max_padding;
-- The padding of one field counts all its arrays, as one write does:
-- 1000 + 1 + 1000 nulls is past assoc.max_padding (1024), so the field is
-- omitted, while each index alone is not.
SELECT assoc.set('srch', 'f1', 'big', (SELECT jsonb_agg(CASE WHEN i = 1000 THEN jsonb_build_array(0, (SELECT jsonb_agg(j) FROM generate_series(0, 1000) j)) ELSE '0' END) FROM generate_series(0, 1000) i));
SELECT d - 'big' AS rest, jsonb_array_length(d -> 'big') AS big_length, d #> '{big,1000}' AS big_1000
  FROM (SELECT assoc.search('srch', fields => 'big[1000][1][1000], big[1000][1][0], a.x', filter => '$.a.x == "ex"') -> 'data' -> 0 -> 'data' AS d) AS s;
SELECT assoc.remove('srch', 'f1');
-- fields errors.
SELECT assoc.search('srch', fields => 'name,,tags');
SELECT assoc.search('srch', fields => 'tags[0].__proto__');
SELECT assoc.search('srch', fields => '');
SELECT assoc.search('srch', fields => (SELECT string_agg('f' || i, ',') FROM generate_series(1, 65) i));
SELECT jsonb_path_query_array(assoc.search('srch', fields => (SELECT string_agg('name', ',') FROM generate_series(1, 64) i), page_size => 1), '$.data[*].data');

-- term: words, phrases, or, -word, over string values at any depth, not
-- keys; case-insensitive with the default configuration "simple".
SELECT jsonb_path_query_array(assoc.search('srch', term => 'RED'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', term => 'red -blue'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', term => 'needle haystack'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', term => '"ann lee"'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', term => '"lee red"'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', term => 'dee or eve'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', term => 'married'), '$.data[*].id');
SELECT assoc.search('srch', term => '');
SELECT assoc.search('srch', term => ' !!! ');
SET assoc.search_config = 'english';
SELECT jsonb_path_query_array(assoc.search('srch', term => 'stones'), '$.data[*].id');
SELECT assoc.search('srch', term => 'the');
SET assoc.search_config = 'no_such_config';
SELECT assoc.search('srch', term => 'x');
SELECT assoc.search('srch') -> 'count' AS without_term_no_configuration;
RESET assoc.search_config;
SELECT assoc.search_vector('{"k": "Big Cat", "arr": ["dog", {"deep": "Mouse"}], "n": 1, "Key": null}', 'simple');

-- filter: a SQL/JSON path predicate, as @@ evaluates it; keys: containment.
SELECT jsonb_path_query_array(assoc.search('srch', filter => '$.status == "married"'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', filter => '$.v > 9'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', filter => '$.v'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', keys => '{room:A}'), '$.data[*].id');
SELECT jsonb_path_query_array(assoc.search('srch', keys => '{room:A}', filter => '$.status == "married"', term => 'dee'), '$.data[*]');
SELECT assoc.search('srch', keys => '{}');
-- count is every match; a page past the end is empty.
SELECT assoc.search('srch', term => 'red', page => 5, page_size => 1);

-- page and page_size.
SELECT assoc.search('srch', page => 0);
SELECT assoc.search('srch', page => -1);
SELECT assoc.search('srch', page => NULL);
SELECT assoc.search('srch', page_size => 0);
SELECT assoc.search('srch', page_size => 1001);
SELECT assoc.search('srch', page_size => NULL);
SELECT assoc.search('srch', page => 2147483647, page_size => 1000) - 'data';
SET assoc.max_page_size = 2;
SELECT assoc.search('srch', page_size => 3);
RESET assoc.max_page_size;

-- Pages 1..n with ties (most records share "status" or miss it) return
-- every record once, and so does following next with after.
SELECT (SELECT jsonb_agg(e ORDER BY p, o)
          FROM generate_series(1, 5) p,
               jsonb_array_elements(assoc.search('srch', page => p, page_size => 3, order_by => 'status')->'data') WITH ORDINALITY AS x(e, o))
       -> 0 ->> 'id' AS first_id;
SELECT count(*), count(DISTINCT e->>'id')
  FROM generate_series(1, 5) p,
       jsonb_array_elements(assoc.search('srch', page => p, page_size => 3, order_by => 'status')->'data') e;
CREATE FUNCTION pg_temp.walk(ns text, order_by text, page_size int, term text DEFAULT NULL)
RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
  tok text;
  ids text[] := '{}';
BEGIN
  LOOP
    r := assoc.search(ns, term => term, page_size => page_size, order_by => order_by, after => tok);
    ids := ids || ARRAY(SELECT e ->> 'id' FROM jsonb_array_elements(r -> 'data') e);
    tok := r ->> 'next';
    EXIT WHEN tok IS NULL;
  END LOOP;
  RETURN ids;
END
$$;
SELECT pg_temp.walk('srch', 'status', 3);
SELECT pg_temp.walk('srch', 'status', 3)
     = ARRAY(SELECT e ->> 'id' FROM jsonb_array_elements(assoc.search('srch', page_size => 100, order_by => 'status') -> 'data') e) AS same_as_one_page;
SELECT pg_temp.walk('srch', 'v desc, @version', 2)
     = ARRAY(SELECT e ->> 'id' FROM jsonb_array_elements(assoc.search('srch', page_size => 100, order_by => 'v desc, @version') -> 'data') e) AS same_desc;
SELECT pg_temp.walk('srch', NULL, 4, 'red or married');
-- next is null on the last page, also when it is full.
SELECT assoc.search('srch', page_size => 12) ->> 'next' IS NULL AS last_full_page;
SELECT assoc.search('srch', page_size => 11) ->> 'next' IS NULL AS not_last;

-- A token continues only its own search.
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'red') ->> 'next' AS tok \gset
SELECT assoc.search('srch', page_size => 1, order_by => 'v ASC', term => 'red', after => :'tok') - 'next';
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'red', page => 2, after => :'tok');
SELECT assoc.search('srch', page_size => 1, order_by => 'v desc', term => 'red', after => :'tok');
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'blue', after => :'tok');
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'red', filter => '$.v == 1', after => :'tok');
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'red', keys => '{room:A}', after => :'tok');
SET assoc.search_config = 'english';
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'red', after => :'tok');
RESET assoc.search_config;
-- Malformed tokens.
SELECT assoc.search('srch', after => '');
SELECT assoc.search('srch', after => 'not a token!');
SELECT assoc.search('srch', after => 'AQ');
SELECT assoc.search('srch', after => left(:'tok', -3));
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'red', after => :'tok' || 'AA');
-- A token has one text: flipping a bit of the last character that base64
-- leaves unused (the token's length is not a multiple of 4) is refused.
SELECT assoc.search('srch', page_size => 1, order_by => 'v') ->> 'next' AS tok2 \gset
SELECT length(:'tok2') % 4 AS chars_past_a_multiple_of_4,
       assoc.search('srch', page_size => 1, order_by => 'v', after => :'tok2') -> 'data' -> 0 -> 'id' AS unchanged;
SELECT assoc.search('srch', page_size => 1, order_by => 'v',
                    after => left(:'tok2', -1) || substr(a, ((strpos(a, right(:'tok2', 1)) - 1) # 1) + 1, 1))
  FROM (SELECT 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'::text AS a) AS alphabet;
-- An altered token (one character of its values changed) is refused.
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'red',
                    after => overlay(:'tok' placing CASE WHEN substr(:'tok', 30, 1) = 'A' THEN 'B' ELSE 'A' END from 30 for 1));
-- Keys are made only by assoc.search_key: text is never read as one.
SELECT 'x'::assoc.search_key;
SELECT assoc.search_key('{"v": null}', 'id', 1, '2026-01-01', '2026-01-01', 'v, missing desc, @id');
SELECT assoc.search_key('{}', '', 1, '2026-01-01', '2026-01-01', NULL);

-- Hostile text is data, never SQL.
SELECT assoc.search('srch', order_by => $$name'); DROP TABLE assoc.records; --$$, page_size => 1) -> 'count';
SELECT assoc.search('srch', order_by => 'name") DESC, (SELECT 1', page_size => 1) -> 'count';
SELECT assoc.search('srch', fields => $$name', (SELECT current_user)) --$$, page_size => 1) -> 'data';
SELECT assoc.search('srch', term => $$x') OR true --$$) - 'next';
SELECT assoc.search('srch', term => $$'; SELECT pg_sleep(10); --$$) - 'next';
SELECT count(*) FROM assoc.records WHERE ns = 'srch';

-- Isolation: a member searches as the extension owner would; another
-- application's role gets 42704 for everything, tokens included.
SET ROLE regress_search_alice;
SELECT assoc.search('srch', term => 'red', order_by => 'name') -> 'count';
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'red', after => :'tok') -> 'count';
SELECT assoc.create('bobs', '{"name": "Ann Lee red"}');
RESET ROLE;
SET ROLE regress_search_bob;
SELECT assoc.create('bobs', '{"name": "Ann Lee red"}', '{}', 'bob1');
SELECT assoc.search('srch');
SELECT assoc.search('srch', term => 'red');
SELECT assoc.search_explain('srch');
SELECT assoc.search('srch', page_size => 1, order_by => 'v', term => 'red', after => :'tok');
SELECT assoc.search('bobs', page_size => 1, order_by => 'v', term => 'red', after => :'tok');
SELECT jsonb_path_query_array(assoc.search('bobs', term => 'red'), '$.data[*].id');
SELECT assoc.search('no_such_ns');
RESET ROLE;
-- A token does not outlive its namespace.
SELECT assoc.search('bobs', page_size => 1, term => 'red') ->> 'next' IS NULL AS single;
SELECT assoc.create('bobs', '{"name": "red again"}', '{}', 'bob2');
SELECT assoc.search('bobs', page_size => 1, term => 'red') ->> 'next' AS btok \gset
SELECT assoc.drop_namespace('bobs');
SELECT assoc.create_namespace('bobs', 'regress_search_bob');
SELECT assoc.create('bobs', '{"name": "red again"}', '{}', 'bob2');
SELECT assoc.search('bobs', page_size => 1, term => 'red', after => :'btok');

-- The plans: on a namespace large enough, each condition uses its index,
-- for a non-superuser member and without enable_* settings.
SELECT count(assoc.create('srch',
         jsonb_build_object('name', 'user ' || i, 'n', i % 100, 'status', CASE WHEN i % 500 = 0 THEN 'rare' ELSE 'common' END,
                            'bio', CASE WHEN i % 700 = 0 THEN 'zebra crossing' ELSE 'plain text here' END),
         assoc.assockey('user', i::text), 'u' || i))
  FROM generate_series(1, 6000) i;
-- Another application's documents, which the statistics sample.
SELECT count(assoc.create('bobs', jsonb_build_object('secret', 'TOPSECRET' || i, 'tag', 'victim'), '{}', 's' || i))
  FROM generate_series(1, 3000) i;
-- Extended statistics on the documents' expressions sample them too.
CREATE STATISTICS assoc.records_search_stx ON (assoc.search_vector(data, 'simple')), (data) FROM assoc.records;
CREATE INDEX records_search_simple_idx ON assoc.records USING gin (assoc.search_vector(data, 'simple'));
CREATE INDEX records_data_path_idx ON assoc.records USING gin (data jsonb_path_ops);
ANALYZE assoc.records;
-- The scans that find the matches (the rest of the plan is the same for
-- every search), and their index conditions.
\set scans 'SELECT regexp_replace(l, $$^\\s*(->\\s*)?$$, $$$$) AS plan FROM assoc.search_explain'
\set where 'l WHERE l ~ $$Scan on records r_1|Bitmap Index Scan|Index Cond: \\((assoc|data|keys)|BitmapAnd|BitmapOr$$'
SET ROLE regress_search_alice;
:scans('srch', term => 'zebra') :where;
:scans('srch', filter => '$.status == "rare"') :where;
:scans('srch', keys => '{user:77}') :where;
SELECT assoc.search('srch', term => 'zebra', order_by => 'n desc', fields => 'name') - 'next';
SELECT assoc.search('srch', filter => '$.status == "rare"') -> 'count';
SELECT assoc.search('srch', keys => '{user:77}') -> 'data' -> 0 -> 'id';
-- The plan does not depend on whether another application's documents
-- match the caller's filter or term: their statistics are not used.
SELECT ps AS page_size, count(DISTINCT plan) AS distinct_plans
  FROM generate_series(1225, 1264) i, unnest(ARRAY[50, 200, 1000]) ps,
       LATERAL (SELECT string_agg(regexp_replace(l, '[0-9]+', '#', 'g'), E'\n') AS plan
                  FROM assoc.search_explain('srch', page_size => ps, filter => ('$.secret == "TOPSECRET' || i || '"')::jsonpath) l) e
 GROUP BY ps ORDER BY ps;
SELECT count(DISTINCT plan) AS distinct_plans
  FROM unnest(ARRAY['victim', 'zzzqqq', 'topsecret1234', 'topsecret1235', 'plain', 'zebra']) t,
       LATERAL (SELECT string_agg(regexp_replace(l, '''[a-z0-9]+''', '#', 'g'), E'\n') AS plan
                  FROM assoc.search_explain('srch', page_size => 1000, term => t) l) e;
-- The term index serves only its own configuration.
SET assoc.search_config = 'english';
:scans('srch', term => 'zebra') :where;
SELECT assoc.search('srch', term => 'zebras') -> 'count';
RESET assoc.search_config;
RESET ROLE;
DROP INDEX assoc.records_search_simple_idx, assoc.records_data_path_idx;
DROP STATISTICS assoc.records_search_stx;

SELECT assoc.drop_namespace('srch'), assoc.drop_namespace('bobs');
DROP ROLE regress_search_alice, regress_search_bob, regress_search_app;
