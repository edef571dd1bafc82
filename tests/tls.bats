#!/usr/bin/env bats
# TLS on both sides, with a private CA made here (openssl): gx-extract's SSL
# modes against MariaDB (ssl-ca/ssl-cert/ssl-key), libpq's sslmode against
# PostgreSQL (ssl=on, TCP over TLS only): a certificate for another host
# name, one from another CA, a server that requires TLS, an account that
# requires a client certificate, and the option-file key that Connector/C
# drops (ssl-verify-server-cert with no value).

load helpers
bats_require_minimum_version 1.5.0

# mkcert NAME CA SUBJECT_ALT_NAMES: NAME.pem and NAME.key signed by CA.
mkcert() {
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$PKI/$1.key" \
		-out "$PKI/$1.csr" 2>/dev/null
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\n' "$3" >"$PKI/$1.ext"
	openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.pem" -CAkey "$PKI/$2.key" \
		-CAcreateserial -days 2 -extfile "$PKI/$1.ext" -out "$PKI/$1.pem" 2>/dev/null
}

mkca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$PKI/$1.key" -out "$PKI/$1.pem" 2>/dev/null
}

# serve NAME: both servers present certificate NAME from now on.
serve() {
	cp "$PKI/$1.pem" "$PKI/serve/server.pem"
	cp "$PKI/$1.key" "$PKI/serve/server.key"
	"$GX_ROOT/scripts/sandbox" reload-tls "$GX_SB"
}

setup_file() {
	export PKI="$BATS_FILE_TMPDIR/pki"
	mkdir -p "$PKI/serve"
	mkca ca
	mkca otherca
	mkcert good ca "IP:127.0.0.1,DNS:localhost"
	mkcert elsewhere ca "DNS:elsewhere.test"
	mkcert client ca "DNS:gx-client"
	cp "$PKI/ca.pem" "$PKI/serve/ca.pem"
	cp "$PKI/good.pem" "$PKI/serve/server.pem"
	cp "$PKI/good.key" "$PKI/serve/server.key"
	GX_SANDBOX_TLS="$PKI/serve" gx_warehouse_start
	gx_sample 30
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	export PKI="$BATS_FILE_TMPDIR/pki" CA="$BATS_FILE_TMPDIR/pki/ca.pem"
	# No option file of the user running the tests.
	export HOME="$BATS_TEST_TMPDIR"
	unset GENIUS_DB_SSL_MODE GENIUS_DB_SSL_CA GENIUS_DB_SSL_CERT GENIUS_DB_SSL_KEY
	# What the server says of the session: its TLS version, or "".
	printf '%s\n' '-- @cursor none' '-- @key VARIABLE_VALUE' "-- @where VARIABLE_NAME = 'Ssl_version'" \
		'SELECT VARIABLE_VALUE AS v FROM information_schema.SESSION_STATUS' \
		>"$BATS_TEST_TMPDIR/tls.sql"
}

# Whatever a test changed on the servers is undone, pass or fail.
teardown() {
	if [ -e "$BATS_TEST_TMPDIR/served" ]; then serve good; fi
	if [ -d "$BATS_TEST_TMPDIR/plain" ]; then "$GX_ROOT/scripts/sandbox" stop "$BATS_TEST_TMPDIR/plain"; fi
	gx_my -e "SET GLOBAL require_secure_transport = OFF; DROP USER IF EXISTS 'gxcert'@'127.0.0.1'"
}

# session_tls: the TLS version the server sees for gx-extract's session.
session_tls() {
	gx-extract --query "$BATS_TEST_TMPDIR/tls.sql" | jq -r 'select(.v != null) | .v'
}

@test "verify-full: the server's certificate for 127.0.0.1 from the CA is verified, the session is encrypted, --debug says how" {
	export GENIUS_DB_SSL_MODE=verify-full GENIUS_DB_SSL_CA="$CA"
	run --separate-stderr gx-extract --entity users --limit 3 --debug
	[ "$status" -eq 0 ]
	[ "$(grep -vc '"@gx"' <<<"$output")" -eq 3 ]
	[[ $stderr == *"debug: connection: encrypted, TLSv1.3 "*"; server certificate verified against CA $CA, host name checked (SSL mode verify-full, GENIUS_DB_SSL_MODE)"* ]]
	[ "$(session_tls)" = TLSv1.3 ]
}

@test "a CA alone asks for verify-full: a certificate naming another host is refused (status 2); verify-ca takes it, saying the name was not checked" {
	touch "$BATS_TEST_TMPDIR/served"
	serve elsewhere
	GENIUS_DB_SSL_CA="$CA" run --separate-stderr gx-extract --now
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ $stderr == *"Validation of SSL server certificate failed (SSL mode verify-full, a CA is given: GENIUS_DB_SSL_CA: the server's certificate must be signed by $CA and name the host connected to)"* ]]
	GENIUS_DB_SSL_CA="$CA" run --separate-stderr gx-extract --ssl-mode verify-ca --now --debug
	[ "$status" -eq 0 ]
	[[ $stderr == *"server certificate verified against CA $CA, host name not checked (SSL mode verify-ca, --ssl-mode)"* ]]
}

