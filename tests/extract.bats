#!/usr/bin/env bats
# gx-extract: MariaDB -> NDJSON, against a real sandbox server.

bats_require_minimum_version 1.5.0
load helpers

FIX="$BATS_TEST_DIRNAME/fixtures/extract"

setup_file() {
	gx_servers_start
	make_tables
}

teardown_file() { gx_servers_stop; }

setup() { gx_env; }

# ---- fixtures --------------------------------------------------------------

make_tables() {
	gx_my <<-'SQL'
	SET SESSION sql_mode = '';
	CREATE TABLE gxt_types (
	  id INT NOT NULL PRIMARY KEY,
	  ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT,
	  ubi BIGINT UNSIGNED, d DECIMAL(30,10), f FLOAT, db DOUBLE, y YEAR,
	  zf INT(5) ZEROFILL, b1 BIT(1), b64 BIT(64),
	  dt DATE, dtm DATETIME, dtm6 DATETIME(6), ts TIMESTAMP NULL, tm TIME,
	  vc VARCHAR(100), tx TEXT, en ENUM('a','b'), st SET('x','y'), js JSON,
	  l1 VARCHAR(20) CHARACTER SET latin1,
	  bn BINARY(4), vb VARBINARY(10), bl BLOB
	) DEFAULT CHARSET=utf8mb4;
	INSERT INTO gxt_types VALUES
	 (1, -128, -32768, -8388608, -2147483648, -9223372036854775808,
	  18446744073709551615, -12345678901234567890.0123456789, 1.5,
	  -1.7976931348623157e308, 2155, 42, b'1', 0xFFFFFFFFFFFFFFFF,
	  '0000-00-00', '0000-00-00 00:00:00', '2024-06-15 12:34:56.123456',
	  '2024-06-15 12:34:56', '-838:59:59',
	  CONCAT('q"uote', CHAR(92), ' back', CHAR(9), 'tab', CHAR(10), 'nl',
	         CHAR(13), CHAR(1), 'ctl', CHAR(0), 'nul /'),
	  '😀 東京 café', 'b', 'x,y', '{"k": [1, 2.50]}', 'café',
	  x'00ff0102', x'', x'deadbeef00'),
	 (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
	  NULL, NULL, NULL),
	 (3, 127, 0, 8388607, 2147483647, 9223372036854775807, 0,
	  0.0000000001, -0.25, 0.1, 0, 0, b'0', b'0',
	  '2022-11-00', '2022-11-00 00:00:00', '0000-00-00 00:00:00.000000',
	  '1970-01-01 00:00:01', '100:00:00', '', REPEAT('é', 20000), 'a', '',
	  '[]', 'ÿ', x'00000000', x'ff', x'');

	-- 100 rows: 10 NULL cursors (id % 10 = 1), 10 zero dates (2), a block
	-- of 41 sharing one second (3..6, and id 50), 39 spread an hour apart
	-- around it (7, 8, 9, 0). Inserted backwards, so that storage order is
	-- not the answer.
	CREATE TABLE gxt_events (
	  id INT NOT NULL PRIMARY KEY,
	  updated_at DATETIME NULL,
	  note VARCHAR(20),
	  KEY (updated_at)
	);
	INSERT INTO gxt_events
	SELECT 101 - seq,
	       CASE WHEN (101 - seq) % 10 = 1 THEN NULL
	            WHEN (101 - seq) % 10 = 2 THEN '0000-00-00 00:00:00'
	            WHEN (101 - seq) % 10 BETWEEN 3 AND 6 THEN '2024-06-15 12:34:56'
	            ELSE TIMESTAMP '2024-06-15 12:34:56' + INTERVAL (50 - CAST(seq AS SIGNED) + 1) HOUR END,
	       CONCAT('n', 101 - seq)
	  FROM seq_1_to_100;

	-- A composite key: 8 appointments x 6 services, two cursor values and
	-- some NULLs.
	CREATE TABLE gxt_pairs (
	  appointment_id INT NOT NULL,
	  service_id SMALLINT NOT NULL,
	  updated_at DATETIME NULL,
	  PRIMARY KEY (appointment_id, service_id)
	);
	INSERT INTO gxt_pairs
	SELECT a.seq, s.seq,
	       CASE WHEN (a.seq + s.seq) % 7 = 0 THEN NULL
	            WHEN a.seq % 2 = 0 THEN '2024-01-01 00:00:00'
	            ELSE '2024-01-02 00:00:00' END
	  FROM seq_1_to_8 a JOIN seq_1_to_6 s;

	CREATE TABLE gxt_skeys (
	  code VARCHAR(40) NOT NULL PRIMARY KEY,
	  updated_at DATETIME NULL
	) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
	INSERT INTO gxt_skeys VALUES
	  ('O''Brien', '2024-01-01'), (CONCAT('C:', CHAR(92), 'x'), '2024-01-01'),
	  ('café', '2024-01-01'), ('Zulu', '2024-01-01'), ('alpha', '2024-01-01'),
	  ('"quoted"', '2024-01-01'), ('東京', '2024-01-01'), ('b', NULL),
	  ('MS-00042', '2023-12-31'), ('10', '2024-01-01'), ('9', '2024-01-01');

	CREATE TABLE gxt_ref (id INT NOT NULL PRIMARY KEY, label VARCHAR(20));
	INSERT INTO gxt_ref SELECT seq * 3, CONCAT('label ', seq) FROM seq_1_to_10;

	-- Some 50 MB: more than the socket, pipe and stdio buffers hold.
	CREATE TABLE gxt_big (id INT NOT NULL PRIMARY KEY, pad VARCHAR(200));
	INSERT INTO gxt_big SELECT seq, REPEAT('x', 120) FROM seq_1_to_400000;

	-- A table that grows while its shards start.
	CREATE TABLE gxt_grow (id INT NOT NULL PRIMARY KEY, updated_at DATETIME NOT NULL);
	INSERT INTO gxt_grow SELECT seq, '2024-01-01' + INTERVAL seq MINUTE FROM seq_1_to_90;

	-- 60 small ids and 40 near 2^31.
	CREATE TABLE gxt_skew (id INT NOT NULL PRIMARY KEY);
	INSERT INTO gxt_skew SELECT seq FROM seq_1_to_60;
	INSERT INTO gxt_skew SELECT 2147483647 - seq FROM seq_0_to_39;

	-- What injected SQL would drop or empty.
	CREATE TABLE gxt_victim (id INT NOT NULL PRIMARY KEY);
	INSERT INTO gxt_victim VALUES (1), (2), (3);
	SQL
}

# ---- helpers ---------------------------------------------------------------

# The raw JSON text of member KEY in the one-line object LINE: numbers as
# written (jq 1.6 would round them through a double).
raw_member() {
	grep -oE "[{,]\"$2\":[^,}]*" <<<"$1" | head -n 1 | cut -d: -f2-
}

hex() { xxd -p | tr -d '\n' | tr 'a-f' 'A-F'; }

# The end marker of the stream in $output (its last line).
end_marker() { tail -n 1 <<<"$output"; }

# Records only (no control lines) of the stream in $output.
records() { grep -v '"@gx"' <<<"$output" || true; }

# Every line is one JSON object that jq accepts; the last is the end marker.
assert_stream() {
	local n
	n=$(printf '%s\n' "$output" | jq -c . | wc -l)
	[ "$n" -eq "$(printf '%s\n' "$output" | wc -l)" ]
	[ "$(end_marker | jq -r '."@gx"')" = end ]
	[ "$(end_marker | jq .records)" -eq "$(records | grep -c . || true)" ]
}

