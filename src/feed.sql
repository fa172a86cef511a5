
-- ---------------------------------------------------------------------
-- Change subscriptions (src/feed.c; README, "Change subscriptions").  The
-- feed is read as the calling role under row-level security;
-- notifications are sent after commit by a background worker of the
-- preloaded library (src/notify.c, src/notify_worker.c).
-- ---------------------------------------------------------------------

CREATE FUNCTION assoc.changes(ns text, after text DEFAULT NULL, max integer DEFAULT 1000)
    RETURNS TABLE (cursor text, id text, version bigint, op text, paths text[], at timestamptz,
                   origin text)
    AS 'MODULE_PATHNAME', 'assoc_changes'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION assoc.changes(text, text, integer) IS
    'feed entries after the cursor after (NULL = oldest kept), at most max, in feed order; gap-free';

CREATE FUNCTION assoc.head(ns text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'assoc_head'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION assoc.head(ns text) IS
    'the cursor of the present: read records and head in one REPEATABLE READ transaction to resynchronise';

CREATE FUNCTION assoc.snapshot(ns text)
    RETURNS TABLE (cursor text, id text, keys assoc.assockey, data jsonb, version bigint,
                   created_at timestamptz, updated_at timestamptz)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    -- One statement: the head and the records come from its one snapshot.
    AS $$
        SELECT h.cursor, r.id, r.keys, r.data, r.version, r.created_at, r.updated_at
          FROM assoc.head(snapshot.ns) AS h(cursor)
          LEFT JOIN assoc.records AS r ON r.ns = snapshot.ns
         ORDER BY r.id
    $$;
COMMENT ON FUNCTION assoc.snapshot(ns text) IS
    'the namespace''s records with the cursor of the same snapshot (one row of NULLs and the cursor when empty): resynchronise in one call';

