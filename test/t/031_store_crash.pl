# Crash safety of the record store (SPEC §4): several clients write with
# op_ids and record every acknowledged version; the server is killed in
# immediate mode while they run, then restarted.  Every acknowledged write
# must be there (record version and ledger entry), each record's versions
# must be contiguous in the feed, and replaying every acknowledged op_id
# (same call, same arguments) must return the recorded version and change
# nothing.
#
# A write counts as acknowledged only when its client printed the result:
# each client is a psql process in autocommit mode running a script of
# single-statement calls, and psql prints a statement's result only after
# the server reported the statement complete, which it does after COMMIT.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $clients     = 4;
my $per_client  = 4000;    # far more than can run before the kill
my $records     = 6;       # few records: clients contend for row locks
my $kill_after  = 2000;    # ledger entries committed before the kill

my $node = PostgreSQL::Test::Cluster->new('store_crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION pg_assoc');
$node->safe_psql('postgres', q{SELECT assoc.create_namespace('app')});
$node->safe_psql('postgres', q{SELECT assoc.alter_namespace('app', history_depth => 2)});

# One script per client.  Op c<i>-<j> writes record rec<k>; every write
# changes the data (the client's own counter), so none is a no-op.  The
# op_id leads each output line so that results can be matched to calls.
srand(31);
my %call;    # op_id => SQL of the call
my %rec;     # op_id => record id
my $dir = $PostgreSQL::Test::Utils::tmp_check;
my @scripts;
for my $c (1 .. $clients)
{
	my $file = "$dir/crash_client_$c.sql";
	open my $fh, '>', $file or die "cannot write $file: $!";
	for my $j (1 .. $per_client)
	{
		my $op = "c$c-$j";
		my $id = 'rec' . int(rand($records));
		my $sql =
		  $j % 3 == 0
		  ? qq{SELECT '$op', assoc.set('app', '$id', 'c$c', '$j', NULL, '$op');}
		  : qq{SELECT '$op', assoc.set_multi('app', '$id', '[{"path": "c$c", "data": $j}, {"path": "last", "data": "$op"}]', NULL, '$op');};
		$call{$op} = $sql;
		$rec{$op}  = $id;
		print $fh "$sql\n";
	}
	close $fh;
	push @scripts, $file;
}

# Start the clients, each psql writing its results to its own file.
my (@handles, @out, @err);
for my $c (1 .. $clients)
{
	my $i = $c - 1;
	$out[$i] = "$dir/crash_client_$c.out";
	$err[$i] = "$dir/crash_client_$c.err";
	push @handles,
	  IPC::Run::start(
		[
			'psql', '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=0',
			'-d', $node->connstr('postgres'), '-f', $scripts[$i]
		],
		'<', \undef, '>', $out[$i], '2>', $err[$i]);
}

# Kill the server in immediate mode while the load runs.
ok( $node->poll_query_until(
		'postgres', "SELECT count(*) >= $kill_after FROM assoc.ops"),
	"the clients committed $kill_after writes");
$node->stop('immediate');
$_->finish for @handles;

# Acknowledged writes: op_id => version, from the lines the clients printed.
my %acked;
my $interrupted = 0;
for my $i (0 .. $clients - 1)
{
	my $n = 0;
	my @junk;
	foreach my $line (split /\n/, slurp_file($out[$i]))
	{
		next if $line eq '';
		if ($line !~ /^c\d+-\d+\|\d+$/)
		{
			push @junk, $line;
			next;
		}
		my ($op, $v) = split /\|/, $line;
		$acked{$op} = $v;
		$n++;
	}
	is_deeply(\@junk, [], 'client ' . ($i + 1) . ' printed only op_id|version lines');
	$interrupted++ if $n < $per_client;
	my $errors = slurp_file($err[$i]);
	unlike($errors, qr/ERROR:/, 'client ' . ($i + 1) . ' had no error before the crash')
	  or diag($errors);
	note('client ' . ($i + 1) . ": $n acknowledged writes");
}
is($interrupted, $clients, 'every client was still writing when the server was killed');
cmp_ok(scalar(keys %acked), '>=', $kill_after, 'many writes were acknowledged');

$node->start;

# Every acknowledged write is present: version and ledger entry.
my %version = map { split /\|/ }
  split /\n/, $node->safe_psql('postgres',
	q{SELECT id || '|' || version FROM assoc.records WHERE ns = 'app'});
my %ledger = map { split /\|/ }
  split /\n/, $node->safe_psql('postgres',
	q{SELECT op_id || '|' || result::text FROM assoc.ops WHERE ns = 'app'});
