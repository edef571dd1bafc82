-- Appointment outcomes: 13 rows whatever __ROWS__ is, ids 1..12
-- (appointment.complete_outcome_id points at them) and 2^31-1.
--   type_id: unsigned (PositiveSmallIntegerField), 0 (no type) or an outcome
--            type 1..5, 32767 once
--   s % 6 = 1, 2   created_at NULL, zero date; s % 6 = 3, 4: updated_at NULL,
--                  zero date; never both, so the map's fallback finds a value
--   s % 4 = 0      updated_at '2024-06-15 12:34:56', one second shared

SET @bs := CHAR(92 USING utf8mb4), @lf := CHAR(10 USING utf8mb4);

DROP TABLE IF EXISTS appointment_outcome;
CREATE TABLE appointment_outcome (
  id INT NOT NULL,
  type_id SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  label VARCHAR(50) NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY appointment_outcome_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO appointment_outcome (id, type_id, label, is_active, created_at, updated_at)
SELECT
  IF(s = 13, 2147483647, s),
  CASE WHEN s = 13 THEN 32767 ELSE s % 6 END,
  CASE WHEN s = 12 THEN NULL
       ELSE ELT(1 + s % 8, 'Sold', 'Sold - "financing"', 'Not home', CONCAT('Price ', @bs),
                'Annulé — キャンセル', '😀 Thinking it over', '', CONCAT('one', @lf, 'two')) END,
  IF(s % 5 = 3, 0, 1),
  CASE WHEN s % 6 = 1 THEN NULL
       WHEN s % 6 = 2 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2012-01-01 00:00:00' + INTERVAL s * 5000011 SECOND END,
  CASE WHEN s % 6 = 3 THEN NULL
       WHEN s % 6 = 4 THEN '0000-00-00 00:00:00'
       WHEN s % 4 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-04-01 00:00:00' + INTERVAL s * 4000037 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_13) AS g;
