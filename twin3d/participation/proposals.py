"""Citizens' proposals (ideas) with simulated effects: what the server adds to the places machinery for them.

A proposal is a row of the places table with kind ``idea`` (:data:`twin3d.participation.store.PROPOSALS`): ids,
votes, comments, reports, moderation (pre or post, reasons, official answer) and the abuse limits are the places'
own (:class:`twin3d.participation.service.Participation` with ``family=PROPOSALS``). What is new here:

- a proposal may carry measures in the scenario vocabulary (a Kita here, a green space there, homes on a parking
  lot); they are stored as a public scenario that is reachable by its id and listed only through the proposal;
- its stage, which the administration sets with a reason the public reads: ``under_review`` (the start),
  ``simulated`` (the measures, or an official scenario the administration attached instead, were run through the
  privacy gate and their verdict per persona is shown), ``adopted`` and ``rejected``. Each change is written to the
  moderation log;
- how many residents gain in the simulation, kept on the row so that a list sorted by it reads no simulation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import shapely

from twin3d.errors import InputError
from twin3d.participation import moderation
from twin3d.participation import store as sql
from twin3d.participation.model import ProposalIn, StageIn
from twin3d.participation.service import Caller, Participation, TwinRef, cell_10, check_honeypot, lies_outside
from twin3d.participation.store import PROPOSALS, Author, iso, place_status
from twin3d.simulation.scenario import GEOMETRY_FIELDS, ScenarioSpec
from twin3d.store.live import Cursor, LiveStore, utc_now

SaveMeasures = Callable[[ScenarioSpec], str]
"""Stores a proposal's measures as an unlisted public scenario after checking them against the twin; returns its
id (the router supplies it: the check needs the served twin)."""

_COLUMNS = (
    "kind", "category", "title", "text", "lon", "lat", "h3_10", "area", "scenario_id", "stage", "age_band",
    "household", "status", "participant", "ip_hash", "created_at", "updated_at",
)  # fmt: skip
_INSERT = (
    f"INSERT INTO places ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)}) RETURNING place_id"
)


def where_of(proposal: ProposalIn) -> tuple[float, float]:
    """The proposal's point: as given, else inside its area, else on its first measure's geometry."""
    if proposal.location is not None:
        return proposal.location.lon, proposal.location.lat
    shape: shapely.Geometry | None = proposal.area.shape() if proposal.area is not None else None
    for measure in proposal.measures:
        if shape is not None:
            break
        for field in GEOMETRY_FIELDS:
            geometry = getattr(measure, field, None)
            if geometry is not None:
                shape = geometry.shape()
                break
    if shape is None:
        raise InputError(
            "the measures say nowhere where the proposal is",
            record="location",
            hint="give a location or an area, or draw a measure on the map",
        )
    point = shape.representative_point()
    return float(point.x), float(point.y)


def measures_spec(proposal: ProposalIn) -> ScenarioSpec | None:
    """The proposal's measures as a public scenario named after it; None without measures."""
    if not proposal.measures:
        return None
    return ScenarioSpec(name=proposal.title, description=proposal.text, measures=proposal.measures)


