#!/usr/bin/env bash
# Benchmark: the delivery horizon per database (README, "Delivery horizon")
# against another revision's library, side by side in one cluster.
#
#   bash test/bench/horizon_bench.sh [REV]   (as root; REV default 7e49f21,
#                                             the last revision with the
#                                             0.1.0 xmin horizon; ~6 minutes)
#
# Environment: ROUNDS (default 5), DURATION (seconds of pgbench, default
# 15), LAT_N (latency samples, default 100), HOLD_N (samples with an idle
# transaction in another database, default 10), PG_MODULE (node-postgres,
# default test/clients/node_modules/pg of this tree).
#
# Both libraries serve this tree's install script (REV's ignores the
# sequence assoc.feed_clock).  Each round, for each library in turn (the
# order alternates), the library is installed as $libdir/pg_assoc.so, the
# preloaded cluster is restarted, and:
#   tps     pgbench, 8 clients, assoc.set_multi of a 3-entry batch on
#           100k records (store_x.sql, assoc.notify off): the cost of
#           drawing positions and registering writers;
#   free    horizon_latency.js: LAT_N sequential assoc.set calls, each
#           followed by polling assoc.changes every millisecond until the
#           entry arrives: commit-to-delivery latency;
#   held    the same, HOLD_N calls, while another database holds an idle
#           transaction with an xid (entries not delivered within 1 s
#           count as missing).
# Prints each sample, then medians and the tps ratio this tree / REV.
set -u
. "$(dirname "$0")/lib.sh"
REV=${1:-7e49f21}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-15}
LAT_N=${LAT_N:-100}
HOLD_N=${HOLD_N:-10}
PGBENCH=$PG_BIN/pgbench
export PG_MODULE=${PG_MODULE:-$TOP/test/clients/node_modules/pg}

git -C "$TOP" rev-parse --verify -q "$REV^{commit}" >/dev/null || die "unknown revision $REV"
command -v node >/dev/null || die "node is needed for the latency client"
if [ ! -d "$PG_MODULE" ] && [ "$PG_MODULE" = "$TOP/test/clients/node_modules/pg" ]; then
	(cd "$TOP/test/clients" && npm ci --ignore-scripts --silent --no-audit --no-fund) ||
		die "npm ci in test/clients failed"
fi
bench_setup
store_data_setup "ROUNDS=$ROUNDS DURATION=${DURATION}s LAT_N=$LAT_N HOLD_N=$HOLD_N"
sql 'CREATE DATABASE other' >/dev/null

build_before_after "$REV"
trap 'cp "$RUN_DIR/after.so" "$LIBDIR/pg_assoc.so"; stop_cluster' EXIT
echo "== before: $(git -C "$TOP" rev-parse --short "$REV"), after: this tree; $ROUNDS rounds"

# use LIB: install LIB (before|after) and restart the preloaded cluster.
use() {
	cp "$RUN_DIR/$1.so" "$LIBDIR/pg_assoc.so.new" && mv "$LIBDIR/pg_assoc.so.new" "$LIBDIR/pg_assoc.so"
	as_user "$PG_BIN/pg_ctl" -D "$RUN_DIR/data" -w restart -l "$RUN_DIR/server.log" >/dev/null ||
		die "restart failed"
	sql "SELECT assoc.drop_namespace('hz') FROM assoc.namespaces WHERE ns = 'hz'" >/dev/null
	sql "SELECT assoc.create_namespace('hz')" >/dev/null
}

# tps LIB ROUND: one pgbench run; prints its TPS.
tps() {
	local log=$LOGS/$1-r$2.log
	sql 'CHECKPOINT' >/dev/null
	as_user env PGOPTIONS="-c assoc.notify=off" "$PGBENCH" -n -M prepared -c 8 -j 2 \
		-T "$DURATION" -f "$BDIR/store_x.sql" >"$log" 2>&1 || { cat "$log" >&2; die "pgbench failed"; }
	grep -q '^number of failed transactions: 0 ' "$log" || { cat "$log" >&2; die "failed transactions"; }
	sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log"
}

# latency N [HOLD_DB]: prints horizon_latency.js's line.
latency() {
	as_user env PG_MODULE="$PG_MODULE" node "$BDIR/horizon_latency.js" "$1" 1000 ${2:+"$2"} ||
		die "latency client failed"
}

declare -A T FREE HELD MISS
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then order="before after"; else order="after before"; fi
	for lib in $order; do
		use "$lib"
		t=$(tps "$lib" "$r")
		free=$(latency "$LAT_N")
		held=$(latency "$HOLD_N" other)
		T[$lib]="${T[$lib]:-} $t"
		FREE[$lib]="${FREE[$lib]:-} $(awk '{ print $8 }' <<<"$free")"
		h=$(awk '{ print $8 }' <<<"$held")
		[ "$h" = NaN ] || HELD[$lib]="${HELD[$lib]:-} $h"
		MISS[$lib]=$((${MISS[$lib]:-0} + $(awk '{ print $6 }' <<<"$held")))
		printf '   round %s %-6s %8.1f tps | free: %s | held: %s\n' "$r" "$lib" "$t" "$free" "$held"
	done
done

echo
echo "== medians of $ROUNDS rounds (8 clients; latency in ms, commit to assoc.changes)"
echo
echo "| library | set_multi tps | latency, median of round medians | with an idle xid in another database | missing after 1 s (with it) |"
echo "|---|---:|---:|---:|---:|"
for lib in before after; do
	held="none within 1 s"
	# shellcheck disable=SC2086
	[ -z "${HELD[$lib]:-}" ] || held=$(median ${HELD[$lib]})
	# shellcheck disable=SC2086
	printf '| %s | %.0f | %s | %s | %s/%s |\n' "$lib" "$(median ${T[$lib]})" \
		"$(median ${FREE[$lib]})" "$held" "${MISS[$lib]}" $((HOLD_N * ROUNDS))
done
# shellcheck disable=SC2086
echo
echo "tps after/before: $(ratio "$(median ${T[after]})" "$(median ${T[before]})")"
echo "== samples: before tps${T[before]}; after tps${T[after]}"
