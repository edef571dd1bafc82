#!/usr/bin/env bats
# Secrets and least privilege: passwords travel only through the environment,
# option files and .pgpass; they never show in argv, logs, reject files or
# sync_history; files gx creates are private; the source account only reads.

load helpers

setup_file() {
	gx_warehouse_start
	gx_sample 300
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	export GX_REJECTS_DIR="$BATS_TEST_TMPDIR/rejects"
}

# no_secret FILE...: fails if the source password (GENIUS_DB_PASSWORD) or the
# warehouse password (in $PGPASSFILE) appears in any of the files, if a file
# cannot be read, or if either password is unknown (an empty one would match
# everything, or nothing).
no_secret() {
	local pg rc=0
	pg=$(awk -F: 'NR == 1 { print $5 }' "$PGPASSFILE")
	[ -n "$GENIUS_DB_PASSWORD" ] || { echo "no_secret: GENIUS_DB_PASSWORD is empty"; return 1; }
	[ -n "$pg" ] || { echo "no_secret: no password in $PGPASSFILE"; return 1; }
	grep -lF -e "$GENIUS_DB_PASSWORD" -e "$pg" -- "$@" || rc=$?
	[ "$rc" -eq 1 ] || { echo "no_secret: a password is in the files listed above (grep status $rc)"; return 1; }
}

@test "no password in any process's argv while a sync runs" {
	gx_pg -c "TRUNCATE ingestion.genius_appointment; TRUNCATE orchestration.sync_history"
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	for p in gx-extract gx-load gx-state; do ln -s "$GX_BIN/$p" "$BATS_TEST_TMPDIR/bin/$p"; done
	printf '#!/usr/bin/env bash\nawk '\''{ print; fflush() } NR %% 10 == 0 { system("sleep 0.1") }'\'' | "%s/gx-map" "$@"\n' \
		"$GX_BIN" >"$BATS_TEST_TMPDIR/bin/gx-map"
	chmod +x "$BATS_TEST_TMPDIR/bin/gx-map"
	GX_BIN="$BATS_TEST_TMPDIR/bin" appointments --debug 2>"$BATS_TEST_TMPDIR/stderr" &
	pid=$!
	: >"$BATS_TEST_TMPDIR/argv"
	seen=0
	while kill -0 "$pid" 2>/dev/null; do
		for f in /proc/[0-9]*/cmdline; do
			{ tr '\0' ' ' <"$f"; } 2>/dev/null || true
			echo
		done >>"$BATS_TEST_TMPDIR/argv"
		seen=$((seen + 1))
		sleep 0.1
	done
	wait "$pid"
	[ "$seen" -ge 3 ]
	grep -q 'gx-map --rejects' "$BATS_TEST_TMPDIR/argv"
	no_secret "$BATS_TEST_TMPDIR/argv"
	# nor in the --debug output
	grep -q 'debug' "$BATS_TEST_TMPDIR/stderr"
	no_secret "$BATS_TEST_TMPDIR/stderr"
}

