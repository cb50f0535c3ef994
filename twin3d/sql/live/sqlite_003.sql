-- Surveys of the administration and their answers (twin3d/participation/surveys). Each person answers once: a guest
-- by a confirmed e-mail address (double opt-in), or by a one-time invitation code. Neither the address nor the code
-- is kept: `person` is an HMAC of the normalised address or code, keyed with a secret derived from the twin's
-- participation key and salted with the survey, so hashes of two surveys cannot be linked and nobody without the
-- key can test an address against them. Confirmation tokens and codes are kept as hashes only.

CREATE TABLE surveys (
    survey_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    spec         TEXT NOT NULL,            -- JSON: title, intro, questions, self_description, access (de/en texts)
    state        TEXT NOT NULL,            -- draft | open | closed
    opens_at     TEXT,                     -- open only from then (optional)
    closes_at    TEXT,                     -- and until then (optional)
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE survey_responses (
    response_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    survey_id    INTEGER NOT NULL,
    person       TEXT NOT NULL,            -- keyed hash of the e-mail address or the invitation code, never either
    via          TEXT NOT NULL,            -- email | code
    status       TEXT NOT NULL,            -- pending (waits for its confirmation) | confirmed (counted)
    age_band     TEXT,                     -- voluntary self-description, read by the representation lens
    household    TEXT,
    confirm_hash TEXT,                     -- SHA-256 of the one-time confirmation token (e-mail answers)
    expires_at   TEXT,                     -- when a pending answer lapses
    created_at   TEXT NOT NULL,
    confirmed_at TEXT
);
-- One counted answer per person and survey, whichever worker process confirms.
CREATE UNIQUE INDEX survey_responses_once ON survey_responses (survey_id, person) WHERE status = 'confirmed';
CREATE INDEX survey_responses_person ON survey_responses (survey_id, person);
CREATE UNIQUE INDEX survey_responses_confirm ON survey_responses (confirm_hash);

CREATE TABLE survey_answers (
    response_id  INTEGER NOT NULL,
    survey_id    INTEGER NOT NULL,
    question     TEXT NOT NULL,            -- the question's id
    choice       TEXT,                     -- an option's id or a scale value; NULL for free text
    text         TEXT                      -- free text: read by the administration only
);
CREATE INDEX survey_answers_survey ON survey_answers (survey_id, question);
CREATE INDEX survey_answers_response ON survey_answers (response_id);

CREATE TABLE survey_codes (
    code_hash    TEXT PRIMARY KEY,         -- keyed hash of the invitation code (the code is shown once, when made)
    survey_id    INTEGER NOT NULL,
    batch        INTEGER NOT NULL,         -- 1, 2, ... per survey: one printed sheet
    created_at   TEXT NOT NULL,
    used_at      TEXT
);
CREATE INDEX survey_codes_survey ON survey_codes (survey_id, batch);
