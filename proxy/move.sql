
-- ---------------------------------------------------------------------
-- Moving a namespace to another shard (README, "Moving a namespace").
--
-- CALL assoc_proxy.move_namespace(ns, to_shard) runs these steps, each in
-- a transaction of its own on the proxy (each call to a shard commits
-- there on its own); assoc_proxy.moves records the move from its start
-- until its old copy is gone:
--
--   begin   the move is recorded; calls still go to the source;
--   copy    a fenced copy on the target is made equal to the source, table
--           by table, while the source serves (twice: the second pass
--           takes what changed during the first);
--   final   the source is fenced (its running writers finish first, later
--           ones get 40001), the copy made equal once more, and opened;
--   switch  the directory names the target;
--   wait    for every transaction of the proxy that began before the
--           switch: a call routed by the old entry may still be running;
--   finish  the source's fenced copy is removed, the move forgotten.
--
-- At no point are two copies open: the target opens only after the source
-- is fenced and copied, and a fenced copy refuses every change.  A call
-- routed to the source before the switch fails with 40001 there if it
-- changes something, and it has ended before the source copy is removed.
-- Each step reads the move again under the move's lock and does nothing
-- when its work is done, so a move cut short anywhere (a server killed, a
-- cancel) is completed by calling it again, or undone before its switch
-- by assoc_proxy.abort_move.  The incarnations recorded tell the
-- namespace and its copy from any other of the same name a shard gets
-- meanwhile (dropped and created again, or created on a shard directly).
-- ---------------------------------------------------------------------

-- --- what a move asks of the shards, as the owner -------------------------

CREATE TYPE assoc_proxy.copy_state AS (fenced boolean, incarnation bigint);
COMMENT ON TYPE assoc_proxy.copy_state IS
    'a shard''s copy of a namespace: fenced or open, and its incarnation there (NULLs: none)';

CREATE FUNCTION assoc_proxy.state_on(want text, shard integer)
    RETURNS assoc_proxy.copy_state
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard;
          SELECT n.fenced, n.incarnation
            FROM (SELECT 1) AS one LEFT JOIN assoc.namespaces AS n ON n.ns = want; $$;
COMMENT ON FUNCTION assoc_proxy.state_on(text, integer) IS
    'a shard''s copy of a namespace: whether it is fenced (by a move) and its incarnation; NULLs when the shard has none';
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
    RETURNS bigint
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT assoc.move_receive(want, source_row); $$;
COMMENT ON FUNCTION assoc_proxy.receive_on(text, text, integer) IS
    'assoc.move_receive on one shard: makes or updates the fenced copy of a namespace there; returns its incarnation';

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
    chunk_bytes CONSTANT bigint := 8388608;  -- row text sent per call, about
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
        -- In the order the source sent them (its key order).
        have := ARRAY(SELECT (d.key, d.version, d.digest, d.size)::assoc_proxy.row_digest
                        FROM assoc_proxy.digests_on(ns, tbl, after_key, after_version, NULL, NULL, batch, source)
                             WITH ORDINALITY AS d(key, version, digest, size, n)
                       ORDER BY d.n);
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
    RETURNS assoc_proxy.moves
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    move assoc_proxy.moves;
BEGIN
    -- One step of a move of a namespace at a time (steps of two calls
    -- interleave, each finding what the other has done); its keys are
    -- pg_assoc_proxy's own.
    PERFORM pg_advisory_xact_lock(1634954614, hashtext(ns));
    SELECT m.* INTO move FROM assoc_proxy.moves AS m WHERE m.ns = move_entry.ns FOR UPDATE;
    RETURN move;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_entry(text) IS
    'the move of a namespace, locked for one step (all NULL when there is none)';

CREATE FUNCTION assoc_proxy.move_end(move assoc_proxy.moves)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    there assoc_proxy.copy_state := assoc_proxy.state_on(move.ns, move.target);
    here assoc_proxy.copy_state;
