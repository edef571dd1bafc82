-- Marketing source types: 11 rows whatever __ROWS__ is, ids 1..10
-- (marketing_source.type_id points at them) and 2^31-1. The cursor is
-- COALESCE(updated_at, created_at):
--   s % 5 = 1      updated_at NULL: created_at carries the cursor
--   s % 5 = 2      updated_at zero date (the cursor is then the zero date)
--   s % 5 = 3      created_at NULL; s % 5 = 4: created_at zero date
--   s % 3 = 0      updated_at '2024-06-15 12:34:56', one second shared
-- Never both missing, so the map's fallback finds a value.

SET @bs := CHAR(92 USING utf8mb4), @tab := CHAR(9 USING utf8mb4),
    @cr := CHAR(13 USING utf8mb4), @lf := CHAR(10 USING utf8mb4);

DROP TABLE IF EXISTS marketing_source_type;
CREATE TABLE marketing_source_type (
  id INT NOT NULL,
  label VARCHAR(255) NULL,
  description TEXT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  list_order INT NULL,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY marketing_source_type_updated_at (updated_at),
  KEY marketing_source_type_created_at (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO marketing_source_type (id, label, description, is_active, list_order,
  created_at, updated_at)
SELECT
  IF(s = 11, 2147483647, s),
  IF(s = 11, NULL, ELT(s, 'Canvassing', 'Direct "Mail"', 'Web', 'Referral', 'Home Show',
     'TV — Télé', '口コミ', '😀 Social', CONCAT('Radio', @tab), CONCAT('Back', @bs))),
  CASE WHEN s % 4 = 0 THEN NULL
       WHEN s % 4 = 1 THEN ''
       WHEN s % 4 = 2 THEN CONCAT('Line one', @cr, @lf, 'line two "quoted" ', @bs)
       ELSE REPEAT('long description ✓ ', 200) END,
  IF(s % 6 = 5, 0, 1),
  IF(s % 4 = 3, NULL, s * 100 - 1000),
  CASE WHEN s % 5 = 3 THEN NULL
       WHEN s % 5 = 4 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2010-01-01 00:00:00' + INTERVAL s * 12345677 SECOND END,
  CASE WHEN s % 5 = 1 THEN NULL
       WHEN s % 5 = 2 THEN '0000-00-00 00:00:00'
       WHEN s % 3 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-06-01 00:00:00' + INTERVAL s * 3333331 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_11) AS g;
