#!/usr/bin/env bats
# gx-map: every cast and rule of docs/mapping.md, against the real binary.
# No servers: gx-map is a pure filter.

bats_require_minimum_version 1.5.0
load helpers

FIX="$GX_ROOT/tests/fixtures/map"
APPT="$GX_ROOT/transform/maps/appointments.map"

setup() {
	unset GX_SOURCE_TZ GX_SOURCE_TZ_OVERRIDE GX_DEBUG
	OPTS=()
}

# Runs gx-map with the map text $MAP (and options OPTS) on the given record
# lines followed by an end marker counting them.
gxm() {
	printf '%s\n' "$MAP" >"$BATS_TEST_TMPDIR/t.map"
	{
		[ $# -eq 0 ] || printf '%s\n' "$@"
		printf '{"@gx":"end","records":%d}\n' $#
	} >"$BATS_TEST_TMPDIR/in"
	gx-map "${OPTS[@]}" "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in"
}

# ok 'TYPE [OPTIONS]' VALUE EXPECTED: {"v":VALUE} through the column
# "v TYPE OPTIONS" gives exactly {"v":EXPECTED}.
ok() {
	MAP="v $1"
	run --separate-stderr gxm "{\"v\":$2}"
	if [ "$status" -ne 0 ] || [ "${lines[0]}" != "{\"v\":$3}" ]; then
		echo "v $1 <- $2: status $status, got '${lines[0]:-}', want '{\"v\":$3}'; $stderr"
		return 1
	fi
}

# rej 'TYPE [OPTIONS]' VALUE REASON: the record is rejected with exactly
# this reason, exit 1, and nothing is written.
rej() {
	MAP="v $1"
	run --separate-stderr gxm "{\"v\":$2}"
	local want="gx-map: line 1: column v: $3"
	if [ "$status" -ne 1 ] || [ -n "$output" ] || [ "${stderr_lines[0]}" != "$want" ]; then
		echo "v $1 <- $2: status $status, output '$output', stderr '$stderr', want '$want'"
		return 1
	fi
}

# bad_map 'MAP TEXT' 'LINE: REASON': the map is refused before any input.
bad_map() {
	printf '%s\n' "$1" >"$BATS_TEST_TMPDIR/bad.map"
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/bad.map" <<<'{"v":1}'
	local want="gx-map: $BATS_TEST_TMPDIR/bad.map:$2"
	if [ "$status" -ne 1 ] || [ -n "$output" ] || [ "$stderr" != "$want" ]; then
		echo "map '$1': status $status, output '$output', stderr '$stderr', want '$want'"
		return 1
	fi
}

# Moments for end markers: 2024-01-15 and 2024-07-15 at 12:00 UTC, and the
# wall clocks Chicago shows then (CST -06:00 and CDT -05:00).
JAN='"instant":1705320000'
JUL='"instant":1721044800'
JAN_CHI='"clock":"2024-01-15 06:00:00.000000",'$JAN
JUL_CHI='"clock":"2024-07-15 07:00:00.000000",'$JUL

# zrun 'MEMBERS': {"v":"2024-01-15 12:00:00"} through the map $MAP (default
# "v timestamptz") with options OPTS, then an end marker with these members.
zrun() {
	printf '%s\n' "${MAP:-v timestamptz}" >"$BATS_TEST_TMPDIR/t.map"
	printf '%s\n' '{"v":"2024-01-15 12:00:00"}' \
		"{\"@gx\":\"end\",\"records\":1${1:+,$1}}" >"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-map "${OPTS[@]}" "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in"
}

# zone_ok 'MEMBERS': the zones agree: exit 0 and the end marker written.
zone_ok() {
	zrun "$1"
	if [ "$status" -ne 0 ] || [[ "${lines[1]:-}" != '{"@gx":"end"'* ]]; then
		echo "{$1} ${OPTS[*]} map '${MAP:-}': status $status, output '$output', stderr '$stderr'"
		return 1
	fi
}

# zone_bad 'MEMBERS' SERVER OURS: exit 1 with one line naming both zones;
# the record was written, the end marker was not.
zone_bad() {
	zrun "$1"
	local pat="gx-map: line 2: the source server's time zone is '$2' but this ??? converts DATETIMEs as '$3' ("
	if [ "$status" -ne 1 ] || [ "${#stderr_lines[@]}" -ne 1 ] || [[ "$stderr" != $pat* ]] ||
		[ "${#lines[@]}" -ne 1 ] || [[ "$output" == *'"@gx"'* ]]; then
		echo "{$1} ${OPTS[*]} map '${MAP:-}': status $status, output '$output', stderr '$stderr', want '$pat...'"
		return 1
	fi
}

# --- integers ---------------------------------------------------------------

@test "smallint accepts -32768 and 32767 and rejects one past either edge" {
	ok smallint -32768 -32768
	ok smallint 32767 32767
	rej smallint 32768 'out of range for smallint: 32768'
	rej smallint -32769 'out of range for smallint: -32769'
}

@test "integer accepts -2147483648 and 2147483647 and rejects one past either edge" {
	ok integer -2147483648 -2147483648
	ok integer 2147483647 2147483647
	rej integer 2147483648 'out of range for integer: 2147483648'
	rej integer -2147483649 'out of range for integer: -2147483649'
}

@test "bigint accepts the 64-bit edges and rejects one past them and 20-digit values" {
	ok bigint -9223372036854775808 -9223372036854775808
	ok bigint 9223372036854775807 9223372036854775807
	ok bigint '"9223372036854775807"' 9223372036854775807
	rej bigint 9223372036854775808 'out of range for bigint: 9223372036854775808'
	rej bigint -9223372036854775809 'out of range for bigint: -9223372036854775809'
	rej bigint 18446744073709551616 'out of range for bigint: 18446744073709551616'
}

@test "integer from a string of digits: leading zeros and -0 are normalised" {
	ok integer '"42"' 42
	ok integer '"-0042"' -42
	ok integer '"-0"' 0
	ok integer '"0000000000000000000000000007"' 7
	ok smallint '"-032768"' -32768
}

@test "integer rejects fractions, exponents, spaces, plus signs, booleans and empty strings" {
	rej integer 1.0 'not an integer: 1.0'
	rej integer 1e3 'not an integer: 1e3'
	rej integer '" 1"' 'not an integer: " 1"'
	rej integer '"+1"' 'not an integer: "+1"'
	rej integer '"-"' 'not an integer: "-"'
	rej integer '""' 'not an integer: ""'
	rej integer true 'expected a number, got a boolean'
	rej integer '[1]' 'expected a number, got an array'
}

# --- numeric, double -----------------------------------------------------------

@test "numeric keeps exact digits, 40 and more, never through double" {
	ok 'numeric(60,20)' 1234567890123456789012345678901234567890.12345678901234567890 \
		1234567890123456789012345678901234567890.12345678901234567890
	ok 'numeric(60,20)' '"-9999999999999999999999999999999999999999.00000000000000000001"' \
		-9999999999999999999999999999999999999999.00000000000000000001
	ok 'numeric(17,16)' 0.1000000000000001 0.1000000000000001
	ok 'numeric(10,2)' 12.5 12.5
	ok 'numeric(10,2)' 0 0
}

@test "numeric rejects digits past the scale unless they are zeros" {
	rej 'numeric(10,2)' 1.234 'more than 2 digits after the point (numeric(10,2); option round rounds): 1.234'
	ok 'numeric(10,2)' 1.230 1.23
	ok 'numeric(10,2)' '"1.50000"' 1.50
	ok 'numeric(5,0)' 7.000 7
}

@test "numeric round rounds half away from zero on the decimal text, carrying into the integer part" {
	ok 'numeric(10,2) round' 1.235 1.24
	ok 'numeric(10,2) round' 1.2349999 1.23
	ok 'numeric(10,2) round' -1.235 -1.24
	ok 'numeric(10,2) round' 9.995 10.00
	ok 'numeric(10,2) round' -0.001 0.00
	ok 'numeric(41,1) round' 9999999999999999999999999999999999999998.95 \
		9999999999999999999999999999999999999999.0
}

@test "numeric rejects too many integer digits, also after rounding" {
	rej 'numeric(5,2)' 1234.5 'more than 3 digits before the point (numeric(5,2)): 1234.5'
	ok 'numeric(5,2)' 999.99 999.99
	rej 'numeric(5,2) round' 999.995 'more than 3 digits before the point (numeric(5,2)): 999.995'
	ok 'numeric(9,7)' -45.1234567 -45.1234567
	rej 'numeric(9,7)' 145.1234567 'more than 2 digits before the point (numeric(9,7)): 145.1234567'
}

@test "numeric reads strings with a sign, leading zeros and exponents, and writes JSON numbers" {
	ok 'numeric(10,2)' '"+0012.50"' 12.50
	ok 'numeric(10,2)' '".5"' 0.5
	ok 'numeric(10,2)' '"5."' 5
	ok 'numeric(10,2)' 1.5e2 150
	rej 'numeric(10,2)' 15E-3 'more than 2 digits after the point (numeric(10,2); option round rounds): 15E-3'
	ok 'numeric(10,3)' 15E-3 0.015
	rej 'numeric(10,2)' '"1,5"' 'not a number: "1,5"'
	rej 'numeric(10,2)' '"abc"' 'not a number: "abc"'
	rej 'numeric(10,2)' '"1e99999"' 'exponent out of range: "1e99999"'
}

@test "unconstrained numeric passes any exact number" {
	ok numeric 3.14159265358979323846264338327950288419716939937510 \
		3.14159265358979323846264338327950288419716939937510
	ok numeric '"-000.500"' -0.500
}

@test "double passes any JSON number as received and rejects what float8 cannot hold" {
	ok double 1.5 1.5
	ok double -0.1e-5 -0.1e-5
	ok double 1.7976931348623157e308 1.7976931348623157e308
	ok double '"2.5"' 2.5
	rej double 1e309 'out of range for double precision: 1e309'
	rej double 1e-400 'out of range for double precision: 1e-400'
	rej double '"NaN"' 'not a number: "NaN"'
}

# --- boolean -----------------------------------------------------------------

@test "boolean accepts true/false, the numbers 0/1 and the strings \"0\"/\"1\"" {
	ok boolean true true
	ok boolean false false
	ok boolean 1 true
	ok boolean 0 false
	ok boolean '"1"' true
	ok boolean '"0"' false
	rej boolean 2 'not a boolean: 2'
	rej boolean '"Y"' 'not a boolean: "Y"'
	rej boolean '"true"' 'not a boolean: "true"'
}

@test "boolean true= and false= name the strings that mean true and false" {
	ok 'boolean true=Y,yes false=N' '"Y"' true
	ok 'boolean true=Y,yes false=N' '"yes"' true
	ok 'boolean true=Y,yes false=N' '"N"' false
	ok 'boolean true=Y,yes false=N' '"1"' true
	rej 'boolean true=Y false=N' '"y"' 'not a boolean: "y"'
}

# --- text, varchar --------------------------------------------------------------

@test "varchar(n) counts characters, not bytes: emoji and CJK fit" {
	ok 'varchar(2)' '"😀🏠"' '"😀🏠"'
	ok 'varchar(6)' '"東京都渋谷区"' '"東京都渋谷区"'
	ok 'varchar(2)' '"\ud83d\ude00é"' '"\ud83d\ude00é"'
	ok 'varchar(2)' '"ÑÉ"' '"ÑÉ"'
}

@test "varchar rejects an over-long value with its length in characters" {
	rej 'varchar(2)' '"ABC"' 'longer than 2 characters (3)'
	rej 'varchar(5)' '"東京都渋谷区"' 'longer than 5 characters (6)'
	rej 'varchar(1)' '"😀🏠"' 'longer than 1 characters (2)'
}

@test "long=truncate cuts at a character boundary and counts the cuts on stderr" {
	ok 'varchar(3) long=truncate' '"😀東京都x"' '"😀東京"'
	[ "$stderr" = "gx-map: warning: column v: 1 values truncated to 3 characters (long=truncate)" ]
	ok 'varchar(2) long=truncate' '"a\"bc"' '"a\""'
	ok 'varchar(3) long=truncate' '"abc"' '"abc"'
	[ -z "$stderr" ]
}

@test "text passes strings and their escapes unchanged" {
	ok text '"O'"'"'Brien \"x\" \\ \/ \u00e9\n\t"' '"O'"'"'Brien \"x\" \\ \/ \u00e9\n\t"'
	ok text '""' '""'
	ok text '"\u2028"' '"\u2028"'
}

@test "text takes a number as its digits and rejects booleans, objects and arrays" {
	ok text 12.50 '"12.50"'
	rej 'varchar(2)' 123 'longer than 2 characters (3)'
	rej text true 'expected a string, got a boolean'
	rej text '{"a":1}' 'expected a string, got an object'
}

@test "nul=reject (the default) rejects U+0000 in text" {
	rej text '"a\u0000b"' 'holds U+0000, which PostgreSQL text refuses (nul=strip removes it)'
	rej 'varchar(5) nul=reject' '"\u0000"' 'holds U+0000, which PostgreSQL text refuses (nul=strip removes it)'
}

@test "nul=strip removes U+0000 before the length check and counts on stderr" {
	ok 'text nul=strip' '"a\u0000b\u0000"' '"ab"'
	[ "$stderr" = "gx-map: warning: column v: U+0000 stripped from 1 values (nul=strip)" ]
	ok 'varchar(2) nul=strip' '"a\u0000b"' '"ab"'
	ok 'text nul=strip' '"no nul"' '"no nul"'
	[ -z "$stderr" ]
}

@test "empty=null makes an empty string null; without it empty stays empty" {
	ok 'text empty=null' '""' null
	ok 'text' '""' '""'
	ok 'integer empty=null' '""' null
	ok 'date empty=null' '""' null
	ok 'text empty=null' '" "' '" "'
	ok 'text empty=keep' '""' '""'
}

# --- date, time, interval -----------------------------------------------------

@test "date accepts real calendar dates only" {
	ok date '"2024-02-29"' '"2024-02-29"'
	ok date '"0001-01-01"' '"0001-01-01"'
	ok date '"9999-12-31"' '"9999-12-31"'
	rej date '"2023-02-29"' 'not a date (YYYY-MM-DD): "2023-02-29"'
	rej date '"2024-04-31"' 'not a date (YYYY-MM-DD): "2024-04-31"'
	rej date '"2024-13-01"' 'not a date (YYYY-MM-DD): "2024-13-01"'
	rej date '"2024-1-01"' 'not a date (YYYY-MM-DD): "2024-1-01"'
	rej date '"2024-01-01 10:00:00"' 'not a date (YYYY-MM-DD): "2024-01-01 10:00:00"'
	rej date 20240101 'expected a string, got a number'
}

@test "time accepts 00:00:00 to 23:59:59.999999 and 24:00:00" {
	ok time '"00:00:00"' '"00:00:00"'
	ok time '"23:59:59.999999"' '"23:59:59.999999"'
	ok time '"24:00:00"' '"24:00:00"'
	ok time '"24:00:00.000"' '"24:00:00.000"'
	rej time '"24:00:01"' 'not a time of day (HH:MM:SS[.ffffff]): "24:00:01"'
	rej time '"25:00:00"' 'not a time of day (HH:MM:SS[.ffffff]): "25:00:00"'
	rej time '"-01:00:00"' 'not a time of day (HH:MM:SS[.ffffff]): "-01:00:00"'
	rej time '"10:60:00"' 'not a time of day (HH:MM:SS[.ffffff]): "10:60:00"'
	rej time '"10:00"' 'not a time of day (HH:MM:SS[.ffffff]): "10:00"'
	rej time '"10:00:00.1234567"' 'not a time of day (HH:MM:SS[.ffffff]): "10:00:00.1234567"'
}

@test "interval passes MySQL TIME text and validates its shape and range" {
	ok interval '"-838:59:59"' '"-838:59:59"'
	ok interval '"838:59:59"' '"838:59:59"'
	ok interval '"100:00:00"' '"100:00:00"'
	ok interval '"01:30:00"' '"01:30:00"'
	ok interval '"-00:00:01.5"' '"-00:00:01.5"'
	rej interval '"839:00:00"' 'not a MySQL TIME ([-]HHH:MM:SS[.ffffff], at most 838:59:59): "839:00:00"'
	rej interval '"838:59:59.1"' 'not a MySQL TIME ([-]HHH:MM:SS[.ffffff], at most 838:59:59): "838:59:59.1"'
	rej interval '"1:30:00"' 'not a MySQL TIME ([-]HHH:MM:SS[.ffffff], at most 838:59:59): "1:30:00"'
	rej interval '"01:60:00"' 'not a MySQL TIME ([-]HHH:MM:SS[.ffffff], at most 838:59:59): "01:60:00"'
	rej interval '"1 day"' 'not a MySQL TIME ([-]HHH:MM:SS[.ffffff], at most 838:59:59): "1 day"'
}

# --- zero dates ----------------------------------------------------------------

@test "zero and partial zero dates reject by default in date and timestamptz" {
	rej date '"0000-00-00"' 'zero date (zero=null makes it null): "0000-00-00"'
	rej date '"2022-11-00"' 'zero date (zero=null makes it null): "2022-11-00"'
	rej date '"2022-00-10"' 'zero date (zero=null makes it null): "2022-00-10"'
	rej timestamptz '"0000-00-00 00:00:00"' 'zero date (zero=null makes it null): "0000-00-00 00:00:00"'
	rej 'timestamptz zero=reject' '"2022-11-00 10:00:00"' 'zero date (zero=null makes it null): "2022-11-00 10:00:00"'
}

@test "zero=null makes zero and partial zero dates null" {
	ok 'date zero=null' '"0000-00-00"' null
	ok 'date zero=null' '"2022-11-00"' null
	ok 'date zero=null' '"2022-00-10"' null
	ok 'date zero=null' '"0000-05-10"' null
	ok 'timestamptz zero=null' '"0000-00-00 00:00:00"' null
	ok 'timestamptz zero=null' '"2022-11-00 10:00:00.5"' null
	ok 'timestamptz zero=null' '"0000-00-00"' null
	ok 'date zero=null' '"2022-11-01"' '"2022-11-01"'
}

@test "zero=keep is refused for date and timestamptz and keeps zero dates in text" {
	bad_map 'v date zero=keep' '1: zero=keep is only for text types: PostgreSQL has no zero date'
	bad_map 'v timestamptz zero=keep' '1: zero=keep is only for text types: PostgreSQL has no zero date'
	ok 'text zero=keep' '"0000-00-00 00:00:00"' '"0000-00-00 00:00:00"'
	ok 'varchar(10)' '"0000-00-00"' '"0000-00-00"'
}

@test "zero=null and zero=reject on a text column apply to zero-date text only" {
	ok 'text zero=null' '"0000-00-00 00:00:00"' null
	ok 'text zero=null' '"2022-11-00"' null
	ok 'text zero=null' '"not a date"' '"not a date"'
	rej 'varchar(20) zero=reject' '"2022-00-01"' 'zero date (zero=null makes it null): "2022-00-01"'
}

# --- timestamptz and zones ------------------------------------------------------

@test "timestamptz in UTC appends +00:00; a DATE is midnight; fractions are kept" {
	ok timestamptz '"2024-06-15 12:34:56"' '"2024-06-15 12:34:56+00:00"'
	ok timestamptz '"2024-06-15"' '"2024-06-15 00:00:00+00:00"'
	ok timestamptz '"2024-06-15 12:34:56.123456"' '"2024-06-15 12:34:56.123456+00:00"'
	ok timestamptz '"0001-01-01 00:00:00"' '"0001-01-01 00:00:00+00:00"'
	rej timestamptz '"2024-06-15T12:34:56"' 'not a date or datetime (YYYY-MM-DD[ HH:MM:SS[.ffffff]]): "2024-06-15T12:34:56"'
	rej timestamptz '"2024-06-15 24:00:00"' 'not a date or datetime (YYYY-MM-DD[ HH:MM:SS[.ffffff]]): "2024-06-15 24:00:00"'
	rej timestamptz '"2023-02-29 10:00:00"' 'not a date or datetime (YYYY-MM-DD[ HH:MM:SS[.ffffff]]): "2023-02-29 10:00:00"'
}

@test "America/New_York: standard and summer offsets away from a transition" {
	OPTS=(--source-tz America/New_York)
	ok timestamptz '"2024-01-15 12:00:00"' '"2024-01-15 12:00:00-05:00"'
	ok timestamptz '"2024-07-15 12:00:00.25"' '"2024-07-15 12:00:00.25-04:00"'
	ok timestamptz '"2024-07-15"' '"2024-07-15 00:00:00-04:00"'
	ok timestamptz '"1880-01-01 12:00:00"' '"1880-01-01 12:00:00-04:56:02"'
}

@test "America/New_York spring-forward gap: 02:30 moves forward by the gap to 03:30-04:00" {
	OPTS=(--source-tz America/New_York)
	ok timestamptz '"2024-03-10 01:59:59"' '"2024-03-10 01:59:59-05:00"'
	ok timestamptz '"2024-03-10 02:00:00"' '"2024-03-10 03:00:00-04:00"'
	ok timestamptz '"2024-03-10 02:30:00"' '"2024-03-10 03:30:00-04:00"'
	ok timestamptz '"2024-03-10 02:59:59.5"' '"2024-03-10 03:59:59.5-04:00"'
	ok timestamptz '"2024-03-10 03:00:00"' '"2024-03-10 03:00:00-04:00"'
}

@test "America/New_York fall-back overlap: 01:30 is its first occurrence (EDT, -04:00)" {
	OPTS=(--source-tz America/New_York)
	ok timestamptz '"2024-11-03 00:59:59"' '"2024-11-03 00:59:59-04:00"'
	ok timestamptz '"2024-11-03 01:00:00"' '"2024-11-03 01:00:00-04:00"'
	ok timestamptz '"2024-11-03 01:30:00"' '"2024-11-03 01:30:00-04:00"'
	ok timestamptz '"2024-11-03 01:59:59"' '"2024-11-03 01:59:59-04:00"'
	ok timestamptz '"2024-11-03 02:00:00"' '"2024-11-03 02:00:00-05:00"'
}

@test "Europe/Berlin: gap 2024-03-31 02:30 becomes 03:30+02:00, overlap 2024-10-27 02:30 is +02:00" {
	OPTS=(--source-tz Europe/Berlin)
	ok timestamptz '"2024-03-31 01:59:59"' '"2024-03-31 01:59:59+01:00"'
	ok timestamptz '"2024-03-31 02:30:00"' '"2024-03-31 03:30:00+02:00"'
	ok timestamptz '"2024-03-31 03:00:00"' '"2024-03-31 03:00:00+02:00"'
	ok timestamptz '"2024-10-27 02:30:00"' '"2024-10-27 02:30:00+02:00"'
	ok timestamptz '"2024-10-27 03:00:00"' '"2024-10-27 03:00:00+01:00"'
}

@test "many values of one zone share cached hours and stay exact across a transition" {
	MAP=$'@source-tz America/New_York\nv timestamptz'
	local in=() want=() h
	for h in 00 01 02 03; do
		in+=("{\"v\":\"2024-03-10 $h:15:00\"}" "{\"v\":\"2024-01-10 $h:15:00\"}")
	done
	run --separate-stderr gxm "${in[@]}"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"v":"2024-03-10 00:15:00-05:00"}' ]
	[ "${lines[1]}" = '{"v":"2024-01-10 00:15:00-05:00"}' ]
	[ "${lines[2]}" = '{"v":"2024-03-10 01:15:00-05:00"}' ]
	[ "${lines[4]}" = '{"v":"2024-03-10 03:15:00-04:00"}' ]
	[ "${lines[6]}" = '{"v":"2024-03-10 03:15:00-04:00"}' ]
	[ "${lines[7]}" = '{"v":"2024-01-10 03:15:00-05:00"}' ]
}

