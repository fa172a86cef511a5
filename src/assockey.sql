
-- ---------------------------------------------------------------------------
-- assockey: a set of (model, id) associations (README, "Compound association keys").
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
