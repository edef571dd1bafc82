-- appointment_types -> ingestion.genius_appointment_type (every column).
-- The source has no timestamp: a small reference table read whole on every
-- run; the upsert skips the rows that did not change.
-- @cursor none
-- @key aty.id
SELECT
  aty.id,
  aty.label,
  aty.is_active
FROM appointment_type aty
