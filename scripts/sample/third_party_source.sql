-- Third-party sources that appointments (and later prospects) point at.
-- Row s is the source of appointment s. Every third row is a MarketSharp
-- source with a non-numeric id ('MS-00042'): the old sync copied those into
-- hubspot_appointment_id. HubSpot ids are numeric, up to 2^62.

DROP TABLE IF EXISTS third_party_source_type;
CREATE TABLE third_party_source_type (
  id INT NOT NULL,
  label VARCHAR(50) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO third_party_source_type (id, label) VALUES (1, 'hubspot'), (2, 'marketsharp');

DROP TABLE IF EXISTS third_party_source;
CREATE TABLE third_party_source (
  id INT NOT NULL,
  third_party_source_type_id INT NULL,
  third_party_id VARCHAR(100) NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO third_party_source (id, third_party_source_type_id, third_party_id)
SELECT seq,
       IF(seq % 3 = 0, 2, 1),
       CASE
         WHEN seq % 3 = 0 THEN CONCAT('MS-', IF(seq < 100000, LPAD(seq, 5, '0'), seq))
         WHEN seq % 11 = 1 THEN CAST(4611686018427387905 - seq AS CHAR)  -- 2^62 and just below
         ELSE CAST(10000000000 + seq * 7919 AS CHAR)
       END
  FROM seq_1_to___ROWS__;
