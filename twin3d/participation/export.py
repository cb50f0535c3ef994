"""Exports of the public places and proposals: GeoJSON, CSV, and rows for other publishers (OGC API Features).

Only public fields of public places and proposals (``visible`` and ``answered``) leave here: no participant or
address hash, no self-description, no internal remark, no hidden or unmoderated row. Texts stay plain text; CSV
is written by :func:`twin3d.csvsafe.write_csv`, so that no spreadsheet program runs a cell as a formula, whether it
splits the file on ``,`` or on ``;`` (CSV injection).

Example:
    >>> rows = public_places(live_stores, "lauf", bbox=(11.27, 49.50, 11.29, 49.52))  # doctest: +SKIP
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pyarrow as pa

from twin3d.csvsafe import write_csv
from twin3d.participation.moderation import PUBLIC_STATUSES
from twin3d.participation.store import PLACES, PROPOSALS, Family
from twin3d.store.live import Dialect, LiveStore, LiveStores, Many

_EXPRESSIONS: dict[str, tuple[str, pa.DataType]] = {
    # public field -> (SQL over the places row p and its visible comments c, type); timestamps in TIMESTAMPS
    "place_id": ("p.place_id", pa.int64()),
    "proposal_id": ("p.place_id", pa.int64()),
    "kind": ("p.kind", pa.string()),
    "category": ("p.category", pa.string()),
    "topic": ("p.category", pa.string()),
    "title": ("p.title", pa.string()),
    "text": ("p.text", pa.string()),
    "status": ("p.status", pa.string()),
    "stage": ("p.stage", pa.string()),
    "stage_reason": ("p.stage_reason", pa.string()),
    "lon": ("p.lon", pa.float64()),
    "lat": ("p.lat", pa.float64()),
    "area": ("p.area", pa.string()),
    "building_id": ("p.building_id", pa.string()),
    "height": ("p.height", pa.float64()),
    "scenario_id": ("p.scenario_id", pa.string()),
    "official_scenario_id": ("p.official_scenario_id", pa.string()),
    "gainers": ("p.gainers", pa.int64()),
    "votes_up": ("p.votes_up", pa.int64()),
    "votes_down": ("p.votes_down", pa.int64()),
    "score": ("p.votes_up - p.votes_down", pa.int64()),
    "comments": ("coalesce(c.n, 0)", pa.int64()),
    "answer": ("p.answer", pa.string()),
    "answered_at": ("p.answered_at", pa.string()),
    "created_at": ("p.created_at", pa.string()),
}

TIMESTAMPS = frozenset({"answered_at", "created_at"})
"""Fields exported as ISO text (``YYYY-MM-DDTHH:MM:SSZ``), whichever database keeps them."""

PUBLIC_FIELDS = (
    "place_id", "kind", "category", "title", "text", "status", "lon", "lat", "building_id", "height", "votes_up",
    "votes_down", "score", "comments", "answer", "answered_at", "created_at",
)  # fmt: skip
"""The columns of every export of places, in order."""
PROPOSAL_FIELDS = (
    "proposal_id", "topic", "title", "text", "status", "stage", "stage_reason", "lon", "lat", "area", "scenario_id",
    "official_scenario_id", "gainers", "votes_up", "votes_down", "score", "comments", "answer", "answered_at",
    "created_at",
)  # fmt: skip
"""The columns of every export of proposals, in order (``area``: the GeoJSON polygon as text, or empty)."""
FIELDS: dict[str, tuple[str, ...]] = {PLACES.plural: PUBLIC_FIELDS, PROPOSALS.plural: PROPOSAL_FIELDS}


def schema(family: Family = PLACES) -> pa.Schema:
    """The types of a family's public fields, whichever database the live store is in."""
    return pa.schema([(name, _EXPRESSIONS[name][1]) for name in FIELDS[family.plural]])


PUBLIC_SCHEMA = schema(PLACES)


