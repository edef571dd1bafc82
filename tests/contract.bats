#!/usr/bin/env bats
# The sync contract under adversity: ties, late commits, writes during a run,
# crashes of every stage, concurrent runs, time zone changes, and random
# interleavings of source writes and delta runs. Every test ends with the
# source and the target equal on every column (scripts/compare).

load helpers

setup_file() {
	gx_warehouse_start
}

teardown_file() { gx_servers_stop; }

setup() { gx_fresh "${ROWS:-300}"; }


# The target's content, sync bookkeeping aside.
target_digest() {
	gx_pg -c "SELECT md5(string_agg(t::text, E'\n' ORDER BY id)) FROM
		(SELECT (ingestion.genius_appointment.*)::text AS t, id
		 FROM ingestion.genius_appointment) x" |
		md5sum
}

# A bin directory whose programs are the real ones, except those replaced.
wrap_bin() {
	local d="$BATS_TEST_TMPDIR/bin" p
	mkdir -p "$d"
	for p in gx-extract gx-map gx-load gx-state; do
		ln -sf "$GX_BIN/$p" "$d/$p"
	done
	echo "$d"
}

@test "5,000 rows sharing one updated_at second walk through in six runs of --max-records 1000" {
	gx_my -e "INSERT INTO appointment (id, prospect_id, type_id, add_user_id, add_date, city, updated_at)
		SELECT 1000000 + seq, seq, 1, 1, '2023-01-01 00:00:00', CONCAT('tie ', seq), '2024-01-01 08:00:00'
		FROM seq_1_to_5000"
	total=$(gx_my -e 'SELECT count(*) FROM appointment')
	for i in 1 2 3 4 5 6; do
		appointments --max-records 1000 2>/dev/null
	done
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city LIKE 'tie %'")" -ge 4700 ]
	# the walk ends with the runs it needs, never repeating a row
	while [ "$(gx_last_run "performance_metrics->'stream'->>'more'")" = true ]; do
		appointments --max-records 1000 2>/dev/null
	done
	[ "$(gx_pg -c "SELECT sum(records_processed) FROM orchestration.sync_history")" -eq "$total" ]
	compare appointments
}

@test "a transaction that stamps updated_at before a run and commits during it is caught by the next delta" {
	appointments 2>/dev/null
	id=$(gx_my -e "SELECT id FROM appointment WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 1")
	gx_my -e "BEGIN; UPDATE appointment SET city = 'Late', updated_at = NOW() WHERE id = $id;
		SELECT SLEEP(3); COMMIT" >/dev/null &
	sleep 1
	appointments 2>/dev/null	# runs while the transaction is open
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Late'")" -eq 0 ]
	wait
	appointments 2>/dev/null	# its cursor is behind this run's checkpoint, inside the lookback
	[ "$(gx_pg -c "SELECT city FROM ingestion.genius_appointment WHERE id = $id")" = Late ]
	compare appointments
}

@test "rows inserted and updated while gx-extract streams are caught by the next delta" {
	appointments 2>/dev/null
	bin=$(wrap_bin)
	# a slow reader: gx-map takes a second per 100 rows
	rm "$bin/gx-map"
	cat >"$bin/gx-map" <<EOF
#!/usr/bin/env bash
awk '{ print; fflush() } NR % 100 == 0 { system("sleep 0.3") }' | "$GX_BIN/gx-map" "\$@"
EOF
	chmod +x "$bin/gx-map"
	GX_BIN=$bin appointments --full 2>/dev/null &
	sleep 0.5
	gx_my -e "INSERT INTO appointment (id, prospect_id, type_id, add_user_id, add_date, city, updated_at)
		SELECT 1200000 + seq, seq, 1, 1, NOW(), 'during', NOW() FROM seq_1_to_20;
		UPDATE appointment SET city = 'changed during', updated_at = NOW()
		WHERE updated_at > '1000-01-01' AND id NOT BETWEEN 1200001 AND 1200020 ORDER BY id DESC LIMIT 20"
	wait
	appointments 2>/dev/null
	compare appointments
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city IN ('during', 'changed during')")" -eq 40 ]
}

@test "kill -9 of each stage at several points leaves the previous state or the whole run, and the next run converges" {
	appointments 2>/dev/null
	bin=$(wrap_bin)
	trials=0
	for stage in gx-extract gx-map gx-load; do
		for delay in 0.2 0.6 1.2; do
			gx_my -e "UPDATE appointment SET city = 'trial $stage $delay', updated_at = NOW()
				WHERE updated_at > '1000-01-01' ORDER BY RAND() LIMIT 60"
			before=$(target_digest)
			# every stage reads slowly (so the kill lands mid-stream) and
			# the chosen one is killed after the delay
			for p in gx-extract gx-map gx-load; do
				rm -f "$bin/$p"
				if [ "$p" = "$stage" ]; then
					printf '#!/usr/bin/env bash\n"%s/%s" "$@" & pid=$!\n(sleep %s; kill -9 $pid 2>/dev/null) &\nwait $pid\n' \
						"$GX_BIN" "$p" "$delay" >"$bin/$p"
				elif [ "$p" = gx-map ]; then
					printf '#!/usr/bin/env bash\nawk '\''{ print; fflush() } NR %% 50 == 0 { system("sleep 0.1") }'\'' | "%s/gx-map" "$@"\n' \
						"$GX_BIN" >"$bin/$p"
				else
					ln -s "$GX_BIN/$p" "$bin/$p"
				fi
				chmod +x "$bin/$p"
			done
			GX_BIN=$bin appointments --full 2>/dev/null || true
			after=$(target_digest)
			# the previous state, or the whole run: never a mix
			if [ "$after" != "$before" ]; then
				compare appointments >/dev/null
			fi
			[ "$(gx_last_run status)" != running ]
			appointments 2>/dev/null
			compare appointments >/dev/null
			trials=$((trials + 1))
		done
	done
	[ "$trials" -eq 9 ]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE status = 'failed'")" -ge 6 ]
}

