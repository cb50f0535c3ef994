"""A test twin with a DEM: the real DGM1 sample on the Rhine in Köln (tests/data/dem/SOURCE.md: 50 x 50 cells of
20 m, EPSG:25832, the river at about 39 m, banks 43-50 m NHN) with FIXTURE buildings, facilities, paths and census
cells made up here, since no real building data come with the tile. Nothing below is real except the terrain.

Places are given as DEM cells (row, col): cell (r, c) is centred at (357000 + 20 c, 5646999 - 20 r). At a water
level of 46 m the east bank (bottom right) floods from the river, the hollows of the west bank (top left) lie below
46 m but are not connected to it, and cell (43, 37) is a dry island in the water (see the maps in the tests).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import Transformer

from tests.conftest import PIPELINES, REPO
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings

DEM = REPO / "tests" / "data" / "dem" / "dgm1_32_357_5646_koeln_sub20m.tif"
X0, Y0, PIXEL = 357000.0, 5646999.0, 20.0
INSET_M = 2.0
"""Footprints stop this far inside their outer cells' edges, so which cell centres they hold is unambiguous."""
PERSONS_PER_M2 = 1 / 50
"""FIXTURE census: one person per 50 m² of residential floor area (Germans live on about 47 m² each)."""

# name: (first row, last row, first col, last col, building type, storeys): FIXTURE footprints.
BUILDINGS: dict[str, tuple[int, int, int, int, str, int]] = {
    "west_high": (24, 27, 2, 5, "apartments", 4),
    "west_low": (36, 39, 2, 4, "apartments", 4),
    "hollow": (13, 15, 20, 23, "apartments", 4),
    "east_bank": (36, 39, 38, 41, "apartments", 4),
    "east_corner": (44, 47, 45, 48, "apartments", 4),
}
HUT = ("hut", 42, 40, "garage")  # 6 x 6 m inside cell (42, 40), off every cell centre
SMALL = ("east_small", 46, 31, "house")  # 10 x 10 m on cell (46, 31): a few residents
# id: (row, col, OSM category, name): FIXTURE facilities.
FACILITIES = {
    "kita_ufer": (38, 40, "amenity=kindergarten", "Kita am Ufer"),
    "kita_insel": (43, 37, "amenity=kindergarten", "Kita auf der Insel"),
    "kita_west": (30, 4, "amenity=kindergarten", "Kita Hochufer"),
    "pflegeheim": (25, 7, "amenity=nursing_home", "Seniorenheim am Hang"),
}
# id: vertices as (row, col): FIXTURE paths. The bridge crosses the Rhine; the lane runs on the east bank.
PATHS = {
    "west_lane": [(20, 1), (42, 1), (45, 1)],
    "bridge": [(42, 1), (42, 46)],
    "east_lane": [(42, 46), (45, 33)],
}
WALL = [(29, 50), (50, 29)]
"""A wall line across the south-east corner (cells with row + col = 79): behind it lie east_corner and the hut."""


def xy(row: float, col: float) -> tuple[float, float]:
    """The twin coordinates of a cell position."""
    return X0 + col * PIXEL, Y0 - row * PIXEL


def cell_box(r0: int, r1: int, c0: int, c1: int) -> shapely.Polygon:
    """A footprint over cells r0..r1 x c0..c1, INSET_M inside their outer edges."""
    x0, y1 = xy(r0 - 0.5, c0 - 0.5)
    x1, y0 = xy(r1 + 0.5, c1 + 0.5)
    return shapely.box(x0 + INSET_M, y0 + INSET_M, x1 - INSET_M, y1 - INSET_M)


def footprints() -> dict[str, tuple[shapely.Polygon, str, int]]:
    """Every fixture building: footprint, type, storeys."""
    out = {
        name: (cell_box(r0, r1, c0, c1), kind, storeys) for name, (r0, r1, c0, c1, kind, storeys) in BUILDINGS.items()
    }
    name, r, c, kind = HUT
    x, y = xy(r, c)
    out[name] = (shapely.box(x + 4, y - 10, x + 10, y - 4), kind, 1)
    name, r, c, kind = SMALL
    x, y = xy(r, c)
    out[name] = (shapely.box(x - 5, y - 5, x + 5, y + 5), kind, 2)
    return out


def dem_heights() -> np.ndarray:
    """The DEM's cells as rasterio reads them (float32), independently of twin3d."""
    with rasterio.open(DEM) as src:
        assert (src.transform.c + PIXEL / 2, src.transform.f - PIXEL / 2) == (X0, Y0)
        return np.asarray(src.read(1))


def _collection(features: list[dict[str, object]]) -> str:
    crs = {"type": "name", "properties": {"name": "EPSG:25832"}}
    return json.dumps({"type": "FeatureCollection", "crs": crs, "features": features})


