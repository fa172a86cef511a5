-- Driven by test/bench/search_bench.sh: the namespaces, the document
-- generator, and the procedure that times the searches.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT assoc.create_namespace('big') \g /dev/null
SELECT assoc.create_namespace('other') \g /dev/null

-- Record i of a namespace (the same documents in 'big' and 'other').
-- a: records per namespace in the first phase; r = a / 50, so that a value
-- "modulo r" of the first phase's records is carried by exactly 50 of
-- them; m: the modulus of "grp" (g0 is on 100k records of 'big' at the
-- last phase's size).  The rare values (code zq<n> for the term, sku S-<n>
-- for the filter, key team:a<n>) and the band of the deep-paging search
-- (b<n>) exist only on records of the first phase (i <= a): the records
-- the second phase adds carry zr, T-, team:b and c instead, so those
-- searches match the same records at both sizes.
CREATE FUNCTION public.sb_doc(i int, a int, r int, m int) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'name', 'user ' || i,
    'email', 'user' || i || '@example.com',
    'code', CASE WHEN i <= a THEN 'zq' ELSE 'zr' END || (i % r),
    'sku', CASE WHEN i <= a THEN 'S-' ELSE 'T-' END || (i % r),
    'band', CASE WHEN i <= a THEN 'b' ELSE 'c' END || (i % 5),
    'grp', 'g' || (i % m),
    'status', (ARRAY['new', 'active', 'closed', 'archived'])[1 + i % 4],
    'score', (i::bigint * 7919) % 100003,
    'city', (ARRAY['Lisbon', 'Porto', 'Berlin', 'Paris', 'Oslo', 'Rome', 'Madrid',
                   'Vienna', 'Prague', 'Dublin'])[1 + (i * 31) % 10],
    'tags', jsonb_build_array(w[1 + i % 20], w[1 + (i * 7) % 20], 'alpha'),
    'bio', 'likes ' || w[1 + (i * 3) % 20] || ' and ' || w[1 + (i * 11) % 20]
           || ', lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor')
  FROM (SELECT ARRAY['red', 'green', 'blue', 'cyan', 'amber', 'jade', 'teal', 'rose', 'plum',
                     'sand', 'gold', 'iron', 'oak', 'pine', 'fern', 'moss', 'sky', 'sea',
                     'sun', 'rain'] AS w) s $$;

CREATE FUNCTION public.sb_keys(i int, a int, r int) RETURNS assoc.assockey LANGUAGE sql IMMUTABLE AS $$
  SELECT ('{user:' || i || ',team:' || CASE WHEN i <= a THEN 'a' ELSE 'b' END
          || (i % r) || '}')::assoc.assockey $$;

CREATE TABLE public.sb_times (phase text, size int, kind text, rep int, ms float8, n bigint);
CREATE TABLE public.sb_checks (phase text, what text, ok boolean);

-- The statement of each timed kind; $1 is the after token (deep_after).
-- Every search returns its whole answer; the statement keeps its count.
CREATE FUNCTION public.sb_sql(kind text, deep int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE kind
    WHEN 'term' THEN $q$SELECT (assoc.search('big', term => 'zq42') ->> 'count')::bigint$q$
    WHEN 'filter' THEN $q$SELECT (assoc.search('big', filter => '$.sku == "S-77"') ->> 'count')::bigint$q$
    WHEN 'keys' THEN $q$SELECT (assoc.search('big', keys => '{team:a123}') ->> 'count')::bigint$q$
    WHEN 'deep_p1' THEN $q$SELECT (assoc.search('big', filter => '$.band == "b1"', order_by => 'score') ->> 'count')::bigint$q$
    WHEN 'deep_page' THEN format($q$SELECT (assoc.search('big', filter => '$.band == "b1"', order_by => 'score', page => %s) ->> 'count')::bigint$q$, deep)
    WHEN 'deep_after' THEN $q$SELECT (assoc.search('big', filter => '$.band == "b1"', order_by => 'score', after => $1) ->> 'count')::bigint$q$
    WHEN 'count_search' THEN $q$SELECT (assoc.search('big', filter => '$.grp == "g0"') ->> 'count')::bigint$q$
    WHEN 'count_plain' THEN $q$SELECT count(*) FROM assoc.records WHERE ns = 'big' AND data @@ '$.grp == "g0"'$q$
  END $$;

-- Time every kind reps times in this session, in two groups: the
-- selective searches (term, filter, keys), then the searches over many
-- matches (deep paging, count).  Within a group the kinds are interleaved
-- and their order rotated from one pass to the next; two passes first warm
-- the caches.  (Interleaved with the large ones, the selective searches
-- would measure how much of the caches a 100k-match count evicts, which
-- grows with the table, not their own cost.)  The after token of page deep is made first, by following next
-- with pages of up to 1000 rows (a token carries no page size: the row
-- after which to continue), and checked: page deep through after must
-- equal page deep through page.
CREATE PROCEDURE public.sb_measure(phase text, size int, reps int, deep int)
LANGUAGE plpgsql AS $$
DECLARE
  selective text[] := ARRAY['term', 'filter', 'keys'];
  large text[] := ARRAY['deep_p1', 'deep_page', 'deep_after', 'count_search', 'count_plain'];
  kinds text[];
  nk int;
  tok text;
  rem int := (deep - 1) * 10;
  ps int;
  res jsonb;
  via_after jsonb;
  via_page jsonb;
  k text;
  t0 timestamptz;
  ms float8;
  c bigint;
BEGIN
  WHILE rem > 0 LOOP
    ps := least(1000, rem);
    res := assoc.search('big', filter => '$.band == "b1"', order_by => 'score',
                        page_size => ps, after => tok);
    tok := res ->> 'next';
    rem := rem - ps;
  END LOOP;
  via_after := assoc.search('big', filter => '$.band == "b1"', order_by => 'score', after => tok) -> 'data';
  via_page := assoc.search('big', filter => '$.band == "b1"', order_by => 'score', page => deep) -> 'data';
  INSERT INTO public.sb_checks VALUES (phase, format('page %s through after = through page (10 rows)', deep),
    via_after = via_page AND jsonb_array_length(via_page) = 10);
  INSERT INTO public.sb_tokens VALUES (phase, tok);
  COMMIT;
  FOR g IN 1..2 LOOP
    kinds := CASE g WHEN 1 THEN selective ELSE large END;
    nk := array_length(kinds, 1);
    FOR pass IN -1..reps LOOP
      FOR j IN 0..nk - 1 LOOP
        k := kinds[1 + (j + pass + 2) % nk];
        t0 := clock_timestamp();
        EXECUTE public.sb_sql(k, deep) INTO c USING tok;
        ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
        IF pass >= 1 THEN
          INSERT INTO public.sb_times VALUES (phase, size, k, pass, ms, c);
        END IF;
      END LOOP;
      COMMIT;
    END LOOP;
  END LOOP;
END $$;

-- The plan of a kind: assoc.search_explain with the same arguments, or
-- EXPLAIN of the plain count.
CREATE FUNCTION public.sb_explain(kind text, deep int, tok text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  s text := public.sb_sql(kind, deep);
BEGIN
  IF kind = 'count_plain' THEN
    s := 'EXPLAIN (COSTS OFF) ' || s;
  ELSE
    s := replace(replace(s, 'SELECT (assoc.search(', 'SELECT assoc.search_explain('),
                 ') ->> ''count'')::bigint', ')');
  END IF;
  RETURN QUERY EXECUTE s USING tok;
END $$;
CREATE TABLE public.sb_tokens (phase text, tok text);
