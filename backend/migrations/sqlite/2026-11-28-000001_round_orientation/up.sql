-- The orientation (định hướng) that flows down with a round, closing a round, and what a
-- consolidated report listed as missing or not yet accepted when it was sent up.

ALTER TABLE rounds ADD COLUMN orientation TEXT NOT NULL DEFAULT '';
ALTER TABLE rounds ADD COLUMN closed_at TIMESTAMP;

-- Key tasks (nhiệm vụ trọng tâm): the owner's, and each unit's own additions for the units below it.
CREATE TABLE round_tasks (
    id INTEGER PRIMARY KEY NOT NULL,
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    unit_id INTEGER NOT NULL REFERENCES units (id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX round_tasks_round_id ON round_tasks (round_id, unit_id);

ALTER TABLE reports ADD COLUMN included_json TEXT;
