#!/usr/bin/env bash
# Benchmark: assoc.search with its indexes at two sizes, deep paging, the
# cost of count, and what the term index costs set_multi.
#
#   bash test/bench/search_bench.sh          (as root; about 8 minutes)
#   SMALL=1 bash test/bench/search_bench.sh  (10k and 100k records; a check)
#
# Environment: SIZES (records of namespace 'big' in phase A and phase B,
# default "100000 1000000"; namespace 'other' holds as many), REPS (timed
# calls per search and phase, default 30), DURATION (seconds per pgbench
# run, default 20), ROUNDS (default 3), CLIENTS (default "2 8"),
# SHARED_BUFFERS (default 2GB).  Its own cluster: RUN_DIR=
# /tmp/pg_assoc-bench-search, PGPORT=54339 unless set.
#
# shared_buffers is 2GB, as in assockey_bench.sh, so that the table and
# its indexes stay in PostgreSQL's buffers at 1M + 1M records (about
# 1.5 GB) as they do at 100k + 100k.  With the default 128MB, the 1M
# heap (890 MB) does not fit: the deep-paging and count calls, touching
# 20k-100k heap pages, evict the pages the selective searches read, which
# then come from the OS cache (the 80 heap pages of a term search: 0.6 ms
# read, 0.04 ms in the buffers); one run measured the term and keys
# searches 1.95x and 1.77x slower at 1M than at 100k that way (filter
# 1.46x), against 1.51-1.56x with 2GB.
#
# Documents of about 400 bytes (search_setup.sql): a few strings, numbers,
# a status, a tags array, two keys (user:<i>, team:<...>).  Loaded directly
# into assoc.records as superuser, in 'big' and, alike, in 'other'.
# Phase A: SIZE_A records in each; the two optional indexes are created
#   records_search_idx  gin (assoc.search_vector(data, 'simple'))   term
#   records_data_idx    gin (data jsonb_path_ops)                   filter
# (records_keys_idx, the extension's, serves keys), VACUUM ANALYZE, then
# the searches are timed.  Phase B grows both namespaces to SIZE_B (the
# two indexes dropped for the load and created again), VACUUM ANALYZE, and
# times the same searches again.
#
# Searches, all first pages of page_size 10 unless said, each timed REPS
# times in one session (PL/pgSQL, clock_timestamp around each call; the
# selective kinds first, then the large ones, each group interleaved, its
# order rotated per pass, after two warm-up passes):
#   term, filter, keys  selective: a word (zq42), a value ($.sku == "S-77")
#       and a key ({team:a123}) that exactly 50 records of 'big' carry at
#       both sizes (only phase A's records carry them; 'other' has its own
#       50).  Target: the median at SIZE_B at most 1.5x the one at SIZE_A.
#   deep paging  $.band == "b1" (SIZE_A / 5 matches at both sizes),
#       order_by score: page 1; page DEEP (1000, or SIZE_A / 100 if less)
#       with page => DEEP; page DEEP with after => the token of page
#       DEEP - 1.  That token is reached by following next with pages of
#       up to 1000 rows (a token names the row to continue after, not a
#       page size), and page DEEP through after is checked equal to page
#       DEEP through page.  Target: after at most 2x page 1.
#   count  $.grp == "g0", matching 100k records of 'big' at SIZE_B (and
#       SIZE_A / SIZE_B as many at SIZE_A), against SELECT count(*) of the
#       same condition as superuser.
# Every plan is printed (the scan and index lines of search_explain).
#
# Then, between the phases (SIZE_A records): assoc.set_multi, 3 entries
# (two numbers, one string) on random records of 'other' (so that 'big'
# stays as loaded for phase B), pgbench -M prepared, assoc.notify = off,
# with and without the term index, the two alternating (with/without,
# then without/with, ...) ROUNDS times per client count, each run after a
# CHECKPOINT.  records_data_idx is dropped
# for these runs, so that the term index is the only index on data: the
# tables show median TPS and the share of HOT updates
# (pg_stat_user_tables, counters reset before each run).
set -u
RUN_DIR=${RUN_DIR:-/tmp/pg_assoc-bench-search}
PGPORT=${PGPORT:-54339}
. "$(dirname "$0")/lib.sh"
if [ "${SMALL:-0}" = 1 ]; then
	SIZES=${SIZES:-"10000 100000"}
	REPS=${REPS:-10}
	DURATION=${DURATION:-5}
	ROUNDS=${ROUNDS:-2}
fi
SIZES=${SIZES:-"100000 1000000"}
REPS=${REPS:-30}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-"2 8"}
SHARED_BUFFERS=${SHARED_BUFFERS:-2GB}
PGBENCH=$PG_BIN/pgbench
OPTS="-c assoc.notify=off"
START=$(date +%s)

