-- quotes -> ingestion.genius_quote (every column).
-- @cursor q.updated_at
-- @key q.id
SELECT
  q.id,
  q.prospect_id,
  q.appointment_id,
  q.job_id,
  q.client_cid,
  q.service_id,
  q.label,
  q.description,
  q.amount,
  q.expire_date,
  q.status_id,
  q.contract_file_id,
  q.estimate_file_id,
  q.add_user_id,
  q.add_date,
  q.updated_at
FROM quote q
