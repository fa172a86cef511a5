# The registry of listened channels (src/listeners.c): the notification
# worker sends nothing on a channel no session listens on, and never
# misses one that a committed LISTEN listens on, whatever order LISTEN,
# UNLISTEN, DISCARD ALL, savepoints and rollbacks came in.
#
# What the worker sends is seen in PostgreSQL's notification queue: a
# session that listens (on a channel nobody writes) and stays in a
# transaction does not read the queue, so the queue keeps everything sent
# after it, and pg_notification_queue_usage() grows with every page of
# notifications.  A batch of this test's writes fills several pages.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgAssocTest;

my $node = PostgreSQL::Test::Cluster->new('listeners');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('app', q{
CREATE EXTENSION pg_assoc;
CREATE PROCEDURE unlisten_then_rollback(ch text) LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UNLISTEN %I', ch);
    ROLLBACK;
END
$$;
CREATE PROCEDURE listen_commit_listen_rollback(ch text, other text)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('LISTEN %I', ch);
    COMMIT;
    EXECUTE format('UNLISTEN %I', ch);
    EXECUTE format('LISTEN %I', other);
    ROLLBACK;
END
$$;
SELECT assoc.create_namespace('quiet');
SELECT assoc.create_namespace('b');
});
my $quiet_ch = $node->safe_psql('app', "SELECT assoc.channel('quiet')");
my $ns_ch = $node->safe_psql('app', "SELECT assoc.channel('b')");
my $r1_ch = $node->safe_psql('app', "SELECT assoc.channel('b', 'r1')");

# The session that holds the queue: it listens where nothing is written.
my $holder = $node->background_psql('app');
$holder->query_safe("LISTEN $quiet_ch");
$holder->query_safe('BEGIN');

# assoc.notify_registry() in app: filtering, channels of app, of the cluster,
# capacity, overflowing sessions.
sub registry
{
	return $node->safe_psql('app', 'SELECT * FROM assoc.notify_registry()');
}
is(registry(), 't|1|1|16384|0', 'the registry holds the holder\'s channel');

# The queue's fill, from a new session: PostgreSQL counts whole pages
# between the queue's tail (held by the holder) and its head.
sub usage
{
	return $node->safe_psql('app', 'SELECT pg_notification_queue_usage()');
}

# Wait until the session of backend $pid has ended.
sub gone
{
	my ($pid) = @_;
	$node->poll_query_until('app',
		"SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $pid)")
	  or die "backend $pid did not end";
}

# Write $n entries of about 600 bytes of paths each to records r1.. of
# namespace b, and wait until the worker has announced them.
my $round = 0;
sub write_b
{
	my ($n) = @_;
	$round++;
	my $key = 'k' x 500;
	$node->safe_psql('app', qq{
SELECT assoc.set('b', 'r' || i, '$key$round', 'true') FROM generate_series(1, $n) AS i;
});
	is($node->safe_psql('app', 'SELECT assoc.wait_notified(10000)'),
		't', "round $round announced");
}

# Whether writing to namespace b fills the queue.
sub sends
{
	my $before = usage();
	write_b(100);
	return usage() > $before ? 1 : 0;
}

# A listener on namespace b's channel.
my $listener = $node->background_psql('app');
my $listener_pid = $listener->query_safe('SELECT pg_backend_pid()');

# How many record ids were announced to the listener since the last call,
# waiting up to $wait_ms for $min of them.
sub heard
{
	my ($min, $wait_ms) = @_;
	return scalar @{ heard_ids($listener, $min, $wait_ms) };
}

# Write one entry to b/r1 and whether the listener hears it.
sub hears
{
	write_b(1);
	return heard(1, 10_000) == 1 ? 1 : 0;
}

# A PL/pgSQL block that runs $statement and undoes it with an exception.
sub undone
{
	my ($statement) = @_;
	return qq{
DO \$\$
BEGIN
    BEGIN
        EXECUTE '$statement';
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
END
\$\$};
}

is(sends(), 0, 'no notification is sent on channels nobody listens on');

my $elsewhere = $node->background_psql('other');
$elsewhere->query_safe("LISTEN $ns_ch");
is(sends(), 0, 'a LISTEN in another database does not count');
my $elsewhere_pid = $elsewhere->query_safe('SELECT pg_backend_pid()');
$elsewhere->quit;
gone($elsewhere_pid);

$listener->query_safe("LISTEN $ns_ch");
is(sends(), 1, 'once a session listens on the channel, it is sent');
is(heard(100, 10_000), 100, 'and the listener hears every entry');

# --- What leaves the channel registered, and what does not -----------------

