-- The "raw pipe" baseline, PostgreSQL side: COPY text from extract.sql on
-- stdin into a typed staging table, then the same upsert gx-load runs (insert
-- new keys, update a row only when it differs), in one transaction.
\set ON_ERROR_STOP on
SET TimeZone = 'UTC';
BEGIN;
CREATE TEMP TABLE stage ON COMMIT DROP AS
  SELECT * FROM bench.raw_appointment WITH NO DATA;
\copy stage (id, prospect_id, prospect_source_id, user_id, type_id, date, time, duration, address1, address2, city, state, zip, email, notes, add_user_id, add_date, assign_date, confirm_user_id, confirm_date, confirm_with, spouses_present, is_complete, complete_outcome_id, complete_user_id, complete_date, marketsharp_id, marketsharp_appt_type, leap_estimate_id, hubspot_appointment_id, updated_at) FROM pstdin
INSERT INTO bench.raw_appointment AS t (
  id, prospect_id, prospect_source_id, user_id, type_id, date, time,
  duration, address1, address2, city, state, zip, email, notes, add_user_id,
  add_date, assign_date, confirm_user_id, confirm_date, confirm_with,
  spouses_present, is_complete, complete_outcome_id, complete_user_id,
  complete_date, marketsharp_id, marketsharp_appt_type, leap_estimate_id,
  hubspot_appointment_id, updated_at,
  sync_created_at, sync_updated_at)
SELECT
  id, prospect_id, prospect_source_id, user_id, type_id, date, time,
  duration, address1, address2, city, state, zip, email, notes, add_user_id,
  add_date, assign_date, confirm_user_id, confirm_date, confirm_with,
  spouses_present, is_complete, complete_outcome_id, complete_user_id,
  complete_date, marketsharp_id, marketsharp_appt_type, leap_estimate_id,
  hubspot_appointment_id, updated_at,
  now(), now()
FROM stage
ON CONFLICT (id) DO UPDATE SET
  prospect_id = EXCLUDED.prospect_id,
  prospect_source_id = EXCLUDED.prospect_source_id,
  user_id = EXCLUDED.user_id,
  type_id = EXCLUDED.type_id,
  date = EXCLUDED.date,
  time = EXCLUDED.time,
  duration = EXCLUDED.duration,
  address1 = EXCLUDED.address1,
  address2 = EXCLUDED.address2,
  city = EXCLUDED.city,
  state = EXCLUDED.state,
  zip = EXCLUDED.zip,
  email = EXCLUDED.email,
  notes = EXCLUDED.notes,
  add_user_id = EXCLUDED.add_user_id,
  add_date = EXCLUDED.add_date,
  assign_date = EXCLUDED.assign_date,
  confirm_user_id = EXCLUDED.confirm_user_id,
  confirm_date = EXCLUDED.confirm_date,
  confirm_with = EXCLUDED.confirm_with,
  spouses_present = EXCLUDED.spouses_present,
  is_complete = EXCLUDED.is_complete,
  complete_outcome_id = EXCLUDED.complete_outcome_id,
  complete_user_id = EXCLUDED.complete_user_id,
  complete_date = EXCLUDED.complete_date,
  marketsharp_id = EXCLUDED.marketsharp_id,
  marketsharp_appt_type = EXCLUDED.marketsharp_appt_type,
  leap_estimate_id = EXCLUDED.leap_estimate_id,
  hubspot_appointment_id = EXCLUDED.hubspot_appointment_id,
  updated_at = EXCLUDED.updated_at,
  sync_updated_at = now()
WHERE (
  t.prospect_id, t.prospect_source_id, t.user_id, t.type_id, t.date, t.time,
  t.duration, t.address1, t.address2, t.city, t.state, t.zip, t.email,
  t.notes, t.add_user_id, t.add_date, t.assign_date, t.confirm_user_id,
  t.confirm_date, t.confirm_with, t.spouses_present, t.is_complete,
  t.complete_outcome_id, t.complete_user_id, t.complete_date,
  t.marketsharp_id, t.marketsharp_appt_type, t.leap_estimate_id,
  t.hubspot_appointment_id, t.updated_at) IS DISTINCT FROM (
  EXCLUDED.prospect_id, EXCLUDED.prospect_source_id, EXCLUDED.user_id,
  EXCLUDED.type_id, EXCLUDED.date, EXCLUDED.time, EXCLUDED.duration,
  EXCLUDED.address1, EXCLUDED.address2, EXCLUDED.city, EXCLUDED.state,
  EXCLUDED.zip, EXCLUDED.email, EXCLUDED.notes, EXCLUDED.add_user_id,
  EXCLUDED.add_date, EXCLUDED.assign_date, EXCLUDED.confirm_user_id,
  EXCLUDED.confirm_date, EXCLUDED.confirm_with, EXCLUDED.spouses_present,
  EXCLUDED.is_complete, EXCLUDED.complete_outcome_id,
  EXCLUDED.complete_user_id, EXCLUDED.complete_date, EXCLUDED.marketsharp_id,
  EXCLUDED.marketsharp_appt_type, EXCLUDED.leap_estimate_id,
  EXCLUDED.hubspot_appointment_id, EXCLUDED.updated_at);
COMMIT;
