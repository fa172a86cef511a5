# The notification worker under maintenance of the tables it reads.
# Writers write while another session rebuilds, vacuums, analyses and locks
# assoc.feed, assoc.namespaces and assoc.records (each sends relation cache
# invalidations that the worker takes in when it next locks them, in the
# middle of a batch); a listener on the namespace channel must receive
# every committed feed entry exactly once, and the server log must show no
# failed batch and no worker exit with an error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $writers = 3;
my $seconds = 8;    # how long the writers write
my $rounds  = 3;    # most rounds of maintenance while they do

my $node = PostgreSQL::Test::Cluster->new('notify_maintenance');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_assoc;
SELECT assoc.create_namespace('m');
});
my $channel = $node->safe_psql('postgres', "SELECT assoc.channel('m')");
my $log_offset = -s $node->logfile;
my $dir = $PostgreSQL::Test::Utils::tmp_check;

# The listener: a psql session that must be read all along, or its backend
# blocks on a full socket while it holds a snapshot (which REINDEX
# CONCURRENTLY waits for).  psql prints the notifications that arrived
# during a command after it; drain() runs one and returns what came.
my ($l_in, $l_out, $l_err) = ('', '', '');
my $listener = IPC::Run::start(
	[ 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr('postgres') ],
	'<', \$l_in, '>', \$l_out, '2>', \$l_err);
my $drains = 0;
my $heard  = '';

sub drain
{
	$drains++;
	$l_in .= "SELECT 1;\n\\echo drained $drains\n";
	$listener->pump until $l_out =~ /^drained $drains$/m || $l_err ne '';
	die "listener failed: $l_err" if $l_err ne '';
	$heard .= $l_out;
	$l_out = '';
}
$l_in .= "LISTEN $channel;\n";
drain();

# The writers: pgbench clients, each transaction one or two writes.
my $script = "$dir/notify_maintenance.sql";
open my $fh, '>', $script or die "cannot write $script: $!";
print $fh q{\set r random(1, 40)
SELECT assoc.set('m', 'r' || :r, 'n', to_jsonb(random()));
BEGIN;
SELECT assoc.set_multi('m', 'p' || :r, '[{"path": "a", "data": 1}, {"path": "b", "data": 2}]');
SELECT assoc.set('m', 'q' || :r, 'n', to_jsonb(random()));
COMMIT;
};
close $fh;

# The maintenance: rounds of each operation, run only while the writers
# write (their sessions are there); each round done is echoed.
my @maintenance = (
	'REINDEX INDEX assoc.feed_notify_idx;',
	'ANALYZE assoc.feed;',
	'REINDEX TABLE assoc.feed;',
	'VACUUM FULL assoc.feed;',
	'BEGIN; LOCK TABLE assoc.feed; ANALYZE assoc.feed; SELECT pg_sleep(0.1); COMMIT;',
	'BEGIN; REINDEX INDEX assoc.feed_notify_idx; SELECT pg_sleep(0.1); COMMIT;',
	'REINDEX INDEX CONCURRENTLY assoc.feed_notify_idx;',
	'ANALYZE assoc.namespaces;',
	'VACUUM FULL assoc.namespaces;',
	'REINDEX TABLE assoc.namespaces;',
	'BEGIN; LOCK TABLE assoc.namespaces; ANALYZE assoc.namespaces; SELECT pg_sleep(0.1); COMMIT;',
	'REINDEX INDEX CONCURRENTLY assoc.records_pkey;',
	'VACUUM FULL assoc.records;');
my $mscript = "$dir/notify_maintenance_ops.sql";
open $fh, '>', $mscript or die "cannot write $mscript: $!";
my $writing =
  "SELECT count(*) > 0 AS writing FROM pg_stat_activity WHERE application_name = 'writer' \\gset\n";
print $fh "SELECT pg_sleep(0.5);\n";
for my $round (1 .. $rounds)
{
	for my $sql (@maintenance)
	{
		print $fh "$writing\\if :writing\n$sql\nSELECT pg_sleep(0.05);\n\\endif\n";
	}
	print $fh "$writing\\if :writing\n\\echo round $round\n\\endif\n";
}
close $fh;

my $bench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', $writers, '-j', 1, '-T', $seconds, '-f', $script,
		$node->connstr('postgres') . ' application_name=writer'
	],
	'<', '/dev/null', '>', "$dir/notify_maintenance.out",
	'2>', "$dir/notify_maintenance.err");
my $maint = IPC::Run::start(
	[
		'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-f', $mscript,
		'-d', $node->connstr('postgres')
	],
	'<', '/dev/null', '>', "$dir/notify_maintenance_ops.out",
	'2>', "$dir/notify_maintenance_ops.err");
while ($bench->pumpable || $maint->pumpable)
{
	drain();
	usleep(20_000);
}
ok($bench->finish, 'the writers had no error')
  or diag(slurp_file("$dir/notify_maintenance.err"));
