# pg_assoc through PL/Proxy (README, "Scaling out"): one proxy database
# with pg_assoc_proxy and two shard clusters with pg_assoc, password
# authentication for two application roles.
#
#   * the routed API on the proxy is exactly pg_assoc's, compared function
#     by function in the catalogs (081_proxy_api.pl checks proxy/api.sql on
#     every server);
#   * the frozen hash places new namespaces (fixed vectors), the directory
#     records them, and each namespace's rows are on that shard only;
#   * a deepstream-style session (get/set/set_multi/erase with versions and
#     op_ids) and a Rocket.Chat-style one (create with a NULL id, read_by,
#     update_by upsert, remove_by) through the proxy in several namespaces;
#   * assoc.snapshot and assoc.changes through the proxy;
#   * isolation across the hop: the other application's role gets 42704,
#     SQLSTATEs are kept;
#   * the configuration refuses a shared role (user= anywhere in a
#     connection string, a URI, a password there, a user mapping or a server
#     change that names a user), only the owner reads the directory, no
#     role can write it, a creation rolled back on the proxy is found by
#     sync_directory, and check_roles finds a role missing on the shards.
use strict;
use warnings;
use utf8;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Digest::SHA qw(sha256_hex);
use FindBin;

my $top = "$FindBin::RealBin/../..";

# Password authentication for the application roles, trust for the test's
# own superuser.
sub start_node
{
	my ($name, $preload) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'") if $preload;
	$node->append_conf('postgresql.conf', "password_encryption = 'scram-sha-256'");
	open my $hba, '>', $node->data_dir . '/pg_hba.conf' or die $!;
	print $hba "local all app_a scram-sha-256\nlocal all app_b scram-sha-256\nlocal all all trust\n";
	close $hba;
	$node->start;
	$node->safe_psql('postgres', q{
CREATE ROLE app_a LOGIN PASSWORD 'secret-a';
CREATE ROLE app_b LOGIN PASSWORD 'secret-b';
});
	return $node;
}

my $proxy = start_node('proxy', 0);
if ($proxy->safe_psql('postgres',
		"SELECT count(*) FROM pg_available_extensions WHERE name = 'plproxy'") eq '0')
{
	die 'PL/Proxy is required here (PG_ASSOC_REQUIRE_PLPROXY)' if $ENV{PG_ASSOC_REQUIRE_PLPROXY};
	plan skip_all => 'PL/Proxy is not installed for this server (test/servers.sh could not build it)';
}
my @shards = (start_node('shard0', 1), start_node('shard1', 1));
$_->safe_psql('postgres', 'CREATE EXTENSION pg_assoc') for @shards;
my @connstrs = map { 'host=' . $_->host . ' port=' . $_->port . ' dbname=postgres' } @shards;

$proxy->safe_psql('postgres', q{
CREATE EXTENSION plproxy;
CREATE EXTENSION pg_assoc_proxy;
});

# Run SQL on the proxy as an application role; returns (stdout, stderr).
sub as_app
{
	my ($role, $sql) = @_;
	my ($ret, $out, $err) = $proxy->psql('postgres', "\\set VERBOSITY verbose\n$sql",
		connstr => $proxy->connstr('postgres') . " user=$role password=secret-" . substr($role, -1));
	return ($out, $err);
}

sub ok_app
{
	my ($role, $sql) = @_;
	my ($out, $err) = as_app($role, $sql);
	die "unexpected error as $role: $err\n$sql" if $err =~ /ERROR/;
	return $out;
}

# --- configuration -------------------------------------------------------

my ($ret, $out, $err);
for my $bad ("$connstrs[0] user=postgres", "$connstrs[0] application_name=x_user=postgres",
	'postgresql:///postgres?host=' . $shards[0]->host . '&user=postgres')
{
	($ret, $out, $err) = $proxy->psql('postgres', "SELECT assoc_proxy.configure(ARRAY['$bad', '$connstrs[1]'])");
	like($err, qr/the connection string of shard 0 names a user, or is a URI/, "a shared role is refused: $bad");
}
($ret, $out, $err) = $proxy->psql('postgres', "SELECT assoc_proxy.configure(ARRAY['$connstrs[0]', '$connstrs[1] password=x'])");
like($err, qr/the connection string of shard 1 holds a password/, 'a password in a connection string is refused');
is($proxy->safe_psql('postgres', 'SELECT count(*) FROM assoc_proxy.shards'), '0', '... and nothing configured');

