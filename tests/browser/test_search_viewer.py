"""The search box in a real browser, by keyboard only: "/", type, ArrowDown, Enter flies the map there."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from tests.browser.conftest import PageWatch

pytestmark = [pytest.mark.browser, pytest.mark.slow]
START_TIMEOUT_MS = 120_000
FLIGHT_TIMEOUT_MS = 60_000


def _open(pg: Page, live_server: str, twin: str) -> None:
    pg.goto(f"{live_server}/#twin={twin}")
    pg.wait_for_function(
        f"window.__twin3d && window.__twin3d.twin === '{twin}' && window.__twin3d.search && window.__twin3d.frames > 2",
        timeout=START_TIMEOUT_MS,
    )


def _search_by_keyboard(pg: Page, text: str, expected_first: str) -> None:
    """Focus the box with "/", type, wait for the answer, go down to the first result and press Enter."""
    pg.keyboard.press("/")
    assert pg.evaluate("document.activeElement.id") == "search-input"
    pg.keyboard.type(text)
    pg.wait_for_function(
        "(name) => { const r = window.__twin3d.search.results; return r.length > 0 && r[0].name === name; }",
        arg=expected_first,
    )
    box = pg.locator("#search-input")
    assert box.get_attribute("aria-expanded") == "true"
    pg.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "search-option-0"
    assert pg.locator("#search-option-0").get_attribute("aria-selected") == "true"
    pg.keyboard.press("Enter")


def _wait_until_there(pg: Page, lon: float, lat: float, metres: float, min_zoom: float) -> list[float]:
    """Wait for the flight to end within ``metres`` of (lon, lat), at ``min_zoom`` or closer; the final view."""
    pg.wait_for_function(
        """([lon, lat, metres, minZoom]) => {
            const [x, y, zoom] = window.__twin3d.views()[0];
            const dx = (x - lon) * 111320 * Math.cos(lat * Math.PI / 180);
            const dy = (y - lat) * 111320;
            return Math.hypot(dx, dy) < metres && zoom >= minZoom;
        }""",
        arg=[lon, lat, metres, min_zoom],
        timeout=FLIGHT_TIMEOUT_MS,
    )
    # The flight may still be settling: wait until two frames apart show the same view.
    pg.wait_for_function(
        """() => new Promise((resolve) => {
            const before = JSON.stringify(window.__twin3d.views());
            requestAnimationFrame(() => requestAnimationFrame(() =>
                resolve(JSON.stringify(window.__twin3d.views()) === before)));
        })""",
        timeout=FLIGHT_TIMEOUT_MS,
    )
    view: list[float] = pg.evaluate("window.__twin3d.views()[0]")
    return view


def _metres_apart(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 111_320)


def test_keyboard_search_flies_to_the_lauf_marktplatz(
    page: tuple[Page, PageWatch], live_server: str, client: TestClient
) -> None:
    pg, watch = page
    # The street's centre from the store's own segments (the 18 named "Marktplatz" in the walk network).
    paths = client.get("/api/twins/lauf/paths.geojson").json()["features"]
    points = [p for f in paths if f["properties"].get("name") == "Marktplatz" for p in f["geometry"]["coordinates"]]
    assert len(points) > 18
    centre = (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
    _open(pg, live_server, "lauf")

    _search_by_keyboard(pg, "Marktplatz", "Marktplatz")
    picked = pg.evaluate("window.__twin3d.search.picked")
    assert (picked["kind"], picked["name"]) == ("street", "Marktplatz")
    lon, lat, zoom = _wait_until_there(pg, centre[0], centre[1], 100, 16)
    assert _metres_apart((lon, lat), centre) < 100
    assert zoom >= 16
    assert pg.locator("#search-input").get_attribute("aria-expanded") == "false"
    assert pg.locator("#search-status").inner_text() == "Zu Marktplatz, Lauf a.d. Pegnitz"  # read out

    # An address: Enter flies there and selects its building, as a click on it would.
    pg.keyboard.press("Control+k")
    assert pg.evaluate("document.activeElement.id") == "search-input"
    pg.keyboard.press("End")  # Ctrl+K selects what the box holds: typing would replace it
    pg.keyboard.type(" 1")
    pg.wait_for_function("window.__twin3d.search.results[0]?.name === 'Marktplatz 1'")
    pg.keyboard.press("Enter")
    address = pg.evaluate("window.__twin3d.search.picked")
    assert address["kind"] == "address"
    pg.wait_for_function("(ref) => window.__twin3d.lastBuilding === ref", arg=address["ref"])

    # Escape closes the list and gives the focus back (to the map: it came from nowhere else).
    pg.keyboard.press("Control+k")
    pg.keyboard.type("kunig")
    pg.wait_for_function("window.__twin3d.search.results[0]?.name === 'Kunigundenberg'")
    assert pg.locator("#search-input").get_attribute("aria-expanded") == "true"
    pg.keyboard.press("Escape")
    assert pg.locator("#search-input").get_attribute("aria-expanded") == "false"
    assert pg.evaluate("document.activeElement.tagName") == "CANVAS"
    watch.assert_clean()


def test_keyboard_search_in_rostock_finds_a_street_of_the_city_register(
    page: tuple[Page, PageWatch], live_server: str, client: TestClient
) -> None:
    pg, watch = page
    expected = client.get("/api/twins/rostock/search", params={"q": "Adolf-Becker-Straße"}).json()["results"][0]
    assert expected["name"] == "Adolf-Becker-Str."
    # The street's own axis (the street register's collection, OGC API - Features).
    axis = client.get(f"/api/twins/rostock/features/collections/streets/items/{expected['ref']}").json()
    coords = axis["geometry"]["coordinates"]
    centre = (sum(c[0] for c in coords) / len(coords), sum(c[1] for c in coords) / len(coords))
    _open(pg, live_server, "rostock")

    _search_by_keyboard(pg, "adolf-becker-straße", "Adolf-Becker-Str.")
    lon, lat, zoom = _wait_until_there(pg, centre[0], centre[1], 100, 16)
    assert _metres_apart((lon, lat), (expected["lon"], expected["lat"])) < 5
    assert zoom <= 18  # fitted to the street's box, not closer than a house

    # The district of Kröpeliner Straße (not in the bundled register) is found by its beginning.
    pg.keyboard.press("/")
    pg.keyboard.press("Control+a")
    pg.keyboard.type("kröp")
    pg.wait_for_function("window.__twin3d.search.results[0]?.name === 'Kröpeliner-Tor-Vorstadt'")
    options = pg.locator("#search-results [role=option]")
    assert options.count() == 5
    assert "Gebiet" in options.first.inner_text()
    pg.keyboard.press("Enter")  # no option active: the first is taken
    pg.wait_for_function("window.__twin3d.search.picked?.name === 'Kröpeliner-Tor-Vorstadt'")
    # A pointer works too: the second result, one of its four statistical Bezirke.
    pg.keyboard.press("Control+k")
    pg.keyboard.type("kröp")
    pg.wait_for_function("document.getElementById('search-input').getAttribute('aria-expanded') === 'true'")
    options.nth(1).click()
    pg.wait_for_function("window.__twin3d.search.picked?.name === 'Kröpeliner-Tor-Vorstadt I'")
    watch.assert_clean()
