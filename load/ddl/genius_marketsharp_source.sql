-- ingestion.genius_marketsharp_source (target of scripts/marketsharp_sources).
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_marketsharp_source (
    id integer PRIMARY KEY,
    marketsharp_id varchar(256) NOT NULL DEFAULT '',
    source_name varchar(128) NOT NULL DEFAULT '',
    inactive smallint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
