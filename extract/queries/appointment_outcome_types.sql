-- appointment_outcome_types -> ingestion.genius_appointment_outcome_type.
-- Read whole on every run (the seed gives it no cursor; it is a handful of
-- rows); the upsert skips the rows that did not change.
-- @cursor none
-- @key aot.id
SELECT
  aot.id,
  aot.label,
  aot.sort_idx,
  aot.is_active,
  aot.created_at,
  aot.updated_at
FROM appointment_outcome_type aot
