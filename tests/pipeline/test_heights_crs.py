"""Heights right in every CRS: twins in the Dutch RD and in Gauss-Krueger put building bases on their ground.

Bessel-based CRSs (RD EPSG:28992, DHDN Gauss-Krueger EPSG:31466-31469) once lifted every building by 43-51 m: the
tiler sent ellipsoidal heights through the CRS's own datum. These tests build real inputs in those CRSs, decode the
written tiles to ECEF and then to heights above the WGS 84 ellipsoid (EPSG:4978 -> EPSG:4979), and compare each
building's base with the ground the build says it used (ground height plus the geoid undulation of the build).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Transformer
from pyproj.transformer import TransformerGroup

from tests.conftest import GEODATA, REPO
from tests.tiling.test_tileset import content_points, leaf_ids
from twin3d.pipeline.build import build_twin, current_tiles
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.store import queries
from twin3d.store.connection import connect
from twin3d.tiling.gltf import read_accessor

BAG = REPO / "tests" / "data" / "cityjson" / "3dbag_multi_lod_subset.city.json"
LAUF = GEODATA / "lauf" / "osm" / "lauf_buildings.geojson"
TOLERANCE_M = 0.5
ECEF_TO_GEODETIC = Transformer.from_crs(4978, 4979, always_xy=True)


def _grid_missing(source: str, target: str) -> bool:
    """True where PROJ here lacks the grid of the best transformation (the warnings below are tested only then)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return not TransformerGroup(source, target, always_xy=True).best_available


def _leaf_contents(tileset: Path, parent: np.ndarray | None = None) -> Iterator[tuple[Path, np.ndarray]]:
    """Every full-detail .glb with the matrix (4x4) that places its tile frame in ECEF, external tilesets included."""
    placed = np.eye(4) if parent is None else parent
    stack: list[tuple[dict[str, Any], np.ndarray]] = [(json.loads(tileset.read_text())["root"], placed)]
    while stack:
        tile, matrix = stack.pop()
        if "transform" in tile:  # column-major, applied after the parent's
            matrix = matrix @ np.asarray(tile["transform"], dtype=np.float64).reshape(4, 4).T
        uri = tile.get("content", {}).get("uri", "")
        if uri.endswith(".json"):
            yield from _leaf_contents(tileset.parent / uri, matrix)
        elif uri.endswith(".glb") and "children" not in tile:
            yield tileset.parent / uri, matrix
        stack.extend((child, matrix) for child in tile.get("children", []))


def _bases(paths: PathSettings, twin: str) -> dict[str, tuple[float, float, float]]:
    """Per building id: its lowest height above the ellipsoid in the tiles, and the mean lon/lat of its vertices."""
    folder = current_tiles(paths, twin)
    assert folder is not None
    out: dict[str, tuple[float, float, float]] = {}
    for glb, matrix in _leaf_contents(folder / "tileset.json"):
        points, doc, blob = content_points(glb.read_bytes())
        ecef = points @ matrix[:3, :3].T + matrix[:3, 3]
        lon, lat, h = ECEF_TO_GEODETIC.transform(ecef[:, 0], ecef[:, 1], ecef[:, 2])
        features = read_accessor(doc, blob, doc["meshes"][0]["primitives"][0]["attributes"]["_FEATURE_ID_0"])
        features = features.astype(np.int64)
        ids = leaf_ids(doc, blob)
        base = np.full(len(ids), np.inf)
        np.minimum.at(base, features, h)
        count = np.bincount(features, minlength=len(ids))
        mean_lon = np.bincount(features, lon, len(ids)) / count
        mean_lat = np.bincount(features, lat, len(ids)) / count
        out.update(
            {i: (float(b), float(x), float(y)) for i, b, x, y in zip(ids, base, mean_lon, mean_lat, strict=True)}
        )
    return out


def _build(root: Path, toml: str) -> tuple[BuildReport, PathSettings, dict[str, Any]]:
    (root / "pipelines").mkdir(parents=True)
    (root / "pipelines" / "twin.toml").write_text(toml, encoding="utf-8")
    paths = PathSettings(pipelines_dir=root / "pipelines", store_dir=root / "var", tiles_dir=root / "tiles")
    report = build_twin(load_pipeline(root / "pipelines" / "twin.toml"), paths)
    con = connect(paths.store_file("twin"), read_only=True)
    try:
        meta = queries.meta(con.cursor(), "twin")
    finally:
        con.close()
    return report, paths, meta


