-- ingestion.genius_appointment_outcome_type (target of
-- scripts/appointment_outcome_types). sort_idx is a PositiveSmallIntegerField.
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_appointment_outcome_type (
    id integer PRIMARY KEY,
    label varchar(50),
    sort_idx smallint NOT NULL CHECK (sort_idx >= 0),
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
