-- Appointment outcome types: 6 rows whatever __ROWS__ is, ids 1..5 (the
-- outcomes' type_id) and 2^31-1. No cursor: read whole on every run.
-- sort_idx is unsigned (PositiveSmallIntegerField): 0 and 32767, the largest
-- value the target's smallint holds, are both here.
-- created_at / updated_at: NULL or zero in one of the two, never both.

DROP TABLE IF EXISTS appointment_outcome_type;
CREATE TABLE appointment_outcome_type (
  id INT NOT NULL,
  label VARCHAR(50) NULL,
  sort_idx SMALLINT UNSIGNED NOT NULL DEFAULT 0,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO appointment_outcome_type (id, label, sort_idx, is_active, created_at,
  updated_at)
SELECT
  IF(s = 6, 2147483647, s),
  ELT(s, 'Sold', 'Not sold', 'O''Neil "pending"', 'Reprogrammé — 再予約', '😀 No show', NULL),
  IF(s = 6, 32767, (s - 1) * 10),
  IF(s = 5, 0, 1),
  CASE WHEN s = 2 THEN NULL
       WHEN s = 3 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2011-01-01 00:00:00' + INTERVAL s * 86400 SECOND END,
  CASE WHEN s = 4 THEN NULL
       WHEN s = 5 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2023-01-01 00:00:00' + INTERVAL s HOUR END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_6) AS g;
