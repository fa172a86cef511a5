
-- ---------------------------------------------------------------------
-- The record store (README, "The record store"): the tables of every
-- component, the read functions, and the write functions (src/store.c;
-- the write path in src/record.c, src/ledger.c, src/feed_write.c).  Tables
-- are owned by the extension's owner, the only role with write privileges
-- on them.  Other roles read them under row-level security (membership in
-- a namespace's owner role) and write through the C write functions, which
-- check the calling role and then write with the extension owner's rights.
-- The namespace functions are in src/namespace.sql.
-- ---------------------------------------------------------------------

CREATE TABLE assoc.namespaces (
    ns            text COLLATE "C" PRIMARY KEY
                  CONSTRAINT namespaces_ns_check CHECK (ns ~ '^[A-Za-z0-9_.-]{1,63}$'),
    owner         regrole NOT NULL,
    history_depth integer NOT NULL DEFAULT 0
                  CONSTRAINT namespaces_history_depth_check CHECK (history_depth BETWEEN 0 AND 10000),
    incarnation   bigint NOT NULL,
    channel_secret bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    fenced        boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE assoc.namespaces IS
    'one row per namespace (an application''s private space); readable by members of its owner role';
COMMENT ON COLUMN assoc.namespaces.incarnation IS
    'unique per creation of a namespace name, so cursors of a dropped namespace are recognised';
COMMENT ON COLUMN assoc.namespaces.fenced IS
    'true while the namespace is being moved to another server: calls that change it fail with 40001';
COMMENT ON COLUMN assoc.namespaces.channel_secret IS
    'key of the keyed hash that names the namespace''s notification channels (assoc.channel)';

CREATE SEQUENCE assoc.incarnation_seq;
COMMENT ON SEQUENCE assoc.incarnation_seq IS 'source of assoc.namespaces.incarnation';

CREATE TABLE assoc.records (
    ns         text COLLATE "C" NOT NULL,
    id         text COLLATE "C" NOT NULL
               CONSTRAINT records_id_check CHECK (octet_length(id) BETWEEN 1 AND 1024),
    keys       assoc.assockey NOT NULL DEFAULT '{}',
    data       jsonb NOT NULL
               CONSTRAINT records_data_check CHECK (NOT assoc.has_forbidden_keys(data)),
    version    bigint NOT NULL CONSTRAINT records_version_check CHECK (version > 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ns, id)
);
CREATE INDEX records_keys_idx ON assoc.records USING gin (keys);
COMMENT ON TABLE assoc.records IS
    'every record of every namespace; written only through the assoc write functions';

CREATE TABLE assoc.history (
    ns      text COLLATE "C" NOT NULL,
    id      text COLLATE "C" NOT NULL,
    version bigint NOT NULL,
    data    jsonb,
    keys    assoc.assockey,
    op      text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ns, id, version)
);
-- Documents compress with lz4 where the server has it (Debian's and most
-- builds do), with PostgreSQL's pglz otherwise (README, Limits).
DO $$
BEGIN
    IF 'lz4' = ANY (SELECT pg_catalog.unnest(enumvals) FROM pg_catalog.pg_settings
                     WHERE name = 'default_toast_compression') THEN
        ALTER TABLE assoc.records ALTER COLUMN data SET COMPRESSION lz4;
        ALTER TABLE assoc.history ALTER COLUMN data SET COMPRESSION lz4;
    END IF;
END
$$;
COMMENT ON TABLE assoc.history IS
    'the last history_depth + 1 versions of each record of namespaces that keep history';

CREATE TABLE assoc.feed (
    ns      text COLLATE "C" NOT NULL,
    xid     xid8 NOT NULL,
    seq     bigint NOT NULL,
    id      text COLLATE "C" NOT NULL,
    version bigint NOT NULL,
    op      text NOT NULL,
    paths   text[],
    notify  boolean NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    origin  text,
    PRIMARY KEY (ns, xid, seq)
);
CREATE INDEX feed_notify_idx ON assoc.feed (xid, seq) WHERE notify;

CREATE TABLE assoc.feed_pruned (
    ns  text COLLATE "C" PRIMARY KEY,
    xid xid8 NOT NULL,
    seq bigint NOT NULL
);
COMMENT ON TABLE assoc.feed_pruned IS
    'per namespace, the feed position up to which entries were pruned: older cursors must resynchronise';
COMMENT ON TABLE assoc.feed IS
    'the change feed: one entry per effective write, at (its transaction''s position, its n-th entry)';
COMMENT ON COLUMN assoc.feed.notify IS
    'assoc.notify of the writer: whether the entry is announced by NOTIFY';
COMMENT ON COLUMN assoc.feed.origin IS
    'assoc.origin of the writer (NULL: none), so that a service can skip its own writes';

-- The feed clock's high-water mark (src/horizon.c): positions drawn with
-- the preloaded library stay below the value logged here, so they never go
-- back across a crash.  Not dumped: a restored database starts a new feed.
CREATE SEQUENCE assoc.feed_clock AS bigint MINVALUE 0 START 0;
COMMENT ON SEQUENCE assoc.feed_clock IS
    'high-water mark of the feed positions drawn (a crash never makes them go back)';

CREATE TABLE assoc.ops (
    ns     text COLLATE "C" NOT NULL,
    op_id  text COLLATE "C" NOT NULL,
    fn     text NOT NULL,
    args   bytea NOT NULL,
    result jsonb,
    at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ns, op_id)
);
CREATE INDEX ops_at_idx ON assoc.ops (at);
COMMENT ON TABLE assoc.ops IS
    'the op_id ledger: the result of each identified write, for idempotent retries';

