DROP TABLE rollup_states;