def _census(buildings: dict[str, tuple[shapely.Polygon, str, int]]) -> str:
    """FIXTURE census grid: each 1 km cell (EPSG:3035) holding residential floor area gets PERSONS_PER_M2 of it."""
    to_laea = Transformer.from_crs(25832, 3035, always_xy=True)
    floor: dict[str, float] = {}
    for footprint, kind, storeys in buildings.values():
        if kind == "garage":
            continue
        e, n = to_laea.transform(footprint.centroid.x, footprint.centroid.y)
        grid_id = f"CRS3035RES1000mN{int(n // 1000) * 1000}E{int(e // 1000) * 1000}"
        floor[grid_id] = floor.get(grid_id, 0.0) + footprint.area * storeys
    lines = ["GRD_ID,T,M,F,Y_LT15,Y_1564,Y_GE65,LAND_SURFACE"]
    for grid_id, area in sorted(floor.items()):
        persons = round(area * PERSONS_PER_M2)
        young, old = round(persons * 0.15), round(persons * 0.2)
        male = round(persons * 0.49)
        lines.append(f"{grid_id},{persons},{male},{persons - male},{young},{persons - young - old},{old},1.0")
    return "\n".join(lines) + "\n"


PIPELINE = """
# FIXTURE twin for the flood tests: real DGM1 terrain, made-up buildings, facilities, paths and census cells.
[twin]
name = "rhine"
title = "Rheinufer Köln (Testzwilling)"
crs = "EPSG:25832"
ground_height = 45.0
geoid_undulation = 47.0
dem = "{dem}"
attribution = ["DGM1: © Geobasis NRW (dl-de/zero-2-0); everything else: test fixtures"]

[[sources]]
name = "buildings"
kind = "buildings"
path = "../buildings.geojson"
id_field = "id"
type_field = "building"
levels_field = "levels"

[[sources]]
name = "facilities"
kind = "facilities"
path = "../facilities.geojson"
id_field = "id"
category_field = "category"
name_field = "name"

[[sources]]
name = "paths"
kind = "paths"
path = "../paths.geojson"
id_field = "id"
class_field = "highway"

[[sources]]
name = "census"
kind = "grid"
path = "../census.csv"
year = 2022

[sources.rename]
T = "population"
M = "male"
F = "female"
Y_LT15 = "age_under_15"
Y_1564 = "age_15_64"
Y_GE65 = "age_65_plus"
LAND_SURFACE = "land_share"

[sources.units]
population = "persons"
male = "persons"
female = "persons"
age_under_15 = "persons"
age_15_64 = "persons"
age_65_plus = "persons"
land_share = "share"

[population]
year = 2022
seed = 2022
priors = "{pipelines}/priors/germany.toml"
personas = "{pipelines}/personas.toml"
"""


def build_rhine_twin(root: Path) -> PathSettings:
    """Write the fixture inputs under ``root`` and build the twin there; the pipelines folder holds the demo
    twins' personas and facility types (symlinked), so the scenario engine reads the same configuration."""
    buildings = footprints()
    features = [
        {
            "type": "Feature",
            "properties": {"id": name, "building": kind, "levels": storeys},
            "geometry": shapely.geometry.mapping(footprint),
        }
        for name, (footprint, kind, storeys) in buildings.items()
    ]
    (root / "buildings.geojson").write_text(_collection(features), encoding="utf-8")
    points = [
        {
            "type": "Feature",
            "properties": {"id": fid, "category": category, "name": name},
            "geometry": {"type": "Point", "coordinates": list(xy(r, c))},
        }
        for fid, (r, c, category, name) in FACILITIES.items()
    ]
    (root / "facilities.geojson").write_text(_collection(points), encoding="utf-8")
    lines = [
        {
            "type": "Feature",
            "properties": {"id": pid, "highway": "footway"},
            "geometry": {"type": "LineString", "coordinates": [list(xy(r, c)) for r, c in vertices]},
        }
        for pid, vertices in PATHS.items()
    ]
    (root / "paths.geojson").write_text(_collection(lines), encoding="utf-8")
    (root / "census.csv").write_text(_census(buildings), encoding="utf-8")
    pipelines = root / "pipelines"
    pipelines.mkdir()
    for name in ("personas.toml", "facility_types.toml", "priors", "projection"):
        (pipelines / name).symlink_to(PIPELINES / name)
    (pipelines / "rhine.toml").write_text(PIPELINE.format(dem=DEM, pipelines=PIPELINES), encoding="utf-8")
    paths = PathSettings(pipelines_dir=pipelines, store_dir=root / "var", tiles_dir=root / "tiles")
    build_twin(load_pipeline(pipelines / "rhine.toml"), paths)
    return paths
