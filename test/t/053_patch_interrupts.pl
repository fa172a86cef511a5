# The path and patch engine checks for interrupts in every loop whose
# length depends on its input (batch reading, patch expansion, array
# padding, encoding, the forbidden-key search), so statement_timeout =
# '50ms' stops a patch of a 1,000,000-entry batch, and batches on a
# document of 1,000,000 members, well within a second (the bound is
# generous: this machine is shared) with the standard cancellation error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('interrupts');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;

# Inputs, built once and stored uncompressed, so that reading them is a
# copy: a batch of 1,000,000 entries; a document of 1,000,000 members and
# a batch of 2000 entries each inserting a member before all of them (so
# each entry moves every member of the expanded object).
$node->safe_psql('postgres', q{
CREATE EXTENSION pg_assoc;
CREATE TABLE input (name text PRIMARY KEY, doc jsonb);
ALTER TABLE input ALTER COLUMN doc SET STORAGE EXTERNAL;
INSERT INTO input
SELECT 'batch_1m', jsonb_agg(jsonb_build_object('path', 'k' || (2000000 - i), 'data', i))
  FROM generate_series(1, 1000000) AS i;
INSERT INTO input
SELECT 'object_1m', jsonb_object_agg('k' || lpad(i::text, 7, '0'), i)
  FROM generate_series(1, 1000000) AS i;
INSERT INTO input
SELECT 'batch_2000', jsonb_agg(jsonb_build_object('path', 'x' || (5000 - i), 'data', i))
  FROM generate_series(1, 2000) AS i;
SELECT assoc.create_namespace('big');
SELECT assoc.set('big', 'r', NULL, doc) FROM input WHERE name = 'object_1m';
});

# Run one statement under statement_timeout = '50ms'; return the
# milliseconds it took (measured in the server, from just before it to
# just after it) and psql's stderr.
sub timed
{
	my ($sql) = @_;
	my ($out, $err) = ('', '');
	$node->psql(
		'postgres', qq{
SELECT clock_timestamp() AS t0 \\gset
SET statement_timeout = '50ms';
$sql;
RESET statement_timeout;
SELECT round(extract(epoch FROM clock_timestamp() - :'t0'::timestamptz) * 1000);
},
		on_error_stop => 0,
		stdout       => \$out,
		stderr       => \$err,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	my ($ms) = $out =~ /^(\d+)$/m;
	return ($ms, $err);
}

my @cases = (
	[
		'a 1,000,000-entry batch',
		q{SELECT assoc.patch('{}', doc) FROM input WHERE name = 'batch_1m'}
	],
	[
		'a 2000-entry batch on a 1,000,000-member document',
		q{SELECT assoc.patch(d.doc, b.doc) FROM input d, input b
		   WHERE d.name = 'object_1m' AND b.name = 'batch_2000'}
	],
	[
		'has_forbidden_keys of 1,000,000-member documents',
		q{SELECT count(*) FROM generate_series(1, 1000) AS g
		   WHERE NOT assoc.has_forbidden_keys((SELECT doc FROM input WHERE name = 'object_1m' AND g > 0))}
	],
	[
		'set_multi of a 2000-entry batch on a 1,000,000-member record',
		q{SELECT assoc.set_multi('big', 'r', doc) FROM input WHERE name = 'batch_2000'}
	],);

foreach my $case (@cases)
{
	my ($what, $sql) = @$case;
	my ($ms, $err) = timed($sql);
	like(
		$err,
		qr/ERROR:  57014: canceling statement due to statement timeout/,
		"$what is cancelled with 57014");
	ok(defined $ms && $ms < 1000,
		"$what stops within 1 s (took " . ($ms // '?') . ' ms)');
}

is($node->safe_psql('postgres', q{SELECT assoc.version('big', 'r')}),
	'1', 'the cancelled write changed nothing');

$node->stop;
done_testing();
