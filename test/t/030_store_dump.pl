# Backup of the record store (SPEC §4): pg_dump of a database holding
# records in two namespaces owned by two non-superuser roles, written by
# name and by associations, with history and op_ids, restored with
# pg_restore into a new empty database (the dump carries CREATE EXTENSION
# and the rows of the extension's config tables).  Every read and every
# table must be identical, the sequences must go on where they were, and
# a replayed op_id must return its original result without a new version.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('store_dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION pg_assoc');

# Two applications, each its own role and namespace.
$node->safe_psql(
	'src', q{
CREATE ROLE app_chat NOLOGIN;
CREATE ROLE app_team NOLOGIN;
SELECT assoc.create_namespace('chat', 'app_chat');
SELECT assoc.create_namespace('team', 'app_team');
SELECT assoc.alter_namespace('team', history_depth => 3);
});

# Writes as each role: by name, by associations, with and without op_ids,
# a no-op under an op_id, history beyond its depth, a removal.
$node->safe_psql(
	'src', q{
SET ROLE app_chat;
SELECT assoc.create('chat', '{"msg": "hello"}', '{room:GENERAL,user:42}', 'm1');
SELECT assoc.create('chat', '{"msg": "hi"}', '{room:GENERAL,user:7}', 'm2', 'op-create-m2');
SELECT assoc.create('chat', '{"msg": "dm"}', '{room:DM,user:42}', NULL, 'op-create-gen');
SELECT assoc.create('chat', '{"msg": "gone"}', '{room:TMP}', 'm9');
SELECT assoc.remove('chat', 'm9');
SELECT assoc.link('chat', 'm2', '{thread:t1}', NULL, 'op-link-m2');
SELECT assoc.set('chat', 'user/42', 'name', '"Homer"', NULL, 'op-set-1');
SELECT assoc.set('chat', 'user/42', 'name', '"Homer"', NULL, 'op-set-noop');
SELECT assoc.set_multi('chat', 'user/42',
  '[{"path": "kids[0]", "data": "Bart"}, {"path": "kids[1]", "data": "Lisa"}]', 1, 'op-multi-1');
SELECT assoc.update_by('chat', '{room:LOBBY}', '{"topic": "welcome"}', true, 'op-upsert');
RESET ROLE;
SET ROLE app_team;
SELECT assoc.set('team', 'roster', NULL, '{"players": []}', 0, 'op-t-1');
SELECT assoc.set('team', 'roster', 'players[0]', '"Ann"', NULL, 'op-t-2');
SELECT assoc.set('team', 'roster', 'players[1]', '"Bob"');
SELECT assoc.link('team', 'roster', '{season:2024,team:red}');
SELECT assoc.set('team', 'roster', 'coach', '"Cid"', NULL, 'op-t-3');
SELECT assoc.erase('team', 'roster', 'players[1]', 5, 'op-t-4');
SELECT assoc.rollback('team', 'roster', 4, NULL, 'op-t-rb');
SELECT assoc.create('team', '{"date": "2024-05-01"}', '{season:2024,kind:game}', 'game/1', 'op-t-game');
SELECT assoc.set('team', 'game/1', 'score', '[3, 1]');
RESET ROLE;
});

# What we compare: every read function, as the owning role, for every
# record, plus the raw content of every table of the extension.
my @reads = (
	[ app_chat => q{SELECT id, assoc.version('chat', id), assoc.get('chat', id), assoc.get('chat', id, 'msg')
		FROM assoc.records WHERE ns = 'chat' ORDER BY id} ],
	[ app_chat => q{SELECT assoc.get('chat', 'user/42', 'kids[1]'), assoc.version('chat', 'user/42'),
		assoc.version('chat', 'm9'), assoc.get('chat', 'm9') IS NULL} ],
	[ app_chat => q{SELECT id, keys, data, version, created_at, updated_at FROM assoc.read_by('chat', '{room:GENERAL}')} ],
	[ app_chat => q{SELECT id, keys, version FROM assoc.read_by('chat', '{user:42}')} ],
	[ app_chat => q{SELECT id, keys, version FROM assoc.read_by('chat', '{thread:t1,user:7}')} ],
	[ app_chat => q{SELECT id, keys, data FROM assoc.read_by('chat', '{room:LOBBY}')} ],
	[ app_chat => q{SELECT count(*) FROM assoc.read_by('chat', '{season:2024}')} ],
	[ app_team => q{SELECT id, assoc.version('team', id), assoc.get('team', id)
		FROM assoc.records WHERE ns = 'team' ORDER BY id} ],
	[ app_team => q{SELECT * FROM assoc.history('team', 'roster')} ],
	[ app_team => q{SELECT * FROM assoc.history('team', 'game/1')} ],
	[ app_team => q{SELECT id, keys, version FROM assoc.read_by('team', '{season:2024}')} ],
	[ app_team => q{SELECT id FROM assoc.read_by('team', '{team:red}')} ],
	[ app_team => q{SELECT count(*) FROM assoc.records} ],
	[ app_chat => q{SELECT count(*) FROM assoc.records} ],
	[ postgres => q{SELECT ns, owner::text, history_depth, incarnation, created_at FROM assoc.namespaces ORDER BY ns} ],
	[ postgres => q{SELECT ns, id, keys, data, version, created_at, updated_at FROM assoc.records ORDER BY ns, id} ],
	[ postgres => q{SELECT * FROM assoc.history ORDER BY ns, id, version} ],
	[ postgres => q{SELECT ns, op_id, fn, encode(args, 'hex'), result, at FROM assoc.ops ORDER BY ns, op_id} ],
	[ postgres => q{SELECT (SELECT count(*) FROM assoc.namespaces), (SELECT count(*) FROM assoc.records),
		(SELECT count(*) FROM assoc.history), (SELECT count(*) FROM assoc.ops)} ],
	[ postgres => q{SELECT last_value, is_called FROM assoc.incarnation_seq} ],
	[ postgres => q{SELECT ns, channel_secret FROM assoc.namespaces ORDER BY ns} ],
);

