# Search-path shadowing (README, Isolation between applications): no
# object that a role creates can be run by the extension's statements.
#
# The C functions run their statements as the extension owner (a
# superuser here).  If any statement were parsed under the caller's
# search_path, a role could put its own schema first and have its own
# operator, function or type picked instead of pg_catalog's, and so run
# its code as the extension owner.  This test proves that none is, in a
# way that grows with the code instead of listing cases by hand:
#
# 1. It derives, from the statement texts in the C source (every SQL
#    string literal of src/*.c and src/*.h, adjacent literals and string
#    macros joined) and from the bodies of the extension's SQL and
#    PL/pgSQL functions (the install script and the catalog), every
#    operator, function and type name they use, and the types of the
#    parameters and columns involved.
# 2. A non-superuser role shadows each of them in its schema "hostile":
#    every signature that pg_catalog or assoc has for a derived function
#    or operator, and a domain for every derived type.  Each shadow, when
#    run, calls nextval('hostile.tripwire') (not transactional, so a call
#    in a transaction that fails still leaves a trace) and raises a
#    WARNING naming itself, then does what the real object does.
# 3. With "hostile" first on its search_path, the role calls every API
#    function of the extension (coverage is checked against the
#    extension's members) with every option combination, under READ
#    COMMITTED, REPEATABLE READ and SERIALIZABLE, including the REPEATABLE
#    READ upsert of keys another session created after the snapshot; the
#    extension owner runs assoc.prune() and the notification worker runs
#    with a database default search_path that starts with "hostile".
# 4. The tripwire must never have been called, and no shadow WARNING may
#    appear in any session or in the server log.
use strict;
use warnings;
use File::Basename qw(dirname);
use File::Spec;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $top = File::Spec->rel2abs(dirname(__FILE__) . '/../..');
my $json = JSON::PP->new->utf8(0);

# The three isolation levels every call runs under, with a short tag.
my @levels = (
	[ 'read committed',  'rc' ],
	[ 'repeatable read', 'rr' ],
	[ 'serializable',    'sz' ]);

# ---------------------------------------------------------------------
# Lexers: C (to find the statement texts) and SQL (to read them)
# ---------------------------------------------------------------------

# The value of a C string literal's contents, escapes resolved.
sub c_unescape
{
	my ($s) = @_;
	my %simple = (
		n => "\n", t => "\t", r => "\r", '\\' => '\\',
		'"' => '"', "'" => "'", '?' => '?', a => "\a",
		b => "\b", f => "\f", v => "\013");
	$s =~ s/\\(x[0-9A-Fa-f]+|[0-7]{1,3}|.)/
		my $e = $1;
		$e =~ m{^x} ? chr(hex(substr($e, 1)))
		  : $e =~ m{^[0-7]} ? chr(oct($e))
		  : exists $simple{$e} ? $simple{$e}
		  : $e/ges;
	return $s;
}

# C tokens of a source text: ['str', value], ['ident', name],
# ['directive', text] (a preprocessor line) or ['punct', char].  Comments
# and white space are dropped; character literals become punctuation, so
# that they separate string literals as they do in C.
sub c_tokens
{
	my ($src) = @_;
	my @t;
	my $line_start = 1;    # only white space since the last newline
	pos($src) = 0;
	while (pos($src) < length($src))
	{
		if ($src =~ /\G(\s+)/gc)
		{
			$line_start = 1 if $1 =~ /\n/;
			next;
		}
		if ($src =~ m{\G/\*.*?\*/}gcs) { next; }
		if ($src =~ m{\G//[^\n]*}gc) { next; }
		if ($line_start && $src =~ /\G#([^\n]*)/gc)
		{
			push @t, [ 'directive', $1 ];
			next;
		}
		$line_start = 0;
		if ($src =~ /\G(?:u8|[uUL])?"((?:[^"\\\n]|\\.)*)"/gcs)
		{
			push @t, [ 'str', c_unescape($1) ];
			next;
		}
		if ($src =~ /\G'(?:[^'\\\n]|\\.)*'/gc)
		{
			push @t, [ 'punct', 'char' ];
			next;
		}
		if ($src =~ /\G([A-Za-z_]\w*)/gc)
		{
			push @t, [ 'ident', $1 ];
			next;
		}
		$src =~ /\G(.)/gcs;
		push @t, [ 'punct', $1 ];
	}
	return @t;
}

# Every string literal of a C file, adjacent literals joined as the
# compiler joins them, and a macro defined as string literals only
# (#define EQ "OPERATOR(pg_catalog.=)") replaced by its text: [text, the
# last constant named before it (SP_REC_INSERT), to say where it is].
# Also returns the identifiers of the file.
sub c_strings
{
	my ($src) = @_;
	$src =~ s/\\\n//g;    # line splicing comes before everything in C
	my (%macro, @joined, @idents);
	my ($current, $name, $last_const) = (undef, undef, '');
	for my $tok (c_tokens($src))
	{
		my ($type, $value) = @$tok;
		if ($type eq 'directive')
		{
			if ($value =~ /^\s*define\s+(\w+)\s+(.*)$/s)
			{
				my ($name, @body) = ($1, c_tokens($2));
				$macro{$name} = join('', map { $_->[1] } @body)
				  if @body && !grep { $_->[0] ne 'str' } @body;
			}
			$type = 'punct';
		}
		if ($type eq 'ident')
		{
			push @idents, $value;
			$last_const = $value if $value =~ /^[A-Z][A-Z0-9_]*_[A-Z0-9_]+$/;
			($type, $value) = ('str', $macro{$value})
			  if defined $macro{$value};
		}
		if ($type eq 'str')
		{
			$name = $last_const unless defined $current;
			$current = defined $current ? $current . $value : $value;
			next;
		}
		push @joined, [ $current, $name ] if defined $current;
		undef $current;
	}
	push @joined, [ $current, $name ] if defined $current;
	return (\@joined, \@idents);
}

