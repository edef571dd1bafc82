-- Appointment types: 7 rows whatever __ROWS__ is, ids 1..6 (appointment.type_id
-- points at them) and 2^31-1. No timestamps: the entity has no cursor and is
-- read whole on every run.

DROP TABLE IF EXISTS appointment_type;
CREATE TABLE appointment_type (
  id INT NOT NULL,
  label VARCHAR(50) NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO appointment_type (id, label, is_active) VALUES
  (1, 'In Home', 1),
  (2, 'Virtual "Zoom" Estimate', 1),
  (3, CONCAT('Phone', CHAR(9 USING utf8mb4), 'Consult'), 1),
  (4, 'Réunion à domicile — 訪問', 1),
  (5, '😀 Follow-up', 0),
  (6, '', 1),
  (2147483647, NULL, 0);
