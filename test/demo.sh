#!/usr/bin/env bash
# The demo command: bash test/demo.sh  (as root)
#
# Installs what it needs, builds and installs pg_assoc, starts a throwaway
# cluster (left running), runs a short psql session that shows the
# extension end to end, and prints the psql line to connect and the
# command to stop the cluster.
#
# Environment: RUN_DIR (default /tmp/pg_assoc-demo), PGPORT (default 54330).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/test/lib.sh"

RUN_DIR=${RUN_DIR:-/tmp/pg_assoc-demo}
export PGPORT=${PGPORT:-54330} PGHOST=$RUN_DIR PGUSER=$PG_USER PGDATABASE=postgres

install_packages
reset_run_dir
build_and_install "$TOP" || die "building pg_assoc failed"
start_cluster || die "the cluster did not start"

echo "== demo session"
as_user psql -X -v ON_ERROR_STOP=1 -f "$TOP/test/demo.sql" || die "demo session failed"

cat <<MSG

The cluster is running.  Connect with:
  runuser -u $PG_USER -- psql -h $RUN_DIR -p $PGPORT -U $PG_USER postgres
  (or over TCP: psql -h 127.0.0.1 -p $PGPORT -U $PG_USER postgres)
Stop it with:
  runuser -u $PG_USER -- $PG_BIN/pg_ctl -D $RUN_DIR/data stop
MSG
