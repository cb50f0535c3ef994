-- The live store of a twin (var/<twin>.live.duckdb): what users create while the server runs. Unlike the build
-- store it is written at run time and survives rebuilds. Created if missing; every statement is idempotent.

CREATE TABLE IF NOT EXISTS scenarios (
    scenario_id  VARCHAR PRIMARY KEY,      -- SHA-256 of the canonical spec: same measures, same id
    name         VARCHAR NOT NULL,
    version      INTEGER NOT NULL,         -- 1, 2, ... per name and visibility, in the order they were saved
    description  VARCHAR NOT NULL,
    spec         JSON NOT NULL,
    measures     INTEGER NOT NULL,
    created_at   TIMESTAMP NOT NULL         -- UTC
);

-- Citizens' places (twin3d.participation). Texts are plain text as given, never HTML: clients render them escaped.
-- Participants are anonymous: the server hands out a random token and keeps only its SHA-256. Client addresses are
-- kept only as ip_hash, an HMAC keyed with the twin's secret and the day, so they cannot be read back or linked
-- across days. Neither hash, the self-description nor the remarks leave the server in any public payload.
CREATE SEQUENCE IF NOT EXISTS comment_ids START 1;
CREATE SEQUENCE IF NOT EXISTS report_ids START 1;
CREATE SEQUENCE IF NOT EXISTS moderation_ids START 1;
CREATE SEQUENCE IF NOT EXISTS remark_ids START 1;

CREATE TABLE IF NOT EXISTS participants (
    participant  VARCHAR PRIMARY KEY,      -- SHA-256 (hex) of the token the participant holds
    ip_hash      VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL        -- UTC
);

-- Participants who joined with a workshop code (twin3d.participation.workshops): the code's quota is counted here,
-- and their writes are limited per token and per workshop instead of per address. The codes themselves (hashed) are
-- kept in var/workshops.json, which the CLI can edit while the server runs.
CREATE TABLE IF NOT EXISTS workshop_participants (
    participant  VARCHAR PRIMARY KEY,      -- as in participants
    workshop     VARCHAR NOT NULL,         -- the workshop's id (ws_...)
    created_at   TIMESTAMP NOT NULL        -- UTC
);

CREATE TABLE IF NOT EXISTS places (
    place_id     BIGINT PRIMARY KEY,       -- counted by the server (LiveStore.next_id), the file's only writer
    kind         VARCHAR NOT NULL,         -- happy | improvable
    category     VARCHAR NOT NULL,         -- an id of the twin's [participation] categories
    title        VARCHAR NOT NULL,
    text         VARCHAR NOT NULL,
    lon          DOUBLE NOT NULL,
    lat          DOUBLE NOT NULL,
    building_id  VARCHAR,                  -- the building the pin sits on, if one was picked
    height       DOUBLE,                   -- metres above the ground where the pin sits (on a building: its roof)
    h3_10        UBIGINT NOT NULL,         -- the H3 res-10 cell of (lon, lat), for clusters and the lens
    age_band     VARCHAR,                  -- voluntary self-description, read only by the representation lens
    household    VARCHAR,
    status       VARCHAR NOT NULL,         -- new | visible | hidden | answered
    answer       VARCHAR,                  -- the administration's official answer, public with the place
    answered_at  TIMESTAMP,
    participant  VARCHAR NOT NULL,
    ip_hash      VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS votes (
    place_id     BIGINT NOT NULL,
    participant  VARCHAR NOT NULL,
    value        TINYINT NOT NULL,         -- +1 or -1; voting again replaces the value
    ip_hash      VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (place_id, participant)
);

CREATE TABLE IF NOT EXISTS comments (
    comment_id   BIGINT PRIMARY KEY DEFAULT nextval('comment_ids'),
    place_id     BIGINT NOT NULL,
    parent_id    BIGINT,                   -- the comment answered; replies to replies are refused
    text         VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,         -- new | visible | hidden
    participant  VARCHAR NOT NULL,
    ip_hash      VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS reports (
    report_id    BIGINT PRIMARY KEY DEFAULT nextval('report_ids'),
    place_id     BIGINT NOT NULL,
    comment_id   BIGINT NOT NULL,          -- 0: the place itself
    reason       VARCHAR NOT NULL,
    text         VARCHAR NOT NULL,
    participant  VARCHAR NOT NULL,
    ip_hash      VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    resolved_at  TIMESTAMP,                -- set when a moderator acted on the target
    UNIQUE (place_id, comment_id, participant)
);

CREATE TABLE IF NOT EXISTS moderation_log (
    entry_id     BIGINT PRIMARY KEY DEFAULT nextval('moderation_ids'),
    place_id     BIGINT NOT NULL,
    comment_id   BIGINT NOT NULL,          -- 0: the place itself
    action       VARCHAR NOT NULL,         -- show | hide | answer | auto_hide
    from_status  VARCHAR NOT NULL,
    to_status    VARCHAR NOT NULL,
    reason       VARCHAR NOT NULL,
    moderator    VARCHAR NOT NULL,         -- a user name, or 'auto'
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS remarks (
    remark_id    BIGINT PRIMARY KEY DEFAULT nextval('remark_ids'),
    place_id     BIGINT NOT NULL,
    text         VARCHAR NOT NULL,         -- internal: only the administration reads it
    author       VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL
);
