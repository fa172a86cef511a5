# The upgrade from 0.1.0 stops while stored data holds object keys that
# 0.2.0 forbids: keys that trim, as JavaScript's String.prototype.trim()
# does, to __proto__, constructor or prototype (0.1.0 compared keys
# exactly, so " __proto__" or E'\u00a0constructor' could be stored).  The
# error lists the affected records and history versions (the first 20 and
# how many more) with the remedy; the extension stays at 0.1.0; once the
# keys are removed the upgrade succeeds and the data is intact.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use PgAssocTest;

my $node = PostgreSQL::Test::Cluster->new('upgrade_keys');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_assoc'");
$node->start;
skip_all_without_lz4($node);

$node->safe_psql('postgres', q{
CREATE ROLE app LOGIN;
CREATE EXTENSION pg_assoc VERSION '0.1.0';
SELECT assoc.create_namespace('app', 'app');
SELECT assoc.create_namespace('bulk', 'app');
SELECT assoc.alter_namespace('app', history_depth => 5);
});
is($node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pg_assoc'"),
	'0.1.0', 'installed at 0.1.0');

# Clean data through the 0.1.0 API, as the application role.
$node->safe_psql('postgres', q{
SET ROLE app;
SELECT assoc.set('app', 'r1', 'name', '"one"');
SELECT assoc.set('app', 'r2', 'list', '[1, {"ok": true}]');
SELECT assoc.set('app', 'r3', NULL, '{"clean": {"a": [1, 2]}}');
SELECT assoc.set('app', 'r4', 'v', '1');
SELECT assoc.set('app', 'r4', 'v', '2');
});

# The library installed now is 0.2.0's, which refuses these keys in every
# write function ...
my ($ret, $out, $err) = $node->psql('postgres',
	q{SET ROLE app; SELECT assoc.set('app', 'r1', 'x', jsonb_build_object(E'\u00a0__proto__', 1))});
like($err, qr/ERROR:  value contains forbidden key "\x{c2}\x{a0}__proto__"/,
	'the new library refuses the key through the API');

# ... and in the CHECK on assoc.records.  Data that 0.1.0 accepted is
# written as the owner, past a constraint re-added NOT VALID (validated
# again after the remedy), and into the history, which has no CHECK.
$node->safe_psql('postgres', q{
ALTER TABLE assoc.records DROP CONSTRAINT records_data_check;
UPDATE assoc.records SET data = data || jsonb_build_object(E'\u00a0__proto__', jsonb_build_object('polluted', true))
 WHERE ns = 'app' AND id = 'r1';
UPDATE assoc.records SET data = jsonb_set(data, '{list,1}', jsonb_build_object('ok', true, E'constructor\u3000', 1))
 WHERE ns = 'app' AND id = 'r2';
UPDATE assoc.history SET data = jsonb_build_object(' prototype ', 1, 'v', 1)
 WHERE ns = 'app' AND id = 'r4' AND version = 1;
INSERT INTO assoc.records (ns, id, data, version)
SELECT 'bulk', 'b' || lpad(i::text, 2, '0'), jsonb_build_object(E'__proto__\t', i), 1
  FROM generate_series(1, 23) AS i;
ALTER TABLE assoc.records ADD CONSTRAINT records_data_check
  CHECK (NOT assoc.has_forbidden_keys(data)) NOT VALID;
});

($ret, $out, $err) = $node->psql(
	'postgres', 'ALTER EXTENSION pg_assoc UPDATE',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'ALTER EXTENSION pg_assoc UPDATE fails');
my ($error)  = $err =~ /(ERROR:  .*)$/m;
my ($detail) = $err =~ /^(DETAIL:  .*)$/m;
my ($hint)   = $err =~ /^(HINT:  .*)$/m;
is($error,
	'ERROR:  23514: cannot update pg_assoc to 0.2.0: stored data holds object keys that are now forbidden (records: 25, history versions: 1)',
	'the error (check_violation) counts the records and history versions');