BEGIN
    -- Undo a move that has not switched: remove its copy (fenced first if
    -- it was opened: never two open copies), open the source again if it
    -- is still the namespace the move began with, forget the move.  A
    -- copy is the move's if it has the incarnation recorded, or is fenced
    -- (only the extension owner makes fenced copies) while none is.
    IF there.incarnation = move.copy_incarnation OR (there.fenced AND move.copy_incarnation IS NULL) THEN
        IF NOT there.fenced THEN
            PERFORM assoc_proxy.fence_on(move.ns, true, move.target);
        END IF;
        PERFORM assoc_proxy.drop_fenced_on(move.ns, move.target);
    END IF;
    here := assoc_proxy.state_on(move.ns, move.source);
    IF here.fenced AND here.incarnation = move.source_incarnation THEN
        PERFORM assoc_proxy.fence_on(move.ns, false, move.source);
    END IF;
    DELETE FROM assoc_proxy.moves AS m WHERE m.ns = move.ns;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_end(assoc_proxy.moves) IS
    'undoes a move that has not switched: removes its copy, opens the source again, forgets the move';

CREATE FUNCTION assoc_proxy.move_begin(ns text, to_shard integer)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    move assoc_proxy.moves;
    source integer;
    here assoc_proxy.copy_state;
    there assoc_proxy.copy_state;
BEGIN
    IF ns IS NULL OR to_shard IS NULL THEN
        RAISE EXCEPTION 'assoc_proxy.move_namespace needs a namespace and a shard' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM assoc_proxy.shards AS s WHERE s.shard = to_shard) THEN
        RAISE EXCEPTION 'shard % does not exist', to_shard USING ERRCODE = '22023',
            HINT = 'Shards are numbered from 0 in the order assoc_proxy.configure was given them.';
    END IF;
    move := assoc_proxy.move_entry(ns);
    IF move.switched_at IS NOT NULL THEN
        RAISE EXCEPTION 'the last move of namespace "%" has not removed its old copy yet', ns
            USING ERRCODE = '55000', HINT = 'Call the move again.';
    ELSIF move.target = to_shard THEN
        RETURN true;   -- a move cut short: go on with it
    ELSIF move.target IS NOT NULL THEN
        RAISE EXCEPTION 'namespace "%" is being moved to shard %', ns, move.target
            USING ERRCODE = '55000',
                  HINT = format('Complete it (CALL assoc_proxy.move_namespace(%L, %s)) or undo it (assoc_proxy.abort_move(%L)).',
                                ns, move.target, ns);
    END IF;
    source := assoc_proxy.route(ns);
    here := assoc_proxy.state_on(ns, source);
    IF here.incarnation IS NULL THEN
        RAISE EXCEPTION 'namespace "%" does not exist on shard %', ns, source USING ERRCODE = '42704';
    ELSIF here.fenced THEN
        RAISE EXCEPTION 'namespace "%" is fenced on shard %, and no move of it is recorded', ns, source
            USING ERRCODE = '55000',
                  HINT = 'Open it there with assoc.move_fence(ns, false).';
    END IF;
    IF source = to_shard THEN
        RETURN false;  -- already there
    END IF;
    there := assoc_proxy.state_on(ns, to_shard);
    IF NOT there.fenced THEN
        RAISE EXCEPTION 'shard % already holds a namespace "%"', to_shard, ns USING ERRCODE = '42710';
    ELSIF there.fenced THEN
        RAISE EXCEPTION 'shard % holds a fenced copy of namespace "%", and no move of it is recorded', to_shard, ns
            USING ERRCODE = '55000',
                  HINT = 'Remove it there with assoc.move_drop(ns).';
    END IF;
    INSERT INTO assoc_proxy.moves (ns, source, target, source_incarnation)
    VALUES (ns, source, to_shard, here.incarnation);
    -- The entry keeps calls on the source until the switch, whatever the
    -- number of shards becomes meanwhile.
    INSERT INTO assoc_proxy.directory AS d (ns, shard, pinned) VALUES (ns, source, true)
        ON CONFLICT ON CONSTRAINT directory_pkey DO UPDATE SET pinned = true;
    RETURN true;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_begin(text, integer) IS
    'step 1 of a move: records it; false when the namespace is already on that shard';

