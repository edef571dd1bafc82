-- Appointments: __ROWS__ rows made from the sequence s = 1..__ROWS__, with no
-- randomness: the same row count gives the same data. Each kind of awkward
-- value is picked by s modulo a small prime, so all of them appear even in a
-- 100-row sample:
--   s % 89 = 2    every nullable column is NULL (z below), except `date`:
--                 the map's fallback for a NULL add_date and updated_at
--   s % 17 = 5    id near 2^31-1 (2147483647 for s = 5); other ids are s
--   s % 7 = 3     updated_at '2024-06-15 12:34:56', one second shared by many
--                 rows (s <= 21000: at most 3000 of them)
--   s % 53 = 50   updated_at NULL; s % 59 = 58: updated_at '0000-00-00 00:00:00'
--   s % 43 = 6    add_date zero date; assign_date (s % 47 = 3) and
--                 confirm_date (s % 53 = 7) too
--   s % 31 = 4    duration '100:00:00'; s % 37 = 9: '838:59:59' (the TIME maximum)
--   s % 71 = 8    notes of 4096 characters (s <= 71000: at most 1000 of them)
--   third_party_source_id: NULL (s % 7 = 0), dangling (s % 31 = 6), else s,
--                 which is a MarketSharp source when s % 3 = 0, else HubSpot.
-- Free text cycles through @t0..@t12: quotes, backslashes (one at the end),
-- tab, CR, LF, CRLF, emoji, accents, CJK, '', '\N' and padding.
-- Other timestamps fall in 2015..2021 and updated_at in 2022..2025, so a row
-- changed now is clearly newer.

-- The awkward texts @t0..@t12 come from 000_texts.sql.