@test "the source zone: --source-tz over GX_SOURCE_TZ over @source-tz over UTC" {
	MAP=$'@source-tz Europe/Berlin\nv timestamptz'
	run --separate-stderr gxm '{"v":"2024-01-15 12:00:00"}'
	[ "${lines[0]}" = '{"v":"2024-01-15 12:00:00+01:00"}' ]
	GX_SOURCE_TZ=America/New_York run --separate-stderr gxm '{"v":"2024-01-15 12:00:00"}'
	[ "${lines[0]}" = '{"v":"2024-01-15 12:00:00-05:00"}' ]
	OPTS=(--source-tz UTC)
	GX_SOURCE_TZ=America/New_York run --separate-stderr gxm '{"v":"2024-01-15 12:00:00"}'
	[ "${lines[0]}" = '{"v":"2024-01-15 12:00:00+00:00"}' ]
}

@test "an unknown zone fails at start with exit 1 and no output" {
	MAP='v timestamptz'
	OPTS=(--source-tz Mars/Olympus_Mons)
	run --separate-stderr gxm '{"v":"2024-01-15 12:00:00"}'
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "gx-map: unknown time zone 'Mars/Olympus_Mons' (an IANA name such as America/New_York)" ]
	OPTS=(--source-tz ../../etc/passwd)
	run --separate-stderr gxm
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: unknown time zone '../../etc/passwd' (an IANA name such as America/New_York)" ]
}

