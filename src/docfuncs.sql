
-- ---------------------------------------------------------------------
-- Paths and document functions (src/docfuncs.c; README, "Paths" and
-- "Document functions").
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
    'true if any object key anywhere in doc, trimmed of white space as JavaScript''s trim() does, is __proto__, constructor or prototype';
