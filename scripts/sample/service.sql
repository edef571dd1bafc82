-- Services: a small reference table of 7 rows whatever __ROWS__ is, ids 1..6
-- (appointment_to_service and quote point at them) and the SMALLINT maximum
-- 32767.
--   s % 6 = 1, 2   created_at NULL, zero date; s % 6 = 3, 4: updated_at NULL,
--                  zero date; never both, so the map's fallback finds a value
--   s % 3 = 0      updated_at '2024-06-15 12:34:56', one second shared

SET @bs := CHAR(92 USING utf8mb4);

DROP TABLE IF EXISTS service;
CREATE TABLE service (
  id SMALLINT NOT NULL,
  label VARCHAR(100) NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  is_lead_required TINYINT(1) NOT NULL DEFAULT 0,
  order_number SMALLINT NOT NULL DEFAULT 0,
  created_at DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY service_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO service (id, label, is_active, is_lead_required, order_number,
  created_at, updated_at)
SELECT
  IF(s = 7, 32767, s),
  ELT(s, 'Exterior Painting', 'Interior "Premium" Painting', 'Cabinet Refinishing',
      CONCAT('Roofing ', @bs), 'Fenêtres & Portes — 窓', '😀 Gutters', NULL),
  IF(s = 6, 0, 1),
  IF(s % 2 = 0, 1, 0),
  IF(s = 7, -1, s * 10),
  CASE WHEN s % 6 = 1 THEN NULL
       WHEN s % 6 = 2 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2012-06-01 00:00:00' + INTERVAL s * 10000019 SECOND END,
  CASE WHEN s % 6 = 3 THEN NULL
       WHEN s % 6 = 4 THEN '0000-00-00 00:00:00'
       WHEN s % 3 = 0 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-03-01 00:00:00' + INTERVAL s * 9999991 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_7) AS g;
