-- ingestion.genius_quote (target of scripts/quotes).
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_quote (
    id integer PRIMARY KEY,
    prospect_id integer NOT NULL,
    appointment_id integer NOT NULL,
    job_id integer,
    client_cid integer,
    service_id smallint NOT NULL,
    label varchar(255),
    description text,
    amount numeric(10,2) NOT NULL DEFAULT 0.00,
    expire_date date,
    status_id integer NOT NULL DEFAULT 1,
    contract_file_id integer,
    estimate_file_id integer,
    add_user_id integer NOT NULL,
    add_date timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
