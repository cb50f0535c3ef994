-- The live store of a twin (var/<twin>.live.duckdb): what users create while the server runs. Unlike the build
-- store it is written at run time and survives rebuilds. Created if missing; every statement is idempotent.

CREATE TABLE IF NOT EXISTS scenarios (
    scenario_id  VARCHAR PRIMARY KEY,      -- SHA-256 of the canonical spec: same measures, same id
    name         VARCHAR NOT NULL,
    version      INTEGER NOT NULL,         -- 1, 2, ... per name, in the order they were saved
    description  VARCHAR NOT NULL,
    spec         JSON NOT NULL,
    measures     INTEGER NOT NULL,
    created_at   TIMESTAMP NOT NULL         -- UTC
);
