from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS

from tests.conftest import GEODATA
from twin3d.io.cityjson import read_cityjson
from twin3d.io.surfaces import Buildings3D, SurfaceKind, empty_attributes
from twin3d.tiling.geodesy import frame_at, projected_to_ecef
from twin3d.tiling.surfaces import newell_normals, triangulate

UTM33 = CRS.from_epsg(25833)
TEXTURED = GEODATA / "rostock" / "lod2-cityjson" / "rostock_building_DEMVAL03000cncxu_textured.city.json"


def _areas(mesh) -> np.ndarray:  # type: ignore[no-untyped-def]
    tris = mesh.indices.reshape(-1, 3)
    a, b, c = (mesh.positions[tris[:, i]] for i in range(3))
    return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def test_real_lod2_building_triangles_cover_every_surface_and_face_outwards() -> None:
    building = read_cityjson(TEXTURED, UTM33)
    frame = frame_at(12.0975, 54.0927, 50.0)
    mesh, degenerate = triangulate(building, np.array([0]), frame, UTM33, 39.0)
    assert degenerate == 0
    # Triangulation keeps every polygon's area: compare with the polygons' own (Newell) areas.
    enu = frame.from_ecef(projected_to_ecef(*building.vertices.T[:2], building.vertices[:, 2] + 39.0, UTM33))
    rings = np.diff(building.ring_offsets)
    exterior = building.polygon_rings[:-1]
    polygon_area = 0.5 * np.linalg.norm(newell_normals(enu, building.ring_offsets[exterior], rings[exterior]), axis=1)
    # (slightly non-planar survey polygons make the triangles a hair larger than the projected area)
    assert _areas(mesh).sum() == pytest.approx(polygon_area.sum(), rel=1e-4)
    # Roofs point up, walls sideways; every triangle winds the way its face's normal points.
    tris = mesh.indices.reshape(-1, 3)
    n = mesh.normals[tris[:, 0]]
    a, b, c = (mesh.positions[tris[:, i]] for i in range(3))
    assert (np.einsum("ij,ij->i", np.cross(b - a, c - a), n) > -1e-9).all()
    kind_of_vertex = np.repeat(np.repeat(building.polygon_kind, np.diff(building.polygon_rings)), rings)
    roof = kind_of_vertex == SurfaceKind.ROOF
    assert (mesh.normals[roof, 2] > 0.1).all()
    assert (np.abs(mesh.normals[kind_of_vertex == SurfaceKind.WALL, 2]) < 0.2).all()
    # Heights: the lowest wall corner at 10.47 m NHN + 39 m undulation, about 49.5 m above the ellipsoid.
    assert mesh.positions[:, 2].min() + frame.height == pytest.approx(49.47, abs=0.3)


def test_polygon_with_hole_and_concave_outline_uses_earcut_exactly() -> None:
    x, y = 310_000.0, 5_997_000.0
    outer = [(x, y, 20), (x + 20, y, 20), (x + 20, y + 5, 20), (x + 5, y + 5, 20), (x + 5, y + 20, 20), (x, y + 20, 20)]
    hole = [(x + 1, y + 1, 20), (x + 1, y + 3, 20), (x + 3, y + 3, 20), (x + 3, y + 1, 20)]
    sliver = [(x, y, 20), (x + 1, y, 20), (x + 2, y, 20)]  # three points on a line: no area
    vertices = np.array(outer + hole + sliver, dtype=float)
    chunk = Buildings3D(
        Path("synthetic"),
        UTM33,
        vertices,
        np.array([0, 6, 10, 13]),
        np.array([0, 2, 3]),
        np.array([SurfaceKind.ROOF, SurfaceKind.ROOF], np.uint8),
        np.array([0, 2]),
        empty_attributes(1),
    )
    mesh, degenerate = triangulate(chunk, np.array([0]), frame_at(12.09, 54.09, 0.0), UTM33, 0.0)
    assert degenerate == 1
    assert _areas(mesh).sum() == pytest.approx(20 * 5 + 5 * 15 - 4, rel=1e-4)
    assert (mesh.normals[:10, 2] > 0.99).all()