($ret, $out, $err) = $proxy->psql('postgres', 'SELECT assoc.version(\'x\', \'y\')');
like($err, qr/Pl\/Proxy: cluster not found: assoc_shards/, 'calls before configure say so (PL\/Proxy)');

$proxy->safe_psql('postgres', "SELECT assoc_proxy.configure(ARRAY['$connstrs[0]', '$connstrs[1]'])");
$proxy->safe_psql('postgres', q{
CREATE USER MAPPING FOR app_a SERVER assoc_shards OPTIONS (password 'secret-a');
CREATE USER MAPPING FOR app_b SERVER assoc_shards OPTIONS (password 'secret-b');
});
($ret, $out, $err) = $proxy->psql('postgres',
	"CREATE USER MAPPING FOR postgres SERVER assoc_shards OPTIONS (user 'app_a', password 'secret-a')");
like($err, qr/a user mapping of server assoc_shards names a user/, 'a user mapping that names a user is refused');
($ret, $out, $err) = $proxy->psql('postgres',
	"ALTER USER MAPPING FOR app_b SERVER assoc_shards OPTIONS (ADD user 'app_a')");
like($err, qr/names a user/, '... also when altered');
($ret, $out, $err) = $proxy->psql('postgres',
	"ALTER SERVER assoc_shards OPTIONS (SET p0 '$connstrs[0] application_name=user=postgres')");
like($err, qr/the partitions of server assoc_shards are set by assoc_proxy.configure only/,
	'the partitions cannot be changed behind configure');
$proxy->safe_psql('postgres', 'CREATE ROLE admin2');
($ret, $out, $err) = $proxy->psql('postgres', 'ALTER SERVER assoc_shards OWNER TO admin2');
like($err, qr/server assoc_shards must belong to the owner of pg_assoc_proxy/, '... nor its owner');
$proxy->safe_psql('postgres', 'DROP ROLE admin2');
ok_app('app_a', q{ALTER USER MAPPING FOR app_a SERVER assoc_shards OPTIONS (SET password 'secret-a')});
pass('a role changes its own password mapping');

# Reconfiguring keeps the roles' mappings.
$proxy->safe_psql('postgres', "SELECT assoc_proxy.configure(ARRAY['$connstrs[0]', '$connstrs[1]'])");
is($proxy->safe_psql('postgres', q{SELECT count(*) FROM pg_user_mappings WHERE srvname = 'assoc_shards'}),
	'3', 'configure again keeps the user mappings');

# --- the API is pg_assoc's -----------------------------------------------

my $signatures = q{
SELECT string_agg(p.proname || '(' || pg_get_function_arguments(p.oid) || ') -> '
                  || pg_get_function_result(p.oid), E'\n' ORDER BY p.proname, pg_get_function_arguments(p.oid))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'assoc'
 WHERE (p.proargnames[1] = 'ns' AND p.proname NOT LIKE 'move\_%')
    OR p.proname IN ('path_get', 'patch', 'assockey', 'models')
};
is($proxy->safe_psql('postgres', $signatures), $shards[0]->safe_psql('postgres', $signatures),
	'every routed function has pg_assoc\'s name, arguments, defaults and result');
is($proxy->safe_psql('postgres', q{SELECT assoc.patch('{"a": 1}', '[{"path": "b[1]", "data": 2}]')}),
	'{"a": 1, "b": [null, 2]}', 'document functions run on the proxy itself');
is($proxy->safe_psql('postgres', q{SELECT '{user:42,room:GENERAL}'::assoc.assockey OPERATOR(assoc.@>) '{room:GENERAL}'}),
	't', '... as do assockey and its operators');

