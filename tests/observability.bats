#!/usr/bin/env bats
# What an operator watches: the run table, status and lag, Prometheus
# metrics for node_exporter, JSON logs for log shippers.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	gx_warehouse_start
	gx_sample 200
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	export GX_REJECTS_DIR="$BATS_TEST_TMPDIR/rejects"
}

@test "--metrics-file writes Prometheus gauges for the entity after a run" {
	run appointments --metrics-file "$BATS_TEST_TMPDIR/gx.prom"
	[ "$status" -eq 0 ]
	f="$BATS_TEST_TMPDIR/gx.prom"
	grep -qx 'gx_last_run_success{entity="appointments"} 1' "$f"
	grep -qx 'gx_last_run_processed_rows{entity="appointments"} [0-9]\+' "$f"
	grep -q '^gx_last_success_timestamp_seconds{entity="appointments"} [0-9]\{10\}$' "$f"
	# every sample line is "name{labels} number", every metric has HELP and TYPE
	! grep -v '^#' "$f" | grep -vE '^gx_[a-z_]+\{[^}]*\} -?[0-9.e+-]+$' || false
	for m in $(grep -v '^#' "$f" | cut -d'{' -f1 | sort -u); do
		grep -q "^# HELP $m ." "$f" || { echo "no HELP for $m"; false; }
		grep -qx "# TYPE $m [a-z]*" "$f" || { echo "no TYPE for $m"; false; }
	done
	[ "$(grep -c '^# TYPE' "$f")" -eq "$(grep -c '^# HELP' "$f")" ]
}

@test "a failed run shows in the metrics as not successful" {
	GENIUS_DB_PASSWORD=wrong run appointments --metrics-file "$BATS_TEST_TMPDIR/gx.prom"
	[ "$status" -eq 2 ]
	grep -qx 'gx_last_run_success{entity="appointments"} 0' "$BATS_TEST_TMPDIR/gx.prom"
}

@test "after scripts/all the metrics say it succeeded; one series per entity whatever the outcome" {
	f="$BATS_TEST_TMPDIR/gx.prom"
	run all --only appointments,prospects --metrics-file "$f"
	[ "$status" -eq 0 ]
	grep -qx 'gx_last_run_success{entity="all"} 1' "$f"
	grep -qx 'gx_run_in_progress{entity="all"} 0' "$f"
	# no label whose value changes with the outcome
	n=$(grep -c '^gx_last_run_success{' "$f")
	[ "$n" -eq "$(grep '^gx_last_run_success{' "$f" | cut -d'}' -f1 | sort -u | wc -l)" ]
	[ -z "$(grep 'status=' "$f")" ]
}

@test "a run in progress is in progress, not a failure; the last finished run still counts" {
	appointments 2>/dev/null
	id=$(gx-state begin appointments --endpoint test)
	run gx-state metrics
	[ "$status" -eq 0 ]
	grep -qx 'gx_last_run_success{entity="appointments"} 1' <<<"$output"
	grep -qx 'gx_run_in_progress{entity="appointments"} 1' <<<"$output"
	grep -qE '^gx_run_in_progress_seconds\{entity="appointments"\} [0-9]+(\.[0-9]+)?$' <<<"$output"
	gx-state finish "$id" --status failed --error "test"
	run gx-state metrics
	grep -qx 'gx_last_run_success{entity="appointments"} 0' <<<"$output"
	grep -qx 'gx_run_in_progress{entity="appointments"} 0' <<<"$output"
}

@test "gx_lag_seconds: how far the warehouse is behind the source, from the checkpoint's instant" {
	appointments 2>/dev/null
	run gx-state metrics
	[ "$status" -eq 0 ]
	lag=$(sed -n 's/^gx_lag_seconds{entity="appointments"} //p' <<<"$output")
	[ -n "$lag" ]
	# the checkpoint is the source's clock when the run read it: seconds ago
	awk -v l="$lag" 'BEGIN { exit !(l >= 0 && l < 60) }'
	grep -q '^# TYPE gx_lag_seconds gauge$' <<<"$output"
	# an 'all' run has no checkpoint of its own: no lag
	all --only appointments 2>/dev/null
	[ -z "$(gx-state metrics | grep '^gx_lag_seconds{entity="all"}')" ]
}

