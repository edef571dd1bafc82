#!/usr/bin/env bats
# gx-load: NDJSON records -> PostgreSQL, against a real sandbox server.

bats_require_minimum_version 1.5.0
load helpers

FIX="$BATS_TEST_DIRNAME/fixtures/load"

setup_file() {
	gx_servers_start
	gx_pg -f "$GX_ROOT/load/ddl/sync_history.sql"
	gx_pg -c 'CREATE SCHEMA load_t'
}

teardown_file() { gx_servers_stop; }

setup() { gx_env; }

# ---- helpers ---------------------------------------------------------------

# Appends the end marker counting the records read on stdin.
with_end() {
	awk '{ print } END { printf "{\"@gx\":\"end\",\"records\":%d}\n", NR }'
}

# load_t.item: NOT NULL, CHECK, varchar, date and the sync_* columns.
make_items() {
	gx_pg <<-'SQL'
	DROP TABLE IF EXISTS load_t.item;
	CREATE TABLE load_t.item (
	  id integer PRIMARY KEY,
	  name varchar(20),
	  qty integer NOT NULL,
	  price numeric(8,2) CHECK (price >= 0),
	  born date,
	  sync_created_at timestamptz NOT NULL,
	  sync_updated_at timestamptz NOT NULL);
	SQL
}

# items N: N valid records for load_t.item (no end marker).
items() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"id\":%d,\"name\":\"item %d\",\"qty\":%d,\"price\":%d.25,\"born\":\"2020-01-%02d\"}\n",
			i, i, i % 7, i % 1000, i % 28 + 1 }'
}

# The whole table, ordered, without the sync_* timestamps.
item_rows() {
	gx_pg -c 'SELECT id, name, qty, price, born FROM load_t.item ORDER BY id'
}

# The counts of a --stats file as "processed created updated unchanged rejected".
counts() {
	jq -r '"\(.processed) \(.created) \(.updated) \(.unchanged) \(.rejected)"' "$1"
}

# A running run in orchestration.sync_history; prints its id.
new_run() {
	gx_pg -c "INSERT INTO orchestration.sync_history (crm_source, sync_type, start_time, status)
		VALUES ('genius', 'items', now(), 'running') RETURNING id"
}

# ---- counts ----------------------------------------------------------------

@test "first load creates every row, a rerun leaves all unchanged, one edit updates one" {
	make_items
	items 50 | with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "50 50 0 0 0" ]
	[[ "$output" == *"load_t.item: processed 50, created 50, updated 0, unchanged 0, rejected 0 (upstream rejected 0) in "*" s ("*" rows/s), copied straight into the empty table" ]]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 50 ]
	[ "$(item_rows | sed -n 7p)" = $'7\titem 7\t0\t7.25\t2020-01-08' ]
	first=$(gx_pg -c 'SELECT max(sync_updated_at) FROM load_t.item')

	run gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "50 0 0 50 0" ]
	[ "$(gx_pg -c 'SELECT max(sync_updated_at) FROM load_t.item')" = "$first" ]

	sed 's/"item 7"/"item seven"/' "$BATS_TEST_TMPDIR/s" >"$BATS_TEST_TMPDIR/s2"
	run gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s2"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "50 0 1 49 0" ]
	[ "$(gx_pg -c 'SELECT name FROM load_t.item WHERE id = 7')" = "item seven" ]
	# Only the changed row's sync_updated_at moved; sync_created_at never does.
	[ "$(gx_pg -c "SELECT string_agg(id::text, ',') FROM load_t.item WHERE sync_updated_at > '$first'")" = 7 ]
	[ "$(gx_pg -c "SELECT count(*) FROM load_t.item WHERE sync_created_at <> '$first'")" -eq 0 ]
}

@test "--force-overwrite rewrites every existing row, restoring rows edited in the target" {
	make_items
	items 20 | with_end >"$BATS_TEST_TMPDIR/s"
	gx-load --table load_t.item --key id <"$BATS_TEST_TMPDIR/s"
	want=$(item_rows)
	gx_pg -c "UPDATE load_t.item SET qty = 999 WHERE id IN (3, 4)"
	run gx-load --table load_t.item --key id --force-overwrite --stats "$BATS_TEST_TMPDIR/st" \
		<"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "20 0 20 0 0" ]
	[ "$(item_rows)" = "$want" ]
	[ "$(gx_pg -c 'SELECT count(DISTINCT sync_updated_at) FROM load_t.item WHERE sync_updated_at > sync_created_at')" -eq 1 ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item WHERE sync_updated_at = sync_created_at')" -eq 0 ]
}

@test "--insert-only inserts new keys and leaves existing rows as they are" {
	make_items
	items 10 | with_end | gx-load --table load_t.item --key id
	gx_pg -c "UPDATE load_t.item SET qty = 999 WHERE id = 2"
	items 12 | with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --insert-only --stats "$BATS_TEST_TMPDIR/st" \
		<"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "12 2 0 10 0" ]
	[ "$(gx_pg -c 'SELECT qty FROM load_t.item WHERE id = 2')" -eq 999 ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 12 ]
}

@test "--force-overwrite and --insert-only together are refused" {
	run gx-load --table load_t.item --key id --force-overwrite --insert-only </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"exclude each other"* ]]
}

@test "--dry-run leaves the table untouched and reports the counts of a real run" {
	make_items
	items 30 | with_end | gx-load --table load_t.item --key id
	gx_pg -c "UPDATE load_t.item SET qty = 999 WHERE id = 5; DELETE FROM load_t.item WHERE id > 25"
	before=$(gx_pg -c 'SELECT * FROM load_t.item ORDER BY id')
	items 32 | with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --dry-run --stats "$BATS_TEST_TMPDIR/dry" \
		<"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[[ "$output" == *"dry run: rolled back"* ]]
	[ "$(gx_pg -c 'SELECT * FROM load_t.item ORDER BY id')" = "$before" ]
	[ "$(jq .dry_run "$BATS_TEST_TMPDIR/dry")" = true ]
	gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/real" <"$BATS_TEST_TMPDIR/s"
	[ "$(counts "$BATS_TEST_TMPDIR/dry")" = "32 7 1 24 0" ]
	[ "$(counts "$BATS_TEST_TMPDIR/real")" = "$(counts "$BATS_TEST_TMPDIR/dry")" ]
	[ "$(jq .dry_run "$BATS_TEST_TMPDIR/real")" = false ]
}

@test "--stats writes every count as one JSON object" {
	make_items
	{ items 3; echo '{"id":1,"name":"again","qty":1,"price":1,"born":null}'; } |
		awk '{ print } END { print "{\"@gx\":\"end\",\"records\":6,\"rejected\":2,\"clock\":\"2024-01-01 00:00:00\"}" }' |
		gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st"
	run jq -c 'del(.seconds, .rows_per_second)' "$BATS_TEST_TMPDIR/st"
	[ "$output" = '{"table":"load_t.item","processed":4,"created":3,"updated":0,"unchanged":0,"deleted":0,"rejected":0,"upstream_rejected":2,"duplicates":1,"path":"staged","dry_run":false}' ]
	jq -e '(.seconds | type) == "number" and (.rows_per_second | type) == "number"' "$BATS_TEST_TMPDIR/st"
}

