"""Coarse levels of detail: simplified LoD1 blocks standing in for many buildings seen from afar.

A tile that covers a whole neighbourhood cannot show every shed at full detail; from the distance at which it is
shown nobody would see them. Its content keeps every building above a size that grows with the tile, with the
footprint simplified by a tolerance that grows the same way, extruded to a block. The geometric error says how
far that picture is from the full one, so that clients switch to the children before the difference shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from twin3d.tiling.geodesy import LocalFrame
from twin3d.tiling.geometry import BuildingGeometry, ExtrudedBuildings, concat_meshes
from twin3d.tiling.mesh import Mesh, estimate_vertices, extrude

# Tolerance and smallest kept building relative to the tile's extent: a 1 km tile simplifies by 4 m and leaves
# out footprints under 280 m² (houses, sheds, garages: from where a whole kilometre fits the screen they are specks).
TOLERANCE_PER_EXTENT = 1 / 250
MIN_SIDE_PER_EXTENT = 1 / 60
# A block stands for a pitched LoD2 roof: the shape differs by up to about a third of the building height.
ROOF_SHAPE_ERROR = 1 / 3
# A coarse level must save at least this share of the vertices of what it stands for, else it is not made: the
# node then has no content and its children load with it (ADD refinement).
MIN_SAVING = 0.4


@dataclass(frozen=True)
class CoarseContent:
    """A coarse tile: its mesh, which buildings it shows (positions in ``members``) and its geometric error."""

    mesh: Mesh
    shown: np.ndarray
    geometric_error: float
    dropped_area: float = 0.0  # footprint area of every building left out (with those left out before)
    dropped_height: float = 0.0  # the tallest building left out


def left_out_error(dropped_area: float, dropped_height: float, tolerance: float) -> float:
    """How far a picture without some buildings is from the full one: the side of one block as big as all of them
    together, or the tallest of them. A town's houses left out change the picture as much as one block of their
    total size would, however small each one is; counting only the largest of them would keep a coarse level that
    shows a few sheds over a whole town on screen until the camera is close."""
    return max(tolerance, float(np.sqrt(dropped_area)), dropped_height)


def coarse_content(
    geometry: BuildingGeometry,
    members: np.ndarray,
    frame: LocalFrame,
    extent_m: float,
    full_vertices: int,
    *,
    left_out: tuple[float, float] = (0.0, 0.0),
) -> CoarseContent | None:
    """Simplified LoD1 blocks for ``members``, for a tile ``extent_m`` wide; None where it would not pay.

    Args:
        full_vertices: vertices of the full-detail meshes of ``members`` (what the coarse level replaces).
        left_out: footprint area and tallest height of buildings the tile stands for that are not in ``members``
            (the overview's groups get only each partition's bigger buildings).
    """
    tolerance = max(extent_m * TOLERANCE_PER_EXTENT, 0.5)
    min_area = (extent_m * MIN_SIDE_PER_EXTENT) ** 2
    footprints = geometry.footprints()[members]
    base, top = (h[members] for h in geometry.heights())
    area = shapely.area(footprints)
    keep = (area >= min_area) & np.isfinite(base) & np.isfinite(top)
    # Small buildings become their oriented rectangle; larger ones keep their shape within the tolerance.
    small = keep & (area < (8 * tolerance) ** 2)
    simplified = footprints.copy()
    simplified[small] = shapely.oriented_envelope(footprints[small])
    large = keep & ~small
    simplified[large] = shapely.simplify(footprints[large], tolerance, preserve_topology=True)
    usable = keep & ~shapely.is_empty(simplified) & np.isin(shapely.get_type_id(simplified), [3, 6])
    shown = np.flatnonzero(usable)
    if int(estimate_vertices(simplified[shown]).sum()) > (1.0 - MIN_SAVING) * full_vertices:
        return None
    mesh = extrude(simplified[shown], base[shown], top[shown], geometry.crs, frame) if len(shown) else concat_meshes([])

    dropped = ~usable & np.isfinite(area)
    dropped_area = left_out[0] + float(area[dropped].sum())
    heights = top[dropped] - base[dropped]
    dropped_height = max([left_out[1], *([float(np.nanmax(heights))] if np.isfinite(heights).any() else [])])
    error = left_out_error(dropped_area, dropped_height, tolerance)
    if not isinstance(geometry, ExtrudedBuildings) and len(shown):
        error = max(error, float(np.nanmax(top[shown] - base[shown])) * ROOF_SHAPE_ERROR)
    return CoarseContent(mesh, shown, round(error, 3), dropped_area, dropped_height)
