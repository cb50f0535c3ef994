"""CesiumJS as an independent second 3D Tiles client: the Lauf tileset loads, renders and its metadata picks.

CesiumJS is a test-only npm devDependency (viewer/package.json); the product server never serves it. This module
starts its own copy of the real app with two extra mounts on the same origin, for this test only: the test page
(tests/browser/cesium_page) and Cesium's built files (viewer/node_modules/cesium/Build/Cesium).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, click_until, watched_page
from tests.conftest import REPO, free_port, serving
from twin3d.pipeline.report import BuildReport
from twin3d.server.access import MATRIX, PUBLIC
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CESIUM_BUILD = REPO / "viewer" / "node_modules" / "cesium" / "Build" / "Cesium"
CESIUM_PAGE = Path(__file__).resolve().parent / "cesium_page"
TIMEOUT_MS = 120_000  # software rendering (SwiftShader): the first frames take seconds
SCHOOL = "way/23777857"  # "Montesori FOS", 7.5 m (default height), a free-standing school in Lauf


@pytest.fixture(scope="module")
def cesium_server(demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[str]:
    """The real app on a free port, plus the Cesium test page and Cesium's build on the same origin."""
    if not (CESIUM_BUILD / "Cesium.js").is_file():
        pytest.fail("CesiumJS is missing; run: npm ci --prefix viewer")
    port = free_port()
    app = create_app(ServerSettings(port=port), demo_paths)
    app.mount("/cesium-test", StaticFiles(directory=CESIUM_PAGE, html=True), name="cesium-test")
    app.mount("/cesium-build", StaticFiles(directory=CESIUM_BUILD), name="cesium-build")
    # The access matrix refuses every route it does not list; these two exist for this test only.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(MATRIX, ("GET", "/cesium-test"), PUBLIC)
        patch.setitem(MATRIX, ("GET", "/cesium-build"), PUBLIC)
        with serving(app, port) as url:
            yield url


