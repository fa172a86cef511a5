
-- ---------------------------------------------------------------------
-- Routing (README, "Scaling out").  A namespace lives wholly on one
-- shard.  The directory maps namespace -> shard; a namespace not in it is
-- placed by a frozen hash of its name.  PL/Proxy reaches the shards
-- through the foreign server assoc_shards (partitions p0.., one per shard,
-- modular mapping), connecting as the calling role.  Only the owner of the
-- extension reads the directory (it names every tenant) or changes the
-- shards; the routing functions read it for every role.
-- ---------------------------------------------------------------------

CREATE SCHEMA assoc_proxy;
COMMENT ON SCHEMA assoc_proxy IS 'pg_assoc_proxy: the shards, the directory of namespaces and the routing';
GRANT USAGE ON SCHEMA assoc_proxy TO PUBLIC;

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
    placed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE assoc_proxy.directory IS
    'namespace -> shard: where each namespace created through the proxy (or placed) lives';
REVOKE ALL ON assoc_proxy.directory FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('assoc_proxy.shards', '');
SELECT pg_catalog.pg_extension_config_dump('assoc_proxy.directory', '');

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

CREATE FUNCTION assoc_proxy.shard_count()
    RETURNS integer
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    n integer := (SELECT count(*) FROM assoc_proxy.shards);
BEGIN
    IF n = 0 THEN
        RAISE EXCEPTION 'pg_assoc_proxy has no shards'
            USING ERRCODE = '55000',
                  HINT = 'The owner of the extension declares them with assoc_proxy.configure(shards text[]).';
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION assoc_proxy.shard_count() IS
    'the number of shards configured (55000 when none)';

CREATE FUNCTION assoc_proxy.route(ns text)
    RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    -- A NULL namespace goes to shard 0, which refuses it as one server
    -- does (22004).
    AS $$
        SELECT CASE WHEN ns IS NULL THEN 0
                    ELSE coalesce((SELECT d.shard FROM assoc_proxy.directory AS d WHERE d.ns = route.ns),
                                  assoc_proxy.hash_shard(ns, assoc_proxy.shard_count())) END
    $$;
COMMENT ON FUNCTION assoc_proxy.route(text) IS
    'the shard of a namespace: its directory entry, else its hash shard';

CREATE FUNCTION assoc_proxy.route_new(ns text)
    RETURNS integer
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    placed integer;
BEGIN
    IF ns IS NULL THEN
        RETURN 0;
    END IF;
    -- Recorded in the caller's transaction: a creation that fails on the
    -- shard rolls the entry back with it.
    INSERT INTO assoc_proxy.directory (ns, shard)
        VALUES (ns, assoc_proxy.hash_shard(ns, assoc_proxy.shard_count()))
        ON CONFLICT DO NOTHING;
    SELECT d.shard INTO placed FROM assoc_proxy.directory AS d WHERE d.ns = route_new.ns;
    RETURN placed;
END
$$;
COMMENT ON FUNCTION assoc_proxy.route_new(text) IS
    'the shard for creating a namespace: its directory entry, else its hash shard, recorded';

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
    INSERT INTO assoc_proxy.directory AS d (ns, shard) VALUES (ns, shard)
        ON CONFLICT ON CONSTRAINT directory_pkey DO UPDATE SET shard = excluded.shard, placed_at = now()
        WHERE d.shard = excluded.shard;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'namespace "%" is already placed on shard %', ns,
            (SELECT d.shard FROM assoc_proxy.directory AS d WHERE d.ns = place.ns)
            USING ERRCODE = '42710';
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.place(text, integer) IS
    'places a namespace on a shard before it is created (owner only; a placed namespace stays)';
REVOKE ALL ON FUNCTION assoc_proxy.place(text, integer) FROM PUBLIC;

CREATE FUNCTION assoc_proxy.check_mappings()
    RETURNS void
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(CASE WHEN um.umuser = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(um.umuser)) END, ', ')
      INTO bad
      FROM pg_user_mapping AS um
      JOIN pg_foreign_server AS fs ON fs.oid = um.umserver AND fs.srvname = 'assoc_shards'
     WHERE EXISTS (SELECT 1 FROM unnest(um.umoptions) AS o WHERE o ILIKE 'user=%');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'a user mapping of server assoc_shards names a user (for %)', bad
            USING ERRCODE = '42501',
                  DETAIL = 'Every caller would reach the shards as that role, and the shards could no longer tell one application from another.',
                  HINT = 'Map roles to a password only; PL/Proxy connects as the calling role.';
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.check_mappings() IS
    'refuses user mappings of assoc_shards that name a user (they would erase isolation between applications)';

CREATE FUNCTION assoc_proxy.guard_mappings()
    RETURNS event_trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    PERFORM assoc_proxy.check_mappings();
END
$$;
COMMENT ON FUNCTION assoc_proxy.guard_mappings() IS
    'event trigger: a user mapping of assoc_shards that names a user is refused when made';
