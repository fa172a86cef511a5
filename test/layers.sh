#!/usr/bin/env bash
# The layer check: bash test/layers.sh  (from the repository root, after a
# build; test/run.sh runs it as the suite "layers")
#
# src/ reads top-down (README, "How the code is organised"): each file calls
# only downward, so neither graph below may have a cycle.  Fails, naming
# what is wrong, when
#   (a) the #include graph between src/ files has a cycle,
#   (b) the object graph has one: an undefined symbol of A.o that B.o
#       defines is an edge A -> B,
#   (c) a src/*.c or src/*.h file is longer than MAX_LINES (800),
#   (d) a header under src/ includes postgres.h (each .c file includes it
#       first, itself), or
#   (e) an external symbol defined in src/*.o lacks the prefix "assoc_" and
#       is neither a C function named by the released 0.1.0 install script
#       (src/updates/pg_assoc--0.1.0.sql, kept so that databases still at
#       0.1.0 keep working) nor one PostgreSQL requires (_PG_init,
#       Pg_magic_func, pg_finfo_*).
# Prints both graphs, each file with what it uses, in layer order (a file
# before everything it uses).
set -u
cd "$(dirname "$0")/.." || exit 2
MAX_LINES=${MAX_LINES:-800}
PREFIX=assoc_
NM=${NM:-nm}
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# fail MESSAGE: report one problem and remember that the check failed.
fail() {
	echo "FAILED: $*"
	failed=1
}

# graph NAME EDGES: print the graph in layer order and fail on a cycle.
# EDGES holds "from to" lines; every node also has an edge to itself, so
# a file that uses nothing is listed too.
graph() {
	local name=$1 edges=$2 order
	echo "== $name graph (each file, then what it uses)"
	if ! order=$(tsort "$edges" 2>"$tmp/tsort.err"); then
		fail "the $name graph has a cycle:"
		sed 's/^tsort: /   /' "$tmp/tsort.err"
	fi
	for n in $order; do
		printf '   %-24s -> %s\n' "$n" \
			"$(awk -v n="$n" '$1 == n && $2 != n {print $2}' "$edges" | sort -u | tr '\n' ' ')"
	done
}

# (a) #include "x.h" between files of src/.
: >"$tmp/includes"
for f in src/*.c src/*.h; do
	b=${f#src/}
	echo "$b $b" >>"$tmp/includes"
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" |
		while read -r h; do
			[ -f "src/$h" ] && echo "$b $h"
		done >>"$tmp/includes"
done
graph include "$tmp/includes"

# (b) symbols: an undefined symbol of A.o defined by B.o is an edge A -> B.
objs=$(ls src/*.o 2>/dev/null)
if [ -z "$objs" ]; then
	fail "no src/*.o: build first (make PG_CONFIG=...)"
else
	for o in $objs; do
		b=$(basename "$o")
		"$NM" -g --defined-only "$o" | awk -v b="$b" 'NF == 3 {print $3, b}'
	done | sort -u >"$tmp/defined"
	: >"$tmp/objects"
	for o in $objs; do
		b=$(basename "$o")
		echo "$b $b" >>"$tmp/objects"
		"$NM" -u "$o" | awk '{print $NF}' | sort -u |
			join - "$tmp/defined" | awk -v b="$b" '$2 != b {print b, $2}' >>"$tmp/objects"
	done
	sort -u -o "$tmp/objects" "$tmp/objects"
	graph object "$tmp/objects"

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
