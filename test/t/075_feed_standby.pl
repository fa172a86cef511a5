# The feed read on a streaming standby (README, "Delivery horizon"): there
# the preloaded state of the primary's writers is not known, so the xmin
# horizon applies.  A standby reader gets the primary's committed entries
# in feed order, continues a cursor handed out by the primary, and does
# not deliver the entry of a transaction still open on the primary, nor
# anything after it, until that transaction has ended.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$primary->start;
$primary->safe_psql('postgres', q{
CREATE EXTENSION pg_assoc;
SELECT assoc.create_namespace('s');
SELECT assoc.set('s', 'a', 'x', '1');
});
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$standby->start;

# The ids after cursor $after on node $node, and the last cursor.
sub changes
{
	my ($node, $after) = @_;
	my $arg = defined $after ? "'$after'" : 'NULL';
	my $out = $node->safe_psql('postgres',
		"SELECT cursor || ' ' || id FROM assoc.changes('s', $arg)");
	my @rows = map { [ split / / ] } grep { $_ ne '' } split /\n/, $out;
	return ([ map { $_->[1] } @rows ], @rows ? $rows[-1][0] : $after);
}

my ($ids, $cursor) = changes($primary, undef);
is_deeply($ids, ['a'], 'the primary delivers its entry');

my $open = $primary->background_psql('postgres');
$open->query_safe("BEGIN; SELECT assoc.set('s', 'b', 'x', '1')");
$primary->safe_psql('postgres', "SELECT assoc.set('s', 'c', 'x', '1')");
$primary->wait_for_catchup($standby);
($ids) = changes($standby, $cursor);
is_deeply($ids, [], 'the standby holds back what follows an open writer');

$open->query_safe('COMMIT');
$open->quit;
# The standby's xmin moves past the writers once the primary has told it
# that they ended: the next transaction with an xid does.
$primary->safe_psql('postgres', 'SELECT pg_current_xact_id()');
$primary->wait_for_catchup($standby);
my $standby_ids;
($standby_ids, $cursor) = changes($standby, $cursor);
is_deeply($standby_ids, [ 'b', 'c' ],
	'once it has ended, the standby continues the cursor in feed order');
is_deeply((changes($primary, undef))[0], [ 'a', 'b', 'c' ],
	'as the primary has them');

$standby->stop;
$primary->stop;
done_testing();