note(slurp_file("$dir/notify_maintenance.out"));
ok($maint->finish, 'the maintenance had no error')
  or diag(slurp_file("$dir/notify_maintenance_ops.err"));
my @done = slurp_file("$dir/notify_maintenance_ops.out") =~ /^round \d+$/mg;
cmp_ok(scalar(@done), '>=', 1,
	'a whole round of maintenance ran while the writers wrote');

# Every committed entry, once each.
is($node->safe_psql('postgres', 'SELECT assoc.wait_notified(60000)'),
	't', 'the worker announced every commit');
my @feed = sort split /\n/,
  $node->safe_psql('postgres',
	"SELECT cursor FROM assoc.changes('m', NULL, 1000000)");
my @got;
for my $try (1 .. 100)
{
	drain();
	@got = sort($heard =~ /"cursor":"([^"]+)"/g);
	last if @got >= @feed;
	usleep(100_000);
}
cmp_ok(scalar(@feed), '>', 100, 'the writers wrote feed entries');
is(scalar(@got), scalar(@feed), 'as many notifications as feed entries');
is_deeply(\@got, \@feed, 'every feed entry was announced exactly once');

my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/could not open relation/,
	'no relation lost under the worker');
unlike($log, qr/exited with exit code 1/, 'no worker exited with an error');
unlike($log, qr/ERROR/, 'no error in the server log');

# A batch that fails is rolled back and tried again: the worker is made to
# wait for a lock on assoc.namespaces after a commit woke it, and its batch
# is cancelled.  The entry is announced once the lock is gone, with no
# further commit to wake the worker.
$log_offset = -s $node->logfile;
$heard      = '';
my $writer = $node->background_psql('postgres');
my $locker = $node->background_psql('postgres');
$writer->query_safe("BEGIN; SELECT assoc.set('m', 'retried', 'n', '1')");
# The writer keeps its lock on assoc.namespaces until it commits: the
# locker's lock is queued first, so that it is granted at the commit, before
# the worker the commit wakes asks for the table.
$locker->query_until(qr/queued/,
	"\\echo queued\nBEGIN;\nLOCK TABLE assoc.namespaces;\n");
$node->poll_query_until(
	'postgres', q{SELECT count(*) = 1 FROM pg_locks
	WHERE relation = 'assoc.namespaces'::regclass
	AND mode = 'AccessExclusiveLock' AND NOT granted})
  or die 'the lock was not queued';
$writer->query_safe('COMMIT');
ok( $node->poll_query_until(
		'postgres', q{SELECT count(*) = 1 FROM pg_stat_activity
		WHERE backend_type = 'pg_assoc notify' AND wait_event_type = 'Lock'}),
	'the worker waits for the lock in a batch');
is( $node->safe_psql(
		'postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity
		WHERE backend_type = 'pg_assoc notify'}),
	't',
	'the batch is cancelled');
ok( $node->poll_query_until(
		'postgres', q{SELECT count(*) = 0 FROM pg_stat_activity
		WHERE backend_type = 'pg_assoc notify' AND wait_event_type = 'Lock'}),
	'the cancelled batch no longer waits');
$locker->query_safe('COMMIT');
is($node->safe_psql('postgres', 'SELECT assoc.wait_notified(30000)'),
	't', 'the entry of the cancelled batch is announced without a new commit');
my $retried = $node->safe_psql('postgres',
	"SELECT cursor FROM assoc.changes('m', NULL, 1000000) WHERE id = 'retried'");
for my $try (1 .. 100)
{
	drain();
	last if $heard =~ /"id":"retried"/;
	usleep(100_000);
}
@got = $heard =~ /"cursor":"([^"]+)"/g;
is_deeply(\@got, [$retried], 'the listener got it once');
$log = slurp_file($node->logfile, $log_offset);
like(
	$log,
	qr/ERROR:  canceling statement due to user request\n.*CONTEXT:  pg_assoc announcing feed entries/,
	'the failed batch is in the server log');
unlike($log, qr/exited with exit code 1/, 'the worker did not exit');

# A cancel that reaches the worker between batches is dropped: it is meant
# for a batch, and outside one it would end the worker with an error.
$node->safe_psql('postgres',
	"SELECT assoc.set('m', 'idle-cancel', 'a', '1'); SELECT assoc.wait_notified(30000)");
my $worker_pid = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify'");
isnt($worker_pid, '', 'a worker runs');
$node->safe_psql('postgres', "SELECT pg_cancel_backend($worker_pid)");
usleep(500_000);
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE pid = $worker_pid"),
	'1',
	'a cancel between batches leaves the worker running');
$log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/exited with exit code 1/, 'and it did not exit with an error');
$writer->quit;
$locker->quit;
$l_in .= "\\q\n";
$listener->finish;

$node->stop;
done_testing();
