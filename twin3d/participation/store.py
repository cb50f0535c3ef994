"""Named, parameterised SQL over the places tables of a twin's live store (``twin3d/sql/live/``).

Every write runs as one unit of work in :meth:`twin3d.store.live.LiveStore.write`: it checks first (participant,
place, parent comment) and writes after, and it returns only after its transaction is committed. Payloads are built
as JSON by the database, so a listing of hundreds of pins costs no Python work per pin. The SQL is written once for
both backends (SQLite, PostgreSQL); what they spell differently comes from the store's dialect. No payload built here
contains a participant hash, an address hash or a self-description; internal remarks have their own function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

from twin3d.errors import AuthError, InputError, NotFoundError
from twin3d.participation import moderation
from twin3d.participation.model import CommentIn, PlaceIn, ReportIn
from twin3d.participation.ratelimit import seconds_to_midnight
from twin3d.participation.refusals import limited
from twin3d.store.live import Cursor, Dialect, LiveStore, Many, utc_now

Sort = Literal["new", "old", "top", "gainers"]
ORDER_BY: dict[str, str] = {
    "new": "p.created_at DESC, p.place_id DESC",
    "old": "p.created_at, p.place_id",
    "top": "p.votes_up - p.votes_down DESC, p.place_id DESC",
    "gainers": "coalesce(p.gainers, -1) DESC, p.votes_up - p.votes_down DESC, p.place_id DESC",
}


@dataclass(frozen=True)
class Family:
    """Which rows of the places table a route works on: citizens' places, or their proposals (kind ``idea``).

    Both share ids, votes, comments, reports and moderation; a place's routes never find a proposal and the other
    way round.

    Attributes:
        noun: what one row is called in messages.
        kinds: the kinds of the family.
        plural: the key of a listing's rows, and the path of its routes.
        clusters: per cluster count, its name and the SQL condition over the row (``kind``, ``stage``).
    """

    noun: str
    kinds: tuple[str, ...]
    plural: str
    clusters: tuple[tuple[str, str], ...]


PLACES = Family(
    "place", ("happy", "improvable"), "places", (("happy", "kind = 'happy'"), ("improvable", "kind = 'improvable'"))
)
STAGES = ("under_review", "simulated", "adopted", "rejected")
PROPOSALS = Family("proposal", ("idea",), "proposals", tuple((s, f"stage = '{s}'") for s in STAGES))

# Visible comments and open reports per place, counted only for the places in {ids} (an SQL condition on place_id:
# one place, one page of a listing, or all of them). Votes are counted on the row (see sqlite_002.sql).
_JOINS = """
    LEFT JOIN (SELECT place_id, count(*) AS n FROM comments
               WHERE status = 'visible' AND {ids} GROUP BY place_id) AS c ON c.place_id = p.place_id
    LEFT JOIN (SELECT place_id, count(*) AS open FROM reports
               WHERE resolved_at IS NULL AND comment_id = 0 AND {ids} GROUP BY place_id) AS r ON r.place_id = p.place_id
