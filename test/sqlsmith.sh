#!/usr/bin/env bash
# SQLsmith against the running cluster: bash test/sqlsmith.sh QUERIES [SEED]
#
# Run as the cluster's superuser, with PGHOST/PGPORT set (test/run.sh runs
# it on the assertion and sanitizer server; make sqlsmith runs a long
# pass).  Creates a database "smith" with pg_assoc, a namespace owned by
# the role smith_app holding sample records (keys, history, an op_id
# ledger, feed entries), and connects SQLsmith with a fixed seed as the
# non-superuser role smith, a member of smith_app.  Fails when any backend
# died during the run (a crash, a failed assertion, a sanitizer abort), the
# server log shows a sanitizer report, or the server no longer answers.  SQLsmith's own tally of the queries and
# of the errors they raised is printed at the end.
set -u
. "$(dirname "$0")/servers.sh" # SANITIZER_FAILURES
QUERIES=${1:?usage: sqlsmith.sh QUERIES [SEED]}
SEED=${2:-20261130}
LOG=$PGHOST/server.log
offset=$(stat -c %s "$LOG")
export PGOPTIONS="-c client_min_messages=warning"

psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL' || exit 1
DROP DATABASE IF EXISTS smith;
DROP ROLE IF EXISTS smith;
DROP ROLE IF EXISTS smith_app;
CREATE ROLE smith_app NOLOGIN;
CREATE ROLE smith LOGIN IN ROLE smith_app;
-- SQLsmith's queries are random: keep each one short.
ALTER ROLE smith SET statement_timeout = '1s';
CREATE DATABASE smith;
SQL
psql -X -q -v ON_ERROR_STOP=1 -d smith >/dev/null <<'SQL' || exit 1
-- PostgreSQL's integer shift operators (<< and >> on int2, int4, int8)
-- shift by their right operand unchecked, undefined behaviour in C for a
-- negative or too large count, which UBSan reports and aborts on (SQLsmith
-- found "1 << -1" in int.c).  That is PostgreSQL's, not pg_assoc's: keep
-- random queries away from them in this database.
REVOKE EXECUTE ON FUNCTION int2shl(int2, int4), int2shr(int2, int4), int4shl(int4, int4),
    int4shr(int4, int4), int8shl(int8, int4), int8shr(int8, int4) FROM PUBLIC;
CREATE EXTENSION pg_assoc;
SET ROLE smith;
SELECT assoc.create_namespace('smith', 'smith_app');
SELECT assoc.alter_namespace('smith', history_depth => 5);
SELECT assoc.create('smith', jsonb_build_object('n', i, 'tags', jsonb_build_array('a', i % 7),
                    'nested', jsonb_build_object('s', repeat('x', i % 13))),
                    format('{room:R%s,user:%s}', i % 5, i)::assoc.assockey, 'rec-' || i)
  FROM generate_series(1, 200) i;
SELECT assoc.set('smith', 'rec-' || i, 'nested.s', '"y"', op_id => 'op-' || i)
  FROM generate_series(1, 50) i;
SELECT count(*) FROM assoc.update_by('smith', '{room:R1,user:1}', '{"edited": true}');
SELECT assoc.remove('smith', 'rec-200');
SQL

echo "sqlsmith: $QUERIES queries, seed $SEED, as role smith"
sqlsmith --target="host=$PGHOST port=$PGPORT dbname=smith user=smith" \
	--seed="$SEED" --max-queries="$QUERIES" --verbose >"$PGHOST/sqlsmith.out" 2>&1
status=$?
# SQLsmith's summary: queries, error rate, the most frequent errors.
tr '\r' '\n' <"$PGHOST/sqlsmith.out" >"$PGHOST/sqlsmith.txt"
grep -E '^(queries|error rate):' "$PGHOST/sqlsmith.txt" | tail -n 2
grep -E '^[0-9]+\s(ERROR|FATAL|PANIC)' "$PGHOST/sqlsmith.txt" | sort -rn | head -n 5

failed=0
if [ "$status" != 0 ]; then
	echo "sqlsmith exited with status $status"
	tail -n 20 "$PGHOST/sqlsmith.out"
	failed=1
fi
if ! psql -X -q -d smith -c 'SELECT 1' >/dev/null; then
	echo "the server no longer answers"
	failed=1
fi
crashes=$(tail -c +"$((offset + 1))" "$LOG" |
	grep -E "$SANITIZER_FAILURES|terminated by signal|was terminated by exception|server process .* exited with exit code")
if [ -n "$crashes" ]; then
	echo "backends died during the run:"
	echo "$crashes" | head -n 20
	failed=1
fi
[ "$failed" = 0 ] && echo "no crash, no failed assertion"
exit "$failed"
