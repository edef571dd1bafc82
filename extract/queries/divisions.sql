-- divisions -> ingestion.genius_division (every column).
-- @cursor d.updated_at
-- @key d.id
SELECT
  d.id,
  d.group_id,
  d.region_id,
  d.label,
  d.abbreviation,
  d.is_utility,
  d.is_corp,
  d.is_omniscient,
  d.is_inactive,
  d.account_scheduler_id,
  d.created_at,
  d.updated_at
FROM division d
