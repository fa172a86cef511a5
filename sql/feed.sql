-- The change feed and channels (SPEC §5): one entry per effective write,
-- paging by cursor, resynchronisation errors, pruning, channel names and
-- who may obtain them.  Cursors hold transaction ids, so they are checked
-- by shape and by what they return, never printed.
\set VERBOSITY default
SELECT assoc.create_namespace('feed_app');

-- One entry per effective write, none for a no-op, in feed order.
SELECT assoc.set('feed_app', 'r1', 'a', '1');
SELECT assoc.set('feed_app', 'r1', 'a', '1');
SELECT assoc.set_multi('feed_app', 'r1', '[{"path": "b.c", "data": 2}, {"path": "a"}]');
SELECT assoc.erase('feed_app', 'r1', 'b.c');
SELECT assoc.set('feed_app', 'r2', NULL, '{"whole": true}');
SELECT assoc.link('feed_app', 'r2', '{room:GENERAL}');
SELECT assoc.unlink('feed_app', 'r2', '{room:GENERAL}');
SELECT assoc.create('feed_app', '{"msg": "hi"}', '{user:42}', 'm1');
SELECT id, version FROM assoc.update_by('feed_app', '{user:42}', '{"msg": "edited"}');
SELECT assoc.remove('feed_app', 'r2');
SELECT id, version, op, paths FROM assoc.changes('feed_app');
SELECT count(*) FILTER (WHERE cursor ~ '^[0-9]+-[0-9]+-[0-9]+$') AS well_formed,
       count(DISTINCT cursor) AS distinct_cursors, count(*) AS entries
  FROM assoc.changes('feed_app');

-- Paging with the last cursor seen returns the same entries, each once.
CREATE FUNCTION pg_temp.page_through(ns text, page integer)
    RETURNS TABLE (id text, version bigint, op text) LANGUAGE plpgsql AS $$
DECLARE
    last text;
    e record;
    n integer;
BEGIN
    LOOP
        n := 0;
        FOR e IN SELECT * FROM assoc.changes(ns, last, page) LOOP
            id := e.id; version := e.version; op := e.op;
            RETURN NEXT;
            last := e.cursor;
            n := n + 1;
        END LOOP;
        EXIT WHEN n < page;
    END LOOP;
END
$$;
SELECT * FROM pg_temp.page_through('feed_app', 3);
SELECT (SELECT array_agg(id || version ORDER BY ord) FROM pg_temp.page_through('feed_app', 1) WITH ORDINALITY AS p(id, version, op, ord))
     = (SELECT array_agg(id || version) FROM assoc.changes('feed_app')) AS same_order;
-- After the last entry there is nothing; max limits a page.
SELECT count(*) FROM assoc.changes('feed_app',
    (SELECT cursor FROM assoc.changes('feed_app') ORDER BY cursor DESC LIMIT 1) ) AS after_last;
SELECT count(*) FROM assoc.changes('feed_app', NULL, 2) AS page_of_two;

-- head: nothing lies after it until the next write.
SELECT assoc.head('feed_app') AS head \gset
SELECT :'head' ~ '^[0-9]+-[0-9]+-0$' AS head_well_formed;
SELECT count(*) FROM assoc.changes('feed_app', :'head') AS after_head;
SELECT assoc.set('feed_app', 'r3', 'x', '"after head"');
SELECT id, version, op, paths FROM assoc.changes('feed_app', :'head');

-- snapshot: the records with the cursor of the same snapshot, in id order;
-- the feed after that cursor holds what came after, and nothing lies after
-- it until then.
SELECT id, keys, data, version, cursor = assoc.head('feed_app') AS cursor_is_head
  FROM assoc.snapshot('feed_app');
SELECT count(DISTINCT cursor) AS one_cursor FROM assoc.snapshot('feed_app');
SELECT cursor AS snap FROM assoc.snapshot('feed_app') LIMIT 1 \gset
SELECT count(*) FROM assoc.changes('feed_app', :'snap') AS after_snapshot;
SELECT assoc.set('feed_app', 'r3', 'x', '"after snapshot"');
SELECT id, version, op FROM assoc.changes('feed_app', :'snap');
-- An empty namespace: one row, the cursor and no record.
SELECT assoc.create_namespace('feed_empty');
SELECT cursor ~ '^[0-9]+-[0-9]+-0$' AS has_cursor, id, keys, data, version, created_at, updated_at
  FROM assoc.snapshot('feed_empty');
SELECT assoc.drop_namespace('feed_empty');
SELECT * FROM assoc.snapshot(NULL);
SELECT * FROM assoc.snapshot('bad name');
SELECT * FROM assoc.snapshot('no_such_app');

