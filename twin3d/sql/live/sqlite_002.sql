-- Version 2: citizens' proposals (ideas) and unlisted public scenarios.
--
-- A proposal is a row of places with kind 'idea': it shares the ids, votes, comments, reports, moderation and the
-- representation lens with the places, and adds an area, the measures it proposes (stored as a scenario), the
-- administration's official scenario and its stage. Votes are also counted on the row, in the transaction that
-- casts them, so that a listing sorted by votes reads no vote (a town's proposals gather a million votes).

ALTER TABLE places ADD COLUMN area TEXT;                    -- a proposal's area: GeoJSON polygon (lon/lat), or NULL
ALTER TABLE places ADD COLUMN scenario_id TEXT;             -- the proposal's own measures as a stored scenario
ALTER TABLE places ADD COLUMN official_scenario_id TEXT;    -- a scenario the administration attached instead
ALTER TABLE places ADD COLUMN stage TEXT;                   -- proposals: under_review | simulated | adopted | rejected
ALTER TABLE places ADD COLUMN stage_reason TEXT;
ALTER TABLE places ADD COLUMN gainers INTEGER;              -- residents who gain in the simulation (published units)
ALTER TABLE places ADD COLUMN votes_up INTEGER NOT NULL DEFAULT 0;
ALTER TABLE places ADD COLUMN votes_down INTEGER NOT NULL DEFAULT 0;
UPDATE places SET
    votes_up = (SELECT count(*) FROM votes AS v WHERE v.place_id = places.place_id AND v.value > 0),
    votes_down = (SELECT count(*) FROM votes AS v WHERE v.place_id = places.place_id AND v.value < 0);
-- Every listing reads this index alone (a map view of 30,000 proposals scans no row of the table): the view's
-- count and clusters, and the page of ids in any order; only the page's rows are read afterwards.
CREATE INDEX places_listing ON places
    (kind, status, lon, lat, category, stage, h3_10, votes_up, votes_down, gainers, created_at);
-- A vote checks how many others voted on the place from the same address today (the address hash changes daily).
CREATE INDEX votes_place_address ON votes (place_id, ip_hash);

-- Scenarios stored by the public are reachable by their id but listed only through a moderated proposal; those of
-- the council and the administration are listed. Public scenarios stored before are unlisted (the administration
-- lists one again with POST .../scenarios/{id}/listing).
ALTER TABLE scenarios ADD COLUMN listed INTEGER NOT NULL DEFAULT 1;
UPDATE scenarios SET listed = 0 WHERE visibility = 'public';