@test "dry runs are marked in gx-state list and status, and do not count in the metrics" {
	appointments 2>/dev/null
	before=$(gx-state metrics | grep '^gx_last_run_timestamp_seconds{entity="appointments"}')
	sleep 1
	appointments --dry-run 2>/dev/null
	run gx-state list appointments --limit 1
	[ "$status" -eq 0 ]
	[[ ${lines[1]} == *"success (dry run)"* ]]
	run gx-state status
	[[ $(grep '^appointments ' <<<"$output") == *"dry run"* ]]
	[ "$(gx-state metrics | grep '^gx_last_run_timestamp_seconds{entity="appointments"}')" = "$before" ]
}

@test "scripts/status shows each entity's last run, last success and lag behind the source" {
	appointments 2>/dev/null
	run status
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == entity*last*lag* ]]
	line=$(grep '^appointments ' <<<"$output")
	[[ $line =~ ^appointments\ +success\ +[0-9]+\ +[0-9]+\ +[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9:.]+\ +[0-9]+$ ]]
}

@test "--log-format json makes every stderr line of every stage a JSON object" {
	run --separate-stderr appointments --full --log-format json
	[ "$status" -eq 0 ]
	[ -n "$stderr" ]
	while IFS= read -r line; do
		jq -se 'length == 1 and (.[0] | type == "object" and (.program | type) == "string"
			and (.level | type) == "string")' <<<"$line" >/dev/null || { echo "not a JSON log line: $line"; false; }
	done <<<"$stderr"
	# (with the entity and the run: tests/feedback.bats)
	[[ $stderr == *'"program":"gx-load","entity":"appointments","run_id":'*'"level":"info"'* ]]
	[[ $stderr == *'"program":"gx-extract","entity":"appointments","run_id":'*'"level":"info"'* ]]
}

@test "gx-state list --json gives one JSON object per run, newest first" {
	appointments 2>/dev/null
	run gx-state list appointments --json --limit 2
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 2 ]
	a=$(jq -r .id <<<"${lines[0]}")
	b=$(jq -r .id <<<"${lines[1]}")
	[ "$a" -gt "$b" ]
}

@test "failed runs leave no temporary directories or files behind" {
	unset GX_REJECTS_DIR
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir "$TMPDIR"
	GENIUS_DB_PASSWORD=wrong run appointments
	[ "$status" -eq 2 ]
	PGHOST=/nonexistent run appointments
	[ "$status" -eq 2 ]
	GX_MAPS=/nonexistent run appointments
	[ "$status" -ne 0 ]
	run appointments
	[ "$status" -eq 0 ]
	left=$(find "$TMPDIR" -mindepth 1)
	[ -z "$left" ] || { echo "left behind: $left"; false; }
}

# promtool from the machine, or unpacked by make deps into build/tools.
promtool_bin() {
	command -v promtool 2>/dev/null || { [ -x "$GX_ROOT/build/tools/promtool" ] &&
		echo "$GX_ROOT/build/tools/promtool"; }
}

@test "the shipped alert rules and dashboard name only metrics gx writes; promtool checks and unit-tests the rules" {
	appointments 2>/dev/null
	have=$(gx-state metrics | sed -n 's/^# TYPE \(gx_[a-z_]*\) .*/\1/p' | sort -u)
	[ -n "$have" ]
	named=$( { grep -o 'gx_[a-z_]*' "$GX_ROOT/docs/examples/gx-alerts.yml";
		jq -r '.panels[].targets[].expr' "$GX_ROOT/docs/examples/gx-dashboard.json" |
			grep -o 'gx_[a-z_]*'; } | grep -v '^gx_sync$' | sort -u)
	[ -n "$named" ]
	unknown=$(comm -23 <(printf '%s\n' "$named") <(printf '%s\n' "$have"))
	[ -z "$unknown" ] || { echo "not written by gx-state metrics: $unknown"; false; }
	jq -e '.panels | length > 0 and all(.[]; (.targets | length) > 0)' \
		"$GX_ROOT/docs/examples/gx-dashboard.json" >/dev/null
	p=$(promtool_bin) || skip "promtool not installed (make deps unpacks it into build/tools)"
	"$p" check rules "$GX_ROOT/docs/examples/gx-alerts.yml"
	(cd "$GX_ROOT/tests/fixtures" && "$p" test rules gx-alerts-test.yml)
}

@test "status prints its table when the source is down, the lag unknown" {
	appointments 2>/dev/null
	GENIUS_DB_PASSWORD=wrong run --separate-stderr status
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == entity*last*lag* ]]
	line=$(grep '^appointments ' <<<"$output")
	[[ $line =~ ^appointments\ +success\ +[0-9]+\ +[0-9]+\ +[0-9]{4}-[0-9-]+\ [0-9:.]+\ +-$ ]]
	[[ $stderr == "status: the source did not answer, lag unknown: gx-extract: "* ]]
}
