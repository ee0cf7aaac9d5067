-- Portable SQL (SQLite and PostgreSQL): the tree of units, accounts, sessions,
-- template snapshots, rounds, reports, their review events and the audit trail.

CREATE TABLE units (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id INTEGER REFERENCES units (id),
    -- Ancestry by code, "/34/336/12433/": a subtree is one prefix query at any depth.
    path TEXT NOT NULL,
    depth INTEGER NOT NULL,
    valid_from DATE,
    valid_to DATE
);
CREATE INDEX units_parent_id ON units (parent_id);
CREATE INDEX units_path ON units (path);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    full_name TEXT NOT NULL,
    unit_id INTEGER NOT NULL REFERENCES units (id),
    role TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX accounts_unit_id ON accounts (unit_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_account_id ON sessions (account_id);

-- A round keeps the exact template it was opened with, whatever happens to the files later.
CREATE TABLE templates (
    id INTEGER PRIMARY KEY NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    source TEXT NOT NULL,
    UNIQUE (key, version)
);

CREATE TABLE rounds (
    id INTEGER PRIMARY KEY NOT NULL,
    template_id INTEGER NOT NULL REFERENCES templates (id),
    -- The unit that opened the round: every unit below it files.
    owner_unit_id INTEGER NOT NULL REFERENCES units (id),
    title TEXT NOT NULL,
    period_type TEXT NOT NULL,
    period_year INTEGER NOT NULL,
    period_index INTEGER NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    commune_deadline TIMESTAMP NOT NULL,
    district_deadline TIMESTAMP NOT NULL,
    status TEXT NOT NULL,
    created_by INTEGER REFERENCES accounts (id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE reports (
    id INTEGER PRIMARY KEY NOT NULL,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    unit_id INTEGER NOT NULL REFERENCES units (id),
    status TEXT NOT NULL,
    values_json TEXT NOT NULL,
    sections_json TEXT NOT NULL,
    version INTEGER NOT NULL,
    first_submitted_at TIMESTAMP,
    submitted_at TIMESTAMP,
    reviewed_at TIMESTAMP,
    reviewed_by INTEGER REFERENCES accounts (id),
    return_reason TEXT,
    updated_at TIMESTAMP NOT NULL,
    updated_by INTEGER REFERENCES accounts (id),
    UNIQUE (round_id, unit_id)
);
CREATE INDEX reports_unit_id ON reports (unit_id);

CREATE TABLE review_events (
    id INTEGER PRIMARY KEY NOT NULL,
    report_id INTEGER NOT NULL REFERENCES reports (id),
    action TEXT NOT NULL,
    reason TEXT,
    actor_id INTEGER NOT NULL REFERENCES accounts (id),
    at TIMESTAMP NOT NULL
);
CREATE INDEX review_events_report_id ON review_events (report_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id INTEGER REFERENCES accounts (id),
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    unit_id INTEGER REFERENCES units (id),
    -- JSON: what changed, from which value to which.
    details TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
