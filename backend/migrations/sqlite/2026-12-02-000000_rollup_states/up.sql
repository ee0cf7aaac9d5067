-- Live consolidations: for every unit with units below it in a round's tree, the mergeable
-- aggregation state of the communes below it, as accepted and as provisional (accepted and
-- submitted), and who has filed. Kept in step, in the same transaction, with every change
-- that moves them, so that a rollup merges its children's states instead of re-reading every
-- report below.
CREATE TABLE rollup_states (
    round_id INTEGER NOT NULL REFERENCES rounds (id),
    unit_id INTEGER NOT NULL REFERENCES units (id),
    accepted TEXT NOT NULL,
    provisional TEXT NOT NULL,
    completeness TEXT NOT NULL,
    -- Changes with every write (random across processes): a server that holds a state in
    -- memory uses it only while the stamp is the one stored.
    stamp BIGINT NOT NULL,
    PRIMARY KEY (round_id, unit_id)
);
