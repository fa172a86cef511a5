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

-- Moving a namespace to another server (README, "Scaling out") ------
-- pg_assoc_proxy's assoc_proxy.move_namespace drives these on the two
-- shards, as the extension owner: copy into a fenced copy on the target
-- while the source serves, fence and quiesce the source, copy what
-- changed, open the target, remove the source.  Rows travel as the text of their table's
-- row type, which round-trips every column exactly (a jsonb 'null'
-- included; the settings that shape it are fixed), and the proxy tells a
-- changed row from the stamp of its row version on the source.  The
-- proxy lists these as functions of one shard (proxy/generate_api.sql).

CREATE FUNCTION assoc.move_fence(ns text, fenced boolean, incarnation bigint DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'assoc_move_fence'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.move_fence(text, boolean, bigint) IS
    'fences a namespace (its changes fail with 40001 until it is opened again) or opens it; with an incarnation, only that one; extension owner only';

CREATE FUNCTION assoc.move_quiesce(ns text, incarnation bigint DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'assoc_move_quiesce'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.move_quiesce(text, bigint) IS
    'waits for the writes of a fenced namespace that began before its fence; with an incarnation, only that one; extension owner only';

CREATE FUNCTION assoc.move_drop(ns text, incarnation bigint DEFAULT NULL)
    RETURNS void
    AS 'MODULE_PATHNAME', 'assoc_move_drop'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.move_drop(text, bigint) IS
    'removes a fenced namespace (the copy a move leaves behind) with all its rows; with an incarnation, only that one; extension owner only';

CREATE FUNCTION assoc.move_namespace_row(ns text)
    RETURNS text
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET bytea_output = 'hex'
    AS $$ SELECT n::text FROM assoc.namespaces AS n WHERE n.ns = move_namespace_row.ns $$;
COMMENT ON FUNCTION assoc.move_namespace_row(text) IS
    'the namespace''s row as text (NULL when missing), for assoc.move_receive on another server; extension owner only';

CREATE FUNCTION assoc.move_receive(ns text, source_row text)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET bytea_output = 'hex'
    AS $$
DECLARE
    src assoc.namespaces := source_row::assoc.namespaces;
    here assoc.namespaces;
    incarnation bigint;
BEGIN
    IF src.ns IS DISTINCT FROM ns THEN
        RAISE EXCEPTION 'the row given is not namespace "%"''s', ns USING ERRCODE = '22023';
    END IF;
    SELECT n.* INTO here FROM assoc.namespaces AS n WHERE n.ns = move_receive.ns FOR UPDATE;
    IF NOT FOUND THEN
        -- An incarnation of this server's, never the source's (a shard
        -- cloned from the source counts alike): the source's cursors are
        -- refused here (55000).
        incarnation := nextval('assoc.incarnation_seq');
        IF incarnation = src.incarnation THEN
            incarnation := nextval('assoc.incarnation_seq');
        END IF;
        INSERT INTO assoc.namespaces (ns, owner, history_depth, incarnation, channel_secret, created_at, fenced)
        VALUES (ns, src.owner, src.history_depth, incarnation, src.channel_secret, src.created_at, true);
        RETURN incarnation;
    ELSIF here.fenced THEN
        UPDATE assoc.namespaces AS n
           SET owner = src.owner, history_depth = src.history_depth,
               channel_secret = src.channel_secret, created_at = src.created_at
         WHERE n.ns = move_receive.ns;
        RETURN here.incarnation;
    ELSE
        RAISE EXCEPTION 'namespace "%" is open on this server', ns
            USING ERRCODE = '55000',
                  DETAIL = 'A move copies only into a fenced copy of the namespace.';
    END IF;
END
$$;
COMMENT ON FUNCTION assoc.move_receive(text, text) IS
    'creates a fenced copy of a namespace from its row on another server, or brings a fenced copy''s settings up to date; returns the copy''s incarnation; extension owner only';

CREATE FUNCTION assoc.move_key(tbl text)
    RETURNS text
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- A row's key over the alias t, as the list "key, version": records
    -- and ledger entries have one key, and version 0.
    CASE tbl
        WHEN 'records' THEN RETURN 't.id, 0::bigint';
        WHEN 'history' THEN RETURN 't.id, t.version';
        WHEN 'ops' THEN RETURN 't.op_id, 0::bigint';
        ELSE RAISE EXCEPTION 'a move copies records, history or ops, not "%"', tbl USING ERRCODE = '22023';
    END CASE;
END
$$;
COMMENT ON FUNCTION assoc.move_key(text) IS
    'the key of a row of a table a move copies, over the alias t, as "key, version" (history: id, version; records: id, 0; ops: op_id, 0); 22023 for another table';

CREATE FUNCTION assoc.move_stamp(tbl text)
    RETURNS text
    LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    -- Where the row version is (ctid), the transaction that wrote it (xmin,
    -- which freezing keeps) and when (the row's own time, which tells a
    -- transaction id used again after wraparound apart): a row changed, or
    -- deleted and written again, has another stamp.
    AS $$ SELECT 't.xmin::text || ''/'' || t.ctid::text || ''/'' || '
                 || CASE tbl WHEN 'records' THEN 't.updated_at' ELSE 't.at' END || '::text' $$;
COMMENT ON FUNCTION assoc.move_stamp(text) IS
    'the stamp of a row version of a table a move copies, as an expression over the alias t: its xmin, ctid and time';

CREATE FUNCTION assoc.move_stamps(ns text, tbl text, after_key text, after_version bigint,
                                  upto_key text, upto_version bigint, max integer)
    RETURNS TABLE (key text, version bigint, stamp text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD'
    AS $$
DECLARE
    list text := assoc.move_key(tbl);
    k text := CASE WHEN tbl = 'history' THEN '(t.id, t.version)' ELSE split_part(list, ',', 1) END;
BEGIN
    -- The rows of one table of the namespace in key order, after
    -- (after_key, after_version) and up to (upto_key, upto_version) (NULL:
    -- no bound), at most max (NULL: all), each with the stamp of its row
    -- version (assoc.move_stamp).  Reading stamps reads no document.  The
    -- index of records and ops is on the key alone, so their bounds
    -- compare the key alone.
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT %1$s, %3$s
           FROM assoc.%2$I AS t
          WHERE t.ns = $1 AND %4$s > %5$s AND ($4 IS NULL OR %4$s <= %6$s)
          ORDER BY %1$s LIMIT $6',
        list, tbl, assoc.move_stamp(tbl), k,
        CASE WHEN tbl = 'history' THEN '($2, $3)' ELSE '$2' END,
        CASE WHEN tbl = 'history' THEN '($4, $5)' ELSE '$4' END)
    USING ns, after_key, after_version, upto_key, upto_version, max;
END
$$;
COMMENT ON FUNCTION assoc.move_stamps(text, text, text, bigint, text, bigint, integer) IS
    'keys of a namespace''s rows in records, history or ops, in key order within bounds, each with the stamp of its row version, for a move; extension owner only';

CREATE FUNCTION assoc.move_rows(ns text, tbl text, keys text[], versions bigint[], max_bytes bigint)
    RETURNS TABLE (key text, version bigint, stamp text, source_row text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET bytea_output = 'hex'
    AS $$
DECLARE
    r record;
    n bigint := 0;
    bytes bigint := 0;
BEGIN
    -- The rows named by keys and versions (parallel arrays), in that
    -- order, with their stamps and their text (NULLs for a row that is
    -- gone), up to the row that reaches max_bytes of text: the caller asks
    -- again for the rest.  Read through a cursor, one row after another,
    -- so that no more rows are made text than are sent: the keys in their
    -- order, each row looked up for its key (the LIMIT keeps the lookup a
    -- step of the loop over the keys rather than a join that reorders).
    FOR r IN EXECUTE pg_catalog.format(
        'SELECT w.n, w.key, w.version, x.stamp, x.text
           FROM (SELECT * FROM unnest($2, $3) WITH ORDINALITY AS w(key, version, n) ORDER BY n) AS w
           LEFT JOIN LATERAL (SELECT %3$s, t::text FROM assoc.%1$I AS t
                               WHERE t.ns = $1 AND (%2$s) = (w.key, w.version)
                               LIMIT 1) AS x(stamp, text) ON true',
        tbl, assoc.move_key(tbl), assoc.move_stamp(tbl))
        USING ns, keys, versions
    LOOP
        n := n + 1;
        IF r.n <> n THEN
            RAISE EXCEPTION 'rows to move came out of order (% for %)', r.n, n;
        END IF;
        key := r.key;
        version := r.version;
        stamp := r.stamp;
        source_row := r.text;
        RETURN NEXT;
        bytes := bytes + coalesce(octet_length(r.text), 0);
        EXIT WHEN bytes >= max_bytes;
    END LOOP;
END
$$;
COMMENT ON FUNCTION assoc.move_rows(text, text, text[], bigint[], bigint) IS
    'the rows of a namespace named by their keys, in that order, with their stamps and their text, up to max_bytes, for assoc.move_apply on another server; extension owner only';

CREATE FUNCTION assoc.move_apply(ns text, tbl text, source_rows text[], delete_keys text[], delete_versions bigint[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    SET TimeZone = 'UTC' SET DateStyle = 'ISO, YMD' SET bytea_output = 'hex'
    AS $$
DECLARE
    foreign_rows bigint;
BEGIN
    IF NOT coalesce((SELECT n.fenced FROM assoc.namespaces AS n WHERE n.ns = move_apply.ns FOR SHARE), false) THEN
        RAISE EXCEPTION 'namespace "%" has no fenced copy on this server', ns
            USING ERRCODE = '55000',
                  DETAIL = 'A move writes only into a fenced copy (assoc.move_receive makes one).';
    END IF;
    -- The keys given (parallel arrays of keys and versions: the rows gone
    -- and those replaced) are deleted, then the rows given (the text of
    -- the table's row type, read once) inserted: a row whose key was not
    -- deleted first fails on the primary key rather than replace anything.
    EXECUTE pg_catalog.format(
        'DELETE FROM assoc.%1$I AS t USING unnest($2, $3) AS w(key, version)
          WHERE t.ns = $1 AND (%2$s) = (w.key, w.version)',
        tbl, assoc.move_key(tbl))
    USING ns, delete_keys, delete_versions;
    EXECUTE pg_catalog.format(
        'WITH i AS (INSERT INTO assoc.%1$I SELECT * FROM unnest($1::assoc.%1$I[]) RETURNING ns)
         SELECT count(*) FROM i WHERE i.ns IS DISTINCT FROM $2', tbl)
    INTO foreign_rows USING source_rows, ns;
    IF foreign_rows > 0 THEN
        RAISE EXCEPTION 'a row given is not namespace "%"''s', ns USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION assoc.move_apply(text, text, text[], text[], bigint[]) IS
    'deletes rows of a namespace''s fenced copy by key, then writes rows of another server''s copy (as text) into it; extension owner only';

REVOKE ALL ON FUNCTION assoc.move_fence(text, boolean, bigint), assoc.move_quiesce(text, bigint),
    assoc.move_drop(text, bigint), assoc.move_namespace_row(text),
    assoc.move_receive(text, text), assoc.move_stamps(text, text, text, bigint, text, bigint, integer),
    assoc.move_key(text), assoc.move_stamp(text), assoc.move_rows(text, text, text[], bigint[], bigint),
    assoc.move_apply(text, text, text[], text[], bigint[])
    FROM PUBLIC;
