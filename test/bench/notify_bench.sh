#!/usr/bin/env bash
# Benchmark: what change notifications cost writers, and how fast they
# reach a listening client (SPEC §5, "Performance").
#
#   bash test/bench/notify_bench.sh          (as root; about 7 minutes)
#
# Environment: DURATION (seconds per pgbench run, default 10), ROUNDS
# (default 3), CLIENTS (default "2 8"), LISTENERS (connections of config c,
# default 50), LAT_N (latency samples per variant, default 2000), LISTENER
# (c, default: notify_listen.c with libpq; node: notify_listen.js with
# node-postgres), PG_MODULE (node-postgres, default
# test/clients/node_modules/pg of this tree).
#
# 100k records of about 1 KB in namespace 'bench' (store_load.sql); the
# write is store_x.sql, assoc.set_multi with a 3-entry batch on a random
# record (pgbench -n -M prepared -c C -j C, synchronous_commit on):
#   off      assoc.notify = off (PGOPTIONS)              library preloaded
#   on1      notify on, 1 listener on the namespace channel   preloaded
#   on50     notify on, LISTENERS listeners on the namespace channel
#   on50r    notify on, LISTENERS listeners, each on one record's channel
#            (records user/1 .. user/LISTENERS)                preloaded
#   offnp    assoc.notify = off             library NOT preloaded
#   direct1  notify on, 1 listener: writers NOTIFY themselves, NOT preloaded
# Listeners are notify_listen.c (libpq) or notify_listen.js (node-postgres),
# consuming and counting every notification; each must receive one per
# feed entry written.  The configs are interleaved per round, each run
# after a CHECKPOINT; the table shows median TPS.  The server is started
# twice: with pg_assoc in shared_preload_libraries (notification worker)
# and without (direct).
#
# Latency (notify_latency.js): one connection makes LAT_N sequential
# set_multi calls on one record, a listener on that record's channel notes
# when each version's notification arrives; commit return -> arrival,
# median and 99th percentile, idle and with 8 pgbench writers running.
set -u
. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-"2 8"}
LISTENERS=${LISTENERS:-50}
LAT_N=${LAT_N:-2000}
LISTENER=${LISTENER:-c}
case $LISTENER in c | node) ;; *) die "LISTENER must be c or node" ;; esac
export PG_MODULE=${PG_MODULE:-$TOP/test/clients/node_modules/pg}
PGBENCH=$PG_BIN/pgbench
START=$(date +%s)

command -v node >/dev/null || die "node is needed for the latency clients"
if [ ! -d "$PG_MODULE" ] && [ "$PG_MODULE" = "$TOP/test/clients/node_modules/pg" ]; then
	(cd "$TOP/test/clients" && npm install --silent --no-audit --no-fund) ||
		die "npm install in test/clients failed"
fi
[ -d "$PG_MODULE" ] || die "node-postgres not found at $PG_MODULE (set PG_MODULE)"
[ "$LISTENERS" -le 80 ] || die "LISTENERS must leave room in max_connections (100)"

bench_setup
# The C listeners, built against the server's libpq (and loading it).
if [ "$LISTENER" = c ]; then
	LIBPQ_DIR=$("$PG_CONFIG" --libdir)
	cc -O2 -Wall -Wextra -I"$("$PG_CONFIG" --includedir)" "$BDIR/notify_listen.c" \
		-L"$LIBPQ_DIR" -Wl,-rpath,"$LIBPQ_DIR" -lpq -o "$RUN_DIR/notify_listen" ||
		die "building notify_listen failed"
fi
store_data_setup "DURATION=${DURATION}s ROUNDS=$ROUNDS CLIENTS=\"$CLIENTS\" LISTENERS=$LISTENERS LAT_N=$LAT_N"
# One record per latency measurement (notify_latency.js).
as_user psql -X -q -v ON_ERROR_STOP=1 -c "INSERT INTO assoc.records (ns, id, data, version)
  SELECT 'bench', 'lat/' || m, data, 1 FROM assoc.records,
         unnest(ARRAY['worker-idle', 'worker-load', 'direct-idle', 'direct-load']) AS m
   WHERE ns = 'bench' AND id = 'user/1'" || die "load failed"
