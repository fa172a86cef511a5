# Moving a namespace between shards (README, "Scaling out"): CALL
# assoc_proxy.move_namespace(ns, to_shard) on one proxy with two shards,
# an application role making every call.
#
#   * an idle move carries the namespace row (owner, history depth,
#     channel secret: the channel name stays), records, history and op_id
#     ledger exactly, leaves nothing on the source, switches the directory;
#     an op_id retried after the move returns its first result; a cursor
#     from before the move gets 55000;
#   * under load (8 pgbench clients, 2000 writes each, every write a
#     set_multi with an op_id, retried on 40001), no acknowledged write is
#     lost or applied twice, and versions stay contiguous;
#   * the source shard killed while the move, having fenced it, waits for
#     a writer that found it open: writes fail at once meanwhile, the
#     source refuses them once back, and running the move again completes
#     it;
#   * a move cut short after its switch (cancelled while it waits for the
#     proxy's older transactions) is finished by running it again;
#   * the target and the proxy killed between steps: running the move again
#     completes it;
#   * a namespace its owner drops during a move: the move ends, its partial
#     copy goes;
#   * abort_move undoes a move before its switch, also one stopped by a
#     namespace of the same name created on the target meanwhile.
#   * only the owner moves, and the shards' move functions are the
#     extension owner's.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);

my $proxy = PostgreSQL::Test::Cluster->new('mproxy');
$proxy->init;
$proxy->start;
if ($proxy->safe_psql('postgres',
		"SELECT count(*) FROM pg_available_extensions WHERE name = 'plproxy'") eq '0')
{
	die 'PL/Proxy is required here (PG_ASSOC_REQUIRE_PLPROXY)' if $ENV{PG_ASSOC_REQUIRE_PLPROXY};
	plan skip_all => 'PL/Proxy is not installed for this server (test/servers.sh could not build it)';
}
my @shards;
for my $i (0, 1)
{
	my $node = PostgreSQL::Test::Cluster->new("mshard$i");
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_assoc; CREATE ROLE app LOGIN');
	push @shards, $node;
}
my @connstrs = map { 'host=' . $_->host . ' port=' . $_->port . ' dbname=postgres' } @shards;
$proxy->safe_psql('postgres', qq{
CREATE ROLE app LOGIN;
CREATE EXTENSION plproxy;
CREATE EXTENSION pg_assoc_proxy;
SELECT assoc_proxy.configure(ARRAY['$connstrs[0]', '$connstrs[1]']);
SELECT assoc_proxy.place('mv', 0);
-- Small rounds, so that the copy crosses their bounds in every table.
ALTER DATABASE postgres SET assoc_proxy.move_batch = 700;
});
my $as_app = $proxy->connstr('postgres') . ' user=app';

# Run SQL on the proxy as the application role: (stdout, stderr).
sub app
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $proxy->psql('postgres', "\\set VERBOSITY verbose\n$sql", connstr => $as_app);
	return ($out, $err);
}

sub app_ok
{
	my ($sql) = @_;
	my ($out, $err) = app($sql);
	die "unexpected error: $err\n$sql" if $err =~ /ERROR/;
	return $out;
}

# The namespace's rows on a shard, table by table, as text (the namespace
# row without its incarnation, which is per server).
sub rows_on
{
	my ($node) = @_;
	return $node->safe_psql('postgres', q{
SELECT (SELECT string_agg(format('%s %s %s %s', n.owner, n.history_depth, n.channel_secret, n.created_at), '')
          FROM assoc.namespaces n WHERE n.ns = 'mv'),
       (SELECT string_agg(r::text, E'\n' ORDER BY r.id) FROM assoc.records r WHERE r.ns = 'mv'),
       (SELECT string_agg(h::text, E'\n' ORDER BY h.id, h.version) FROM assoc.history h WHERE h.ns = 'mv'),
       (SELECT string_agg(o::text, E'\n' ORDER BY o.op_id) FROM assoc.ops o WHERE o.ns = 'mv')
});
}

# Whether a shard has anything of the namespace left, in any table.
sub leftovers
{
	my ($node) = @_;
	return $node->safe_psql('postgres', q{
SELECT (SELECT count(*) FROM assoc.namespaces WHERE ns = 'mv') + (SELECT count(*) FROM assoc.records WHERE ns = 'mv')
     + (SELECT count(*) FROM assoc.history WHERE ns = 'mv') + (SELECT count(*) FROM assoc.ops WHERE ns = 'mv')
     + (SELECT count(*) FROM assoc.feed WHERE ns = 'mv')
});
}