# resume QUERY LIMIT [OPTIONS...]: reads the window in runs of at most
# LIMIT records, each resuming after the previous end marker's "last";
# prints every record; fails unless every run exits 0 and only the final
# one says more:false. Its status is lost inside "$(resume ...)" in a test:
# assign first (got=$(resume ...)), then compare.
resume() {
	local query=$1 limit=$2 after='' out end more runs=0
	shift 2
	while :; do
		if [ -n "$after" ]; then
			out=$(gx-extract --query "$query" --limit "$limit" --after "$after" "$@" 2>/dev/null) || return 1
		else
			out=$(gx-extract --query "$query" --limit "$limit" "$@" 2>/dev/null) || return 1
		fi
		end=$(tail -n 1 <<<"$out")
		grep -v '"@gx"' <<<"$out" || true
		more=$(jq -r .more <<<"$end")
		after=$(jq -c .last <<<"$end")
		runs=$((runs + 1))
		[ "$runs" -lt 1000 ] || return 1
		[ "$more" = true ] || break
		[ "$after" != null ] || return 1
	done
}

# ---- usage -----------------------------------------------------------------

@test "--help prints the usage with an example and exits 0" {
	run gx-extract --help
	[ "$status" -eq 0 ]
	[[ $output == usage:\ gx-extract* ]]
	[[ $output == *--since* && $output == *--after* && $output == *example:* ]]
	[[ $output == *"--shard K/N"* && $output == *--shard-bounds* && $output == *--progress* ]]
	[[ $output == *"Exit status:"*"(143/130/129 in a shell)"* ]]
}

