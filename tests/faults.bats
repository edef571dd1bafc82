#!/usr/bin/env bats
# kill -9 at random points of a sync: of gx-extract, gx-map, gx-load or the
# entity script itself. After each trial the target holds the previous state
# or the whole run (never a mix), no run stays 'running', and a normal run
# converges to source = target on every column.
# `make test` runs a few trials on a small table; `make test-faults` runs
# FAULT_TRIALS (30) on FAULT_ROWS (1,000,000).

load helpers

setup_file() {
	gx_warehouse_start
	gx_sample "${FAULT_ROWS:-3000}"
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	export GX_REJECTS_DIR="$BATS_TEST_TMPDIR/rejects"
	# A small table syncs in a blink: slow the stream down (gx-map reads at
	# about 4,000 rows/s) so that random kill points land inside the run.
	if [ "${FAULT_ROWS:-3000}" -lt 100000 ]; then
		gx_slow_map 200 0.05
	fi
}

target_digest() {
	gx_pg -c "SELECT md5(string_agg(x::text, '' ORDER BY x.id)) FROM (SELECT id, prospect_id,
		city, notes, updated_at, add_date FROM ingestion.genius_appointment) x"
}

# The pids of the gx processes below pid $1 (the processes of one sync).
gx_descendants() {
	local p kids
	kids=$(ps -o pid= --ppid "$1" 2>/dev/null) || true
	for p in $kids; do
		echo "$p $(cat "/proc/$p/comm" 2>/dev/null)"
		gx_descendants "$p"
	done
}

@test "kill -9 of any stage or of the entity script at random points loses nothing" {
	trials=${FAULT_TRIALS:-4}
	RANDOM=${GX_SEED:-1}
	start=$(date +%s.%N)
	appointments --full 2>/dev/null
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
	survived=0 kills=0
	for trial in $(seq 1 "$trials"); do
		gx_my -e "UPDATE appointment SET city = 'trial $trial', updated_at = NOW()
			WHERE updated_at > '1000-01-01' AND id % 100 = $((trial % 100))"
		before=$(target_digest)
		mode=$([ $((RANDOM % 4)) = 0 ] && echo --lookback=300 || echo --full)
		appointments "$mode" >/dev/null 2>&1 &
		sync=$!
		delay=$(awk -v s="$secs" -v r="$RANDOM" 'BEGIN { printf "%.3f", s * r / 32768 / 2 }')
		victim=$(echo gx-extract gx-map gx-load appointments | tr ' ' '\n' | sed -n "$((RANDOM % 4 + 1))p")
		# wait for the victim to exist, then let it run for the delay
		pid="" procs=""
		for _ in $(seq 1 200); do
			procs=$(gx_descendants "$sync")
			pid=$(awk -v v="$victim" '$2 == v || ($2 == "bash" && v == "appointments") { print $1; exit }' <<<"$procs")
			[ -z "$pid" ] || break
			kill -0 "$sync" 2>/dev/null || break
			sleep 0.01
		done
		sleep "$delay"
		killed=no
		if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
			killed=yes
			kills=$((kills + 1))
		fi
		wait "$sync" || true
		# stages orphaned by a killed script finish (or fail) on their own
		for p in $(awk '{ print $1 }' <<<"$procs"); do
			while kill -0 "$p" 2>/dev/null; do sleep 0.1; done
		done
		after=$(target_digest)
		if [ "$after" != "$before" ]; then
			compare appointments >/dev/null	# not the old state: then the whole run
		fi
		appointments 2>/dev/null
		compare appointments >/dev/null
		[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE status = 'running'")" -eq 0 ]
		echo "# trial $trial: $victim $([ $killed = yes ] && echo "killed after ${delay}s" || echo "ended before its kill") (${mode}): $([ "$after" = "$before" ] && echo previous state || echo whole run) kept, converged" >&3
		survived=$((survived + 1))
	done
	[ "$survived" -eq "$trials" ]
	echo "# $kills of $trials trials killed a process mid-run" >&3
	[ "$kills" -ge $((trials / 3)) ]
}

# One sync with a server restarted under it, DELAY seconds in. The target
# holds the previous state or the whole run, no run stays 'running', and the
# next run converges. At scale the restart lands mid-run: the run must fail.
restart_trial() {
	local server=$1 delay=$2 t=$BATS_TEST_TMPDIR
	gx_my -e "UPDATE appointment SET city = 'restart $server', updated_at = NOW()
		WHERE updated_at > '1000-01-01' AND id % 50 = 7"
	before=$(target_digest)
	rc=0
	appointments --full >/dev/null 2>"$t/err" &
	sync=$!
	sleep "$delay"
	alive=$(kill -0 "$sync" 2>/dev/null && echo yes || echo no)
	case $server in
	mariadb) mysql_restart ;;
	postgresql) pg_ctl_sb restart -m fast ;;
	esac
	wait "$sync" || rc=$?
	after=$(target_digest)
	echo "# $server restarted after ${delay}s (sync $([ "$alive" = yes ] && echo running || echo done)): exit $rc, $([ "$after" = "$before" ] && echo previous state || echo whole run) kept" >&3
	if [ "$rc" -ne 0 ]; then
		[ "$after" = "$before" ]
		grep -qE '^gx-(extract|map|load|state): ' "$t/err"
	elif [ "$after" != "$before" ]; then
		compare appointments >/dev/null
	fi
	if [ "${FAULT_ROWS:-3000}" -ge 100000 ]; then
		[ "$alive" = yes ]
		[ "$rc" -ne 0 ]
	fi
	# A run whose gx-state could not reach PostgreSQL to record its failure
	# stays 'running' until the next run marks it abandoned.
	appointments 2>/dev/null
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE status = 'running'")" -eq 0 ]
	compare appointments >/dev/null
}

@test "MariaDB and PostgreSQL each restarted mid-sync: previous state or the whole run, then converges" {
	start=$(date +%s.%N)
	appointments --full 2>/dev/null
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", (b - a) / 3 }')
	restart_trial mariadb "$secs"
	restart_trial postgresql "$secs"
}
