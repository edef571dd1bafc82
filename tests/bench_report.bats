#!/usr/bin/env bats
# bench/report: the tables of make bench, rendered again from the figures a
# run recorded (bench/results/DATE.tsv), without measuring anything.

load helpers
bats_require_minimum_version 1.5.0

figures=$GX_ROOT/tests/fixtures/bench/figures.tsv

@test "bench/report renders the end-to-end table from recorded figures: median (min–max) of the runs" {
	run --separate-stderr "$GX_ROOT/bench/report" "$figures"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "# gx bench, 2026-12-01 12:00 UTC" ]
	[[ $output == *"N = 2000 appointments (4 MB in InnoDB), RUNS = 3"* ]]
	[[ $output == *"make bench took 1800 s"* ]]
	[[ $output == *"| full sync, empty target | 2000 (12) | 2000 / 0 / 0 | 0.70 (0.60–0.80) | 2857 | yes |"* ]]
	[[ $output == *"| re-run, no change | – (–) | – / – / – | 0.20 | – | **NO: 3 rows differ** |"* ]]
	[[ $output == *"- machine: 2 cores (a test fixture)"* ]]
	[[ $output == *"## Profile: callgrind, 10 rows, each stage alone"* ]]
}

@test "bench/report: the scaling table has the recorded smaller sizes, then N" {
	run --separate-stderr "$GX_ROOT/bench/report" "$figures"
	[ "$status" -eq 0 ]
	# size, wall, rows/s, µs per row, RSS per process, the largest, equal
	[[ $output == *"| 1000 | 0.40 | 2500 | 400.0 | – / – / – / – | – | yes |"* ]]
	[[ $output == *"| 2000 | 0.70 (0.60–0.80) | 2857 | 350.0 | – / – / 5.5 / – | 5.5 | yes |"* ]]
}

@test "bench/report refuses a file that is not bench/run's figures" {
	printf 'x\t1\n' >"$BATS_TEST_TMPDIR/other.tsv"
	run --separate-stderr "$GX_ROOT/bench/report" "$BATS_TEST_TMPDIR/other.tsv"
	[ "$status" -eq 1 ]
	[[ $stderr == *"not the figures of bench/run"* ]]
}
