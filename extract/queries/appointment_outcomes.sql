-- appointment_outcomes -> ingestion.genius_appointment_outcome (every column).
-- @cursor ao.updated_at
-- @key ao.id
SELECT
  ao.id,
  ao.type_id,
  ao.label,
  ao.is_active,
  ao.created_at,
  ao.updated_at
FROM appointment_outcome ao
