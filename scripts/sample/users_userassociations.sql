-- User associations (joined by users for primary_user_id): 61 rows whatever
-- __ROWS__ is, ids 1..60 and 2^31-1. primary_user_id is a user 1..250, NULL
-- when s % 9 = 0.

DROP TABLE IF EXISTS users_userassociations;
CREATE TABLE users_userassociations (
  id INT NOT NULL,
  primary_user_id INT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO users_userassociations (id, primary_user_id)
SELECT IF(s = 61, 2147483647, s), IF(s % 9 = 0, NULL, 1 + s * 7 % 250)
  FROM (SELECT CAST(seq AS SIGNED) AS s FROM seq_1_to_61) AS g;
