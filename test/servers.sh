# Source-built PostgreSQL servers for the test suites; sourced, run as root.
#
#   asan15     PostgreSQL 15 (Debian bookworm's source package) with
#              assertions and AddressSanitizer + UndefinedBehaviorSanitizer,
#              and without lz4 (so the suites also cover a server without it)
#   pg17       PostgreSQL 17 (Debian trixie's source package), optimized,
#              with assertions, and with lz4 as Debian builds it
#   valgrind15 PostgreSQL 15 with assertions and USE_VALGRIND, for
#              make valgrind (on demand only)
#
# Each build lands in $PG_ASSOC_CACHE/<name>-<version>-<hash of the
# configure flags>/install and is reused by every later run on the machine;
# a build is complete only when its "done" stamp exists, so a killed build
# is redone.  Sources come from `apt-get source` through a deb-src entry for
# the Debian archive this machine already uses.

PG_ASSOC_CACHE=${PG_ASSOC_CACHE:-/var/cache/pg_assoc}

# Packages the source builds need (bison and flex: PostgreSQL 17's tarball
# no longer ships generated parsers).
SERVER_PACKAGES="dpkg-dev curl bison flex zlib1g-dev liblz4-dev libreadline-dev sqlsmith"

# Export the sanitizer settings for every process of the asan15 server
# and every program built with its flags (pg_config included, which PGXS
# runs as root).  ASan's reports go to files under $1; gcc's UBSan, linked
# with ASan, writes to stderr whatever log_path says, so the server logs
# are read too (SANITIZER_FAILURES).  Both abort, so a report is also a
# backend crash.  Leak detection is off: frontends leave memory to exit,
# as PostgreSQL intends.
sanitizer_export() {
	export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$1/asan"
	export UBSAN_OPTIONS="print_stacktrace=1:abort_on_error=1:log_path=$1/ubsan"
}

# What in a log marks a failed assertion or a sanitizer report.
SANITIZER_FAILURES='TRAP:|runtime error:|ERROR: AddressSanitizer'

# Source package, suite, configure flags and CFLAGS of one server.
server_recipe() {
	case "$1" in
		asan15)
			SRV_PKG=postgresql-15 SRV_SUITE=bookworm SRV_PINNED=""
			SRV_CONFIGURE="--enable-cassert --enable-debug --enable-tap-tests --without-llvm --without-icu --without-readline"
			SRV_CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
			;;
		pg17)
			SRV_PKG=postgresql-17 SRV_SUITE=trixie
			# When the archive's pool no longer (or not yet) holds the version
			# its Sources index names, this earlier trixie upload, checked
			# against the hash of its .dsc (which lists the hashes of its
			# tarballs, checked by dpkg-source).
			SRV_PINNED=postgresql-17_17.11-0+deb13u1.dsc
			SRV_PINNED_SHA256=bf148ae423a982707c3f60672c3a072ef62b701bd9f5df847d9f4b8c9b3e3b18
			SRV_CONFIGURE="--enable-cassert --enable-debug --enable-tap-tests --with-lz4 --without-llvm --without-icu --without-readline"
			SRV_CFLAGS="-O2 -g"
			;;
		valgrind15)
			SRV_PKG=postgresql-15 SRV_SUITE=bookworm SRV_PINNED=""
			SRV_CONFIGURE="--enable-cassert --enable-debug --enable-tap-tests --without-llvm --without-icu --without-readline"
			SRV_CFLAGS="-O1 -g -DUSE_VALGRIND -fno-omit-frame-pointer"
			;;
		*) echo "unknown server $1"; return 1 ;;
	esac
}

# Fetch the pinned source package $SRV_PINNED into the current directory
# from the pool of the configured Debian archive and unpack it.
server_fetch_pinned() {
	local pool="http://deb.debian.org/debian/pool/main/${SRV_PKG:0:1}/$SRV_PKG" f
	[ -n "$SRV_PINNED" ] || return 1
	curl -fsS -o "$SRV_PINNED" "$pool/${SRV_PINNED//+/%2b}" || return 1
	echo "$SRV_PINNED_SHA256  $SRV_PINNED" | sha256sum -c --quiet || return 1
	for f in $(sed -n '/^Files:/,/^$/p' "$SRV_PINNED" | awk 'NF == 3 {print $3}'); do
		curl -fsS -o "$f" "$pool/${f//+/%2b}" || return 1
	done
	dpkg-source -x "$SRV_PINNED"
}

