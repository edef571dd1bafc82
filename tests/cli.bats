#!/usr/bin/env bats
# The command-line conventions every gx program and script shares.

load helpers
bats_require_minimum_version 1.5.0

@test "every program and script says bad usage in one style: PROG: WHAT (see PROG --help), exit 1" {
	for prog in gx-extract gx-map gx-load gx-state; do
		run --separate-stderr "$prog" --no-such-flag
		[ "$status" -eq 1 ]
		[ "$stderr" = "$prog: --no-such-flag: unknown option (see $prog --help)" ]
		[ -z "$output" ]
	done
	for script in appointments all gx-sync; do
		run --separate-stderr "$GX_ROOT/scripts/$script" --no-such-flag
		[ "$status" -eq 1 ]
		[ "$stderr" = "$script: --no-such-flag: unknown option (see $script --help)" ]
	done
}

@test "-h and --help print the usage on stdout and exit 0, in every program and script" {
	for prog in gx-extract gx-map gx-load gx-state "$GX_ROOT/scripts/appointments" \
		"$GX_ROOT/scripts/all" "$GX_ROOT/scripts/gx-sync"; do
		for flag in -h --help; do
			run --separate-stderr "$prog" "$flag"
			[ "$status" -eq 0 ]
			[[ $output == usage:* ]]
			[ -z "$stderr" ]
		done
	done
}

@test "every help text fits 80 columns" {
	for prog in gx-extract gx-map gx-load gx-state "$GX_ROOT/scripts/appointments" \
		"$GX_ROOT/scripts/all" "$GX_ROOT/scripts/gx-sync"; do
		run --separate-stderr "$prog" --help
		[ "$status" -eq 0 ]
		wide=$(awk -v p="${prog##*/}" 'length > 80 { print p ": " $0 }' <<<"$output")
		[ -z "$wide" ] || { echo "$wide"; false; }
	done
}

@test "--version everywhere; gx-sync list; -- ends the options of the scripts and gx-sync" {
	v=$(gx-state --version)
	[[ $v =~ ^gx-state\ [0-9]+\.[0-9]+ ]]
	for script in appointments all gx-sync; do
		run --separate-stderr "$GX_ROOT/scripts/$script" --version
		[ "$status" -eq 0 ]
		[ "$output" = "$script ${v##* }" ]
	done
	run --separate-stderr "$GX_ROOT/scripts/gx-sync" list
	[ "$status" -eq 0 ]
	[ "$output" = "$(awk '!/^[[:space:]]*(#|$)/ { print $1 }' "$GX_ROOT/scripts/entities")" ]
	[ "${#lines[@]}" -eq 18 ]
	run --separate-stderr "$GX_ROOT/scripts/gx-sync" -- list
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-sync: unknown entity 'list' (gx-sync list shows them)" ]
	run --separate-stderr "$GX_ROOT/scripts/appointments" -- --full
	[ "$status" -eq 1 ]
	[ "$stderr" = "appointments: --full: unexpected argument (see appointments --help)" ]
}
