#!/usr/bin/env bash
# The test command: bash test/run.sh  (as root; .ci/run calls it)
#
# Installs what it needs, builds (or takes from the cache) the source-built
# servers of test/servers.sh, and then, on each server in turn -- Debian's
# PostgreSQL 15, PostgreSQL 15 with assertions and sanitizers, and
# PostgreSQL 17 -- builds and installs pg_assoc, starts a throwaway
# cluster and runs every suite as its own step (regress, isolation, TAP,
# clients; SQLsmith on the assertion server), showing the diff or log of
# each failure.  Fuzz, format, layers, release (META.json, make dist, the
# build flags) and package (the Debian package built, checked by lintian,
# installed and tested with make installcheck, then purged) run once, the
# package last: it takes over, then removes, the library make install put
# in Debian's server.  Any assertion failure in a
# server log, any sanitizer report, or a suite that counts no test fails
# the run.  Ends with a timing table and "N passed, M failed"; exits
# non-zero on any failure.  Safe to re-run; a cluster left by a killed run
# is stopped.
#
# Environment: RUN_DIR (default /tmp/pg_assoc-test), PGPORT (default
# 54329), SERVERS (default "debian15 asan15 pg17"), SUITES (default
# "regress isolation tap clients sqlsmith fuzz format layers release
# package"),
# FUZZ_SECONDS (default 15 per fuzz target), SQLSMITH_QUERIES (default
# 15000), PG_ASSOC_CACHE (default /var/cache/pg_assoc).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/test/lib.sh"
. "$TOP/test/servers.sh"

BASE_RUN_DIR=${RUN_DIR:-/tmp/pg_assoc-test}
export PGPORT=${PGPORT:-54329} PGUSER=$PG_USER PGDATABASE=postgres
SERVERS=${SERVERS:-debian15 asan15 pg17}
SUITES=${SUITES:-regress isolation tap clients sqlsmith fuzz format layers release package}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
SQLSMITH_QUERIES=${SQLSMITH_QUERIES:-15000}
# The release suites' tools: Debian's packaging, lintian, unzip.
PACKAGES="$PACKAGES $SERVER_PACKAGES build-essential debhelper postgresql-server-dev-all \
lintian unzip"
export WERROR=-Werror # warnings are fatal here, not in distribution builds

TIMINGS=""
# Run a command and add a row "label: seconds" to the timing table.
timed() {
	local label=$1 start status
	shift
	start=$(date +%s)
	"$@"
	status=$?
	TIMINGS="$TIMINGS$(printf '%-34s %5d s' "$label" $(($(date +%s) - start)))
"
	return $status
}

timed "package install" install_packages
RUN_DIR=$BASE_RUN_DIR
reset_run_dir
BROKEN_SERVERS=""
for s in $SERVERS; do
	[ "$s" = debian15 ] && continue
	timed "server build: $s" server_build "$s" || BROKEN_SERVERS="$BROKEN_SERVERS $s"
done

PASSED=0
FAILED=0
FAILED_SUITES=""
SERVER="" # the server the suites run on, in suite names and counts
SERVER_PASSED=0
SERVER_FAILED=0
SERVER_COUNTS=""

# Record the counts of one suite; $4 is the suite's exit status.  A suite
# that failed without a countable failure, or counted no test at all,
# counts one failure.
tally() {
	local suite=$1 passed=$2 failed=$3 status=$4
	[ -n "$SERVER" ] && suite="$SERVER/$suite"
	if [ "$status" != 0 ] && [ "$failed" = 0 ]; then
		failed=1
	fi
	if [ "$passed" = 0 ] && [ "$failed" = 0 ]; then
		echo "   no test was counted"
		failed=1
	fi
	PASSED=$((PASSED + passed))
	FAILED=$((FAILED + failed))
	SERVER_PASSED=$((SERVER_PASSED + passed))
	SERVER_FAILED=$((SERVER_FAILED + failed))
	[ "$failed" = 0 ] || FAILED_SUITES="$FAILED_SUITES $suite"
	echo "== $suite: $passed passed, $failed failed"
}

