# Upgrading from 0.1.0 (README, "Idempotent retries" and "Paths"): 0.1.0
# kept the rows assoc.update_by and assoc.remove_by returned in the op_id
# ledger with their data.  ALTER EXTENSION pg_assoc UPDATE keeps those rows
# without data, as 0.2.0 writes them, so a removed record does not outlive
# its removal in assoc.ops, and leaves every other entry as it was.  Feed
# entries whose paths 0.2.0's grammar refuses (a piece that trims, as
# JavaScript trims, to a forbidden name) lose their paths, so no client
# replays them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgAssocTest;

my $node = PostgreSQL::Test::Cluster->new('upgrade_removal_ledger');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;
skip_all_without_lz4($node);

# Ledger entries under 0.1.0: a removal of two records, a removal of
# nothing, an update_by and a remove.  The library of this build writes
# rows without data already, so the entries of remove_by and update_by are
# set to the form 0.1.0 wrote: every row as to_jsonb gives it.  Feed
# entries with paths are added as the owner (this library refuses such
# paths in every call).
$node->safe_psql(
	'postgres', q{
CREATE EXTENSION pg_assoc VERSION '0.1.0';
SELECT assoc.create_namespace('app');
SELECT assoc.create('app', '{"secret": 1}', '{room:R}', 'r1');
SELECT assoc.create('app', '{"secret": 2}', '{room:R,user:7}', 'r2');
SELECT assoc.create('app', '{"kept": true}', '{room:U}', 'u1');
SELECT assoc.create('app', '{"gone": true}', id => 'x1');
CREATE TABLE removed_rows AS
  SELECT r.*, row_number() OVER (ORDER BY r.id) AS n
    FROM assoc.records r WHERE r.keys OPERATOR(assoc.@>) '{room:R}';
SELECT count(*) FROM assoc.remove_by('app', '{room:R}', 'rm-1');
UPDATE assoc.ops
   SET result = (SELECT jsonb_agg(to_jsonb(r) - 'n' ORDER BY r.n) FROM removed_rows r)
 WHERE op_id = 'rm-1';
SELECT count(*) FROM assoc.remove_by('app', '{room:NONE}', 'rm-none');
SELECT count(*) FROM assoc.update_by('app', '{room:U}', '{"kept": 2}', false, 'up-1');
UPDATE assoc.ops
   SET result = (SELECT jsonb_agg(to_jsonb(r)) FROM assoc.records r WHERE r.id = 'u1')
 WHERE op_id = 'up-1';
INSERT INTO assoc.feed (ns, xid, seq, id, version, op, paths, notify)
VALUES ('app', '1', 1, 'u1', 5, 'patch', ARRAY['a', E'b.\u00a0__proto__.x'], false),
       ('app', '1', 2, 'u1', 6, 'patch', ARRAY['constructors', E'\u3000prototype[0]'], false),
       ('app', '1', 3, 'u1', 7, 'patch', ARRAY['constructors', 'my_prototype', ' a '], false);
SELECT assoc.remove('app', 'x1', op_id => 'rm-x1');
CREATE TABLE ops_before AS SELECT op_id, result FROM assoc.ops;
});
is( $node->safe_psql(
		'postgres',
		q{SELECT jsonb_path_exists(result, '$[*].data'), result::text LIKE '%secret%'
		    FROM assoc.ops WHERE op_id = 'rm-1'}),
	't|t',
	'before the upgrade the removal kept the removed data');

$node->safe_psql('postgres', 'ALTER EXTENSION pg_assoc UPDATE');
is($node->safe_psql('postgres',
		q{SELECT extversion FROM pg_extension WHERE extname = 'pg_assoc'}),
	'0.2.0', 'upgraded to 0.2.0');

is( $node->safe_psql(
		'postgres', q{
SELECT jsonb_path_exists(o.result, '$[*].data'),
       o.result::text LIKE '%secret%',
       o.result = (SELECT jsonb_agg(e - 'data' ORDER BY i)
                     FROM jsonb_array_elements(b.result) WITH ORDINALITY AS x (e, i))
  FROM assoc.ops o JOIN ops_before b USING (op_id) WHERE op_id = 'rm-1'}),
	'f|f|t',
	'the removal keeps its rows without data, in order');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(op_id, ',' ORDER BY op_id)
  FROM assoc.ops o JOIN ops_before b USING (op_id)
 WHERE o.result IS NOT DISTINCT FROM b.result}),
	'rm-none,rm-x1',
	'every other entry is unchanged');
is( $node->safe_psql(
		'postgres', q{
SELECT jsonb_path_exists(o.result, '$[*].data'),
       o.result = (SELECT jsonb_agg(e - 'data') FROM jsonb_array_elements(b.result) AS e)
  FROM assoc.ops o JOIN ops_before b USING (op_id) WHERE op_id = 'up-1'}),
	'f|t',
	'the update_by entry keeps its rows without data');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(format('%s %s v%s %s', id, keys, version, data), ', ')
  FROM assoc.update_by('app', '{room:U}', '{"kept": 2}', false, 'up-1')}),
	'u1 {room:U} v2 {"kept": 2}',
	'an update_by replay returns the rows with the call\'s data');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(format('%s %s', seq, coalesce(paths::text, 'NULL')), ', ' ORDER BY seq)
  FROM assoc.feed WHERE ns = 'app' AND xid = '1'}),
	'1 NULL, 2 NULL, 3 {constructors,my_prototype," a "}',
	'feed entries whose paths are now forbidden keep their place without paths');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(format('%s %s %s v%s', ns, id, keys, version), ', ' ORDER BY id),
       count(data)
  FROM assoc.remove_by('app', '{room:R}', 'rm-1')}),
	'app r1 {room:R} v1, app r2 {room:R,user:7} v1|0',
	'a replay returns the rows with data NULL');

$node->stop;
done_testing();
