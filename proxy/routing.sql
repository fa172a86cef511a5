
-- ---------------------------------------------------------------------
-- Routing (README, "Scaling out").  A namespace lives wholly on one
-- shard.  The directory maps namespace -> shard; a namespace not in it is
-- placed by a frozen hash of its name.  PL/Proxy reaches the shards
-- through the foreign server assoc_shards (partitions p0.., one per shard,
-- modular mapping), connecting as the calling role.  Only the owner of the
-- extension reads the directory (it names every tenant) or changes the
-- shards; the routing function reads it for every role.  Entries are
-- written only for namespaces found on their shard, by functions that run
-- as the owner and look there themselves.
-- ---------------------------------------------------------------------

CREATE SCHEMA assoc_proxy;
COMMENT ON SCHEMA assoc_proxy IS 'pg_assoc_proxy: the shards, the directory of namespaces and the routing';
GRANT USAGE ON SCHEMA assoc_proxy TO PUBLIC;

-- PL/Proxy falls back to functions in a schema named plproxy for a
-- cluster it finds no foreign server for: whoever could create them there
-- would route every call.  The schema is the installer's (a superuser's).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = 'plproxy') THEN
        CREATE SCHEMA plproxy;
        REVOKE ALL ON SCHEMA plproxy FROM PUBLIC;
    ELSIF NOT (SELECT r.rolsuper FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
                WHERE n.nspname = 'plproxy') THEN
        RAISE EXCEPTION 'schema plproxy is owned by a role that is not a superuser'
            USING ERRCODE = '42501',
                  DETAIL = 'PL/Proxy reads cluster configurations from functions in that schema.';
    END IF;
END
$$;

CREATE TABLE assoc_proxy.shards (
    shard   integer PRIMARY KEY CONSTRAINT shards_shard_check CHECK (shard >= 0),
    connstr text NOT NULL
);
COMMENT ON TABLE assoc_proxy.shards IS
    'the shard databases, numbered from 0 (set by assoc_proxy.configure)';
REVOKE ALL ON assoc_proxy.shards FROM PUBLIC;

