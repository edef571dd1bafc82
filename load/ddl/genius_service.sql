-- ingestion.genius_service (target of scripts/services).
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_service (
    id smallint PRIMARY KEY,
    label varchar(100),
    is_active boolean NOT NULL DEFAULT true,
    is_lead_required boolean NOT NULL DEFAULT false,
    order_number smallint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
