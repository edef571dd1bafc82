#!/usr/bin/env bats
# A short libFuzzer run of every parser under ASan/UBSan, a few seconds each
# (GX_FUZZ_SECONDS, default 5), from the seed corpora, so that a seed that
# once crashed stays fixed; `make fuzz` runs them for minutes. What each
# target checks: docs/fuzzing.md. The build is once, in setup_file.

load helpers

setup_file() {
	"$GX_ROOT/tests/fuzz/run" 0 >"$BATS_FILE_TMPDIR/build.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/build.log" >&3; return 1; }
}

# fuzz TARGET: runs it, without building again; the tail of its log on failure.
fuzz() {
	run "$GX_ROOT/tests/fuzz/run" -n "${GX_FUZZ_SECONDS:-5}" "$1"
	echo "$output" | tail -n 20
	[ "$status" -eq 0 ]
	[[ $output == *"Done "*"runs in"* ]]
}

@test "the NDJSON stream reader runs clean under the fuzzer" {
	fuzz reader
}

@test "mapping files, applied to fixed records, run clean under the fuzzer" {
	fuzz map
}

@test "gx-extract's query files (directives, the SQL lexer, its refusals) run clean under the fuzzer" {
	fuzz query
}

@test "gx-extract's --after, --probe, --shard and --shard-bounds run clean under the fuzzer" {
	fuzz options
}

@test "gx-map's casts of any value, with any type, options and zone, run clean under the fuzzer" {
	fuzz cast
}

@test "gx-load's NDJSON -> COPY text conversion runs clean under the fuzzer" {
	fuzz copy
}
