-- assoc.max_padding (README, Settings and Document functions): the nulls
-- one write pads into arrays, over all the entries of its batch and all
-- their arrays (one path_set, patch, set, erase or set_multi call), may
-- not exceed it.
\set VERBOSITY default

-- Per entry: 1024 nulls are allowed, 1025 are not.
SELECT jsonb_array_length(assoc.path_set('{}', 'a[1024]', '1') -> 'a') AS len;
SELECT assoc.path_set('{}', 'a[1025]', '1');
SELECT assoc.patch('{"a": [1]}', '[{"path": "a[1026]", "data": 1}]');

-- Cumulative: what the entries of one batch pad into one array adds up.
-- The entries a[1024], a[2048], ... used to build an array of any length.
SELECT jsonb_array_length(assoc.patch('{}', (SELECT jsonb_agg(jsonb_build_object('path', format('a[%s]', i * 1024), 'data', i))
                                               FROM generate_series(1, 15) AS i)) -> 'a') AS len;
SELECT jsonb_array_length(assoc.patch('{}', '[{"path": "a[1000]", "data": 1}, {"path": "b", "data": 2}, {"path": "a[1026]", "data": 3}]') -> 'a') AS len;
SELECT jsonb_array_length(assoc.patch('{}', '[{"path": "a[1000]", "data": 1}, {"path": "a[1025]", "data": 2}]') -> 'a') AS at_the_limit;
-- Padding on the way to a deeper place counts too, for set and erase.
SELECT jsonb_array_length(assoc.patch('{}', '[{"path": "x.a[1000].b"}, {"path": "x.a[1030]", "data": 1}]') #> '{x,a}') AS len;
SELECT jsonb_array_length(assoc.patch('{"a": [0]}', '[{"path": "a[600].x", "data": 1}, {"path": "a[1200][0]", "data": 2}]') -> 'a') AS len;
-- All the arrays of one write share the count: nested arrays, siblings, a
-- replaced array.  A count per array let a small batch (k1[1024],
-- k2[1024], ...) build a document of any size.
SELECT jsonb_array_length(assoc.path_set('{}', 'a[1000][24]', '1') #> '{a,1000}') AS nested;
SELECT assoc.path_set('{}', 'a[1024][1]', '1');
SELECT jsonb_array_length(p -> 'a') AS a, jsonb_array_length(p -> 'b') AS b
  FROM assoc.patch('{}', '[{"path": "a[512]", "data": 1}, {"path": "b[512]", "data": 2}]') AS p;
SELECT assoc.patch('{}', '[{"path": "a[1024]", "data": 1}, {"path": "b[1]", "data": 2}]');
SELECT assoc.patch('{}', '[{"path": "a[1000]", "data": 1}, {"path": "a", "data": []}, {"path": "a[1000]", "data": 2}]');
SELECT assoc.patch('{}', (SELECT jsonb_agg(jsonb_build_object('path', format('k%s[1024]', i), 'data', i))
                            FROM generate_series(1, 10000) AS i));
-- Separate calls are separate writes.
SELECT jsonb_array_length(assoc.path_set(assoc.path_set('{}', 'a[1000]', '1'), 'a[2000]', '2') -> 'a') AS two_calls;

-- Appending at the end pads nothing, however many entries.
SELECT jsonb_array_length(assoc.patch('{"a": []}', (SELECT jsonb_agg(jsonb_build_object('path', format('a[%s]', i), 'data', i))
                                                     FROM generate_series(0, 2999) AS i)) -> 'a') AS appended;
SELECT jsonb_array_length(assoc.patch('{}', (SELECT jsonb_agg(jsonb_build_object('path', format('a[%s]', i), 'data', i))
                                               FROM generate_series(2999, 0, -1) AS i)) -> 'a') AS backwards;

-- The limit is a superuser setting.
SET assoc.max_padding = 2;
SELECT assoc.patch('{"a": [1]}', '[{"path": "a[2]", "data": 1}, {"path": "a[4]", "data": 2}]');
SELECT assoc.patch('{"a": [1]}', '[{"path": "a[2]", "data": 1}, {"path": "a[5]", "data": 2}]');
SELECT assoc.patch('{"a": [1]}', '[{"path": "a[2]", "data": 1}, {"path": "a[3]", "data": 2}, {"path": "a[4]", "data": 3}]');
SET assoc.max_padding = 0;
SELECT assoc.patch('{"a": [1]}', '[{"path": "a[1]", "data": 1}, {"path": "a[2]", "data": 2}]');
SELECT assoc.patch('{"a": [1]}', '[{"path": "a[2]", "data": 1}]');
RESET assoc.max_padding;

-- The store's writes are writes: set_multi and set.
SELECT assoc.create_namespace('padding');
SELECT assoc.set_multi('padding', 'r', (SELECT jsonb_agg(jsonb_build_object('path', format('a[%s]', i * 1024), 'data', i))
                                          FROM generate_series(1, 15) AS i));
SELECT assoc.version('padding', 'r') AS untouched;
SELECT assoc.set_multi('padding', 'r', '[{"path": "a[512]", "data": 1}, {"path": "a[1024]", "data": 2}]');
SELECT assoc.set_multi('padding', 'r', '[{"path": "a[1025]", "data": 3}, {"path": "a[2049]", "data": 4}]');
SELECT assoc.set('padding', 'r', 'a[3075]', '5');
SELECT assoc.set('padding', 'r', 'a[3074]', '5');
SELECT assoc.set_multi('padding', 'r', (SELECT jsonb_agg(jsonb_build_object('path', format('a[%s]', i), 'data', i))
                                          FROM generate_series(3075, 5074) AS i));
SELECT jsonb_array_length(assoc.get('padding', 'r', 'a')) AS len, assoc.version('padding', 'r');
SELECT assoc.drop_namespace('padding');