sub read_all
{
	my ($db) = @_;
	my @out;
	foreach my $r (@reads)
	{
		my ($role, $sql) = @$r;
		my $set = $role eq 'postgres' ? '' : "SET ROLE $role;\n";
		push @out, $node->safe_psql($db, $set . $sql);
	}
	return @out;
}

my @before = read_all('src');

# Sanity of the source: the things the dump must carry are really there.
is( $node->safe_psql(
		'src', q{SELECT (SELECT count(*) FROM assoc.namespaces),
	(SELECT count(*) > 0 FROM assoc.history), (SELECT count(*) >= 10 FROM assoc.ops),
	(SELECT count(DISTINCT owner) FROM assoc.namespaces)}),
	'2|t|t|2',
	'source has two namespaces of two owners, history rows and ledger rows');
is($node->safe_psql('src', q{SET ROLE app_team; SELECT assoc.version('team', 'roster')}),
	'7', 'source roster is at version 7');

# Dump (custom format) and restore into a new, empty database.
my $dump = $PostgreSQL::Test::Utils::tmp_check . '/store_dump.custom';
$node->command_ok(
	[ 'pg_dump', '--format=custom', '--file', $dump, '--dbname', $node->connstr('src') ],
	'pg_dump of the source database');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
my ($stdout, $stderr);
my $ok = IPC::Run::run(
	[ 'pg_restore', '--exit-on-error', '--dbname', $node->connstr('dst'), $dump ],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'pg_restore into a new empty database') or diag("pg_restore stderr:\n$stderr");
is($stderr, '', 'pg_restore reports no error or warning');

