
-- ---------------------------------------------------------------------
-- Moving a namespace to another shard (README, "Scaling out").
--
-- CALL assoc_proxy.move_namespace(ns, to_shard) runs these steps, each in
-- a transaction of its own on the proxy (each call to a shard commits
-- there on its own):
--
--   begin   the directory entry records the target (move_to); calls
--           still go to the source;
--   copy    a fenced copy on the target is made equal to the source, table
--           by table, while the source serves;
--   final   the source is fenced (its running writers finish first, later
--           ones get 40001), copied again (what changed since), and the
--           target opened;
--   switch  the directory names the target, and the source in left_on;
--   wait    for every transaction of the proxy that began before the
--           switch: a call routed by the old entry may still be running;
--   finish  the source's fenced copy is removed, left_on cleared.
--
-- At no point are two copies open: the target opens only after the
-- source is fenced and copied, and a fenced copy refuses every change.  A
-- call routed to the source before the switch fails with 40001 there if
-- it changes something, and it has ended before the source copy is
-- removed.  Each step reads the entry again under the move's lock and
-- does nothing when its work is done, so a move cut short anywhere (a
-- server killed, a cancel) is completed by calling it again.
-- ---------------------------------------------------------------------

-- --- what a move asks of the shards, as the owner -------------------------

CREATE FUNCTION assoc_proxy.state_on(want text, shard integer)
    RETURNS text
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard;
          SELECT (SELECT CASE WHEN n.fenced THEN 'fenced' ELSE 'open' END
                    FROM assoc.namespaces AS n WHERE n.ns = want); $$;
COMMENT ON FUNCTION assoc_proxy.state_on(text, integer) IS
    'whether a shard holds a namespace open, fenced (by a move), or not at all (NULL)';

