"""Measuring in a real browser on Lauf: a distance and an area clicked on the map agree with pyproj's geodesics, a
building's height is the API's and the clicked roof stands that high, touch works with "Fertig", Esc ends."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, FloatRect, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pyproj import Geod, Transformer

from tests.browser.conftest import PageWatch, click_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 120_000
GEOD = Geod(ellps="WGS84")
# Open fields north-east of Lauf's centre, free of buildings (each point is checked on screen too), at zoom 16.5
# where a pixel is about 0.55 m.
FIELDS_VIEW = "view=11.2932,49.5136,16.5,0,0"
LINE = [(11.2905, 49.5140), (11.2930, 49.5150), (11.2955, 49.5130)]
SQUARE = [(11.2914, 49.5128), (11.2942, 49.5128), (11.2942, 49.5146), (11.2914, 49.5146)]
TOWER = "way/45255461"  # a seven-storey block of flats, 21 m high


def _german(text: str, unit: str) -> float:
    """The number before ``unit`` in German writing (1.234,5 m) as a float."""
    found = re.search(rf"(-?[\d.]+(?:,\d+)?) {unit}(?!\w)", text)
    assert found, (text, unit)
    return float(found.group(1).replace(".", "").replace(",", "."))


def _open(pg: Page, url: str, view: str) -> dict[str, Any]:
    """Lauf at ``view`` with every tile drawn (so a check for buildings under a pixel means something); the twin."""
    pg.goto(f"{url}/#twin=lauf&{view}")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.allTilesLoaded",
                         timeout=TIMEOUT_MS)  # fmt: skip
    twins: list[dict[str, Any]] = pg.evaluate("fetch('/api/twins').then(r => r.json())")
    return next(t for t in twins if t["name"] == "lauf")


def _pixel(pg: Page, lon: float, lat: float, z: float) -> tuple[float, float]:
    x, y = pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {z})")[:2]
    return float(x), float(y)


def _click_ground(pg: Page, box: FloatRect, point: tuple[float, float, float], points: int) -> None:
    """Click the open ground at ``point`` (lon, lat, z): on the map's canvas (not under the tool's bar), with no
    building there; done once the drawing has ``points`` points."""
    lon, lat, z = point
    x, y = _pixel(pg, lon, lat, z)
    on_top = pg.evaluate(f"document.elementFromPoint({box['x'] + x}, {box['y'] + y})?.tagName")
    assert on_top == "CANVAS", f"({lon}, {lat}) lies under the page's {on_top}, not on the map"
    assert pg.evaluate(f"window.__twin3d.pickLayer({x}, {y})") is None, f"something stands at ({lon}, {lat})"
    click_until(pg, box, x, y, f"window.__twin3d.measure.draft === {points}")


def _item(pg: Page, n: int) -> dict[str, str]:
    """The shown fields of the n-th measurement in the list (1-based): field -> text."""
    fields = pg.locator(f"#measure-list > li:nth-child({n}) dd")
    return {fields.nth(i).get_attribute("data-field") or "": fields.nth(i).inner_text() for i in range(fields.count())}


def _count(pg: Page, n: int) -> None:
    pg.wait_for_function(f"document.getElementById('measure-list').dataset.count === '{n}'")


def _measure_line(pg: Page, box: FloatRect, ground: float) -> None:
    """A line of three points, ended with Enter: each segment and the total as pyproj's geodesics (within 0.5 %)."""
    for i, (lon, lat) in enumerate(LINE):
        _click_ground(pg, box, (lon, lat, ground), i + 1)
    assert "3 Punkte" in pg.locator("#measure-readout").inner_text()
    pg.keyboard.press("Enter")
    _count(pg, 1)
    lons, lats = zip(*LINE, strict=True)
    shown = _item(pg, 1)
    assert _german(shown["total"], "m") == pytest.approx(GEOD.line_length(lons, lats), rel=0.005)
    segments = [GEOD.line_length(lons[i : i + 2], lats[i : i + 2]) for i in range(2)]
    for text, metres in zip(shown["segments"].split(" · "), segments, strict=True):
        assert _german(text, "m") == pytest.approx(metres, rel=0.005)
    # The page's own geodesy on the points it took: as pyproj's to a millimetre.
    measured = pg.evaluate("window.__twin3d.measure.items[0]")
    taken = np.asarray(measured["positions"])
    assert measured["total"] == pytest.approx(GEOD.line_length(taken[:, 0], taken[:, 1]), abs=1e-3)


