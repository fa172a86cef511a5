-- A call finds its namespace's row at the address where the session found
-- it last, and takes it only if the row there is visible and has the
-- namespace's name; otherwise it looks the row up by name (README, "How a
-- write flows").  Each case below changes what is at that address between
-- two calls.  The cases need VACUUM FULL to drop the rows just deleted, so
-- they run in a database of their own, without the notification worker
-- (assoc.notify off) and autovacuum on the extension's tables, and wait
-- (wait_for_snapshots) until no other session there (autovacuum's ANALYZE
-- of a catalog, say) holds a snapshot that could still see those rows.
\set VERBOSITY default
SELECT current_database() AS regression_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS pg_assoc_hint;
CREATE DATABASE pg_assoc_hint TEMPLATE template0;
ALTER DATABASE pg_assoc_hint SET assoc.notify = off;
ALTER DATABASE pg_assoc_hint SET client_min_messages = warning;
\c pg_assoc_hint
\set wait_for_snapshots 'DO $$ BEGIN FOR i IN 1..600 LOOP PERFORM pg_stat_clear_snapshot(); EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_xmin IS NOT NULL); PERFORM pg_sleep(0.1); END LOOP; END $$'
CREATE EXTENSION pg_assoc;
ALTER TABLE assoc.namespaces SET (autovacuum_enabled = off);
ALTER TABLE assoc.records SET (autovacuum_enabled = off);
ALTER TABLE assoc.history SET (autovacuum_enabled = off);
ALTER TABLE assoc.feed SET (autovacuum_enabled = off);
ALTER TABLE assoc.ops SET (autovacuum_enabled = off);

-- A changed row: its new version is elsewhere, the hinted one is dead.
SELECT assoc.create_namespace('hint_changed');
SELECT assoc.set('hint_changed', 'r', 'a', '1');
SELECT assoc.alter_namespace('hint_changed', history_depth => 2);
SELECT assoc.set('hint_changed', 'r', 'a', '2');
SELECT version, data FROM assoc.history('hint_changed', 'r');

-- Dropped and created again: a new incarnation, a new channel.
SELECT assoc.channel('hint_changed') AS old_channel \gset
SELECT assoc.drop_namespace('hint_changed');
SELECT assoc.get('hint_changed', 'r');
SELECT assoc.create_namespace('hint_changed');
SELECT assoc.channel('hint_changed') <> :'old_channel' AS new_channel;
SELECT assoc.version('hint_changed', 'r');

-- Another namespace's row at the hinted address: after the row before
-- them is removed, VACUUM FULL moves each of the others one place back.
-- hint_b keeps history, hint_a does not: a write to hint_a that took
-- hint_b's row would keep history.
SELECT assoc.create_namespace('hint_gap');
SELECT assoc.create_namespace('hint_a');
SELECT assoc.create_namespace('hint_b');
SELECT assoc.alter_namespace('hint_b', history_depth => 3);
:wait_for_snapshots;
VACUUM FULL assoc.namespaces;
SELECT assoc.set('hint_a', 'r', 'who', '"a"');
SELECT assoc.set('hint_b', 'r', 'who', '"b"');
SELECT ctid AS a_was FROM assoc.namespaces WHERE ns = 'hint_a' \gset
SELECT assoc.drop_namespace('hint_gap');
:wait_for_snapshots;
VACUUM FULL assoc.namespaces;
SELECT ns AS now_at_a_was FROM assoc.namespaces WHERE ctid = :'a_was';
SELECT assoc.set('hint_a', 'r', 'n', '1');
SELECT assoc.get('hint_a', 'r'), assoc.get('hint_b', 'r');
SELECT count(*) AS hint_a_history FROM assoc.history('hint_a', 'r');

-- Under SERIALIZABLE the row is always looked up by name.
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT assoc.set('hint_a', 'r', 'n', '2');
COMMIT;
SELECT assoc.get('hint_a', 'r');

-- The hinted address past the table's end: the namespace is read on the
-- last page once the pages before it are emptied, and VACUUM FULL writes
-- the table again on fewer pages.
SELECT count(assoc.create_namespace('hint_fill_' || i)) FROM generate_series(1, 200) AS i;
SELECT assoc.create_namespace('hint_last');
SELECT (ctid::text::point)[0] AS last_page FROM assoc.namespaces WHERE ns = 'hint_last' \gset
SELECT :last_page >= 2 AS several_pages;
SELECT count(assoc.drop_namespace('hint_fill_' || i)) FROM generate_series(1, 200) AS i;
SELECT assoc.set('hint_last', 'r', 'a', '1');
:wait_for_snapshots;
VACUUM FULL assoc.namespaces;
SELECT pg_relation_size('assoc.namespaces') / current_setting('block_size')::int <= :last_page
       AS hinted_page_gone;
SELECT assoc.set('hint_last', 'r', 'a', '2');
SELECT assoc.get('hint_last', 'r');

-- The extension created again: a new table, where the hinted addresses
-- mean nothing.
DROP EXTENSION pg_assoc;
CREATE EXTENSION pg_assoc;
SELECT assoc.create_namespace('hint_last');
SELECT assoc.set('hint_last', 'r', 'a', '3');
SELECT assoc.get('hint_last', 'r');

\c :regression_db
DROP DATABASE pg_assoc_hint WITH (FORCE);