# --- the source server's zone against ours ----------------------------------------

@test "a Chicago server's stream into a UTC map fails at the end marker: both zones named, no end marker" {
	MAP=$'@source-tz UTC\nv timestamptz'
	OPTS=(--rejects "$BATS_TEST_TMPDIR/rejects" --max-errors 1)
	printf '%s\n' "$MAP" >"$BATS_TEST_TMPDIR/t.map"
	printf '%s\n' '{"v":"2024-01-15 12:00:00"}' '{"v":"nope"}' \
		'{"@gx":"end","records":2,"clock":"2024-01-15 06:00:00.000000","time_zone":"America/Chicago"}' \
		>"$BATS_TEST_TMPDIR/in"
	run --separate-stderr gx-map "${OPTS[@]}" "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 1 ]
	[ "$output" = '{"v":"2024-01-15 12:00:00+00:00"}' ]
	[ "$stderr" = "gx-map: line 3: the source server's time zone is 'America/Chicago' but this map converts DATETIMEs as 'UTC' (from 2023-01-14 06:00:00 UTC the server's offset is -06:00, the map's +00:00): set GX_SOURCE_TZ=America/Chicago (or --source-tz), or declare the old rule on purpose with '@source-tz UTC override' / GX_SOURCE_TZ_OVERRIDE=1" ]
	# the reject is kept as ever
	[ "$(jq -r .line "$BATS_TEST_TMPDIR/rejects")" = 2 ]
	# a map without @source-tz is UTC, and checked the same way
	MAP='v timestamptz'
	OPTS=()
	zone_bad '"time_zone":"America/Chicago"' America/Chicago UTC
	[[ "$stderr" == *"declare the old rule on purpose with '@source-tz UTC override' / GX_SOURCE_TZ_OVERRIDE=1" ]]
}