CHAN=$(sql "SELECT assoc.channel('bench')")
[ -n "$CHAN" ] || die "no channel"
RCHANS=$(sql "SELECT string_agg(assoc.channel('bench', 'user/' || i), ',' ORDER BY i)
                FROM generate_series(1, $LISTENERS) AS i")
RIDS="SELECT 'user/' || i FROM generate_series(1, $LISTENERS) AS i"

LPID=""
# start_listeners K OUT [CHANNELS]: K listening connections in the
# background (LPID), on the namespace channel or on CHANNELS.
start_listeners() {
	local k=$1 out=$2 chans=${3:-$CHAN}
	case $LISTENER in
	c) "$RUN_DIR/notify_listen" "$k" "$chans" >"$out" 2>&1 & ;;
	node) node "$BDIR/notify_listen.js" "$k" "$chans" >"$out" 2>&1 & ;;
	*) die "LISTENER must be c or node" ;;
	esac
	LPID=$!
	for _ in $(seq 1 300); do
		grep -q '^ready' "$out" && return 0
		kill -0 "$LPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$out" >&2
	die "listeners did not start"
}
# stop_listeners OUT: let them drain and stop them; sets GOT to their
# "received TOTAL min MIN max MAX bad BAD" line.
stop_listeners() {
	local out=$1
	kill -TERM "$LPID"
	wait "$LPID" || { cat "$out" >&2; die "listeners failed"; }
	LPID=""
	GOT=$(grep '^received' "$out") || { cat "$out" >&2; die "listeners printed no count"; }
}
cleanup() {
	[ -z "$LPID" ] || kill "$LPID" 2>/dev/null
	stop_cluster
}
trap cleanup EXIT

# cpu_ticks PID...: user + system CPU of the processes, in clock ticks.
cpu_ticks() {
	local t=0 p
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}
HZ=$(getconf CLK_TCK)
# pct TICKS: as a percentage of one core over DURATION.
pct() { awk -v t="$1" -v hz="$HZ" -v d="$DURATION" 'BEGIN { printf "%.0f", t / hz / d * 100 }'; }
WPID="" WTICKS=0
# worker_cpu: ticks the notification worker used since the last call.
worker_cpu() {
	local pid t d
	pid=$(sql "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify' LIMIT 1")
	[ -n "$pid" ] || { echo 0; return; }
	t=$(cpu_ticks "$pid")
	if [ "$pid" = "$WPID" ]; then d=$((t - WTICKS)); else d=$t; fi
	WPID=$pid WTICKS=$t
	echo "$d"
}

feed_count() { sql "SELECT count(*) FROM assoc.feed WHERE ns = 'bench'"; }
# Entries of the records that on50r listens to.
record_feed_count() { sql "SELECT count(*) FROM assoc.feed WHERE ns = 'bench' AND id IN ($RIDS)"; }
worker_count() { sql "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'pg_assoc notify'"; }

declare -A TPS CPU DELIV=()
WORKER_SEEN=0
# run CONFIG CLIENTS ROUND: one pgbench run of store_x.sql; sets RUN_TPS
# and RUN_NOTE (notifications delivered per listener / feed entries).
run() {
	local cfg=$1 c=$2 r=$3 log opts="" k=0 lout f0 f1 got min wt bt nt chans="" rf0 rf1 total
	log=$LOGS/$cfg-c$c-r$r.log
	lout=$LOGS/$cfg-c$c-r$r.listen
	case $cfg in
	off | offnp) opts='-c assoc.notify=off' ;;
	on1 | direct1) k=1 ;;
	on50) k=$LISTENERS ;;
	on50r) k=$LISTENERS chans=$RCHANS ;;
	*) die "unknown config $cfg" ;;
	esac
	sql 'CHECKPOINT' >/dev/null
	[ "$k" = 0 ] || start_listeners "$k" "$lout" "$chans"
	worker_cpu >/dev/null
	f0=$(feed_count)
	rf0=$(record_feed_count)
	if ! as_user env PGOPTIONS="$opts" "$PGBENCH" -n -M prepared -c "$c" -j "$c" \
		-T "$DURATION" -f "$BDIR/store_x.sql" >"$log" 2>&1; then
		cat "$log" >&2
		die "pgbench $cfg failed"
	fi
	if ! grep -q '^number of failed transactions: 0 ' "$log"; then
		cat "$log" >&2
		die "pgbench $cfg reported failed transactions"
	fi
	RUN_TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log")
	[ -n "$RUN_TPS" ] || die "no TPS for $cfg"
	RUN_NOTE=""
	if [ "$k" != 0 ]; then
		[ "$(worker_count)" = 0 ] || WORKER_SEEN=1
		[ "$(sql 'SELECT assoc.wait_notified(60000)')" = t ] ||
			echo "   (wait_notified timed out after $cfg)" >&2
		sleep 0.5
		wt=$(worker_cpu)
		# shellcheck disable=SC2046
		bt=$(cpu_ticks $(sql "SELECT pid FROM pg_stat_activity WHERE application_name = 'notify_listen'"))
		nt=$(cpu_ticks "$LPID")
		stop_listeners "$lout"
		got=$GOT
		f1=$(feed_count)
		rf1=$(record_feed_count)
		min=$(awk '{ print $4 }' <<<"$got")
		total=$(awk '{ print $2 }' <<<"$got")
		CPU[$cfg,$c]="${CPU[$cfg,$c]:-} $(pct "$wt"),$(pct "$bt"),$(pct "$nt")"
		if [ "$cfg" = on50r ]; then
			# Each listener gets its own record's entries: check the sum.
			RUN_NOTE="delivered $total/$((rf1 - rf0)) entries of the listened records (bad payloads $(awk '{ print $8 }' <<<"$got")); CPU % of a core: worker $(pct "$wt"), listener backends $(pct "$bt"), $LISTENER listeners $(pct "$nt")"
			[ "$total" -ge $((rf1 - rf0)) ] || DELIV[$cfg,$c]="${DELIV[$cfg,$c]:-} r$r:$total/$((rf1 - rf0))"
		else
			RUN_NOTE="delivered $min/$((f1 - f0)) per listener ($total in all, bad payloads $(awk '{ print $8 }' <<<"$got")); CPU % of a core: worker $(pct "$wt"), listener backends $(pct "$bt"), $LISTENER listeners $(pct "$nt")"
			[ "$min" -ge $((f1 - f0)) ] || DELIV[$cfg,$c]="${DELIV[$cfg,$c]:-} r$r:$min/$((f1 - f0))"
		fi
	fi
}

