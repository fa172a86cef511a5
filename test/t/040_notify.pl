# Notifications (SPEC §5) as a listening psql session sees them.  With the
# library preloaded: committed writes are announced by the notification
# worker (never by the writer) on the namespace and the record channel
# with the exact payload, rolled-back and assoc.notify = off writes are
# not, an oversized payload drops its paths, a batch's entries travel as
# one JSON array per channel split below the payload limit, rotated
# channels go quiet,
# and an idle worker leaves so its database can be dropped.  Without the
# preloaded library: the writer notifies itself after commit and warns
# once per session.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('notify');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql('app', q{
CREATE EXTENSION pg_assoc;
SELECT assoc.create_namespace('chat');
});
my $ns_ch = $node->safe_psql('app', "SELECT assoc.channel('chat')");
my $r1_ch = $node->safe_psql('app', "SELECT assoc.channel('chat', 'r1')");
my $r2_ch = $node->safe_psql('app', "SELECT assoc.channel('chat', 'r2')");

# Run a script in one session and return its notifications as
# [channel, payload, pid] and its stderr.  psql reports a notification
# after the command during which it arrived.
sub session
{
	my ($db, $sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql($db, $sql, stdout => \$out, stderr => \$err,
		on_error_die => 1);
	my @n;
	while ($out =~
		/^Asynchronous notification "([^"]+)" with payload "(.*)" received from server process with PID (\d+)\.$/mg
	  )
	{
		push @n, [ $1, $2, $3 ];
	}
	return (\@n, $err, $out);
}

# The feed's cursor of (id, version), to compare with payloads.
sub cursor_of
{
	my ($db, $id, $v) = @_;
	return $node->safe_psql($db,
		"SELECT cursor FROM assoc.changes('chat') WHERE id = '$id' AND version = $v"
	);
}

# --- With the preloaded library ------------------------------------------

my ($n, $err, $out) = session('app', qq{
LISTEN $ns_ch;
LISTEN $r1_ch;
SELECT pg_backend_pid() AS listener;
SELECT assoc.set_multi('chat', 'r1', '[{"path": "a.b", "data": 1}, {"path": "c[0]", "data": "x"}]');
SELECT assoc.wait_notified();
BEGIN;
SELECT assoc.set('chat', 'r1', 'rolled', 'true');
ROLLBACK;
SET assoc.notify = off;
SELECT assoc.set('chat', 'r1', 'quiet', 'true');
RESET assoc.notify;
SET assoc.origin = 'svc-1';
SELECT assoc.set('chat', 'r2', NULL, '{"other": "record"}');
SELECT assoc.wait_notified();
RESET assoc.origin;
SELECT assoc.remove('chat', 'r1');
SELECT assoc.wait_notified();
SELECT 1;
});
my ($listener) = $out =~ /^(\d+)$/m;
my $c1 = cursor_of('app', 'r1', 1);
my $c2 = cursor_of('app', 'r2', 1);
my $c3 = cursor_of('app', 'r1', 3);
my $p1 = qq({"ns":"chat","id":"r1","v":1,"op":"patch","paths":["a.b","c[0]"],"cursor":"$c1","origin":null});
my $p2 = qq({"ns":"chat","id":"r2","v":1,"op":"set","paths":null,"cursor":"$c2","origin":"svc-1"});
my $p3 = qq({"ns":"chat","id":"r1","v":3,"op":"remove","paths":null,"cursor":"$c3","origin":null});
is_deeply(
	[ map { "$_->[0] $_->[1]" } @$n ],
	[
		"$ns_ch $p1", "$r1_ch $p1", "$ns_ch $p2", "$ns_ch $p3",
		"$r1_ch $p3"
	],
	'committed writes are announced on the namespace and record channels, in order, with exact payloads; rollback, notify=off and other records are not on the record channel'
);
my $worker = $node->safe_psql('app',
	"SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify'"
);
my %senders = map { $_->[2] => 1 } @$n;
is_deeply([ keys %senders ], [$worker],
	'every notification comes from the notification worker');
isnt($worker, $listener, 'the writer did not notify');
unlike($err, qr/WARNING/, 'no warning with the preloaded library');

# An oversized payload drops its paths instead of failing the write.
my $paths = join(',',
	map { sprintf('{"path": "p%03d_%s", "data": %d}', $_, 'x' x 100, $_) }
	  1 .. 100);
($n, $err) = session('app', qq{
LISTEN $r2_ch;
SELECT assoc.set_multi('chat', 'r2', '[$paths]');
SELECT assoc.wait_notified();
SELECT 1;
});
my $c4 = cursor_of('app', 'r2', 2);
is_deeply(
	[ map { $_->[1] } @$n ],
	[qq({"ns":"chat","id":"r2","v":2,"op":"patch","truncated":true,"cursor":"$c4","origin":null})],
	'a payload over the limit is sent without paths and marked truncated');
is( $node->safe_psql(
		'app',
		"SELECT cardinality(paths) FROM assoc.feed WHERE ns = 'chat' AND id = 'r2' AND version = 2"
	),
	'100',
	'the feed keeps every path of the truncated notification');