@test "every name of UTC agrees with a UTC map: +00:00 -00:00 UTC Etc/UTC GMT Etc/GMT Z Universal Zulu" {
	local z
	for z in +00:00 -00:00 UTC Etc/UTC GMT Etc/GMT Z Universal Zulu UCT Etc/Universal; do
		zone_ok "\"time_zone\":\"$z\",$JAN"
	done
	MAP=$'@source-tz Etc/UTC\nv timestamptz'
	zone_ok '"time_zone":"+00:00"'
	MAP=$'@source-tz GMT\nv timestamptz'
	zone_ok '"time_zone":"UTC"'
}

@test "two names of the same rules agree: US/Central and America/Chicago, Europe/Berlin and Europe/Paris" {
	OPTS=(--source-tz America/Chicago)
	zone_ok '"time_zone":"US/Central",'"$JUL_CHI"
	zone_ok '"time_zone":"America/Chicago",'"$JAN_CHI"
	MAP=$'@source-tz US/Central\nv timestamptz'
	OPTS=()
	zone_ok '"time_zone":"America/Chicago"'
	OPTS=(--source-tz Europe/Paris)
	zone_ok '"time_zone":"Europe/Berlin"'
}

@test "zones with other rules do not agree: America/Havana and America/New_York change on other hours" {
	OPTS=(--source-tz America/New_York)
	zone_bad '"time_zone":"America/Havana",'"$JAN" America/Havana America/New_York
	[[ "$stderr" == *"(from 2023-03-12 05:00:00 UTC the server's offset is -04:00, the map's -05:00): set GX_SOURCE_TZ=America/Havana (or --source-tz), or declare it on purpose with GX_SOURCE_TZ_OVERRIDE=1 (or --source-tz-override)" ]]
	OPTS=(--source-tz Europe/London)
	zone_bad '"time_zone":"UTC"' UTC Europe/London
}

@test "a fixed offset agrees with a zone only if it never leaves it: -06:00 is not America/Chicago" {
	OPTS=(--source-tz America/Chicago)
	zone_bad '"time_zone":"-06:00",'"$JAN_CHI" -06:00 America/Chicago
	zone_bad '"time_zone":"-05:00",'"$JUL_CHI" -05:00 America/Chicago
	OPTS=(--source-tz America/Regina)
	zone_ok '"time_zone":"-06:00"'
	OPTS=(--source-tz Asia/Kolkata)
	zone_ok '"time_zone":"+05:30"'
	OPTS=(--source-tz -06:00)
	zone_ok '"time_zone":"Etc/GMT+6"'
	zone_ok '"time_zone":"-6:00"'
	zone_bad '"time_zone":"-07:00"' -07:00 -06:00
}

@test "an abbreviation agrees with a zone that uses it and has the server's offset at the instant" {
	OPTS=(--source-tz America/Chicago)
	zone_ok '"time_zone":"CST",'"$JAN_CHI"
	# MariaDB names the abbreviation of its start: CST all summer long
	zone_ok '"time_zone":"CST",'"$JUL_CHI"
	zone_ok '"time_zone":"CDT",'"$JAN_CHI"
	# without "instant": the abbreviation only
	zone_ok '"time_zone":"CST","clock":"2024-01-15 06:00:00"'
	zone_ok '"time_zone":"CST"'
	OPTS=(--source-tz Europe/Berlin)
	zone_ok '"time_zone":"CET","clock":"2024-01-15 13:00:00.5","instant":1705320000.5'
	OPTS=(--source-tz Europe/Istanbul)
	zone_ok '"time_zone":"+03","clock":"2024-01-15 15:00:00",'"$JAN"
}

@test "an abbreviation the zone does not use, or a clock at another offset, does not agree" {
	OPTS=(--source-tz America/Chicago)
	zone_bad '"time_zone":"EST",'"$JAN_CHI" EST America/Chicago
	[[ "$stderr" == *"('EST' is an abbreviation the map's zone does not use from 2023-01-14 12:00:00 UTC to 2025-01-15 12:00:00 UTC): set GX_SOURCE_TZ to the server's IANA zone (or --source-tz), or"* ]]
	# CST, but the clock shows -05:00 in January: not Chicago
	zone_bad '"time_zone":"CST","clock":"2024-01-15 07:00:00",'"$JAN" CST America/Chicago
	[[ "$stderr" == *"(at the stream's instant, 2024-01-15 12:00:00 UTC, the server's clock is at -05:00, the map's zone at -06:00)"* ]]
	# China's CST is not Chicago's
	OPTS=(--source-tz Asia/Shanghai)
	zone_bad '"time_zone":"CST",'"$JAN_CHI" CST Asia/Shanghai
	OPTS=()
	zone_bad '"time_zone":"CST"' CST UTC
	zone_bad '"time_zone":"CET"' CET UTC
}

