-- The live store of a twin on SQLite (<store_dir>/<twin>.live.sqlite, WAL): what users create while the server runs.
-- Unlike the build store it is written at run time by every worker process and survives rebuilds.
-- Texts are plain text as given, never HTML. Participants are anonymous: the server hands out a random token and
-- keeps only its SHA-256. Client addresses are kept only as ip_hash, an HMAC keyed with the twin's secret and the day.
-- Neither hash, the self-description nor the remarks leave the server in any public payload.
-- Timestamps are UTC, written as 'YYYY-MM-DD HH:MM:SS.ffffff' (sortable as text).

CREATE TABLE scenarios (
    scenario_id  TEXT PRIMARY KEY,         -- SHA-256 of the canonical spec: same measures, same id
    name         TEXT NOT NULL,
    version      INTEGER NOT NULL,         -- 1, 2, ... per name and visibility, in the order they were saved
    description  TEXT NOT NULL,
    spec         TEXT NOT NULL,            -- JSON
    measures     INTEGER NOT NULL,
    visibility   TEXT NOT NULL,            -- public | council | admin
    created_at   TEXT NOT NULL
);

CREATE TABLE participants (
    participant  TEXT PRIMARY KEY,         -- SHA-256 (hex) of the token the participant holds
    ip_hash      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- Participants who joined with a workshop code: the code's quota is counted here.
CREATE TABLE workshop_participants (
    participant  TEXT PRIMARY KEY,
    workshop     TEXT NOT NULL,            -- the workshop's id (ws_...)
    created_at   TEXT NOT NULL
);
CREATE INDEX workshop_participants_workshop ON workshop_participants (workshop);

CREATE TABLE places (
    place_id     INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
    kind         TEXT NOT NULL,            -- happy | improvable
    category     TEXT NOT NULL,
    title        TEXT NOT NULL,
    text         TEXT NOT NULL,
    lon          REAL NOT NULL,
    lat          REAL NOT NULL,
    building_id  TEXT,
    height       REAL,
    h3_10        INTEGER NOT NULL,         -- the H3 res-10 cell of (lon, lat); H3 indexes fit in 63 bits
    age_band     TEXT,                     -- voluntary self-description, read only by the representation lens
    household    TEXT,
    status       TEXT NOT NULL,            -- new | visible | hidden | answered
    answer       TEXT,
    answered_at  TEXT,
    participant  TEXT NOT NULL,
    ip_hash      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX places_status ON places (status, created_at);

CREATE TABLE votes (
    place_id     INTEGER NOT NULL,
    participant  TEXT NOT NULL,
    value        INTEGER NOT NULL,         -- +1 or -1; voting again replaces the value
    ip_hash      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (place_id, participant)
);

CREATE TABLE comments (
    comment_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    place_id     INTEGER NOT NULL,
    parent_id    INTEGER,                  -- the comment answered; replies to replies are refused
    text         TEXT NOT NULL,
    status       TEXT NOT NULL,            -- new | visible | hidden
    participant  TEXT NOT NULL,
    ip_hash      TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX comments_place ON comments (place_id);

CREATE TABLE reports (
    report_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    place_id     INTEGER NOT NULL,
    comment_id   INTEGER NOT NULL,         -- 0: the place itself
    reason       TEXT NOT NULL,
    text         TEXT NOT NULL,
    participant  TEXT NOT NULL,
    ip_hash      TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    resolved_at  TEXT,
    UNIQUE (place_id, comment_id, participant)
);

CREATE TABLE moderation_log (
    entry_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    place_id     INTEGER NOT NULL,
    comment_id   INTEGER NOT NULL,         -- 0: the place itself
    action       TEXT NOT NULL,            -- show | hide | answer | auto_hide
    from_status  TEXT NOT NULL,
    to_status    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    moderator    TEXT NOT NULL,            -- a user name, or 'auto'
    created_at   TEXT NOT NULL
);
CREATE INDEX moderation_log_place ON moderation_log (place_id);

CREATE TABLE remarks (
    remark_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    place_id     INTEGER NOT NULL,
    text         TEXT NOT NULL,            -- internal: only the administration reads it
    author       TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

-- Stores imported into this one (twin3d.store.live.legacy): each source once, even when two workers start together.
CREATE TABLE live_imports (
    source       TEXT PRIMARY KEY,
    rows         INTEGER NOT NULL
);
