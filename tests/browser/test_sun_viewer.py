"""The sun and shadow tool in a real browser: a 30 m planned building next to homes in Lauf, the time slider moved by
keyboard from the morning to the afternoon of midsummer's day, and its shadow moves from the west-north-west to the
east-north-east of it, as long as 30 m / tan(elevation); on screen the ground under the morning's shadow lightens and
the ground under the afternoon's darkens."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page
from pyproj import Geod

from tests.browser.conftest import PageWatch, click_until, private_server, watched_page
from tests.server.test_planning_api import SLAB
from twin3d.pipeline.report import BuildReport
from twin3d.population.privacy import PrivacyRules
from twin3d.settings import PathSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 90_000
HEIGHT_M = 30.0
# A 20 m square on open ground in Lauf's centre with ten houses within 25 m (OSM, January 2020).
SITE = (11.278182, 49.509607)
HALF = (0.000135, 0.0000875)  # about 10 m each way
DAY = "2026-06-21"
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def sun_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[str]:
    with private_server(tmp_path_factory.mktemp("sun-viewer"), demo_paths, ("lauf", "rostock")) as url:
        yield url


@pytest.fixture
def page(
    browser: Browser, sun_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, sun_server, tmp_path, request) as pair:
        yield pair


def _draw_plan(pg: Page, corners: list[tuple[float, float]], height_m: float) -> None:
    """Draw a planned building with the scenario panel's tool (real clicks on its corners, Enter) and give it its
    height."""
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    ground = float(pg.evaluate("fetch('/api/twins/lauf').then(r => r.json()).then(t => t.origin.height)"))
    pg.get_by_role("button", name="Szenario", exact=True).click()
    pg.get_by_role("button", name="Gebäude planen").click()
    for i, (lon, lat) in enumerate(corners):
        x, y = pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {ground})")[:2]
        click_until(pg, box, x, y, f"window.__twin3d.drawnPoints.length === {i + 1}")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.scenarioMeasures.join() === 'planned_building'")
    pg.get_by_label("Höhe (m)").fill(str(int(height_m)))


def _draw_tower(pg: Page) -> None:
    """The 20 m square at the site, 30 m high."""
    corners = [(SITE[0] + sx * HALF[0], SITE[1] + sy * HALF[1]) for sx, sy in [(-1, -1), (1, -1), (1, 1), (-1, 1)]]
    _draw_plan(pg, corners, HEIGHT_M)


def _drawn(pg: Page) -> None:
    """Until deck.gl and MapLibre have drawn what was just changed."""
    pg.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
    pg.wait_for_function("window.__twin3d.basemap && window.__twin3d.basemap.ready")


def _move_slider_to(pg: Page, clock: str, day: str = DAY, offset: str = "+02:00") -> dict[str, Any]:
    """Move the time slider with the arrow keys until it shows ``clock``; the moment's shadows once drawn."""
    drawn = int(pg.evaluate("Number(document.body.dataset.sunShadows || 0)"))
    slider = pg.get_by_label("Uhrzeit")
    slider.focus()
    pg.keyboard.press("Home")
    for _ in range(200):
        if pg.locator("#sun-clock").inner_text().startswith(clock):
            break
        pg.keyboard.press("ArrowRight")
    assert pg.locator("#sun-clock").inner_text() == f"{clock} Uhr"
    pg.wait_for_function(
        f"Number(document.body.dataset.sunShadows) > {drawn}"
        f" && window.__twin3d.sun.time === '{day}T{clock}:00{offset}'",
        timeout=TIMEOUT_MS,
    )
    _drawn(pg)
    sun: dict[str, Any] = pg.evaluate("window.__twin3d.sun")
    return sun


def _screen(pg: Page) -> np.ndarray:
    shot = pg.locator("#deck-container").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("L"), dtype=np.float64)