@test "a zone name the tz database does not know does not agree with anything" {
	zone_bad '"time_zone":"Mars/Olympus_Mons"' Mars/Olympus_Mons UTC
	[[ "$stderr" == *"('Mars/Olympus_Mons' is neither a UTC offset, a zone of this system's tz database nor an abbreviation): set GX_SOURCE_TZ to the server's IANA zone"* ]]
	zone_bad '"time_zone":"../../etc/passwd"' ../../etc/passwd UTC
	zone_bad '"time_zone":""' '' UTC
}

@test "@source-tz ZONE override in the map: ZONE whatever the server says" {
	MAP=$'@source-tz UTC override\nv timestamptz'
	zone_ok '"time_zone":"America/Chicago",'"$JAN_CHI"
	[ "${lines[0]}" = '{"v":"2024-01-15 12:00:00+00:00"}' ]
	# the override goes with the map's zone: GX_SOURCE_TZ replaces both
	GX_SOURCE_TZ=Europe/Berlin zone_bad '"time_zone":"America/Chicago"' America/Chicago Europe/Berlin
	[[ "$stderr" == *"but this run converts DATETIMEs as 'Europe/Berlin' ("*"or declare it on purpose with GX_SOURCE_TZ_OVERRIDE=1 (or --source-tz-override)" ]]
	run --separate-stderr gx-map --check "$BATS_TEST_TMPDIR/t.map"
	[ "$status" -eq 0 ]
	[ "$output" = "$BATS_TEST_TMPDIR/t.map: ok: 1 columns, source zone UTC (override)" ]
	bad_map $'@source-tz UTC sometimes\nv text' "1: @source-tz ZONE [override]: 'sometimes' is not 'override'"
	bad_map $'@unknown ignore override\nv text' '1: a setting is one word: @unknown VALUE'
	bad_map $'@source-tz UTC override now\nv text' '1: a setting is one word: @source-tz VALUE'
}

@test "GX_SOURCE_TZ_OVERRIDE=1 and --source-tz-override: the zone used whatever the server says" {
	GX_SOURCE_TZ_OVERRIDE=1 zone_ok '"time_zone":"America/Chicago",'"$JAN_CHI"
	OPTS=(--source-tz-override)
	zone_ok '"time_zone":"America/Chicago",'"$JAN_CHI"
	OPTS=(--source-tz Europe/Berlin --source-tz-override)
	zone_ok '"time_zone":"America/Chicago",'"$JAN_CHI"
	[ "${lines[0]}" = '{"v":"2024-01-15 12:00:00+01:00"}' ]
	OPTS=()
	GX_SOURCE_TZ=Europe/Berlin GX_SOURCE_TZ_OVERRIDE=yes zone_ok '"time_zone":"America/Chicago"'
	GX_SOURCE_TZ_OVERRIDE=0 zone_bad '"time_zone":"America/Chicago"' America/Chicago UTC
	GX_SOURCE_TZ_OVERRIDE='' zone_bad '"time_zone":"America/Chicago"' America/Chicago UTC
}

@test "a stream without time_zone (or with null) is not compared: old streams and hand-written ones pass" {
	zone_ok ''
	zone_ok '"clock":"2024-01-15 06:00:00.000000",'"$JAN"
	zone_ok '"time_zone":null'
	OPTS=(--source-tz America/Chicago)
	zone_ok '"entity":"appointments"'
}

@test "GX_SOURCE_TZ=America/Chicago with a Chicago server agrees and converts by Chicago's rules" {
	printf '%s\n' 'v timestamptz' >"$BATS_TEST_TMPDIR/t.map"
	printf '%s\n' '{"v":"2024-01-15 12:00:00"}' '{"v":"2024-07-15 12:00:00.5"}' '{"v":"2024-03-10 02:30:00"}' \
		'{"@gx":"end","records":3,"clock":"2024-07-15 07:00:00.000000","time_zone":"America/Chicago","instant":1721044800}' \
		>"$BATS_TEST_TMPDIR/in"
	GX_SOURCE_TZ=America/Chicago run --separate-stderr gx-map "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$output" = '{"v":"2024-01-15 12:00:00-06:00"}
{"v":"2024-07-15 12:00:00.5-05:00"}
{"v":"2024-03-10 03:30:00-05:00"}
{"@gx":"end","records":3,"clock":"2024-07-15 07:00:00.000000","time_zone":"America/Chicago","instant":1721044800,"rejected":0}' ]
}

@test "a fixed offset is a source zone too: --source-tz +05:30 appends +05:30" {
	OPTS=(--source-tz +05:30)
	zone_ok '"time_zone":"+05:30"'
	[ "${lines[0]}" = '{"v":"2024-01-15 12:00:00+05:30"}' ]
	OPTS=(--source-tz -00:00)
	zone_ok '"time_zone":"UTC"'
	[ "${lines[0]}" = '{"v":"2024-01-15 12:00:00+00:00"}' ]
	OPTS=(--source-tz +15:00)
	zrun ''
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: unknown time zone '+15:00' (an IANA name such as America/New_York)" ]
}

@test "a malformed clock or instant, or the two a day apart, fails the run with exit 1" {
	zrun '"time_zone":"UTC","instant":"soon"'
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: line 2: the end marker's \"instant\" is not epoch seconds with at most 6 decimals: 'soon'" ]
	zrun '"time_zone":"UTC","instant":1705320000.1234567'
	[ "$status" -eq 1 ]
	zrun '"time_zone":"UTC","clock":"2024-02-30 00:00:00"'
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: line 2: the end marker's \"clock\" is not YYYY-MM-DD HH:MM:SS[.ffffff]: '2024-02-30 00:00:00'" ]
	zrun '"time_zone":"UTC","clock":"2024-01-15 12:00:00","instant":0'
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: line 2: the end marker's \"clock\" '2024-01-15 12:00:00' and \"instant\" 0 are more than a day apart: not one moment" ]
	[[ "$output" != *'"@gx"'* ]]
}

@test "--debug says which zones were compared and how it came out" {
	OPTS=(--debug)
	zone_ok '"time_zone":"+00:00",'"$JAN"
	[ "${stderr_lines[1]}" = "gx-map: debug: line 2: the server's time zone '+00:00' against 'UTC': agree: the same UTC offsets from 2023-01-14 12:00:00 UTC to 2025-01-15 12:00:00 UTC" ]
	zrun '"time_zone":"America/Chicago",'"$JAN"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[1]}" = "gx-map: debug: line 2: the server's time zone 'America/Chicago' against 'UTC': differ: from 2023-01-14 12:00:00 UTC the server's offset is -06:00, the map's +00:00" ]
	[[ "${stderr_lines[2]}" == "gx-map: line 2: the source server's time zone is 'America/Chicago' but "* ]]
	OPTS=(--debug --source-tz-override)
	zone_ok '"time_zone":"America/Chicago"'
	[ "${stderr_lines[1]}" = "gx-map: debug: line 2: the server's time zone 'America/Chicago' is not compared with 'UTC' (declared by --source-tz-override)" ]
	OPTS=(--debug)
	zone_ok ''
	[ "${stderr_lines[1]}" = "gx-map: debug: line 2: the end marker names no time_zone: 'UTC' is not compared" ]
}

# --- json ------------------------------------------------------------------------

@test "json: any JSON value, or a string holding JSON text, becomes a string of compact JSON" {
	ok json '{ "a" : [1, 2.5 , {"b":null}], "c":"x y" }' '"{\"a\":[1,2.5,{\"b\":null}],\"c\":\"x y\"}"'
	ok json '[ ]' '"[]"'
	ok json 42 '"42"'
	ok json true '"true"'
	ok json '" {\"k\": [true, false]} "' '"{\"k\":[true,false]}"'
	ok json '"\"text\""' '"\"text\""'
	ok json '"\"\\u00e9\""' '"\"\\u00e9\""'
}

