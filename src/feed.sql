
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

