-- marketing_sources -> ingestion.genius_marketing_source (every column).
-- @cursor ms.updated_at
-- @key ms.id
SELECT
  ms.id,
  ms.type_id,
  ms.label,
  ms.description,
  ms.start_date,
  ms.end_date,
  ms.add_user_id,
  ms.add_date,
  ms.is_active,
  ms.is_allow_lead_modification,
  ms.updated_at
FROM marketing_source ms