CREATE FUNCTION assoc_proxy.move_copy(ns text, final boolean)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    move assoc_proxy.moves := assoc_proxy.move_entry(ns);
    there assoc_proxy.copy_state;
    source_row text;
BEGIN
    IF move.target IS NULL OR move.switched_at IS NOT NULL THEN
        RETURN;
    END IF;
    there := assoc_proxy.state_on(ns, move.target);
    IF NOT there.fenced THEN
        IF there.incarnation = move.copy_incarnation THEN
            RETURN;    -- the copy is complete and open
        END IF;
        RAISE EXCEPTION 'shard % holds another namespace "%", created there during the move', move.target, ns
            USING ERRCODE = '55000',
                  HINT = format('Undo the move with assoc_proxy.abort_move(%L).', ns);
    END IF;
    IF (assoc_proxy.state_on(ns, move.source)).incarnation IS DISTINCT FROM move.source_incarnation THEN
        -- Dropped through the proxy before the fence (a drop is refused
        -- after it), perhaps created again: this move ends.
        PERFORM assoc_proxy.move_end(move);
        RAISE NOTICE 'namespace "%" was dropped while it was being moved: the move ends', ns;
        RETURN;
    END IF;
    IF final THEN
        PERFORM assoc_proxy.fence_on(ns, true, move.source);
    END IF;
    source_row := assoc_proxy.namespace_row_on(ns, move.source);
    move.copy_incarnation := assoc_proxy.receive_on(ns, source_row, move.target);
    UPDATE assoc_proxy.moves AS m SET copy_incarnation = move.copy_incarnation WHERE m.ns = move.ns;
    PERFORM assoc_proxy.copy_table(ns, t, move.source, move.target)
       FROM unnest(ARRAY['records', 'history', 'ops']) AS t;
    IF final THEN
        PERFORM assoc_proxy.fence_on(ns, false, move.target);
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_copy(text, boolean) IS
    'steps 2 and 3 of a move: copies the namespace to its target; final: fences the source first and opens the copy after';

CREATE FUNCTION assoc_proxy.move_switch(ns text)
    RETURNS timestamptz
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    move assoc_proxy.moves := assoc_proxy.move_entry(ns);
    there assoc_proxy.copy_state;
BEGIN
    IF move.target IS NULL OR move.switched_at IS NOT NULL THEN
        RETURN move.switched_at;
    END IF;
    there := assoc_proxy.state_on(ns, move.target);
    IF there.fenced OR there.incarnation IS DISTINCT FROM move.copy_incarnation THEN
        RAISE EXCEPTION 'the copy of namespace "%" on shard % is not complete and open', ns, move.target
            USING ERRCODE = '55000', HINT = 'Call the move again.';
    END IF;
    UPDATE assoc_proxy.directory AS d SET shard = move.target, pinned = true, placed_at = now()
     WHERE d.ns = move_switch.ns;
    UPDATE assoc_proxy.moves AS m SET switched_at = now() WHERE m.ns = move_switch.ns;
    RETURN now();
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_switch(text) IS
    'step 4 of a move: the directory names the target; returns when the move switched (NULL: no move)';

CREATE FUNCTION assoc_proxy.move_switched(ns text)
    RETURNS timestamptz
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT m.switched_at FROM assoc_proxy.moves AS m WHERE m.ns = move_switched.ns $$;
COMMENT ON FUNCTION assoc_proxy.move_switched(text) IS
    'when the move of a namespace switched, if it has and its old copy is still to be removed';

CREATE FUNCTION assoc_proxy.move_wait()
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    older text[];
BEGIN
    -- Every transaction of this database's clients running now (each
    -- holds a lock on its virtual transaction id), but other moves'
    -- waits, which would wait for this one: wait until each has ended,
    -- as CREATE INDEX CONCURRENTLY waits for older transactions.
    PERFORM pg_advisory_xact_lock_shared(1634954615, 0);
    older := ARRAY(SELECT l.virtualxid FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
                    WHERE l.locktype = 'virtualxid' AND l.granted AND l.pid <> pg_backend_pid()
                      AND a.datname = current_database() AND a.backend_type = 'client backend'
                      AND NOT EXISTS (SELECT 1 FROM pg_locks AS w
                                       WHERE w.pid = l.pid AND w.locktype = 'advisory' AND w.classid = 1634954615
                                         AND w.objid = 0 AND w.objsubid = 2));
    WHILE EXISTS (SELECT 1 FROM pg_locks AS l
                   WHERE l.locktype = 'virtualxid' AND l.granted AND l.virtualxid = ANY (older)) LOOP
        PERFORM pg_sleep(0.01);
    END LOOP;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_wait() IS
    'step 5 of a move: waits for the transactions of the proxy database running when it is called';