CREATE TABLE assoc_proxy.directory (
    ns        text COLLATE "C" PRIMARY KEY,
    shard     integer NOT NULL,
    pinned    boolean NOT NULL DEFAULT false,
    placed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE assoc_proxy.directory IS
    'namespace -> shard: where each namespace created through the proxy, placed (pinned), or found by sync_directory lives';
REVOKE ALL ON assoc_proxy.directory FROM PUBLIC;

-- A move of a namespace between shards (proxy/move.sql), from its start
-- until the copy it left on the source is removed.  The incarnations tell
-- the namespace and its copy from others of the same name that a shard
-- may get meanwhile.
CREATE TABLE assoc_proxy.moves (
    ns                 text COLLATE "C" PRIMARY KEY,
    source             integer NOT NULL,
    target             integer NOT NULL,
    source_incarnation bigint NOT NULL,
    copy_incarnation   bigint,
    started_at         timestamptz NOT NULL DEFAULT now(),
    switched_at        timestamptz
);
COMMENT ON TABLE assoc_proxy.moves IS
    'moves of namespaces between shards in progress, and those switched whose old copy is still to be removed';
COMMENT ON COLUMN assoc_proxy.moves.copy_incarnation IS
    'the incarnation of the copy on the target, once made (the target''s own)';
COMMENT ON COLUMN assoc_proxy.moves.switched_at IS
    'when the directory was switched to the target (NULL: calls still go to the source)';
REVOKE ALL ON assoc_proxy.moves FROM PUBLIC;

-- What a move's copy holds: for each row it was sent, the stamp of the
-- source's row version it came from (assoc.move_stamps), so that a later
-- pass sends only rows whose stamp has changed.  Not dumped: without it
-- a pass sends every row again.
CREATE TABLE assoc_proxy.copied (
    ns      text COLLATE "C" NOT NULL,
    tbl     text NOT NULL,
    key     text COLLATE "C" NOT NULL,
    version bigint NOT NULL,
    stamp   text NOT NULL,
    PRIMARY KEY (ns, tbl, key, version)
);
COMMENT ON TABLE assoc_proxy.copied IS
    'for each row a move has sent to its copy, the stamp of the source row version it came from';
REVOKE ALL ON assoc_proxy.copied FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('assoc_proxy.shards', '');
SELECT pg_catalog.pg_extension_config_dump('assoc_proxy.directory', '');
SELECT pg_catalog.pg_extension_config_dump('assoc_proxy.moves', '');

CREATE FUNCTION assoc_proxy.hash_shard(ns text, shards integer)
    RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    -- The first 60 bits of SHA-256 over the name's UTF-8 bytes, as an
    -- unsigned number, modulo the shard count.  Frozen: changing it would
    -- move namespaces that are not in the directory.
    AS $$
        SELECT (('x' || substr(encode(sha256(convert_to(ns, 'UTF8')), 'hex'), 1, 15))::bit(60)::bigint
                % shards)::integer
    $$;
COMMENT ON FUNCTION assoc_proxy.hash_shard(text, integer) IS
    'the shard a new namespace gets among shards: first 60 bits of SHA-256 of its UTF-8 name, modulo shards';

CREATE FUNCTION assoc_proxy.route(ns text)
    RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    placed integer;
    shards integer;
BEGIN
    -- A NULL namespace goes to shard 0, which refuses it as one server
    -- does (22004).
    IF ns IS NULL THEN
        RETURN 0;
    END IF;
    SELECT d.shard INTO placed FROM assoc_proxy.directory AS d WHERE d.ns = route.ns;
    IF FOUND THEN
        RETURN placed;
    END IF;
    SELECT count(*) INTO shards FROM assoc_proxy.shards;
    IF shards = 0 THEN
        RAISE EXCEPTION 'pg_assoc_proxy has no shards'
            USING ERRCODE = '55000',
                  HINT = 'The owner of the extension declares them with assoc_proxy.configure(shards text[]).';
    END IF;
    RETURN assoc_proxy.hash_shard(ns, shards);
END
$$;
COMMENT ON FUNCTION assoc_proxy.route(text) IS
    'the shard of a namespace: its directory entry, else its hash shard';

-- --- what the shards hold, asked as the owner ------------------------------

CREATE FUNCTION assoc_proxy.namespaces_on(shard integer)
    RETURNS SETOF text
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT ns::text FROM assoc.namespaces WHERE NOT fenced; $$;
COMMENT ON FUNCTION assoc_proxy.namespaces_on(integer) IS
    'the namespaces a shard serves (not fenced by a move), as the calling role sees them (the owner: all)';
REVOKE ALL ON FUNCTION assoc_proxy.namespaces_on(integer) FROM PUBLIC;

CREATE FUNCTION assoc_proxy.holds(want text, shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard;
          SELECT EXISTS (SELECT 1 FROM assoc.namespaces AS n WHERE n.ns OPERATOR(pg_catalog.=) want AND NOT n.fenced); $$;
COMMENT ON FUNCTION assoc_proxy.holds(text, integer) IS
    'whether a shard serves a namespace (holds it, not fenced by a move), as the calling role sees it (the owner: all)';
REVOKE ALL ON FUNCTION assoc_proxy.holds(text, integer) FROM PUBLIC;

CREATE FUNCTION assoc_proxy.roles_on(shard integer)
    RETURNS SETOF text
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT rolname::text FROM pg_catalog.pg_roles; $$;
COMMENT ON FUNCTION assoc_proxy.roles_on(integer) IS
    'the roles of one shard (for assoc_proxy.check_roles)';
REVOKE ALL ON FUNCTION assoc_proxy.roles_on(integer) FROM PUBLIC;

CREATE FUNCTION assoc_proxy.settle(ns text, shard integer)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- The entry follows what the shard holds, asked as the owner: any role
    -- may call this, and it writes the truth or nothing.
    IF assoc_proxy.holds(ns, shard) THEN
        INSERT INTO assoc_proxy.directory (ns, shard) VALUES (ns, shard) ON CONFLICT DO NOTHING;
    ELSE
        DELETE FROM assoc_proxy.directory AS d WHERE d.ns = settle.ns AND d.shard = settle.shard AND NOT d.pinned;
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.settle(text, integer) IS
    'records a namespace in the directory if its shard holds it, removes its entry if not and not pinned (after a creation or a drop)';

-- --- the two calls that keep the directory ----------------------------------

CREATE FUNCTION assoc_proxy.create_namespace_on(ns text, owner regrole, shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT true FROM assoc.create_namespace(ns, owner); $$;
COMMENT ON FUNCTION assoc_proxy.create_namespace_on(text, regrole, integer) IS
    'assoc.create_namespace on one shard, as the calling role';

CREATE FUNCTION assoc_proxy.drop_namespace_on(ns text, shard integer)
    RETURNS boolean
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT true FROM assoc.drop_namespace(ns); $$;
COMMENT ON FUNCTION assoc_proxy.drop_namespace_on(text, integer) IS
    'assoc.drop_namespace on one shard, as the calling role';

CREATE FUNCTION assoc.create_namespace(ns text, owner regrole DEFAULT NULL::regrole)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    shard integer := assoc_proxy.route(ns);
BEGIN
    PERFORM assoc_proxy.create_namespace_on(ns, owner, shard);
    -- The shard has committed; the entry commits with this transaction
    -- (assoc_proxy.sync_directory finds a namespace whose entry was lost).
    PERFORM assoc_proxy.settle(ns, shard);
END
$$;
COMMENT ON FUNCTION assoc.create_namespace(ns text, owner regrole) IS
    'creates a namespace owned by owner (NULL = the calling role, which must be a member of owner)';

CREATE FUNCTION assoc.drop_namespace(ns text)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    shard integer := assoc_proxy.route(ns);
BEGIN
    PERFORM assoc_proxy.drop_namespace_on(ns, shard);
    PERFORM assoc_proxy.settle(ns, shard);
END
$$;
COMMENT ON FUNCTION assoc.drop_namespace(ns text) IS
    'removes a namespace with its records, history, feed and op_id ledger (waits for its running writes)';

-- --- the owner's functions -----------------------------------------------------

CREATE FUNCTION assoc_proxy.place(ns text, shard integer)
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    IF ns IS NULL OR shard IS NULL THEN
        RAISE EXCEPTION 'assoc_proxy.place needs a namespace and a shard' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM assoc_proxy.shards AS s WHERE s.shard = place.shard) THEN
        RAISE EXCEPTION 'shard % does not exist', shard USING ERRCODE = '22023',
            HINT = 'Shards are numbered from 0 in the order assoc_proxy.configure was given them.';
    END IF;
    INSERT INTO assoc_proxy.directory AS d (ns, shard, pinned) VALUES (ns, shard, true)
        ON CONFLICT ON CONSTRAINT directory_pkey DO UPDATE SET pinned = true, placed_at = now()
        WHERE d.shard = excluded.shard;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'namespace "%" is already placed on shard %', ns,
            (SELECT d.shard FROM assoc_proxy.directory AS d WHERE d.ns = place.ns)
            USING ERRCODE = '42710';
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.place(text, integer) IS
    'pins a namespace to a shard before it is created, or records one created there directly (owner only)';
REVOKE ALL ON FUNCTION assoc_proxy.place(text, integer) FROM PUBLIC;

CREATE FUNCTION assoc_proxy.sync_directory()
    RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    added integer := 0;
    clash record;
BEGIN
    CREATE TEMPORARY TABLE IF NOT EXISTS assoc_proxy_found (ns text COLLATE "C", shard integer) ON COMMIT DROP;
    TRUNCATE assoc_proxy_found;
    INSERT INTO assoc_proxy_found
        SELECT x, s.shard FROM assoc_proxy.shards AS s, assoc_proxy.namespaces_on(s.shard) AS x;
    SELECT f.ns, string_agg(f.shard::text, ', ' ORDER BY f.shard) AS shards, d.shard AS placed INTO clash
      FROM assoc_proxy_found AS f LEFT JOIN assoc_proxy.directory AS d ON d.ns = f.ns
     GROUP BY f.ns, d.shard
    HAVING count(*) > 1
        OR bool_or(d.shard IS NOT NULL AND d.shard <> f.shard
                   -- a move's copy, opened before its switch
                   AND NOT EXISTS (SELECT 1 FROM assoc_proxy.moves AS m WHERE m.ns = f.ns AND m.target = f.shard))
     ORDER BY f.ns LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'namespace "%" is on shards % but placed on %', clash.ns, clash.shards,
            coalesce(clash.placed::text, 'none')
            USING ERRCODE = '55000', HINT = 'Keep one copy (drop the other on its shard), then run assoc_proxy.sync_directory() again.';
    END IF;
    INSERT INTO assoc_proxy.directory (ns, shard)
        SELECT f.ns, f.shard FROM assoc_proxy_found AS f ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END
$$;
COMMENT ON FUNCTION assoc_proxy.sync_directory() IS
    'records every namespace the shards hold that the directory lacks; returns how many (owner only; needs every shard)';
REVOKE ALL ON FUNCTION assoc_proxy.sync_directory() FROM PUBLIC;

-- --- the shards, and what keeps them the owner's ------------------------------

CREATE FUNCTION assoc_proxy.check_connstr(connstr text, shard integer)
    RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    -- PL/Proxy keeps the caller's role only when "user=" appears nowhere in
    -- the string (it searches for the text); a password there would be
    -- readable by every role (server options are).
    IF strpos(lower(connstr), 'user=') > 0 OR lower(connstr) ~ '^\s*postgres(ql)?://' THEN
        RAISE EXCEPTION 'the connection string of shard % names a user, or is a URI', shard
            USING ERRCODE = '42501',
                  DETAIL = 'PL/Proxy must connect as the calling role, so that each shard checks its namespaces against it.',
                  HINT = 'Use key=value pairs without user= (nor user= inside another value).';
    END IF;
    IF strpos(lower(connstr), 'password') > 0 THEN
        RAISE EXCEPTION 'the connection string of shard % holds a password', shard
            USING ERRCODE = '42501',
                  DETAIL = 'Every role can read the options of the server assoc_shards.',
                  HINT = 'Give each role its password in a user mapping, or use .pgpass.';
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.check_connstr(text, integer) IS
    'refuses a shard connection string that would connect as a fixed user or expose a password';

CREATE FUNCTION assoc_proxy.check_server()
    RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    srv record;
    bad text;
BEGIN
    SELECT fs.oid, fs.srvowner, fs.srvoptions INTO srv FROM pg_foreign_server AS fs WHERE fs.srvname = 'assoc_shards';
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF srv.srvowner <> (SELECT e.extowner FROM pg_extension AS e WHERE e.extname = 'pg_assoc_proxy') THEN
        RAISE EXCEPTION 'server assoc_shards must belong to the owner of pg_assoc_proxy' USING ERRCODE = '42501';
    END IF;
    IF (SELECT array_agg(o ORDER BY o) FROM unnest(srv.srvoptions) AS o WHERE o ~ '^p[0-9]+=')
       IS DISTINCT FROM
       (SELECT array_agg('p' || s.shard || '=' || s.connstr ORDER BY 'p' || s.shard || '=' || s.connstr)
          FROM assoc_proxy.shards AS s) THEN
        RAISE EXCEPTION 'the partitions of server assoc_shards are set by assoc_proxy.configure only'
            USING ERRCODE = '42501';
    END IF;
    SELECT string_agg(CASE WHEN um.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(um.umuser)) END, ', ')
      INTO bad
      FROM pg_user_mapping AS um
     WHERE um.umserver = srv.oid AND EXISTS (SELECT 1 FROM unnest(um.umoptions) AS o WHERE o ILIKE 'user=%');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'a user mapping of server assoc_shards names a user (for %)', bad
            USING ERRCODE = '42501',
                  DETAIL = 'Every caller would reach the shards as that role, and the shards could no longer tell one application from another.',
                  HINT = 'Map roles to a password only; PL/Proxy connects as the calling role.';
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.check_server() IS
    'refuses a server assoc_shards that is not the owner''s, whose partitions are not configure''s, or whose user mappings name a user';

CREATE FUNCTION assoc_proxy.guard_server()
    RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM assoc_proxy.check_server();
END
$$;
COMMENT ON FUNCTION assoc_proxy.guard_server() IS
    'event trigger: a change to server assoc_shards or its user mappings that would break isolation is refused';
CREATE EVENT TRIGGER assoc_proxy_server ON ddl_command_end
    WHEN TAG IN ('CREATE SERVER', 'ALTER SERVER', 'CREATE USER MAPPING', 'ALTER USER MAPPING')
    EXECUTE FUNCTION assoc_proxy.guard_server();

CREATE FUNCTION assoc_proxy.configure(shards text[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    highest integer;
    before integer;
BEGIN
    IF shards IS NULL OR cardinality(shards) = 0 OR array_position(shards, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'assoc_proxy.configure needs one connection string per shard' USING ERRCODE = '22023';
    END IF;
    FOR i IN 1 .. cardinality(shards) LOOP
        PERFORM assoc_proxy.check_connstr(shards[i], i - 1);
    END LOOP;
    -- No namespace is created or placed while the shards change.
    LOCK assoc_proxy.directory IN SHARE ROW EXCLUSIVE MODE;
    SELECT count(*) INTO before FROM assoc_proxy.shards;
    IF before > 0 AND before <> cardinality(shards) THEN
        -- Namespaces found by their hash alone would move with the count:
        -- every one is recorded first (this needs every shard).
        PERFORM assoc_proxy.sync_directory();
    END IF;
    SELECT max(s) INTO highest
      FROM (SELECT d.shard FROM assoc_proxy.directory AS d
            UNION ALL SELECT m.source FROM assoc_proxy.moves AS m
            UNION ALL SELECT m.target FROM assoc_proxy.moves AS m) AS used(s);
    IF highest >= cardinality(shards) THEN
        RAISE EXCEPTION 'namespaces live on shard %, beyond the % shards given', highest, cardinality(shards)
            USING ERRCODE = '55000', HINT = 'Move them first; shards keep their numbers.';
    END IF;
    DELETE FROM assoc_proxy.shards;
    INSERT INTO assoc_proxy.shards (shard, connstr)
        SELECT n - 1, s FROM unnest(shards) WITH ORDINALITY AS t(s, n);
    -- PL/Proxy reads the partitions from the server's options; the modular
    -- mapping lets any number of shards take exact shard numbers.  Altered
    -- in place when it exists, so that the roles' user mappings stay.
    IF EXISTS (SELECT 1 FROM pg_foreign_server AS fs WHERE fs.srvname = 'assoc_shards') THEN
        EXECUTE format('ALTER SERVER assoc_shards OPTIONS (%s)', concat_ws(', ',
            (SELECT string_agg(format('DROP %I', split_part(o, '=', 1)), ', ')
               FROM pg_foreign_server AS fs, unnest(fs.srvoptions) AS o
              WHERE fs.srvname = 'assoc_shards' AND o ~ '^p[0-9]+='),
            (SELECT string_agg(format('ADD p%s %L', n - 1, s), ', ' ORDER BY n)
               FROM unnest(shards) WITH ORDINALITY AS t(s, n))));
    ELSE
        EXECUTE format('CREATE SERVER assoc_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping %L, %s)',
            '1', (SELECT string_agg(format('p%s %L', n - 1, s), ', ' ORDER BY n)
                    FROM unnest(shards) WITH ORDINALITY AS t(s, n)));
        GRANT USAGE ON FOREIGN SERVER assoc_shards TO PUBLIC;
        CREATE USER MAPPING FOR PUBLIC SERVER assoc_shards;
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.configure(text[]) IS
    'declares the shard databases, numbered from 0 (owner only): connection strings without user= or a password';
REVOKE ALL ON FUNCTION assoc_proxy.configure(text[]) FROM PUBLIC;

CREATE FUNCTION assoc_proxy.check_roles()
    RETURNS TABLE (role name, shard integer)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    FOR shard IN SELECT s.shard FROM assoc_proxy.shards AS s ORDER BY s.shard LOOP
        RETURN QUERY
            SELECT r.rolname, check_roles.shard FROM pg_roles AS r
             WHERE r.rolname !~ '^pg_'
               AND r.rolname NOT IN (SELECT x FROM assoc_proxy.roles_on(check_roles.shard) AS x)
             ORDER BY r.rolname;
    END LOOP;
END
$$;
COMMENT ON FUNCTION assoc_proxy.check_roles() IS
    'the roles of the proxy missing on a shard (each must exist on every shard, group roles too); no rows: all present';
REVOKE ALL ON FUNCTION assoc_proxy.check_roles() FROM PUBLIC;
