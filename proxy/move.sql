
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
--           by table, while the source serves, in passes until one sends
--           fewer than 1,000 rows or no fewer than the one before (at
--           most 8): each sends what changed since the last, told by the
--           stamps of the source's row versions that assoc_proxy.copied
--           keeps;
--   final   the source is fenced (changes fail with 40001 from then on,
--           at once) and quiesced (the writes that found it open end), the
--           copy made equal once more, and opened;
--   switch  the directory names the target;
--   wait    for every transaction of the proxy that began before the
--           switch: a call routed by the old entry may still be running;
--   finish  the source's fenced copy is removed, the move forgotten.
--
-- At no point are two copies open: the target opens only after the source
-- is fenced and copied, and a fenced copy refuses every change.  A call
-- routed to the source before the switch fails with 40001 there if it
-- changes something, and it has ended before the source copy is removed.
-- Each step reads the move again under the move's lock, acts only on the
-- move its call began (started_at), and does nothing when its work is
-- done, so a move cut short anywhere (a server killed, a cancel) is
-- completed by calling it again, or undone before its switch by
-- assoc_proxy.abort_move.  The incarnations recorded, and passed to the
-- shards' fence and removal, tell the namespace and its copy from any
-- other of the same name a shard gets meanwhile (dropped and created
-- again, or created on a shard directly).
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
            FROM (SELECT 1) AS one LEFT JOIN assoc.namespaces AS n ON n.ns OPERATOR(pg_catalog.=) want; $$;
COMMENT ON FUNCTION assoc_proxy.state_on(text, integer) IS
    'a shard''s copy of a namespace: whether it is fenced (by a move) and its incarnation; NULLs when the shard has none';
CREATE FUNCTION assoc_proxy.encoding_on(shard integer)
    RETURNS text
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT pg_catalog.getdatabaseencoding()::text; $$;
COMMENT ON FUNCTION assoc_proxy.encoding_on(integer) IS
    'the encoding of a shard database (a move compares keys in their bytes: both shards must share it)';