-- pg_dump and pg_restore carry the user data of the extension.  Not the
-- feed (assoc.feed, assoc.feed_pruned): its positions are transaction ids
-- of the database that wrote them, and its cursors do not survive a
-- restore (src/cursor.c); clients resynchronise.
SELECT pg_catalog.pg_extension_config_dump('assoc.namespaces', '');
SELECT pg_catalog.pg_extension_config_dump('assoc.records', '');
SELECT pg_catalog.pg_extension_config_dump('assoc.history', '');
SELECT pg_catalog.pg_extension_config_dump('assoc.ops', '');
SELECT pg_catalog.pg_extension_config_dump('assoc.incarnation_seq', '');

-- Row-level security: a role sees the namespaces whose owner role it is a
-- member of, and only their rows.  The extension owner (table owner) and
-- superusers bypass it; that is how the write functions write.
ALTER TABLE assoc.namespaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE assoc.records ENABLE ROW LEVEL SECURITY;
ALTER TABLE assoc.history ENABLE ROW LEVEL SECURITY;
ALTER TABLE assoc.feed ENABLE ROW LEVEL SECURITY;
ALTER TABLE assoc.feed_pruned ENABLE ROW LEVEL SECURITY;
ALTER TABLE assoc.ops ENABLE ROW LEVEL SECURITY;

CREATE POLICY namespaces_member ON assoc.namespaces FOR SELECT
    USING (pg_catalog.pg_has_role(owner, 'MEMBER'));
CREATE POLICY records_member ON assoc.records FOR SELECT
    USING (ns IN (SELECT n.ns FROM assoc.namespaces n));
CREATE POLICY history_member ON assoc.history FOR SELECT
    USING (ns IN (SELECT n.ns FROM assoc.namespaces n));
CREATE POLICY feed_member ON assoc.feed FOR SELECT
    USING (ns IN (SELECT n.ns FROM assoc.namespaces n));
CREATE POLICY feed_pruned_member ON assoc.feed_pruned FOR SELECT
    USING (ns IN (SELECT n.ns FROM assoc.namespaces n));

REVOKE ALL ON assoc.namespaces, assoc.records, assoc.history, assoc.feed, assoc.feed_pruned,
    assoc.ops FROM PUBLIC;
GRANT SELECT ON assoc.namespaces, assoc.records, assoc.history, assoc.feed, assoc.feed_pruned
    TO PUBLIC;

-- Reads: plain queries as the calling role, under row-level security ------

CREATE FUNCTION assoc.get(ns text, id text, path text DEFAULT NULL)
    RETURNS jsonb
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM assoc.check_record(ns, id);
    RETURN (SELECT assoc.path_get(r.data, path) FROM assoc.records r
             WHERE r.ns = get.ns AND r.id = get.id);
END
$$;
COMMENT ON FUNCTION assoc.get(text, text, text) IS
    'value at path of a record (NULL path = whole data); NULL when the record or the path is missing';

CREATE FUNCTION assoc.version(ns text, id text)
    RETURNS bigint
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM assoc.check_record(ns, id);
    RETURN coalesce((SELECT r.version FROM assoc.records r
                      WHERE r.ns = version.ns AND r.id = version.id), 0);
END
$$;
COMMENT ON FUNCTION assoc.version(text, text) IS
    'current version of a record, 0 when it does not exist';

