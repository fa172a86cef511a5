# White space in paths and keys is JavaScript's, by code point in the
# database encoding (README, Paths).  In a LATIN1 database only U+00A0 of
# the non-ASCII white space is representable: byte 0xA0 is trimmed, every
# other high byte is an ordinary character.  In an EUC_JP database U+3000
# is the two bytes A1 A1, and a three-byte character whose last two bytes
# are A1 A1 must not be mistaken for it (characters are walked from their
# start).  In an EUC_TW database U+3000 has two forms, A1 A1 and the
# four bytes 8E A1 A1 A1 (CNS plane 1 written with its plane prefix):
# characters are decoded to their code points, so both are white space.
# SQL_ASCII has no conversion and takes each byte as a character, but
# clients store and read UTF-8 there: the UTF-8 sequences of the white
# space count too, and a lone byte 0xA0 does not.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('encodings');
$node->init;
$node->start;

# Helpers in each database: try() returns a query's result or its
# SQLSTATE and message; shown() writes every byte outside printable ASCII
# as <XX> (the bytes of the character in the database encoding), so the
# output compared here is plain ASCII whatever the encoding.
my $helpers = q{
CREATE EXTENSION pg_assoc;
CREATE FUNCTION shown(t text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(
           CASE WHEN get_byte(convert_to(ch, getdatabaseencoding()), 0) NOT BETWEEN 32 AND 126
                THEN '<' || upper(encode(convert_to(ch, getdatabaseencoding()), 'hex')) || '>'
                ELSE ch END, '' ORDER BY i), '')
    FROM regexp_split_to_table(t, '') WITH ORDINALITY AS s(ch, i)
$$;
CREATE FUNCTION try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE q INTO r;
  RETURN shown(r);
EXCEPTION WHEN others THEN
  RETURN 'ERROR ' || SQLSTATE || ': ' || shown(SQLERRM);
END
$$;
SELECT assoc.create_namespace('enc');
};

foreach my $enc ('LATIN1', 'EUC_JP', 'EUC_TW', 'SQL_ASCII')
{
	my $db = lc $enc;
	$node->safe_psql('postgres',
		"CREATE DATABASE $db ENCODING '$enc' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
	);
	$node->safe_psql($db, $helpers);
}

# Run one query in a database and return its output.
sub q1
{
	my ($db, $sql) = @_;
	return $node->safe_psql($db, $sql);
}

# --- LATIN1 -------------------------------------------------------------

is(q1('latin1', q{SELECT try(format('SELECT assoc.parse_path(%L)::text', chr(160) || '__proto__'))}),
	'ERROR 22023: invalid path "<A0>__proto__": forbidden segment "__proto__"',
	'LATIN1: a leading 0xA0 (U+00A0) is trimmed before the forbidden check');
is( q1(
		'latin1',
		q{SELECT try(format('SELECT assoc.parse_path(%L)::text', 'a.constructor' || chr(160) || '[0]'))}
	),
	'ERROR 22023: invalid path "a.constructor<A0>[0]": forbidden segment "constructor"',
	'LATIN1: 0xA0 before "[" is trimmed for the forbidden check');
is( q1(
		'latin1',
		q{SELECT try(format('SELECT assoc.parse_path(%L)::text',
		    chr(160) || 'a' || chr(160) || '.' || chr(9) || chr(160) || 'b[' || chr(160) || '2 ]' || chr(160) || ' .' || chr(160)))}
	),
	'["a", "b", 2]',
	'LATIN1: 0xA0 and ASCII white space are trimmed around pieces and inside brackets'
);
is(q1('latin1', q{SELECT try(format('SELECT assoc.parse_path(%L)::text', 'k' || chr(160) || '[1]'))}),
	'["k<A0>", 1]', 'LATIN1: a key keeps the 0xA0 before its "["');

# Every other high byte is an ordinary character: not trimmed, kept in the
# key, not white space inside brackets, and not forbidden next to a name.
my $high = q{(SELECT b, chr(b) AS c FROM generate_series(128, 255) AS b) AS h};
is( q1(
		'latin1',
		qq{SELECT string_agg(to_hex(b), ',' ORDER BY b) FROM $high
		    WHERE try(format('SELECT assoc.parse_path(%L)::text', c || '__proto__')) LIKE 'ERROR%'}
	),
	'a0',
	'LATIN1: of the bytes 0x80-0xFF before __proto__, only 0xA0 is trimmed');
