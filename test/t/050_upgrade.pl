# Upgrade from 0.1.0 (README, Upgrading).
#
# Database "upgraded" gets the extension at 0.1.0 (its frozen install
# script, src/updates/pg_assoc--0.1.0.sql) and, still on 0.1.0's catalogs
# but with the current library, two non-superuser roles write records by
# name and by keys, with history, op_ids and feed entries; every 0.1.0 SQL
# function is called once and must work as before (or, for functions listed
# in %refused_before_update, fail telling the user to run ALTER EXTENSION
# pg_assoc UPDATE).  Then ALTER EXTENSION pg_assoc UPDATE.  Database "fresh"
# gets CREATE EXTENSION pg_assoc.
#
# The two databases' extension objects are compared from the catalogs:
# test/t/050_upgrade_catalog.sql describes every member object of the
# extension and what hangs off it, one sorted line per property, without
# OIDs; a difference fails with a unified diff.  (pg_dump prints only
# CREATE EXTENSION for member objects, so comparing dumps would prove
# nothing.)  Then the data written before the upgrade must read the same,
# stay isolated per role, take new writes with the next versions, replay
# its op_ids with their first results, and the feed must continue from
# cursors handed out before the upgrade.
use strict;
use warnings;
use File::Basename qw(dirname);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgAssocTest;

# 0.1.0 functions that the current library refuses on 0.1.0's catalogs
# (until ALTER EXTENSION pg_assoc UPDATE), by name.  A refusal must say to
# run ALTER EXTENSION pg_assoc UPDATE; every other function must work as
# it did in 0.1.0.  Today the library serves every 0.1.0 function.
my %refused_before_update = ();

my $catalog_sql = slurp_file(dirname(__FILE__) . '/050_upgrade_catalog.sql');

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;
skip_all_without_lz4($node);

# Runs SQL in a database as a role ('' = the bootstrap superuser) and
# returns its output; dies on error.
sub run_as
{
	my ($db, $role, $sql) = @_;
	my $set = $role eq '' ? '' : "SET ROLE $role;\n";
	return $node->safe_psql($db, $set . $sql);
}

# Runs SQL that must fail; returns psql's stderr (empty if it succeeded).
sub error_as
{
	my ($db, $role, $sql) = @_;
	my $set = $role eq '' ? '' : "SET ROLE $role;\n";
	my ($ret, $out, $err) = $node->psql($db, $set . $sql);
	return $ret == 0 ? '' : $err;
}

# ---------------------------------------------------------------------
# 1. 0.1.0, with the current library
# ---------------------------------------------------------------------

$node->safe_psql('postgres', 'CREATE DATABASE upgraded');
{
	# CREATE FUNCTION ... LANGUAGE C looks its symbol up in the library
	# (check_function_bodies is on), so this alone fails if the library
	# lost a symbol that the 0.1.0 script names.
	my ($ret, $out, $err) = $node->psql('upgraded',
		"SET check_function_bodies = on; CREATE EXTENSION pg_assoc VERSION '0.1.0'");
	is($ret, 0, 'CREATE EXTENSION pg_assoc VERSION 0.1.0 with the current library')
	  or diag($err);
}
is( $node->safe_psql(
		'upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_assoc'}),
	'0.1.0',
	'the upgraded database starts at 0.1.0');
