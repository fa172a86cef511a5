-- pg_assoc upgrade from 0.1.0 to 0.2.0 (ALTER EXTENSION pg_assoc UPDATE).
--
-- Every change to the extension's SQL objects since 0.1.0 is made here as
-- well as in the component scripts (src/*.sql) that generate the 0.2.0
-- install script; test/t/050_upgrade.pl checks, from the catalogs, that an
-- upgraded database and a fresh install end up with the same objects.

\echo Use "ALTER EXTENSION pg_assoc UPDATE TO '0.2.0'" to load this file. \quit