# ---- the end marker ----------------------------------------------------------

@test "input cut before the end marker exits 3 with one line and changes nothing" {
	make_items
	items 10 | with_end | gx-load --table load_t.item --key id
	before=$(gx_pg -c 'SELECT * FROM load_t.item ORDER BY id')
	items 20 | sed 's/"item/"changed/' | with_end >"$BATS_TEST_TMPDIR/s"
	run --separate-stderr gx-load --table load_t.item --key id --batch 2 \
		< <(head -n 5 "$BATS_TEST_TMPDIR/s")
	[ "$status" -eq 3 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"without the end marker"* ]]
	[ "$(gx_pg -c 'SELECT * FROM load_t.item ORDER BY id')" = "$before" ]
}

@test "an end marker counting other records than arrived fails and loads nothing" {
	make_items
	{ items 3; echo '{"@gx":"end","records":4}'; } >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 1 ]
	[[ "$output" == *"end marker counts 4 records but 3 arrived"* ]]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 0 ]
}

@test "a stream with only the end marker succeeds with zero counts" {
	make_items
	run gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st" <<<'{"@gx":"end","records":0}'
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "0 0 0 0 0" ]
}

@test "control lines other than the end marker are skipped" {
	make_items
	{ echo '{"@gx":"progress","n":1}'; items 2; echo '{"@gx":"note"}'; items 3 | tail -n 1; } |
		awk '{ print } END { print "{\"@gx\":\"end\",\"records\":3}" }' >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "3 3 0 0 0" ]
}

# ---- rejects -----------------------------------------------------------------

@test "10,000 records with 3 bad ones at random places: exactly those 3 rejected, 9,997 loaded" {
	make_items
	read -r -d '' p1 p2 p3 < <(shuf -i 1-10000 -n 3 | tr '\n' ' '; printf '\0') || true
	items 10000 | awk -v a="$p1" -v b="$p2" -v c="$p3" '
		NR == a { sub(/"born":"[^"]*"/, "\"born\":\"2023-02-30\"") }
		NR == b { sub(/"name":"[^"]*"/, "\"name\":\"a name far longer than twenty characters\"") }
		NR == c { sub(/"price":[0-9.]*/, "\"price\":-1") }
		{ print }' | with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --max-errors 3 --rejects "$BATS_TEST_TMPDIR/rej" \
		--stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "10000 9997 0 0 3" ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 9997 ]
	[ "$(gx_pg -c "SELECT string_agg(id::text, ' ' ORDER BY id) FROM generate_series(1, 10000) id
		WHERE id NOT IN (SELECT id FROM load_t.item)")" = "$(printf '%s\n' "$p1" "$p2" "$p3" | sort -n | xargs)" ]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/rej")" -eq 3 ]
	[ "$(jq -r 'select(.line == '"$p1"') | "\(.sqlstate) \(.column)"' "$BATS_TEST_TMPDIR/rej")" = "22008 born" ]
	[ "$(jq -r 'select(.line == '"$p2"') | "\(.sqlstate) \(.column) \(.error)"' "$BATS_TEST_TMPDIR/rej")" = "22001 name value too long for type character varying(20)" ]
	[ "$(jq -r 'select(.line == '"$p3"') | .sqlstate' "$BATS_TEST_TMPDIR/rej")" = 23514 ]
	# Each reject carries its input line exactly.
	for p in "$p1" "$p2" "$p3"; do
		[ "$(jq -c "select(.line == $p) | .record" "$BATS_TEST_TMPDIR/rej")" = "$(sed -n "${p}p" "$BATS_TEST_TMPDIR/s" | jq -c .)" ]
	done
	# Smaller batches isolate the same records.
	make_items
	run gx-load --table load_t.item --key id --max-errors 3 --batch 333 --stats "$BATS_TEST_TMPDIR/st" \
		<"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "10000 9997 0 0 3" ]
}

@test "--max-errors N loads past N rejects; N+1 rejects roll everything back (exit 1)" {
	make_items
	{
		items 5
		echo '{"id":6,"name":"no qty","qty":null,"price":1,"born":null}'
		echo '{"id":7,"name":"bad price","qty":1,"price":123456789,"born":null}'
	} | with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --max-errors 1 --rejects "$BATS_TEST_TMPDIR/rej" \
		<"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 1 ]
	[[ "$output" == *"2 records rejected, more than --max-errors 1"* ]]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 0 ]

	run gx-load --table load_t.item --key id --max-errors 2 --rejects "$BATS_TEST_TMPDIR/rej" \
		--stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "7 5 0 0 2" ]
	[ "$(jq -r '"\(.line) \(.sqlstate) \(.column)"' "$BATS_TEST_TMPDIR/rej")" = $'6 23502 qty\n7 22003 price' ]
}

@test "without --rejects a rejected record is reported on stderr" {
	make_items
	{ items 2; echo '{"id":3,"name":"x","qty":1,"price":-5,"born":null}'; } | with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --max-errors 1 <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[[ "$output" == *"line 3: rejected 23514: new row for relation \"item\" violates check constraint"* ]]
}

@test "a record whose keys differ from the first record's is rejected" {
	make_items
	{
		items 2
		echo '{"id":3,"name":"x","qty":1,"price":1}'
		echo '{"born":null,"price":1,"qty":1,"name":"reordered","id":4}'
		echo '{"id":5,"name":"x","qty":1,"price":1,"born":null,"extra":1}'
	} | with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --max-errors 5 --rejects "$BATS_TEST_TMPDIR/rej" \
		--stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "5 3 0 0 2" ]
	[ "$(jq -c '[.line, .sqlstate]' "$BATS_TEST_TMPDIR/rej" | xargs)" = "[3,null] [5,null]" ]
	[ "$(gx_pg -c 'SELECT name FROM load_t.item WHERE id = 4')" = reordered ]
}

@test "a non-data server error is not bisected: exit 2, everything rolled back" {
	make_items
	gx_pg <<-'SQL'
	CREATE FUNCTION load_t.boom() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
	  IF NEW.id = 3 THEN RAISE EXCEPTION 'internal trouble' USING ERRCODE = 'XX000'; END IF;
	  RETURN NEW;
	END $$;
	CREATE TRIGGER boom BEFORE INSERT ON load_t.item FOR EACH ROW EXECUTE FUNCTION load_t.boom();
	SQL
	run --separate-stderr gx-load --table load_t.item --key id --max-errors 100 --batch 2 \
		< <(items 6 | with_end)
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "gx-load: PostgreSQL: ERROR:  internal trouble"* ]]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 0 ]
}

# ---- savepoints -------------------------------------------------------------------

# Every row a transaction or subtransaction writes carries its XID (xmin):
# the number of (sub)transactions that loaded the table.
xids() {
	gx_pg -c 'SELECT count(DISTINCT xmin::text) FROM load_t.item'
}

