-- marketing_source_types -> ingestion.genius_marketing_source_type.
-- A type never edited has no updated_at: the cursor falls back to created_at
-- so that a new type is still seen by the next delta.
-- @cursor COALESCE(mst.updated_at, mst.created_at)
-- @key mst.id
SELECT
  mst.id,
  mst.label,
  mst.description,
  mst.is_active,
  mst.list_order,
  mst.created_at,
  mst.updated_at
FROM marketing_source_type mst
