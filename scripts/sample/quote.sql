-- Quotes: __ROWS__ rows from s = 1..__ROWS__, one per appointment: id s (near
-- 2^31-1 when s % 17 = 5), appointment_id the appointment of s,
-- prospect_id 100000 + s % 50000, service_id 1..6 or 32767 (s % 29 = 3).
--   s % 89 = 2     every nullable column is NULL (z below)
--   amount (DECIMAL(10,2)): 0.00, 0.10, a credit (-1250.50), 99999999.99
--   expire_date: NULL, '0000-00-00' and '2022-11-00' (a partial zero date)
--   updated_at: NULL (s % 53 = 50), zero date (s % 59 = 58): the map falls
--                  back to add_date; add_date: NULL (s % 61 = 0), zero date
--                  (s % 43 = 6): the map falls back to updated_at; never both
--   s % 7 = 3      updated_at '2024-06-15 12:34:56' (s <= 21000)

SET @bs := CHAR(92 USING utf8mb4), @tab := CHAR(9 USING utf8mb4),
    @cr := CHAR(13 USING utf8mb4), @lf := CHAR(10 USING utf8mb4);

DROP TABLE IF EXISTS quote;
CREATE TABLE quote (
  id INT NOT NULL,
  prospect_id INT NOT NULL,
  appointment_id INT NOT NULL,
  job_id INT NULL,
  client_cid INT NULL,
  service_id SMALLINT NOT NULL,
  label VARCHAR(255) NULL,
  description TEXT NULL,
  amount DECIMAL(10,2) NOT NULL DEFAULT 0.00,
  expire_date DATE NULL,
  status_id INT NOT NULL DEFAULT 1,
  contract_file_id INT NULL,
  estimate_file_id INT NULL,
  add_user_id INT NOT NULL,
  add_date DATETIME NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY quote_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO quote (id, prospect_id, appointment_id, job_id, client_cid, service_id,
  label, description, amount, expire_date, status_id, contract_file_id,
  estimate_file_id, add_user_id, add_date, updated_at)
SELECT
  IF(s % 17 = 5, 2147483647 - s DIV 17, s),
  100000 + s % 50000,
  IF(s % 17 = 5, 2147483647 - s DIV 17, s),
  IF(z OR s % 3 <> 0, NULL, 3000000 + s),
  IF(z OR s % 4 <> 0, NULL, 40000 + s % 977),
  IF(s % 29 = 3, 32767, 1 + s % 6),
  IF(z OR s % 13 = 0, NULL, ELT(1 + s % 9, CONCAT('Quote #', s), 'Full exterior "premium"',
      CONCAT('Trim', @tab, 'only'), CONCAT('Path ', @bs), 'Peinture extérieure — façade',
      '外壁塗装', '😀 Upsell', '', '  padded, with, commas;  ')),
  CASE WHEN z OR s % 5 = 0 THEN NULL
       WHEN s % 5 = 1 THEN ''
       WHEN s % 5 = 2 THEN CONCAT('2 coats', @cr, @lf, 'primer "included"', @lf, 'ends ', @bs)
       WHEN s % 5 = 3 THEN CONCAT(@bs, 'N')
       ELSE REPEAT('Scope of work ✓ ', 64) END,
  ELT(1 + s % 6, 0.00, 0.10, -1250.50, 99999999.99, 4321.99, 12.30),
  CASE WHEN z OR s % 6 = 0 THEN NULL
       WHEN s % 6 = 1 THEN '0000-00-00'
       WHEN s % 6 = 2 THEN '2022-11-00'
       ELSE DATE '2016-01-01' + INTERVAL s * 13 % 3000 DAY END,
  1 + s % 5,
  IF(z OR s % 4 <> 1, NULL, 5000000 + s),
  IF(z OR s % 4 <> 2, NULL, 6000000 + s),
  1 + s % 250,
  CASE WHEN s % 53 = 50 OR s % 59 = 58
            THEN TIMESTAMP '2015-01-05 00:00:00' + INTERVAL s * 1000003 % 220000000 SECOND
       WHEN s % 61 = 0 THEN NULL
       WHEN s % 43 = 6 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2015-01-05 00:00:00' + INTERVAL s * 1000003 % 220000000 SECOND END,
  CASE WHEN s % 53 = 50 THEN NULL
       WHEN s % 59 = 58 THEN '0000-00-00 00:00:00'
       WHEN s % 7 = 3 AND s <= 21000 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-01-01 00:00:00' + INTERVAL s * 1000039 % 126230400 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s, seq % 89 = 2 AS z FROM seq_1_to___ROWS__) AS g;