# The namespace's directory entry and move: "shard pinned target switched"
# ("-" for no move).
sub entry
{
	my ($ns) = @_;
	$ns //= 'mv';
	return $proxy->safe_psql('postgres', qq{
SELECT concat_ws(' ', d.shard, d.pinned, coalesce(m.target::text, '-'),
                 CASE WHEN m.switched_at IS NULL THEN '-' ELSE 'switched' END)
  FROM assoc_proxy.directory d LEFT JOIN assoc_proxy.moves m USING (ns) WHERE d.ns = '$ns'});
}

# --- an idle move -----------------------------------------------------------

app_ok(q{
SELECT assoc.create_namespace('mv');
SELECT assoc.alter_namespace('mv', 3);
SELECT assoc.set('mv', 'r1', NULL, '{"a": {"b": [1, null, "x"]}}', NULL, 'op-1');
SELECT assoc.set_multi('mv', 'r1', '[{"path": "a.c", "data": null}, {"path": "z", "data": "\u00e9"}]', 1, 'op-2');
SELECT assoc.link('mv', 'r1', '{room:GENERAL,user:42}');
SELECT assoc.set('mv', 'r2', NULL, '[]');
SELECT assoc.set('mv', 'gone', NULL, '{}');
SELECT assoc.remove('mv', 'gone');
SELECT assoc.create('mv', '{"n": 1}', '{room:GENERAL}', 'made', 'op-c');
});
$shards[0]->safe_psql('postgres', q{
INSERT INTO assoc.records SELECT 'mv', 'bulk' || i, '{}', jsonb_build_object('i', i, 'pad', repeat('p', 200)), 1
  FROM generate_series(1, 2500) i});
my $before = rows_on($shards[0]);
my $channel = app_ok(q{SELECT assoc.channel('mv', 'r1')});
my $cursor = app_ok(q{SELECT assoc.head('mv')});

my ($out, $err) = app(q{CALL assoc_proxy.move_namespace('mv', 1)});
like($err, qr/42501: permission denied for procedure move_namespace/, 'an application role cannot move a namespace');
my $ret;
($ret, $out, $err) = $shards[0]->psql('postgres', q{SET ROLE app; SELECT assoc.move_fence('mv', true)});
like($err, qr/permission denied for function move_fence/, '... nor fence one on its shard');

# The first pass, then changes the next passes must carry: rows gone in
# several key ranges, new history across them, changed records, and
# documents whose text needs more than one call.
my $started = $proxy->safe_psql('postgres', q{SELECT assoc_proxy.move_begin('mv', 1)});
is(entry(), '0 t 1 -', 'the move is recorded; calls still go to the source');
$proxy->safe_psql('postgres', qq{SELECT assoc_proxy.move_copy('mv', '$started', false)});
is($shards[1]->safe_psql('postgres', q{SELECT fenced FROM assoc.namespaces WHERE ns = 'mv'}), 't',
	'the target holds a fenced copy');
$shards[0]->safe_psql('postgres', q{
DELETE FROM assoc.records WHERE ns = 'mv' AND id LIKE 'bulk%' AND substr(id, 5)::int % 3 = 0;
INSERT INTO assoc.history SELECT 'mv', 'bulk1', i, '{}', '{}', 'set' FROM generate_series(2, 1500) i;
INSERT INTO assoc.records SELECT 'mv', 'big' || i, '{}', jsonb_build_object('text', repeat(chr(64 + i), 5000000)), 1
  FROM generate_series(1, 3) i;
});
app_ok(q{SELECT assoc.set('mv', 'bulk2', 'changed', 'true', NULL, 'op-changed')});
$before = rows_on($shards[0]);
$proxy->safe_psql('postgres', q{CALL assoc_proxy.move_namespace('mv', 1)});
is(entry(), '1 t - -', 'calling the move again completes it: the directory names the target');
is(rows_on($shards[1]), $before,
	'the target holds the namespace row, records, history and op_id ledger exactly');