# Each case: what the listener runs, and whether it still listens on b's
# channel after it (1: it hears a write there) or not (0: nothing is sent
# on b's channels).  They run in turn, each from the state the last left.
my @cases = (
	[
		"BEGIN; UNLISTEN $ns_ch; LISTEN $ns_ch; COMMIT", 1,
		'UNLISTEN then LISTEN in one transaction keeps the channel'
	],
	[
		"BEGIN; SAVEPOINT s; UNLISTEN $ns_ch; ROLLBACK TO s; COMMIT", 1,
		'an UNLISTEN in a rolled-back savepoint is forgotten'
	],
	[
		"BEGIN; UNLISTEN $ns_ch; ROLLBACK", 1,
		'an UNLISTEN in a rolled-back transaction is forgotten'
	],
	[
		"BEGIN; UNLISTEN *; LISTEN $ns_ch; COMMIT", 1,
		'UNLISTEN * then LISTEN keeps the channel'
	],
	[
		"BEGIN; UNLISTEN $ns_ch; SAVEPOINT s; LISTEN $ns_ch; RELEASE s; COMMIT",
		1, 'a LISTEN in a released savepoint counts'
	],
	[
		"BEGIN; SAVEPOINT s; LISTEN $ns_ch; ROLLBACK TO s; COMMIT", 1,
		'a LISTEN again in a rolled-back savepoint keeps the one committed before'
	],
	[
		undone("UNLISTEN $ns_ch"), 1,
		'an UNLISTEN undone by a PL/pgSQL exception block is forgotten'
	],
	[
		"CALL unlisten_then_rollback('$ns_ch')", 1,
		'an UNLISTEN a procedure rolls back is forgotten'
	],
	[
		"UNLISTEN $ns_ch; CALL listen_commit_listen_rollback('$ns_ch', '$quiet_ch')",
		1,
		'a procedure that commits a LISTEN keeps it when it rolls back the next'
	],
	[
		"UNLISTEN $ns_ch; BEGIN; SAVEPOINT a; LISTEN $ns_ch; RELEASE a; COMMIT",
		1, 'a new channel in a released savepoint is registered'
	],
	[
		"LISTEN $r1_ch; UNLISTEN $ns_ch", 1,
		'a record channel is registered on its own'
	],
	[ "UNLISTEN $r1_ch", 0, 'a committed UNLISTEN removes the channel' ],
	[
		"BEGIN; LISTEN $ns_ch; ROLLBACK", 0,
		'a LISTEN that rolls back takes its channel out'
	],
	[
		"BEGIN; SAVEPOINT s; LISTEN $ns_ch; ROLLBACK TO s; COMMIT", 0,
		'so does one in a rolled-back savepoint'
	],
	[
		"BEGIN; SAVEPOINT a; LISTEN $ns_ch; RELEASE a; ROLLBACK", 0,
		'and one released into a transaction that rolls back'
	],
	[
		"BEGIN; SAVEPOINT b; SAVEPOINT a; LISTEN $ns_ch; RELEASE a; ROLLBACK TO b; COMMIT",
		0, 'and one released into a savepoint that rolls back'
	],
	[
		undone("LISTEN $ns_ch"), 0,
		'and one undone by a PL/pgSQL exception block'
	],
	[
		"LISTEN $ns_ch; LISTEN $r1_ch; BEGIN; SAVEPOINT s; LISTEN $ns_ch; ROLLBACK TO s; UNLISTEN *; COMMIT",
		0, 'UNLISTEN * removes every channel of the session'
	],
	[ "LISTEN $ns_ch; DISCARD ALL", 0, 'DISCARD ALL removes them too' ],
	[ "LISTEN $ns_ch", 1, 'and a LISTEN after it registers again' ]);
for my $case (@cases)
{
	my ($sql, $listens, $name) = @$case;
	$listener->query_safe($sql);
	if ($listens)
	{
		is(hears(), 1, $name);
	}
	else
	{
		is(sends(), 0, $name);
	}
}

my $second = $node->background_psql('app');
my $second_pid = $second->query_safe('SELECT pg_backend_pid()');
$second->query_safe("LISTEN $ns_ch");
$second->query_safe("UNLISTEN $ns_ch");
$second->query_safe("LISTEN $ns_ch");
$second->quit;
gone($second_pid);
is(hears(), 1, 'another session that leaves the channel does not remove it');

$listener->quit;
gone($listener_pid);
is(sends(), 0, 'a session that ends leaves its channels');

# --- A full registry ----------------------------------------------------------

# One session listens on more channels than the registry holds: the last
# ones find no room, and every channel counts as listened until they go.
my $listen_many = q{
DO $$
BEGIN
    FOR i IN 1..16500 LOOP
        EXECUTE format('LISTEN assoc_%s', md5(i::text));
    END LOOP;
END
$$};
my $many = $node->background_psql('app');
$many->query_safe("BEGIN; $listen_many; ROLLBACK");
is(sends(), 0, 'LISTENs that overflowed and rolled back leave no overflow');
$many->query_safe($listen_many);
is(sends(), 1, 'while a session overflows the registry, every channel is sent');
is(registry(), 'f|16384|16384|16384|1',
	'assoc.notify_registry shows the registry full and not filtering');
my @logged = slurp_file($node->logfile) =~
  /LOG:  pg_assoc's registry of listened channels is full/g;
is(scalar @logged, 1, 'and the overflow is logged, once per session');
$many->query_safe(q{
DO $$
BEGIN
    FOR i IN 16001..16500 LOOP
        EXECUTE format('UNLISTEN assoc_%s', md5(i::text));
    END LOOP;
END
$$});
is(sends(), 0, 'once the channels without room are unlistened, no more');
is(registry(), 't|16001|16001|16384|0',
	'and assoc.notify_registry counts the channels left, filtering again');
my $many_pid = $many->query_safe('SELECT pg_backend_pid()');
$many->quit;
gone($many_pid);
my $other_db = $node->background_psql('other');
$other_db->query_safe("LISTEN $ns_ch");
is(registry(), 't|1|2|16384|0',
	'a channel of another database counts for the cluster only');
$other_db->quit;

$holder->query_safe('COMMIT');
$holder->quit;
$node->stop;
done_testing();
