#!/usr/bin/env bats
# The settings files (/etc/gx/gx.conf, then ~/.config/gx/gx.conf): read by
# default, overridden by the environment and by flags, per-entity sections.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	gx_warehouse_start
	gx_sample 100
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	unset GX_CONFIG GX_CURSOR_TZ GX_SETTINGS_EXPORTED
	export GX_SYSCONFDIR="$BATS_TEST_TMPDIR/etc" XDG_CONFIG_HOME="$BATS_TEST_TMPDIR/home"
	export GX_REJECTS_DIR="$BATS_TEST_TMPDIR/rejects"
	mkdir -p "$GX_SYSCONFDIR/gx" "$XDG_CONFIG_HOME/gx"
}

# The configuration the latest run of ENTITY recorded, as KEY=VALUE lines.
last_conf() {
	gx-state last "$1" --json | jq -r '.configuration | to_entries[] | "\(.key)=\(.value)"'
}

@test "the system file, the user's file and an entity's section, each overriding the one before" {
	cat >"$GX_SYSCONFDIR/gx/gx.conf" <<-'EOF'
	# the site's defaults
	lookback = 600
	probe-hours = 12
	max-errors = 3
	max-error-rate = 20

	[appointments]
	lookback = 900
	EOF
	printf 'probe-hours = 6\n' >"$XDG_CONFIG_HOME/gx/gx.conf"
	run appointments
	[ "$status" -eq 0 ]
	conf=$(last_conf appointments)
	grep -qx 'lookback_seconds=900' <<<"$conf"
	grep -qx 'max_errors=3' <<<"$conf"
	grep -qx 'max_error_rate=20' <<<"$conf"
	run prospects
	[ "$status" -eq 0 ]
	grep -qx 'lookback_seconds=600' <<<"$(last_conf prospects)"
}

@test "flags override the files, and the environment overrides them too" {
	printf 'lookback = 600\ncursor-tz = +02:00\n' >"$GX_SYSCONFDIR/gx/gx.conf"
	run appointments --lookback 120
	[ "$status" -eq 0 ]
	conf=$(last_conf appointments)
	grep -qx 'lookback_seconds=120' <<<"$conf"
	grep -qx 'cursor_tz=+02:00' <<<"$conf"
	GX_CURSOR_TZ=-03:00 run appointments
	[ "$status" -eq 0 ]
	grep -qx 'cursor_tz=-03:00' <<<"$(last_conf appointments)"
}

@test "environment variables in a file reach the programs, the environment's own win, sections apply per entity" {
	# a wrong source port from the file is not used: the environment has one
	printf 'GENIUS_DB_PORT = 1\nGX_LOG_FORMAT = json\n[prospects]\nGX_LOG_FORMAT = text\n' \
		>"$GX_SYSCONFDIR/gx/gx.conf"
	run --separate-stderr appointments
	[ "$status" -eq 0 ]
	[ -n "$stderr" ]
	while IFS= read -r l; do jq -e . >/dev/null <<<"$l"; done <<<"$stderr"
	run --separate-stderr prospects
	[ "$status" -eq 0 ]
	[[ ${stderr_lines[0]} == prospects:* || ${stderr_lines[0]} == gx-* ]]
}

@test "GX_CONFIG names one file instead; GX_CONFIG=none reads none" {
	printf 'lookback = 600\n' >"$GX_SYSCONFDIR/gx/gx.conf"
	printf 'lookback = 450\n' >"$BATS_TEST_TMPDIR/mine.conf"
	GX_CONFIG="$BATS_TEST_TMPDIR/mine.conf" run appointments
	[ "$status" -eq 0 ]
	grep -qx 'lookback_seconds=450' <<<"$(last_conf appointments)"
	GX_CONFIG=none run appointments
	[ "$status" -eq 0 ]
	grep -qx 'lookback_seconds=300' <<<"$(last_conf appointments)"
	GX_CONFIG="$BATS_TEST_TMPDIR/missing.conf" run --separate-stderr appointments
	[ "$status" -eq 1 ]
	[ "$stderr" = "appointments: GX_CONFIG: cannot read $BATS_TEST_TMPDIR/missing.conf" ]
}

@test "a bad line, an unknown setting, a password or a bad value: one line naming the file, nothing run" {
	f="$GX_SYSCONFDIR/gx/gx.conf"
	before=$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history")
	printf '# ok\nlookback 600\n' >"$f"
	run --separate-stderr appointments
	[ "$status" -eq 1 ]
	[ "$stderr" = "appointments: $f:2: expected NAME = VALUE or [ENTITY]" ]
	printf 'look-back = 600\n' >"$f"
	run --separate-stderr appointments
	[ "$status" -eq 1 ]
	[ "$stderr" = "appointments: $f:1: look-back: unknown setting (see gx-sync(1), FILES)" ]
	printf '[appointments]\nGENIUS_DB_PASSWORD = hunter2\n' >"$f"
	run --separate-stderr appointments
	[ "$status" -eq 1 ]
	[[ $stderr == "appointments: $f:2: GENIUS_DB_PASSWORD: no passwords here"* ]]
	[[ $stderr != *hunter2* ]]
	printf 'lookback = soon\n' >"$f"
	run --separate-stderr appointments
	[ "$status" -eq 1 ]
	[ "$stderr" = "appointments: in the settings file: --lookback needs a non-negative integer" ]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history")" -eq "$before" ]
}

@test "scripts/all takes jobs and keep-going from its [all] section; entities their own" {
	cat >"$GX_SYSCONFDIR/gx/gx.conf" <<-'EOF'
	lookback = 200
	[all]
	jobs = 3
	keep-going = yes
	[appointments]
	lookback = 700
	EOF
	run all --only appointments,prospects
	[ "$status" -eq 0 ]
	c=$(gx-state last all --json | jq -c '.configuration | [.jobs, .keep_going]')
	[ "$c" = '[3,true]' ]
	grep -qx 'lookback_seconds=700' <<<"$(last_conf appointments)"
	grep -qx 'lookback_seconds=200' <<<"$(last_conf prospects)"
}
