"""Exports of the public places: GeoJSON, CSV, and rows for other publishers (OGC API Features).

Only public fields of public places (``visible`` and ``answered``) leave here: no participant or address hash, no
self-description, no internal remark, no hidden or unmoderated place. Texts stay plain text; CSV is written by
:func:`twin3d.csvsafe.write_csv`, so that no spreadsheet program runs a cell as a formula, whether it splits the
file on ``,`` or on ``;`` (CSV injection).

Example:
    >>> rows = public_places(live_stores, "lauf", bbox=(11.27, 49.50, 11.29, 49.52))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from twin3d.csvsafe import write_csv
from twin3d.participation.moderation import PUBLIC_STATUSES
from twin3d.store.live import LiveStore, LiveStores

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

_PUBLIC_ROWS = """
    SELECT p.place_id, p.kind, p.category, p.title, p.text, p.status, p.lon, p.lat, p.building_id, p.height,
           coalesce(v.up, 0) AS votes_up, coalesce(v.down, 0) AS votes_down,
           coalesce(v.up, 0) - coalesce(v.down, 0) AS score, coalesce(c.n, 0) AS comments, p.answer,
           strftime(p.answered_at, '%Y-%m-%dT%H:%M:%SZ') AS answered_at,
           strftime(p.created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at
    FROM places AS p
    LEFT JOIN (SELECT place_id, count(*) FILTER (WHERE value > 0) AS up, count(*) FILTER (WHERE value < 0) AS down
               FROM votes GROUP BY place_id) AS v USING (place_id)
    LEFT JOIN (SELECT place_id, count(*) AS n FROM comments WHERE status = 'visible' GROUP BY place_id) AS c
        USING (place_id)
    WHERE list_contains($statuses, p.status)
      AND ($west IS NULL OR (p.lon BETWEEN $west AND $east AND p.lat BETWEEN $south AND $north))
    ORDER BY p.place_id
    LIMIT $limit OFFSET $offset
"""


def _params(bbox: tuple[float, float, float, float] | None, limit: int | None, offset: int) -> dict[str, Any]:
    west, south, east, north = bbox or (None, None, None, None)
    return {
        "statuses": list(PUBLIC_STATUSES),
        "west": west,
        "south": south,
        "east": east,
        "north": north,
        "limit": limit,
        "offset": offset,
    }


def public_rows(
    store: LiveStore | None,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> pa.Table:
    """The public places as an Arrow table with :data:`PUBLIC_FIELDS`, ordered by id."""
    if store is None:
        return pa.table({name: pa.array([], pa.null()) for name in PUBLIC_FIELDS})
    return store.read_arrow(_PUBLIC_ROWS, _params(bbox, limit, offset))


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
    """The public places as a GeoJSON FeatureCollection (points; ``id`` is the place id), built by DuckDB."""
    if store is None:
        return b'{"type":"FeatureCollection","features":[]}'
    properties = ", ".join(f"'{name}', {name}" for name in PUBLIC_FIELDS if name not in ("lon", "lat"))
    rows = store.read(
        f"""
        SELECT coalesce(string_agg(json_object('type', 'Feature', 'id', place_id,
                   'geometry', json_object('type', 'Point', 'coordinates', json_array(lon, lat)),
                   'properties', json_object({properties}))::VARCHAR, ',' ORDER BY place_id), '') AS features
        FROM ({_PUBLIC_ROWS})
        """,
        _params(bbox, None, 0),
    )
    return f'{{"type":"FeatureCollection","features":[{rows[0]["features"]}]}}'.encode()


def csv(store: LiveStore | None, bbox: tuple[float, float, float, float] | None = None) -> bytes:
    """The public places as CSV (UTF-8, header row, :data:`PUBLIC_FIELDS`), guarded against formulas."""
    rows = store.read(_PUBLIC_ROWS, _params(bbox, None, 0)) if store is not None else []
    return write_csv(PUBLIC_FIELDS, rows).encode()
