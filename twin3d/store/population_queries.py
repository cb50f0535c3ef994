"""Read queries of the society twin: the persona catalogue and the privacy-safe aggregates.

Only ``personas``, ``population_public`` and the stored report are read here. ``households`` and ``persons`` are
microdata: no function of this module (or of the server) reads them.

Example:
    >>> query = CellQuery(resolution=9, persona="*")  # doctest: +SKIP
    >>> for batch in public_cells(cur, query, geometry=True): ...  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import h3ronpy
import numpy as np
import pyarrow as pa
import shapely
from h3ronpy.vector import cells_to_wkb_polygons

Cursor = duckdb.DuckDBPyConnection
BASELINE = "baseline"
ALL = "*"
BATCH_ROWS = 4096
COORD_DIGITS = 6  # about 0.1 m: enough for a cell boundary on a map

CELL_SCHEMA = pa.schema(
    [
        ("h3", pa.string()),
        ("cell_resolution", pa.uint8()),
        ("persona", pa.string()),
        ("persons", pa.int64()),
        ("households", pa.int64()),
        ("lon", pa.float64()),
        ("lat", pa.float64()),
    ]
)
"""What :func:`public_cells` yields; with ``geometry`` a ``boundary`` column follows."""

BOUNDARY = pa.field("boundary", pa.list_(pa.list_(pa.float64(), 2)))
"""A cell's closed boundary ring as ``[[lon, lat], ...]``."""


@dataclass(frozen=True)
class CellQuery:
    """Which published cells to read.

    Attributes:
        resolution: the H3 resolution asked for (a row may be a merged remainder under a coarser cell).
        persona: a persona id, or ``"*"`` for everyone.
        scenario: ``"baseline"`` or a scenario's content hash.
        bbox: (west, south, east, north) in degrees; cells are selected by their centre. None: all.
    """

    resolution: int
    persona: str = ALL
    scenario: str = BASELINE
    bbox: tuple[float, float, float, float] | None = None


def cell_schema(geometry: bool) -> pa.Schema:
    """The schema of the batches :func:`public_cells` yields."""
    return CELL_SCHEMA.append(BOUNDARY) if geometry else CELL_SCHEMA


def personas(cur: Cursor) -> list[dict[str, Any]]:
    """The persona catalogue in its order: id, names, descriptions (German and English), colour, needs, rule."""
    rows = cur.execute(
        """
        SELECT persona_id, name, name_en, description, description_en, color, needs, rule
        FROM personas ORDER BY position
        """
    ).fetchall()
    return [
        {
            "id": pid,
            "name": name,
            "name_en": name_en,
            "description": desc,
            "description_en": desc_en,
            "color": color,
            "needs": json.loads(needs),
            "rule": json.loads(rule),
        }
        for pid, name, name_en, desc, desc_en, color, needs, rule in rows
    ]


def persona_ids(cur: Cursor) -> list[str]:
    """The persona ids in catalogue order."""
    return [str(r[0]) for r in cur.execute("SELECT persona_id FROM personas ORDER BY position").fetchall()]


def has_scenario(cur: Cursor, scenario: str) -> bool:
    """Whether any aggregate of ``scenario`` was published."""
    found = cur.execute("SELECT 1 FROM population_public WHERE scenario = ? LIMIT 1", [scenario]).fetchone()
    return found is not None


def _with_strings_and_rings(batch: pa.RecordBatch, geometry: bool) -> pa.RecordBatch:
    """Cell ids as H3 strings, and each cell's boundary ring when ``geometry`` is set."""
    cells = batch.column("h3")
    columns = [pa.array(h3ronpy.cells_to_string(cells), pa.string())]
    columns += [batch.column(name) for name in CELL_SCHEMA.names[1:]]
    if geometry:
        polygons = shapely.from_wkb(pa.array(cells_to_wkb_polygons(cells)).to_numpy(zero_copy_only=False))
        rings = shapely.get_exterior_ring(polygons)
        coords = np.round(shapely.get_coordinates(rings), COORD_DIGITS)
        offsets = np.concatenate([[0], np.cumsum(shapely.get_num_coordinates(rings))]).astype(np.int32)
        points = pa.FixedSizeListArray.from_arrays(pa.array(coords.ravel()), 2)
        columns.append(pa.ListArray.from_arrays(pa.array(offsets), points))
    return pa.RecordBatch.from_arrays(columns, schema=cell_schema(geometry))


def public_cells(cur: Cursor, query: CellQuery, *, geometry: bool = False) -> Iterator[pa.RecordBatch]:
    """The published cells of one resolution and persona, in batches ordered by cell id.

    The query runs at once (errors surface here, not half-way through a response); the batches are read lazily.

    Args:
        cur: a cursor of its own, used until the iterator is exhausted.
        query: resolution, persona, scenario and bounding box.
        geometry: add the ``boundary`` ring of each cell.

    Returns:
        Record batches with :func:`cell_schema` columns.
    """
    west, south, east, north = query.bbox or (None, None, None, None)
    reader = cur.execute(
        """
        SELECT h3, cell_resolution, persona, persons, households, lon, lat
        FROM population_public
        WHERE scenario = $scenario AND resolution = $resolution AND persona = $persona
          AND ($west IS NULL OR (lon BETWEEN $west AND $east AND lat BETWEEN $south AND $north))
        ORDER BY h3
        """,
        {
            "scenario": query.scenario,
            "resolution": query.resolution,
            "persona": query.persona,
            "west": west,
            "south": south,
            "east": east,
            "north": north,
        },
    ).to_arrow_reader(BATCH_ROWS)
    return (_with_strings_and_rings(batch, geometry) for batch in reader if batch.num_rows)


def summary(cur: Cursor, scenario: str = BASELINE, resolution: int = 7) -> dict[str, Any]:
    """Published persons and households per persona, summed over the rows of one resolution (public data only).

    Persona sums leave out the groups the privacy gate suppressed, so they add up to less than the total.
    """
    sums = {
        persona: {"persons": int(p), "households": int(h), "cells": int(n)}
        for persona, p, h, n in cur.execute(
            """
            SELECT persona, sum(persons), sum(households), count(*)
            FROM population_public WHERE scenario = ? AND resolution = ?
            GROUP BY persona
            """,
            [scenario, resolution],
        ).fetchall()
    }
    empty = {"persons": 0, "households": 0, "cells": 0}
    catalogue = cur.execute("SELECT persona_id, name, name_en, color FROM personas ORDER BY position").fetchall()
    return {
        "scenario": scenario,
        "resolution": resolution,
        "total": sums.get(ALL, empty),
        "personas": [
            {"id": pid, "name": name, "name_en": name_en, "color": color, **sums.get(pid, empty)}
            for pid, name, name_en, color in catalogue
        ],
    }
