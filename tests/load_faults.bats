#!/usr/bin/env bats
# gx-load under faults: PostgreSQL restarted, stopped, refusing, frozen or
# out of disk; a read-only reject directory; signals; kill -9 mid-COPY and
# mid-upsert. After each, the target is exactly as before (a digest of the
# whole table) and a normal run converges.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	gx_servers_start
	gx_pg -f "$GX_ROOT/load/ddl/sync_history.sql"
	gx_pg -c 'CREATE SCHEMA load_f'
}

teardown_file() {
	fs_release
	gx_servers_stop
}

setup() { gx_env; }

teardown() {
	# Whatever a failed test left: a frozen or stopped server, a load.
	thaw
	pg_ctl_sb status >/dev/null 2>&1 || pg_ctl_sb start >/dev/null 2>&1 || true
	if [ -n "${load_pid:-}" ] && kill -0 "$load_pid" 2>/dev/null; then
		kill -KILL "$load_pid" 2>/dev/null || true
	fi
	exec 5>&- 2>/dev/null || true
}

# ---- helpers ---------------------------------------------------------------

postmaster() { head -n 1 "$GX_SB/pg/postmaster.pid"; }

# Freezes the postmaster (and with "all" its children): connections are
# accepted by the kernel and then nobody answers.
freeze() {
	local pm
	pm=$(postmaster)
	{ echo "$pm"; [ "${1:-}" != all ] || ps -o pid= --ppid "$pm"; } >"$BATS_TEST_TMPDIR/frozen"
	xargs kill -STOP <"$BATS_TEST_TMPDIR/frozen"
}

thaw() {
	[ -s "${BATS_TEST_TMPDIR:-/nonexistent}/frozen" ] || return 0
	xargs kill -CONT <"$BATS_TEST_TMPDIR/frozen" 2>/dev/null || true
	rm -f "$BATS_TEST_TMPDIR/frozen"
}

with_end() {
	awk '{ print } END { printf "{\"@gx\":\"end\",\"records\":%d}\n", NR }'
}

# load_f.item: the table every fault is tried on.
make_items() {
	gx_pg <<-'SQL'
	DROP TABLE IF EXISTS load_f.item;
	CREATE TABLE load_f.item (
	  id integer PRIMARY KEY,
	  name varchar(40),
	  qty integer NOT NULL,
	  sync_created_at timestamptz NOT NULL,
	  sync_updated_at timestamptz NOT NULL);
	SQL
}

# items N [WORD]: N records named "WORD i" (no end marker).
items() {
	awk -v n="$1" -v w="${2:-item}" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"id\":%d,\"name\":\"%s %d\",\"qty\":%d}\n", i, w, i, i % 7 }'
}

# The whole table, sync_* columns included, as one digest.
digest() {
	gx_pg -c "SELECT count(*) || ' ' || md5(coalesce(string_agg(t::text, '|' ORDER BY id), ''))
		FROM ${1:-load_f.item} t"
}

# The table without the sync_* timestamps, to compare with a stream.
item_rows() {
	gx_pg -c 'SELECT id, name, qty FROM load_f.item ORDER BY id'
}

stream_rows() {
	jq -r 'select(has("@gx") | not) | [.id, .name, .qty] | @tsv' "$1"
}

# The backend of the gx-load under test (started with PGAPPNAME=gxfault).
backend_count() {
	gx_pg -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gxfault' $1"
}

# wait_until CONDITION_SQL: until the gx-load backend matches it (30 s).
wait_until() {
	for _ in $(seq 300); do
		[ "$(backend_count "AND $1")" -gt 0 ] && return 0
		sleep 0.1
	done
	echo "gx-load's backend never matched: $1" >&2
	return 1
}

# Until the killed gx-load's backend has rolled back and gone (30 s).
wait_gone() {
	for _ in $(seq 300); do
		[ "$(backend_count '')" -eq 0 ] && return 0
		sleep 0.1
	done
	echo "gx-load's backend is still there" >&2
	return 1
}

# Mid-load, the transaction open: the records sent so far are with the
# server (a careful batch applied, or the fast path's COPY waiting for more).
between_batches() {
	wait_until "((state = 'idle in transaction' AND query LIKE 'TRUNCATE %') OR
		(state = 'active' AND query LIKE 'COPY %' AND wait_event = 'ClientRead'))"
}

