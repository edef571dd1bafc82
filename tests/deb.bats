#!/usr/bin/env bats
# The Debian package (debian/, make deb, docs/packaging.md). setup_file
# builds it with dpkg-buildpackage in a copy of the tree, the output in this
# file's temporary directory; its contents are read with dpkg-deb (and
# lintian, when installed). As root, the .deb is then installed with dpkg -i,
# a sync runs as cron runs it (the gx user, an empty environment but PATH,
# HOME, LOGNAME and SHELL; the settings in the gx user's gx.conf, which the
# scripts read themselves) against the private servers, the target is
# compared with the source, and the package is purged: the machine is left
# as it was. Not root, or with a gx user or package already there, the
# install tests are skipped and say why.

bats_require_minimum_version 1.5.0
load helpers

# Why the .deb cannot be installed here for the test, or nothing.
install_blocker() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "not root: dpkg -i needs root"
	elif dpkg-query -W -f='${Status}' gx 2>/dev/null | grep -qv 'not-installed'; then
		echo "a gx package is on this machine already (the test would replace it)"
	elif getent passwd gx >/dev/null || getent group gx >/dev/null; then
		echo "a gx user or group exists already (the purge would remove it)"
	fi
}

setup_file() {
	if ! command -v dpkg-buildpackage >/dev/null || ! command -v dh >/dev/null; then
		skip "dpkg-buildpackage or debhelper is not installed (make deps installs them)"
	fi
	export DEBDIR="$BATS_FILE_TMPDIR/deb"
	make -C "$GX_ROOT" deb DEBDIR="$DEBDIR" >"$BATS_FILE_TMPDIR/build.log" 2>&1 ||
		{ tail -n 40 "$BATS_FILE_TMPDIR/build.log" >&3; return 1; }
	DEB=$(echo "$DEBDIR"/gx_*_"$(dpkg --print-architecture)".deb)
	export DEB
	# One deb.bats at a time installs gx: the claim is a directory.
	NO_INSTALL=$(install_blocker)
	if [ -z "$NO_INSTALL" ] && mkdir /run/lock/gx-deb.bats 2>/dev/null; then
		touch "$BATS_FILE_TMPDIR/claimed"
		NO_INSTALL=$(install_blocker)
	elif [ -z "$NO_INSTALL" ]; then
		NO_INSTALL="another tests/deb.bats installs gx now (or one was killed: rmdir /run/lock/gx-deb.bats)"
	fi
	export NO_INSTALL
	[ -z "$NO_INSTALL" ] || return 0
	gx_servers_start
	gx_sample 200
	[ -e /run/lock/gx-all.lock ] || touch "$BATS_FILE_TMPDIR/our-lock"
	touch "$BATS_FILE_TMPDIR/installed"
	dpkg -i "$DEB" >"$BATS_FILE_TMPDIR/dpkg.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/dpkg.log" >&3; return 1; }
}

teardown_file() {
	if [ -e "$BATS_FILE_TMPDIR/installed" ]; then
		dpkg --purge gx >/dev/null 2>&1 || true
	fi
	if [ -e "$BATS_FILE_TMPDIR/our-lock" ]; then
		rm -f /run/lock/gx-all.lock
	fi
	if [ -e "$BATS_FILE_TMPDIR/claimed" ]; then
		rmdir /run/lock/gx-deb.bats
	fi
	gx_servers_stop
}

setup() { gx_env; }

need_install() {
	if [ -n "$NO_INSTALL" ]; then
		skip "$NO_INSTALL"
	fi
}

# The entities of the registry.
entities() {
	awk '!/^[[:space:]]*(#|$)/ { print $1 }' "$GX_ROOT/scripts/entities"
}

# as_cron COMMAND: COMMAND as cron runs a line of /etc/cron.d/gx: /bin/sh -c,
# as the gx user, with only the variables cron sets.
as_cron() {
	runuser -u gx -- env -i PATH=/usr/bin:/bin HOME=/var/lib/gx LOGNAME=gx SHELL=/bin/sh \
		/bin/sh -c "$1"
}

# The command of docs/packaging.md's /etc/cron.d/gx line (after the five
# time fields and the user).
cron_command() {
	awk '$6 == "gx" && $7 == "exec" { $1 = $2 = $3 = $4 = $5 = $6 = ""; sub(/^ +/, ""); print; exit }' \
		"$GX_ROOT/docs/packaging.md"
}

