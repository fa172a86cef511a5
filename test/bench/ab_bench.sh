#!/usr/bin/env bash
# Benchmark: this tree's library against another revision's, side by side
# in one cluster, for changes that must not change performance (such as a
# reorganisation of src/).
#
#   bash test/bench/ab_bench.sh [REV]     (as root; REV default HEAD~1;
#                                          about 5 minutes)
#
# Environment: ROUNDS (default 7), CALLS (default 20000).
#
# Both libraries serve the same install script (this tree's), so REV must
# bind the same C names.  The library is not preloaded: each round installs
# one of the two builds as $libdir/pg_assoc.so (a new file, so running
# backends keep theirs) and starts new sessions, which load it.  The order
# alternates every round.  The work is CPU-bound, in transactions rolled
# back, so no commit waits for the disk:
#   set_multi    CALLS assoc.set_multi of a 3-entry batch over 1000 records
#   set_multi+op the same with an op_id per call (the ledger)
#   patch        200 assoc.patch of a 2000-entry batch on a 10000-member
#                document
#   update_by    update_by over 2000 records, 5 times
# Prints each sample, then the medians and after/before ratios.
set -u
. "$(dirname "$0")/lib.sh"
REV=${1:-HEAD~1}
ROUNDS=${ROUNDS:-7}
CALLS=${CALLS:-20000}

git -C "$TOP" rev-parse --verify -q "$REV^{commit}" >/dev/null || die "unknown revision $REV"
bench_setup
# No preloading: a library loaded by the postmaster would serve every round.
echo "shared_preload_libraries = ''" >>"$RUN_DIR/data/postgresql.conf"
as_user "$PG_BIN/pg_ctl" -D "$RUN_DIR/data" -w restart -l "$RUN_DIR/server.log" >/dev/null ||
	die "restart failed"

# The two libraries: REV built from git archive, and this tree's (installed).
build_before_after "$REV"
echo "== before: $(git -C "$TOP" rev-parse --short "$REV"), after: this tree; $ROUNDS rounds"

as_user psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL' || die "setup failed"
SELECT assoc.create_namespace('ab');
SELECT assoc.create('ab', jsonb_build_object('n', i, 'a', 0, 'b', jsonb_build_object('c', 'x')),
                    format('{set:s%s}', i % 2)::assoc.assockey, 'r' || i)
  FROM generate_series(1, 4000) AS i;
CREATE TABLE ab_input AS
SELECT (SELECT jsonb_object_agg('k' || i, i) FROM generate_series(1, 10000) AS i) AS doc,
       (SELECT jsonb_agg(jsonb_build_object('path', 'k' || (i * 5), 'data', -i))
          FROM generate_series(1, 2000) AS i) AS batch;
SQL

# workload NAME: its SQL, run in one new session; prints the milliseconds.
workload() {
	local body
	case "$1" in
		set_multi) body="PERFORM assoc.set_multi('ab', 'r' || (i % 1000),
			'[{\"path\": \"a\", \"data\": 1}, {\"path\": \"b.c\", \"data\": \"y\"},
			  {\"path\": \"d[2]\", \"data\": true}]') FROM generate_series(1, $CALLS) AS i;" ;;
		set_multi+op) body="PERFORM assoc.set_multi('ab', 'r' || (i % 1000),
			'[{\"path\": \"a\", \"data\": 1}]', op_id => 'op' || i)
			FROM generate_series(1, $CALLS) AS i;" ;;
		patch) body="PERFORM assoc.patch(doc, batch) FROM ab_input, generate_series(1, 200);" ;;
		update_by) body="PERFORM count(*) FROM generate_series(1, 5),
			LATERAL assoc.update_by('ab', '{set:s1}', '{\"u\": 1}');" ;;
	esac
	as_user psql -X -q -At -v ON_ERROR_STOP=1 <<SQL
SET assoc.notify = off;
BEGIN;
DO \$\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  $body
  RAISE NOTICE 'ms %', round(extract(epoch FROM clock_timestamp() - t0) * 1000, 1);
END
\$\$;
ROLLBACK;
SQL
}

# use LIB: install before.so or after.so as the library new sessions load.
use() {
	install -m 755 "$RUN_DIR/$1.so" "$LIBDIR/pg_assoc.so.new" && mv "$LIBDIR/pg_assoc.so.new" "$LIBDIR/pg_assoc.so"
}

WORKLOADS="set_multi set_multi+op patch update_by"
declare -A SAMPLES
for round in $(seq "$ROUNDS"); do
	if [ $((round % 2)) = 1 ]; then order="before after"; else order="after before"; fi
	for lib in $order; do
		use "$lib"
		line="round $round $lib:"
		for w in $WORKLOADS; do
			ms=$(workload "$w" 2>&1 | sed -n 's/.*NOTICE:  ms //p')
			[ -n "$ms" ] || die "workload $w failed"
			SAMPLES[$lib/$w]="${SAMPLES[$lib/$w]:-} $ms"
			line="$line $w $ms ms,"
		done
		echo "${line%,}"
	done
done
use after # leave this tree's library installed

echo "== medians (ms) and after / before"
printf '   %-14s %10s %10s %7s\n' workload before after ratio
for w in $WORKLOADS; do
	# shellcheck disable=SC2086 # the samples are a list of numbers
	b=$(median ${SAMPLES[before/$w]}) a=$(median ${SAMPLES[after/$w]})
	printf '   %-14s %10s %10s %7s\n' "$w" "$b" "$a" "$(ratio "$a" "$b")"
done
