-- pg_assoc install script.  Generated into pg_assoc--<version>.sql at build
-- time from this file followed by each component's src/NAME.sql.

\echo Use "CREATE EXTENSION pg_assoc" to load this file. \quit

-- CREATE EXTENSION creates the schema named in the control file; every role
-- may use it.  Every function pins its search_path or is written in C.
GRANT USAGE ON SCHEMA assoc TO PUBLIC;
COMMENT ON SCHEMA assoc IS 'pg_assoc: association records, paths, compound keys';

-- ---------------------------------------------------------------------
-- Paths and document functions (src/path.c, src/patch.c): SPEC §1, §2.
-- Pure functions, usable on any jsonb column.  Not STRICT where a NULL
-- argument has a meaning: a NULL path is the whole document.
-- ---------------------------------------------------------------------

CREATE FUNCTION assoc.parse_path(path text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'assoc_parse_path'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.parse_path(text) IS
    'tokens of a path: keys as strings, indexes as numbers; rejects invalid and forbidden paths (22023)';

CREATE FUNCTION assoc.path_get(doc jsonb, path text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'assoc_path_get'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION assoc.path_get(jsonb, text) IS
    'value at path; NULL when absent, through a scalar, or a non-digit key of an array; NULL path = whole document';

CREATE FUNCTION assoc.path_set(doc jsonb, path text, value jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'assoc_path_set'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION assoc.path_set(jsonb, text, jsonb) IS
    'document with value placed at path, creating containers on the way and padding arrays with null; NULL value = JSON null; NULL path replaces the document';

CREATE FUNCTION assoc.path_erase(doc jsonb, path text) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'assoc_path_erase'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION assoc.path_erase(jsonb, text) IS
    'document with path erased: object member removed, array element set to null (no shifting)';

CREATE FUNCTION assoc.patch(doc jsonb, patches jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'assoc_patch'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION assoc.patch(jsonb, jsonb) IS
    'applies [{"path": ..., "data": ...}, ...] in order, atomically, in one pass; an entry without "data" erases';

CREATE FUNCTION assoc.has_forbidden_keys(doc jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assoc_has_forbidden_keys'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.has_forbidden_keys(jsonb) IS
    'true if any object key anywhere in doc is __proto__, constructor or prototype';

-- ---------------------------------------------------------------------------
-- assockey: a set of (model, id) associations (SPEC section 3).
-- C code: src/assockey.c (type, operators), src/assockey_gin.c (GIN),
-- src/assockey_selfuncs.c (ANALYZE statistics, estimators).
-- Every function is C, IMMUTABLE and PARALLEL SAFE; STRICT where a NULL
-- argument can only mean a NULL result.
-- ---------------------------------------------------------------------------

CREATE TYPE assoc.assockey;

CREATE FUNCTION assoc.assockey_in(cstring) RETURNS assoc.assockey
    AS 'MODULE_PATHNAME', 'assockey_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_in(cstring) IS
    'assockey input: parses {model:id,...}, sorts bytewise by (model, id) and removes duplicates';

CREATE FUNCTION assoc.assockey_out(assoc.assockey) RETURNS cstring
    AS 'MODULE_PATHNAME', 'assockey_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_out(assoc.assockey) IS
    'assockey output: canonical text, elements quoted like array elements when needed';

CREATE FUNCTION assoc.assockey_recv(internal) RETURNS assoc.assockey
    AS 'MODULE_PATHNAME', 'assockey_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_recv(internal) IS
    'assockey binary input: validates every element and rejects non-canonical data';

CREATE FUNCTION assoc.assockey_send(assoc.assockey) RETURNS bytea
    AS 'MODULE_PATHNAME', 'assockey_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_send(assoc.assockey) IS
    'assockey binary output: count, then length-prefixed model and id of each element';

CREATE FUNCTION assoc.assockey_typanalyze(internal) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_typanalyze'
    LANGUAGE C STRICT;
COMMENT ON FUNCTION assoc.assockey_typanalyze(internal) IS
    'ANALYZE support: standard statistics plus most common associations (MCELEM) and a count histogram (DECHIST)';

CREATE TYPE assoc.assockey (
    INPUT = assoc.assockey_in,
    OUTPUT = assoc.assockey_out,
    RECEIVE = assoc.assockey_recv,
    SEND = assoc.assockey_send,
    ANALYZE = assoc.assockey_typanalyze,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE assoc.assockey IS
    'compound association key: a set of model:id associations, e.g. {room:GENERAL,user:42}';

-- Constructors and accessors ------------------------------------------------

CREATE FUNCTION assoc.assockey(model text, id text) RETURNS assoc.assockey
    AS 'MODULE_PATHNAME', 'assockey_make'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey(text, text) IS
    'assockey holding the one association model:id';

CREATE FUNCTION assoc.assockey_from_array(text[]) RETURNS assoc.assockey
    AS 'MODULE_PATHNAME', 'assockey_from_array'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_from_array(text[]) IS
    'assockey from an array of ''model:id'' strings (split at the first colon; NULL elements are rejected)';

CREATE FUNCTION assoc.assockey_from_jsonb(jsonb) RETURNS assoc.assockey
    AS 'MODULE_PATHNAME', 'assockey_from_jsonb'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_from_jsonb(jsonb) IS
    'assockey from Rocket.Chat''s form [{"model": "room", "id": "GENERAL"}, ...]';

CREATE FUNCTION assoc.assockey_to_json(assoc.assockey) RETURNS json
    AS 'MODULE_PATHNAME', 'assockey_to_json'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_to_json(assoc.assockey) IS
    'Rocket.Chat''s form [{"model": ..., "id": ...}]; the cast to json, used by to_json, to_jsonb and row_to_json';

CREATE CAST (assoc.assockey AS json)
    WITH FUNCTION assoc.assockey_to_json(assoc.assockey);
COMMENT ON CAST (assoc.assockey AS json) IS
    'Rocket.Chat''s association list [{"model": ..., "id": ...}]';

CREATE FUNCTION assoc.models(assoc.assockey) RETURNS text[]
    AS 'MODULE_PATHNAME', 'assockey_models'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.models(assoc.assockey) IS
    'distinct models of the key, in bytewise order';

CREATE FUNCTION assoc.ids(assoc.assockey, model text) RETURNS text[]
    AS 'MODULE_PATHNAME', 'assockey_ids'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.ids(assoc.assockey, text) IS
    'ids associated with the given model, in bytewise order (empty array if none)';

CREATE FUNCTION assoc.size(assoc.assockey) RETURNS integer
    AS 'MODULE_PATHNAME', 'assockey_size'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.size(assoc.assockey) IS
    'number of associations in the key';

-- Operator functions -------------------------------------------------------
-- = <> @> <@ && are LEAKPROOF: they cannot raise on valid input, and without
-- it row-level security keeps the planner from using them as index quals.

CREATE FUNCTION assoc.assockey_contains(assoc.assockey, assoc.assockey) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_contains'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION assoc.assockey_contains(assoc.assockey, assoc.assockey) IS
    'implementation of @>: left key contains every association of the right key';

CREATE FUNCTION assoc.assockey_contained(assoc.assockey, assoc.assockey) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_contained'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION assoc.assockey_contained(assoc.assockey, assoc.assockey) IS
    'implementation of <@: every association of the left key is in the right key';

CREATE FUNCTION assoc.assockey_overlap(assoc.assockey, assoc.assockey) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_overlap'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION assoc.assockey_overlap(assoc.assockey, assoc.assockey) IS
    'implementation of &&: the keys share at least one association';

CREATE FUNCTION assoc.assockey_eq(assoc.assockey, assoc.assockey) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_eq'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION assoc.assockey_eq(assoc.assockey, assoc.assockey) IS
    'implementation of =: same set of associations';

CREATE FUNCTION assoc.assockey_ne(assoc.assockey, assoc.assockey) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_ne'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION assoc.assockey_ne(assoc.assockey, assoc.assockey) IS
    'implementation of <>: different sets of associations';

CREATE FUNCTION assoc.assockey_lt(assoc.assockey, assoc.assockey) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_lt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_lt(assoc.assockey, assoc.assockey) IS
    'implementation of <: total order of canonical keys';

CREATE FUNCTION assoc.assockey_le(assoc.assockey, assoc.assockey) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_le'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_le(assoc.assockey, assoc.assockey) IS
    'implementation of <=: total order of canonical keys';

CREATE FUNCTION assoc.assockey_gt(assoc.assockey, assoc.assockey) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_gt'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_gt(assoc.assockey, assoc.assockey) IS
    'implementation of >: total order of canonical keys';

CREATE FUNCTION assoc.assockey_ge(assoc.assockey, assoc.assockey) RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_ge'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_ge(assoc.assockey, assoc.assockey) IS
    'implementation of >=: total order of canonical keys';

CREATE FUNCTION assoc.assockey_cmp(assoc.assockey, assoc.assockey) RETURNS integer
    AS 'MODULE_PATHNAME', 'assockey_cmp'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_cmp(assoc.assockey, assoc.assockey) IS
    'btree support: -1, 0 or 1 in the total order of canonical keys (element by element, bytewise, shorter first)';

CREATE FUNCTION assoc.assockey_hash(assoc.assockey) RETURNS integer
    AS 'MODULE_PATHNAME', 'assockey_hash'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_hash(assoc.assockey) IS
    'hash support: hash of the canonical bytes';

CREATE FUNCTION assoc.assockey_hash_extended(assoc.assockey, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'assockey_hash_extended'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_hash_extended(assoc.assockey, bigint) IS
    'hash support: seeded 64-bit hash of the canonical bytes';

CREATE FUNCTION assoc.assockey_union(assoc.assockey, assoc.assockey) RETURNS assoc.assockey
    AS 'MODULE_PATHNAME', 'assockey_union'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_union(assoc.assockey, assoc.assockey) IS
    'implementation of ||: union of the associations';

CREATE FUNCTION assoc.assockey_minus(assoc.assockey, assoc.assockey) RETURNS assoc.assockey
    AS 'MODULE_PATHNAME', 'assockey_minus'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_minus(assoc.assockey, assoc.assockey) IS
    'implementation of -: associations of the left key that are not in the right key';

CREATE FUNCTION assoc.assockey_contsel(internal, oid, internal, integer) RETURNS double precision
    AS 'MODULE_PATHNAME', 'assockey_contsel'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_contsel(internal, oid, internal, integer) IS
    'restriction selectivity of @>, <@ and && from the element statistics gathered by ANALYZE';

-- Operators ---------------------------------------------------------------

CREATE OPERATOR assoc.@> (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_contains,
    COMMUTATOR = OPERATOR(assoc.<@),
    RESTRICT = assoc.assockey_contsel, JOIN = pg_catalog.matchingjoinsel
);
COMMENT ON OPERATOR assoc.@> (assoc.assockey, assoc.assockey) IS
    'contains: the left key has every association of the right key (k @> ''{}'' is always true)';

CREATE OPERATOR assoc.<@ (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_contained,
    COMMUTATOR = OPERATOR(assoc.@>),
    RESTRICT = assoc.assockey_contsel, JOIN = pg_catalog.matchingjoinsel
);
COMMENT ON OPERATOR assoc.<@ (assoc.assockey, assoc.assockey) IS
    'is contained by: every association of the left key is in the right key';

CREATE OPERATOR assoc.&& (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_overlap,
    COMMUTATOR = OPERATOR(assoc.&&),
    RESTRICT = assoc.assockey_contsel, JOIN = pg_catalog.matchingjoinsel
);
COMMENT ON OPERATOR assoc.&& (assoc.assockey, assoc.assockey) IS
    'overlaps: the keys share at least one association (never true with ''{}'')';

CREATE OPERATOR assoc.= (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_eq,
    COMMUTATOR = OPERATOR(assoc.=), NEGATOR = OPERATOR(assoc.<>),
    RESTRICT = pg_catalog.eqsel, JOIN = pg_catalog.eqjoinsel,
    HASHES, MERGES
);
COMMENT ON OPERATOR assoc.= (assoc.assockey, assoc.assockey) IS
    'equal: same set of associations';

CREATE OPERATOR assoc.<> (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_ne,
    COMMUTATOR = OPERATOR(assoc.<>), NEGATOR = OPERATOR(assoc.=),
    RESTRICT = pg_catalog.neqsel, JOIN = pg_catalog.neqjoinsel
);
COMMENT ON OPERATOR assoc.<> (assoc.assockey, assoc.assockey) IS
    'not equal: different sets of associations';

CREATE OPERATOR assoc.< (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_lt,
    COMMUTATOR = OPERATOR(assoc.>), NEGATOR = OPERATOR(assoc.>=),
    RESTRICT = pg_catalog.scalarltsel, JOIN = pg_catalog.scalarltjoinsel
);
COMMENT ON OPERATOR assoc.< (assoc.assockey, assoc.assockey) IS
    'less than in the total order of canonical keys';

CREATE OPERATOR assoc.<= (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_le,
    COMMUTATOR = OPERATOR(assoc.>=), NEGATOR = OPERATOR(assoc.>),
    RESTRICT = pg_catalog.scalarlesel, JOIN = pg_catalog.scalarlejoinsel
);
COMMENT ON OPERATOR assoc.<= (assoc.assockey, assoc.assockey) IS
    'less than or equal in the total order of canonical keys';

CREATE OPERATOR assoc.> (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_gt,
    COMMUTATOR = OPERATOR(assoc.<), NEGATOR = OPERATOR(assoc.<=),
    RESTRICT = pg_catalog.scalargtsel, JOIN = pg_catalog.scalargtjoinsel
);
COMMENT ON OPERATOR assoc.> (assoc.assockey, assoc.assockey) IS
    'greater than in the total order of canonical keys';

CREATE OPERATOR assoc.>= (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_ge,
    COMMUTATOR = OPERATOR(assoc.<=), NEGATOR = OPERATOR(assoc.<),
    RESTRICT = pg_catalog.scalargesel, JOIN = pg_catalog.scalargejoinsel
);
COMMENT ON OPERATOR assoc.>= (assoc.assockey, assoc.assockey) IS
    'greater than or equal in the total order of canonical keys';

CREATE OPERATOR assoc.|| (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_union
);
COMMENT ON OPERATOR assoc.|| (assoc.assockey, assoc.assockey) IS
    'union of two keys';

CREATE OPERATOR assoc.- (
    LEFTARG = assoc.assockey, RIGHTARG = assoc.assockey,
    FUNCTION = assoc.assockey_minus
);
COMMENT ON OPERATOR assoc.- (assoc.assockey, assoc.assockey) IS
    'difference: associations of the left key not in the right key';

-- Operator classes ---------------------------------------------------------

CREATE OPERATOR CLASS assoc.assockey_btree_ops
    DEFAULT FOR TYPE assoc.assockey USING btree AS
        OPERATOR 1 assoc.< ,
        OPERATOR 2 assoc.<= ,
        OPERATOR 3 assoc.= ,
        OPERATOR 4 assoc.>= ,
        OPERATOR 5 assoc.> ,
        FUNCTION 1 assoc.assockey_cmp(assoc.assockey, assoc.assockey);
COMMENT ON OPERATOR CLASS assoc.assockey_btree_ops USING btree IS
    'default btree operator class of assockey: UNIQUE, ORDER BY, merge joins, exact-key lookups';
COMMENT ON OPERATOR FAMILY assoc.assockey_btree_ops USING btree IS
    'btree operator family of assockey';

CREATE OPERATOR CLASS assoc.assockey_hash_ops
    DEFAULT FOR TYPE assoc.assockey USING hash AS
        OPERATOR 1 assoc.= ,
        FUNCTION 1 assoc.assockey_hash(assoc.assockey),
        FUNCTION 2 assoc.assockey_hash_extended(assoc.assockey, bigint);
COMMENT ON OPERATOR CLASS assoc.assockey_hash_ops USING hash IS
    'default hash operator class of assockey: hash joins, hash aggregation, hash partitioning';
COMMENT ON OPERATOR FAMILY assoc.assockey_hash_ops USING hash IS
    'hash operator family of assockey';

CREATE FUNCTION assoc.assockey_gin_extract_value(assoc.assockey, internal, internal)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'assockey_gin_extract_value'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_gin_extract_value(assoc.assockey, internal, internal) IS
    'GIN support: one exact key (bytes model:id) per association of an indexed value';

CREATE FUNCTION assoc.assockey_gin_extract_query(assoc.assockey, internal, int2, internal, internal, internal, internal)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'assockey_gin_extract_query'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_gin_extract_query(assoc.assockey, internal, int2, internal, internal, internal, internal) IS
    'GIN support: keys of a query and the search mode that gives empty-set semantics';

CREATE FUNCTION assoc.assockey_gin_consistent(internal, int2, assoc.assockey, integer, internal, internal, internal, internal)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'assockey_gin_consistent'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_gin_consistent(internal, int2, assoc.assockey, integer, internal, internal, internal, internal) IS
    'GIN support: whether an indexed item matches (exact for @> and &&, rechecked for = and <@)';

CREATE FUNCTION assoc.assockey_gin_triconsistent(internal, int2, assoc.assockey, integer, internal, internal, internal)
    RETURNS "char"
    AS 'MODULE_PATHNAME', 'assockey_gin_triconsistent'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION assoc.assockey_gin_triconsistent(internal, int2, assoc.assockey, integer, internal, internal, internal) IS
    'GIN support: ternary consistency';

CREATE OPERATOR CLASS assoc.assockey_gin_ops
    DEFAULT FOR TYPE assoc.assockey USING gin AS
        OPERATOR 1 assoc.&& ,
        OPERATOR 2 assoc.@> ,
        OPERATOR 3 assoc.<@ ,
        OPERATOR 4 assoc.= ,
        FUNCTION 1 pg_catalog.byteacmp(bytea, bytea),
        FUNCTION 2 assoc.assockey_gin_extract_value(assoc.assockey, internal, internal),
        FUNCTION 3 assoc.assockey_gin_extract_query(assoc.assockey, internal, int2, internal, internal, internal, internal),
        FUNCTION 4 assoc.assockey_gin_consistent(internal, int2, assoc.assockey, integer, internal, internal, internal, internal),
        FUNCTION 6 assoc.assockey_gin_triconsistent(internal, int2, assoc.assockey, integer, internal, internal, internal),
        STORAGE bytea;
COMMENT ON OPERATOR CLASS assoc.assockey_gin_ops USING gin IS
    'default GIN operator class of assockey for @>, <@, && and =: one exact key per association';
COMMENT ON OPERATOR FAMILY assoc.assockey_gin_ops USING gin IS
    'GIN operator family of assockey';

-- ---------------------------------------------------------------------
-- The record store (src/namespace.c, src/store.c, src/ledger.c):
-- SPEC §4.  Tables are owned by the extension's owner, the only role
-- with write privileges on them.  Other roles read them under row-level
-- security (membership in a namespace's owner role) and write through the
-- C write functions, which check the calling role and then write with the
-- extension owner's rights.
-- ---------------------------------------------------------------------

CREATE TABLE assoc.namespaces (
    ns            text COLLATE "C" PRIMARY KEY
                  CONSTRAINT namespaces_ns_check CHECK (ns ~ '^[A-Za-z0-9_.-]{1,63}$'),
    owner         regrole NOT NULL,
    history_depth integer NOT NULL DEFAULT 0
                  CONSTRAINT namespaces_history_depth_check CHECK (history_depth BETWEEN 0 AND 10000),
    incarnation   bigint NOT NULL,
    channel_secret bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE assoc.namespaces IS
    'one row per namespace (an application''s private space); readable by members of its owner role';
COMMENT ON COLUMN assoc.namespaces.incarnation IS
    'unique per creation of a namespace name, so cursors of a dropped namespace are recognised';
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
ALTER TABLE assoc.records ALTER COLUMN data SET COMPRESSION lz4;
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
ALTER TABLE assoc.history ALTER COLUMN data SET COMPRESSION lz4;
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
    'the change feed: one entry per effective write, at (writing transaction, its n-th entry)';
COMMENT ON COLUMN assoc.feed.notify IS
    'assoc.notify of the writer: whether the entry is announced by NOTIFY';

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
-- restore (src/feed.c); clients resynchronise.
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

-- Namespaces --------------------------------------------------------------

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

-- Reads: plain queries as the calling role, under row-level security ------

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
-- with enable_seqscan off (store_plan in src/namespace.c).

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

CREATE FUNCTION assoc.prune()
    RETURNS bigint
    AS 'MODULE_PATHNAME', 'assoc_prune'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION assoc.prune() IS
    'deletes op_id ledger entries older than assoc.op_retention and feed entries older than assoc.feed_retention; returns how many';

-- ---------------------------------------------------------------------
-- Change subscriptions (src/feed.c, src/notify.c): SPEC §5.  The feed is
-- read as the calling role under row-level security; notifications are
-- sent after commit by a background worker of the preloaded library.
-- ---------------------------------------------------------------------

CREATE FUNCTION assoc.changes(ns text, after text DEFAULT NULL, max integer DEFAULT 1000)
    RETURNS TABLE (cursor text, id text, version bigint, op text, paths text[], at timestamptz)
    AS 'MODULE_PATHNAME', 'assoc_changes'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION assoc.changes(text, text, integer) IS
    'feed entries after the cursor after (NULL = oldest kept), at most max, in feed order; gap-free';

CREATE FUNCTION assoc.head(ns text)
    RETURNS text
    AS 'MODULE_PATHNAME', 'assoc_head'
    LANGUAGE C STABLE;
COMMENT ON FUNCTION assoc.head(ns text) IS
    'the cursor of the present: read records and head in one REPEATABLE READ transaction to resynchronise';

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