@pytest.fixture
def cesium_page(
    browser: Browser, cesium_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    """A page on the Cesium test server that records console errors and requests to other origins."""
    with watched_page(browser, cesium_server, tmp_path, request) as pair:
        yield pair


def _pixels(page: Page) -> np.ndarray:
    shot = page.locator("#cesium canvas").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def _wait_frames(page: Page, after: int, n: int = 3) -> None:
    """Wait until Cesium has rendered ``n`` more frames after frame number ``after``."""
    page.wait_for_function(f"window.__cesium.frames >= {after + n}", timeout=TIMEOUT_MS)


def _wait_for_tiles(page: Page, after: int) -> None:
    """Wait for frames after a camera or visibility change, then until every tile the view needs is loaded."""
    _wait_frames(page, after)
    page.wait_for_function("window.__cesium.tilesLoaded()", timeout=TIMEOUT_MS)
    _wait_frames(page, page.evaluate("window.__cesium.frames"), 2)


def _screen_box(page: Page, ring: list[list[float]], heights: tuple[float, float]) -> tuple[int, int, int, int]:
    corners = [page.evaluate(f"window.__cesium.toWindow({lon}, {lat}, {h})") for lon, lat in ring for h in heights]
    assert all(c is not None for c in corners), corners
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1


def test_cesium_loads_lauf_renders_and_picks_building_metadata(
    cesium_page: tuple[Page, PageWatch], cesium_server: str, client: TestClient
) -> None:
    pg, watch = cesium_page
    lauf = next(t for t in client.get("/api/twins").json() if t["name"] == "lauf")
    school: dict[str, Any] = client.get(f"/api/twins/lauf/buildings/{SCHOOL}").json()
    ground = school["ground_height"] + lauf["geoid_undulation"]  # metres above the ellipsoid, as in the tiles
    roof = ground + school["height"]

    pg.goto(f"{cesium_server}/cesium-test/?tileset={lauf['tileset']}")
    pg.wait_for_function("window.__cesium && window.__cesium.tilesetReady", timeout=TIMEOUT_MS)
    frame = pg.evaluate(f"window.__cesium.lookAt({school['lon']}, {school['lat']}, {roof}, 300, 0, -45)")
    _wait_for_tiles(pg, frame)
    assert pg.evaluate("window.__cesium.tileFailures") == []

    # Not blank where the school is: its pixels change when the tileset is hidden.
    x0, y0, x1, y1 = _screen_box(pg, school["geometry"]["coordinates"][0], (ground, roof))
    width, height = pg.evaluate("[innerWidth, innerHeight]")
    assert 0 <= x0 < x1 <= width, (x0, x1)
    assert 0 <= y0 < y1 <= height, (y0, y1)
    with_tiles = _pixels(pg)[y0:y1, x0:x1]
    _wait_frames(pg, pg.evaluate("window.__cesium.showTileset(false)"))
    without = _pixels(pg)[y0:y1, x0:x1]
    _wait_for_tiles(pg, pg.evaluate("window.__cesium.showTileset(true)"))
    changed = (np.abs(with_tiles - without).sum(axis=2) > 30).mean()
    assert changed > 0.5, f"only {changed:.1%} of the school's pixels show it"

    # Pick in the page, at the window position of the roof centre.
    x, y = pg.evaluate(f"window.__cesium.toWindow({school['lon']}, {school['lat']}, {roof})")
    picked = pg.evaluate(f"window.__cesium.pick({x}, {y})")
    assert picked is not None, "scene.pick found nothing at the school's roof"
    assert picked["kind"] == "Cesium3DTileFeature", picked
    assert picked["id"] == SCHOOL, picked
    assert picked["height"] == pytest.approx(7.5, abs=1e-4)
    assert picked["className"] == "building", picked
    assert {"id", "height", "source", "type", "height_source"} <= set(picked["propertyIds"]), picked
    # Placed right: the depth under the roof centre is the roof, at ground + geoid undulation + height.
    lon, lat, h = pg.evaluate(f"window.__cesium.pickPosition({x}, {y})")
    assert h == pytest.approx(roof, abs=0.5)
    assert lon == pytest.approx(school["lon"], abs=2e-5)
    assert lat == pytest.approx(school["lat"], abs=2e-5)

    # A real mouse click on the same spot, handled by Cesium's ScreenSpaceEventHandler (LEFT_CLICK).
    box = pg.locator("#cesium canvas").bounding_box()
    assert box is not None
    click_until(pg, box, x, y, "window.__cesium.picked !== null")
    clicked = pg.evaluate("window.__cesium.picked")
    assert clicked is not None, "the click reached no LEFT_CLICK handler"
    assert clicked["id"] == SCHOOL, clicked
    assert clicked["height"] == pytest.approx(school["height"], abs=1e-4)
    assert clicked["source"] == school["source"]
    assert clicked["height_source"] == school["height_source"]
    watch.assert_clean()


def test_cesium_shows_and_picks_citygml_lod2_surfaces(
    cesium_page: tuple[Page, PageWatch], cesium_server: str, client: TestClient
) -> None:
    pg, watch = cesium_page
    nrw = next(t for t in client.get("/api/twins").json() if t["name"] == "nrw")
    house = client.get("/api/twins/nrw/buildings/DENW34AL0000rEeN").json()  # a residential building, hipped roof
    ground = house["ground_height"] + nrw["geoid_undulation"]
    top = ground + house["height"]
    pg.goto(f"{cesium_server}/cesium-test/?tileset={nrw['tileset']}")
    pg.wait_for_function("window.__cesium && window.__cesium.tilesetReady", timeout=TIMEOUT_MS)
    frame = pg.evaluate(f"window.__cesium.lookAt({house['lon']}, {house['lat']}, {top}, 120, 30, -50)")
    _wait_for_tiles(pg, frame)
    assert pg.evaluate("window.__cesium.tileFailures") == []
    # The roof's centre is below the ridge; aim a little under the top, inside the outline.
    x, y = pg.evaluate(f"window.__cesium.toWindow({house['lon']}, {house['lat']}, {top - 1.5})")
    picked = pg.evaluate(f"window.__cesium.pick({x}, {y})")
    assert picked is not None
    assert picked["id"] == "DENW34AL0000rEeN", picked
    assert picked["source"] == "citygml"
    assert picked["height_source"] == "measured"
    _lon, _lat, h = pg.evaluate(f"window.__cesium.pickPosition({x}, {y})")
    assert ground + 2 < h <= top + 0.5  # on the LoD2 roof, between the eaves and the ridge
    watch.assert_clean()
