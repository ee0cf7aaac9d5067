-- The team's roster (point 1 of Công văn 409), and what a report's organisation figures were
-- pre-filled with, with the reasons given where the filer changed them.

CREATE TABLE team_members (
    id INTEGER PRIMARY KEY NOT NULL,
    unit_id INTEGER NOT NULL REFERENCES units (id),
    full_name TEXT NOT NULL,
    -- to_truong | to_pho | thanh_vien
    position TEXT NOT NULL,
    -- The other post held (kiêm nhiệm), or none.
    other_post TEXT,
    -- nam | nu
    sex TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    education TEXT NOT NULL,
    theory TEXT NOT NULL,
    joined_on DATE NOT NULL,
    left_on DATE,
    version INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by INTEGER REFERENCES accounts (id)
);
CREATE INDEX team_members_unit_id ON team_members (unit_id);

ALTER TABLE reports ADD COLUMN prefill_json TEXT;