# pg_regress and pg_isolation_regress.  Up to 15 a test's line reads
# "test name ... ok"; from 16 on the output is TAP: "ok 1 - name",
# "not ok 2 - name".
run_pg_regress() {
	local suite=$1 target=$2 diffs=$3 log="$RUN_DIR/$1.log" status
	echo "== $SERVER/$suite"
	(cd "$RUN_DIR/src" && as_user make -s "$target" PG_CONFIG="$PG_CONFIG") >"$log" 2>&1
	status=$?
	grep -E '(\.\.\. |^(not )?ok [0-9])' "$log" | sed 's/^/   /'
	[ "$status" = 0 ] || { [ -f "$diffs" ] && cat "$diffs"; tail -n 20 "$log"; }
	tally "$suite" "$(grep -cE '(\.\.\. ok|^ok [0-9])' "$log")" \
		"$(grep -cE '(\.\.\. (FAILED|failed)|^not ok [0-9])' "$log")" "$status"
}

run_tap() {
	local log="$RUN_DIR/tap.log" status
	echo "== $SERVER/tap"
	# Where the server has PL/Proxy (Debian's package for its 15, built into
	# the others' copies, servers.sh) the scale-out tests must run.
	local plproxy=""
	[ -f "$("$PG_CONFIG" --sharedir)/extension/plproxy.control" ] && plproxy=1
	(cd "$RUN_DIR/src" && as_user env PG_ASSOC_REQUIRE_PLPROXY="$plproxy" make -s installcheck-tap \
		PG_CONFIG="$PG_CONFIG" PROVE_FLAGS=--verbose) >"$log" 2>&1
	status=$?
	grep -E '^(test/t/|ok |not ok )' "$log" | sed 's/^/   /'
	if [ "$status" != 0 ]; then
		tail -n 40 "$log"
		for f in "$RUN_DIR"/src/tmp_check/log/*; do
			[ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
		done
	fi
	# A script that died outside a test counts one failure more.
	tally tap "$(grep -cE '^ok ' "$log")" \
		"$(($(grep -cE '^not ok ' "$log") + $(grep -cE '^test/t/.*Wstat: [1-9].*Failed: 0\)' "$log")))" \
		"$status"
}

# A short libFuzzer pass over each parser (the long runs are make fuzz).
run_fuzz() {
	local log="$RUN_DIR/fuzz.log" status
	echo "== fuzz (${FUZZ_SECONDS}s per target)"
	(cd "$RUN_DIR/src" && as_user make -s fuzz FUZZ_SECONDS="$FUZZ_SECONDS" \
		PG_CONFIG="$DEBIAN_PG_BIN/pg_config") >"$log" 2>&1
	status=$?
	sed 's/^/   /' "$log" | tail -n 20
	# A target passes when it ran: "NAME: exit 0, number_of_executed_units: N".
	tally fuzz "$(grep -cE ': exit 0, number_of_executed_units: *[1-9]' "$log")" \
		"$(grep -cE ': exit [1-9]' "$log")" "$status"
}

run_format() {
	echo "== format"
	if (cd "$RUN_DIR/src" && make -s format-check PG_CONFIG="$DEBIAN_PG_BIN/pg_config" \
		>"$RUN_DIR/format.log" 2>&1); then
		tally format 1 0 0
	else
		head -n 40 "$RUN_DIR/format.log"
		tally format 0 1 1
	fi
}

# The layer check (test/layers.sh) on the first server's build: no cycle
# between src/ files, by #include or by symbol; file sizes; prefixes.
run_layers() {
	echo "== layers"
	if (cd "$RUN_DIR/src" && as_user make -s PG_CONFIG="$DEBIAN_PG_BIN/pg_config" &&
		bash test/layers.sh) >"$RUN_DIR/layers.log" 2>&1; then
		sed 's/^/   /' "$RUN_DIR/layers.log"
		tally layers 1 0 0
	else
		sed 's/^/   /' "$RUN_DIR/layers.log"
		tally layers 0 1 1
	fi
}

# check NAME COMMAND...: one check of the release suites, as a line
# "NAME ... ok" or "NAME ... FAILED" (with the command's output); counts
# in CHECKS_PASSED and CHECKS_FAILED.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		CHECKS_PASSED=$((CHECKS_PASSED + 1))
		echo "   $name ... ok"
	else
		CHECKS_FAILED=$((CHECKS_FAILED + 1))
		echo "   $name ... FAILED"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/      /'
	fi
}

# What PGXN and packagers rely on: META.json (PGXN Meta Spec 1.0.0) agrees
# with pg_assoc.control, the Makefile and the install scripts; make dist
# (run in the git checkout, since it archives HEAD) makes
# pg_assoc-VERSION.zip with the tree under pg_assoc-VERSION/, and that
# archive builds; warnings are fatal only when WERROR says so.
run_release() {
	local dir=$RUN_DIR/release version
	local PG_CONFIG=$DEBIAN_PG_BIN/pg_config
	echo "== release"
	CHECKS_PASSED=0 CHECKS_FAILED=0
	rm -rf "$dir" && mkdir -p "$dir" && chown "$PG_USER" "$dir"
	version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$TOP/pg_assoc.control")
	check "META.json: required keys, versions agree (control $version)" \
		perl "$TOP/test/release/check_meta.pl" "$TOP"
	check "make dist: pg_assoc-$version.zip" \
		bash -c "make -s -C '$TOP' dist PG_CONFIG='$PG_CONFIG' &&
			mv '$TOP/pg_assoc-$version.zip' '$dir/' && cd '$dir' &&
			unzip -q pg_assoc-$version.zip -d unpacked && chown -R $PG_USER unpacked &&
			test -f unpacked/pg_assoc-$version/META.json &&
			test -f unpacked/pg_assoc-$version/pg_assoc.control &&
			test ! -e unpacked/pg_assoc-$version/.git"
	check "the archive builds" \
		runuser -u "$PG_USER" -- make -s -C "$dir/unpacked/pg_assoc-$version" PG_CONFIG="$PG_CONFIG"
	check "pg_assoc--$version.sql is the newest install script" \
		test -f "$dir/unpacked/pg_assoc-$version/pg_assoc--$version.sql" -a \
		-n "$(ls "$TOP"/src/updates/*--"$version".sql 2>/dev/null)"
	check "warnings are not errors by default" \
		bash -c "! env -u WERROR make -C '$TOP' -n -B -s src/path.o PG_CONFIG='$PG_CONFIG' |
			grep -qE -- '-Werror( |$)'"
	check "WERROR=-Werror makes them errors" \
		bash -c "make -C '$TOP' -n -B -s src/path.o PG_CONFIG='$PG_CONFIG' WERROR=-Werror |
			grep -qE -- '-Werror( |$)'"
	tally release "$CHECKS_PASSED" "$CHECKS_FAILED" 0
}

# The Debian package (debian/): purge any installed copy, build it with
# dpkg-buildpackage from a copy of the tree under test (as a user would,
# without the run's WERROR), check it with lintian at the error level,
# install it with apt, check that it is the version built and owns the
# library, run make installcheck (regress, isolation, TAP) on a cluster of
# Debian's server that has loaded that library, and purge it again.  The
# package takes over the files make install put there, so afterwards
# Debian's server has no pg_assoc until the next make install.
run_package() {
	local dir=$RUN_DIR/package deb lib status log built pid tests
	local pkg=postgresql-15-pg-assoc
	local PG_BIN=$DEBIAN_PG_BIN PG_CONFIG=$DEBIAN_PG_BIN/pg_config
	echo "== package"
	CHECKS_PASSED=0 CHECKS_FAILED=0
	lib=$("$PG_CONFIG" --pkglibdir)/pg_assoc.so
	export DEBIAN_FRONTEND=noninteractive
	check "no $pkg installed before" \
		bash -c "! dpkg -s $pkg >/dev/null 2>&1 || apt-get purge -y -qq $pkg >/dev/null"
	rm -rf "$dir" && mkdir -p "$dir/build" && chown -R "$PG_USER" "$dir"
	copy_tree "$TOP" "$dir/build/pg-assoc"
	copy_tree "$TOP" "$dir/src" # for make installcheck: a clean tree
	trap 'stop_cluster; apt-get purge -y -qq '"$pkg"' >/dev/null 2>&1' EXIT
	check "dpkg-buildpackage -us -uc -b" \
		bash -c "cd '$dir/build/pg-assoc' &&
			runuser -u $PG_USER -- env -u WERROR dpkg-buildpackage -us -uc -b"
	deb=$(ls "$dir"/build/"$pkg"_*.deb 2>/dev/null | head -n 1)
	built=$(dpkg-deb -f "${deb:-/nonexistent}" Version 2>/dev/null)
	check "lintian --fail-on error" \
		bash -c "cd '$dir/build' && runuser -u $PG_USER -- lintian --fail-on error ./*.changes"
	check "apt-get install ./$(basename "${deb:-none.deb}")" \
		apt-get install -y -qq --reinstall "${deb:-/nonexistent}"
	check "dpkg -S: $pkg ${built:-?} owns $lib" \
		bash -c "[ -n '$built' ] &&
			[ \"\$(dpkg-query -W -f '\${Version}' $pkg)\" = '$built' ] &&
			dpkg -S '$lib' | grep -qx '$pkg: $lib'"
	# make installcheck from the clean tree, the library from the package.
	RUN_DIR=$dir
	export PGHOST=$dir
	cd "$dir" || return # a directory the unprivileged user may enter
	if start_cluster; then
		pid=$(head -n 1 "$dir/data/postmaster.pid")
		check "the server loaded the package's library" grep -q "$lib" "/proc/$pid/maps"
		log=$dir/installcheck.log
		(cd "$dir/src" && as_user make -s installcheck PG_CONFIG="$PG_CONFIG" \
			PROVE_FLAGS=--verbose) >"$log" 2>&1
		status=$?
		stop_cluster
		tests=$(grep -cE '(\.\.\. ok|^ok [0-9])' "$log")
		if [ "$status" = 0 ] && [ "$tests" -gt 0 ]; then
			CHECKS_PASSED=$((CHECKS_PASSED + tests))
			echo "   make installcheck ... ok ($tests tests)"
		else
			CHECKS_FAILED=$((CHECKS_FAILED + 1))
			echo "   make installcheck ... FAILED"
			tail -n 40 "$log" | sed 's/^/      /'
			[ -f "$dir/src/regression.diffs" ] && head -n 60 "$dir/src/regression.diffs"
		fi
	else
		CHECKS_FAILED=$((CHECKS_FAILED + 1))
	fi
	check "apt-get purge $pkg" \
		bash -c "apt-get purge -y -qq $pkg >/dev/null && test ! -e '$lib'"
	trap - EXIT
	tally package "$CHECKS_PASSED" "$CHECKS_FAILED" 0
}

# Client tests: every test/clients/*_test.{js,py,sh}; each prints its own
# lines and exits non-zero on failure. The adapters in clients/ have no
# node_modules of their own: NODE_PATH lends them the tests' (pg and the
# deepstream and Rocket.Chat packages they plug into).
run_clients() {
	local dir="$RUN_DIR/src/test/clients" t status passed=0 failed=0
	echo "== $SERVER/clients"
	as_user psql -X -q -c 'CREATE DATABASE clients' &&
		PGDATABASE=clients as_user psql -X -q -c 'CREATE EXTENSION pg_assoc' ||
		{ tally clients 0 1 1; return; }
	if ls "$dir"/*_test.js >/dev/null 2>&1; then
		(cd "$dir" && as_user npm ci --ignore-scripts --silent --no-audit --no-fund >"$RUN_DIR/npm.log" 2>&1) ||
			{ cat "$RUN_DIR/npm.log"; tally clients 0 1 1; return; }
	fi
	for t in "$dir"/*_test.js "$dir"/*_test.py "$dir"/*_test.sh; do
		[ -f "$t" ] || continue
		case "$t" in
			*.js) (cd "$dir" && PGDATABASE=clients as_user env NODE_PATH="$dir/node_modules" node "$t") >"$RUN_DIR/client.log" 2>&1 ;;
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

# SQLsmith against the running cluster (test/sqlsmith.sh): random queries
# as a non-superuser member of a namespace with sample records.
run_sqlsmith() {
	local log="$RUN_DIR/sqlsmith.log" status
	echo "== $SERVER/sqlsmith ($SQLSMITH_QUERIES queries)"
	as_user bash "$RUN_DIR/src/test/sqlsmith.sh" "$SQLSMITH_QUERIES" >"$log" 2>&1
	status=$?
	tail -n 12 "$log" | sed 's/^/   /'
	if [ "$status" = 0 ]; then tally sqlsmith 1 0 0; else tally sqlsmith 0 1 1; fi
}

# After a server's suites: a failed assertion (TRAP) or a sanitizer report
# in any log -- the suite cluster's, a TAP test's cluster's, a suite's own
# (the frontends') -- or any file in the sanitizer directory fails the run.
# AddressSanitizer writes its reports to that directory (log_path); gcc's
# UndefinedBehaviorSanitizer, linked with it, writes "runtime error:" to
# stderr whatever UBSAN_OPTIONS says, and stderr is those logs.
check_server_logs() {
	local found reports f
	found=$(grep -lE "$SANITIZER_FAILURES" "$RUN_DIR"/*.log "$RUN_DIR"/src/tmp_check/log/* \
		"$RUN_DIR"/sqlsmith.out 2>/dev/null)
	reports=$(ls "$RUN_DIR/sanitizer" 2>/dev/null)
	if [ -z "$found" ] && [ -z "$reports" ]; then
		tally "assertions and sanitizers" 1 0 0
		return
	fi
	for f in $found; do
		echo "--- $f"
		grep -B 2 -A 12 -E "$SANITIZER_FAILURES" "$f" | head -n 40
	done
	for f in $reports; do echo "--- $RUN_DIR/sanitizer/$f"; head -n 60 "$RUN_DIR/sanitizer/$f"; done
	tally "assertions and sanitizers" 0 1 1
}

# Point the helpers at server $1: a run directory of its own, and its
# binaries (for a source-built server a copy of its cached installation,
# server_use_copy).
use_server() {
	SERVER=$1
	unset ASAN_OPTIONS UBSAN_OPTIONS
	RUN_DIR=$BASE_RUN_DIR/$1
	export PGHOST=$RUN_DIR
	mkdir -p "$RUN_DIR" && chown "$PG_USER" "$RUN_DIR"
	if [ "$1" = debian15 ]; then
		PG_BIN=$DEBIAN_PG_BIN PG_CONFIG=$DEBIAN_PG_BIN/pg_config
	else
		server_use_copy "$1" >/dev/null # built and reported before the suites
	fi
}

# Whether suite $1 is selected (SUITES).
suite() {
	case " $SUITES " in *" $1 "*) return 0 ;; esac
	return 1
}

# Every selected suite of one server, each timed.
run_server_suites() {
	case " $BROKEN_SERVERS " in *" $1 "*) tally "server build" 0 1 1; return ;; esac
	use_server "$1" || { tally "server build" 0 1 1; return; }
	if ! timed "$SERVER: build pg_assoc" build_and_install "$TOP"; then
		tally build 0 1 1
		return
	fi
	trap stop_cluster EXIT
	if ! start_cluster; then
		tally "cluster start" 0 1 1
		stop_cluster
		trap - EXIT
		check_server_logs
		return
	fi
	suite regress && timed "$SERVER: regress" run_pg_regress regress installcheck-regress \
		"$RUN_DIR/src/regression.diffs"
	suite isolation && timed "$SERVER: isolation" run_pg_regress isolation \
		installcheck-isolation "$RUN_DIR/src/output_iso/regression.diffs"
	suite tap && timed "$SERVER: tap" run_tap
	suite clients && timed "$SERVER: clients" run_clients
	[ "$SERVER" = asan15 ] && suite sqlsmith && timed "$SERVER: sqlsmith" run_sqlsmith
	stop_cluster
	trap - EXIT
	check_server_logs
}

# One server's suites and its line in the counts per server.
run_server() {
	SERVER=$1 SERVER_PASSED=0 SERVER_FAILED=0
	run_server_suites "$1"
	SERVER_COUNTS="$SERVER_COUNTS$(printf '%-10s %5d passed, %d failed' "$1" "$SERVER_PASSED" "$SERVER_FAILED")
"
}

for s in $SERVERS; do
	run_server "$s"
done

SERVER="" RUN_DIR=$BASE_RUN_DIR/$(echo "$SERVERS" | awk '{print $1}')
unset ASAN_OPTIONS UBSAN_OPTIONS
suite fuzz && timed "fuzz" run_fuzz
suite format && run_format
suite layers && run_layers
suite release && timed "release" run_release
# Last: the package takes over the library make install put in Debian's
# server, and its purge removes it.
if suite package; then
	case " $SERVERS " in
		*" debian15 "*) timed "package" run_package ;;
		*) echo "== package: skipped (it tests Debian's server: SERVERS has no debian15)" ;;
	esac
fi

echo "== timings"
printf '%s' "$TIMINGS" | sed 's/^/   /'
echo "== counts per server"
printf '%s' "$SERVER_COUNTS" | sed 's/^/   /'
[ -z "$FAILED_SUITES" ] || echo "failed suites:$FAILED_SUITES"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
