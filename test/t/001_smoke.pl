# Smoke test: the extension installs on a fresh node, survives an
# immediate-mode stop (crash) and a restart, and still works after it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('smoke');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION pg_assoc');
$node->safe_psql('postgres',
	q{CREATE TABLE docs AS SELECT assoc.path_set('{}', 'a.b[1]', '"x"') AS doc});
is($node->safe_psql('postgres', 'SELECT doc FROM docs'),
	'{"a": {"b": [null, "x"]}}', 'path_set works before the crash');

$node->stop('immediate');
$node->start;

is($node->safe_psql('postgres', 'SELECT doc FROM docs'),
	'{"a": {"b": [null, "x"]}}', 'data written before the crash is there');
is( $node->safe_psql(
		'postgres',
		q{SELECT assoc.patch(doc, '[{"path": "a.b[0]", "data": 1}]') FROM docs}),
	'{"a": {"b": [1, "x"]}}',
	'patch works after the restart');
is($node->safe_psql('postgres', q{SHOW assoc.max_path_depth}),
	'128', 'settings are defined by the preloaded library');

my ($ret, $out, $err) =
  $node->psql('postgres', q{SELECT assoc.parse_path('a.__proto__')});
isnt($ret, 0, 'a forbidden path still fails after the restart');
like($err, qr/forbidden segment "__proto__"/, 'with its message');

$node->stop;
done_testing();
