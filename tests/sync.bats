#!/usr/bin/env bats
# The sync contract, end to end: scripts/appointments against real MariaDB and
# PostgreSQL servers (gx-extract | gx-map | gx-load, gx-state).

load helpers

setup_file() {
	gx_warehouse_start
}

teardown_file() { gx_servers_stop; }

# Each test starts from fresh sample data, an empty target and no history.
setup() { gx_fresh; }


target_count() { gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment"; }

@test "full sync makes the target equal to the source on every column of every row" {
	run appointments
	[ "$status" -eq 0 ]
	run compare appointments
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"differences"*" 0"* ]]
	[ "$(target_count)" -eq "$(gx_my -e 'SELECT count(*) FROM appointment')" ]
}

@test "text survives byte for byte: quotes, backslashes, tabs, CR/LF, emoji, 4 KB notes" {
	appointments 2>/dev/null
	for col in notes address1 city confirm_with; do
		gx_my -e "SELECT id, COALESCE(HEX($col), 'NULL') FROM appointment ORDER BY id" >"$BATS_TEST_TMPDIR/src"
		gx_pg -c "SELECT id, COALESCE(upper(encode(convert_to($col, 'UTF8'), 'hex')), 'NULL')
			FROM ingestion.genius_appointment ORDER BY id" >"$BATS_TEST_TMPDIR/dst"
		diff "$BATS_TEST_TMPDIR/src" "$BATS_TEST_TMPDIR/dst"
	done
	# the sample really holds the nasty values this test is about
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE notes LIKE E'%\\\\%'
		OR notes LIKE E'%\t%' OR notes LIKE E'%\r\n%' OR length(notes) >= 4096")" -gt 0 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE notes ~ '[😀-🙏]'")" -gt 0 ]
}