@test "a load runs without subtransactions; a refusal moves it down the paths, each loading exactly once" {
	make_items
	items 100 | with_end >"$BATS_TEST_TMPDIR/s"
	# into the empty table: one COPY, no stage, not one subtransaction (past
	# 64, every snapshot overflows)
	run gx-load --table load_t.item --key id --batch 10 --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[[ "$output" == *", copied straight into the empty table" ]]
	[ "$(jq -r .path "$BATS_TEST_TMPDIR/st")" = copy ]
	[ "$(xids)" -eq 1 ]
	# into a table with rows: one COPY into the stage, one upsert
	gx_pg -c 'DELETE FROM load_t.item WHERE id > 50'
	run gx-load --table load_t.item --key id --batch 10 <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[[ "$output" == *"processed 100, created 50, updated 0, unchanged 50, rejected 0 "*", staged, one upsert" ]]
	[ "$(gx_pg -c "SELECT count(DISTINCT xmin::text) FROM load_t.item WHERE id > 50")" -eq 1 ]
	# a record the CHECK refuses: the copy is refused, the staged upsert
	# finds it by the target's checks (one subtransaction) and loads the rest
	make_items
	sed '/"id":5,/s/"price":[0-9.]*/"price":-1/' "$BATS_TEST_TMPDIR/s" >"$BATS_TEST_TMPDIR/bad"
	run gx-load --table load_t.item --key id --batch 10 --max-errors 1 <"$BATS_TEST_TMPDIR/bad"
	[ "$status" -eq 0 ]
	[[ "$output" == *"processed 100, created 99, updated 0, unchanged 0, rejected 1 "*", staged, one upsert" ]]
	[[ "$output" == *"line 5: rejected 23514: new row for relation \"item\" violates check constraint \"item_price_check\""* ]]
	[ "$(xids)" -le 2 ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 99 ]
	# one COPY refuses (a bad date): careful, each batch in a savepoint
	make_items
	sed '/"id":5,/s/"born":"[^"]*"/"born":"x"/' "$BATS_TEST_TMPDIR/s" >"$BATS_TEST_TMPDIR/bad"
	run gx-load --table load_t.item --key id --batch 10 --max-errors 1 <"$BATS_TEST_TMPDIR/bad"
	[ "$status" -eq 0 ]
	[[ "$output" == *"processed 100, created 99, updated 0, unchanged 0, rejected 1 "*", careful: batches in savepoints (a record was refused)" ]]
	[ "$(xids)" -ge 10 ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 99 ]
	diff <(grep -v '"id":5,' "$BATS_TEST_TMPDIR/s" | head -n 99 | jq -r '[.id, .name, .qty, .price, .born] | @tsv' | sed 's/\.25\t/.25\t/') \
		<(item_rows) >/dev/null
}

@test "a record refused late: the run starts again and counts, rejects and loads exactly once" {
	make_items
	items 300 | with_end | gx-load --table load_t.item --key id
	gx_pg -c 'DELETE FROM load_t.item WHERE id > 250'
	# refused: 30 by gx-load (other keys), 900 and 950 by PostgreSQL,
	# in the 15th batch: 14 batches were loaded before
	items 1000 | sed -e 's/"item 1\([0-9]\)"/"ITEM 1\1"/' \
		-e '/"id":30,/s/"id":30,/"id":30,"extra":1,/' \
		-e '/"id":900,/s/"qty":[0-9]*/"qty":null/' -e '/"id":950,/s/"born":"[^"]*"/"born":"x"/' |
		with_end >"$BATS_TEST_TMPDIR/s"
	for tmp in "$BATS_TEST_TMPDIR" /nonexistent; do
		# (without a spill file, every batch runs in a savepoint from the start)
		run env TMPDIR="$tmp" gx-load --table load_t.item --key id --batch 64 --max-errors 3 \
			--rejects "$BATS_TEST_TMPDIR/rej" --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
		[ "$status" -eq 0 ]
		# created: 251..1000 but 900 and 950; updated: 10..19
		[ "$(counts "$BATS_TEST_TMPDIR/st")" = "1000 748 10 239 3" ]
		[ "$(jq -c '[.line, .sqlstate]' "$BATS_TEST_TMPDIR/rej" | xargs)" = "[30,null] [900,23502] [950,22007]" ]
		[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 998 ]
		gx_pg -c 'DELETE FROM load_t.item WHERE id > 250' -c "UPDATE load_t.item SET name = 'item ' || id"
	done
}

# ---- keys ----------------------------------------------------------------------

@test "a key repeated in one stream: the last record wins and is counted once" {
	make_items
	{
		echo '{"id":1,"name":"first","qty":1,"price":1,"born":null}'
		echo '{"id":2,"name":"two","qty":1,"price":1,"born":null}'
		echo '{"id":1,"name":"second","qty":1,"price":1,"born":null}'
		echo '{"id":1,"name":"last","qty":1,"price":1,"born":null}'
	} | with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "4 2 0 0 0" ]
	[ "$(jq .duplicates "$BATS_TEST_TMPDIR/st")" -eq 2 ]
	[[ "$output" == *", duplicate keys 2 in "* ]]
	[ "$(gx_pg -c 'SELECT name FROM load_t.item WHERE id = 1')" = last ]
}

@test "a composite key upserts by both columns" {
	gx_pg -c 'CREATE TABLE load_t.pair (a integer, b text, v text, PRIMARY KEY (a, b))'
	printf '%s\n' '{"a":1,"b":"x","v":"1x"}' '{"a":1,"b":"y","v":"1y"}' '{"a":2,"b":"x","v":"2x"}' |
		with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.pair --key a --key b --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "3 3 0 0 0" ]
	printf '%s\n' '{"a":1,"b":"y","v":"new"}' '{"a":2,"b":"y","v":"2y"}' '{"a":2,"b":"x","v":"2x"}' |
		with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.pair --key b --key a --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "3 1 1 1 0" ]
	[ "$(gx_pg -c "SELECT string_agg(a || b || '=' || v, ' ' ORDER BY a, b) FROM load_t.pair")" = "1x=1x 1y=new 2x=2x 2y=2y" ]
	gx_pg -c 'DROP TABLE load_t.pair'
}

@test "a mixed-case schema-qualified table with a reserved-word column loads, its CHECK rejects" {
	gx_pg <<-'SQL'
	CREATE SCHEMA "Load Mixed";
	CREATE TABLE "Load Mixed"."Order" (
	  "Id" integer PRIMARY KEY,
	  "select" text NOT NULL,
	  "Value" integer CHECK ("Value" < 100),
	  sync_updated_at timestamptz);
	SQL
	printf '%s\n' '{"Id":1,"select":"from","Value":5}' '{"Id":2,"select":"where","Value":500}' \
		'{"Id":3,"select":"group by","Value":null}' | with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table 'Load Mixed.Order' --key Id --max-errors 1 --rejects "$BATS_TEST_TMPDIR/rej" \
		--stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "3 2 0 0 1" ]
	[ "$(gx_pg -c 'SELECT "Id", "select", "Value" FROM "Load Mixed"."Order" ORDER BY 1')" = $'1\tfrom\t5\n3\tgroup by\t' ]
	[ "$(jq -r '"\(.line) \(.sqlstate)"' "$BATS_TEST_TMPDIR/rej")" = "2 23514" ]
	# only sync_updated_at exists: set on insert, nothing else assumed
	[ "$(gx_pg -c 'SELECT count(*) FROM "Load Mixed"."Order" WHERE sync_updated_at IS NOT NULL')" -eq 2 ]
	gx_pg -c 'DROP SCHEMA "Load Mixed" CASCADE'
}

