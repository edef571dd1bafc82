-- The "raw pipe" baseline, MariaDB side: what a careful DBA writes instead of
-- gx for appointments, run as
--   mariadb --batch --quick --raw --skip-column-names \
--     --default-character-set=utf8mb4 < extract.sql | psql -f load.sql
-- It does gx-map's work in SQL and prints PostgreSQL COPY text directly:
--  - --raw prints values as they are, so escaping is done here: backslash,
--    tab, LF and CR (COPY refuses a raw CR) become \\ \t \n \r;
--  - NULL would print as the word NULL: it is written \N, COPY's null;
--  - --default-character-set=utf8mb4, or emoji arrive as '?';
--  - zero and partial zero dates are NULL; add_date falls back to `date`,
--    updated_at to add_date then `date` (the map's else= rules);
--  - U+0000 is stripped from notes (nul=strip), refused elsewhere (COPY fails);
--  - hubspot_appointment_id: the same CASE as extract/queries/appointments.sql.
-- No ORDER BY: a one-shot copy needs none.
SET time_zone = '+00:00';
SELECT
  a.id,
  a.prospect_id,
  IFNULL(a.prospect_source_id, '\\N'),
  IFNULL(a.user_id, '\\N'),
  a.type_id,
  IFNULL(IF(YEAR(a.`date`) * MONTH(a.`date`) * DAY(a.`date`) = 0, NULL, a.`date`), '\\N'),
  IFNULL(a.`time`, '\\N'),
  IFNULL(a.duration, '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.address1,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.address2,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.city,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.state,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.zip,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.email,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(a.notes,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), CHAR(0), ''), '\\N'),
  a.add_user_id,
  COALESCE(IF(YEAR(a.add_date) * MONTH(a.add_date) * DAY(a.add_date) = 0, NULL, a.add_date),
           IF(YEAR(a.`date`) * MONTH(a.`date`) * DAY(a.`date`) = 0, NULL, a.`date`),
           '\\N'),
  IFNULL(IF(YEAR(a.assign_date) * MONTH(a.assign_date) * DAY(a.assign_date) = 0,
            NULL, a.assign_date), '\\N'),
  IFNULL(a.confirm_user_id, '\\N'),
  IFNULL(IF(YEAR(a.confirm_date) * MONTH(a.confirm_date) * DAY(a.confirm_date) = 0,
            NULL, a.confirm_date), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.confirm_with,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(a.spouses_present, 0),
  IFNULL(a.is_complete, 0),
  IFNULL(a.complete_outcome_id, '\\N'),
  IFNULL(a.complete_user_id, '\\N'),
  IFNULL(IF(YEAR(a.complete_date) * MONTH(a.complete_date) * DAY(a.complete_date) = 0,
            NULL, a.complete_date), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.marketsharp_id,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.marketsharp_appt_type,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(REPLACE(REPLACE(REPLACE(REPLACE(a.leap_estimate_id,
    '\\', '\\\\'), '\t', '\\t'), '\n', '\\n'), '\r', '\\r'), '\\N'),
  IFNULL(CASE WHEN tpst.id IS NOT NULL THEN tps.third_party_id END, '\\N'),
  COALESCE(IF(YEAR(a.updated_at) * MONTH(a.updated_at) * DAY(a.updated_at) = 0,
              NULL, a.updated_at),
           IF(YEAR(a.add_date) * MONTH(a.add_date) * DAY(a.add_date) = 0, NULL, a.add_date),
           IF(YEAR(a.`date`) * MONTH(a.`date`) * DAY(a.`date`) = 0, NULL, a.`date`),
           '\\N')
FROM appointment a
LEFT JOIN third_party_source tps
  ON tps.id = a.third_party_source_id
LEFT JOIN third_party_source_type tpst
  ON tpst.id = tps.third_party_source_type_id AND tpst.label = 'hubspot';