@test "json rejects a string that is not JSON text" {
	rej json '"not json"' 'not valid JSON text: "not json"'
	rej json '"{\"a\":1,}"' 'not valid JSON text: "{\"a\":1,}"'
	rej json '"[1] [2]"' 'not valid JSON text: "[1] [2]"'
	rej json '""' 'not valid JSON text: ""'
	rej json '"{\"a\" 1}"' 'not valid JSON text: "{\"a\" 1}"'
}

# --- else=, default=, not-null -------------------------------------------------

@test "else= takes the first non-null fallback, converted by the column's type" {
	MAP='t timestamptz zero=null else=a,b not-null'
	run --separate-stderr gxm \
		'{"t":"2024-01-02 03:04:05","a":"2023-01-01 00:00:00","b":"2022-01-01"}' \
		'{"t":null,"a":"2023-01-01 10:00:00","b":"2022-01-01"}' \
		'{"t":"0000-00-00 00:00:00","a":null,"b":"2022-01-01"}' \
		'{"t":null,"a":"0000-00-00 00:00:00","b":"2022-01-01"}'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"t":"2024-01-02 03:04:05+00:00"}' ]
	[ "${lines[1]}" = '{"t":"2023-01-01 10:00:00+00:00"}' ]
	[ "${lines[2]}" = '{"t":"2022-01-01 00:00:00+00:00"}' ]
	[ "${lines[3]}" = '{"t":"2022-01-01 00:00:00+00:00"}' ]
	[ "${lines[4]}" = '{"@gx":"end","records":4,"rejected":0}' ]
}

@test "an invalid else= fallback rejects the record, naming the key" {
	MAP='t timestamptz zero=null else=a'
	run --separate-stderr gxm '{"t":null,"a":"yesterday"}'
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = 'gx-map: line 1: column t: else=a: not a date or datetime (YYYY-MM-DD[ HH:MM:SS[.ffffff]]): "yesterday"' ]
}

@test "not-null rejects a value that is null after every rule" {
	MAP='t timestamptz zero=null else=a not-null'
	run --separate-stderr gxm '{"t":"0000-00-00 00:00:00","a":null}'
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = 'gx-map: line 1: column t: null, and so is every else= key (not-null)' ]
	rej 'integer not-null' null 'null (not-null)'
	ok 'integer' null null
}

@test "default= fills a value still null after else=" {
	ok 'integer not-null default=0' null 0
	ok 'integer default=-5' 7 7
	ok 'varchar(50) not-null default=""' null '""'
	ok 'varchar(50) default="US/Pacific"' null '"US/Pacific"'
	ok 'boolean not-null default=true' null true
	ok 'timestamptz default=1970-01-01' null '"1970-01-01 00:00:00+00:00"'
	ok 'numeric(10,2) default=0.00' null 0.00
	ok 'text empty=null default="n/a"' '""' '"n/a"'
	MAP='t integer else=a default=9'
	run --separate-stderr gxm '{"t":null,"a":3}' '{"t":null,"a":null}'
	[ "${lines[0]}" = '{"t":3}' ]
	[ "${lines[1]}" = '{"t":9}' ]
}

@test "default= is checked against the type when the map is read" {
	bad_map 'v smallint default=40000' '1: default=40000: out of range for smallint: 40000'
	bad_map 'v varchar(2) default=abc' '1: default=abc: longer than 2 characters (3)'
	bad_map 'v date default=2023-02-29' '1: default=2023-02-29: not a date (YYYY-MM-DD): "2023-02-29"'
	bad_map 'v boolean default=yes' '1: default=yes: not a boolean: "yes"'
	bad_map 'v integer default=null' '1: default=null: a column without default= is null already'
}

# --- keys --------------------------------------------------------------------------

@test "from= renames a source key; output follows map order, not input order" {
	MAP=$'b text from=src_b\na integer'
	run --separate-stderr gxm '{"a":1,"src_b":"x"}'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"b":"x","a":1}' ]
	MAP='a integer from="odd key é"'
	run --separate-stderr gxm '{"odd key \u00e9":5}'
	[ "${lines[0]}" = '{"a":5}' ]
}

@test "@unknown ignore (the default) skips unknown keys; @unknown reject rejects them" {
	MAP='a integer'
	run --separate-stderr gxm '{"a":1,"extra":2}'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"a":1}' ]
	MAP=$'@unknown reject\na integer'
	run --separate-stderr gxm '{"a":1,"extra":2}'
	[ "$status" -eq 1 ]
	[ "$stderr" = $'gx-map: line 1: column extra: unknown key (the map says @unknown reject)\ngx-map: line 1: 1 records rejected, more than --max-errors 0: stopped' ]
}

@test "@missing reject (the default) rejects an absent key; @missing null reads it as null" {
	MAP=$'a integer\nb integer'
	run --separate-stderr gxm '{"a":1}'
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = 'gx-map: line 1: column b: missing key (the map says @missing reject)' ]
	MAP=$'@missing null\na integer\nb integer'
	run --separate-stderr gxm '{"a":1}'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"a":1,"b":null}' ]
}

@test "an else= key absent from the record is missing too" {
	MAP='a integer else=b'
	run --separate-stderr gxm '{"a":1}'
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = 'gx-map: line 1: column b: missing key (the map says @missing reject)' ]
}

@test "drop consumes a key and emits nothing, even under @unknown reject" {
	MAP=$'@unknown reject\nid integer\n# a credential the warehouse must not get\npaysimple_secret text drop'
	run --separate-stderr gxm '{"id":1,"paysimple_secret":"hunter2"}' '{"id":2}'
	[ "$status" -eq 0 ]
	[ "$output" = $'{"id":1}\n{"id":2}\n{"@gx":"end","records":2,"rejected":0}' ]
}

@test "a key twice in one record rejects it" {
	MAP='a integer'
	run --separate-stderr gxm '{"a":1,"a":2}'
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = 'gx-map: line 1: column a: duplicate key' ]
}

# --- rejects, --max-errors -----------------------------------------------------------

