#!/usr/bin/env bats
# scripts/all: every entity in dependency order (make schedules them), the
# summary, failures with and without --keep-going, --jobs, the 'all' row of
# sync_history; and the scheduling examples of docs/scheduling.md.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	gx_warehouse_start
}

teardown_file() { gx_servers_stop; }

setup() {
	ALL=$GX_ROOT/scripts/all
	mapfile -t ENTITIES < <(awk '!/^[[:space:]]*(#|$)/ { print $1 }' "$GX_ROOT/scripts/entities")
	gx_fresh
}


# The summary line of ENTITY in $output, as "status created updated".
summary() {
	printf '%s\n' "$output" | awk -v e="$1" '$1 == e { print $2, $3, $4 }'
}

# A column of the 'all' row.
all_run() {
	gx_pg -c "SELECT $1 FROM orchestration.sync_history WHERE sync_type = 'all' ORDER BY id DESC LIMIT 1"
}

# Every target table, key order, without the columns a sync stamps or the
# warehouse makes (sync_*, the surrogate id of appointment services).
dump_targets() {
	local table
	while read -r _ table _; do
		gx_pg -c "SELECT '$table', (to_jsonb(t) - 'sync_created_at' - 'sync_updated_at'
			- CASE WHEN '$table' = 'ingestion.genius_appointment_service' THEN 'id' ELSE '' END)::text
			FROM $table t ORDER BY 2"
	done < <(grep -Ev '^[[:space:]]*(#|$)' "$GX_ROOT/scripts/entities")
}

# ---- runs ------------------------------------------------------------------