# start_load ARGS...: gx-load reading a fifo that the test writes through
# fd 5 (with external commands: a write after gx-load died must not kill
# the test with SIGPIPE). $load_pid is gx-load.
start_load() {
	rm -f "$BATS_TEST_TMPDIR/in"
	mkfifo "$BATS_TEST_TMPDIR/in"
	PGAPPNAME=gxfault "$@" <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" \
		2>"$BATS_TEST_TMPDIR/err" 3>&- &
	load_pid=$!
	exec 5>"$BATS_TEST_TMPDIR/in"
}

feed() { cat >&5 2>/dev/null || true; }

# mid_load ARGS...: gx-load started on the stream in $BATS_TEST_TMPDIR/s,
# fed its first 25 lines, and caught between two batches.
mid_load() {
	start_load "$@"
	head -n 25 "$BATS_TEST_TMPDIR/s" | feed
	flush
	between_batches
}

# A control line longer than a read block (skipped by gx-load): whatever
# was fed before it has surely been read.
flush() {
	awk 'BEGIN { s = "x"; while (length(s) < 70000) s = s s;
		printf "{\"@gx\":\"pad\",\"pad\":\"%s\"}\n", s }' | feed
}

# Closes the input and waits (60 s at most) for gx-load: sets $status and
# $stderr_lines, shows stderr if the test fails.
finish_load() {
	exec 5>&-
	for _ in $(seq 600); do
		kill -0 "$load_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$load_pid" 2>/dev/null; then
		echo "gx-load still running after 60 s: killed" >>"$BATS_TEST_TMPDIR/err"
		kill -KILL "$load_pid"
	fi
	status=0
	wait "$load_pid" || status=$?
	cat "$BATS_TEST_TMPDIR/err"
	mapfile -t stderr_lines <"$BATS_TEST_TMPDIR/err"
}

# A normal run of FILE converges: the table holds exactly its records.
converges() {
	gx-load --table load_f.item --key id <"$1"
	diff <(stream_rows "$1") <(item_rows)
}

# ---- the server goes away ----------------------------------------------------

# After a failed load: gx-load's backend is gone, the target holds exactly
# what it held before ($before), and a normal load of the stream converges.
unchanged_then_converges() {
	wait_gone
	[ "$(digest)" = "$before" ]
	converges "$BATS_TEST_TMPDIR/s"
}

@test "PostgreSQL restarted mid-load: one line, exit 2, nothing committed; the next run converges" {
	make_items
	items 30 | with_end | gx-load --table load_f.item --key id
	before=$(digest)
	items 60 new | with_end >"$BATS_TEST_TMPDIR/s"
	mid_load gx-load --table load_f.item --key id --batch 10
	pg_ctl_sb restart -m fast
	tail -n +26 "$BATS_TEST_TMPDIR/s" | feed
	finish_load
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == "gx-load: PostgreSQL: "*"terminating connection due to administrator command"* ]]
	[ "$(digest)" = "$before" ]
	converges "$BATS_TEST_TMPDIR/s"
}

@test "PostgreSQL stopped with every record sent, before the end marker: exit 2, the target holds the previous state" {
	make_items
	items 30 | with_end | gx-load --table load_f.item --key id
	before=$(digest)
	items 40 new >"$BATS_TEST_TMPDIR/rows"
	with_end <"$BATS_TEST_TMPDIR/rows" >"$BATS_TEST_TMPDIR/s"
	# everything loaded but the end marker, held back; then no server
	start_load gx-load --table load_f.item --key id --batch 40
	feed <"$BATS_TEST_TMPDIR/rows"
	flush
	between_batches
	pg_ctl_sb stop -m fast
	tail -n 1 "$BATS_TEST_TMPDIR/s" | feed
	finish_load
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "${stderr_lines[0]}" == "gx-load: PostgreSQL: "*"server closed the connection"* ]]
	pg_ctl_sb start
	[ "$(digest)" = "$before" ]

	# with --run: the run's row is untouched too (its caller marks it failed)
	id=$(gx_pg -c "INSERT INTO orchestration.sync_history (crm_source, sync_type, start_time, status)
		VALUES ('genius', 'items', now(), 'running') RETURNING id")
	start_load gx-load --table load_f.item --key id --batch 40 --run "$id"
	feed <"$BATS_TEST_TMPDIR/rows"
	flush
	between_batches
	pg_ctl_sb stop -m fast
	tail -n 1 "$BATS_TEST_TMPDIR/s" | feed
	finish_load
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	pg_ctl_sb start
	[ "$(digest)" = "$before" ]
	[ "$(gx_pg -c "SELECT status, records_processed FROM orchestration.sync_history WHERE id = $id")" = $'running\t0' ]
	converges "$BATS_TEST_TMPDIR/s"
}