# A Dutch twin: RD New with NAP heights, the 3D BAG file in RD New + NAP (it names no CRS itself).
BAG_TOML = f"""
[twin]
name = "twin"
title = "3D BAG, 's-Hertogenbosch"
crs = "EPSG:28992"
height_system = "EPSG:5709"
ground_height = 5.0
geoid_undulation = 43.4
geoid_source = "NLGEO2018 near 's-Hertogenbosch, approximate"

[[sources]]
name = "3dbag"
kind = "buildings"
format = "cityjson"
crs = "EPSG:7415"
path = "{BAG.as_posix()}"
source_label = "3dbag"
"""


def _lauf_in(root: Path, epsg: int) -> tuple[Path, dict[str, tuple[float, float]]]:
    """The buildings of Lauf's old town (579 real OSM footprints) written in ``epsg``, with their lon/lat centres."""
    doc = json.loads(LAUF.read_text(encoding="utf-8"))
    to_crs = Transformer.from_crs(4326, epsg, always_xy=True)
    kept, centres = [], {}
    for feature in doc["features"]:
        ring = np.asarray(feature["geometry"]["coordinates"][0])
        if abs(ring[0, 0] - 11.2818) < 0.0045 and abs(ring[0, 1] - 49.5102) < 0.003:
            x, y = to_crs.transform(ring[:, 0], ring[:, 1])
            feature["geometry"]["coordinates"] = [np.column_stack([x, y]).tolist()] + [
                np.column_stack(to_crs.transform(*np.asarray(hole).T)).tolist()
                for hole in feature["geometry"]["coordinates"][1:]
            ]
            kept.append(feature)
            centres[feature["properties"]["osm_id"]] = (float(ring[:-1, 0].mean()), float(ring[:-1, 1].mean()))
    path = root / f"lauf_{epsg}.geojson"
    crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}
    path.write_text(json.dumps({"type": "FeatureCollection", "crs": crs, "features": kept}), encoding="utf-8")
    return path, centres


def _lauf_toml(crs: str, path: Path) -> str:
    return f"""
[twin]
name = "twin"
title = "Lauf old town"
crs = "{crs}"
ground_height = 327.0
geoid_undulation = 47.8
geoid_source = "GCG2016 at 49.51 N 11.28 E, approximate"

[[sources]]
name = "lauf-footprints"
kind = "buildings"
path = "{path.as_posix()}"
id_field = "osm_id"
type_field = "building"
levels_field = "building:levels"
source_label = "osm"
"""


def _expected_ground(meta: dict[str, Any]) -> float:
    """The ground the build used, above the ellipsoid: its ground height plus its geoid undulation (the twin origin
    the tileset names carries both)."""
    assert meta["origin"]["height"] == pytest.approx(meta["ground_height"] + meta["geoid_undulation"])
    return float(meta["ground_height"] + meta["geoid_undulation"])


def test_an_rd_twin_stands_3d_bag_buildings_on_their_nap_ground(tmp_path: Path) -> None:
    report, paths, meta = _build(tmp_path, BAG_TOML)
    bag = json.loads(BAG.read_text(encoding="utf-8"))["CityObjects"]
    # The 3D BAG stands each model on its AHN ground height (h_maaiveld, NAP); NAP + undulation is the ellipsoid.
    expected = {i: obj["attributes"]["h_maaiveld"] + meta["geoid_undulation"] for i, obj in bag.items()}
    bases = _bases(paths, "twin")
    assert set(bases) == set(expected)
    offsets = np.array([bases[i][0] - expected[i] for i in expected])
    assert np.abs(offsets).max() < TOLERANCE_M, offsets
    assert meta["origin"]["lon"] == pytest.approx(5.366, abs=0.01)  # 's-Hertogenbosch
    assert meta["origin"]["lat"] == pytest.approx(51.718, abs=0.01)
    if meta["geoid_undulation"] == 43.4:  # the configured one: PROJ lacks the Dutch grid and must name it
        geoid = next(w for w in report.warnings if "quasigeoid undulation" in w)
        assert "nl_nsgi_nlgeo2018.tif of EPSG:5709 (NAP height)" in geoid
        assert "gcg2016" not in geoid
    if _grid_missing("EPSG:28992", "EPSG:4258"):
        rd = next(w for w in report.warnings if w.startswith("twin CRS EPSG:28992"))
        assert "nl_nsgi_rdtrans2018.tif" in rd
        assert "pyproj sync --file nl_nsgi_rdtrans2018.tif" in rd