def _measure_square(pg: Page, box: FloatRect, ground: float) -> str:
    """A square of about 200 m, closed with "Fertig" (as on a phone): area and perimeter; the area as shown."""
    pg.get_by_role("button", name="Fläche", exact=True).click()
    for i, (lon, lat) in enumerate(SQUARE):
        _click_ground(pg, box, (lon, lat, ground), i + 1)
    pg.get_by_role("button", name="Fertig").click()
    _count(pg, 2)
    area, perimeter = GEOD.polygon_area_perimeter(*zip(*SQUARE, strict=True))
    shown = _item(pg, 2)
    assert re.fullmatch(r"\d,\d\d ha \([\d.]+ m²\)", shown["area"]), shown["area"]
    assert _german(shown["area"], "m²") == pytest.approx(abs(area), rel=0.005)
    assert _german(shown["area"], "ha") == pytest.approx(abs(area) / 1e4, rel=0.005, abs=0.005)
    assert _german(shown["perimeter"], "m") == pytest.approx(perimeter, rel=0.005)
    measured = pg.evaluate("window.__twin3d.measure.items[1]")
    taken = np.asarray(measured["positions"])
    exact, _ = GEOD.polygon_area_perimeter(taken[:, 0], taken[:, 1])
    assert measured["area"] == pytest.approx(abs(exact), rel=1e-5)
    return shown["area"]


def test_a_distance_and_an_area_are_geodesic_listed_copied_and_deleted(
    page: tuple[Page, PageWatch], live_server: str
) -> None:
    pg, watch = page
    pg.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    ground = _open(pg, live_server, FIELDS_VIEW)["origin"]["height"]
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    toggle = pg.get_by_role("button", name="Messen")
    toggle.click()
    assert toggle.get_attribute("aria-pressed") == "true"
    assert pg.locator("#measure-panel").is_visible()
    assert pg.get_by_role("button", name="Strecke", exact=True).get_attribute("aria-pressed") == "true"
    _measure_line(pg, box, ground)
    area = _measure_square(pg, box, ground)
    # Labelled on the map: each segment, the total, the area.
    total = _item(pg, 1)["total"]
    labels = pg.evaluate("window.__twin3d.measure.labels")
    assert f"Σ {total}" in labels
    assert area.split(" (")[0] in labels

    # Copied as text, one paragraph per measurement with its points.
    pg.get_by_role("button", name="Als Text kopieren").click()
    pg.wait_for_function("document.getElementById('measure-status').textContent !== ''")
    copied = pg.evaluate("navigator.clipboard.readText()")
    assert copied == pg.evaluate("window.__twin3d.measure.copied")
    assert f"1. Strecke\n  Länge: {total}" in copied
    assert f"2. Fläche\n  Fläche: {area}" in copied
    assert "Punkte (WGS 84): 49.5" in copied

    # One deleted, the other renumbered; in English the words change and the figures follow English writing.
    pg.get_by_role("button", name="Messung 1 löschen").click()
    _count(pg, 1)
    assert pg.locator("#measure-list .measure-item-title").inner_text() == "1. Fläche"
    pg.get_by_role("button", name="English").click()
    assert pg.locator("#measure-list .measure-item-title").inner_text() == "1. Area"
    assert _item(pg, 1)["area"] == area.replace(".", "#").replace(",", ".").replace("#", ",")

    # Esc drops a line of one point, a second Esc closes the tool; "Delete all" empties the list.
    pg.get_by_role("button", name="Distance", exact=True).click()
    _click_ground(pg, box, (*LINE[0], ground), 1)
    pg.keyboard.press("Escape")
    pg.wait_for_function("window.__twin3d.measure.draft === 0")
    assert pg.evaluate("window.__twin3d.measure.count") == 1
    pg.keyboard.press("Escape")
    pg.wait_for_function("window.__twin3d.measure.open === false")
    assert pg.locator("#measure-panel").is_hidden()
    toggle = pg.get_by_role("button", name="Measure")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    pg.get_by_role("button", name="Delete all").click()
    _count(pg, 0)
    watch.assert_clean()


def _free_ground_near(client: TestClient, building: dict[str, Any], crs: str) -> tuple[float, float]:
    """A point 30-45 m from ``building``, at least 12 m from every building: open ground to click on."""
    lon, lat = building["lon"], building["lat"]
    bbox = f"{lon - 0.002},{lat - 0.0015},{lon + 0.002},{lat + 0.0015}"
    items = client.get(f"/api/twins/lauf/features/collections/buildings/items?bbox={bbox}&limit=10000").json()
    to_metres = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    footprints = shapely.transform(
        shapely.GeometryCollection([shapely.geometry.shape(f["geometry"]) for f in items["features"]]),
        lambda xy: np.column_stack(to_metres.transform(xy[:, 0], xy[:, 1])),
    )
    x, y = to_metres.transform(lon, lat)
    for distance in (30, 35, 40, 45):
        for angle in np.radians(np.arange(180, 540, 30)):  # from the south round, where the view looks from
            point = shapely.Point(x + distance * np.sin(angle), y + distance * np.cos(angle))
            if shapely.distance(point, footprints) >= 12:
                found = to_metres.transform(point.x, point.y, direction="INVERSE")
                return float(found[0]), float(found[1])
    raise AssertionError(f"no open ground near {building['building_id']}")


