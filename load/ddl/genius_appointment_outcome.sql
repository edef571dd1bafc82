-- ingestion.genius_appointment_outcome (target of scripts/appointment_outcomes).
-- type_id is a PositiveSmallIntegerField.
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_appointment_outcome (
    id integer PRIMARY KEY,
    type_id smallint NOT NULL DEFAULT 0 CHECK (type_id >= 0),
    label varchar(50),
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