CREATE FUNCTION assoc_proxy.move_finish(ns text, switched timestamptz)
    RETURNS boolean
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    move assoc_proxy.moves := assoc_proxy.move_entry(ns);
    here assoc_proxy.copy_state;
BEGIN
    -- Only the move whose switch was waited for: another call may have
    -- finished it and switched a new one meanwhile.
    IF move.switched_at IS DISTINCT FROM switched OR switched IS NULL THEN
        RETURN false;
    END IF;
    here := assoc_proxy.state_on(ns, move.source);
    IF here.fenced AND here.incarnation = move.source_incarnation THEN
        PERFORM assoc_proxy.drop_fenced_on(ns, move.source);
    END IF;
    DELETE FROM assoc_proxy.moves AS m WHERE m.ns = move_finish.ns;
    RETURN true;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_finish(text, timestamptz) IS
    'step 6 of a move that switched at switched: removes the fenced copy on the source and forgets the move';

CREATE FUNCTION assoc_proxy.abort_move(ns text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    move assoc_proxy.moves := assoc_proxy.move_entry(ns);
BEGIN
    IF move.ns IS NULL THEN
        RAISE EXCEPTION 'no move of namespace "%" is recorded', ns USING ERRCODE = '55000';
    ELSIF move.switched_at IS NOT NULL THEN
        RAISE EXCEPTION 'the move of namespace "%" has switched: it can only be completed', ns
            USING ERRCODE = '55000',
                  HINT = format('CALL assoc_proxy.move_namespace(%L, %s).', ns, move.target);
    END IF;
    PERFORM assoc_proxy.move_end(move);
END
$$;
COMMENT ON FUNCTION assoc_proxy.abort_move(text) IS
    'undoes a move that has not switched (owner only; needs both shards): its copy is removed, the source opened again';

-- A procedure, so that each step commits; hence no SET clause (a procedure
-- with one cannot commit): every name in it is schema-qualified.
CREATE PROCEDURE assoc_proxy.move_namespace(ns text, to_shard integer)
    LANGUAGE plpgsql
    AS $$
DECLARE
    switched timestamptz := assoc_proxy.move_switched(ns);
BEGIN
    -- A move that switched and was cut short: its old copy first.
    IF switched IS NOT NULL THEN
        COMMIT;
        PERFORM assoc_proxy.move_wait();
        COMMIT;
        PERFORM assoc_proxy.move_finish(ns, switched);
        COMMIT;
    END IF;
    IF assoc_proxy.move_begin(ns, to_shard) THEN
        COMMIT;
        PERFORM assoc_proxy.move_copy(ns, false);
        COMMIT;
        PERFORM assoc_proxy.move_copy(ns, false);
        COMMIT;
        PERFORM assoc_proxy.move_copy(ns, true);
        COMMIT;
        switched := assoc_proxy.move_switch(ns);
        COMMIT;
        IF switched IS NOT NULL THEN
            PERFORM assoc_proxy.move_wait();
            COMMIT;
            PERFORM assoc_proxy.move_finish(ns, switched);
        END IF;
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
    assoc_proxy.move_end(assoc_proxy.moves), assoc_proxy.move_begin(text, integer),
    assoc_proxy.move_copy(text, boolean), assoc_proxy.move_switch(text), assoc_proxy.move_switched(text),
    assoc_proxy.move_wait(), assoc_proxy.move_finish(text, timestamptz), assoc_proxy.abort_move(text)
    FROM PUBLIC;
REVOKE ALL ON PROCEDURE assoc_proxy.move_namespace(text, integer) FROM PUBLIC;
