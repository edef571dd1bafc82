-- MarketSharp sources: 51 rows whatever __ROWS__ is, ids 1..50 and 2^31-1.
-- marketsharp_id is what marketsharp_marketing_source_map is keyed by:
-- 'MSS-0001'.. for s = 1..50, awkward ids for a few.
--   s % 6 = 1, 2   created_at NULL, zero date; s % 6 = 3, 4: updated_at NULL,
--                  zero date; never both, so the map's fallback finds a value
--   s % 5 = 0      updated_at '2024-06-15 12:34:56', one second shared

SET @bs := CHAR(92 USING utf8mb4), @tab := CHAR(9 USING utf8mb4);

DROP TABLE IF EXISTS marketsharp_source;
CREATE TABLE marketsharp_source (
  id INT NOT NULL,
  marketsharp_id VARCHAR(256) NOT NULL DEFAULT '',
  source_name VARCHAR(128) NOT NULL DEFAULT '',
  inactive SMALLINT NOT NULL DEFAULT 0,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY marketsharp_source_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO marketsharp_source (id, marketsharp_id, source_name, inactive,
  created_at, updated_at)
SELECT
  IF(s = 51, 2147483647, s),
  CASE WHEN s = 51 THEN ''
       WHEN s = 47 THEN CONCAT('ms "quoted" id ', @bs)
       WHEN s = 48 THEN 'ms-ünïcödé-😀'
       WHEN s = 49 THEN REPEAT('0123456789abcdef', 16)
       ELSE CONCAT('MSS-', LPAD(s, 4, '0')) END,
  CASE WHEN s = 51 THEN ''
       ELSE ELT(1 + s % 7, 'Yard Sign', 'O''Malley "Home" Show', CONCAT('Tab', @tab, 'Source'),
                'Publicité — 広告', '😀 Facebook', CONCAT('Trailing ', @bs), 'Web') END,
  CASE WHEN s % 9 = 0 THEN 1 WHEN s = 50 THEN -1 ELSE 0 END,
  CASE WHEN s % 6 = 1 THEN NULL
       WHEN s % 6 = 2 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2016-01-01 00:00:00' + INTERVAL s * 1234567 SECOND END,
  CASE WHEN s % 6 = 3 THEN NULL
       WHEN s % 6 = 4 THEN '0000-00-00 00:00:00'
       WHEN s % 5 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-07-01 00:00:00' + INTERVAL s * 987643 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_51) AS g;
