# Shared set-up for test/run.sh and test/demo.sh; sourced, run as root.
#
# It installs the packages pg_assoc needs, copies the tree to a directory
# owned by the unprivileged "postgres" user (initdb, postgres, pg_regress
# and prove refuse root or write into the current directory), builds there
# as that user, installs as root, and runs a throwaway cluster on
# 127.0.0.1 with its socket inside the run directory.

DEBIAN_PG_BIN=/usr/lib/postgresql/15/bin
PG_BIN=${PG_BIN:-$DEBIAN_PG_BIN}
PG_CONFIG=$PG_BIN/pg_config
export PG_CONFIG
PG_USER=postgres

# Packages every suite needs (headers and PGXS, the TAP modules, clang for
# the fuzzers, Debian's psycopg for the Python client test, PL/Proxy for
# the scale-out test on Debian's 15).
PACKAGES="postgresql-15 postgresql-server-dev-15 libipc-run-perl clang-14 \
libclang-rt-14-dev clang-format python3-psycopg nodejs npm rsync postgresql-15-plproxy"

die() { echo "error: $*" >&2; exit 1; }

# Run a command as the unprivileged user, keeping the test environment.
as_user() {
	runuser -u "$PG_USER" -- env PATH="$PG_BIN:/usr/local/bin:/usr/bin:/bin" \
		PGHOST="${PGHOST:-}" PGPORT="${PGPORT:-}" PGUSER="${PGUSER:-}" \
		PGDATABASE="${PGDATABASE:-}" HOME="${RUN_DIR:-/tmp}" "$@"
}

# Install missing packages (apt-get update only when something is missing).
install_packages() {
	[ "$(id -u)" = 0 ] || die "run as root: it installs packages and the extension"
	local missing="" p
	for p in $PACKAGES; do
		if [ "$p" = nodejs ] || [ "$p" = npm ]; then
			command -v "${p/nodejs/node}" >/dev/null 2>&1 && continue
		fi
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		echo "== installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >/dev/null || die "apt-get update failed"
		# shellcheck disable=SC2086
		apt-get install -y -qq $missing >/dev/null || die "apt-get install failed"
	fi
	id "$PG_USER" >/dev/null 2>&1 || die "user $PG_USER missing after install"
}

# Stop every cluster a killed run left under RUN_DIR (test/run.sh keeps one
# per server in RUN_DIR/<server>/data, and TAP tests theirs under
# src/tmp_check), then start afresh.  A pid is signalled only while it is
# still that cluster's postmaster: a postgres process whose working
# directory is the data directory (a reused pid is left alone).
reset_run_dir() {
	local pidfile pid data i
	for pidfile in $(find "$RUN_DIR" -maxdepth 7 -name postmaster.pid 2>/dev/null); do
		pid=$(head -n 1 "$pidfile")
		data=$(dirname "$pidfile")
		[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$data" ] || continue
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || continue
		echo "== stopping a stale cluster in $data"
		kill -QUIT "$pid" 2>/dev/null || true # immediate shutdown
		for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	done
	rm -rf "$RUN_DIR"
	mkdir -p "$RUN_DIR"
	chown "$PG_USER" "$RUN_DIR"
}

# copy_tree SRC DEST: the tree SRC without .git, build output or test
# results, as DEST (made to match), owned by the unprivileged user.
copy_tree() {
	rsync -a --delete --exclude .git --exclude '*.o' --exclude '*.so' \
		--exclude '*.bc' --exclude results --exclude tmp_check \
		--exclude output_iso --exclude node_modules \
		--exclude '/pg_assoc--*.*.*.sql' --exclude '/pg_assoc_proxy--*.*.*.sql' --exclude '/build-*' \
		"$1"/ "$2/"
	chown -R "$PG_USER" "$2"
}

# Copy the tree (without .git or build output) to RUN_DIR/src, build it
# there as the unprivileged user and install it as root.  On failure shows
# the log and returns non-zero.
build_and_install() {
	local src="$1"
	copy_tree "$src" "$RUN_DIR/src"
	echo "== building"
	(cd "$RUN_DIR/src" && as_user make -s PG_CONFIG="$PG_CONFIG" WERROR="${WERROR:-}" \
		>"$RUN_DIR/build.log" 2>&1) ||
		{ cat "$RUN_DIR/build.log"; echo "build failed"; return 1; }
	(cd "$RUN_DIR/src" && make -s install PG_CONFIG="$PG_CONFIG" >>"$RUN_DIR/build.log" 2>&1) ||
		{ cat "$RUN_DIR/build.log"; echo "install failed"; return 1; }
}

# initdb and start a cluster in RUN_DIR/data on PGPORT, socket in RUN_DIR;
# on failure shows the log and returns non-zero.
start_cluster() {
	as_user "$PG_BIN/initdb" -D "$RUN_DIR/data" -A trust -U "$PG_USER" \
		--no-sync -E UTF8 --locale=C.UTF-8 >"$RUN_DIR/initdb.log" 2>&1 ||
		{ cat "$RUN_DIR/initdb.log"; echo "initdb failed"; return 1; }
	cat >>"$RUN_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$RUN_DIR'
shared_preload_libraries = 'pg_assoc'
max_connections = 100
CONF
	as_user "$PG_BIN/pg_ctl" -D "$RUN_DIR/data" -l "$RUN_DIR/server.log" -w start >/dev/null ||
		{ tail -n 60 "$RUN_DIR/server.log"; echo "the cluster did not start"; return 1; }
}

stop_cluster() {
	if [ -f "$RUN_DIR/data/postmaster.pid" ]; then
		as_user "$PG_BIN/pg_ctl" -D "$RUN_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}
