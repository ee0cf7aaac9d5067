DROP INDEX audit_log_unit_id;
ALTER TABLE sessions DROP COLUMN agent;
ALTER TABLE sessions DROP COLUMN address;
ALTER TABLE accounts DROP COLUMN previous_login_at;
ALTER TABLE accounts DROP COLUMN last_login_at;
ALTER TABLE accounts DROP COLUMN must_change_password;
ALTER TABLE accounts DROP COLUMN email;
ALTER TABLE accounts DROP COLUMN phone;
