#!/usr/bin/env bats
# What a sync prints while it runs (docs/operations.md, "What a run prints"):
# on a terminal a start line and live progress; off one a UTC time at the
# start of every text line; with --log-format json every line an object that
# names its entity and run; and a refused run names the run holding the lock.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	gx_warehouse_start
	gx_sample 300
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	export GX_REJECTS_DIR="$BATS_TEST_TMPDIR/rejects"
	gx_pg -c "TRUNCATE $(gx_targets), orchestration.sync_history"
}

TS='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

# A gx-map that reads slowly (about 1,500 rows/s), so that a sync lasts long
# enough for progress lines: gx-extract reads on while its output drains.
slow_map() { gx_slow_map 30 0.02; }

# A table big enough to outlast gx-extract's 1 MB output buffer and the pipe.
big_table() {
	[ "$(gx_my -e 'SELECT count(*) FROM appointment')" -ge 9000 ] || gx_sample 9000
}

# CMD under a pseudo-terminal (script(1)), its output with \r as line ends.
on_tty() {
	script -qec "$1" /dev/null </dev/null | sed 's/\r$//' | tr '\r' '\n' | sed 's/\x1b\[K//g'
}

# ---- on a terminal ---------------------------------------------------------

@test "on a terminal a sync prints its start line at once, then progress while it reads" {
	command -v script >/dev/null || skip "script(1) is not installed"
	big_table
	slow_map
	unset GX_LOG_TIMESTAMPS
	on_tty "appointments --full --progress=1" >"$BATS_TEST_TMPDIR/tty"
	cat "$BATS_TEST_TMPDIR/tty"
	out=$(grep -v '^$' "$BATS_TEST_TMPDIR/tty")
	id=$(gx_last_run id)
	# the first line: the run, its mode and window
	[ "$(head -n 1 <<<"$out")" = "appointments: run $id: full read" ]
	# progress lines (rows, time, rows/s), before the stages' own lines
	grep -qE '^appointments: progress: [0-9]+ records in [0-9]+\.[0-9] s \([0-9]+ rows/s\)$' <<<"$out"
	first_progress=$(grep -n ': progress: ' <<<"$out" | head -n 1 | cut -d: -f1)
	load_line=$(grep -n '^gx-load: ' <<<"$out" | head -n 1 | cut -d: -f1)
	[ "$first_progress" -lt "$load_line" ]
	# no time on a terminal
	[ "$(grep -cE "^$TS" <<<"$out")" -eq 0 ]
	[ "$(gx_last_run status)" = success ]
}

@test "a delta's start line names its checkpoint and probe; --no-progress (through gx-sync) prints none" {
	command -v script >/dev/null || skip "script(1) is not installed"
	appointments --full 2>/dev/null
	unset GX_LOG_TIMESTAMPS
	on_tty "gx-sync appointments --no-progress" >"$BATS_TEST_TMPDIR/tty"
	cat "$BATS_TEST_TMPDIR/tty"
	id=$(gx_last_run id)
	line=$(head -n 1 "$BATS_TEST_TMPDIR/tty")
	[[ $line =~ ^appointments:\ run\ $id:\ delta\ from\ [0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:.]+(\ UTC)?\ \(checkpoint\),\ lookback\ 300\ s,\ probe\ 24\ h$ ]]
	[ "$(grep -c 'progress:' "$BATS_TEST_TMPDIR/tty")" -eq 0 ]
	grep -q '^gx-load: ' "$BATS_TEST_TMPDIR/tty"
}

@test "all --jobs 2 on a terminal shows each entity's start line as it starts, and no progress" {
	command -v script >/dev/null || skip "script(1) is not installed"
	unset GX_LOG_TIMESTAMPS
	on_tty "all --jobs 2 --only services,user_titles" >"$BATS_TEST_TMPDIR/tty"
	cat "$BATS_TEST_TMPDIR/tty"
	for e in services user_titles; do
		id=$(gx_pg -c "SELECT id FROM orchestration.sync_history WHERE sync_type = '$e'")
		# live (unprefixed), and before the summary
		start=$(grep -n "^$e: run $id: full read$" "$BATS_TEST_TMPDIR/tty" | cut -d: -f1)
		summary=$(grep -n '^entity ' "$BATS_TEST_TMPDIR/tty" | cut -d: -f1)
		[ "$start" -lt "$summary" ]
	done
	[ "$(grep -c 'progress:' "$BATS_TEST_TMPDIR/tty")" -eq 0 ]
	grep -q '^all: 2 entities: 2 success' "$BATS_TEST_TMPDIR/tty"
}

