#!/usr/bin/env bats
# Hostile input fed straight to gx-map and gx-load: each is a clear error
# naming the line (or a reject), never a crash, a hang or a silent change.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	gx_servers_start
	gx_pg -c "CREATE TABLE public.h (id int PRIMARY KEY, name text, n numeric(10,2), s smallint)"
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	MAP="$BATS_TEST_TMPDIR/h.map"
	printf '%s\n' '@missing null' 'id integer not-null' 'name text' 'n numeric(10,2)' 's smallint' >"$MAP"
}

# feed LINE...: the lines (printf %b, so \xff and \r work) then the end marker
feed() {
	local l
	for l in "$@"; do printf '%b\n' "$l"; done
	printf '{"@gx":"end","records":%d}\n' $#
}

# Both stages refuse it with status 1 and a message naming line 1.
refused_by_both() {
	run --separate-stderr gx-map "$MAP" < "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	[[ $stderr == *"line 1"* ]]
	[[ $output != *'"@gx":"end"'* ]]
	run --separate-stderr gx-load --table public.h --key id < "$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	[[ $stderr == *"line 1"* ]]
	[ "$(gx_pg -c 'SELECT count(*) FROM public.h')" -eq 0 ]
}

@test "a truncated line (no closing brace) is refused by line number" {
	feed '{"id":1,"name":"ab' >"$BATS_TEST_TMPDIR/in"
	refused_by_both
}

@test "a last line without its newline is a truncated stream" {
	printf '{"id":1}\n{"@gx":"end","records":1}' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-map "$MAP" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -ne 0 ]
	[[ $stderr == *"no newline"* ]]
}

@test "invalid UTF-8 inside a string is refused" {
	feed '{"id":1,"name":"caf\xc3("}' >"$BATS_TEST_TMPDIR/in"
	refused_by_both
}

@test "a lone surrogate escape is refused" {
	feed '{"id":1,"name":"x\\ud800y"}' >"$BATS_TEST_TMPDIR/in"
	refused_by_both
}

@test "a raw NUL byte in a line is refused" {
	feed '{"id":1,"name":"a\x00b"}' >"$BATS_TEST_TMPDIR/in"
	refused_by_both
}

@test "a key that appears twice in one record is refused" {
	feed '{"id":1,"id":2,"name":"a"}' >"$BATS_TEST_TMPDIR/in"
	refused_by_both
}

@test "keys that are SQL are only ever identifiers: refused as unknown columns" {
	feed '{"id":1,"name\\"); DROP TABLE public.h; --":1}' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-load --table public.h --key id <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	[[ $stderr == *"has no column"* ]]
	[ "$(gx_pg -c "SELECT to_regclass('public.h') IS NOT NULL")" = t ]
}

@test "a number of 400 digits is range-checked, never rounded" {
	feed "{\"id\":1,\"n\":1$(printf '%0400d' 0)}" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-map --max-errors 1 --rejects "$BATS_TEST_TMPDIR/rej" "$MAP" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ -n "$(jq -r '.reason // empty' "$BATS_TEST_TMPDIR/rej")" ]
	[[ $(jq -r .column "$BATS_TEST_TMPDIR/rej") == n ]]
	# gx-load: PostgreSQL's numeric overflow becomes a reject, not a crash
	run --separate-stderr gx-load --table public.h --key id --max-errors 1 \
		--rejects "$BATS_TEST_TMPDIR/lrej" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "$(jq -r .sqlstate "$BATS_TEST_TMPDIR/lrej")" = 22003 ]
}

@test "smallint overflow is rejected with the column named" {
	feed '{"id":1,"s":32768}' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-map "$MAP" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	[[ $stderr == *"column s"*"range"* ]]
}

# nested N KEY: one record whose KEY holds N nested arrays, then the end marker.
nested() {
	printf '{"id":1,"%s":' "$2"
	head -c "$1" /dev/zero | tr '\0' '['
	head -c "$1" /dev/zero | tr '\0' ']'
	printf '}\n{"@gx":"end","records":1}\n'
}

@test "100,000 levels of nesting: a clear refusal, no stack overflow" {
	# The reader (jsmn, no recursion) takes any depth: a key the map does
	# not name is read and ignored.
	nested 100000 other >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-map "$MAP" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"id":1,"name":null,"n":null,"s":null}' ]
	# A json column's value is checked by a cast with a depth guard of 512
	# levels: 512 pass whole, 513 and 100,000 are refused.
	printf '%s\n' '@missing null' 'id integer not-null' 'doc json' >"$BATS_TEST_TMPDIR/json.map"
	nested 512 doc >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/json.map" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "$(jq -r .doc <<<"${lines[0]}")" = "$(nested 512 doc | head -n 1 | sed 's/^{"id":1,"doc"://; s/}$//')" ]
	for depth in 513 100000; do
		nested "$depth" doc >"$BATS_TEST_TMPDIR/in"
		run --separate-stderr gx-map "$BATS_TEST_TMPDIR/json.map" <"$BATS_TEST_TMPDIR/in"
		[ "$status" -eq 1 ]
		[ -z "$output" ]
		[[ $stderr == "gx-map: line 1: column doc: not valid JSON text: [[[["* ]]
	done
}

@test "a 100 MB line is read and mapped, in bounded time" {
	{
		printf '{"id":1,"name":"'
		head -c 100000000 /dev/zero | tr '\0' 'x'
		printf '"}\n{"@gx":"end","records":1}\n'
	} >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr timeout 60 gx-map "$MAP" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | head -n 1 | wc -c)" -gt 100000000 ]
	rm -f "$BATS_TEST_TMPDIR/in"
}

@test "CRLF line ends are accepted as JSON whitespace" {
	printf '{"id":7,"name":"crlf"}\r\n{"@gx":"end","records":1}\r\n' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-map "$MAP" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"id":7,"name":"crlf","n":null,"s":null}' ]
}

@test "U+0000 escaped in a string: gx-load rejects that row only" {
	feed '{"id":1,"name":"a\\u0000b"}' '{"id":2,"name":"fine"}' >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-load --table public.h --key id --max-errors 1 \
		--rejects "$BATS_TEST_TMPDIR/rej" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ "$(jq -r .line "$BATS_TEST_TMPDIR/rej")" = 1 ]
	[ "$(gx_pg -c "SELECT string_agg(name, ',') FROM public.h")" = fine ]
	gx_pg -c "TRUNCATE public.h"
}

@test "values with every control character and a trailing backslash round-trip exactly" {
	s=$(printf '\\u%04x' $(seq 1 31))
	printf '{"id":3,"name":"%s end\\\\"}\n{"@gx":"end","records":1}\n' "$s" >"$BATS_TEST_TMPDIR/in"
	gx-map "$MAP" <"$BATS_TEST_TMPDIR/in" | gx-load --table public.h --key id 2>/dev/null
	want=$(head -n 1 "$BATS_TEST_TMPDIR/in" | jq -r .name | od -An -tx1 | tr -d ' \n')
	got=$(gx_pg -c "SELECT name FROM public.h WHERE id = 3" | od -An -tx1 | tr -d ' \n')
	[ "$got" = "$want" ]
	[[ $got == *5c0a ]]	# ends with the backslash (then psql's newline)
	gx_pg -c "TRUNCATE public.h"
}