CREATE EVENT TRIGGER assoc_proxy_mappings ON ddl_command_end
    WHEN TAG IN ('CREATE USER MAPPING', 'ALTER USER MAPPING')
    EXECUTE FUNCTION assoc_proxy.guard_mappings();

CREATE FUNCTION assoc_proxy.configure(shards text[])
    RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    options text;
    dropped text;
    highest integer;
BEGIN
    IF shards IS NULL OR cardinality(shards) = 0 OR array_position(shards, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'assoc_proxy.configure needs one connection string per shard' USING ERRCODE = '22023';
    END IF;
    FOR i IN 1 .. cardinality(shards) LOOP
        IF shards[i] ~* '(^|\s)user\s*=' THEN
            RAISE EXCEPTION 'the connection string of shard % names a user', i - 1
                USING ERRCODE = '42501',
                      DETAIL = 'PL/Proxy must connect as the calling role, so that each shard checks its namespaces against it.';
        END IF;
    END LOOP;
    SELECT max(d.shard) INTO highest FROM assoc_proxy.directory AS d;
    IF highest >= cardinality(shards) THEN
        RAISE EXCEPTION 'namespaces live on shard %, beyond the % shards given', highest, cardinality(shards)
            USING ERRCODE = '55000', HINT = 'Move them first; shards keep their numbers.';
    END IF;
    PERFORM assoc_proxy.check_mappings();
    DELETE FROM assoc_proxy.shards;
    INSERT INTO assoc_proxy.shards (shard, connstr)
        SELECT n - 1, s FROM unnest(shards) WITH ORDINALITY AS t(s, n);
    -- PL/Proxy reads the partitions from the server's options; the
    -- modular mapping lets any number of shards take exact shard numbers.
    SELECT string_agg(format('p%s %L', n - 1, s), ', ' ORDER BY n) INTO options
      FROM unnest(shards) WITH ORDINALITY AS t(s, n);
    -- Altered in place when it exists, so that the roles' user mappings
    -- (their passwords) stay.
    SELECT string_agg(format('DROP %I', split_part(o, '=', 1)), ', ') INTO dropped
      FROM pg_foreign_server AS fs, unnest(fs.srvoptions) AS o
     WHERE fs.srvname = 'assoc_shards' AND split_part(o, '=', 1) ~ '^p[0-9]+$';
    IF EXISTS (SELECT 1 FROM pg_foreign_server AS fs WHERE fs.srvname = 'assoc_shards') THEN
        EXECUTE format('ALTER SERVER assoc_shards OPTIONS (%s)',
                       concat_ws(', ', dropped, (SELECT string_agg(format('ADD p%s %L', n - 1, s), ', ' ORDER BY n)
                                                   FROM unnest(shards) WITH ORDINALITY AS t(s, n))));
    ELSE
        EXECUTE format('CREATE SERVER assoc_shards FOREIGN DATA WRAPPER plproxy OPTIONS (modular_mapping %L, %s)',
                       '1', options);
        GRANT USAGE ON FOREIGN SERVER assoc_shards TO PUBLIC;
        CREATE USER MAPPING FOR PUBLIC SERVER assoc_shards;
    END IF;
END
$$;
COMMENT ON FUNCTION assoc_proxy.configure(text[]) IS
    'declares the shard databases, numbered from 0 (owner only): connection strings without user=';
REVOKE ALL ON FUNCTION assoc_proxy.configure(text[]) FROM PUBLIC;

CREATE FUNCTION assoc_proxy.roles_on(shard integer)
    RETURNS SETOF text
    LANGUAGE plproxy
    AS $$ CLUSTER 'assoc_shards'; RUN ON shard; SELECT rolname::text FROM pg_catalog.pg_roles; $$;
COMMENT ON FUNCTION assoc_proxy.roles_on(integer) IS
    'the roles of one shard (for assoc_proxy.check_roles)';
REVOKE ALL ON FUNCTION assoc_proxy.roles_on(integer) FROM PUBLIC;

CREATE FUNCTION assoc_proxy.check_roles()
    RETURNS TABLE (role name, shard integer)
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
BEGIN
    FOR shard IN SELECT s.shard FROM assoc_proxy.shards AS s ORDER BY s.shard LOOP
        RETURN QUERY
            SELECT r.rolname, check_roles.shard FROM pg_roles AS r
             WHERE r.rolcanlogin
               AND r.rolname NOT IN (SELECT x FROM assoc_proxy.roles_on(check_roles.shard) AS x)
             ORDER BY r.rolname;
    END LOOP;
END
$$;
COMMENT ON FUNCTION assoc_proxy.check_roles() IS
    'the login roles of the proxy missing on a shard (each must exist on every shard); no rows: all present';
REVOKE ALL ON FUNCTION assoc_proxy.check_roles() FROM PUBLIC;
