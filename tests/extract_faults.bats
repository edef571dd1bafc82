#!/usr/bin/env bats
# gx-extract when things go wrong: a source restarted mid-stream, refused or
# silent connections, signals. Every failure is one line on stderr, a status
# from the table, and no end marker; every trial ends with a normal run.

bats_require_minimum_version 1.5.0
load helpers

FIX="$BATS_TEST_DIRNAME/fixtures/extract"

setup_file() {
	gx_servers_start
	# Some 50 MB: more than the socket, pipe and stdio buffers hold, so a
	# reader that stalls leaves gx-extract mid-stream.
	gx_my <<-'SQL'
	CREATE TABLE gxt_big (id INT NOT NULL PRIMARY KEY, pad VARCHAR(200));
	INSERT INTO gxt_big SELECT seq, REPEAT('x', 120) FROM seq_1_to_400000;
	SQL
}

teardown_file() { gx_servers_stop; }

setup() { gx_env; }

# A test that stopped the server or started a listener undoes it even when
# it fails half-way.
teardown() {
	local t=$BATS_TEST_TMPDIR
	if [ -s "$t/stopped" ]; then kill -CONT "$(cat "$t/stopped")" 2>/dev/null || true; fi
	if [ -s "$t/listener" ]; then kill "$(cat "$t/listener")" 2>/dev/null || true; fi
	return 0
}

# A normal run reads the whole table: the source is fine again.
assert_normal_run() {
	run bash -c 'set -o pipefail; gx-extract --query "$1" 2>/dev/null | tail -n 1' _ "$FIX/big.sql"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.records, .more]' <<<"$output")" = '[400000,false]' ]
}

# Status, stderr and stdout of a run that failed: one line on stderr, no end
# marker and only whole records on stdout. $1: the test's directory.
assert_failed_run() {
	local t=$1 want_status=$2
	[ "$(cat "$t/rc")" -eq "$want_status" ]
	[ "$(grep -c . "$t/err")" -eq 1 ]
	[ "$(grep -c '"@gx"' "$t/out")" -eq 0 ]
}

# A free TCP port on 127.0.0.1: bound, then released.
free_port() {
	perl -MIO::Socket::INET -e 'print IO::Socket::INET->new(
		LocalAddr => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport, "\n"'
}

ms() { date +%s%3N; }

# A listener on a free port that accepts and says nothing, not even the
# greeting; prints the port (its pid is in DIR/listener).
silent_listener() {
	local t=$1
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => 0,
			Listen => 5) or die "listen: $!";
		$| = 1; print $s->sockport, "\n";
		my @c; while (my $c = $s->accept) { push @c, $c }' >"$t/port" 3>&- &
	echo $! >"$t/listener"
	for _ in $(seq 50); do [ -s "$t/port" ] && break; sleep 0.1; done
	cat "$t/port"
}

@test "MariaDB restarted mid-extraction: one line naming the cause, status 2, no end marker" {
	local t=$BATS_TEST_TMPDIR pid
	{
		rc=0
		gx-extract --query "$FIX/big.sql" 2>"$t/err" || rc=$?
		echo "$rc" >"$t/rc"
	} | {
		# The stream has begun; we stall it while the server goes down.
		IFS= read -r first
		printf '%s\n' "$first" >"$t/out"
		pid=$(server_pid)
		kill -TERM "$pid"
		for _ in $(seq 300); do gone "$pid" && break; sleep 0.1; done
		cat >>"$t/out"
	}
	assert_failed_run "$t" 2
	grep -qE '^gx-extract: query failed after [0-9]+ records: Lost connection to server during query \(the server stopped or restarted, killed our session, or the network failed\)$' "$t/err"
	n=$(wc -l <"$t/out")
	[ "$n" -ge 1 ]
	[ "$n" -lt 400000 ]
	[ "$(tail -c 1 "$t/out" | od -An -c | tr -d ' ')" = '\n' ]
	# Back up (on new ports): the next run reads everything.
	"$GX_ROOT/scripts/sandbox" start "$GX_SB" >/dev/null 2>&1
	gx_env
	assert_normal_run
}

@test "connection refused at start: status 2 at once, one line, nothing on stdout" {
	local port start
	port=$(free_port)
	start=$(ms)
	GENIUS_DB_PORT=$port run --separate-stderr timeout 30 gx-extract --query "$FIX/big.sql"
	[ "$status" -eq 2 ]
	[ $(($(ms) - start)) -lt 5000 ]
	[ -z "$output" ]
	[ "$(grep -c . <<<"$stderr")" -eq 1 ]
	[[ $stderr == "gx-extract: cannot connect to MySQL at 127.0.0.1:$port as genius: Can't connect to server on '127.0.0.1' "*" (Connection refused)" ]]
}