def test_a_gauss_krueger_twin_stands_lauf_footprints_on_the_ground(tmp_path: Path) -> None:
    path, centres = _lauf_in(tmp_path, 31468)
    report, paths, meta = _build(tmp_path, _lauf_toml("EPSG:31468", path))
    bases = _bases(paths, "twin")
    assert len(bases) == len(centres) == report.counts["buildings"]
    heights = np.array([b[0] for b in bases.values()])
    assert np.abs(heights - _expected_ground(meta)).max() < TOLERANCE_M
    # Horizontally on their OSM positions too: written in DHDN, the tiler brings them back to WGS 84 with the same
    # datum transformation. The mean of a building's vertices is the mean of its outline's corners (each corner is
    # repeated alike) except for a few outlines with holes: 95 % within 10 cm.
    east = np.array([(bases[i][1] - centres[i][0]) * 72_300 for i in centres])  # metres per degree at 49.5 N
    north = np.array([(bases[i][2] - centres[i][1]) * 111_200 for i in centres])
    assert np.percentile(np.hypot(east, north), 95) < 0.1
    if _grid_missing("EPSG:31468", "EPSG:4326"):
        dhdn = next(w for w in report.warnings if w.startswith("twin CRS EPSG:31468"))
        assert "de_adv_BETA2007.tif" in dhdn
        assert "(accuracy 3 m) instead of DHDN to WGS 84 (4) (accuracy 1 m)" in dhdn  # used against the best
        assert "PROJ_NETWORK=ON" in dhdn


def test_an_input_in_gauss_krueger_in_a_utm_twin_is_warned_of_once(tmp_path: Path) -> None:
    path, centres = _lauf_in(tmp_path, 31468)
    report, paths, meta = _build(tmp_path, _lauf_toml("EPSG:25832", path))
    heights = np.array([b[0] for b in _bases(paths, "twin").values()])
    assert len(heights) == len(centres)
    assert np.abs(heights - _expected_ground(meta)).max() < TOLERANCE_M
    assert not [w for w in report.warnings if w.startswith("twin CRS")]  # UTM on ETRS89 needs no grid
    if _grid_missing("EPSG:31468", "EPSG:25832"):
        found = [w for w in report.warnings if "EPSG:31468" in w]
        assert len(found) == 1, report.warnings
        assert found[0].startswith("lauf-footprints: EPSG:31468 (DHDN / 3-degree Gauss-Kruger zone 4) to EPSG:25832")
        assert "de_adv_BETA2007.tif" in found[0]


def test_a_gauss_krueger_dem_gives_utm_houses_their_ground_and_names_a_missing_grid(tmp_path: Path) -> None:
    """A Land's DGM may still be in DHDN Gauss-Krueger while the twin is in UTM: the DEM is warped, the houses stand
    on it, and a transformation without the BETA2007 grid is named once, as for any other input."""
    import rasterio  # noqa: PLC0415
    from rasterio.warp import Resampling, calculate_default_transform, reproject  # noqa: PLC0415

    from tests.io.test_raster import DEM  # noqa: PLC0415

    gk = tmp_path / "dgm_gk2.tif"
    with rasterio.open(DEM) as src:
        transform, width, height = calculate_default_transform(
            src.crs, "EPSG:31466", src.width, src.height, *src.bounds
        )
        profile = {**src.profile, "crs": "EPSG:31466", "transform": transform, "width": width, "height": height}
        with rasterio.open(gk, "w", **profile) as dst:
            reproject(
                rasterio.band(src, 1), rasterio.band(dst, 1), dst_crs="EPSG:31466", resampling=Resampling.bilinear
            )
        ground = float(next(src.sample([(357130.0, 5646130.0)]))[0])
    ring = [[357120, 5646120], [357140, 5646120], [357140, 5646140], [357120, 5646140], [357120, 5646120]]
    house = {"type": "Feature", "properties": {"id": "h1"}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    (tmp_path / "houses.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": [house]}), encoding="utf-8"
    )
    toml = f"""
[twin]
name = "twin"
title = "Rhine bank"
crs = "EPSG:25832"
ground_height = 45.0
geoid_undulation = 47.0
dem = "{gk}"

[[sources]]
name = "houses"
kind = "buildings"
path = "{tmp_path / "houses.geojson"}"
crs = "EPSG:25832"
id_field = "id"
"""
    report, paths, _ = _build(tmp_path, toml)
    con = connect(paths.store_file("twin"), read_only=True)
    try:
        (stored,) = con.execute("SELECT ground_height FROM buildings").fetchone() or (None,)
    finally:
        con.close()
    assert stored is not None
    assert abs(stored - ground) < 0.5  # the DEM's own height there, through DHDN and back
    if _grid_missing("EPSG:31466", "EPSG:25832"):
        found = [w for w in report.warnings if w.startswith("DEM dgm_gk2.tif: EPSG:31466")]
        assert len(found) == 1, report.warnings
        assert "de_adv_BETA2007.tif" in found[0]