is(leftovers($shards[0]), '0', 'the source holds nothing of it');
is(app_ok(q{SELECT assoc.channel('mv', 'r1')}), $channel, 'channel names stay the same');
is(app_ok(q{SELECT assoc.set_multi('mv', 'r1', '[{"path": "a.c", "data": null}, {"path": "z", "data": "\u00e9"}]', 1, 'op-2')}),
	'2', 'an op_id retried after the move returns its first result');
is(app_ok(q{SELECT assoc.version('mv', 'r1')}), '3', '... and changes nothing');
($out, $err) = app(qq{SELECT * FROM assoc.changes('mv', '$cursor')});
like($err, qr/55000: .*cursor "$cursor" cannot be continued in namespace "mv"/,
	'a cursor from before the move gets 55000');
like($err, qr/assoc\.snapshot/, '... with the hint to resynchronise');
my $head = app_ok(q{SELECT cursor FROM assoc.snapshot('mv') LIMIT 1});
app_ok(q{SELECT assoc.set('mv', 'r2', NULL, '[1]')});
is(app_ok(qq{SELECT id || ' ' || version FROM assoc.changes('mv', '$head')}), 'r2 2',
	'the feed goes on from a cursor of the new shard');
$proxy->safe_psql('postgres', q{CALL assoc_proxy.move_namespace('mv', 1)});
is(entry(), '1 t - -', 'moving it where it is changes nothing');
($ret, $out, $err) = $proxy->psql('postgres', q{CALL assoc_proxy.move_namespace('nowhere', 1)});
like($err, qr/namespace "nowhere" does not exist on shard/, 'a namespace that does not exist is not moved');
($ret, $out, $err) = $proxy->psql('postgres', q{CALL assoc_proxy.move_namespace('mv', 2)});
like($err, qr/shard 2 does not exist/, '... nor to a shard that does not exist');
app_ok(q{SELECT assoc.remove('mv', k || i) FROM generate_series(1, 2500) i, unnest(ARRAY['bulk', 'big']) k});

# --- under load -------------------------------------------------------------

my $dir = PostgreSQL::Test::Utils::tempdir;
my $clients = 8;
open my $fh, '>', "$dir/move_load.sql" or die $!;
print $fh q{\set n random(1, 1000000000000000)
SELECT assoc.set_multi('mv', 'c' || :client_id, jsonb_build_array(jsonb_build_object('path', 'w.k' || :n, 'data', true)), NULL, 'w-' || :client_id || '-' || :n);
};
close $fh;
my $bench = IPC::Run::start(
	[
		'pgbench', '-n', '-c', $clients, '-j', 2, '-t', 2000, '--max-tries', 1000000,
		'-f', "$dir/move_load.sql", $as_app
	],
	'<', '/dev/null', '>', "$dir/move_load.out", '2>', "$dir/move_load.err");
ok($shards[1]->poll_query_until('postgres', "SELECT count(*) = $clients FROM assoc.records WHERE id LIKE 'c%'"),
	'every client has written');
$proxy->safe_psql('postgres', q{CALL assoc_proxy.move_namespace('mv', 0)});
my $moved_at = $shards[0]->safe_psql('postgres', q{SELECT sum(version) FROM assoc.records WHERE id LIKE 'c%'});
ok($bench->finish, 'the clients had no error') or diag(slurp_file("$dir/move_load.err"));
my $report = slurp_file("$dir/move_load.out");
note($report);
my ($processed) = $report =~ /number of transactions actually processed: (\d+)/;
my ($failed) = $report =~ /number of failed transactions: (\d+)/;
my ($retried) = $report =~ /number of transactions retried: (\d+)/;
cmp_ok($retried, '>', 0, 'writes met the fence (40001) and were retried');
is($failed, '0', 'no write failed for good');
is($processed, $clients * 2000, 'every write was acknowledged');
is(entry(), '0 t - -', 'the directory names shard 0');
is(leftovers($shards[1]), '0', 'shard 1 holds nothing of the namespace');
my ($acked, $versions, $keys) = split /\|/, $shards[0]->safe_psql('postgres', qq{
SELECT $processed, sum(version), sum((SELECT count(*) FROM jsonb_object_keys(data->'w')))
  FROM assoc.records WHERE ns = 'mv' AND id LIKE 'c%'});
