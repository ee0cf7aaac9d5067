-- Sessions end after a while without use (on a shared office PC, a phone), not only at their
-- absolute end: when a session was last used. NULL for a session not used since it opened.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMP;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