# ---- off a terminal --------------------------------------------------------

@test "off a terminal every stderr line of a sync starts with the UTC time" {
	unset GX_LOG_TIMESTAMPS
	before=$(date -u +%s)
	run --separate-stderr appointments --full --start-date 2000-01-01
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -ge 4 ]
	for line in "${stderr_lines[@]}"; do
		[[ $line =~ ^($TS)\ (appointments|gx-extract|gx-map|gx-load|gx-state):\  ]] ||
			{ echo "no time: $line"; false; }
		t=$(date -u -d "${BASH_REMATCH[1]}" +%s)
		[ "$t" -ge "$((before - 1))" ] || { echo "too early: $line"; false; }
		[ "$t" -le "$(($(date -u +%s) + 1))" ] || { echo "too late: $line"; false; }
	done
	# the script's own lines, the start line and each stage's summary
	id=$(gx_last_run id)
	[[ $stderr =~ $TS\ appointments:\ warning:\ --start-date\ is\ deprecated ]]
	[[ $stderr =~ $TS\ appointments:\ run\ $id:\ backfill\ from\ 2000-01-01 ]]
	[[ $stderr =~ $TS\ gx-extract:\ [0-9]+\ records ]]
	[[ $stderr =~ $TS\ gx-load:\  ]]
}