def _mask(pg: Page, shape: tuple[int, ...], features: list[dict[str, Any]]) -> np.ndarray:
    """The screen pixels inside the polygons' outer rings."""
    image = Image.new("1", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(image)
    for feature in features:
        ring = feature["geometry"]["coordinates"][0]
        pixels = pg.evaluate(
            "ring => ring.map(([lon, lat, z]) => window.__twin3d.project(lon, lat, z).slice(0, 2))", ring
        )
        draw.polygon([tuple(p) for p in pixels], fill=1)
    return np.asarray(image, dtype=bool)


def _shadow_line(sun: dict[str, Any]) -> tuple[float, float]:
    """Bearing (true, degrees) and length (m) of the planned building's shadow: the sweep of a square along the
    shadow vector is symmetric about its middle, so its centroid lies half the vector from the footprint's."""
    lon, lat = sun["shadowCentroid"]
    bearing, _, distance = GEOD.inv(SITE[0], SITE[1], lon, lat)
    return bearing % 360, 2 * distance


def test_the_shadow_of_a_planned_tower_moves_with_the_time_slider(
    page: tuple[Page, PageWatch], sun_server: str
) -> None:
    pg, watch = page
    pg.set_default_timeout(TIMEOUT_MS)
    pg.goto(f"{sun_server}/#twin=lauf&view={SITE[0]},{SITE[1]},17.6,0,0")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.allTilesLoaded")
    _draw_tower(pg)

    toggle = pg.get_by_role("button", name="Sonne & Schatten")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    pg.get_by_label("Datum").fill(DAY)
    pg.wait_for_function(f"window.__twin3d.sun && window.__twin3d.sun.date === '{DAY}'")
    assert "Sonnenaufgang 05:08 Uhr, Sonnenuntergang 21:24 Uhr" in pg.locator("#sun-day").inner_text()

    morning = _move_slider_to(pg, "10:00")
    morning_screen = _screen(pg)
    afternoon = _move_slider_to(pg, "16:00")
    afternoon_screen = _screen(pg)

    for sun, side in ((morning, (270.0, 305.0)), (afternoon, (55.0, 90.0))):
        assert sun["planned"], "the planned building casts a shadow of its own"
        bearing, length = _shadow_line(sun)
        # Away from the sun: west-north-west in the morning, east-north-east in the afternoon.
        assert side[0] < bearing < side[1], (sun["time"], bearing)
        assert abs(bearing - (sun["azimuth"] + 180) % 360) < 1.0
        expected = HEIGHT_M / math.tan(math.radians(sun["elevation"]))
        assert abs(length - expected) < 0.05 * expected, (sun["time"], length, expected)
    assert "Ein 10 m hohes Gebäude wirft jetzt" in pg.locator("#sun-status").inner_text()
    assert "Richtung" in pg.locator("#sun-position").inner_text()

    # A taller plan: the draft changed, the shadows are asked for again and grow with it.
    drawn = int(pg.evaluate("Number(document.body.dataset.sunShadows)"))
    pg.get_by_label("Höhe (m)").fill("45")
    pg.wait_for_function(f"Number(document.body.dataset.sunShadows) > {drawn}")
    taller = pg.evaluate("window.__twin3d.sun")
    assert _shadow_line(taller)[1] == pytest.approx(45 / math.tan(math.radians(taller["elevation"])), rel=0.05)

    # On screen: where only the morning's shadow lay, the ground lightens; where only the afternoon's lies, it darkens.
    before = _mask(pg, morning_screen.shape, morning["planned"])
    after = _mask(pg, morning_screen.shape, afternoon["planned"])
    left, arrived = before & ~after, after & ~before
    assert left.sum() > 500, left.sum()
    assert arrived.sum() > 500, arrived.sum()
    assert afternoon_screen[left].mean() > morning_screen[left].mean() + 10
    assert afternoon_screen[arrived].mean() < morning_screen[arrived].mean() - 10
    watch.assert_clean()


def test_a_30_m_slab_beside_homes_casts_moving_shadows_and_the_panel_counts_who_loses_sun_as_the_api(
    page: tuple[Page, PageWatch], sun_server: str
) -> None:
    """The must-show of issue 18: a 30 m building placed next to homes, the time slider moved, its shadow moves; the
    scenario's result lists the households per persona who fall below 1.5 hours of sun, the same figures as the API,
    through the privacy gate."""
    pg, watch = page
    pg.set_default_timeout(TIMEOUT_MS)
    lon, lat = (SLAB[0][0] + SLAB[2][0]) / 2, (SLAB[0][1] + SLAB[2][1]) / 2
    pg.goto(f"{sun_server}/#twin=lauf&view={lon},{lat},17,0,0")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.allTilesLoaded")
    _draw_plan(pg, [(x, y) for x, y in SLAB[:4]], HEIGHT_M)

    pg.get_by_role("button", name="Sonne & Schatten").click()
    pg.get_by_label("Datum").fill("2026-03-21")
    pg.wait_for_function("window.__twin3d.sun && window.__twin3d.sun.date === '2026-03-21'")
    morning = _move_slider_to(pg, "09:00", "2026-03-21", "+01:00")
    afternoon = _move_slider_to(pg, "15:00", "2026-03-21", "+01:00")
    bearings = []
    for sun in (morning, afternoon):
        assert sun["planned"], "the planned building casts a shadow of its own"
        (c_lon, c_lat) = sun["shadowCentroid"]
        bearings.append(GEOD.inv(lon, lat, c_lon, c_lat)[0] % 360)
    assert 270 < bearings[0] < 360, bearings  # north-west in the morning
    assert 0 < bearings[1] < 90, bearings  # north-east in the afternoon

    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)
    scenario_id = pg.evaluate("window.__twin3d.scenarioId")
    results = pg.evaluate(f"fetch('/api/twins/lauf/scenarios/{scenario_id}/results').then(r => r.json())")
    losing = results["sun"]["losing"]
    assert not losing["withheld"]
    assert losing["households"] >= PrivacyRules().min_households
    shown = pg.locator("#scenario-results [data-field=sun-losing]")
    assert shown.get_attribute("data-households") == str(losing["households"])
    assert shown.inner_text() == f"{losing['households']} Haushalte, {losing['persons']} Personen"
    rows = pg.locator("#scenario-sun-losing tbody tr")
    assert rows.count() == len(losing["by_persona"]) > 0
    for i, row in enumerate(losing["by_persona"]):
        assert rows.nth(i).get_attribute("data-persona") == row["persona"]
        cells = rows.nth(i).locator("td.num")
        assert cells.nth(0).inner_text() == str(row["households"])
    watch.assert_clean()


