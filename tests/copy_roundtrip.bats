#!/usr/bin/env bats
# gx-load's NDJSON -> COPY text conversion (load/copy.c) read by PostgreSQL's
# own COPY parser: generated nasty values (every control character,
# backslashes, tabs, CR/LF, text that looks like \N or \., non-ASCII, long
# strings, numbers with many digits, JSON with white space in it) go through
# gx-load into a table, and every row must be what its JSON line says as
# PostgreSQL reads that line as jsonb. tests/fuzz/fuzz_copy.c checks the same
# conversion against a reader of the format, for any input.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	gx_servers_start
	gx_pg -c 'CREATE SCHEMA rt' -c 'CREATE TABLE rt.v (id integer PRIMARY KEY,
		s text, n numeric, b bigint, f double precision, ok boolean, j jsonb, js json)'
}

teardown_file() { gx_servers_stop; }

setup() {
	gx_env
	gx_pg -c 'TRUNCATE rt.v'
}

# The strings, as one JSON array (jq writes them exactly).
nasty_strings() {
	jq -nc '
	def ctl: [range(1; 32), 127] | map([.] | implode);
	[ (ctl[] | ., "a\(.)b", "\(.)\(.)\(.)"),
	  (ctl | join("")),
	  ([range(128; 160)] | implode),
	  "\\", "\\\\", "\\N", "N", "\\N\\N", " \\N", "\\N ", "NULL", "null", "",
	  "\\.", "\n\\.\n", "\\.\n", "a\\tb", "\\x41", "\\101", "\\0", "end\\", "\\\n",
	  "\t", "\t\t", "\r\n", "\n", "\r", "line1\nline2\r\nline3\n", " lead", "trail ",
	  "é", "東京都渋谷区", "😀", "\u2028\u2029", "\ufeff", "\ufffd", ([1114111] | implode),
	  "O'\''Brien \"q\" `b` $x %s", "{\"not\": [\"json\"]}",
	  ("\t\\\n😀é\r\u0001" * 30000), ("x" * 200000), ("\\" * 10000), ("\\N\t" * 5000)
	]'
}

# The stream: each string as a record twice (as jq writes UTF-8, then with
# every non-ASCII character \u-escaped), records of numbers, booleans and
# JSON values written by hand (the digits as given, raw tabs and a CR as
# white space), a record of nulls; no end marker.
nasty_records() {
	nasty_strings | jq -c 'to_entries[] | {id: (.key + 1), s: .value,
		n: null, b: null, f: null, ok: null, j: null, js: null}'
	nasty_strings | jq -ac 'to_entries[] | {id: (.key + 10001), s: .value,
		n: null, b: null, f: null, ok: null, j: null, js: null}'
	printf '%s\n' \
		'{"id":20001,"s":12.50,"n":123456789012345678901234567890.123456789012345678901234567890,"b":9223372036854775807,"f":1.7976931348623157e308,"ok":true,"j":{"a\tb":"x\ty\\z\"q\"\/","arr":[1,-0.5e-10,null,true,false,"\u00e9\ud83d\ude00"],"deep":[[[[{}]]]],"s":"\\N"},"js":{"a":1,"a":[ "\\.",	2 ]}}' \
		'{"id":20002,"s":"-0","n":-1E+300,"b":-9223372036854775808,"f":5e-324,"ok":false,"j":[	"\t",	{"\\":"\\\\"}	],"js":[]}' \
		'{"id":20003,"s":"1e5","n":0.0000000000000000000000000000000000000000000000000000001,"b":0,"f":-0.0,"ok":true,"j":["\r\n"],"js":[[],{}]}' \
		'{"id":20004,"s":null,"n":1e-300,"b":-1,"f":-1.5E-300,"ok":null,"j":{},"js":{ }}' \
		'{"id":20005,"s":null,"n":null,"b":null,"f":null,"ok":null,"j":null,"js":null}'
	printf '{"id":20006,"s":"[\\t]","n":99999999999999999999999999999999999999.99,"b":1,"f":1,"ok":false,"j":[1,\r2],"js":[1,\r2]}\n'
}

