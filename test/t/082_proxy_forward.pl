# Subscriptions through the proxy (README, "Scaling out"): with
# assoc.proxy_conninfo set on the shards, each shard's notification worker
# forwards its notifications to the proxy database, so a client LISTENing
# on the proxy, on channel names it got from the proxy, hears the changes
# of namespaces on both shards, and the feed read through the proxy holds
# every one, also from a LATIN1 database.  A proxy that is stopped, or
# hangs, never delays the shards' own notifications, and forwarding resumes
# once it is back; query cancels aimed at the worker do not end it; the
# setting refuses host names (looked up while the worker would wait) and
# never echoes the string.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

my $proxy = PostgreSQL::Test::Cluster->new('fproxy');
$proxy->init;
$proxy->start;
if ($proxy->safe_psql('postgres',
		"SELECT count(*) FROM pg_available_extensions WHERE name = 'plproxy'") eq '0')
{
	die 'PL/Proxy is required here (PG_ASSOC_REQUIRE_PLPROXY)' if $ENV{PG_ASSOC_REQUIRE_PLPROXY};
	plan skip_all => 'PL/Proxy is not installed for this server (test/servers.sh could not build it)';
}
my $to_proxy = 'host=' . $proxy->host . ' port=' . $proxy->port . ' dbname=postgres';
my @shards;
for my $i (0, 1)
{
	my $node = PostgreSQL::Test::Cluster->new("fshard$i");
	$node->init;
	$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
	$node->append_conf('postgresql.conf', "assoc.proxy_conninfo = '$to_proxy'");
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION pg_assoc');
	push @shards, $node;
}
my @connstrs = map { 'host=' . $_->host . ' port=' . $_->port . ' dbname=postgres' } @shards;
$proxy->safe_psql('postgres', qq{
CREATE EXTENSION plproxy;
CREATE EXTENSION pg_assoc_proxy;
SELECT assoc_proxy.configure(ARRAY['$connstrs[0]', '$connstrs[1]']);
SELECT assoc_proxy.place('alpha', 0);
SELECT assoc_proxy.place('beta', 1);
SELECT assoc.create_namespace('alpha');
SELECT assoc.create_namespace('beta');
});
is($shards[0]->safe_psql('postgres', q{SHOW assoc.proxy_conninfo}), $to_proxy, 'the setting is read');

# The notifications a psql session on $node printed: [channel, payload].
sub session
{
	my ($node, $sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql('postgres', $sql, stdout => \$out, stderr => \$err, on_error_die => 1);
	my @n;
	push @n, [ $1, $2 ]
	  while $out =~ /^Asynchronous notification "([^"]+)" with payload "(.*)" received from server process/mg;
	return \@n;
}

# The entries a payload carries (one entry, or a JSON array of them), as "ns/id/v".
sub entries
{
	my ($payload) = @_;
	my @e;
	push @e, "$1/$2/$3" while $payload =~ /\{"ns":"([^"]+)","id":"([^"]+)","v":(\d+)/g;
	return @e;
}

my $alpha = $proxy->safe_psql('postgres', q{SELECT assoc.channel('alpha')});
my $beta = $proxy->safe_psql('postgres', q{SELECT assoc.channel('beta')});
is($alpha, $shards[0]->safe_psql('postgres', q{SELECT assoc.channel('alpha')}),
	'the proxy gives the shard\'s channel name');

my $n = session($proxy, qq{
LISTEN "$alpha";
LISTEN "$beta";
SELECT assoc.set('alpha', 'a1', 'x', '1');
SELECT assoc.set_multi('beta', 'b1', '[{"path": "y", "data": 2}]');
SELECT assoc.set('alpha', 'a1', 'x', '2');
SELECT assoc.set('beta', 'b2', 'z', '3');
} . "SELECT pg_sleep(0.5);\n" x 6);
my %heard;
for my $note (@$n)
{
	$heard{"$note->[0] $_"} = 1 for entries($note->[1]);
}
is_deeply([ sort keys %heard ],
	[ sort("$alpha alpha/a1/1", "$alpha alpha/a1/2", "$beta beta/b1/1", "$beta beta/b2/1") ],
	'a listener on the proxy hears every change of both shards, on their channels');
is($proxy->safe_psql('postgres',
		q{SELECT string_agg(id || '/' || version, ' ' ORDER BY id, version) FROM (SELECT * FROM assoc.changes('alpha') UNION ALL SELECT * FROM assoc.changes('beta')) c}),
	'a1/1 a1/2 b1/1 b2/1', 'and the feed through the proxy holds every entry');

# Local notifications on shard 0, timed: the proxy must not slow them.
sub local_round
{
	my ($tag) = @_;
	my $t0 = time;
	my $notes = session($shards[0], qq{
LISTEN "$alpha";
SELECT assoc.set('alpha', '$tag', 'x', '1');
SELECT assoc.set('alpha', '$tag', 'x', '2');
SELECT assoc.wait_notified(5000);
SELECT 1;
});
	my @local = map { entries($_->[1]) } @$notes;
	return (time - $t0, [ sort @local ]);
}

# A LATIN1 database of a shard: its payloads reach the proxy as text.
$shards[1]->safe_psql('postgres',
	q{CREATE DATABASE latin ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0});
$shards[1]->safe_psql('latin', q{CREATE EXTENSION pg_assoc; SELECT assoc.create_namespace('lat')});
my $lat = $shards[1]->safe_psql('latin', q{SELECT assoc.channel('lat')});
# The write comes from another process a second after the LISTEN.
my $write = q{SELECT assoc.set('lat', 'caf' || chr(233), 'x', '1')};
system('(sleep 1; psql -X -q -h ' . $shards[1]->host . ' -p ' . $shards[1]->port
	  . qq{ -d latin -c "$write" >/dev/null) &});