# --- placement -------------------------------------------------------------

# Frozen vectors: the first 60 bits of SHA-256 of the UTF-8 name, modulo
# the shard count (computed independently here, and fixed).
my %vectors = ('app' => [0, 1, 396], 'chat' => [1, 2, 449], 'room.GENERAL' => [1, 1, 537],
	'tenant-42' => [0, 0, 12], 'ünïcødé' => [0, 2, 222]);
for my $name (sort keys %vectors)
{
	my $bytes = $name;
	utf8::encode($bytes);
	my $h = hex(substr(sha256_hex($bytes), 0, 15));
	is_deeply([ $h % 2, $h % 3, $h % 1000 ], $vectors{$name}, "hash vector of $name (independent)");
	is($proxy->safe_psql('postgres',
			"SELECT assoc_proxy.hash_shard('$name', 2) || ',' || assoc_proxy.hash_shard('$name', 3)"
			  . " || ',' || assoc_proxy.hash_shard('$name', 1000)"),
		join(',', @{ $vectors{$name} }), "assoc_proxy.hash_shard of $name");
}

$proxy->safe_psql('postgres', q{SELECT assoc_proxy.place('pinned', 1)});
ok_app('app_a', q{
SELECT assoc.create_namespace('app');
SELECT assoc.create_namespace('chat');
SELECT assoc.create_namespace('tenant-42');
SELECT assoc.create_namespace('pinned');
});
ok_app('app_b', q{SELECT assoc.create_namespace('room.GENERAL')});
is($proxy->safe_psql('postgres', q{SELECT string_agg(ns || '=' || shard, ' ' ORDER BY ns) FROM assoc_proxy.directory}),
	'app=0 chat=1 pinned=1 room.GENERAL=1 tenant-42=0', 'the directory records each new namespace where the hash (or place) put it');
($out, $err) = as_app('app_a', q{SELECT * FROM assoc_proxy.directory});
like($err, qr/permission denied for table directory/, 'only the owner reads the directory');
($out, $err) = as_app('app_a', q{SELECT assoc_proxy.configure(ARRAY['x'])});
like($err, qr/permission denied for function configure/, '... and configures the shards');
ok_app('app_a', q{SELECT assoc_proxy.settle('squat', 1); SELECT assoc_proxy.settle('app', 1); SELECT assoc_proxy.settle('chat', 0)});
$proxy->safe_psql('postgres', q{SELECT assoc_proxy.place('later', 1)});
ok_app('app_a', q{SELECT assoc_proxy.settle('later', 1)});
is($proxy->safe_psql('postgres', q{SELECT shard || ' ' || pinned FROM assoc_proxy.directory WHERE ns = 'later'}), '1 true',
	'a pinned namespace not created yet keeps its place');
$proxy->safe_psql('postgres', q{DELETE FROM assoc_proxy.directory WHERE ns = 'later'});
is($proxy->safe_psql('postgres', q{SELECT string_agg(ns || '=' || shard, ' ' ORDER BY ns) FROM assoc_proxy.directory}),
	'app=0 chat=1 pinned=1 room.GENERAL=1 tenant-42=0', 'no role can record what a shard does not hold');
($out, $err) = as_app('app_a', q{SELECT assoc.create_namespace('app')});
like($err, qr/42710: assoc_proxy\.create_namespace_on\(3\): \[postgres\] REMOTE ERROR: namespace "app" already exists/,
	'a second creation fails on the namespace\'s shard, SQLSTATE kept');

# --- a deepstream-style session ---------------------------------------------