@test "--version prints the program name and version" {
	run gx-extract --version
	[ "$status" -eq 0 ]
	[[ $output =~ ^gx-extract\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "bad usage exits 1 with one message and no output on stdout" {
	run --separate-stderr gx-extract --query "$FIX/events.sql" --since 2024-02-30
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == *"--since: not YYYY-MM-DD"* ]]
	run --separate-stderr gx-extract --query "$FIX/events.sql" --entity events
	[ "$status" -eq 1 ]
	run --separate-stderr gx-extract --no-such-option
	[ "$status" -eq 1 ]
	run --separate-stderr gx-extract --query "$FIX/events.sql" --limit -1
	[ "$status" -eq 1 ]
	run --separate-stderr gx-extract --entity ../etc/passwd
	[ "$status" -eq 1 ]
	[[ $stderr == *"not an entity name"* ]]
}

@test "a malformed --after is refused before connecting" {
	for bad in '' '[' '[]' '{"a":1}' '[1,]' '[true]' '["x",01]' '["x" 1]' \
		'["x",1] x' '["unterminated,1]' '[[1]]'; do
		GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --after "$bad"
		[ "$status" -eq 1 ] || { echo "accepted: $bad"; return 1; }
		[[ $stderr == *"--after:"* ]]
	done
	# The right shape for the query: [cursor, key] here.
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --after '[1]'
	[ "$status" -eq 1 ]
	[[ $stderr == *"expected 2"* ]]
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --after '["2024-01-01",null]'
	[ "$status" -eq 1 ]
	[[ $stderr == *"a key cannot be null"* ]]
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --after '[5,1]'
	[ "$status" -eq 1 ]
	[[ $stderr == *"cursor must be a string or null"* ]]
}

@test "query files with WHERE, ORDER BY, a bare * or no @key are refused" {
	run --separate-stderr gx-extract --query "$FIX/has-where.sql"
	[ "$status" -eq 1 ]
	[[ $stderr == *"must not have WHERE"* ]]
	printf -- '-- @cursor none\n-- @key id\nSELECT id FROM gxt_ref ORDER BY id\n' >"$BATS_TEST_TMPDIR/o.sql"
	run --separate-stderr gx-extract --query "$BATS_TEST_TMPDIR/o.sql"
	[ "$status" -eq 1 ]
	printf -- '-- @cursor none\n-- @key id\nSELECT * FROM gxt_ref\n' >"$BATS_TEST_TMPDIR/s.sql"
	run --separate-stderr gx-extract --query "$BATS_TEST_TMPDIR/s.sql"
	[ "$status" -eq 1 ]
	[[ $stderr == *"t.*"* ]]
	printf -- '-- @cursor none\nSELECT id FROM gxt_ref\n' >"$BATS_TEST_TMPDIR/k.sql"
	run --separate-stderr gx-extract --query "$BATS_TEST_TMPDIR/k.sql"
	[ "$status" -eq 1 ]
	[[ $stderr == *"no -- @key"* ]]
	# WHERE inside a subquery or a string is the query's own business.
	printf -- "-- @cursor none\n-- @key id\nSELECT id, 'a WHERE b' AS w, (SELECT MAX(id) FROM gxt_ref r WHERE r.id < g.id) AS prev FROM gxt_ref g\n" >"$BATS_TEST_TMPDIR/w.sql"
	run --separate-stderr gx-extract --query "$BATS_TEST_TMPDIR/w.sql"
	[ "$status" -eq 0 ]
	[ "$(records | head -n 2 | tail -n 1)" = '{"id":6,"w":"a WHERE b","prev":3}' ]
}

# ---- values ----------------------------------------------------------------

@test "every column type is written exactly as the server sends it" {
	run --separate-stderr gx-extract --query "$FIX/types.sql"
	[ "$status" -eq 0 ]
	assert_stream
	local numeric='ti si mi i bi ubi d f db y zf b1+0 b64+0'
	local text='dt dtm dtm6 ts tm vc tx en st js l1'
	local binary='bn vb bl'
	local id line c nums want got i
	for id in 1 2 3; do
		line=$(grep -E "^\\{\"id\":$id," <<<"$output")
		# Numbers: the server's digits, unquoted; text that is not a JSON
		# number (ZEROFILL, YEAR 0) as a string; BIT as its value.
		IFS=$'\t' read -r -a nums < <(gx_my --raw -e \
			"SELECT ${numeric// /, } FROM gxt_types WHERE id = $id")
		i=0
		for c in $numeric; do
			got=$(raw_member "$line" "${c%+0}")
			if [ "${nums[i]}" = NULL ]; then
				[ "$got" = null ] || { echo "$c/$id: $got"; return 1; }
			elif [[ ${nums[i]} =~ ^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
				[ "$got" = "${nums[i]}" ] || { echo "$c/$id: $got != ${nums[i]}"; return 1; }
			else
				[ "$got" = "\"${nums[i]}\"" ] || { echo "$c/$id: $got"; return 1; }
			fi
			i=$((i + 1))
		done
		# Dates, times and text: strings with the server's bytes.
		for c in $text $binary; do
			# latin1 arrives as UTF-8: compare with the text in utf8mb4.
			if [[ " $binary " == *" $c "* ]]; then
				want=$(gx_my -e "SELECT IFNULL(HEX($c), 'NULL') FROM gxt_types WHERE id = $id")
			else
				want=$(gx_my -e "SELECT IFNULL(HEX(CONVERT($c USING utf8mb4)), 'NULL') FROM gxt_types WHERE id = $id")
			fi
			if [ "$want" = NULL ]; then
				[ "$(jq -c ".$c" <<<"$line")" = null ] || { echo "$c/$id"; return 1; }
				continue
			fi
			[ "$(jq -r ".$c | type" <<<"$line")" = string ]
			if [[ " $binary " == *" $c "* ]]; then
				got=$(jq -j ".$c" <<<"$line" | base64 -d | hex)
			else
				got=$(jq -j ".$c" <<<"$line" | hex)
			fi
			[ "$got" = "$want" ] || { echo "$c/$id: $got != $want"; return 1; }
		done
	done
	# The same, spelled out for the eye.
	line=$(grep -E '^\{"id":1,' <<<"$output")
	[[ $line == '{"id":1,"ti":-128,"si":-32768,"mi":-8388608,"i":-2147483648,"bi":-9223372036854775808,"ubi":18446744073709551615,"d":-12345678901234567890.0123456789,"f":1.5,"db":-1.7976931348623157e308,"y":2155,"zf":"00042","b1":1,"b64":18446744073709551615,"dt":"0000-00-00","dtm":"0000-00-00 00:00:00","dtm6":"2024-06-15 12:34:56.123456","ts":"2024-06-15 12:34:56","tm":"-838:59:59","vc":"q\"uote\\ back\ttab\nnl\r\u0001ctl\u0000nul /","tx":"😀 東京 café","en":"b","st":"x,y","js":"{\"k\": [1, 2.50]}","l1":"café","bn":"AP8BAg==","vb":"","bl":"3q2+7wA="}' ]]
	[[ $(grep -E '^\{"id":3,' <<<"$output") == '{"id":3,"ti":127,"si":0,"mi":8388607,"i":2147483647,"bi":9223372036854775807,"ubi":0,"d":0.0000000001,"f":-0.25,"db":0.1,"y":"0000","zf":"00000","b1":0,"b64":0,"dt":"2022-11-00","dtm":"2022-11-00 00:00:00","dtm6":"0000-00-00 00:00:00.000000","ts":"1970-01-01 00:00:01","tm":"100:00:00","vc":"",'* ]]
	[ "$(end_marker | jq .invalid_utf8)" -eq 0 ]
}

@test "invalid UTF-8 stored in the source is replaced by U+FFFD, counted and warned about" {
	# The server validates what it is given, so the bytes are planted in a
	# MyISAM data file, as corruption or an old client would leave them.
	gx_my -e "CREATE TABLE gxt_u8 (id INT NOT NULL PRIMARY KEY, v VARCHAR(20) CHARACTER SET utf8mb4 NOT NULL) ENGINE=MyISAM;
		INSERT INTO gxt_u8 VALUES (1, 'A#@1B'), (2, '#@2(x'), (3, 'ok é'); FLUSH TABLES gxt_u8;"
	perl -pi -e 's/#\@1/\xff\xfe\xfd/; s/#\@2/\xc3\xc3\xc3/' "$GX_SANDBOX_DIR/mysql/genius/gxt_u8.MYD"
	gx_my -e "FLUSH TABLES gxt_u8"
	[ "$(gx_my -e 'SELECT HEX(v) FROM gxt_u8 WHERE id = 1')" = 41FFFEFD42 ]
	run --separate-stderr gx-extract --query "$FIX/u8.sql"
	[ "$status" -eq 0 ]
	assert_stream
	[ "$(records)" = "$(printf '{"id":1,"v":"A\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdB"}\n{"id":2,"v":"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd(x"}\n{"id":3,"v":"ok \xc3\xa9"}')" ]
	[ "$(end_marker | jq .invalid_utf8)" -eq 6 ]
	[[ $stderr == *"gx-extract: warning: 6 invalid UTF-8 sequences replaced"* ]]
}

@test "a GBK character with no Unicode mapping is replaced by U+FFFD, counted and warned about, not turned into ?" {
	# GBK 0xA380 has no Unicode character: the server's own conversion
	# sends "?" for it, indistinguishable from a real "?". Row 2 holds a
	# real "?" and mappable Chinese; latin1's 0x80 is the euro sign.
	gx_my -e "CREATE TABLE gxt_gbk (id INT NOT NULL PRIMARY KEY, v VARCHAR(20) CHARACTER SET gbk,
		l VARCHAR(20) CHARACTER SET latin1) DEFAULT CHARSET=utf8mb4;
		INSERT INTO gxt_gbk VALUES (1, CONCAT('a', x'A380', 'b'), x'80'), (2, x'D6D0CEC43F', 'café'), (3, NULL, x'FF')"
	[ "$(gx_my -e 'SELECT HEX(v) FROM gxt_gbk WHERE id = 1')" = 61A38062 ]
	run --separate-stderr gx-extract --query "$FIX/gbk.sql"
	[ "$status" -eq 0 ]
	assert_stream
	[ "$(records)" = "$(printf '{"id":1,"v":"a\xef\xbf\xbdb","l":"\xe2\x82\xac"}\n{"id":2,"v":"\xe4\xb8\xad\xe6\x96\x87?","l":"caf\xc3\xa9"}\n{"id":3,"v":null,"l":"\xc3\xbf"}')" ]
	[ "$(end_marker | jq .unmappable)" -eq 1 ]
	[ "$(end_marker | jq .invalid_utf8)" -eq 0 ]
	[[ $stderr == *"gx-extract: warning: 1 characters with no Unicode mapping replaced by U+FFFD (first in column v, character set gbk)"* ]]
}

@test "--keys reads again the rows of keys outside the window, once each; a key with no row is a gone line" {
	printf '%s\n' '[7]' '[3]' '[1]' '[500]' >"$BATS_TEST_TMPDIR/keys"
	run --separate-stderr gx-extract --query "$FIX/events.sql" --since 2024-06-16 --keys "$BATS_TEST_TMPDIR/keys"
	[ "$status" -eq 0 ]
	assert_stream
	window=$(gx_my -e "SELECT count(*) FROM gxt_events WHERE updated_at IS NULL OR updated_at < '1000-01-01' OR updated_at >= '2024-06-16'")
	[ "$(end_marker | jq -c '[.records, .retried, .gone]')" = "[$((window + 2)),2,1]" ]
	# 7 and 3 are outside the window: read by key, after it; 1 (a NULL cursor) is in it
	[ "$(records | jq -r .id | grep -cx -e 7 -e 3 -e 1)" -eq 3 ]
	[ "$(records | tail -n 2 | jq -r .id | xargs)" = "3 7" ]
	[ "$(grep -c '"@gx":"gone"' <<<"$output")" -eq 1 ]
	grep -qx '{"@gx":"gone","key":\[500\]}' <<<"$output"
	# a key of the wrong shape names its line
	printf '[7]\n[1,2]\n' >"$BATS_TEST_TMPDIR/keys"
	run --separate-stderr gx-extract --query "$FIX/events.sql" --keys "$BATS_TEST_TMPDIR/keys"
	[ "$status" -eq 1 ]
	[[ $stderr == *"--keys: line 2: [1,2] has 2 values, expected 1"* ]]
}

# ---- order and windows -----------------------------------------------------

@test "rows come ordered by cursor then key, NULL cursors first, then zero dates" {
	run --separate-stderr gx-extract --ordered --query "$FIX/events.sql"
	[ "$status" -eq 0 ]
	assert_stream
	ids=$(records | jq -r .id | tr '\n' ' ')
	want=$(gx_my -e "SELECT id FROM gxt_events ORDER BY updated_at IS NOT NULL, updated_at, id" | tr '\n' ' ')
	[ "$ids" = "$want" ]
	[[ $ids == "1 11 21 31 41 51 61 71 81 91 2 12 22 32 42 52 62 72 82 92 "* ]]
	[ "$(end_marker | jq -c .last)" = '["2024-06-17 14:34:56",100]' ]
	[ "$(end_marker | jq .null_cursor)" -eq 20 ]
	[ "$(end_marker | jq .records)" -eq 100 ]
}

@test "--since reads cursor >= since plus every NULL and zero-date cursor, and counts those" {
	run --separate-stderr gx-extract --query "$FIX/events.sql" --since '2024-06-15 12:34:56'
	[ "$status" -eq 0 ]
	assert_stream
	# 10 NULL + 10 zero + 41 in the block + 20 after it.
	[ "$(end_marker | jq .records)" -eq 81 ]
	[ "$(end_marker | jq .null_cursor)" -eq 20 ]
	[ "$(end_marker | jq -r .since)" = '2024-06-15 12:34:56' ]
	before=$(records | jq -r 'select(.updated_at != null and .updated_at > "1000" and .updated_at < "2024-06-15 12:34:56") | .id')
	[ -z "$before" ]
	# A date alone means its midnight.
	run --separate-stderr gx-extract --query "$FIX/events.sql" --since 2024-06-16
	[ "$(end_marker | jq .records)" -eq $((20 + 16)) ]
}

@test "--until reads dated rows with cursor < until: NULLs, zero dates and later rows out" {
	run --separate-stderr gx-extract --query "$FIX/events.sql" --until '2024-06-15 12:34:56'
	[ "$status" -eq 0 ]
	assert_stream
	# 19 spread before the block; undated rows have no place in a bounded window.
	[ "$(end_marker | jq .records)" -eq 19 ]
	[ "$(records | jq -r 'select(.updated_at == null)' | wc -l)" -eq 0 ]
	[ "$(records | jq -r 'select(.updated_at < "1000")' | wc -l)" -eq 0 ]
	[ "$(records | jq -r 'select(.updated_at >= "2024-06-15 12:34:56")' | wc -l)" -eq 0 ]
	[ "$(end_marker | jq -r .until)" = '2024-06-15 12:34:56' ]
}

@test "--since and --until together read the half-open window" {
	run --separate-stderr gx-extract --query "$FIX/events.sql" \
		--since '2024-06-15 02:34:56' --until '2024-06-15 22:34:56.000000'
	[ "$status" -eq 0 ]
	assert_stream
	# 41 block + 40, 47..49, 57..59 (undated rows are out of a bounded window).
	[ "$(records | jq -r .id | sort -n | tr '\n' ' ')" = \
		"$(for i in $(seq 1 100); do case $((i % 10)) in 3 | 4 | 5 | 6) echo "$i" ;; esac; done |
			cat - <(printf '%s\n' 40 47 48 49 50 57 58 59) | sort -n | tr '\n' ' ')" ]
}

@test "--limit splits a block of equal cursors and --after resumes with nothing lost or repeated" {
	run --separate-stderr gx-extract --ordered --query "$FIX/events.sql"
	full=$(records)
	for n in 1 7 10 41 99 100 1000; do
		got=$(resume "$FIX/events.sql" "$n")
		[ "$got" = "$full" ] || { echo "limit $n differs"; return 1; }
	done
	# The same inside a --since window, whose NULLs come first.
	run --separate-stderr gx-extract --ordered --query "$FIX/events.sql" --since 2024-06-15
	full=$(records)
	got=$(resume "$FIX/events.sql" 6 --since 2024-06-15)
	[ "$got" = "$full" ]
}

@test "--after a NULL cursor resumes among the NULLs, then reads every dated row" {
	run --separate-stderr gx-extract --ordered --query "$FIX/events.sql" --after '[null,51]'
	[ "$status" -eq 0 ]
	assert_stream
	[ "$(records | head -n 5 | jq -r .id | tr '\n' ' ')" = '61 71 81 91 2 ' ]
	[ "$(end_marker | jq .records)" -eq 94 ]
	[ "$(end_marker | jq -c .after)" = '[null,51]' ]
}

@test "--after a zero-date cursor resumes among the zero dates" {
	run --separate-stderr gx-extract --query "$FIX/events.sql" --after '["0000-00-00 00:00:00",82]' --limit 3
	[ "$status" -eq 0 ]
	[ "$(records | jq -r .id | tr '\n' ' ')" = '92 7 8 ' ]
	[ "$(end_marker | jq -c .last)" = '["2024-06-13 18:34:56",8]' ]
	[ "$(end_marker | jq .more)" = true ]
}

@test "--after with a composite key resumes inside a block of equal cursors" {
	run --separate-stderr gx-extract --ordered --query "$FIX/pairs.sql"
	[ "$status" -eq 0 ]
	full=$(records)
	[ "$(end_marker | jq .records)" -eq 48 ]
	for n in 1 4 5 47; do
		got=$(resume "$FIX/pairs.sql" "$n")
		[ "$got" = "$full" ] || { echo "limit $n"; return 1; }
	done
	run --separate-stderr gx-extract --query "$FIX/pairs.sql" --after '["2024-01-01 00:00:00",4,3]' --limit 3
	[ "$(records)" = $'{"appointment_id":4,"service_id":4,"updated_at":"2024-01-01 00:00:00"}\n{"appointment_id":4,"service_id":5,"updated_at":"2024-01-01 00:00:00"}\n{"appointment_id":4,"service_id":6,"updated_at":"2024-01-01 00:00:00"}' ]
	[ "$(end_marker | jq -c .last)" = '["2024-01-01 00:00:00",4,6]' ]
}

@test "--after with string keys resumes in the server's collation order, quotes and all" {
	run --separate-stderr gx-extract --ordered --query "$FIX/skeys.sql"
	[ "$status" -eq 0 ]
	full=$(records)
	[ "$(end_marker | jq .records)" -eq 11 ]
	got=$(resume "$FIX/skeys.sql" 1)
	[ "$got" = "$full" ]
	got=$(resume "$FIX/skeys.sql" 2)
	[ "$got" = "$full" ]
	run --separate-stderr gx-extract --query "$FIX/skeys.sql" --limit 1 --after '["2024-01-01 00:00:00","O'"'"'Brien"]'
	[ "$(end_marker | jq -c .last)" = '["2024-01-01 00:00:00","Zulu"]' ]
}

@test "--limit says more:true when rows remain and more:false when the window is exhausted" {
	run --separate-stderr gx-extract --query "$FIX/events.sql" --limit 99
	[ "$(end_marker | jq -c '[.records, .limit, .more]')" = '[99,99,true]' ]
	run --separate-stderr gx-extract --query "$FIX/events.sql" --limit 100
	[ "$(end_marker | jq -c '[.records, .limit, .more]')" = '[100,100,false]' ]
	run --separate-stderr gx-extract --query "$FIX/events.sql"
	[ "$(end_marker | jq -c '[.records, .limit, .more]')" = '[100,null,false]' ]
	# --limit 0 reads nothing but still says whether anything is there.
	run --separate-stderr gx-extract --query "$FIX/events.sql" --limit 0
	[ "$status" -eq 0 ]
	[ "$(end_marker | jq -c '[.records, .more, .last]')" = '[0,true,null]' ]
	run --separate-stderr gx-extract --query "$FIX/events.sql" --limit 0 --after '["2024-06-17 14:34:56",100]'
	[ "$(end_marker | jq -c '[.records, .more, .last]')" = '[0,false,null]' ]
}

@test "@cursor none orders by the keys, resumes by keys alone and refuses --since" {
	run --separate-stderr gx-extract --query "$FIX/ref.sql" --limit 4 --after '[9]'
	[ "$status" -eq 0 ]
	[ "$(records | jq -r .id | tr '\n' ' ')" = '12 15 18 21 ' ]
	[ "$(end_marker | jq -c '[.last, .more, .null_cursor]')" = '[[21],true,0]' ]
	got=$(resume "$FIX/ref.sql" 3)
	[ "$got" = "$(gx-extract --query "$FIX/ref.sql" 2>/dev/null | grep -v '"@gx"')" ]
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/ref.sql" --since 2024-01-01
	[ "$status" -eq 1 ]
	[[ $stderr == *"@cursor none"* ]]
}

@test "@where conditions are ANDed with the window" {
	run --separate-stderr gx-extract --ordered --query "$FIX/filtered.sql" --since 2024-06-15
	[ "$status" -eq 0 ]
	assert_stream
	[ "$(records | jq -r .id | tr '\n' ' ')" = '1 11 2 12 3 4 6 13 14 15 16 ' ]
	[ "$(end_marker | jq -r .entity)" = filtered ]
}

@test "the end marker carries entity, source clock, window, last and counts" {
	gx_my -e "SELECT 1" >/dev/null
	before=$(gx_my -e "SELECT NOW(6)")
	run --separate-stderr gx-extract --query "$FIX/events.sql" --since 2024-06-16 \
		--after '[null,91]' --limit 5
	after=$(gx_my -e "SELECT NOW(6)")
	[ "$status" -eq 0 ]
	assert_stream
	end=$(end_marker)
	[ "$(jq -c 'del(.clock, .instant, .origin, .blind)' <<<"$end")" = '{"@gx":"end","records":5,"entity":"events","time_zone":"+00:00","since":"2024-06-16","until":null,"after":[null,91],"limit":5,"more":true,"last":["0000-00-00 00:00:00",42],"null_cursor":5,"invalid_utf8":0,"unmappable":0,"retried":0,"gone":0,"shard":null,"shard_bounds":null,"since_instant":null,"cursor_tz":null,"late_rows":0,"future_cursor":0,"probe":null}' ]
	# the instant is the clock's moment, and the origin no later than it
	[ "$(jq -r '(.instant | floor) - .origin >= 0' <<<"$end")" = true ]
	clock=$(jq -r .clock <<<"$end")
	[[ $clock =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$ ]]
	[[ ! $clock < $before && ! $clock > $after ]]
	[ "$(jq -r 'keys_unsorted | join(" ")' <<<"$end")" = '@gx records entity clock time_zone since until after limit more last null_cursor invalid_utf8 unmappable retried gone shard shard_bounds instant origin since_instant cursor_tz late_rows future_cursor blind probe' ]
	[[ $stderr =~ gx-extract:\ 5\ records\ in\ [0-9]+\.[0-9]{2}\ s\ \([0-9]+\ rows/s\) ]]
}

# ---- shards ----------------------------------------------------------------

# shards N QUERY [OPTIONS...]: runs shards 1/N .. N/N of the window (with
# --shard-bounds $BOUNDS when set) and prints their records, shard after
# shard; fails unless every shard exits 0 with an end marker that names it,
# and all of them used the same bounds.
shards() {
	local n=$1 query=$2 k out shard b bounds=
	shift 2
	for k in $(seq "$n"); do
		out=$(gx-extract --query "$query" --shard "$k/$n" ${BOUNDS:+--shard-bounds "$BOUNDS"} \
			"$@" 2>/dev/null) || return 1
		read -r shard b < <(tail -n 1 <<<"$out" | jq -r '"\(.shard) \(.shard_bounds | tojson)"')
		[ "$shard" = "$k/$n" ] || return 1
		[ -z "$bounds" ] || [ "$b" = "$bounds" ] || return 1
		bounds=$b
		grep -v '"@gx"' <<<"$out" || true
	done
}

# same_rows QUERY N [OPTIONS...]: the N shards hold exactly the rows of the
# unsharded window: the same lines, none twice, none missing.
same_rows() {
	local query=$1 n=$2 full got
	shift 2
	full=$(gx-extract --query "$query" "$@" 2>/dev/null | grep -v '"@gx"' | sort)
	got=$(shards "$n" "$query" "$@") || return 1
	got=$(sort <<<"$got")
	[ -n "$full" ] || return 1
	[ "$got" = "$full" ] || { echo "$query $* in $n shards differs"; return 1; }
	[ -z "$(uniq -d <<<"$got")" ]
}

@test "--shard K/N for N = 1..4: the shards together are the unsharded window, each row once" {
	local n
	for n in 1 2 3 4; do
		same_rows "$FIX/events.sql" "$n"
		same_rows "$FIX/events.sql" "$n" --since '2024-06-15 12:34:56'
		same_rows "$FIX/events.sql" "$n" --since 2024-06-15 --until 2024-06-16
		same_rows "$FIX/pairs.sql" "$n"
		same_rows "$FIX/ref.sql" "$n"
	done
	same_rows "$FIX/events.sql" 3 --until 2024-06-16
	same_rows "$FIX/filtered.sql" 3 --since 2024-06-15
	# Each shard keeps the (cursor, key) order of the whole.
	full=$(gx-extract --query "$FIX/events.sql" 2>/dev/null | grep -v '"@gx"')
	for k in 1 2 3; do
		part=$(gx-extract --query "$FIX/events.sql" --shard "$k/3" 2>/dev/null | grep -v '"@gx"')
		[ "$part" = "$(grep -Fxf <(echo "$part") <<<"$full")" ]
	done
}

@test "an integer first key is split into half-open ranges of as many rows each" {
	run --separate-stderr gx-extract --query "$FIX/events.sql" --shard 2/4 --debug
	[ "$status" -eq 0 ]
	assert_stream
	[ "$(end_marker | jq -c '[.records, .shard, .shard_bounds]')" = '[25,"2/4",[26,51,76]]' ]
	[ "$(records | jq -r .id | sort -n | tr '\n' ' ')" = "$(seq 26 50 | tr '\n' ' ')" ]
	# A range of the key itself: an index range scan.
	[[ $stderr == *"shard: SELECT e.id FROM gxt_events e"* ]]
	[[ $stderr == *"WHERE ((e.id) >= 26 AND (e.id) < 51)"* ]]
	for k in 1 3 4; do
		run --separate-stderr gx-extract --query "$FIX/events.sql" --shard "$k/4"
		[ "$(end_marker | jq .records)" -eq 25 ]
	done
	# The first shard is open below and the last above.
	run --separate-stderr gx-extract --query "$FIX/ref.sql" --shard 1/3 --debug
	[[ $stderr == *"WHERE ((id) < 12)"* ]]
	[ "$(end_marker | jq -c '[.records, .shard_bounds]')" = '[3,[12,21]]' ]
	run --separate-stderr gx-extract --query "$FIX/ref.sql" --shard 3/3 --debug
	[[ $stderr == *"WHERE ((id) >= 21)"* ]]
	# One shard of one is the whole window, with no condition and no bounds.
	run --separate-stderr gx-extract --query "$FIX/ref.sql" --shard 1/1 --debug
	[ "$(end_marker | jq -c '[.records, .shard, .shard_bounds]')" = '[10,"1/1",[]]' ]
	[[ $stderr != *"shard: SELECT"* ]]
	# Keys far apart do not make shards uneven: 60 small ids and 40 near
	# 2^31 give 25 rows a shard, not 60 in the first and 40 in the last.
	for k in 1 2 3 4; do
		run --separate-stderr gx-extract --query "$FIX/skew.sql" --shard "$k/4"
		[ "$(end_marker | jq -c '[.records, .shard_bounds]')" = '[25,[26,51,2147483623]]' ]
	done
	same_rows "$FIX/skew.sql" 4
	# Past the 4096 keys the sample holds, the bounds stay within a stride
	# (here 128 keys) of the exact ones.
	total=0
	for k in 1 2 3 4; do
		end=$(gx-extract --query "$FIX/big.sql" --shard "$k/4" 2>/dev/null | tail -n 1)
		[ "$(jq -c .shard_bounds <<<"$end")" = '[99969,199937,299905]' ]
		n=$(jq .records <<<"$end")
		[ "$n" -ge 99872 ]
		[ "$n" -le 100128 ]
		total=$((total + n))
	done
	[ "$total" -eq 400000 ]
	# An empty window splits at 0.
	run --separate-stderr gx-extract --query "$FIX/events.sql" --shard 2/3 --since 2024-06-15 --until 2024-06-15
	[ "$(end_marker | jq -c '[.records, .shard_bounds]')" = '[0,[0,0]]' ]
}

@test "each shard resumes on its own with --after and --limit" {
	full=$(gx-extract --query "$FIX/events.sql" --since 2024-06-15 2>/dev/null | grep -v '"@gx"' | sort)
	got=$(for k in 1 2 3; do resume "$FIX/events.sql" 7 --since 2024-06-15 --shard "$k/3" || exit 1; done)
	[ "$(sort <<<"$got")" = "$full" ]
	full=$(gx-extract --query "$FIX/pairs.sql" 2>/dev/null | grep -v '"@gx"' | sort)
	got=$(for k in 1 2; do resume "$FIX/pairs.sql" 5 --shard "$k/2" || exit 1; done)
	[ "$(sort <<<"$got")" = "$full" ]
	run --separate-stderr gx-extract --query "$FIX/events.sql" --shard 4/4 --limit 3 --after '["2024-06-15 12:34:56",90]'
	[ "$(end_marker | jq -c '[.records, .last, .more, .shard]')" = '[3,["2024-06-15 12:34:56",95],true,"4/4"]' ]
}

@test "a string first key is sharded by MOD(CRC32(key), N) = K-1, without bounds" {
	for n in 1 2 3 4; do
		same_rows "$FIX/skeys.sql" "$n"
		same_rows "$FIX/skeys.sql" "$n" --since 2024-01-01
	done
	for k in 1 2 3; do
		run --separate-stderr gx-extract --query "$FIX/skeys.sql" --shard "$k/3" --debug
		[ "$status" -eq 0 ]
		[[ $stderr == *"MOD(CRC32(s.code), 3) = $((k - 1))"* ]]
		[ "$(end_marker | jq -c '[.shard, .shard_bounds]')" = "[\"$k/3\",null]" ]
		[ "$(records | jq -r .code | sort)" = \
			"$(gx_my --raw -e "SELECT code FROM gxt_skeys WHERE MOD(CRC32(code), 3) = $((k - 1))" | sort)" ]
	done
}

@test "--shard-bounds pins the ranges, so shards that start while the table grows still read each row once" {
	# Bounds taken once, from a run that reads nothing.
	run --separate-stderr gx-extract --query "$FIX/grow.sql" --shard 1/3 --limit 0
	[ "$status" -eq 0 ]
	bounds=$(end_marker | jq -c .shard_bounds)
	[ "$bounds" = '[31,61]' ]
	gx_my -e "INSERT INTO gxt_grow SELECT seq, '2024-02-01' + INTERVAL seq MINUTE FROM seq_91_to_300"
	# Computed now, they have moved: shard 1 of then and 2 of now would
	# leave out ids 31..100.
	run --separate-stderr gx-extract --query "$FIX/grow.sql" --shard 2/3 --limit 0
	[ "$(end_marker | jq -c .shard_bounds)" = '[101,201]' ]
	# Pinned, the last shard takes every new key.
	BOUNDS=$bounds same_rows "$FIX/grow.sql" 3
	run --separate-stderr gx-extract --query "$FIX/grow.sql" --shard 3/3 --shard-bounds "$bounds"
	[ "$(end_marker | jq -c '[.records, .shard_bounds]')" = '[240,[31,61]]' ]
	# Bounds may repeat (an empty shard) and need not lie within the keys.
	BOUNDS='[-5,50,50]' same_rows "$FIX/grow.sql" 4
	run --separate-stderr gx-extract --query "$FIX/grow.sql" --shard 3/4 --shard-bounds '[-5, 50, 50]'
	[ "$(end_marker | jq -c '[.records, .shard_bounds]')" = '[0,[-5,50,50]]' ]
	gx_my -e "DELETE FROM gxt_grow WHERE id > 90"
}

@test "bad --shard and --shard-bounds values are refused before connecting" {
	for bad in 0/3 4/3 x 3 /3 3/ 1/0 0/0 -1/3 +1/3 '1 /3' ' 1/3' 1/3/4 1.5/3 1/5000 ''; do
		GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --shard "$bad"
		[ "$status" -eq 1 ] || { echo "accepted: '$bad'"; return 1; }
		[[ $stderr == "gx-extract: --shard: not K/N with 1 <= K <= N <= 4096: '$bad'" ]]
	done
	for bad in '[3,2]' '[1]' '[1,2,3]' '[1,x]' '1,2' '[1.5,2]' '[1,2] x' '[01,2]' '[1,,2]' \
		'[18446744073709551616,1]' '[-9223372036854775809,1]' '[1,2); DROP TABLE gxt_victim; --]' ''; do
		GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --shard 2/3 --shard-bounds "$bad"
		[ "$status" -eq 1 ] || { echo "accepted: '$bad'"; return 1; }
		[[ $stderr == "gx-extract: --shard-bounds: "* ]]
	done
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --shard 2/3 --shard-bounds '[-9223372036854775808, 18446744073709551615]'
	[ "$status" -eq 2 ]
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --shard-bounds '[1]'
	[ "$status" -eq 1 ]
	[[ $stderr == *"--shard-bounds needs --shard K/N"* ]]
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --now --shard 1/2
	[ "$status" -eq 1 ]
	# Hash shards have no bounds to pin.
	run --separate-stderr gx-extract --query "$FIX/skeys.sql" --shard 1/2 --shard-bounds '[5]'
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == *"--shard-bounds: the first key s.code is not an integer"* ]]
}

# ---- progress --------------------------------------------------------------

@test "--progress writes progress lines to stderr, never stdout; on by default only on a terminal" {
	local t=$BATS_TEST_TMPDIR slow='{ sleep 2.5; cat >/dev/null; }'
	command -v script >/dev/null || skip "script(1) is not installed"
	# Three slow readers side by side: forced, default on a file, and
	# default and --no-progress on a terminal.
	{ gx-extract --query "$FIX/big.sql" --progress=1 2>"$t/forced.err" | { sleep 1.5; cat; } >"$t/forced.out"; } &
	{ gx-extract --query "$FIX/big.sql" 2>"$t/file.err" | { sleep 2.5; cat >/dev/null; }; } &
	script -qfec "gx-extract --query '$FIX/big.sql' | $slow" /dev/null </dev/null >"$t/tty.err" &
	script -qfec "gx-extract --query '$FIX/big.sql' --no-progress | $slow" /dev/null </dev/null >"$t/off.err" &
	wait
	grep -qE '^gx-extract: progress: [0-9]+ records in [0-9]+\.[0-9] s \([0-9]+ rows/s\)$' "$t/forced.err"
	tail -n 1 "$t/forced.err" | grep -qE '^gx-extract: 400000 records in '
	grep -qE '^gx-extract: progress: [0-9]+ records in ' "$t/tty.err"
	[ "$(grep -c progress "$t/file.err")" -eq 0 ]
	grep -q '^gx-extract: 400000 records in ' "$t/file.err"	# (the run itself went well)
	[ "$(grep -c progress "$t/off.err")" -eq 0 ]
	grep -q '400000 records in' "$t/off.err"
	# The stream itself is untouched.
	[ "$(grep -c . "$t/forced.out")" -eq 400001 ]
	[ "$(grep -c progress "$t/forced.out")" -eq 0 ]
	[ "$(tail -n 1 "$t/forced.out" | jq -c '[.records, .more]')" = '[400000,false]' ]
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --progress=0
	[ "$status" -eq 1 ]
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --query "$FIX/events.sql" --progress=x
	[ "$status" -eq 1 ]
}

# ---- injection -------------------------------------------------------------

@test "entity names, query paths, --after, --since and --until values cannot inject SQL" {
	local t=$BATS_TEST_TMPDIR drop="'; DROP TABLE gxt_victim; --" v evil
	# As root, who could drop the table: only quoting stands in the way.
	as_root() {
		GENIUS_DB_USER=root GENIUS_DB_HOST=localhost GENIUS_DB_SOCKET="$GX_MYSQL_SOCKET" \
			GENIUS_DB_PASSWORD='' GENIUS_DB_PORT='' "$@"
	}
	run --separate-stderr as_root gx-extract --query "$FIX/ref.sql" --debug
	[ "$status" -eq 0 ]
	[[ $stderr == *"as root"* ]]
	for v in "x$drop" 'a\b' 'a b' "a'b" 'gxt_victim;' '$(id)' "a\"b"; do
		run --separate-stderr as_root gx-extract --entity "$v"
		[ "$status" -eq 1 ] || { echo "entity accepted: $v"; return 1; }
		[[ $stderr == *"not an entity name"* ]]
	done
	for v in "2024-01-01$drop" "2024-01-01' OR '1'='1" '2024-01-01\' $'2024-01-01\n' \
		"2024-01-01 00:00:00'" "2024-01-01 00:00:00.1234567"; do
		run --separate-stderr as_root gx-extract --query "$FIX/events.sql" --since "$v"
		[ "$status" -eq 1 ] || { echo "--since accepted: $v"; return 1; }
		run --separate-stderr as_root gx-extract --query "$FIX/events.sql" --until "$v"
		[ "$status" -eq 1 ] || { echo "--until accepted: $v"; return 1; }
	done
	for v in "[null,1$drop]" '[null,1) OR (1=1]' '["2024-01-01",1 OR 1]' '["2024-01-01",0x41]'; do
		run --separate-stderr as_root gx-extract --query "$FIX/events.sql" --after "$v"
		[ "$status" -eq 1 ] || { echo "--after accepted: $v"; return 1; }
	done
	# Strings are quoted: each compares as the text it is.
	for v in "x$drop" "' OR '1'='1" 'back\\' 'nul\u0000x' "\\\\'); DROP TABLE gxt_victim; --" 'é\"'; do
		run --separate-stderr as_root gx-extract --query "$FIX/skeys.sql" --after "[\"2024-01-01 00:00:00\",\"$v\"]"
		[ "$status" -eq 0 ] || { echo "--after failed: $v"; return 1; }
		assert_stream
		hex=$(jq -j '.[1]' <<<"[\"\",\"$v\"]" | xxd -p | tr -d '\n')
		want=$(gx_my -e "SELECT COUNT(*) FROM gxt_skeys WHERE updated_at > '2024-01-01'
			OR (updated_at = '2024-01-01' AND code > CONVERT(X'$hex' USING utf8mb4) COLLATE utf8mb4_unicode_ci)")
		[ "$(end_marker | jq .records)" -eq "$want" ] || { echo "$v: $(end_marker | jq .records) != $want"; return 1; }
		[ "$(end_marker | jq -c '.after[1]')" = "$(jq -c '.[1]' <<<"[\"\",\"$v\"]")" ]
	done
	# A query file's name is only a name: the end marker quotes it as JSON.
	evil="$t/evil$drop \"quoted\" \\.sql"
	cp "$FIX/ref.sql" "$evil"
	run --separate-stderr as_root gx-extract --query "$evil"
	[ "$status" -eq 0 ]
	assert_stream
	[ "$(end_marker | jq -r .entity)" = "evil$drop \"quoted\" \\" ]
	[ "$(gx_my -e 'SELECT COUNT(*) FROM gxt_victim')" -eq 3 ]
}

# ---- the source ------------------------------------------------------------

@test "--now prints the source clock and time zones as one JSON line, session zone untouched" {
	run --separate-stderr gx-extract --now
	[ "$status" -eq 0 ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	[ "$(jq -r '."@gx"' <<<"$output")" = now ]
	[[ $(jq -r .now <<<"$output") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}$ ]]
	[ "$(jq -r .time_zone <<<"$output")" = "$(gx_my -e 'SELECT @@global.time_zone')" ]
	[ "$(jq -r .system_time_zone <<<"$output")" = "$(gx_my -e 'SELECT @@system_time_zone')" ]
	[ "$(jq -r 'keys_unsorted | join(" ")' <<<"$output")" = '@gx now time_zone system_time_zone' ]
}

@test "a wrong password exits 2 with one line naming host, port and user, never the password" {
	GENIUS_DB_PASSWORD='Wr0ng-S3cret' run --separate-stderr gx-extract --query "$FIX/events.sql" --debug
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "$(grep -vc ': debug: ' <<<"$stderr")" -eq 1 ]
	[[ $stderr == *"gx-extract: cannot connect to MySQL at $GENIUS_DB_HOST:$GENIUS_DB_PORT as $GENIUS_DB_USER: Access denied"* ]]
	[[ $stderr != *Wr0ng-S3cret* ]]
	[[ $stderr != *"$GENIUS_DB_PASSWORD"* ]]
	GENIUS_DB_PORT=1 run --separate-stderr gx-extract --now
	[ "$status" -eq 2 ]
	[[ $stderr == "gx-extract: cannot connect to MySQL at $GENIUS_DB_HOST:1 as genius: "* ]]
}

@test "--debug logs the settings and the final SQL, never the password" {
	run --separate-stderr gx-extract --query "$FIX/events.sql" --since 2024-06-16 --limit 2 --debug
	[ "$status" -eq 0 ]
	[[ $stderr == *"SET SESSION net_write_timeout = 86400"* ]]
	[[ $stderr == *"SELECT e.updated_at, e.id, e.id, e.updated_at, e.note"* ]]
	[[ $stderr == *"WHERE (e.updated_at IS NULL OR e.updated_at < '1000-01-01' OR e.updated_at >= '2024-06-16')"* ]]
	[[ $stderr == *"ORDER BY 1, 2"*"LIMIT 3"* ]]
	[[ $stderr != *"$GENIUS_DB_PASSWORD"* ]]
	[[ $output != *"$GENIUS_DB_PASSWORD"* ]]
}

@test "an option file supplies the connection and the environment overrides it" {
	local cnf="$GX_SB/genius.cnf"
	run --separate-stderr env -u GENIUS_DB_HOST -u GENIUS_DB_PORT -u GENIUS_DB_USER \
		-u GENIUS_DB_PASSWORD -u GENIUS_DB_NAME gx-extract --defaults-file "$cnf" --query "$FIX/ref.sql"
	[ "$status" -eq 0 ]
	[ "$(end_marker | jq .records)" -eq 10 ]
	run --separate-stderr env -u GENIUS_DB_HOST -u GENIUS_DB_PORT -u GENIUS_DB_USER \
		-u GENIUS_DB_PASSWORD -u GENIUS_DB_NAME GENIUS_DB_OPTION_FILE="$cnf" gx-extract --now
	[ "$status" -eq 0 ]
	# The environment wins over the file.
	GENIUS_DB_PASSWORD=nope run --separate-stderr gx-extract --defaults-file "$cnf" --now
	[ "$status" -eq 2 ]
	[[ $stderr == *"Access denied"* && $stderr != *nope* ]]
	# Settings that come from the file are named from the file.
	sed 's/^password=.*/password=not-it/' "$cnf" >"$BATS_TEST_TMPDIR/bad.cnf"
	run --separate-stderr env -u GENIUS_DB_HOST -u GENIUS_DB_PORT -u GENIUS_DB_USER \
		-u GENIUS_DB_PASSWORD gx-extract --defaults-file "$BATS_TEST_TMPDIR/bad.cnf" --now
	[ "$status" -eq 2 ]
	[[ $stderr == "gx-extract: cannot connect to MySQL at 127.0.0.1:$GENIUS_DB_PORT as genius: Access denied"* ]]
	[[ $stderr != *not-it* ]]
	run --separate-stderr gx-extract --defaults-file "$BATS_TEST_TMPDIR/missing.cnf" --now
	[ "$status" -eq 1 ]
}

@test "an unknown table exits 2 with the server's message and no end marker" {
	run --separate-stderr gx-extract --query "$FIX/no-table.sql"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ $stderr == *"gxt_no_such_table"*"doesn't exist"* ]]
}

