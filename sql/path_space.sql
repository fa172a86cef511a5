-- White space in paths and keys is JavaScript's (SPEC §1): exactly what
-- String.prototype.trim() removes, so a path means what a deepstream
-- client computes.  Every character of the set is tried in every place the
-- grammar trims (around pieces, at the end of a key before "[", inside
-- brackets), in has_forbidden_keys, and in the write functions' check of
-- values; look-alikes outside the set are ordinary characters.
\set VERBOSITY default

CREATE TEMP TABLE ws (cp int PRIMARY KEY, label text, c text);
INSERT INTO ws
SELECT cp, 'U+' || lpad(upper(to_hex(cp)), 4, '0'), chr(cp)
  FROM unnest(ARRAY[x'0009', x'000A', x'000B', x'000C', x'000D', x'0020',
                    x'00A0', x'1680', x'2000', x'2001', x'2002', x'2003',
                    x'2004', x'2005', x'2006', x'2007', x'2008', x'2009',
                    x'200A', x'2028', x'2029', x'202F', x'205F', x'3000',
                    x'FEFF']::int[]) AS cp;
SELECT count(*) AS js_white_space FROM ws;

-- Not JavaScript white space: NEL, an information separator, the
-- Mongolian vowel separator, zero width space, word joiner, soft hyphen.
CREATE TEMP TABLE not_ws (cp int PRIMARY KEY, label text, c text);
INSERT INTO not_ws
SELECT cp, 'U+' || lpad(upper(to_hex(cp)), 4, '0'), chr(cp)
  FROM unnest(ARRAY[x'0085', x'001F', x'180E', x'200B', x'2060',
                    x'00AD']::int[]) AS cp;

-- Results are shown with every tested character but U+0020 as <U+XXXX>.
CREATE FUNCTION pg_temp.shown(t text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(
           CASE WHEN ch <> ' ' AND (ch IN (SELECT c FROM ws) OR ch IN (SELECT c FROM not_ws))
                THEN '<U+' || lpad(upper(to_hex(ascii(ch))), 4, '0') || '>'
                ELSE ch END, '' ORDER BY i), '')
    FROM regexp_split_to_table(t, '') WITH ORDINALITY AS s(ch, i)
$$;
-- The result of a query, or its SQLSTATE and message.
CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE q INTO r;
  RETURN pg_temp.shown(r);
EXCEPTION WHEN others THEN
  RETURN 'ERROR ' || SQLSTATE || ': ' || pg_temp.shown(SQLERRM);
END
$$;

-- Pieces are trimmed at both ends; a piece of white space only is skipped.
SELECT label, pg_temp.try(format('SELECT assoc.parse_path(%L)::text',
         c || 'a' || c || '.' || c || c || 'b[1]' || c || '.' || c)) AS tokens
  FROM ws ORDER BY cp;
-- A path of white space only has no pieces.
SELECT label, pg_temp.try(format('SELECT assoc.parse_path(%L)::text', c || '.' || c)) AS result
  FROM ws ORDER BY cp;
