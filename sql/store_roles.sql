-- Isolation between applications (SPEC §4): two non-superuser roles, each
-- owning a namespace, try to read, write, remove and guess each other's
-- records, directly and through the functions.
\set VERBOSITY default
CREATE ROLE regress_assoc_alice LOGIN;
CREATE ROLE regress_assoc_bob LOGIN;
CREATE ROLE regress_assoc_team NOLOGIN;
CREATE ROLE regress_assoc_carol LOGIN IN ROLE regress_assoc_team;
SELECT assoc.create_namespace('alice_app', 'regress_assoc_alice');
SELECT assoc.create_namespace('team_app', 'regress_assoc_team');

-- A role may only create namespaces owned by a role it belongs to.
SET ROLE regress_assoc_bob;
SELECT assoc.create_namespace('bob_app');
SELECT owner FROM assoc.namespaces ORDER BY ns;
SELECT assoc.create_namespace('stolen', 'regress_assoc_alice');
SELECT assoc.set('bob_app', 'secret', 'pin', '1234');
SELECT assoc.create('bob_app', '{"msg": "bob only"}', '{room:B}', 'b1');
RESET ROLE;

SET ROLE regress_assoc_alice;
SELECT assoc.set('alice_app', 'profile', 'name', '"Alice"');
SELECT assoc.create('alice_app', '{"msg": "alice only"}', '{room:B}', 'a1');
-- Alice sees her namespace only, directly and through the functions.
SELECT ns FROM assoc.namespaces ORDER BY ns;
SELECT ns, id FROM assoc.records ORDER BY ns, id;
SELECT ns, id, op FROM assoc.feed ORDER BY ns, id;
SELECT id FROM assoc.read_by('alice_app', '{room:B}');
-- Bob's namespace behaves exactly like a missing one (42704), whatever she tries.
SELECT assoc.get('bob_app', 'secret');
SELECT assoc.version('bob_app', 'secret');
SELECT assoc.read_by('bob_app', '{room:B}');
SELECT assoc.history('bob_app', 'secret');
SELECT assoc.set('bob_app', 'secret', 'pin', '0');
SELECT assoc.erase('bob_app', 'secret', 'pin');
SELECT assoc.set_multi('bob_app', 'secret', '[{"path": "pin"}]');
SELECT assoc.remove('bob_app', 'secret');
SELECT assoc.create('bob_app', '{}');
SELECT assoc.update_by('bob_app', '{room:B}', '{"hacked": true}', true);
SELECT assoc.remove_by('bob_app', '{room:B}');
SELECT assoc.link('bob_app', 'b1', '{user:alice}');
SELECT assoc.rollback('bob_app', 'secret', 1);
SELECT assoc.alter_namespace('bob_app', history_depth => 5);
SELECT assoc.drop_namespace('bob_app');
SELECT assoc.get('no_such_app', 'secret');
-- Direct writes are not granted to anyone but the extension owner.
UPDATE assoc.records SET data = '{}' WHERE ns = 'alice_app';
DELETE FROM assoc.records WHERE ns = 'bob_app';
INSERT INTO assoc.records (ns, id, data, version) VALUES ('alice_app', 'direct', '{}', 1);
INSERT INTO assoc.namespaces (ns, owner, incarnation) VALUES ('mine', 'regress_assoc_alice', 1);
SELECT * FROM assoc.ops;
SELECT assoc.prune();
-- Functions pin search_path: objects in a schema of hers change nothing.
RESET ROLE;
CREATE SCHEMA alice_evil AUTHORIZATION regress_assoc_alice;
SET ROLE regress_assoc_alice;
CREATE FUNCTION alice_evil.text_eq_hijack(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR alice_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = alice_evil.text_eq_hijack);
CREATE FUNCTION alice_evil.pg_has_role(oid, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
SET search_path = alice_evil, pg_catalog;
SELECT assoc.get('bob_app', 'secret');
SELECT assoc.set('alice_app', 'profile', 'name', '"Alice"') AS no_op;
SELECT count(*) AS visible_records FROM assoc.records;
RESET search_path;
RESET ROLE;
DROP SCHEMA alice_evil CASCADE;

-- Membership in the owner role is what counts.
SET ROLE regress_assoc_carol;
SELECT assoc.set('team_app', 'shared', 'by', '"carol"');
SELECT assoc.get('team_app', 'shared');
SELECT assoc.get('alice_app', 'profile');
RESET ROLE;

-- Bob's data is intact; a superuser sees everything.
SELECT ns, id, data, version FROM assoc.records WHERE ns IN ('alice_app', 'bob_app', 'team_app') ORDER BY ns, id;

-- EXPLAIN as a non-superuser: the GIN index serves read_by's query under
-- row-level security (the operators are LEAKPROOF), chosen by the planner.
INSERT INTO assoc.records (ns, id, keys, data, version)
SELECT 'alice_app', 'bulk' || i, assoc.assockey_from_array(ARRAY['room:r' || (i % 500), 'user:u' || i]), '{}', 1
  FROM generate_series(1, 20000) AS i;
VACUUM ANALYZE assoc.records;  -- flushes the GIN pending list, as autovacuum does
-- The plan's scan nodes and index condition (how PostgreSQL prints the
-- rest, such as the subplan's filter, differs between versions).
CREATE FUNCTION pg_temp.plan_nodes(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    IF line ~ ' on |Index Cond' THEN
      RETURN NEXT regexp_replace(line, '^\s*(->\s*)?', '');
    END IF;
  END LOOP;
END
$$;
SET ROLE regress_assoc_alice;
SELECT pg_temp.plan_nodes($$SELECT id FROM assoc.records WHERE ns = 'alice_app' AND keys OPERATOR(assoc.@>) '{room:r7}'$$);
SELECT count(*) FROM assoc.read_by('alice_app', '{room:r7}');
RESET ROLE;

SELECT assoc.drop_namespace('alice_app'), assoc.drop_namespace('bob_app'), assoc.drop_namespace('team_app');
DROP ROLE regress_assoc_alice, regress_assoc_bob, regress_assoc_carol, regress_assoc_team;
