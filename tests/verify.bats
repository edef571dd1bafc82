#!/usr/bin/env bats
# gx-sync verify ENTITY [--repair] (the entity scripts' --verify/--repair,
# gx-load --verify/--repair): what no cursor sees is found and repaired
# exactly, and a verify of an in-step table changes nothing.

load helpers

setup_file() { gx_warehouse_start; }
teardown_file() { gx_servers_stop; }
setup() { gx_fresh; }

APPT=ingestion.genius_appointment

# md5 over every row, and over every row's xmin and sync_updated_at.
digest() { gx_pg -c "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM $1 t"; }
versions() { gx_pg -c "SELECT md5(string_agg(xmin::text || sync_updated_at::text, '|' ORDER BY xmin::text || sync_updated_at::text)) FROM $1"; }
# The latest run's performance_metrics field.
metric() { gx_pg -c "SELECT performance_metrics->>'$1' FROM orchestration.sync_history ORDER BY id DESC LIMIT 1"; }
# The drift report of the latest run, kind and key per line, sorted.
drift() { jq -c '[.kind, .key, .columns]' "$(metric report_file)" | sort; }

@test "verify of an in-step table reports 0, leaves its digest, xmin and sync_updated_at, and never moves the checkpoint" {
	appointments 2>/dev/null
	appointments 2>/dev/null	# a delta: the checkpoint a verify must not move
	before=$(digest $APPT) rows=$(versions $APPT)
	cp_before=$(gx-state checkpoint appointments)
	run gx-sync verify appointments
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"verify: 300 rows compared, 0 drifted: missing 0, extra 0, different 0"* ]]
	[ "$(digest $APPT)" = "$before" ]
	[ "$(versions $APPT)" = "$rows" ]
	[ "$(gx-state checkpoint appointments)" = "$cp_before" ]
	[ "$(gx_last_run "configuration->>'mode'")" = verify ]
	[ "$(gx_last_run "status || ' ' || records_processed || ' ' || records_created || ' ' || records_updated")" = "success 300 0 0" ]
	[ "$(gx_last_run "performance_metrics->>'drift_rows'")" = 0 ]
	[ "$(gx_last_run "performance_metrics ? 'stream'")" = f ]
	# no drift: no report file is left
	[ ! -e "$(metric report_file)" ]
}

@test "a change only in third_party_source: deltas miss it, verify finds the rows and the column, --repair fixes exactly them" {
	appointments 2>/dev/null
	# sources 1 and 4 are HubSpot ones, of appointments 1 and 4
	gx_my -e "UPDATE third_party_source SET third_party_id = '123456789' WHERE id IN (1, 4)"
	run appointments
	[ "$status" -eq 0 ]
	[ "$(gx_last_run records_updated)" -eq 0 ]
	run gx-sync verify appointments
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"2 drifted: missing 0, extra 0, different 2"* ]]
	[[ $output == *'drift: {"kind":"different","key":{"id": 1},"columns":["hubspot_appointment_id"]}'* ]]
	[ "$(drift)" = $'["different",{"id":1},["hubspot_appointment_id"]]\n["different",{"id":4},["hubspot_appointment_id"]]' ]
	[ "$(metric different)" = 2 ]
	[ "$(gx_pg -c "SELECT count(*) FROM $APPT WHERE hubspot_appointment_id = 123456789")" -eq 0 ]
	before=$(gx_pg -c "SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) FROM $APPT WHERE id NOT IN (1, 4)")
	run gx-sync verify appointments --repair
	[ "$status" -eq 0 ]
	[ "$(gx_last_run "records_created || ' ' || records_updated")" = "0 2" ]
	[ "$(gx_pg -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM $APPT WHERE hubspot_appointment_id = 123456789")" = "1,4" ]
	# the other rows were not touched
	[ "$(gx_pg -c "SELECT md5(string_agg(xmin::text, ',' ORDER BY id)) FROM $APPT WHERE id NOT IN (1, 4)")" = "$before" ]
	compare appointments
}

