#!/usr/bin/env bats
# An entity from outside the Genius set, added by docs/adding-an-entity.md's
# steps in a copy of the tree: no primary key (a unique key with a nullable
# column), UNSIGNED, ENUM into a PostgreSQL enum, SET, YEAR, BIT, TIMESTAMP,
# TIME over 24 h, POINT into point, latin1 text, a BLOB, a mixed-case target;
# then synced and checked with scripts/compare.

bats_require_minimum_version 1.5.0
load helpers

W="$GX_ROOT/tests/fixtures/widgets"

setup_file() {
	gx_warehouse_start
	# The doc's files, in a copy of the tree (GX_HOME).
	local h=$BATS_FILE_TMPDIR/gx
	mkdir -p "$h/extract" "$h/transform" "$h/load"
	cp -r "$GX_ROOT/scripts" "$h/scripts"
	cp -r "$GX_ROOT/extract/queries" "$h/extract/queries"
	cp -r "$GX_ROOT/transform/maps" "$h/transform/maps"
	cp -r "$GX_ROOT/load/ddl" "$h/load/ddl"
	cp "$W/widgets.sql" "$h/extract/queries/"
	cp "$W/widgets.map" "$h/transform/maps/"
	cp "$W/Widget.ddl.sql" "$h/load/ddl/zz_widget.sql"
	sed 's/gx_main appointments/gx_main widgets/' "$GX_ROOT/scripts/appointments" >"$h/scripts/widgets"
	chmod +x "$h/scripts/widgets"
	printf 'widgets ingestion.Widget code,serial Widget\n' >>"$h/scripts/entities"
	gx_my <"$W/source.sql"
	GX_HOME=$h gx-state init
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	export GX_HOME=$BATS_FILE_TMPDIR/gx GX_QUERIES=$BATS_FILE_TMPDIR/gx/extract/queries
	export GX_REJECTS_DIR="$BATS_TEST_TMPDIR/rejects"
	W="$GX_ROOT/tests/fixtures/widgets"
}

@test "the doc's map checks, and the query reads every row" {
	run gx-map --check "$GX_HOME/transform/maps/widgets.map"
	[ "$status" -eq 0 ]
	run --separate-stderr bash -c 'gx-extract --entity widgets | tail -n 1'
	[ "$status" -eq 0 ]
	[ "$(jq .records <<<"$output")" -eq 4 ]
}

@test "a full sync loads every type exactly; compare finds no difference" {
	run "$GX_HOME/scripts/widgets" --full
	[ "$status" -eq 0 ]
	run "$GX_HOME/scripts/compare" widgets
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"differences                0"* ]]
	[ "$(gx_pg -c 'SELECT count(*) FROM ingestion."Widget"')" -eq 4 ]
	row=$(gx_pg -c "SELECT serial, big, tiny, kind, tags, yr, flags, made, dur, loc, payload
		FROM ingestion.\"Widget\" WHERE code = 'w-1'")
	[ "$row" = $'4294967295\t18446744073709551615\t255\tsmall\tred,blue\t2024\t21\t2024-03-10 08:30:00+00\t838:59:59\t(1.5,-2.25)\tAP8Q' ]
	[ "$(gx_pg -c "SELECT code FROM ingestion.\"Widget\" WHERE serial = 9")" = café ]
	# both rows with a NULL code are there, told apart by serial
	[ "$(gx_pg -c 'SELECT string_agg(serial::text, $$,$$ ORDER BY serial) FROM ingestion."Widget" WHERE code IS NULL')" = 7,8 ]
}

@test "compare reports a difference in a point column and a row the target refuses" {
	gx_my -e "UPDATE Widget SET loc = POINT(3, 4), updated_at = '2024-03-14 00:00:00' WHERE serial = 7"
	gx_pg -c "UPDATE ingestion.\"Widget\" SET loc = point(9, 9) WHERE serial = 8"
	gx_my -e "INSERT INTO Widget (code, serial, kind, updated_at) VALUES ('w-odd', 10, 'odd', '2024-03-14 00:00:00')"
	run "$GX_HOME/scripts/compare" widgets
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"column loc"*" 2"* ]]
	[[ $output == *"refused by the target"*" 1"* ]]
	[[ $output == *"missing in target"*" 0"* ]]
}
