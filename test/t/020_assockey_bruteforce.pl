# Brute-force check of the assockey operators on 100k random keys.
#
# Every key is stored twice: as assockey and as a text[] of 'model:id'
# strings.  For 120 query keys, each of @> <@ && = is evaluated through the
# GIN index (seq scans disabled), through the operator functions alone
# (index scans disabled), and by brute force over the arrays in plain SQL;
# the three answers must be identical.  Ordering, union, difference,
# hashing and text round trip are checked against array equivalents too.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('assockey_bf');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_assoc');
# Operators live in schema assoc: put it on the path, as users would.
$node->safe_psql('postgres',
	'ALTER DATABASE postgres SET search_path = public, assoc');

my $nrows = 100_000;
my $nqueries = 120;

# Random association: a few models with skewed id pools, and ids that need
# quoting (comma, quote, backslash, braces, edge spaces, colon, unicode).
$node->safe_psql(
	'postgres', qq{
CREATE FUNCTION rand_assoc() RETURNS text LANGUAGE sql VOLATILE AS \$\$
    SELECT CASE floor(random() * 10)::int
        WHEN 0 THEN 'misc:' || (ARRAY['a,b', 'q"t', 'b\\s', '{br}', ' lead',
                                      'trail ', 'c:d', 'ü', 'x y', '日本'])
                               [1 + floor(random() * 10)::int]
        WHEN 1 THEN 'livechat-message:' || floor(random() * 5)::int
        WHEN 2 THEN 'user:' || floor(random() * 300)::int
        WHEN 3 THEN 'user:' || floor(random() * 300)::int
        WHEN 4 THEN 'user:' || floor(random() * 20)::int
        ELSE 'room:' || floor(random() * 100)::int
    END
\$\$;
SELECT setseed(0.123);
CREATE TABLE bf (id int PRIMARY KEY, arr text[] NOT NULL, k assoc.assockey NOT NULL);
INSERT INTO bf (id, arr, k)
SELECT i, a, assoc.assockey_from_array(a)
FROM (SELECT i, ARRAY(SELECT DISTINCT rand_assoc()
                      FROM generate_series(1, floor(random() * 5)::int + 0 * i)) AS a
      FROM generate_series(1, $nrows) i) s;
CREATE INDEX bf_k ON bf USING gin (k);
ANALYZE bf;
CREATE TABLE bq (qid int PRIMARY KEY, arr text[] NOT NULL, k assoc.assockey NOT NULL);
INSERT INTO bq VALUES (0, '{}', '{}');
INSERT INTO bq (qid, arr, k)
SELECT i, a, assoc.assockey_from_array(a)
FROM (SELECT i, ARRAY(SELECT DISTINCT rand_assoc()
                      FROM generate_series(1, 1 + floor(random() * 8)::int + 0 * i)) AS a
      FROM generate_series(1, $nqueries / 2) i) s;
INSERT INTO bq (qid, arr, k)
SELECT 1000 + id, arr, k FROM bf WHERE id <= $nqueries / 2 - 1;
});

is($node->safe_psql('postgres', 'SELECT count(*) FROM bf'), $nrows, 'rows');
is($node->safe_psql('postgres', 'SELECT count(*) FROM bq'),
	$nqueries, 'query keys');
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM bf WHERE assoc.size(k) <> cardinality(arr)
                                  OR k::text::assoc.assockey <> k
                                  OR k::text <> k::text::assoc.assockey::text}),
	'0',
	'size and text round trip agree with the arrays');
ok( $node->safe_psql('postgres',
		q{SELECT count(*) FROM bf WHERE k::text LIKE '%"%'}) > 1000,
	'many keys need quoting');

# The brute-force answer over arrays (set semantics of array operators).
my %brute = (
	'@>' => 'b.arr @> q.arr',
	'<@' => 'b.arr <@ q.arr',
	'&&' => 'b.arr && q.arr',
	'=' => '(b.arr @> q.arr AND b.arr <@ q.arr)',);

