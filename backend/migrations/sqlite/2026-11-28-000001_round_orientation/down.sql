ALTER TABLE reports DROP COLUMN included_json;
DROP TABLE round_tasks;
ALTER TABLE rounds DROP COLUMN closed_at;
ALTER TABLE rounds DROP COLUMN orientation;