@test "a source delete and a key change: verify finds the extras and the missing key, --repair deletes and inserts exactly them" {
	appointments 2>/dev/null
	gx_my -e "DELETE FROM appointment WHERE id = 20; UPDATE appointment SET id = 1900000001, updated_at = updated_at WHERE id = 21"
	appointments 2>/dev/null
	run gx-sync verify appointments
	[ "$status" -eq 0 ]
	[ "$(drift)" = $'["extra",{"id":20},null]\n["extra",{"id":21},null]\n["missing",{"id":1900000001},null]' ]
	[ "$(metric missing) $(metric extra) $(metric different)" = "1 2 0" ]
	run gx-sync verify appointments --repair
	[ "$status" -eq 0 ]
	[ "$(gx_last_run "records_created || ' ' || records_updated || ' ' || (performance_metrics->>'deleted')")" = "1 0 2" ]
	compare appointments
	run gx-sync verify appointments
	[[ $output == *" 0 drifted"* ]]
}

@test "a composite-key change in appointment_services is found with both key columns and repaired" {
	appointment_services 2>/dev/null
	gx_my -e "UPDATE appointment_to_service SET service_id = 32000, updated_at = updated_at WHERE appointment_id = 1 AND service_id = 2"
	appointment_services 2>/dev/null
	run gx-sync verify appointment_services
	[ "$status" -eq 0 ]
	[ "$(drift)" = $'["extra",{"service_id":2,"appointment_id":1},null]\n["missing",{"service_id":32000,"appointment_id":1},null]' ]
	run gx-sync verify appointment_services --repair
	[ "$status" -eq 0 ]
	compare appointment_services
	[ "$(gx_pg -c "SELECT string_agg(service_id::text, ',' ORDER BY service_id) FROM ingestion.genius_appointment_service WHERE appointment_id = 1")" = "5,32000" ]
}

@test "the delete guard: a repair that would delete more than --prune-max percent is refused, nothing changes, the drift is recorded" {
	appointments 2>/dev/null
	gx_my -e "DELETE FROM appointment ORDER BY id LIMIT 40"
	before=$(digest $APPT)
	run gx-sync verify appointments --repair
	echo "$output"
	[ "$status" -eq 1 ]
	[[ $output == *"--repair refused: it would delete 40 of the 300 rows (13.3%), more than --prune-max 10%; rolled back, nothing repaired"* ]]
	[ "$(digest $APPT)" = "$before" ]
	[ "$(gx_last_run status)" = failed ]
	[ "$(metric extra) $(metric missing) $(metric different)" = "40 0 0" ]
	run gx-sync verify appointments --repair --prune-max 20
	[ "$status" -eq 0 ]
	compare appointments
}

@test "a truncated source stream (no end marker) repairs nothing; rejected records refuse the deletes" {
	appointments 2>/dev/null
	gx_my -e "DELETE FROM appointment WHERE id = 30; UPDATE third_party_source SET third_party_id = '66' WHERE id = 41"
	gx-extract --entity appointments 2>/dev/null | gx-map "$GX_ROOT/transform/maps/appointments.map" >"$BATS_TEST_TMPDIR/s"
	before=$(digest $APPT)
	run gx-load --table $APPT --key id --repair <<<"$(head -n -1 "$BATS_TEST_TMPDIR/s")"
	[ "$status" -eq 3 ]
	[ "$(digest $APPT)" = "$before" ]
	# gx-map rejected one record: its key is unknown, the extras may be it
	{ head -n -1 "$BATS_TEST_TMPDIR/s"; tail -n 1 "$BATS_TEST_TMPDIR/s" | jq -c '.records += 1 | .rejected = 1'; } >"$BATS_TEST_TMPDIR/r"
	run gx-load --table $APPT --key id --repair --max-errors 1 <"$BATS_TEST_TMPDIR/r"
	[ "$status" -eq 1 ]
	echo "$output"
	[[ $output == *"--repair refused: 1 records were rejected, and the rows of their keys would be deleted"* ]]
	[ "$(digest $APPT)" = "$before" ]
	# a windowed read is no base for a verify at all
	gx-extract --entity appointments --since 2020-01-01 2>/dev/null | gx-map "$GX_ROOT/transform/maps/appointments.map" >"$BATS_TEST_TMPDIR/w"
	run gx-load --table $APPT --key id --verify <"$BATS_TEST_TMPDIR/w"
	[ "$status" -eq 1 ]
	[[ $output == *'--verify needs a complete read of the table, and the stream'"'"'s end marker has "since"'* ]]
}

