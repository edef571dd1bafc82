#!/usr/bin/env bats
# A short libFuzzer run of every parser (the NDJSON reader, the mapping-file
# parser) under ASan/UBSan; `make fuzz` runs them for minutes.

load helpers

@test "fuzz targets for the stream reader and the mapping file run clean for a few seconds" {
	run "$GX_ROOT/tests/fuzz/run" "${GX_FUZZ_SECONDS:-5}"
	echo "$output" | tail -n 20
	[ "$status" -eq 0 ]
	[[ $output == *"Done "*"runs in"* ]]
}