is(ok_app('app_a', q{
SELECT assoc.set('chat', 'user/42', 'personalData.firstname', '"Homer"');
SELECT assoc.set_multi('chat', 'user/42', '[{"path": "children[1]", "data": {"name": "Lisa"}},
                                            {"path": "personalData.age", "data": 39}]', expected_version => 1);
SELECT assoc.set_multi('chat', 'user/42', '[{"path": "personalData.age", "data": 40}]', op_id => 'c1-1');
SELECT assoc.set_multi('chat', 'user/42', '[{"path": "personalData.age", "data": 40}]', op_id => 'c1-1');
SELECT assoc.erase('chat', 'user/42', 'children', op_id => 'c1-2');
SELECT assoc.get('chat', 'user/42');
SELECT assoc.get('chat', 'user/42', 'personalData.age');
SELECT assoc.version('chat', 'user/42');
SELECT assoc.set('app', 'cfg', NULL, '{"theme": "dark"}');
}), join("\n", 1, 2, 3, 3, 4, '{"personalData": {"age": 40, "firstname": "Homer"}}', 40, 4, 1),
	'get, set, set_multi, erase with versions and op_id replays through the proxy');
($out, $err) = as_app('app_a', q{SELECT assoc.set('chat', 'user/42', 'x', '1', expected_version => 1)});
like($err, qr/40001: assoc\.set\(6\): \[postgres\] REMOTE ERROR: version conflict on record "user\/42" in namespace "chat": expected version 1, current version 4/,
	'a version conflict is 40001 through the proxy');
($out, $err) = as_app('app_a', q{SELECT assoc.set('chat', 'user/42', '__proto__.x', '1')});
like($err, qr/22023: assoc\.set\(6\): \[postgres\] REMOTE ERROR: invalid path "__proto__.x": forbidden segment "__proto__"/,
	'a forbidden segment is 22023 through the proxy');

# --- a Rocket.Chat-style session ------------------------------------------

ok_app('app_a', q{
SELECT assoc.create('tenant-42', '{"msg": "hi"}', '{room:GENERAL,user:42}') IS NOT NULL;
SELECT assoc.create('tenant-42', '{"msg": "yo"}', '{room:GENERAL,user:7}', op_id => 'm-2');
SELECT assoc.create('tenant-42', '{"msg": "yo"}', '{room:GENERAL,user:7}', op_id => 'm-2');
});
is(ok_app('app_a', q{SELECT string_agg(data->>'msg', ',' ORDER BY data->>'msg') FROM assoc.read_by('tenant-42', '{room:GENERAL}')}),
	'hi,yo', 'create with a NULL id (and an op_id replayed) and read_by through the proxy');
is(ok_app('app_a', q{
SELECT data->>'msg' FROM assoc.update_by('tenant-42', '{room:GENERAL,user:42}', '{"msg": "edited"}');
SELECT data->>'msg' FROM assoc.update_by('tenant-42', '{room:random,user:42}', '{"msg": "new"}', upsert => true);
SELECT count(*) FROM assoc.remove_by('tenant-42', '{user:42}');
SELECT count(*) FROM assoc.read_by('tenant-42', '{room:GENERAL}');
}), "edited\nnew\n2\n1", 'update_by (with upsert) and remove_by through the proxy');

# --- each namespace's rows on its shard only ----------------------------------

my $rows = q{SELECT coalesce(string_agg(ns || ':' || n, ' ' ORDER BY ns), '') FROM
             (SELECT ns, count(*) AS n FROM assoc.records GROUP BY ns) AS r};
is($shards[0]->safe_psql('postgres', $rows), 'app:1 tenant-42:1', 'shard 0 holds exactly app and tenant-42');
is($shards[1]->safe_psql('postgres', $rows), 'chat:1', 'shard 1 holds exactly chat');
is($shards[1]->safe_psql('postgres', q{SELECT string_agg(ns, ' ' ORDER BY ns) FROM assoc.namespaces}),
	'chat pinned room.GENERAL', 'and the namespaces placed there');

# --- resynchronising and the feed through the proxy -------------------------

my $snap = ok_app('app_a', q{SELECT cursor || '|' || id || '|' || version FROM assoc.snapshot('chat')});
like($snap, qr/^\d+-\d+-0\|user\/42\|4$/, 'assoc.snapshot: the records with the cursor of their snapshot');
my ($cursor) = split /\|/, $snap;
ok_app('app_a', q{SELECT assoc.set('chat', 'user/42', 'personalData.age', '41')});
is(ok_app('app_a', "SELECT id || ':' || version || ':' || op FROM assoc.changes('chat', '$cursor')"),
	'user/42:5:set', 'assoc.changes through the proxy continues from the snapshot\'s cursor');