@test "a stream the server cuts mid-way exits 2 and writes no end marker" {
	local t=$BATS_TEST_TMPDIR
	{
		rc=0
		gx-extract --query "$FIX/big.sql" 2>"$t/err" || rc=$?
		echo "$rc" >"$t/rc"
	} | {
		# Not reading yet: the server stalls on a full socket, still
		# sending, when we kill its connection.
		id=
		for _ in $(seq 100); do
			id=$(gx_my -e "SELECT id FROM information_schema.processlist
				WHERE user = 'genius' AND command = 'Query' LIMIT 1")
			[ -n "$id" ] && break
			sleep 0.1
		done
		if [ -n "$id" ]; then gx_my -e "KILL CONNECTION $id"; fi
		cat >"$t/out"
	}
	[ "$(cat "$t/rc")" -eq 2 ]
	[ "$(grep -c . "$t/err")" -eq 1 ]
	grep -q 'gx-extract: query failed after [0-9]* records: ' "$t/err"
	[ "$(grep -c '"@gx"' "$t/out")" -eq 0 ]
	n=$(wc -l <"$t/out")
	[ "$n" -gt 1000 ]
	[ "$n" -lt 400000 ]
	# Only whole records were written.
	[ "$(tail -c 1 "$t/out" | od -An -c | tr -d ' ')" = '\n' ]
}

@test "a slow reader does not make the server drop the stream" {
	# New sessions would give up on a stalled write after 1 s.
	gx_my -e "SET GLOBAL net_write_timeout = 1"
	run bash -c 'gx-extract --query "$1" 2>/dev/null | { sleep 4; cat; } | tail -n 1' _ "$FIX/big.sql"
	gx_my -e "SET GLOBAL net_write_timeout = 60"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.records, .more]' <<<"$output")" = '[400000,false]' ]
}

@test "a reader that stops early ends gx-extract quietly with status 0" {
	run bash -c 'gx-extract --query "$1" 2>&1 | head -n 2; echo "status ${PIPESTATUS[0]}"' _ "$FIX/big.sql"
	[ "$(tail -n 1 <<<"$output")" = 'status 0' ]
	[ "$(wc -l <<<"$output")" -eq 3 ]
}

# ---- entities --------------------------------------------------------------

@test "--entity finds NAME.sql in ../extract/queries beside the binary, or in GX_QUERIES" {
	local t=$BATS_TEST_TMPDIR
	mkdir -p "$t/gx/bin" "$t/gx/extract/queries" "$t/other" "$t/links"
	cp "$GX_BIN/gx-extract" "$t/gx/bin/"
	cp "$FIX/ref.sql" "$t/gx/extract/queries/refs.sql"
	ln -s "$t/gx/bin/gx-extract" "$t/links/gx-extract"
	run --separate-stderr env -u GX_QUERIES "$t/links/gx-extract" --entity refs --limit 1
	[ "$status" -eq 0 ]
	[ "$(end_marker | jq -c '[.entity, .records]')" = '["refs",1]' ]
	head -n 3 "$FIX/events.sql" >"$t/other/refs.sql"
	echo 'SELECT e.id FROM gxt_events e' >>"$t/other/refs.sql"
	GX_QUERIES="$t/other" run --separate-stderr "$t/gx/bin/gx-extract" --entity refs
	[ "$status" -eq 0 ]
	[ "$(end_marker | jq .records)" -eq 100 ]
	GX_QUERIES="$t/other" run --separate-stderr "$t/gx/bin/gx-extract" --entity nothing
	[ "$status" -eq 1 ]
	[[ $stderr == *"$t/other/nothing.sql"* ]]
}

