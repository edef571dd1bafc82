#!/usr/bin/env bats
# The sync contract under a real source's clocks: DST in the server's zone,
# writers stamping from another zone or a fast clock, transactions open
# longer than the lookback, a replica that is not replicating, bounded
# backfills and rewrites. Every case ends correct (the rows reach the
# target: scripts/compare, with no healing --full before it) or loud (a
# failed run with its reason, a warning, a line in status and the metrics).
#
# The source clock is simulated per session: an option file's init-command
# pins gx-extract's NOW() and @@timestamp (`gx_at`), a writer pins its own
# (`gx_write_at`).

load helpers

setup_file() {
	gx_warehouse_start
	# The server needs the rules of the zones it is asked to use.
	mariadb-tzinfo-to-sql /usr/share/zoneinfo/America/Chicago America/Chicago 2>/dev/null |
		mariadb --no-defaults --socket="$GX_MYSQL_SOCKET" -uroot mysql
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_fresh 300
	unset GENIUS_DB_OPTION_FILE GX_SOURCE_TZ
}

teardown() {
	gx_my -e "SET GLOBAL time_zone = '+00:00';
		GRANT PROCESS, SLAVE MONITOR ON *.* TO 'genius'@'127.0.0.1', 'genius'@'localhost'" || true
	gx_my -e "STOP SLAVE; RESET SLAVE ALL" 2>/dev/null || true
	if [ -d "$BATS_FILE_TMPDIR/primary" ]; then
		"$GX_ROOT/scripts/sandbox" stop "$BATS_FILE_TMPDIR/primary" >/dev/null 2>&1 || true
		rm -rf "$BATS_FILE_TMPDIR/primary"
	fi
}

# The epoch of a UTC wall time.
utc() { date -u -d "$1 UTC" +%s; }



# The server runs in America/Chicago (DST); the maps are told so.
chicago() {
	gx_my -e "SET GLOBAL time_zone = 'America/Chicago'"
	export GX_SOURCE_TZ=America/Chicago
}

# N ids of rows with a dated cursor, comma separated.
pick() {
	gx_my -e "SELECT GROUP_CONCAT(id) FROM (SELECT id FROM appointment
		WHERE updated_at > '1000-01-01' ORDER BY id LIMIT ${2:-0}, $1) x"
}

# A field of the latest run's end marker.
stream() { gx_last_run "performance_metrics->'stream'->>'$1'"; }

target_city() {
	gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = '$1'"
}

@test "DST fall-back, DATETIME cursor: rows stamped in the repeated hour after a run in its first pass load" {
	chicago
	gx_at "$(utc '2025-11-02 06:50')"	# 01:50 CDT: checkpoint 01:45
	appointments 2>/dev/null
	gx_write_at "$(utc '2025-11-02 07:20')" \
		"UPDATE appointment SET city = 'repeated', updated_at = NOW() WHERE id IN ($(pick 5))"	# 01:20 CST
	gx_at "$(utc '2025-11-02 07:25')"
	run appointments --probe-hours 0	# the window alone must hold them
	[ "$status" -eq 0 ]
	[ "$(target_city repeated)" -eq 5 ]
	# widened by the hour the clock went back, no more
	[ "$(stream since)" = "2025-11-02 00:45:00" ]
	[[ $output == *"crosses a backward change"* ]]
	compare appointments
}

@test "DST fall-back, TIMESTAMP cursor: compared in the repeating wall time, the rows still load" {
	gx_my -e "ALTER TABLE appointment MODIFY updated_at TIMESTAMP NULL DEFAULT NULL"
	chicago
	gx_at "$(utc '2025-11-02 06:50')"
	appointments 2>/dev/null
	gx_write_at "$(utc '2025-11-02 07:20')" \
		"UPDATE appointment SET city = 'repeated ts', updated_at = NOW() WHERE id IN ($(pick 4))"
	gx_at "$(utc '2025-11-02 07:25')"
	run appointments --probe-hours 0
	[ "$status" -eq 0 ]
	[ "$(target_city 'repeated ts')" -eq 4 ]
	compare appointments
}

