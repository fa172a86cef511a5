# Upgrading from 0.1.0 (README, "Upgrading"): assoc.changes gains a column
# (origin), so the update creates it again; the privileges an
# administrator gave or took on it survive: revoked from PUBLIC and
# granted to one role before the update, it stays so after, and pg_dump
# still writes them (they are not recorded as the extension's initial
# privileges, which a dump leaves out).  A feed entry
# written before the update has no origin; one written after has the
# writer's.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin;
use PgAssocTest;

my $node = PostgreSQL::Test::Cluster->new('upgrade_changes_acl');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;
skip_all_without_lz4($node);

$node->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_assoc VERSION '0.1.0';
CREATE ROLE reader LOGIN;
CREATE ROLE other LOGIN;
SELECT assoc.create_namespace('app', 'reader');
SET assoc.origin = 'before';
SELECT assoc.set('app', 'r1', 'a', '1');
REVOKE EXECUTE ON FUNCTION assoc.changes(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION assoc.changes(text, text, integer) TO reader WITH GRANT OPTION;
});
my $acl_sql = q{SELECT p.proacl::text FROM pg_proc p
  WHERE p.oid = 'assoc.changes(text, text, integer)'::regprocedure};
my $before = $node->safe_psql('postgres', $acl_sql);

$node->safe_psql('postgres', 'ALTER EXTENSION pg_assoc UPDATE');
is($node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'pg_assoc'}),
	'0.2.0', 'updated to 0.2.0');
is($node->safe_psql('postgres', $acl_sql), $before,
	'assoc.changes keeps its privileges through the update: ' . $before);
is( $node->safe_psql(
		'postgres', q{SELECT count(*) FROM pg_init_privs
		  WHERE objoid = 'assoc.changes(text, text, integer)'::regprocedure}),
	'0', 'no initial privileges recorded for it: they stay the administrator\'s');
my ($stdout, $stderr);
IPC::Run::run([ 'pg_dump', '--schema-only', '--dbname', $node->connstr('postgres') ],
	'>', \$stdout, '2>', \$stderr)
  or die "pg_dump failed: $stderr";
like($stdout, qr/REVOKE ALL ON FUNCTION assoc\.changes\(ns text, after text, max integer\) FROM PUBLIC;/,
	'pg_dump writes the revoke from PUBLIC');
like($stdout, qr/GRANT ALL ON FUNCTION assoc\.changes\(ns text, after text, max integer\) TO reader WITH GRANT OPTION;/,
	'pg_dump writes the grant');
my ($ret, $out, $err) = $node->psql('postgres', q{SELECT count(*) FROM assoc.changes('app')},
	extra_params => [ '-U', 'other' ]);
like($err, qr/permission denied for function changes/,
	'a role without the grant still may not call it');
$node->safe_psql(
	'postgres', q{
SET ROLE reader;
SET assoc.origin = 'after';
SELECT assoc.set('app', 'r1', 'a', '2');
});
is( $node->safe_psql(
		'postgres', q{SET ROLE reader; SELECT string_agg(version || ':' || coalesce(origin, 'none'), ',' ORDER BY version)
		  FROM assoc.changes('app')}),
	'1:none,2:after',
	'the entry from before the update has no origin, the one after has the writer\'s');
done_testing();
