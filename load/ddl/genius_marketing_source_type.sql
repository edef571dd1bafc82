-- ingestion.genius_marketing_source_type (target of scripts/marketing_source_types).
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_marketing_source_type (
    id integer PRIMARY KEY,
    label varchar(255),
    description text,
    is_active boolean NOT NULL DEFAULT true,
    list_order integer,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