@test "--rejects appends line, column, reason and the original record as one JSON line" {
	MAP=$'id integer\nstate varchar(2)'
	OPTS=(--rejects "$BATS_TEST_TMPDIR/rej" --max-errors 5)
	echo '{"earlier":"run"}' >"$BATS_TEST_TMPDIR/rej"
	run --separate-stderr gxm '{"id":1,"state":"CA"}' '{"id":2,"state":"Ohio"}' \
		'{"id":"x","state":"NY"}'
	[ "$status" -eq 0 ]
	[ "$output" = $'{"id":1,"state":"CA"}\n{"@gx":"end","records":1,"rejected":2}' ]
	[ "$stderr" = "gx-map: warning: 2 records rejected (written to $BATS_TEST_TMPDIR/rej)" ]
	run cat "$BATS_TEST_TMPDIR/rej"
	[ "${lines[0]}" = '{"earlier":"run"}' ]
	[ "${lines[1]}" = '{"line":2,"column":"state","reason":"longer than 2 characters (4)","record":{"id":2,"state":"Ohio"}}' ]
	[ "${lines[2]}" = '{"line":3,"column":"id","reason":"not an integer: \"x\"","record":{"id":"x","state":"NY"}}' ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "reject line numbers count control lines too" {
	MAP='id integer'
	OPTS=(--rejects "$BATS_TEST_TMPDIR/rej" --max-errors 1)
	printf '%s\n' "$MAP" >"$BATS_TEST_TMPDIR/t.map"
	printf '%s\n' '{"@gx":"now"}' '{"id":true}' '{"@gx":"end","records":1}' >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "${OPTS[@]}" "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 0 ]
	[ "$output" = $'{"@gx":"now"}\n{"@gx":"end","records":0,"rejected":1}' ]
	run tail -n 1 "$BATS_TEST_TMPDIR/rej"
	[ "$output" = '{"line":2,"column":"id","reason":"expected a number, got a boolean","record":{"id":true}}' ]
}

@test "--max-errors N: N rejects pass and the end marker says so" {
	MAP='id integer'
	OPTS=(--max-errors 2)
	run --separate-stderr gxm '{"id":"a"}' '{"id":1}' '{"id":"b"}'
	[ "$status" -eq 0 ]
	[ "$output" = $'{"id":1}\n{"@gx":"end","records":1,"rejected":2}' ]
	[ "$stderr" = $'gx-map: line 1: column id: not an integer: "a"\ngx-map: line 3: column id: not an integer: "b"' ]
}

@test "--max-errors N: reject N+1 fails the run with exit 1 and no end marker" {
	MAP='id integer'
	OPTS=(--max-errors 2)
	run --separate-stderr gxm '{"id":"a"}' '{"id":1}' '{"id":"b"}' '{"id":2}' '{"id":"c"}' '{"id":3}'
	[ "$status" -eq 1 ]
	[ "$output" = $'{"id":1}\n{"id":2}' ]
	[ "${stderr_lines[3]}" = 'gx-map: line 5: 3 records rejected, more than --max-errors 2: stopped' ]
}

@test "--max-errors 0 (the default): the first reject fails the run" {
	MAP='id integer'
	run --separate-stderr gxm '{"id":1}' '{"id":"x"}' '{"id":2}'
	[ "$status" -eq 1 ]
	[ "$output" = '{"id":1}' ]
	[ "$stderr" = $'gx-map: line 2: column id: not an integer: "x"\ngx-map: line 2: 1 records rejected, more than --max-errors 0: stopped' ]
}

@test "--max-errors must be a non-negative integer" {
	run --separate-stderr gx-map --max-errors -1 "$APPT"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: --max-errors: not a non-negative integer: '-1'" ]
}

# --- the stream ---------------------------------------------------------------------

@test "the end marker gets records written and rejected; its other members stay in order" {
	MAP='id integer'
	OPTS=(--max-errors 1)
	printf '%s\n' '{"id":1}' '{"id":"x"}' \
		'{"@gx":"end","records":2,"entity":"appointments","clock":"2024-01-01 00:00:00.000000","more":false,"last":["2024-01-01 00:00:00",2]}' \
		>"$BATS_TEST_TMPDIR/in2"
	printf '%s\n' "$MAP" >"$BATS_TEST_TMPDIR/t.map"
	run --separate-stderr gx-map "${OPTS[@]}" "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = '{"@gx":"end","records":1,"entity":"appointments","clock":"2024-01-01 00:00:00.000000","more":false,"last":["2024-01-01 00:00:00",2],"rejected":1}' ]
}

@test "an upstream \"rejected\" member is replaced in place by this stage's count" {
	printf '%s\n' 'id integer' >"$BATS_TEST_TMPDIR/t.map"
	printf '%s\n' '{"id":1}' '{"@gx":"end","records":1,"rejected":7,"x":1}' >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = '{"@gx":"end","records":1,"rejected":0,"x":1}' ]
}

@test "control lines pass through unchanged, in place" {
	MAP='id integer'
	printf '%s\n' "$MAP" >"$BATS_TEST_TMPDIR/t.map"
	printf '%s\n' '{"@gx":"now", "now" : "2024-01-01 00:00:00"}' '{"id":1}' \
		'{"@gx":"progress","n":[1, 2]}' '{"@gx":"end","records":1}' '{"@gx":"after"}' \
		>"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 0 ]
	[ "$output" = $'{"@gx":"now", "now" : "2024-01-01 00:00:00"}\n{"id":1}\n{"@gx":"progress","n":[1, 2]}\n{"@gx":"end","records":1,"rejected":0}\n{"@gx":"after"}' ]
}

@test "input that ends without the end marker exits 3 and writes no end marker" {
	printf '%s\n' 'id integer' >"$BATS_TEST_TMPDIR/t.map"
	printf '%s\n' '{"id":1}' '{"id":2}' >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 3 ]
	[ "$output" = $'{"id":1}\n{"id":2}' ]
	[ "$stderr" = 'gx-map: stdin: input ended after line 2 without the end marker: the upstream stage did not finish' ]
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/t.map" </dev/null
	[ "$status" -eq 3 ]
	[ -z "$output" ]
}

@test "a last line cut short (no newline) fails with its line number and no end marker" {
	printf '%s\n' 'id integer' >"$BATS_TEST_TMPDIR/t.map"
	printf '{"id":1}\n{"id":2' >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 1 ]
	[ "$output" = '{"id":1}' ]
	[ "$stderr" = 'gx-map: stdin: line 2: last line has no newline (truncated input)' ]
}

@test "malformed JSON exits 1 naming the line" {
	MAP='id integer'
	run --separate-stderr gxm '{"id":1}' '{"id":2,}' '{"id":3}'
	[ "$status" -eq 1 ]
	[ "$output" = '{"id":1}' ]
	[ "$stderr" = 'gx-map: stdin: line 2: invalid JSON separators' ]
	run --separate-stderr gxm '{"id":1}' '{"id":01}'
	[ "$status" -eq 1 ]
	[ "$stderr" = 'gx-map: stdin: line 2: invalid JSON value' ]
	run --separate-stderr gxm '[1]'
	[ "$status" -eq 1 ]
	[ "$stderr" = 'gx-map: stdin: line 1: a line must hold one JSON object' ]
}

@test "separators jsmn lets through are refused: {,} [1,,2] {\"a\"::1} {:}" {
	MAP=$'@unknown ignore\nid integer'
	local l
	for l in '{,"id":1}' '{"id":1,,"b":2}' '{"id":1,"b":[,1]}' '{"id":1,"b":[1,,2]}' \
		'{"id":1,"b":[1, ,2]}'; do
		run --separate-stderr gxm "$l"
		[ "$status" -eq 1 ]
		[ "$stderr" = "gx-map: stdin: line 1: missing value before ','" ]
	done
	for l in '{"id"::1}' '{"id":1,"b":{"c" : : 1}}' '{"id":1,"b":{:}}' '{"id":1,"b":[,]}' '{ : }'; do
		run --separate-stderr gxm "$l"
		[ "$status" -eq 1 ]
		[ "$stderr" = "gx-map: stdin: line 1: invalid JSON" ]
	done
	run --separate-stderr gxm '{ "id" : 1 , "b" : [ 1 , { } , [ ] ] , "c" : { "d" : [ ] } }'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"id":1}' ]
}

@test "an end marker whose count differs from the records read fails" {
	printf '%s\n' 'id integer' >"$BATS_TEST_TMPDIR/t.map"
	printf '%s\n' '{"id":1}' '{"@gx":"end","records":2}' >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 1 ]
	[ "$output" = '{"id":1}' ]
	[ "$stderr" = 'gx-map: stdin: line 2: the end marker counts 2 records but 1 were read' ]
}

@test "a record after the end marker fails and the end marker is not written" {
	printf '%s\n' 'id integer' >"$BATS_TEST_TMPDIR/t.map"
	printf '%s\n' '{"id":1}' '{"@gx":"end","records":1}' '{"id":2}' >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/t.map" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 1 ]
	[ "$output" = '{"id":1}' ]
	[ "$stderr" = 'gx-map: stdin: line 3: record after the end marker' ]
}

# --- the mapping file ------------------------------------------------------------------

