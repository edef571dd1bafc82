-- ingestion.genius_marketing_source (target of scripts/marketing_sources).
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_marketing_source (
    id integer PRIMARY KEY,
    type_id integer NOT NULL DEFAULT 0,
    label varchar(255),
    description text,
    start_date date,
    end_date date,
    add_user_id integer NOT NULL,
    add_date timestamptz,
    is_active boolean NOT NULL DEFAULT true,
    is_allow_lead_modification boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