# fill_conf: the sandbox's settings in the gx user's own settings file,
# ~gx/.config/gx/gx.conf, which the scripts read after /etc/gx/gx.conf, as
# an operator writes them (no password there: the password files are
# readable by gx only). Not in /etc/gx/gx.conf: suites running at the same
# time as root with an empty environment would read that one too.
fill_conf() {
	local sec=$BATS_FILE_TMPDIR/secrets conf=/var/lib/gx/.config/gx/gx.conf
	if [ -e "$conf" ]; then
		return 0
	fi
	install -d -o gx -g gx -m 700 "$sec" /var/lib/gx/.config /var/lib/gx/.config/gx
	install -o gx -g gx -m 600 "$GX_SB/genius.cnf" "$GX_SB/pgpass" "$sec"
	printf '%s\n' "GENIUS_DB_HOST = 127.0.0.1" "GENIUS_DB_PORT = $GENIUS_DB_PORT" \
		"GENIUS_DB_NAME = genius" "GENIUS_DB_USER = genius" \
		"GENIUS_DB_OPTION_FILE = $sec/genius.cnf" \
		"PGHOST = 127.0.0.1" "PGPORT = $PGPORT" "PGDATABASE = $PGDATABASE" \
		"PGUSER = $PGUSER" "PGPASSFILE = $sec/pgpass" \
		"rejects-dir = /var/lib/gx/rejects" >"$conf"
	chown gx:gx "$conf"
	# and an edit of the conffile that changes nothing (dpkg -r keeps it)
	echo '# edited by tests/deb.bats' >>/etc/gx/gx.conf
}

# The warehouse settings for gx-state, which reads no settings file.
pg_env() {
	printf '%s\n' PGHOST=127.0.0.1 "PGPORT=$PGPORT" "PGDATABASE=$PGDATABASE" "PGUSER=$PGUSER" \
		"PGPASSFILE=$BATS_FILE_TMPDIR/secrets/pgpass"
}

@test "make deb builds gx_VERSION_ARCH.deb outside the tree and leaves no build files in debian/" {
	v=$(sed -n 's/^#define GX_VERSION "\(.*\)"$/\1/p' "$GX_ROOT/common/gx.h")
	[ -f "$DEB" ]
	[ "$(dpkg-deb -f "$DEB" Version)" = "$v" ]
	[ "$(dpkg-deb -f "$DEB" Package)" = gx ]
	grep -q "dpkg-buildpackage -us -uc -b" "$BATS_FILE_TMPDIR/build.log"
	[ ! -e "$DEBDIR/gx" ]	# the copy is gone
	for f in files gx .debhelper debhelper-build-stamp gx.substvars gx.debhelper.log; do
		[ ! -e "$GX_ROOT/debian/$f" ] || { echo "debian/$f left in the tree"; false; }
	done
	run git -C "$GX_ROOT" status --porcelain --ignored -- debian
	[[ $output != *'!!'* ]]
}

@test "the .deb holds the programs, scripts, queries, maps, DDL, man pages, examples, gx.conf and the units" {
	dpkg-deb -c "$DEB" | awk '{ sub(/^\./, "", $6); print $1, $6 }' >"$BATS_TEST_TMPDIR/list"
	has() { grep -qx -- "$1" "$BATS_TEST_TMPDIR/list" || { echo "not in the .deb: $1"; false; }; }
	for p in gx-extract gx-map gx-load gx-state gx-sync; do
		has "-rwxr-xr-x /usr/bin/$p"
	done
	s=/usr/share/gx
	for f in lib entities entities.deps; do
		has "-rw-r--r-- $s/scripts/$f"
	done
	for e in $(entities) all status; do
		has "-rwxr-xr-x $s/scripts/$e"
	done
	for e in $(entities); do
		has "-rw-r--r-- $s/extract/queries/$e.sql"
		has "-rw-r--r-- $s/transform/maps/$e.map"
	done
	for f in "$GX_ROOT"/load/ddl/*; do
		has "-rw-r--r-- $s/load/ddl/${f##*/}"
	done
	for f in "$GX_ROOT"/docs/man/*.[17]; do
		has "-rw-r--r-- /usr/share/man/man${f##*.}/${f##*/}.gz"
	done
	for f in "$GX_ROOT"/docs/examples/*; do
		has "-rw-r--r-- /usr/share/doc/gx/examples/${f##*/}"
	done
	has "-rw-r--r-- /etc/gx/gx.conf"
	for f in "$GX_ROOT"/docs/examples/*.service "$GX_ROOT"/docs/examples/*.timer; do
		has "-rw-r--r-- /lib/systemd/system/${f##*/}"
	done
	has "-rw-r--r-- /lib/systemd/system/gx-sync.service"
	dpkg-deb -e "$DEB" "$BATS_TEST_TMPDIR/control"
	[ "$(cat "$BATS_TEST_TMPDIR/control/conffiles")" = /etc/gx/gx.conf ]
	# nothing of the sandbox, the demo or the tests
	run grep -E 'sandbox|demo|genius-sample|compare|/tests/|/bin/[^g]' "$BATS_TEST_TMPDIR/list"
	[ "$status" -eq 1 ]
	# the run-time needs of the scripts, and the libraries of the programs
	d=$(dpkg-deb -f "$DEB" Depends)
	for p in adduser jq make libmariadb3 libpq5; do
		[[ ", $d," == *", $p"[\ ,]* ]] || { echo "Depends: $d: no $p"; false; }
	done
}