@test "connection refused at start (the server is down): exit 2 at once, one line" {
	make_items
	before=$(digest)
	pg_ctl_sb stop -m fast
	# over the unix socket, then over TCP
	run --separate-stderr timeout 20 gx-load --table load_f.item --key id < <(items 3 | with_end)
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "gx-load: cannot connect to PostgreSQL: "*"No such file or directory"* ]]
	run --separate-stderr env PGHOST=127.0.0.1 timeout 20 gx-load --table load_f.item --key id --timeout 5 \
		< <(items 3 | with_end)
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "gx-load: cannot connect to PostgreSQL: "*"Connection refused"* ]]
	pg_ctl_sb start
	[ "$(digest)" = "$before" ]
}

# ---- the server hangs ----------------------------------------------------------

@test "a server that accepts the connection and never answers: --timeout gives up (exit 2)" {
	make_items
	before=$(digest)
	freeze
	# without --timeout, gx-load would wait for ever
	run timeout 3 gx-load --table load_f.item --key id < <(items 3 | with_end)
	[ "$status" -eq 124 ]
	run --separate-stderr timeout 60 gx-load --table load_f.item --key id --timeout 2 \
		< <(items 3 | with_end)
	thaw
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "gx-load: cannot connect to PostgreSQL: "*"timeout expired"* ]]
	[ "$(digest)" = "$before" ]
}

@test "a server that freezes mid-load: --timeout ends the run (exit 2), nothing committed" {
	make_items
	items 30 | with_end | gx-load --table load_f.item --key id
	before=$(digest)
	items 40 new | with_end >"$BATS_TEST_TMPDIR/s"
	start_load timeout 60 gx-load --table load_f.item --key id --batch 10 --timeout 2
	head -n 10 "$BATS_TEST_TMPDIR/s" | feed
	flush
	between_batches
	freeze all
	tail -n +11 "$BATS_TEST_TMPDIR/s" | feed
	finish_load
	thaw
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[ "${stderr_lines[0]}" = "gx-load: PostgreSQL did not answer within 2 s (--timeout): gave up, nothing committed" ]
	unchanged_then_converges
}

@test "a statement slower than --timeout is cancelled by PostgreSQL: exit 2, nothing committed" {
	make_items
	items 10 | with_end | gx-load --table load_f.item --key id
	before=$(digest)
	gx_pg <<-'SQL'
	CREATE FUNCTION load_f.stall() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN PERFORM pg_sleep(30); RETURN NEW; END $$;
	CREATE TRIGGER stall BEFORE INSERT ON load_f.item FOR EACH ROW EXECUTE FUNCTION load_f.stall();
	SQL
	run --separate-stderr timeout 60 gx-load --table load_f.item --key id --timeout 1 < <(items 11 | with_end)
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "gx-load: PostgreSQL: ERROR:  canceling statement due to statement timeout"* ]]
	gx_pg -c 'DROP TRIGGER stall ON load_f.item'
	[ "$(digest)" = "$before" ]
}

# ---- the disk ------------------------------------------------------------------

# A filesystem of a few MB for a tablespace: a loop-mounted ext4 image, else
# a tmpfs of 2 MB; needs root (mount). Prints the mount point.
fs_small() {
	local dir=$BATS_FILE_TMPDIR/disk
	[ "$(id -u)" -eq 0 ] || return 1
	mkdir -p "$dir"
	if truncate -s 4M "$BATS_FILE_TMPDIR/disk.img" &&
		mkfs.ext4 -q -F "$BATS_FILE_TMPDIR/disk.img" >/dev/null 2>&1 &&
		mount -o loop "$BATS_FILE_TMPDIR/disk.img" "$dir" 2>/dev/null; then
		echo "$dir"
	elif mount -t tmpfs -o size=2m gxtiny "$dir" 2>/dev/null; then
		echo "$dir"
	else
		return 1
	fi
}

fs_release() {
	gx_pg -U postgres -c 'DROP TABLE IF EXISTS load_f.tiny' -c 'DROP TABLESPACE IF EXISTS gx_tiny' \
		>/dev/null 2>&1 || true
	if mountpoint -q "$BATS_FILE_TMPDIR/disk" 2>/dev/null; then
		umount "$BATS_FILE_TMPDIR/disk" || true
	fi
	for dir in ro spill; do
		if mountpoint -q "$BATS_FILE_TMPDIR/$dir" 2>/dev/null; then
			umount "$BATS_FILE_TMPDIR/$dir" || true
		fi
	done
}

