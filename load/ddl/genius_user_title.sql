-- ingestion.genius_user_title (target of scripts/user_titles).
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_user_title (
    id smallint PRIMARY KEY,
    title varchar(100),
    abbreviation varchar(10),
    roles varchar(256),
    type_id smallint NOT NULL DEFAULT 0,
    section_id smallint,
    sort smallint NOT NULL DEFAULT 0,
    pay_component_group_id smallint,
    is_active boolean NOT NULL DEFAULT true,
    is_unique_per_division boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
