# DROP EXTENSION while writers write and the notification worker is busy.
# Writers that were waiting for a lock the drop held get a clear error
# (55000 "extension "pg_assoc" is not installed in this database"), never
# an internal one; later calls find nothing to call.  The worker exits
# quietly: no error in the log, no exit code 1.  When the drop and a new
# CREATE EXTENSION commit together, waiting writers go on with the new
# tables and the worker with them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $writers    = 3;
# More statements than a writer runs in the test's time: the writers are
# still writing when each drop comes, and are stopped once it is checked.
my $per_writer = 20000;

my $node = PostgreSQL::Test::Cluster->new('notify_drop');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'pg_assoc'
log_error_verbosity = verbose
});
$node->start;
my $log_offset = -s $node->logfile;
my $dir = $PostgreSQL::Test::Utils::tmp_check;

# One script per writer: record writes through the direct path, with an
# op_id (the ledger's statements), and by associations (SQL inserts).
for my $w (1 .. $writers)
{
	open my $fh, '>', "$dir/drop_writer_$w.sql" or die $!;
	print $fh "\\set VERBOSITY verbose\n";
	for my $i (1 .. $per_writer)
	{
		my $r = $i % 10;
		print $fh
		  $i % 3 == 0
		  ? "SELECT assoc.set_multi('d', 'w$w-$r', '[{\"path\": \"n\", \"data\": $i}]', NULL, 'op-$w-$i');\n"
		  : $i % 3 == 1 ? "SELECT assoc.set('d', 'w$w-$r', 'n', '$i');\n"
		  :   "SELECT assoc.create('d', '{}', '{writer:$w}', 'c$w-$i');\n";
	}
	close $fh;
}

# Start the writers; return their harnesses once they have written.
sub start_writers
{
	my ($round) = @_;
	my @h;
	for my $w (1 .. $writers)
	{
		push @h,
		  IPC::Run::start(
			[
				'psql', '-XAtq', '-d', $node->connstr('postgres'),
				'-f', "$dir/drop_writer_$w.sql"
			],
			'<', '/dev/null', '>', "$dir/drop_writer_$round-$w.out",
			'2>', "$dir/drop_writer_$round-$w.err");
	}
	$node->poll_query_until('postgres',
		'SELECT count(*) >= 300 FROM assoc.feed')
	  or die 'the writers did not write';
	return @h;
}

# Run the drop, again after a deadlock with a writer (which one of the two
# PostgreSQL cancels is its choice; writers lock assoc.namespaces first, as
# the drop does, so none is expected); returns the errors of failed tries.
sub drop
{
	my ($sql) = @_;
	my $errors = '';
	for my $try (1 .. 5)
	{
		my ($ret, $out, $err) = $node->psql('postgres', $sql);
		return $errors if $ret == 0;
		$errors .= $err;
		last unless $err =~ /deadlock detected/;
	}
	die "the drop failed: $errors";
}

my %codes;       # SQLSTATE => count, over every writer error
my $messages = '';
my $drop_errors = '';

# Stop the writers of a round and collect the SQLSTATEs of their errors.
sub finish_writers
{
	my ($round, @h) = @_;

	# Writers that waited for the drop have had their answer once none waits.
	$node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
	  or die 'writers still wait for locks';
	sleep 1;
	$_->kill_kill(grace => 2) for @h;
	for my $w (1 .. $writers)
	{
		my $err = slurp_file("$dir/drop_writer_$round-$w.err");
		$codes{$1}++ while $err =~ /ERROR:  ([0-9A-Z]{5}):/g;
		$messages .= $err;
	}
}

# Round 1: the drop holds its locks for a while, so writers wait for them.
$node->safe_psql('postgres',
	"CREATE EXTENSION pg_assoc; SELECT assoc.create_namespace('d');");
my @h = start_writers(1);
$drop_errors .= drop(
	'BEGIN; DROP EXTENSION pg_assoc; SELECT pg_sleep(1); COMMIT;');
finish_writers(1, @h);
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify'"
	),
	'the worker left after the drop');

# Round 2: a plain drop under load.
$node->safe_psql('postgres',
	"CREATE EXTENSION pg_assoc; SELECT assoc.create_namespace('d');");
@h = start_writers(2);
$drop_errors .= drop('DROP EXTENSION pg_assoc');
finish_writers(2, @h);
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify'"
	),
	'the worker left after the second drop');

# Round 3: dropped and created again in one transaction; the writers that
# waited go on with the new tables.
$node->safe_psql('postgres',
	"CREATE EXTENSION pg_assoc; SELECT assoc.create_namespace('d');");
@h = start_writers(3);
$drop_errors .= drop(
	q{BEGIN; DROP EXTENSION pg_assoc; CREATE EXTENSION pg_assoc;
	SELECT assoc.create_namespace('d'); SELECT pg_sleep(1); COMMIT;});
ok( $node->poll_query_until(
		'postgres', 'SELECT count(*) >= 100 FROM assoc.feed'),
	'writes went on after the extension was created again');
finish_writers(3, @h);
is($node->safe_psql('postgres', 'SELECT assoc.wait_notified(30000)'),
	't', 'the worker announces the writes to the new tables');

note('writer errors by SQLSTATE: '
	  . join(', ', map { "$_ x $codes{$_}" } sort keys %codes));
is($drop_errors, '', 'no drop had to be retried: writes and drops do not deadlock');
ok(!exists $codes{XX000}, 'no writer got an internal error')
  or diag($messages);
cmp_ok($codes{'55000'} // 0, '>', 0, 'writers that waited for the drop got 55000');
like(
	$messages,
	qr/ERROR:  55000: extension "pg_assoc" is not installed in this database\nDETAIL:  The (relation|type) assoc\.\w+ does not exist: the extension was dropped while the call was running\./,
	'with its message');
my @unexpected = grep { !/^(55000|3F000|42883)$/ } keys %codes;
is_deeply(\@unexpected, [],
	'writers got only "not installed" and "does not exist" errors, no deadlock');

my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/XX000/, 'no internal error in the server log');
unlike($log, qr/exited with exit code 1/, 'no worker exited with an error');
unlike($log, qr/CONTEXT:  pg_assoc/, 'the worker had no failed batch');

$node->stop;
done_testing();