like(ok_app('app_a', q{SELECT assoc.channel('chat')}), qr/^assoc_[0-9a-f]{32}$/, 'assoc.channel through the proxy');

# --- isolation across the hop --------------------------------------------------

for my $call ("SELECT assoc.get('chat', 'user/42')", "SELECT assoc.channel('chat')",
	"SELECT * FROM assoc.changes('chat')", "SELECT * FROM assoc.snapshot('chat')",
	"SELECT assoc.search('chat', filter => '\$.personalData')",
	"SELECT assoc.set('chat', 'user/42', 'x', '1')", "SELECT assoc.drop_namespace('chat')")
{
	($out, $err) = as_app('app_b', $call);
	like($err, qr/42704: assoc(?:_proxy)?\.\w+\(\d+\): \[postgres\] REMOTE ERROR: namespace "chat" does not exist/,
		"another application's role gets 42704: $call");
}
is(ok_app('app_a', q{SELECT assoc.version('chat', 'user/42')}), '5', '... and changes nothing');
($out, $err) = as_app('app_b', q{SELECT assoc.version(NULL, 'x')});
like($err, qr/22004/, 'a NULL namespace is 22004 from a shard');

# --- roles on every shard ----------------------------------------------------------

# --- the directory when the proxy's transaction rolls back ---------------------

ok_app('app_a', q{BEGIN; SELECT assoc.create_namespace('rolled'); ROLLBACK;});
is($proxy->safe_psql('postgres', q{SELECT count(*) FROM assoc_proxy.directory WHERE ns = 'rolled'}), '0',
	'a creation rolled back on the proxy leaves the namespace on its shard without an entry');
is($proxy->safe_psql('postgres', 'SELECT assoc_proxy.sync_directory()'), '1', 'sync_directory finds it');
is($proxy->safe_psql('postgres', q{SELECT shard = assoc_proxy.hash_shard('rolled', 2) FROM assoc_proxy.directory WHERE ns = 'rolled'}),
	't', '... on its shard');
ok_app('app_a', q{SELECT assoc.drop_namespace('rolled')});
is($proxy->safe_psql('postgres', q{SELECT count(*) FROM assoc_proxy.directory WHERE ns = 'rolled'}), '0',
	'drop_namespace through the proxy removes the entry');
$shards[0]->safe_psql('postgres', q{SELECT assoc.create_namespace('twice')});
$shards[1]->safe_psql('postgres', q{SELECT assoc.create_namespace('twice')});
($ret, $out, $err) = $proxy->psql('postgres', 'SELECT assoc_proxy.sync_directory()');
like($err, qr/namespace "twice" is on shards 0, 1 but placed on none/, 'sync_directory refuses a namespace on two shards');
($ret, $out, $err) = $proxy->psql('postgres', "SELECT assoc_proxy.configure(ARRAY['$connstrs[0]', '$connstrs[1]', '$connstrs[1]'])");
like($err, qr/namespace "twice" is on shards 0, 1/, '... and so does configure with another number of shards');
$shards[1]->safe_psql('postgres', q{SELECT assoc.drop_namespace('twice')});
is($proxy->safe_psql('postgres', 'SELECT assoc_proxy.sync_directory()'), '1', 'once one copy is gone, it is recorded');

is($proxy->safe_psql('postgres', 'SELECT count(*) FROM assoc_proxy.check_roles()'), '0',
	'check_roles: every login role exists on every shard');
$proxy->safe_psql('postgres', 'CREATE ROLE app_c LOGIN');
is($proxy->safe_psql('postgres', q{SELECT string_agg(role || '@' || shard, ' ' ORDER BY shard) FROM assoc_proxy.check_roles()}),
	'app_c@0 app_c@1', 'check_roles names a role missing on the shards');

done_testing();
