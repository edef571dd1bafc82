-- users -> ingestion.genius_userdata: Genius `user_data` plus the primary
-- user of its association. user_associations_id is read for the join only.
-- The cursor is the user's own updated_at: a change in
-- users_userassociations alone is not seen by a delta (a --full run or a
-- backfill picks it up).
-- @cursor u.updated_at
-- @key u.user_id
SELECT
  u.user_id,
  u.division_id,
  u.title_id,
  u.manager_user_id,
  u.first_name,
  u.first_name_alt,
  u.last_name,
  u.email,
  u.personal_email,
  u.birth_date,
  u.gender_id,
  u.marital_status_id,
  u.time_zone_name,
  u.hired_on,
  u.start_date,
  u.add_user_id,
  u.add_datetime,
  u.is_inactive,
  u.inactive_on,
  u.inactive_reason_id,
  u.inactive_reason_other,
  ua.primary_user_id,
  u.inactive_transfer_division_id,
  u.updated_at
FROM user_data u
LEFT JOIN users_userassociations ua
  ON ua.id = u.user_associations_id