read -r A B <<<"$SIZES"
[ -n "${B:-}" ] && [ "$B" -gt "$A" ] || die "SIZES must be two sizes, the second larger"
[ $((A % 50)) = 0 ] && [ $((A / 50)) -gt 123 ] || die "the first size must be a multiple of 50, at least 6200"
R=$((A / 50))                          # a rare value: i % R, on 50 records
M=$((B / 100000)); [ "$M" -ge 1 ] || M=1 # grp: B / M records per value
DEEP=$((A / 100)); [ "$DEEP" -le 1000 ] || DEEP=1000

# size N: 100000 -> 100k, 1000000 -> 1M.
size() {
	if [ $(($1 % 1000000)) = 0 ]; then echo "$(($1 / 1000000))M"
	elif [ $(($1 % 1000)) = 0 ]; then echo "$(($1 / 1000))k"
	else echo "$1"; fi
}
declare -A BUILD
elapsed() { echo "$(($(date +%s) - START))s"; }
psql_file() { as_user psql -X -q -v ON_ERROR_STOP=1 "$@"; }

bench_setup
mkdir -p "$LOGS" && chown "$PG_USER" "$LOGS"
# Memory for the index builds, and shared buffers that hold the table and
# its indexes at SIZE_B (about 1.5 GB at 1M + 1M records).
sql "ALTER SYSTEM SET maintenance_work_mem = '512MB'" >/dev/null
sql "ALTER SYSTEM SET shared_buffers = '$SHARED_BUFFERS'" >/dev/null
as_user "$PG_BIN/pg_ctl" -D "$RUN_DIR/data" -l "$RUN_DIR/server.log" -w restart >/dev/null ||
	die "the cluster did not restart"
echo "== SIZES=\"$A $B\" REPS=$REPS DURATION=${DURATION}s ROUNDS=$ROUNDS CLIENTS=\"$CLIENTS\"; synchronous_commit = $(sql 'SHOW synchronous_commit'), shared_buffers = $(sql 'SHOW shared_buffers')"
psql_file -f "$BDIR/search_setup.sql" || die "setup failed"

# load LO HI: records LO..HI of both namespaces.
load() {
	local t0
	t0=$(date +%s)
	psql_file -v lo="$1" -v hi="$2" -v a="$A" -v r="$R" -v m="$M" -f "$BDIR/search_load.sql" ||
		die "load failed"
	echo "   loaded records $1..$2 of 'big' and 'other' in $(($(date +%s) - t0))s"
}
# create_index NAME: one of the two optional indexes; prints its build time.
create_index() {
	local t0 def
	t0=$(date +%s%N)
	case $1 in
	records_search_idx) def="gin (assoc.search_vector(data, 'simple'))" ;;
	records_data_idx) def="gin (data jsonb_path_ops)" ;;
	esac
	sql "CREATE INDEX $1 ON assoc.records USING $def" >/dev/null || return 1
	echo "$1 $(( ($(date +%s%N) - t0) / 1000000 ))"
}
# build PHASE: both optional indexes, their build times in BUILD.
build() {
	local i n t
	for i in records_search_idx records_data_idx; do
		read -r n t <<<"$(create_index $i)"
		[ -n "$t" ] || die "CREATE INDEX $i failed"
		BUILD[$1,$n]=$t
	done
}
drop_index() { sql "SET client_min_messages = warning; DROP INDEX IF EXISTS assoc.$1" >/dev/null; }
# describe PHASE: sizes of the table and its indexes.
describe() {
	sql "SELECT format('   %s: records %s (big %s), heap %s, avg jsonb %s bytes; indexes: %s', '$1',
	       (SELECT count(*) FROM assoc.records), (SELECT count(*) FROM assoc.records WHERE ns = 'big'),
	       pg_size_pretty(pg_table_size('assoc.records')),
	       (SELECT round(avg(pg_column_size(data))) FROM assoc.records WHERE ns = 'big'),
	       (SELECT string_agg(format('%s %s', c.relname, pg_size_pretty(pg_relation_size(c.oid))), ', ' ORDER BY c.relname)
	          FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	         WHERE i.indrelid = 'assoc.records'::regclass))"
}
# measure PHASE SIZE: plans, then the timed searches.
measure() {
	local k
	echo "== phase $1 ($(size "$2") records in 'big'): timing $REPS calls per search ($(elapsed))"
	sql "CALL public.sb_measure('$1', $2, $REPS, $DEEP)" || die "measuring failed"
	sql "SELECT format('   check: %s: %s', what, CASE WHEN ok THEN 'ok' ELSE 'FAILED' END) FROM public.sb_checks WHERE phase = '$1'"
	echo "   plans (the lines that find and filter the matches; the full plan of term once):"
	if [ "$1" = A ]; then
		sql "SELECT '      | ' || l FROM public.sb_explain('term', $DEEP, NULL) l"
	fi
	for k in term filter keys deep_p1 deep_page deep_after count_search count_plain; do
		echo "     $k:"
		sql "SELECT '      ' || regexp_replace(l, '^\s*(->\s*)?', '')
		       FROM public.sb_explain('$k', $DEEP, (SELECT tok FROM public.sb_tokens WHERE phase = '$1')) l
		      WHERE l ~ 'Scan on records( r_1)?$|Seq Scan|Bitmap Index Scan|Cond: \((assoc|data|keys)|Filter|Bitmap(And|Or)'"
	done
}