@test "DST fall-back, TIMESTAMP cursor: a bounded walk through the repeated hour skips no row" {
	gx_my -e "ALTER TABLE appointment MODIFY updated_at TIMESTAMP NULL DEFAULT NULL"
	chicago
	ids=$(pick 3)
	a=${ids%%,*} rest=${ids#*,} b=${rest%%,*} c=${rest#*,}
	gx_write_at "$(utc '2025-11-02 06:50')" "UPDATE appointment SET updated_at = NOW() WHERE id = $a"	# 01:50 CDT
	gx_write_at "$(utc '2025-11-02 07:20')" "UPDATE appointment SET updated_at = NOW() WHERE id = $b"	# 01:20 CST
	gx_write_at "$(utc '2025-11-02 07:50')" "UPDATE appointment SET updated_at = NOW() WHERE id = $c"	# 01:50 CST
	want=$(gx_my -e "SELECT GROUP_CONCAT(id ORDER BY id) FROM appointment
		WHERE updated_at >= '2025-11-02' AND updated_at < '2025-11-03'")
	after=() got=()
	for _ in $(seq 20); do
		gx-extract --entity appointments --since 2025-11-02 --until 2025-11-03 --limit 1 \
			"${after[@]}" >"$BATS_TEST_TMPDIR/walk" 2>/dev/null
		got+=("$(head -n -1 "$BATS_TEST_TMPDIR/walk" | jq -r .id)")
		[ "$(tail -n 1 "$BATS_TEST_TMPDIR/walk" | jq -r .more)" = true ] || break
		after=(--after "$(tail -n 1 "$BATS_TEST_TMPDIR/walk" | jq -c .last)")
	done
	[ "$(printf '%s\n' "${got[@]}" | grep . | sort -n | paste -sd,)" = "$want" ]
	# in the cursor's wall time: 01:20 (second pass) comes before both 01:50s
	[ "${got[0]}" = "$b" ]
}

@test "DST spring-forward: the window is the wall time of the checkpoint, not widened, and nothing is lost" {
	chicago
	gx_at "$(utc '2025-03-09 07:58')"	# 01:58 CST; 02:00 CST becomes 03:00 CDT
	appointments 2>/dev/null
	gx_write_at "$(utc '2025-03-09 08:05')" \
		"UPDATE appointment SET city = 'spring', updated_at = NOW() WHERE id IN ($(pick 3))"	# 03:05 CDT
	gx_at "$(utc '2025-03-09 08:10')"
	run appointments --probe-hours 0
	[ "$status" -eq 0 ]
	[ "$(stream since)" = "2025-03-09 01:53:00" ]
	[ "$(target_city spring)" -eq 3 ]
	compare appointments
}

@test "runs inside the repeated hour: each pass's rows load, and a run wholly in the second pass is not widened" {
	chicago
	gx_at "$(utc '2025-11-02 06:20')"	# 01:20 CDT
	appointments 2>/dev/null
	gx_write_at "$(utc '2025-11-02 06:40')" \
		"UPDATE appointment SET city = 'first pass', updated_at = NOW() WHERE id IN ($(pick 3))"
	gx_at "$(utc '2025-11-02 07:05')"	# 01:05 CST
	appointments --probe-hours 0 2>/dev/null
	[ "$(stream since)" = "2025-11-02 00:15:00" ]
	[ "$(target_city 'first pass')" -eq 3 ]
	gx_write_at "$(utc '2025-11-02 07:10')" \
		"UPDATE appointment SET city = 'second pass', updated_at = NOW() WHERE id IN ($(pick 3 10))"
	gx_at "$(utc '2025-11-02 07:30')"	# 01:30 CST
	appointments --probe-hours 0 2>/dev/null
	[ "$(stream since)" = "2025-11-02 01:00:00" ]
	[ "$(target_city 'second pass')" -eq 3 ]
	compare appointments
}

@test "writers in a zone behind the server's: found behind the checkpoint, loaded and said (default settings)" {
	appointments 2>/dev/null
	gx_my -e "SET time_zone = '-05:00';
		UPDATE appointment SET city = 'behind', updated_at = NOW() WHERE id IN ($(pick 4))"
	run appointments
	[ "$status" -eq 0 ]
	[ "$(target_city behind)" -eq 4 ]
	[[ $output == *"4 rows arrived behind the last checkpoint"* ]]
	[ "$(stream late_rows)" -eq 4 ]
	run gx-state status
	[[ $output == *"late 4"* ]]
	run gx-state metrics
	[[ $output == *'gx_last_run_late_rows{entity="appointments"} 4'* ]]
	# the next run, with nothing new, finds nothing late
	run appointments
	[ "$(stream late_rows)" -eq 0 ]
	[[ $output != *"arrived behind"* ]]
	compare appointments
}

@test "--cursor-tz names the writers' zone: their rows are inside the window, nothing late" {
	appointments --cursor-tz -05:00 2>/dev/null
	gx_my -e "SET time_zone = '-05:00';
		UPDATE appointment SET city = 'writer zone', updated_at = NOW() WHERE id IN ($(pick 4))"
	run appointments --cursor-tz -05:00 --probe-hours 0
	[ "$status" -eq 0 ]
	[ "$(target_city 'writer zone')" -eq 4 ]
	[[ $output != *"arrived behind"* ]]
	[ "$(stream cursor_tz)" = "-05:00" ]
	run appointments --cursor-tz Mars/Olympus_Mons
	[ "$status" -eq 1 ]
	[[ $output == *"does not know the time zone 'Mars/Olympus_Mons'"* ]]
	compare appointments
}

@test "a fast writer clock: a bounded walk that stops on a future cursor loses no ordinary update made meanwhile" {
	t=$(utc '2026-06-01 12:00')	# after every sample cursor
	gx_at "$t"
	appointments 2>/dev/null
	undated=$(gx_my -e "SELECT count(*) FROM appointment WHERE updated_at IS NULL
		OR updated_at < '1000-01-01'")
	gx_write_at $((t + 10)) "UPDATE appointment SET city = 'ordinary', updated_at = NOW() WHERE id IN ($(pick 3))"
	gx_write_at $((t + 86400)) "UPDATE appointment SET city = 'fast', updated_at = NOW() WHERE id IN ($(pick 3 20))"
	gx_at $((t + 20))
	# the undated rows, 3 ordinary ones, then the first future one: the walk stops on it
	run appointments --max-records $((undated + 4)) --probe-hours 0
	[ "$(stream more)" = true ]
	[[ $output == *"cursor ahead of the source clock"* ]]
	gx_write_at $((t + 30)) "UPDATE appointment SET city = 'meanwhile', updated_at = NOW() WHERE id IN ($(pick 4 40))"
	gx_at $((t + 1000))
	appointments --probe-hours 0 2>/dev/null	# the walk ends
	[ "$(stream more)" = false ]
	gx_at $((t + 2000))
	appointments --probe-hours 0 2>/dev/null	# looks back from the walk's start
	[ "$(target_city meanwhile)" -eq 4 ]
	[ "$(target_city fast)" -eq 3 ]
	compare appointments
}

@test "a transaction open longer than the lookback: the checkpoint is bounded by it, its row loads" {
	appointments 2>/dev/null
	id=$(pick 1)
	gx_my -e "BEGIN; UPDATE appointment SET city = 'long trx', updated_at = NOW() WHERE id = $id;
		SELECT SLEEP(4); COMMIT" >/dev/null &
	sleep 2
	run appointments --lookback 1 --probe-hours 0	# runs while it is open
	[[ $output == *"a transaction open since"* ]]
	wait
	appointments --lookback 1 --probe-hours 0 2>/dev/null
	[ "$(target_city 'long trx')" -eq 1 ]
	compare appointments
}

@test "an account that cannot see open transactions or replica lag says so on every run, in status and metrics" {
	gx_my -e "REVOKE PROCESS, SLAVE MONITOR ON *.* FROM 'genius'@'127.0.0.1', 'genius'@'localhost'"
	run appointments
	[ "$status" -eq 0 ]
	[[ $output == *"cannot see open transactions or replication lag"* ]]
	run appointments
	[[ $output == *"cannot see open transactions"* ]]
	run gx-state status
	[[ $output == *"blind: open_transactions,replica_lag"* ]]
	run gx-state metrics
	[[ $output == *'gx_source_blind{entity="appointments"} 1'* ]]
	# with the privileges back, the warning and the flag go
	gx_my -e "GRANT PROCESS, SLAVE MONITOR ON *.* TO 'genius'@'127.0.0.1', 'genius'@'localhost'"
	run appointments
	[[ $output != *"cannot see"* ]]
	run gx-state metrics
	[[ $output == *'gx_source_blind{entity="appointments"} 0'* ]]
}

@test "a long transaction the account cannot see is still found behind the checkpoint by the probe" {
	gx_my -e "REVOKE PROCESS ON *.* FROM 'genius'@'127.0.0.1', 'genius'@'localhost'"
	appointments 2>/dev/null
	id=$(pick 1)
	gx_my -e "BEGIN; UPDATE appointment SET city = 'unseen trx', updated_at = NOW() WHERE id = $id;
		SELECT SLEEP(4); COMMIT" >/dev/null &
	sleep 2
	appointments --lookback 1 2>/dev/null
	wait
	run appointments --lookback 1
	[[ $output == *"1 rows arrived behind the last checkpoint"* ]]
	[ "$(target_city 'unseen trx')" -eq 1 ]
	compare appointments
}

@test "a source that is a replica not replicating refuses the run: its checkpoint would skip what it has not applied" {
	appointments 2>/dev/null
	gx_my -e "CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = 9, MASTER_USER = 'nobody',
		MASTER_CONNECT_RETRY = 1; START SLAVE"
	run appointments
	[ "$status" -eq 2 ]
	[[ $output == *"the source is a replica that is not replicating"* ]]
	[ "$(gx_last_run status)" = failed ]
	[[ $(gx_last_run error_message) == *"replica"* ]]
}

@test "a lagging replica as the source: the checkpoint moves back by its lag, rows it applies late still load" {
	# A primary with a binary log and the same sample; the test's source
	# server becomes its replica, 4 s behind (MASTER_DELAY).
	p=$BATS_FILE_TMPDIR/primary
	GX_SANDBOX_MYSQL_ARGS="--log-bin=primary --server-id=7" "$GX_ROOT/scripts/sandbox" start "$p" >/dev/null 2>&1
	pmy() { mariadb --no-defaults --socket="$p/run/mysql.sock" -uroot --batch --skip-column-names "$@"; }
	"$GX_ROOT/scripts/genius-sample" --rows 300 | pmy genius
	[ "$(pmy genius -e 'CHECKSUM TABLE appointment' | cut -f2)" = "$(gx_my -e 'CHECKSUM TABLE appointment' | cut -f2)" ]
	pmy <<<"CREATE USER repl@'127.0.0.1' IDENTIFIED BY 'repl-only-here'; GRANT REPLICATION SLAVE ON *.* TO repl@'127.0.0.1'"
	read -r file pos _ < <(pmy -e "SHOW MASTER STATUS")
	gx_my <<<"CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $(sed -n 's/^export GENIUS_DB_PORT=//p' "$p/env"),
		MASTER_USER = 'repl', MASTER_PASSWORD = 'repl-only-here', MASTER_LOG_FILE = '$file',
		MASTER_LOG_POS = $pos, MASTER_DELAY = 4; START SLAVE"
	appointments 2>/dev/null
	pmy genius -e "UPDATE appointment SET city = 'via replica', updated_at = NOW() WHERE id IN ($(pick 3))"
	sleep 2
	run appointments --lookback 1 --probe-hours 0	# the replica has not applied them yet
	[ "$status" -eq 0 ]
	[[ $output == *"the source replica is "*" s behind its primary"* ]]
	[ "$(target_city 'via replica')" -eq 0 ]
	for _ in $(seq 100); do
		[ "$(gx_my -e "SELECT count(*) FROM appointment WHERE city = 'via replica'")" -eq 3 ] && break
		sleep 0.2
	done
	[ "$(gx_my -e "SELECT count(*) FROM appointment WHERE city = 'via replica'")" -eq 3 ]
	appointments --lookback 1 --probe-hours 0 2>/dev/null
	[ "$(target_city 'via replica')" -eq 3 ]
	compare appointments
}

# Runs CMD until the latest run's end marker says the walk is done; prints
# how many runs it took (at most 60).
walk() {
	local n=0
	while :; do
		"$@" 2>/dev/null
		n=$((n + 1))
		[ "$(stream more)" = true ] || break
		[ "$n" -lt 60 ] || break
	done
	echo "$n"
}

@test "repeated --since D --max-records N walks the backfill to its end without touching the delta checkpoint" {
	appointments 2>/dev/null
	before=$(gx-state checkpoint appointments)
	want=$(gx_my -e "SELECT count(*) FROM appointment WHERE updated_at IS NULL
		OR updated_at < '1000-01-01' OR updated_at >= '2024-01-01'")
	gx_pg -c "TRUNCATE ingestion.genius_appointment"
	runs=$(walk appointments --since 2024-01-01 --max-records 20)
	[ "$runs" -gt 2 ]
	[ "$runs" -lt 60 ]
	[ "$(gx_pg -c "SELECT sum(records_processed) FROM orchestration.sync_history
		WHERE configuration->>'mode' = 'backfill'")" -eq "$want" ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment")" -eq "$want" ]
	[ "$(gx-state checkpoint appointments)" = "$before" ]
	# run again once it is done: a new walk from the start
	appointments --since 2024-01-01 --max-records 20 2>/dev/null
	[ "$(gx_last_run records_processed)" -eq 20 ]
	[ -z "$(stream after)" ]	# JSON null
}

@test "repeated --since D --end-date E --max-records N walks its window to the end" {
	want=$(gx_my -e "SELECT count(*) FROM appointment WHERE updated_at >= '2023-01-01'
		AND updated_at < '2024-01-01'")
	runs=$(walk appointments --since 2023-01-01 --end-date 2023-12-31 --max-records 15)
	[ "$runs" -gt 2 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment")" -eq "$want" ]
	[ "$(gx_pg -c "SELECT sum(records_processed) FROM orchestration.sync_history")" -eq "$want" ]
}

@test "repeated --force-overwrite --max-records N rewrites every row once, then starts over" {
	appointments 2>/dev/null
	total=$(gx_my -e "SELECT count(*) FROM appointment")
	runs=$(walk appointments --force-overwrite --max-records 50)
	[ "$runs" -ge 6 ]
	[ "$(gx_pg -c "SELECT sum(records_updated) FROM orchestration.sync_history
		WHERE configuration->>'mode' = 'force-overwrite'")" -eq "$total" ]
}

@test "repeated --full --max-records N reads every row once and the delta goes on from the walk's start" {
	total=$(gx_my -e "SELECT count(*) FROM appointment")
	runs=$(walk appointments --full --max-records 50)
	[ "$runs" -ge 6 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment")" -eq "$total" ]
	[ "$(gx_pg -c "SELECT sum(records_processed) FROM orchestration.sync_history")" -eq "$total" ]
	appointments 2>/dev/null
	[ "$(gx_last_run "configuration->>'mode'")" = delta ]
	compare appointments
}

@test "scripts/all --since D: cursorless tables are read whole with a note, their children run" {
	run all --since 2024-01-01
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"appointment_types has no cursor: --since/--end-date do not apply; reading it whole"* ]]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE status <> 'success'")" -eq 0 ]
	[ "$(gx_pg -c "SELECT count(DISTINCT sync_type) FROM orchestration.sync_history
		WHERE sync_type <> 'all'")" -eq 18 ]
	run all --since 2024-01-01 --end-date 2024-06-30 --only appointment_types,appointments
	[ "$status" -eq 0 ]
}

@test "-- @cursor NONE in capitals is cursorless to the scripts as to gx-extract" {
	q="$BATS_TEST_TMPDIR/queries"
	cp -r "$GX_ROOT/extract/queries" "$q"
	sed -i 's/^-- @cursor none/-- @cursor NONE/' "$q/appointment_types.sql"
	grep -q '^-- @cursor NONE' "$q/appointment_types.sql"
	GX_QUERIES=$q run appointment_types --since 2024-01-01
	[ "$status" -eq 0 ]
	[[ $output == *"has no cursor"* ]]
	GX_QUERIES=$q run appointment_types
	[ "$status" -eq 0 ]
	[ "$(gx_last_run "configuration->>'mode'")" = full ]
}

# One seeded walk of a simulated clock through a DST fall-back, with writers
# on the server's clock, a zone behind it, a fast clock and open
# transactions, and plain, bounded and full runs; compared with no healing
# run. GX_SEED picks the sequence (make test-faults runs several).
@test "random interleavings through a DST fall-back with skewed and fast writers end equal to the source" {
	chicago
	RANDOM=${GX_SEED:-11}
	t=$(utc '2025-11-02 04:30')
	next_id=1400000
	gx_at "$t"
	appointments 2>/dev/null
	for step in $(seq 1 30); do
		t=$((t + 60 * (RANDOM % 15 + 1)))
		case $((RANDOM % 5)) in
		0) gx_write_at "$t" "UPDATE appointment SET city = 'now $step', updated_at = NOW()
			ORDER BY RAND($RANDOM) LIMIT $((RANDOM % 8 + 1))" ;;
		1) gx_write_at "$t" "INSERT INTO appointment (id, prospect_id, type_id, add_user_id, add_date, updated_at)
			SELECT $next_id + seq, seq, 2, 3, NOW(), NOW() FROM seq_1_to_$((RANDOM % 5 + 1))"
		   next_id=$((next_id + 100)) ;;
		2) gx_write_at "$t" "SET time_zone = '-07:00'; UPDATE appointment SET city = 'behind $step',
			updated_at = NOW() ORDER BY RAND($RANDOM) LIMIT $((RANDOM % 4 + 1))" ;;
		3) gx_write_at $((t + 7200)) "UPDATE appointment SET city = 'fast $step', updated_at = NOW()
			ORDER BY RAND($RANDOM) LIMIT $((RANDOM % 3 + 1))" ;;
		4) gx_write_at $((t - 900)) "UPDATE appointment SET city = 'late commit $step', updated_at = NOW()
			ORDER BY RAND($RANDOM) LIMIT 1" ;;	# stamped 15 min ago, committed now
		esac
		gx_at $((t + 30))
		case $((RANDOM % 3)) in
		0) appointments --lookback 60 2>/dev/null ;;
		1) appointments --lookback 60 --max-records $((RANDOM % 12 + 1)) 2>/dev/null ;;
		2) if [ $((RANDOM % 5)) = 0 ]; then appointments --full 2>/dev/null; fi ;;
		esac
	done
	t=$((t + 60))
	gx_at "$t"
	while [ "$(stream more)" = true ]; do
		appointments --lookback 60 2>/dev/null
	done
	appointments --lookback 60 2>/dev/null
	compare appointments
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE status <> 'success'")" -eq 0 ]
}
