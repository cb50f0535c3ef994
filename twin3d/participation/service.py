"""Citizens' places as the server offers them: checks, limits and roles around :mod:`twin3d.participation.store`.

One :class:`Participation` lives per app. It knows each twin's ``[participation]`` settings, asks its
:class:`twin3d.participation.guard.Guard` for address hashes and rate limits, and decides what each role may see.
The rules against abuse, in full:

- Writing needs an anonymous participant token (``POST .../participants``), sent as ``X-Participant-Token``; only
  its SHA-256 is stored. Tokens are limited per address (``participants_per_hour``), so clearing cookies does not
  give anyone an endless supply; a workshop code (:mod:`twin3d.participation.workshops`) gives tokens up to its
  quota instead, for a room of people behind one router.
- Places, comments and reports are limited per address (``posts_per_minute``) and per token
  (``participant_posts_per_minute``); votes per address and per token (``votes_per_minute``). Participants of an
  open workshop are limited per token and per workshop instead of per address (:mod:`twin3d.participation.guard`).
- Votes: one per token and place (voting again replaces the value), and at most ``votes_per_place_per_address``
  tokens may vote on one place from one address per day (workshop participants aside). The address is its keyed,
  daily hash.
- A filled-in honeypot field (``website``) is refused with a 422 that does not say which field tripped it.
- Refusals a citizen can meet carry a German and English message (:mod:`twin3d.participation.refusals`).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from h3ronpy.vector import coordinates_to_cells
from pydantic import ValidationError

from twin3d.errors import AuthError, ConfigError, ForbiddenError, InputError, NotFoundError
from twin3d.participation import export, moderation, review
from twin3d.participation import store as sql
from twin3d.participation.buildings import BuildingIndex
from twin3d.participation.guard import Action, Guard
from twin3d.participation.lens import Persona, representation
from twin3d.participation.model import (
    AGE_BANDS,
    HOUSEHOLDS,
    KINDS,
    REPORT_REASONS,
    STAGES,
    CommentIn,
    ModerationIn,
    PlaceIn,
    ReportIn,
)
from twin3d.participation.ratelimit import token_hash
from twin3d.participation.refusals import workshop_full
from twin3d.participation.surveys.store import lens_table
from twin3d.participation.workshops import Workshop, read_workshops
from twin3d.pipeline.config import ParticipationSection
from twin3d.store.live import LiveStore, LiveStores
from twin3d.tomlfile import read_toml

PARTICIPANT_HEADER = "X-Participant-Token"
LENS_RESOLUTIONS: dict[str, tuple[int, ...]] = {"public": (8,), "council": (8, 9), "admin": (8, 9)}
"""The lens's H3 resolutions per role: finer cells only for the council and the administration."""
MAX_KNOWN = 1_000_000  # participants remembered per twin before the memory starts afresh
_NO_TEXT = pa.array([], pa.string())


@dataclass(frozen=True)
class Caller:
    """Who makes a request.

    Attributes:
        role: public, council or admin (from the bearer token).
        token: the anonymous participant token, if sent.
        client: the client's address; hashed at once, never stored.
        user: the user name of a bearer token, for the moderation log.
    """

    role: str = "public"
    token: str | None = None
    client: str = "unknown"
    user: str | None = None


@dataclass(frozen=True)
class TwinRef:
    """What the service needs of a served twin.

    Attributes:
        name: the twin's name.
        bbox: its extent (west, south, east, north) in degrees, or None.
        cursor: a new cursor on its read-only build store.
        build: what tells this build of the twin from another (caches of the build store are kept by it).
    """

    name: str
    bbox: tuple[float, float, float, float] | None
    cursor: Callable[[], duckdb.DuckDBPyConnection]
    build: Hashable = None


def check_honeypot(value: str) -> None:
    """Refuse what a bot filled in; the message does not name the field, so it teaches the bot nothing.

    Raises:
        InputError: the honeypot is not empty.
    """
    if value:
        raise InputError("the request could not be accepted", hint="reload the page and try again")


