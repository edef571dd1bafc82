# Shared by every bats file: real MariaDB and PostgreSQL servers, started once
# per file in a temporary directory (scripts/sandbox), and the gx binaries.
# Usage in a .bats file:
#   setup_file()    { gx_servers_start; }
#   teardown_file() { gx_servers_stop; }
#   setup()         { gx_env; }

GX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GX_ROOT
# Programs built elsewhere (the sanitizer build) still find the tree's files.
export GX_HOME="$GX_ROOT" GX_QUERIES="$GX_ROOT/extract/queries"
export GX_BIN="${GX_BIN:-$GX_ROOT/bin}"
case "$GX_BIN" in /*) ;; *) GX_BIN="$GX_ROOT/$GX_BIN" ;; esac
export PATH="$GX_BIN:$GX_ROOT/scripts:$PATH"
# No settings file of this machine or user changes what a test runs
# (tests/settings.bats reads its own).
export GX_CONFIG=none
# Nor a timestamp on the scripts' log lines off a terminal (their default):
# tests compare stderr whole (tests/feedback.bats checks the default).
export GX_LOG_TIMESTAMPS=0

gx_servers_start() {
	export GX_SB="$BATS_FILE_TMPDIR/sandbox"
	# As root the servers run as an unprivileged user, who must be able to
	# enter bats' private (mode 700) temporary directories.
	if [ "$(id -u)" -eq 0 ]; then
		local d=$BATS_FILE_TMPDIR
		while [ "$d" != / ] && [ "$d" != "$(dirname "$BATS_RUN_TMPDIR")" ]; do
			chmod o+x "$d"
			d=$(dirname "$d")
		done
	fi
	"$GX_ROOT/scripts/sandbox" start "$GX_SB" >&3 2>&1 || return 1
	gx_env
}

gx_servers_stop() {
	[ -n "${GX_SB:-}" ] || return 0
	"$GX_ROOT/scripts/sandbox" stop "$GX_SB" >/dev/null 2>&1 || true
}

# Loads the sandbox's environment (GENIUS_DB_*, PG*) into the test.
gx_env() {
	export GX_SB="$BATS_FILE_TMPDIR/sandbox"
	# shellcheck disable=SC1091
	if [ -f "$GX_SB/env" ]; then . "$GX_SB/env"; fi
	return 0
}

# Admin SQL on the source (root over the private socket), batch output.
gx_my() {
	mariadb --no-defaults --socket="$GX_MYSQL_SOCKET" -uroot --batch \
		--skip-column-names --default-character-set=utf8mb4 genius "$@"
}

# SQL on the warehouse, unaligned, tab-separated, no headers.
gx_pg() {
	psql -X -q -v ON_ERROR_STOP=1 -At -F $'\t' "$@"
}

# Loads sample Genius data with N rows into the source.
gx_sample() {
	"$GX_ROOT/scripts/genius-sample" --rows "${1:-200}" | gx_my
}

# setup_file of the sync suites: servers plus gx's warehouse schema.
gx_warehouse_start() {
	gx_servers_start || return 1
	gx-state init >/dev/null 2>&1
}

# Every target table of scripts/entities, comma separated.
gx_targets() {
	awk '!/^[[:space:]]*(#|$)/ { printf "%s%s", sep, $2; sep = ", " }' "$GX_ROOT/scripts/entities"
}

# setup of a sync test: its own reject directory, fresh sample data (N rows,
# default 300), an empty warehouse and no run history.
gx_fresh() {
	gx_env
	export GX_REJECTS_DIR="$BATS_TEST_TMPDIR/rejects"
	gx_sample "${1:-300}"
	gx_pg -c "TRUNCATE $(gx_targets), orchestration.sync_history, orchestration.sync_rejects"
}

# The latest run's column of sync_history.
gx_last_run() {
	gx_pg -c "SELECT $1 FROM orchestration.sync_history ORDER BY id DESC LIMIT 1"
}

# gx_at EPOCH: gx's sessions see the source clock (NOW(), @@timestamp) at
# that instant, through an option file's init-command.
gx_at() {
	printf '[client]\ninit-command=SET @@session.timestamp = %s\n' "$1" >"$BATS_TEST_TMPDIR/clock.cnf"
	export GENIUS_DB_OPTION_FILE="$BATS_TEST_TMPDIR/clock.cnf"
}

# gx_write_at EPOCH SQL: a writer on the source whose clock reads EPOCH.
gx_write_at() {
	local t=$1
	shift
	gx_my -e "SET @@session.timestamp = $t; $*"
}

# ---- the sandbox's servers, for fault tests ------------------------------

# Runs a command as the owner of the sandbox's servers (root runs them as an
# unprivileged user).
as_owner() {
	local owner
	owner=$(stat -c %U "$GX_SB/pg")
	if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ]; then
		runuser -u "$owner" -- "$@"
	else
		"$@"
	fi
}

# pg_ctl on the sandbox's PostgreSQL (same port and socket when restarted).
# The server must not inherit the test's descriptors (a fifo's writing end
# would keep gx-load's input open for ever; fd 3 would keep bats waiting).
pg_ctl_sb() {
	as_owner "$(pg_config --bindir)/pg_ctl" -D "$GX_SB/pg" -l "$GX_SB/pg.log" -w -t 30 -s "$@" \
		3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
}

# The MariaDB server's pid, from the sandbox's pid file.
server_pid() { cat "$GX_SANDBOX_DIR/mysql.pid"; }

# gone PID: the process has exited; a zombie counts, as the servers' parent
# is init, which may be slow to reap them.
gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[ "${stat:0:1}" = Z ]
}

# Restarts the sandbox's MariaDB with the same options (port, socket,
# accounts): stopped by SIGTERM as an operator's restart would, started again
# from its own command line.
mysql_restart() {
	local pid args
	pid=$(server_pid)
	mapfile -d '' args <"/proc/$pid/cmdline"
	kill -TERM "$pid"
	for _ in $(seq 300); do gone "$pid" && break; sleep 0.1; done
	setsid "${args[@]}" </dev/null >/dev/null 2>&1 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	for _ in $(seq 300); do
		mariadb-admin --no-defaults --socket="$GX_MYSQL_SOCKET" -uroot \
			--connect-timeout=2 ping >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# gx_slow_map EVERY SLEEP: from here on the test's gx-map sleeps SLEEP s
# every EVERY rows (awk in front of the real one), so that a sync lasts long
# enough to be killed or to show progress; the other programs are the real
# ones. Sets GX_BIN and PATH to the directory of the wrappers.
gx_slow_map() {
	local d="$BATS_TEST_TMPDIR/bin" p
	mkdir -p "$d"
	for p in gx-extract gx-load gx-state; do ln -sf "$GX_BIN/$p" "$d/$p"; done
	printf '#!/usr/bin/env bash\nawk '\''{ print; fflush() } NR %% %d == 0 { system("sleep %s") }'\'' | "%s/gx-map" "$@"\n' \
		"$1" "$2" "$GX_BIN" >"$d/gx-map"
	chmod +x "$d/gx-map"
	export GX_BIN=$d PATH="$d:$PATH"
}