CREATE FUNCTION assoc.read_by(ns text, keys assoc.assockey)
    RETURNS SETOF assoc.records
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM assoc.check_namespace(ns);
    IF keys IS NULL THEN
        RAISE EXCEPTION 'keys must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF assoc.size(keys) = 0 THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT r.* FROM assoc.records r
                  WHERE r.ns = read_by.ns AND r.keys OPERATOR(assoc.@>) read_by.keys
                  ORDER BY r.id;
END
$$;
COMMENT ON FUNCTION assoc.read_by(text, assoc.assockey) IS
    'every record whose keys contain all of keys, by id; an empty keys returns nothing';

CREATE FUNCTION assoc.history(ns text, id text)
    RETURNS TABLE (version bigint, data jsonb, keys assoc.assockey, op text, at timestamptz)
    LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM assoc.check_record(ns, id);
    RETURN QUERY SELECT h.version, h.data, h.keys, h.op, h.at FROM assoc.history h
                  WHERE h.ns = history.ns AND h.id = history.id
                  ORDER BY h.version;
END
$$;
COMMENT ON FUNCTION assoc.history(text, text) IS
    'the kept versions of a record, oldest first, the current one last (empty when history is off)';

-- Writes: C functions that check the calling role ----------------------
-- C functions carry no SET clauses: the hot path reads and writes rows
-- through the table AM (src/rowaccess.c), and every SQL statement they run
-- is parsed, planned and executed with a pinned search_path and planned
-- with enable_seqscan off (src/stmt.c).

CREATE FUNCTION assoc.set(ns text, id text, path text, value jsonb,
                          expected_version bigint DEFAULT NULL, op_id text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'assoc_set'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.set(text, text, text, jsonb, bigint, text) IS
    'sets value at path (NULL path = whole data), creating the record if missing; returns the new version';

CREATE FUNCTION assoc.erase(ns text, id text, path text,
                            expected_version bigint DEFAULT NULL, op_id text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'assoc_erase'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.erase(text, text, text, bigint, text) IS
    'erases path in a record, creating the record if missing; returns the new version';

CREATE FUNCTION assoc.set_multi(ns text, id text, patches jsonb,
                                expected_version bigint DEFAULT NULL, op_id text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'assoc_set_multi'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.set_multi(text, text, jsonb, bigint, text) IS
    'applies a patch batch atomically with one version bump; returns the new version';

CREATE FUNCTION assoc.remove(ns text, id text,
                             expected_version bigint DEFAULT NULL, op_id text DEFAULT NULL)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'assoc_remove'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.remove(text, text, bigint, text) IS
    'removes a record and its history; true if a record was removed';

CREATE FUNCTION assoc.link(ns text, id text, keys assoc.assockey,
                           expected_version bigint DEFAULT NULL, op_id text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'assoc_link'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.link(text, text, assoc.assockey, bigint, text) IS
    'adds associations to a record''s keys; returns the new version';

CREATE FUNCTION assoc.unlink(ns text, id text, keys assoc.assockey,
                             expected_version bigint DEFAULT NULL, op_id text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'assoc_unlink'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.unlink(text, text, assoc.assockey, bigint, text) IS
    'removes associations from a record''s keys; returns the new version';

CREATE FUNCTION assoc.rollback(ns text, id text, to_version bigint,
                               expected_version bigint DEFAULT NULL, op_id text DEFAULT NULL)
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'assoc_rollback'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.rollback(text, text, bigint, bigint, text) IS
    'makes the data and keys of a kept version current again, as a new version';

CREATE FUNCTION assoc."create"(ns text, data jsonb, keys assoc.assockey DEFAULT '{}',
                               id text DEFAULT NULL, op_id text DEFAULT NULL)
    RETURNS text
    AS 'MODULE_PATHNAME', 'assoc_create'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc."create"(text, jsonb, assoc.assockey, text, text) IS
    'creates a record (id generated when NULL) and returns its id';

CREATE FUNCTION assoc.update_by(ns text, keys assoc.assockey, data jsonb,
                                upsert boolean DEFAULT false, op_id text DEFAULT NULL)
    RETURNS SETOF assoc.records
    AS 'MODULE_PATHNAME', 'assoc_update_by'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.update_by(text, assoc.assockey, jsonb, boolean, text) IS
    'replaces the data of every record whose keys equal keys; with upsert and no match, creates one';

CREATE FUNCTION assoc.remove_by(ns text, keys assoc.assockey, op_id text DEFAULT NULL)
    RETURNS SETOF assoc.records
    AS 'MODULE_PATHNAME', 'assoc_remove_by'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.remove_by(text, assoc.assockey, text) IS
    'removes every record whose keys contain keys, returning the rows removed; empty keys removes nothing';
