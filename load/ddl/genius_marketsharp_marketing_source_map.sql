-- ingestion.genius_marketsharp_marketing_source_map (target of
-- scripts/marketsharp_marketing_source_maps), keyed by the MarketSharp id.
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_marketsharp_marketing_source_map (
    marketsharp_id varchar(128) PRIMARY KEY,
    marketing_source_id integer,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