@test "keys that may hold NULL match NULL-safely: verify and --repair on a UNIQUE NULLS NOT DISTINCT key" {
	gx_pg <<-'SQL'
	CREATE SCHEMA IF NOT EXISTS v_t;
	DROP TABLE IF EXISTS v_t.nk;
	CREATE TABLE v_t.nk (a integer, b text, v text, UNIQUE NULLS NOT DISTINCT (a, b));
	SQL
	printf '%s\n' '{"a":1,"b":"x","v":"1"}' '{"a":null,"b":"x","v":"2"}' '{"a":1,"b":null,"v":"3"}' \
		'{"a":null,"b":null,"v":"4"}' '{"a":2,"b":null,"v":"5"}' '{"a":null,"b":"y","v":"6"}' >"$BATS_TEST_TMPDIR/six"
	end() { cat; echo "{\"@gx\":\"end\",\"records\":$1}"; }
	end 6 <"$BATS_TEST_TMPDIR/six" | gx-load --table v_t.nk --key a --key b
	run gx-load --table v_t.nk --key a --key b --verify --report "$BATS_TEST_TMPDIR/rep" < <(end 6 <"$BATS_TEST_TMPDIR/six")
	[ "$status" -eq 0 ]
	[[ $output == *"6 rows compared, 0 drifted"* ]]
	[ ! -s "$BATS_TEST_TMPDIR/rep" ]
	# (NULL, NULL) changes, (2, NULL) leaves the source
	sed -e 's/"v":"4"/"v":"44"/' -e '/"a":2,/d' "$BATS_TEST_TMPDIR/six" >"$BATS_TEST_TMPDIR/five"
	run gx-load --table v_t.nk --key a --key b --repair --prune-max 100 --report "$BATS_TEST_TMPDIR/rep" \
		< <(end 5 <"$BATS_TEST_TMPDIR/five")
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.kind, .key, .columns]' "$BATS_TEST_TMPDIR/rep" | sort)" = $'["different",{"a":null,"b":null},["v"]]\n["extra",{"a":2,"b":null},null]' ]
	[[ $output == *"repaired: inserted 0, updated 1, deleted 1"* ]]
	[ "$(gx_pg -c "SELECT string_agg(v, ',' ORDER BY v) FROM v_t.nk")" = "1,2,3,44,6" ]
}

@test "gx-sync verify all verifies every entity; sync_history records each verify and status and metrics show drift" {
	run all
	[ "$status" -eq 0 ]
	gx_my -e "UPDATE users_userassociations SET primary_user_id = 7 WHERE id = 9"
	run gx-sync verify all
	echo "$output"
	[ "$status" -eq 0 ]
	n=$(gx_pg -c "SELECT count(DISTINCT sync_type) FROM orchestration.sync_history WHERE configuration->>'mode' = 'verify'")
	[ "$n" -eq "$(gx-sync list | wc -l)" ]
	drifted=$(gx_pg -c "SELECT string_agg(sync_type || ':' || (performance_metrics->>'drift_rows'), ',' ORDER BY sync_type) FROM orchestration.sync_history WHERE configuration->>'mode' = 'verify' AND (performance_metrics->>'drift_rows')::int > 0")
	users=$(gx_my -e "SELECT count(*) FROM user_data WHERE user_associations_id = 9")
	[ "$users" -gt 0 ]
	[ "$drifted" = "users:$users" ]
	run gx-state status
	[[ $output == *"drift $users (verify)"* ]]
	run gx-state metrics
	[[ $output == *"gx_last_verify_drift_rows{entity=\"users\"} $users"* ]]
	[[ $output == *"gx_last_verify_drift_rows{entity=\"appointments\"} 0"* ]]
	[[ $output == *'gx_last_verify_timestamp_seconds{entity="users"} '* ]]
	# scripts/all --verify --repair is the same command
	run all --repair
	[ "$status" -eq 0 ]
	compare users
}

