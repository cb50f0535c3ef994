"""The info popup in a real browser: on a phone a tap on a building and on a facility shows their names in a popup
that stays on the screen; on a desktop a click on a parcel (Monzel) and on a feature of a loaded layer shows
labelled values in German number formats, and Enter on the focused map opens the popup for what lies under the
crosshair at its centre, Escape closes it and gives the focus back to the map."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, FloatRect, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.conftest import PageWatch, click_until, watched_page
from tests.browser.test_layers_viewer import _census_geojson
from tests.browser.test_parcels_viewer import _german, _parcel_with_a_house
from tests.conftest import free_port, serving
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.load import load_layer
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 120_000
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
SCHOOL = "way/23777857"  # "Montesori FOS" in Lauf, as test_viewer.py clicks it
LAYER_TITLE = "Zensus 2021 (1-km-Gitter)"


@pytest.fixture
def phone(
    browser: Browser, live_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, live_server, tmp_path, request, **PHONE) as pair:
        yield pair


def _tap_until(page: Page, box: FloatRect, x: float, y: float, condition: str, *, attempts: int = 3) -> None:
    """Tap at canvas pixel (x, y) until the JavaScript ``condition`` holds (a tap during a slow software-rendered
    frame can be missed, as a click can: see click_until)."""
    for _attempt in range(attempts):
        page.touchscreen.tap(box["x"] + x, box["y"] + y)
        try:
            page.wait_for_function(condition, timeout=10_000)
            return
        except PlaywrightTimeoutError:
            continue


def _open_at(page: Page, url: str, twin: str, view: tuple[float, float, int]) -> None:
    """The twin at [lon, lat, zoom], seen from straight above, once its tileset is there."""
    page.goto("about:blank")  # a new view in the address's fragment alone would not reload the viewer
    page.goto(f"{url}/#twin={twin}&view={view[0]},{view[1]},{view[2]},0,0")
    page.wait_for_function(
        f"window.__twin3d && window.__twin3d.twin === '{twin}' && window.__twin3d.tilesetReady", timeout=TIMEOUT_MS
    )


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110_540)


def _lonely_facility(client: TestClient) -> dict[str, Any]:
    """A named facility point of Lauf on open ground (no building there) with no other facility within 40 m."""
    features = client.get("/api/twins/lauf/facilities.geojson").json()["features"]
    points = [f for f in features if f["geometry"]["type"] == "Point"]
    for f in sorted(points, key=lambda f: f["properties"]["facility_id"]):
        here = tuple(f["geometry"]["coordinates"][:2])
        if not f["properties"].get("name"):
            continue
        if any(g is not f and _metres(here, tuple(g["geometry"]["coordinates"][:2])) < 40 for g in points):
            continue
        if client.get(f"/api/twins/lauf/buildings/at?lon={here[0]}&lat={here[1]}").status_code == 404:
            chosen: dict[str, Any] = f
            return chosen
    raise AssertionError("Lauf has no lonely named facility")


def _in_view(page: Page, selector: str) -> None:
    """The element is wholly on the screen, and the page did not scroll to show it."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    assert box is not None
    assert size is not None
    assert min(box["x"], box["y"]) >= 0, box
    assert box["x"] + box["width"] <= size["width"], (box, size)
    assert box["y"] + box["height"] <= size["height"], (box, size)
    assert page.evaluate("window.scrollY") == 0


def test_on_a_phone_a_tap_on_a_building_and_on_a_facility_shows_their_names(
    phone: tuple[Page, PageWatch], live_server: str, client: TestClient
) -> None:
    pg, watch = phone
    lauf = next(t for t in client.get("/api/twins").json() if t["name"] == "lauf")
    school = client.get(f"/api/twins/lauf/buildings/{SCHOOL}").json()
    _open_at(pg, live_server, "lauf", (school["lon"], school["lat"], 18))
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None

    # The building: its name heads the popup, its height reads in metres; the popup sits on the screen.
    roof = school["ground_height"] + lauf["geoid_undulation"] + school["height"]
    x, y = pg.evaluate(f"window.__twin3d.project({school['lon']}, {school['lat']}, {roof})")[:2]
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y}) === 'buildings-lauf'", timeout=TIMEOUT_MS)
    _tap_until(pg, box, x, y, "window.__twin3d.info?.kind === 'building'")
    popup = pg.locator("#info-popup")
    assert popup.get_by_role("heading", level=2).inner_text() == "Montesori FOS"
    assert popup.get_attribute("role") == "dialog"
    assert popup.locator("[data-field=height]").inner_text() == "7,5 m"
    _in_view(pg, "#info-popup")
    assert pg.evaluate("window.__twin3d.lastBuilding") == SCHOOL  # the side panel has it too
    popup.get_by_role("button", name="Angaben schließen").tap()
    pg.wait_for_function("window.__twin3d.info.open === false")
    assert popup.is_hidden()

    # The facility, drawn in its category's colour with a letter; the legend names the categories.
    facility = _lonely_facility(client)
    lon, lat = facility["geometry"]["coordinates"][:2]
    _open_at(pg, live_server, "lauf", (lon, lat, 18))
    # The layer's switch is in the bottom sheet, which may be lowered: switched as its label would.
    pg.locator("#toggle-facilities").dispatch_event("click")
    pg.wait_for_function("document.getElementById('toggle-facilities').checked")
    legend = pg.locator("#facility-legend li")
    assert legend.count() >= 2
    z = lauf["origin"]["height"] + 1
    x, y = pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {z})")[:2]
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y}) === 'facilities-lauf'", timeout=TIMEOUT_MS)
    _tap_until(pg, box, x, y, "window.__twin3d.info?.kind === 'facility'")
    props = facility["properties"]
    assert popup.get_by_role("heading", level=2).inner_text() == props["name"]
    category = popup.locator("[data-field=info_category]").inner_text()
    assert category == props["category_name"], category
    assert "=" not in popup.inner_text()  # names, not raw OSM tags such as amenity=kindergarten
    _in_view(pg, "#info-popup")
    print("facility popup:", popup.inner_text().replace("\n", " | "))
    watch.assert_clean()


