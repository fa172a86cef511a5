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
	build_and_install "$TOP"
	trap stop_cluster EXIT
	start_cluster
	as_user psql -X -q -c 'CREATE EXTENSION pg_assoc' >/dev/null
	echo "== $(nproc) cores; $(as_user psql -X -At -c 'SELECT version()')"
}
