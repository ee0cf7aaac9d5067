ALTER TABLE reports DROP COLUMN prefill_json;
DROP TABLE team_members;