@test "ssl-verify-server-cert in an option file, with no value or ON, checks the host name as the mariadb client does (Connector/C alone skips it)" {
	touch "$BATS_TEST_TMPDIR/served"
	serve elsewhere
	local cnf="$BATS_TEST_TMPDIR/my.cnf" line
	(umask 077 && printf '[client]\nssl-ca = %s\nssl-verify-server-cert\npassword = %s\n' "$CA" \
		"$GENIUS_DB_PASSWORD" >"$cnf")
	# the stock client refuses this file: it is the yardstick
	run mariadb --defaults-file="$cnf" -h 127.0.0.1 -P "$GENIUS_DB_PORT" -u genius -e 'SELECT 1'
	[ "$status" -ne 0 ]
	[[ $output == *"Validation of SSL server certificate failed"* ]]
	for line in "ssl-verify-server-cert" "ssl_verify_server_cert = ON" "ssl-verify-server-cert=1" \
		"loose-ssl-verify-server-cert" "enable-ssl-verify-server-cert" "ssl-verify-server-cert = yes"; do
		(umask 077 && printf '[client]\nssl-ca = %s\n%s\npassword = %s\n' "$CA" "$line" \
			"$GENIUS_DB_PASSWORD" >"$cnf")
		run --separate-stderr env -u GENIUS_DB_PASSWORD gx-extract --defaults-file "$cnf" --now
		echo "$line: $status $stderr"
		[ "$status" -eq 2 ]
		[[ $stderr == *"Validation of SSL server certificate failed (SSL mode verify-full, $cnf:3: "* ]]
	done
	# =0 says verify the chain, not the name: the stock client's reading too
	(umask 077 && printf '[client]\nssl-ca = %s\nssl-verify-server-cert = 0\npassword = %s\n' "$CA" \
		"$GENIUS_DB_PASSWORD" >"$cnf")
	run env -u GENIUS_DB_PASSWORD gx-extract --defaults-file "$cnf" --now
	[ "$status" -eq 0 ]
	# a value that is no boolean is refused, not taken as off
	printf '[client]\nssl-verify-server-cert = maybe\n' >"$cnf"
	run gx-extract --defaults-file "$cnf" --now
	[ "$status" -eq 1 ]
	[ "$output" = "gx-extract: $cnf:2: ssl-verify-server-cert: not a boolean (1/0, on/off, true/false, yes/no): 'maybe'" ]
}

@test "another CA's certificate is refused by verify-ca and verify-full; require connects encrypted, unverified" {
	local mode
	for mode in verify-ca verify-full; do
		GENIUS_DB_SSL_CA="$PKI/otherca.pem" GENIUS_DB_SSL_MODE=$mode run --separate-stderr gx-extract --now
		[ "$status" -eq 2 ]
		[[ $stderr == *"TLS/SSL error: self-signed certificate in certificate chain (SSL mode $mode, GENIUS_DB_SSL_MODE: the server's certificate must be signed by $PKI/otherca.pem"* ]]
	done
	GENIUS_DB_SSL_CA="$PKI/otherca.pem" GENIUS_DB_SSL_MODE=require run --separate-stderr gx-extract --now --debug
	[ "$status" -eq 0 ]
	[[ $stderr == *"debug: connection: encrypted, TLSv1.3 "*"; server certificate not verified (SSL mode require, GENIUS_DB_SSL_MODE)"* ]]
}

@test "a server that requires TLS: the default (prefer) connects encrypted; disable is refused with a hint" {
	gx_my -e "SET GLOBAL require_secure_transport = ON"
	[ "$(session_tls)" = TLSv1.3 ]
	GENIUS_DB_SSL_MODE=disable run --separate-stderr gx-extract --now
	[ "$status" -eq 2 ]
	[[ $stderr == *"Access denied for user 'genius'@'127.0.0.1'"*"(SSL mode disable, GENIUS_DB_SSL_MODE: does the server or the account require TLS?)"* ]]
	# without the requirement, disable is plain text, and says so
	gx_my -e "SET GLOBAL require_secure_transport = OFF"
	GENIUS_DB_SSL_MODE=disable run --separate-stderr gx-extract --query "$BATS_TEST_TMPDIR/tls.sql" --debug
	[ "$status" -eq 0 ]
	[[ $stderr == *"debug: connection: not encrypted (SSL mode disable, GENIUS_DB_SSL_MODE)"* ]]
	[ "$(jq -r 'select(.v != null) | .v' <<<"$output")" = "" ]
}

