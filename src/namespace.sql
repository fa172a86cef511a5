-- ---------------------------------------------------------------------
-- Namespaces (src/namespace.c): creating, dropping and altering them, the
-- guard every read function calls first, and pruning of the op_id ledger
-- and the feed (README, "The record store" and "Change subscriptions").
-- The tables are in src/store.sql.
-- ---------------------------------------------------------------------

CREATE FUNCTION assoc.create_namespace(ns text, owner regrole DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'assoc_create_namespace'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.create_namespace(text, regrole) IS
    'creates a namespace owned by owner (default: the calling role, which must be a member of owner)';

CREATE FUNCTION assoc.drop_namespace(ns text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'assoc_drop_namespace'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.drop_namespace(text) IS
    'removes a namespace with all its records, history, feed and op ledger';

CREATE FUNCTION assoc.alter_namespace(ns text, history_depth integer DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'assoc_alter_namespace'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.alter_namespace(text, integer) IS
    'changes namespace settings: history_depth = previous versions kept per record (0 = none)';

-- The guard of the read functions (src/store.sql) ---------------------

CREATE FUNCTION assoc.check_namespace(ns text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'assoc_check_namespace'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION assoc.check_namespace(text) IS
    'raises 22004 for NULL, 22023 for a malformed name, 42704 unless the calling role may use the namespace';

CREATE FUNCTION assoc.check_record(ns text, id text)
    RETURNS void
    AS 'MODULE_PATHNAME', 'assoc_check_namespace'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION assoc.check_record(text, text) IS
    'check_namespace(ns), and 22004 when the record id is NULL: the guard of the read functions';

-- Pruning (the work is in src/maintenance.c) ------------------------

CREATE FUNCTION assoc.prune()
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'assoc_prune'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.prune() IS
    'deletes op_id ledger entries older than assoc.op_retention and feed entries older than assoc.feed_retention; returns how many';