@test "a delta run loads exactly the changed and new rows" {
	appointments 2>/dev/null
	gx_my -e "UPDATE appointment SET city = 'Delta', updated_at = NOW()
		WHERE updated_at IS NOT NULL AND updated_at > '1000-01-01' ORDER BY id LIMIT 7;
		INSERT INTO appointment (id, prospect_id, type_id, add_user_id, add_date, updated_at)
		VALUES (1500000001, 1, 1, 1, NOW(), NOW()), (1500000002, 1, 1, 1, NOW(), NOW()),
		       (1500000003, 1, 1, 1, NOW(), NOW())"
	run appointments
	[ "$status" -eq 0 ]
	[ "$(gx_last_run records_created)" -eq 3 ]
	[ "$(gx_last_run records_updated)" -eq 7 ]
	[ "$(gx_last_run status)" = success ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Delta'")" -eq 7 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE id BETWEEN 1500000001 AND 1500000003")" -eq 3 ]
	compare appointments
}

@test "a second run with no source change reports 0 created and 0 updated" {
	appointments 2>/dev/null
	run appointments
	[ "$status" -eq 0 ]
	[ "$(gx_last_run records_created)" -eq 0 ]
	[ "$(gx_last_run records_updated)" -eq 0 ]
	[ "$(gx_last_run "configuration->>'mode'")" = delta ]
}

@test "--dry-run leaves target and checkpoint untouched but reports the counts" {
	appointments 2>/dev/null
	before=$(gx-state checkpoint appointments)
	gx_my -e "UPDATE appointment SET city = 'Dry', updated_at = NOW()
		WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 5"
	run appointments --dry-run
	[ "$status" -eq 0 ]
	[ "$(gx_last_run records_updated)" -eq 5 ]
	[ "$(gx_last_run "performance_metrics->>'dry_run'")" = true ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Dry'")" -eq 0 ]
	[ "$(gx-state checkpoint appointments)" = "$before" ]
	# and the real run afterwards does the work
	appointments 2>/dev/null
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Dry'")" -eq 5 ]
}

@test "--max-records walks the backlog in bounded runs, splitting a tie block, nothing lost or repeated" {
	total=$(gx_my -e 'SELECT count(*) FROM appointment')
	tie=$(gx_my -e 'SELECT max(c) FROM (SELECT count(*) c FROM appointment GROUP BY updated_at) x')
	[ "$tie" -gt 7 ]	# the sample has a block of rows sharing one second
	run appointments --max-records 7
	[ "$status" -eq 0 ]
	[ "$(target_count)" -eq 7 ]
	for _ in $(seq 1 100); do
		[ "$(gx_last_run "performance_metrics->'stream'->>'more'")" = true ] || break
		appointments --max-records 7 2>/dev/null
	done
	[ "$(gx_last_run "performance_metrics->'stream'->>'more'")" = false ]
	[ "$(target_count)" -eq "$total" ]
	# every row was read exactly once by the walk
	[ "$(gx_pg -c "SELECT sum(records_processed) FROM orchestration.sync_history")" -eq "$total" ]
	[ "$(gx_pg -c "SELECT sum(records_created) FROM orchestration.sync_history")" -eq "$total" ]
	compare appointments
}

@test "--since backfills without moving the checkpoint" {
	appointments 2>/dev/null
	# an old change (cursor far behind the checkpoint): only a backfill sees it
	gx_my -e "UPDATE appointment SET city = 'Backfill', updated_at = '2020-05-05 10:00:00'
		WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 2"
	appointments 2>/dev/null
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Backfill'")" -eq 0 ]
	before=$(gx-state checkpoint appointments)
	run appointments --since 2020-05-01
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Backfill'")" -eq 2 ]
	[ "$(gx_last_run "configuration->>'mode'")" = backfill ]
	[ "$(gx-state checkpoint appointments)" = "$before" ]	# the whole checkpoint
}

@test "--start-date warns that it is deprecated and acts as --since" {
	appointments 2>/dev/null
	gx_my -e "UPDATE appointment SET city = 'Old', updated_at = '2020-05-05 10:00:00'
		WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 1"
	run appointments --start-date 2020-05-01
	[ "$status" -eq 0 ]
	[[ $output == *"--start-date is deprecated, use --since"* ]]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Old'")" -eq 1 ]
	[ "$(gx_last_run "configuration->>'since'")" = 2020-05-01 ]
}

@test "--end-date bounds a backfill to the end of that day" {
	gx_my -e "UPDATE appointment SET updated_at = '2021-03-04 23:59:59' WHERE id = (SELECT min(id) FROM appointment);
		UPDATE appointment SET updated_at = '2021-03-05 00:00:00'
		WHERE id = (SELECT id FROM (SELECT id FROM appointment ORDER BY id LIMIT 1 OFFSET 1) x)"
	run appointments --since 2021-03-01 --end-date 2021-03-04
	[ "$status" -eq 0 ]
	[ "$(target_count)" -eq 1 ]
	[ "$(gx_last_run "configuration->>'moves_checkpoint'")" = false ]
	[ "$(gx-state checkpoint appointments | jq -r .since)" = null ]
}

@test "--force-overwrite rewrites rows that were edited in the target" {
	appointments 2>/dev/null
	# rows outside the next delta's window (a dated cursor, long ago)
	ids=$(gx_my -e "SELECT id FROM appointment WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 3" | paste -sd,)
	gx_pg -c "UPDATE ingestion.genius_appointment SET city = 'tampered' WHERE id IN ($ids)"
	appointments 2>/dev/null	# a delta does not see target-side edits
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'tampered'")" -eq 3 ]
	run appointments --force-overwrite
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'tampered'")" -eq 0 ]
	[ "$(gx_last_run records_updated)" -eq "$(target_count)" ]
	compare appointments
}

@test "a killed gx-extract leaves the target unchanged and the run marked failed" {
	appointments 2>/dev/null
	gx_my -e "UPDATE appointment SET city = 'Lost', updated_at = NOW() ORDER BY id LIMIT 50"
	# a gx-extract that dies by SIGKILL after 20 lines: no end marker
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	for p in gx-map gx-load gx-state; do ln -s "$GX_BIN/$p" "$BATS_TEST_TMPDIR/bin/$p"; done
	cat >"$BATS_TEST_TMPDIR/bin/gx-extract" <<EOF
#!/usr/bin/env bash
case "\$*" in *--describe*) exec "$GX_BIN/gx-extract" "\$@" ;; esac
"$GX_BIN/gx-extract" "\$@" | head -n 20
kill -9 \$\$
EOF
	chmod +x "$BATS_TEST_TMPDIR/bin/gx-extract"
	GX_BIN="$BATS_TEST_TMPDIR/bin" run appointments
	[ "$status" -ne 0 ]
	[ "$(gx_last_run status)" = failed ]
	gx_last_run error_message
	[[ $(gx_last_run error_message) == *"end marker"* ]]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Lost'")" -eq 0 ]
	# and the next run converges
	appointments 2>/dev/null
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Lost'")" -eq 50 ]
}

