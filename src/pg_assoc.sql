-- pg_assoc install script.  Generated into pg_assoc--<version>.sql at build
-- time from this file followed by each component's src/NAME.sql.

\echo Use "CREATE EXTENSION pg_assoc" to load this file. \quit

-- CREATE EXTENSION creates the schema named in the control file; every role
-- may use it.  Every function pins its search_path or is written in C.
GRANT USAGE ON SCHEMA assoc TO PUBLIC;
COMMENT ON SCHEMA assoc IS 'pg_assoc: association records, paths, compound keys';
