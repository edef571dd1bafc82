-- ingestion.genius_division (target of scripts/divisions).
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_division (
    id integer PRIMARY KEY,
    group_id smallint,
    region_id smallint,
    label varchar(255),
    abbreviation varchar(50),
    is_utility boolean NOT NULL DEFAULT false,
    is_corp boolean NOT NULL DEFAULT false,
    is_omniscient boolean NOT NULL DEFAULT false,
    is_inactive integer NOT NULL DEFAULT 0,
    account_scheduler_id integer,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