def test_a_buildings_height_and_the_vertical_difference_to_the_ground(
    page: tuple[Page, PageWatch], live_server: str, client: TestClient
) -> None:
    pg, watch = page
    tower = client.get(f"/api/twins/lauf/buildings/{TOWER}").json()
    twin = _open(pg, live_server, f"view={tower['lon']},{tower['lat']},18,40,0")
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    pg.get_by_role("button", name="Messen").click()
    pg.get_by_role("button", name="Höhe", exact=True).click()

    # The roof: the building's height as the API says, and the clicked 3D point that high above its ground.
    roof = tower["ground_height"] + twin["geoid_undulation"] + tower["height"]
    x, y = _pixel(pg, tower["lon"], tower["lat"], roof)
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y}) === 'buildings-lauf'", timeout=TIMEOUT_MS)
    click_until(pg, box, x, y, "window.__twin3d.measure.draft === 1 && window.__twin3d.measure.pending === 0")
    readout = pg.locator("#measure-readout").inner_text()
    height = f"{tower['height']:.1f}".replace(".", ",") + " m"
    assert f"Gebäudehöhe (Daten): {height}" in readout
    assert _german(readout.split("Punkt über Grund:")[1], "m") == pytest.approx(tower["height"], abs=0.5)

    # A second point on the open ground beside it ends the measurement: the difference in height.
    lon, lat = _free_ground_near(client, tower, twin["crs"])
    _click_ground(pg, box, (lon, lat, twin["origin"]["height"]), 0)  # the second point ends it: no draft left
    _count(pg, 1)
    shown = _item(pg, 1)
    assert shown["building"] == tower["building_type_name"]
    assert shown["building_height"] == height
    assert _german(shown["point_height"], "m") == pytest.approx(tower["height"], abs=0.5)
    assert shown["point_height_2"] == "0,0 m"
    assert _german(shown["rise"], "m") == pytest.approx(-tower["height"], abs=0.5)
    horizontal = GEOD.inv(tower["lon"], tower["lat"], lon, lat)[2]
    assert _german(shown["horizontal"], "m") == pytest.approx(horizontal, abs=2)
    watch.assert_clean()


@pytest.fixture
def phone(browser: Browser) -> Iterator[tuple[Page, list[str]]]:
    """A phone-sized page with a touch screen, and the errors its console reports."""
    context = browser.new_context(viewport={"width": 412, "height": 860}, has_touch=True, is_mobile=True)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg, errors
    context.close()


def test_on_a_phone_taps_set_the_points_and_fertig_ends_the_line(
    phone: tuple[Page, list[str]], live_server: str
) -> None:
    pg, errors = phone
    ground = _open(pg, live_server, "view=11.2932,49.5136,16,0,0")["origin"]["height"]
    pg.get_by_role("button", name="Messen").tap()
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    points = [(11.2915, 49.5128), (11.2945, 49.5131)]
    for i, (lon, lat) in enumerate(points):
        x, y = _pixel(pg, lon, lat, ground)
        # A tap, like a click, can be lost in a seconds-long software-rendered frame: tap again until it counts.
        for _attempt in range(3):
            pg.touchscreen.tap(box["x"] + x, box["y"] + y)
            with contextlib.suppress(PlaywrightTimeoutError):
                pg.wait_for_function(f"window.__twin3d.measure.draft === {i + 1}", timeout=10_000)
                break
        assert pg.evaluate("window.__twin3d.measure.draft") == i + 1
    pg.get_by_role("button", name="Fertig").tap()
    _count(pg, 1)
    lons, lats = zip(*points, strict=True)
    assert _german(_item(pg, 1)["total"], "m") == pytest.approx(GEOD.line_length(lons, lats), rel=0.005)
    assert errors == []


def test_the_geodesy_matches_pyproj_far_beyond_a_town(page: tuple[Page, PageWatch], live_server: str) -> None:
    """measure_geo.js's Vincenty distances and equal-area polygon areas against pyproj (Karney), up to a continent."""
    pg, _ = page
    _open(pg, live_server, FIELDS_VIEW)
    lines = [((11.28, 49.51), (11.29, 49.52)), ((11.28, 49.51), (13.40, 52.52)), ((-3.7, 40.4), (30.5, 59.9)),
             ((0, 0), (0.5, 0.5)), ((179.5, -10), (-179.5, -10.2))]  # fmt: skip
    square = [(11.2, 49.4), (11.4, 49.4), (11.4, 49.6), (11.2, 49.6)]
    got = pg.evaluate(
        """([lines, square]) => import('/js/measure_geo.js').then((m) => ({
             lengths: lines.map(([a, b]) => m.geodesicDistance(a, b)),
             area: m.polygonArea(square),
           }))""",
        [lines, square],
    )
    for (a, b), length in zip(lines, got["lengths"], strict=True):
        assert length == pytest.approx(GEOD.inv(*a, *b)[2], rel=1e-7, abs=1e-3)
    # A 15 x 22 km box: straight edges in the equal-area projection instead of geodesics cost about 1e-6.
    assert got["area"] == pytest.approx(abs(GEOD.polygon_area_perimeter(*zip(*square, strict=True))[0]), rel=1e-5)
