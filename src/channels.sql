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

CREATE FUNCTION assoc.notify_registry(OUT filtering boolean, OUT channels integer,
                                      OUT cluster_channels integer, OUT capacity integer,
                                      OUT overflowing_sessions integer)
    AS 'MODULE_PATHNAME', 'assoc_notify_registry'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.notify_registry() IS
    'the registry of listened channels: whether notifications go only to listened channels, channels of this database and of the cluster, capacity, overflowing sessions; pg_monitor members only';
REVOKE ALL ON FUNCTION assoc.notify_registry() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION assoc.notify_registry() TO pg_monitor;
