-- Appointment services: two rows per appointment (2 x __ROWS__), keyed by
-- (appointment_id, service_id): the appointment of s with services
-- 1 + s % 6 and 1 + (s + 3) % 6, or 32767 instead of the second when
-- s % 29 = 3.
--   The two rows of an appointment share their updated_at second, and rows
--   s % 7 = 3 share '2024-06-15 12:34:56' (s <= 21000)
--   updated_at: NULL (s % 53 = 50), zero date (s % 59 = 58): the map falls
--   back to created_at; created_at NULL (s % 61 = 0) or zero (s % 43 = 6):
--   the map falls back to updated_at; never both

DROP TABLE IF EXISTS appointment_to_service;
CREATE TABLE appointment_to_service (
  appointment_id INT NOT NULL,
  service_id SMALLINT NOT NULL,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (appointment_id, service_id),
  KEY appointment_to_service_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO appointment_to_service (appointment_id, service_id, created_at, updated_at)
SELECT
  IF(s % 17 = 5, 2147483647 - s DIV 17, s),
  CASE WHEN k = 1 THEN 1 + s % 6 WHEN s % 29 = 3 THEN 32767 ELSE 1 + (s + 3) % 6 END,
  CASE WHEN s % 53 = 50 OR s % 59 = 58
            THEN TIMESTAMP '2015-01-01 00:00:00' + INTERVAL s * 1000003 % 220000000 SECOND
       WHEN s % 61 = 0 THEN NULL
       WHEN s % 43 = 6 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2015-01-01 00:00:00' + INTERVAL s * 1000003 % 220000000 SECOND END,
  CASE WHEN s % 53 = 50 THEN NULL
       WHEN s % 59 = 58 THEN '0000-00-00 00:00:00'
       WHEN s % 7 = 3 AND s <= 21000 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-01-01 00:00:00' + INTERVAL s * 1000003 % 126230400 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to___ROWS__) AS g
  CROSS JOIN (SELECT seq AS k FROM seq_1_to_2) AS two;
