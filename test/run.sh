#!/usr/bin/env bash
# The test command: bash test/run.sh  (as root; .ci/run calls it)
#
# Installs what it needs, builds and installs pg_assoc, starts a throwaway
# cluster, runs every suite as its own step (regress, isolation, TAP,
# fuzz, format, clients), shows the diff or log of each failure, stops the cluster
# on any exit and ends with "N passed, M failed".  Exits non-zero on any
# failure.  Safe to re-run; a cluster left by a killed run is stopped.
#
# Environment: RUN_DIR (default /tmp/pg_assoc-test), PGPORT (default
# 54329), FUZZ_SECONDS (default 15 per fuzz target).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/test/lib.sh"

RUN_DIR=${RUN_DIR:-/tmp/pg_assoc-test}
export PGPORT=${PGPORT:-54329} PGHOST=$RUN_DIR PGUSER=$PG_USER PGDATABASE=postgres
FUZZ_SECONDS=${FUZZ_SECONDS:-15}

install_packages
reset_run_dir
build_and_install "$TOP"
trap stop_cluster EXIT
start_cluster

PASSED=0
FAILED=0
FAILED_SUITES=""

# Record the counts of one suite; $3 is the suite's exit status.
tally() {
	local suite=$1 passed=$2 failed=$3 status=$4
	if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
		failed=1 # the suite failed without a countable test failure
	fi
	PASSED=$((PASSED + passed))
	FAILED=$((FAILED + failed))
	[ "$failed" = 0 ] || FAILED_SUITES="$FAILED_SUITES $suite"
	echo "== $suite: $passed passed, $failed failed"
}

# pg_regress and pg_isolation_regress (PostgreSQL 15 output format).
run_pg_regress() {
	local suite=$1 target=$2 diffs=$3 log="$RUN_DIR/$1.log" status
	echo "== $suite"
	(cd "$RUN_DIR/src" && as_user make -s "$target" PG_CONFIG="$PG_CONFIG") >"$log" 2>&1
	status=$?
	grep -E '\.\.\. ' "$log" | sed 's/^/   /'
	[ "$status" = 0 ] || { [ -f "$diffs" ] && cat "$diffs"; tail -n 20 "$log"; }
	tally "$suite" "$(grep -cE '\.\.\. ok' "$log")" \
		"$(grep -cE '\.\.\. (FAILED|failed)' "$log")" "$status"
}

run_tap() {
	local log="$RUN_DIR/tap.log" status
	echo "== tap"
	(cd "$RUN_DIR/src" && as_user make -s installcheck-tap PG_CONFIG="$PG_CONFIG" \
		PROVE_FLAGS=--verbose) >"$log" 2>&1
	status=$?
	grep -E '^(test/t/|ok |not ok )' "$log" | sed 's/^/   /'
	if [ "$status" != 0 ]; then
		tail -n 40 "$log"
		for f in "$RUN_DIR"/src/tmp_check/log/*; do
			[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
		done
	fi
	tally tap "$(grep -cE '^ok ' "$log")" "$(grep -cE '^not ok ' "$log")" "$status"
}

# A short libFuzzer pass over each parser (the long runs are make fuzz).
run_fuzz() {
	local log="$RUN_DIR/fuzz.log" status
	echo "== fuzz (${FUZZ_SECONDS}s per target)"
	(cd "$RUN_DIR/src" && as_user make -s fuzz FUZZ_SECONDS="$FUZZ_SECONDS") >"$log" 2>&1
	status=$?
	sed 's/^/   /' "$log" | tail -n 20
	local targets
	targets=$(cd "$RUN_DIR/src" && ls test/fuzz/*_fuzz.c 2>/dev/null | wc -l)
	if [ "$status" = 0 ]; then tally fuzz "$targets" 0 0; else tally fuzz 0 1 1; fi
}

# Client tests: every test/clients/*_test.{js,py,sh}; each prints its own
# lines and exits non-zero on failure.
run_clients() {
	local dir="$RUN_DIR/src/test/clients" t status passed=0 failed=0
	echo "== clients"
	as_user psql -X -q -c 'CREATE DATABASE clients' &&
		PGDATABASE=clients as_user psql -X -q -c 'CREATE EXTENSION pg_assoc' ||
		{ tally clients 0 1 1; return; }
	if ls "$dir"/*_test.js >/dev/null 2>&1; then
		(cd "$dir" && as_user npm install --silent --no-audit --no-fund >"$RUN_DIR/npm.log" 2>&1) ||
			{ cat "$RUN_DIR/npm.log"; tally clients 0 1 1; return; }
	fi
	for t in "$dir"/*_test.js "$dir"/*_test.py "$dir"/*_test.sh; do
		[ -f "$t" ] || continue
		case "$t" in
			*.js) (cd "$dir" && PGDATABASE=clients as_user node "$t") >"$RUN_DIR/client.log" 2>&1 ;;
			*.py) (cd "$dir" && PGDATABASE=clients as_user /usr/bin/python3 "$t") >"$RUN_DIR/client.log" 2>&1 ;;
			*.sh) (cd "$dir" && PGDATABASE=clients as_user bash "$t") >"$RUN_DIR/client.log" 2>&1 ;;
		esac
		status=$?
		if [ "$status" = 0 ]; then
			passed=$((passed + 1)); echo "   $(basename "$t") ... ok"
		else
			failed=$((failed + 1)); echo "   $(basename "$t") ... FAILED"
			tail -n 40 "$RUN_DIR/client.log"
		fi
	done
	tally clients "$passed" "$failed" 0
}

run_pg_regress regress installcheck-regress "$RUN_DIR/src/regression.diffs"
if ls "$TOP"/test/specs/*.spec >/dev/null 2>&1; then
	run_pg_regress isolation installcheck-isolation "$RUN_DIR/src/output_iso/regression.diffs"
fi
run_tap
run_fuzz
echo "== format"
if (cd "$RUN_DIR/src" && make -s format-check >"$RUN_DIR/format.log" 2>&1); then
	tally format 1 0 0
else
	head -n 40 "$RUN_DIR/format.log"; tally format 0 1 1
fi
run_clients

stop_cluster
trap - EXIT
[ -z "$FAILED_SUITES" ] || echo "failed suites:$FAILED_SUITES"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
