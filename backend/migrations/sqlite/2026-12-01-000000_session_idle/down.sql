DROP INDEX sessions_expires_at;
ALTER TABLE sessions DROP COLUMN last_seen_at;
