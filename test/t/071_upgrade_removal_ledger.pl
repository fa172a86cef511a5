# Upgrading from 0.1.0 (README, "Idempotent retries"): 0.1.0 kept the rows
# assoc.remove_by returned in the op_id ledger with their data.  ALTER
# EXTENSION pg_assoc UPDATE keeps those rows without data, as 0.2.0 writes
# them, so a removed record does not outlive its removal in assoc.ops, and
# leaves every other entry as it was.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade_removal_ledger');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;

# Ledger entries under 0.1.0: a removal of two records, a removal of
# nothing, an update_by and a remove.  The library of this build writes a
# removal's rows without data already, so the first entry is set to the
# form 0.1.0 wrote: every row as to_jsonb gives it.
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
	'rm-none,rm-x1,up-1',
	'every other entry is unchanged');
is( $node->safe_psql(
		'postgres', q{
SELECT string_agg(format('%s %s %s v%s', ns, id, keys, version), ', ' ORDER BY id),
       count(data)
  FROM assoc.remove_by('app', '{room:R}', 'rm-1')}),
	'app r1 {room:R} v1, app r2 {room:R,user:7} v1|0',
	'a replay returns the rows with data NULL');

$node->stop;
done_testing();