echo "== phase A: $(size "$A") records in each namespace ($(elapsed))"
load 1 "$A"
build A
sql "VACUUM ANALYZE assoc.records" >/dev/null
describe A
echo "   index builds: search ${BUILD[A,records_search_idx]} ms, data ${BUILD[A,records_data_idx]} ms"
measure A "$A"

# ---- set_multi with and without the term index (SIZE_A records) ----
echo "== set_multi TPS with and without records_search_idx (random records of $(size "$A") in 'other'; records_data_idx dropped) ($(elapsed))"
drop_index records_data_idx
sql "VACUUM ANALYZE assoc.records" >/dev/null
declare -A TPS UPD HOT
# run CONFIG CLIENTS ROUND: one pgbench run; prints TPS, updates, HOT updates.
run() {
	local cfg=$1 c=$2 r=$3 log j tps
	log=$LOGS/$cfg-c$c-r$r.log
	j=$((c < 2 ? c : 2))
	sql 'CHECKPOINT' >/dev/null
	sql "SELECT pg_stat_reset_single_table_counters('assoc.records'::regclass)" >/dev/null
	if ! as_user env PGOPTIONS="$OPTS" "$PGBENCH" -n -M prepared -c "$c" -j "$j" -T "$DURATION" \
		-D size="$A" -f "$BDIR/search_set.sql" >"$log" 2>&1; then
		cat "$log" >&2
		die "pgbench $cfg failed"
	fi
	grep -q '^number of failed transactions: 0 ' "$log" || { cat "$log" >&2; die "pgbench $cfg reported failed transactions"; }
	tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log")
	sleep 1 # the pgbench sessions' statistics, sent as they exit
	echo "$tps $(sql "SELECT n_tup_upd || ' ' || n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'assoc.records'::regclass")"
}
have_idx=1 # phase A created it
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then cfgs="with without"; else cfgs="without with"; fi
	for cfg in $cfgs; do
		if [ "$cfg" = with ] && [ "$have_idx" = 0 ]; then
			create_index records_search_idx >/dev/null || die "CREATE INDEX failed"; have_idx=1
		elif [ "$cfg" = without ] && [ "$have_idx" = 1 ]; then
			drop_index records_search_idx; have_idx=0
		fi
		for c in $CLIENTS; do
			read -r t u h <<<"$(run "$cfg" "$c" "$r")"
			[ -n "$t" ] || die "no TPS for $cfg"
			TPS[$cfg,$c]="${TPS[$cfg,$c]:-} $t"
			UPD[$cfg,$c]=$((${UPD[$cfg,$c]:-0} + u))
			HOT[$cfg,$c]=$((${HOT[$cfg,$c]:-0} + h))
			printf '   clients %s round %s %-7s %8.1f tps  %7d updates, %7d HOT\n' "$c" "$r" "$cfg" "$t" "$u" "$h"
		done
	done
done

# ---- phase B ----
echo "== phase B: growing both namespaces to $(size "$B") records ($(elapsed))"
drop_index records_search_idx
drop_index records_data_idx
load $((A + 1)) "$B"
build B
sql "VACUUM ANALYZE assoc.records" >/dev/null
describe B
echo "   index builds: search ${BUILD[B,records_search_idx]} ms, data ${BUILD[B,records_data_idx]} ms"
measure B "$B"

# ---- results ----
declare -A MED CNT
while IFS='|' read -r p k med n; do
	MED[$p,$k]=$med
	CNT[$p,$k]=$n