is( q1(
		'latin1',
		qq{SELECT count(*) FROM $high
		    WHERE b <> 160
		      AND assoc.parse_path(c || 'a' || c || '.x' || c) = jsonb_build_array(c || 'a' || c, 'x' || c)}
	),
	'127',
	'LATIN1: the 127 other high bytes are kept at both ends of pieces');
is( q1(
		'latin1',
		qq{SELECT string_agg(to_hex(b), ',' ORDER BY b) FROM $high
		    WHERE try(format('SELECT assoc.parse_path(%L)::text', 'a[' || c || '1]')) NOT LIKE 'ERROR%'}
	),
	'a0',
	'LATIN1: only 0xA0 is white space inside brackets');
is( q1(
		'latin1',
		qq{SELECT string_agg(to_hex(b), ',' ORDER BY b) FROM $high
		    WHERE assoc.has_forbidden_keys(jsonb_build_object('a', jsonb_build_array(jsonb_build_object(c || 'prototype' || c, 1))))}
	),
	'a0',
	'LATIN1: has_forbidden_keys trims only 0xA0 of the high bytes');
is( q1(
		'latin1',
		q{SELECT assoc.has_forbidden_keys(jsonb_build_object(chr(9) || 'constructor ', 1)),
		         assoc.has_forbidden_keys(jsonb_build_object('proto' || chr(160) || 'type', 1))}
	),
	't|f',
	'LATIN1: ASCII white space is trimmed from keys, white space inside a name is kept'
);

# The write functions refuse such values and paths.
is( q1(
		'latin1',
		q{SELECT try(format('SELECT assoc.set(%L, %L, %L, %L)::text', 'enc', 'r', 'a',
		           jsonb_build_object(chr(160) || '__proto__', 1)))}
	),
	'ERROR 22023: value contains forbidden key "<A0>__proto__"',
	'LATIN1: set refuses a value with a key that trims to __proto__');
is( q1(
		'latin1',
		q{SELECT try(format('SELECT assoc.set_multi(%L, %L, %L)::text', 'enc', 'r',
		           jsonb_build_array(jsonb_build_object('path', 'a', 'data', jsonb_build_object('constructor' || chr(160), 1)))))}
	),
	'ERROR 22023: value contains forbidden key "constructor<A0>"',
	'LATIN1: set_multi refuses it');
is( q1(
		'latin1',
		q{SELECT try(format('SELECT assoc.create(%L, %L)', 'enc',
		           jsonb_build_object(chr(160) || 'prototype' || chr(160), 1)))}
	),
	'ERROR 22023: value contains forbidden key "<A0>prototype<A0>"',
	'LATIN1: create refuses it');
is( q1(
		'latin1',
		q{SELECT try(format('SELECT assoc.set(%L, %L, %L, %L)::text', 'enc', 'r',
		           'a.' || chr(160) || '__proto__', '1'))}
	),
	'ERROR 22023: invalid path "a.<A0>__proto__": forbidden segment "__proto__"',
	'LATIN1: set refuses the path');
is( q1(
		'latin1',
		q{SELECT assoc.set('enc', 'r', 'k', jsonb_build_object(chr(133) || '__proto__', 1));
		  SELECT shown(assoc.get('enc', 'r')::text)}
	),
	qq(1
{"k": {"<85>__proto__": 1}}),
	'LATIN1: a key with 0x85 (U+0085, not JavaScript white space) is stored');

# --- EUC_JP -------------------------------------------------------------

# U+3000 is A1 A1; X is the valid three-byte character 8F A1 A1, whose last
# two bytes are those of U+3000.
my $eucjp = q{
  CREATE TEMP VIEW ch AS
  SELECT convert_from('\xa1a1', 'EUC_JP') AS sp, convert_from('\x8fa1a1', 'EUC_JP') AS x;
};
is( q1(
		'euc_jp',
		$eucjp
		  . q{SELECT try(format('SELECT assoc.parse_path(%L)::text', sp || '__proto__' || sp)) FROM ch}
	),
	'ERROR 22023: invalid path "<A1A1>__proto__<A1A1>": forbidden segment "__proto__"',
	'EUC_JP: U+3000 is trimmed around a forbidden name');
is( q1(
		'euc_jp',
		$eucjp
		  . q{SELECT try(format('SELECT assoc.parse_path(%L)::text', 'a' || sp || '.' || sp || 'b[' || sp || '3' || sp || ']' || sp)) FROM ch}
	),
	'["a", "b", 3]',
	'EUC_JP: U+3000 is trimmed around pieces and inside brackets');
