#!/usr/bin/env bats
# Every Genius entity of scripts/entities, end to end against real MariaDB
# and PostgreSQL servers: a full sync equals the source on every mapped
# column of every row, a delta loads exactly the changed rows, and the
# entity-specific rules (composite key, hubspot filter, dropped credential,
# the lead columns) hold.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	gx_warehouse_start
}

teardown_file() { gx_servers_stop; }

# Each test starts from fresh sample data, empty targets and no history.
setup() { gx_fresh; }

# ---- helpers ---------------------------------------------------------------

# The registry's columns for an entity: target table, key, source table.
registry() {
	awk -v e="$1" -v f="$2" '$1 == e { print $f }' "$GX_ROOT/scripts/entities"
}


# compare ENTITY reports no difference at all; the target has as many rows
# as the source table.
target_equals_source() {
	local e=$1 table src
	table=$(registry "$e" 2) src=$(registry "$e" 4)
	run compare "$e"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output == *"differences"*" 0"* ]]
	[[ $output == *"rejected by the map"*" 0"* ]]
	[ "$(gx_pg -c "SELECT count(*) FROM $table")" -eq "$(gx_my -e "SELECT count(*) FROM \`$src\`")" ]
}

# The full sync, then a delta after N source rows moved their cursor (the
# first N by key): exactly those N are updated, nothing created.
full_then_delta() {
	local e=$1 n=3 src keys
	src=$(registry "$e" 4) keys=$(registry "$e" 3)
	run "$e"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(gx_last_run status)" = success ]
	[ "$(gx_last_run "configuration->>'mode'")" = full ]
	target_equals_source "$e"

	gx_my -e "UPDATE \`$src\` SET updated_at = NOW() ORDER BY $keys LIMIT $n"
	run "$e"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(gx_last_run "configuration->>'mode'")" = delta ]
	[ "$(gx_last_run records_created)" -eq 0 ]
	[ "$(gx_last_run records_updated)" -eq "$n" ]
	target_equals_source "$e"
}

# ---- every entity: full sync, then a delta ---------------------------------

@test "division_groups: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta division_groups
}

@test "user_titles: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta user_titles
}

@test "services: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta services
}

@test "appointment_outcomes: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta appointment_outcomes
}

@test "marketing_source_types: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta marketing_source_types
}

@test "marketsharp_sources: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta marketsharp_sources
}

@test "marketsharp_marketing_source_maps: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta marketsharp_marketing_source_maps
}

@test "divisions: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta divisions
}

@test "marketing_sources: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta marketing_sources
}

@test "users: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta users
}

@test "prospects: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta prospects
}

@test "leads: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta leads
}

@test "prospect_sources: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta prospect_sources
}

@test "appointments: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta appointments
}

@test "quotes: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta quotes
}

@test "appointment_services: full sync equals the source, a delta loads exactly the 3 changed rows" {
	full_then_delta appointment_services
}

# ---- reference tables without a cursor ------------------------------------

# A cursorless entity: read whole every run; a rerun changes nothing; an
# edit (which moves no timestamp: there is none) is still picked up.
cursorless() {
	local e=$1 src rows
	src=$(registry "$e" 4)
	rows=$(gx_my -e "SELECT count(*) FROM $src")
	run "$e"
	[ "$status" -eq 0 ]
	target_equals_source "$e"
	run "$e"
	[ "$status" -eq 0 ]
	[ "$(gx_last_run records_processed)" -eq "$rows" ]
	[ "$(gx_last_run records_updated)" -eq 0 ]
	[ "$(gx_last_run "performance_metrics->>'unchanged'")" -eq "$rows" ]
	gx_my -e "UPDATE $src SET label = CONCAT('relabelled ', id) ORDER BY id LIMIT 2"
	run "$e"
	[ "$status" -eq 0 ]
	[ "$(gx_last_run records_processed)" -eq "$rows" ]
	[ "$(gx_last_run records_updated)" -eq 2 ]
	target_equals_source "$e"
}

@test "appointment_types: read whole on every run, a rerun updates 0 rows, an edit is seen" {
	grep -qx -- '-- @cursor none' "$GX_ROOT/extract/queries/appointment_types.sql"
	cursorless appointment_types
}

@test "appointment_outcome_types: read whole on every run, a rerun updates 0 rows, an edit is seen" {
	grep -qx -- '-- @cursor none' "$GX_ROOT/extract/queries/appointment_outcome_types.sql"
	cursorless appointment_outcome_types
}

# ---- entity rules ----------------------------------------------------------

@test "appointment_services: upsert by (appointment_id, service_id), the surrogate id stays" {
	appointment_services 2>/dev/null
	t=ingestion.genius_appointment_service
	read -r a s < <(gx_my -e "SELECT appointment_id, service_id FROM appointment_to_service
		WHERE updated_at > '1000-01-01' ORDER BY appointment_id, service_id LIMIT 1")
	id=$(gx_pg -c "SELECT id FROM $t WHERE appointment_id = $a AND service_id = $s")
	# the same appointment with another service and the same service with
	# another appointment are other rows; the key's pair is what matches
	gx_my -e "UPDATE appointment_to_service SET updated_at = '2030-01-01 00:00:00'
		WHERE appointment_id = $a AND service_id = $s;
		INSERT INTO appointment_to_service (appointment_id, service_id, created_at, updated_at)
		VALUES ($a, 4242, NOW(), NOW()), (2147000001, $s, NOW(), NOW())"
	run appointment_services
	[ "$status" -eq 0 ]
	[ "$(gx_last_run records_created)" -eq 2 ]
	[ "$(gx_last_run records_updated)" -eq 1 ]
	[ "$(gx_pg -c "SELECT id, updated_at FROM $t WHERE appointment_id = $a AND service_id = $s")" = \
		"$id	2030-01-01 00:00:00+00" ]
	[ "$(gx_pg -c "SELECT count(*) FROM $t WHERE appointment_id = $a")" -eq \
		"$(gx_my -e "SELECT count(*) FROM appointment_to_service WHERE appointment_id = $a")" ]
	[ "$(gx_pg -c "SELECT count(DISTINCT id) FROM $t")" -eq "$(gx_pg -c "SELECT count(*) FROM $t")" ]
	target_equals_source appointment_services
}

@test "prospects: hubspot_contact_id comes only from hubspot sources, never a MarketSharp id" {
	prospects 2>/dev/null
	# the sample points prospects at both kinds of source
	[ "$(gx_my -e "SELECT count(*) FROM prospect p JOIN third_party_source tps
		ON tps.id = p.third_party_source_id JOIN third_party_source_type tpst
		ON tpst.id = tps.third_party_source_type_id WHERE tpst.label <> 'hubspot'")" -gt 10 ]
	gx_my -e "SELECT p.id, tps.third_party_id FROM prospect p
		JOIN third_party_source tps ON tps.id = p.third_party_source_id
		JOIN third_party_source_type tpst ON tpst.id = tps.third_party_source_type_id
		WHERE tpst.label = 'hubspot' ORDER BY p.id" >"$BATS_TEST_TMPDIR/hubspot"
	[ -s "$BATS_TEST_TMPDIR/hubspot" ]
	gx_pg -c "SELECT id, hubspot_contact_id FROM ingestion.genius_prospect
		WHERE hubspot_contact_id IS NOT NULL ORDER BY id" >"$BATS_TEST_TMPDIR/target"
	diff "$BATS_TEST_TMPDIR/hubspot" "$BATS_TEST_TMPDIR/target"
}

@test "division_groups: paysimple_secret is never in the stream nor in the target" {
	[ "$(gx_my -e "SELECT count(*) FROM division_group WHERE paysimple_secret <> ''")" -gt 0 ]
	grep -Eq '^paysimple_secret[[:space:]].*[[:space:]]drop$' "$GX_ROOT/transform/maps/division_groups.map"
	division_groups --force-overwrite 2>/dev/null
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_division_group")" -eq 9 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_division_group
		WHERE paysimple_secret IS NOT NULL")" -eq 0 ]
	# not in what gx-map writes either (nor in a reject file or the history)
	gx-extract --entity division_groups 2>/dev/null |
		gx-map "$GX_ROOT/transform/maps/division_groups.map" >"$BATS_TEST_TMPDIR/mapped" 2>/dev/null
	[ -s "$BATS_TEST_TMPDIR/mapped" ]
	run ! grep -q -e FAKE-paysimple -e paysimple_secret "$BATS_TEST_TMPDIR/mapped"
	run ! grep -rqs FAKE-paysimple "$GX_REJECTS_DIR"
	[ "$(gx_pg -c "SELECT count(*) FROM orchestration.sync_history h
		WHERE h::text LIKE '%FAKE-paysimple%'")" -eq 0 ]
}

@test "leads: the stream's columns are exactly the target's, by name (no phone or zip_code aliases)" {
	gx-extract --entity leads --limit 1 2>/dev/null | head -n 1 | jq -r 'keys[]' | sort \
		>"$BATS_TEST_TMPDIR/stream"
	gx_pg -c "SELECT column_name FROM information_schema.columns
		WHERE table_schema = 'ingestion' AND table_name = 'genius_lead'
		AND column_name NOT IN ('sync_created_at', 'sync_updated_at') ORDER BY 1" |
		LC_ALL=C sort >"$BATS_TEST_TMPDIR/target"
	LC_ALL=C sort -o "$BATS_TEST_TMPDIR/stream" "$BATS_TEST_TMPDIR/stream"
	diff "$BATS_TEST_TMPDIR/stream" "$BATS_TEST_TMPDIR/target"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/target")" -eq 95 ]
	run ! grep -qxE 'phone|zip_code' "$BATS_TEST_TMPDIR/stream"
	grep -qx division "$BATS_TEST_TMPDIR/stream"
}

@test "leads: the cursor is COALESCE(updated_at, added_on): a new never-edited lead is seen by a delta" {
	leads 2>/dev/null
	# one lead without updated_at is re-dated, one arrives without updated_at
	gx_my -e "UPDATE \`lead\` SET added_on = NOW(), city = 'Re-added'
		WHERE updated_at IS NULL ORDER BY lead_id LIMIT 1;
		INSERT INTO \`lead\` (lead_id, added_on, city) VALUES (2147000002, NOW(), 'New')"
	run leads
	[ "$status" -eq 0 ]
	[ "$(gx_last_run "configuration->>'mode'")" = delta ]
	[ "$(gx_last_run records_created)" -eq 1 ]
	[ "$(gx_last_run records_updated)" -eq 1 ]
	# a row without updated_at takes added_on, as the map says
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_lead
		WHERE city IN ('Re-added', 'New') AND updated_at = added_on")" -eq 2 ]
	target_equals_source leads
}

@test "divisions: a row with neither created_at nor updated_at is rejected, not given a made-up date" {
	gx_my -e "UPDATE division SET created_at = NULL, updated_at = '0000-00-00 00:00:00' WHERE id = 5"
	# strict: the first reject fails the run, nothing committed
	run divisions --max-errors 0 --max-error-rate 0
	[ "$status" -eq 1 ]
	[ "$(gx_last_run status)" = failed ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_division")" -eq 0 ]
	# by default: the rest loads, the row is kept by key (exit 6, partial)
	run divisions
	[ "$status" -eq 6 ]
	[ "$(gx_last_run status)" = partial ]
	[ "$(gx_pg -c "SELECT key::text, column_name FROM orchestration.sync_rejects WHERE entity = 'divisions'")" = "$(printf '[5]\tcreated_at')" ]
	[ "$(gx_last_run records_failed)" -eq 1 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_division")" -eq 40 ]
	grep -qs '"column":"created_at"' "$GX_REJECTS_DIR"/divisions.*.map.ndjson
}

@test "appointment_outcome_types: a sort_idx beyond smallint is rejected, never wrapped or nulled" {
	gx_my -e "UPDATE appointment_outcome_type SET sort_idx = 40000 WHERE id = 3"
	run appointment_outcome_types --max-errors 1
	[ "$status" -eq 6 ]
	[ "$(gx_last_run status)" = partial ]
	[ "$(gx_last_run records_failed)" -eq 1 ]
	[ "$(gx_pg -c "SELECT count(*) FROM ingestion.genius_appointment_outcome_type WHERE id = 3")" -eq 0 ]
}

@test "every entity has its script, query, map and DDL, and the map passes gx-map --check" {
	while read -r e table _ _; do
		[ -x "$GX_ROOT/scripts/$e" ]
		grep -q "^gx_main $e \"\\\$@\"\$" "$GX_ROOT/scripts/$e"
		grep -q '^-- @cursor ' "$GX_ROOT/extract/queries/$e.sql"
		grep -q '^-- @key ' "$GX_ROOT/extract/queries/$e.sql"
		gx-map --check "$GX_ROOT/transform/maps/$e.map" >/dev/null
		grep -q "CREATE TABLE IF NOT EXISTS $table " "$GX_ROOT/load/ddl/${table#ingestion.}.sql"
		# the target has sync_created_at/sync_updated_at and a key gx-load accepts
		[ "$(gx_pg -c "SELECT count(*) FROM information_schema.columns WHERE table_schema
			= 'ingestion' AND table_name = '${table#ingestion.}'
			AND column_name IN ('sync_created_at', 'sync_updated_at') AND is_nullable = 'NO'")" -eq 2 ]
	done < <(grep -Ev '^[[:space:]]*(#|$)' "$GX_ROOT/scripts/entities")
	[ "$(grep -cEv '^[[:space:]]*(#|$)' "$GX_ROOT/scripts/entities")" -eq 18 ]
	# applying the DDL again changes nothing and fails nothing
	gx-state init >/dev/null 2>&1
}
