-- ingestion.genius_division_group (target of scripts/division_groups).
-- paysimple_secret exists for the model's shape; the shipped map never fills it.
CREATE SCHEMA IF NOT EXISTS ingestion;
CREATE TABLE IF NOT EXISTS ingestion.genius_division_group (
    id smallint PRIMARY KEY,
    group_label varchar(64),
    region integer NOT NULL DEFAULT 1,
    default_time_zone_name varchar(64) NOT NULL DEFAULT 'US/Pacific',
    intern_payroll_start integer,
    painter_payroll_start integer,
    is_active boolean NOT NULL DEFAULT true,
    cc_profile_id varchar(32),
    mes_profile_id varchar(25),
    mes_profile_key varchar(50),
    docusign_acct_id varchar(50),
    paysimple_username varchar(20),
    paysimple_secret varchar(150),
    hub_account_id integer,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    sync_created_at timestamptz NOT NULL,
    sync_updated_at timestamptz NOT NULL
);
