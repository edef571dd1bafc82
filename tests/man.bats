#!/usr/bin/env bats
# The man pages of docs/man: each renders without a warning, and each names
# every long option its program's --help shows, every environment variable
# the programs read and the version they print, so pages and programs
# cannot drift apart.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	MAN=$GX_ROOT/docs/man
	PAGES=("$MAN"/*.1 "$MAN"/*.7)
}

# The page as plain text, one paragraph per line (no filling, no hyphens).
render() {
	groff -man -Tascii -P-cbou -rLL=250n -rHY=0 "$1" 2>/dev/null
}

# check_options PAGE HELP_TEXT: every long option of HELP_TEXT (up to its
# example, which may show other programs' options) is in PAGE; a HELP_TEXT
# without any option (a --help that failed) fails too.
check_options() {
	local text opt missing="" n=0
	text=$(render "$1")
	while read -r opt; do
		n=$((n + 1))
		grep -qE -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|\$)" <<<"$text" || missing+=" $opt"
	done < <(sed '/^[Ee]xample/,$d' <<<"$2" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
	[ "$n" -gt 0 ] || { echo "no option in the help text for ${1##*/}"; return 1; }
	[ -z "$missing" ] || { echo "${1##*/} lacks:$missing"; return 1; }
}

@test "the pages are there: gx-extract(1), gx-map(1), gx-load(1), gx-state(1), gx-sync(1), gx(7)" {
	for p in gx-extract.1 gx-map.1 gx-load.1 gx-state.1 gx-sync.1 gx.7; do
		[ -f "$MAN/$p" ] || { echo "missing $p"; false; }
	done
}

@test "every page passes groff -ww with no warning" {
	for p in "${PAGES[@]}"; do
		err=$(groff -ww -z -man "$p" 2>&1)
		[ -z "$err" ] || { echo "${p##*/}: $err"; false; }
	done
}

@test "every page renders with man -l at 80 columns with no warning" {
	for p in "${PAGES[@]}"; do
		err=$(MANWIDTH=80 man -l "$p" 2>&1 >/dev/null)
		[ -z "$err" ] || { echo "${p##*/}: $err"; false; }
		MANWIDTH=80 man -l "$p" 2>/dev/null | grep -q '^NAME$'
	done
}

@test "every page passes mandoc -T lint" {
	command -v mandoc >/dev/null || skip "mandoc is not installed (groff checks them)"
	for p in "${PAGES[@]}"; do
		run mandoc -T lint "$p"
		echo "$output"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
	done
}

@test "each program's page names every long option of its --help" {
	for prog in gx-extract gx-map gx-load gx-state; do
		check_options "$MAN/$prog.1" "$("$prog" --help)"
	done
	run ! check_options "$MAN/gx-map.1" ""	# nor does an empty --help
	run ! check_options "$MAN/gx-map.1" "  --no-such-option  the check itself works"
}

@test "gx-sync(1) names every long option of gx-sync, the entity scripts and all" {
	for script in gx-sync appointments all; do
		check_options "$MAN/gx-sync.1" "$("$GX_ROOT/scripts/$script" --help)"
	done
}

@test "every environment variable a program reads is documented in a page" {
	text=$(for p in "${PAGES[@]}"; do render "$p"; done)
	names=$(grep -ohE 'getenv\("[A-Z_]+"\)|env(_flag)?\("[A-Z_]+"\)' "$GX_ROOT"/common/*.c \
		"$GX_ROOT"/extract/*.c "$GX_ROOT"/transform/*.c "$GX_ROOT"/load/*.c |
		grep -oE '[A-Z_]{3,}' | sort -u)
	[ -n "$names" ]
	missing=""
	for n in $names; do
		grep -qw -- "$n" <<<"$text" || missing+=" $n"
	done
	[ -z "$missing" ] || { echo "undocumented:$missing"; false; }
}

@test "every page has the sections of its kind, the exit statuses 0 to 5 and the version" {
	version=$(gx-state --version)
	version=${version##* }
	for p in "${PAGES[@]}"; do
		text=$(render "$p")
		sections=(NAME DESCRIPTION ENVIRONMENT FILES "EXIT STATUS" EXAMPLES "SEE ALSO")
		if [[ $p == *.1 ]]; then sections+=(SYNOPSIS OPTIONS); fi
		for s in "${sections[@]}"; do
			grep -qx -- "$s" <<<"$text" || { echo "${p##*/}: no section $s"; false; }
		done
		statuses=$(sed -n '/^EXIT STATUS$/,/^[A-Z]/p' <<<"$text" | grep -cE '^ +[0-5] +[a-z]')
		[ "$statuses" -eq 6 ] || { echo "${p##*/}: $statuses exit statuses"; false; }
		grep -q "^\.TH .* \"gx $version\" " "$p" || { echo "${p##*/}: not gx $version"; false; }
	done
}

@test "SEE ALSO names only pages that exist" {
	for p in "${PAGES[@]}"; do
		n=0
		while read -r ref; do
			n=$((n + 1))
			name=${ref%(*}
			sec=${ref#*(}
			[ -f "$MAN/$name.${sec%)}" ] || { echo "${p##*/}: $ref does not exist"; false; }
		done < <(sed -n '/^SEE ALSO$/,$p' <<<"$(render "$p")" | grep -oE 'gx[a-z-]*\([17]\)')
		[ "$n" -gt 0 ] || { echo "${p##*/}: SEE ALSO names no gx page"; false; }
	done
}
