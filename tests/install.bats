#!/usr/bin/env bats
# make install: PREFIX and DESTDIR, what goes where, and an installed gx that
# syncs against real servers without the source tree. Installed commands run
# with an empty environment plus the sandbox's settings, and a PATH of the
# installed bin and the system's directories only (no GX_* variable, no
# source tree directory).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	gx_servers_start
	gx_sample 200
	export DEST="$BATS_FILE_TMPDIR/dest"
	# The programs under test ($GX_BIN, as built by make test or make
	# test-asan) are installed as they are: -o all skips the rebuild.
	make -C "$GX_ROOT" -o all install BIN="$GX_BIN" DESTDIR="$DEST" PREFIX=/usr >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log" >&3; return 1; }
}

teardown_file() { gx_servers_stop; }

setup() { gx_env; }

# installed CMD...: CMD with nothing of the source tree in reach.
installed() {
	# shellcheck disable=SC2016 # the inner bash expands them
	env -i HOME="$HOME" LANG=C.UTF-8 TMPDIR="$BATS_TEST_TMPDIR" GX_CONFIG=none \
		PATH="$DEST/usr/bin:/usr/bin:/bin" GX_REJECTS_DIR="$BATS_TEST_TMPDIR/rejects" \
		bash -c '. "$1"; shift; exec "$@"' _ "$GX_SB/env" "$@"
}

# The entities of the registry.
entities() {
	awk '!/^[[:space:]]*(#|$)/ { print $1 }' "$GX_ROOT/scripts/entities"
}

last_run() {
	gx_pg -c "SELECT $1 FROM orchestration.sync_history ORDER BY id DESC LIMIT 1"
}

@test "make install puts programs, scripts, queries, maps, DDL and man pages under DESTDIR/PREFIX" {
	for p in gx-extract gx-map gx-load gx-state gx-sync; do
		[ -x "$DEST/usr/bin/$p" ] || { echo "no $p"; false; }
	done
	s=$DEST/usr/share/gx
	for f in lib entities entities.deps; do
		[ -f "$s/scripts/$f" ] || { echo "no file scripts/$f"; false; }
		[ ! -x "$s/scripts/$f" ] || { echo "scripts/$f is executable"; false; }
	done
	for e in $(entities) all status; do
		[ -x "$s/scripts/$e" ] || { echo "no script $e"; false; }
	done
	for e in $(entities); do
		[ -f "$s/extract/queries/$e.sql" ] || { echo "no query $e.sql"; false; }
		[ -f "$s/transform/maps/$e.map" ] || { echo "no map $e.map"; false; }
	done
	diff <(cd "$GX_ROOT/load/ddl" && ls) <(cd "$s/load/ddl" && ls)
	diff <(cd "$GX_ROOT/docs/man" && ls -- *.1) <(cd "$DEST/usr/share/man/man1" && ls)
	diff <(cd "$GX_ROOT/docs/man" && ls -- *.7) <(cd "$DEST/usr/share/man/man7" && ls)
	# nothing else: no sandbox, demo or test files
	[ ! -e "$s/scripts/sandbox" ]
	[ ! -e "$s/scripts/demo" ]
	[ ! -e "$s/tests" ]
}

@test "no installed file names the source tree" {
	run grep -rlIF -- "$GX_ROOT" "$DEST"
	echo "$output"
	[ "$status" -eq 1 ]
}

@test "installed man pages are found by man through their PREFIX" {
	run man -M "$DEST/usr/share/man" -P cat gx-sync
	[ "$status" -eq 0 ]
	[[ $output == *"gx-sync - sync one Genius entity"* ]]
	run man -M "$DEST/usr/share/man" -P cat 7 gx
	[ "$status" -eq 0 ]
	[[ $output == *"THE SYNC CONTRACT"* ]]
}

@test "installed gx-state init reads the DDL from PREFIX/share/gx/load/ddl" {
	run installed gx-state init
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"from $DEST/usr/bin/../share/gx/load/ddl)"* ]]
	[ "$(gx_pg -c "SELECT to_regclass('orchestration.sync_history') IS NOT NULL")" = t ]
}

