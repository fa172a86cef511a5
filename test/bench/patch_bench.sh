#!/usr/bin/env bash
# Benchmark: assoc.patch against nested jsonb_set/#- and one jsonb_set.
#
#   bash test/bench/patch_bench.sh            (as root; ~5 minutes)
#
# Documents of about 1 KB, 64 KB and 1 MB; batches of 1, 10 and 100
# entries touching random existing paths (9 in 10 set, 1 in 10 erase).
# Each method runs in a PL/pgSQL loop on an in-memory document, the three
# interleaved, SAMPLES times; the table shows median microseconds per call
# and the ratios.  Results of the two methods are checked equal first.
set -u
. "$(dirname "$0")/lib.sh"
SAMPLES=${SAMPLES:-7}
bench_setup
as_user psql -X -q -v ON_ERROR_STOP=1 -v samples="$SAMPLES" -f "$TOP/test/bench/patch_bench.sql"
