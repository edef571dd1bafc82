-- prospects -> ingestion.genius_prospect (every column but is_address_valid,
-- which the old query did not select; the target keeps its default).
-- third_party_source_id is read for the join only.
-- The hubspot filter sits in the ON clause of the second LEFT JOIN, which on
-- its own filters nothing: the CASE keeps a third_party_id only when its
-- source type really is hubspot (a MarketSharp id is not a HubSpot contact).
-- @cursor p.updated_at
-- @key p.id
SELECT
  p.id,
  p.division_id,
  p.user_id,
  p.first_name,
  p.last_name,
  p.alt_first_name,
  p.alt_last_name,
  p.address1,
  p.address2,
  p.city,
  p.county,
  p.state,
  p.zip,
  p.year_built,
  p.phone1,
  p.phone2,
  p.email,
  p.notes,
  p.add_user_id,
  p.add_date,
  p.marketsharp_id,
  p.leap_customer_id,
  CASE WHEN tpst.id IS NOT NULL THEN tps.third_party_id END AS hubspot_contact_id,
  p.updated_at
FROM prospect p
LEFT JOIN third_party_source tps
  ON tps.id = p.third_party_source_id
LEFT JOIN third_party_source_type tpst
  ON tpst.id = tps.third_party_source_type_id AND tpst.label = 'hubspot'