# Add the deb-src entry (once) and unpack the source of $SRV_PKG from
# $SRV_SUITE under the cache (or the pinned upload when the archive cannot
# serve it); sets SRV_SRC to the unpacked tree and SRV_VERSION.
server_fetch() {
	local list=/etc/apt/sources.list.d/pg-assoc-src.sources dir dsc
	dir="$PG_ASSOC_CACHE/src/$SRV_PKG-$SRV_SUITE"
	if [ ! -f "$dir/.unpacked" ]; then
		if [ ! -f "$list" ]; then
			cat >"$list" <<-EOF
				Types: deb-src
				URIs: http://deb.debian.org/debian
				Suites: bookworm trixie
				Components: main
				Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
			EOF
		fi
		apt-get update -qq >/dev/null || { echo "apt-get update failed"; return 1; }
		rm -rf "$dir" && mkdir -p "$dir" && chown "$PG_USER" "$dir"
		if ! (cd "$dir" && runuser -u "$PG_USER" -- apt-get source -qq "$SRV_PKG/$SRV_SUITE" \
			>"$dir/fetch.log" 2>&1); then
			echo "== apt-get source $SRV_PKG/$SRV_SUITE failed; trying $SRV_PINNED"
			find "$dir" -mindepth 1 -delete
			(cd "$dir" && runuser -u "$PG_USER" -- env SRV_PKG="$SRV_PKG" SRV_PINNED="$SRV_PINNED" \
				SRV_PINNED_SHA256="$SRV_PINNED_SHA256" bash -c "$(declare -f server_fetch_pinned); server_fetch_pinned" \
				>>"$dir/fetch.log" 2>&1) || { cat "$dir/fetch.log"; echo "fetching $SRV_PKG failed"; return 1; }
		fi
		touch "$dir/.unpacked"
	fi
	dsc=$(ls "$dir"/*.dsc | head -n 1)
	SRV_VERSION=$(sed -n 's/^Version: //p' "$dsc")
	SRV_SRC=$(find "$dir" -mindepth 1 -maxdepth 1 -type d | head -n 1)
}

# The commands that build a server, run as the unprivileged user in the
# entry's directory with PGA_SRC, PGA_PREFIX, PGA_CONFIGURE and CFLAGS in
# the environment; their text is part of the cache key.  Out of tree, so one
# unpacked source serves several builds.  Debian's patches install
# libraries under /usr/lib/postgresql/<major>/lib unless libdir names
# "postgres": --libdir keeps them in the prefix.
SERVER_BUILD_SCRIPT='
mkdir -p build && cd build
"$PGA_SRC/configure" --prefix="$PGA_PREFIX" --libdir="$PGA_PREFIX/lib/postgresql" $PGA_CONFIGURE CFLAGS="$CFLAGS"
make -s -j"$(nproc)"
make -s install
make -s -C contrib/pg_prewarm install
'

# Build server $1 unless its cache entry is complete; sets SRV_PREFIX to
# its installation directory (bin/, lib/, share/).  The entry's name holds
# the source version and a hash of the recipe, the build commands and the
# compiler; the unpacked source is kept (not refreshed when the archive
# moves on) until the cache is deleted.  One build at a time per cache
# (flock).  On failure shows the log and returns non-zero.
server_build() {
	local name=$1 key dir log start lock status=0
	server_recipe "$name" || return 1
	mkdir -p "$PG_ASSOC_CACHE" && chown "$PG_USER" "$PG_ASSOC_CACHE"
	exec {lock}>"$PG_ASSOC_CACHE/.lock"
	flock "$lock"
	server_fetch || { exec {lock}>&-; return 1; }
	key=$(printf '%s\n' "$SRV_PKG" "$SRV_CONFIGURE" "$SRV_CFLAGS" "$SERVER_BUILD_SCRIPT" \
		"$(gcc --version | head -n 1)" | sha1sum | cut -c1-10)
	dir="$PG_ASSOC_CACHE/$name-$SRV_VERSION-$key"
	SRV_PREFIX=$dir/install
	if [ ! -f "$dir/done" ]; then
		echo "== building $name ($SRV_PKG $SRV_VERSION) into $dir"
		start=$(date +%s)
		rm -rf "$dir" && mkdir -p "$dir" && chown "$PG_USER" "$dir"
		log=$dir/build.log
		if (cd "$dir" && runuser -u "$PG_USER" -- env ASAN_OPTIONS=detect_leaks=0 \
			PGA_SRC="$SRV_SRC" PGA_PREFIX="$SRV_PREFIX" PGA_CONFIGURE="$SRV_CONFIGURE" CFLAGS="$SRV_CFLAGS" \
			bash -ec "$SERVER_BUILD_SCRIPT") >"$log" 2>&1; then
			echo "$(($(date +%s) - start))" >"$dir/seconds"
			touch "$dir/done"
			echo "== built $name in $(cat "$dir/seconds") s"
		else
			tail -n 60 "$log"
			echo "building $name failed (log: $log)"
			status=1
		fi
	fi
	exec {lock}>&-
	return $status
}

# PL/Proxy for the source-built servers (the scale-out tests,
# test/t/080_proxy.pl, 082_proxy_forward.pl): upstream's 2.11.0 release as
# Debian trixie ships it (its orig tarball from the archive's pool, checked
# against this hash), built with the server's PGXS into the run's copy of
# the server.  The tarball is cached; the build (seconds) is redone per run.
PLPROXY_TARBALL=postgresql-plproxy_2.11.0.orig.tar.gz
PLPROXY_SHA256=9b65d918fc7027a529868a1a30cced974c1fdbf91c0f1d25f757b9f8ec80353f
server_add_plproxy() {
	local tarball="$PG_ASSOC_CACHE/src/$PLPROXY_TARBALL" build="$RUN_DIR/plproxy" log="$RUN_DIR/plproxy.log"
	if [ ! -f "$tarball" ]; then
		mkdir -p "$PG_ASSOC_CACHE/src"
		curl -fsS -o "$tarball.part" \
			"http://deb.debian.org/debian/pool/main/p/postgresql-plproxy/$PLPROXY_TARBALL" &&
			echo "$PLPROXY_SHA256  $tarball.part" | sha256sum -c --quiet &&
			mv "$tarball.part" "$tarball" ||
			{ rm -f "$tarball.part"; echo "fetching $PLPROXY_TARBALL failed"; return 1; }
	fi
	rm -rf "$build" && mkdir -p "$build" && tar -xzf "$tarball" -C "$build" --strip-components=1 &&
		chown -R "$PG_USER" "$build" || return 1
	{ (cd "$build" && runuser -u "$PG_USER" -- make -s PG_CONFIG="$PG_CONFIG") &&
		(cd "$build" && make -s install PG_CONFIG="$PG_CONFIG"); } >"$log" 2>&1 ||
		{ tail -n 30 "$log"; echo "building PL/Proxy failed (log: $log)"; return 1; }
}

# Point the helpers at a copy of server $1's cached installation in
# RUN_DIR/pg (pg_assoc is installed into the copy, never into the cache):
# PG_BIN and PG_CONFIG, and for asan15 the sanitizer settings with
# RUN_DIR/sanitizer as the report directory; PL/Proxy is built into the
# copy when it can be.  Builds the server first if the cache lacks it;
# returns non-zero on failure.
server_use_copy() {
	server_build "$1" || return 1
	cp -a "$SRV_PREFIX" "$RUN_DIR/pg" || return 1
	PG_BIN=$RUN_DIR/pg/bin PG_CONFIG=$RUN_DIR/pg/bin/pg_config
	if [ "$1" = asan15 ]; then
		runuser -u "$PG_USER" -- mkdir -p "$RUN_DIR/sanitizer"
		sanitizer_export "$RUN_DIR/sanitizer"
	fi
	# Without it the scale-out tests say why they skip (test/run.sh).
	server_add_plproxy || echo "== $1: no PL/Proxy, the scale-out tests will skip" >&2
}