def test_the_open_panel_follows_a_switch_to_rostock_without_a_refused_request(
    page: tuple[Page, PageWatch], sun_server: str
) -> None:
    """Issue 19: with the panel open in Lauf, choosing Rostock sent two shadow requests the server refused (422): the
    viewer's box of 2.4 km a side spans 2.5 km of grid easting in Rostock's UTM zone, turned by the meridians'
    convergence. Now one request per moment, answered, and the slider works on in Rostock."""
    pg, watch = page
    pg.set_default_timeout(TIMEOUT_MS)
    asked: list[str] = []
    answers: list[tuple[str, int]] = []
    pg.on("request", lambda r: asked.append(r.url) if r.url.endswith("/shadows") else None)
    pg.on("response", lambda r: answers.append((r.url, r.status)) if r.url.endswith("/shadows") else None)
    pg.goto(f"{sun_server}/#twin=lauf")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.allTilesLoaded")
    pg.get_by_role("button", name="Sonne & Schatten").click()
    pg.wait_for_function("Number(document.body.dataset.sunShadows || 0) >= 1")
    drawn = int(pg.evaluate("Number(document.body.dataset.sunShadows)"))

    pg.get_by_label("Zwilling").select_option("rostock")
    pg.wait_for_function(
        f"window.__twin3d.twin === 'rostock' && Number(document.body.dataset.sunShadows) > {drawn}", timeout=TIMEOUT_MS
    )
    toggle = pg.get_by_role("button", name="Sonne & Schatten")
    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    status = pg.locator("#sun-status").inner_text()
    assert "nicht verfügbar" not in status, status
    assert "Sonnenaufgang" in pg.locator("#sun-day").inner_text()

    # The slider goes on working in Rostock: a step later, that moment's shadows.
    before = pg.evaluate("window.__twin3d.sun")
    drawn = before["drawn"]
    slider = pg.get_by_label("Uhrzeit")
    slider.focus()
    pg.keyboard.press("ArrowLeft" if slider.input_value() != "0" else "ArrowRight")
    pg.wait_for_function(f"Number(document.body.dataset.sunShadows) > {drawn}")
    after = pg.evaluate("window.__twin3d.sun")
    assert after["time"] != before["time"]
    assert after["azimuth"] != before["azimuth"]

    # One request per moment (opening the panel asked twice before), each answered.
    assert [url for url in asked if "/twins/rostock/" in url] == [f"{sun_server}/api/twins/rostock/shadows"] * 2
    assert [code for url, code in answers if "/twins/rostock/" in url] == [200, 200], answers
    watch.assert_clean()