for my $op (sort keys %brute)
{
	my $bq = "SELECT q.qid, b.id FROM bq q JOIN bf b ON $brute{$op}";
	my $kq = "SELECT q.qid, b.id FROM bq q JOIN bf b ON b.k OPERATOR(assoc.$op) q.k";
	my $settings_idx = 'SET enable_seqscan = off; SET enable_hashjoin = off; '
	  . 'SET enable_mergejoin = off;';
	my $settings_seq =
	  'SET enable_indexscan = off; SET enable_bitmapscan = off;';

	my $plan =
	  $node->safe_psql('postgres', "$settings_idx EXPLAIN (COSTS OFF) $kq");
	like($plan, qr/Bitmap Index Scan on bf_k/, "$op runs through the index");

	my $total = $node->safe_psql('postgres',
		"SET enable_bitmapscan = off; SELECT count(*) FROM ($bq) s");
	for my $mode (['index', $settings_idx], ['seqscan', $settings_seq])
	{
		my $diff = $node->safe_psql(
			'postgres', qq{$mode->[1]
CREATE TEMP TABLE got AS $kq;
CREATE TEMP TABLE want AS $bq;
SELECT (SELECT count(*) FROM (TABLE got EXCEPT ALL TABLE want) a)
     + (SELECT count(*) FROM (TABLE want EXCEPT ALL TABLE got) b);});
		is($diff, '0',
			"$op through $mode->[0] equals brute force ($total matches)");
	}
	ok($total > 0, "$op has matches");
}

# Empty-set semantics against the arrays, through the index.
is( $node->safe_psql(
		'postgres', q{SET enable_seqscan = off;
SELECT (SELECT count(*) FROM bf WHERE k OPERATOR(assoc.@>) '{}') = (SELECT count(*) FROM bf),
       (SELECT count(*) FROM bf WHERE k OPERATOR(assoc.&&) '{}') = 0,
       (SELECT count(*) FROM bf WHERE k OPERATOR(assoc.<@) '{}') = (SELECT count(*) FROM bf WHERE arr = '{}'),
       (SELECT count(*) FROM bf WHERE k OPERATOR(assoc.=) '{}') = (SELECT count(*) FROM bf WHERE arr = '{}')}),
	't|t|t|t',
	'empty-set semantics through the index');

# Order: element by element, bytewise (model, id), shorter first, which is
# the order of flattened [model, id, ...] arrays under the C collation.
$node->safe_psql(
	'postgres', q{
CREATE FUNCTION flat(a text[]) RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(x ORDER BY o, p), '{}') FROM (
        SELECT o, 1 AS p, split_part(e, ':', 1) COLLATE "C" AS x
        FROM unnest(a) WITH ORDINALITY u(e, o)
        UNION ALL
        SELECT o, 2, substr(e, strpos(e, ':') + 1) COLLATE "C"
        FROM unnest(a) WITH ORDINALITY u(e, o)) s
$$;
CREATE TABLE bs AS
SELECT id, k, flat(ARRAY(SELECT e FROM unnest(arr) e
                         ORDER BY split_part(e, ':', 1) COLLATE "C",
                                  substr(e, strpos(e, ':') + 1) COLLATE "C")) AS f
FROM bf WHERE id <= 3000;});
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM bs a JOIN bs b ON a.id % 7 = b.id % 7
WHERE (a.k OPERATOR(assoc.<) b.k) <> (a.f COLLATE "C" < b.f COLLATE "C")
   OR (a.k OPERATOR(assoc.=) b.k) <> (a.f = b.f)
   OR (a.k OPERATOR(assoc.>=) b.k) <> (a.f COLLATE "C" >= b.f COLLATE "C")
   OR sign(assoc.assockey_cmp(a.k, b.k)) <> sign(btarraycmp(a.f, b.f))}),
	'0',
	'ordering agrees with flattened arrays under the C collation');

# Union, difference, hashing.
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM bf a JOIN bf b ON b.id = a.id + 1
WHERE (a.k OPERATOR(assoc.||) b.k) OPERATOR(assoc.<>)
          assoc.assockey_from_array(a.arr || b.arr)
   OR (a.k OPERATOR(assoc.-) b.k) OPERATOR(assoc.<>)
          assoc.assockey_from_array(ARRAY(SELECT unnest(a.arr) EXCEPT SELECT unnest(b.arr)))}),
	'0',
	'|| and - agree with array union and difference');
is( $node->safe_psql(
		'postgres', q{
SET enable_sort = off;
SELECT (SELECT count(*) FROM (SELECT k FROM bf GROUP BY k) s)
     = (SELECT count(*) FROM (SELECT ARRAY(SELECT unnest(arr) ORDER BY 1) FROM bf GROUP BY 1) t)}),
	't',
	'hash grouping finds as many distinct keys as sorted arrays');

$node->stop;
done_testing();
