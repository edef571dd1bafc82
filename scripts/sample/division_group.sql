-- Division groups: a small reference table of 9 rows whatever __ROWS__ is,
-- ids 1..8 and the SMALLINT maximum 32767 (division.group_id points at them).
--   s % 6 = 1, 2   created_at NULL, zero date; s % 6 = 3, 4: updated_at NULL,
--                  zero date; never both in one row, so the map's fallback
--                  (the other column) always finds a value
--   s % 4 = 0      updated_at '2024-06-15 12:34:56', one second shared
--   paysimple_secret: fake credentials; the shipped map never copies them.

SET @bs := CHAR(92 USING utf8mb4), @tab := CHAR(9 USING utf8mb4),
    @cr := CHAR(13 USING utf8mb4), @lf := CHAR(10 USING utf8mb4);

DROP TABLE IF EXISTS division_group;
CREATE TABLE division_group (
  id SMALLINT NOT NULL,
  group_label VARCHAR(64) NULL,
  region INT NOT NULL DEFAULT 1,
  default_time_zone_name VARCHAR(64) NOT NULL DEFAULT 'US/Pacific',
  intern_payroll_start INT NULL,
  painter_payroll_start INT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  cc_profile_id VARCHAR(32) NULL,
  mes_profile_id VARCHAR(25) NULL,
  mes_profile_key VARCHAR(50) NULL,
  docusign_acct_id VARCHAR(50) NULL,
  paysimple_username VARCHAR(20) NULL,
  paysimple_secret VARCHAR(150) NULL,
  hub_account_id INT NULL,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY division_group_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO division_group (
  id, group_label, region, default_time_zone_name, intern_payroll_start,
  painter_payroll_start, is_active, cc_profile_id, mes_profile_id, mes_profile_key,
  docusign_acct_id, paysimple_username, paysimple_secret, hub_account_id,
  created_at, updated_at)
SELECT
  IF(s = 9, 32767, s),
  ELT(s, 'West', 'O''Brien "East" Group', CONCAT('Back', @bs, 'slash', @bs), '😀 Emoji',
      'Région Île-de-France', '東京グループ', '', NULL, CONCAT('tab', @tab, 'and', @lf, 'newline')),
  1 + s % 3,
  ELT(1 + s % 4, 'US/Pacific', 'US/Eastern', 'America/Chicago', 'America/Denver'),
  IF(s % 3 = 0, NULL, 1 + s % 7),
  IF(s % 4 = 1, NULL, 1 + s % 5),
  IF(s % 5 = 4, 0, 1),
  IF(s % 2 = 0, NULL, CONCAT('cc-', LPAD(s, 6, '0'))),
  IF(s % 3 = 1, NULL, CONCAT('mes', s)),
  IF(s % 3 = 1, NULL, LEFT(SHA2(CONCAT('mes key ', s), 256), 50)),
  IF(s % 4 = 2, NULL, CONCAT('0c1f', LPAD(s, 4, '0'), '-docu')),
  IF(s % 5 = 0, NULL, CONCAT('ps_user_', s)),
  IF(s % 5 = 0, NULL, CONCAT('FAKE-paysimple-secret-', SHA2(CONCAT('not a real secret ', s), 256))),
  IF(s % 2 = 1, NULL, 4000000 + s),
  CASE WHEN s % 6 = 1 THEN NULL
       WHEN s % 6 = 2 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2014-03-01 08:00:00' + INTERVAL s * 86461 SECOND END,
  CASE WHEN s % 6 = 3 THEN NULL
       WHEN s % 6 = 4 THEN '0000-00-00 00:00:00'
       WHEN s % 4 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-05-01 00:00:00' + INTERVAL s * 7777777 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_9) AS g;
