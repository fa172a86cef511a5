-- The patch engine writes JSONB's binary format itself and copies untouched
-- subtrees as bytes.  Its results must be exactly what PostgreSQL's own
-- encoder produces: equal to a re-parse of their text, and of equal size
-- (the same layout), across wide containers (the offset stride of 32),
-- numerics (4-byte alignment after odd-length strings), nested containers
-- and large documents.

-- A reference encoding of a value: its text parsed again by PostgreSQL.
CREATE FUNCTION same_encoding(j jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS
$$ SELECT j = j::text::jsonb AND pg_column_size(j) = pg_column_size(j::text::jsonb) $$;

SELECT setseed(0.42);
CREATE TEMP TABLE corpus AS
SELECT i, jsonb_build_object(
         'odd', repeat('x', i % 7),
         'num', (i * 1.25)::numeric,
         'big', (10::numeric ^ (i % 40)) + 0.5,
         'wide', (SELECT jsonb_object_agg('k' || j, CASE WHEN j % 3 = 0 THEN to_jsonb(j * 0.5)
                                                        WHEN j % 3 = 1 THEN to_jsonb(repeat('s', j % 5))
                                                        ELSE jsonb_build_array(j, 'v', j * 1.5) END)
                  FROM generate_series(1, 10 + i % 60) AS j),
         'arr', (SELECT jsonb_agg(CASE WHEN j % 2 = 0 THEN to_jsonb(j + 0.25) ELSE to_jsonb(repeat('a', j % 3)) END)
                 FROM generate_series(1, 5 + i % 80) AS j),
         'nested', jsonb_build_object('a', jsonb_build_object('b', jsonb_build_array(i, i + 0.5, 'c'))),
         'flags', jsonb_build_array(true, false, null)) AS doc
FROM generate_series(1, 200) AS i;

-- Untouched documents, every kind of write, and batches touching many places.
SELECT count(*) AS cases,
       count(*) FILTER (WHERE same_encoding(assoc.path_set(doc, 'odd', '"y"'))
                          AND same_encoding(assoc.path_set(doc, 'wide.k' || (i % 50), '12.5'))
                          AND same_encoding(assoc.path_set(doc, 'wide.zz' || i, '{"n": 1.5}'))
                          AND same_encoding(assoc.path_set(doc, 'arr[' || (i % 90) || ']', '"e"'))
                          AND same_encoding(assoc.path_erase(doc, 'wide.k' || (i % 20)))
                          AND same_encoding(assoc.path_erase(doc, 'arr[3]'))
                          AND same_encoding(assoc.path_set(doc, 'nested.a.b[1]', '"x"'))
                          AND same_encoding(assoc.patch(doc, jsonb_build_array(
                                jsonb_build_object('path', 'odd', 'data', repeat('q', i % 5)),
                                jsonb_build_object('path', 'num', 'data', i * 3.5),
                                jsonb_build_object('path', 'arr[' || (i % 100) || ']', 'data', doc -> 'nested'),
                                jsonb_build_object('path', 'wide.k1'),
                                jsonb_build_object('path', 'new.deep[2].x', 'data', doc -> 'wide'))))) AS same
FROM corpus;

-- The results are also what PostgreSQL's own functions compute.
SELECT count(*) FILTER (WHERE assoc.path_set(doc, 'wide.k5', '1') = jsonb_set(doc, '{wide,k5}', '1')
                          AND assoc.path_erase(doc, 'wide.k5') = doc #- '{wide,k5}'
                          AND assoc.path_set(doc, 'arr[2]', '[1]') = jsonb_set(doc, '{arr,2}', '[1]')
                          AND assoc.path_get(doc, 'nested.a.b[1]') = doc #> '{nested,a,b,1}'
                          AND assoc.path_get(doc, 'wide') = doc -> 'wide') AS agree
FROM corpus;

-- A 1 MB document: one pass, a valid result.
CREATE TEMP TABLE big AS
SELECT (SELECT jsonb_object_agg('key' || j, jsonb_build_object('v', j, 's', repeat('z', 90)))
        FROM generate_series(1, 8000) AS j) AS doc;
SELECT octet_length(doc::text) > 1000000 AS large FROM big;
SELECT same_encoding(assoc.patch(doc, '[{"path": "key77.v", "data": -1}, {"path": "key8000"}, {"path": "key1.t[3]", "data": 2.5}]')) AS same,
       assoc.patch(doc, '[{"path": "key77.v", "data": -1}]') -> 'key77' AS changed
FROM big;

-- Deep documents: copied as bytes when untouched, walked safely when not.
CREATE TEMP TABLE deep AS
SELECT (repeat('[', 5000) || '{"__proto__": 1}' || repeat(']', 5000))::jsonb AS doc;
SELECT assoc.has_forbidden_keys(doc) FROM deep;
SELECT same_encoding(assoc.path_set('{"a": 1}', 'b', doc)) FROM deep;
SELECT assoc.path_get(assoc.path_set('{"a": 1}', 'b', doc), 'b' || repeat('[0]', 100)) = doc #> ARRAY(SELECT '0' FROM generate_series(1, 100)) AS walked FROM deep;
SELECT jsonb_typeof(assoc.path_set('{}', repeat('a.', 127) || 'a', '1') #> ARRAY(SELECT 'a' FROM generate_series(1, 127))) AS deepest_set;
