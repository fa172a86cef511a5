#!/usr/bin/env bash
# Long checks run on demand, not in CI (as root):
#
#   bash test/ondemand.sh sqlsmith [QUERIES]   (make sqlsmith)
#       SQLsmith on the assertion and sanitizer server (asan15), default
#       200000 queries, with the setup and crash checks of test/sqlsmith.sh
#   bash test/ondemand.sh valgrind             (make valgrind)
#       the regress suite on PostgreSQL 15 built with assertions and
#       USE_VALGRIND (valgrind15), the server running under Valgrind's
#       memcheck with PostgreSQL's suppressions.  Sanitizers cannot see an
#       overrun inside a palloc chunk (the allocator has Valgrind hooks
#       only); this can.  Fails on any memcheck error.  VALGRIND_REGRESS
#       names a subset of the regress tests ("store feed").
#
# Environment: RUN_DIR (default /tmp/pg_assoc-ondemand), PGPORT (default
# 54332), PG_ASSOC_CACHE (see test/servers.sh).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/test/lib.sh"
. "$TOP/test/servers.sh"

MODE=${1:?usage: ondemand.sh sqlsmith [QUERIES] | valgrind}
RUN_DIR=${RUN_DIR:-/tmp/pg_assoc-ondemand}
export PGPORT=${PGPORT:-54332} PGHOST=$RUN_DIR PGUSER=$PG_USER PGDATABASE=postgres
PACKAGES="$PACKAGES $SERVER_PACKAGES valgrind"

install_packages
reset_run_dir
trap stop_cluster EXIT
case "$MODE" in
	sqlsmith)
		server_use_copy asan15 || die "building asan15 failed"
		build_and_install "$TOP" || die "building pg_assoc failed"
		start_cluster || die "the cluster did not start"
		start=$(date +%s)
		as_user bash "$TOP/test/sqlsmith.sh" "${2:-200000}"
		status=$?
		echo "$(($(date +%s) - start)) s"
		stop_cluster
		if [ -n "$(ls "$RUN_DIR/sanitizer")" ]; then
			head -n 60 "$RUN_DIR"/sanitizer/*
			status=1
		fi
		exit "$status"
		;;
	valgrind)
		server_use_copy valgrind15 || die "building valgrind15 failed"
		build_and_install "$TOP" || die "building pg_assoc failed"
		# start_cluster's initdb and configuration; then the server is
		# restarted under memcheck.
		start_cluster || die "the cluster did not start"
		stop_cluster
		export PGCTLTIMEOUT=600 # pg_ctl stop waits for memcheck's slow exit
		mkdir -p "$RUN_DIR/valgrind" && chown "$PG_USER" "$RUN_DIR/valgrind"
		supp=$SRV_SRC/src/tools/valgrind.supp # of the server's own source
		[ -f "$supp" ] || die "no $supp"
		as_user valgrind --quiet --trace-children=yes --track-origins=yes \
			--read-var-info=yes --num-callers=30 --leak-check=no \
			--suppressions="$supp" --suppressions="$TOP/test/valgrind.supp" --log-file="$RUN_DIR/valgrind/%p.log" \
			"$PG_BIN/postgres" -D "$RUN_DIR/data" >"$RUN_DIR/server.log" 2>&1 &
		ready=0
		for _ in $(seq 600); do
			as_user "$PG_BIN/pg_isready" -q && { ready=1; break; }
			sleep 1
		done
		[ "$ready" = 1 ] || { tail -n 40 "$RUN_DIR/server.log"; die "the server under memcheck did not start"; }
		start=$(date +%s)
		subset=()
		[ -n "${VALGRIND_REGRESS:-}" ] && subset=(REGRESS="$VALGRIND_REGRESS")
		(cd "$RUN_DIR/src" && as_user make -s installcheck-regress PG_CONFIG="$PG_CONFIG" "${subset[@]}")
		status=$?
		echo "regress under memcheck: $(($(date +%s) - start)) s"
		stop_cluster
		# With --quiet a log holds only errors.
		errors=$(grep -lE '^==[0-9]+== +(Invalid|Conditional|Use of uninitialised|Syscall param|Source and destination|Mismatched|Argument|Process terminating)' \
			"$RUN_DIR"/valgrind/*.log 2>/dev/null)
		if [ -n "$errors" ]; then
			for f in $errors; do echo "--- $f"; head -n 80 "$f"; done
			status=1
		else
			echo "memcheck: no error in $(ls "$RUN_DIR"/valgrind | wc -l) process logs"
		fi
		exit "$status"
		;;
	*) die "unknown mode $MODE" ;;
esac