@test "an unknown column fails before loading, naming it" {
	make_items
	printf '%s\n' '{"id":1,"name":"x","qty":1,"colour":"red","size":2}' | with_end >"$BATS_TEST_TMPDIR/s"
	run --separate-stderr gx-load --table load_t.item --key id <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 1 ]
	[ "$stderr" = 'gx-load: load_t.item has no column "colour", "size" (the stream'"'"'s columns must be the target'"'"'s)' ]
}

@test "a missing table, a key without a unique index, a key not in the stream: exit 1" {
	make_items
	run gx-load --table load_t.nope --key id <<<'{"@gx":"end","records":0}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"load_t.nope: no such table"* ]]
	run gx-load --table load_t.item --key name <<<'{"@gx":"end","records":0}'
	[ "$status" -eq 1 ]
	[[ "$output" == *"no unique index or constraint on exactly (name)"* ]]
	run gx-load --table load_t.item --key id --key name <<<'{"@gx":"end","records":0}'
	[ "$status" -eq 1 ]
	run gx-load --table load_t.item --key id < <(echo '{"name":"x","qty":1}' | with_end)
	[ "$status" -eq 1 ]
	[[ "$output" == *'key column "id" is not in the stream'* ]]
}

# ---- values --------------------------------------------------------------------

@test "nasty strings survive COPY exactly; a string with U+0000 is rejected" {
	gx_pg -c 'CREATE TABLE load_t.nasty (id integer PRIMARY KEY, s text)'
	run gx-load --table load_t.nasty --key id --max-errors 1 --rejects "$BATS_TEST_TMPDIR/rej" \
		--stats "$BATS_TEST_TMPDIR/st" <"$FIX/nasty.ndjson"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "17 16 0 0 1" ]
	gx_pg -c "SELECT json_build_object('id', id, 's', s) FROM load_t.nasty ORDER BY id" |
		jq -c . >"$BATS_TEST_TMPDIR/got"
	grep -v '"@gx"' "$FIX/nasty.ndjson" | jq -c 'select(.id != 13)' >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/got"
	[ "$(jq -c '[.line, .sqlstate]' "$BATS_TEST_TMPDIR/rej")" = '[13,"22021"]' ]
	# loading the same again changes nothing: the comparison sees equal text
	run gx-load --table load_t.nasty --key id --max-errors 1 --stats "$BATS_TEST_TMPDIR/st" <"$FIX/nasty.ndjson"
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "17 0 0 16 1" ]
	gx_pg -c 'DROP TABLE load_t.nasty'
}

@test "numbers keep their digits, booleans, JSON values and timestamps load as typed" {
	gx_pg -c 'CREATE TABLE load_t.typed (id bigint PRIMARY KEY, n numeric(30,10), f double precision,
		ok boolean, j jsonb, js json, at timestamptz, t time, d interval)'
	printf '%s\n' '{"id":9007199254740993,"n":12345678901234567890.0123456789,"f":1e-5,"ok":true,"j":{"a":[1,"x\"y",null]},"js":[1, 2],"at":"2024-02-29 23:59:59.123456","t":"12:34:56","d":"-838:59:59"}' |
		with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.typed --key id <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c "SELECT id, n, f, ok, j, js, at, t, d FROM load_t.typed")" = \
		$'9007199254740993\t12345678901234567890.0123456789\t1e-05\tt\t{"a": [1, "x\\"y", null]}\t[1, 2]\t2024-02-29 23:59:59.123456+00\t12:34:56\t-838:59:59' ]
	# json has no equality operator: compared as text, so a rerun is unchanged
	run gx-load --table load_t.typed --key id --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "1 0 0 1 0" ]
	gx_pg -c 'DROP TABLE load_t.typed'
}

# ---- --prune -------------------------------------------------------------------

# The end marker gx-extract writes for a full, unbounded read of N records.
full_end() {
	awk '{ print } END { printf "{\"@gx\":\"end\",\"records\":%d,\"entity\":\"items\",\"clock\":\"2024-05-01 10:00:00\",\"since\":null,\"until\":null,\"after\":null,\"limit\":null,\"more\":false,\"last\":null}\n", NR }'
}

@test "--prune deletes the rows a complete stream lacks, after the upsert, and counts them" {
	make_items
	items 20 | with_end | gx-load --table load_t.item --key id
	id=$(new_run)
	items 19 | sed -e '/"id":5,/d' -e 's/"item 7"/"item seven"/' | full_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --prune --prune-max 10 --run "$id" \
		--stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[[ "$output" == *"processed 18, created 0, updated 1, unchanged 17, deleted 2, rejected 0"* ]]
	[ "$(jq -c '[.deleted, .updated]' "$BATS_TEST_TMPDIR/st")" = "[2,1]" ]
	[ "$(gx_pg -c "SELECT performance_metrics->>'deleted' FROM orchestration.sync_history WHERE id = $id")" -eq 2 ]
	# exactly the stream's rows remain, whole
	items 19 | sed -e '/"id":5,/d' -e 's/"item 7"/"item seven"/' |
		jq -r '[.id, .name, .qty, .price, .born] | @tsv' >"$BATS_TEST_TMPDIR/want"
	diff "$BATS_TEST_TMPDIR/want" <(item_rows)
	# nothing to prune the second time
	run gx-load --table load_t.item --key id --prune --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.deleted, .unchanged]' "$BATS_TEST_TMPDIR/st")" = "[0,18]" ]
}

@test "--prune refuses a stream that is not a complete read: since, until, after, limit, more, shard" {
	make_items
	items 10 | with_end | gx-load --table load_t.item --key id
	before=$(gx_pg -c 'SELECT * FROM load_t.item ORDER BY id')
	for member in '"since":"2024-01-01 00:00:00"' '"until":"2024-02-01"' '"after":["2024-01-01 00:00:00",3]' \
		'"limit":9' '"more":true' '"shard":"1/4"'; do
		{ items 9; echo "{\"@gx\":\"end\",\"records\":9,$member}"; } >"$BATS_TEST_TMPDIR/s"
		run --separate-stderr gx-load --table load_t.item --key id --prune --prune-max 100 <"$BATS_TEST_TMPDIR/s"
		[ "$status" -eq 1 ]
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ "$stderr" == "gx-load: load_t.item: --prune refused: the stream is not a complete read of the table (its end marker has ${member%%:*}: "*"); rolled back, nothing loaded" ]]
		[ "$(gx_pg -c 'SELECT * FROM load_t.item ORDER BY id')" = "$before" ]
	done
	# null, false and absent members are a complete read; so is "shard": null
	{ items 9; echo '{"@gx":"end","records":9,"since":null,"until":null,"after":null,"limit":null,"more":false,"shard":null}'; } |
		gx-load --table load_t.item --key id --prune --stats "$BATS_TEST_TMPDIR/st"
	[ "$(jq .deleted "$BATS_TEST_TMPDIR/st")" -eq 1 ]
}

