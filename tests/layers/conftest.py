"""Fixtures for the layer tests: settings that write only into tmp_path, the Lauf twin with its real extent, and
a fingerprint of everything under the layers folder (to show that a failed load changed nothing)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pyogrio
import pytest

from tests.conftest import GEODATA, PIPELINES, TEST_PIPELINES
from twin3d.layers.context import TwinInfo, twin_info
from twin3d.settings import PathSettings

DATA = Path(__file__).resolve().parent.parent / "data"
BAD = DATA / "bad-layers"
POIS = GEODATA / "lauf" / "osm" / "lauf_pois.geojson"
BUILDINGS = GEODATA / "lauf" / "osm" / "lauf_buildings.geojson"
DEM = DATA / "dem" / "dgm1_32_357_5646_koeln_sub20m.tif"
CLOUD = DATA / "pointcloud" / "koeln_dgm1_ground_4000.laz"


@pytest.fixture
def paths(tmp_path: Path) -> PathSettings:
    """The repository's pipeline definitions (lauf, rostock); store and layers in tmp_path."""
    return PathSettings(pipelines_dir=PIPELINES, store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")


@pytest.fixture
def nrw_paths(tmp_path: Path) -> PathSettings:
    """The NRW test twin (EPSG:25832, Kreis Wesel), for the Köln DEM, the point cloud and CityGML."""
    return PathSettings(pipelines_dir=TEST_PIPELINES, store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")


@pytest.fixture
def lauf(paths: PathSettings) -> TwinInfo:
    """The Lauf twin as built: its extent is that of its buildings (read here without building the store)."""
    west, south, east, north = pyogrio.read_info(BUILDINGS)["total_bounds"]
    return replace(twin_info(paths, "lauf"), bbox_wgs84=(float(west), float(south), float(east), float(north)))


def fingerprint(root: Path) -> dict[str, str]:
    """Every file and folder under ``root``, with the SHA-256 of each file."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }
