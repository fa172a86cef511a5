# The delivery horizon per database (README, "Delivery horizon";
# src/horizon.c), on a server of its own:
#  - an idle transaction holding an xid in another database, and a long
#    transaction of this database that never writes the feed, delay
#    neither assoc.changes nor notifications;
#  - a long transaction that has written the feed delays both, until it
#    ends, and then everything arrives in feed order;
#  - assoc.wait_notified waits for entries held back;
#  - a prepared transaction holding an entry holds it across a restart
#    (one that wrote no entry does not before it, but does after it, as
#    documented), COMMIT PREPARED delivers it before what followed, and
#    the worker announces nothing twice across the restart;
#  - positions never go back across a crash, and a cursor from before the
#    crash goes on;
#  - without the preloaded library the xmin horizon applies (the idle
#    transaction in another database holds delivery back), and cursors
#    survive switching between the two.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgAssocTest;

my $node = PostgreSQL::Test::Cluster->new('feed_horizon');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_assoc'
max_prepared_transactions = 4
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('app', q{
CREATE EXTENSION pg_assoc;
SELECT assoc.create_namespace('h');
CREATE TABLE plain (n int);
});
my $channel = $node->safe_psql('app', "SELECT assoc.channel('h')");

# The ids of the feed after cursor $after, in feed order, and the last
# cursor (the first one's when $after is undef).
sub changes
{
	my ($after) = @_;
	my $arg = defined $after ? "'$after'" : 'NULL';
	my $out = $node->safe_psql('app',
		"SELECT cursor || ' ' || id FROM assoc.changes('h', $arg)");
	my @rows = map { [ split / / ] } grep { $_ ne '' } split /\n/, $out;
	return ([ map { $_->[1] } @rows ], @rows ? $rows[-1][0] : $after);
}

# A listener on the namespace channel; heard() returns the ids announced
# since the last call, waiting up to $wait_ms for at least $min of them.
my $listener = $node->background_psql('app');
$listener->query_safe("LISTEN $channel");

sub heard
{
	my ($min, $wait_ms) = @_;
	return heard_ids($listener, $min, $wait_ms);
}

my ($ids, $cursor) = changes(undef);
is_deeply($ids, [], 'the feed starts empty');

# --- Transactions that never write the feed --------------------------------

my $idle_other = $node->background_psql('other');
$idle_other->query_safe('BEGIN; SELECT pg_current_xact_id()');
my $long_plain = $node->background_psql('app');
$long_plain->query_safe('BEGIN; INSERT INTO plain VALUES (1)');

$node->safe_psql('app', "SELECT assoc.set('h', 'a', 'x', '1')");
($ids, $cursor) = changes($cursor);
is_deeply($ids, ['a'],
	'an idle xid in another database and a long non-feed transaction delay no entry');
is_deeply(heard(1, 10_000), ['a'], 'nor its notification');

# --- A long transaction that writes the feed --------------------------------

my $long_feed = $node->background_psql('app');
$long_feed->query_safe("BEGIN; SELECT assoc.set('h', 'b', 'x', '1')");
$node->safe_psql('app', "SELECT assoc.set('h', 'c', 'x', '1')");
($ids, $cursor) = changes($cursor);
is_deeply($ids, [], 'an open feed writer holds later entries back');
is_deeply(heard(1, 500), [], 'and their notifications');
is($node->safe_psql('app', 'SELECT assoc.wait_notified(300)'),
	'f', 'assoc.wait_notified waits for them');
$long_feed->query_safe('COMMIT');
($ids, $cursor) = changes($cursor);
is_deeply($ids, [ 'b', 'c' ], 'once it commits, both arrive in feed order');
is_deeply(heard(2, 10_000), [ 'b', 'c' ], 'and are announced in that order');
is($node->safe_psql('app', 'SELECT assoc.wait_notified(10000)'),
	't', 'and assoc.wait_notified returns');

# --- Prepared transactions ---------------------------------------------------

$node->safe_psql('app', q{
BEGIN; INSERT INTO plain VALUES (2); PREPARE TRANSACTION 'no_feed';
});
$node->safe_psql('app', "SELECT assoc.set('h', 'd', 'x', '1')");
($ids, $cursor) = changes($cursor);
is_deeply($ids, ['d'], 'a prepared transaction without entries holds nothing back');
is_deeply(heard(1, 10_000), ['d'], 'nor notifications');

$node->safe_psql('app', q{
BEGIN; SELECT assoc.set('h', 'e', 'x', '1'); PREPARE TRANSACTION 'with_feed';
});
$node->safe_psql('app', "SELECT assoc.set('h', 'f', 'x', '1')");
($ids, $cursor) = changes($cursor);
is_deeply($ids, [], 'a prepared transaction with an entry holds later ones back');

$idle_other->quit;
$long_plain->quit;
$listener->quit;
$node->restart;
$listener = $node->background_psql('app');
$listener->query_safe("LISTEN $channel");
($ids, $cursor) = changes($cursor);
is_deeply($ids, [], 'and still does after a restart');
$node->safe_psql('app', "SELECT assoc.set('h', 'g', 'x', '1')");
($ids, $cursor) = changes($cursor);
is_deeply($ids, [], 'also once the clock is loaded again');
$node->safe_psql('app', 'COMMIT PREPARED \'with_feed\'');
($ids, $cursor) = changes($cursor);
is_deeply($ids, [],
	'after a restart, a prepared transaction without entries holds them back too');
$node->safe_psql('app', 'COMMIT PREPARED \'no_feed\'');
($ids, $cursor) = changes($cursor);
is_deeply($ids, [ 'e', 'f', 'g' ], 'once both end, the entries arrive in feed order');
is_deeply(heard(1, 10_000), ['g'],
	'the worker announces what was written since the restart, and nothing again');
$listener->quit;

# --- A crash -------------------------------------------------------------------

my $before = $node->safe_psql('app',
	"SELECT max(xid)::text::numeric FROM assoc.feed");
$node->stop('immediate');
$node->start;
$node->safe_psql('app', "SELECT assoc.set('h', 'i', 'x', '1')");
my $after = $node->safe_psql('app',
	"SELECT xid::text::numeric FROM assoc.feed WHERE id = 'i'");
cmp_ok($after, '>', $before, 'positions do not go back across a crash');
($ids, $cursor) = changes($cursor);
is_deeply($ids, ['i'], 'a cursor from before the crash goes on');

# --- Without the preloaded library -------------------------------------------------

$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$node->restart;
$idle_other = $node->background_psql('other');
$idle_other->query_safe('BEGIN; SELECT pg_current_xact_id()');
$node->safe_psql('app',
	"SET client_min_messages = error; SELECT assoc.set('h', 'j', 'x', '1')");
($ids, $cursor) = changes($cursor);
is_deeply($ids, [], 'without the library, the xmin horizon holds the entry back');
$idle_other->query_safe('COMMIT');
# After a restart, positions may stand ahead of the xids assigned, up to
# the clock's logged mark (src/horizon.c): an xmin-horizon reader sees the
# entry once as many xids have been assigned (at most 5000 here).
is( $node->safe_psql(
		'app', q{
DO $$
BEGIN
    FOR i IN 1..5000 LOOP
        EXIT WHEN pg_current_xact_id()::text::numeric
                  > (SELECT last_value FROM assoc.feed_clock) / 4096;
        COMMIT;
    END LOOP;
END
$$;
SELECT pg_current_xact_id()::text::numeric > (SELECT last_value FROM assoc.feed_clock) / 4096;
}),
	't',
	'the xids pass the logged mark');
($ids, $cursor) = changes($cursor);
is_deeply($ids, ['j'], 'until the idle transaction ends');
$idle_other->quit;

$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->restart;

# The worker's first batch after a start begins at the lowest position
# drawn since, also by a transaction whose first entry is not announced.
$listener = $node->background_psql('app');
$listener->query_safe("LISTEN $channel");
my $slow = $node->background_psql('app');
$slow->query_safe(
	"BEGIN; SET LOCAL assoc.notify = off; SELECT assoc.set('h', 'quiet', 'x', '1')");
$node->safe_psql('app', "SELECT assoc.set('h', 'k', 'x', '1')");
($ids, $cursor) = changes($cursor);
is_deeply($ids, [], 'back with the library, the open writer holds k back');
$slow->query_safe(
	"SET LOCAL assoc.notify = on; SELECT assoc.set('h', 'loud', 'x', '1'); COMMIT");
$slow->quit;
($ids, $cursor) = changes($cursor);
is_deeply($ids, [ 'quiet', 'loud', 'k' ], 'the cursor goes on, in feed order');
is_deeply(heard(2, 10_000), [ 'loud', 'k' ],
	'the first batch after the start begins at the lowest position drawn');

# COMMIT PREPARED wakes no worker: the worker stays while a prepared
# writer runs and announces its entry; assoc.wait_notified waits for it.
$node->safe_psql('app',
	"BEGIN; SELECT assoc.set('h', 'p', 'x', '1'); PREPARE TRANSACTION 'p'");
sleep(3);    # longer than the worker's idle time
$node->safe_psql('app', "COMMIT PREPARED 'p'");
is($node->safe_psql('app', 'SELECT assoc.wait_notified(10000)'),
	't', 'assoc.wait_notified waits for the entry of COMMIT PREPARED');
is_deeply(heard(1, 1_000), ['p'], 'which is announced without a further write');
($ids, $cursor) = changes($cursor);
is_deeply($ids, ['p'], 'and delivered');

# The same with COMMIT PREPARED right after PREPARE, the worker running:
# a batch whose snapshot saw the prepared writer running looks again.
my @quick;
for my $n (1 .. 10)
{
	$node->safe_psql('app',
		"BEGIN; SELECT assoc.set('h', 'q$n', 'x', '1'); PREPARE TRANSACTION 'q$n'");
	$node->safe_psql('app', "COMMIT PREPARED 'q$n'");
	push @quick, $node->safe_psql('app', 'SELECT assoc.wait_notified(10000)');
}
is_deeply(\@quick, [ ('t') x 10 ],
	'assoc.wait_notified returns after each quick COMMIT PREPARED');
is_deeply(heard(10, 10_000), [ map { "q$_" } 1 .. 10 ], 'and each is announced once');
($ids, $cursor) = changes($cursor);
is(scalar(@$ids), 10, 'and delivered');
$listener->quit;

my $all = $node->safe_psql('app',
	"SELECT string_agg(id, ' ' ORDER BY xid, seq) FROM assoc.feed");
is($all, 'a b c d e f g i j quiet loud k p ' . join(' ', map { "q$_" } 1 .. 10),
	'the whole feed is in the order it was delivered');

$node->stop;
done_testing();