@test "--prune refuses past --prune-max: an empty or short stream does not wipe the table" {
	make_items
	items 20 | with_end | gx-load --table load_t.item --key id
	before=$(gx_pg -c 'SELECT * FROM load_t.item ORDER BY id')
	run --separate-stderr gx-load --table load_t.item --key id --prune <<<'{"@gx":"end","records":0}'
	[ "$status" -eq 1 ]
	[ "$stderr" = "gx-load: load_t.item: --prune refused: it would delete 20 of the 20 rows (100.0%), more than --prune-max 10%; rolled back, nothing loaded" ]
	[ "$(gx_pg -c 'SELECT * FROM load_t.item ORDER BY id')" = "$before" ]
	# 3 of 20 is 15 %: refused at the default, and nothing of the run
	# (here an update) is kept; allowed at exactly 15
	items 17 | sed 's/"item 1"/"item one"/' | full_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --prune <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 1 ]
	[[ "$output" == *"it would delete 3 of the 20 rows (15.0%), more than --prune-max 10%"* ]]
	[ "$(gx_pg -c 'SELECT * FROM load_t.item ORDER BY id')" = "$before" ]
	run gx-load --table load_t.item --key id --prune --prune-max 15 --stats "$BATS_TEST_TMPDIR/st" \
		<"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st") $(jq .deleted "$BATS_TEST_TMPDIR/st")" = "17 0 1 16 0 3" ]
	[ "$(gx_pg -c 'SELECT max(id) FROM load_t.item')" -eq 17 ]
	# an empty table prunes nothing and loads
	make_items
	run gx-load --table load_t.item --key id --prune <<<'{"@gx":"end","records":0}'
	[ "$status" -eq 0 ]
}

@test "--prune keeps the rows of records the loader rejected: their keys were in the stream" {
	make_items
	items 40 | with_end | gx-load --table load_t.item --key id
	before=$(gx_pg -c 'SELECT * FROM load_t.item WHERE id IN (3, 5, 7, 11, 12) ORDER BY id')
	# rejected by a CHECK (upsert), by COPY (a bad date), for other keys,
	# for a U+0000, and in a batch of one; id 40 is gone from the source
	items 39 | sed -e '/"id":3,/s/"price":[0-9.]*/"price":-1/' \
		-e '/"id":5,/s/"born":"[^"]*"/"born":"2023-02-30"/' \
		-e '/"id":7,/s/,"born":"[^"]*"//' \
		-e '/"id":11,/s/"name":"[^"]*"/"name":"a\\u0000b"/' \
		-e '/"id":12,/s/"qty":[0-9]*/"qty":null/' | full_end >"$BATS_TEST_TMPDIR/s"
	for batch in 10000 7 1; do
		run gx-load --table load_t.item --key id --prune --max-errors 5 --batch "$batch" \
			--rejects "$BATS_TEST_TMPDIR/rej" --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
		[ "$status" -eq 0 ]
		[ "$(jq -c '[.rejected, .deleted]' "$BATS_TEST_TMPDIR/st")" = "[5,1]" ]
		[ "$(jq -c .line "$BATS_TEST_TMPDIR/rej" | sort -n | xargs)" = "3 5 7 11 12" ]
		[ "$(gx_pg -c 'SELECT * FROM load_t.item WHERE id IN (3, 5, 7, 11, 12) ORDER BY id')" = "$before" ]
		[ "$(gx_pg -c 'SELECT count(*), max(id) FROM load_t.item')" = $'39\t39' ]
		items 40 | with_end | gx-load --table load_t.item --key id 2>/dev/null
	done
}

@test "--prune: a rejected record whose key is no value of the key's type protects nothing" {
	make_items
	items 12 | with_end | gx-load --table load_t.item --key id
	{ items 12 | sed '/"id":12,/s/"id":12/"id":"twelve"/'; } | full_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --prune --prune-max 50 --max-errors 1 \
		--rejects "$BATS_TEST_TMPDIR/rej" --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.rejected, .deleted]' "$BATS_TEST_TMPDIR/st")" = "[1,1]" ]
	[ "$(jq -r '"\(.sqlstate) \(.column)"' "$BATS_TEST_TMPDIR/rej")" = "22P02 id" ]
	[ "$(gx_pg -c 'SELECT max(id) FROM load_t.item')" -eq 11 ]
}

@test "--prune matches keys that may hold NULL as equal (UNIQUE NULLS NOT DISTINCT): it deletes only the rows the stream lacks" {
	gx_pg <<-'SQL'
	DROP TABLE IF EXISTS load_t.nk;
	CREATE TABLE load_t.nk (a integer, b text, v text, UNIQUE NULLS NOT DISTINCT (a, b));
	SQL
	printf '%s\n' '{"a":1,"b":"x","v":"1"}' '{"a":null,"b":"x","v":"2"}' '{"a":1,"b":null,"v":"3"}' \
		'{"a":null,"b":null,"v":"4"}' '{"a":2,"b":null,"v":"5"}' '{"a":null,"b":"y","v":"6"}' >"$BATS_TEST_TMPDIR/six"
	full_end <"$BATS_TEST_TMPDIR/six" | gx-load --table load_t.nk --key a --key b
	# the same six rows, changed: upserted in place, nothing deleted
	sed 's/"v":"\([0-9]\)"/"v":"\1\1"/' "$BATS_TEST_TMPDIR/six" | full_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.nk --key a --key b --prune --prune-max 100 \
		--stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.processed, .updated, .deleted]' "$BATS_TEST_TMPDIR/st")" = "[6,6,0]" ]
	[ "$(gx_pg -c "SELECT string_agg(v, ',' ORDER BY v) FROM load_t.nk")" = "11,22,33,44,55,66" ]
	# the row (NULL, NULL) and the row (2, NULL) leave the source: those two go
	grep -v -e '"a":null,"b":null' -e '"a":2,' "$BATS_TEST_TMPDIR/six" | full_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.nk --key a --key b --prune --prune-max 100 \
		--stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.processed, .deleted]' "$BATS_TEST_TMPDIR/st")" = "[4,2]" ]
	[ "$(gx_pg -c "SELECT string_agg(v, ',' ORDER BY v) FROM load_t.nk")" = "1,2,3,6" ]
	# soft: the same matching
	gx_pg -c "ALTER TABLE load_t.nk ADD COLUMN deleted_at timestamptz"
	full_end <"$BATS_TEST_TMPDIR/six" | gx-load --table load_t.nk --key a --key b
	run gx-load --table load_t.nk --key a --key b --prune=soft --prune-max 100 \
		--stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.processed, .deleted]' "$BATS_TEST_TMPDIR/st")" = "[4,2]" ]
	[ "$(gx_pg -c "SELECT string_agg(v, ',' ORDER BY v) FROM load_t.nk WHERE deleted_at IS NULL")" = "1,2,3,6" ]
}

@test "--prune refuses a stream whose upstream rejected records (their keys are unknown)" {
	make_items
	items 10 | with_end | gx-load --table load_t.item --key id
	{ items 9; echo '{"@gx":"end","records":10,"rejected":1,"since":null}'; } >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --prune --prune-max 100 <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 1 ]
	[[ "$output" == *"--prune refused: 1 records were rejected upstream, and the rows of their keys would be deleted; rolled back"* ]]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 10 ]
}

