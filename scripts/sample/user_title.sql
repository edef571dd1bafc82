-- User titles: a small reference table of 21 rows whatever __ROWS__ is, ids
-- 1..20 and the SMALLINT maximum 32767 (user_data.title_id points at them).
--   s % 6 = 1, 2   created_at NULL, zero date; s % 6 = 3, 4: updated_at NULL,
--                  zero date; never both, so the map's fallback finds a value
--   s % 4 = 0      updated_at '2024-06-15 12:34:56', one second shared

SET @bs := CHAR(92 USING utf8mb4), @tab := CHAR(9 USING utf8mb4),
    @cr := CHAR(13 USING utf8mb4), @lf := CHAR(10 USING utf8mb4);

DROP TABLE IF EXISTS user_title;
CREATE TABLE user_title (
  id SMALLINT NOT NULL,
  title VARCHAR(100) NULL,
  abbreviation VARCHAR(10) NULL,
  roles VARCHAR(256) NULL,
  type_id SMALLINT NOT NULL DEFAULT 0,
  section_id SMALLINT NULL,
  sort SMALLINT NOT NULL DEFAULT 0,
  pay_component_group_id SMALLINT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  is_unique_per_division TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY user_title_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO user_title (
  id, title, abbreviation, roles, type_id, section_id, sort, pay_component_group_id,
  is_active, is_unique_per_division, created_at, updated_at)
SELECT
  IF(s = 21, 32767, s),
  CASE WHEN s % 10 = 9 THEN NULL
       ELSE ELT(1 + s % 9, 'Sales Rep', 'Canvasser "Field"', 'Office Manager',
                CONCAT('Installer', @tab, 'Lead'), 'Gerente de Ventas — Región',
                '営業マネージャー', CONCAT('Back', @bs, 'slash', @bs), '😀 Morale Officer',
                CONCAT('two', @cr, @lf, 'lines')) END,
  IF(s % 7 = 6, NULL, ELT(1 + s % 6, 'SR', 'CNV', 'OM', 'O''B', 'ÉQ', '😀')),
  CASE WHEN s % 5 = 0 THEN NULL
       WHEN s % 5 = 1 THEN ''
       ELSE CONCAT('["sales","reports:', s, '"]') END,
  s % 4,
  IF(s % 3 = 0, NULL, 1 + s % 5),
  IF(s = 21, 32767, s * 10),
  IF(s % 2 = 0, NULL, 100 + s),
  IF(s % 8 = 7, 0, 1),
  IF(s % 5 = 2, 1, 0),
  CASE WHEN s % 6 = 1 THEN NULL
       WHEN s % 6 = 2 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2013-01-01 09:00:00' + INTERVAL s * 3600007 SECOND END,
  CASE WHEN s % 6 = 3 THEN NULL
       WHEN s % 6 = 4 THEN '0000-00-00 00:00:00'
       WHEN s % 4 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-02-01 00:00:00' + INTERVAL s * 2999999 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_21) AS g;