def test_a_click_on_a_parcel_shows_its_figures_in_the_popup(
    page: tuple[Page, PageWatch], live_server: str, client: TestClient
) -> None:
    pg, watch = page
    monzel = next(t for t in client.get("/api/twins").json() if t["name"] == "monzel")
    parcel, (lon, lat) = _parcel_with_a_house(client)
    _open_at(pg, live_server, "monzel", (lon, lat, 19))
    pg.get_by_label("Flurstücke", exact=True).check()
    pg.wait_for_function("window.__twin3d.parcels.tiles > 0", timeout=TIMEOUT_MS)
    x, y = pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {monzel['origin']['height']})")[:2]
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y})?.startsWith('parcels-monzel')", timeout=TIMEOUT_MS)
    click_until(pg, box, x, y, "window.__twin3d.info?.kind === 'parcel'")
    popup = pg.locator("#info-popup")
    assert popup.get_by_role("heading", level=2).inner_text() == parcel["label"]
    assert popup.locator("[data-field=grz]").inner_text() == _german(parcel["grz"])
    assert popup.locator("[data-field=area]").inner_text().endswith(" m²")
    # Beside the click, not in a corner: the popup's edge is near the clicked point.
    popup_box = popup.bounding_box()
    assert popup_box is not None
    near_x = popup_box["x"] - 20 <= box["x"] + x <= popup_box["x"] + popup_box["width"] + 20
    assert near_x, (popup_box, x)
    # "Alle Angaben in der Seitenleiste" leads to the parcel panel.
    popup.get_by_role("button", name="Alle Angaben in der Seitenleiste").click()
    assert pg.evaluate("document.activeElement.id") == "parcel-title"
    watch.assert_clean()


@pytest.fixture(scope="module")
def layer_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[str]:
    """A server of its own for Lauf with a public polygon layer: the real Zensus 2021 1 km cells."""
    root = tmp_path_factory.mktemp("info-layer")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    paths.store_dir.mkdir()
    paths.store_file("lauf").symlink_to(demo_paths.store_file("lauf").resolve())
    paths.privacy_key_file("lauf").symlink_to(demo_paths.privacy_key_file("lauf").resolve())
    options = LoadOptions(title=LAYER_TITLE, layer_id="zensus")
    load_layer(paths, "lauf", _census_geojson(root / "zensus.geojson"), options, info=twin_info(paths, "lauf"))
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths), port) as url:
        yield url


@pytest.fixture
def layer_page(
    browser: Browser, layer_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, layer_server, tmp_path, request) as pair:
        yield pair


def test_a_layer_feature_by_click_and_the_map_centre_by_keyboard(
    layer_page: tuple[Page, PageWatch], layer_server: str
) -> None:
    pg, watch = layer_page
    _open_at(pg, layer_server, "lauf", (11.2775, 49.5098, 14))
    pg.get_by_label(LAYER_TITLE, exact=True).check()
    pg.wait_for_function("(window.__twin3d.catalogue.features.zensus || 0) > 0", timeout=TIMEOUT_MS)
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    popup = pg.locator("#info-popup")

    # A click on a cell: the layer's title heads the popup (the cells have no name), the population is a number in
    # German format under the layer's own field name, and the cell id comes last.
    x, y = box["width"] * 0.3, box["height"] * 0.4
    pg.wait_for_function(
        f"window.__twin3d.pickLayer({x}, {y})?.startsWith('catalogue-lauf-zensus')", timeout=TIMEOUT_MS
    )
    click_until(pg, box, x, y, "window.__twin3d.info?.kind === 'layer'")
    assert popup.get_by_role("heading", level=2).inner_text() == LAYER_TITLE
    fields = popup.locator("dt").all_inner_texts()
    assert "einwohner" in fields, fields
    assert fields[-1] == "grd_id", fields
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*", popup.locator("[data-field=einwohner]").inner_text())
    assert pg.evaluate("document.activeElement.id") != "info-popup"  # a click does not move the focus
    opened = pg.evaluate("window.__twin3d.info.opened")

    # The keyboard: the focused map shows a crosshair, Enter opens the popup for its centre and focuses it,
    # Escape closes it and gives the focus back to the map.
    canvas = pg.locator("#deck-container canvas")
    pg.locator("#map-tools button").first.focus()
    pg.keyboard.press("Shift+Tab")  # back from the first map tool to the map, as a keyboard user gets there
    assert pg.evaluate("document.activeElement.tagName") == "CANVAS"
    crosshair = pg.evaluate("getComputedStyle(document.getElementById('deck-container'), '::after').content")
    assert crosshair not in ("none", "normal"), crosshair
    assert canvas.get_attribute("aria-describedby") == "info-key-hint"
    pg.keyboard.press("Enter")
    pg.wait_for_function(f"window.__twin3d.info.opened > {opened} && window.__twin3d.info.open", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.info.kind") == "layer"
    assert pg.evaluate("document.activeElement.id") == "info-popup"
    assert popup.get_by_role("heading", level=2).inner_text() == LAYER_TITLE
    print("also under the centre:", pg.evaluate("window.__twin3d.info.also"))
    pg.keyboard.press("Escape")
    pg.wait_for_function("window.__twin3d.info.open === false")
    assert popup.is_hidden()
    assert pg.evaluate("document.activeElement.tagName") == "CANVAS"
    watch.assert_clean()
