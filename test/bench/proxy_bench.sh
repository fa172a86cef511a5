#!/usr/bin/env bash
# Benchmark: assoc.set_multi through pg_assoc_proxy (PL/Proxy, two shards)
# against the same call made directly on the shard (README, "Scaling out").
#
#   bash test/bench/proxy_bench.sh          (as root; about 5 minutes)
#
# Environment: DURATION (seconds per pgbench run, default 10), ROUNDS
# (default 3), CLIENTS (default "2 8").
#
# One cluster holds the two shard databases, postgres (namespace 'bench')
# and shard1 ('bench1'), 100k records of about 1 KB each
# (store_load.sql), and the proxy database, whose shards they are.  With
# pgbench -M prepared, random ids, synchronous_commit on, notifications
# off on both shards:
#   d    store_x.sql on the shard: assoc.set_multi('bench', …) directly
#   p    the same script on the proxy: routed to shard 0
#   p2   proxy_x2.sql on the proxy: a random one of 'bench' and 'bench1',
#        so both shards take writes
#   r    proxy_route.sql on the proxy: only the routing function, the
#        proxy's own work before the hop
# interleaved ROUNDS times per client count.  On this two-core machine
# the proxy's backend, the shard's backend and pgbench share the cores:
# this measures the hop's cost, not a speed-up.
set -u
. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-"2 8"}
START=$(date +%s)

PACKAGES="$PACKAGES postgresql-15-plproxy"
bench_setup
store_data_setup "DURATION=${DURATION}s ROUNDS=$ROUNDS CLIENTS=\"$CLIENTS\""

proxy_setup <<'EOF'
SELECT assoc_proxy.place('bench', 0);
SELECT assoc_proxy.place('bench1', 1);
EOF
sed "s/bench/bench1/g" "$BDIR/store_load.sql" >"$LOGS/store_load1.sql"
as_user psql -X -q -v ON_ERROR_STOP=1 -d shard1 -f "$LOGS/store_load1.sql" || die "load of shard1 failed"
[ "$(as_user psql -X -At -d proxy -c "SELECT assoc.version('bench1', 'user/7')")" = 1 ] ||
	die "the proxy does not reach shard1"

# run NAME DATABASE SCRIPT CLIENTS ROUND: one pgbench run; prints its TPS.
run() { pgbench_tps "$LOGS/$1-c$4-r$5.log" "$2" "$3" "$4"; }

declare -A TPS
for c in $CLIENTS; do
	for r in $(seq 1 "$ROUNDS"); do
		for m in d p p2 r; do
			case $m in
			d) t=$(run d postgres store_x.sql "$c" "$r") ;;
			p) t=$(run p proxy store_x.sql "$c" "$r") ;;
			p2) t=$(run p2 proxy proxy_x2.sql "$c" "$r") ;;
			r) t=$(run r proxy proxy_route.sql "$c" "$r") ;;
			esac
			[ -n "$t" ] || die "no TPS for $m"
			TPS[$m,$c]="${TPS[$m,$c]:-} $t"
			printf '   clients %s round %s %-3s %10.1f tps\n' "$c" "$r" "$m" "$t"
		done
	done
done

# Every write went where the directory says: shard1's namespace only there.
on_wrong=$(sql "SELECT count(*) FROM assoc.records WHERE ns = 'bench1'")
[ "$on_wrong" = 0 ] || die "records of bench1 on shard 0"

echo
echo "== results: median TPS of $ROUNDS runs of ${DURATION}s (pgbench -M prepared), range in brackets"
echo
echo "| clients | (d) direct on the shard | (p) through the proxy | (p2) proxy, two shards | p / d | p2 / d | (r) routing only |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for c in $CLIENTS; do
	# shellcheck disable=SC2086
	{ md=$(median ${TPS[d,$c]}); mp=$(median ${TPS[p,$c]}); mp2=$(median ${TPS[p2,$c]}); mr=$(median ${TPS[r,$c]}); }
	printf '| %s | %.0f (%s) | %.0f (%s) | %.0f (%s) | %s | %s | %.0f |\n' "$c" \
		"$md" "$(span d "$c")" "$mp" "$(span p "$c")" "$mp2" "$(span p2 "$c")" \
		"$(ratio "$mp" "$md")" "$(ratio "$mp2" "$md")" "$mr"
done
echo
echo "== took $(($(date +%s) - START)) s"
