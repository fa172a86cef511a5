# The delivery horizon between 0.1.0's objects and 0.2.0's (src/horizon.c,
# README "Delivery horizon"), with the library preloaded:
#  - a REPEATABLE READ transaction whose snapshot predates ALTER EXTENSION
#    pg_assoc UPDATE keeps 0.1.0's rule: the entry of a writer that
#    committed after its snapshot lies after its assoc.head;
#  - a GRANT on the sequence (a new version of its catalog row) does not
#    make an older snapshot fall back to 0.1.0's rule;
#  - after DROP EXTENSION and CREATE EXTENSION of 0.1.0 in a database whose
#    clock was in use, entries are written at their xids, delivered and
#    announced.
use strict;
use warnings;
use FindBin;
use lib $FindBin::RealBin;
use PgAssocTest;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('feed_horizon_upgrade');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;
skip_all_without_lz4($node);
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_assoc VERSION '0.1.0';
SELECT assoc.create_namespace('u');
SELECT assoc.set('u', 'before', 'x', '1');
});

my $writer = $node->background_psql('postgres');
$writer->query_safe("BEGIN; SELECT assoc.set('u', 'w', 'x', '1')");
my $reader = $node->background_psql('postgres');
$reader->query_safe(
	"BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM assoc.records");
$writer->query_safe('COMMIT');
$node->safe_psql('postgres', 'ALTER EXTENSION pg_assoc UPDATE');
is($reader->query_safe("SELECT string_agg(id, ' ') FROM assoc.records WHERE ns = 'u'"),
	'before', 'the old snapshot does not see the entry committed after it');
my $head = $reader->query_safe("SELECT assoc.head('u')");
$reader->query_safe('COMMIT');
$reader->quit;
$writer->quit;
is( $node->safe_psql('postgres',
		"SELECT string_agg(c.id, ' ' ORDER BY c.ordinality) FROM assoc.changes('u', '$head') WITH ORDINALITY AS c"),
	'w',
	'its head, taken after the update, still comes before that entry');

$node->safe_psql('postgres', "SELECT assoc.set('u', 'after', 'x', '1')");
is( $node->safe_psql('postgres',
		"SELECT string_agg(c.id, ' ' ORDER BY c.ordinality) FROM assoc.changes('u', '$head') WITH ORDINALITY AS c"),
	'w after',
	'entries written after the update follow');

# A snapshot that saw the sequence keeps seeing it after its catalog row
# changes (a GRANT writes a new version of the row): its head stays after
# the entries it sees.
my $last = $node->safe_psql('postgres',
	"SELECT xid::text::numeric FROM assoc.feed WHERE id = 'after'");
my $rr = $node->background_psql('postgres');
$rr->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM pg_class');
$node->safe_psql('postgres', 'GRANT SELECT ON SEQUENCE assoc.feed_clock TO PUBLIC');
my ($head_pos) = $rr->query_safe("SELECT assoc.head('u')") =~ /-(\d+)-\d+$/;
cmp_ok($head_pos, '>', $last,
	'a GRANT on the sequence does not send an older snapshot back to 0.1.0\'s rule');
$rr->query_safe('COMMIT');
$rr->quit;

$node->safe_psql('postgres', q{
DROP EXTENSION pg_assoc;
CREATE EXTENSION pg_assoc VERSION '0.1.0';
SELECT assoc.create_namespace('u');
});
my $channel = $node->safe_psql('postgres', "SELECT assoc.channel('u')");
my $listener = $node->background_psql('postgres');
$listener->query_safe("LISTEN $channel");
$node->safe_psql('postgres', q{
SELECT assoc.set('u', 'n' || i, 'x', '1') FROM generate_series(1, 3) AS i;
SELECT assoc.set('u', 'n4', 'x', '1');
});
is( $node->safe_psql('postgres',
		"SELECT string_agg(c.id, ' ' ORDER BY c.ordinality) FROM assoc.changes('u') WITH ORDINALITY AS c"),
	'n1 n2 n3 n4',
	'0.1.0 objects again after the clock was used: entries are delivered');
is( $node->safe_psql('postgres', q{
SELECT bool_and(f.xid::text::numeric < pg_current_xact_id()::text::numeric)
  FROM assoc.feed f}),
	't',
	'at their xids');
is($node->safe_psql('postgres', 'SELECT assoc.wait_notified(10000)'),
	't', 'and announced');
my $heard = $listener->query_safe('SELECT 1');
is_deeply([ $heard =~ /"id":"([^"]+)"/g ], [qw(n1 n2 n3 n4)],
	'the worker follows the new feed');
$listener->quit;

$node->stop;
done_testing();