@test "installed gx-extract --entity reads its query from PREFIX/share/gx/extract/queries" {
	run installed gx-extract --entity no_such_entity
	[ "$status" -eq 1 ]
	[[ $output == *"$DEST/usr/bin/../share/gx/extract/queries/no_such_entity.sql"* ]]
	run --separate-stderr installed gx-extract --entity appointments --limit 3
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ ${lines[3]} == '{"@gx":"end","records":3,"entity":"appointments",'* ]]
}

@test "installed gx-sync: a full sync, then a delta; the target equals the source" {
	installed gx-state init >/dev/null 2>&1
	gx_pg -c "TRUNCATE ingestion.genius_appointment, orchestration.sync_history"
	run installed gx-sync appointments
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(last_run "status || ' ' || (configuration->>'mode') || ' ' || records_created")" = "success full 200" ]
	run compare appointments
	echo "$output"
	[ "$status" -eq 0 ]
	gx_my -e "UPDATE appointment SET city = 'Installed', updated_at = NOW()
		WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 4"
	run installed gx-sync appointments
	[ "$status" -eq 0 ]
	[ "$(last_run "status || ' ' || (configuration->>'mode') || ' ' || records_updated")" = "success delta 4" ]
	compare appointments
}

@test "an installed entity script run directly (as from cron) finds the programs in PREFIX/bin" {
	installed gx-state init >/dev/null 2>&1
	# shellcheck disable=SC2016 # the inner bash expands them
	run env -i HOME="$HOME" PATH=/usr/bin:/bin GX_CONFIG=none bash -c '. "$1"; shift; exec "$@"' _ \
		"$GX_SB/env" "$DEST/usr/share/gx/scripts/leads" --full --rejects-dir "$BATS_TEST_TMPDIR"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(last_run "sync_type || ' ' || status")" = "leads success" ]
	compare leads
}

@test "installed gx-sync all runs every entity, parents first" {
	installed gx-state init >/dev/null 2>&1
	run installed gx-sync all --jobs 4
	echo "$output"
	[ "$status" -eq 0 ]
	n=$(entities | wc -l)
	[[ $output == *"all: $n entities: $n success, 0 partial, 0 failed, 0 skipped"* ]]
	run installed gx-sync status
	[ "$status" -eq 0 ]
	[[ $output == *appointments*success* ]]
}

@test "installed gx-sync: --list, --version, --help, an entity's --help, unknown names" {
	run installed gx-sync --list
	[ "$status" -eq 0 ]
	[ "$output" = "$(entities)" ]
	run installed gx-sync --version
	[ "$output" = "gx-sync $(gx-state --version | awk '{ print $2 }')" ]
	run installed gx-sync --help
	[ "$status" -eq 0 ]
	[[ $output == *"Scripts: $DEST/usr/share/gx/scripts"* ]]
	run installed gx-sync quotes --help
	[ "$status" -eq 0 ]
	[[ $output == *"--max-records N"* ]]
	run installed gx-sync no_such_entity
	[ "$status" -eq 1 ]
	[[ $output == *"unknown entity 'no_such_entity'"* ]]
	run installed gx-sync
	[ "$status" -eq 1 ]
	run installed gx-sync --bogus
	[ "$status" -eq 1 ]
}

@test "the default PREFIX is /usr/local, and make uninstall removes every installed file" {
	d=$BATS_TEST_TMPDIR/stage
	make -C "$GX_ROOT" -o all install BIN="$GX_BIN" DESTDIR="$d" >/dev/null 2>&1
	[ -x "$d/usr/local/bin/gx-sync" ]
	[ -f "$d/usr/local/share/gx/scripts/lib" ]
	[ -f "$d/usr/local/share/man/man7/gx.7" ]
	make -C "$GX_ROOT" uninstall DESTDIR="$d" >/dev/null 2>&1
	# and a plain make install builds the programs first
	make -C "$GX_ROOT" -pn install DESTDIR="$d" 2>/dev/null | grep -qx 'install: all'

	run find "$d" -type f
	echo "$output"
	[ -z "$output" ]
	[ ! -e "$d/usr/local/share/gx" ]
}
