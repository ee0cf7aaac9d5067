-- A code names different units over time (a merged commune keeps one of the old codes), so
-- a unit row is a unit during its validity window and the code is no longer unique alone.
-- SQLite cannot drop a constraint: the table is rebuilt by SQLite's documented procedure,
-- with foreign keys off (which needs this migration outside diesel's transaction, see
-- metadata.toml), checked before the commit.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
CREATE TABLE units_rebuilt (
    id INTEGER PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id INTEGER REFERENCES units (id),
    path TEXT NOT NULL,
    depth INTEGER NOT NULL,
    valid_from DATE,
    valid_to DATE
);
INSERT INTO units_rebuilt (id, code, name, kind, parent_id, path, depth, valid_from, valid_to)
    SELECT id, code, name, kind, parent_id, path, depth, valid_from, valid_to FROM units;
DROP TABLE units;
ALTER TABLE units_rebuilt RENAME TO units;
CREATE INDEX units_code ON units (code);
CREATE INDEX units_parent_id ON units (parent_id);
CREATE INDEX units_path ON units (path);

-- Which unit continues which after a reorganisation: merged communes into the new commune,
-- a merged province into the new one. Accounts and open rounds follow it.
CREATE TABLE unit_successions (
    id INTEGER PRIMARY KEY NOT NULL,
    old_unit_id INTEGER NOT NULL REFERENCES units (id),
    new_unit_id INTEGER NOT NULL REFERENCES units (id),
    on_date DATE NOT NULL
);
CREATE INDEX unit_successions_old ON unit_successions (old_unit_id);
CREATE INDEX unit_successions_new ON unit_successions (new_unit_id);
COMMIT;
PRAGMA foreign_keys = ON;
