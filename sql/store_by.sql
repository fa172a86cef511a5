-- update_by and remove_by over many rows (SPEC §4, "By associations" and
-- op_id): rows read in batches return exactly what one statement would;
-- with an op_id, update_by keeps its rows in the ledger (data included)
-- and remove_by keeps them without their data; records of 1 MB.
-- Timestamps differ per run: they are compared, never shown.
\set VERBOSITY default
SET search_path = public, assoc;
SELECT assoc.create_namespace('by');
SELECT assoc.alter_namespace('by', history_depth => 2);

-- 250 records of room R (more than one batch of rows), 3 of room S.
SELECT count(assoc.create('by', jsonb_build_object('n', i), '{room:R}',
                          'r' || lpad(i::text, 3, '0')))
  FROM generate_series(1, 250) AS i;
SELECT count(assoc.create('by', jsonb_build_object('n', i), '{room:S}', 's' || i))
  FROM generate_series(1, 3) AS i;

-- update_by with an op_id returns every row, in id order, at version 2;
-- its ledger entry holds the rows as to_jsonb gives them, data included.
CREATE TEMP TABLE updated AS
  SELECT * FROM assoc.update_by('by', '{room:R}', '{"v": 2}', false, 'up-1')
    WITH ORDINALITY;
SELECT count(*), min(id), max(id), min(version), max(version),
       bool_and(data = '{"v": 2}') AS all_data,
       bool_and(ordinality = substr(id, 2)::int) AS in_id_order
  FROM updated;
SELECT jsonb_array_length(result) AS rows_kept,
       result = (SELECT jsonb_agg(to_jsonb(r) - 'data' ORDER BY r.id)
                   FROM assoc.records r WHERE r.ns = 'by' AND r.keys = '{room:R}')
         AS same_as_to_jsonb_without_data,
       result -> 200 ->> 'id' AS row_201
  FROM assoc.ops WHERE ns = 'by' AND op_id = 'up-1';
-- The replay returns the same rows in the same order and writes nothing.
SELECT count(*) AS same_rows
  FROM assoc.update_by('by', '{room:R}', '{"v": 2}', false, 'up-1')
         WITH ORDINALITY AS p
  JOIN updated u USING (ordinality)
 WHERE (p.ns, p.id, p.keys, p.data, p.version, p.created_at, p.updated_at)
       IS NOT DISTINCT FROM
       (u.ns, u.id, u.keys, u.data, u.version, u.created_at, u.updated_at);
SELECT max(version) FROM assoc.records WHERE ns = 'by';
-- A no-op over every row writes nothing and returns the rows as they are.
SELECT count(*), max(version)
  FROM assoc.update_by('by', '{room:R}', '{"v": 2}');
SELECT count(*) AS feed_entries FROM assoc.feed WHERE ns = 'by';

-- remove_by with an op_id returns exactly the rows as they were.
CREATE TEMP TABLE before_removal AS
  SELECT * FROM assoc.records WHERE ns = 'by' AND keys = '{room:R}';
CREATE TEMP TABLE removed AS
  SELECT * FROM assoc.remove_by('by', '{room:R}', 'rm-1') WITH ORDINALITY;
SELECT count(*) AS removed,
       count(*) FILTER (WHERE (r.ns, r.id, r.keys, r.data, r.version,
                               r.created_at, r.updated_at)
                              IS NOT DISTINCT FROM
                              (b.ns, b.id, b.keys, b.data, b.version,
                               b.created_at, b.updated_at)) AS as_they_were
  FROM removed r JOIN before_removal b USING (id);
SELECT count(*) AS left_in_room_r FROM assoc.records WHERE ns = 'by' AND keys = '{room:R}';
SELECT count(*) AS history_left FROM assoc.history WHERE ns = 'by' AND id LIKE 'r%';
SELECT count(*), min(version), max(version)
  FROM assoc.feed WHERE ns = 'by' AND op = 'remove';
-- Its ledger entry keeps the rows without their data: ns, id, keys,
-- version and timestamps as to_jsonb gives them, in the order returned.
SELECT jsonb_array_length(result) AS rows_kept,
       jsonb_path_exists(result, '$[*].data') AS keeps_data,
       strpos(result::text, '"v"') AS data_text_at,
       result = (SELECT jsonb_agg(to_jsonb(b) - 'data' ORDER BY r.ordinality)
                   FROM removed r JOIN before_removal b USING (id))
         AS rows_without_data
  FROM assoc.ops WHERE ns = 'by' AND op_id = 'rm-1';