@test "--prune=soft stamps deleted_at, clears it on rows that come back, and needs the column" {
	make_items
	run gx-load --table load_t.item --key id --prune=soft <<<'{"@gx":"end","records":0}'
	[ "$status" -eq 1 ]
	[ "$output" = "gx-load: load_t.item: --prune=soft needs a deleted_at timestamptz column" ]
	gx_pg -c 'ALTER TABLE load_t.item ADD COLUMN deleted_at timestamptz'
	items 20 | with_end | gx-load --table load_t.item --key id
	t0=$(gx_pg -c 'SELECT max(sync_updated_at) FROM load_t.item')
	items 20 | sed -e '/"id":4,/d' -e '/"id":9,/d' | full_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --prune=soft --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[[ "$output" == *"unchanged 18, deleted 2 (soft), rejected 0"* ]]
	[ "$(jq .deleted "$BATS_TEST_TMPDIR/st")" -eq 2 ]
	[ "$(gx_pg -c "SELECT string_agg(id::text, ' ' ORDER BY id) FROM load_t.item
		WHERE deleted_at IS NOT NULL AND sync_updated_at > '$t0'")" = "4 9" ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 20 ]
	# again: the soft-deleted rows are not deleted twice (nor counted)
	gx-load --table load_t.item --key id --prune=soft --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$(jq .deleted "$BATS_TEST_TMPDIR/st")" -eq 0 ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item WHERE deleted_at IS NOT NULL')" -eq 2 ]
	# 9 comes back unchanged: it lives again, an update; 4 stays deleted
	items 20 | sed -e '/"id":4,/d' | full_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --prune=soft --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(counts "$BATS_TEST_TMPDIR/st") $(jq .deleted "$BATS_TEST_TMPDIR/st")" = "19 0 1 18 0 0" ]
	[ "$(gx_pg -c 'SELECT id FROM load_t.item WHERE deleted_at IS NOT NULL')" = 4 ]
	# --insert-only too brings a row back, and touches nothing else
	run gx-load --table load_t.item --key id --prune=soft --insert-only --stats "$BATS_TEST_TMPDIR/st" \
		< <(items 20 | full_end)
	[ "$(counts "$BATS_TEST_TMPDIR/st")" = "20 0 1 19 0" ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item WHERE deleted_at IS NOT NULL')" -eq 0 ]
	# the guard counts live rows: 3 of 20 is too many
	run gx-load --table load_t.item --key id --prune=soft < <(items 17 | full_end)
	[ "$status" -eq 1 ]
	[[ "$output" == *"it would soft-delete 3 of the 20 live rows (15.0%)"* ]]
	# a stream that carries deleted_at itself is refused
	run gx-load --table load_t.item --key id --prune=soft \
		< <(echo '{"id":1,"name":"x","qty":1,"price":1,"born":null,"deleted_at":null}' | with_end)
	[ "$status" -eq 1 ]
	[[ "$output" == *"the stream has a deleted_at column, which --prune=soft sets"* ]]
}

@test "--prune with --dry-run reports the deletes and changes nothing; composite keys prune by both" {
	gx_pg -c 'DROP TABLE IF EXISTS load_t.pair; CREATE TABLE load_t.pair (a integer, b text, v text, PRIMARY KEY (a, b))'
	awk 'BEGIN { for (a = 1; a <= 5; a++) for (b = 1; b <= 4; b++) printf "{\"a\":%d,\"b\":\"%c\",\"v\":\"v\"}\n", a, 96 + b }' |
		with_end | gx-load --table load_t.pair --key a --key b
	before=$(gx_pg -c 'SELECT * FROM load_t.pair ORDER BY a, b')
	# (2,b) and (4,a) are gone; (2,a) and (4,b) stay
	awk 'BEGIN { for (a = 1; a <= 5; a++) for (b = 1; b <= 4; b++) printf "{\"a\":%d,\"b\":\"%c\",\"v\":\"v\"}\n", a, 96 + b }' |
		grep -v -e '"a":2,"b":"b"' -e '"a":4,"b":"a"' | full_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.pair --key b --key a --prune --dry-run --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[[ "$output" == *"deleted 2, rejected 0"*"dry run: rolled back"* ]]
	[ "$(jq .deleted "$BATS_TEST_TMPDIR/st")" -eq 2 ]
	[ "$(gx_pg -c 'SELECT * FROM load_t.pair ORDER BY a, b')" = "$before" ]
	gx-load --table load_t.pair --key a --key b --prune <"$BATS_TEST_TMPDIR/s"
	[ "$(gx_pg -c "SELECT count(*), count(*) FILTER (WHERE (a, b) IN ((2, 'b'), (4, 'a'))) FROM load_t.pair")" = $'18\t0' ]
	gx_pg -c 'DROP TABLE load_t.pair'
}

@test "--prune and --prune-max refuse bad values" {
	run gx-load --table load_t.item --key id --prune=hard </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" == *"--prune=hard: only --prune or --prune=soft"* ]]
	for v in -1 101 abc 5%; do
		run gx-load --table load_t.item --key id --prune --prune-max "$v" </dev/null
		[ "$status" -eq 1 ]
		[[ "$output" == *"--prune-max: \"$v\" is not a percentage (0 to 100)"* ]]
	done
}

# ---- --run -----------------------------------------------------------------------

@test "--run finishes the run as success with the counts and the end marker, with the data" {
	make_items
	id=$(new_run)
	{ items 4; } | awk '{ print } END { print "{\"@gx\":\"end\",\"records\":4,\"clock\":\"2024-05-01 10:00:00\",\"last\":[\"2024-04-30 09:00:00\",4],\"more\":false}" }' \
		>"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --run "$id" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c "SELECT status, records_processed, records_created, records_updated, records_failed,
		end_time IS NOT NULL FROM orchestration.sync_history WHERE id = $id")" = $'success\t4\t4\t0\t0\tt' ]
	[ "$(gx_pg -c "SELECT performance_metrics - 'duration_seconds' - 'records_per_second'
		FROM orchestration.sync_history WHERE id = $id")" = \
		'{"stream": {"@gx": "end", "last": ["2024-04-30 09:00:00", 4], "more": false, "clock": "2024-05-01 10:00:00", "records": 4}, "deleted": 0, "unchanged": 0, "duplicates": 0, "rejects_file": null, "rejects_gone": 0, "rejects_kept": true, "rejects_closed": 0, "rejects_loaded": 0, "rejects_unkeyed": 0, "rejects_recorded": 0, "rejected_upstream": 0}' ]
	gx_pg -c "SELECT 1 FROM orchestration.sync_history WHERE id = $id
		AND (performance_metrics->>'duration_seconds')::numeric >= 0
		AND (performance_metrics->>'records_per_second')::numeric > 0" | grep -qx 1
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 4 ]
}

