-- marketsharp_marketing_source_maps -> ingestion.genius_marketsharp_marketing_source_map.
-- Keyed by the MarketSharp id, a string: the (cursor, key) order of a walk
-- is the source collation's, which gx-extract also uses to resume.
-- @cursor msm.updated_at
-- @key msm.marketsharp_id
SELECT
  msm.marketsharp_id,
  msm.marketing_source_id,
  msm.created_at,
  msm.updated_at
FROM marketsharp_marketing_source_map msm
