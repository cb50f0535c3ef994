"""The edge of the facility data: where a facility beyond it could be nearer than the nearest one inside.

A twin's facilities and paths come from an extract (a bounding box, a municipality). A home near its edge may
have a nearer Kita just across it, which the twin cannot see, so its walk is overstated: the boundary effect of
every accessibility study. We name it instead of hiding it: a home is *edge-bound* for a type where the walk to
the edge of the data (its straight distance times the twin's detour factor, the typical ratio of a walk to the
straight line) is shorter than its walk to the nearest facility of the type: only for such homes could a facility
beyond the edge plausibly be nearer. The result
states, per type, how many published persons live in edge-bound homes; the cure is a facility source that
reaches beyond the town (facilities and paths are not clipped to the homes).
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import shapely

from twin3d.population.privacy.units import PublishedUnits
from twin3d.simulation.accessibility import Accessibility

EXTENT_SQL = """
SELECT ST_AsWKB(ST_ConvexHull(ST_Collect(list(geom)))) FROM (
    SELECT geom FROM paths UNION ALL SELECT geom FROM facilities
)
"""


def data_extent(con: duckdb.DuckDBPyConnection) -> shapely.Geometry | None:
    """The convex hull of the twin's paths and facilities (None where it has neither)."""
    row = con.execute(EXTENT_SQL).fetchone()
    if row is None or row[0] is None:
        return None
    hull = shapely.from_wkb(bytes(row[0]))
    return hull if shapely.get_type_id(hull) == 3 else None


def edge_bound(
    extent: shapely.Geometry | None, units: PublishedUnits, access: Accessibility, detour_factor: float
) -> list[dict[str, Any]]:
    """Per facility type with facilities: published persons whose homes are edge-bound, and their share.

    Args:
        extent: the data's extent (:func:`data_extent`); None gives no rows.
        units: the published units, whose public home points and noised person counts are used.
        access: the baseline accessibility of those units' homes.
        detour_factor: walk over straight line (the distance model's).
    """
    if extent is None or not len(units):
        return []
    homes = shapely.points(units.point_x, units.point_y)
    to_edge = shapely.distance(extent.exterior, homes) * detour_factor
    to_edge[~shapely.contains_xy(extent, units.point_x, units.point_y)] = 0.0  # outside: at the edge already
    persons = units.persons[:, 0].astype(float)
    total = float(persons.sum())
    rows = []
    for kind in access.types:
        walk = access.distance[kind][: len(homes)]
        if not np.isfinite(walk).any() or total <= 0:
            continue  # no facility of the type at all: a data gap of its own
        # A unit's persons count by the share of its public weight at edge-bound points, as every area figure.
        bound = float(units.share_of(to_edge < walk) @ persons)
        rows.append({"facility": kind, "persons": round(bound), "share": round(bound / total, 4)})
    return rows
