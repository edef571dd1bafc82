-- ingestion.genius_appointment_type (target of scripts/appointment_types).
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_appointment_type (
    id integer PRIMARY KEY,
    label varchar(50),
    is_active boolean NOT NULL DEFAULT true,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
