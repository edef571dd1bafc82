-- Users: 251 rows whatever __ROWS__ is, user_id 1..250 (every user_id,
-- add_user_id and *_by column of the other tables points at them) and 2^31-1.
--   s % 61 = 2     every nullable column is NULL (z below)
--   division_id: 1..40, 2^31-1 when s % 50 = 7; title_id: 1..20, 32767 when
--                s % 23 = 5, NULL when s % 17 = 0
--   user_associations_id: 1..60 (users_userassociations), dangling when
--                s % 29 = 4 (the LEFT JOIN then gives a NULL primary_user_id)
--   birth_date: NULL, '0000-00-00' (s % 13 = 1), '1980-02-00' (s % 13 = 2)
--   updated_at: NULL (s % 11 = 3), zero date (s % 11 = 4): the map falls back
--                to add_datetime, which is then always set; '2024-06-15
--                12:34:56' for s % 5 = 0, one second shared by 50 rows
-- Free text cycles through the awkward values of appointment.sql.

-- The awkward texts @t0..@t12 come from 000_texts.sql.

DROP TABLE IF EXISTS user_data;
CREATE TABLE user_data (
  user_id INT NOT NULL,
  division_id INT NOT NULL,
  title_id SMALLINT NULL,
  manager_user_id INT NULL,
  first_name VARCHAR(100) NULL,
  first_name_alt VARCHAR(100) NULL,
  last_name VARCHAR(100) NULL,
  email VARCHAR(254) NULL,
  personal_email VARCHAR(254) NULL,
  birth_date DATE NULL,
  gender_id INT NULL,
  marital_status_id INT NULL,
  time_zone_name VARCHAR(50) NOT NULL DEFAULT '',
  hired_on DATETIME NULL,
  start_date DATETIME NULL,
  add_user_id INT NULL,
  add_datetime DATETIME NULL,
  is_inactive TINYINT(1) NOT NULL DEFAULT 0,
  inactive_on DATETIME NULL,
  inactive_reason_id SMALLINT NULL,
  inactive_reason_other VARCHAR(255) NULL,
  user_associations_id INT NULL,
  inactive_transfer_division_id INT NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (user_id),
  KEY user_data_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO user_data (user_id, division_id, title_id, manager_user_id, first_name,
  first_name_alt, last_name, email, personal_email, birth_date, gender_id,
  marital_status_id, time_zone_name, hired_on, start_date, add_user_id, add_datetime,
  is_inactive, inactive_on, inactive_reason_id, inactive_reason_other,
  user_associations_id, inactive_transfer_division_id, updated_at)
SELECT
  IF(s = 251, 2147483647, s),
  IF(s % 50 = 7, 2147483647, 1 + s % 40),
  CASE WHEN z OR s % 17 = 0 THEN NULL WHEN s % 23 = 5 THEN 32767 ELSE 1 + s % 20 END,
  IF(z OR s % 10 = 1, NULL, 1 + s * 3 % 250),
  IF(z, NULL, ELT(1 + s % 10, 'José', 'O''Hara', 'Zoë', '张伟', '😀', 'Anne-Marie',
      CONCAT('Back', @bs), '', CONCAT('Tab', @tab), 'Ævar')),
  IF(z OR s % 4 <> 1, NULL, ELT(1 + s % 3, 'Pepe', '"Bud"', 'ジョー')),
  IF(z, NULL, ELT(1 + (s + 4) % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7, @t8, @t9,
      @t10, @t11, @t12)),
  IF(z OR s % 7 = 0, NULL, ELT(1 + s % 4, CONCAT('user', s, '@example.com'),
      CONCAT('o''hara+', s, '@example.com'), 'josé.müller@exämple.de', '')),
  IF(z OR s % 3 <> 0, NULL, CONCAT('Personal.', s, '@Example.COM')),
  CASE WHEN z OR s % 13 = 0 THEN NULL
       WHEN s % 13 = 1 THEN '0000-00-00'
       WHEN s % 13 = 2 THEN '1980-02-00'
       ELSE DATE '1950-01-01' + INTERVAL s * 97 DAY END,
  IF(z OR s % 5 = 0, NULL, 1 + s % 3),
  IF(z OR s % 6 = 0, NULL, 1 + s % 4),
  ELT(1 + s % 5, 'US/Pacific', '', 'America/New_York', 'America/Los_Angeles', 'UTC'),
  CASE WHEN z OR s % 8 = 0 THEN NULL
       WHEN s % 19 = 3 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2008-01-01 00:00:00' + INTERVAL s * 1000033 SECOND END,
  IF(z OR s % 9 = 0, NULL, TIMESTAMP '2008-02-01 00:00:00' + INTERVAL s * 1000037 SECOND),
  IF(z OR s % 12 = 0, NULL, 1 + s * 11 % 250),
  CASE WHEN z AND s % 11 NOT IN (3, 4) THEN NULL
       ELSE TIMESTAMP '2008-01-15 00:00:00' + INTERVAL s * 1000039 SECOND END,
  IF(s % 6 = 5, 1, 0),
  CASE WHEN s % 6 <> 5 THEN NULL
       WHEN s % 12 = 11 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2020-01-01 00:00:00' + INTERVAL s * 100003 SECOND END,
  IF(s % 6 <> 5, NULL, 1 + s % 6),
  IF(s % 6 <> 5 OR s % 4 <> 1, NULL, ELT(1 + s % 3, 'Moved "away"', CONCAT('Other', @lf, 'reason'), '😀')),
  CASE WHEN z OR s % 7 = 3 THEN NULL WHEN s % 29 = 4 THEN 999999 ELSE 1 + s % 60 END,
  IF(s % 6 <> 5, NULL, 1 + (s + 5) % 40),
  CASE WHEN s % 11 = 3 THEN NULL
       WHEN s % 11 = 4 THEN '0000-00-00 00:00:00'
       WHEN s % 5 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-01-01 00:00:00' + INTERVAL s * 500009 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s, seq % 61 = 2 AS z FROM seq_1_to_251) AS g;
