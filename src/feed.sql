
-- ---------------------------------------------------------------------
-- Change subscriptions (src/feed.c, src/notify.c): SPEC §5.  The feed is
-- read as the calling role under row-level security; notifications are
-- sent after commit by a background worker of the preloaded library.
-- ---------------------------------------------------------------------

CREATE FUNCTION assoc.changes(ns text, after text DEFAULT NULL, max integer DEFAULT 1000)
    RETURNS TABLE (cursor text, id text, version bigint, op text, paths text[], at timestamptz)
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

CREATE FUNCTION assoc.channel(ns text, id text DEFAULT NULL)
    RETURNS text
    AS 'MODULE_PATHNAME', 'assoc_channel'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION assoc.channel(text, text) IS
    'the LISTEN channel of a namespace (id NULL) or of one record; only for roles that may read the namespace';

CREATE FUNCTION assoc.rotate_channels(ns text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'assoc_rotate_channels'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.rotate_channels(text) IS
    'gives the namespace a new channel secret: every channel name of the namespace changes';

CREATE FUNCTION assoc.wait_notified(timeout_ms integer DEFAULT 10000)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'assoc_wait_notified'
    LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION assoc.wait_notified(integer) IS
    'waits until notifications for every write committed in this database before the call were sent; false on timeout';
