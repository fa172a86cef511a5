# pg_assoc: PGXS build.
#
#   make PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
#   make install
#   make installcheck-regress | installcheck-isolation | installcheck-tap
#   make fuzz FUZZ_SECONDS=60      (libFuzzer targets, clang-14)
#   make sqlsmith | valgrind       (long checks on source-built servers, as root)
#   make format | format-check

# pg_assoc, and pg_assoc_proxy: its API in a PL/Proxy database, each call
# run on the shard of its namespace (README, "Scaling out").
EXTENSION  = pg_assoc pg_assoc_proxy
EXTVERSION = 0.2.0

MODULE_big = pg_assoc
# One C file per component; a component's SQL objects sit beside it in
# src/NAME.sql and are concatenated, in this order, into the install script.
OBJS    = src/pg_assoc.o src/path.o src/document.o src/patch.o src/docfuncs.o src/assockey.o src/assockey_ops.o src/assockey_parse.o src/assockey_gin.o src/assockey_selfuncs.o src/rules.o src/cursor.o src/channel.o src/stmt.o src/rowaccess.o src/rowscan.o src/frame.o src/ledger.o src/history.o src/feed_write.o src/maintenance.o src/notify.o src/listeners.o src/forward.o src/horizon.o src/notify_worker.o src/record.o src/store.o src/namespace.o src/feed.o src/channels.o src/search_args.o src/search_key.o src/search.o
SQL_SRC = src/pg_assoc.sql src/docfuncs.sql src/assockey.sql src/store.sql src/namespace.sql src/feed.sql src/channels.sql src/search.sql

# The install script is generated from src/pg_assoc.sql followed by each
# component's src/NAME.sql; upgrade scripts are committed under src/updates/.
# The proxy's takes the functions that need no table from the same files,
# the routed API generated from pg_assoc (proxy/generate_api.sql), its
# routing and the moves of namespaces between shards.
PROXY_SRC  = proxy/header.sql src/docfuncs.sql src/assockey.sql proxy/api.sql proxy/routing.sql proxy/move.sql
DATA_built = pg_assoc--$(EXTVERSION).sql pg_assoc_proxy--$(EXTVERSION).sql
DATA       = $(wildcard src/updates/*.sql)

REGRESS        = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS   = --inputdir=. --load-extension=pg_assoc
ISOLATION      = $(patsubst test/specs/%.spec,%,$(sort $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --load-extension=pg_assoc
TAP_TESTS      = 1
PROVE_TESTS    = test/t/*.pl
EXTRA_CLEAN    = $(DATA_built) test/fuzz/*_fuzz output_iso tmp_check $(DIST).zip

# libpq: the notification worker forwards to a proxy database (src/forward.c).
PG_CPPFLAGS         = -I$(libpq_srcdir)
SHLIB_LINK_INTERNAL = $(libpq)

PG_CONFIG ?= pg_config
# PostgreSQL's own warning flags plus -Wextra.  The -Wno- flags silence
# warnings that PostgreSQL's own headers and fmgr conventions trigger under
# -Wextra (unused fcinfo, signed/unsigned in header macros).  Warnings are
# fatal where the project checks itself: test/run.sh builds with
# WERROR=-Werror; a distribution's build on a newer compiler keeps them
# warnings.
WERROR    ?=
PG_CFLAGS  = -Wall -Wextra $(WERROR) -Wno-unused-parameter -Wno-sign-compare \
             -Wno-missing-field-initializers
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The release archive PGXN expects (make dist): the committed tree of HEAD
# under pg_assoc-VERSION/ in a zip, META.json at its top.
DIST = pg_assoc-$(EXTVERSION)
.PHONY: dist
dist:
	git archive --format=zip --prefix=$(DIST)/ -o $(DIST).zip HEAD

# Every object depends on every header: a changed struct rebuilds all.
$(OBJS): $(wildcard src/*.h)

pg_assoc--$(EXTVERSION).sql: $(SQL_SRC)
	cat $^ > $@

pg_assoc_proxy--$(EXTVERSION).sql: $(PROXY_SRC)
	cat $^ > $@

# One suite per target, so a failing suite does not hide the others.
.PHONY: installcheck-regress installcheck-isolation installcheck-tap
installcheck-regress:
	$(pg_regress_installcheck) $(REGRESS_OPTS) $(REGRESS)
installcheck-isolation:
	$(pg_isolation_regress_installcheck) $(ISOLATION_OPTS) $(ISOLATION)
installcheck-tap:
	$(prove_installcheck)

# libFuzzer targets for the pure-C parsers (built outside the server).
CLANG      ?= clang-14
FUZZ_FLAGS  = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc
FUZZ_SECONDS ?= 30
FUZZ_TARGETS = $(patsubst %.c,%,$(wildcard test/fuzz/*_fuzz.c))
.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_TARGETS)
test/fuzz/path_fuzz: test/fuzz/path_fuzz.c src/path.c src/path.h
	$(CLANG) $(FUZZ_FLAGS) -o $@ test/fuzz/path_fuzz.c src/path.c
test/fuzz/assockey_fuzz: test/fuzz/assockey_fuzz.c src/assockey_parse.c src/assockey_parse.h
	$(CLANG) $(FUZZ_FLAGS) -o $@ test/fuzz/assockey_fuzz.c src/assockey_parse.c
# Each target runs FUZZ_SECONDS from its committed seeds (test/fuzz/seeds/NAME)
# plus a scratch corpus; a crash, leak or sanitizer report fails the run.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  name=$$(basename $$t); mkdir -p tmp_fuzz/$$name; \
	  $$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	      -artifact_prefix=tmp_fuzz/ tmp_fuzz/$$name test/fuzz/seeds/$$name \
	      >tmp_fuzz/$$name.log 2>&1; status=$$?; \
	  echo "$$name: exit $$status, $$(grep -o 'number_of_executed_units: *[0-9]*' tmp_fuzz/$$name.log)"; \
	  if [ $$status -ne 0 ]; then tail -n 40 tmp_fuzz/$$name.log; exit 1; fi; \
	done

# Long checks on demand (test/ondemand.sh): SQLsmith on the assertion and
# sanitizer server, and the regress suite under Valgrind's memcheck.
SQLSMITH_QUERIES ?= 200000
.PHONY: sqlsmith valgrind
sqlsmith:
	bash test/ondemand.sh sqlsmith $(SQLSMITH_QUERIES)
valgrind:
	bash test/ondemand.sh valgrind

# Formatting with the repository's .clang-format.
CLANG_FORMAT ?= clang-format
FORMAT_FILES  = $(wildcard src/*.c src/*.h test/fuzz/*.c test/bench/*.c)
.PHONY: format format-check
format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)
format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)
