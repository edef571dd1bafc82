#!/usr/bin/env bats
# The commands the docs show really work. A fenced block right after a line
# "<!-- test -->" is runnable; the runnable blocks of a document run in
# document order, in one bash (set -euo pipefail), and must all exit 0:
#   ```sh       runs as it is;
#   ```crontab  each entry's command runs as cron runs it: sh -c, with
#               PATH=/usr/bin:/bin and nothing else in the environment.
# README.md runs in the source tree, with the sandbox's settings loaded.
# docs/operations.md runs against an installed gx: make install
# DESTDIR=$ROOT, and the absolute paths under /usr/local, /etc/gx,
# /etc/systemd/system, /var/lib/gx, /var/log/gx and /run/lock in its blocks
# are taken under $ROOT ($ROOT/etc/gx/env holds the sandbox's settings); it
# starts with an empty environment, in a scratch directory whose docs/ is the
# source tree's, with PATH=$ROOT/usr/local/bin:/usr/bin:/bin. Every ```sh
# block of docs/operations.md is marked "<!-- test -->" or
# "<!-- no test: why -->".

load helpers

setup_file() {
	gx_servers_start
	gx_sample 200
	gx-state init >/dev/null 2>&1
	export ROOT="$BATS_FILE_TMPDIR/root" WORK="$BATS_FILE_TMPDIR/work"
	# gx as installed from the programs under test ($GX_BIN), not rebuilt
	make -C "$GX_ROOT" -o all install BIN="$GX_BIN" DESTDIR="$ROOT" >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log" >&3; return 1; }
	mkdir -p "$ROOT/etc/gx" "$ROOT/etc/systemd/system" "$ROOT/var/lib/gx/rejects" \
		"$ROOT/var/log/gx" "$ROOT/run/lock" "$WORK"
	{
		cat "$GX_SB/env"
		printf 'GX_REJECTS_DIR=%s\n' "$ROOT/var/lib/gx/rejects"
	} >"$ROOT/etc/gx/env"
	ln -s "$GX_ROOT/docs" "$WORK/docs"
}

teardown_file() { gx_servers_stop; }

setup() { gx_env; }

# doc_script FILE: FILE's runnable blocks as one bash script.
doc_script() {
	# shellcheck disable=SC2016 # the generated script expands them
	printf '%s\n' 'set -euo pipefail' \
		'gx_block() { printf "\n### %s\n" "$1" >&2; }' \
		'gx_cron() { gx_block "cron: $1"; env -i HOME="$HOME" PATH=/usr/bin:/bin SHELL=/bin/sh GX_SYSCONFDIR="$GX_SYSCONFDIR" XDG_CONFIG_HOME="$XDG_CONFIG_HOME" sh -c "$1"; }'
	awk -v f="${1#"$GX_ROOT"/}" '
		/^<!-- test -->$/ { mark = NR; next }
		!block && /^```(sh|crontab)$/ && mark == NR - 1 {
			block = substr($0, 4)
			printf "gx_block %s:%d\n", f, NR
			next
		}
		block && /^```$/ { block = ""; next }
		block == "sh" { print }
		block == "crontab" && !/^[[:space:]]*(#|$)/ && !/^[A-Z_]+=/ {
			for (i = 0; i < 5; i++)
				sub(/^[ \t]*[^ \t]+[ \t]+/, "")
			gsub(/\047/, "\047\\\047\047")
			printf "gx_cron \047%s\047\n", $0
		}
	' "$1"
	printf '%s\n' 'gx_block "all blocks ran"'
}

# The number of runnable blocks of FILE.
runnable_blocks() {
	awk '/^<!-- test -->$/ { mark = NR } /^```(sh|crontab)$/ && mark == NR - 1 { n++ } END { print n + 0 }' "$1"
}

@test "README.md: every runnable block exits 0, in the source tree" {
	[ "$(runnable_blocks "$GX_ROOT/README.md")" -ge 2 ]
	doc_script "$GX_ROOT/README.md" >"$BATS_TEST_TMPDIR/readme.sh"
	cd "$GX_ROOT"
	run bash "$BATS_TEST_TMPDIR/readme.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"### all blocks ran" ]]
}

@test "docs/operations.md: every runnable block exits 0, in order, against an installed gx" {
	doc=$GX_ROOT/docs/operations.md
	[ "$(runnable_blocks "$doc")" -ge 12 ]
	doc_script "$doc" | sed -E "s#(/usr/local/|/etc/gx/|/etc/systemd/system/|/var/lib/gx|/var/log/gx/|/run/lock/)#$ROOT\\1#g" \
		>"$BATS_TEST_TMPDIR/operations.sh"
	cd "$WORK"
	# /etc/gx/gx.conf is $ROOT's as the other paths are; the user's own
	# settings file is an empty directory's.
	run env -i HOME="$HOME" TMPDIR="$BATS_TEST_TMPDIR" LANG=C.UTF-8 \
		GX_SYSCONFDIR="$ROOT/etc" XDG_CONFIG_HOME="$ROOT/home/.config" \
		PATH="$ROOT/usr/local/bin:/usr/bin:/bin" bash "$BATS_TEST_TMPDIR/operations.sh"
	echo "$output"
	[ "$status" -eq 0 ] || { tail -n 40 "$ROOT/var/log/gx/all.log"; false; }
	[[ $output == *"### all blocks ran" ]]
	# What the comments promise: each "# exit status N" was seen.
	promised=0
	while read -r n; do
		promised=$((promised + 1))
		[[ $output == *"exit status $n"* ]] || { echo "no 'exit status $n'"; false; }
	done < <(grep -o '|| echo "exit status $?" *# exit status [0-9]' "$doc" | grep -o '[0-9]$')
	[ "$promised" -ge 1 ]
	# The cron lines ran the installed gx-sync and logged its summaries.
	grep -q "^all: 18 entities: 18 success" "$ROOT/var/log/gx/all.log"
	# The drill ended as the page says: recovered.
	[ "$(gx_pg -c "SELECT status FROM orchestration.sync_history
		WHERE sync_type = 'appointments' ORDER BY id DESC LIMIT 1")" = success ]
}

@test "docs/operations.md: the systemd units it writes pass systemd-analyze verify" {
	d=$ROOT/etc/systemd/system
	[ -f "$d/gx-sync.service" ]
	[ -f "$d/gx-sync.timer" ]
	grep -qx "ExecStart=$ROOT/usr/local/bin/gx-sync all --jobs 4 --keep-going" "$d/gx-sync.service"
	! grep -q /opt/gx "$d/gx-sync.service" || false
	if ! command -v systemd-analyze >/dev/null; then
		skip "systemd-analyze is not installed (contents checked only)"
	fi
	# Documentation=man:... is checked with man(1): the pages are installed
	MANPATH=$ROOT/usr/local/share/man run systemd-analyze verify "$d/gx-sync.timer" "$d/gx-sync.service"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "docs/operations.md: every shell block is marked runnable or says why not" {
	run awk '
		/^<!-- (test|no test: .+) -->$/ { mark = NR }
		/^```sh$/ && mark != NR - 1 { print FILENAME ":" NR ": a sh block without <!-- test --> or <!-- no test: why -->" }
	' "$GX_ROOT/docs/operations.md"
	echo "$output"
	[ -z "$output" ]
}
