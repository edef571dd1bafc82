-- services -> ingestion.genius_service (every column).
-- @cursor sv.updated_at
-- @key sv.id
SELECT
  sv.id,
  sv.label,
  sv.is_active,
  sv.is_lead_required,
  sv.order_number,
  sv.created_at,
  sv.updated_at
FROM service sv