class Proposals:
    """Submitting proposals, their stages and the official scenario, for every twin of one server.

    Args:
        places: the participation service (tokens, limits, moderation), shared with the places.
    """

    def __init__(self, places: Participation) -> None:
        self.places = places

    def submit(
        self, twin: TwinRef, proposal: ProposalIn, caller: Caller, save_measures: SaveMeasures
    ) -> dict[str, Any]:
        """Check and store a new proposal; returns it as the caller sees it (status ``new`` under pre-moderation).

        Raises:
            AuthError, RateLimitError: as for places.
            InputError: an unknown topic, a point outside the twin, or measures the twin cannot take.
        """
        store, author, _ = self.places.writer(twin.name, caller, "post")
        check_honeypot(proposal.website)
        cfg = self.places.config(twin.name)
        topics = [c.id for c in cfg.categories]
        if proposal.topic not in topics:
            raise InputError(f"unknown topic {proposal.topic!r}", record="topic", hint=f"one of {', '.join(topics)}")
        lon, lat = where_of(proposal)
        if lies_outside(twin.bbox, lon, lat):
            raise InputError(
                "the proposal lies outside the twin",
                record="area" if proposal.location is None else "location",
                hint="place it on the map of the twin",
            )
        spec = measures_spec(proposal)
        scenario_id = save_measures(spec) if spec is not None else None
        cell = cell_10(lon, lat)
        now = utc_now()
        me = proposal.self_description
        row = {
            "kind": "idea",
            "category": proposal.topic,
            "title": proposal.title,
            "text": proposal.text,
            "lon": lon,
            "lat": lat,
            "h3_10": cell,
            "area": json.dumps(proposal.area.model_dump(mode="json")) if proposal.area is not None else None,
            "scenario_id": scenario_id,
            "stage": "under_review",
            "age_band": me.age_band if me else None,
            "household": me.household if me else None,
            "status": moderation.initial_status(cfg.moderation),
            "participant": author.participant,
            "ip_hash": author.ip_hash,
            "created_at": now,
            "updated_at": now,
        }
        proposal_id = store.write(lambda cur: _insert(cur, row, author))
        return {
            "proposal_id": proposal_id,
            "title": proposal.title,
            "text": proposal.text,
            "topic": proposal.topic,
            "status": row["status"],
            "stage": "under_review",
            "stage_reason": None,
            "location": {"lon": lon, "lat": lat},
            "area": proposal.area.model_dump(mode="json") if proposal.area is not None else None,
            "scenario_id": scenario_id,
            "official_scenario_id": None,
            "gainers": None,
            "votes": {"up": 0, "down": 0, "score": 0},
            "comments": 0,
            "answer": None,
            "answered_at": None,
            "created_at": iso(now),
        }

    def _existing(self, twin: str, proposal_id: int) -> LiveStore:
        store = self.places.live.get(twin, create=False)
        if store is None:
            raise sql.not_found(proposal_id, PROPOSALS)
        return store

    def scenario_of(self, twin: str, proposal_id: int, role: str) -> tuple[str | None, bool, str]:
        """The scenario that stands for a proposal the caller may see: (its id or None, official, the stage).

        Raises:
            NotFoundError: no proposal the caller may see.
        """
        found = self.places.place(twin, proposal_id, role, PROPOSALS)
        official = found["official_scenario_id"]
        return (official or found["scenario_id"]), official is not None, str(found["stage"])

    def set_stage(
        self, twin: str, proposal_id: int, change: StageIn, *, moderator: str, gainers: int | None = None
    ) -> dict[str, Any]:
        """Move a proposal to a stage and log it; ``gainers`` is stored when it is simulated (None: unknown).

        Raises:
            NotFoundError: no such proposal.
        """
        store = self._existing(twin, proposal_id)
        now = utc_now()

        def work(cur: Cursor) -> dict[str, Any]:
            place_status(cur, proposal_id, moderation.ALL_STATUSES, PROPOSALS)
            row = cur.execute("SELECT stage FROM places WHERE place_id = ?", [proposal_id]).fetchone()
            before = str(row[0]) if row else "under_review"
            if change.stage == "simulated":
                cur.execute(
                    "UPDATE places SET stage = ?, stage_reason = ?, gainers = ?, updated_at = ? WHERE place_id = ?",
                    [change.stage, change.reason or None, gainers, now, proposal_id],
                )
            else:
                cur.execute(
                    "UPDATE places SET stage = ?, stage_reason = ?, updated_at = ? WHERE place_id = ?",
                    [change.stage, change.reason or None, now, proposal_id],
                )
            moved = (before, change.stage)
            sql.log_moderation(
                cur, proposal_id, 0, action="stage", change=moved, reason=change.reason, by=moderator, at=now
            )
            return {"proposal_id": proposal_id, "from": before, "stage": change.stage, "gainers": gainers}

        return store.write(work)

    def attach(self, twin: str, proposal_id: int, scenario_id: str, *, moderator: str) -> dict[str, Any]:
        """Attach a stored public scenario as the proposal's official one; the proposal goes back to review,
        since what it shows changes (the administration simulates it again).

        Raises:
            NotFoundError: no such proposal.
            InputError: no such scenario, or one the public may not see.
        """
        store = self._existing(twin, proposal_id)
        spec = store.scenario_spec(scenario_id)
        if spec is None or spec.get("visibility", "public") != "public":
            raise InputError(
                f"no public scenario {scenario_id}",
                record="scenario_id",
                hint="store the scenario with visibility 'public' first: its verdict is shown to everyone",
            )
        now = utc_now()

        def work(cur: Cursor) -> dict[str, Any]:
            place_status(cur, proposal_id, moderation.ALL_STATUSES, PROPOSALS)
            row = cur.execute("SELECT stage FROM places WHERE place_id = ?", [proposal_id]).fetchone()
            before = str(row[0]) if row else "under_review"
            cur.execute(
                "UPDATE places SET official_scenario_id = ?, stage = 'under_review', gainers = NULL, updated_at = ? "
                "WHERE place_id = ?",
                [scenario_id, now, proposal_id],
            )
            sql.log_moderation(
                cur,
                proposal_id,
                0,
                action="official_scenario",
                change=(before, "under_review"),
                reason=scenario_id,
                by=moderator,
                at=now,
            )
            return {"proposal_id": proposal_id, "official_scenario_id": scenario_id, "stage": "under_review"}

        return store.write(work)


def _insert(cur: Cursor, row: dict[str, Any], author: Author) -> int:
    sql.require_participant(cur, author)
    found = cur.execute(_INSERT, row).fetchone()
    assert found is not None  # RETURNING gives the id
    return int(found[0])
