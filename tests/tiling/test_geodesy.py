"""Heights are applied in geographic WGS 84 whatever the twin's CRS: a Bessel-based CRS (Dutch RD, Gauss-Krueger)
moves the horizontal position only, never the height (it used to lift every building by 43-51 m)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS, Transformer

from twin3d.tiling import geodesy
from twin3d.tiling.geodesy import ECEF, WGS84_3D, frame_at, geodetic_to_ecef, projected_to_ecef, projected_to_enu_normal

PLACES = [
    (25832, 11.2775, 49.5098),  # ETRS89 / UTM 32N (Lauf)
    (25833, 12.0975, 54.0927),  # ETRS89 / UTM 33N (Rostock)
    (28992, 5.1214, 52.0907),  # Amersfoort / RD New (Bessel)
    (31468, 11.2775, 49.5098),  # DHDN / Gauss-Krueger zone 4 (Bessel)
    (31467, 8.6821, 50.1109),  # DHDN / Gauss-Krueger zone 3 (Bessel)
]


@pytest.mark.parametrize(("epsg", "lon", "lat"), PLACES)
def test_a_building_base_sits_at_its_ellipsoidal_height_in_every_crs(epsg: int, lon: float, lat: float) -> None:
    rng = np.random.default_rng(epsg)
    lons, lats = lon + rng.uniform(-0.01, 0.01, 500), lat + rng.uniform(-0.01, 0.01, 500)
    heights = rng.uniform(0.0, 500.0, 500)
    crs = CRS.from_epsg(epsg)
    x, y = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True).transform(lons, lats)
    expected = np.column_stack(Transformer.from_crs(WGS84_3D, ECEF, always_xy=True).transform(lons, lats, heights))

    ecef = projected_to_ecef(np.asarray(x), np.asarray(y), heights, crs)

    frame = frame_at(lon, lat, 0.0)
    height_error = frame.from_ecef(ecef)[:, 2] - frame.from_ecef(expected)[:, 2]
    assert np.abs(height_error).max() < 0.5, f"EPSG:{epsg} moves heights by {np.abs(height_error).max():.1f} m"
    assert np.linalg.norm(ecef - expected, axis=1).max() < 1.0  # the horizontal round trip through the CRS too


@pytest.mark.parametrize(("epsg", "lon", "lat"), [*PLACES, (3035, 10.0, 52.0)])  # and LAEA Europe
@pytest.mark.parametrize("span_m", [50.0, 1_000.0, 10_000.0, 20_000.0, 60_000.0])
def test_tile_vertices_lie_within_a_tenth_of_a_millimetre_of_the_exact_transform(
    epsg: int, lon: float, lat: float, span_m: float
) -> None:
    """Many points of a tile go through a cubic fitted to the exact transform in their box (or, beyond 20 km, the
    exact transform): the foot point plus the height along the normal must match the exact point at that height."""
    crs = CRS.from_epsg(epsg)
    x0, y0 = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True).transform(lon, lat)
    rng = np.random.default_rng(int(span_m) + epsg)
    n = 5_000
    x, y = x0 + rng.uniform(0.0, span_m, n), y0 + rng.uniform(0.0, span_m, n)
    h = rng.uniform(-50.0, 2_000.0, n)
    frame = frame_at(lon, lat, 300.0)

    foot, normal = projected_to_enu_normal(x, y, crs, frame)

    exact = frame.from_ecef(projected_to_ecef(x, y, h, crs))
    assert np.abs((foot + h * normal).T - exact).max() < 1e-4
    assert np.abs(np.linalg.norm(normal, axis=0) - 1.0).max() < 1e-9


def test_the_fit_is_checked_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the cubic misses the exact transform by more than the tolerance at a check point, it is not used (here
    with a tolerance of zero, which no fit meets)."""
    crs, frame = CRS.from_epsg(25832), frame_at(11.28, 49.51, 300.0)
    x, y = 662_000.0 + np.arange(1000.0), np.full(1000, 5_486_000.0)
    assert geodesy._fitted(x, y, crs, frame) is not None
    monkeypatch.setattr(geodesy, "FIT_TOLERANCE_M", 0.0)
    assert geodesy._fitted(x, y, crs, frame) is None


def test_geodetic_to_ecef_is_proj_s_conversion() -> None:
    lon, lat, h = np.array([11.2775, -70.5, 179.9]), np.array([49.5098, -33.4, 0.0]), np.array([370.0, 1200.0, -30.0])
    expected = np.column_stack(Transformer.from_crs(WGS84_3D, ECEF, always_xy=True).transform(lon, lat, h))
    assert np.abs(geodetic_to_ecef(lon, lat, h) - expected).max() < 1e-6


def test_the_root_tileset_carries_the_twin_s_and_its_sources_attribution(tmp_path: Path) -> None:
    from tests.conftest import TEST_PIPELINES  # noqa: PLC0415
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415
    from twin3d.settings import PathSettings  # noqa: PLC0415

    paths = PathSettings(store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")
    build_twin(load_pipeline(TEST_PIPELINES / "nrw.toml"), paths)
    (tileset,) = (tmp_path / "tiles" / "nrw").glob("*/tileset.json")
    credits = json.loads(tileset.read_text(encoding="utf-8"))["extras"]["attribution"]
    assert credits == ["3D-Gebäudemodell LoD2: © Geobasis NRW (dl-de/zero-2-0)", "© Geobasis NRW (dl-de/zero-2-0)"]
    # Every content carries the same credits: a tile taken out of the tileset keeps its licences.
    for glb in tileset.parent.rglob("*.glb"):
        length = int.from_bytes(glb.read_bytes()[12:16], "little")
        asset = json.loads(glb.read_bytes()[20 : 20 + length])["asset"]
        assert asset["copyright"] == "; ".join(credits), glb
