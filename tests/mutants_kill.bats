#!/usr/bin/env bats
# Clock cases the mutation check (tests/mutants, docs/testing.md) found
# untested: each of these tests kills a mutant the rest of the suite let
# live. They belong beside tests/clocks.bats (same helpers, same simulated
# clocks), whose file is edited elsewhere at the moment.

load helpers

setup_file() { gx_warehouse_start; }

teardown_file() { gx_servers_stop; }

setup() {
	gx_fresh 300
	unset GENIUS_DB_OPTION_FILE
}



# A field of the latest run's end marker.
stream() { gx_last_run "performance_metrics->'stream'->>'$1'"; }

target_city() {
	gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = '$1'"
}

@test "an arrival and a departure in one hour behind the checkpoint: the probe's checksum finds the arrival" {
	t=$(date -u -d '2026-06-01 12:00 UTC' +%s)	# after every sample cursor
	h=$((t - 7200))	# an hour in the band the next delta does not read
	read -r a b < <(gx_my -e "SELECT id FROM appointment WHERE updated_at > '1000-01-01'
		ORDER BY id LIMIT 2" | paste -sd ' ')
	gx_write_at "$h" "UPDATE appointment SET updated_at = NOW() WHERE id = $a"
	gx_at "$t"
	appointments 2>/dev/null
	# a leaves the hour (an ordinary update), b arrives in it (a writer behind):
	# the hour holds as many rows as the last run counted, other ones
	gx_write_at $((t + 30)) "UPDATE appointment SET city = 'left', updated_at = NOW() WHERE id = $a"
	gx_my -e "UPDATE appointment SET city = 'arrived', updated_at = FROM_UNIXTIME($h) WHERE id = $b"
	gx_at $((t + 60))
	run appointments
	[ "$status" -eq 0 ]
	[[ $output == *"1 rows arrived behind the last checkpoint"* ]]
	[ "$(stream late_rows)" -eq 1 ]
	[ "$(target_city left)" -eq 1 ]
	[ "$(target_city arrived)" -eq 1 ]
	compare appointments
}

@test "a transaction open longer than the lookback that has written nothing does not bound the checkpoint" {
	appointments 2>/dev/null
	gx_my -e "BEGIN; SELECT count(*) FROM appointment; SELECT SLEEP(4); COMMIT" >/dev/null &
	sleep 2
	run appointments --lookback 1 --probe-hours 0	# runs while it is open
	wait
	[ "$status" -eq 0 ]
	[[ $output != *"a transaction open since"* ]]
	[ "$(stream origin)" -eq "$(stream instant | cut -d. -f1)" ]
}