-- The replay returns what the first call returned, in the same order,
-- except data, which is NULL; nothing is removed again.
SELECT assoc.create('by', '{"n": 0}', '{room:R}', 'r001') AS created_again;
CREATE TEMP TABLE replayed AS
  SELECT * FROM assoc.remove_by('by', '{room:R}', 'rm-1') WITH ORDINALITY;
SELECT p.ordinality, p.id = r.id AS same_id, p.keys, p.data, p.version
  FROM replayed p JOIN removed r USING (ordinality) ORDER BY ordinality LIMIT 3;
SELECT count(*) AS replayed, count(p.data) AS with_data,
       count(*) FILTER (WHERE (p.ns, p.id, p.keys, p.version, p.created_at,
                               p.updated_at)
                              IS NOT DISTINCT FROM
                              (r.ns, r.id, r.keys, r.version, r.created_at,
                               r.updated_at)) AS same_but_data
  FROM replayed p JOIN removed r USING (ordinality);
SELECT id, data, version FROM assoc.records WHERE ns = 'by' AND keys = '{room:R}';
-- Without an op_id nothing is kept; an empty result is kept as [].
SELECT count(*) FROM assoc.remove_by('by', '{room:S}');
SELECT count(*) FROM assoc.remove_by('by', '{room:S}', 'rm-none');
SELECT op_id, fn, result FROM assoc.ops WHERE ns = 'by' AND op_id = 'rm-none';
SELECT count(*) FROM assoc.remove_by('by', '{room:S}', 'rm-none') AS replayed;
SELECT count(*) AS ledger_entries FROM assoc.ops WHERE ns = 'by';

-- 300 records of 1 MB each (written directly, as the owner may): the
-- rows a removal returns are not copied into the ledger, with or without
-- an op_id.
INSERT INTO assoc.records (ns, id, keys, data, version)
  SELECT 'by', 'big' || i, '{blob:yes}',
         jsonb_build_object('blob', repeat('x', 1024 * 1024)), 1
    FROM generate_series(1, 300) AS i;
-- update_by keeps its rows without data under an op_id too: 300 MB of
-- data leave a small entry, and the replay gives every row the call's data.
SELECT count(*), sum(octet_length(data ->> 'blob')) AS bytes
  FROM assoc.update_by('by', '{blob:yes}',
    jsonb_build_object('blob', repeat('y', 1024 * 1024)), false, 'up-big');
SELECT jsonb_array_length(result) AS rows_kept,
       pg_column_size(result) < 100000 AS small,
       jsonb_path_exists(result, '$[*].data') AS keeps_data
  FROM assoc.ops WHERE ns = 'by' AND op_id = 'up-big';
SELECT count(*), bool_and(data = jsonb_build_object('blob', repeat('y', 1024 * 1024))) AS calls_data
  FROM assoc.update_by('by', '{blob:yes}',
    jsonb_build_object('blob', repeat('y', 1024 * 1024)), false, 'up-big') AS replayed;
SELECT count(*) AS updated_once FROM assoc.records
 WHERE ns = 'by' AND keys = '{blob:yes}' AND version = 2;
SELECT count(*), sum(octet_length(data ->> 'blob')) AS bytes
  FROM assoc.remove_by('by', '{blob:yes}');
INSERT INTO assoc.records (ns, id, keys, data, version)
  SELECT 'by', 'big' || i, '{blob:yes}',
         jsonb_build_object('blob', repeat('x', 1024 * 1024)), 1
    FROM generate_series(1, 300) AS i;
SELECT count(*), sum(octet_length(data ->> 'blob')) AS bytes
  FROM assoc.remove_by('by', '{blob:yes}', 'rm-big');
SELECT jsonb_array_length(result) AS rows_kept,
       pg_column_size(result) < 100000 AS small
  FROM assoc.ops WHERE ns = 'by' AND op_id = 'rm-big';
SELECT count(*), count(data) AS with_data
  FROM assoc.remove_by('by', '{blob:yes}', 'rm-big') AS replayed;
SELECT count(*) AS left FROM assoc.records WHERE ns = 'by' AND keys = '{blob:yes}';

SELECT assoc.drop_namespace('by');
