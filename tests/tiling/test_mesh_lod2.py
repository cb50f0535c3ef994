"""LoD2 surfaces in every orientation: each polygon is covered once by triangles that face the way it does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS

from twin3d.io.surfaces import Buildings3D, SurfaceKind, empty_attributes
from twin3d.tiling.geodesy import frame_at
from twin3d.tiling.surfaces import newell_normals, triangulate

UTM32 = CRS.from_epsg(25832)
X, Y = 662_000.0, 5_486_000.0
# Outlines in their own plane (counter-clockwise): an L (a fan from its reflex corner roofs it), a U (no corner sees
# all of it: earcut), a gable wall (convex pentagon: a plain fan).
OUTLINES = {
    "L": [(0, 0), (8, 0), (8, 3), (3, 3), (3, 6), (0, 6)],
    "U": [(0, 0), (9, 0), (9, 6), (6, 6), (6, 2), (3, 2), (3, 6), (0, 6)],
    "gable": [(0, 0), (8, 0), (8, 4), (4, 7), (0, 4)],
}


def _planes() -> list[np.ndarray]:
    """Axes (u, v) of planes facing +-x, +-y, +-z and tilted roofs, as 2 x 3 matrices."""
    e = np.eye(3)
    planes = [np.array([a, b]) for a, b in [(e[1], e[2]), (e[0], e[2]), (e[0], e[1])]]
    planes += [p[::-1] for p in planes]  # the same planes seen from the other side
    for angle in (20.0, 45.0, 70.0):
        t = np.radians(angle)
        planes.append(np.array([e[0], [0.0, np.cos(t), np.sin(t)]]))
        planes.append(np.array([[0.0, np.cos(t), np.sin(t)], e[0]]))
    return planes


def _buildings(outline: list[tuple[int, int]]) -> Buildings3D:
    """One single-polygon building per plane (and enough of them that the bulk paths run)."""
    rings = []
    for i, axes in enumerate(_planes() * 3):
        corners = np.asarray(outline, dtype=float) @ axes
        rings.append(corners + np.array([X + 40.0 * i, Y, 300.0]))
    vertices = np.concatenate(rings)
    n = len(rings)
    offsets = np.arange(n + 1) * len(outline)
    return Buildings3D(
        Path("synthetic"),
        UTM32,
        vertices,
        offsets,
        np.arange(n + 1),
        np.full(n, SurfaceKind.WALL, np.uint8),
        np.arange(n + 1),
        empty_attributes(n),
    )


@pytest.mark.parametrize("name", list(OUTLINES))
def test_every_polygon_is_covered_once_by_triangles_facing_its_way(name: str) -> None:
    buildings = _buildings(OUTLINES[name])
    mesh, degenerate = triangulate(buildings, np.arange(len(buildings)), frame_at(11.3, 49.5, 300.0), UTM32, 0.0)
    assert degenerate == 0
    corners = len(OUTLINES[name])
    starts = np.arange(len(buildings)) * corners
    polygon_normal = newell_normals(mesh.positions, starts, np.full(len(buildings), corners))
    tris = mesh.indices.reshape(-1, 3)
    a, b, c = (mesh.positions[tris[:, i]] for i in range(3))
    twice = np.cross(b - a, c - a)
    owner = mesh.feature_ids[tris[:, 0]]
    # Each triangle faces the way its polygon does, and together they cover it exactly once.
    assert (np.einsum("ij,ij->i", twice, polygon_normal[owner]) > 0).all()
    covered = np.stack([np.bincount(owner, weights=twice[:, k], minlength=len(buildings)) for k in range(3)], axis=1)
    assert np.linalg.norm(covered, axis=1) == pytest.approx(np.linalg.norm(polygon_normal, axis=1), rel=1e-9)
    assert np.abs(covered - polygon_normal).max() < 1e-6
    # The normals written for the vertices are the polygons' own.
    unit = polygon_normal / np.linalg.norm(polygon_normal, axis=1, keepdims=True)
    assert np.abs(mesh.normals - unit[mesh.feature_ids]).max() < 1e-6
