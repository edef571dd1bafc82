-- Marketing sources: 61 rows whatever __ROWS__ is, ids 1..60 (prospect_source,
-- lead and the MarketSharp map point at them) and 2^31-1.
--   type_id: a marketing source type 1..10, 0 (none) when s % 8 = 0
--   start_date / end_date: NULL, the zero date and a partial zero date
--   s % 7 = 2      updated_at NULL; s % 7 = 5: zero date (the map falls back
--                  to add_date, which is then always set)
--   s % 7 = 3      add_date NULL (nullable in the target too)
--   s % 4 = 0      updated_at '2024-06-15 12:34:56', one second shared

SET @bs := CHAR(92 USING utf8mb4), @tab := CHAR(9 USING utf8mb4),
    @cr := CHAR(13 USING utf8mb4), @lf := CHAR(10 USING utf8mb4);

DROP TABLE IF EXISTS marketing_source;
CREATE TABLE marketing_source (
  id INT NOT NULL,
  type_id INT NOT NULL DEFAULT 0,
  label VARCHAR(255) NULL,
  description TEXT NULL,
  start_date DATE NULL,
  end_date DATE NULL,
  add_user_id INT NOT NULL,
  add_date DATETIME NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  is_allow_lead_modification TINYINT(1) NOT NULL DEFAULT 0,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY marketing_source_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO marketing_source (id, type_id, label, description, start_date, end_date,
  add_user_id, add_date, is_active, is_allow_lead_modification, updated_at)
SELECT
  IF(s = 61, 2147483647, s),
  IF(s % 8 = 0, 0, 1 + s % 10),
  CASE WHEN s % 19 = 7 THEN NULL
       ELSE CONCAT(ELT(1 + s % 9, 'Spring Mailer', 'Home & Garden "Show"',
                       CONCAT('Back', @bs, 'slash', @bs), CONCAT('Tab', @tab),
                       'Foire de Montréal', '春のキャンペーン', '😀 Instagram', '',
                       '  padded, with, commas;  '), ' ', s) END,
  CASE WHEN s % 5 = 0 THEN NULL
       WHEN s % 5 = 1 THEN ''
       WHEN s % 5 = 2 THEN CONCAT('Budget "Q', 1 + s % 4, '"', @cr, @lf, 'second line')
       WHEN s % 5 = 3 THEN CONCAT(@bs, 'N')
       ELSE CONCAT('Notes: ', REPEAT('✓', s)) END,
  CASE WHEN s % 9 = 0 THEN NULL
       WHEN s % 9 = 1 THEN '0000-00-00'
       WHEN s % 9 = 2 THEN '2019-04-00'
       ELSE DATE '2015-01-01' + INTERVAL s * 37 DAY END,
  CASE WHEN s % 4 = 0 THEN NULL
       WHEN s % 10 = 3 THEN '0000-00-00'
       ELSE DATE '2016-01-01' + INTERVAL s * 41 DAY END,
  1 + s % 250,
  CASE WHEN s % 7 = 3 THEN NULL
       ELSE TIMESTAMP '2014-01-01 00:00:00' + INTERVAL s * 1999993 SECOND END,
  IF(s % 6 = 5, 0, 1),
  IF(s % 3 = 1, 1, 0),
  CASE WHEN s % 7 = 2 THEN NULL
       WHEN s % 7 = 5 THEN '0000-00-00 00:00:00'
       WHEN s % 4 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-09-01 00:00:00' + INTERVAL s * 1111151 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_61) AS g;