@test "--run with rejects here and upstream finishes the run as partial" {
	make_items
	id=$(new_run)
	{ items 3; echo '{"id":4,"name":"x","qty":1,"price":-1,"born":null}'; } |
		awk '{ print } END { print "{\"@gx\":\"end\",\"records\":6,\"rejected\":2}" }' >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --run "$id" --max-errors 1 \
		--rejects "$BATS_TEST_TMPDIR/rej" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	[[ "$output" == *"rejected 1 (upstream rejected 2)"* ]]
	[ "$(gx_pg -c "SELECT status, records_processed, records_created, records_failed,
		performance_metrics->>'rejected_upstream', performance_metrics->>'rejects_file'
		FROM orchestration.sync_history WHERE id = $id")" = \
		"$(printf 'partial\t4\t3\t3\t2\t%s' "$(realpath "$BATS_TEST_TMPDIR/rej")")" ]
}

@test "a failing load leaves the run running for its caller to mark failed" {
	make_items
	id=$(new_run)
	run gx-load --table load_t.item --key id --run "$id" < <(items 5 | with_end | head -n 3)
	[ "$status" -eq 3 ]
	run gx-load --table load_t.item --key id --run "$id" < <(echo '{"id":1,"qty":null}' | with_end)
	[ "$status" -eq 1 ]
	[ "$(gx_pg -c "SELECT status, end_time IS NULL, records_processed, performance_metrics
		FROM orchestration.sync_history WHERE id = $id")" = $'running\tt\t0\t{}' ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 0 ]
}

@test "--run of a run that is not running fails before loading" {
	make_items
	id=$(new_run)
	gx_pg -c "UPDATE orchestration.sync_history SET status = 'failed' WHERE id = $id"
	run gx-load --table load_t.item --key id --run "$id" < <(items 2 | with_end)
	[ "$status" -eq 1 ]
	[[ "$output" == *"--run $id: the run is not running (status failed)"* ]]
	run gx-load --table load_t.item --key id --run 999999 < <(items 2 | with_end)
	[ "$status" -eq 1 ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 0 ]
}

@test "a run marked abandoned while loading: the data is rolled back with it (exit 1)" {
	make_items
	id=$(new_run)
	mkfifo "$BATS_TEST_TMPDIR/in"
	gx-load --table load_t.item --key id --batch 1 --run "$id" <"$BATS_TEST_TMPDIR/in" \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	pid=$!
	exec 5>"$BATS_TEST_TMPDIR/in"
	items 2 >&5
	# gx-load reads 64 KiB blocks: a long control line (skipped) pushes the
	# records through
	awk 'BEGIN { s = "x"; while (length(s) < 70000) s = s s;
		printf "{\"@gx\":\"pad\",\"pad\":\"%s\"}\n", s }' >&5
	# wait until gx-load holds the rows of its first batch
	for _ in $(seq 300); do
		[ "$(gx_pg -c "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = 'item' AND l.mode = 'RowExclusiveLock'")" -gt 0 ] && break
		sleep 0.1
	done
	gx_pg -c "UPDATE orchestration.sync_history SET status = 'failed' WHERE id = $id"
	echo '{"@gx":"end","records":2}' >&5
	exec 5>&-
	status=0
	wait "$pid" || status=$?
	cat "$BATS_TEST_TMPDIR/out"	# shown if the test fails
	[ "$status" -eq 1 ]
	grep -q "the run is no longer running (status failed): rolled back" "$BATS_TEST_TMPDIR/out"
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 0 ]
	[ "$(gx_pg -c "SELECT records_processed FROM orchestration.sync_history WHERE id = $id")" -eq 0 ]
}

@test "--dry-run with --run records the would-be counts as a dry run and loads nothing" {
	make_items
	id=$(new_run)
	run gx-load --table load_t.item --key id --dry-run --run "$id" < <(items 3 | with_end)
	[ "$status" -eq 0 ]
	[ "$(gx_pg -c "SELECT status, records_created, performance_metrics->>'dry_run'
		FROM orchestration.sync_history WHERE id = $id")" = $'success\t3\ttrue' ]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 0 ]
}

# ---- the command line ------------------------------------------------------------

@test "a server that cannot be reached exits 2 with one line" {
	run --separate-stderr env PGHOST=127.0.0.1 PGPORT=1 gx-load --table load_t.item --key id \
		<<<'{"@gx":"end","records":0}'
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "gx-load: cannot connect to PostgreSQL: "* ]]
}

@test "--db with a password is refused" {
	run gx-load --db 'host=localhost password=secret' --table load_t.item --key id </dev/null
	[ "$status" -eq 1 ]
	[[ "$output" != *secret* ]]
}

@test "--help prints the usage with an example; --version the version" {
	run gx-load --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: gx-load --table SCHEMA.TABLE --key COL"* ]]
	[[ "$output" == *"Example: "* ]]
	run gx-load --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^gx-load\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	run gx-load --table load_t.item
	[ "$status" -eq 1 ]
	[ "$output" = "gx-load: --table and --key are required (see gx-load --help)" ]
	run gx-load --table load_t.item --key id --batch 0
	[ "$status" -eq 1 ]
}

@test "a dry run recorded with --run never moves the checkpoint" {
	make_items
	marker() { printf '{"@gx":"end","records":%d,"clock":"%s","more":false,"origin":%s}\n' "$@"; }
	id=$(new_run)
	{ items 2; marker 2 "2024-05-01 10:00:00" 1714557600; } |
		gx-load --table load_t.item --key id --run "$id" 2>/dev/null
	before=$(gx-state checkpoint items --lookback 0)
	[ "$(jq -r .since_instant <<<"$before")" -eq 1714557600 ]
	id=$(new_run)
	{ items 3; marker 3 "2024-05-02 10:00:00" 1714644000; } |
		gx-load --table load_t.item --key id --dry-run --run "$id" 2>/dev/null
	[ "$(gx_pg -c "SELECT status FROM orchestration.sync_history WHERE id = $id")" = success ]
	[ "$(gx-state checkpoint items --lookback 0)" = "$before" ]
}

# ---- the paths (issue 16) ------------------------------------------------------

@test "copy straight into an empty table keeps its defaults, sequence, comment, grants, triggers and views" {
	gx_pg -U postgres <<-'SQL'
	DROP TABLE IF EXISTS load_t.rich CASCADE;
	DROP ROLE IF EXISTS gx_reader;
	CREATE ROLE gx_reader;
	CREATE TABLE load_t.rich (
	  id integer PRIMARY KEY, name text,
	  serial_no bigserial, kind text NOT NULL DEFAULT 'plain',
	  touched integer NOT NULL DEFAULT 0);
	ALTER TABLE load_t.rich OWNER TO gx;
	COMMENT ON TABLE load_t.rich IS 'kept';
	GRANT SELECT ON load_t.rich TO gx_reader;
	CREATE FUNCTION load_t.touch() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN NEW.touched := NEW.touched + 1; RETURN NEW; END $$;
	CREATE TRIGGER touch BEFORE INSERT ON load_t.rich FOR EACH ROW EXECUTE FUNCTION load_t.touch();
	CREATE VIEW load_t.rich_names AS SELECT id, name FROM load_t.rich;
	SQL
	run gx-load --table load_t.rich --key id < <(printf '{"id":%d,"name":"n%d"}\n' 1 1 2 2 3 3 | with_end)
	[ "$status" -eq 0 ]
	[[ "$output" == *", copied straight into the empty table" ]]
	[ "$(gx_pg -c 'SELECT id, name, serial_no, kind, touched FROM load_t.rich ORDER BY id' | xargs)" = \
		"1 n1 1 plain 1 2 n2 2 plain 1 3 n3 3 plain 1" ]
	[ "$(gx_pg -c "SELECT nextval('load_t.rich_serial_no_seq')")" -eq 4 ]
	[ "$(gx_pg -c "SELECT obj_description('load_t.rich'::regclass)")" = kept ]
	[ "$(gx_pg -c "SELECT has_table_privilege('gx_reader', 'load_t.rich', 'SELECT')")" = t ]
	[ "$(gx_pg -U postgres -c 'SELECT count(*) FROM load_t.rich_names')" -eq 3 ]
}