def lies_outside(bbox: tuple[float, float, float, float] | None, lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies outside a twin's extent (west, south, east, north); never without an extent."""
    if bbox is None:
        return False
    west, south, east, north = bbox
    return not (west <= lon <= east and south <= lat <= north)


def cell_10(lon: float, lat: float) -> int:
    """The H3 resolution-10 cell of a point: where the lens and the clusters count a place or a proposal."""
    return int(np.asarray(coordinates_to_cells(np.array([lat]), np.array([lon]), 10))[0])


def read_section(pipeline_file: Path) -> ParticipationSection:
    """The ``[participation]`` table of a pipeline definition; defaults when the file or the table is missing.

    Raises:
        ConfigError: the table is invalid (the message names the field).
    """
    if not pipeline_file.is_file():
        return ParticipationSection()
    raw = read_toml(pipeline_file, "pipeline definition")
    try:
        return ParticipationSection.model_validate(raw.get("participation", {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("participation", *first["loc"]))
        raise ConfigError(f"invalid value at {where}: {first['msg']}", file=pipeline_file) from exc


LENS_SCHEMA = pa.schema(
    [("h3_10", pa.uint64()), ("age_band", pa.string()), ("household", pa.string()), ("participant", pa.string())]
)
"""The self-descriptions the representation lens reads (H3 cells are unsigned, as everywhere in the twin)."""


class Participation:
    """Places, votes, comments, reports, moderation and the lens for every twin of one server.

    Args:
        live: the live stores (shared with scenarios).
        pipelines_dir: where ``<twin>.toml`` holds each twin's ``[participation]`` table.
        key_file: the secret file for address hashes of a twin.
        guard: address hashes, rate limits and workshop codes (shared with scenario submissions).
    """

    def __init__(self, live: LiveStores, pipelines_dir: Path, guard: Guard) -> None:
        self.live = live
        self.pipelines_dir = pipelines_dir
        self.guard = guard
        self.settings = guard.settings
        self._configs: dict[str, ParticipationSection] = {}
        self._buildings: dict[tuple[str, Hashable], BuildingIndex] = {}
        self._known: dict[str, dict[str, str | None]] = {}  # twin -> participant -> workshop id (or None)
        self._lock = threading.Lock()

    def config(self, twin: str) -> ParticipationSection:
        """The twin's ``[participation]`` settings (read once)."""
        with self._lock:
            if twin not in self._configs:
                self._configs[twin] = read_section(self.pipelines_dir / f"{twin}.toml")
            return self._configs[twin]

    def public_config(self, twin: str) -> dict[str, Any]:
        """What a client needs to build the forms: categories, kinds, lists, limits, moderation mode."""
        cfg = self.config(twin)
        return {
            "categories": [c.model_dump() for c in cfg.categories],
            "topics": [c.model_dump() for c in cfg.categories],  # a proposal's topic is one of the categories
            "stages": list(STAGES),
            "kinds": list(KINDS),
            "age_bands": list(AGE_BANDS),
            "households": list(HOUSEHOLDS),
            "report_reasons": list(REPORT_REASONS),
            "moderation": cfg.moderation,
            "participant_header": PARTICIPANT_HEADER,
            "limits": {"title": 120, "text": 1000, "body_bytes": self.settings.max_body_bytes},
        }

    def address(self, twin: str, client: str) -> str:
        """The keyed daily hash of a client address for ``twin``."""
        return self.guard.address(twin, client)

    def _store(self, twin: str, *, create: bool) -> LiveStore | None:
        return self.live.get(twin, create=create)

    def _member(self, twin: str, participant: str) -> tuple[bool, str | None]:
        """Whether the participant is known, and its workshop; remembered, since neither ever changes."""
        known = self._known.get(twin, {})
        if participant in known:
            return True, known[participant]
        store = self._store(twin, create=False)
        found, workshop = sql.participant_workshop(store, participant) if store is not None else (False, None)
        if found:
            self._remember(twin, participant, workshop)
        return found, workshop

    def _remember(self, twin: str, participant: str, workshop: str | None) -> None:
        with self._lock:
            known = self._known.setdefault(twin, {})
            if len(known) >= MAX_KNOWN:
                known.clear()
            known[participant] = workshop

    def writer(self, twin: str, caller: Caller, action: Action) -> tuple[LiveStore, sql.Author, Workshop | None]:
        """Limits and identity of a write: the live store, the author (participant and address hashes), and the
        open workshop the participant joined, if any."""
        ip_hash = self.address(twin, caller.client)
        participant = token_hash(caller.token) if caller.token else None
        known, workshop_id = self._member(twin, participant) if participant else (False, None)
        workshop = self.guard.open_workshop(workshop_id)
        self.guard.write(twin, action, ip_hash, participant if known else None, workshop)
        if participant is None:
            raise AuthError(
                "a participant token is needed to take part",
                record=PARTICIPANT_HEADER,
                hint=f"POST /api/twins/{twin}/participants and send the token as {PARTICIPANT_HEADER}",
            )
        store = self._store(twin, create=True)
        assert store is not None
        return store, sql.Author(participant, ip_hash, known=known), workshop

    def new_participant(self, twin: str, client: str, workshop_code: str | None = None) -> tuple[str, Workshop | None]:
        """A new anonymous participant token (shown once; only its hash is stored), and the workshop it joined.

        Raises:
            RateLimitError: too many new tokens, or wrong codes, from this address.
            InputError: an unknown workshop code.
            GoneError: an expired workshop code.
            ConflictError: the workshop's quota is used up.
        """
        ip_hash = self.address(twin, client)
        workshop = self.guard.new_participant(twin, ip_hash, workshop_code)
        token = secrets.token_urlsafe(24)
        store = self._store(twin, create=True)
        assert store is not None
        participant = token_hash(token)
        if workshop is None:
            sql.add_participant(store, participant, ip_hash)
        elif not sql.add_participant(store, participant, ip_hash, workshop=workshop.workshop_id, quota=workshop.quota):
            raise workshop_full(workshop.label, workshop.quota)
        self._remember(twin, participant, workshop.workshop_id if workshop else None)
        return token, workshop

    def workshops(self, twin: str) -> list[dict[str, Any]]:
        """The twin's workshops for the administration, each with how many have joined (never a code)."""
        store = self._store(twin, create=False)
        joined = sql.workshop_counts(store) if store is not None else {}
        return [
            {**w.public(), "joined": joined.get(w.workshop_id, 0), "expired": w.expired()}
            for w in read_workshops(self.guard.workshops.path, twin)
        ]

    def _check_location(self, twin: TwinRef, place: PlaceIn) -> float | None:
        """Inside the twin, and on an existing building when one is named; returns the pin's height."""
        loc = place.location
        if lies_outside(twin.bbox, loc.lon, loc.lat):
            raise InputError(
                "location lies outside the twin", record="location", hint="pick a point on the map of the twin"
            )
        if loc.building_id is None:
            return None
        with self._lock:
            buildings = self._buildings.get((twin.name, twin.build))
            if buildings is None:  # this build's footprints; an older build's index goes
                self._buildings = {k: v for k, v in self._buildings.items() if k[0] != twin.name}
                buildings = self._buildings[(twin.name, twin.build)] = BuildingIndex(twin.cursor())
        return buildings.pin_height(loc.building_id, loc.lon, loc.lat, loc.height)

    def submit_place(self, twin: TwinRef, place: PlaceIn, caller: Caller) -> dict[str, Any]:
        """Check and store a new place; returns its public payload (status ``new`` under pre-moderation)."""
        store, author, _ = self.writer(twin.name, caller, "post")
        check_honeypot(place.website)
        cfg = self.config(twin.name)
        if place.category not in {c.id for c in cfg.categories}:
            raise InputError(
                f"unknown category {place.category!r}",
                record="category",
                hint=f"one of {', '.join(c.id for c in cfg.categories)}",
            )
        height = self._check_location(twin, place)
        cell = cell_10(place.location.lon, place.location.lat)
        return sql.add_place(
            store, place, author, status=moderation.initial_status(cfg.moderation), h3_10=cell, height=height
        )

    def list_places(self, twin: str, role: str, query: sql.PlaceQuery) -> str:
        """The places of a view as JSON (pins or clusters); the council and the administration get status counts.

        Raises:
            ForbiddenError: the query asks for statuses the role may not see.
        """
        allowed = moderation.place_statuses(role)
        if not set(query.statuses) <= set(allowed):
            raise ForbiddenError(
                "only the administration sees new and hidden places",
                hint=f"status may be {', '.join(allowed)} for this role",
            )
        store = self._store(twin, create=False)
        if store is None:
            empty = {"mode": "pins", "total": 0, "offset": query.offset, "limit": query.limit, query.family.plural: []}
            return json.dumps(empty)
        listing = sql.list_places(store, query)
        if role == "public":
            return listing
        counts = sql.status_counts(store, query.family)
        # The listing is a JSON object built by DuckDB: the counts go in before its closing brace.
        return listing[:-1] + ',"counts":' + json.dumps(counts, separators=(",", ":")) + "}"

    def place(self, twin: str, place_id: int, role: str, family: sql.Family = sql.PLACES) -> dict[str, Any]:
        """One place (or proposal); the administration's view adds open reports, remarks and the moderation
        history."""
        store = self._store(twin, create=False)
        admin = role == "admin"
        statuses = moderation.place_statuses(role)
        found = sql.place(store, place_id, statuses, admin=admin, family=family) if store else None
        if store is None or found is None:
            raise sql.not_found(place_id, family)
        if admin:
            found["remarks"] = review.remarks(store, place_id)
            found["moderation"] = review.moderation_log(store, place_id)
        return found

    def vote(
        self, twin: str, place_id: int, value: int, caller: Caller, family: sql.Family = sql.PLACES
    ) -> dict[str, Any]:
        """Vote on a place or proposal (see the module docstring for the rules)."""
        store, author, workshop = self.writer(twin, caller, "vote")
        return sql.vote(
            store,
            place_id,
            value,
            author,
            statuses=moderation.place_statuses(caller.role),
            per_address=None if workshop is not None else self.settings.votes_per_place_per_address,
            family=family,
        )

    def comment(
        self, twin: str, place_id: int, comment: CommentIn, caller: Caller, family: sql.Family = sql.PLACES
    ) -> dict[str, Any]:
        """Comment on a place or proposal, or reply to a comment (one level)."""
        store, author, _ = self.writer(twin, caller, "post")
        check_honeypot(comment.website)
        return sql.add_comment(
            store,
            place_id,
            comment,
            author,
            status=moderation.initial_status(self.config(twin).moderation),
            statuses=moderation.place_statuses(caller.role),
            family=family,
        )

    def comments(self, twin: str, place_id: int, role: str, family: sql.Family = sql.PLACES) -> list[dict[str, Any]]:
        """A place's (or proposal's) comments with their replies, as ``role`` may see them."""
        self.place(twin, place_id, role, family)
        store = self._store(twin, create=False)
        assert store is not None
        return sql.comments(store, place_id, moderation.comment_statuses(role))

    def report(
        self, twin: str, place_id: int, report: ReportIn, caller: Caller, family: sql.Family = sql.PLACES
    ) -> dict[str, Any]:
        """Report a place, proposal or comment; enough open reports hide it."""
        store, author, _ = self.writer(twin, caller, "post")
        return sql.add_report(
            store,
            place_id,
            report,
            author,
            statuses=moderation.place_statuses(caller.role),
            threshold=self.config(twin).auto_hide_reports,
            family=family,
        )

    def moderate(
        self,
        twin: str,
        place_id: int,
        decision: ModerationIn,
        moderator: str,
        *,
        comment_id: int | None = None,
        family: sql.Family = sql.PLACES,
    ) -> dict[str, Any]:
        """A moderator's decision (the router admits only the administration)."""
        store = self._store(twin, create=False)
        if store is None:
            raise sql.not_found(place_id, family)
        if comment_id is not None and decision.action == "answer":
            raise InputError("comments cannot be answered officially", record="action", hint="show or hide")
        return review.moderate(store, place_id, decision, moderator=moderator, comment_id=comment_id, family=family)

    def queue(self, twin: str, limit: int) -> list[dict[str, Any]]:
        """The moderation queue."""
        store = self._store(twin, create=False)
        return review.queue(store, limit) if store is not None else []

    def remarks(self, twin: str, place_id: int) -> list[dict[str, Any]]:
        """Internal remarks on a place."""
        self.place(twin, place_id, "admin")
        store = self._store(twin, create=False)
        assert store is not None
        return review.remarks(store, place_id)

    def add_remark(self, twin: str, place_id: int, text: str, author: str) -> dict[str, Any]:
        """Add an internal remark."""
        store = self._store(twin, create=False)
        if store is None:
            raise NotFoundError(f"no place {place_id}")
        return review.add_remark(store, place_id, text, author=author)

    def lens(self, twin: TwinRef, role: str, resolution: int) -> dict[str, Any]:
        """The representation lens at ``resolution``.

        Raises:
            ForbiddenError: the role may not ask for this resolution.
            NotFoundError: the twin has no published population.
        """
        allowed = LENS_RESOLUTIONS.get(role, ())
        if resolution not in allowed:
            raise ForbiddenError(
                f"resolution {resolution} is not open to this role", hint=f"resolutions: {allowed or 'none'}"
            )
        cur = twin.cursor()
        try:
            rows = cur.execute("SELECT persona_id, name, name_en, rule FROM personas ORDER BY position").fetchall()
        except duckdb.CatalogException:
            rows = []
        if not rows:
            raise NotFoundError("this twin has no population to compare with", hint="add [population] and rebuild")
        personas = [Persona(pid, name, name_en, json.loads(rule)) for pid, name, name_en, rule in rows]
        population = cur.execute(
            "SELECT h3, cell_resolution, persona, persons, lon, lat FROM population_public "
            "WHERE scenario = 'baseline' AND resolution = ? ORDER BY h3, persona",
            [resolution],
        ).to_arrow_table()
        store = self._store(twin.name, create=False)
        places = (
            store.read_arrow(
                "SELECT h3_10, age_band, household, participant FROM places WHERE status <> 'hidden' "
                "ORDER BY created_at, place_id",
                schema=LENS_SCHEMA,
            )
            if store is not None
            else LENS_SCHEMA.empty_table()
        )
        return representation(
            places,
            population,
            personas,
            resolution=resolution,
            min_count=self.config(twin.name).lens_min_contributions,
            unplaced=lens_table(store),  # survey answers' self-descriptions, town-wide
        )

    def geojson(
        self, twin: str, bbox: tuple[float, float, float, float] | None, family: sql.Family = sql.PLACES
    ) -> bytes:
        """The public places (or proposals) as GeoJSON."""
        return export.geojson(self._store(twin, create=False), bbox, family)

    def csv(self, twin: str, bbox: tuple[float, float, float, float] | None, family: sql.Family = sql.PLACES) -> bytes:
        """The public places (or proposals) as CSV."""
        return export.csv(self._store(twin, create=False), bbox, family)
