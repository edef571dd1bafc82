#!/usr/bin/env bats
# MySQL option files, read as the stock mariadb client reads them: ~/.my.cnf
# and the [client] groups by default, gx's own [gx] group, --no-defaults,
# --defaults-file, --defaults-extra-file, --defaults-group-suffix (by
# gx-extract, the entity scripts and gx-sync), !include and !includedir;
# MYSQL_PWD refused. The source clock an option file's init-command sets
# (@@session.timestamp) shows which file and group won.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	gx_warehouse_start
	gx_sample 20
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	export GX_REJECTS_DIR="$BATS_TEST_TMPDIR/rejects"
	export HOME="$BATS_TEST_TMPDIR/home"
	mkdir -p "$HOME"
	# The connection comes from the files, except where a test says.
	pw=$GENIUS_DB_PASSWORD port=$GENIUS_DB_PORT
	unset GENIUS_DB_HOST GENIUS_DB_PORT GENIUS_DB_USER GENIUS_DB_PASSWORD GENIUS_DB_NAME
	unset GENIUS_DB_OPTION_FILE MYSQL_GROUP_SUFFIX MYSQL_PWD
}

# cnf FILE GROUP [KEY=VALUE...]: a private option file with the sandbox's
# connection in GROUP, then the lines given.
cnf() {
	local f=$1 g=$2
	shift 2
	mkdir -p "$(dirname "$f")"
	(umask 077 && {
		printf '[%s]\nhost = 127.0.0.1\nport = %s\nuser = genius\npassword = %s\ndatabase = genius\n' \
			"$g" "$port" "$pw"
		printf '%s\n' "$@"
	} >"$f")
}

# clock: the source clock gx-extract's session sees (the init-command's).
clock() {
	gx-extract "$@" --now | jq -r .now
}

at() { printf 'init-command = SET @@session.timestamp = %s' "$1"; }

@test "~/.my.cnf is read by default: its [client] group is the connection, and --debug names the files and each setting's line" {
	cnf "$HOME/.my.cnf" client "$(at 1000)"
	run --separate-stderr gx-extract --now --debug
	[ "$status" -eq 0 ]
	[ "$(jq -r .now <<<"$output")" = "1970-01-01 00:16:40.000000" ]
	[[ $stderr == *"debug: option files: "*"$HOME/.my.cnf (groups client, client-server, client-mariadb, gx)"* ]]
	[[ $stderr == *"as genius ($HOME/.my.cnf:4), password set ($HOME/.my.cnf:5)"* ]]
	[[ $stderr != *"$pw"* ]]
}

@test "[gx] is read too, and the line read last wins whatever its group, as in mysys" {
	cnf "$HOME/.my.cnf" client "$(at 1000)" "[gx]" "$(at 2000)" "[mysql]" "$(at 9000)"
	[ "$(clock)" = "1970-01-01 00:33:20.000000" ]
	cnf "$HOME/.my.cnf" gx "$(at 2000)" "[client-server]" "$(at 3000)"
	[ "$(clock)" = "1970-01-01 00:50:00.000000" ]
}

@test "--no-defaults reads no option file" {
	cnf "$HOME/.my.cnf" client
	[ "$(gx-extract --now | jq -r '."@gx"')" = now ]
	run --separate-stderr gx-extract --no-defaults --now --debug
	[ "$status" -eq 2 ]
	[[ $stderr == *"debug: option files: none (--no-defaults)"* ]]
	[[ $stderr == *"cannot connect to MySQL at localhost"* ]]
	# also with the environment's option file: the flag wins
	GENIUS_DB_OPTION_FILE="$HOME/.my.cnf" run gx-extract --no-defaults --now
	[ "$status" -eq 2 ]
	run gx-extract --no-defaults --defaults-file "$HOME/.my.cnf" --now
	[ "$status" -eq 1 ]
	[ "$output" = "gx-extract: --no-defaults reads no option file: drop --defaults-file and --defaults-extra-file (see gx-extract --help)" ]
}

@test "--defaults-file (or GENIUS_DB_OPTION_FILE) reads that file only" {
	cnf "$HOME/.my.cnf" client "password = not-it"
	cnf "$BATS_TEST_TMPDIR/only.cnf" client "$(at 1000)"
	run gx-extract --now
	[ "$status" -eq 2 ]
	[[ $output == *"Access denied"* ]]
	[[ $output != *not-it* ]]
	[ "$(clock --defaults-file "$BATS_TEST_TMPDIR/only.cnf")" = "1970-01-01 00:16:40.000000" ]
	[ "$(GENIUS_DB_OPTION_FILE="$BATS_TEST_TMPDIR/only.cnf" clock)" = "1970-01-01 00:16:40.000000" ]
	run gx-extract --defaults-file "$BATS_TEST_TMPDIR/missing.cnf" --now
	[ "$status" -eq 1 ]
	[[ $output == *"cannot read option file '$BATS_TEST_TMPDIR/missing.cnf'"* ]]
}

