#!/usr/bin/env bats
# Every program under valgrind on a real sync: no memory error, no definite
# or indirect leak (--error-exitcode makes either fail the test).

load helpers

setup_file() {
	gx_warehouse_start
	gx_sample 300
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	if nm "$GX_BIN/gx-map" 2>/dev/null | grep -q __asan_init; then
		skip "a sanitizer build: valgrind cannot run it (make test-asan checks it instead)"
	fi
	V=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99)
}

@test "gx-extract, gx-map, gx-load and gx-state run valgrind-clean on a real sync" {
	id=$(gx-state begin appointments)
	"${V[@]}" "$GX_BIN/gx-extract" --entity appointments --limit 250 >"$BATS_TEST_TMPDIR/x" 2>"$BATS_TEST_TMPDIR/e"
	"${V[@]}" "$GX_BIN/gx-map" --max-errors 10 "$GX_ROOT/transform/maps/appointments.map" \
		<"$BATS_TEST_TMPDIR/x" >"$BATS_TEST_TMPDIR/m" 2>>"$BATS_TEST_TMPDIR/e"
	"${V[@]}" "$GX_BIN/gx-load" --table ingestion.genius_appointment --key id --run "$id" \
		<"$BATS_TEST_TMPDIR/m" 2>>"$BATS_TEST_TMPDIR/e"
	"${V[@]}" "$GX_BIN/gx-state" checkpoint appointments >/dev/null 2>>"$BATS_TEST_TMPDIR/e"
	"${V[@]}" "$GX_BIN/gx-state" list >/dev/null 2>>"$BATS_TEST_TMPDIR/e"
	! grep '==[0-9]*==' "$BATS_TEST_TMPDIR/e" || false
	[ "$(gx_pg -c "SELECT records_created FROM orchestration.sync_history WHERE id = $id")" -eq 250 ]
}

@test "gx-load's reject bisection and gx-map's rejects are valgrind-clean" {
	printf '%s\n' '{"id":1,"prospect_id":"x"}' '{"@gx":"end","records":1}' |
		"${V[@]}" "$GX_BIN/gx-map" --max-errors 5 --rejects "$BATS_TEST_TMPDIR/r" \
			"$GX_ROOT/transform/maps/appointments.map" >/dev/null 2>"$BATS_TEST_TMPDIR/e"
	gx_pg -c "CREATE TABLE IF NOT EXISTS public.vg (id int PRIMARY KEY, d date)"
	{ for i in $(seq 1 40); do printf '{"id":%d,"d":"%s"}\n' "$i" "$([ "$i" = 17 ] && echo 2024-02-30 || echo 2024-02-01)"; done
	  echo '{"@gx":"end","records":40}'; } |
		"${V[@]}" "$GX_BIN/gx-load" --table public.vg --key id --batch 8 --max-errors 1 \
			--rejects "$BATS_TEST_TMPDIR/lr" 2>>"$BATS_TEST_TMPDIR/e"
	! grep '==[0-9]*==' "$BATS_TEST_TMPDIR/e" || false
	[ "$(jq -r .line "$BATS_TEST_TMPDIR/lr")" = 17 ]
}
