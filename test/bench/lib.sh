# Shared set-up for the benchmarks: a dedicated throwaway cluster with the
# current tree built and installed (sourced by test/bench/*.sh, as root).
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$TOP/test/lib.sh"

RUN_DIR=${RUN_DIR:-/tmp/pg_assoc-bench}
export PGPORT=${PGPORT:-54331} PGHOST=$RUN_DIR PGUSER=$PG_USER PGDATABASE=postgres

# Build, install and start; the cluster is stopped when the script exits.
bench_setup() {
	install_packages
	reset_run_dir
	build_and_install "$TOP" || die "building pg_assoc failed"
	trap stop_cluster EXIT
	start_cluster || die "the cluster did not start"
	as_user psql -X -q -c 'CREATE EXTENSION pg_assoc' >/dev/null
	echo "== $(nproc) cores; $(as_user psql -X -At -c 'SELECT version()')"
}

# For the pgbench comparisons (store_bench.sh, notify_bench.sh): after
# bench_setup, the bench directory and a log directory, and the store's
# 100k records of about 1 KB (store_load.sql).
BDIR=$RUN_DIR/src/test/bench
LOGS=$RUN_DIR/pgbench
store_data_setup() {
	mkdir -p "$LOGS" && chown "$PG_USER" "$LOGS"
	echo "== synchronous_commit = $(as_user psql -X -At -c 'SHOW synchronous_commit'); $*"
	echo "== loading"
	as_user psql -X -q -v ON_ERROR_STOP=1 -f "$BDIR/store_load.sql" || die "load failed"
}

# One SQL command as the bench user; prints the result unaligned.
sql() { as_user psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }

# median VALUES...: the median of numbers.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
	print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# at_least A B MIN: A / B followed by ok or MISSED against the target MIN,
# compared unrounded (three decimals when it is missed, so that a miss by a
# hair does not print as the target).
at_least() {
	awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { r = a / b
		if (r >= m) printf "%.2f ok", r; else printf "%.3f MISSED", r }'
}

# For the side-by-side comparisons of two libraries (ab_bench.sh,
# horizon_bench.sh): after bench_setup, $RUN_DIR/after.so is this tree's
# installed library and $RUN_DIR/before.so revision $1's, built from git
# archive; LIBDIR is where the server loads pg_assoc.so from.
build_before_after() {
	LIBDIR=$("$PG_CONFIG" --pkglibdir)
	cp "$LIBDIR/pg_assoc.so" "$RUN_DIR/after.so"
	mkdir -p "$RUN_DIR/before" && git -C "$TOP" archive "$1" | tar -x -C "$RUN_DIR/before"
	chown -R "$PG_USER" "$RUN_DIR/before"
	(cd "$RUN_DIR/before" && as_user make -s PG_CONFIG="$PG_CONFIG" >"$RUN_DIR/before.log" 2>&1) ||
		{ cat "$RUN_DIR/before.log"; die "building $1 failed"; }
	cp "$RUN_DIR/before/pg_assoc.so" "$RUN_DIR/before.so"
}

# pgbench_tps LOG DATABASE SCRIPT CLIENTS: one pgbench run of SCRIPT (in the
# bench directory) for DURATION seconds after a CHECKPOINT, -M prepared,
# with PGOPTIONS=$OPTS; dies if it fails or reports failed transactions;
# prints its TPS.
pgbench_tps() {
	local log=$1 db=$2 script=$3 c=$4 j
	j=$((c < 2 ? c : 2))
	sql 'CHECKPOINT' >/dev/null
	if ! as_user env PGOPTIONS="${OPTS:-}" "$PG_BIN/pgbench" -n -M prepared -c "$c" -j "$j" \
		-T "$DURATION" -f "$BDIR/$script" "$db" >"$log" 2>&1; then
		cat "$log" >&2
		die "pgbench $(basename "$log" .log) failed"
	fi
	if ! grep -q '^number of failed transactions: 0 ' "$log"; then
		cat "$log" >&2
		die "pgbench $(basename "$log" .log) reported failed transactions"
	fi
	sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log"
}

# span NAME C: the lowest and highest sample of method NAME at C clients in
# the caller's associative array TPS ("NAME,C" -> samples).
span() {
	# shellcheck disable=SC2086
	printf '%s\n' ${TPS[$1,$2]} | sort -g | awk 'NR == 1 {lo = $1} {hi = $1}
		END {printf "%.0f–%.0f", lo, hi}'
}

# For the scale-out benchmarks (proxy_bench.sh, move_bench.sh): after
# store_data_setup, a second shard database shard1 with pg_assoc and a
# proxy database whose shards are postgres (0) and shard1 (1),
# notifications off on both; then the SQL on standard input runs in the
# proxy database (placements).
proxy_setup() {
	echo "== shard1 and the proxy"
	sql 'CREATE DATABASE shard1' >/dev/null
	sql 'CREATE DATABASE proxy' >/dev/null
	as_user psql -X -q -d shard1 -c 'CREATE EXTENSION pg_assoc' >/dev/null
	for db in postgres shard1; do
		sql "ALTER DATABASE $db SET assoc.notify = off" >/dev/null
	done
	as_user psql -X -q -v ON_ERROR_STOP=1 -d proxy >/dev/null <<EOF || die "proxy set-up failed"
CREATE EXTENSION plproxy;
CREATE EXTENSION pg_assoc_proxy;
SELECT assoc_proxy.configure(ARRAY['host=$RUN_DIR port=$PGPORT dbname=postgres',
                                   'host=$RUN_DIR port=$PGPORT dbname=shard1']);
EOF
	as_user psql -X -q -v ON_ERROR_STOP=1 -d proxy >/dev/null || die "proxy placements failed"
}
