-- Prospect sources: ids 1..max(400, __ROWS__) (appointment.prospect_source_id
-- points at 1..400) and three more ids just below 2^31 (m = 1..3, s < 0).
--   prospect_id 100000 + m % (__ROWS__ + 1), marketing_source_id 1..60
--   The cursor is COALESCE(updated_at, add_date):
--   m % 53 = 50    updated_at NULL (add_date is the cursor and the fallback)
--   m % 59 = 58    updated_at zero date
--   m % 61 = 0     add_date NULL; m % 43 = 6: add_date zero date (the map
--                  then falls back to source_date, else updated_at); a row
--                  always has one of the two
--   m % 7 = 3      updated_at '2024-06-15 12:34:56', one second shared

SET @bs := CHAR(92 USING utf8mb4), @tab := CHAR(9 USING utf8mb4),
    @cr := CHAR(13 USING utf8mb4), @lf := CHAR(10 USING utf8mb4);

DROP TABLE IF EXISTS prospect_source;
CREATE TABLE prospect_source (
  id INT NOT NULL,
  prospect_id INT NOT NULL,
  marketing_source_id INT NOT NULL,
  source_date DATETIME NULL,
  notes TEXT NULL,
  add_user_id INT NOT NULL,
  add_date DATETIME NULL,
  updated_at DATETIME NULL,
  source_user_id INT NULL,
  PRIMARY KEY (id),
  KEY prospect_source_updated_at (updated_at),
  KEY prospect_source_add_date (add_date)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO prospect_source (id, prospect_id, marketing_source_id, source_date, notes,
  add_user_id, add_date, updated_at, source_user_id)
SELECT
  IF(s < 0, 2147483648 + s, s),
  100000 + m % (__ROWS__ + 1),
  1 + m % 60,
  CASE WHEN m % 5 = 0 THEN NULL
       WHEN m % 37 = 4 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2014-12-01 00:00:00' + INTERVAL m * 1000003 % 220000000 SECOND END,
  CASE WHEN m % 4 = 0 THEN NULL
       ELSE ELT(1 + m % 9, 'Saw the yard sign', 'Neighbour "Bob" referred',
                CONCAT('Path ', @bs), CONCAT('Tab', @tab, 'note'), CONCAT('CRLF', @cr, @lf),
                'Vu à la télé — テレビ', '😀 Instagram ad', '', CONCAT(@bs, 'N')) END,
  1 + m % 250,
  CASE WHEN m % 53 = 50 OR m % 59 = 58
            THEN TIMESTAMP '2015-01-01 00:00:00' + INTERVAL m * 1000003 % 220000000 SECOND
       WHEN m % 61 = 0 THEN NULL
       WHEN m % 43 = 6 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2015-01-01 00:00:00' + INTERVAL m * 1000003 % 220000000 SECOND END,
  CASE WHEN m % 53 = 50 THEN NULL
       WHEN m % 59 = 58 THEN '0000-00-00 00:00:00'
       WHEN m % 7 = 3 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-01-01 00:00:00' + INTERVAL m * 1000037 % 126230400 SECOND END,
  IF(m % 3 = 0, NULL, 1 + (m + 9) % 250)
  FROM (SELECT CAST(seq AS SIGNED) AS s, seq AS m FROM seq_1_to_400
        UNION
        SELECT seq, seq FROM seq_1_to___ROWS__
        UNION ALL
        SELECT -CAST(seq AS SIGNED), seq FROM seq_1_to_3) AS g;