# rounds CONFIGS...: ROUNDS interleaved rounds of the configs per client count.
rounds() {
	local c r cfg
	for c in $CLIENTS; do
		for r in $(seq 1 "$ROUNDS"); do
			for cfg in "$@"; do
				run "$cfg" "$c" "$r"
				TPS[$cfg,$c]="${TPS[$cfg,$c]:-} $RUN_TPS"
				printf '   clients %s round %s %-7s %8.1f tps  %s\n' "$c" "$r" "$cfg" "$RUN_TPS" "$RUN_NOTE"
			done
		done
	done
}

# warm_up: a short unmeasured run after a (re)start, to fill the caches.
warm_up() {
	as_user "$PGBENCH" -n -M prepared -c 2 -j 2 -T 5 -f "$BDIR/store_x.sql" \
		>"$LOGS/warmup-$1.log" 2>&1 || { cat "$LOGS/warmup-$1.log" >&2; die "warm-up failed"; }
}

declare -A LAT
# latency VARIANT LOAD(0|1): notify_latency.js on record lat/VARIANT,
# optionally while 8 pgbench clients write.
latency() {
	local variant=$1 load=$2 bpid="" out=$LOGS/latency-$1.txt
	if [ "$load" = 1 ]; then
		as_user "$PGBENCH" -n -M prepared -c 8 -j 8 -T 900 -f "$BDIR/store_x.sql" \
			>"$LOGS/latency-$variant-load.log" 2>&1 &
		bpid=$!
		sleep 3
	fi
	node "$BDIR/notify_latency.js" "$LAT_N" "lat/$variant" >"$out" 2>&1 ||
		{ cat "$out" >&2; die "latency $variant failed"; }
	if [ -n "$bpid" ]; then
		sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		     WHERE application_name = 'pgbench'" >/dev/null
		wait "$bpid" 2>/dev/null
		sleep 1
	fi
	LAT[$variant]=$(grep '^n ' "$out")
	[ -n "${LAT[$variant]}" ] || { cat "$out" >&2; die "latency $variant printed nothing"; }
	echo "   $variant: ${LAT[$variant]}"
}

# --- 1. library preloaded: the notification worker sends ---
echo "== server start 1: shared_preload_libraries = '$(sql 'SHOW shared_preload_libraries')'"
warm_up preloaded
rounds off on1 on50 on50r
echo "   'pg_assoc notify' worker seen in pg_stat_activity: $([ "$WORKER_SEEN" = 1 ] && echo yes || echo no)"
echo "== latency, worker mode ($LAT_N sequential set_multi, listener on the record channel)"
latency worker-idle 0
latency worker-load 1

# --- 2. library not preloaded: writers NOTIFY themselves ---
echo "== restarting without shared_preload_libraries"
echo "shared_preload_libraries = ''" >>"$RUN_DIR/data/postgresql.conf"
as_user "$PG_BIN/pg_ctl" -D "$RUN_DIR/data" -l "$RUN_DIR/server.log" -m fast -w restart >/dev/null ||
	{ tail -20 "$RUN_DIR/server.log"; die "restart failed"; }
echo "== server start 2: shared_preload_libraries = '$(sql 'SHOW shared_preload_libraries')'"
warm_up direct
WORKER_SEEN=0
rounds offnp direct1
echo "   'pg_assoc notify' worker seen in pg_stat_activity: $([ "$WORKER_SEEN" = 1 ] && echo yes || echo no)"
echo "== latency, direct mode"
latency direct-idle 0
latency direct-load 1

field() { awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$1"; }

declare -A NAME=(
	[off]="(a) notify off"
	[on1]="(b) notify on, 1 listener"
	[on50]="(c) notify on, $LISTENERS listeners"
	[on50r]="(c') notify on, $LISTENERS listeners on $LISTENERS record channels"
	[offnp]="(a') notify off, not preloaded"
	[direct1]="(d) direct NOTIFY, 1 listener, not preloaded"
)
echo
echo "== results: median TPS of $ROUNDS runs of ${DURATION}s (set_multi, 3 entries, 100k records;" \
	"pgbench -M prepared, synchronous_commit on)"
echo
echo "| clients | config | TPS median | vs (a) notify off | vs notify off, same server start |"
echo "|---:|---|---:|---:|---:|"
MISSED=0
for c in $CLIENTS; do
	# shellcheck disable=SC2086
	{ moff=$(median ${TPS[off,$c]}); mnp=$(median ${TPS[offnp,$c]}); }
	for cfg in off on1 on50 on50r offnp direct1; do
		# shellcheck disable=SC2086
		m=$(median ${TPS[$cfg,$c]})
		case $cfg in offnp | direct1) base=$mnp ;; *) base=$moff ;; esac
		same=$(ratio "$m" "$base")
		mark=""
		# The targets at 8 clients: 0.95 with one listener, 0.90 with 50.
		case $c/$cfg in 8/on1) want=0.95 ;; 8/on50 | 8/on50r) want=0.90 ;; *) want="" ;; esac
		if [ -n "$want" ]; then
			verdict=$(at_least "$m" "$base" "$want")
			same=${verdict% *}
			case $verdict in
			*ok) mark=" ok (≥ $want)" ;;
			*) mark=" MISSED (target ≥ $want)"; MISSED=1 ;;
			esac
		fi
		printf '| %s | %s | %.0f | %s | %s%s |\n' "$c" "${NAME[$cfg]}" "$m" \
			"$(ratio "$m" "$moff")" "$same" "$mark"
	done
done
echo
echo "== CPU of the notification path, median % of one core over each ${DURATION}s run" \
	"(the machine has $(nproc); listener processes run on it too)"
echo
echo "| clients | config | worker | listener backends | $LISTENER listeners |"
echo "|---:|---|---:|---:|---:|"
for c in $CLIENTS; do
	for cfg in on1 on50 on50r direct1; do
		# shellcheck disable=SC2086
		set -- ${CPU[$cfg,$c]:-}
		# shellcheck disable=SC2046
		printf '| %s | %s | %s | %s | %s |\n' "$c" "${NAME[$cfg]}" \
			"$(median $(printf '%s\n' "$@" | cut -d, -f1))" \
			"$(median $(printf '%s\n' "$@" | cut -d, -f2))" \
			"$(median $(printf '%s\n' "$@" | cut -d, -f3))"
	done
done
echo
echo "== commit-to-client latency (ms), $LAT_N sequential set_multi calls, listener on the record channel"
echo
echo "| mode | load | median | p99 | max | received | writer call median |"
echo "|---|---|---:|---:|---:|---:|---:|"
for v in worker-idle worker-load direct-idle direct-load; do
	l=${LAT[$v]}
	case $v in
	worker-*) mode="worker (preloaded)" ;;
	*) mode="direct NOTIFY" ;;
	esac
	case $v in *-load) ld="8 pgbench writers" ;; *) ld="none" ;; esac
	printf '| %s | %s | %s | %s | %s | %s/%s | %s |\n' "$mode" "$ld" "$(field "$l" median)" \
		"$(field "$l" p99)" "$(field "$l" max)" "$(field "$l" got)" "$(field "$l" n)" \
		"$(field "$l" call_median)"
done
echo
if [ ${#DELIV[@]} -eq 0 ]; then
	echo "Delivery: every listener received one notification per feed entry it listens to, in every run."
else
	echo "Delivery: SHORT in some runs (received/feed entries, least-served listener):"
	for key in "${!DELIV[@]}"; do echo "   ${key/,/ clients }:${DELIV[$key]}"; done
fi
echo
echo "== server log lines mentioning pg_assoc or notifications (count, message):"
grep -Ei 'pg_assoc|notif' "$RUN_DIR/server.log" | sed 's/^[0-9-]* [0-9:.]* [A-Z]* \[[0-9]*\] //' |
	sort | uniq -c | sort -rn | head -20
echo
echo "== all samples (TPS):"
for c in $CLIENTS; do
	for cfg in off on1 on50 on50r offnp direct1; do
		echo "   clients $c $cfg:${TPS[$cfg,$c]}"
	done
done
echo "== pgbench logs in $LOGS; server log $RUN_DIR/server.log; total $(($(date +%s) - START))s"
[ "$MISSED" = 0 ] || echo "== a target was missed"
exit 0
