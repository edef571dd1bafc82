-- marketsharp_sources -> ingestion.genius_marketsharp_source (every column).
-- @cursor mss.updated_at
-- @key mss.id
SELECT
  mss.id,
  mss.marketsharp_id,
  mss.source_name,
  mss.inactive,
  mss.created_at,
  mss.updated_at
FROM marketsharp_source mss