CREATE FUNCTION assoc_proxy.fence_on(want text, fenced boolean, incarnation bigint, shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT true FROM assoc.move_fence(want, fenced, incarnation); $$;
COMMENT ON FUNCTION assoc_proxy.fence_on(text, boolean, bigint, integer) IS
    'assoc.move_fence on one shard: fences a namespace of that incarnation there (true) or opens it (false)';

CREATE FUNCTION assoc_proxy.quiesce_on(want text, incarnation bigint, shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT true FROM assoc.move_quiesce(want, incarnation); $$;
COMMENT ON FUNCTION assoc_proxy.quiesce_on(text, bigint, integer) IS
    'assoc.move_quiesce on one shard: waits for the writes a fence found running there';

CREATE FUNCTION assoc_proxy.drop_fenced_on(want text, incarnation bigint, shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT true FROM assoc.move_drop(want, incarnation); $$;
COMMENT ON FUNCTION assoc_proxy.drop_fenced_on(text, bigint, integer) IS
    'assoc.move_drop on one shard: removes the fenced copy of a namespace of that incarnation there';

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

CREATE TYPE assoc_proxy.row_stamp AS (key text, version bigint, stamp text);
COMMENT ON TYPE assoc_proxy.row_stamp IS
    'a row of a namespace on its source shard as assoc.move_stamps describes it: its key and the stamp of its row version';

CREATE FUNCTION assoc_proxy.stamps_on(want text, tbl text, after_key text, after_version bigint,
                                      upto_key text, upto_version bigint, lim integer, shard integer)
    RETURNS SETOF assoc_proxy.row_stamp
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard;
          SELECT * FROM assoc.move_stamps(want, tbl, after_key, after_version, upto_key, upto_version, lim); $$;
COMMENT ON FUNCTION assoc_proxy.stamps_on(text, text, text, bigint, text, bigint, integer, integer) IS
    'assoc.move_stamps on one shard: keys of a namespace''s rows in key order within bounds, with the stamps of their row versions';

CREATE TYPE assoc_proxy.row_text AS (key text, version bigint, stamp text, source_row text);
COMMENT ON TYPE assoc_proxy.row_text IS
    'a row of a namespace as assoc.move_rows sends it: its key, stamp and text (NULLs: gone)';

CREATE FUNCTION assoc_proxy.rows_on(want text, tbl text, keys text[], versions bigint[], max_bytes bigint,
                                    shard integer)
    RETURNS SETOF assoc_proxy.row_text
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard;
          SELECT * FROM assoc.move_rows(want, tbl, keys, versions, max_bytes); $$;
COMMENT ON FUNCTION assoc_proxy.rows_on(text, text, text[], bigint[], bigint, integer) IS
    'assoc.move_rows on one shard: a namespace''s rows named by their keys, in that order, with stamps and text, up to max_bytes';

CREATE FUNCTION assoc_proxy.apply_on(want text, tbl text, source_rows text[], delete_keys text[],
                                     delete_versions bigint[], shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard;
          SELECT true FROM assoc.move_apply(want, tbl, source_rows, delete_keys, delete_versions); $$;
COMMENT ON FUNCTION assoc_proxy.apply_on(text, text, text[], text[], bigint[], integer) IS
    'assoc.move_apply on one shard: deletes rows of the fenced copy of a namespace there by key, and writes rows into it';


-- --- copying ---------------------------------------------------------------

CREATE FUNCTION assoc_proxy.copy_rows(ns text, tbl text, source integer, target integer,
                                      want_keys text[], want_versions bigint[],
                                      gone_keys text[], gone_versions bigint[])
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_custom_plan
    AS $$
DECLARE
    chunk_bytes CONSTANT bigint := 8388608;  -- row text sent per call, about
    got assoc_proxy.row_text[];
    sent bigint := 0;
BEGIN
    -- Sends the rows of the wanted keys from the source to the copy, in
    -- calls of about chunk_bytes of text, the gone keys deleted with the
    -- first; assoc_proxy.copied follows (in the caller's transaction: a
    -- step cut short forgets what it sent, which is sent again).  Returns
    -- the number of rows sent.
    DELETE FROM assoc_proxy.copied AS c USING unnest(gone_keys, gone_versions) AS g(key, version)
     WHERE c.ns = copy_rows.ns AND c.tbl = copy_rows.tbl AND c.key = g.key AND c.version = g.version;
    WHILE cardinality(want_keys) > 0 OR cardinality(gone_keys) > 0 LOOP
        -- The next rows, up to about chunk_bytes of text (at least one); a
        -- row gone since its stamp was read comes back empty.
        got := CASE WHEN cardinality(want_keys) > 0 THEN
                   ARRAY(SELECT (r.key, r.version, r.stamp, r.source_row)::assoc_proxy.row_text
                           FROM assoc_proxy.rows_on(ns, tbl, want_keys, want_versions, chunk_bytes, source)
                                WITH ORDINALITY AS r(key, version, stamp, source_row, n)
                          ORDER BY r.n)
               ELSE '{}' END;
        IF cardinality(got) = 0 AND cardinality(want_keys) > 0 THEN
            RAISE EXCEPTION 'shard % sent none of the rows asked for', source;
        END IF;
        -- The copy's rows of these keys go, and the rows sent take their
        -- place (none for a key whose row is gone).
        PERFORM assoc_proxy.apply_on(ns, tbl,
            ARRAY(SELECT g.source_row FROM unnest(got) AS g WHERE g.source_row IS NOT NULL),
            gone_keys || ARRAY(SELECT g.key FROM unnest(got) AS g),
            gone_versions || ARRAY(SELECT g.version FROM unnest(got) AS g),
            target);
        DELETE FROM assoc_proxy.copied AS c USING unnest(got) AS g
         WHERE c.ns = copy_rows.ns AND c.tbl = copy_rows.tbl AND c.key = g.key AND c.version = g.version;
        INSERT INTO assoc_proxy.copied (ns, tbl, key, version, stamp)
             SELECT copy_rows.ns, copy_rows.tbl, g.key, g.version, g.stamp
               FROM unnest(got) AS g WHERE g.source_row IS NOT NULL;
        sent := sent + cardinality(got);
        want_keys := want_keys[cardinality(got) + 1:];
        want_versions := want_versions[cardinality(got) + 1:];
        gone_keys := '{}';
        gone_versions := '{}';
    END LOOP;
    RETURN sent;
END
$$;
COMMENT ON FUNCTION assoc_proxy.copy_rows(text, text, integer, integer, text[], bigint[], text[], bigint[]) IS
    'sends rows of a namespace by key from the source shard to its copy, deleting the gone keys there; returns the rows sent';

CREATE FUNCTION assoc_proxy.copy_table(ns text, tbl text, source integer, target integer)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    -- Each statement planned for its arrays as they are (their lengths):
    -- a generic plan guesses 10 elements, and would compare two batches
    -- element by element.
    SET plan_cache_mode = force_custom_plan
    AS $$
DECLARE
    -- Keys compared per round, and gathered before sending: the setting
    -- assoc_proxy.move_batch of the session that moves, else 5000.
    batch CONSTANT integer := coalesce(nullif(current_setting('assoc_proxy.move_batch', true), '')::integer, 5000);
    after_key text := '';                    -- keys are never empty
    after_version bigint := -1;
    have assoc_proxy.row_stamp[];
    known assoc_proxy.row_stamp[];
    upto assoc_proxy.row_stamp;
    want_keys text[] := '{}';
    want_versions bigint[] := '{}';
    gone_keys text[] := '{}';
    gone_versions bigint[] := '{}';
    sent bigint := 0;
BEGIN
    IF batch < 1 THEN
        RAISE EXCEPTION 'assoc_proxy.move_batch must be at least 1, not %', batch USING ERRCODE = '22023';
    END IF;
    -- Makes the copy's rows of one table equal to the source's, one key
    -- range at a time: the source's next batch of keys with the stamps of
    -- their row versions, against the copy's keys in the same range, each
    -- with the stamp of the source row it was sent from (assoc_proxy.
    -- copied).  The copy's keys are read from the target, not taken from
    -- copied, which a step cut short leaves behind what the target holds.
    -- Rows new, changed or of unknown stamp are wanted, rows only in the
    -- copy are gone; both are gathered over ranges and sent together
    -- (assoc_proxy.copy_rows), so that changes scattered over the keys
    -- cost few calls.  Returns the number of rows sent.
    LOOP
        have := ARRAY(SELECT (d.key, d.version, d.stamp)::assoc_proxy.row_stamp
                        FROM assoc_proxy.stamps_on(ns, tbl, after_key, after_version, NULL, NULL, batch, source)
                             WITH ORDINALITY AS d(key, version, stamp, n)
                       ORDER BY d.n);
        upto := CASE WHEN cardinality(have) = batch THEN have[batch] END;
        -- The range: after the last key done, up to the last of a full
        -- batch, else to the end.
        IF upto IS NULL THEN
            known := ARRAY(SELECT (t.key, t.version, c.stamp)::assoc_proxy.row_stamp
                             FROM assoc_proxy.stamps_on(ns, tbl, after_key, after_version, NULL, NULL, NULL, target) AS t
                             LEFT JOIN (SELECT * FROM assoc_proxy.copied AS c
                                         WHERE c.ns = copy_table.ns AND c.tbl = copy_table.tbl
                                           AND (c.key, c.version) > (after_key, after_version)) AS c
                                    ON c.key = t.key AND c.version = t.version);
        ELSE
            known := ARRAY(SELECT (t.key, t.version, c.stamp)::assoc_proxy.row_stamp
                             FROM assoc_proxy.stamps_on(ns, tbl, after_key, after_version, upto.key, upto.version,
                                                        NULL, target) AS t
                             LEFT JOIN (SELECT * FROM assoc_proxy.copied AS c
                                         WHERE c.ns = copy_table.ns AND c.tbl = copy_table.tbl
                                           AND (c.key, c.version) > (after_key, after_version)
                                           AND (c.key, c.version) <= (upto.key, upto.version)) AS c
                                    ON c.key = t.key AND c.version = t.version);
        END IF;
        SELECT gone_keys || coalesce(array_agg(k.key), '{}'), gone_versions || coalesce(array_agg(k.version), '{}')
          INTO gone_keys, gone_versions
          FROM unnest(known) AS k LEFT JOIN unnest(have) AS h ON h.key = k.key AND h.version = k.version
         WHERE h.key IS NULL;
        SELECT want_keys || coalesce(array_agg(h.key ORDER BY h.n), '{}'),
               want_versions || coalesce(array_agg(h.version ORDER BY h.n), '{}')
          INTO want_keys, want_versions
          FROM unnest(have) WITH ORDINALITY AS h(key, version, stamp, n)
          LEFT JOIN unnest(known) AS k ON k.key = h.key AND k.version = h.version AND k.stamp = h.stamp
         WHERE k.key IS NULL;
        IF upto IS NULL OR cardinality(want_keys) + cardinality(gone_keys) >= batch THEN
            sent := sent + assoc_proxy.copy_rows(ns, tbl, source, target,
                                                 want_keys, want_versions, gone_keys, gone_versions);
            want_keys := '{}';
            want_versions := '{}';
            gone_keys := '{}';
            gone_versions := '{}';
        END IF;
        EXIT WHEN upto IS NULL;
        after_key := upto.key;
        after_version := upto.version;
    END LOOP;
    RETURN sent;
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
    here assoc_proxy.copy_state := assoc_proxy.state_on(move.ns, move.source);
BEGIN
    -- Undo a move that has not switched.  Its copy is a fenced one on the
    -- target (move_begin found none there, and only the extension owner
    -- makes them) or the open one it recorded; it goes, fenced first, but
    -- never while the source no longer holds the namespace (the copy would
    -- be the only one).  The source is opened again if it is the
    -- namespace the move began with; opening takes its lock exclusively,
    -- so it comes after a fence of this move still running there.
    IF there.fenced OR there.incarnation = move.copy_incarnation THEN
        IF NOT there.fenced THEN
            IF here.incarnation IS DISTINCT FROM move.source_incarnation THEN
                RAISE EXCEPTION 'the copy of namespace "%" on shard % is the only one', move.ns, move.target
                    USING ERRCODE = '55000',
                          HINT = format('Complete the move: CALL assoc_proxy.move_namespace(%L, %s).',
                                        move.ns, move.target);
            END IF;
            PERFORM assoc_proxy.fence_on(move.ns, true, there.incarnation, move.target);
        END IF;
        PERFORM assoc_proxy.drop_fenced_on(move.ns, there.incarnation, move.target);
    END IF;
    IF here.incarnation = move.source_incarnation THEN
        PERFORM assoc_proxy.fence_on(move.ns, false, move.source_incarnation, move.source);
    END IF;
    DELETE FROM assoc_proxy.moves AS m WHERE m.ns = move.ns;
    DELETE FROM assoc_proxy.copied AS c WHERE c.ns = move.ns;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_end(assoc_proxy.moves) IS
    'undoes a move that has not switched: removes its copy, opens the source again, forgets the move';

CREATE FUNCTION assoc_proxy.move_begin(ns text, to_shard integer)
    RETURNS timestamptz
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
        RETURN move.started_at;   -- a move cut short: go on with it
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
        RETURN NULL;  -- already there
    END IF;
    IF assoc_proxy.encoding_on(source) IS DISTINCT FROM assoc_proxy.encoding_on(to_shard) THEN
        RAISE EXCEPTION 'shards % and % have different encodings', source, to_shard
            USING ERRCODE = '55000',
                  DETAIL = 'A move compares keys in their bytes, in each shard''s encoding.';
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
    DELETE FROM assoc_proxy.copied AS c WHERE c.ns = move_begin.ns;
    -- The entry keeps calls on the source until the switch, whatever the
    -- number of shards becomes meanwhile.
    INSERT INTO assoc_proxy.directory AS d (ns, shard, pinned) VALUES (ns, source, true)
        ON CONFLICT ON CONSTRAINT directory_pkey DO UPDATE SET pinned = true;
    RETURN now();
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_begin(text, integer) IS
    'step 1 of a move: records it and returns when it began (NULL when the namespace is already on that shard)';

CREATE FUNCTION assoc_proxy.move_copy(ns text, started timestamptz, final boolean)
    RETURNS bigint
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    move assoc_proxy.moves := assoc_proxy.move_entry(ns);
    here assoc_proxy.copy_state;
    there assoc_proxy.copy_state;
    source_row text;
    made bigint;
    sent bigint;
BEGIN
    -- Only the move that began at started, until its switch.
    IF move.started_at IS DISTINCT FROM started OR move.switched_at IS NOT NULL THEN
        RETURN NULL;
    END IF;
    there := assoc_proxy.state_on(ns, move.target);
    IF NOT there.fenced THEN
        IF there.incarnation = move.copy_incarnation THEN
            RETURN NULL;    -- the copy is complete and open
        END IF;
        RAISE EXCEPTION 'shard % holds another namespace "%", created there during the move', move.target, ns
            USING ERRCODE = '55000',
                  HINT = format('Undo the move with assoc_proxy.abort_move(%L).', ns);
    END IF;
    here := assoc_proxy.state_on(ns, move.source);
    IF here.incarnation IS NOT DISTINCT FROM move.source_incarnation THEN
        IF here.fenced AND NOT final THEN
            RETURN NULL;    -- fenced already: only the final pass is worth making
        END IF;
        IF final THEN
            PERFORM assoc_proxy.fence_on(ns, true, move.source_incarnation, move.source);
            PERFORM assoc_proxy.quiesce_on(ns, move.source_incarnation, move.source);
        END IF;
        source_row := assoc_proxy.namespace_row_on(ns, move.source);
    END IF;
    IF source_row IS NULL THEN
        -- Dropped through the proxy before the fence (a drop is refused
        -- after it), perhaps created again: this move ends.
        PERFORM assoc_proxy.move_end(move);
        RAISE NOTICE 'namespace "%" was dropped while it was being moved: the move ends', ns;
        RETURN NULL;
    END IF;
    made := assoc_proxy.receive_on(ns, source_row, move.target);
    IF made IS DISTINCT FROM move.copy_incarnation THEN
        -- A new copy: it holds none of the rows sent to another, and it is
        -- opened only by a later step, once its incarnation is recorded.
        DELETE FROM assoc_proxy.copied AS c WHERE c.ns = move.ns;
        UPDATE assoc_proxy.moves AS m SET copy_incarnation = made WHERE m.ns = move.ns;
    END IF;
    SELECT sum(assoc_proxy.copy_table(ns, t, move.source, move.target)) INTO sent
      FROM unnest(ARRAY['records', 'history', 'ops']) AS t;
    IF final AND made = move.copy_incarnation THEN
        PERFORM assoc_proxy.fence_on(ns, false, made, move.target);
    END IF;
    RETURN sent;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_copy(text, timestamptz, boolean) IS
    'steps 2 and 3 of the move that began at started: copies the namespace to its target, returning the rows sent (NULL: nothing to do); final: fences the source first and opens the copy after';

CREATE FUNCTION assoc_proxy.move_switch(ns text, started timestamptz)
    RETURNS timestamptz
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    move assoc_proxy.moves := assoc_proxy.move_entry(ns);
    there assoc_proxy.copy_state;
BEGIN
    IF move.started_at IS DISTINCT FROM started THEN
        RAISE EXCEPTION 'the move of namespace "%" ended before its switch', ns
            USING ERRCODE = '55000', HINT = 'It was undone, or the namespace was dropped meanwhile.';
    ELSIF move.switched_at IS NOT NULL THEN
        RETURN move.switched_at;
    END IF;
    there := assoc_proxy.state_on(ns, move.target);
    IF there.fenced OR there.incarnation IS DISTINCT FROM move.copy_incarnation THEN
        RAISE EXCEPTION 'the copy of namespace "%" on shard % is not complete and open', ns, move.target
            USING ERRCODE = '55000', HINT = 'Call the move again.';
    END IF;
    INSERT INTO assoc_proxy.directory AS d (ns, shard, pinned) VALUES (ns, move.target, true)
        ON CONFLICT ON CONSTRAINT directory_pkey
        DO UPDATE SET shard = excluded.shard, pinned = true, placed_at = now();
    UPDATE assoc_proxy.moves AS m SET switched_at = now() WHERE m.ns = move_switch.ns;
    RETURN now();
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_switch(text, timestamptz) IS
    'step 4 of the move that began at started: the directory names the target; returns when the move switched';

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
    -- Every transaction of this database running now (each holds a lock
    -- on its virtual transaction id): wait until each has ended, as CREATE
    -- INDEX CONCURRENTLY waits for older transactions.  Not the steps of
    -- moves, which route nothing and may be waiting themselves: they, and
    -- only they (the table is the owner's), hold a lock on
    -- assoc_proxy.moves.
    LOCK TABLE assoc_proxy.moves IN ACCESS SHARE MODE;
    older := ARRAY(SELECT l.virtualxid FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
                    WHERE l.locktype = 'virtualxid' AND l.granted AND l.pid <> pg_backend_pid()
                      AND a.datname = current_database() AND a.backend_type <> 'autovacuum worker'
                      AND NOT EXISTS (SELECT 1 FROM pg_locks AS m
                                       WHERE m.pid = l.pid AND m.locktype = 'relation'
                                         AND m.relation = 'assoc_proxy.moves'::regclass));
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
    IF switched IS NULL OR move.switched_at IS DISTINCT FROM switched THEN
        RETURN false;
    END IF;
    here := assoc_proxy.state_on(ns, move.source);
    IF here.incarnation = move.source_incarnation THEN
        IF NOT here.fenced THEN
            RAISE EXCEPTION 'namespace "%" was opened again on shard %, which its move left', ns, move.source
                USING ERRCODE = '55000',
                      HINT = 'Two copies are open: keep the one the directory names, fence the other with assoc.move_fence(ns, true), and call the move again.';
        END IF;
        PERFORM assoc_proxy.drop_fenced_on(ns, move.source_incarnation, move.source);
    END IF;
    DELETE FROM assoc_proxy.moves AS m WHERE m.ns = move_finish.ns;
    DELETE FROM assoc_proxy.copied AS c WHERE c.ns = move_finish.ns;
    RETURN true;
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_finish(text, timestamptz) IS
    'step 6 of the move that switched at switched: removes the fenced copy on the source and forgets the move';

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

CREATE FUNCTION assoc_proxy.move_recorded(ns text, started timestamptz)
    RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT EXISTS (SELECT 1 FROM assoc_proxy.moves AS m
                          WHERE m.ns = move_recorded.ns AND m.started_at = started) $$;
COMMENT ON FUNCTION assoc_proxy.move_recorded(text, timestamptz) IS
    'whether the move of a namespace that began at started is still recorded (not ended nor undone)';

CREATE FUNCTION assoc_proxy.move_goes_on(ns text, started timestamptz, sent bigint, last bigint)
    RETURNS boolean
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    -- Whether the move that began at started is still recorded and worth
    -- another pass while the source serves: the last pass sent 1000 rows
    -- or more, and fewer than the one before it (else the writers outpace
    -- the copy, and more passes would not shorten the final one).
    AS $$ SELECT assoc_proxy.move_recorded(ns, started)
                 AND coalesce(sent, 0) >= 1000 AND (last IS NULL OR sent < last) $$;
COMMENT ON FUNCTION assoc_proxy.move_goes_on(text, timestamptz, bigint, bigint) IS
    'whether another copy pass of a move is worth making';

CREATE FUNCTION assoc_proxy.move_report(ns text, step text, sent bigint, since timestamptz)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- A step of a move done: what it sent and how long it took, for the
    -- one who runs the move.
    RAISE NOTICE 'moving "%": % (% rows sent, % ms)', ns, step, coalesce(sent, 0),
        round(extract(epoch FROM clock_timestamp() - since) * 1000);
END
$$;
COMMENT ON FUNCTION assoc_proxy.move_report(text, text, bigint, timestamptz) IS
    'reports a step of a move as a NOTICE: the rows it sent and its milliseconds';

-- A procedure, so that each step commits; hence no SET clause (a procedure
-- with one cannot commit): every name in it is schema-qualified.
CREATE PROCEDURE assoc_proxy.move_namespace(ns text, to_shard integer)
    LANGUAGE plpgsql
    AS $$
DECLARE
    switched pg_catalog.timestamptz := assoc_proxy.move_switched(ns);
    started pg_catalog.timestamptz;
    sent pg_catalog.int8;
    last pg_catalog.int8;
    since pg_catalog.timestamptz;
BEGIN
    -- A move that switched and was cut short: its old copy first.
    IF switched IS NOT NULL THEN
        COMMIT;
        PERFORM assoc_proxy.move_wait();
        COMMIT;
        PERFORM assoc_proxy.move_finish(ns, switched);
        COMMIT;
    END IF;
    started := assoc_proxy.move_begin(ns, to_shard);
    IF started IS NOT NULL THEN
        COMMIT;
        -- Passes while the source serves, as long as they are worth it
        -- (move_goes_on), at most 8: what the final pass sends, changes
        -- wait for.
        FOR pass IN 1 .. 8 LOOP
            since := pg_catalog.clock_timestamp();
            last := sent;
            sent := assoc_proxy.move_copy(ns, started, false);
            COMMIT;
            PERFORM assoc_proxy.move_report(ns, pg_catalog.concat('copy pass ', pass), sent, since);
            EXIT WHEN NOT assoc_proxy.move_goes_on(ns, started, sent, last);
        END LOOP;
        IF NOT assoc_proxy.move_recorded(ns, started) THEN
            RETURN;    -- ended meanwhile (the namespace dropped, or the move undone)
        END IF;
        since := pg_catalog.clock_timestamp();
        sent := assoc_proxy.move_copy(ns, started, true);
        COMMIT;
        PERFORM assoc_proxy.move_report(ns, 'final pass, changes refused meanwhile', sent, since);
        since := pg_catalog.clock_timestamp();
        switched := assoc_proxy.move_switch(ns, started);
        COMMIT;
        PERFORM assoc_proxy.move_wait();
        COMMIT;
        PERFORM assoc_proxy.move_finish(ns, switched);
        COMMIT;
        PERFORM assoc_proxy.move_report(ns, 'switched, older transactions waited for, old copy removed', NULL, since);
    END IF;
END
$$;
COMMENT ON PROCEDURE assoc_proxy.move_namespace(text, integer) IS
    'moves a namespace with its records, history, op_id ledger and channel secret to another shard (owner only; CALL it again to complete a move cut short)';

REVOKE ALL ON FUNCTION assoc_proxy.state_on(text, integer), assoc_proxy.fence_on(text, boolean, bigint, integer),
    assoc_proxy.quiesce_on(text, bigint, integer), assoc_proxy.drop_fenced_on(text, bigint, integer),
    assoc_proxy.namespace_row_on(text, integer), assoc_proxy.receive_on(text, text, integer),
    assoc_proxy.stamps_on(text, text, text, bigint, text, bigint, integer, integer),
    assoc_proxy.rows_on(text, text, text[], bigint[], bigint, integer),
    assoc_proxy.apply_on(text, text, text[], text[], bigint[], integer),
    assoc_proxy.copy_rows(text, text, integer, integer, text[], bigint[], text[], bigint[]),
    assoc_proxy.copy_table(text, text, integer, integer), assoc_proxy.move_entry(text),
    assoc_proxy.move_end(assoc_proxy.moves), assoc_proxy.move_begin(text, integer),
    assoc_proxy.move_copy(text, timestamptz, boolean), assoc_proxy.move_switch(text, timestamptz),
    assoc_proxy.move_switched(text), assoc_proxy.move_wait(), assoc_proxy.move_finish(text, timestamptz),
    assoc_proxy.abort_move(text), assoc_proxy.move_report(text, text, bigint, timestamptz),
    assoc_proxy.move_goes_on(text, timestamptz, bigint, bigint), assoc_proxy.move_recorded(text, timestamptz),
    assoc_proxy.encoding_on(integer)
    FROM PUBLIC;
REVOKE ALL ON PROCEDURE assoc_proxy.move_namespace(text, integer) FROM PUBLIC;