@test "the target's disk full: exit 2 with PostgreSQL's error, nothing committed" {
	make_items
	dir=$(fs_small) || skip "no small filesystem here (needs root and mount -o loop or tmpfs)"
	mkdir "$dir/ts"
	chown "$(stat -c %U "$GX_SB/pg"):" "$dir/ts"
	chmod 700 "$dir/ts"
	gx_pg -U postgres -c "CREATE TABLESPACE gx_tiny LOCATION '$dir/ts'" -c 'GRANT CREATE ON TABLESPACE gx_tiny TO gx'
	gx_pg -c 'CREATE TABLE load_f.tiny (id integer PRIMARY KEY USING INDEX TABLESPACE gx_tiny,
		name text, qty integer) TABLESPACE gx_tiny'
	items 100 | with_end | gx-load --table load_f.tiny --key id
	before=$(digest load_f.tiny)
	run --separate-stderr gx-load --table load_f.tiny --key id --batch 20000 < <(items 200000 more | with_end)
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "gx-load: PostgreSQL: ERROR:  could not extend file "*"No space left on device"* ]]
	[ "$(digest load_f.tiny)" = "$before" ]
	# and PostgreSQL is still up, serving the rest of the warehouse
	run gx-load --table load_f.item --key id < <(items 10 | with_end)
	[ "$status" -eq 0 ]
	fs_release
}

@test "a spill file that fills its disk: the load turns careful and loads the same" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
	mkdir -p "$BATS_FILE_TMPDIR/spill"
	mount -t tmpfs -o size=64k gxspill "$BATS_FILE_TMPDIR/spill" || skip "cannot mount a tmpfs"
	make_items
	# 5,000 records (about 300 KiB) outgrow the spill file's 64 KiB; the
	# one PostgreSQL refuses comes after
	items 5000 | sed '/"id":4000,/s/"qty":[0-9]*/"qty":null/' | with_end >"$BATS_TEST_TMPDIR/s"
	run env TMPDIR="$BATS_FILE_TMPDIR/spill" gx-load --table load_f.item --key id --batch 100 \
		--max-errors 1 --rejects "$BATS_TEST_TMPDIR/rej" <"$BATS_TEST_TMPDIR/s"
	umount "$BATS_FILE_TMPDIR/spill"
	[ "$status" -eq 0 ]
	[[ "$output" == *"processed 5000, created 4999, updated 0, unchanged 0, rejected 1 "* ]]
	[ "$(jq -c '[.line, .sqlstate]' "$BATS_TEST_TMPDIR/rej")" = '[4000,"23502"]' ]
	diff <(stream_rows "$BATS_TEST_TMPDIR/s" | grep -v '^4000	') <(item_rows)
	# the first batches ran fast (one XID), the rest each in a savepoint
	[ "$(gx_pg -c 'SELECT count(DISTINCT xmin::text) FROM load_f.item')" -gt 30 ]
}

@test "a read-only directory for --rejects or --stats: a clear error before loading" {
	make_items
	items 5 | with_end | gx-load --table load_f.item --key id
	before=$(digest)
	ro=$BATS_FILE_TMPDIR/ro
	mkdir -p "$ro"
	if [ "$(id -u)" -eq 0 ]; then
		mount -t tmpfs -o ro,size=64k gxro "$ro" || skip "cannot mount a read-only filesystem"
		why="Read-only file system"
	else
		chmod 555 "$ro"
		why="Permission denied"
	fi
	run --separate-stderr gx-load --table load_f.item --key id --rejects "$ro/rejects.ndjson" \
		< <(items 10 new | with_end)
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-load: $ro/rejects.ndjson: cannot write the rejects: $why" ]
	run --separate-stderr gx-load --table load_f.item --key id --stats "$ro/stats.json" \
		< <(items 10 new | with_end)
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-load: $ro/stats.json: cannot write the stats: $why" ]
	[ "$(digest)" = "$before" ]
	fs_release
}

# ---- signals and kill -9 -------------------------------------------------------

@test "SIGTERM mid-stream: one line, killed by SIGTERM (143), nothing committed" {
	make_items
	items 30 | with_end | gx-load --table load_f.item --key id
	before=$(digest)
	items 40 new | with_end >"$BATS_TEST_TMPDIR/s"
	mid_load gx-load --table load_f.item --key id --batch 10
	kill -TERM "$load_pid"
	finish_load
	[ "$status" -eq 143 ]
	[ "${stderr_lines[*]}" = "gx-load: interrupted by SIGTERM before COMMIT: nothing committed" ]
	unchanged_then_converges
}