@test "a bad password gives one clear error line, a failed run, and is never shown or stored" {
	GENIUS_DB_PASSWORD='Wr0ng-S3cret-xyzzy' run appointments
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ ${lines[0]} == "gx-extract: cannot connect to MySQL"*"Access denied"* ]]
	[[ $output != *xyzzy* ]]
	[ "$(gx_last_run status)" = failed ]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history h WHERE h::text LIKE '%xyzzy%'")" -eq 0 ]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history h WHERE h::text LIKE '%$GENIUS_DB_PASSWORD%'")" -eq 0 ]
}

@test "a second concurrent run of the same entity is refused with status 4" {
	gx-state lock appointments -- sleep 3 &
	sleep 1
	run appointments
	wait
	[ "$status" -eq 4 ]
	[[ $output == *"another run holds the lock"* ]]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history")" -eq 0 ]
}

@test "a run left 'running' by a dead process is marked failed as abandoned by the next run" {
	id=$(gx-state begin appointments)
	run appointments
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c "SELECT status FROM orchestration.sync_history WHERE id = $id")" = failed ]
	[[ $(gx_pg -c "SELECT error_message FROM orchestration.sync_history WHERE id = $id") == abandoned* ]]
}

@test "rows whose cursor is NULL or a zero date are re-read by every delta" {
	n=$(gx_my -e "SELECT count(*) FROM appointment WHERE updated_at IS NULL OR updated_at < '1000-01-01'")
	[ "$n" -gt 0 ]
	appointments 2>/dev/null
	gx_my -e "UPDATE appointment SET city = 'NullCursor' WHERE updated_at IS NULL OR updated_at < '1000-01-01'"
	run appointments
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'NullCursor'")" -eq "$n" ]
	[ "$(gx_last_run "performance_metrics->'stream'->>'null_cursor'")" -eq "$n" ]
}

@test "the checkpoint is the source clock read before extraction, minus the lookback" {
	t0=$(gx_my -e "SELECT NOW(6)")
	appointments 2>/dev/null
	t1=$(gx_my -e "SELECT NOW(6)")
	clock=$(gx_last_run "performance_metrics->'stream'->>'clock'")
	[[ ! $clock < $t0 ]]
	[[ ! $clock > $t1 ]]
	# kept as an instant: the clock's, minus the lookback
	instant=$(gx_last_run "performance_metrics->'stream'->>'instant'")
	since=$(gx-state checkpoint appointments --lookback 300 | jq -r .since_instant)
	[ "$since" -eq $((${instant%.*} - 300)) ]
}

@test "a late commit with a cursor inside the lookback is caught by the next delta" {
	appointments 2>/dev/null
	# committed now, stamped a minute ago (a long transaction)
	gx_my -e "UPDATE appointment SET city = 'Late', updated_at = NOW() - INTERVAL 60 SECOND
		WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 1"
	appointments 2>/dev/null
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Late'")" -eq 1 ]
}

@test "hubspot_appointment_id comes only from hubspot sources" {
	appointments 2>/dev/null
	gx_my -e "SELECT a.id, COALESCE(tps.third_party_id, 'NULL') FROM appointment a
		JOIN third_party_source tps ON tps.id = a.third_party_source_id
		JOIN third_party_source_type t ON t.id = tps.third_party_source_type_id AND t.label = 'hubspot'
		ORDER BY a.id" >"$BATS_TEST_TMPDIR/want"
	[ -s "$BATS_TEST_TMPDIR/want" ]
	gx_pg -c "SELECT id, hubspot_appointment_id FROM ingestion.genius_appointment
		WHERE hubspot_appointment_id IS NOT NULL ORDER BY id" >"$BATS_TEST_TMPDIR/got"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	# rows pointing at a non-hubspot source exist and got NULL
	[ "$(gx_my -e "SELECT count(*) FROM appointment a JOIN third_party_source tps
		ON tps.id = a.third_party_source_id WHERE tps.third_party_source_type_id <> 1")" -gt 0 ]
}

@test "bad flags and dates are refused with a clear message before anything runs" {
	run appointments --since 2024-02-30
	[ "$status" -eq 1 ]
	[[ $output == *"--since: expected a date YYYY-MM-DD, got '2024-02-30'"* ]]
	run appointments --bogus
	[ "$status" -eq 1 ]
	[ "$output" = "appointments: --bogus: unknown option (see appointments --help)" ]
	run appointments --max-records x
	[ "$status" -eq 1 ]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history")" -eq 0 ]
	run appointments --help
	[ "$status" -eq 0 ]
	[[ $output == *"--force-overwrite"* ]]
}

