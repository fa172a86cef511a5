#!/usr/bin/env bash
# The layer check: bash test/layers.sh  (from the repository root, after a
# build; test/run.sh runs it as the suite "layers")
#
# src/ reads top-down (README, "How the code is organised").  Every file
# belongs to a component (x.c, x.h and x.o are component x) and every
# component has a level (LEVELS below, the README's layer table, top layer
# first); a component may use only components of a lower level.  Fails,
# naming what is wrong, when
#   (a) a component uses one of its own level or above -- by #include
#       "x.h" or by symbol (an undefined symbol of A.o that B.o defines is
#       an edge A -> B) -- or a component has no level,
#   (b) the union of both graphs has a cycle (implied by (a); checked on
#       its own, with tsort),
#   (c) a src/*.c or src/*.h file is longer than MAX_LINES (800),
#   (d) a header under src/ includes postgres.h (each .c file includes it
#       first, itself), or
#   (e) an external symbol defined in src/*.o lacks the prefix "assoc_" and
#       is neither a C function named by the released 0.1.0 install script
#       (src/updates/pg_assoc--0.1.0.sql, kept so that databases still at
#       0.1.0 keep working) nor one PostgreSQL requires (_PG_init,
#       Pg_magic_func, pg_finfo_*).
# Prints the graph, each component with what it uses, in layer order (a
# component before everything it uses).
set -u -o pipefail
export LC_ALL=C # sort and join must agree on the order
cd "$(dirname "$0")/.." || exit 2
MAX_LINES=${MAX_LINES:-800}
PREFIX=assoc_
NM=${NM:-nm}
failed=0

# The layers, top first, and within a layer the order its members may use
# each other in (a higher number uses a lower one).  compat is the header
# of version differences, below everything.
LEVELS="
pg_assoc 60
docfuncs 50 assockey_gin 50 assockey_selfuncs 50 namespace 50 store 50
feed 50 channels 50 notify_worker 50 search 50
record 45 maintenance 44 ledger 43 history 43 feed_write 42 horizon 41 notify 40 forward 39 listeners 39
frame 34 rowscan 33 rowaccess 32 stmt 31
search_key 21 search_args 20 assockey_ops 19 assockey 18 patch 17 document 16 rules 15 channel 14
cursor 13 path 12 assockey_parse 11
compat 0
"
level() {
	echo "$LEVELS" | tr ' ' '\n' | awk -v c="$1" 'prev == c {print; exit} {prev = $0}'
}

command -v "$NM" >/dev/null || { echo "FAILED: $NM not found"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fail MESSAGE: report one problem and remember that the check failed.
fail() {
	echo "FAILED: $*"
	failed=1
}

# Edges between components: #include "x.h" ...
: >"$tmp/edges"
for f in src/*.c src/*.h; do
	c=$(basename "${f%.*}")
	echo "$c $c" >>"$tmp/edges"
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
		while read -r h; do
			[ -f "src/$h" ] && echo "$c ${h%.h}"
		done >>"$tmp/edges"
done

# ... and symbols: an undefined symbol of A.o defined by B.o.
objs=$(ls src/*.o 2>/dev/null)
if [ -z "$objs" ]; then
	fail "no src/*.o: build first (make PG_CONFIG=...)"
else
	for o in $objs; do
		[ "${o%.o}.c" -nt "$o" ] && fail "$o is older than ${o%.o}.c: build first"
	done
	for o in $objs; do
		"$NM" -g --defined-only "$o" | awk -v b="$(basename "$o" .o)" 'NF == 3 {print $3, b}'
	done | sort -u >"$tmp/defined" || fail "$NM failed"
	grep -q '^_PG_init ' "$tmp/defined" || fail "no _PG_init among the objects' symbols"
	for o in $objs; do
		b=$(basename "$o" .o)
		"$NM" -u "$o" | awk '{print $NF}' | sort -u |
			join - "$tmp/defined" | awk -v b="$b" '$2 != b {print b, $2}' >>"$tmp/edges"
	done
fi
sort -u -o "$tmp/edges" "$tmp/edges"

# (a) every edge goes to a lower level.
while read -r from to; do
	[ "$from" = "$to" ] && continue
	lf=$(level "$from") lt=$(level "$to")
	[ -n "$lf" ] || { fail "$from has no level in test/layers.sh (LEVELS)"; continue; }
	[ -n "$lt" ] || { fail "$to has no level in test/layers.sh (LEVELS)"; continue; }
	[ "$lf" -gt "$lt" ] || fail "$from (level $lf) uses $to (level $lt): only lower levels"
done <"$tmp/edges"

# (b) no cycle, and the graph in layer order.
echo "== components, each with what it uses (#include and symbols)"
if ! order=$(tsort "$tmp/edges" 2>"$tmp/tsort.err"); then
	fail "the graph has a cycle:"
	sed 's/^tsort: /   /' "$tmp/tsort.err"
fi
for n in $order; do
	printf '   %-18s %3s -> %s\n' "$n" "$(level "$n")" \
		"$(awk -v n="$n" '$1 == n && $2 != n {print $2}' "$tmp/edges" | tr '\n' ' ')"
done

if [ -n "$objs" ]; then
	# (e) the common prefix.
	sed -n "s/.*MODULE_PATHNAME' *, *'\([A-Za-z0-9_]*\)'.*/\1/p" \
		src/updates/pg_assoc--0.1.0.sql | sort -u >"$tmp/released"
	[ -s "$tmp/released" ] || fail "no C function names found in src/updates/pg_assoc--0.1.0.sql"
	awk '{print $1, $2}' "$tmp/defined" | while read -r sym obj; do
		case $sym in
			"$PREFIX"* | _PG_init | Pg_magic_func | pg_finfo_*) continue ;;
		esac
		grep -qx "$sym" "$tmp/released" && continue
		echo "$obj defines $sym"
	done >"$tmp/unprefixed"
	if [ -s "$tmp/unprefixed" ]; then
		fail "external symbols without the prefix \"$PREFIX\" (and not a 0.1.0 C name):"
		sed 's/^/   /' "$tmp/unprefixed"
	fi
	# ... and every C name an install or upgrade script binds is defined.
	cat src/updates/*.sql src/*.sql |
		sed -n "s/.*MODULE_PATHNAME' *, *'\([A-Za-z0-9_]*\)'.*/\1/p" | sort -u |
		while read -r sym; do
			grep -q "^$sym " "$tmp/defined" || echo "$sym"
		done >"$tmp/unbound"
	if [ -s "$tmp/unbound" ]; then
		fail "C names the SQL scripts bind but no object defines:"
		sed 's/^/   /' "$tmp/unbound"
	fi
fi

# (c) file length.
echo "== lines per file (at most $MAX_LINES)"
for f in src/*.c src/*.h; do
	n=$(wc -l <"$f")
	printf '   %5d %s\n' "$n" "$f"
	[ "$n" -le "$MAX_LINES" ] || fail "$f has $n lines, more than $MAX_LINES"
done

# (d) headers do not include postgres.h.
for h in src/*.h; do
	if grep -qE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]postgres\.h[>"]' "$h"; then
		fail "$h includes postgres.h (a .c file includes it first, itself)"
	fi
done

if [ "$failed" = 0 ]; then
	echo "layers: ok"
else
	echo "layers: FAILED"
fi
exit "$failed"