CREATE FUNCTION assoc_proxy.fence_on(want text, fenced boolean, shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT true FROM assoc.move_fence(want, fenced); $$;
COMMENT ON FUNCTION assoc_proxy.fence_on(text, boolean, integer) IS
    'assoc.move_fence on one shard: fences a namespace there (true) or opens it (false)';

CREATE FUNCTION assoc_proxy.drop_fenced_on(want text, shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT true FROM assoc.move_drop(want); $$;
COMMENT ON FUNCTION assoc_proxy.drop_fenced_on(text, integer) IS
    'assoc.move_drop on one shard: removes the fenced copy of a namespace there';

CREATE FUNCTION assoc_proxy.namespace_row_on(want text, shard integer)
    RETURNS text
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT assoc.move_namespace_row(want); $$;
COMMENT ON FUNCTION assoc_proxy.namespace_row_on(text, integer) IS
    'assoc.move_namespace_row on one shard: the namespace''s row there, as text';

CREATE FUNCTION assoc_proxy.receive_on(want text, source_row text, shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT true FROM assoc.move_receive(want, source_row); $$;
COMMENT ON FUNCTION assoc_proxy.receive_on(text, text, integer) IS
    'assoc.move_receive on one shard: makes or updates the fenced copy of a namespace there';

CREATE TYPE assoc_proxy.row_digest AS (key text, version bigint, digest text, size integer);
COMMENT ON TYPE assoc_proxy.row_digest IS
    'a row of a namespace as assoc.move_digests describes it: its key, digest and size';

CREATE FUNCTION assoc_proxy.digests_on(want text, tbl text, after_key text, after_version bigint,
                                       upto_key text, upto_version bigint, lim integer, shard integer)
    RETURNS SETOF assoc_proxy.row_digest
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard;
          SELECT * FROM assoc.move_digests(want, tbl, after_key, after_version, upto_key, upto_version, lim); $$;
COMMENT ON FUNCTION assoc_proxy.digests_on(text, text, text, bigint, text, bigint, integer, integer) IS
    'assoc.move_digests on one shard: keys, digests and sizes of a namespace''s rows in key order';

CREATE FUNCTION assoc_proxy.rows_on(want text, tbl text, keys text[], versions bigint[], shard integer)
    RETURNS SETOF text
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT * FROM assoc.move_rows(want, tbl, keys, versions); $$;
COMMENT ON FUNCTION assoc_proxy.rows_on(text, text, text[], bigint[], integer) IS
    'assoc.move_rows on one shard: a namespace''s rows named by their keys, as text';

CREATE FUNCTION assoc_proxy.apply_on(want text, tbl text, source_rows text[], gone_keys text[],
                                     gone_versions bigint[], shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard;
          SELECT true FROM assoc.move_apply(want, tbl, source_rows, gone_keys, gone_versions); $$;
COMMENT ON FUNCTION assoc_proxy.apply_on(text, text, text[], text[], bigint[], integer) IS
    'assoc.move_apply on one shard: writes rows into the fenced copy of a namespace there';

-- --- copying ---------------------------------------------------------------

CREATE FUNCTION assoc_proxy.copy_table(ns text, tbl text, source integer, target integer)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    batch CONSTANT integer := 1000;          -- keys compared per round
    chunk_bytes CONSTANT bigint := 8388608;  -- rows sent per call, about
    after_key text := '';                    -- keys are never empty
    after_version bigint := -1;
    have assoc_proxy.row_digest[];
    there assoc_proxy.row_digest[];
    upto assoc_proxy.row_digest;
    gone_keys text[];
    gone_versions bigint[];
    chunk record;
    copied bigint := 0;
BEGIN
    -- Makes the target's rows of one table equal to the source's, one key
    -- range at a time: the source's next batch of keys and digests, the
    -- target's over the same range; rows missing or different on the
    -- target are sent, rows only there are deleted.  Returns the number of
    -- rows sent.
    LOOP
        have := ARRAY(SELECT d FROM assoc_proxy.digests_on(ns, tbl, after_key, after_version,
                                                           NULL, NULL, batch, source) AS d);
        upto := CASE WHEN cardinality(have) = batch THEN have[batch] END;
        there := ARRAY(SELECT d FROM assoc_proxy.digests_on(ns, tbl, after_key, after_version,
                                                            upto.key, upto.version, NULL, target) AS d);
        SELECT coalesce(array_agg(t.key), '{}'), coalesce(array_agg(t.version), '{}')
          INTO gone_keys, gone_versions
          FROM unnest(there) AS t
         WHERE NOT EXISTS (SELECT 1 FROM unnest(have) AS h WHERE h.key = t.key AND h.version = t.version);
        FOR chunk IN
            SELECT array_agg(c.key ORDER BY c.n) AS keys, array_agg(c.version ORDER BY c.n) AS versions
              FROM (SELECT h.key, h.version, h.n,
                           sum(h.size) OVER (ORDER BY h.n) - h.size AS before
                      FROM unnest(have) WITH ORDINALITY AS h(key, version, digest, size, n)
                     WHERE NOT EXISTS (SELECT 1 FROM unnest(there) AS t
                                        WHERE t.key = h.key AND t.version = h.version AND t.digest = h.digest)) AS c
             GROUP BY c.before / chunk_bytes
             ORDER BY c.before / chunk_bytes
        LOOP
            PERFORM assoc_proxy.apply_on(ns, tbl,
                ARRAY(SELECT assoc_proxy.rows_on(ns, tbl, chunk.keys, chunk.versions, source)),
                gone_keys, gone_versions, target);
            copied := copied + cardinality(chunk.keys);
            gone_keys := '{}';
            gone_versions := '{}';
        END LOOP;
        IF cardinality(gone_keys) > 0 THEN
            PERFORM assoc_proxy.apply_on(ns, tbl, '{}', gone_keys, gone_versions, target);
        END IF;
        EXIT WHEN upto IS NULL;
        after_key := upto.key;
        after_version := upto.version;
    END LOOP;
    RETURN copied;
END
$$;
COMMENT ON FUNCTION assoc_proxy.copy_table(text, text, integer, integer) IS
    'makes a namespace''s rows of records, history or ops on the target shard equal to the source''s; returns the rows sent';

-- --- the steps ---------------------------------------------------------------

CREATE FUNCTION assoc_proxy.move_entry(ns text)
    RETURNS assoc_proxy.directory
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    entry assoc_proxy.directory;
BEGIN
    -- One move of a namespace at a time: each step holds this lock, and
    -- reads the entry under it.
    PERFORM pg_advisory_xact_lock(hashtext('pg_assoc_proxy move'), hashtext(ns));
    SELECT d.* INTO entry FROM assoc_proxy.directory AS d WHERE d.ns = move_entry.ns FOR UPDATE;
    RETURN entry;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_entry(text) IS
    'a namespace''s directory entry, locked for a step of a move (all NULL when it has none)';

CREATE FUNCTION assoc_proxy.move_begin(ns text, to_shard integer)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    entry assoc_proxy.directory;
    source integer;
BEGIN
    IF ns IS NULL OR to_shard IS NULL THEN
        RAISE EXCEPTION 'assoc_proxy.move_namespace needs a namespace and a shard' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM assoc_proxy.shards AS s WHERE s.shard = to_shard) THEN
        RAISE EXCEPTION 'shard % does not exist', to_shard USING ERRCODE = '22023',
            HINT = 'Shards are numbered from 0 in the order assoc_proxy.configure was given them.';
    END IF;
    entry := assoc_proxy.move_entry(ns);
    IF entry.move_to IS NOT NULL THEN
        IF entry.move_to <> to_shard THEN
            RAISE EXCEPTION 'namespace "%" is being moved to shard %', ns, entry.move_to
                USING ERRCODE = '55000',
                      HINT = format('Complete that move first: CALL assoc_proxy.move_namespace(%L, %s).',
                                    ns, entry.move_to);
        END IF;
        RETURN true;   -- a move cut short: go on with it
    END IF;
    source := coalesce(entry.shard, assoc_proxy.route(ns));
    IF assoc_proxy.state_on(ns, source) IS DISTINCT FROM 'open' THEN
        RAISE EXCEPTION 'namespace "%" does not exist on shard %', ns, source USING ERRCODE = '42704';
    END IF;
    IF source = to_shard THEN
        RETURN false;  -- already there
    END IF;
    CASE assoc_proxy.state_on(ns, to_shard)
        WHEN 'open' THEN
            RAISE EXCEPTION 'shard % already holds a namespace "%"', to_shard, ns USING ERRCODE = '42710';
        WHEN 'fenced' THEN
            RAISE EXCEPTION 'shard % holds a fenced copy of namespace "%"', to_shard, ns
                USING ERRCODE = '55000',
                      HINT = 'No move of it is recorded: remove that copy on its shard with assoc.move_drop().';
        ELSE
    END CASE;
    INSERT INTO assoc_proxy.directory AS d (ns, shard, pinned, move_to) VALUES (ns, source, true, to_shard)
        ON CONFLICT ON CONSTRAINT directory_pkey DO UPDATE SET pinned = true, move_to = excluded.move_to;
    RETURN true;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_begin(text, integer) IS
    'step 1 of a move: records its target in the directory; false when the namespace is already on that shard';

CREATE FUNCTION assoc_proxy.move_copy(ns text, final boolean)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    entry assoc_proxy.directory := assoc_proxy.move_entry(ns);
    source_row text;
BEGIN
    IF entry.move_to IS NULL OR assoc_proxy.state_on(ns, entry.move_to) = 'open' THEN
        RETURN;        -- no move, or its copy is complete
    END IF;
    IF final THEN
        PERFORM assoc_proxy.fence_on(ns, true, entry.shard);
    END IF;
    source_row := assoc_proxy.namespace_row_on(ns, entry.shard);
    IF source_row IS NULL THEN
        RAISE EXCEPTION 'namespace "%" is missing on shard %, which the directory names', ns, entry.shard
            USING ERRCODE = '55000';
    END IF;
    PERFORM assoc_proxy.receive_on(ns, source_row, entry.move_to);
    PERFORM assoc_proxy.copy_table(ns, t, entry.shard, entry.move_to)
       FROM unnest(ARRAY['records', 'history', 'ops']) AS t;
    IF final THEN
        PERFORM assoc_proxy.fence_on(ns, false, entry.move_to);
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_copy(text, boolean) IS
    'steps 2 and 3 of a move: copies the namespace to its target; final: fences the source first and opens the target after';

CREATE FUNCTION assoc_proxy.move_switch(ns text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    entry assoc_proxy.directory := assoc_proxy.move_entry(ns);
BEGIN
    IF entry.move_to IS NULL THEN
        RETURN;
    END IF;
    IF assoc_proxy.state_on(ns, entry.move_to) IS DISTINCT FROM 'open' THEN
        RAISE EXCEPTION 'the copy of namespace "%" on shard % is not complete', ns, entry.move_to
            USING ERRCODE = '55000', HINT = 'Run the move again.';
    END IF;
    UPDATE assoc_proxy.directory AS d
       SET shard = entry.move_to, left_on = entry.shard, move_to = NULL, pinned = true, placed_at = now()
     WHERE d.ns = move_switch.ns;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_switch(text) IS
    'step 4 of a move: the directory names the target, and the source as the shard left to clean';

CREATE FUNCTION assoc_proxy.move_wait()
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    older text[];
BEGIN
    -- Every transaction of this database's clients that is running now
    -- (each holds a lock on its virtual transaction id): wait until each
    -- has ended, as CREATE INDEX CONCURRENTLY waits for older snapshots.
    older := ARRAY(SELECT l.virtualxid FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
                    WHERE l.locktype = 'virtualxid' AND l.granted AND l.pid <> pg_backend_pid()
                      AND a.datname = current_database() AND a.backend_type = 'client backend');
    WHILE EXISTS (SELECT 1 FROM pg_locks AS l
                   WHERE l.locktype = 'virtualxid' AND l.granted AND l.virtualxid = ANY (older)) LOOP
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_wait() IS
    'step 5 of a move: waits for the transactions of the proxy database running when it is called';

CREATE FUNCTION assoc_proxy.move_finish(ns text)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    entry assoc_proxy.directory := assoc_proxy.move_entry(ns);
BEGIN
    IF entry.left_on IS NULL THEN
        RETURN false;
    END IF;
    CASE assoc_proxy.state_on(ns, entry.left_on)
        WHEN 'fenced' THEN
            PERFORM assoc_proxy.drop_fenced_on(ns, entry.left_on);
        WHEN 'open' THEN
            RAISE EXCEPTION 'namespace "%" is open on shard %, which a move left', ns, entry.left_on
                USING ERRCODE = '55000';
        ELSE
    END CASE;
    UPDATE assoc_proxy.directory AS d SET left_on = NULL WHERE d.ns = move_finish.ns;
    RETURN true;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_finish(text) IS
    'step 6 of a move: removes the fenced copy on the shard the namespace left; false when there is none';

CREATE FUNCTION assoc_proxy.move_left(ns text)
    RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM assoc_proxy.directory AS d WHERE d.ns = move_left.ns AND d.left_on IS NOT NULL) $$;
COMMENT ON FUNCTION assoc_proxy.move_left(text) IS
    'whether a finished move of the namespace has still to remove the copy it left';

-- A procedure, so that each step commits; hence no SET clause (a procedure
-- with one cannot commit): every name in it is schema-qualified.
CREATE PROCEDURE assoc_proxy.move_namespace(ns text, to_shard integer)
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF assoc_proxy.move_left(ns) THEN
        PERFORM assoc_proxy.move_wait();
        COMMIT;
        PERFORM assoc_proxy.move_finish(ns);
        COMMIT;
    END IF;
    IF assoc_proxy.move_begin(ns, to_shard) THEN
        COMMIT;
        PERFORM assoc_proxy.move_copy(ns, false);
        COMMIT;
        PERFORM assoc_proxy.move_copy(ns, true);
        COMMIT;
        PERFORM assoc_proxy.move_switch(ns);
        COMMIT;
        PERFORM assoc_proxy.move_wait();
        COMMIT;
        PERFORM assoc_proxy.move_finish(ns);
    END IF;
END
$$;
COMMENT ON PROCEDURE assoc_proxy.move_namespace(text, integer) IS
    'moves a namespace with its records, history, op_id ledger and channel secret to another shard (owner only; CALL it again to complete a move cut short)';

REVOKE ALL ON FUNCTION assoc_proxy.state_on(text, integer), assoc_proxy.fence_on(text, boolean, integer),
    assoc_proxy.drop_fenced_on(text, integer), assoc_proxy.namespace_row_on(text, integer),
    assoc_proxy.receive_on(text, text, integer),
    assoc_proxy.digests_on(text, text, text, bigint, text, bigint, integer, integer),
    assoc_proxy.rows_on(text, text, text[], bigint[], integer),
    assoc_proxy.apply_on(text, text, text[], text[], bigint[], integer),
    assoc_proxy.copy_table(text, text, integer, integer), assoc_proxy.move_entry(text),
    assoc_proxy.move_begin(text, integer), assoc_proxy.move_copy(text, boolean), assoc_proxy.move_switch(text),
    assoc_proxy.move_wait(), assoc_proxy.move_finish(text), assoc_proxy.move_left(text)
    FROM PUBLIC;
REVOKE ALL ON PROCEDURE assoc_proxy.move_namespace(text, integer) FROM PUBLIC;
