-- Prospects: ids 100000..100000 + __ROWS__ (m = 0..__ROWS__, which covers
-- every appointment.prospect_id, 100000 + s % 50000) and three more ids just
-- below 2^31 (m = 1..3 of the extra rows, s < 0).
--   m % 89 = 2     every nullable column is NULL (z below)
--   third_party_source_id: as appointments: NULL (m % 7 = 0), dangling
--                  (m % 31 = 6), else m: a MarketSharp source when m % 3 = 0
--                  (its non-numeric id must not become hubspot_contact_id),
--                  else a HubSpot one
--   updated_at: NULL (m % 53 = 50), zero date (m % 59 = 58): the map falls
--                  back to add_date, which is then always set; else add_date
--                  may be NULL (m % 61 = 0) or zero (m % 43 = 6)
--   m % 7 = 3      updated_at '2024-06-15 12:34:56' (m <= 21000)
--   year_built: NULL, 0, 1776 and the SMALLINT maximum
-- Free text cycles through the awkward values of appointment.sql.

-- The awkward texts @t0..@t12 come from 000_texts.sql.

DROP TABLE IF EXISTS prospect;
CREATE TABLE prospect (
  id INT NOT NULL,
  division_id INT NOT NULL,
  user_id INT NULL,
  first_name VARCHAR(100) NULL,
  last_name VARCHAR(100) NULL,
  alt_first_name VARCHAR(100) NULL,
  alt_last_name VARCHAR(100) NULL,
  address1 VARCHAR(255) NULL,
  address2 VARCHAR(255) NULL,
  city VARCHAR(100) NULL,
  county VARCHAR(100) NULL,
  state VARCHAR(2) NULL,
  zip VARCHAR(20) NULL,
  year_built SMALLINT NULL,
  phone1 VARCHAR(20) NULL,
  phone2 VARCHAR(20) NULL,
  email VARCHAR(254) NULL,
  notes TEXT NULL,
  add_user_id INT NOT NULL,
  add_date DATETIME NULL,
  marketsharp_id VARCHAR(100) NULL,
  leap_customer_id VARCHAR(100) NULL,
  third_party_source_id INT NULL,
  is_address_valid TINYINT NOT NULL DEFAULT 0,
  updated_at DATETIME NULL,
  PRIMARY KEY (id),
  KEY prospect_updated_at (updated_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO prospect (id, division_id, user_id, first_name, last_name, alt_first_name,
  alt_last_name, address1, address2, city, county, state, zip, year_built, phone1,
  phone2, email, notes, add_user_id, add_date, marketsharp_id, leap_customer_id,
  third_party_source_id, is_address_valid, updated_at)
SELECT
  IF(s < 0, 2147483648 + s, 100000 + s),
  IF(m % 50 = 7, 2147483647, 1 + m % 40),
  IF(z OR m % 11 = 0, NULL, 1 + m % 250),
  IF(z, NULL, ELT(1 + m % 10, 'José', 'O''Hara', 'Zoë', '张伟', '😀', 'Anne-Marie',
      CONCAT('Back', @bs), '', CONCAT('Tab', @tab), 'Ævar')),
  IF(z, NULL, ELT(1 + (m + 5) % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7, @t8, @t9,
      @t10, @t11, @t12)),
  IF(z OR m % 6 <> 1, NULL, ELT(1 + m % 3, 'María', '"Jim"', 'ジョン')),
  IF(z OR m % 6 <> 1, NULL, ELT(1 + m % 4, 'Smith', 'D''Angelo', 'Nguyễn', '')),
  IF(z OR m % 41 = 0, NULL, ELT(1 + m % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7, @t8,
      @t9, @t10, @t11, @t12)),
  IF(z OR m % 3 <> 1, NULL, ELT(1 + (m + 3) % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7,
      @t8, @t9, @t10, @t11, @t12)),
  IF(z OR m % 53 = 0, NULL, ELT(1 + (m + 6) % 13, @t0, @t1, @t2, @t3, @t4, @t5, @t6, @t7,
      @t8, @t9, @t10, @t11, @t12)),
  IF(z OR m % 4 = 0, NULL, ELT(1 + m % 5, 'Multnomah', 'Los Ángeles', 'Prince George''s',
      '', 'St. Louis "City"')),
  IF(z OR m % 43 = 0, NULL, ELT(1 + m % 8, 'CA', 'NY', 'TX', 'FL', 'WA', 'ÑÉ', '', 'OR')),
  IF(z OR m % 47 = 0, NULL,
     ELT(1 + m % 5, LPAD(m % 100000, 5, '0'), '02134', '90210-1234', 'K1A 0B6', '')),
  CASE WHEN z OR m % 5 = 0 THEN NULL
       WHEN m % 37 = 1 THEN 0
       WHEN m % 37 = 2 THEN 1776
       WHEN m % 37 = 3 THEN 32767
       ELSE 1900 + m % 125 END,
  IF(z OR m % 9 = 0, NULL, ELT(1 + m % 4, CONCAT('503-555-', LPAD(m % 10000, 4, '0')),
      '(555) 123-4567 x89', '+44 20 7946 0958', '')),
  IF(z OR m % 3 <> 0, NULL, CONCAT('555', LPAD(m, 7, '0'))),
  IF(z OR m % 7 = 0, NULL,
     ELT(1 + m % 6, CONCAT('prospect', m, '@example.com'), CONCAT('o''hara+', m, '@example.com'),
         'josé.müller@exämple.de', '', 'UPPER@EXAMPLE.COM', '😀@example.com')),
  CASE WHEN z OR m % 9 = 1 THEN NULL
       WHEN m % 71 = 8 THEN REPEAT(CONCAT('0123456789abcde', @lf), 256)
       ELSE CONCAT('Prospect note ', m, ': ', ELT(1 + (m + 9) % 13, @t0, @t1, @t2, @t3, @t4,
                   @t5, @t6, @t7, @t8, @t9, @t10, @t11, @t12)) END,
  1 + m % 250,
  CASE WHEN m % 53 = 50 OR m % 59 = 58
            THEN TIMESTAMP '2015-01-01 00:00:00' + INTERVAL m * 1000003 % 220000000 SECOND
       WHEN z OR m % 61 = 0 THEN NULL
       WHEN m % 43 = 6 THEN '0000-00-00 00:00:00'
       ELSE TIMESTAMP '2015-01-01 00:00:00' + INTERVAL m * 1000003 % 220000000 SECOND END,
  IF(z OR m % 3 <> 0, NULL, CONCAT('MS-P', m)),
  IF(z OR m % 5 <> 2, NULL, CONCAT('LEAP-C-', MD5(m))),
  CASE WHEN s <= 0 OR z OR m % 7 = 0 THEN NULL
       WHEN m % 31 = 6 THEN __ROWS__ + m
       ELSE m END,
  m % 2,
  CASE WHEN m % 53 = 50 THEN NULL
       WHEN m % 59 = 58 THEN '0000-00-00 00:00:00'
       WHEN m % 7 = 3 AND m <= 21000 THEN '2024-06-15 12:34:56'
       ELSE TIMESTAMP '2022-01-01 00:00:00' + INTERVAL m * 1000033 % 126230400 SECOND END
  FROM (SELECT CAST(seq AS SIGNED) AS s, seq AS m, seq % 89 = 2 AS z FROM seq_0_to___ROWS__
        UNION ALL
        SELECT -CAST(seq AS SIGNED), seq, 0 FROM seq_1_to_3) AS g;