@test "an account that requires a client certificate: GENIUS_DB_SSL_CERT and GENIUS_DB_SSL_KEY present it" {
	gx_my <<EOF
CREATE USER 'gxcert'@'127.0.0.1' IDENTIFIED BY '$GENIUS_DB_PASSWORD' REQUIRE SUBJECT '/CN=client';
GRANT SELECT ON genius.* TO 'gxcert'@'127.0.0.1';
EOF
	export GENIUS_DB_USER=gxcert GENIUS_DB_SSL_CA="$CA"
	run gx-extract --now
	[ "$status" -eq 2 ]
	[[ $output == *"Access denied for user 'gxcert'"* ]]
	GENIUS_DB_SSL_CERT="$PKI/client.pem" GENIUS_DB_SSL_KEY="$PKI/client.key" run gx-extract --now
	[ "$status" -eq 0 ]
	[ "$(jq -r '."@gx"' <<<"$output")" = now ]
}

@test "require, verify-ca and verify-full refuse a server that offers no TLS (Connector/C 3.3 would connect in plain text)" {
	local plain="$BATS_TEST_TMPDIR/plain" mode
	env -u GX_SANDBOX_TLS "$GX_ROOT/scripts/sandbox" start "$plain" >/dev/null 2>&1
	eval "$(grep -E '^export GENIUS_DB_(PORT|PASSWORD)=' "$plain/env")"
	for mode in require verify-ca verify-full; do
		GENIUS_DB_SSL_CA="$CA" GENIUS_DB_SSL_MODE=$mode run --separate-stderr gx-extract --now
		echo "$mode: $status $stderr"
		[ "$status" -eq 2 ]
		[ -z "$output" ]
		[[ $stderr == *"offers no TLS"* || $stderr == *"SSL is required, but the server does not support it"* ]]
	done
	run --separate-stderr gx-extract --now --debug
	[ "$status" -eq 0 ]
	[[ $stderr == *"debug: connection: not encrypted (SSL mode prefer, the default: the server offers no TLS)"* ]]
}

@test "over the unix socket the SSL mode does not apply, and --debug says so" {
	GENIUS_DB_HOST=localhost GENIUS_DB_SOCKET="$GX_MYSQL_SOCKET" GENIUS_DB_SSL_MODE=verify-full \
		GENIUS_DB_SSL_CA="$PKI/otherca.pem" run --separate-stderr gx-extract --now --debug
	[ "$status" -eq 0 ]
	[[ $stderr == *"debug: connection: unix socket (local: TLS does not apply)"* ]]
}

@test "a bad SSL mode or an unreadable CA is bad usage (status 1), before connecting" {
	GENIUS_DB_SSL_MODE=verify run gx-extract --now
	[ "$status" -eq 1 ]
	[[ $output == *"SSL mode: expected disable, prefer, require, verify-ca or verify-full: 'verify'"* ]]
	run gx-extract --ssl-ca "$PKI/nosuch.pem" --now
	[ "$status" -eq 1 ]
	[[ $output == *"cannot read '$PKI/nosuch.pem'"* ]]
	GENIUS_DB_SSL_MODE=verify-ca run gx-extract --now
	[ "$status" -eq 1 ]
	[[ $output == *"SSL mode verify-ca needs a CA to verify against"* ]]
}

# ---- the warehouse (libpq) -------------------------------------------------

@test "a sync with verify-full on both sides loads the rows over TLS" {
	export GENIUS_DB_SSL_MODE=verify-full GENIUS_DB_SSL_CA="$CA"
	export PGHOST=127.0.0.1 PGSSLMODE=verify-full PGSSLROOTCERT="$CA"
	gx_pg -c "TRUNCATE ingestion.genius_userdata, orchestration.sync_history"
	run users
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c 'SELECT count(*) FROM ingestion.genius_userdata')" -eq "$(gx_my -e 'SELECT count(*) FROM user_data')" ]
	[ "$(gx_pg -c 'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()')" = $'t\tTLSv1.3' ]
	[ "$(gx_last_run status)" = success ]
	# --debug says how each warehouse connection is made
	run --separate-stderr gx-state --debug list users --limit 1
	[ "$status" -eq 0 ]
	[[ $stderr == *"debug: PostgreSQL: 127.0.0.1:"*", TLS TLSv1.3 ("*"), sslmode verify-full"* ]]
	PGSSLMODE=disable PGHOST="$GX_SB/run" run --separate-stderr gx-state --debug list users --limit 1
	[[ $stderr == *"debug: PostgreSQL: "*", not encrypted"* ]]
}

@test "libpq: another CA, another host name and sslmode=disable against hostssl are refused (status 2)" {
	export PGHOST=127.0.0.1 PGSSLMODE=verify-full
	PGSSLROOTCERT="$PKI/otherca.pem" run gx-state list --limit 1
	[ "$status" -eq 2 ]
	[[ $output == *"certificate verify failed"* ]]
	PGSSLMODE=disable run gx-state list --limit 1
	[ "$status" -eq 2 ]
	[[ $output == *"no encryption"* ]]
	touch "$BATS_TEST_TMPDIR/served"
	serve elsewhere
	PGSSLROOTCERT="$CA" run gx-state list --limit 1
	[ "$status" -eq 2 ]
	[[ $output == *'server certificate for "elsewhere.test"'*'does not match host name "127.0.0.1"'* ]]
}
