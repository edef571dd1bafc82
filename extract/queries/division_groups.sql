-- division_groups -> ingestion.genius_division_group.
-- paysimple_secret is selected so that the mapping file decides what becomes
-- of it: the shipped map drops it (a credential in plain text).
-- @cursor dg.updated_at
-- @key dg.id
SELECT
  dg.id,
  dg.group_label,
  dg.region,
  dg.default_time_zone_name,
  dg.intern_payroll_start,
  dg.painter_payroll_start,
  dg.is_active,
  dg.cc_profile_id,
  dg.mes_profile_id,
  dg.mes_profile_key,
  dg.docusign_acct_id,
  dg.paysimple_username,
  dg.paysimple_secret,
  dg.hub_account_id,
  dg.created_at,
  dg.updated_at
FROM division_group dg