is($versions, $acked, 'every acknowledged write is there once: the versions add up to the writes acknowledged');
is($keys, $acked, '... and so do the keys the writes added');
cmp_ok($moved_at, '<', $acked, 'writes were acknowledged after the move, on the new shard');
is($shards[0]->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT h.id, max(h.version) - min(h.version) + 1 = count(*) AS contiguous, max(h.version) AS last
                        FROM assoc.history h WHERE h.ns = 'mv' AND h.id LIKE 'c%' GROUP BY h.id) h
  JOIN assoc.records r ON r.ns = 'mv' AND r.id = h.id
 WHERE h.contiguous AND h.last = r.version}), $clients, 'each record\'s kept versions are contiguous up to its version');

# --- the source killed in the middle of a move --------------------------------

# A writer on the source holds the namespace, so the move, having fenced
# the source, waits for it; the source is killed then.
my $blocker = IPC::Run::start(
	[
		'psql', '-X', '-d', $shards[0]->connstr('postgres'), '-c',
		q{BEGIN; SELECT assoc.set('mv', 'blocker', NULL, '{}'); SELECT pg_sleep(600);}
	],
	'<', '/dev/null', '>', "$dir/blocker.out", '2>', "$dir/blocker.err");
ok($shards[0]->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()}),
	'a writer holds the namespace on the source');
my $mover = IPC::Run::start(
	[ 'psql', '-X', '-d', $proxy->connstr('postgres'), '-c', q{CALL assoc_proxy.move_namespace('mv', 1)} ],
	'<', '/dev/null', '>', "$dir/mover.out", '2>', "$dir/mover.err");
