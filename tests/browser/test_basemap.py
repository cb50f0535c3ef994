"""The basemap in a real browser: MapLibre draws the twin's own vector tiles (streets, water, names) behind the 3D
buildings, with local glyphs, in step with deck.gl's camera, and nothing leaves the server's origin."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import Page

from tests.browser.conftest import PageWatch

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 120_000

# Lauf's old town from above the Marktplatz, looking at the Pegnitz.
OLD_TOWN = "11.2790,49.5103,16.5,40,-20"
# Streets there whose names the basemap writes along them at this view (OSM, January 2020).
OLD_TOWN_STREETS = {"Johannisstraße", "Marktplatz", "Spitalstraße", "Poststraße", "Mauergasse", "Wäschgasse", "Plärrer"}
# A point on Johannisstraße's centre line, with buildings 5 m to either side (OSM way 162035233), and the middle of the
# Pegnitz (OSM riverbank 40455786, 16 m from either bank): looked at straight down, nothing stands over them.
JOHANNISSTRASSE = (11.2802077, 49.510966)
PEGNITZ = (11.281164, 49.510124)
STRAIGHT_DOWN = "11.28066,49.51055,17.5,0,0"


def _shot(page: Page, path: Path) -> np.ndarray:
    data = page.locator("#map").screenshot(path=path)
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int16)


def _frames(page: Page) -> None:
    """Until two more animation frames have passed: deck.gl and MapLibre have drawn what was just changed."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")


def _open(page: Page, base: str, view: str) -> None:
    """Open Lauf at a permalink view and wait until the buildings and the basemap are drawn there."""
    page.goto(f"{base}/#twin=lauf&view={view}")
    page.wait_for_function("window.__twin3d && window.__twin3d.allTilesLoaded", timeout=TIMEOUT_MS)
    _idle(page)


def _idle(page: Page, after: int = -1) -> None:
    """Until MapLibre has drawn everything for the current camera (its `idle`), after idle number ``after``."""
    page.wait_for_function(
        f"window.__twin3d.basemap && window.__twin3d.basemap.ready && window.__twin3d.basemap.idles > {after}",
        timeout=TIMEOUT_MS,
    )


def _pixel(page: Page, pixels: np.ndarray, lon: float, lat: float, height: float) -> np.ndarray:
    """The mean colour of the 5 x 5 pixels where a point on the twin's ground is drawn."""
    x, y = page.evaluate(f"window.__twin3d.project({lon}, {lat}, {height})")[:2]
    xi, yi = round(x), round(y)
    assert 2 <= xi < pixels.shape[1] - 2, (x, y)
    assert 2 <= yi < pixels.shape[0] - 2, (x, y)
    return pixels[yi - 2 : yi + 3, xi - 2 : xi + 3].reshape(-1, 3).mean(axis=0)


def test_lauf_basemap_draws_streets_water_and_names_offline(
    page: tuple[Page, PageWatch], live_server: str, client: TestClient, tmp_path: Path
) -> None:
    pg, watch = page
    lauf: dict[str, Any] = next(t for t in client.get("/api/twins").json() if t["name"] == "lauf")
    assert lauf["basemap"] is not None
    assert lauf["basemap_url"].endswith("/{z}/{x}/{y}.pbf")
    _open(pg, live_server, OLD_TOWN)
    probe = "window.__twin3d.basemap"
    assert pg.evaluate(f"{probe}.errors") == []
    assert pg.evaluate(f"{probe}.tilesLoaded") > 0
    # Roads, water and land use are drawn, and street names are written along the streets.
    assert pg.evaluate(f"{probe}.renderedFeatures(['roads', 'road-casing'])") > 20
    assert pg.evaluate(f"{probe}.renderedFeatures(['water', 'waterway'])") > 0
    assert pg.evaluate(f"{probe}.renderedFeatures(['landuse'])") > 0
    labels = set(pg.evaluate(f"{probe}.labels()"))
    assert labels & OLD_TOWN_STREETS, labels
    # The layer list: the basemap is on, the census colouring off (and its legend hidden), the footer names OSM.
    assert pg.get_by_label("Grundkarte").is_checked()
    assert not pg.get_by_label("Gebietsstatistik").is_checked()
    assert pg.locator("#legend-panel").is_hidden()
    assert "OpenStreetMap" in pg.locator("#attribution").inner_text()
    overview = _shot(pg, tmp_path / "old-town.png")
    # A map, not one flat colour: many distinct colours, and light ones (the map is calm and light).
    assert len(np.unique(overview.reshape(-1, 3), axis=0)) > 500
    assert overview.mean() > 180

    # English: the street names stay (OSM's English name where it has one, else the name).
    idles = pg.evaluate(f"{probe}.idles")
    pg.get_by_role("button", name="English").click()
    _idle(pg, idles)
    english = set(pg.evaluate(f"{probe}.labels()"))
    assert english & OLD_TOWN_STREETS, english
    assert pg.get_by_label("Basemap").is_checked()
    pg.get_by_role("button", name="Deutsch").click()
    watch.assert_clean()


def test_buildings_stand_beside_the_streets_of_the_basemap(
    page: tuple[Page, PageWatch], live_server: str, client: TestClient, tmp_path: Path
) -> None:
    pg, watch = page
    lauf = next(t for t in client.get("/api/twins").json() if t["name"] == "lauf")
    ground = lauf["origin"]["height"]
    _open(pg, live_server, STRAIGHT_DOWN)
    pixels = _shot(pg, tmp_path / "straight-down.png")
    # Straight down on Johannisstraße between its houses: the street's white, not a roof and not bare land; the
    # houses 5 m to either side would cover it if the basemap and the buildings were out of step.
    street = _pixel(pg, pixels, *JOHANNISSTRASSE, ground)
    assert street.min() >= 248, street
    # The Pegnitz is blue.
    river = _pixel(pg, pixels, *PEGNITZ, ground)
    assert river[2] > river[0] + 20, river

    # Switched off, the basemap leaves the plain ground; the street is no longer white.
    pg.get_by_label("Grundkarte").uncheck()
    _frames(pg)
    bare = _shot(pg, tmp_path / "no-basemap.png")
    assert _pixel(pg, bare, *JOHANNISSTRASSE, ground).min() < 240
    assert np.abs(_pixel(pg, bare, *PEGNITZ, ground) - river).sum() > 30
    pg.get_by_label("Grundkarte").check()
    watch.assert_clean()