is($detail,
	q{DETAIL:  From 0.2.0 on, an object key that trims (as JavaScript's String.prototype.trim() does) to __proto__, constructor or prototype is forbidden. Affected (namespace, id) and (namespace, id, history version): ('app', 'r1'), ('app', 'r2'), ('bulk', 'b01'), ('bulk', 'b02'), ('bulk', 'b03'), ('bulk', 'b04'), ('bulk', 'b05'), ('bulk', 'b06'), ('bulk', 'b07'), ('bulk', 'b08'), ('bulk', 'b09'), ('bulk', 'b10'), ('bulk', 'b11'), ('bulk', 'b12'), ('bulk', 'b13'), ('bulk', 'b14'), ('bulk', 'b15'), ('bulk', 'b16'), ('bulk', 'b17'), ('bulk', 'b18') and 6 more.},
	'the detail lists the first 20 affected and how many more');
is($hint,
	q{HINT:  As the extension owner, remove or rename those keys, e.g. UPDATE assoc.records SET data = data - E'\u00a0__proto__' WHERE ns = ... AND id = ... (or data #- '{path,to,key}' for a nested key), and likewise in assoc.history (or DELETE those versions); assoc.has_forbidden_keys(data) finds them. Then run ALTER EXTENSION pg_assoc UPDATE again.},
	'the hint gives the remedy');
is($node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pg_assoc'"),
	'0.1.0', 'the extension stays at 0.1.0');

# A smaller set is listed whole, history versions after records.
$node->safe_psql('postgres', q{DELETE FROM assoc.records WHERE ns = 'bulk' AND id > 'b01'});
($ret, $out, $err) =
  $node->psql('postgres', 'ALTER EXTENSION pg_assoc UPDATE');
($detail) = $err =~ /^(DETAIL:  .*)$/m;
like($detail,
	qr/\Q(namespace, id, history version): ('app', 'r1'), ('app', 'r2'), ('bulk', 'b01'), ('app', 'r4', 1).\E$/,
	'all affected are listed when there are at most 20');

# The remedy, as the owner: remove the keys (top-level and nested), fix
# the history version, then the upgrade succeeds.
$node->safe_psql('postgres', q{
UPDATE assoc.records SET data = data - E'\u00a0__proto__' WHERE ns = 'app' AND id = 'r1';
UPDATE assoc.records SET data = data #- ARRAY['list', '1', E'constructor\u3000'] WHERE ns = 'app' AND id = 'r2';
UPDATE assoc.records SET data = data - E'__proto__\t' WHERE ns = 'bulk';
UPDATE assoc.history SET data = data - ' prototype ' WHERE ns = 'app' AND id = 'r4' AND version = 1;
ALTER TABLE assoc.records VALIDATE CONSTRAINT records_data_check;
});
($ret, $out, $err) =
  $node->psql('postgres', 'ALTER EXTENSION pg_assoc UPDATE');
is($ret, 0, 'the upgrade succeeds after the remedy') or diag($err);
is($node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'pg_assoc'"),
	'0.2.0', 'the extension is at 0.2.0');
is( $node->safe_psql(
		'postgres', q{
SET ROLE app;
SELECT id, version, data FROM assoc.records ORDER BY ns, id;
SELECT version, data FROM assoc.history('app', 'r4');
}),
	q{r1|1|{"name": "one"}
r2|1|{"list": [1, {"ok": true}]}
r3|1|{"clean": {"a": [1, 2]}}
r4|2|{"v": 2}
b01|1|{}
1|{"v": 1}
2|{"v": 2}},
	'the data is intact and readable by the application');
is( $node->safe_psql(
		'postgres', q{
SET ROLE app;
SELECT assoc.set('app', 'r1', 'name', '"uno"');
SELECT assoc.get('app', 'r1');
}),
	qq{2\n{"name": "uno"}},
	'and writable');
($ret, $out, $err) = $node->psql('postgres',
	q{SET ROLE app; SELECT assoc.set('app', 'r3', 'clean', jsonb_build_object('prototype' || chr(8232), 1))});
like($err, qr/ERROR:  value contains forbidden key "prototype\x{e2}\x{80}\x{a8}"/,
	'and the new rule holds after the upgrade');

$node->stop;
done_testing();
