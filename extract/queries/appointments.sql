-- appointments -> ingestion.genius_appointment (every column but
-- marketing_task_id, which the source does not have; the target keeps its
-- default).
-- The hubspot filter sits in the ON clause of the second LEFT JOIN, which on
-- its own filters nothing: the CASE keeps a third_party_id only when its
-- source type really is hubspot (a MarketSharp id is not a HubSpot one).
-- @cursor a.updated_at
-- @key a.id
SELECT
  a.id,
  a.prospect_id,
  a.prospect_source_id,
  a.user_id,
  a.type_id,
  a.`date`,
  a.`time`,
  a.duration,
  a.address1,
  a.address2,
  a.city,
  a.state,
  a.zip,
  a.email,
  a.notes,
  a.add_user_id,
  a.add_date,
  a.assign_date,
  a.confirm_user_id,
  a.confirm_date,
  a.confirm_with,
  a.spouses_present,
  a.is_complete,
  a.complete_outcome_id,
  a.complete_user_id,
  a.complete_date,
  a.marketsharp_id,
  a.marketsharp_appt_type,
  a.leap_estimate_id,
  CASE WHEN tpst.id IS NOT NULL THEN tps.third_party_id END AS hubspot_appointment_id,
  a.updated_at
FROM appointment a
LEFT JOIN third_party_source tps
  ON tps.id = a.third_party_source_id
LEFT JOIN third_party_source_type tpst
  ON tpst.id = tps.third_party_source_type_id AND tpst.label = 'hubspot'