"""
_ONE = _JOINS.format(ids="place_id = :one")
_PAGE = _JOINS.format(ids="place_id IN (SELECT place_id FROM page)")


def _filters(d: Dialect, query: PlaceQuery) -> str:
    """The conditions of a listing, only those the query sets (parameters: :meth:`PlaceQuery.params`)."""
    conditions = [d.within("p.kind", "kinds"), d.within("p.status", "statuses")]
    if query.category is not None:
        conditions.append("p.category = :category")
    if query.stage is not None:
        conditions.append("p.stage = :stage")
    if query.bbox is not None:
        conditions.append("p.lon BETWEEN :west AND :east AND p.lat BETWEEN :south AND :north")
    return " AND ".join(conditions)


@cache
def place_json(d: Dialect, admin: bool, family: Family = PLACES) -> str:
    """The SQL expression of one row's payload as JSON text; the administration's adds its open reports."""
    extra = ", 'reports_open', coalesce(r.open, 0)" if admin else ""
    obj = d.object_fn
    common = f"""
        'status', p.status,
        'votes', {obj}('up', p.votes_up, 'down', p.votes_down, 'score', p.votes_up - p.votes_down),
        'comments', coalesce(c.n, 0),
        'answer', p.answer, 'answered_at', {d.iso("p.answered_at")},
        'created_at', {d.iso("p.created_at")}{extra}"""
    if family is PROPOSALS:
        return d.json_text(f"""{obj}(
            'proposal_id', p.place_id, 'title', p.title, 'text', p.text, 'topic', p.category,
            'stage', p.stage, 'stage_reason', p.stage_reason,
            'location', {obj}('lon', p.lon, 'lat', p.lat), 'area', {d.parse_json("p.area")},
            'scenario_id', p.scenario_id, 'official_scenario_id', p.official_scenario_id, 'gainers', p.gainers,
            {common})""")
    return d.json_text(f"""{obj}(
        'place_id', p.place_id, 'kind', p.kind, 'category', p.category, 'title', p.title, 'text', p.text,
        'location', {obj}('lon', p.lon, 'lat', p.lat, 'building_id', p.building_id, 'height', p.height),
        {common})""")


@dataclass(frozen=True)
class PlaceQuery:
    """Which places a listing asks for.

    Attributes:
        statuses: the statuses the caller may see (:func:`moderation.place_statuses`).
        family: places or proposals.
        bbox: (west, south, east, north) in degrees, or None for all.
        kind: happy or improvable, or None (places only).
        category: a category id (a proposal's topic), or None.
        stage: a proposal's stage, or None.
        sort: new, old, top (most net votes) or gainers (most residents who gain, then votes).
        limit: the most pins returned.
        offset: pins skipped (paging).
        cluster_resolution: the H3 resolution of clusters when the view holds too many pins.
        cluster_above: more pins than this in the view are returned as clusters; None: always pins.
        admin: include what only the administration sees.
    """

    statuses: tuple[str, ...]
    family: Family = PLACES
    bbox: tuple[float, float, float, float] | None = None
    kind: str | None = None
    category: str | None = None
    stage: str | None = None
    sort: Sort = "new"
    limit: int = 100
    offset: int = 0
    cluster_resolution: int = 9
    cluster_above: int | None = 400
    admin: bool = False

    def params(self) -> dict[str, Any]:
        """The named SQL parameters of :func:`_filters`, only those it uses (PostgreSQL cannot type a NULL that
        stands alone, as in ``:kind IS NULL``; a condition left out needs no parameter)."""
        kinds = self.family.kinds if self.kind is None else (self.kind,)
        params: dict[str, Any] = {"statuses": Many(self.statuses), "kinds": Many(kinds)}
        if self.category is not None:
            params["category"] = self.category
        if self.stage is not None:
            params["stage"] = self.stage
        if self.bbox is not None:
            params.update(zip(("west", "south", "east", "north"), self.bbox, strict=True))
        return params


def iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Author:
    """Who writes: the participant's token hash and the address hash.

    Attributes:
        participant: SHA-256 of the participant token.
        ip_hash: the keyed daily hash of the client address.
        known: the participant was seen in the store before (participants are never deleted), so the check can
            be skipped.
    """

    participant: str
    ip_hash: str
    known: bool = False


_PLACE_COLUMNS = (
    "kind", "category", "title", "text", "lon", "lat", "building_id", "height", "h3_10", "age_band", "household",
    "status", "participant", "ip_hash", "created_at", "updated_at",
)  # fmt: skip
_INSERT_PLACE = (
    f"INSERT INTO places ({', '.join(_PLACE_COLUMNS)}) VALUES ({', '.join(':' + c for c in _PLACE_COLUMNS)}) "
    "RETURNING place_id"
)


def require_participant(cur: Cursor, author: Author) -> None:
    """Refuse a token the store does not know (a known author was checked before: participants stay)."""
    if author.known:
        return
    if cur.execute("SELECT 1 FROM participants WHERE participant = ?", [author.participant]).fetchone() is None:
        raise AuthError(
            "unknown participant token",
            record="X-Participant-Token",
            hint="POST /api/twins/{twin}/participants for a token and send it as X-Participant-Token",
        )


def log_moderation(
    cur: Cursor, place_id: int, comment_id: int, *, action: str, change: tuple[str, str], reason: str, by: str, at: Any
) -> None:
    """One entry of the moderation log: a decision on a place or proposal (``comment_id`` 0) or a comment, from one
    status (or stage) to another, by a moderator or ``auto``."""
    cur.execute(
        "INSERT INTO moderation_log (place_id, comment_id, action, from_status, to_status, reason, moderator, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [place_id, comment_id, action, *change, reason, by, at],
    )


def place_status(cur: Cursor, place_id: int, statuses: tuple[str, ...], family: Family = PLACES) -> str:
    """The status of a row of ``family`` the caller may see.

    Raises:
        NotFoundError: no such row, another family's, or one of a status the caller may not see.
    """
    row = cur.execute("SELECT status, kind FROM places WHERE place_id = ?", [place_id]).fetchone()
    if row is None or row[0] not in statuses or row[1] not in family.kinds:
        raise not_found(place_id, family)
    return str(row[0])


def not_found(place_id: int, family: Family) -> NotFoundError:
    """The refusal of an id that is not a ``family`` row the caller may see."""
    return NotFoundError(f"no {family.noun} {place_id}", hint=f"GET .../{family.plural} lists the {family.plural}")


def add_participant(
    store: LiveStore, participant: str, ip_hash: str, *, workshop: str | None = None, quota: int = 0
) -> bool:
    """Register a participant by the hash of its token; with ``workshop``, as one of its at most ``quota``.

    Returns:
        False when the workshop's quota is used up (nothing is written), else True.
    """

    def work(cur: Cursor) -> bool:
        now = utc_now()
        if workshop is not None:
            joined = cur.execute("SELECT count(*) FROM workshop_participants WHERE workshop = ?", [workshop]).fetchone()
            if joined is not None and joined[0] >= quota:
                return False
        cur.execute("INSERT INTO participants VALUES (?, ?, ?)", [participant, ip_hash, now])
        if workshop is not None:
            cur.execute("INSERT INTO workshop_participants VALUES (?, ?, ?)", [participant, workshop, now])
        return True

    return store.write(work)


def participant_workshop(store: LiveStore, participant: str) -> tuple[bool, str | None]:
    """Whether the participant is known, and the workshop it joined (None: none)."""
    rows = store.read(
        "SELECT w.workshop FROM participants AS p LEFT JOIN workshop_participants AS w USING (participant) "
        "WHERE p.participant = ?",
        [participant],
    )
    return (True, rows[0]["workshop"]) if rows else (False, None)


def workshop_counts(store: LiveStore) -> dict[str, int]:
    """Participants per workshop id."""
    rows = store.read("SELECT workshop, count(*) AS n FROM workshop_participants GROUP BY workshop")
    return {str(r["workshop"]): int(r["n"]) for r in rows}


def add_place(
    store: LiveStore,
    place: PlaceIn,
    author: Author,
    *,
    status: str,
    h3_10: int,
    height: float | None,
) -> dict[str, Any]:
    """Store a new place; returns its payload as the public would see it (before votes and comments)."""
    loc, me = place.location, place.self_description
    now = utc_now()

    if not author.known:  # participants are never deleted: a check before the write holds at its commit
        with store.reading() as cur:
            require_participant(cur, author)
    row = {
        "kind": place.kind,
        "category": place.category,
        "title": place.title,
        "text": place.text,
        "lon": loc.lon,
        "lat": loc.lat,
        "building_id": loc.building_id,
        "height": height,
        "h3_10": h3_10,
        "age_band": me.age_band if me else None,
        "household": me.household if me else None,
        "status": status,
        "participant": author.participant,
        "ip_hash": author.ip_hash,
        "created_at": now,
        "updated_at": now,
    }

    def work(cur: Cursor) -> int:
        found = cur.execute(_INSERT_PLACE, row).fetchone()
        assert found is not None
        return int(found[0])

    place_id = store.write(work)
    return {
        "place_id": place_id,
        "kind": place.kind,
        "category": place.category,
        "title": place.title,
        "text": place.text,
        "status": status,
        "location": {"lon": loc.lon, "lat": loc.lat, "building_id": loc.building_id, "height": height},
        "votes": {"up": 0, "down": 0, "score": 0},
        "comments": 0,
        "answer": None,
        "answered_at": None,
        "created_at": iso(now),
    }


def place(
    store: LiveStore, place_id: int, statuses: tuple[str, ...], *, admin: bool = False, family: Family = PLACES
) -> dict[str, Any] | None:
    """One row's payload if it is of ``family`` and its status is among ``statuses``; None otherwise."""
    d = store.dialect
    rows = store.read(
        f"SELECT {place_json(d, admin, family)} AS j FROM places AS p {_ONE} "
        f"WHERE p.place_id = :one AND {d.within('p.status', 'statuses')} AND {d.within('p.kind', 'kinds')}",
        {"one": place_id, "statuses": Many(statuses), "kinds": Many(family.kinds)},
    )
    found: dict[str, Any] | None = json.loads(rows[0]["j"]) if rows else None
    return found


def list_places(store: LiveStore, query: PlaceQuery) -> str:
    """The rows in a view as a JSON document: pins, or H3 clusters when there are more than ``cluster_above``.

    Pins: ``{"mode": "pins", "total", "offset", "limit", "places": [...]}`` (``"proposals"`` for proposals).
    Clusters: ``{"mode": "clusters", "total", "resolution", "clusters": [{"h3", "count", "lon", "lat", ...}]}``
    with the family's counts (places: happy, improvable; proposals: per stage), where lon/lat is the mean of the
    cluster's pins (so a cluster sits where its rows are, not at its cell's centre).
    """
    params, d = query.params(), store.dialect
    filters = _filters(d, query)
    counted = store.read(f"SELECT count(*) AS n FROM places AS p WHERE {filters}", params)
    total = int(counted[0]["n"])
    if query.cluster_above is not None and total > query.cluster_above:
        r = query.cluster_resolution
        counts = query.family.clusters
        per_count = "".join(f", count(*) FILTER (WHERE {condition}) AS {name}" for name, condition in counts)
        # The parent cell of a res-10 cell: set the resolution bits, and the digits below it to 7 (unused).
        rows = store.read(
            f"""
            SELECT cell, count(*) AS n{per_count}, avg(lon) AS lon, avg(lat) AS lat
            FROM (SELECT (p.h3_10 & ~(CAST(15 AS BIGINT) << 52)) | (CAST(:res AS BIGINT) << 52)
                         | ((CAST(1 AS BIGINT) << (3 * (15 - :res))) - 1) AS cell, p.kind, p.stage, p.lon, p.lat
                  FROM places AS p WHERE {filters}) AS cells
            GROUP BY cell ORDER BY count(*) DESC, cell
            """,
            {**params, "res": r},
        )
        clusters = [
            {
                "h3": f"{int(row['cell']):x}",
                "count": int(row["n"]),
                **{name: int(row[name]) for name, _ in counts},
                "lon": round(float(row["lon"]), 6),
                "lat": round(float(row["lat"]), 6),
            }
            for row in rows  # one per cluster, a few hundred at most
        ]
        return json.dumps({"mode": "clusters", "total": total, "resolution": r, "clusters": clusters})
    order = ORDER_BY[query.sort]
    # The page's ids first, from the listing index alone (every order is on the row itself), then the rows, comments
    # and reports of the page only.
    sql = f"""
        WITH page AS MATERIALIZED (
            SELECT p.place_id FROM places AS p WHERE {filters} ORDER BY {order} LIMIT :limit OFFSET :offset
        )
        SELECT {place_json(d, query.admin, query.family)} AS j
        FROM page JOIN places AS p ON p.place_id = page.place_id {_PAGE} ORDER BY {order}
        """
    rows = store.read(sql, {**params, "limit": query.limit, "offset": query.offset})
    body = ",".join(row["j"] for row in rows)
    key = query.family.plural
    return f'{{"mode":"pins","total":{total},"offset":{query.offset},"limit":{query.limit},"{key}":[{body}]}}'


def status_counts(store: LiveStore, family: Family = PLACES) -> dict[str, int]:
    """Rows of ``family`` per status (the council sees these numbers, not the hidden rows)."""
    d = store.dialect
    rows = store.read(
        f"SELECT status, count(*) AS n FROM places WHERE {d.within('kind', 'kinds')} GROUP BY status",
        {"kinds": Many(family.kinds)},
    )
    counts = dict.fromkeys(moderation.ALL_STATUSES, 0)
    counts.update({str(r["status"]): int(r["n"]) for r in rows})
    return counts


def vote(
    store: LiveStore,
    place_id: int,
    value: int,
    author: Author,
    *,
    statuses: tuple[str, ...],
    per_address: int | None,
    family: Family = PLACES,
) -> dict[str, Any]:
    """Vote on a place: one vote per participant (voting again replaces it), and at most ``per_address`` votes
    on one place from one address per day, whatever tokens it holds. Participants of a workshop share their room's
    address: their votes are not counted against it, and ``per_address`` None spares a workshop participant.

    Returns:
        The place's vote counts and the caller's vote.

    Raises:
        RateLimitError: the address has used up its votes on this place for today.
    """

    def work(cur: Cursor) -> dict[str, Any]:
        require_participant(cur, author)
        place_status(cur, place_id, statuses, family)
        # The caller's own vote (its key), the row's counts (kept in the same transactions as the votes), and only for
        # a new vote, this address's votes on the place by others today (address hashes change daily, so today's
        # hash counts today's votes; workshop participants' votes do not count): three index lookups, however many
        # thousand votes a popular proposal has.
        own = cur.execute(
            "SELECT value FROM votes WHERE place_id = ? AND participant = ?", [place_id, author.participant]
        ).fetchone()
        mine = int(own[0]) if own is not None else None
        counts = cur.execute("SELECT votes_up, votes_down FROM places WHERE place_id = ?", [place_id]).fetchone()
        up, down = (int(counts[0]), int(counts[1])) if counts is not None else (0, 0)
        if mine is None and per_address is not None:
            found = cur.execute(
                """
                SELECT count(*) FROM votes AS v LEFT JOIN workshop_participants AS w ON w.participant = v.participant
                WHERE v.place_id = ? AND v.ip_hash = ? AND w.participant IS NULL
                """,
                [place_id, author.ip_hash],
            ).fetchone()
            if found is not None and found[0] >= per_address:
                raise limited("votes_per_place", seconds_to_midnight(), hint=f"at most {per_address} per network a day")
        if mine is None:
            cur.execute(
                "INSERT INTO votes (place_id, participant, value, ip_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                [place_id, author.participant, value, author.ip_hash, utc_now()],
            )
        elif mine != value:
            cur.execute(
                "UPDATE votes SET value = ? WHERE place_id = ? AND participant = ?",
                [value, place_id, author.participant],
            )
        if mine != value:
            up += (value > 0) - (mine is not None and mine > 0)
            down += (value < 0) - (mine is not None and mine < 0)
            cur.execute("UPDATE places SET votes_up = ?, votes_down = ? WHERE place_id = ?", [up, down, place_id])
        return {"place_id": place_id, "up": up, "down": down, "score": up - down, "yours": value}

    return store.write(work)


def add_comment(
    store: LiveStore,
    place_id: int,
    comment: CommentIn,
    author: Author,
    *,
    status: str,
    statuses: tuple[str, ...],
    family: Family = PLACES,
) -> dict[str, Any]:
    """Comment on a place (or proposal), or reply to a top-level comment of it.

    Raises:
        InputError: the parent is not a top-level comment of this place.
    """
    now = utc_now()

    def work(cur: Cursor) -> int:
        require_participant(cur, author)
        place_status(cur, place_id, statuses, family)
        if comment.parent_id is not None:
            parent = cur.execute(
                "SELECT parent_id FROM comments WHERE comment_id = ? AND place_id = ? AND status <> 'hidden'",
                [comment.parent_id, place_id],
            ).fetchone()
            if parent is None:
                raise InputError(f"no comment {comment.parent_id} on this place", record="parent_id")
            if parent[0] is not None:
                raise InputError(
                    "replies to replies are not possible", record="parent_id", hint="reply to the top-level comment"
                )
        row = cur.execute(
            "INSERT INTO comments (place_id, parent_id, text, status, participant, ip_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING comment_id",
            [place_id, comment.parent_id, comment.text, status, author.participant, author.ip_hash, now],
        ).fetchone()
        assert row is not None
        return int(row[0])

    comment_id = store.write(work)
    return {
        "comment_id": comment_id,
        "place_id": place_id,
        "parent_id": comment.parent_id,
        "text": comment.text,
        "status": status,
        "created_at": iso(now),
    }


def comments(store: LiveStore, place_id: int, statuses: tuple[str, ...]) -> list[dict[str, Any]]:
    """A place's (or proposal's: the caller checked which) comments, oldest first, each top-level one with its
    ``replies``.

    A reply whose top-level comment is not visible to the caller is left out with it.
    """
    d = store.dialect
    rows = store.read(
        f"""
        SELECT comment_id, parent_id, text, status, {d.iso("created_at")} AS created_at
        FROM comments WHERE place_id = :place AND {d.within("status", "statuses")} ORDER BY comment_id
        """,
        {"place": place_id, "statuses": Many(statuses)},
    )
    top = {r["comment_id"]: {**r, "replies": []} for r in rows if r["parent_id"] is None}
    for r in rows:
        if r["parent_id"] in top:
            top[r["parent_id"]]["replies"].append(r)
    return list(top.values())


def add_report(
    store: LiveStore,
    place_id: int,
    report: ReportIn,
    author: Author,
    *,
    statuses: tuple[str, ...],
    threshold: int,
    family: Family = PLACES,
) -> dict[str, Any]:
    """Report a place or one of its comments; hides it when its open reports reach ``threshold``.

    A second report of the same target by the same participant changes nothing and returns the first.

    Returns:
        ``{"report_id", "created", "hidden"}``: hidden is true when this report hid the target.
    """
    target = report.comment_id or 0
    now = utc_now()

    def work(cur: Cursor) -> dict[str, Any]:
        require_participant(cur, author)
        place_status(cur, place_id, statuses, family)
        if target:
            row = cur.execute(
                "SELECT status FROM comments WHERE comment_id = ? AND place_id = ?", [target, place_id]
            ).fetchone()
            if row is None or row[0] == "hidden":
                raise InputError(f"no comment {target} on this place", record="comment_id")
        existing = cur.execute(
            "SELECT report_id FROM reports WHERE place_id = ? AND comment_id = ? AND participant = ?",
            [place_id, target, author.participant],
        ).fetchone()
        if existing is not None:
            return {"report_id": int(existing[0]), "created": False, "hidden": False}
        row = cur.execute(
            "INSERT INTO reports (place_id, comment_id, reason, text, participant, ip_hash, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING report_id",
            [place_id, target, report.reason, report.text, author.participant, author.ip_hash, now],
        ).fetchone()
        assert row is not None
        report_id = int(row[0])
        open_reports = cur.execute(
            "SELECT count(*) FROM reports WHERE place_id = ? AND comment_id = ? AND resolved_at IS NULL",
            [place_id, target],
        ).fetchone()
        table, key = ("comments", "comment_id") if target else ("places", "place_id")
        status_row = cur.execute(f"SELECT status FROM {table} WHERE {key} = ?", [target or place_id]).fetchone()
        status = str(status_row[0]) if status_row else ""
        hidden = moderation.auto_hides(status, int(open_reports[0]) if open_reports else 0, threshold)
        if hidden:
            cur.execute(f"UPDATE {table} SET status = 'hidden' WHERE {key} = ?", [target or place_id])
            reason = f"{threshold} open reports"
            log_moderation(
                cur, place_id, target, action="auto_hide", change=(status, "hidden"), reason=reason, by="auto", at=now
            )
        return {"report_id": report_id, "created": True, "hidden": hidden}

    return store.write(work)