@test "a table with an INSERT rule is refused, even empty: COPY would skip the rule" {
	make_items
	gx_pg <<-'SQL'
	CREATE TABLE load_t.item_log (id integer);
	CREATE RULE log_items AS ON INSERT TO load_t.item DO ALSO INSERT INTO load_t.item_log VALUES (NEW.id);
	SQL
	run --separate-stderr gx-load --table load_t.item --key id < <(items 5 | with_end)
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "gx-load: PostgreSQL: "*"cannot be used with table that has INSERT or UPDATE rules"* ]]
	[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item') $(gx_pg -c 'SELECT count(*) FROM load_t.item_log')" = "0 0" ]
	gx_pg -c 'DROP TABLE load_t.item_log CASCADE'
}

@test "the copy path with the least-privileged role (SELECT, INSERT, UPDATE, TEMP); --prune and open rejects stage" {
	make_items
	gx_pg -U postgres <<-'SQL'
	DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'gx_lp') THEN
	  EXECUTE 'DROP OWNED BY gx_lp'; EXECUTE 'DROP ROLE gx_lp'; END IF; END $$;
	CREATE ROLE gx_lp LOGIN;
	GRANT USAGE ON SCHEMA load_t TO gx_lp;
	GRANT SELECT, INSERT, UPDATE ON load_t.item TO gx_lp;
	GRANT TEMP ON DATABASE warehouse TO gx_lp;
	SQL
	run env PGUSER=gx_lp gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st" < <(items 20 | with_end)
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.path) \(.created)"' "$BATS_TEST_TMPDIR/st")" = "copy 20" ]
	run env PGUSER=gx_lp gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st" < <(items 30 | with_end)
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.path) \(.created) \(.unchanged)"' "$BATS_TEST_TMPDIR/st")" = "staged 10 20" ]
	# --prune needs the stage's keys: never the copy path, even when empty
	make_items
	run gx-load --table load_t.item --key id --prune --stats "$BATS_TEST_TMPDIR/st" < <(items 5 | with_end)
	[ "$status" -eq 0 ]
	[ "$(jq -r '"\(.path) \(.created)"' "$BATS_TEST_TMPDIR/st")" = "staged 5" ]
}

@test "a key repeated into an empty table: the copy is refused, the staged upsert loads the last record" {
	make_items
	{ items 3; echo '{"id":2,"name":"again","qty":1,"price":1,"born":null}';
	  echo '{"id":3,"name":"bad first","qty":1,"price":-5,"born":null}' ; echo '{"id":3,"name":"good last","qty":1,"price":5,"born":null}'; } |
		with_end >"$BATS_TEST_TMPDIR/s"
	run gx-load --table load_t.item --key id --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
	[ "$status" -eq 0 ]
	# the refused price of 3 is in a record the upsert never writes: no reject
	[ "$(jq -r '"\(.path) \(.created) \(.duplicates) \(.rejected)"' "$BATS_TEST_TMPDIR/st")" = "staged 3 3 0" ]
	[ "$(gx_pg -c 'SELECT name FROM load_t.item ORDER BY id' | xargs)" = "item 1 again good last" ]
}

@test "--timeout bounds each statement, not the stream: a slow input loads on the fast path" {
	make_items
	items 10 | with_end >"$BATS_TEST_TMPDIR/s"
	run --separate-stderr gx-load --table load_t.item --key id --batch 2 --timeout 1 \
		< <(while IFS= read -r l; do printf '%s\n' "$l"; sleep 0.3; done <"$BATS_TEST_TMPDIR/s")
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"processed 10, created 10, "*", copied straight into the empty table" ]]
	gx_pg -c 'DELETE FROM load_t.item WHERE id > 5'
	run --separate-stderr gx-load --table load_t.item --key id --batch 2 --timeout 1 \
		< <(while IFS= read -r l; do printf '%s\n' "$l"; sleep 0.3; done <"$BATS_TEST_TMPDIR/s")
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"processed 10, created 5, updated 0, unchanged 5, "*", staged, one upsert" ]]
}

@test "refusals on every path: NOT NULL, CHECK and bad values all rejected by line, the rest loaded once" {
	for fill in empty full; do
		make_items
		[ "$fill" = empty ] || items 1000 | with_end | gx-load --table load_t.item --key id
		items 1000 | sed -e '/"id":[0-9]*13,/s/"price":[0-9.]*/"price":-1/' \
			-e '/"id":[0-9]*27,/s/"qty":[0-9]*/"qty":null/' \
			-e '/"id":[0-9]*41,/s/"born":"[^"]*"/"born":"2020-02-30"/' \
			-e 's/"name":"item \([0-9]*\)"/"name":"new \1"/' | with_end >"$BATS_TEST_TMPDIR/s"
		run gx-load --table load_t.item --key id --max-errors 100 --batch 100 \
			--rejects "$BATS_TEST_TMPDIR/rej" --stats "$BATS_TEST_TMPDIR/st" <"$BATS_TEST_TMPDIR/s"
		[ "$status" -eq 0 ]
		[ "$(jq -r .rejected "$BATS_TEST_TMPDIR/st")" -eq 30 ]
		# each reject once, in line order, with its own reason
		[ "$(jq -r '.line' "$BATS_TEST_TMPDIR/rej" | xargs)" = "$(grep -n -E '"id":[0-9]*(13|27|41),' "$BATS_TEST_TMPDIR/s" | cut -d: -f1 | xargs)" ]
		[ "$(jq -r '.sqlstate' "$BATS_TEST_TMPDIR/rej" | sort | uniq -c | awk '{ print $2 ":" $1 }' | xargs)" = "22008:10 23502:10 23514:10" ]
		[ "$(gx_pg -c "SELECT count(*) FROM load_t.item WHERE name LIKE 'new %'")" -eq 970 ]
		# every refusal known by its line or by the checks: no batch bisected
		make_items
		[ "$fill" = empty ] || items 1000 | with_end | gx-load --table load_t.item --key id
		run --separate-stderr gx-load --table load_t.item --key id --max-errors 100 --batch 100 \
			--debug <"$BATS_TEST_TMPDIR/s"
		[ "$status" -eq 0 ]
		[[ "$stderr" == *"rejected 30 "* ]]
		[[ "$stderr" != *"bisecting"* ]]
		if [ "$fill" = empty ]; then
			[ "$(gx_pg -c 'SELECT count(*) FROM load_t.item')" -eq 970 ]
		else
			[ "$(gx_pg -c "SELECT count(*) FROM load_t.item WHERE name LIKE 'item %'")" -eq 30 ]
		fi
	done
}