@test "a server that accepts the connection and never answers: --timeout ends the wait with a clear error" {
	local t=$BATS_TEST_TMPDIR port start elapsed
	port=$(silent_listener "$t")
	start=$(ms)
	GENIUS_DB_PORT=$port run --separate-stderr timeout 30 gx-extract --query "$FIX/big.sql" --timeout 2
	elapsed=$(($(ms) - start))
	[ "$status" -eq 2 ]
	[ "$elapsed" -ge 1500 ]
	[ "$elapsed" -lt 10000 ]
	[ -z "$output" ]
	[ "$(grep -c . <<<"$stderr")" -eq 1 ]
	[[ $stderr == "gx-extract: cannot connect to MySQL at 127.0.0.1:$port as genius: "*"(no reply within 2 s: --timeout)" ]]
	# --now too.
	GENIUS_DB_PORT=$port run --separate-stderr timeout 30 gx-extract --now --timeout 1
	[ "$status" -eq 2 ]
	[[ $stderr == *"(no reply within 1 s: --timeout)" ]]
}

@test "a server that stops answering mid-stream: --read-timeout ends the wait with a clear error" {
	local t=$BATS_TEST_TMPDIR start elapsed
	start=$(ms)
	{
		rc=0
		timeout 30 gx-extract --query "$FIX/big.sql" --read-timeout 2 2>"$t/err" || rc=$?
		echo "$rc" >"$t/rc"
	} | {
		IFS= read -r first
		printf '%s\n' "$first" >"$t/out"
		# Frozen, not gone: the connection stays open and silent.
		server_pid >"$t/stopped"
		kill -STOP "$(cat "$t/stopped")"
		cat >>"$t/out"
	}
	elapsed=$(($(ms) - start))
	kill -CONT "$(cat "$t/stopped")"
	rm -f "$t/stopped"
	assert_failed_run "$t" 2
	[ "$elapsed" -lt 15000 ]
	grep -qE '^gx-extract: query failed after [0-9]+ records: .*\(the server sent nothing for 2 s: --read-timeout\)$' "$t/err"
	assert_normal_run
}

# stopped_by SIGNAL STATUS: gx-extract sent SIGNAL mid-stream stops at once
# with STATUS, one line on stderr ($BATS_TEST_TMPDIR/err) and no end marker.
stopped_by() {
	local t=$BATS_TEST_TMPDIR sig=$1
	rm -f "$t/pid" "$t/out"
	{
		rc=0
		# As a job of a shell would run it: with the signal's default
		# action, whatever this test runner ignores.
		timeout 30 env --default-signal=INT,TERM,HUP sh -c 'echo $$ >"$1"; exec gx-extract --query "$2"' \
			_ "$t/pid" "$FIX/big.sql" 2>"$t/err" || rc=$?
		echo "$rc" >"$t/rc"
	} | {
		IFS= read -r first
		printf '%s\n' "$first" >"$t/out"
		kill "-$sig" "$(cat "$t/pid")"
		cat >>"$t/out"
	}
	assert_failed_run "$t" "$2"
}

@test "SIGTERM, SIGINT or SIGHUP mid-stream: stops at once, no end marker, status 128 + signal" {
	local sig status err=$BATS_TEST_TMPDIR/err
	for sig in TERM:143 INT:130 HUP:129; do
		status=${sig#*:}
		sig=${sig%:*}
		stopped_by "$sig" "$status"
		[ "$(cat "$err")" = "gx-extract: stopped by SIG$sig; no end marker written" ]
	done
	assert_normal_run
}

@test "SIGTERM while waiting on a silent server stops at once too" {
	local t=$BATS_TEST_TMPDIR port start
	port=$(silent_listener "$t")
	start=$(ms)
	GENIUS_DB_PORT=$port env --default-signal=TERM sh -c 'echo $$ >"$1"; exec gx-extract --now --timeout 20' \
		_ "$t/pid" 2>"$t/err" >"$t/out" 3>&- &
	local job=$!
	for _ in $(seq 50); do [ -s "$t/pid" ] && break; sleep 0.1; done
	sleep 0.5
	kill -TERM "$(cat "$t/pid")"
	rc=0
	wait "$job" || rc=$?
	[ "$rc" -eq 143 ]
	[ $(($(ms) - start)) -lt 5000 ]
	[ "$(cat "$t/err")" = "gx-extract: stopped by SIGTERM; no end marker written" ]
	[ ! -s "$t/out" ]
}

@test "with --log-format json, the signal's line is JSON too" {
	local t=$BATS_TEST_TMPDIR
	GX_LOG_FORMAT=json stopped_by TERM 143
	[ "$(jq -c . "$t/err")" = '{"program":"gx-extract","level":"error","message":"stopped by SIGTERM; no end marker written"}' ]
}