@cache
def _public_rows(d: Dialect, bbox: bool, family: Family = PLACES) -> str:
    """The public rows of ``family``, ordered by id; ``bbox``: only those in :west/:south/:east/:north."""
    where = f"{d.within('p.status', 'statuses')} AND {d.within('p.kind', 'kinds')}"
    if bbox:
        where += " AND p.lon BETWEEN :west AND :east AND p.lat BETWEEN :south AND :north"
    columns = []
    for name in FIELDS[family.plural]:
        expr = _EXPRESSIONS[name][0]
        columns.append(f"{d.iso(expr) if name in TIMESTAMPS else expr} AS {name}")
    return f"""
    SELECT {", ".join(columns)}
    FROM places AS p
    LEFT JOIN (SELECT place_id, count(*) AS n FROM comments WHERE status = 'visible' GROUP BY place_id) AS c
        ON c.place_id = p.place_id
    WHERE {where}
    ORDER BY p.place_id
    LIMIT :limit OFFSET :offset
"""


ALL_ROWS = 2**62  # LIMIT for "no limit" (SQLite has no LIMIT ALL, PostgreSQL no LIMIT -1)


def _params(
    bbox: tuple[float, float, float, float] | None, limit: int | None, offset: int, family: Family = PLACES
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "statuses": Many(PUBLIC_STATUSES),
        "kinds": Many(family.kinds),
        "limit": ALL_ROWS if limit is None else limit,
        "offset": offset,
    }
    if bbox is not None:
        params.update(zip(("west", "south", "east", "north"), bbox, strict=True))
    return params


def public_rows(
    store: LiveStore | None,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int | None = None,
    offset: int = 0,
    family: Family = PLACES,
) -> pa.Table:
    """The public rows of ``family`` as an Arrow table with its fields (:data:`FIELDS`), ordered by id."""
    if store is None:
        return schema(family).empty_table()
    sql = _public_rows(store.dialect, bbox is not None, family)
    return store.read_arrow(sql, _params(bbox, limit, offset, family), schema(family))


def public_places(
    stores: LiveStores,
    twin: str,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The public places of ``twin`` as flat rows (:data:`PUBLIC_FIELDS`), ordered by id: for OGC API Features.

    Args:
        stores: the server's live stores (``app.state.live``).
        twin: the twin's name.
        bbox: (west, south, east, north) in degrees; None: all.
        limit: the most rows; None: all.
        offset: rows skipped (paging).
    """
    rows: list[dict[str, Any]] = public_rows(
        stores.get(twin, create=False), bbox=bbox, limit=limit, offset=offset
    ).to_pylist()
    return rows


def geojson(
    store: LiveStore | None, bbox: tuple[float, float, float, float] | None = None, family: Family = PLACES
) -> bytes:
    """The public rows as a GeoJSON FeatureCollection (``id`` is the row's id), built by the database: points, and
    a proposal's area as its polygon where it has one."""
    if store is None:
        return b'{"type":"FeatureCollection","features":[]}'
    d = store.dialect
    obj, array = d.object_fn, d.array_fn
    fields = FIELDS[family.plural]
    properties = ", ".join(f"'{name}', {name}" for name in fields if name not in ("lon", "lat", "area"))
    point = f"{obj}('type', 'Point', 'coordinates', {array}(lon, lat))"
    geometry = f"coalesce({d.parse_json('area')}, {point})" if "area" in fields else point
    feature = d.json_text(
        f"{obj}('type', 'Feature', 'id', {fields[0]}, 'geometry', {geometry}, 'properties', {obj}({properties}))"
    )
    rows = store.read(
        f"SELECT {feature} AS f FROM ({_public_rows(d, bbox is not None, family)}) AS public ORDER BY {fields[0]}",
        _params(bbox, None, 0, family),
    )
    return f'{{"type":"FeatureCollection","features":[{",".join(row["f"] for row in rows)}]}}'.encode()


def csv(
    store: LiveStore | None, bbox: tuple[float, float, float, float] | None = None, family: Family = PLACES
) -> bytes:
    """The public rows as CSV (UTF-8, header row, the family's fields), guarded against formulas."""
    sql = _public_rows(store.dialect, bbox is not None, family) if store else ""
    rows = store.read(sql, _params(bbox, None, 0, family)) if store else []
    return write_csv(FIELDS[family.plural], rows).encode()