$n = session($proxy, qq{LISTEN "$lat";\n} . "SELECT pg_sleep(0.5);\n" x 8);
ok((grep { $_->[1] =~ /"id":"café"/ } @$n), 'a LATIN1 database\'s notification reaches the proxy, converted')
  or diag explain $n;

# Query cancels aimed at the worker while it forwards: it goes on.
my $worker = $shards[0]->safe_psql('postgres',
	q{SELECT assoc.set('alpha', 'c', 'x', '0'); SELECT assoc.wait_notified();
	  SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify'});
$worker = (split /\n/, $worker)[-1];
$shards[0]->safe_psql('postgres', join '', map {
	"SELECT assoc.set('alpha', 'c', 'x', '$_'); SELECT pg_cancel_backend($worker); SELECT pg_sleep(0.02);\n"
} 1 .. 50);
is($shards[0]->safe_psql('postgres', q{SELECT assoc.wait_notified(5000)}), 't', 'cancels do not stop the announcing');
unlike(slurp_file($shards[0]->logfile), qr/"pg_assoc notify".*exited with exit code 1/,
	'and the worker never ended with an error');

# The setting: no host name, no service, and the string is never echoed.
my ($ret, $out, $err) = $shards[0]->psql('postgres', q{ALTER SYSTEM SET assoc.proxy_conninfo = 'host=proxy.example dbname=app'});
like($err, qr/names host "proxy.example", which would be looked up by name/, 'a host name is refused');
($ret, $out, $err) = $shards[0]->psql('postgres', q{ALTER SYSTEM SET assoc.proxy_conninfo = 'service=proxy'});
like($err, qr/must not name a service/, 'a service is refused');
($ret, $out, $err) = $shards[0]->psql('postgres', q{ALTER SYSTEM SET assoc.proxy_conninfo = 'password=zzsecret dbname=''x'});
like($err, qr/assoc.proxy_conninfo is not a valid connection string/, 'a malformed string is refused');
unlike($err, qr/zzsecret/, '... without echoing it');
($ret, $out, $err) = $shards[0]->psql('postgres', q{ALTER SYSTEM SET assoc.proxy_conninfo = 'host=192.0.2.1,/tmp,::1 dbname=x'});
is($err, '', 'addresses and socket directories are accepted');
$shards[0]->safe_psql('postgres', q{ALTER SYSTEM RESET assoc.proxy_conninfo});

$proxy->stop;
my ($secs, $local) = local_round('down');
is_deeply($local, [ 'alpha/down/1', 'alpha/down/2' ], 'with the proxy stopped, local listeners hear every change');
cmp_ok($secs, '<', 3, 'and at once (not waiting for the proxy)');
ok($shards[0]->wait_for_log(qr/pg_assoc could not forward notifications to the proxy/),
	'the failure to forward is logged');

# Back: forwarding resumes (after the worker's pause before reconnecting).
sub resumes
{
	my ($tag) = @_;
	for my $try (1 .. 45)
	{
		my $notes = session($proxy, qq{
LISTEN "$alpha";
SELECT assoc.set('alpha', '$tag', 'try', '$try');
SELECT pg_sleep(1);
SELECT 1;
});
		return 1 if grep { m{^alpha/$tag/} } map { entries($_->[1]) } @$notes;
	}
	return 0;
}
$proxy->start;
ok(resumes('back'), 'once the proxy is back, forwarding resumes');

# A proxy that stops answering (its processes stopped) while the worker's
# connection is open: the connection waits in vain, not the worker, and
# after 10 seconds it is given up.
$proxy->poll_query_until('postgres',
	q{SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = 'pg_assoc forward'})
  or die 'the worker is not connected to the proxy';
our @procs = ($proxy->{_pid}, split(/\s+/, `pgrep -P $proxy->{_pid}`));
END { kill 'CONT', @procs if @procs; }
kill 'STOP', @procs;
($secs, $local) = local_round('hung');
is_deeply($local, [ 'alpha/hung/1', 'alpha/hung/2' ], 'with the proxy hung, local listeners hear every change');
cmp_ok($secs, '<', 3, 'and at once');
ok($shards[0]->wait_for_log(
		qr/pg_assoc could not forward notifications to the proxy: (no answer|the connection was not made) in time/),
	'the hung proxy is given up after its timeout');
($secs, $local) = local_round('later');
is_deeply($local, [ 'alpha/later/1', 'alpha/later/2' ], 'local notifications go on meanwhile');
kill 'CONT', @procs;
ok(resumes('again'), 'and forwarding resumes once the proxy answers again');

done_testing();