DROP TABLE IF EXISTS appointment;
CREATE TABLE appointment (
  id INT NOT NULL,
  prospect_id INT NOT NULL,
  prospect_source_id INT NULL,
  user_id INT NULL,
  type_id INT NOT NULL,
  `date` DATE NULL,
  `time` TIME NULL,
  duration TIME NULL,
  address1 VARCHAR(255) NULL,
  address2 VARCHAR(255) NULL,
  city VARCHAR(100) NULL,
  state VARCHAR(2) NULL,
  zip VARCHAR(20) NULL,
  email VARCHAR(254) NULL,
  notes TEXT NULL,
  add_user_id INT NOT NULL,
  add_date DATETIME NULL,
  assign_date DATETIME NULL,
  confirm_user_id INT NULL,
  confirm_date DATETIME NULL,
  confirm_with VARCHAR(100) NULL,
  spouses_present INT NOT NULL DEFAULT 0,
  is_complete INT NOT NULL DEFAULT 0,
  complete_outcome_id INT NULL,
  complete_user_id INT NULL,
  complete_date DATETIME NULL,
  marketsharp_id VARCHAR(100) NULL,
  marketsharp_appt_type VARCHAR(100) NULL,
  leap_estimate_id VARCHAR(100) NULL,
  third_party_source_id INT NULL,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY appointment_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO appointment (
  id, prospect_id, prospect_source_id, user_id, type_id, `date`, `time`, duration,
  address1, address2, city, state, zip, email, notes, add_user_id, add_date,
  assign_date, confirm_user_id, confirm_date, confirm_with, spouses_present,
  is_complete, complete_outcome_id, complete_user_id, complete_date, marketsharp_id,
  marketsharp_appt_type, leap_estimate_id, third_party_source_id, updated_at)
SELECT
  IF(s % 17 = 5, 2147483647 - s DIV 17, s),
  100000 + s % 50000,
  IF(z OR s % 13 = 0, NULL, 1 + s % 400),
  IF(z OR s % 11 = 0, NULL, 1 + s % 250),
  1 + s % 6,
  -- date is the stated fallback of the target's NOT NULL add_date (and
  -- updated_at): it is never NULL where add_date is NULL or zero.
  IF(s % 19 = 0 AND NOT (z OR s % 61 = 0 OR s % 43 = 6), NULL,
     DATE '1998-01-01' + INTERVAL s * 37 % 11000 DAY),
  CASE WHEN z OR s % 23 = 0 THEN NULL
       WHEN s % 10 = 1 THEN '00:00:00'
       WHEN s % 10 = 2 THEN '23:59:59'
       ELSE SEC_TO_TIME(s * 900 % 86400) END,
  CASE WHEN z OR s % 29 = 0 THEN NULL
       WHEN s % 31 = 4 THEN '100:00:00'
       WHEN s % 37 = 9 THEN '838:59:59'
       WHEN s % 5 = 0 THEN '01:30:00'
       WHEN s % 5 = 1 THEN '00:00:00'
       ELSE SEC_TO_TIME(1800 * (1 + s % 6)) END,
  IF(z OR s % 41 = 0, NULL,
     ELT(1 + s % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7, @t8, @t9, @t10, @t11, @t12)),
  IF(z OR s % 3 <> 1, NULL,
     ELT(1 + (s + 3) % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7, @t8, @t9, @t10, @t11, @t12)),
  IF(z OR s % 53 = 0, NULL,
     ELT(1 + (s + 6) % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7, @t8, @t9, @t10, @t11, @t12)),
  IF(z OR s % 43 = 0, NULL, ELT(1 + s % 8, 'CA', 'NY', 'TX', 'FL', 'WA', 'ÑÉ', '', 'OR')),
  IF(z OR s % 47 = 0, NULL,
     ELT(1 + s % 5, LPAD(s % 100000, 5, '0'), '02134', '90210-1234', 'K1A 0B6', '')),
  IF(z OR s % 7 = 0, NULL,
     ELT(1 + s % 6, CONCAT('user', s, '@example.com'), CONCAT('o''hara+', s, '@example.com'),
         'josé.müller@exämple.de', '', 'UPPER@EXAMPLE.COM', '😀@example.com')),
  CASE WHEN z OR s % 9 = 0 THEN NULL
       WHEN s % 71 = 8 AND s <= 71000 THEN REPEAT(CONCAT('0123456789abcde', @lf), 256)
       ELSE CONCAT(IF(s % 2 = 0, '', CONCAT('Customer note ', s, ': ')),
                   ELT(1 + (s + 9) % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7, @t8, @t9,
                       @t10, @t11, @t12)) END,
  1 + s % 250,
  CASE WHEN z OR s % 61 = 0 THEN NULL
       WHEN s % 43 = 6 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2015-01-01 00:00:00' + INTERVAL s * 1000003 % 220000000 SECOND END,
  CASE WHEN z OR s % 4 = 0 THEN NULL
       WHEN s % 47 = 3 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2015-01-02 00:00:00' + INTERVAL s * 1000003 % 220000000 SECOND END,
  IF(z OR s % 5 = 0, NULL, 1 + s % 250),
  CASE WHEN z OR s % 5 = 0 THEN NULL
       WHEN s % 53 = 7 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2015-01-03 00:00:00' + INTERVAL s * 1000003 % 220000000 SECOND END,
  IF(z OR s % 5 = 0, NULL,
     ELT(1 + (s + 11) % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7, @t8, @t9, @t10, @t11, @t12)),
  s % 3,
  IF(s % 4 = 1, 1, 0),
  IF(z OR s % 4 <> 1, NULL, 1 + s % 12),
  IF(z OR s % 4 <> 1, NULL, 1 + s % 250),
  IF(z OR s % 4 <> 1, NULL,
     TIMESTAMP '2015-01-10 00:00:00' + INTERVAL s * 1000003 % 220000000 SECOND),
  IF(z OR s % 3 <> 0, NULL, CONCAT('MS-A', s)),
  IF(z OR s % 3 <> 0, NULL, ELT(1 + s % 3, 'In Home', 'Virtual', 'Phone "quick" call')),
  IF(z OR s % 7 <> 2, NULL, CONCAT('LEAP-', MD5(s))),
  CASE WHEN z OR s % 7 = 0 THEN NULL
       WHEN s % 31 = 6 THEN __ROWS__ + s
       ELSE s END,
  CASE WHEN z OR s % 53 = 50 THEN NULL
       WHEN s % 59 = 58 THEN '0000-00-00 00:00:00'
       WHEN s % 7 = 3 AND s <= 21000 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-01-01 00:00:00' + INTERVAL s * 1000003 % 126230400 SECOND END
  FROM (SELECT seq AS s, seq % 89 = 2 AS z FROM seq_1_to___ROWS__) AS g;
