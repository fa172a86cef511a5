-- pg_assoc upgrade from 0.1.0 to 0.2.0 (ALTER EXTENSION pg_assoc UPDATE).
--
-- Every change to the extension's SQL objects since 0.1.0 is made here as
-- well as in the component scripts (src/*.sql) that generate the 0.2.0
-- install script; test/t/050_upgrade.pl checks, from the catalogs, that an
-- upgraded database and a fresh install end up with the same objects.

\echo Use "ALTER EXTENSION pg_assoc UPDATE TO '0.2.0'" to load this file. \quit

-- ---------------------------------------------------------------------
-- Paths and keys trimmed of JavaScript's white space (README, Paths).
--
-- From 0.2.0 on, path pieces are trimmed of the white space JavaScript's
-- String.prototype.trim() removes (0.1.0 trimmed ASCII white space only),
-- and assoc.has_forbidden_keys, which the write functions and the CHECK
-- on assoc.records use, treats an object key that trims to __proto__,
-- constructor or prototype as forbidden (0.1.0 compared keys exactly).
-- Data stored under 0.1.0 may hold such keys (E'\u00a0__proto__', ' constructor'):
-- a deepstream client reading them back pollutes Object.prototype.  The
-- upgrade stops while any record or kept history version holds one,
-- naming them; this script runs with the new library, so
-- assoc.has_forbidden_keys already applies the new rule.
-- ---------------------------------------------------------------------

DO $$
DECLARE
    nrecords bigint;
    nhistory bigint;
    listed   text[];
BEGIN
    -- Counted in full, listed 20 at most (a top-N sort, whatever the count).
    WITH hits AS MATERIALIZED (
        SELECT 0 AS kind, r.ns, r.id, NULL::bigint AS version
          FROM assoc.records r
         WHERE assoc.has_forbidden_keys(r.data)
        UNION ALL
        SELECT 1, h.ns, h.id, h.version
          FROM assoc.history h
         WHERE h.data IS NOT NULL AND assoc.has_forbidden_keys(h.data)
    )
    SELECT (SELECT count(*) FROM hits WHERE kind = 0),
           (SELECT count(*) FROM hits WHERE kind = 1),
           ARRAY(SELECT CASE WHEN version IS NULL THEN format('(%L, %L)', ns, id)
                             ELSE format('(%L, %L, %s)', ns, id, version) END
                   FROM hits ORDER BY kind, ns, id, version LIMIT 20)
      INTO nrecords, nhistory, listed;
    IF nrecords + nhistory > 0 THEN
        RAISE EXCEPTION 'cannot update pg_assoc to 0.2.0: stored data holds object keys that are now forbidden (records: %, history versions: %)',
                        nrecords, nhistory
        USING ERRCODE = 'check_violation',
              DETAIL = 'From 0.2.0 on, an object key that trims (as JavaScript''s String.prototype.trim() does) '
                       || 'to __proto__, constructor or prototype is forbidden. Affected (namespace, id) and '
                       || '(namespace, id, history version): ' || array_to_string(listed, ', ')
                       || CASE WHEN nrecords + nhistory > 20
                               THEN format(' and %s more', nrecords + nhistory - 20) ELSE '' END
                       || '.',
              HINT = 'As the extension owner, remove or rename those keys, e.g. '
                     || 'UPDATE assoc.records SET data = data - E''\u00a0__proto__'' WHERE ns = ... AND id = ... '
                     || '(or data #- ''{path,to,key}'' for a nested key), and likewise in assoc.history '
                     || '(or DELETE those versions); assoc.has_forbidden_keys(data) finds them. '
                     || 'Then run ALTER EXTENSION pg_assoc UPDATE again.';
    END IF;
END
$$;

COMMENT ON FUNCTION assoc.has_forbidden_keys(jsonb) IS
    'true if any object key anywhere in doc, trimmed of white space as JavaScript''s trim() does, is __proto__, constructor or prototype';

-- ---------------------------------------------------------------------
-- The op_id ledger keeps no record's data (src/ledger.c; README,
-- "Idempotent retries").  0.1.0 kept every row assoc.update_by and
-- assoc.remove_by returned, data included, so a removed record lived on in
-- assoc.ops until assoc.op_retention.  Their entries keep their rows
-- without "data", as 0.2.0 writes them: a replay of update_by gives the
-- rows the call's data, one of remove_by data NULL.  No object changes.
-- ---------------------------------------------------------------------
UPDATE assoc.ops AS o
   SET result = (SELECT COALESCE(pg_catalog.jsonb_agg(
                                     e.value OPERATOR(pg_catalog.-) 'data'::text
                                     ORDER BY e.ordinality),
                                 '[]'::jsonb)
                   FROM pg_catalog.jsonb_array_elements(o.result)
                        WITH ORDINALITY AS e (value, ordinality))
 WHERE o.fn OPERATOR(pg_catalog.=) ANY (ARRAY['update_by', 'remove_by'])
   AND pg_catalog.jsonb_typeof(o.result) OPERATOR(pg_catalog.=) 'array'
   AND pg_catalog.jsonb_path_exists(o.result, '$[*].data');

-- ---------------------------------------------------------------------
-- Feed entries whose paths 0.2.0 refuses (README, Paths).  A feed entry
-- lists the paths its write touched, and a deepstream client replays
-- them: a path 0.1.0 accepted and 0.2.0's grammar refuses is one whose
-- piece trims, as JavaScript trims, to a forbidden name.  Such an entry
-- keeps its place and op with paths NULL, which tells clients the whole
-- record changed, as for whole-record writes: they read the record again
-- (which the check above found clean).  Only entries naming a forbidden
-- word are parsed; their paths parsed 0.1.0's grammar, so a parse error
-- now is the forbidden segment.
-- ---------------------------------------------------------------------
DO $$
DECLARE
    entry record;
    p     text;
BEGIN
    FOR entry IN
        SELECT f.ns, f.xid, f.seq, f.paths FROM assoc.feed f
         WHERE f.paths IS NOT NULL
           AND (pg_catalog.strpos(f.paths::text, '__proto__') > 0
                OR pg_catalog.strpos(f.paths::text, 'constructor') > 0
                OR pg_catalog.strpos(f.paths::text, 'prototype') > 0)
    LOOP
        FOREACH p IN ARRAY entry.paths LOOP
            BEGIN
                PERFORM assoc.parse_path(p);
            EXCEPTION WHEN invalid_parameter_value THEN
                UPDATE assoc.feed f SET paths = NULL
                 WHERE f.ns = entry.ns AND f.xid = entry.xid AND f.seq = entry.seq;
                EXIT;
            END;
        END LOOP;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------
-- Search (README, "Search"): assoc.search, assoc.search_explain,
-- assoc.search_vector and the sort key type assoc.search_key, as
-- src/search.sql creates them.  New objects only; no data changes.
-- ---------------------------------------------------------------------

CREATE TYPE assoc.search_key;

CREATE FUNCTION assoc.search_key_in(cstring) RETURNS assoc.search_key
    AS 'MODULE_PATHNAME', 'assoc_search_key_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.search_key_in(cstring) IS
    'input of assoc.search_key: refused, sort keys are made by assoc.search_key()';

CREATE FUNCTION assoc.search_key_out(assoc.search_key) RETURNS cstring
    AS 'MODULE_PATHNAME', 'assoc_search_key_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.search_key_out(assoc.search_key) IS
    'output of assoc.search_key: a JSON array of [direction, value] items';

-- STORAGE plain and ALIGNMENT int4: a key is read in place, its jsonb
-- values 4-byte aligned (src/search_key.c).
CREATE TYPE assoc.search_key (
    INPUT = assoc.search_key_in,
    OUTPUT = assoc.search_key_out,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = plain
);
COMMENT ON TYPE assoc.search_key IS
    'the sort key of a record in a search: its order_by values and id, ordered as the search orders';

CREATE FUNCTION assoc.search_key_cmp(assoc.search_key, assoc.search_key) RETURNS integer
    AS 'MODULE_PATHNAME', 'assoc_search_key_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION assoc.search_key_lt(assoc.search_key, assoc.search_key) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assoc_search_key_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION assoc.search_key_le(assoc.search_key, assoc.search_key) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assoc_search_key_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION assoc.search_key_eq(assoc.search_key, assoc.search_key) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assoc_search_key_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION assoc.search_key_ge(assoc.search_key, assoc.search_key) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assoc_search_key_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION assoc.search_key_gt(assoc.search_key, assoc.search_key) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assoc_search_key_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.search_key_cmp(assoc.search_key, assoc.search_key) IS
    'btree comparison of sort keys of one order (an error for keys of different orders)';
COMMENT ON FUNCTION assoc.search_key_lt(assoc.search_key, assoc.search_key) IS 'sort key <';
COMMENT ON FUNCTION assoc.search_key_le(assoc.search_key, assoc.search_key) IS 'sort key <=';
COMMENT ON FUNCTION assoc.search_key_eq(assoc.search_key, assoc.search_key) IS 'sort key =';
COMMENT ON FUNCTION assoc.search_key_ge(assoc.search_key, assoc.search_key) IS 'sort key >=';
COMMENT ON FUNCTION assoc.search_key_gt(assoc.search_key, assoc.search_key) IS 'sort key >';

CREATE OPERATOR assoc.< (
    LEFTARG = assoc.search_key, RIGHTARG = assoc.search_key,
    FUNCTION = assoc.search_key_lt,
    COMMUTATOR = OPERATOR(assoc.>), NEGATOR = OPERATOR(assoc.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR assoc.<= (
    LEFTARG = assoc.search_key, RIGHTARG = assoc.search_key,
    FUNCTION = assoc.search_key_le,
    COMMUTATOR = OPERATOR(assoc.>=), NEGATOR = OPERATOR(assoc.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR assoc.= (
    LEFTARG = assoc.search_key, RIGHTARG = assoc.search_key,
    FUNCTION = assoc.search_key_eq,
    COMMUTATOR = OPERATOR(assoc.=),
    RESTRICT = eqsel, JOIN = eqjoinsel
);
CREATE OPERATOR assoc.>= (
    LEFTARG = assoc.search_key, RIGHTARG = assoc.search_key,
    FUNCTION = assoc.search_key_ge,
    COMMUTATOR = OPERATOR(assoc.<=), NEGATOR = OPERATOR(assoc.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel
);
CREATE OPERATOR assoc.> (
    LEFTARG = assoc.search_key, RIGHTARG = assoc.search_key,
    FUNCTION = assoc.search_key_gt,
    COMMUTATOR = OPERATOR(assoc.<), NEGATOR = OPERATOR(assoc.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);

CREATE OPERATOR CLASS assoc.search_key_ops
    DEFAULT FOR TYPE assoc.search_key USING btree AS
        OPERATOR 1 assoc.<,
        OPERATOR 2 assoc.<=,
        OPERATOR 3 assoc.=,
        OPERATOR 4 assoc.>=,
        OPERATOR 5 assoc.>,
        FUNCTION 1 assoc.search_key_cmp(assoc.search_key, assoc.search_key);

CREATE FUNCTION assoc.search_key(data jsonb, id text, version bigint,
                                 created_at timestamptz, updated_at timestamptz,
                                 order_by text)
    RETURNS assoc.search_key
    AS 'MODULE_PATHNAME', 'assoc_search_key_of'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION assoc.search_key(jsonb, text, bigint, timestamptz, timestamptz, text) IS
    'the sort key of a record under order_by (NULL: by id alone), as assoc.search orders';

CREATE FUNCTION assoc.search_vector(data jsonb, config regconfig)
    RETURNS tsvector
    AS 'MODULE_PATHNAME', 'assoc_search_vector'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.search_vector(jsonb, regconfig) IS
    'text search vector of every string value of a document (not keys), for the term index of assoc.search';

CREATE FUNCTION assoc.search(ns text, term text DEFAULT NULL, page integer DEFAULT 1,
                             page_size integer DEFAULT 10, order_by text DEFAULT NULL,
                             fields text DEFAULT NULL, keys assoc.assockey DEFAULT NULL,
                             filter jsonpath DEFAULT NULL, after text DEFAULT NULL)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'assoc_search'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.search(text, text, integer, integer, text, text, assoc.assockey, jsonpath, text) IS
    'one page of the namespace''s records matching term, filter and keys: {page, pageSize, count, data, next}';

CREATE FUNCTION assoc.search_explain(ns text, term text DEFAULT NULL, page integer DEFAULT 1,
                                     page_size integer DEFAULT 10, order_by text DEFAULT NULL,
                                     fields text DEFAULT NULL, keys assoc.assockey DEFAULT NULL,
                                     filter jsonpath DEFAULT NULL, after text DEFAULT NULL)
    RETURNS SETOF text
    AS 'MODULE_PATHNAME', 'assoc_search_explain'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.search_explain(text, text, integer, integer, text, text, assoc.assockey, jsonpath, text) IS
    'the plan (EXPLAIN, without costs) of the statement assoc.search runs for the same arguments';

-- ---------------------------------------------------------------------
-- Origin (README, "Change subscriptions"): each feed entry records the
-- writer's assoc.origin, which assoc.changes returns and notifications
-- carry.  Entries written before the update have none (NULL).  Adding a
-- nullable column without a default rewrites nothing.  assoc.changes
-- gains a column, so it is created again, with the privileges it had (an
-- administrator may have revoked it from PUBLIC and granted it to some
-- roles): its ACL is read first and granted again, item by item, by the
-- role running the update.  Privileges granted in an extension script are
-- recorded as the extension's own (pg_init_privs), which pg_dump leaves
-- out; that record is removed, so that they stay the administrator's, as
-- before, and are dumped.  A view or function of yours that depends on
-- assoc.changes stops the update (README, Upgrading).
-- ---------------------------------------------------------------------
ALTER TABLE assoc.feed ADD COLUMN origin text;
COMMENT ON COLUMN assoc.feed.origin IS
    'assoc.origin of the writer (NULL: none), so that a service can skip its own writes';
DO $$
DECLARE
    acl  aclitem[] := (SELECT p.proacl FROM pg_catalog.pg_proc p
                        WHERE p.oid = 'assoc.changes(text, text, integer)'::pg_catalog.regprocedure);
    item record;
BEGIN
    DROP FUNCTION assoc.changes(text, text, integer);
    CREATE FUNCTION assoc.changes(ns text, after text DEFAULT NULL, max integer DEFAULT 1000)
        RETURNS TABLE (cursor text, id text, version bigint, op text, paths text[], at timestamptz,
                       origin text)
        AS 'MODULE_PATHNAME', 'assoc_changes'
        LANGUAGE C STABLE;
    COMMENT ON FUNCTION assoc.changes(text, text, integer) IS
        'feed entries after the cursor after (NULL = oldest kept), at most max, in feed order; gap-free';
    IF acl IS NOT NULL THEN
        REVOKE ALL ON FUNCTION assoc.changes(text, text, integer) FROM PUBLIC;
        FOR item IN SELECT * FROM pg_catalog.aclexplode(acl) LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION assoc.changes(text, text, integer) TO %s%s',
                CASE WHEN item.grantee = 0 THEN 'PUBLIC'
                     ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(item.grantee)) END,
                CASE WHEN item.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
        DELETE FROM pg_catalog.pg_init_privs
         WHERE classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass
           AND objoid = 'assoc.changes(text, text, integer)'::pg_catalog.regprocedure;
    END IF;
END
$$;

-- ---------------------------------------------------------------------
-- The delivery horizon per database (README, "Delivery horizon";
-- src/horizon.c).  With the preloaded library, a writing transaction's
-- feed position is drawn from a clock at its first entry, above its xid
-- and above every entry written before the update (whose positions are
-- xids), so 0.1.0 cursors go on.  The clock's high-water mark is logged
-- in this sequence.
-- ---------------------------------------------------------------------

CREATE SEQUENCE assoc.feed_clock AS bigint MINVALUE 0 START 0;
COMMENT ON SEQUENCE assoc.feed_clock IS
    'high-water mark of the feed positions drawn (a crash never makes them go back)';
COMMENT ON TABLE assoc.feed IS
    'the change feed: one entry per effective write, at (its transaction''s position, its n-th entry)';
-- Writers draw positions as the owner of the extension's tables (README,
-- Isolation), who must be able to raise the mark: the sequence is theirs,
-- whoever runs the update.
DO $$
BEGIN
    EXECUTE pg_catalog.format('ALTER SEQUENCE assoc.feed_clock OWNER TO %I',
        (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c
          WHERE c.oid = 'assoc.feed'::pg_catalog.regclass));
END
$$;

-- ---------------------------------------------------------------------
-- Resynchronising in one call (README, "Change subscriptions"): the
-- records and the head read in one snapshot, for callers that cannot hold
-- a REPEATABLE READ transaction across statements (a PL/Proxy hop).
-- ---------------------------------------------------------------------

CREATE FUNCTION assoc.snapshot(ns text)
    RETURNS TABLE (cursor text, id text, keys assoc.assockey, data jsonb, version bigint,
                   created_at timestamptz, updated_at timestamptz)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    -- One statement: the head and the records come from its one snapshot.
    AS $$
        SELECT h.cursor, r.id, r.keys, r.data, r.version, r.created_at, r.updated_at
          FROM assoc.head(snapshot.ns) AS h(cursor)
          LEFT JOIN assoc.records AS r ON r.ns = snapshot.ns
         ORDER BY r.id
    $$;
COMMENT ON FUNCTION assoc.snapshot(ns text) IS
    'the namespace''s records with the cursor of the same snapshot (one row of NULLs and the cursor when empty): resynchronise in one call';

-- ---------------------------------------------------------------------
-- Moving a namespace to another server (README, "Scaling out"): the
-- fence that refuses its changes during a move, and the functions
-- pg_assoc_proxy's assoc_proxy.move_namespace copies it with.
-- ---------------------------------------------------------------------

ALTER TABLE assoc.namespaces ADD COLUMN fenced boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN assoc.namespaces.fenced IS
    'true while the namespace is being moved to another server: calls that change it fail with 40001';
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

-- ---------------------------------------------------------------------
-- The registry of listened channels, for monitoring (README, "Change
-- subscriptions"): whether notifications go only where someone listens,
-- and whether a session overflowed the registry.
-- ---------------------------------------------------------------------
CREATE FUNCTION assoc.notify_registry(OUT filtering boolean, OUT channels integer,
                                      OUT cluster_channels integer, OUT capacity integer,
                                      OUT overflowing_sessions integer)
    AS 'MODULE_PATHNAME', 'assoc_notify_registry'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.notify_registry() IS
    'the registry of listened channels: whether notifications go only to listened channels, channels of this database and of the cluster, capacity, overflowing sessions; pg_monitor members only';
REVOKE ALL ON FUNCTION assoc.notify_registry() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION assoc.notify_registry() TO pg_monitor;