-- assoc.notify = off is recorded with the entry (and sends nothing).
SET assoc.notify = off;
SELECT assoc.set('feed_app', 'r3', 'x', '"quiet"');
RESET assoc.notify;
SELECT assoc.set('feed_app', 'r3', 'x', '"loud"');
SELECT id, version, notify FROM assoc.feed WHERE ns = 'feed_app' AND id = 'r3' ORDER BY version;

-- assoc.origin is recorded with each entry and returned by assoc.changes;
-- empty is none; it is printable ASCII of at most 255 characters.
SET assoc.origin = 'svc-a';
SELECT assoc.set('feed_app', 'r3', 'x', '"from a"');
SET assoc.origin = '';
SELECT assoc.set('feed_app', 'r3', 'x', '"from nobody"');
SET assoc.origin = 'node "b" \ 7';
SELECT assoc.set('feed_app', 'r3', 'x', '"from b"');
RESET assoc.origin;
SELECT assoc.set('feed_app', 'r3', 'x', '"reset"');
SELECT id, version, origin, origin IS NULL AS none FROM assoc.changes('feed_app') WHERE id = 'r3' ORDER BY version;
SELECT set_config('assoc.origin', repeat('x', 256), false);
SET assoc.origin = E'caf\u00e9';
SET assoc.origin = E'tab\there';
SHOW assoc.origin;
SELECT length(set_config('assoc.origin', repeat('x', 255), false));
RESET assoc.origin;

-- Bad arguments.
SELECT * FROM assoc.changes(NULL);
SELECT * FROM assoc.changes('feed_app', NULL, NULL);
SELECT * FROM assoc.changes('feed_app', NULL, 0);
SELECT * FROM assoc.changes('bad name');
SELECT * FROM assoc.changes('no_such_app');
SELECT assoc.head(NULL);
SELECT assoc.head('no_such_app');
SELECT * FROM assoc.changes('feed_app', '');
SELECT * FROM assoc.changes('feed_app', 'abc');
SELECT * FROM assoc.changes('feed_app', '1-2');
SELECT * FROM assoc.changes('feed_app', '1-2-3-4');
SELECT * FROM assoc.changes('feed_app', '-1-2-3');
SELECT * FROM assoc.changes('feed_app', '1-2-3 ');
SELECT * FROM assoc.changes('feed_app', '1-18446744073709551616-3');

