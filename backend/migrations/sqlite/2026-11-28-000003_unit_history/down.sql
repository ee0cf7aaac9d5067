DROP TABLE unit_successions;
CREATE UNIQUE INDEX units_code_unique ON units (code);
