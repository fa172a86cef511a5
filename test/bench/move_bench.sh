#!/usr/bin/env bash
# Benchmark: moving a namespace between shards under write load (README,
# "Moving a namespace").
#
#   bash test/bench/move_bench.sh          (as root; about 10 minutes)
#
# Environment: DURATION (seconds per pgbench run, default 60), ROUNDS
# (default 3), CLIENTS (default 4).
#
# One cluster holds the two shard databases, postgres and shard1, and the
# proxy database.  Namespace 'bench' holds 100k records of about 1 KB
# (store_load.sql).  Each round runs, side by side, CLIENTS pgbench
# clients writing through the proxy (store_x_op.sql: set_multi with an
# op_id, retried on 40001) for DURATION seconds
#   without   no move;
#   with      the namespace moved to the other shard 5 seconds in (CALL
#             assoc_proxy.move_namespace, whose reports time each step),
#             its op_id ledger emptied first, so that it carries what the
#             writers add during the run;
# and prints the steps' times, the writers' TPS with and without the move,
# the writes retried (they met the fence) and the longest write.  On this
# two-core machine the move's copying competes with the writers for the
# cores: what matters is how long changes are refused (the final step)
# and that no write fails.
set -u
. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-60}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-4}
START=$(date +%s)

PACKAGES="$PACKAGES postgresql-15-plproxy"
bench_setup
store_data_setup "DURATION=${DURATION}s ROUNDS=$ROUNDS CLIENTS=$CLIENTS"

proxy_setup <<<"SELECT assoc_proxy.place('bench', 0);"

# writers LOG: CLIENTS pgbench clients on the proxy for DURATION seconds,
# each transaction logged (LOG.*); prints "tps retried max_latency_ms".
writers() {
	local log=$1
	sql 'CHECKPOINT' >/dev/null
	if ! as_user "$PG_BIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 -T "$DURATION" \
		--max-tries 1000000 -l --log-prefix="$log" -f "$BDIR/store_x_op.sql" proxy >"$log.out" 2>&1; then
		cat "$log.out" >&2
		die "pgbench $(basename "$log") failed"
	fi
	grep -q '^number of failed transactions: 0 ' "$log.out" || die "writes failed: $(cat "$log.out")"
	printf '%s %s %s\n' "$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log.out")" \
		"$(sed -n 's/^number of transactions retried: \([0-9]*\).*/\1/p' "$log.out")" \
		"$(cat "$log".[0-9]* | awk '$3 + 0 > m {m = $3 + 0} END {printf "%.0f", m / 1000}')"
}

# move TO: CALL assoc_proxy.move_namespace('bench', TO); prints its
# reports, one "step|rows|ms" line each.
move() {
	as_user psql -X -q -v ON_ERROR_STOP=1 -d proxy -c "CALL assoc_proxy.move_namespace('bench', $1)" 2>&1 >/dev/null |
		sed -n 's/^NOTICE:  moving "bench": \(.*\) (\([0-9]*\) rows sent, \([0-9]*\) ms)$/\1|\2|\3/p'
}

# ms STEPS PATTERN: the milliseconds of the reports whose step matches, summed.
ms() { printf '%s\n' "$1" | awk -F'|' -v p="$2" '$1 ~ p { t += $3 } END { printf "%.0f", t }'; }

declare -A R
to=1
for r in $(seq 1 "$ROUNDS"); do
	read -r tps retried longest <<<"$(writers "$LOGS/without-r$r")"
	R[without,$r]=$tps
	printf '   round %s without a move: %10.1f tps, %s retried, longest write %s ms\n' \
		"$r" "$tps" "$retried" "$longest"

	# The ledger the move carries: what the writers add from now on (a
	# week of op_ids, assoc.op_retention, would be far more).
	for db in postgres shard1; do
		as_user psql -X -q -d "$db" -c "DELETE FROM assoc.ops WHERE ns = 'bench'" >/dev/null
	done
	writers "$LOGS/with-r$r" >"$LOGS/with-r$r.result" &
	bench=$!
	sleep 5
	steps=$(move "$to")
	wait "$bench" || die "the writers failed during the move"
	read -r tps retried longest <"$LOGS/with-r$r.result"
	[ -n "$steps" ] || die "the move reported nothing"
	[ "$(as_user psql -X -At -d proxy -c "SELECT shard FROM assoc_proxy.directory WHERE ns = 'bench'")" = "$to" ] ||
		die "the move did not switch"
	[ "$(as_user psql -X -At -d "$([ "$to" = 1 ] && echo postgres || echo shard1)" \
		-c "SELECT count(*) FROM assoc.records WHERE ns = 'bench'")" = 0 ] || die "the old copy is still there"
	R[with,$r]=$tps
	R[final,$r]=$(ms "$steps" '^final')
	R[total,$r]=$(ms "$steps" '.')
	passes=$(printf '%s\n' "$steps" | grep -c '^copy pass')
	R[row,$r]=$(printf '| %s | %s | %.1f | %s: %s | **%s** (%s rows) | %s | %.0f | %.0f | %s | %s | %s ms |' "$r" \
		"$(printf '%s\n' "$steps" | awk -F'|' '$1 ~ /^copy pass 1$/ { print $2 }')" \
		"$(awk -v t="${R[total,$r]}" 'BEGIN { print t / 1000 }')" "$passes" \
		"$(printf '%s\n' "$steps" | awk -F'|' '$1 ~ /^copy pass/ { printf "%s%.1f s", s, $3 / 1000; s = ", " }')" \
		"${R[final,$r]}" "$(printf '%s\n' "$steps" | awk -F'|' '$1 ~ /^final/ { print $2 }')" \
		"$(ms "$steps" '^switched')" "${R[without,$r]}" "$tps" \
		"$(ratio "$tps" "${R[without,$r]}")" "$retried" "$longest")
	printf '   round %s with a move to shard %s: %10.1f tps, %s retried, longest write %s ms; steps: %s\n' \
		"$r" "$to" "$tps" "$retried" "$longest" "$(printf '%s\n' "$steps" | paste -sd';')"
	to=$((1 - to))
done

echo
echo "== results: $ROUNDS rounds of ${DURATION}s, $CLIENTS writers through the proxy, 100k records of 1 KB moved with the ledger of the run"
echo
echo "| round | rows of the first pass | move (s) | passes while serving | final pass: changes refused (ms) | switch, wait, finish (ms) | TPS without | TPS with | with / without | writes retried | longest write |"
echo "|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"
for r in $(seq 1 "$ROUNDS"); do echo "${R[row,$r]}"; done
# shellcheck disable=SC2046
printf '| median | | %.1f | | **%s** | | %.0f | %.0f | %s | | |\n' \
	"$(awk -v t="$(median $(for r in $(seq 1 "$ROUNDS"); do echo "${R[total,$r]}"; done))" 'BEGIN { print t / 1000 }')" \
	"$(median $(for r in $(seq 1 "$ROUNDS"); do echo "${R[final,$r]}"; done))" \
	"$(median $(for r in $(seq 1 "$ROUNDS"); do echo "${R[without,$r]}"; done))" \
	"$(median $(for r in $(seq 1 "$ROUNDS"); do echo "${R[with,$r]}"; done))" \
	"$(ratio "$(median $(for r in $(seq 1 "$ROUNDS"); do echo "${R[with,$r]}"; done))" \
		"$(median $(for r in $(seq 1 "$ROUNDS"); do echo "${R[without,$r]}"; done))")"
echo
echo "== took $(($(date +%s) - START)) s"