@test "the appointments query reads the sample data, with hubspot ids only from hubspot sources" {
	gx_sample 200
	GX_QUERIES="$GX_ROOT/extract/queries" run --separate-stderr gx-extract --ordered --entity appointments
	[ "$status" -eq 0 ]
	assert_stream
	[ "$(end_marker | jq -c '[.entity, .records, .more]')" = '["appointments",200,false]' ]
	# Exactly the target's columns that come from the source, in order.
	[ "$(records | head -n 1 | jq -r 'keys_unsorted | join(" ")')" = \
		'id prospect_id prospect_source_id user_id type_id date time duration address1 address2 city state zip email notes add_user_id add_date assign_date confirm_user_id confirm_date confirm_with spouses_present is_complete complete_outcome_id complete_user_id complete_date marketsharp_id marketsharp_appt_type leap_estimate_id hubspot_appointment_id updated_at' ]
	# Whole rows, in (updated_at, id) order, against the server's own text.
	got=$(records | jq -r '[.id, .updated_at, .duration, .add_date, .hubspot_appointment_id, .email] | map(. // "NULL" | tostring) | join("\t")')
	want=$(gx_my --raw -e "SELECT a.id, IFNULL(a.updated_at, 'NULL'), IFNULL(a.duration, 'NULL'),
			IFNULL(a.add_date, 'NULL'),
			IFNULL(IF(t.label = 'hubspot', s.third_party_id, NULL), 'NULL'), IFNULL(a.email, 'NULL')
		FROM appointment a
		LEFT JOIN third_party_source s ON s.id = a.third_party_source_id
		LEFT JOIN third_party_source_type t ON t.id = s.third_party_source_type_id
		ORDER BY a.updated_at IS NOT NULL, a.updated_at, a.id")
	[ "$got" = "$want" ]
	# A MarketSharp source never lands in hubspot_appointment_id.
	[ "$(records | jq -r 'select(.hubspot_appointment_id != null) | .hubspot_appointment_id' | grep -vc '^[0-9]*$')" -eq 0 ]
	[ "$(records | jq -r 'select(.hubspot_appointment_id != null)' | grep -c .)" -gt 0 ]
	ms=$(gx_my -e "SELECT COUNT(*) FROM appointment a JOIN third_party_source s ON s.id = a.third_party_source_id WHERE s.third_party_source_type_id = 2")
	[ "$ms" -gt 0 ]
	# The same rows again in bounded runs.
	got=$(resume "$GX_ROOT/extract/queries/appointments.sql" 37)
	[ "$got" = "$(records)" ]
}

@test "a complete read is not sorted by the server, and says so: no \"last\"" {
	run --separate-stderr gx-extract --query "$FIX/events.sql" --debug
	[ "$status" -eq 0 ]
	[[ $stderr != *"ORDER BY"* ]]
	[ "$(end_marker | jq -c .last)" = null ]
	run --separate-stderr gx-extract --query "$FIX/events.sql" --limit 5 --debug
	[[ $stderr == *"ORDER BY 1, 2"* ]]
	end_marker | jq -e '.last | type == "array"'
}