# And explicitly: PostgreSQL's validator of C functions loads the library
# and looks up each function's symbol and its info record, for every C
# function of the 0.1.0 catalog.
{
	my ($ret, $out, $err) = $node->psql(
		'upgraded', q{
SELECT count(*) FROM (
  SELECT pg_catalog.fmgr_c_validator(p.oid)
    FROM pg_proc p
    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'pg_assoc'
   WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')) s});
	is($ret, 0, 'every C symbol named by the 0.1.0 script resolves in the current library')
	  or diag($err);
	cmp_ok($out, '>', 50, 'and they are all the C functions of 0.1.0');
}

$node->safe_psql(
	'upgraded', q{
CREATE ROLE app_chat NOLOGIN;
CREATE ROLE app_team NOLOGIN;
CREATE ROLE app_probe NOLOGIN;
});

# The writes of the two applications, each run and kept with its output:
# every one with an op_id is retried after the upgrade and must return
# this output again.  For removals the compared columns are those a
# replay keeps (ids, keys, versions; see README, op_id).
my @writes = (
	[ app_chat => undef, q{SELECT assoc.create_namespace('chat')} ],
	[ app_chat => undef, q{SELECT assoc.alter_namespace('chat', history_depth => 3)} ],
	[ app_chat => 'c-set', q{SELECT assoc.set('chat', 'user/42', 'name', '"Homer"', NULL, 'c-set')} ],
	[ app_chat => 'c-multi',
		q{SELECT assoc.set_multi('chat', 'user/42', '[{"path": "kids[0]", "data": "Bart"}, {"path": "kids[1]", "data": "Lisa"}]', 1, 'c-multi')} ],
	[ app_chat => 'c-erase', q{SELECT assoc.erase('chat', 'user/42', 'kids[0]', NULL, 'c-erase')} ],
	[ app_chat => 'c-noop', q{SELECT assoc.set('chat', 'user/42', 'name', '"Homer"', NULL, 'c-noop')} ],
	[ app_chat => 'c-rollback', q{SELECT assoc.rollback('chat', 'user/42', 2, 3, 'c-rollback')} ],
	[ app_chat => 'c-create-m1',
		q{SELECT assoc.create('chat', '{"msg": "hello"}', '{room:GENERAL,user:42}', 'm1', 'c-create-m1')} ],
	[ app_chat => undef, q{SELECT assoc.create('chat', '{"msg": "hi"}', '{room:GENERAL,user:7}', 'm2')} ],
	[ app_chat => 'c-create-gen', q{SELECT assoc.create('chat', '{"msg": "dm"}', '{room:DM,user:42}', NULL, 'c-create-gen')} ],
	[ app_chat => 'c-link', q{SELECT assoc.link('chat', 'm2', '{thread:t1}', NULL, 'c-link')} ],
	[ app_chat => 'c-unlink', q{SELECT assoc.unlink('chat', 'm2', '{user:7}', 2, 'c-unlink')} ],
	[ app_chat => undef, q{SELECT assoc.create('chat', '{"msg": "topic"}', '{room:GENERAL}', 'm3')} ],
	[ app_chat => 'c-update',
		q{SELECT id, keys, data, version FROM assoc.update_by('chat', '{room:GENERAL}', '{"msg": "edited"}', false, 'c-update')} ],
	[ app_chat => 'c-upsert',
		q{SELECT keys, data, version FROM assoc.update_by('chat', '{room:LOBBY}', '{"topic": "welcome"}', true, 'c-upsert')} ],
	[ app_chat => undef, q{SELECT assoc.create('chat', '{"msg": "gone"}', '{room:TMP}', 'm9')} ],
	[ app_chat => 'c-remove', q{SELECT assoc.remove('chat', 'm9', 1, 'c-remove')} ],
	[ app_chat => undef, q{SELECT assoc.create('chat', '{"msg": "old 1"}', '{room:OLD,user:1}', 'm7')} ],
	[ app_chat => undef, q{SELECT assoc.create('chat', '{"msg": "old 2"}', '{room:OLD,user:2}', 'm8')} ],
	[ app_chat => 'c-remove-by',
		q{SELECT id, keys, version FROM assoc.remove_by('chat', '{room:OLD}', 'c-remove-by') ORDER BY id} ],
	[ app_team => undef, q{SELECT assoc.create_namespace('team')} ],
	[ app_team => undef, q{SELECT assoc.alter_namespace('team', history_depth => 2)} ],
	[ app_team => 't-set', q{SELECT assoc.set('team', 'roster', NULL, '{"players": []}', 0, 't-set')} ],
	[ app_team => 't-add', q{SELECT assoc.set('team', 'roster', 'players[0]', '"Ann"', NULL, 't-add')} ],
	[ app_team => undef, q{SELECT assoc.set('team', 'roster', 'players[1]', '"Bob"')} ],
	[ app_team => undef, q{SELECT assoc.link('team', 'roster', '{season:2024,team:red}')} ],
	[ app_team => 't-erase', q{SELECT assoc.erase('team', 'roster', 'players[1]', 4, 't-erase')} ],
	[ app_team => 't-game', q{SELECT assoc.create('team', '{"date": "2024-05-01"}', '{season:2024,kind:game}', 'game/1', 't-game')} ],
	[ app_team => undef, q{SELECT assoc.set('team', 'game/1', 'score', '[3, 1]')} ],
	[ app_team => undef, q{SELECT assoc.create('team', '{"date": "2024-05-08"}', '{season:2024,kind:game}', 'game/2')} ],
	[ app_team => 't-remove', q{SELECT assoc.remove('team', 'game/2', NULL, 't-remove')} ],
	[ app_team => 't-update',
		q{SELECT id, keys, data, version FROM assoc.update_by('team', '{season:2024,team:red}', '{"players": ["Ann", "Cid"]}', false, 't-update')} ],
);
my @replays;
foreach my $w (@writes)
{
	my ($role, $op, $sql) = @$w;
	my $out = run_as('upgraded', $role, $sql);
	push @replays, [ $role, $op, $sql, $out ] if defined $op;
}

# A cursor from the middle of each feed and one of its end, handed out
# before the upgrade.
my %mid_cursor;
my %last_cursor;
my %head;
foreach my $app ([ app_chat => 'chat' ], [ app_team => 'team' ])
{
	my ($role, $ns) = @$app;
	my @cursors = split /\n/,
	  run_as('upgraded', $role, "SELECT cursor FROM assoc.changes('$ns')");
	cmp_ok(scalar(@cursors), '>=', 8, "the $ns feed has entries before the upgrade");
	$mid_cursor{$ns} = $cursors[ int(@cursors / 2) ];
	$last_cursor{$ns} = $cursors[-1];
	$head{$ns} = run_as('upgraded', $role, "SELECT assoc.head('$ns')");
}
is( run_as(
		'upgraded', 'app_chat',
		q{SELECT string_agg(version::text, ',' ORDER BY version) FROM assoc.history('chat', 'user/42')}),
	'1,2,3,4',
	'chat keeps history (depth 3) before the upgrade');

# A user table with an assockey column and the extension's three index
# kinds: it must keep working across the upgrade too.
$node->safe_psql(
	'upgraded', q{
-- No autovacuum: the GIN probe reads the pending list before its VACUUM.
CREATE TABLE kstat (i integer PRIMARY KEY, k assoc.assockey NOT NULL)
    WITH (autovacuum_enabled = off);
CREATE INDEX kstat_gin ON kstat USING gin (k);
CREATE INDEX kstat_btree ON kstat USING btree (k);
CREATE INDEX kstat_hash ON kstat USING hash (k);
INSERT INTO kstat
SELECT i, assoc.assockey_from_array(ARRAY['room:r' || (i % 10), 'user:' || i])
  FROM generate_series(1, 1000) AS i;
-- The planner's row estimate and plan of a query, for the probes below.
CREATE FUNCTION est_rows(q text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
    RETURN (j -> 0 -> 'Plan' ->> 'Plan Rows')::integer;
END $$;
CREATE FUNCTION plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; p text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP p := p || r || E'\n'; END LOOP;
    RETURN p;
END $$;
});

# One call of every 0.1.0 SQL function (by name; no function of the
# extension is overloaded), with its exact result.  app_probe works in its
# own namespace "probe", dropped at the end.  Run against 0.1.0's
# catalogs before the upgrade and again after it.
my $keyfile = $node->basedir . '/assockey.bin';
my $gin_queries = q{
SET enable_seqscan = off;
SELECT plan_of($q$SELECT * FROM kstat WHERE k OPERATOR(assoc.@>) '{room:r1}'$q$) LIKE '%kstat_gin%';
SELECT count(*) FROM kstat WHERE k OPERATOR(assoc.@>) '{room:r1}';
SELECT count(*) FROM kstat WHERE k OPERATOR(assoc.&&) '{room:r1,room:r2}';
SELECT count(*) FROM kstat WHERE k OPERATOR(assoc.<@) '{room:r1,user:1,user:11}';
SELECT count(*) FROM kstat WHERE k OPERATOR(assoc.@>) '{}';
};
my @probes = (
	[ [qw(parse_path)], '', q{SELECT assoc.parse_path('a.b[2]')}, '["a", "b", 2]' ],
	[ [qw(path_get)], '', q{SELECT assoc.path_get('{"a": {"b": [1, 2, 3]}}', 'a.b[2]')}, '3' ],
	[ [qw(path_set)], '', q{SELECT assoc.path_set('{}', 'a.b[1]', '"x"')}, '{"a": {"b": [null, "x"]}}' ],
	[ [qw(path_erase)], '', q{SELECT assoc.path_erase('{"a": {"b": 1, "c": 2}}', 'a.b')}, '{"a": {"c": 2}}' ],
	[ [qw(patch)], '', q{SELECT assoc.patch('{"a": 1}', '[{"path": "b", "data": 2}, {"path": "a"}]')}, '{"b": 2}' ],
	[ [qw(has_forbidden_keys)], '',
		q{SELECT assoc.has_forbidden_keys('{"x": {"__proto__": 1}}'), assoc.has_forbidden_keys('{"x": 1}')},
		't|f' ],
	[ [qw(assockey_in assockey_out)], '',
		q{SELECT '{user:42, room:GENERAL, user:42}'::assoc.assockey}, '{room:GENERAL,user:42}' ],
	[ [qw(assockey_send)], '', q{SELECT encode(assoc.assockey_send('{a:b}'), 'hex')},
		'0000000100000001610000000162' ],
	[ [qw(assockey_recv)], '',
		qq{COPY (SELECT '{room:x,user:1}'::assoc.assockey) TO '$keyfile' (FORMAT binary);
CREATE TEMP TABLE kt (k assoc.assockey);
COPY kt FROM '$keyfile' (FORMAT binary);
SELECT k FROM kt;},
		'{room:x,user:1}' ],
	[ [qw(assockey_typanalyze assockey_contsel)], '',
		q{ANALYZE kstat;
SELECT most_common_elem_freqs IS NOT NULL, elem_count_histogram IS NOT NULL
  FROM pg_stats WHERE tablename = 'kstat' AND attname = 'k';
SELECT est_rows($q$SELECT * FROM kstat WHERE k OPERATOR(assoc.@>) '{room:r1}'$q$) BETWEEN 50 AND 200;
SELECT est_rows($q$SELECT * FROM kstat WHERE k OPERATOR(assoc.&&) '{room:r1,room:r2}'$q$) BETWEEN 100 AND 400;},
		"t|t\nt\nt" ],
	[ [qw(assockey)], '', q{SELECT assoc.assockey('room', 'GENERAL')}, '{room:GENERAL}' ],
	[ [qw(assockey_from_array)], '', q{SELECT assoc.assockey_from_array(ARRAY['user:42', 'room:a:b'])},
		'{room:a:b,user:42}' ],
	[ [qw(assockey_from_jsonb)], '', q{SELECT assoc.assockey_from_jsonb('[{"model": "room", "id": "GENERAL"}]')},
		'{room:GENERAL}' ],
	[ [qw(assockey_to_json)], '', q{SELECT '{room:GENERAL,user:42}'::assoc.assockey::json},
		'[{"model":"room","id":"GENERAL"},{"model":"user","id":"42"}]' ],
	[ [qw(models ids size)], '',
		q{SELECT assoc.models(k), assoc.ids(k, 'user'), assoc.size(k)
		    FROM (SELECT '{room:a,user:2,user:1}'::assoc.assockey AS k) s},
		'{room,user}|{1,2}|3' ],
	[ [qw(assockey_contains assockey_contained assockey_overlap assockey_eq assockey_ne
		  assockey_lt assockey_le assockey_gt assockey_ge assockey_union assockey_minus)], '',
		q{SELECT a OPERATOR(assoc.@>) b, b OPERATOR(assoc.<@) a, a OPERATOR(assoc.&&) b,
		         a OPERATOR(assoc.=) b, a OPERATOR(assoc.<>) b, a OPERATOR(assoc.<) b,
		         a OPERATOR(assoc.<=) b, a OPERATOR(assoc.>) b, a OPERATOR(assoc.>=) b,
		         b OPERATOR(assoc.||) '{x:1}', a OPERATOR(assoc.-) b
		    FROM (SELECT '{room:a,user:1}'::assoc.assockey AS a, '{user:1}'::assoc.assockey AS b) s},
		't|t|t|f|t|t|t|f|f|{user:1,x:1}|{room:a}' ],
	[ [qw(assockey_cmp)], '',
		q{SELECT assoc.assockey_cmp('{a:b}', '{a:c}'), assoc.assockey_cmp('{a:b}', '{a:b}');
SET enable_seqscan = off;
SELECT string_agg(k::text, ' ' ORDER BY k) FROM kstat WHERE k OPERATOR(assoc.<) '{room:r0,user:110}';},
		"-1|0\n{room:r0,user:10} {room:r0,user:100} {room:r0,user:1000}" ],
	[ [qw(assockey_hash assockey_hash_extended)], '',
		q{SELECT assoc.assockey_hash('{a:b,c:d}') = assoc.assockey_hash('{c:d,a:b}'),
		         (assoc.assockey_hash_extended('{a:b}', 0) & 4294967295)
		           = (assoc.assockey_hash('{a:b}')::bigint & 4294967295);
SET enable_seqscan = off; SET enable_bitmapscan = off;
SELECT plan_of($q$SELECT * FROM kstat WHERE k OPERATOR(assoc.=) '{room:r1,user:1}'$q$) LIKE '%kstat_%';
SELECT count(*) FROM kstat WHERE k OPERATOR(assoc.=) '{room:r1,user:1}';},
		"t|t\nt\n1" ],
	# GIN: the first run reads the pending list (consistent), after VACUUM the
	# main tree (triconsistent).
	[ [qw(assockey_gin_extract_value assockey_gin_extract_query assockey_gin_consistent
		  assockey_gin_triconsistent)], '',
		$gin_queries . "VACUUM kstat;\n" . $gin_queries,
		join("\n", ('t', 100, 200, 2, 1000) x 2) ],
	[ [qw(create_namespace alter_namespace check_namespace check_record)], 'app_probe',
		q{SELECT assoc.create_namespace('probe');
SELECT assoc.alter_namespace('probe', history_depth => 2);
SELECT assoc.check_namespace('probe'), assoc.check_record('probe', 'r');},
		"\n\n|" ],
	[ [qw(set erase set_multi get version history rollback)], 'app_probe',
		q{SELECT assoc.set('probe', 'r', 'a', '1');
SELECT assoc.erase('probe', 'r', 'a');
SELECT assoc.set_multi('probe', 'r', '[{"path": "b", "data": [1]}]');
SELECT assoc.get('probe', 'r'), assoc.get('probe', 'r', 'b[0]'), assoc.version('probe', 'r');
SELECT assoc.rollback('probe', 'r', 1);
SELECT version, data, keys, op FROM assoc.history('probe', 'r');},
		join("\n", 1, 2, 3, '{"b": [1]}|1|3', 4,
			'2|{}|{}|erase', '3|{"b": [1]}|{}|patch', '4|{"a": 1}|{}|rollback') ],
	[ [qw(create link unlink read_by update_by remove_by remove)], 'app_probe',
		q{SELECT assoc.create('probe', '{"m": 1}', '{room:p}', 'k1');
SELECT assoc.link('probe', 'k1', '{user:1}'), assoc.unlink('probe', 'k1', '{user:1}');
SELECT id, keys, data, version FROM assoc.read_by('probe', '{room:p}');
SELECT id, keys, data, version FROM assoc.update_by('probe', '{room:p}', '{"m": 2}');
SELECT id, keys, data, version FROM assoc.remove_by('probe', '{room:p}');
SELECT assoc.remove('probe', 'r');
SELECT assoc.remove('probe', 'r');},
		join("\n", 'k1', '2|3', 'k1|{room:p}|{"m": 1}|3', 'k1|{room:p}|{"m": 2}|4',
			'k1|{room:p}|{"m": 2}|4', 't', 'f') ],
	[ [qw(changes head channel rotate_channels)], 'app_probe',
		q{SELECT id, version, op, paths FROM assoc.changes('probe');
SELECT count(*) FROM assoc.changes('probe', assoc.head('probe'));
CREATE TEMP TABLE ch AS SELECT assoc.channel('probe') AS c, assoc.channel('probe', 'k1') AS r;
SELECT c ~ '^assoc_[0-9a-f]{32}$', c <> r FROM ch;
SELECT assoc.rotate_channels('probe');
SELECT c <> assoc.channel('probe'), r <> assoc.channel('probe', 'k1') FROM ch;},
		join("\n",
			'r|1|set|{a}', 'r|2|erase|{a}', 'r|3|patch|{b}', 'r|4|rollback|',
			'k1|1|create|', 'k1|2|link|', 'k1|3|unlink|', 'k1|4|update|', 'k1|5|remove|',
			'r|5|remove|', '0', 't|t', '', 't|t') ],
	[ [qw(wait_notified)], 'app_probe', q{SELECT assoc.wait_notified(60000)}, 't' ],
	[ [qw(prune)], '', q{SELECT assoc.prune()}, '0' ],
	[ [qw(drop_namespace)], 'app_probe',
		q{SELECT assoc.drop_namespace('probe');
SELECT count(*) FROM assoc.namespaces WHERE ns = 'probe';},
		"\n0" ],
);

# Runs every probe in a database; $stage names the run in test names.
sub run_probes
{
	my ($db, $stage, $refused) = @_;
	foreach my $p (@probes)
	{
		my ($fns, $role, $sql, $expected) = @$p;
		my @refused = grep { $refused->{$_} } @$fns;
		my $name = join(', ', @$fns);
		my $set = $role eq '' ? '' : "SET ROLE $role;\n";
		my ($ret, $out, $err) = $node->psql($db, $set . $sql);
		if (@refused)
		{
			isnt($ret, 0, "$stage: $name refused");
			like($err, qr/ALTER EXTENSION pg_assoc UPDATE/,
				"$stage: the refusal of $name says to run ALTER EXTENSION pg_assoc UPDATE");
		}
		else
		{
			is($ret, 0, "$stage: $name works") or diag($err);
			is($out, $expected, "$stage: $name gives its 0.1.0 result");
		}
	}
}

# Every function of 0.1.0 is probed.
{
	my %probed = map { $_ => 1 } map { @{ $_->[0] } } @probes;
	my @missing = grep { !$probed{$_} } split /\n/, $node->safe_psql(
		'upgraded', q{
SELECT p.proname FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'pg_assoc'
 ORDER BY 1});
	is_deeply(\@missing, [], 'every function of 0.1.0 has a probe');
}
run_probes('upgraded', 'before the upgrade', \%refused_before_update);

# What the two applications see and what the tables hold, before the
# upgrade; compared again after it.  The ledger's result of a removal is
# left out: 0.2.0 may keep less of it (README, op_id); the replays below
# compare what it keeps.
my @reads = (
	[ app_chat => q{SELECT ns, owner, history_depth, incarnation, created_at FROM assoc.namespaces ORDER BY ns} ],
	[ app_chat => q{SELECT ns, id, keys, data, version, created_at, updated_at FROM assoc.records ORDER BY ns, id} ],
	[ app_chat => q{SELECT id, assoc.version('chat', id), assoc.get('chat', id), assoc.get('chat', id, 'msg')
		FROM assoc.records ORDER BY id} ],
	[ app_chat => q{SELECT * FROM assoc.history ORDER BY ns, id, version} ],
	[ app_chat => q{SELECT * FROM assoc.history('chat', 'user/42')} ],
	[ app_chat => q{SELECT * FROM assoc.history('chat', 'm2')} ],
	[ app_chat => q{SELECT id, keys, data, version FROM assoc.read_by('chat', '{room:GENERAL}')} ],
	[ app_chat => q{SELECT cursor, id, version, op, paths, at FROM assoc.changes('chat')} ],
	[ app_chat => q{SELECT ns, xid, seq, id, version, op, paths, notify, at FROM assoc.feed ORDER BY ns, xid, seq} ],
	[ app_chat => q{SELECT assoc.channel('chat'), assoc.channel('chat', 'user/42')} ],
	[ app_team => q{SELECT ns, owner, history_depth, incarnation, created_at FROM assoc.namespaces ORDER BY ns} ],
	[ app_team => q{SELECT ns, id, keys, data, version, created_at, updated_at FROM assoc.records ORDER BY ns, id} ],
	[ app_team => q{SELECT * FROM assoc.history ORDER BY ns, id, version} ],
	[ app_team => q{SELECT * FROM assoc.history('team', 'roster')} ],
	[ app_team => q{SELECT id, keys, version FROM assoc.read_by('team', '{season:2024}')} ],
	[ app_team => q{SELECT cursor, id, version, op, paths, at FROM assoc.changes('team')} ],
	[ app_team => q{SELECT assoc.channel('team'), assoc.channel('team', 'roster')} ],
	[ '' => q{SELECT ns, op_id, fn, encode(args, 'hex'),
		CASE WHEN fn NOT IN ('remove', 'remove_by') THEN result END, at FROM assoc.ops ORDER BY ns, op_id} ],
	[ '' => q{SELECT (SELECT count(*) FROM assoc.namespaces), (SELECT count(*) FROM assoc.records),
		(SELECT count(*) FROM assoc.history), (SELECT count(*) FROM assoc.feed),
		(SELECT count(*) FROM assoc.ops)} ],
	[ '' => q{SELECT last_value, is_called FROM assoc.incarnation_seq} ],
	[ '' => q{SELECT i, k FROM kstat WHERE i % 97 = 0 ORDER BY i} ],
);

sub read_all
{
	my @out;
	push @out, run_as('upgraded', $_->[0], $_->[1]) foreach @reads;
	return @out;
}
my @before = read_all();
is( $node->safe_psql(
		'upgraded', q{SELECT (SELECT count(DISTINCT ns) FROM assoc.records),
	(SELECT count(*) >= 6 FROM assoc.history), (SELECT count(*) FROM assoc.ops),
	(SELECT count(DISTINCT owner) FROM assoc.namespaces)}),
	'2|t|' . scalar(@replays) . '|2',
	'before the upgrade: records of two namespaces with two owners, history, one ledger entry per op_id');

# Isolation of the two applications: each sees only its own namespace.
sub check_isolation
{
	my ($stage) = @_;
	foreach my $pair ([ app_chat => 'app_team', 'team', 'roster' ],
		[ app_team => 'app_chat', 'chat', 'user/42' ])
	{
		my ($other, $owner, $ns, $id) = @$pair;
		is( run_as(
				'upgraded', $other,
				qq{SELECT (SELECT count(*) FROM assoc.records WHERE ns = '$ns'),
		(SELECT count(*) FROM assoc.history WHERE ns = '$ns'),
		(SELECT count(*) FROM assoc.feed WHERE ns = '$ns'),
		(SELECT count(*) FROM assoc.namespaces WHERE ns = '$ns')}),
			'0|0|0|0',
			"$stage: $other sees no row of $ns");
		like(error_as('upgraded', $other, 'SELECT count(*) FROM assoc.ops'),
			qr/ERROR:  permission denied for table ops/,
			"$stage: $other cannot read the ledger");
		foreach my $sql (
			"SELECT assoc.get('$ns', '$id')",
			"SELECT * FROM assoc.history('$ns', '$id')",
			"SELECT * FROM assoc.changes('$ns')",
			"SELECT assoc.set('$ns', '$id', 'x', '1')")
		{
			like(error_as('upgraded', $other, $sql),
				qr/ERROR:  namespace "$ns" does not exist/,
				"$stage: $other is refused $sql as if $ns did not exist");
		}
	}
	# The op_ids of one namespace mean nothing in another: the same op_id
	# and arguments in app_team's namespace are a new write there, not a
	# replay of chat's (the write is rolled back).
	is( run_as(
			'upgraded', 'app_team',
			q{BEGIN; SELECT assoc.set('team', 'user/42', 'name', '"Homer"', NULL, 'c-set'); ROLLBACK;}),
		'1', "$stage: an op_id of chat is a new op_id in team");
}
check_isolation('before the upgrade');

# A description of 0.1.0's catalog, kept beside the others for debugging.
my $tmp = $PostgreSQL::Test::Utils::tmp_check;
PostgreSQL::Test::Utils::append_to_file("$tmp/catalog-0.1.0.txt",
	$node->safe_psql('upgraded', $catalog_sql) . "\n");

# ---------------------------------------------------------------------
# 2. ALTER EXTENSION pg_assoc UPDATE; 3. a fresh install
# ---------------------------------------------------------------------

{
	my ($ret, $out, $err) = $node->psql('upgraded', 'ALTER EXTENSION pg_assoc UPDATE');
	is($ret, 0, 'ALTER EXTENSION pg_assoc UPDATE') or diag($err);
}
is( $node->safe_psql(
		'upgraded', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_assoc'}),
	'0.2.0',
	'the upgraded database is at 0.2.0');

$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION pg_assoc');
is($node->safe_psql('fresh', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_assoc'}),
	'0.2.0', 'a fresh install is at 0.2.0');

# ---------------------------------------------------------------------
# 4. The same extension objects, from the catalogs
# ---------------------------------------------------------------------

my $fresh = $node->safe_psql('fresh', $catalog_sql);
my $upgraded = $node->safe_psql('upgraded', $catalog_sql);
PostgreSQL::Test::Utils::append_to_file("$tmp/catalog-fresh.txt", "$fresh\n");
PostgreSQL::Test::Utils::append_to_file("$tmp/catalog-upgraded.txt", "$upgraded\n");
if ($fresh eq $upgraded)
{
	pass('the upgraded extension has the objects of a fresh install');
}
else
{
	my ($diff, $differr);
	IPC::Run::run(
		[
			'diff', '-u',
			'--label', 'fresh install of 0.2.0',
			'--label', 'upgraded from 0.1.0',
			"$tmp/catalog-fresh.txt", "$tmp/catalog-upgraded.txt"
		],
		'>', \$diff, '2>', \$differr);
	fail('the upgraded extension has the objects of a fresh install');
	diag("The upgrade script (src/updates/pg_assoc--0.1.0--0.2.0.sql) does not make what "
		  . "the install script makes (src/*.sql):\n"
		  . ($diff // '')
		  . ($differr // ''));
}

# The description is not vacuous: objects (and lines) of every kind.
{
	my (%objects, %lines);
	foreach my $line (split /\n/, $fresh)
	{
		my ($kind, $object) = $line =~ /^([^:]+): (.*?) \| / or next;
		$objects{$kind}{$object} = 1;
		$lines{$kind}++;
	}
	my %minimum = (
		'function' => 60,
		'type' => 2,
		'table' => 6,
		'sequence' => 1,
		'index' => 9,
		'column' => 35,
		'constraint' => 11,
		'policy' => 5,
		'operator' => 11,
		'operator family' => 3,
		'operator class' => 3,
		'cast' => 1,
		'schema' => 1,
		'extension' => 1,
		'initial privileges' => 7);
	foreach my $kind (sort keys %minimum)
	{
		my $n = scalar keys %{ $objects{$kind} // {} };
		cmp_ok($n, '>=', $minimum{$kind},
			"the description has at least $minimum{$kind} objects of kind $kind ("
			  . ($lines{$kind} // 0)
			  . ' lines)');
	}
	cmp_ok(scalar(grep { /^function: .* \| source/ } split /\n/, $fresh),
		'>=', 60, 'functions are described with their source');
	my @members = $fresh =~ /^extension: pg_assoc \| member = (.*)$/mg;
	cmp_ok(scalar(@members), '>=', 85, 'the description lists the extension\'s members');
	is_deeply([ $fresh =~ /^(.* \| unhandled member = .*)$/mg ],
		[], 'every member object is of a kind the description knows');
	is_deeply([ $fresh =~ /^(.* \| non-member = .*)$/mg ],
		[], 'a fresh install has no object in its schema outside the extension');
}

# ---------------------------------------------------------------------
# 5. The data survives and stays writable
# ---------------------------------------------------------------------

my @after = read_all();
for my $i (0 .. $#reads)
{
	my ($role, $sql) = @{ $reads[$i] };
	is($after[$i], $before[$i],
		'same after the upgrade, as ' . ($role || 'superuser') . ': ' . ($sql =~ s/\s+/ /gr));
}
check_isolation('after the upgrade');

# The feed goes on from cursors handed out before the upgrade: nothing new
# yet after the last one, the same entries after the middle one.
foreach my $app ([ app_chat => 'chat' ], [ app_team => 'team' ])
{
	my ($role, $ns) = @$app;
	is(run_as('upgraded', $role, "SELECT count(*) FROM assoc.changes('$ns', '$last_cursor{$ns}')"),
		'0', "$ns: nothing after the last pre-upgrade cursor yet");
	is(run_as('upgraded', $role, "SELECT count(*) FROM assoc.changes('$ns', '$head{$ns}')"),
		'0', "$ns: nothing after the pre-upgrade head yet");
}
my $chat_mid_before = run_as('upgraded', 'app_chat',
	"SELECT * FROM assoc.changes('chat', '$mid_cursor{chat}')");

# op_id retries of the calls made before the upgrade return their first
# results and change nothing.
my $state = q{SELECT (SELECT string_agg(ns || '/' || id || '@' || version, ',' ORDER BY ns, id)
	FROM assoc.records), (SELECT count(*) FROM assoc.feed), (SELECT count(*) FROM assoc.history),
	(SELECT count(*) FROM assoc.ops), (SELECT max(updated_at) FROM assoc.records)};
my $state_before = $node->safe_psql('upgraded', $state);
foreach my $r (@replays)
{
	my ($role, $op, $sql, $first) = @$r;
	my ($ret, $out, $err) = $node->psql('upgraded', "SET ROLE $role;\n$sql");
	is($ret, 0, "the retry of op_id $op succeeds after the upgrade") or diag($err);
	is($out, $first, "the retry of op_id $op returns its first result");
}
is($node->safe_psql('upgraded', $state), $state_before,
	'the retries changed no record, feed, history or ledger row');

# New writes take the next versions, keep history and extend the feed.
my @new_writes = (
	[ app_chat => q{SELECT assoc.set('chat', 'user/42', 'name', '"Marge"')}, '5' ],
	[ app_chat => q{SELECT assoc.set_multi('chat', 'm1', '[{"path": "seen", "data": true}]', 1)}, '2' ],
	[ app_chat => q{SELECT assoc.link('chat', 'm3', '{thread:t9}')}, '3' ],
	[ app_chat => q{SELECT assoc.remove('chat', 'm2')}, 't' ],
	[ app_chat => q{SELECT assoc.create('chat', '{"msg": "new"}', '{room:GENERAL}', 'm10')}, 'm10' ],
	[ app_team => q{SELECT assoc.set('team', 'roster', 'coach', '"Dee"', 6)}, '7' ],
	[ app_team => q{SELECT assoc.erase('team', 'game/1', 'score')}, '3' ],
);
foreach my $w (@new_writes)
{
	my ($role, $sql, $expected) = @$w;
	is(run_as('upgraded', $role, $sql), $expected, "after the upgrade, as $role: $sql");
}
is( run_as(
		'upgraded', 'app_chat',
		q{SELECT string_agg(version || ':' || op, ',' ORDER BY version) FROM assoc.history('chat', 'user/42')}),
	'2:patch,3:erase,4:rollback,5:set',
	'chat history goes on after the upgrade (depth 3)');
is( run_as(
		'upgraded', 'app_team',
		q{SELECT string_agg(version || ':' || op, ',' ORDER BY version) FROM assoc.history('team', 'roster')}),
	'5:erase,6:update,7:set',
	'team history goes on after the upgrade (depth 2)');
is( run_as(
		'upgraded', 'app_chat',
		qq{SELECT string_agg(id || '\@' || version || ':' || op, ',')
		     FROM assoc.changes('chat', '$last_cursor{chat}')}),
	'user/42@5:set,m1@2:patch,m3@3:link,m2@4:remove,m10@1:create',
	'chat: the changes after the last pre-upgrade cursor are exactly the new writes');
is( run_as(
		'upgraded', 'app_chat',
		qq{SELECT string_agg(id || '\@' || version || ':' || op, ',')
		     FROM assoc.changes('chat', '$head{chat}')}),
	'user/42@5:set,m1@2:patch,m3@3:link,m2@4:remove,m10@1:create',
	'chat: and so are the changes after the pre-upgrade head');
is( run_as(
		'upgraded', 'app_team',
		qq{SELECT string_agg(id || '\@' || version || ':' || op, ',')
		     FROM assoc.changes('team', '$last_cursor{team}')}),
	'roster@7:set,game/1@3:erase',
	'team: the changes after the last pre-upgrade cursor are exactly the new writes');
{
	my $mid_after = run_as('upgraded', 'app_chat',
		"SELECT * FROM assoc.changes('chat', '$mid_cursor{chat}')");
	my @mid_before = split /\n/, $chat_mid_before;
	my @mid_after = split /\n/, $mid_after;
	cmp_ok(scalar(@mid_before), '>', 0, 'chat: entries after the middle pre-upgrade cursor');
	is_deeply([ @mid_after[ 0 .. $#mid_before ] ],
		\@mid_before, 'chat: the pre-upgrade entries after the middle cursor come again, unchanged');
	is(scalar(@mid_after), scalar(@mid_before) + 5, 'chat: followed by the five new entries');
}
is( run_as('upgraded', 'app_chat',
		q{SELECT count(*) FROM assoc.changes('chat', assoc.head('chat'))}),
	'0', 'chat: the head after the new writes is the present');
is( $node->safe_psql('upgraded', q{SELECT assoc.wait_notified(60000)}),
	't', 'the notification worker announces the writes after the upgrade');

# The 0.1.0 API, once more, after the upgrade: everything works.
run_probes('upgraded', 'after the upgrade', {});

$node->stop;
done_testing();