my (@lost_version, @lost_ledger, @bad_ledger);
my %max_acked;
foreach my $op (sort keys %acked)
{
	my $id = $rec{$op};
	$max_acked{$id} = $acked{$op}
	  if !defined $max_acked{$id} || $acked{$op} > $max_acked{$id};
	push @lost_ledger, $op unless defined $ledger{$op};
	push @bad_ledger, "$op: acked $acked{$op}, ledger $ledger{$op}"
	  if defined $ledger{$op} && $ledger{$op} ne $acked{$op};
}
foreach my $id (sort keys %max_acked)
{
	push @lost_version, "$id: acked $max_acked{$id}, found " . ($version{$id} // 'none')
	  unless defined $version{$id} && $version{$id} >= $max_acked{$id};
}
is_deeply(\@lost_version, [], 'every record is at least at its highest acknowledged version');
is_deeply(\@lost_ledger, [], 'the ledger holds every acknowledged op_id');
is_deeply(\@bad_ledger, [], 'the ledger holds the acknowledged version of each op_id');

# Acknowledged versions of one record are distinct (no two writes got the
# same version).
my %seen;
my @dups;
foreach my $op (keys %acked)
{
	my $key = "$rec{$op}|$acked{$op}";
	push @dups, "$key: $seen{$key} and $op" if $seen{$key};
	$seen{$key} = $op;
}
is_deeply(\@dups, [], 'no two acknowledged writes of a record share a version');

# Versions are contiguous: the feed holds 1..N for each record, N its
# version; every write had an op_id and none was a no-op, so the ledger
# has exactly one entry per version.
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM (
  SELECT f.id, array_agg(f.version ORDER BY f.version) AS versions, r.version
    FROM assoc.feed f JOIN assoc.records r USING (ns, id)
   WHERE f.ns = 'app' GROUP BY f.id, r.version) s
 WHERE versions <> ARRAY(SELECT generate_series(1, version))}),
	'0', 'the feed has versions 1..N without gap or duplicate for every record');
is( $node->safe_psql(
		'postgres', q{
SELECT (SELECT count(*) FROM assoc.feed WHERE ns = 'app') = (SELECT sum(version) FROM assoc.records WHERE ns = 'app')
   AND (SELECT count(*) FROM assoc.ops WHERE ns = 'app') = (SELECT sum(version) FROM assoc.records WHERE ns = 'app')
   AND (SELECT count(*) FROM assoc.feed WHERE ns = 'app' AND id NOT IN (SELECT id FROM assoc.records)) = 0}),
	't', 'one feed entry and one ledger entry per version, nothing else');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM assoc.records r
 WHERE r.ns = 'app' AND NOT EXISTS (
   SELECT 1 FROM assoc.history h
    WHERE h.ns = r.ns AND h.id = r.id AND h.version = r.version AND h.data = r.data)}),
	'0', 'the history holds the current version of every record');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM assoc.history h
  JOIN assoc.records r USING (ns, id)
 WHERE h.version > r.version}),
	'0', 'no history version beyond the record version');

# The data agrees with the acknowledged writes: each client's counter in a
# record is at least its highest acknowledged value for that record.
my $newest = join ',',
  map { my ($c, $j) = /^c(\d+)-(\d+)$/; "('$rec{$_}', 'c$c', $j)" } keys %acked;
is( $node->safe_psql(
		'postgres', qq{
SELECT count(*) FROM (VALUES $newest) AS a(id, client, n)
  JOIN assoc.records r ON r.ns = 'app' AND r.id = a.id
 WHERE (r.data->>a.client)::int < a.n}),
	'0', 'every acknowledged value is in the data (or a later one of the same client)');

# Replay every acknowledged op_id: same result, nothing changed.
my $state_sql = q{
SELECT (SELECT string_agg(id || ':' || version || ':' || md5(data::text), ',' ORDER BY id) FROM assoc.records),
       (SELECT count(*) FROM assoc.feed), (SELECT count(*) FROM assoc.history),
       (SELECT count(*) FROM assoc.ops), (SELECT max(updated_at) FROM assoc.records)};
my $state = $node->safe_psql('postgres', $state_sql);
my @ops = sort keys %acked;
my $replay = join "\n", map { $call{$_} } @ops;
my ($ret, $out, $err) = $node->psql('postgres', $replay, on_error_stop => 0);
is($err, '', 'replaying every acknowledged op_id raises no error');
my %replayed = map { split /\|/ } split /\n/, $out;
my @mismatch = map { "$_: acked $acked{$_}, replay " . ($replayed{$_} // 'none') }
  grep { !defined $replayed{$_} || $replayed{$_} ne $acked{$_} } @ops;
is_deeply(\@mismatch, [], 'every replay returns the acknowledged version');
is($node->safe_psql('postgres', $state_sql), $state, 'the replays changed nothing');

# The store goes on after the restart: the next write is the next version.
my ($id0) = sort keys %version;
my $v0 = $node->safe_psql('postgres', "SELECT assoc.version('app', '$id0')");
is( $node->safe_psql(
		'postgres',
		"SELECT assoc.set('app', '$id0', 'after', 'true', NULL, 'after-crash')"),
	$v0 + 1,
	'a write after the restart gets the next version');

$node->stop;
done_testing();