is( q1(
		'euc_jp',
		$eucjp
		  . q{SELECT assoc.parse_path('a' || x) = jsonb_build_array('a' || x),
		            assoc.parse_path('a' || x || sp || '.' || x) = jsonb_build_array('a' || x, x),
		            assoc.parse_path('a' || x || '[0]') = jsonb_build_array('a' || x, 0),
		            assoc.has_forbidden_keys(jsonb_build_object('__proto__' || x, 1)),
		            assoc.has_forbidden_keys(jsonb_build_object(sp || '__proto__' || sp, 1))
		       FROM ch}
	),
	't|t|t|f|t',
	'EUC_JP: a character ending in the bytes of U+3000 is not white space');
is( q1(
		'euc_jp',
		$eucjp
		  . q{SELECT try(format('SELECT assoc.parse_path(%L)::text', 'a[' || x || '1]')) FROM ch}
	),
	'ERROR 22023: invalid path "a[<8FA1A1>1]": index is not a decimal number in "[<8FA1A1>1]"',
	'EUC_JP: nor inside brackets');

# --- EUC_TW -------------------------------------------------------------

my $euctw = q{
  CREATE TEMP VIEW ch AS
  SELECT convert_from('\xa1a1', 'EUC_TW') AS sp2, convert_from('\x8ea1a1a1', 'EUC_TW') AS sp4;
};
is( q1(
		'euc_tw',
		$euctw
		  . q{SELECT try(format('SELECT assoc.parse_path(%L)::text', sp2 || '__proto__')),
		            try(format('SELECT assoc.parse_path(%L)::text', sp4 || '__proto__.polluted')),
		            try(format('SELECT assoc.parse_path(%L)::text', 'a' || sp4 || '.' || sp4 || 'b[' || sp4 || '1' || sp2 || ']')),
		            assoc.has_forbidden_keys(jsonb_build_object(sp4 || 'constructor', 1)),
		            assoc.has_forbidden_keys(jsonb_build_object('constructor' || sp2, 1))
		       FROM ch}
	),
	'ERROR 22023: invalid path "<A1A1>__proto__": forbidden segment "__proto__"|'
	  . 'ERROR 22023: invalid path "<8EA1A1A1>__proto__.polluted": forbidden segment "__proto__"|'
	  . '["a", "b", 1]|t|t',
	'EUC_TW: both forms of U+3000 are white space');
is( q1(
		'euc_tw',
		$euctw
		  . q{SELECT try(format('SELECT assoc.set(%L, %L, %L, %L)', 'enc', 'r', sp4 || '__proto__.polluted', 'true')),
		            try(format('SELECT assoc.set(%L, %L, NULL, %L)', 'enc', 'r',
		                       jsonb_build_object(sp4 || 'prototype', 1)))
		       FROM ch}
	),
	'ERROR 22023: invalid path "<8EA1A1A1>__proto__.polluted": forbidden segment "__proto__"|'
	  . 'ERROR 22023: value contains forbidden key "<8EA1A1A1>prototype"',
	'EUC_TW: the write functions refuse both');

# --- SQL_ASCII ----------------------------------------------------------

is( q1(
		'sql_ascii',
		q{SELECT try(format('SELECT assoc.parse_path(%L)::text', chr(9) || 'a ' || '.' || chr(160) || 'b')),
		         assoc.has_forbidden_keys(jsonb_build_object(chr(160) || '__proto__', 1)),
		         assoc.has_forbidden_keys(jsonb_build_object(' __proto__' || chr(13), 1))}
	),
	'["a", "<A0>b"]|f|t',
	'SQL_ASCII: a lone byte 0xA0 is an ordinary character');
is( q1(
		'sql_ascii',
		q{SELECT try(format('SELECT assoc.parse_path(%L)::text', E'\\xc2\\xa0__proto__.polluted')),
		         try(format('SELECT assoc.parse_path(%L)::text', E'a\\xe3\\x80\\x80.\\xef\\xbb\\xbfb')),
		         assoc.has_forbidden_keys(jsonb_build_object(E'\\xe2\\x80\\xa8constructor', 1)),
		         try(format('SELECT assoc.set(%L, %L, %L, %L)', 'enc', 'r', E'\\xc2\\xa0__proto__.polluted', 'true'))}
	),
	'ERROR 22023: invalid path "<C2><A0>__proto__.polluted": forbidden segment "__proto__"|'
	  . '["a", "b"]|t|'
	  . 'ERROR 22023: invalid path "<C2><A0>__proto__.polluted": forbidden segment "__proto__"',
	'SQL_ASCII: the UTF-8 sequences of the white space are trimmed');

$node->stop;
done_testing();
