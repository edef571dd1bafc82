-- prospect_sources -> ingestion.genius_prospect_source (every column).
-- A source row never edited has no updated_at: the cursor falls back to
-- add_date so that a new row is still seen by the next delta.
-- @cursor COALESCE(ps.updated_at, ps.add_date)
-- @key ps.id
SELECT
  ps.id,
  ps.prospect_id,
  ps.marketing_source_id,
  ps.source_date,
  ps.notes,
  ps.add_user_id,
  ps.add_date,
  ps.updated_at,
  ps.source_user_id
FROM prospect_source ps