@test "SIGTERM under GX_LOG_FORMAT=json: the one line is JSON, as gx-extract's is" {
	make_items
	items 40 new | with_end >"$BATS_TEST_TMPDIR/s"
	mid_load env GX_LOG_FORMAT=json gx-load --table load_f.item --key id --batch 10
	kill -TERM "$load_pid"
	finish_load
	[ "$status" -eq 143 ]
	[ "$(jq -c . <<<"${stderr_lines[*]}")" = '{"program":"gx-load","level":"error","message":"interrupted by SIGTERM before COMMIT: nothing committed"}' ]
}

@test "SIGINT mid-stream: killed by SIGINT (130), nothing committed; a SIGINT its parent ignores stays ignored" {
	make_items
	items 30 | with_end | gx-load --table load_f.item --key id
	before=$(digest)
	items 40 new | with_end >"$BATS_TEST_TMPDIR/s"
	mid_load env --default-signal=INT gx-load --table load_f.item --key id --batch 10
	kill -INT "$load_pid"
	finish_load
	[ "$status" -eq 130 ]
	[ "${stderr_lines[*]}" = "gx-load: interrupted by SIGINT before COMMIT: nothing committed" ]
	wait_gone
	[ "$(digest)" = "$before" ]

	# a background job of a script: SIGINT ignored, as the shell set it
	mid_load gx-load --table load_f.item --key id --batch 10
	kill -INT "$load_pid"
	tail -n +26 "$BATS_TEST_TMPDIR/s" | feed
	finish_load
	[ "$status" -eq 0 ]
	diff <(stream_rows "$BATS_TEST_TMPDIR/s") <(item_rows)
}

# kill9_mid PATTERN TABLE STREAM: starts gx-load on STREAM, kills it -9 while
# its backend runs a statement starting with PATTERN; the table's digest
# must not move.
kill9_mid() {
	local before
	before=$(digest "$2")
	PGAPPNAME=gxfault gx-load --table "$2" --key id --batch 100000 <"$3" 3>&- 2>/dev/null &
	load_pid=$!
	wait_until "state = 'active' AND query LIKE '$1%'"
	kill -KILL "$load_pid"
	wait "$load_pid" || true
	wait_gone
	[ "$(digest "$2")" = "$before" ]
}

@test "kill -9 of gx-load mid-COPY leaves the target unchanged" {
	# a domain whose CHECK naps: the COPY into the stage takes seconds
	gx_pg <<-'SQL'
	CREATE FUNCTION load_f.nap(integer) RETURNS boolean LANGUAGE plpgsql AS $$
	BEGIN PERFORM pg_sleep(0.002); RETURN true; END $$;
	CREATE DOMAIN load_f.slow_int AS integer CHECK (load_f.nap(VALUE));
	CREATE TABLE load_f.slow (id integer PRIMARY KEY, name text, qty load_f.slow_int);
	SQL
	items 20 | with_end | gx-load --table load_f.slow --key id
	items 2000 new | with_end >"$BATS_TEST_TMPDIR/s"
	kill9_mid 'COPY pg_temp.gx_stage' load_f.slow "$BATS_TEST_TMPDIR/s"
	gx_pg -c 'ALTER DOMAIN load_f.slow_int DROP CONSTRAINT slow_int_check'
	gx-load --table load_f.slow --key id <"$BATS_TEST_TMPDIR/s"
	diff <(stream_rows "$BATS_TEST_TMPDIR/s") <(gx_pg -c 'SELECT id, name, qty FROM load_f.slow ORDER BY id')
}

@test "kill -9 of gx-load mid-upsert leaves the target unchanged" {
	make_items
	items 20 | with_end | gx-load --table load_f.item --key id
	gx_pg <<-'SQL'
	CREATE FUNCTION load_f.nap_row() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN PERFORM pg_sleep(0.002); RETURN NEW; END $$;
	CREATE TRIGGER nap BEFORE INSERT OR UPDATE ON load_f.item FOR EACH ROW EXECUTE FUNCTION load_f.nap_row();
	SQL
	items 2000 new | with_end >"$BATS_TEST_TMPDIR/s"
	kill9_mid 'WITH gx_src' load_f.item "$BATS_TEST_TMPDIR/s"
	gx_pg -c 'DROP TRIGGER nap ON load_f.item'
	converges "$BATS_TEST_TMPDIR/s"
}
