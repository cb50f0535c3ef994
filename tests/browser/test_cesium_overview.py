"""A Land-sized tileset in CesiumJS: one million buildings seen from 60 km load a few megabytes, not the city.

The tileset is the streaming pipeline's (bench/scale.py): the real Lauf footprints replicated to 1,000,000 LoD1
buildings, spilled into 1 km partitions and tiled by two worker processes, with the overview tiles above the
partitions. CesiumJS (the test-only npm devDependency) loads it from this origin; the bytes it fetched are read
from the browser's own resource timing, so they are what a user's browser would download.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from playwright.sync_api import Browser, Page
from pyproj import Transformer

from tests.browser.conftest import PageWatch, watched_page
from tests.browser.test_cesium import CESIUM_BUILD, CESIUM_PAGE, TIMEOUT_MS, _wait_for_tiles
from tests.conftest import REPO, free_port, serving
from twin3d.executor import ExecutorSpec

pytestmark = [pytest.mark.browser, pytest.mark.slow]

BUILDINGS = 1_000_000
BUDGET_60KM = 10_000_000  # bytes
FETCHED = """() => performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("/scale-tiles/"))
    .map((e) => [new URL(e.name).pathname.slice("/scale-tiles/".length), e.encodedBodySize])"""


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scale", REPO / "bench" / "scale.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses and the tasks workers run are looked up by module name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 1 M building tileset (about 1 GB, built in about a minute on two cores)."""
    work = tmp_path_factory.mktemp("scale")
    _bench().run("lod1", BUILDINGS, ExecutorSpec("processes", 2), work)
    return work / "tiles"


@pytest.fixture(scope="module")
def scale_server(million: Path) -> Iterator[str]:
    """Static files only: the Cesium test page, Cesium's build and the tileset, all on one origin."""
    if not (CESIUM_BUILD / "Cesium.js").is_file():
        pytest.fail("CesiumJS is missing; run: npm ci --prefix viewer")
    app = FastAPI()
    app.mount("/cesium-test", StaticFiles(directory=CESIUM_PAGE, html=True), name="cesium-test")
    app.mount("/cesium-build", StaticFiles(directory=CESIUM_BUILD), name="cesium-build")
    app.mount("/scale-tiles", StaticFiles(directory=million), name="scale-tiles")
    port = free_port()
    with serving(app, port) as url:
        yield url


@pytest.fixture
def page(
    browser: Browser, scale_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, scale_server, tmp_path, request) as pair:
        yield pair


def _lon_lat(tileset: Path, enu: np.ndarray) -> tuple[float, float, float]:
    """A point of the tileset's ENU frame (the root transform) as longitude, latitude and ellipsoidal height."""
    transform = np.asarray(json.loads(tileset.read_text())["root"]["transform"]).reshape(4, 4).T
    x, y, z = (transform @ np.append(enu, 1.0))[:3]
    lon, lat, h = Transformer.from_crs(4978, 4979, always_xy=True).transform(x, y, z)
    return float(lon), float(lat), float(h)


def _leaves(tiles: Path, pid: str) -> set[str]:
    """The full-detail contents (tiles without children) of one partition."""
    doc = json.loads((tiles / "p" / pid / "tileset.json").read_text())
    found, stack = set(), [doc["root"]]
    while stack:
        tile = stack.pop()
        stack.extend(tile.get("children", []))
        if "children" not in tile and "content" in tile:
            found.add(f"p/{pid}/{tile['content']['uri']}")
    return found


def _settled(page: Page, move: str) -> None:
    """Move the camera, then wait until CesiumJS says every tile the new view needs is loaded: its allTilesLoaded
    event after the move (a view refines level by level, and between two levels nothing may be pending)."""
    events = page.evaluate("window.__cesium.allTilesLoadedEvents")
    _wait_for_tiles(page, page.evaluate(move))
    page.wait_for_function(
        f"window.__cesium.allTilesLoadedEvents > {events} && window.__cesium.tilesLoaded()", timeout=TIMEOUT_MS
    )


def test_a_million_buildings_from_60_km_fetch_little_and_refine_closer_in(
    page: tuple[Page, PageWatch], scale_server: str, million: Path
) -> None:
    pg, watch = page
    root_file = million / "tileset.json"
    box = np.asarray(json.loads(root_file.read_text())["root"]["boundingVolume"]["box"])
    lon, lat, h = _lon_lat(root_file, box[:3])

    # The browser keeps 250 resource timings by default; the far view alone fetches about that many files.
    pg.add_init_script("performance.setResourceTimingBufferSize(1000000)")
    pg.goto(f"{scale_server}/cesium-test/?tileset=/scale-tiles/tileset.json")
    pg.wait_for_function("window.__cesium && window.__cesium.tilesetReady", timeout=TIMEOUT_MS)
    _settled(pg, f"window.__cesium.lookAt({lon}, {lat}, {h}, 60000, 0, -90)")
    assert pg.evaluate("window.__cesium.tileFailures") == []
    far = dict(pg.evaluate(FETCHED))
    assert "tileset.json" in far
    assert sum(far.values()) <= BUDGET_60KM, f"{sum(far.values()) / 1e6:.1f} MB from 60 km"
    assert any(name.startswith("o/") for name in far), "no overview tile (groups of partitions) loaded"

    # Closer in, over a partition of the first copy: CesiumJS refines down to that partition's full detail.
    pid = sorted(p.name for p in (million / "p").iterdir())[len(list((million / "p").iterdir())) // 2]
    part = json.loads((million / "p" / pid / "tileset.json").read_text())["root"]["boundingVolume"]["box"]
    plon, plat, ph = _lon_lat(root_file, np.asarray(part[:3]))
    _settled(pg, f"window.__cesium.lookAt({plon}, {plat}, {ph}, 250, 0, -60)")
    assert pg.evaluate("window.__cesium.tileFailures") == []
    near = dict(pg.evaluate(FETCHED))
    assert _leaves(million, pid) & near.keys(), f"no full-detail tile of {pid} loaded from 250 m"
    watch.assert_clean()