ok($shards[0]->poll_query_until('postgres',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%move_quiesce%'}),
	'the move has fenced the source and waits for the writer that found it open');
is(entry(), '0 t 1 -', 'the move is recorded');
($out, $err) = app(q{SELECT assoc.set('mv', 'late', NULL, '{}', NULL, 'op-late')});
like($err, qr/40001: .*namespace "mv" is being moved to another server/,
	'a write meanwhile fails with 40001 (after a pause), queueing for no lock');
is($shards[1]->safe_psql('postgres', q{SELECT fenced FROM assoc.namespaces WHERE ns = 'mv'}), 't',
	'the target holds a fenced copy');
$shards[0]->stop('immediate');
$mover->finish;
$blocker->finish;
like(slurp_file("$dir/mover.err"), qr/ERROR/, 'the move stopped with an error');
$shards[0]->start;
($out, $err) = app(q{SELECT assoc.set('mv', 'late', NULL, '{}', NULL, 'op-late')});
like($err, qr/40001: .*namespace "mv" is being moved to another server/,
	'the source, back, still refuses changes: the fence committed before the crash');
is(app_ok(q{SELECT assoc.version('mv', 'r1')}), '3', '... and serves reads');
($ret, $out, $err) = $proxy->psql('postgres', q{CALL assoc_proxy.move_namespace('mv', 0)});
like($err, qr/namespace "mv" is being moved to shard 1/, 'another move waits for this one to complete');
$before = rows_on($shards[0]);
$proxy->safe_psql('postgres', q{CALL assoc_proxy.move_namespace('mv', 1)});
is(entry(), '1 t - -', 'running the move again completes it');
is(rows_on($shards[1]), $before, 'the target holds everything');
is(leftovers($shards[0]), '0', 'the source holds nothing');
is(app_ok(q{SELECT assoc.version('mv', 'blocker')}), '0', 'the write that never committed is not there');
is(app_ok(q{SELECT assoc.set('mv', 'late', NULL, '{}', NULL, 'op-late')}), '1',
	'the write refused during the move succeeds when retried');

# --- a move cut short after its switch ----------------------------------------------

# An open transaction on the proxy holds the move after its switch.
my $old = IPC::Run::start(
	[ 'psql', '-X', '-d', $proxy->connstr('postgres'), '-c', q{BEGIN; SELECT pg_sleep(601);} ],
	'<', '/dev/null', '>', "$dir/old.out", '2>', "$dir/old.err");
ok($proxy->poll_query_until('postgres', q{SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(601)%' AND pid <> pg_backend_pid()}),
	'a transaction is open on the proxy');
$mover = IPC::Run::start(
	[ 'psql', '-X', '-d', $proxy->connstr('postgres'), '-c', q{CALL assoc_proxy.move_namespace('mv', 0)} ],
	'<', '/dev/null', '>', "$dir/mover2.out", '2>', "$dir/mover2.err");
ok($proxy->poll_query_until('postgres', q{SELECT d.shard = 0 AND m.switched_at IS NOT NULL FROM assoc_proxy.directory d JOIN assoc_proxy.moves m USING (ns) WHERE ns = 'mv'}),
	'the move switches, then waits for the older transaction');
is(app_ok(q{SELECT assoc.set('mv', 'r2', NULL, '[2]')}), '3', 'calls go to the new shard meanwhile');
$proxy->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'CALL assoc_proxy.move_namespace%'});
$mover->finish;
like(slurp_file("$dir/mover2.err"), qr/canceling statement due to user request/, 'the move is cancelled');
is(entry(), '0 t 0 switched', 'the move is still recorded, its old copy to remove');
($ret, $out, $err) = $proxy->psql('postgres', q{SELECT assoc_proxy.abort_move('mv')});
like($err, qr/the move of namespace "mv" has switched: it can only be completed/, 'a switched move cannot be undone');
is($shards[1]->safe_psql('postgres', q{SELECT fenced FROM assoc.namespaces WHERE ns = 'mv'}), 't',
	'... which is fenced');
$proxy->safe_psql('postgres', q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(601)%' AND pid <> pg_backend_pid()});
$old->finish;
$proxy->safe_psql('postgres', q{CALL assoc_proxy.move_namespace('mv', 0)});
is(entry(), '0 t - -', 'running the move again finishes it');
is(leftovers($shards[1]), '0', 'the old copy is gone');
is(app_ok(q{SELECT assoc.get('mv', 'r2')}), '[2]', 'the namespace serves from shard 0');

# --- the target and the proxy killed between steps --------------------------------

app_ok(q{SELECT assoc.create_namespace('hard'); SELECT assoc.alter_namespace('hard', 2);});
app_ok(q{SELECT assoc.set('hard', 'r' || i, NULL, jsonb_build_object('i', i), NULL, 'h-' || i) FROM generate_series(1, 30) i});
my $hfrom = $proxy->safe_psql('postgres', q{SELECT assoc_proxy.route('hard')});
my $hto = 1 - $hfrom;
$started = $proxy->safe_psql('postgres', qq{SELECT assoc_proxy.move_begin('hard', $hto)});
$proxy->safe_psql('postgres', qq{SELECT assoc_proxy.move_copy('hard', '$started', false)});
app_ok(q{SELECT assoc.set('hard', 'r1', 'i', '100', NULL, 'h-changed')});
# A pass whose proxy transaction was lost after its rows reached the
# target: the proxy no longer lists what the copy holds.  A record removed
# on the source meanwhile must not come back with the copy.
$proxy->safe_psql('postgres', q{DELETE FROM assoc_proxy.copied WHERE ns = 'hard'});
app_ok(q{SELECT assoc.remove('hard', 'r2')});
$shards[$hto]->stop('immediate');
$shards[$hto]->start;
$proxy->stop('immediate');
$proxy->start;
is(entry('hard'), "$hfrom t $hto -", 'after the target and the proxy were killed, the move is still recorded');
my $hbefore = $shards[$hfrom]->safe_psql('postgres', q{
SELECT string_agg(r::text, E'\n' ORDER BY r.id) FROM assoc.records r WHERE r.ns = 'hard'});
$proxy->safe_psql('postgres', qq{CALL assoc_proxy.move_namespace('hard', $hto)});
is(entry('hard'), "$hto t - -", 'running the move again completes it');
is($shards[$hto]->safe_psql('postgres', q{
SELECT string_agg(r::text, E'\n' ORDER BY r.id) FROM assoc.records r WHERE r.ns = 'hard'}), $hbefore,
	'the target holds every record as the source had it: the change after the first pass, not the record removed');
is(app_ok(q{SELECT assoc.set('hard', 'r1', 'i', '100', NULL, 'h-changed')}), '2',
	'an op_id of before the move replays its result on the target');

# --- a namespace dropped while it is being moved ------------------------------

app_ok(q{SELECT assoc.create_namespace('short'); SELECT assoc.set('short', 'r', NULL, '{}');});
my $from = $proxy->safe_psql('postgres', q{SELECT assoc_proxy.route('short')});
my $to = 1 - $from;
$started = $proxy->safe_psql('postgres', qq{SELECT assoc_proxy.move_begin('short', $to)});
$proxy->safe_psql('postgres', qq{SELECT assoc_proxy.move_copy('short', '$started', false)});
is($shards[$to]->safe_psql('postgres', q{SELECT fenced FROM assoc.namespaces WHERE ns = 'short'}), 't',
	'a move has copied a namespace');
app_ok(q{SELECT assoc.drop_namespace('short')});
($ret, $out, $err) = $proxy->psql('postgres', qq{CALL assoc_proxy.move_namespace('short', $to)});
like($err, qr/namespace "short" was dropped while it was being moved: the move ends/,
	'its owner drops it: calling the move again ends it');
is($shards[$to]->safe_psql('postgres', q{SELECT count(*) FROM assoc.namespaces WHERE ns = 'short'}), '0',
	'... and removes the partial copy');
is(entry('short'), "$from t - -", '... and forgets the move; the pin stays');

# --- undoing a move ---------------------------------------------------------

# Before its switch a move is undone: after its final copy (the source
# fenced, the copy open) ...
app_ok(q{SELECT assoc.create_namespace('undo'); SELECT assoc.set('undo', 'r', NULL, '{"n": 1}');});
$from = $proxy->safe_psql('postgres', q{SELECT assoc_proxy.route('undo')});
$to = 1 - $from;
$started = $proxy->safe_psql('postgres', qq{SELECT assoc_proxy.move_begin('undo', $to)});
$proxy->safe_psql('postgres', qq{SELECT assoc_proxy.move_copy('undo', '$started', false)});
$proxy->safe_psql('postgres', qq{SELECT assoc_proxy.move_copy('undo', '$started', true)});
is($shards[$from]->safe_psql('postgres', q{SELECT fenced FROM assoc.namespaces WHERE ns = 'undo'}) . ' '
	. $shards[$to]->safe_psql('postgres', q{SELECT fenced FROM assoc.namespaces WHERE ns = 'undo'}),
	't f', 'the final copy fenced the source and opened the copy');
($out, $err) = app(q{SELECT assoc.set('undo', 'r', 'n', '2')});
like($err, qr/40001: .*namespace "undo" is being moved to another server/, 'changes fail with 40001 meanwhile');
$proxy->safe_psql('postgres', q{SELECT assoc_proxy.abort_move('undo')});
is(entry('undo'), "$from t - -", 'abort_move forgets the move');
is($shards[$to]->safe_psql('postgres', q{SELECT count(*) FROM assoc.namespaces WHERE ns = 'undo'}), '0',
	'... removes the copy');
is(app_ok(q{SELECT assoc.set('undo', 'r', 'n', '2')}), '2', '... and the source takes changes again');
($ret, $out, $err) = $proxy->psql('postgres', q{SELECT assoc_proxy.abort_move('undo')});
like($err, qr/no move of namespace "undo" is recorded/, 'there is nothing more to undo');

# ... and when a role has created a namespace of the same name on the
# target directly, which the move never takes for its copy.
$proxy->safe_psql('postgres', qq{SELECT assoc_proxy.move_begin('undo', $to)});
$shards[$to]->safe_psql('postgres', q{SET ROLE app; SELECT assoc.create_namespace('undo'); SELECT assoc.set('undo', 'mine', NULL, '{}')});
($ret, $out, $err) = $proxy->psql('postgres', qq{CALL assoc_proxy.move_namespace('undo', $to)});
like($err, qr/shard $to already holds a namespace "undo"|shard $to holds another namespace "undo", created there during the move/,
	'a namespace created on the target meanwhile stops the move');
is($shards[$from]->safe_psql('postgres', q{SELECT fenced FROM assoc.namespaces WHERE ns = 'undo'}), 'f',
	'... before the source is fenced');
$proxy->safe_psql('postgres', q{SELECT assoc_proxy.abort_move('undo')});
is(entry('undo'), "$from t - -", 'abort_move forgets it');
is($shards[$to]->safe_psql('postgres', q{SELECT string_agg(id, ',') FROM assoc.records WHERE ns = 'undo'}), 'mine',
	'... and leaves the other namespace alone');
is(app_ok(q{SELECT assoc.get('undo', 'r')}), '{"n": 2}', 'calls still reach the source');
$shards[$to]->safe_psql('postgres', q{SET ROLE app; SELECT assoc.drop_namespace('undo')});
is($proxy->safe_psql('postgres', q{SELECT assoc_proxy.sync_directory()}), '0', 'the directory agrees with the shards');

done_testing();
