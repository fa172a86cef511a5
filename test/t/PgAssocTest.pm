# Helpers shared by the TAP tests (test/t/*.pl): what the server under test
# was built with, and what a listening session has heard.
package PgAssocTest;

use strict;
use warnings;
use Exporter 'import';
use Test::More;
use Time::HiRes qw(usleep);

our @EXPORT = qw(skip_all_without_lz4 server_has_asan heard_ids);

# 0.1.0's install script sets lz4 compression on its jsonb columns, which a
# server built without lz4 refuses: a test that starts from 0.1.0 has
# nothing to test there.
sub skip_all_without_lz4
{
	my ($node) = @_;
	plan skip_all => 'this server has no lz4, which 0.1.0 requires'
	  unless $node->safe_psql('postgres',
		q{SELECT 'lz4' = ANY (enumvals) FROM pg_settings
		   WHERE name = 'default_toast_compression'}) eq 't';
}

# Whether the server was built with AddressSanitizer (its CFLAGS, as
# pg_config reports them to a superuser).
sub server_has_asan
{
	my ($node) = @_;
	return $node->safe_psql('postgres',
		q{SELECT setting ~ 'fsanitize=[a-z,]*address' FROM pg_config
		   WHERE name = 'CFLAGS'}) eq 't';
}

# The record ids announced to the listening background psql session $psql
# since the last call, in the order heard, waiting up to $wait_ms for at
# least $min of them (psql shows a notification after the command during
# which it arrived).
sub heard_ids
{
	my ($psql, $min, $wait_ms) = @_;
	my @ids;
	for (my $t = 0; $t <= $wait_ms; $t += 50)
	{
		my $out = $psql->query_safe('SELECT 1');
		push @ids, $out =~ /"id":"([^"]+)"/g;
		last if @ids >= $min;
		usleep(50_000);
	}
	return \@ids;
}

1;