-- A cursor of another namespace, or of a dropped and recreated one: 55000.
-- (Errors that quote a cursor are shown with the cursor masked.)
CREATE FUNCTION pg_temp.resync_error(ns text, after text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    msg text; detail text; hint text;
BEGIN
    PERFORM * FROM assoc.changes(ns, after);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || regexp_replace(msg, '"[0-9]+-[0-9]+-[0-9]+"', '"<cursor>"')
           || E'\n' || detail || E'\n' || hint;
END
$$;
SELECT assoc.create_namespace('feed_other');
SELECT assoc.set('feed_other', 'o1', 'a', '1');
SELECT cursor AS other_cursor FROM assoc.changes('feed_other') \gset
SELECT pg_temp.resync_error('feed_app', :'other_cursor');
SELECT assoc.drop_namespace('feed_other');
SELECT count(*) AS entries_left FROM assoc.feed WHERE ns = 'feed_other';
SELECT assoc.create_namespace('feed_other');
SELECT pg_temp.resync_error('feed_other', :'other_cursor');
SELECT count(*) FROM assoc.changes('feed_other', assoc.head('feed_other')) AS fresh_head_ok;

-- Pruning: entries older than assoc.feed_retention go, in feed order;
-- a cursor before the pruned position must resynchronise, later ones
-- continue without loss.
SELECT cursor AS first_cursor FROM assoc.changes('feed_app') LIMIT 1 \gset
SELECT cursor AS fourth_cursor FROM assoc.changes('feed_app') OFFSET 3 LIMIT 1 \gset
SELECT cursor AS fifth_cursor FROM assoc.changes('feed_app') OFFSET 4 LIMIT 1 \gset
WITH aged AS (
    SELECT xid, seq FROM assoc.feed WHERE ns = 'feed_app' ORDER BY xid, seq LIMIT 5
)
UPDATE assoc.feed f SET at = f.at - interval '2 days'
  FROM aged WHERE f.ns = 'feed_app' AND (f.xid, f.seq) = (aged.xid, aged.seq);
-- r3's second entry is old too, but an entry before it is kept, so it stays.
UPDATE assoc.feed SET at = at - interval '2 days' WHERE ns = 'feed_app' AND id = 'r3' AND version = 2;
SELECT assoc.prune() AS pruned;
SELECT id, version, op FROM assoc.changes('feed_app');
SELECT pg_temp.resync_error('feed_app', :'first_cursor');
SELECT pg_temp.resync_error('feed_app', :'fourth_cursor');
SELECT id, version, op FROM assoc.changes('feed_app', :'fifth_cursor');
SELECT count(*) FROM assoc.changes('feed_app', assoc.head('feed_app')) AS head_after_prune;
SELECT assoc.prune() AS pruned_again;

-- Channels: "assoc_" and 32 hex digits, stable, one per namespace and per
-- record, all changed by rotate_channels.
SELECT assoc.channel('feed_app') AS ns_channel, assoc.channel('feed_app', 'r1') AS r1_channel \gset
SELECT :'ns_channel' ~ '^assoc_[0-9a-f]{32}$' AS ns_well_formed,
       :'r1_channel' ~ '^assoc_[0-9a-f]{32}$' AS r1_well_formed,
       assoc.channel('feed_app') = :'ns_channel' AS ns_stable,
       assoc.channel('feed_app', 'r1') = :'r1_channel' AS r1_stable,
       assoc.channel('feed_app', NULL) = :'ns_channel' AS null_id_is_namespace,
       assoc.channel('feed_app', 'r2') <> :'r1_channel' AS per_record,
       assoc.channel('feed_other') <> :'ns_channel' AS per_namespace,
       :'r1_channel' !~ 'feed_app|r1' AS opaque;
SELECT assoc.rotate_channels('feed_app');
SELECT assoc.channel('feed_app') <> :'ns_channel' AS ns_rotated,
       assoc.channel('feed_app', 'r1') <> :'r1_channel' AS r1_rotated;
SELECT assoc.channel(NULL);
SELECT assoc.channel('feed_app', '');
SELECT assoc.channel('no_such_app');
SELECT assoc.rotate_channels('no_such_app');

-- Only roles that may read a namespace obtain its channels or its feed.
CREATE ROLE regress_feed_owner LOGIN;
CREATE ROLE regress_feed_member LOGIN IN ROLE regress_feed_owner;
CREATE ROLE regress_feed_stranger LOGIN;
SELECT assoc.create_namespace('feed_private', 'regress_feed_owner');
SELECT assoc.set('feed_private', 'p1', 'secret', '1');
SELECT assoc.channel('feed_private') AS private_channel \gset
SET ROLE regress_feed_member;
SELECT assoc.channel('feed_private') = :'private_channel' AS member_gets_channel;
SELECT id, version, op FROM assoc.changes('feed_private');
SELECT assoc.head('feed_private') IS NOT NULL AS member_gets_head;
SELECT id, data, version FROM assoc.snapshot('feed_private');
SELECT assoc.rotate_channels('feed_private');
RESET ROLE;
SET ROLE regress_feed_stranger;
SELECT assoc.channel('feed_private');
SELECT assoc.channel('feed_private', 'p1');
SELECT * FROM assoc.changes('feed_private');
SELECT assoc.head('feed_private');
SELECT * FROM assoc.snapshot('feed_private');
SELECT assoc.rotate_channels('feed_private');
SELECT count(*) AS visible_entries FROM assoc.feed WHERE ns = 'feed_private';
SELECT count(*) AS visible_secrets FROM assoc.namespaces WHERE ns = 'feed_private';
-- The registry of listened channels is for monitoring roles only.
SELECT * FROM assoc.notify_registry();
RESET ROLE;
GRANT pg_monitor TO regress_feed_stranger;
SET ROLE regress_feed_stranger;
SELECT filtering, capacity FROM assoc.notify_registry();
RESET ROLE;

-- wait_notified: bad arguments, and success once nothing is pending.
SELECT assoc.wait_notified(NULL);
SELECT assoc.wait_notified(-1);
SELECT assoc.wait_notified();
-- A transaction that has written the feed would wait for itself.
BEGIN;
SELECT assoc.set('feed_app', 'waits', 'x', '1');
SELECT assoc.wait_notified(100);
ROLLBACK;
BEGIN;
SELECT assoc.wait_notified(100);
SELECT assoc.set('feed_app', 'waits', 'x', '1');
ROLLBACK;

SELECT assoc.drop_namespace('feed_private');
SELECT assoc.drop_namespace('feed_other');
SELECT assoc.drop_namespace('feed_app');
DROP ROLE regress_feed_owner, regress_feed_member, regress_feed_stranger;
