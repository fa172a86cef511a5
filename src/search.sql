
-- ---------------------------------------------------------------------
-- Search (src/search.c; README, "Search"): the paged search of one
-- namespace, its plan, the text search vector its term index is built on,
-- and the sort key type that orders and continues its pages
-- (src/search_key.c).
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