@test "two runs started at once: one loads, the other is refused with status 4" {
	gx_my -e "UPDATE appointment SET updated_at = NOW() ORDER BY id LIMIT 5"
	bin=$(wrap_bin)
	rm "$bin/gx-map"
	printf '#!/usr/bin/env bash\nsleep 2; exec "%s/gx-map" "$@"\n' "$GX_BIN" >"$bin/gx-map"
	chmod +x "$bin/gx-map"
	GX_BIN=$bin appointments 2>/dev/null &
	a=$!
	sleep 0.5
	run appointments
	wait "$a"
	[ "$status" -eq 4 ]
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history")" -eq 1 ]
	[ "$(gx_last_run status)" = success ]
	compare appointments
}

@test "a dry run followed by a real run: the real run does all the work" {
	appointments --dry-run 2>/dev/null
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment")" -eq 0 ]
	run appointments
	[ "$status" -eq 0 ]
	[ "$(gx_last_run "configuration->>'mode'")" = full ]
	compare appointments
}

@test "the loader host's clock and time zone play no part: the window is the source's" {
	appointments 2>/dev/null
	gx_my -e "UPDATE appointment SET city = 'Kiritimati', updated_at = NOW() WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 4"
	TZ=Pacific/Kiritimati PGTZ=Pacific/Kiritimati appointments 2>/dev/null
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment WHERE city = 'Kiritimati'")" -eq 4 ]
	TZ=America/Adak appointments 2>/dev/null
	compare appointments
}

@test "a change of the source's time zone between runs is detected and the delta refused" {
	appointments 2>/dev/null
	mariadb --no-defaults --socket="$GX_MYSQL_SOCKET" -uroot -e "SET GLOBAL time_zone = '+05:00'"
	run appointments
	mariadb --no-defaults --socket="$GX_MYSQL_SOCKET" -uroot -e "SET GLOBAL time_zone = '+00:00'"
	[ "$status" -eq 1 ]
	[[ $output == *"time zone is now '+05:00' but the checkpoint was taken in '+00:00'"* ]]
	[ "$(gx_last_run status)" = failed ]
	# a full run takes a new checkpoint
	appointments --full 2>/dev/null
	appointments 2>/dev/null
	[ "$(gx_last_run status)" = success ]
}

@test "50 random interleavings of source writes, late writers and runs end equal to the source with no healing run" {
	RANDOM=${GX_SEED:-42}
	next_id=1300000
	for step in $(seq 1 50); do
		case $((RANDOM % 5)) in
		0) gx_my -e "UPDATE appointment SET city = 'step $step', updated_at = NOW()
			ORDER BY RAND($RANDOM) LIMIT $((RANDOM % 20 + 1))" ;;
		1) gx_my -e "INSERT INTO appointment (id, prospect_id, type_id, add_user_id, add_date, updated_at)
			SELECT $next_id + seq, seq, 2, 3, NOW(), NOW() FROM seq_1_to_$((RANDOM % 10 + 1))"
		   next_id=$((next_id + 100)) ;;
		2) gx_my -e "UPDATE appointment SET zip = '$step', updated_at = NOW() - INTERVAL 2 HOUR
			ORDER BY RAND($RANDOM) LIMIT $((RANDOM % 30 + 1))" ;;	# a writer's clock 2 h behind: found by the probe
		3) gx_my -e "UPDATE appointment SET email = 'null-cursor-$step@x'
			WHERE updated_at IS NULL OR updated_at < '1000-01-01'" ;;
		4) ;;
		esac
		case $((RANDOM % 3)) in
		0) appointments --lookback 1 2>/dev/null ;;
		1) appointments --lookback 1 --max-records $((RANDOM % 40 + 1)) 2>/dev/null ;;
		2) if [ $((RANDOM % 4)) = 0 ]; then appointments --full 2>/dev/null; fi ;;
		esac
	done
	# finish any walk, then one last delta
	while [ "$(gx_last_run "performance_metrics->'stream'->>'more'")" = true ]; do
		appointments --lookback 1 2>/dev/null
	done
	appointments --lookback 1 2>/dev/null
	compare appointments	# before any healing run: a delta bug shows here
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history WHERE status <> 'success'")" -eq 0 ]
}

@test "interleaved writes with recent cursors are all caught by deltas alone (no full run)" {
	appointments 2>/dev/null
	RANDOM=${GX_SEED:-7}
	for step in $(seq 1 25); do
		gx_my -e "UPDATE appointment SET city = 'walk $step', updated_at = NOW()
			ORDER BY RAND($RANDOM) LIMIT $((RANDOM % 15 + 1))"
		if [ $((RANDOM % 2)) = 0 ]; then
			appointments --lookback 1 2>/dev/null
		else
			appointments --lookback 1 --max-records $((RANDOM % 10 + 1)) 2>/dev/null
		fi
	done
	while [ "$(gx_last_run "performance_metrics->'stream'->>'more'")" = true ]; do
		appointments --lookback 1 2>/dev/null
	done
	appointments --lookback 1 2>/dev/null
	compare appointments
}