@test "no password in sync_history, reject files or stats after failing and succeeding runs" {
	GENIUS_DB_PASSWORD="$GENIUS_DB_PASSWORD-wrong" appointments 2>/dev/null || true
	gx_my -e "INSERT INTO appointment (id, prospect_id, type_id, add_user_id, add_date, updated_at)
		VALUES (1700000001, 1, 1, 1, NULL, NULL) ON DUPLICATE KEY UPDATE add_date = NULL, date = NULL, updated_at = NULL"
	# the row is rejected and kept by key: the run ends partial (exit 6)
	run appointments --full --max-errors 5
	[ "$status" -eq 6 ]
	gx_pg -c "SELECT h::text FROM orchestration.sync_history h" >"$BATS_TEST_TMPDIR/history"
	[ -s "$BATS_TEST_TMPDIR/history" ]
	no_secret "$BATS_TEST_TMPDIR/history"
	gx_pg -c "SELECT j::text FROM orchestration.sync_rejects j" >"$BATS_TEST_TMPDIR/kept"
	[ -s "$BATS_TEST_TMPDIR/kept" ]
	no_secret "$BATS_TEST_TMPDIR/kept"
	ls "$GX_REJECTS_DIR"/*.ndjson >/dev/null
	no_secret "$GX_REJECTS_DIR"/*
	gx_my -e "DELETE FROM appointment WHERE id = 1700000001"
	appointments 2>/dev/null	# its reject closes as gone
}

@test "reject and stats files are created private (mode 0600)" {
	printf '%s\n' '{"id":"x"}' '{"@gx":"end","records":1}' |
		gx-map --max-errors 1 --rejects "$BATS_TEST_TMPDIR/map.rej" \
			"$GX_ROOT/transform/maps/appointments.map" >/dev/null 2>&1 || true
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/map.rej")" = 600 ]
	gx_pg -c "CREATE TABLE IF NOT EXISTS public.sec_t (id int PRIMARY KEY)"
	printf '%s\n' '{"id":"nope"}' '{"@gx":"end","records":1}' |
		gx-load --table public.sec_t --key id --max-errors 1 --rejects "$BATS_TEST_TMPDIR/load.rej" \
			--stats "$BATS_TEST_TMPDIR/stats.json" 2>/dev/null
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/load.rej")" = 600 ]
	[ "$(stat -c %a "$BATS_TEST_TMPDIR/stats.json")" = 600 ]
	[ "$(jq .rejected "$BATS_TEST_TMPDIR/stats.json")" -eq 1 ]
}

@test "the source account has SELECT only, and a full sync needs nothing more" {
	run mariadb --no-defaults -h "$GENIUS_DB_HOST" -P "$GENIUS_DB_PORT" -u "$GENIUS_DB_USER" \
		-p"$GENIUS_DB_PASSWORD" -N -e "SHOW GRANTS"
	[ "$status" -eq 0 ]
	[[ $output == *"GRANT SELECT ON \`genius\`.*"* ]]
	[[ $output != *INSERT* && $output != *UPDATE* && $output != *"ALL PRIVILEGES"* ]]
	run appointments --full
	[ "$status" -eq 0 ]
}

@test "the source password can come from a MySQL option file instead of the environment" {
	run env -u GENIUS_DB_PASSWORD -u GENIUS_DB_USER -u GENIUS_DB_HOST -u GENIUS_DB_PORT \
		GENIUS_DB_OPTION_FILE="$GX_SB/genius.cnf" gx-extract --entity appointments --limit 3
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]	# 3 records, the end marker, the summary line
}

@test "the warehouse password comes from .pgpass over TCP; a password in --db is refused" {
	PGHOST=127.0.0.1 run gx-state list appointments --limit 1
	[ "$status" -eq 0 ]
	run gx-load --db "host=127.0.0.1 password=hunter2" --table public.sec_t --key id </dev/null
	[ "$status" -eq 1 ]
	[[ $output == *"refusing a connection string with a password"* ]]
	[[ $output != *hunter2* ]]
}

@test "--db: a password is found by parsing the conninfo (keyword or URI), not by substring" {
	for db in "host=127.0.0.1 password = hunter2" "postgresql://gx:hunter2@127.0.0.1/warehouse" \
		"postgresql://127.0.0.1/warehouse?password=hunter2"; do
		run gx-state --db "$db" list appointments --limit 1
		[ "$status" -eq 1 ]
		[[ $output == *"refusing a connection string with a password"* ]]
		[[ $output != *hunter2* ]]
	done
	# a word "password" elsewhere is no password
	run gx-state --db "application_name=password_check" list appointments --limit 1
	[ "$status" -eq 0 ]
	run gx-state --db "host='unterminated" list appointments --limit 1
	[ "$status" -eq 1 ]
	[[ $output == "gx-state: --db: "* ]]
}