@test "gx-state init accepts sync_history of the model's shape and refuses another" {
	run gx-state init
	[ "$status" -eq 0 ]
	gx_pg -c "CREATE SCHEMA other; CREATE TABLE other.sync_history (id int)"
	gx_pg -c "ALTER TABLE orchestration.sync_history RENAME TO sync_history_keep;
		ALTER TABLE other.sync_history SET SCHEMA orchestration"
	run gx-state init
	gx_pg -c "DROP TABLE orchestration.sync_history; DROP SCHEMA other;
		ALTER TABLE orchestration.sync_history_keep RENAME TO sync_history"
	[ "$status" -eq 1 ]
	[[ $output == *"another shape"* ]]
}

@test "gx-state list and last print the run history" {
	appointments 2>/dev/null
	appointments 2>/dev/null
	run gx-state list appointments
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 3 ]
	[[ ${lines[1]} == *appointments*success*delta* ]]
	[[ ${lines[2]} == *appointments*success*full* ]]
	run gx-state last appointments --json
	[ "$(echo "$output" | jq -r .status)" = success ]
}

@test "a delta looks back 300 s by default: a row stamped 100 s before a run and committed after it is read by the next" {
	# gx's sessions see a simulated source clock (gx_at)
	t=$(date -u -d '2026-06-01 12:00 UTC' +%s)	# after every sample cursor
	gx_at "$t"
	appointments --probe-hours 0 2>/dev/null
	gx_at $((t + 200))
	appointments --probe-hours 0 2>/dev/null
	# stamped at t + 100 by a long transaction that commits only now
	gx_my -e "UPDATE appointment SET city = 'Lookback', updated_at = FROM_UNIXTIME($((t + 100)))
		WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 1"
	gx_at $((t + 400))
	appointments --probe-hours 0 2>/dev/null	# the probe off: the lookback alone
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Lookback'")" -eq 1 ]
	[ "$(gx_last_run "configuration->>'lookback_seconds'")" -eq 300 ]
}

@test "gx-state checkpoint looks back 300 s unless told: since_instant is the run's origin minus 300" {
	appointments 2>/dev/null
	origin=$(gx_last_run "performance_metrics->'stream'->>'origin'")
	run gx-state checkpoint appointments
	[ "$status" -eq 0 ]
	[ "$(jq -r .lookback_seconds <<<"$output")" -eq 300 ]
	[ "$(jq -r .since_instant <<<"$output")" -eq $((origin - 300)) ]
	run gx-state checkpoint appointments --args
	[ "${lines[0]}" = --since-instant ]
	[ "${lines[1]}" -eq $((origin - 300)) ]
}

@test "a partial run's rejected row is read again by the next delta, by key, its cursor unchanged" {
	t=$(date -u -d '2026-06-01 12:00 UTC' +%s)
	gx_at "$t"
	appointments --lookback 0 --probe-hours 0 2>/dev/null
	id=$(gx_my -e "SELECT id FROM appointment WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 1")
	# a city gx-map rejects (U+0000 in a varchar), stamped after the checkpoint
	gx_my -e "UPDATE appointment SET city = CONCAT('a', CHAR(0), 'b'), updated_at = FROM_UNIXTIME($((t + 10)))
		WHERE id = $id"
	gx_at $((t + 20))
	run appointments --lookback 0 --probe-hours 0 --max-errors 1
	[ "$status" -eq 6 ]
	[ "$(gx_last_run status)" = partial ]
	# mended at the source, its cursor unchanged: the window does not see it,
	# the retry of its key does (rejects.bats has the rest)
	gx_my -e "UPDATE appointment SET city = 'Mended' WHERE id = $id"
	gx_at $((t + 30))
	appointments --lookback 0 --probe-hours 0 2>/dev/null
	[ "$(gx_last_run status)" = success ]
	[ "$(gx_pg -c "SELECT city FROM ingestion.genius_appointment WHERE id = $id")" = Mended ]
	compare appointments
}

@test "a --since backfill leaves the checkpoint as it was: the same run, window and probe" {
	appointments 2>/dev/null
	before=$(gx-state checkpoint appointments)
	gx-state checkpoint appointments --args >"$BATS_TEST_TMPDIR/before"
	run appointments --since 2020-05-01
	[ "$status" -eq 0 ]
	[ "$(gx_last_run "configuration->>'mode'")" = backfill ]
	[ "$(gx-state checkpoint appointments)" = "$before" ]
	gx-state checkpoint appointments --args | cmp - "$BATS_TEST_TMPDIR/before"
}
