-- user_titles -> ingestion.genius_user_title (every column).
-- @cursor ut.updated_at
-- @key ut.id
SELECT
  ut.id,
  ut.title,
  ut.abbreviation,
  ut.roles,
  ut.type_id,
  ut.section_id,
  ut.sort,
  ut.pay_component_group_id,
  ut.is_active,
  ut.is_unique_per_division,
  ut.created_at,
  ut.updated_at
FROM user_title ut
