-- Divisions: 41 rows whatever __ROWS__ is, ids 1..40 (user_data, prospect
-- and lead point at them) and 2^31-1.
--   group_id: a division group (1..8, 32767 when s % 10 = 7), NULL when s % 13 = 0
--   is_inactive is an integer in Genius, not a flag: 0, 1 and 2 occur
--   s % 6 = 1, 2   created_at NULL, zero date; s % 6 = 3, 4: updated_at NULL,
--                  zero date; never both, so the map's fallback finds a value
--   s % 4 = 0      updated_at '2024-06-15 12:34:56', one second shared

SET @bs := CHAR(92 USING utf8mb4), @tab := CHAR(9 USING utf8mb4),
    @cr := CHAR(13 USING utf8mb4), @lf := CHAR(10 USING utf8mb4);

DROP TABLE IF EXISTS division;
CREATE TABLE division (
  id INT NOT NULL,
  group_id SMALLINT NULL,
  region_id SMALLINT NULL,
  label VARCHAR(255) NULL,
  abbreviation VARCHAR(50) NULL,
  is_utility TINYINT(1) NOT NULL DEFAULT 0,
  is_corp TINYINT(1) NOT NULL DEFAULT 0,
  is_omniscient TINYINT(1) NOT NULL DEFAULT 0,
  is_inactive INT NOT NULL DEFAULT 0,
  account_scheduler_id INT NULL,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY division_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO division (id, group_id, region_id, label, abbreviation, is_utility,
  is_corp, is_omniscient, is_inactive, account_scheduler_id, created_at, updated_at)
SELECT
  IF(s = 41, 2147483647, s),
  CASE WHEN s % 13 = 0 THEN NULL WHEN s % 10 = 7 THEN 32767 ELSE 1 + s % 8 END,
  IF(s % 7 = 0, NULL, 1 + s % 5),
  CASE WHEN s % 17 = 3 THEN NULL
       ELSE CONCAT(ELT(1 + s % 11, 'Portland', 'San José', 'O''Fallon "North"',
                       CONCAT('C:', @bs, 'Division', @bs), CONCAT('Tab', @tab, 'City'),
                       CONCAT('Line', @lf, 'Break'), CONCAT('CR', @cr, 'LF', @cr, @lf),
                       '😀 Happy Valley', 'Zürich — Düsseldorf', '大阪支店', ''),
                   IF(s % 11 = 10, '', CONCAT(' #', s))) END,
  IF(s % 9 = 4, NULL, ELT(1 + s % 5, CONCAT('D', s), 'SJ', 'O''F', '😀', '')),
  IF(s % 9 = 1, 1, 0),
  IF(s = 1, 1, 0),
  IF(s % 20 = 2, 1, 0),
  CASE WHEN s % 11 = 10 THEN 2 WHEN s % 7 = 6 THEN 1 ELSE 0 END,
  IF(s % 3 = 0, NULL, 1 + s * 7 % 250),
  CASE WHEN s % 6 = 1 THEN NULL
       WHEN s % 6 = 2 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2010-05-01 00:00:00' + INTERVAL s * 4000003 SECOND END,
  CASE WHEN s % 6 = 3 THEN NULL
       WHEN s % 6 = 4 THEN '0000-00-00 00:00:00'
       WHEN s % 4 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-01-15 00:00:00' + INTERVAL s * 2345681 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_41) AS g;