@test "a full run syncs every entity in registry order, one summary line each, and an 'all' row" {
	run --separate-stderr "$ALL"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	# the header, one line per entity in registry order, the total
	[ "$(printf '%s\n' "$output" | sed -n '2,19p' | awk '{ print $1 }')" = "$(printf '%s\n' "${ENTITIES[@]}")" ]
	[ "$(printf '%s\n' "$output" | sed -n '2,19p' | awk '$2 == "success"' | wc -l)" -eq 18 ]
	[[ ${lines[19]} == "all: 18 entities: 18 success, 0 partial, 0 failed, 0 skipped (run "* ]]
	[ "$(summary leads)" = "success 300 0" ]
	[ "$(summary appointment_services)" = "success 600 0" ]
	# each entity's messages came out on stderr, prefixed by its name
	[[ $stderr == *"leads: gx-extract: 300 records"* ]]
	# the history: 18 entity runs in registry order, inside one 'all' run
	[ "$(gx_pg -c "SELECT sync_type FROM orchestration.sync_history
		WHERE sync_type <> 'all' AND status = 'success' ORDER BY id")" = "$(printf '%s\n' "${ENTITIES[@]}")" ]
	[ "$(all_run status)" = success ]
	[ "$(all_run "configuration->>'jobs'")" = 1 ]
	[ "$(all_run "configuration->>'entities'")" = "$(IFS=,; echo "${ENTITIES[*]}")" ]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history e, orchestration.sync_history a
		WHERE a.sync_type = 'all' AND e.sync_type <> 'all'
		AND e.start_time >= a.start_time AND e.end_time <= a.end_time")" -eq 18 ]
	# and every target holds its source's rows
	while read -r _ table _ src; do
		[ "$(gx_pg -c "SELECT count(*) FROM $table")" -eq "$(gx_my -e "SELECT count(*) FROM \`$src\`")" ]
	done < <(grep -Ev '^[[:space:]]*(#|$)' "$GX_ROOT/scripts/entities")
}

@test "the next run is a delta: only the changed rows are updated, nothing created" {
	"$ALL" >/dev/null 2>&1
	gx_my -e "UPDATE \`lead\` SET updated_at = NOW() ORDER BY lead_id LIMIT 2;
		UPDATE division SET label = 'moved', updated_at = NOW() WHERE id = 7"
	run --separate-stderr "$ALL"
	echo "$output"; echo "$stderr"
	[ "$status" -eq 0 ]
	[ "$(summary leads)" = "success 0 2" ]
	[ "$(summary divisions)" = "success 0 1" ]
	for e in "${ENTITIES[@]}"; do
		case $e in leads | divisions) continue ;; esac
		[ "$(summary "$e")" = "success 0 0" ]
	done
	# cursorless reference tables are read whole, the others from their checkpoint
	[ "$(gx_pg -c "SELECT string_agg(DISTINCT configuration->>'mode', ',') FROM
		(SELECT DISTINCT ON (sync_type) * FROM orchestration.sync_history
		 WHERE sync_type NOT IN ('all', 'appointment_types', 'appointment_outcome_types')
		 ORDER BY sync_type, id DESC) x")" = delta ]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE sync_type = 'all'
		AND status = 'success'")" -eq 2 ]
}

@test "a broken entity fails the run: non-zero exit, no entity started after it" {
	gx_my -e "DROP TABLE service"
	run --separate-stderr "$ALL"
	echo "$output"; echo "$stderr"
	[ "$status" -ne 0 ]
	[ "$(summary division_groups)" = "success 9 0" ]
	[ "$(summary user_titles)" = "success 21 0" ]
	[ "$(summary services | cut -d' ' -f1)" = failed ]
	[ "$(summary appointment_types | cut -d' ' -f1)" = skipped ]
	[ "$(summary appointment_services | cut -d' ' -f1)" = skipped ]
	[[ ${lines[19]} == "all: 18 entities: 2 success, 0 partial, 1 failed, 15 skipped"* ]]
	[[ $stderr == *"services: "*"service"*"doesn't exist"* ]]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE sync_type <> 'all'")" -eq 3 ]
	[ "$(all_run status)" = failed ]
	[[ $(all_run error_message) == "failed: services; not run: appointment_types"*"; services: "*"doesn't exist"* ]]
}

@test "--keep-going runs every entity that does not depend on the broken one" {
	gx_my -e "DROP TABLE service"
	run --separate-stderr "$ALL" --keep-going
	echo "$output"; echo "$stderr"
	[ "$status" -ne 0 ]
	[ "$(summary services | cut -d' ' -f1)" = failed ]
	# quotes and appointment_services need services: not run
	[ "$(summary quotes | cut -d' ' -f1)" = skipped ]
	[ "$(summary appointment_services | cut -d' ' -f1)" = skipped ]
	[[ ${lines[19]} == "all: 18 entities: 15 success, 0 partial, 1 failed, 2 skipped"* ]]
	[ "$(summary appointments)" = "success 300 0" ]
	[ "$(summary leads)" = "success 300 0" ]
	[ "$(all_run status)" = failed ]
	[[ $(all_run error_message) == "failed: services; not run: quotes appointment_services;"* ]]
	[ "$(all_run "configuration->>'keep_going'")" = true ]
}

@test "--jobs 2 gives the same target as --jobs 1, parents always finished before their children" {
	run "$ALL" --jobs 1
	[ "$status" -eq 0 ]
	dump_targets >"$BATS_TEST_TMPDIR/jobs1"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/jobs1")" -gt 2000 ]
	gx_pg -c "TRUNCATE $(gx_targets), orchestration.sync_history"
	run "$ALL" --jobs 2
	[ "$status" -eq 0 ]
	[ "$(all_run "configuration->>'jobs'")" = 2 ]
	dump_targets >"$BATS_TEST_TMPDIR/jobs2"
	diff "$BATS_TEST_TMPDIR/jobs1" "$BATS_TEST_TMPDIR/jobs2"
	# every edge of scripts/entities.deps held
	while read -r child parents; do
		for p in $parents; do
			[ "$(gx_pg -c "SELECT c.start_time >= p.end_time FROM orchestration.sync_history c,
				orchestration.sync_history p WHERE c.sync_type = '${child%:}'
				AND p.sync_type = '$p'")" = t ]
		done
	done < <(grep -Ev '^[[:space:]]*(#|$)' "$GX_ROOT/scripts/entities.deps")
}

@test "the seed flags reach every entity: --dry-run loads nothing and says so in each run" {
	run "$ALL" --dry-run --max-records 50
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_lead")" -eq 0 ]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE sync_type <> 'all'
		AND configuration->>'dry_run' = 'true' AND configuration->>'max_records' = '50'
		AND records_processed <= 50")" -eq 18 ]
	[ "$(all_run "configuration->>'flags'")" = "--dry-run --max-records 50" ]
	[ "$(all_run "configuration->>'dry_run'")" = true ]
}

@test "--only runs just the named entities, in registry order" {
	run --separate-stderr "$ALL" --only quotes,divisions
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[ "$(printf '%s\n' "$output" | sed -n '2,3p' | awk '{ print $1 }' | paste -sd,)" = divisions,quotes ]
	[ "$(gx_pg -c "SELECT string_agg(sync_type, ',' ORDER BY id) FROM orchestration.sync_history")" = \
		all,divisions,quotes ]
	run "$ALL" --only divisions,nosuch
	[ "$status" -eq 1 ]
	[[ $output == *"unknown entity 'nosuch'"* ]]
}

@test "a bad option fails once, before anything runs" {
	run "$ALL" --max-records lots
	[ "$status" -eq 1 ]
	[[ $output == "all: --max-records needs a non-negative integer" ]]
	run "$ALL" --jobs 0
	[ "$status" -eq 1 ]
	run "$ALL" --help
	[ "$status" -eq 0 ]
	[[ $output == *"--keep-going"* ]]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history")" -eq 0 ]
}

@test "a second 'all' while one holds the lock exits 4 without running anything" {
	gx-state lock all -- sleep 3 &
	pid=$!
	for _ in $(seq 50); do
		[ "$(gx_pg -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" -gt 0 ] && break
		sleep 0.1
	done
	run "$ALL"
	wait "$pid"
	[ "$status" -eq 4 ]
	[[ $output == *"another run holds the lock"* ]]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history")" -eq 0 ]
}

@test "a TERM stops the run: running entities roll back and record failed runs, and so does 'all'" {
	# a gx-extract that takes its time, so that the signal finds both running
	b=$BATS_TEST_TMPDIR/bin
	mkdir -p "$b"
	for p in gx-map gx-load gx-state; do ln -s "$GX_BIN/$p" "$b/$p"; done
	printf '#!/usr/bin/env bash\ncase "$*" in *--describe*) ;; *) sleep 30 ;; esac\nexec %q "$@"\n' \
		"$GX_BIN/gx-extract" >"$b/gx-extract"
	chmod +x "$b/gx-extract"
	GX_BIN=$b "$ALL" --only divisions,services --jobs 2 >"$BATS_TEST_TMPDIR/out" 2>&1 &
	pid=$!
	# (both entities running: within 25 s, however loaded the machine is;
	# their gx-extract sleeps 30)
	running=0
	for _ in $(seq 250); do
		running=$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history
			WHERE status = 'running' AND sync_type <> 'all'")
		[ "$running" -eq 2 ] && break
		sleep 0.1
	done
	[ "$running" -eq 2 ]
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 143 ]
	# the entities record their failure as they stop, maybe just after 'all'
	for _ in $(seq 100); do
		[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE status = 'running'")" -eq 0 ] && break
		sleep 0.1
	done
	[ "$(gx_pg -c "SELECT string_agg(sync_type || ' ' || status || ' ' || error_message, ',' ORDER BY sync_type)
		FROM orchestration.sync_history")" = \
		"all failed interrupted by a signal,divisions failed interrupted by a signal,services failed interrupted by a signal" ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_division")" -eq 0 ]
}

# ---- the scheduling examples (docs/scheduling.md, docs/examples/) ----------

# A cron time field: *, N, N-M, lists and /steps, within LO..HI.
cron_field() {
	local f=$1 lo=$2 hi=$3 part parts range n
	IFS=, read -ra parts <<<"$f"
	for part in "${parts[@]}"; do
		range=${part%%/*}
		if [ "$part" != "$range" ]; then
			[[ ${part#*/} =~ ^[1-9][0-9]*$ ]] || return 1
		fi
		[ "$range" = "*" ] && continue
		[[ $range =~ ^[0-9]+(-[0-9]+)?$ ]] || return 1
		for n in ${range/-/ }; do
			[ "$n" -ge "$lo" ] && [ "$n" -le "$hi" ] || return 1
		done
	done
}

# Five valid time fields, then a command that bash can parse.
cron_line() {
	local m h dom mon dow cmd
	read -r m h dom mon dow cmd <<<"$1"
	cron_field "$m" 0 59 && cron_field "$h" 0 23 && cron_field "$dom" 1 31 &&
		cron_field "$mon" 1 12 && cron_field "$dow" 0 7 || return 1
	[ -n "$cmd" ] || return 1
	bash -n -c "$cmd" || return 1
	# an unescaped % would end the command in a crontab
	[[ $cmd != *%* ]]
}

@test "docs/examples/crontab: valid cron lines that run scripts/all under flock" {
	f=$GX_ROOT/docs/examples/crontab
	n=0
	while IFS= read -r line; do
		case $line in "#"* | "" | [A-Z]*=*) continue ;; esac
		cron_line "$line"
		[[ $line == *" flock -"[nw]" "* ]]
		n=$((n + 1))
	done <"$f"
	[ "$n" -ge 1 ]
	grep -q 'scripts/all' "$f"
	run ! cron_line "0 * * * *"	# the checker itself rejects a line without a command
	run ! cron_line "61 * * * * true"	# and a bad field
}

@test "docs/examples: the systemd service and timer pass systemd-analyze verify" {
	d=$BATS_TEST_TMPDIR/units
	mkdir -p "$d"
	# the examples install gx in /opt/gx; verify needs the real executable
	for u in gx-sync.service gx-sync.timer; do
		sed "s|/opt/gx/|$GX_ROOT/|g" "$GX_ROOT/docs/examples/$u" >"$d/$u"
	done
	grep -q '^ExecStart=.*/scripts/all ' "$d/gx-sync.service"
	grep -q '^Type=oneshot$' "$d/gx-sync.service"
	grep -q '^OnCalendar=' "$d/gx-sync.timer"
	grep -q '^\[Install\]$' "$d/gx-sync.timer"
	if ! command -v systemd-analyze >/dev/null; then
		skip "systemd-analyze is not installed (structure checked only)"
	fi
	run systemd-analyze verify "$d/gx-sync.timer" "$d/gx-sync.service"
	echo "$output"
	[ "$status" -eq 0 ]
	run systemd-analyze calendar "$(sed -n 's/^OnCalendar=//p' "$d/gx-sync.timer")"
	[ "$status" -eq 0 ]
}

@test "docs/examples: the Kubernetes CronJob and the Airflow DAG run the same scripts" {
	k=$GX_ROOT/docs/examples/gx-cronjob.yaml
	grep -qx 'apiVersion: batch/v1' "$k"
	grep -qx 'kind: CronJob' "$k"
	grep -qE '^  concurrencyPolicy: Forbid$' "$k"
	cron_line "$(sed -n 's/^  schedule: "\(.*\)"$/\1/p' "$k") true"
	grep -q 'scripts/all' "$k"
	! grep -q $'\t' "$k" || false	# YAML has no tabs
	a=$GX_ROOT/docs/examples/gx_airflow_dag.py
	grep -q 'scripts/entities.deps' "$a"
	if ! command -v python3 >/dev/null; then
		skip "python3 is not installed (structure checked only)"
	fi
	python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' "$a"
	if python3 -c 'import yaml' 2>/dev/null; then
		python3 -c 'import yaml, sys; yaml.safe_load(open(sys.argv[1]))' "$k"
	fi
}

@test "docs/scheduling.md: every shell example parses" {
	f=$GX_ROOT/docs/scheduling.md
	awk '/^```(sh|bash)$/ { on = 1; n++; next } /^```$/ { on = 0 } on { print > (dir "/block" n ".sh") }' \
		dir="$BATS_TEST_TMPDIR" "$f"
	n=0
	for b in "$BATS_TEST_TMPDIR"/block*.sh; do
		bash -n "$b"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ]
}