done < <(sql "SELECT phase, kind, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2),
                     CASE WHEN min(n) = max(n) THEN min(n)::text ELSE min(n) || '-' || max(n) END
                FROM public.sb_times GROUP BY phase, kind")
SA=$(size "$A"); SB=$(size "$B")
MISSED=0
# verdict VALUE LIMIT: "ok" when VALUE <= LIMIT, else "MISSED" (and MISSED=1).
verdict() {
	if awk -v v="$1" -v l="$2" 'BEGIN { exit !(v <= l) }'; then V=ok; else V=MISSED; MISSED=1; fi
}

echo
echo "== results: median ms of $REPS calls in one session; $SA and $SB records in 'big', as many in 'other'"
echo
echo "| search (first page of 10) | index | matches at $SA / $SB | $SA | $SB | $SB / $SA (target ≤ 1.5) |"
echo "|---|---|---:|---:|---:|---:|"
for k in term filter keys; do
	# shellcheck disable=SC2016
	case $k in
	term) label='term `zq42`'; idx='`records_search_idx`' ;;
	filter) label='filter `$.sku == "S-77"`'; idx='`records_data_idx`' ;;
	keys) label='keys `{team:a123}`'; idx='`records_keys_idx`' ;;
	esac
	x=$(ratio "${MED[B,$k]}" "${MED[A,$k]}")
	verdict "$x" 1.5
	echo "| $label | $idx | ${CNT[A,$k]} / ${CNT[B,$k]} | ${MED[A,$k]} | ${MED[B,$k]} | $x $V |"
done
echo
echo "| deep paging: \`\$.band == \"b1\"\`, order_by \`score\`, page_size 10 | matches | page 1 | page $DEEP by \`page\` | page $DEEP by \`after\` | \`after\` / page 1 (target ≤ 2) | \`page\` / page 1 |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for p in A B; do
	[ $p = A ] && s=$SA || s=$SB
	xa=$(ratio "${MED[$p,deep_after]}" "${MED[$p,deep_p1]}")
	xp=$(ratio "${MED[$p,deep_page]}" "${MED[$p,deep_p1]}")
	verdict "$xa" 2
	echo "| $s records | ${CNT[$p,deep_p1]} | ${MED[$p,deep_p1]} | ${MED[$p,deep_page]} | ${MED[$p,deep_after]} | $xa $V | $xp |"
done
echo
echo "| count: \`\$.grp == \"g0\"\` | matches | \`assoc.search\` (page 1 and count) | \`SELECT count(*)\` | search / count(*) |"
echo "|---|---:|---:|---:|---:|"
for p in A B; do
	[ $p = A ] && s=$SA || s=$SB
	echo "| $s records | ${CNT[$p,count_search]} | ${MED[$p,count_search]} | ${MED[$p,count_plain]} | $(ratio "${MED[$p,count_search]}" "${MED[$p,count_plain]}") |"
done
echo
echo "| clients | \`set_multi\` with \`records_search_idx\` (TPS) | without (TPS) | with / without | HOT updates with | HOT updates without |"
echo "|---:|---:|---:|---:|---:|---:|"
for c in $CLIENTS; do
	# shellcheck disable=SC2086
	{ mw=$(median ${TPS[with,$c]}); mo=$(median ${TPS[without,$c]}); }
	hw=$(awk -v h="${HOT[with,$c]}" -v u="${UPD[with,$c]}" 'BEGIN { printf "%.0f %%", u ? 100 * h / u : 0 }')
	ho=$(awk -v h="${HOT[without,$c]}" -v u="${UPD[without,$c]}" 'BEGIN { printf "%.0f %%", u ? 100 * h / u : 0 }')
	printf '| %s | %.0f | %.0f | %s | %s | %s |\n' "$c" "$mw" "$mo" "$(ratio "$mw" "$mo")" "$hw" "$ho"
done
echo
echo "(set_multi: random records of $(size "$A") in 'other', median of $ROUNDS runs of ${DURATION}s, pgbench -M prepared, records_data_idx absent.)"
echo "Index builds: records_search_idx ${BUILD[A,records_search_idx]} ms at $SA+$SA records, ${BUILD[B,records_search_idx]} ms at $SB+$SB;" \
	"records_data_idx ${BUILD[A,records_data_idx]} ms and ${BUILD[B,records_data_idx]} ms."
sql "SELECT format('Checks: %s', string_agg(format('phase %s %s: %s', phase, what, CASE WHEN ok THEN 'ok' ELSE 'FAILED' END), '; ' ORDER BY phase)) FROM public.sb_checks"
echo
echo "== all samples (TPS):"
for c in $CLIENTS; do
	for cfg in with without; do
		echo "   clients $c $cfg:${TPS[$cfg,$c]} (updates ${UPD[$cfg,$c]}, HOT ${HOT[$cfg,$c]})"
	done
done
echo "== pgbench logs in $LOGS; total $(elapsed)"
for k in term filter keys; do
	[ "${CNT[A,$k]}" = 50 ] && [ "${CNT[B,$k]}" = 50 ] || die "the $k search did not match 50 records at both sizes"
done
[ "$(sql 'SELECT count(*) FROM public.sb_checks WHERE NOT ok')" = 0 ] || die "a check failed"
[ "$MISSED" = 0 ] || echo "== a target was missed"
exit 0
