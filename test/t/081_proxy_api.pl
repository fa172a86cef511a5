# pg_assoc_proxy cannot drift from pg_assoc's API (README, "Scaling out").
# Runs on every server, PL/Proxy or not:
#
#   * proxy/api.sql is exactly what proxy/generate_api.sql makes from the
#     installed pg_assoc;
#   * every function of pg_assoc is on the proxy in one way — routed
#     (first argument ns text; generated, or written in proxy/routing.sql
#     for create_namespace and drop_namespace), or run on the proxy itself
#     (src/docfuncs.sql, src/assockey.sql), or is a step of a move that
#     proxy/move.sql calls on a shard — or is one of the few that concern
#     one shard only, named here.  A new API function that is none of these
#     fails this test.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;

my $top = "$FindBin::RealBin/../..";
my $node = PostgreSQL::Test::Cluster->new('proxy_api');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_assoc');

my $generated = $node->safe_psql('postgres', slurp_file("$top/proxy/generate_api.sql"));
is($generated . "\n", slurp_file("$top/proxy/api.sql"),
	'proxy/api.sql is what proxy/generate_api.sql makes from pg_assoc');

# The functions named in a script: CREATE FUNCTION assoc.NAME(.
sub created
{
	my ($file) = @_;
	my %names = map { $_ => 1 } (slurp_file("$top/$file") =~ /^CREATE FUNCTION assoc\.(\w+)\(/mg);
	return \%names;
}
my %local = (%{ created('src/docfuncs.sql') }, %{ created('src/assockey.sql') });
my %by_hand = %{ created('proxy/routing.sql') };
my %generated = map { $_ => 1 } ($generated =~ /^CREATE FUNCTION assoc\."?(\w+)"?\(/mg);
is_deeply([ sort keys %by_hand ], [qw(create_namespace drop_namespace)],
	'routing.sql writes create_namespace and drop_namespace, which keep the directory');

# Each function of the installed extension, as "name routed|other".
my %kind = map { split / / } split /\n/, $node->safe_psql('postgres', q{
SELECT DISTINCT p.proname || ' ' || CASE WHEN p.proname LIKE 'move\_%' THEN 'move'
                                         WHEN p.proargnames[1] = 'ns' AND p.proargtypes[0] = 'text'::regtype
                                         THEN 'routed' ELSE 'other' END
  FROM pg_proc p JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'pg_assoc'
});
my @routed = sort grep { $kind{$_} eq 'routed' } keys %kind;
my @expected = (keys %generated, keys %by_hand);
is_deeply(\@routed, [ sort @expected ],
	'every function whose first argument is ns is routed');
my @moves = sort grep { $kind{$_} eq 'move' } keys %kind;
is_deeply(\@moves,
	[qw(move_apply move_drop move_fence move_key move_namespace_row move_quiesce move_receive move_rows move_stamp move_stamps)],
	'the steps of a move are these');
my $move_sql = slurp_file("$top/proxy/move.sql");
is_deeply([ grep { $move_sql !~ /\bassoc\.$_\(/ } @moves ], [qw(move_key move_stamp)],
	'proxy/move.sql calls each on a shard (move_key and move_stamp are their own helpers)');
my @shard_only = sort grep { $kind{$_} eq 'other' && !$local{$_} } keys %kind;
is_deeply(\@shard_only,
	[qw(notify_registry prune search_key search_key_cmp search_key_eq search_key_ge search_key_gt search_key_in
	  search_key_le search_key_lt search_key_out search_vector wait_notified)],
	'every other function runs on the proxy itself, but for these, which concern one shard');

done_testing();
