-- ingestion.genius_prospect_source (target of scripts/prospect_sources).
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_prospect_source (
    id integer PRIMARY KEY,
    prospect_id integer NOT NULL,
    marketing_source_id integer NOT NULL,
    source_date timestamptz,
    notes text,
    add_user_id integer NOT NULL,
    add_date timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    source_user_id integer,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
