-- Tables the store refuses to write to (README: Limits).  The store reads
-- and writes its tables directly, so a table changed by hand must make
-- writes fail with a clear error, never send them elsewhere, skip a
-- trigger or loop.
SET assoc.notify = off;
SELECT assoc.create_namespace('limits');
SELECT assoc.set('limits', 'r', 'a', '1');

-- A rule on a table of the store is refused; once it is gone, writes work.
BEGIN;
CREATE RULE records_nothing AS ON UPDATE TO assoc.records DO INSTEAD NOTHING;
SELECT assoc.set('limits', 'r', 'a', '2');
ROLLBACK;
SELECT assoc.set('limits', 'r', 'a', '2');

-- Another table access method, even heap's own handler under another name.
CREATE ACCESS METHOD limits_heap TYPE TABLE HANDLER heap_tableam_handler;
BEGIN;
ALTER TABLE assoc.feed SET ACCESS METHOD limits_heap;
SELECT assoc.create_namespace('limits2');
ROLLBACK;
BEGIN;
ALTER TABLE assoc.history SET ACCESS METHOD limits_heap;
SELECT assoc.erase('limits', 'r', 'a');
ROLLBACK;
DROP ACCESS METHOD limits_heap;

-- A table that Citus distributed (a pg_dist_partition row names it).  The
-- catalog is made by hand here; the table is changed (ANALYZE) as the
-- distribution would change it, so the check runs again.
BEGIN;
SET LOCAL allow_system_table_mods = on;
CREATE TABLE pg_catalog.pg_dist_partition (logicalrelid regclass NOT NULL);
INSERT INTO pg_catalog.pg_dist_partition VALUES ('assoc.records');
ANALYZE assoc.records;
SELECT assoc.set('limits', 'r', 'a', '3');
ROLLBACK;
SELECT assoc.set('limits', 'r', 'a', '3');

-- A trigger on a table of the store is refused: the store's writes go
-- through the table access method and fire none, so it would be skipped
-- (here one that swallows every new record).
CREATE FUNCTION limits_swallow() RETURNS trigger
    LANGUAGE plpgsql AS $$BEGIN RETURN NULL; END$$;
BEGIN;
CREATE TRIGGER limits_swallow BEFORE INSERT ON assoc.records
    FOR EACH ROW EXECUTE FUNCTION limits_swallow();
SELECT assoc.set('limits', 'new', 'a', '1');
ROLLBACK;
BEGIN;
CREATE TRIGGER limits_swallow BEFORE INSERT ON assoc.ops
    FOR EACH ROW EXECUTE FUNCTION limits_swallow();
SELECT assoc.set('limits', 'r', 'a', '3', op_id => 'swallowed');
ROLLBACK;
DROP FUNCTION limits_swallow();

-- So is a foreign key referencing a table of the store: its triggers
-- would not fire for the store's direct deletes.
BEGIN;
CREATE TABLE limits_ref (ns text, id text,
    FOREIGN KEY (ns, id) REFERENCES assoc.records ON DELETE CASCADE);
SELECT assoc.remove('limits', 'r');
ROLLBACK;

-- A table published for logical replication without a replica identity:
-- updates and deletes are refused as UPDATE and DELETE refuse them.
BEGIN;
SET LOCAL client_min_messages = error; -- no wal_level warning
ALTER TABLE assoc.records REPLICA IDENTITY NOTHING;
CREATE PUBLICATION limits_pub FOR TABLE assoc.records;
SAVEPOINT s;
SELECT assoc.set('limits', 'r', 'a', '4');
ROLLBACK TO s;
SELECT assoc.remove('limits', 'r');
ROLLBACK;

SELECT id, version, data FROM assoc.records WHERE ns = 'limits' ORDER BY id;

-- A transaction that creates many records and uses many op_ids keeps no
-- lock per record or op_id: only the namespace's lock is held at the end,
-- so no number of them can fill the shared lock table.
BEGIN;
SELECT count(assoc.create('limits', '{}')) FROM generate_series(1, 50);
SELECT count(assoc.set('limits', 'many' || i, 'a', '1', op_id => 'many' || i))
  FROM generate_series(1, 50) AS i;
SELECT count(assoc.set('limits', 'many' || i, 'a', '1', op_id => 'many' || i))
  FROM generate_series(1, 50) AS i;
SELECT objsubid, mode, count(*) FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid()
 GROUP BY objsubid, mode;
ROLLBACK;

-- A ledger row changed by hand (its result gone): the replay is an error
-- naming the op_id, not a crash.
SELECT assoc.set('limits', 'r', 'a', '4', op_id => 'by-hand');
UPDATE assoc.ops SET result = NULL WHERE ns = 'limits' AND op_id = 'by-hand';
SELECT assoc.set('limits', 'r', 'a', '4', op_id => 'by-hand');

SELECT assoc.drop_namespace('limits');