is($node->safe_psql('dst', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_assoc'}),
	'0.2.0', 'the extension came with the dump');

my @after = read_all('dst');
for my $i (0 .. $#reads)
{
	is($after[$i], $before[$i], "same result after restore: $reads[$i][1]");
}

# Isolation survives: each role still sees only its own namespace.
is($node->safe_psql('dst', q{SET ROLE app_chat; SELECT string_agg(DISTINCT ns, ',') FROM assoc.records}),
	'chat', 'app_chat sees only chat after restore');
{
	my (undef, undef, $err_other) =
	  $node->psql('dst', q{SET ROLE app_team; SELECT assoc.get('chat', 'user/42')});
	my (undef, undef, $err_none) =
	  $node->psql('dst', q{SET ROLE app_team; SELECT assoc.get('nosuchns', 'user/42')});
	like($err_other, qr/namespace "chat" does not exist/,
		'app_team cannot use chat after restore');
	(my $norm = $err_none) =~ s/nosuchns/chat/g;
	is($err_other, $norm, 'and the error is the one of a missing namespace');
}

# Replaying op_ids in the restored database: the first result, no new
# version, nothing changed.  One replay per write function and argument
# type, so that a failure names the kind of call that broke.
my @replays = (
	[ app_chat => 'chat', 'user/42', 'op-set-1',
		q{SELECT assoc.set('chat', 'user/42', 'name', '"Homer"', NULL, 'op-set-1')} ],
	[ app_chat => 'chat', 'user/42', 'op-set-noop',
		q{SELECT assoc.set('chat', 'user/42', 'name', '"Homer"', NULL, 'op-set-noop')} ],
	[ app_chat => 'chat', 'user/42', 'op-multi-1',
		q{SELECT assoc.set_multi('chat', 'user/42',
  '[{"path": "kids[0]", "data": "Bart"}, {"path": "kids[1]", "data": "Lisa"}]', 1, 'op-multi-1')} ],
	[ app_team => 'team', 'roster', 'op-t-1',
		q{SELECT assoc.set('team', 'roster', NULL, '{"players": []}', 0, 'op-t-1')} ],
	[ app_team => 'team', 'roster', 'op-t-4',
		q{SELECT assoc.erase('team', 'roster', 'players[1]', 5, 'op-t-4')} ],
	[ app_team => 'team', 'roster', 'op-t-rb',
		q{SELECT assoc.rollback('team', 'roster', 4, NULL, 'op-t-rb')} ],
	# These take an assoc.assockey argument.
	[ app_chat => 'chat', 'm2', 'op-create-m2',
		q{SELECT assoc.create('chat', '{"msg": "hi"}', '{room:GENERAL,user:7}', 'm2', 'op-create-m2')} ],
	[ app_chat => 'chat', 'm2', 'op-link-m2',
		q{SELECT assoc.link('chat', 'm2', '{thread:t1}', NULL, 'op-link-m2')} ],
	[ app_team => 'team', 'game/1', 'op-t-game',
		q{SELECT assoc.create('team', '{"date": "2024-05-01"}', '{season:2024,kind:game}', 'game/1', 'op-t-game')} ],
	[ app_chat => 'chat', 'm2', 'op-upsert',
		q{SELECT count(*) FROM assoc.update_by('chat', '{room:LOBBY}', '{"topic": "welcome"}', true, 'op-upsert')} ],
);
# The ledger digests each argument with its type OID; the OID of the
# extension's own type is assigned at CREATE EXTENSION, so show both.
note('assoc.assockey OID: src '
	  . $node->safe_psql('src', q{SELECT 'assoc.assockey'::regtype::oid})
	  . ', dst '
	  . $node->safe_psql('dst', q{SELECT 'assoc.assockey'::regtype::oid}));
foreach my $r (@replays)
{
	my ($role, $ns, $id, $op, $sql) = @$r;
	# Read as the superuser: the ledger is not readable by applications.
	my $state = qq{SELECT (SELECT version FROM assoc.records WHERE ns = '$ns' AND id = '$id'),
		(SELECT count(*) FROM assoc.feed), (SELECT count(*) FROM assoc.history),
		(SELECT count(*) FROM assoc.ops), (SELECT count(*) FROM assoc.records),
		(SELECT max(updated_at) FROM assoc.records)};
	my $first = $node->safe_psql('src', qq{SELECT result FROM assoc.ops WHERE ns = '$ns' AND op_id = '$op'});
	my $pre = $node->safe_psql('dst', $state);
	my ($sret, $sout, $serr) = $node->psql('src', "SET ROLE $role; $sql");
	is($sret, 0, "control: replay of $op succeeds in the source database")
	  or diag("replay of $op failed in the source: $serr");
	my ($ret, $out, $err) = $node->psql('dst', "SET ROLE $role; $sql");
	is($ret, 0, "replay of $op succeeds in the restored database")
	  or diag("replay of $op failed: $err");
	# update_by's ledger result is a set; compare the row count instead.
	if ($op ne 'op-upsert')
	{
		(my $expected = $first) =~ s/^"(.*)"$/$1/;
		is($out, $expected, "replay of $op returns the original result ($first)");
	}
	is($node->safe_psql('dst', $state), $pre,
		"replay of $op changes no version, feed, ledger or record");
}

# The whole restored database is still exactly the source after replays.
my @final = read_all('dst');
is_deeply(\@final, \@before, 'all reads identical to the source after the replays');

# The restored sequences go on where the source stopped: a new namespace
# gets a fresh incarnation, new writes work and feed entries are new.
$node->safe_psql('dst', q{SELECT assoc.create_namespace('third')});
is( $node->safe_psql(
		'dst', q{SELECT count(DISTINCT incarnation) FROM assoc.namespaces}),
	'3', 'a namespace created after restore gets a new incarnation');
is($node->safe_psql('dst', q{SET ROLE app_chat; SELECT assoc.set('chat', 'user/42', 'name', '"Marge"')}),
	'3', 'a new write after restore bumps the version by one');
is($node->safe_psql('dst', q{SELECT count(*), count(DISTINCT (xid, seq)) FROM assoc.feed}),
	$node->safe_psql('dst', q{SELECT count(*), count(*) FROM assoc.feed}),
	'feed keys stay unique after restore');

# The feed is not dumped (its positions are transaction ids of the source):
# a cursor from before the restore must resynchronise, and the restored
# database's own cursors work.
my $old_cursor = $node->safe_psql('src',
	q{SET ROLE app_chat; SELECT cursor FROM assoc.changes('chat') LIMIT 1});
my ($rret, $rout, $rerr) = $node->psql('dst',
	"SET ROLE app_chat; SELECT * FROM assoc.changes('chat', '$old_cursor')");
like($rerr, qr/cursor "[0-9-]+" cannot be continued in namespace "chat"/,
	'a cursor from before the restore is refused (resynchronise)');
is( $node->safe_psql(
		'dst',
		q{SET ROLE app_chat; SELECT id, version, op FROM assoc.changes('chat')}),
	'user/42|3|set',
	'the restored feed holds only what was written after the restore');
is( $node->safe_psql(
		'dst',
		q{SET ROLE app_chat; SELECT count(*) FROM assoc.changes('chat', (SELECT cursor FROM assoc.changes('chat') LIMIT 1))}
	),
	'0',
	'cursors of the restored database work');

$node->stop;
done_testing();
