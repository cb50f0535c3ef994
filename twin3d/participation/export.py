"""Exports of the public places: GeoJSON, CSV, and rows for other publishers (OGC API Features).

Only public fields of public places (``visible`` and ``answered``) leave here: no participant or address hash, no
self-description, no internal remark, no hidden or unmoderated place. Texts stay plain text; CSV is written by
:func:`twin3d.csvsafe.write_csv`, so that no spreadsheet program runs a cell as a formula, whether it splits the
file on ``,`` or on ``;`` (CSV injection).

Example:
    >>> rows = public_places(live_stores, "lauf", bbox=(11.27, 49.50, 11.29, 49.52))  # doctest: +SKIP
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pyarrow as pa

from twin3d.csvsafe import write_csv
from twin3d.participation.moderation import PUBLIC_STATUSES
from twin3d.store.live import Dialect, LiveStore, LiveStores, Many

PUBLIC_FIELDS = (
    "place_id",
    "kind",
    "category",
    "title",
    "text",
    "status",
    "lon",
    "lat",
    "building_id",
    "height",
    "votes_up",
    "votes_down",
    "score",
    "comments",
    "answer",
    "answered_at",
    "created_at",
)
"""The columns of every export, in order."""

PUBLIC_SCHEMA = pa.schema(
    [
        ("place_id", pa.int64()),
        ("kind", pa.string()),
        ("category", pa.string()),
        ("title", pa.string()),
        ("text", pa.string()),
        ("status", pa.string()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
        ("building_id", pa.string()),
        ("height", pa.float64()),
        ("votes_up", pa.int64()),
        ("votes_down", pa.int64()),
        ("score", pa.int64()),
        ("comments", pa.int64()),
        ("answer", pa.string()),
        ("answered_at", pa.string()),
        ("created_at", pa.string()),
    ]
)
"""The types of :data:`PUBLIC_FIELDS`, whichever database the live store is in."""


@cache
def _public_rows(d: Dialect, bbox: bool) -> str:
    """The public rows, ordered by id; ``bbox``: only those in :west/:south/:east/:north."""
    where = f"{d.within('p.status', 'statuses')}"
    if bbox:
        where += " AND p.lon BETWEEN :west AND :east AND p.lat BETWEEN :south AND :north"
    return f"""
    SELECT p.place_id, p.kind, p.category, p.title, p.text, p.status, p.lon, p.lat, p.building_id, p.height,
           coalesce(v.up, 0) AS votes_up, coalesce(v.down, 0) AS votes_down,
           coalesce(v.up, 0) - coalesce(v.down, 0) AS score, coalesce(c.n, 0) AS comments, p.answer,
           {d.iso("p.answered_at")} AS answered_at, {d.iso("p.created_at")} AS created_at
    FROM places AS p
    LEFT JOIN (SELECT place_id, count(*) FILTER (WHERE value > 0) AS up, count(*) FILTER (WHERE value < 0) AS down
               FROM votes GROUP BY place_id) AS v ON v.place_id = p.place_id
    LEFT JOIN (SELECT place_id, count(*) AS n FROM comments WHERE status = 'visible' GROUP BY place_id) AS c
        ON c.place_id = p.place_id
    WHERE {where}
    ORDER BY p.place_id
    LIMIT :limit OFFSET :offset
"""


ALL_ROWS = 2**62  # LIMIT for "no limit" (SQLite has no LIMIT ALL, PostgreSQL no LIMIT -1)


def _params(bbox: tuple[float, float, float, float] | None, limit: int | None, offset: int) -> dict[str, Any]:
    params: dict[str, Any] = {
        "statuses": Many(PUBLIC_STATUSES),
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
) -> pa.Table:
    """The public places as an Arrow table with :data:`PUBLIC_FIELDS`, ordered by id."""
    if store is None:
        return PUBLIC_SCHEMA.empty_table()
    sql = _public_rows(store.dialect, bbox is not None)
    return store.read_arrow(sql, _params(bbox, limit, offset), PUBLIC_SCHEMA)


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


def geojson(store: LiveStore | None, bbox: tuple[float, float, float, float] | None = None) -> bytes:
    """The public places as a GeoJSON FeatureCollection (points; ``id`` is the place id), built by the database."""
    if store is None:
        return b'{"type":"FeatureCollection","features":[]}'
    d = store.dialect
    obj, array = d.object_fn, d.array_fn
    properties = ", ".join(f"'{name}', {name}" for name in PUBLIC_FIELDS if name not in ("lon", "lat"))
    feature = d.json_text(
        f"{obj}('type', 'Feature', 'id', place_id, 'geometry', {obj}('type', 'Point', 'coordinates', "
        f"{array}(lon, lat)), 'properties', {obj}({properties}))"
    )
    rows = store.read(
        f"SELECT {feature} AS f FROM ({_public_rows(d, bbox is not None)}) AS public ORDER BY place_id",
        _params(bbox, None, 0),
    )
    return f'{{"type":"FeatureCollection","features":[{",".join(row["f"] for row in rows)}]}}'.encode()


def csv(store: LiveStore | None, bbox: tuple[float, float, float, float] | None = None) -> bytes:
    """The public places as CSV (UTF-8, header row, :data:`PUBLIC_FIELDS`), guarded against formulas."""
    rows = store.read(_public_rows(store.dialect, bbox is not None), _params(bbox, None, 0)) if store else []
    return write_csv(PUBLIC_FIELDS, rows).encode()
