-- Accounts belong to named people: how to reach them, whether their password is still the
-- one-time password the board above handed out, and when they last logged in. Sessions keep
-- where they were opened from, so a person can recognise and end them.
ALTER TABLE accounts ADD COLUMN phone TEXT;
ALTER TABLE accounts ADD COLUMN email TEXT;
ALTER TABLE accounts ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN last_login_at TIMESTAMP;
ALTER TABLE accounts ADD COLUMN previous_login_at TIMESTAMP;
ALTER TABLE sessions ADD COLUMN address TEXT;
ALTER TABLE sessions ADD COLUMN agent TEXT;
CREATE INDEX audit_log_unit_id ON audit_log (unit_id);
