# Check META.json against the PGXN Meta Spec 1.0.0 keys the release needs
# and against the tree: perl test/release/check_meta.pl TOP
#
# Required: meta-spec (version 1.0.0), name, abstract, version, maintainer,
# license, provides (pg_assoc with file, version and abstract), prereqs
# (runtime PostgreSQL), tags.  The versions must agree: META.json's, its
# provides entry's, pg_assoc.control's default_version, the Makefile's
# EXTVERSION, and the newest upgrade script's target.  Every provided file
# and the docfile exist.  Prints what is wrong and exits 1.
use strict;
use warnings;
use JSON::PP;

my $top = shift @ARGV or die "usage: check_meta.pl TOP\n";
my @errors;

# slurp FILE: its contents.
sub slurp
{
	my ($file) = @_;
	open my $fh, '<', $file or die "cannot read $file: $!\n";
	local $/;
	return <$fh>;
}

my $meta = eval { decode_json(slurp("$top/META.json")) }
  or die "META.json is not valid JSON: $@";

for my $key (qw(meta-spec name abstract version maintainer license provides
	prereqs tags))
{
	push @errors, "missing key: $key" unless exists $meta->{$key};
}
push @errors, "meta-spec version is not 1.0.0"
  unless ($meta->{'meta-spec'}{version} // '') eq '1.0.0';
push @errors, "name is not pg_assoc" unless ($meta->{name} // '') eq 'pg_assoc';
push @errors, "version is not semantic (x.y.z)"
  unless ($meta->{version} // '') =~ /^\d+\.\d+\.\d+$/;
push @errors, "maintainer is empty"
  unless ref $meta->{maintainer} eq 'ARRAY' && @{ $meta->{maintainer} };
push @errors, "license is not postgresql"
  unless ($meta->{license} // '') eq 'postgresql';
push @errors, "tags is empty"
  unless ref $meta->{tags} eq 'ARRAY' && @{ $meta->{tags} };
push @errors, "prereqs.runtime.requires.PostgreSQL missing"
  unless $meta->{prereqs}{runtime}{requires}{PostgreSQL};

my $provided = $meta->{provides}{pg_assoc} // {};
for my $key (qw(file version abstract))
{
	push @errors, "provides.pg_assoc.$key missing" unless $provided->{$key};
}
for my $file (grep { defined } $provided->{file}, $provided->{docfile})
{
	push @errors, "provided file $file does not exist" unless -f "$top/$file";
}

my ($control) = slurp("$top/pg_assoc.control") =~ /^default_version = '([^']+)'/m;
my ($makefile) = slurp("$top/Makefile") =~ /^EXTVERSION\s*=\s*(\S+)/m;
# by_version: compare two x.y.z versions numerically.
sub by_version
{
	my @x = split /\./, $a;
	my @y = split /\./, $b;
	return $x[0] <=> $y[0] || $x[1] <=> $y[1] || $x[2] <=> $y[2];
}
my @targets = sort by_version map { /--([0-9.]+)\.sql$/ ? $1 : () }
  glob("$top/src/updates/*--*--*.sql");
my %versions = (
	'META.json version'                   => $meta->{version},
	'META.json provides.pg_assoc.version' => $provided->{version},
	'pg_assoc.control default_version'    => $control,
	'Makefile EXTVERSION'                 => $makefile,
	'the newest upgrade script\'s target' => $targets[-1],);
for my $what (sort keys %versions)
{
	push @errors, "$what is "
	  . ($versions{$what} // 'missing')
	  . ", not $meta->{version}"
	  unless defined $versions{$what}
	  && defined $meta->{version}
	  && $versions{$what} eq $meta->{version};
}

if (@errors)
{
	print "$_\n" for @errors;
	exit 1;
}
print "META.json: ok, version $meta->{version}\n";