@test "the packaged units run /usr/bin/gx-sync from /var/lib/gx, without EnvironmentFile=, and name nothing of /opt/gx" {
	x=$BATS_TEST_TMPDIR/x
	dpkg-deb -x "$DEB" "$x"
	u=$x/lib/systemd/system
	grep -qx 'ExecStart=/usr/bin/gx-sync all --jobs 4 --keep-going' "$u/gx-sync.service"
	grep -qx 'User=gx' "$u/gx-sync.service"
	ign='^#\|^ExecStart=\|^EnvironmentFile=\|^Documentation=\|^WorkingDirectory='
	for f in "$GX_ROOT"/docs/examples/*.service "$GX_ROOT"/docs/examples/*.timer; do
		p=$u/${f##*/}
		run grep -n '/opt/gx\|/etc/gx/env\|^EnvironmentFile=' "$p"
		[ "$status" -eq 1 ] || { echo "$p: $output"; false; }
		if grep -q '^ExecStart=' "$f"; then
			grep -q '^ExecStart=/usr/bin/gx-sync ' "$p"
			grep -qx 'WorkingDirectory=/var/lib/gx' "$p"
		fi
		# everything else as in docs/examples
		diff <(grep -v "$ign" "$f") <(grep -v "$ign" "$p")
	done
}

@test "gx.conf is docs/examples/gx.conf, a conffile that sets nothing until edited" {
	x=$BATS_TEST_TMPDIR/x
	dpkg-deb -x "$DEB" "$x"
	cmp "$x/etc/gx/gx.conf" "$GX_ROOT/docs/examples/gx.conf"
	run grep -v '^[[:space:]]*#\|^[[:space:]]*$\|^\[[a-z_]*\]$' "$x/etc/gx/gx.conf"
	[ -z "$output" ]
}

@test "lintian finds no error in the .deb (its warnings are printed as notes)" {
	if ! command -v lintian >/dev/null; then
		skip "lintian is not installed (make deps installs it)"
	fi
	# (lintian leaves files in TMPDIR)
	TMPDIR=$BATS_TEST_TMPDIR run lintian --allow-root --pedantic --info --fail-on error "$DEB"
	if [ -n "$output" ]; then
		printf '%s\n' "$output" | grep -v '^N: ' | sed 's/^/# lintian: /' >&3
	fi
	[ "$status" -eq 0 ]
}

@test "the Dockerfile builds the package in a Debian 12 stage and runs it as the gx user" {
	f=$GX_ROOT/Dockerfile
	[ "$(grep -c '^FROM debian:12' "$f")" -eq 2 ]
	grep -q 'dpkg-buildpackage -us -uc -b' "$f"
	grep -q 'apt-get build-dep' "$f"
	grep -qx 'USER gx' "$f"
	# the image the Kubernetes example names runs /opt/gx/scripts/all
	grep -q '"/opt/gx/scripts/all"' "$GX_ROOT/docs/examples/gx-cronjob.yaml"
	grep -q '/opt/gx' "$f"
	grep -qx '.git' "$GX_ROOT/.dockerignore"
}

@test "dpkg -i: a gx system user, its /var/lib/gx and /var/log/gx, /etc/gx/gx.conf; the units installed, not enabled" {
	need_install
	IFS=: read -r _ _ uid _ _ home shell < <(getent passwd gx)
	[ "$uid" -lt 1000 ]
	[ "$home" = /var/lib/gx ]
	[ "$shell" = /usr/sbin/nologin ]
	getent group gx
	[ "$(stat -c '%U:%G %a' /var/lib/gx /var/log/gx)" = "gx:gx 750"$'\n'"gx:gx 750" ]
	cmp /etc/gx/gx.conf "$GX_ROOT/docs/examples/gx.conf"
	[ "$(dpkg-query -W -f='${Conffiles}' gx | awk '{ print $1 }')" = /etc/gx/gx.conf ]
	[ -f /lib/systemd/system/gx-sync.service ]
	run find /etc/systemd -name 'gx-sync*'
	[ -z "$output" ]	# not enabled
	[ "$(man -w gx-sync)" = /usr/share/man/man1/gx-sync.1.gz ]
	[ "$(gx-sync --version 2>&1)" = "$(/usr/bin/gx-sync --version)" ]
	if command -v systemd-analyze >/dev/null; then
		run systemd-analyze verify /lib/systemd/system/gx-sync.timer /lib/systemd/system/gx-sync.service
		echo "$output"
		[ "$status" -eq 0 ]
	fi
}

