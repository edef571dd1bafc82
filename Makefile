# gx: build, install the dependencies, run the demo and the tests.
# `make` builds bin/gx-extract, bin/gx-map, bin/gx-load and bin/gx-state.

CC      ?= cc
CFLAGS  ?= -O2 -g
BIN     ?= bin
OBJ     ?= build
GXFLAGS  = -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Icommon
MYSQL_CFLAGS = $(shell mariadb_config --cflags 2>/dev/null || mysql_config --cflags 2>/dev/null)
MYSQL_LIBS   = $(shell mariadb_config --libs 2>/dev/null || mysql_config --libs 2>/dev/null)
PG_CFLAGS    = -I$(shell pg_config --includedir 2>/dev/null || echo /usr/include/postgresql)
PG_LIBS      = -lpq

PROGS  = $(BIN)/gx-extract $(BIN)/gx-map $(BIN)/gx-load $(BIN)/gx-state
COMMON = $(patsubst common/%.c,$(OBJ)/common/%.o,$(wildcard common/*.c))
COMMON_PG = $(OBJ)/common/pg.o
COMMON_LIB = $(filter-out $(COMMON_PG),$(COMMON))

all: $(PROGS)

$(OBJ)/%.o: %.c $(wildcard */*.h) | dirs
	$(CC) $(GXFLAGS) $(CFLAGS) $(MYSQL_CFLAGS) $(PG_CFLAGS) -c -o $@ $<

dirs:
	@mkdir -p $(BIN) $(OBJ)/common $(OBJ)/extract $(OBJ)/transform $(OBJ)/load

$(BIN)/gx-extract: $(patsubst %.c,$(OBJ)/%.o,$(wildcard extract/*.c)) $(COMMON_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(MYSQL_LIBS)

$(BIN)/gx-map: $(patsubst %.c,$(OBJ)/%.o,$(wildcard transform/*.c)) $(COMMON_LIB)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(BIN)/gx-load: $(patsubst %.c,$(OBJ)/%.o,$(filter-out load/state.c,$(wildcard load/*.c))) $(COMMON)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PG_LIBS)

$(BIN)/gx-state: $(OBJ)/load/state.o $(COMMON)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PG_LIBS)

# Installs what is missing (Debian 12), idempotently.
deps:
	@scripts/deps

demo: deps all
	scripts/demo

test: all
	tests/run

# The whole suite again with AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan:
	$(MAKE) BIN=build/asan/bin OBJ=build/asan/obj CC=clang \
	  CFLAGS='-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer'
	GX_BIN=build/asan/bin ASAN_OPTIONS=detect_leaks=1 tests/run

# kill -9 trials at scale (make test runs a few on a small table).
# Then the seeded interleavings (clocks, DST, late writers) for several seeds.
test-faults: all
	FAULT_TRIALS=$${FAULT_TRIALS:-30} FAULT_ROWS=$${FAULT_ROWS:-1000000} tests/run faults.bats
	for seed in $${GX_SEEDS:-1 2 3 4 5 6}; do \
	  echo "seed $$seed"; \
	  GX_SEED=$$seed bats --filter 'random interleavings' tests/contract.bats tests/clocks.bats || exit 1; \
	done

# Deliberate bugs, one at a time, each in a copy of the tree (build/mutants/):
# the tests each names must fail for it (docs/testing.md). MUTANTS="a b"
# runs only those; tests/mutants/run -l lists them.
test-mutants:
	tests/mutants/run $(MUTANTS)

.PHONY: test-mutants

# The libFuzzer targets for minutes each (make test runs them for seconds);
# FUZZ_TARGETS="query cast" runs only those (docs/fuzzing.md lists them).
fuzz:
	tests/fuzz/run $${FUZZ_SECONDS:-300} $(FUZZ_TARGETS)

# Speed and memory, side by side with the tools users would pick, on private
# servers it starts and stops (N=1000000 RUNS=3 by default; docs/performance.md).
bench: all
	bench/run

# make deb [DEBDIR=build/deb]: the Debian package (debian/, docs/packaging.md)
# by dpkg-buildpackage -us -uc -b, in a copy of the tree's files (tracked or
# untracked, not ignored), never in the tree itself: the package's clean step
# runs make clean. The .deb, .buildinfo and .changes land in DEBDIR.
DEBDIR ?= build/deb

deb:
	rm -rf "$(DEBDIR)/gx" "$(DEBDIR)"/gx_* "$(DEBDIR)"/gx-dbgsym_*
	mkdir -p "$(DEBDIR)/gx"
	git ls-files -z -co --exclude-standard >"$(DEBDIR)/files"
	tar --null -T "$(DEBDIR)/files" --ignore-failed-read -cf - | tar -xf - -C "$(DEBDIR)/gx"
	cd "$(DEBDIR)/gx" && dpkg-buildpackage -us -uc -b
	rm -rf "$(DEBDIR)/gx" "$(DEBDIR)/files"

.PHONY: deb

clean:
	rm -rf $(BIN) build

# make install [PREFIX=/usr/local] [DESTDIR=staging]: the programs and gx-sync
# in PREFIX/bin; the queries, maps, DDL and the sync scripts in
# PREFIX/share/gx, laid out as in this tree (the programs and scripts look
# there when ../extract etc. does not exist beside them); the man pages.
PREFIX  ?= /usr/local
GXSHARE  = $(DESTDIR)$(PREFIX)/share/gx
MANDIR   = $(DESTDIR)$(PREFIX)/share/man
ENTITIES = $(shell sed -n 's/^\([a-z_][a-z0-9_]*\)[[:space:]].*/\1/p' scripts/entities)

install: all
	install -d "$(DESTDIR)$(PREFIX)/bin" "$(GXSHARE)/extract/queries" \
	  "$(GXSHARE)/transform/maps" "$(GXSHARE)/load/ddl" "$(GXSHARE)/scripts" \
	  "$(MANDIR)/man1" "$(MANDIR)/man7"
	install -m 755 $(PROGS) scripts/gx-sync "$(DESTDIR)$(PREFIX)/bin"
	install -m 644 extract/queries/*.sql "$(GXSHARE)/extract/queries"
	install -m 644 transform/maps/*.map "$(GXSHARE)/transform/maps"
	install -m 644 load/ddl/*.sql "$(GXSHARE)/load/ddl"
	install -m 644 scripts/lib scripts/entities scripts/entities.deps "$(GXSHARE)/scripts"
	install -m 755 scripts/all scripts/status $(addprefix scripts/,$(ENTITIES)) "$(GXSHARE)/scripts"
	install -m 644 docs/man/*.1 "$(MANDIR)/man1"
	install -m 644 docs/man/*.7 "$(MANDIR)/man7"

uninstall:
	rm -f $(addprefix "$(DESTDIR)$(PREFIX)/bin/",gx-extract gx-map gx-load gx-state gx-sync)
	rm -f $(addprefix "$(MANDIR)/man1/",$(notdir $(wildcard docs/man/*.1)))
	rm -f $(addprefix "$(MANDIR)/man7/",$(notdir $(wildcard docs/man/*.7)))
	rm -rf "$(GXSHARE)"

.PHONY: all deps demo test test-asan test-faults fuzz bench clean dirs install uninstall
