-- appointment_services -> ingestion.genius_appointment_service. The source
-- row is keyed by (appointment_id, service_id), which is also the target's
-- sync key; the target's id is a surrogate made by the warehouse.
-- @cursor ats.updated_at
-- @key ats.appointment_id, ats.service_id
SELECT
  ats.appointment_id,
  ats.service_id,
  ats.created_at,
  ats.updated_at
FROM appointment_to_service ats
