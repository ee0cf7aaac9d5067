DROP TABLE audit_log;
DROP TABLE review_events;
DROP TABLE reports;
DROP TABLE rounds;
DROP TABLE templates;
DROP TABLE sessions;
DROP TABLE accounts;
DROP TABLE units;
