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


def _roof_triangles(mesh) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """Roof triangles (their vertices face up) and twice their areas signed by their winding seen from above."""
    tris = mesh.indices.reshape(-1, 3)
    roof = tris[mesh.normals[tris[:, 0], 2] > 0.99]
    a, b, c = (mesh.positions[roof[:, i]] for i in range(3))
    up = np.einsum("ij,ij->i", np.cross(b - a, c - a), mesh.normals[roof[:, 0]].astype(np.float64))
    return roof, up


def _offset(points: list[tuple[float, float]]) -> shapely.Polygon:
    return shapely.Polygon([(X + x, Y + y) for x, y in points])


# Outlines that a fan from one corner cannot roof (U, T, comb), ones it can from a reflex corner only (L, notch), and
# the awkward inputs of real data: clockwise rings, corners on a straight edge, a repeated corner, a courtyard.
OUTLINES = {
    "L": _offset([(0, 0), (10, 0), (10, 4), (4, 4), (4, 10), (0, 10)]),
    "U": _offset([(0, 0), (30, 0), (30, 30), (20, 30), (20, 10), (10, 10), (10, 30), (0, 30)]),
    "T": _offset([(0, 20), (0, 30), (30, 30), (30, 20), (20, 20), (20, 0), (10, 0), (10, 20)]),
    "comb": _offset(
        [(0, 0), (50, 0), (50, 20), (40, 20), (40, 5), (30, 5), (30, 20), (20, 20), (20, 5), (10, 5), (10, 20), (0, 20)]
    ),
    "notch": _offset([(0, 0), (10, 0), (10, 10), (6, 10), (5, 1), (4, 10), (0, 10)]),
    "clockwise L": _offset([(0, 0), (0, 10), (4, 10), (4, 4), (10, 4), (10, 0)]),
    "collinear corners": _offset([(0, 0), (5, 0), (10, 0), (10, 5), (10, 10), (5, 10), (0, 10), (0, 5)]),
    "repeated corner": _offset([(0, 0), (10, 0), (10, 0), (10, 8), (0, 8)]),
    "pentagon": _offset([(0, 0), (10, 0), (13, 7), (5, 12), (-3, 7)]),
    "courtyard": shapely.Polygon(
        [(X, Y), (X + 30, Y), (X + 30, Y + 30), (X, Y + 30)],
        [[(X + 10, Y + 10), (X + 10, Y + 20), (X + 20, Y + 20), (X + 20, Y + 10)]],
    ),
}


@pytest.mark.parametrize("name", list(OUTLINES))
def test_every_roof_covers_its_outline_exactly_once_and_faces_up(frame, name: str) -> None:  # type: ignore[no-untyped-def]
    outline = OUTLINES[name]
    box = shapely.box(X, Y, X + 10, Y + 10)
    mesh = extrude(np.array([outline, box]), np.full(2, 370.0), np.full(2, 380.0), UTM32, frame)
    roof, up = _roof_triangles(mesh)
    # Counter-clockwise seen from above: the roof's front faces the sky (a wall without area also faces up).
    assert (up > -1e-9).all()
    area = np.bincount(mesh.feature_ids[roof[:, 0]], weights=up / 2, minlength=2)
    # Ellipsoid areas differ from map areas by the projection's scale; the box next to it has the same scale.
    scale = area[1] / 100.0
    assert area[0] / scale == pytest.approx(outline.area, rel=1e-6)


def test_real_footprints_are_meshed_where_the_exact_transform_puts_them(frame) -> None:  # type: ignore[no-untyped-def]
    """Every vertex, carried back from the tile frame to the map exactly, lies on its footprint's outline at its
    base or top height (within a millimetre), and every roof covers its footprint once."""
    from pyproj import Transformer  # noqa: PLC0415

    from tests.conftest import GEODATA  # noqa: PLC0415
    from twin3d.io.vector import read_vector  # noqa: PLC0415
    from twin3d.tiling.geodesy import ECEF, WGS84_3D  # noqa: PLC0415

    footprints = read_vector(GEODATA / "lauf" / "osm" / "lauf_buildings.geojson", UTM32).geometry[:3000]
    rng = np.random.default_rng(7)
    base = rng.uniform(300.0, 420.0, len(footprints))
    top = base + rng.uniform(3.0, 40.0, len(footprints))
    mesh = extrude(footprints, base, top, UTM32, frame)

    lon, lat, h = Transformer.from_crs(ECEF, WGS84_3D, always_xy=True).transform(*frame.to_ecef(mesh.positions).T)
    x, y = Transformer.from_crs(CRS.from_epsg(4326), UTM32, always_xy=True).transform(lon, lat)
    f = mesh.feature_ids
    on_outline = shapely.distance(shapely.points(x, y), shapely.boundary(footprints[f]))
    assert on_outline.max() < 1e-3
    assert np.minimum(np.abs(h - base[f]), np.abs(h - top[f])).max() < 1e-3

    # Roofs in the map plane (the vertices carried back): each covers its footprint once, counter-clockwise.
    roof, _ = _roof_triangles(mesh)
    a, b, c = (np.column_stack([x, y])[roof[:, i]] for i in range(3))
    twice = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    assert (twice > -1e-6).all()
    area = np.bincount(f[roof[:, 0]], weights=twice / 2, minlength=len(footprints))
    assert area == pytest.approx(shapely.area(footprints), rel=1e-6)
