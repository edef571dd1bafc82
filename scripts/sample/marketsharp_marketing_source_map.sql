-- MarketSharp id -> marketing source: 53 rows whatever __ROWS__ is, keyed by
-- a string (the warehouse key is marketsharp_id varchar(128)). s = 1..50 map
-- the MarketSharp sources 'MSS-0001'..; three more keys are awkward: quotes
-- and a trailing backslash, emoji and accents, and 128 characters.
--   marketing_source_id: 1..60 (marketing_source), NULL when s % 11 = 0
--   s % 6 = 1, 2   created_at NULL, zero date; s % 6 = 3, 4: updated_at NULL,
--                  zero date; never both, so the map's fallback finds a value
--   s % 5 = 0      updated_at '2024-06-15 12:34:56', one second shared

SET @bs := CHAR(92 USING utf8mb4);

DROP TABLE IF EXISTS marketsharp_marketing_source_map;
CREATE TABLE marketsharp_marketing_source_map (
  marketsharp_id VARCHAR(128) NOT NULL,
  marketing_source_id INT NULL,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (marketsharp_id),
  KEY marketsharp_marketing_source_map_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO marketsharp_marketing_source_map (marketsharp_id, marketing_source_id,
  created_at, updated_at)
SELECT
  CASE WHEN s = 51 THEN CONCAT('ms "quoted" id ', @bs)
       WHEN s = 52 THEN 'ms-ünïcödé-😀'
       WHEN s = 53 THEN REPEAT('0123456789abcdef', 8)
       ELSE CONCAT('MSS-', LPAD(s, 4, '0')) END,
  IF(s % 11 = 0, NULL, 1 + s % 60),
  CASE WHEN s % 6 = 1 THEN NULL
       WHEN s % 6 = 2 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2016-02-01 00:00:00' + INTERVAL s * 1234577 SECOND END,
  CASE WHEN s % 6 = 3 THEN NULL
       WHEN s % 6 = 4 THEN '0000-00-00 00:00:00'
       WHEN s % 5 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-08-01 00:00:00' + INTERVAL s * 987659 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_53) AS g;