# The rows of rt.v that differ from the JSON lines of FILE (read as jsonb,
# not through COPY), as "id: column", and rows missing on either side.
differences() {
	gx_pg <<-SQL
	\set doc \`{ echo '['; sed '\$!s/\$/,/' "$1"; echo ']'; }\`
	CREATE TEMP TABLE want AS
	  SELECT (r->>'id')::int AS id, r FROM jsonb_array_elements(:'doc'::jsonb) r;
	SELECT coalesce(w.id, t.id) || ': ' || concat_ws(' ',
	    CASE WHEN w.id IS NULL THEN 'not in the stream' END,
	    CASE WHEN t.id IS NULL THEN 'not loaded' END,
	    CASE WHEN t.s IS DISTINCT FROM w.r->>'s' THEN 's' END,
	    CASE WHEN t.n::text IS DISTINCT FROM w.r->>'n' THEN 'n' END,
	    CASE WHEN t.b IS DISTINCT FROM (w.r->>'b')::bigint THEN 'b' END,
	    CASE WHEN t.f IS DISTINCT FROM (w.r->>'f')::float8 THEN 'f' END,
	    CASE WHEN t.ok IS DISTINCT FROM (w.r->>'ok')::boolean THEN 'ok' END,
	    CASE WHEN t.j IS DISTINCT FROM nullif(w.r->'j', 'null') THEN 'j' END,
	    CASE WHEN t.js::jsonb IS DISTINCT FROM nullif(w.r->'js', 'null') THEN 'js' END)
	FROM want w FULL JOIN rt.v t ON t.id = w.id
	WHERE w.id IS NULL OR t.id IS NULL OR t.s IS DISTINCT FROM w.r->>'s'
	   OR t.n::text IS DISTINCT FROM w.r->>'n' OR t.b IS DISTINCT FROM (w.r->>'b')::bigint
	   OR t.f IS DISTINCT FROM (w.r->>'f')::float8
	   OR t.ok IS DISTINCT FROM (w.r->>'ok')::boolean
	   OR t.j IS DISTINCT FROM nullif(w.r->'j', 'null')
	   OR t.js::jsonb IS DISTINCT FROM nullif(w.r->'js', 'null')
	ORDER BY 1;
	SQL
}

# The counts of a --stats file as "processed created updated unchanged rejected".
counts() {
	jq -r '"\(.processed) \(.created) \(.updated) \(.unchanged) \(.rejected)"' "$1"
}

@test "every nasty value reads back from PostgreSQL's COPY as its JSON line says" {
	nasty_records >"$BATS_TEST_TMPDIR/records"
	n=$(wc -l <"$BATS_TEST_TMPDIR/records")
	[ "$n" -gt 250 ]
	# and one that PostgreSQL text cannot hold: rejected, not loaded
	{
		cat "$BATS_TEST_TMPDIR/records"
		echo '{"id":30000,"s":"a\u0000b","n":null,"b":null,"f":null,"ok":null,"j":null,"js":null}'
		echo "{\"@gx\":\"end\",\"records\":$((n + 1))}"
	} >"$BATS_TEST_TMPDIR/stream"
	run gx-load --table rt.v --key id --max-errors 1 --rejects "$BATS_TEST_TMPDIR/rej" \
		--stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/stream"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "$((n + 1)) $n 0 0 1" ]
	[ "$(jq -c '[.line, .sqlstate]' "$BATS_TEST_TMPDIR/rej")" = "[$((n + 1)),\"22021\"]" ]
	run differences "$BATS_TEST_TMPDIR/records"
	echo "$output" | head -n 20
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "the nasty values loaded again are all unchanged: the staged COPY text equals the rows" {
	nasty_records >"$BATS_TEST_TMPDIR/records"
	n=$(wc -l <"$BATS_TEST_TMPDIR/records")
	echo "{\"@gx\":\"end\",\"records\":$n}" >>"$BATS_TEST_TMPDIR/records"
	gx-load --table rt.v --key id <"$BATS_TEST_TMPDIR/records"
	run gx-load --table rt.v --key id --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/records"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "$n 0 0 $n 0" ]
}