@test "as cron runs it (user gx, PATH=/usr/bin:/bin, the settings in its gx.conf): every entity, a delta, exit 4 when busy; target equals source" {
	need_install
	cmd=$(cron_command)
	[[ $cmd == *"gx-sync all "* ]]
	fill_conf
	# gx-state reads no settings file: the warehouse's settings in its environment
	mapfile -t pg < <(pg_env)
	run runuser -u gx -- env -i PATH=/usr/bin:/bin HOME=/var/lib/gx "${pg[@]}" gx-state init
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"/usr/bin/../share/gx/load/ddl"* ]]

	run as_cron "$cmd"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]	# all of it went to the log
	n=$(entities | wc -l)
	grep -q "^all: $n entities: $n success, 0 partial, 0 failed, 0 skipped" /var/log/gx/all.log ||
		{ cat /var/log/gx/all.log; false; }
	[ "$(stat -c %U /var/log/gx/all.log)" = gx ]
	for e in $(entities); do
		compare "$e" >"$BATS_TEST_TMPDIR/compare.$e" 2>&1 ||
			{ cat "$BATS_TEST_TMPDIR/compare.$e"; false; }
	done

	gx_my -e "UPDATE appointment SET city = 'Packaged', updated_at = NOW()
		WHERE updated_at > '1000-01-01' ORDER BY id LIMIT 4"
	run as_cron "$cmd"
	[ "$status" -eq 0 ]
	r=$(gx_pg -c "SELECT status || ' ' || (configuration->>'mode') || ' ' || records_updated
		FROM orchestration.sync_history WHERE sync_type = 'appointments' ORDER BY id DESC LIMIT 1")
	[ "$r" = "success delta 4" ]
	compare appointments

	# while another run holds the host's lock, the line exits 4 at once
	# (held by gx: root may not open gx's file in the sticky /run/lock,
	# fs.protected_regular)
	run runuser -u gx -- flock /run/lock/gx-all.lock env -i PATH=/usr/bin:/bin HOME=/var/lib/gx \
		/bin/sh -c "$cmd"
	[ "$status" -eq 4 ]
}

@test "the image's layout: /opt/gx a link to /usr/share/gx, GX_HOME=/usr/share/gx; an entity script runs as gx" {
	need_install
	fill_conf
	ln -sfn /usr/share/gx "$BATS_FILE_TMPDIR/opt-gx"
	mapfile -t pg < <(pg_env)
	# the environment of the image (Debian's PATH, the Dockerfile's ENV), the
	# settings from the CronJob's Secret, the image's gx.conf setting nothing
	run runuser -u gx -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/var/lib/gx GX_HOME=/usr/share/gx GX_REJECTS_DIR=/var/lib/gx/rejects GX_CONFIG=none \
		GENIUS_DB_HOST=127.0.0.1 GENIUS_DB_PORT="$GENIUS_DB_PORT" GENIUS_DB_NAME=genius \
		GENIUS_DB_USER=genius GENIUS_DB_OPTION_FILE="$BATS_FILE_TMPDIR/secrets/genius.cnf" \
		"${pg[@]}" "$BATS_FILE_TMPDIR/opt-gx/scripts/divisions" --full
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(gx_last_run "sync_type || ' ' || status")" = "divisions success" ]
	compare divisions
}

@test "dpkg -r keeps the edited gx.conf and the gx user; --purge removes them, /var/lib/gx and /var/log/gx" {
	need_install
	fill_conf
	dpkg -r gx >"$BATS_TEST_TMPDIR/remove.log" 2>&1 || { cat "$BATS_TEST_TMPDIR/remove.log"; false; }
	[ ! -e /usr/bin/gx-sync ]
	grep -qx '# edited by tests/deb.bats' /etc/gx/gx.conf
	getent passwd gx
	[ -d /var/lib/gx ]
	dpkg --purge gx >"$BATS_TEST_TMPDIR/purge.log" 2>&1 || { cat "$BATS_TEST_TMPDIR/purge.log"; false; }
	rm -f "$BATS_FILE_TMPDIR/installed"
	for p in /etc/gx /var/lib/gx /var/log/gx /usr/bin/gx-sync /usr/share/gx /lib/systemd/system/gx-sync.service; do
		[ ! -e "$p" ] || { echo "$p is left"; false; }
	done
	run getent passwd gx
	[ "$status" -eq 2 ]
	run getent group gx
	[ "$status" -eq 2 ]
	run dpkg-query -W -f='${Status}' gx
	[[ $output != *installed* ]] || [[ $output == *not-installed* ]]
}