-- A key keeps the white space before its "[" (as deepstream's tokenizer).
SELECT label, pg_temp.try(format('SELECT assoc.parse_path(%L)::text', 'a' || c || '[0]')) AS tokens
  FROM ws ORDER BY cp;
-- White space inside brackets, around the digits; nothing but white space
-- is not an index.
SELECT label, pg_temp.try(format('SELECT assoc.parse_path(%L)::text', 'a[' || c || '7' || c || c || ']')) AS tokens,
       pg_temp.try(format('SELECT assoc.parse_path(%L)::text', 'a[' || c || ']')) AS only_space
  FROM ws ORDER BY cp;

-- Forbidden segments behind white space: leading, trailing, both, inside
-- a path, before "[".
SELECT label, pg_temp.try(format('SELECT assoc.parse_path(%L)::text', c || '__proto__')) AS leading
  FROM ws ORDER BY cp;
SELECT label, pg_temp.try(format('SELECT assoc.parse_path(%L)::text', 'a.constructor' || c)) AS trailing
  FROM ws ORDER BY cp;
SELECT label, pg_temp.try(format('SELECT assoc.parse_path(%L)::text', 'x[0].' || c || 'prototype' || c || c || '.y')) AS both_ends
  FROM ws ORDER BY cp;
SELECT label, pg_temp.try(format('SELECT assoc.parse_path(%L)::text', '__proto__' || c || '[0]')) AS before_bracket
  FROM ws ORDER BY cp;
-- Every function that takes a path.
SELECT label,
       pg_temp.try(format('SELECT assoc.path_get(%L, %L)::text', '{}', c || 'constructor')) AS path_get,
       pg_temp.try(format('SELECT assoc.path_set(%L, %L, %L)::text', '{}', 'a.prototype' || c, '1')) AS path_set
  FROM ws WHERE cp IN (x'00A0'::int, x'3000'::int) ORDER BY cp;
SELECT label,
       pg_temp.try(format('SELECT assoc.path_erase(%L, %L)::text', '{}', c || '__proto__' || c)) AS path_erase,
       pg_temp.try(format('SELECT assoc.patch(%L, %L)::text', '{}',
         jsonb_build_array(jsonb_build_object('path', 'a', 'data', 1),
                           jsonb_build_object('path', 'b.' || c || 'constructor[1]')))) AS patch
  FROM ws WHERE cp IN (x'00A0'::int, x'3000'::int) ORDER BY cp;

-- has_forbidden_keys: a stored key that trims to a forbidden name, at the
-- top, nested in arrays and objects; white space inside a name is not
-- trimmed.
SELECT label,
       assoc.has_forbidden_keys(jsonb_build_object(c || '__proto__', 1)) AS leading,
       assoc.has_forbidden_keys(jsonb_build_object('a', jsonb_build_array(1, jsonb_build_object('constructor' || c, 1)))) AS trailing,
       assoc.has_forbidden_keys(jsonb_build_array(jsonb_build_object('x', jsonb_build_object(c || c || 'prototype' || c, null)))) AS both_ends,
       assoc.has_forbidden_keys(jsonb_build_object('__pro' || c || 'to__', 1, 'a' || c || 'prototype', 2)) AS inside
  FROM ws ORDER BY cp;

-- The write functions refuse such keys in values: set, set_multi, create.
SELECT assoc.create_namespace('paths_ws');
SELECT label, pg_temp.try(format('SELECT assoc.set(%L, %L, %L, %L)::text', 'paths_ws', 'r', 'a',
         jsonb_build_object('x', jsonb_build_object(c || '__proto__', 1)))) AS set
  FROM ws ORDER BY cp;
SELECT label, pg_temp.try(format('SELECT assoc.set_multi(%L, %L, %L)::text', 'paths_ws', 'r',
         jsonb_build_array(jsonb_build_object('path', 'ok', 'data', 1),
                           jsonb_build_object('path', 'a', 'data', jsonb_build_array(jsonb_build_object('constructor' || c, 1)))))) AS set_multi
  FROM ws ORDER BY cp;
SELECT label, pg_temp.try(format('SELECT assoc.create(%L, %L)', 'paths_ws',
         jsonb_build_object(c || 'prototype' || c, true))) AS "create"
  FROM ws ORDER BY cp;
-- and such paths.
SELECT label, pg_temp.try(format('SELECT assoc.set(%L, %L, %L, %L)::text', 'paths_ws', 'r',
         c || '__proto__' || c || '.x', '1')) AS set_path
  FROM ws ORDER BY cp;
SELECT count(*) AS records_written FROM assoc.records WHERE ns = 'paths_ws';

-- Look-alikes are ordinary characters: kept in keys, not trimmed, not
-- white space in brackets, and a key with them is not forbidden.
SELECT label,
       pg_temp.try(format('SELECT assoc.parse_path(%L)::text', c || '__proto__.constructor' || c)) AS tokens,
       pg_temp.try(format('SELECT assoc.parse_path(%L)::text', 'a[' || c || '1]')) AS in_brackets,
       assoc.has_forbidden_keys(jsonb_build_object(c || 'prototype' || c, 1)) AS forbidden
  FROM not_ws ORDER BY cp;
SELECT label, pg_temp.try(format('SELECT assoc.set(%L, %L, %L, %L)::text', 'paths_ws', 'look-alike', 'k' || cp,
         jsonb_build_object(c || '__proto__', 1))) AS set
  FROM not_ws ORDER BY cp;
SELECT pg_temp.shown(assoc.get('paths_ws', 'look-alike')::text) AS stored;

SELECT assoc.drop_namespace('paths_ws');