@test "--defaults-extra-file is read after the global files and before ~/.my.cnf" {
	cnf "$BATS_TEST_TMPDIR/extra.cnf" client "$(at 1000)"
	[ "$(clock --defaults-extra-file "$BATS_TEST_TMPDIR/extra.cnf")" = "1970-01-01 00:16:40.000000" ]
	printf '[client]\n%s\n' "$(at 2000)" >"$HOME/.my.cnf"
	[ "$(clock --defaults-extra-file "$BATS_TEST_TMPDIR/extra.cnf")" = "1970-01-01 00:33:20.000000" ]
	run gx-extract --defaults-extra-file "$BATS_TEST_TMPDIR/missing.cnf" --now
	[ "$status" -eq 1 ]
}

@test "--defaults-group-suffix (or MYSQL_GROUP_SUFFIX) reads [client_S] and [gx_S] too" {
	cnf "$HOME/.my.cnf" client "$(at 1000)" "[gx_prod]" "$(at 2000)" "[client_test]" "$(at 3000)"
	[ "$(clock)" = "1970-01-01 00:16:40.000000" ]
	[ "$(clock --defaults-group-suffix _prod)" = "1970-01-01 00:33:20.000000" ]
	[ "$(clock --defaults-group-suffix=_test)" = "1970-01-01 00:50:00.000000" ]
	[ "$(MYSQL_GROUP_SUFFIX=_test clock)" = "1970-01-01 00:50:00.000000" ]
}

@test "!include and !includedir (every .cnf of it, in name order); quotes, escapes and comments as mysys reads them" {
	mkdir -p "$HOME/cnf.d"
	printf '[client]\n%s\n' "$(at 1000)" >"$HOME/cnf.d/10-a.cnf"
	printf '[client]\n%s\n' "$(at 2000)" >"$HOME/cnf.d/20-b.cnf"
	printf '[client]\n%s\n' "$(at 9000)" >"$HOME/cnf.d/30-c.txt"
	cnf "$HOME/.my.cnf" client "!includedir $HOME/cnf.d/"
	[ "$(clock)" = "1970-01-01 00:33:20.000000" ]
	printf '[gx]\ninit_command = "SET @@session.timestamp = 3000" # the clock\n' >"$HOME/q.cnf"
	cnf "$HOME/.my.cnf" client "!includedir $HOME/cnf.d" "!include $HOME/q.cnf"
	[ "$(clock)" = "1970-01-01 00:50:00.000000" ]
	printf "[gx]\ninit-command = 'SET @@session.timestamp\\\\s=\\\\s4000'\n" >"$HOME/q.cnf"
	[ "$(clock)" = "1970-01-01 01:06:40.000000" ]
}

@test "MYSQL_PWD is refused with the reason, and never printed" {
	cnf "$HOME/.my.cnf" client
	MYSQL_PWD=hunter2 run gx-extract --now
	[ "$status" -eq 1 ]
	[[ $output == "gx-extract: MYSQL_PWD is set: gx does not use it (MySQL deprecated it"* ]]
	[[ $output != *hunter2* ]]
}

@test "a password with no value (the stock client's prompt) and a misspelt TLS key are refused; other programs' keys are not" {
	cnf "$HOME/.my.cnf" client "password"
	run gx-extract --now
	[ "$status" -eq 1 ]
	[ "$output" = "gx-extract: $HOME/.my.cnf:7: password with no value asks for a prompt, and gx runs unattended: give its value, or GENIUS_DB_PASSWORD" ]
	cnf "$HOME/.my.cnf" client "ssl-verify-server-crt = 1"
	run gx-extract --now
	[ "$status" -eq 1 ]
	[ "$output" = "gx-extract: $HOME/.my.cnf:7: unknown TLS option: ssl-verify-server-crt" ]
	cnf "$HOME/.my.cnf" client "no-auto-rehash" "max_allowed_packet = 16M" "loose-ssl-future-thing = 1"
	run gx-extract --now
	[ "$status" -eq 0 ]
}

@test "the entity scripts and gx-sync pass the option-file flags on to gx-extract" {
	gx_pg -c "TRUNCATE ingestion.genius_userdata, orchestration.sync_history"
	cnf "$BATS_TEST_TMPDIR/src.cnf" client
	run users --defaults-file "$BATS_TEST_TMPDIR/src.cnf"
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c 'SELECT count(*) FROM ingestion.genius_userdata')" -eq "$(gx_my -e 'SELECT count(*) FROM user_data')" ]
	cnf "$HOME/.my.cnf" client
	run gx-sync users --full --no-defaults
	[ "$status" -eq 2 ]
	[[ $output == *"cannot connect to MySQL at localhost"* ]]
	cnf "$HOME/.my.cnf" client_s
	run gx-sync users --full --defaults-group-suffix=_s
	[ "$status" -eq 0 ]
	run gx-sync users --full --defaults-extra-file "$BATS_TEST_TMPDIR/src.cnf"
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c "SELECT status FROM orchestration.sync_history ORDER BY id")" = "$(printf 'success\nfailed\nsuccess\nsuccess')" ]
}
