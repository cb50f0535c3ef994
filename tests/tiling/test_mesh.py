from __future__ import annotations

import numpy as np
import pytest
import shapely
from pyproj import CRS

from twin3d.tiling.geodesy import frame_at, projected_to_ecef
from twin3d.tiling.mesh import extrude

UTM32 = CRS.from_epsg(25832)
X, Y = 662_000.0, 5_486_000.0


@pytest.fixture
def frame():  # type: ignore[no-untyped-def]
    lon, lat = 11.28, 49.51
    return frame_at(lon, lat, 370.0)


def _outward_ok(mesh, centre: np.ndarray) -> bool:  # type: ignore[no-untyped-def]
    tris = mesh.indices.reshape(-1, 3)
    a, b, c = (mesh.positions[tris[:, i]] for i in range(3))
    normal = np.cross(b - a, c - a)
    away = (a + b + c) / 3 - centre
    return bool((np.einsum("ij,ij->i", normal, away) > 0).all())


def test_box_extrusion_has_outward_faces_unit_normals_and_the_right_height(frame) -> None:  # type: ignore[no-untyped-def]
    box = shapely.box(X, Y, X + 10, Y + 20)
    mesh = extrude(np.array([box]), np.array([370.0]), np.array([382.0]), UTM32, frame)
    assert mesh.vertex_count == 4 * 4 + 4
    assert len(mesh.indices) == 3 * (4 * 2 + 2)
    assert np.allclose(np.linalg.norm(mesh.normals, axis=1), 1.0, atol=1e-5)
    up = mesh.positions[:, 2]
    assert up.max() - up.min() == pytest.approx(12.0, abs=0.05)
    centre = frame.from_ecef(projected_to_ecef(np.array([X + 5]), np.array([Y + 10]), np.array([376.0]), UTM32))[0]
    assert _outward_ok(mesh, centre)


def test_courtyard_building_walls_face_into_the_courtyard(frame) -> None:  # type: ignore[no-untyped-def]
    outer = [(X, Y), (X + 30, Y), (X + 30, Y + 30), (X, Y + 30)]
    hole = [(X + 10, Y + 10), (X + 20, Y + 10), (X + 20, Y + 20), (X + 10, Y + 20)]
    ring = shapely.Polygon(outer, [hole])
    mesh = extrude(np.array([ring]), np.array([370.0]), np.array([380.0]), UTM32, frame)
    tris = mesh.indices.reshape(-1, 3)
    roof = tris[(mesh.normals[tris[:, 0], 2] > 0.99)]
    a, b, c = (mesh.positions[roof[:, i]] for i in range(3))
    roof_area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum()
    assert roof_area == pytest.approx(900 - 100, rel=1e-3)  # the courtyard is not roofed
    # The courtyard's west wall (x = X + 10) faces east, into the courtyard, not into the building.
    east = frame.from_ecef(projected_to_ecef(np.array([X + 10.0]), np.array([Y + 15.0]), np.array([375.0]), UTM32))[0]
    near = np.linalg.norm(mesh.positions[:, :2] - east[:2], axis=1) < 5.1
    side = near & (np.abs(mesh.normals[:, 2]) < 0.1) & (np.abs(mesh.normals[:, 0]) > 0.9)
    assert side.any()
    assert (mesh.normals[side, 0] > 0.99).all()


def test_multipolygon_parts_share_one_feature_id(frame) -> None:  # type: ignore[no-untyped-def]
    parts = shapely.MultiPolygon([shapely.box(X, Y, X + 5, Y + 5), shapely.box(X + 10, Y, X + 15, Y + 7)])
    lshape = shapely.Polygon(
        [(X + 30, Y), (X + 40, Y), (X + 40, Y + 4), (X + 34, Y + 4), (X + 34, Y + 10), (X + 30, Y + 10)]
    )
    mesh = extrude(np.array([parts, lshape]), np.full(2, 370.0), np.full(2, 376.0), UTM32, frame)
    assert set(np.unique(mesh.feature_ids).tolist()) == {0, 1}
    ids_per_triangle = mesh.feature_ids[mesh.indices.reshape(-1, 3)]
    assert (ids_per_triangle == ids_per_triangle[:, :1]).all()
    # The concave L goes through earcut: its roof area must be exact (64 m²).
    tris = mesh.indices.reshape(-1, 3)
    roof = tris[(mesh.normals[tris[:, 0], 2] > 0.99) & (ids_per_triangle[:, 0] == 1)]
    a, b, c = (mesh.positions[roof[:, i]] for i in range(3))
    assert 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum() == pytest.approx(64.0, rel=1e-3)