# SQL tokens: ['str', text] for string constants (also dollar-quoted),
# ['name', [parts]] for (qualified) names, lowercased unless quoted,
# ['param', n], ['num', n], ['op', symbol], ['cast'] for "::", ['star']
# for a "*" that is not multiplication, and ['punct', char].
sub sql_tokens
{
	my ($s) = @_;
	my @t;
	pos($s) = 0;
	while (pos($s) < length($s))
	{
		if ($s =~ /\G\s+/gc)            { next; }
		if ($s =~ /\G--[^\n]*/gc)       { next; }
		if ($s =~ m{\G/\*.*?\*/}gcs)    { next; }
		if ($s =~ /\G[Ee]'((?:[^'\\]|''|\\.)*)'/gc)
		{
			push @t, [ 'str', $1 ];
			next;
		}
		if ($s =~ /\G'((?:[^']|'')*)'/gc)
		{
			push @t, [ 'str', $1 =~ s/''/'/gr ];
			next;
		}
		if ($s =~ /\G(\$([A-Za-z_]\w*)?\$)(.*?)\1/gcs)
		{
			push @t, [ 'str', $3 ];
			next;
		}
		if ($s =~ /\G\$(\d+)/gc) { push @t, [ 'param', $1 ]; next; }
		if ($s =~ /\G"((?:[^"]|"")*)"/gc)
		{
			push @t, [ 'ident', $1 =~ s/""/"/gr ];
			next;
		}
		if ($s =~ /\G([A-Za-z_\x80-\xff][\w\$\x80-\xff]*)/gc)
		{
			push @t, [ 'ident', lc $1 ];
			next;
		}
		if ($s =~ /\G(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)/gc)
		{
			push @t, [ 'num', $1 ];
			next;
		}
		if ($s =~ /\G::/gc) { push @t, ['cast']; next; }
		if ($s =~ /\G:=/gc) { push @t, [ 'punct', ':=' ]; next; }
		if ($s =~ /\G([-+*\/<>=~!@#%^&|`?]+)/gc)
		{
			# PostgreSQL's rules for where an operator ends: a comment
			# start ends it, and a trailing + or - is not part of it
			# unless it also has one of ~!@#%^&|`?.
			my $op = $1;
			my $start = pos($s) - length($op);
			$op =~ s{(--|/\*).*}{};
			$op =~ s/[-+]+$// while length($op) > 1
			  && $op =~ /[-+]$/
			  && $op !~ /[~!@#%^&|`?]/;
			$op = substr($1, 0, 1) if $op eq '';
			pos($s) = $start + length($op);
			push @t, [ 'op', $op ];
			next;
		}
		$s =~ /\G(.)/gcs;
		push @t, [ 'punct', $1 ];
	}

	# Join qualified names; a "*" after "(", ".", "," or SELECT is a
	# column wildcard or count(*), not an operator.
	my @out;
	for (my $i = 0; $i < @t; $i++)
	{
		my $tok = $t[$i];
		if ($tok->[0] eq 'ident')
		{
			my @parts = ($tok->[1]);
			while ($i + 2 < @t
				&& $t[ $i + 1 ][0] eq 'punct'
				&& $t[ $i + 1 ][1] eq '.'
				&& $t[ $i + 2 ][0] eq 'ident')
			{
				push @parts, $t[ $i + 2 ][1];
				$i += 2;
			}
			push @out, [ 'name', \@parts ];
			next;
		}
		if ($tok->[0] eq 'op' && $tok->[1] eq '*' && @out)
		{
			my $prev = $out[-1];
			if (($prev->[0] eq 'punct' && $prev->[1] =~ /^[(.,]$/)
				|| ($prev->[0] eq 'name' && $prev->[1][-1] =~ /^(select|returning)$/))
			{
				push @out, ['star'];
				next;
			}
		}
		push @out, $tok;
	}
	return @out;
}

# ---------------------------------------------------------------------
# Derivation: operators, functions and types used by statement texts
# ---------------------------------------------------------------------

# Words that are followed by "(" or a string without being a function or
# a type name.
my %sql_word = map { $_ => 1 } qw(
  all and any array as asc between both by case cast check collate column
  conflict constraint create current default delete desc distinct do else
  elsif end escape except exception exists false fetch filter for foreign
  from grant group having if ilike in insert intersect into is isnull join
  lateral leading like limit loop not nothing notnull null offset on only
  operator or order over partition perform primary query raise references
  return returning returns row select set similar some symmetric table then
  to trailing true union unique update using values variadic when where
  while window with within begin declare execute foreach exit continue
  notice warning info log debug errcode message detail hint strict format
  next);

# Keyword spellings of types: the grammar resolves them to pg_catalog's
# types whatever the search_path (so only their catalog names can be
# shadowed).
my %keyword_type = map { $_ => 1 } (
	'bigint', 'bit', 'bit varying', 'boolean', 'char', 'character',
	'character varying', 'dec', 'decimal', 'double precision', 'float',
	'int', 'integer', 'interval', 'nchar', 'numeric', 'real', 'smallint',
	'time', 'timestamp', 'varchar', 'time with time zone',
	'time without time zone', 'timestamp with time zone',
	'timestamp without time zone');

# Operators implied by keywords: x IN (...) compares with "=", BETWEEN
# with ">=" and "<=", and so on; each looks its operator up by name.
my %keyword_ops = (
	in       => ['='],
	between  => [ '>=', '<=' ],
	like     => ['~~'],
	ilike    => ['~~*'],
	similar  => ['~'],
	nullif   => ['='],
	distinct => ['='],    # IS [NOT] DISTINCT FROM
);

# A type name starting at token $i; returns (name, next index).
sub type_at
{
	my ($t, $i) = @_;
	return (undef, $i) unless $i < @$t && $t->[$i][0] eq 'name';
	my @parts = @{ $t->[$i][1] };
	my $name = $parts[-1];
	$i++;
	my $word = sub {
		my ($k) = @_;
		return $k < @$t && $t->[$k][0] eq 'name' ? $t->[$k][1][-1] : '';
	};
	if (@parts == 1)
	{
		if ($name eq 'double' && $word->($i) eq 'precision')
		{
			$name = 'double precision';
			$i++;
		}
		elsif ($name =~ /^(character|char|bit)$/ && $word->($i) eq 'varying')
		{
			$name .= ' varying';
			$i++;
		}
		elsif ($name =~ /^(timestamp|time)$/)
		{
			if ($i < @$t && $t->[$i][0] eq 'punct' && $t->[$i][1] eq '(')
			{
				$i += 3;    # (precision)
			}
			if ($word->($i) =~ /^(with|without)$/ && $word->($i + 1) eq 'time')
			{
				$name .= ' ' . $word->($i) . ' time zone';
				$i += 3;
			}
		}
	}
	return ($name, $i);
}

# Add what one statement or function body uses to the sets in $d.
sub derive
{
	my ($d, $origin, $text, $plpgsql) = @_;
	my @t = sql_tokens($text);
	my $into = 0;    # names left after INTO: table, AS, alias
	for (my $i = 0; $i < @t; $i++)
	{
		my ($type, $v) = @{ $t[$i] };
		my $next = $i + 1 < @t ? $t[ $i + 1 ] : [''];
		my $word = $type eq 'name' ? $v->[-1] : '';

		if ($type eq 'op')
		{
			$d->{ops}{$v}{$origin} = 1
			  unless $v eq '=>';    # named argument, not an operator
			next;
		}
		if ($type eq 'cast')
		{
			my ($name) = type_at(\@t, $i + 1);
			$d->{types}{$name}{$origin} = 1 if defined $name;
			next;
		}
		next unless $type eq 'name';

		# The relations named after FROM, JOIN, INTO, UPDATE.
		if ($word =~ /^(from|join|into|update)$/
			&& $next->[0] eq 'name'
			&& !$sql_word{ $next->[1][-1] })
		{
			my $after = $i + 2 < @t ? $t[ $i + 2 ] : [''];
			$d->{rels}{ join('.', @{ $next->[1] }) }{$origin} = 1
			  unless $after->[0] eq 'punct' && $after->[1] eq '('
			  && $word ne 'into';
		}
		if ($word eq 'into') { $into = 3; next; }
		if ($into)
		{
			# INTO table [AS] [alias] (columns): none of them is a function
			$into--;
			if ($next->[0] eq 'punct' && $next->[1] eq '(')
			{
				$into = 0;
				$i++;
				next;
			}
			$into = 0
			  unless $next->[0] eq 'name'
			  && ($next->[1][-1] eq 'as' || !$sql_word{ $next->[1][-1] });
			next;
		}

		if (my $implied = $keyword_ops{$word})
		{
			# IN and DISTINCT only as operators (not FOR x IN, SELECT
			# DISTINCT): after an expression, or followed by FROM.
			my $ok = 1;
			$ok = ($next->[0] eq 'name' && $next->[1][-1] eq 'from')
			  if $word eq 'distinct';
			$ok = ($next->[0] eq 'punct' && $next->[1] eq '(') if $word eq 'in';
			if ($ok) { $d->{ops}{$_}{"$origin ($word)"} = 1 for @$implied; }
		}
		if ($word eq 'case' && !($next->[0] eq 'name' && $next->[1][-1] eq 'when'))
		{
			$d->{ops}{'='}{"$origin (simple CASE)"} = 1;
		}

		if ($word eq 'operator' && $next->[0] eq 'punct' && $next->[1] eq '(')
		{
			# OPERATOR(schema.symbol)
			my $k = $i + 2;
			$k++ while $k < @t && $t[$k][0] ne 'op';
			$d->{ops}{ $t[$k][1] }{$origin} = 1 if $k < @t;
			$k++ while $k < @t && !($t[$k][0] eq 'punct' && $t[$k][1] eq ')');
			$i = $k;
			next;
		}
		if ($word eq 'cast' && $next->[0] eq 'punct' && $next->[1] eq '(')
		{
			# CAST(expression AS type): the AS at depth 1
			my ($depth, $k) = (0, $i + 1);
			for (; $k < @t; $k++)
			{
				my $tk = $t[$k];
				$depth++ if $tk->[0] eq 'punct' && $tk->[1] eq '(';
				$depth-- if $tk->[0] eq 'punct' && $tk->[1] eq ')';
				last if $depth == 0;
				if ($depth == 1 && $tk->[0] eq 'name' && $tk->[1][-1] eq 'as')
				{
					my ($name) = type_at(\@t, $k + 1);
					$d->{types}{$name}{"$origin (CAST)"} = 1 if defined $name;
				}
			}
			next;
		}
		if ($next->[0] eq 'punct' && $next->[1] eq '(' && !$sql_word{$word})
		{
			$d->{funcs}{$word}{$origin} = 1;
			next;
		}
		if ($next->[0] eq 'str' && !$sql_word{$word} && @$v == 1)
		{
			# type 'literal'
			my ($name) = type_at(\@t, $i);
			$d->{types}{$name}{"$origin (typed literal)"} = 1;
		}
	}

	# PL/pgSQL declarations: "name [CONSTANT] type ...;" between DECLARE
	# and BEGIN.
	if ($plpgsql)
	{
		my ($start) = grep { $t[$_][0] eq 'name' && $t[$_][1][-1] eq 'declare' } 0 .. $#t;
		my ($end) = grep { $t[$_][0] eq 'name' && $t[$_][1][-1] eq 'begin' } 0 .. $#t;
		if (defined $start && defined $end && $start < $end)
		{
			my $k = $start + 1;
			while ($k < $end)
			{
				my $s = $k;
				$s++ if $s + 1 < $end && $t[ $s + 1 ][0] eq 'name'
				  && $t[ $s + 1 ][1][-1] eq 'constant';
				my ($name) = type_at(\@t, $s + 1);
				$d->{types}{$name}{"$origin (DECLARE)"} = 1
				  if defined $name && $name ne 'alias';
				$k++ while $k < $end && !($t[$k][0] eq 'punct' && $t[$k][1] eq ';');
				$k++;
			}
		}
	}
	return;
}

# The CREATE FUNCTION bodies of an install script written in SQL or
# PL/pgSQL: [name, language, body].
sub script_bodies
{
	my ($script) = @_;
	my @t = sql_tokens($script);
	my @bodies;
	for (my $i = 0; $i < @t; $i++)
	{
		next unless $t[$i][0] eq 'name' && $t[$i][1][-1] eq 'function'
		  && $i > 0 && $t[ $i - 1 ][0] eq 'name'
		  && $t[ $i - 1 ][1][-1] =~ /^(create|replace)$/;
		my $fname = $t[ $i + 1 ][0] eq 'name' ? join('.', @{ $t[ $i + 1 ][1] }) : '?';
		my ($lang, $body) = ('', undef);
		my $k = $i + 1;
		for (; $k < @t && !($t[$k][0] eq 'punct' && $t[$k][1] eq ';'); $k++)
		{
			$lang = $t[ $k + 1 ][1][-1]
			  if $t[$k][0] eq 'name' && $t[$k][1][-1] eq 'language'
			  && $t[ $k + 1 ][0] eq 'name';
			$body = $t[ $k + 1 ][1]
			  if $t[$k][0] eq 'name' && $t[$k][1][-1] eq 'as'
			  && $t[ $k + 1 ][0] eq 'str';
		}
		push @bodies, [ $fname, $lang, $body ]
		  if defined $body && $lang =~ /^(sql|plpgsql)$/;
		$i = $k;
	}
	return @bodies;
}

# A SQL string constant and a quoted identifier.
sub lit { my ($s) = @_; $s =~ s/'/''/g; return "'$s'"; }
sub qi  { my ($s) = @_; $s =~ s/"/""/g; return "\"$s\""; }

# ---------------------------------------------------------------------
# The cluster, the roles, the extension
# ---------------------------------------------------------------------

my $node = PostgreSQL::Test::Cluster->new('shadow');
$node->init;
$node->append_conf(
	'postgresql.conf', qq{
shared_preload_libraries = 'pg_assoc'
track_functions = 'all'
log_min_messages = warning
});
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE app');
$node->safe_psql(
	'app', q{
CREATE EXTENSION pg_assoc;
CREATE ROLE hostile LOGIN;
CREATE ROLE victim LOGIN;
GRANT CREATE ON DATABASE app TO hostile;
CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
});
my $owner = $node->safe_psql('app', 'SELECT current_user');
is( $node->safe_psql(
		'app',
		"SELECT r.rolsuper FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner WHERE e.extname = 'pg_assoc'"
	),
	't',
	'the extension owner is a superuser: a shadow run as the owner runs as a superuser'
);

# The owner's statements in "app" always pin their own path first: the
# database's default path will start with "hostile".
sub owner_sql
{
	my ($sql) = @_;
	return $node->safe_psql('app', "SET search_path = pg_catalog;\n$sql");
}

sub owner_json
{
	my ($sql) = @_;
	return $json->decode(owner_sql($sql));
}

# Wait until an owner's query returns true.
sub owner_poll
{
	my ($sql) = @_;
	for (1 .. 10 * $PostgreSQL::Test::Utils::timeout_default)
	{
		return 1 if owner_sql($sql) eq 't';
		usleep(100_000);
	}
	return 0;
}

# Another application with records, whose namespace the hostile role may
# not use.
$node->safe_psql(
	'app', q{
SELECT assoc.create_namespace('v_ns');
SELECT assoc.set('v_ns', 'secret', 'a', '1');
SELECT assoc."create"('v_ns', '{"x": 1}', '{room:v}', 'vr');
}, extra_params => [ '-U', 'victim' ]);

# ---------------------------------------------------------------------
# 1. Derive what the statements use
# ---------------------------------------------------------------------

my %d = (ops => {}, funcs => {}, types => {}, rels => {});
my ($n_statements, $n_skipped, $n_bodies, %oid_macros) = (0, 0, 0);
for my $file (sort(glob("$top/src/*.c")), sort(glob("$top/src/*.h")))
{
	my ($strings, $idents) = c_strings(slurp_file($file));
	my $short = $file =~ s{^\Q$top\E/}{}r;
	$oid_macros{ lc $_ } = 1 for map { /^([A-Z][A-Z0-9]*)OID$/ ? $1 : () } @$idents;
	for my $string (@$strings)
	{
		my ($s, $const) = @$string;
		# A statement starts with an SQL command and has a clause or a
		# parameter; messages and setting names do not.  A format string
		# that is a statement has its conversions replaced by a name.
		unless ($s =~ /^\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|MERGE|VALUES)\s/i
			&& $s =~ /\b(?:FROM|INTO|SET|VALUES|RETURNING|WHERE)\b|\$\d|^\s*SELECT\s/i)
		{
			$n_skipped++;
			next;
		}
		my $sql = $s =~ s/%(?:\d+\$)?[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcsp]/__format_arg__/gr;
		note "format string taken as a statement: $s" if $sql ne $s;
		$n_statements++;
		derive(\%d, "$short" . ($const ? " $const" : " statement $n_statements"), $sql, 0);
	}
}

my ($extversion) = slurp_file("$top/Makefile") =~ /^EXTVERSION\s*=\s*(\S+)/m;
my $script_file = "$top/pg_assoc--$extversion.sql";
my $script;
if (-f $script_file)
{
	$script = slurp_file($script_file);
}
else
{
	# Not built here: the install script is these pieces, in order.
	my ($src) = slurp_file("$top/Makefile") =~ /^SQL_SRC\s*=\s*(.+)$/m;
	$script = join('', map { slurp_file("$top/$_") } split(' ', $src));
}
for my $b (script_bodies($script))
{
	$n_bodies++;
	derive(\%d, "install script $b->[0]", $b->[2], $b->[1] eq 'plpgsql');
}
# And what is installed (an upgrade script may have replaced a body).
my $installed = owner_json(q{
SELECT coalesce(json_agg(json_build_array(p.oid::regprocedure::text, l.lanname, p.prosrc)), '[]')
  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid JOIN pg_language l ON l.oid = p.prolang
 WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_assoc')
   AND l.lanname IN ('sql', 'plpgsql')
});
for my $b (@$installed)
{
	$n_bodies++;
	derive(\%d, "installed $b->[0]", $b->[2], $b->[1] eq 'plpgsql');
}

note "derived from $n_statements statements in src/*.c and src/*.h ($n_skipped other strings skipped) and $n_bodies function bodies";
for my $kind (qw(ops funcs types rels))
{
	note "$kind:";
	note sprintf("  %-22s %s", $_, join(', ', sort keys %{ $d{$kind}{$_} }))
	  for sort keys %{ $d{$kind} };
}
cmp_ok($n_statements, '>=', 20, 'statement texts found in the C source');
cmp_ok($n_bodies, '>=', 4, 'SQL and PL/pgSQL function bodies found');
ok(exists $d{ops}{'='}, 'operators derived, among them "="');
ok(exists $d{ops}{'@>'} && exists $d{ops}{'->>'}, 'and "@>" and "->>"');
ok((exists $d{funcs}{now} || exists $d{funcs}{nextval})
	  && exists $d{funcs}{count},
	'functions derived, among them now or nextval, and the aggregate count');
ok(exists $d{funcs}{jsonb_array_elements}, 'and the set-returning jsonb_array_elements');
ok(exists $d{types}{regrole}, 'types derived, among them regrole');

# The types of parameters ($n, given as C type OID macros) and of the
# columns of the relations the statements use: implicit casts and
# operator resolution go through them.
my @rels = grep { /^assoc\./ } keys %{ $d{rels} };
my $extra_types = owner_json(
	"SELECT coalesce(json_agg(DISTINCT format('%I.%I', n.nspname, t.typname)), '[]') FROM ("
	  . "  SELECT a.atttypid AS oid FROM pg_attribute a WHERE a.attnum > 0 AND NOT a.attisdropped"
	  . "     AND a.attrelid = ANY (ARRAY[" . join(', ', map { 'to_regclass(' . lit($_) . ')' } @rels) . "]::oid[])"
	  . "  UNION SELECT t.oid FROM pg_type t WHERE t.typnamespace = 'pg_catalog'::regnamespace"
	  . "     AND t.typname = ANY (ARRAY[" . join(', ', map { lit($_) } sort keys %oid_macros) . "]::name[])"
	  . ") AS x JOIN pg_type t0 ON t0.oid = x.oid"
	  . "  JOIN pg_type t ON t.oid = CASE WHEN t0.typcategory = 'A' AND t0.typelem <> 0 THEN t0.typelem ELSE t0.oid END"
	  . "  JOIN pg_namespace n ON n.oid = t.typnamespace");
note "parameter and column types: @$extra_types";
ok((grep { $_ eq 'pg_catalog.text' } @$extra_types)
	  && (grep { $_ eq 'assoc.assockey' } @$extra_types),
	'parameter and column types derived, among them text and assockey');
$d{types}{$_}{'parameter or column type'} = 1 for @$extra_types;

# ---------------------------------------------------------------------
# 2. Shadow each of them from the hostile role's schema
# ---------------------------------------------------------------------

$node->safe_psql(
	'app', q{
SET search_path = pg_catalog;
CREATE SCHEMA hostile;
GRANT USAGE ON SCHEMA hostile TO PUBLIC;
CREATE SEQUENCE hostile.tripwire;
CREATE SEQUENCE hostile.control;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE hostile.tripwire, hostile.control TO PUBLIC;
-- Every shadow calls this.  Outside the control session it trips the
-- wire: a sequence, so a call in a transaction that fails still counts.
CREATE FUNCTION hostile.fired(what text) RETURNS boolean
    LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF current_setting('shadow.control', true) = 'on' THEN
        PERFORM nextval('hostile.control');
        RAISE WARNING 'shadow control: % (as %)', what, current_user;
    ELSE
        PERFORM nextval('hostile.tripwire');
        RAISE WARNING 'shadow fired: % (as %)', what, current_user;
    END IF;
    RETURN true;
END
$$;
CREATE TABLE hostile.keytab (k assoc.assockey);
}, extra_params => [ '-U', 'hostile' ]);

my @ddl;     # [label, alternative, statement]
my %check;   # label => [kind, signature] to check name resolution
my $shadow_fn = 0;

# Operators: every pg_catalog and assoc operator with a derived symbol.
my $operators = owner_json(
	"SELECT coalesce(json_agg(json_build_object("
	  . " 'nsp', n.nspname, 'name', o.oprname,"
	  . " 'left', CASE WHEN o.oprleft <> 0 THEN format_type(o.oprleft, NULL) END,"
	  . " 'right', format_type(o.oprright, NULL), 'result', format_type(o.oprresult, NULL),"
	  . " 'qleft', CASE WHEN o.oprleft <> 0 THEN format('%I.%I', ln.nspname, lt.typname) ELSE 'NONE' END,"
	  . " 'qright', format('%I.%I', rn.nspname, rt.typname),"
	  . " 'fn', format('%I.%I', pn.nspname, p.proname)) ORDER BY o.oid), '[]')"
	  . " FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace"
	  . " JOIN pg_proc p ON p.oid = o.oprcode JOIN pg_namespace pn ON pn.oid = p.pronamespace"
	  . " LEFT JOIN pg_type lt ON lt.oid = o.oprleft LEFT JOIN pg_namespace ln ON ln.oid = lt.typnamespace"
	  . " JOIN pg_type rt ON rt.oid = o.oprright JOIN pg_namespace rn ON rn.oid = rt.typnamespace"
	  . " WHERE n.nspname IN ('pg_catalog', 'assoc') AND o.oprname = ANY (ARRAY["
	  . join(', ', map { lit($_) } sort keys %{ $d{ops} }) . "]::name[])");
my %ops_with_shadow;
for my $o (@$operators)
{
	my $label = "operator $o->{nsp}.$o->{name}("
	  . ($o->{left} // 'NONE') . ", $o->{right})";
	my $fn = 'hostile.' . qi('shadow_op_' . ++$shadow_fn);
	my @args = grep { defined } ($o->{left}, $o->{right});
	my $call = "$o->{fn}(" . join(', ', map { "\$$_" } 1 .. @args) . ')';
	my $opdef = "CREATE OPERATOR hostile.$o->{name} ("
	  . join(', ',
		(defined $o->{left} ? "LEFTARG = $o->{left}" : ()),
		"RIGHTARG = $o->{right}", "FUNCTION = $fn") . ')';
	for my $alt ([ 1, "RETURN $call;" ], [ 2, 'RETURN NULL;' ])
	{
		push @ddl,
		  [ $label, $alt->[0],
			"CREATE FUNCTION $fn(" . join(', ', @args) . ") RETURNS $o->{result}"
			  . " LANGUAGE plpgsql SET search_path = pg_catalog AS \$shadow\$BEGIN"
			  . " PERFORM hostile.fired(" . lit($label) . "); $alt->[1] END\$shadow\$" ],
		  [ $label, $alt->[0], $opdef ];
	}
	$check{$label} = [ 'o', "$o->{name}($o->{qleft},$o->{qright})" ];
	$ops_with_shadow{ $o->{name} }++;
}
for my $name (sort keys %{ $d{ops} })
{
	note "no operator $name in pg_catalog or assoc, nothing to shadow"
	  unless $ops_with_shadow{$name};
}

# Functions and aggregates: every signature of a derived name in
# pg_catalog and assoc.
my $functions = owner_json(
	"SELECT coalesce(json_agg(json_build_object("
	  . " 'nsp', n.nspname, 'name', p.proname, 'kind', p.prokind,"
	  . " 'args', pg_get_function_arguments(p.oid),"
	  . " 'identity', pg_get_function_identity_arguments(p.oid),"
	  . " 'result', pg_get_function_result(p.oid),"
	  . " 'rettype', format_type(p.prorettype, NULL), 'retset', p.proretset,"
	  . " 'nargs', p.pronargs, 'variadic', p.provariadic <> 0,"
	  . " 'has_out', coalesce(p.proargmodes && ARRAY['o', 'b', 't']::\"char\"[], false),"
	  . " 'argtypes', (SELECT coalesce(json_agg(format_type(a.t, NULL) ORDER BY a.i), '[]')"
	  . "              FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, i)),"
	  . " 'qargs', (SELECT coalesce(string_agg(format('%I.%I', tn.nspname, ty.typname), ',' ORDER BY a.i), '')"
	  . "              FROM unnest(p.proargtypes) WITH ORDINALITY AS a(t, i)"
	  . "              JOIN pg_type ty ON ty.oid = a.t JOIN pg_namespace tn ON tn.oid = ty.typnamespace),"
	  . " 'aggkind', a.aggkind, 'stype', format_type(a.aggtranstype, NULL), 'initval', a.agginitval,"
	  . " 'transfn', CASE WHEN a.aggtransfn <> 0 THEN format('%I.%I', tfn.nspname, tp.proname) END,"
	  . " 'finalfn', CASE WHEN a.aggfinalfn <> 0 THEN format('%I.%I', ffn.nspname, fp.proname) END"
	  . " ) ORDER BY p.oid), '[]')"
	  . " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
	  . " LEFT JOIN pg_aggregate a ON a.aggfnoid = p.oid"
	  . " LEFT JOIN pg_proc tp ON tp.oid = a.aggtransfn LEFT JOIN pg_namespace tfn ON tfn.oid = tp.pronamespace"
	  . " LEFT JOIN pg_proc fp ON fp.oid = a.aggfinalfn LEFT JOIN pg_namespace ffn ON ffn.oid = fp.pronamespace"
	  . " WHERE n.nspname IN ('pg_catalog', 'assoc') AND p.proname = ANY (ARRAY["
	  . join(', ', map { lit($_) } sort keys %{ $d{funcs} }) . "]::name[])");
my %funcs_with_signature;
for my $f (@$functions)
{
	$funcs_with_signature{ $f->{name} }++;
	my $name = qi($f->{name});
	my $real = qi($f->{nsp}) . ".$name";
	my $body = sub {
		my ($label, $rest) = @_;
		return " LANGUAGE plpgsql SET search_path = pg_catalog AS \$shadow\$BEGIN"
		  . " PERFORM hostile.fired(" . lit($label) . "); $rest END\$shadow\$";
	};
	if ($f->{kind} eq 'f')
	{
		my $label = "function $f->{nsp}.$f->{name}($f->{identity})";
		my $call = "$real("
		  . join(', ',
			map { ($f->{variadic} && $_ == $f->{nargs} ? 'VARIADIC ' : '') . "\$$_" }
			  1 .. $f->{nargs}) . ')';
		my $fallback =
		  ($f->{retset} || $f->{has_out} || $f->{rettype} eq 'void')
		  ? 'RETURN;'
		  : 'RETURN NULL;';
		my $ret =
		    $f->{retset}              ? "RETURN QUERY SELECT * FROM $call; RETURN;"
		  : $f->{rettype} eq 'void'   ? "PERFORM $call; RETURN;"
		  : $f->{has_out}             ? 'RETURN;'
		  :                             "RETURN $call;";
		my $head = "CREATE FUNCTION hostile.$name($f->{args}) RETURNS $f->{result}";
		push @ddl, [ $label, 1, $head . $body->($label, $ret) ],
		  [ $label, 2, $head . $body->($label, $fallback) ];
		$check{$label} = [ 'f', "$f->{name}($f->{qargs})" ];
	}
	elsif ($f->{kind} eq 'a' && $f->{aggkind} eq 'n')
	{
		# An aggregate of the same signature whose transition and final
		# functions trip the wire; it computes what the real one does
		# when the real transition function can be called from SQL.
		my $args = $f->{nargs} ? join(', ', @{ $f->{argtypes} }) : '*';
		my $label = "aggregate $f->{nsp}.$f->{name}($args)";
		my $k = ++$shadow_fn;
		my $sfunc = 'hostile.' . qi("shadow_agg_${k}_sfunc");
		my $ffunc = 'hostile.' . qi("shadow_agg_${k}_final");
		my $sargs = join(', ', $f->{stype}, @{ $f->{argtypes} });
		my $scall = "$f->{transfn}(" . join(', ', map { "\$$_" } 1 .. $f->{nargs} + 1) . ')';
		my $fcall = defined $f->{finalfn} ? "$f->{finalfn}(\$1)" : '$1';
		my $init = defined $f->{initval} ? ', INITCOND = ' . lit($f->{initval}) : '';
		push @ddl,
		  [ $label, 1, "CREATE FUNCTION $sfunc($sargs) RETURNS $f->{stype}" . $body->($label, "RETURN $scall;") ],
		  [ $label, 1, "CREATE FUNCTION $ffunc($f->{stype}) RETURNS $f->{rettype}" . $body->($label, "RETURN $fcall;") ],
		  [ $label, 1, "CREATE AGGREGATE hostile.$name($args) (SFUNC = $sfunc, STYPE = $f->{stype}, FINALFUNC = $ffunc$init)" ];
		$check{$label} = [ 'f', "$f->{name}($f->{qargs})" ];
	}
	else
	{
		note "not shadowed: $f->{nsp}.$f->{name}($f->{identity}) is of kind $f->{kind}"
		  . ($f->{aggkind} ? "/$f->{aggkind}" : '');
	}
}
for my $name (sort keys %{ $d{funcs} })
{
	note "no signature in pg_catalog or assoc, nothing to shadow: $name (a grammar construct or a relation's column list)"
	  unless $funcs_with_signature{$name};
}

# Types: a domain of the same name whose CHECK trips the wire.  Keyword
# spellings (bigint) are resolved by the grammar; their catalog names
# (int8) are shadowed.  (The shadows are made with a search_path of
# pg_catalog only, so their signatures name pg_catalog's types.)
my $types = owner_json(
	"SELECT coalesce(json_agg(json_build_object('spelled', s.name, 'typname', t.typname,"
	  . " 'nsp', n.nspname, 'typtype', t.typtype,"
	  . " 'array', t.typcategory = 'A' AND t.typelem <> 0) ORDER BY s.name), '[]')"
	  . " FROM unnest(ARRAY[" . join(', ', map { lit($_) } sort keys %{ $d{types} }) . "]) AS s(name)"
	  . " LEFT JOIN pg_type t ON t.oid = coalesce(to_regtype(s.name), to_regtype('assoc.' || s.name))"
	  . " LEFT JOIN pg_namespace n ON n.oid = t.typnamespace");
my %domains;
for my $t (@$types)
{
	if (!defined $t->{typname})
	{
		note "not a type in pg_catalog or assoc, nothing to shadow: $t->{spelled}";
		next;
	}
	note "keyword type $t->{spelled} is resolved by the grammar; shadowing its catalog name $t->{typname}"
	  if $keyword_type{ $t->{spelled} };
	if ($t->{typtype} eq 'p' || $t->{array})
	{
		note "not shadowed: type $t->{spelled} ($t->{typtype}, array: "
		  . ($t->{array} ? 'yes' : 'no') . ')';
		next;
	}
	next if $domains{ $t->{typname} }++;
	my $label = "type $t->{nsp}.$t->{typname}";
	push @ddl,
	  [ $label, 1,
		"CREATE DOMAIN hostile." . qi($t->{typname}) . " AS " . qi($t->{nsp}) . '.' . qi($t->{typname})
		  . " CHECK (hostile.fired(" . lit($label) . '))' ];
	$check{$label} = [ 't', $t->{typname} ];
}

# Create them all as the hostile role, each shadow in a subtransaction
# of its own, trying its alternatives in order; report what could not
# be made.
my $ddl_sql = "SET search_path = pg_catalog;\n"
  . "CREATE TEMP TABLE shadow_ddl (label text, alt int, step int, stmt text);\n"
  . "CREATE TEMP TABLE shadow_result (label text, ok boolean, error text);\n"
  . "INSERT INTO shadow_ddl VALUES\n"
  . join(",\n", map { '(' . lit($ddl[$_][0]) . ", $ddl[$_][1], $_, " . lit($ddl[$_][2]) . ')' } 0 .. $#ddl)
  . ";\n" . q{
DO $do$
DECLARE
    l text;
    a int;
    s record;
    err text;
BEGIN
    FOR l IN SELECT DISTINCT label FROM shadow_ddl ORDER BY 1 LOOP
        FOR a IN SELECT DISTINCT alt FROM shadow_ddl WHERE label = l ORDER BY 1 LOOP
            BEGIN
                FOR s IN SELECT stmt FROM shadow_ddl WHERE label = l AND alt = a ORDER BY step LOOP
                    EXECUTE s.stmt;
                END LOOP;
                err := NULL;
                EXIT;
            EXCEPTION WHEN OTHERS THEN
                err := SQLERRM;
            END;
        END LOOP;
        INSERT INTO shadow_result VALUES (l, err IS NULL, err);
    END LOOP;
END
$do$;
SELECT json_agg(json_build_object('label', label, 'ok', ok, 'error', error) ORDER BY label) FROM shadow_result;
};
my $made = $json->decode(
	$node->safe_psql('app', $ddl_sql, extra_params => [ '-U', 'hostile' ]));
my @made = map { $_->{label} } grep { $_->{ok} } @$made;
note "shadow not created: $_->{label}: $_->{error}" for grep { !$_->{ok} } @$made;
note sprintf('%d shadows created (%d operators, %d functions and aggregates, %d types), %d could not be',
	scalar(@made),
	scalar(grep { /^operator / } @made),
	scalar(grep { /^(function|aggregate) / } @made),
	scalar(grep { /^type / } @made),
	scalar(@$made) - scalar(@made));
ok((grep { $_ eq 'operator pg_catalog.=(text, text)' } @made), 'the shadow of = on text exists');
ok((grep { $_ eq 'type pg_catalog.regrole' } @made), 'the shadow of regrole exists');
ok((grep { /^(function|aggregate) pg_catalog\.(now|nextval|count)\b/ } @made),
	'shadows of now, nextval or count exist');
cmp_ok(scalar(@made), '>=', 0.9 * scalar(@$made), 'nearly every shadow could be made');

# The hostile role's sessions put its schema first, before pg_catalog;
# so does the database's default, which the extension owner's sessions
# and the notification worker start with.
my $hostile_path = 'SET search_path = hostile, pg_catalog, assoc;';
$node->safe_psql(
	'app', qq{
ALTER DATABASE app SET search_path = hostile, pg_catalog;
ALTER ROLE hostile IN DATABASE app SET search_path = hostile, pg_catalog, assoc;
ALTER ROLE "$owner" IN DATABASE app SET search_path = hostile, pg_catalog, assoc;
});

# Positive control: under that path each shadow is what its name and
# signature resolve to, and a shadow that runs is seen.
my $resolve_sql = "$hostile_path\nSELECT pg_catalog.json_agg(s.label) FROM (VALUES\n"
  . join(",\n", map { '(' . lit($_) . ', ' . lit($check{$_}[0]) . ', ' . lit($check{$_}[1]) . ')' } sort @made)
  . q{
) AS s(label, kind, sig)
WHERE coalesce((SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid OPERATOR(pg_catalog.=)
       CASE WHEN s.kind OPERATOR(pg_catalog.=) 'o' THEN
                 (SELECT o.oprnamespace FROM pg_catalog.pg_operator o
                   WHERE o.oid OPERATOR(pg_catalog.=) pg_catalog.to_regoperator(s.sig))
            WHEN s.kind OPERATOR(pg_catalog.=) 'f' THEN
                 (SELECT p.pronamespace FROM pg_catalog.pg_proc p
                   WHERE p.oid OPERATOR(pg_catalog.=) pg_catalog.to_regprocedure(s.sig))
            ELSE (SELECT t.typnamespace FROM pg_catalog.pg_type t
                   WHERE t.oid OPERATOR(pg_catalog.=) pg_catalog.to_regtype(s.sig)) END)
       OPERATOR(pg_catalog.<>) 'hostile', true);
};
my $unresolved =
  $node->safe_psql('app', $resolve_sql, extra_params => [ '-U', 'hostile' ]);
is($unresolved, '', 'under the hostile path every name and signature resolves to its shadow');

my ($out, $err) = ('', '');
my $control_fn = (grep { /^function pg_catalog\.now\(\)$/ } @made) ? 'now()' : q{nextval('hostile.control')};
$node->psql(
	'app', qq{
$hostile_path
SET shadow.control = on;
SELECT 'a'::pg_catalog.text = 'b'::pg_catalog.text;
SELECT $control_fn IS NULL;
SELECT 'victim'::regrole IS NULL;
},
	stdout => \$out,
	stderr => \$err,
	extra_params => [ '-U', 'hostile' ]);
like($err, qr/WARNING:  shadow control: operator pg_catalog\.=\(text, text\)/, 'control: a shadow operator that runs is seen');
like($err, qr/WARNING:  shadow control: (function|aggregate) /, 'control: a shadow function that runs is seen');
like($err, qr/WARNING:  shadow control: type pg_catalog\.regrole/, 'control: a shadow type that runs is seen');
is(owner_sql('SELECT is_called FROM hostile.tripwire'), 'f', 'the control did not trip the wire');

# ---------------------------------------------------------------------
# 3. Call every API function as the hostile role
# ---------------------------------------------------------------------

owner_sql('SELECT pg_stat_reset()');
my @stderrs;    # [session, stderr] of every session

# A single-session script for one isolation level.
sub level_script
{
	my ($level, $tag) = @_;
	my $ns  = "h_$tag";     # keeps history
	my $ns0 = "h0_$tag";    # keeps none
	my @s = (
		'\set VERBOSITY verbose', $hostile_path,
		"SET default_transaction_isolation = '$level';",
		"SELECT assoc.create_namespace('$ns');",
		"SELECT assoc.create_namespace('$ns0', 'hostile');",
		"SELECT assoc.alter_namespace('$ns', history_depth => 5);",
		"SELECT assoc.alter_namespace('$ns0');");

	# Records of other keys in both namespaces, so that a statement's
	# conditions are evaluated on rows.
	for my $n ($ns, $ns0)
	{
		push @s,
		  map { "SELECT assoc.\"create\"('$n', '{\"filler\": $_}', '{room:r$_,user:u$_}', 'filler$_');" } 1 .. 8;
	}

	# Writes of one record by id: state x expected_version x op_id.
	my %by_id = (
		set => sub {
			my ($n, $id, $v, $ev, $op) = @_;
			"SELECT assoc.set('$n', '$id', 'a.b', '\"v$v\"', $ev, $op);";
		},
		set_whole => sub {
			my ($n, $id, $v, $ev, $op) = @_;
			"SELECT assoc.set('$n', '$id', NULL, '{\"whole\": $v}', $ev, $op);";
		},
		erase => sub {
			my ($n, $id, $v, $ev, $op) = @_;
			"SELECT assoc.erase('$n', '$id', '" . ($v ? 'a.c' : 'a.b') . "', $ev, $op);";
		},
		set_multi => sub {
			my ($n, $id, $v, $ev, $op) = @_;
			"SELECT assoc.set_multi('$n', '$id', '[{\"path\": \"m[$v]\", \"data\": $v}, {\"path\": \"a.b\"}]', $ev, $op);";
		},
		remove => sub {
			my ($n, $id, $v, $ev, $op) = @_;
			"SELECT assoc.remove('$n', '$id" . ($v ? '_other' : '') . "', $ev, $op);";
		},
		link => sub {
			my ($n, $id, $v, $ev, $op) = @_;
			"SELECT assoc.link('$n', '$id', '{team:t$v,user:u1}', $ev, $op);";
		},
		unlink => sub {
			my ($n, $id, $v, $ev, $op) = @_;
			"SELECT assoc.unlink('$n', '$id', '{team:t$v}', $ev, $op);";
		},
		rollback => sub {
			my ($n, $id, $v, $ev, $op) = @_;
			"SELECT assoc.rollback('$n', '$id', " . ($v + 1) . ", $ev, $op);";
		},
	);
	for my $fn (sort keys %by_id)
	{
		for my $state (qw(existing missing))
		{
			for my $ev (qw(null right wrong))
			{
				for my $op (qw(none new replay different))
				{
					for my $n ($ns, $ns0)
					{
						# Without history, op_id variations once.
						next if $n eq $ns0 && $op ne 'new';
						my $id = "${fn}_${state}_${ev}_$op";
						push @s, "SELECT assoc.set('$n', '$id', 'a.b', '\"init\"');",
						  "SELECT assoc.link('$n', '$id', '{team:t0}');"
						  if $state eq 'existing';
						my $evs = { null => 'NULL', right => ':ev', wrong => '999999' }->{$ev};
						push @s, "SELECT assoc.version('$n', '$id') AS ev \\gset" if $ev eq 'right';
						my $ops = $op eq 'none' ? 'NULL' : "'op_$id'";
						push @s, $by_id{$fn}->($n, $id, 0, $evs, $ops);
						push @s, $by_id{$fn}->($n, $id, 0, $evs, $ops) if $op eq 'replay';
						push @s, $by_id{$fn}->($n, $id, 1, $evs, $ops) if $op eq 'different';
					}
				}
			}
		}
	}
	push @s,
	  "SELECT assoc.erase('$ns', 'set_existing_null_none', NULL);",
	  "SELECT assoc.link('$ns', 'link_existing_null_none', '{}');",
	  "SELECT assoc.unlink('$ns', 'link_existing_null_none', '{}');",
	  "SELECT assoc.set('$ns', 'bad', '__proto__.x', '1');",
	  "SELECT assoc.set('$ns', 'bad', 'a', '{\"constructor\": 1}');",
	  "SELECT assoc.set(NULL, 'x', 'a', '1');",
	  "SELECT assoc.set('$ns', NULL, 'a', '1');",
	  "SELECT assoc.set('v_ns', 'secret', 'a', '2');",
	  "SELECT assoc.remove('v_ns', 'secret');",
	  "SELECT assoc.rollback('$ns', 'set_existing_null_none', 99);";

	# create: id given or generated x keys x op_id.
	for my $idk (qw(given generated))
	{
		for my $keys (qw(omitted empty some))
		{
			for my $op (qw(none new replay different))
			{
				my $c = "create_${idk}_${keys}_$op";
				my $call = sub {
					my ($v) = @_;
					"SELECT assoc.\"create\"('$ns', '{\"c\": $v}'"
					  . ($keys eq 'omitted' ? '' : $keys eq 'empty' ? ", keys => '{}'" : ", keys => '{c:$c}'")
					  . ($idk eq 'given' ? ", id => '$c'" : '')
					  . ($op eq 'none' ? '' : ", op_id => 'op_$c'") . ') IS NULL;';
				};
				push @s, $call->(0);
				push @s, $call->(0) if $op eq 'replay';
				push @s, $call->(1) if $op eq 'different';
			}
		}
	}
	push @s, "SELECT assoc.\"create\"('$ns', '{}', '{}', 'create_given_empty_none');";

	# update_by: upsert x match x keys x op_id.
	for my $upsert (qw(false true))
	{
		for my $match (qw(yes no))
		{
			for my $keys (qw(empty some))
			{
				for my $op (qw(none new replay different))
				{
					my $c = "ub_${upsert}_${match}_${keys}_$op";
					my $k = $keys eq 'empty' ? '{}' : "{u:$c}";
					push @s, "SELECT assoc.\"create\"('$ns', '{\"orig\": 1}', '{u:$c}') IS NULL;",
					  "SELECT assoc.\"create\"('$ns', '{\"wider\": 1}', '{u:$c,x:1}') IS NULL;"
					  if $match eq 'yes';
					my $ops = $op eq 'none' ? 'NULL' : "'op_$c'";
					my $call = sub {
						"SELECT version, keys, data FROM assoc.update_by('$ns', '$k', '{\"d\": $_[0]}', $upsert, $ops);";
					};
					push @s, $call->(0);
					push @s, $call->(0) if $op eq 'replay';
					push @s, $call->(1) if $op eq 'different';
				}
			}
		}
	}
	push @s, "SELECT version FROM assoc.update_by('$ns', NULL, '{}', true);",
	  "SELECT version FROM assoc.update_by('$ns', '{u:x}', NULL, true);",
	  "SELECT version FROM assoc.update_by('v_ns', '{room:v}', '{}', true);";

	# remove_by: keys x match x op_id.
	for my $keys (qw(empty some))
	{
		for my $match (qw(yes no))
		{
			for my $op (qw(none new replay different))
			{
				my $c = "rb_${keys}_${match}_$op";
				push @s, "SELECT assoc.\"create\"('$ns', '{\"r\": 1}', '{r:$c}') IS NULL;",
				  "SELECT assoc.\"create\"('$ns', '{\"r\": 2}', '{r:$c,x:1}') IS NULL;"
				  if $match eq 'yes';
				my $ops = $op eq 'none' ? 'NULL' : "'op_$c'";
				my $call = sub {
					my $k = $keys eq 'empty' ? '{}' : $_[0] ? "{r:${c}_other}" : "{r:$c}";
					"SELECT version, keys FROM assoc.remove_by('$ns', '$k', $ops);";
				};
				push @s, $call->(0);
				push @s, $call->(0) if $op eq 'replay';
				push @s, $call->(1) if $op eq 'different';
			}
		}
	}

	# Transactions that roll back, savepoints, replays in one transaction.
	push @s, 'BEGIN;', "SELECT assoc.set('$ns', 'tx', 'a', '1');",
	  "SELECT assoc.set_multi('$ns', 'tx', '[{\"path\": \"b\", \"data\": 2}]');",
	  "SELECT assoc.\"create\"('$ns', '{}', '{tx:1}', 'tx_created');",
	  "SELECT version FROM assoc.update_by('$ns', '{tx:2}', '{}', true);",
	  "SELECT version FROM assoc.remove_by('$ns', '{room:r1}');",
	  'ROLLBACK;',
	  'BEGIN;', "SELECT assoc.set('$ns', 'tx', 'a', '1', 0, 'op_tx');",
	  'SAVEPOINT s1;', "SELECT assoc.set('$ns', 'tx', 'prototype', '1');",
	  'ROLLBACK TO SAVEPOINT s1;',
	  "SELECT assoc.set('$ns', 'tx', 'a', '1', 0, 'op_tx');",
	  "SELECT assoc.link('$ns', 'tx', '{tx:3}');",
	  "SELECT version FROM assoc.update_by('$ns', '{tx:3}', '{\"n\": 1}', true);",
	  "SELECT assoc.rollback('$ns', 'tx', 1);",
	  'COMMIT;',
	  'BEGIN;', "SELECT assoc.remove('$ns', 'tx', NULL, 'op_tx_remove');",
	  "SELECT assoc.remove('$ns', 'tx', NULL, 'op_tx_remove');", 'COMMIT;';

	# Reads and the feed.
	push @s,
	  "SELECT assoc.get('$ns', 'set_existing_null_none');",
	  "SELECT assoc.get('$ns', 'set_existing_null_none', 'a.b');",
	  "SELECT assoc.get('$ns', 'missing', 'a');",
	  "SELECT assoc.get('$ns', 'set_existing_null_none', 'a[');",
	  "SELECT assoc.get('v_ns', 'secret');",
	  "SELECT assoc.get(NULL, 'x');",
	  "SELECT assoc.version('$ns', 'set_existing_null_none');",
	  "SELECT assoc.version('$ns', 'missing');",
	  "SELECT id, keys, version FROM assoc.read_by('$ns', '{team:t0}');",
	  "SELECT id FROM assoc.read_by('$ns', '{}');",
	  "SELECT id FROM assoc.read_by('v_ns', '{room:v}');",
	  "SELECT version, op FROM assoc.history('$ns', 'link_existing_null_none');",
	  "SELECT version FROM assoc.history('$ns0', 'link_existing_null_none');",
	  "SELECT cursor AS first_cursor FROM assoc.changes('$ns', NULL, 1) \\gset",
	  "SELECT id, version, op, paths FROM assoc.changes('$ns', :'first_cursor', 5);",
	  "SELECT id FROM assoc.changes('$ns', 'not a cursor');",
	  "SELECT id FROM assoc.changes('v_ns');",
	  "SELECT assoc.head('$ns') AS head \\gset",
	  "SELECT id FROM assoc.changes('$ns', :'head');",
	  "SELECT id, cursor IS NOT NULL FROM assoc.snapshot('$ns') LIMIT 3;",
	  "SELECT id FROM assoc.snapshot('v_ns');",
	  "SELECT assoc.channel('$ns') AS channel \\gset",
	  'LISTEN :channel;',
	  "SELECT assoc.channel('$ns', 'set_existing_null_none');",
	  "SELECT assoc.channel('v_ns');",
	  "SELECT assoc.rotate_channels('$ns');",
	  "SELECT assoc.rotate_channels('v_ns');",
	  "SELECT assoc.set('$ns', 'after_rotation', 'a', '1');",
	  'SELECT assoc.wait_notified();',
	  'SELECT assoc.wait_notified(0);',
	  'SELECT assoc.prune();';

	# Search: every parameter, a token, errors, the plan, the sort key
	# type's functions by name.
	push @s,
	  "SELECT assoc.search('$ns');",
	  "SELECT assoc.search('$ns', term => 'x or y -z', filter => '\$.a > 0', keys => '{team:t0}', order_by => 'a desc, b.c[0], \@id, \@version desc, \@created_at, \@updated_at', fields => 'a, b.c[1]', page => 2, page_size => 3);",
	  "SELECT assoc.search('$ns', page_size => 1, order_by => 'a desc') OPERATOR(pg_catalog.->>) 'next' AS search_next \\gset",
	  "SELECT assoc.search('$ns', page_size => 1, order_by => 'a desc', after => :'search_next') OPERATOR(pg_catalog.->) 'count';",
	  "SELECT assoc.search('$ns', keys => '{}');",
	  "SELECT assoc.search('$ns', term => '!!!');",
	  "SELECT assoc.search('v_ns');",
	  "SELECT assoc.search_explain('$ns', term => 'x', filter => '\$.a > 0', keys => '{team:t0}', order_by => 'a');",
	  q{SELECT assoc.search_vector('{"a": "big cat", "b": ["dog"]}', 'simple');},
	  q{SELECT assoc.search_key_out(assoc.search_key('{"a": 1}', 'i', 1, pg_catalog.now(), pg_catalog.now(), 'a desc, @id'));},
	  q{SELECT assoc.search_key_cmp(k, k), assoc.search_key_lt(k, k), assoc.search_key_le(k, k), assoc.search_key_eq(k, k), assoc.search_key_ge(k, k), assoc.search_key_gt(k, k) FROM (SELECT assoc.search_key('{}', 'i', 1, pg_catalog.now(), pg_catalog.now(), NULL) AS k) AS s;},
	  q{SELECT assoc.search_key_in('x');};

	# Namespaces.
	push @s,
	  "SELECT assoc.create_namespace('x_$tag');",
	  "SELECT assoc.create_namespace('x_$tag');",
	  "SELECT assoc.create_namespace('y_$tag', 'victim');",
	  "SELECT assoc.create_namespace('bad name');",
	  "SELECT assoc.set('x_$tag', 'r', 'a', '1');",
	  "SELECT assoc.set('x_$tag', 'r', 'a', '2');",
	  "SELECT assoc.set('x_$tag', 'r', 'a', '3');",
	  "SELECT assoc.alter_namespace('x_$tag', history_depth => 3);",
	  "SELECT assoc.set('x_$tag', 'r', 'a', '4');",
	  "SELECT assoc.set('x_$tag', 'r', 'a', '5');",
	  "SELECT assoc.alter_namespace('x_$tag', history_depth => 1);",
	  "SELECT assoc.alter_namespace('x_$tag', history_depth => 0);",
	  "SELECT assoc.alter_namespace('x_$tag');",
	  "SELECT assoc.alter_namespace('v_ns', history_depth => 1);",
	  "SELECT assoc.drop_namespace('x_$tag');",
	  "SELECT assoc.drop_namespace('x_$tag');",
	  "SELECT assoc.drop_namespace('v_ns');";

	# Document functions and the key type, on the hostile role's own
	# table: every operator of the extension, casts, support functions.
	push @s,
	  q{SELECT assoc.parse_path('a.b[2]');},
	  q{SELECT assoc.parse_path('a.__proto__');},
	  q{SELECT assoc.path_get('{"a": {"b": [1, 2]}}', 'a.b[1]');},
	  q{SELECT assoc.path_get('{"a": 1}', NULL);},
	  q{SELECT assoc.path_set('{"a": 1}', 'b.c[2]', '"x"');},
	  q{SELECT assoc.path_set('{"a": 1}', NULL, '{"whole": true}');},
	  q{SELECT assoc.path_erase('{"a": {"b": 1}}', 'a.b');},
	  q{SELECT assoc.path_erase('{"a": 1}', NULL);},
	  q{SELECT assoc.patch('{"a": 1}', '[{"path": "b", "data": 2}, {"path": "a"}]');},
	  q{SELECT assoc.patch('{"a": 1}', NULL);},
	  q{SELECT assoc.has_forbidden_keys('{"a": {"prototype": 1}}');},
	  q{SELECT assoc.assockey('room', 'GENERAL');},
	  q{SELECT assoc.assockey_from_array('{room:a,user:b}');},
	  q{SELECT assoc.assockey_from_jsonb('[{"model": "room", "id": "a"}]');},
	  q{SELECT '{room:a,user:b}'::assoc.assockey::pg_catalog.json;},
	  q{SELECT pg_catalog.to_jsonb('{room:a}'::assoc.assockey);},
	  q{SELECT assoc.models('{room:a,user:b}'), assoc.ids('{room:a,room:c}', 'room'), assoc.size('{room:a}');},
	  q{SELECT assoc.assockey_in('{room:a}'), assoc.assockey_out('{room:a}'), assoc.assockey_send('{room:a}');},
	  q{SELECT assoc.assockey_cmp('{a:1}', '{a:2}'), assoc.assockey_hash('{a:1}'), assoc.assockey_hash_extended('{a:1}', 7);},
	  q{INSERT INTO hostile.keytab VALUES ('{room:a,user:b}'), ('{room:b}'), ('{}');};
	return join("\n", @s) . "\n";
}

# Every operator of the extension, called by its qualified name.
my $ext_ops = owner_json(q{
SELECT coalesce(json_agg(o.oprname ORDER BY o.oprname), '[]')
  FROM pg_depend d JOIN pg_operator o ON o.oid = d.objid
 WHERE d.classid = 'pg_operator'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_assoc')
});
my $op_calls = join("\n",
	map { "SELECT '{room:a,user:b}'::assoc.assockey OPERATOR(assoc.$_) '{room:a}'::assoc.assockey;" } @$ext_ops)
  . "\n";

for my $l (@levels)
{
	my ($level, $tag) = @$l;
	($out, $err) = ('', '');
	my $script = level_script($level, $tag) . $op_calls;
	my $n = () = $script =~ /^(?:SELECT|BEGIN|COMMIT|ROLLBACK|SAVEPOINT|LISTEN|INSERT)/mg;
	my $ret = $node->psql(
		'app', $script,
		stdout        => \$out,
		stderr        => \$err,
		on_error_stop => 0,
		extra_params  => [ '-U', 'hostile' ]);
	is($ret, 0, "$level: $n statements as the hostile role ran to the end");
	append_to_file("$PostgreSQL::Test::Utils::tmp_check/shadow_calls_$tag.out", $out);
	append_to_file("$PostgreSQL::Test::Utils::tmp_check/shadow_calls_$tag.err", $err);
	my $errors = () = $err =~ /^psql:.*ERROR:/mg;
	note "$level: $errors of them failed, as many combinations must";
	push @stderrs, [ "calls at $level", $err ];
}

# The functions only the server calls: binary input through COPY, the
# GIN opclass through an index scan, statistics and estimates through
# ANALYZE and planning.
my $copy_file = "$PostgreSQL::Test::Utils::tmp_check/shadow_keys.bin";
($out, $err) = ('', '');
$node->psql(
	'app', qq{
\\set VERBOSITY verbose
$hostile_path
\\copy hostile.keytab TO '$copy_file' (FORMAT binary)
\\copy hostile.keytab FROM '$copy_file' (FORMAT binary)
CREATE INDEX keytab_gin ON hostile.keytab USING gin (k);
ANALYZE hostile.keytab;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT k FROM hostile.keytab WHERE k OPERATOR(assoc.\@>) '{room:a}';
SELECT k FROM hostile.keytab WHERE k OPERATOR(assoc.\@>) '{room:a}';
SELECT k FROM hostile.keytab WHERE k OPERATOR(assoc.&&) '{room:b,user:b}';
SELECT k FROM hostile.keytab WHERE k OPERATOR(assoc.<\@) '{room:a,user:b}';
SELECT k FROM hostile.keytab WHERE k OPERATOR(assoc.=) '{room:b}';
},
	stdout        => \$out,
	stderr        => \$err,
	on_error_stop => 1,
	extra_params  => [ '-U', 'hostile' ]);
like($out, qr/Bitmap Index Scan on keytab_gin/, 'the GIN opclass answers the hostile role\'s queries');
unlike($err, qr/ERROR/, 'binary COPY, GIN index, ANALYZE and estimates as the hostile role without error');
push @stderrs, [ 'server-called functions', $err ];

# The branch that had the defect: under REPEATABLE READ (and
# SERIALIZABLE), an upsert of keys that another session created and
# committed after this transaction's snapshot was taken, and one that
# waited for the other's lock.  The second upsert must fail with 40001;
# its check for the latest record runs and finds the other's row.
my $sa = $node->background_psql('app', on_error_stop => 0, extra_params => [ '-U', 'hostile' ]);
my $sb = $node->background_psql('app', on_error_stop => 0, extra_params => [ '-U', 'hostile' ]);
for my $s ($sa, $sb)
{
	$s->set_query_timer_restart();
	$s->query("\\set VERBOSITY verbose\n$hostile_path");
}
$sa->query("SELECT assoc.create_namespace('h_two');");
$sa->query("SELECT assoc.\"create\"('h_two', '{\"filler\": $_}', '{k:filler$_}') IS NULL;") for 1 .. 4;
for my $l (@levels)
{
	my ($level, $tag) = @$l;
	my $xact_snapshot = $level ne 'read committed';

	# Committed after the snapshot.
	$sa->query("BEGIN ISOLATION LEVEL $level; SELECT assoc.version('h_two', 'snap');");
	$sb->query("SELECT version FROM assoc.update_by('h_two', '{k:snap_$tag}', '{\"by\": \"b\"}', true);");
	my $before = length($sa->{stderr});
	my $res = $sa->query("SELECT version, data FROM assoc.update_by('h_two', '{k:snap_$tag}', '{\"by\": \"a\"}', true);");
	my $got = substr($sa->{stderr}, $before);
	$sa->query('ROLLBACK;');
	if ($xact_snapshot)
	{
		like($got, qr/ERROR:  40001: could not serialize access due to a concurrent upsert/,
			"$level: an upsert of keys committed after the snapshot runs the latest-record check, which finds them");
	}
	else
	{
		like($res, qr/^2\|\{"by": "a"\}$/m, "$level: an upsert of keys committed before the statement updates them");
	}

	# Committed while the upsert waited for the keys' lock.
	$sa->query("BEGIN ISOLATION LEVEL $level; SELECT assoc.version('h_two', 'snap');");
	$sb->query("BEGIN; SELECT version FROM assoc.update_by('h_two', '{k:wait_$tag}', '{\"by\": \"b\"}', true);");
	$before = length($sa->{stderr});
	$sa->{stdin} .= "SELECT version, data FROM assoc.update_by('h_two', '{k:wait_$tag}', '{\"by\": \"a\"}', true);\n";
	$sa->{run}->pump_nb();
	ok( $node->poll_query_until(
			'postgres',
			"SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = 'app' AND usename = 'hostile' AND wait_event_type = 'Lock'"
		),
		"$level: the second upsert waits for the first one's lock");
	$sb->query('COMMIT;');
	$res = $sa->query('SELECT 1;');
	$got = substr($sa->{stderr}, $before);
	$sa->query('ROLLBACK;');
	if ($xact_snapshot)
	{
		like($got, qr/ERROR:  40001: could not serialize access due to a concurrent upsert/,
			"$level: an upsert that waited for a concurrent upsert of its keys fails with 40001");
	}
	else
	{
		like($res, qr/^2\|\{"by": "a"\}$/m, "$level: an upsert that waited for a concurrent upsert of its keys updates its record");
	}
}
$sa->query('SELECT assoc.wait_notified();');
$sa->quit;
$sb->quit;
push @stderrs, [ 'upsert session A', $sa->{stderr} ], [ 'upsert session B', $sb->{stderr} ];

# The extension owner prunes with the database's hostile default path;
# the entries are made old enough to be deleted.
owner_sql(q{
UPDATE assoc.feed SET at = at - interval '3 days';
UPDATE assoc.ops SET at = at - interval '8 days';
});
($out, $err) = ('', '');
$node->psql(
	'app', "SHOW search_path;\nSELECT assoc.prune();",
	stdout => \$out,
	stderr => \$err);
like($out, qr/^hostile, pg_catalog, assoc\n[1-9]\d*$/,
	'the extension owner, with the hostile path first, pruned entries');
push @stderrs, [ 'prune by the extension owner', $err ];

# The extension owner moves a namespace out and in again with the hostile
# path first: every step a shard runs for pg_assoc_proxy (README, "Scaling
# out"), each table's rows read as text and written back into the fenced
# copy, a copy made under another name, both removed.
($out, $err) = ('', '');
$node->psql(
	'app', q{
SELECT assoc.create_namespace('mv_shadow');
SELECT assoc.alter_namespace('mv_shadow', 2);
SELECT assoc.set('mv_shadow', 'r', 'a', '1', NULL, 'mv-op');
SELECT assoc.set('mv_shadow', 'r', 'a', '2');
SELECT pg_catalog.count(*) FROM pg_catalog.unnest(ARRAY['records', 'history', 'ops']) AS t,
                     assoc.move_stamps('mv_shadow', t, '', -1, NULL, NULL, 100) AS d;
SELECT pg_catalog.count(*) FROM assoc.move_stamps('mv_shadow', 'history', 'r', 1, NULL, NULL, 1);
SELECT assoc.move_fence('mv_shadow', true, n.incarnation) FROM assoc.namespaces AS n WHERE n.ns OPERATOR(pg_catalog.=) 'mv_shadow';
SELECT assoc.move_quiesce('mv_shadow', n.incarnation) FROM assoc.namespaces AS n WHERE n.ns OPERATOR(pg_catalog.=) 'mv_shadow';
SELECT assoc.move_apply('mv_shadow', t,
           ARRAY(SELECT r.source_row FROM assoc.move_rows('mv_shadow', t,
                     ARRAY(SELECT d.key FROM assoc.move_stamps('mv_shadow', t, '', -1, NULL, NULL, 100) AS d),
                     ARRAY(SELECT d.version FROM assoc.move_stamps('mv_shadow', t, '', -1, NULL, NULL, 100) AS d), 1000000) AS r),
           ARRAY(SELECT d.key FROM assoc.move_stamps('mv_shadow', t, '', -1, NULL, NULL, 100) AS d),
           ARRAY(SELECT d.version FROM assoc.move_stamps('mv_shadow', t, '', -1, NULL, NULL, 100) AS d))
  FROM pg_catalog.unnest(ARRAY['records', 'history', 'ops']) AS t;
SELECT assoc.move_receive('mv_shadow', assoc.move_namespace_row('mv_shadow'));
SELECT assoc.move_receive('mv_shadow2', pg_catalog.replace(assoc.move_namespace_row('mv_shadow'), '(mv_shadow,', '(mv_shadow2,'));
SELECT assoc.move_drop('mv_shadow2');
SELECT assoc.move_fence('mv_shadow', false);
SELECT assoc.set('mv_shadow', 'r', 'a', '3', NULL, 'mv-op-2');
SELECT assoc.move_fence('mv_shadow', true);
SELECT assoc.move_drop('mv_shadow');
SELECT pg_catalog.concat('moved ', pg_catalog.count(*)) FROM assoc.namespaces
 WHERE pg_catalog.starts_with(ns, 'mv_shadow');
},
	stdout => \$out,
	stderr => \$err);
like($out, qr/\nmoved 0$/, 'the extension owner, with the hostile path first, ran every step of a move');
push @stderrs, [ 'a move by the extension owner', $err ];

# The notification worker: it prunes when it starts.  Write, make the
# entries old, wait for the worker to leave, and wake a new one with a
# write.
$node->safe_psql(
	'app', qq{
$hostile_path
SELECT assoc.set('h_rc', 'before_worker_prune', 'a', pg_catalog.to_jsonb(i)) FROM pg_catalog.generate_series(1, 3) AS i;
}, extra_params => [ '-U', 'hostile' ]);
owner_sql(q{
UPDATE assoc.feed SET at = at - interval '3 days';
UPDATE assoc.ops SET at = at - interval '8 days';
});
cmp_ok(owner_sql(q{SELECT count(*) FROM assoc.feed WHERE at < now() - interval '2 days'}),
	'>', 0, 'old feed entries for the worker to prune');
ok( $node->poll_query_until(
		'postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify'"),
	'the notification worker left');
($out, $err) = ('', '');
$node->psql(
	'app', qq{
$hostile_path
SELECT assoc.set('h_rc', 'wake', 'a', '1');
SELECT assoc.wait_notified();
},
	stdout       => \$out,
	stderr       => \$err,
	extra_params => [ '-U', 'hostile' ]);
like($out, qr/^t$/m, 'a new notification worker announced the write');
push @stderrs, [ 'worker wake-up', $err ];
ok(owner_poll(q{SELECT count(*) = 0 FROM assoc.feed WHERE at < now() - interval '2 days'}),
	'the new worker, whose database path starts with hostile, pruned the feed');

# assoc.notify_registry is for pg_monitor's members: one, on the hostile path.
($out, $err) = ('', '');
$node->psql(
	'app', qq{
$hostile_path
SELECT filtering, capacity FROM assoc.notify_registry();
},
	stdout       => \$out,
	stderr       => \$err,
	extra_params => [ '-U', 'monitor' ]);
is($out, 't|16384', 'a monitoring role reads the registry on the hostile path');
push @stderrs, [ 'registry', $err ];

# Every function of the extension was called: by name (counted by
# track_functions) or, for those only the server can call (an internal
# argument) or whose every call fails (which track_functions does not
# count), by the statements above that make the server call them.
my %server_called = (
	assockey_recv               => 'binary COPY FROM',
	assockey_typanalyze         => 'ANALYZE',
	assockey_contsel            => 'planning @>, <@, &&',
	assockey_gin_extract_value  => 'CREATE INDEX ... USING gin',
	assockey_gin_extract_query  => 'GIN index scan',
	assockey_gin_consistent     => 'GIN index scan',
	assockey_gin_triconsistent  => 'GIN index scan',
	search_key_in               => 'text input (always refused, so never counted)');
my $members_sql = q{
SELECT coalesce(json_agg(json_build_object('sig', p.oid::regprocedure::text, 'name', p.proname,
         'internal', 'internal'::regtype = ANY (p.proargtypes),
         'calls', coalesce(s.calls, 0)) ORDER BY p.proname), '[]')
  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
  LEFT JOIN pg_stat_user_functions s ON s.funcid = p.oid
 WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_assoc')
};
my @uncovered;
for my $try (1 .. 60)
{
	# Sessions report their counts when they end: wait for them.
	@uncovered = map { $_->{sig} }
	  grep { !$server_called{ $_->{name} } && ($_->{internal} || $_->{calls} == 0) }
	  @{ owner_json($members_sql) };
	last unless @uncovered;
	sleep 1;
}
is(join(', ', @uncovered), '', 'every function of the extension was called');

# ---------------------------------------------------------------------
# 4. Nothing of the hostile role ever ran
# ---------------------------------------------------------------------

# Which shadows fired, where they were seen and, from the server log's
# CONTEXT, which statement ran them.
my $log = slurp_file($node->logfile);
my (%fired, %by);
for my $s (@stderrs, [ 'server log', $log ])
{
	while ($s->[1] =~ /WARNING:  (?:01000: )?shadow fired: ([^\n]+)((?:\n[^\n]*CONTEXT:[^\n]*(?:\n\t[^\n]*)*)?)/g)
	{
		my ($what, $context) = ($1, $2);
		$fired{$what}{ $s->[0] } = 1;
		my @stmts = grep { !/^SELECT hostile\./ } $context =~ /SQL statement "([^\n]*)"/g;
		$by{$what}{ $stmts[-1] } = 1 if @stmts;
	}
}
is(owner_sql('SELECT is_called FROM hostile.tripwire'), 'f',
	'no shadowing object ever ran: the tripwire sequence was never called');
is(scalar(keys %fired), 0, 'no shadow warning in any session or the server log');
for my $what (sort keys %fired)
{
	diag "shadow fired: $what\n  seen in: " . join(', ', sort keys %{ $fired{$what} });
	diag "  run by the statement: $_" for sort keys %{ $by{$what} };
}

$node->stop;
done_testing();