# The entries of one batch travel in one notification per channel, as a
# JSON array of the payloads above, split before PostgreSQL's 8000-byte
# limit.  One transaction's entries are always in one batch.
my $r3_ch = $node->safe_psql('app', "SELECT assoc.channel('chat', 'r3')");
($n) = session('app', qq{
LISTEN $ns_ch;
LISTEN $r3_ch;
BEGIN;
SELECT assoc.set('chat', 'r3', 'n', '1');
SELECT assoc.set('chat', 'r4', 'n', '1');
SELECT assoc.set('chat', 'r3', 'n', '2');
COMMIT;
SELECT assoc.wait_notified();
SELECT 1;
});
my @c3 = map { cursor_of('app', @$_) } ([ 'r3', 1 ], [ 'r4', 1 ], [ 'r3', 2 ]);
my @e3 = map {
	my ($id, $v, $c) = @$_;
	qq({"ns":"chat","id":"$id","v":$v,"op":"set","paths":["n"],"cursor":"$c","origin":null})
} ([ 'r3', 1, $c3[0] ], [ 'r4', 1, $c3[1] ], [ 'r3', 2, $c3[2] ]);
is_deeply(
	[ map { "$_->[0] $_->[1]" } @$n ],
	[ "$ns_ch [$e3[0],$e3[1],$e3[2]]", "$r3_ch [$e3[0],$e3[2]]" ],
	'one notification per channel and batch, a JSON array of the entries in feed order');

($n) = session('app', qq{
LISTEN $ns_ch;
SELECT assoc.set('chat', 'wide', 'k' || i, to_jsonb(i)) FROM generate_series(1, 120) AS i;
SELECT assoc.wait_notified();
SELECT 1;
});
my @wide = map { $_->[1] } @$n;
my @sizes = map { length($_) } @wide;
cmp_ok(scalar(@wide), '>', 1, 'a batch over the payload limit is split');
ok(!(grep { $_ >= 8000 } @sizes), 'every part stays under 8000 bytes (' . join(' ', @sizes) . ')');
my @versions = map { /"v":(\d+)/g } @wide;
is_deeply(\@versions, [ 1 .. 120 ], 'the parts hold every entry once, in feed order');

# After rotate_channels the old names receive nothing, the new ones do.
$node->safe_psql('app', "SELECT assoc.rotate_channels('chat')");
my $new_r2 = $node->safe_psql('app', "SELECT assoc.channel('chat', 'r2')");
isnt($new_r2, $r2_ch, 'rotation changes the record channel');
($n) = session('app', qq{
LISTEN $r2_ch;
LISTEN $new_r2;
SELECT assoc.set('chat', 'r2', 'after', 'true');
SELECT assoc.wait_notified();
SELECT 1;
});
is_deeply([ map { $_->[0] } @$n ], [$new_r2],
	'only the rotated channel is notified');

# Another database gets its own worker; once idle it exits, and the
# database can be dropped right after a burst of writes.
$node->safe_psql('postgres', 'CREATE DATABASE scratch');
$node->safe_psql('scratch', q{
CREATE EXTENSION pg_assoc;
SELECT assoc.create_namespace('tmp');
SELECT assoc.set('tmp', 'x' || i, 'n', to_jsonb(i)) FROM generate_series(1, 50) AS i;
SELECT assoc.wait_notified();
});
is( $node->safe_psql(
		'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify' AND datname = 'scratch'"
	),
	'1',
	'the second database has its own worker');
$node->safe_psql('postgres', 'DROP DATABASE scratch');
pass('a database with a recently busy worker can be dropped');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify'"
	),
	'idle workers exit');

# A worker started after an idle exit goes on where the last one stopped.
($n) = session('app', qq{
LISTEN $new_r2;
SELECT assoc.set('chat', 'r2', 'later', 'true');
SELECT assoc.wait_notified();
SELECT 1;
});
is(scalar(@$n), 1, 'a new worker announces the next write once');

# --- Without the preloaded library ----------------------------------------

$node->append_conf('postgresql.conf', "shared_preload_libraries = ''");
$node->restart;
($n, $err, $out) = session('app', qq{
LISTEN $new_r2;
SELECT pg_backend_pid() AS listener;
SELECT assoc.set('chat', 'r2', 'direct', '1');
BEGIN;
SELECT assoc.set('chat', 'r2', 'direct', '2');
ROLLBACK;
SELECT assoc.set('chat', 'r2', 'direct', '3');
SELECT assoc.wait_notified();
});
($listener) = $out =~ /^(\d+)$/m;
is_deeply(
	[ map { $_->[1] =~ /"v":(\d+)/; $1 } @$n ],
	[ 5, 6 ],
	'without preload, committed writes still notify, rolled back ones not');
is_deeply([ map { $_->[2] } @$n ], [ $listener, $listener ],
	'without preload, the writer sends its own notifications');
my @warnings = $err =~ /WARNING:  pg_assoc is not in shared_preload_libraries/g;
is(scalar(@warnings), 1, 'the writer is warned once per session');
is( $node->safe_psql(
		'app', qq{LISTEN $new_r2; SELECT * FROM assoc.notify_registry()}),
	'f||||',
	'without preload, no registry: not filtering, no counts');

$node->stop;
done_testing();