@test "a malformed map is refused with FILE:LINE: reason before any output" {
	bad_map 'v integr' '1: unknown type '"'"'integr'"'"''
	bad_map $'# c\n\nv integer nullable' '3: unknown option '"'"'nullable'"'"''
	bad_map 'v varchar(x)' '1: varchar needs a length of 1 to 10485760: varchar(N)'
	bad_map 'v varchar(0)' '1: varchar needs a length of 1 to 10485760: varchar(N)'
	bad_map 'v numeric(3,4)' '1: numeric(p,s) needs 1 <= p <= 1000 and 0 <= s <= p'
	bad_map 'v numeric(1001)' '1: numeric(p,s) needs 1 <= p <= 1000 and 0 <= s <= p'
	bad_map 'v integer(4)' '1: type integer takes no (arguments)'
	bad_map $'v integer\nv text' '2: duplicate target '"'"'v'"'"' (first on line 1)'
	bad_map 'v integer round' '1: round is only for numeric'
	bad_map 'v integer nul=strip' '1: nul= is only for text and varchar'
	bad_map 'v text long=truncate' '1: long= is only for varchar(n)'
	bad_map 'v integer zero=null' '1: zero= is only for date, timestamptz and text types'
	bad_map 'v integer true=Y' '1: true= and false= are only for boolean'
	bad_map 'v boolean true=Y false=Y' "1: 'Y' is both true= and false="
	bad_map 'v date zero=maybe' '1: zero= takes keep, null or reject'
	bad_map 'v integer not-null not-null' '1: option not-null given twice'
	bad_map 'v integer not-null=yes' '1: option not-null takes no value'
	bad_map 'v integer from=' '1: option from needs a value: from=...'
	bad_map 'v text drop not-null' '1: drop takes no option but from='
	bad_map 'v' "1: target 'v' needs a type"
	bad_map '9v integer' "1: target '9v' is not a column name ([A-Za-z_][A-Za-z0-9_]*, at most 63)"
	bad_map 'v text default="abc' '1: unterminated quoted value'
	bad_map 'v text else=a,,b' '1: else=: an empty or control key in the list'
	bad_map 'v text from=@gx' '1: "@gx" names control lines, not a source column'
	bad_map 'v text from=""' '1: from="": a source key has a name'
	bad_map 'v date zero=""' '1: zero= takes keep, null or reject'
	bad_map '@source-tz' '1: a setting is one word: @source-tz VALUE'
	bad_map $'@unknown reject\n@unknown ignore\nv text' '2: @unknown given twice'
	bad_map '@missing maybe' '1: @missing takes reject or null'
	bad_map '@colour blue' "1: unknown setting '@colour' (@source-tz, @unknown, @missing)"
}

@test "a map without columns is refused" {
	printf '# nothing\n' >"$BATS_TEST_TMPDIR/empty.map"
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/empty.map" </dev/null
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: $BATS_TEST_TMPDIR/empty.map: no target columns" ]
	run --separate-stderr gx-map "$BATS_TEST_TMPDIR/none.map" </dev/null
	[ "$status" -eq 1 ]
	[[ "$stderr" == "gx-map: $BATS_TEST_TMPDIR/none.map: cannot open: "* ]]
}

@test "comments, blank lines, quoted values and CRLF line ends are read" {
	MAP=$'# header\r\n\r\n  a   text   default="x # not a comment"   # comment\r\nb integer # another'
	run --separate-stderr gxm '{"a":null,"b":1}'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '{"a":"x # not a comment","b":1}' ]
}

@test "--check parses the map only and reports it" {
	run --separate-stderr gx-map --check "$APPT"
	[ "$status" -eq 0 ]
	[ "$output" = "$APPT: ok: 31 columns, source zone UTC" ]
	printf 'v integer\nw nosuchtype\n' >"$BATS_TEST_TMPDIR/bad.map"
	run --separate-stderr gx-map --check "$BATS_TEST_TMPDIR/bad.map"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: $BATS_TEST_TMPDIR/bad.map:2: unknown type 'nosuchtype'" ]
	printf '@source-tz Nowhere/City\nv integer\n' >"$BATS_TEST_TMPDIR/tz.map"
	run --separate-stderr gx-map --check "$BATS_TEST_TMPDIR/tz.map"
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: unknown time zone 'Nowhere/City' (an IANA name such as America/New_York)" ]
}

@test "--help prints usage with an example; --version prints the version" {
	run --separate-stderr gx-map --help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'usage: gx-map [--rejects FILE] [--max-errors N] [--source-tz ZONE] [--debug]' ]
	[[ "$output" == *"example:"*"gx-map --rejects"* ]]
	run --separate-stderr gx-map --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^gx-map\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "bad usage (no map, two maps, unknown option, no value) exits 1 with one line naming it" {
	run --separate-stderr gx-map
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: a MAPFILE is required (see gx-map --help)" ]
	[ -z "$output" ]
	run --separate-stderr gx-map a.map b.map
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: one MAPFILE, not 2 arguments (see gx-map --help)" ]
	run --separate-stderr gx-map --frobnicate a.map
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: --frobnicate: unknown option (see gx-map --help)" ]
	run --separate-stderr gx-map a.map --max-errors
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-map: --max-errors: needs a value (see gx-map --help)" ]
}

@test "--debug reports the map and the run's figures on stderr" {
	MAP='id integer'
	OPTS=(--debug)
	run --separate-stderr gxm '{"id":1}'
	[ "$status" -eq 0 ]
	[[ "${stderr_lines[0]}" == "gx-map: debug: $BATS_TEST_TMPDIR/t.map: 1 columns from 1 source keys, source zone UTC" ]]
	[ "${stderr_lines[1]}" = "gx-map: debug: line 2: the end marker names no time_zone: 'UTC' is not compared" ]
	[[ "${stderr_lines[2]}" == "gx-map: debug: 1 records read, 1 written, 0 rejected in "* ]]
}

# --- the appointments map -----------------------------------------------------------------

@test "appointments map: a full record maps to the warehouse row" {
	run --separate-stderr gx-map "$APPT" <"$FIX/appointments.ndjson"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	diff -u "$FIX/appointments.expected" <(printf '%s\n' "$output")
}

@test "appointments map: add_date falls back to date at midnight, updated_at to add_date then date" {
	local r='{"id":1,"prospect_id":2,"prospect_source_id":null,"user_id":null,"type_id":3,"date":"2019-05-04","time":null,"duration":null,"address1":null,"address2":null,"city":null,"state":null,"zip":null,"email":null,"notes":null,"add_user_id":4,"add_date":ADD,"assign_date":null,"confirm_user_id":null,"confirm_date":null,"confirm_with":null,"spouses_present":0,"is_complete":0,"complete_outcome_id":null,"complete_user_id":null,"complete_date":null,"marketsharp_id":null,"marketsharp_appt_type":null,"leap_estimate_id":null,"hubspot_appointment_id":null,"updated_at":UPD}'
	printf '%s\n' "${r/ADD/null}" >"$BATS_TEST_TMPDIR/in2"
	sed -i 's/UPD/null/' "$BATS_TEST_TMPDIR/in2"
	printf '%s\n' "${r/ADD/\"2018-01-01 08:00:00\"}" | sed 's/UPD/"0000-00-00 00:00:00"/' >>"$BATS_TEST_TMPDIR/in2"
	echo '{"@gx":"end","records":2}' >>"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$APPT" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"add_date":"2019-05-04 00:00:00+00:00"'*'"updated_at":"2019-05-04 00:00:00+00:00"}' ]]
	[[ "${lines[1]}" == *'"add_date":"2018-01-01 08:00:00+00:00"'*'"updated_at":"2018-01-01 08:00:00+00:00"}' ]]
}

@test "appointments map: U+0000 is stripped from notes and rejected in a varchar" {
	sed -e '1s/"notes":"[^"]*"/"notes":"a\\u0000b"/' "$FIX/appointments.ndjson" >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$APPT" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *'"notes":"ab",'* ]]
	[ "$stderr" = 'gx-map: warning: column notes: U+0000 stripped from 1 values (nul=strip)' ]
	sed -e '1s/"city":"[^"]*"/"city":"a\\u0000b"/' "$FIX/appointments.ndjson" >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$APPT" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = 'gx-map: line 1: column city: holds U+0000, which PostgreSQL text refuses (nul=strip removes it)' ]
}

@test "appointments map: a non-numeric hubspot id is rejected, not nulled" {
	sed -e '1s/"hubspot_appointment_id":[^,]*/"hubspot_appointment_id":"MS-123"/' \
		"$FIX/appointments.ndjson" >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$APPT" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = 'gx-map: line 1: column hubspot_appointment_id: not an integer: "MS-123"' ]
}

@test "appointments map: a key the query does not select is rejected" {
	sed -e '1s/^{/{"third_party_source_id":5,/' "$FIX/appointments.ndjson" >"$BATS_TEST_TMPDIR/in2"
	run --separate-stderr gx-map "$APPT" <"$BATS_TEST_TMPDIR/in2"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = 'gx-map: line 1: column third_party_source_id: unknown key (the map says @unknown reject)' ]
}