@test "off a terminal the scripts' errors and all's relayed lines are timed too; programs by hand are not" {
	unset GX_LOG_TIMESTAMPS
	run --separate-stderr appointments --since 2026-13-01
	[ "$status" -eq 1 ]
	[[ $stderr =~ ^$TS\ appointments:\ --since:\ expected\ a\ date\ YYYY-MM-DD,\ got\ \'2026-13-01\'$ ]]
	run --separate-stderr gx-sync nosuchentity
	[ "$status" -eq 1 ]
	[[ $stderr =~ ^$TS\ gx-sync:\ unknown\ entity\ \'nosuchentity\' ]]
	run --separate-stderr all --only services
	echo "$stderr"
	[ "$status" -eq 0 ]
	for line in "${stderr_lines[@]}"; do
		[[ $line =~ ^$TS\ services:\  ]] || { echo "not timed and named: $line"; false; }
	done
	[[ $stderr =~ $TS\ services:\ gx-load:\  ]]
	[[ $stderr =~ $TS\ services:\ run\ [0-9]+:\ full\ read ]]
	# a program run by hand: a plain Unix tool's line
	run --separate-stderr gx-state --no-such-option
	[ "$stderr" = "gx-state: --no-such-option: unknown option (see gx-state --help)" ]
	GX_LOG_TIMESTAMPS=1 run --separate-stderr gx-state --no-such-option
	[[ $stderr =~ ^$TS\ gx-state:\ --no-such-option:\ unknown\ option ]]
}

# ---- JSON ------------------------------------------------------------------

@test "--log-format json: every stderr line of an entity script is an object with its entity and run id" {
	run --separate-stderr appointments --log-format json --full --start-date 2000-01-01
	echo "$stderr"
	[ "$status" -eq 0 ]
	id=$(gx_last_run id)
	[ "${#stderr_lines[@]}" -ge 4 ]
	for line in "${stderr_lines[@]}"; do
		jq -e 'type == "object" and .entity == "appointments" and (.time | test("Z$"))' \
			<<<"$line" >/dev/null || { echo "not an appointments line: $line"; false; }
	done
	# every stage's line and the start line carry the run; the warning
	# (before the run began) carries none
	[ "$(printf '%s\n' "${stderr_lines[@]}" | jq -s --argjson id "$id" \
		'[.[] | select(.program != "appointments" or (.message | startswith("run ")))
		| select(.run_id != $id)] | length')" -eq 0 ]
	[ "$(printf '%s\n' "${stderr_lines[@]}" | jq -rs --argjson id "$id" \
		'.[] | select(.program == "appointments" and .run_id == $id) | .message')" = "run $id: backfill from 2000-01-01" ]
	[ "$(printf '%s\n' "${stderr_lines[@]}" | jq -rs \
		'.[] | select(.level == "warning" and .run_id == null) | .message' | sort -u)" = "--start-date is deprecated, use --since" ]
	printf '%s\n' "${stderr_lines[@]}" | jq -se 'map(.program) | index("gx-load") and index("gx-extract")' >/dev/null
}

@test "--log-format json: a script's error is one JSON line" {
	GX_LOG_FORMAT=json run --separate-stderr appointments --since 2026-13-01
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "$(jq -c '[.program, .entity, .level, .message]' <<<"$stderr")" = \
		'["appointments","appointments","error","--since: expected a date YYYY-MM-DD, got '\''2026-13-01'\''"]' ]
}

@test "all --jobs 2 --log-format json: no ENTITY: prefix, and each line's entity and run id are its run's" {
	run --separate-stderr all --jobs 2 --only services,user_titles,appointment_types --log-format json
	echo "$stderr"
	[ "$status" -eq 0 ]
	[ "${#stderr_lines[@]}" -ge 9 ]
	# the runs of this 'all', as {"id": entity}
	runs=$(gx_pg -c "SELECT json_object_agg(id, sync_type) FROM orchestration.sync_history")
	for line in "${stderr_lines[@]}"; do
		jq -e --argjson runs "$runs" 'type == "object" and .run_id != null
			and $runs[.run_id | tostring] == .entity' <<<"$line" >/dev/null ||
			{ echo "not its run's line: $line"; false; }
	done
	# each entity's start line, made by its own script
	for e in services user_titles appointment_types; do
		[ "$(printf '%s\n' "${stderr_lines[@]}" | jq -rs --arg e "$e" \
			'[.[] | select(.entity == $e and (.message | startswith("run ")))] | map(.program) | join(",")')" = "$e" ]
	done
}

@test "all --debug --log-format json: its own debug lines (make's, the Makefile's) are JSON too" {
	run --separate-stderr all --only services --debug --log-format json
	[ "$status" -eq 0 ]
	for line in "${stderr_lines[@]}"; do
		jq -e 'type == "object" and (.entity == "services" or .entity == "all")' \
			<<<"$line" >/dev/null || { echo "not a JSON line of the run: $line"; false; }
	done
	[ "$(printf '%s\n' "${stderr_lines[@]}" | jq -s '[.[] | select(.program == "all"
		and .level == "debug" and (.message | startswith("Makefile: services:")))] | length')" -eq 1 ]
}

# ---- the lock --------------------------------------------------------------

@test "a run refused by the lock names the run holding it: id, host, pid, how long" {
	big_table
	slow_map
	appointments --full 2>/dev/null &
	holder=$!
	for _ in $(seq 100); do
		[ -z "$(gx_pg -c "SELECT id FROM orchestration.sync_history WHERE status = 'running'")" ] || break
		sleep 0.1
	done
	read -r id host pid < <(gx_pg -F ' ' -c "SELECT id, configuration->>'host', configuration->>'pid'
		FROM orchestration.sync_history WHERE status = 'running'")
	run --separate-stderr appointments
	text_status=$status text_err=$stderr
	GX_LOG_FORMAT=json run --separate-stderr appointments
	json_status=$status json_err=$stderr
	wait "$holder"
	echo "$text_err"; echo "$json_err"
	[ "$host" = "$(hostname)" ]
	[ "$text_status" -eq 4 ]
	[[ $text_err == "gx-state: appointments: another run holds the lock: run $id on $host, pid $pid, running for "[0-9]*" s (see gx-state list appointments)" ]]
	[ "$json_status" -eq 4 ]
	jq -e --argjson id "$id" '.entity == "appointments" and .level == "error"
		and (.message | startswith("appointments: another run holds the lock: run \($id) on "))' <<<"$json_err"
	# the holder went on undisturbed; the refused runs left no row
	[ "$(gx_pg -c "SELECT string_agg(status, ',') FROM orchestration.sync_history")" = success ]
}

@test "a lock held with no run recorded yet is refused as before" {
	gx-state lock appointments -- sleep 3 &
	sleep 1
	run --separate-stderr appointments
	wait
	[ "$status" -eq 4 ]
	[ "$stderr" = "gx-state: appointments: another run holds the lock (see gx-state list appointments)" ]
}
