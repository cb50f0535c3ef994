"""The scenario panel in a real browser: draw a quarter, place a Kita, run it, read the KPI change, reload it."""

from __future__ import annotations

import csv
import io
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, click_until, private_server, watched_page
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
# About 300 m square around Lauf's centre (lon/lat), at zoom 16 where it spans some 190 pixels.
CENTRE = (11.2775, 49.5098)
HALF = (0.00207, 0.00135)
VIEW = f"view={CENTRE[0]},{CENTRE[1]},16,30,0"


def _get_json(url: str) -> Any:
    """GET a JSON document from the local test server (stdlib only: the test extra has no HTTP client)."""
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def scenario_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[str]:
    """A server of its own whose live stores (where scenarios are written) go to a private folder."""
    with private_server(tmp_path_factory.mktemp("scenario-viewer"), demo_paths, ("lauf", "rostock")) as url:
        yield url


@pytest.fixture
def page(
    browser: Browser, scenario_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, scenario_server, tmp_path, request) as pair:
        yield pair


def _open_lauf(pg: Page, url: str) -> float:
    """Open Lauf zoomed in on its centre with the scenario panel expanded; the twin's ground height."""
    pg.goto(f"{url}/#twin=lauf&{VIEW}")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.frames > 0")
    # The census colouring is off by default; switched on, the quarter's orange stands out on its blues.
    pg.get_by_label("Gebietsstatistik").check()
    toggle = pg.get_by_role("button", name="Szenario", exact=True)
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    lauf = next(t for t in _get_json(f"{url}/api/twins") if t["name"] == "lauf")
    return float(lauf["origin"]["height"])


def _pixel(pg: Page, lon: float, lat: float, z: float) -> tuple[float, float]:
    x, y = pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {z})")[:2]
    return float(x), float(y)


def _screen(pg: Page) -> np.ndarray:
    shot = pg.locator("#deck-container").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def _kpi(results: dict[str, Any], persona: str, facility: str) -> dict[str, Any]:
    found: dict[str, Any] = next(k for k in results["kpis"] if (k["persona"], k["facility"]) == (persona, facility))
    return found


def _draw_quarter_with_kita(pg: Page, ground: float) -> None:
    """Draw the quarter with real clicks on the map, close it with Enter, set 120 dwellings, click in a Kita."""
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    pg.get_by_role("button", name="Wohnquartier zeichnen").click()
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    for i, (sx, sy) in enumerate(corners):
        x, y = _pixel(pg, CENTRE[0] + sx * HALF[0], CENTRE[1] + sy * HALF[1], ground)
        click_until(pg, box, x, y, f"window.__twin3d.drawnPoints.length === {i + 1}")
    assert "4 Punkte" in pg.locator("#draw-hint").inner_text()
    drawn = pg.evaluate("window.__twin3d.drawnPoints")
    for (lon, lat), (sx, sy) in zip(drawn, corners, strict=True):  # clicks land where they were aimed (< 5 m)
        assert abs(lon - (CENTRE[0] + sx * HALF[0])) < 7e-5
        assert abs(lat - (CENTRE[1] + sy * HALF[1])) < 5e-5
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.scenarioMeasures.join() === 'new_housing'")
    dwellings = pg.get_by_label("Wohnungen")
    assert dwellings.evaluate("e => e === document.activeElement")  # the next thing to enter
    dwellings.fill("120")

    assert pg.locator("#scenario-facility-type").input_value() == "kita"
    pg.get_by_role("button", name="Einrichtung setzen").click()
    x, y = _pixel(pg, CENTRE[0], CENTRE[1], ground)
    click_until(pg, box, x, y, "window.__twin3d.scenarioMeasures.length === 2")
    assert pg.evaluate("window.__twin3d.scenarioMeasures") == ["new_housing", "add_facility"]
    assert pg.locator("li.measure").nth(1).get_by_label("Plätze").input_value() == "75"


def _quarter_colour(pg: Page, ground: float) -> tuple[float, float, float]:
    """The mean colour of the middle of the quarter on screen, once the latest change is drawn."""
    # deck.gl draws in its animation frame after a change; the second frame from now comes after that.
    pg.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
    x0, y0 = _pixel(pg, CENTRE[0] - HALF[0] / 2, CENTRE[1] + HALF[1] / 2, ground)
    x1, y1 = _pixel(pg, CENTRE[0] + HALF[0] / 2, CENTRE[1] - HALF[1] / 2, ground)
    inside = _screen(pg)[int(y0) : int(y1), int(x0) : int(x1)]
    red, green, blue = (float(inside[..., c].mean()) for c in range(3))
    return red, green, blue


def _german(share: float) -> str:
    return f"{share * 100:.1f}".replace(".", ",")


def _assert_kpi_table(pg: Page, results: dict[str, Any]) -> None:
    """The young families' Kita row shows the rise in coverage (green, with its sign) and the shorter walk."""
    kita = _kpi(results, "young_families", "kita")
    assert kita["coverage_share_delta"] > 0
    row = pg.locator("#scenario-kpis tr[data-persona=young_families][data-facility=kita]")
    assert "Junge Familien" in row.inner_text()
    coverage = row.locator("[data-field=coverage_delta]")
    assert coverage.inner_text().startswith("+")
    assert "delta-good" in (coverage.get_attribute("class") or "")
    assert float(coverage.get_attribute("data-value") or 0) > 0
    assert row.locator("[data-field=distance_delta]").inner_text().startswith("\N{MINUS SIGN}")
    assert row.locator("[data-field=coverage]").inner_text() == _german(kita["coverage_share_scenario"])
    assert pg.locator("#scenario-results [data-field=households_added]").inner_text() == "+120 Haushalte"
    persons = pg.locator("#scenario-results [data-field=persons_added]").get_attribute("data-value")
    assert persons == str(results["summary"]["persons_added"])
    residents = [k for k in results["kpis"] if k["group"] == "residents"]
    assert pg.locator("#scenario-kpis tbody tr").count() == len(residents)
    newcomers = [k for k in results["kpis"] if k["group"] == "newcomers"]
    assert pg.locator("#scenario-newcomers tbody tr").count() == len(newcomers) > 0
    # Walks to what nobody touched read "unchanged"; who loses most comes first, with the reason.
    doctor = pg.locator("#scenario-kpis tr[data-facility=doctor] [data-field=distance_delta]").first
    assert doctor.get_attribute("data-verdict") == "unchanged"
    assessment = pg.locator("#scenario-assessment")
    assert "Wer verliert am meisten" in assessment.inner_text()
    losses = results["assessment"]["losses"]
    assert assessment.locator("[data-assessment=losses] li").count() == len(losses)
    if losses:
        assert "wegen:" in assessment.locator("[data-assessment=losses] li").first.inner_text()
    # What the privacy gate did is said beside the results.
    privacy = pg.locator("#scenario-privacy")
    assert "mindestens 50 Personen und 25 Haushalten" in privacy.inner_text()
    assert privacy.locator("li").count() == len(results["privacy"]["notes"])

    # Basis / Szenario: the table's value columns switch, the changes stay.
    scenario_table = pg.locator("#scenario-kpis").inner_text()
    modes = pg.locator("#scenario-mode")
    modes.get_by_text("Basis (heute)").click()
    pg.wait_for_function("document.getElementById('scenario-kpis').dataset.mode === 'baseline'")
    assert row.locator("[data-field=coverage]").inner_text() == _german(kita["coverage_share_baseline"])
    modes.get_by_text("Szenario", exact=True).click()
    pg.wait_for_function("document.getElementById('scenario-kpis').dataset.mode === 'scenario'")
    assert pg.locator("#scenario-kpis").inner_text() == scenario_table


def _assert_exports(pg: Page, results: dict[str, Any]) -> None:
    """Exports made in the page: the results as JSON, the KPI table as CSV."""
    with pg.expect_download() as download:
        pg.get_by_role("button", name="Ergebnis als JSON").click()
    assert json.loads(Path(download.value.path()).read_text())["scenario_id"] == results["scenario_id"]
    with pg.expect_download() as download:
        pg.get_by_role("button", name="Tabelle als CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == len(results["kpis"])
    families = next(r for r in rows if (r["persona"], r["facility"]) == ("young_families", "kita"))
    assert families["persona_name"] == "Junge Familien"
    expected = _kpi(results, "young_families", "kita")["coverage_share_delta"]
    assert float(families["coverage_share_delta"]) == pytest.approx(expected, abs=1e-6)


def test_draw_a_quarter_with_a_kita_run_it_and_see_the_kpis_change(
    page: tuple[Page, PageWatch], scenario_server: str
) -> None:
    pg, watch = page
    ground = _open_lauf(pg, scenario_server)
    _draw_quarter_with_kita(pg, ground)
    # The quarter stands on the map in its own colour: orange over the bluish statistics layer.
    red, green, blue = _quarter_colour(pg, ground)
    assert red > green > blue, (red, green, blue)

    # Run: stored with what was entered, computed, and shown.
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)
    scenario_id = pg.evaluate("window.__twin3d.scenarioId")
    api = f"{scenario_server}/api/twins/lauf/scenarios"
    # What the public stores is a permalink: reachable by its id, in no list (only a moderated proposal lists it).
    assert scenario_id not in [s["scenario_id"] for s in _get_json(api)]
    spec = _get_json(f"{api}/{scenario_id}")["spec"]
    assert [m["kind"] for m in spec["measures"]] == ["new_housing", "add_facility"]
    assert (spec["measures"][0]["dwellings"], spec["measures"][1]["facility"]) == (120, "kita")
    results = _get_json(f"{api}/{scenario_id}/results")
    _assert_kpi_table(pg, results)
    # Lauf's extract is a box around the town: walks near its edge may be overstated, and the panel says so.
    kita_edge = next(g for g in results["data_gaps"]["facility_edge"] if g["facility"] == "kita")
    assert f"Kita {round(kita_edge['share'] * 100)} %" in pg.locator("#scenario-edge").inner_text()
    # "Basis" shows the town as it is: the quarter leaves the map.
    pg.locator("#scenario-mode").get_by_text("Basis (heute)").click()
    pg.wait_for_function("document.getElementById('scenario-kpis').dataset.mode === 'baseline'")
    red, green, blue = _quarter_colour(pg, ground)
    assert blue > red, (red, green, blue)
    pg.locator("#scenario-mode").get_by_text("Szenario", exact=True).click()
    _assert_exports(pg, results)
    _assert_swipe(pg, ground)
    _assert_side_by_side(pg, ground, results)

    # The permalink names the scenario; opening it shows the same measures and the same table.
    pg.wait_for_function(f"location.hash.includes('scenario={scenario_id}')", timeout=5_000)
    table = pg.locator("#scenario-kpis").inner_text()
    link = pg.url
    pg.goto("about:blank")
    pg.goto(link)
    pg.wait_for_function("window.__twin3d && window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)
    assert pg.get_by_role("button", name="Szenario", exact=True).get_attribute("aria-expanded") == "true"
    assert pg.locator("#scenario-kpis").inner_text() == table
    assert pg.evaluate("window.__twin3d.scenarioMeasures") == ["new_housing", "add_facility"]
    assert pg.get_by_label("Wohnungen").input_value() == "120"
    watch.assert_clean()


def _assert_swipe(pg: Page, ground: float) -> None:
    """The swipe ("Wischen") keeps one map; the divider, moved by keyboard, uncovers the quarter or hides it again."""
    pg.locator("#scenario-mode").get_by_text("Wischen").click()
    pg.wait_for_function("window.__twin3d.swipe === 0.5")
    assert len(pg.evaluate("window.__twin3d.viewports()")) == 1, "swipe is one view, not two halves"
    divider = pg.get_by_role("slider", name="Trennlinie zwischen Basis und Szenario")
    assert divider.get_attribute("aria-valuenow") == "50"
    divider.focus()
    pg.keyboard.press("Home")  # the divider to the left edge: the scenario everywhere
    pg.wait_for_function("window.__twin3d.swipe === 0")
    red, green, blue = _quarter_colour(pg, ground)
    assert red > green > blue, (red, green, blue)
    pg.keyboard.press("End")  # to the right edge: the baseline everywhere, the quarter is gone
    pg.wait_for_function("window.__twin3d.swipe === 1")
    red, green, blue = _quarter_colour(pg, ground)
    assert blue > red, (red, green, blue)
    pg.keyboard.press("ArrowLeft")
    pg.wait_for_function("Math.abs(window.__twin3d.swipe - 0.95) < 1e-9")
    assert divider.get_attribute("aria-valuenow") == "95"
    pg.locator("#scenario-mode").get_by_text("Szenario", exact=True).click()
    pg.wait_for_function("window.__twin3d.swipe === null")
    assert divider.is_hidden()


def _assert_side_by_side(pg: Page, ground: float, results: dict[str, Any]) -> None:
    """The cell map arrives; "Nebeneinander" splits the map: the quarter stands only on the scenario's half."""
    pg.wait_for_function("window.__twin3d.scenarioCells > 0", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.scenarioCells") == len(results["cells"])
    assert "Zellen" in pg.locator("#scenario-cells").inner_text()
    scrolls = "(() => { const out = [document.scrollingElement.scrollTop]; "
    scrolls += "for (let e = document.getElementById('scenario-results'); e; e = e.parentElement) "
    scrolls += "out.push(e.scrollTop); return out; })()"
    button = pg.locator("#scenario-mode").get_by_text("Nebeneinander")
    button.scroll_into_view_if_needed()  # as a person sees it before clicking
    frames = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
    pg.evaluate(frames)
    where = pg.evaluate(scrolls)
    button.click()
    pg.wait_for_function("window.__twin3d.compare === true")
    pg.evaluate(frames)
    assert pg.evaluate(scrolls) == where, "a click on 'Nebeneinander' must not scroll the panel or the page"
    assert pg.evaluate("window.__twin3d.viewports()") == ["baseline", "scenario"]
    assert pg.locator("#compare-labels").is_visible()
    pg.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
    screen = _screen(pg)
    half = screen.shape[1] / 2
    x0, y0 = _pixel(pg, CENTRE[0] - HALF[0] / 2, CENTRE[1] + HALF[1] / 2, ground)  # in the left view
    x1, y1 = _pixel(pg, CENTRE[0] + HALF[0] / 2, CENTRE[1] - HALF[1] / 2, ground)
    assert x1 < half, "the quarter's middle lies in the left half"
    left = screen[int(y0) : int(y1), int(x0) : int(x1)]
    right = screen[int(y0) : int(y1), int(x0 + half) : int(x1 + half)]
    left_rgb = [float(left[..., c].mean()) for c in range(3)]
    right_rgb = [float(right[..., c].mean()) for c in range(3)]
    # The orange quarter stands on the scenario's side; the baseline's side shows the field as it is.
    assert right_rgb[0] > right_rgb[1] > right_rgb[2], right_rgb
    assert right_rgb[0] - right_rgb[2] > left_rgb[0] - left_rgb[2] + 30, (left_rgb, right_rgb)
    # Side by side, both maps fly together to an area picked in the list.
    before = pg.evaluate("window.__twin3d.views()")
    pg.locator("#area-list button[data-area]").first.click()
    pg.wait_for_function(
        f"(() => {{ const v = window.__twin3d.views(); return Math.abs(v[0][2] - {before[0][2]}) > 0.01 "
        "&& v.every(w => Math.abs(w[0] - v[0][0]) < 1e-9 && Math.abs(w[2] - v[0][2]) < 1e-9); })()",
        timeout=10_000,
    )
    pg.locator("#scenario-mode").get_by_text("Szenario", exact=True).click()
    pg.wait_for_function("window.__twin3d.compare === false")
    assert len(pg.evaluate("window.__twin3d.viewports()")) == 1


def test_an_invalid_quarter_names_the_field_and_stores_nothing(
    page: tuple[Page, PageWatch], scenario_server: str
) -> None:
    pg, watch = page
    _open_lauf(pg, scenario_server)
    stored_before = _get_json(f"{scenario_server}/api/twins/lauf/scenarios")

    # Drawn by keyboard alone: the map moves with the arrow keys, a button takes the map centre as a point.
    pg.get_by_role("button", name="Wohnquartier zeichnen").focus()
    pg.keyboard.press("Enter")
    centre_point = pg.get_by_role("button", name="Punkt in Kartenmitte")
    canvas = pg.locator("#deck-container canvas")
    for i, key in enumerate(["", "ArrowRight", "ArrowDown"]):
        if key:
            last = pg.evaluate("window.__twin3d.drawnPoints.at(-1)")
            canvas.focus()
            pg.keyboard.press(key)
            pg.keyboard.press(key)
            # Until the map has moved: the ground under the centre lies some 50 m from the last point.
            pg.wait_for_function(
                f"""() => {{ const c = document.querySelector('#deck-container canvas');
                           const p = window.__twin3d.groundAt(c.clientWidth / 2, c.clientHeight / 2);
                           return Math.abs(p[0] - {last[0]}) + Math.abs(p[1] - {last[1]}) > 6e-4; }}""",
            )
        centre_point.focus()
        pg.keyboard.press("Enter")
        pg.wait_for_function(f"window.__twin3d.drawnPoints.length === {i + 1}")
    pg.get_by_role("button", name="Fläche schließen").click()
    pg.wait_for_function("window.__twin3d.scenarioMeasures.join() === 'new_housing'")

    dwellings = pg.get_by_label("Wohnungen")
    dwellings.fill("0")
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("window.__twin3d.scenarioState === 'invalid'", timeout=TIMEOUT_MS)
    errors = pg.locator("#scenario-errors")
    assert errors.is_visible()
    assert "Maßnahme 1 (Wohnquartier), Wohnungen: muss mindestens 1 sein" in errors.inner_text()
    assert dwellings.get_attribute("aria-invalid") == "true"
    assert dwellings.evaluate("e => e === document.activeElement")
    described = dwellings.get_attribute("aria-describedby")
    assert pg.locator(f"#{described}").inner_text() == "muss mindestens 1 sein"
    assert pg.evaluate("window.__twin3d.scenarioErrors") == [
        {"index": 0, "field": "dwellings", "message": "Input should be greater than or equal to 1"}
    ]
    assert pg.evaluate("window.__twin3d.scenarioId") is None
    assert "scenario=" not in pg.url
    assert _get_json(f"{scenario_server}/api/twins/lauf/scenarios") == stored_before

    # The browser reports the 422 answer in its console; that one is expected, nothing else may be there.
    rejected = [e for e in watch.console_errors if "status of 422" in e]
    assert len(rejected) == 1, watch.console_errors
    watch.console_errors.remove(rejected[0])

    # In English, the error speaks English too.
    pg.get_by_role("button", name="English").click()
    assert "Measure 1 (Housing quarter), Dwellings: must be at least 1" in errors.inner_text()
    watch.assert_clean()


def test_storeys_on_a_building_show_who_loses_and_why(page: tuple[Page, PageWatch], scenario_server: str) -> None:
    """Weisendorf's question in the viewer: pick a building, add storeys, run; no new sealing, and a persona of
    the residents loses school places, because of the newcomers."""
    pg, watch = page
    building = "way/38632361"  # a large block of flats in Lauf's west, near a primary school
    found = _get_json(f"{scenario_server}/api/twins/lauf/features/collections/buildings/items/{building}")
    ring = np.asarray(found["geometry"]["coordinates"][0])
    lon, lat = (float(v) for v in ring[:-1].mean(axis=0))
    pg.goto(f"{scenario_server}/#twin=lauf&view={lon},{lat},18,0,0")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.frames > 0")
    toggle = pg.get_by_role("button", name="Szenario", exact=True)
    toggle.click()
    pg.get_by_role("button", name="Gebäude aufstocken").click()
    assert "Gebäude anklicken" in pg.locator("#draw-hint").inner_text()
    # By keyboard: the building at the map's centre joins the measure.
    pg.get_by_role("button", name="Punkt in Kartenmitte").click()
    pg.wait_for_function("(window.__twin3d.storeysBuildings || []).length === 1", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.storeysBuildings") == [building]
    pg.keyboard.press("Enter")  # ends the tool
    item = pg.locator("#scenario-measures li[data-kind=add_storeys]")
    assert "Aufstockung: 1 Gebäude" in item.inner_text()
    storeys = item.get_by_label("Geschosse")
    storeys.fill("4")
    pg.get_by_label("Bevölkerungsvorausschau in Jahren").fill("10")
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)
    scenario_id = pg.evaluate("window.__twin3d.scenarioId")
    results = _get_json(f"{scenario_server}/api/twins/lauf/scenarios/{scenario_id}/results")
    assert results["summary"]["no_new_sealing"] is True
    summary = pg.locator("#scenario-results [data-field=summary]").inner_text()
    assert "ohne neue Versiegelung" in summary
    assert f"+{results['summary']['dwellings_added']} Wohnungen" in summary
    losses = pg.locator("#scenario-assessment [data-assessment=losses] li")
    assert losses.count() == len(results["assessment"]["losses"]) > 0
    first = losses.first.inner_text()
    assert "Plätze je 100 Personen" in first
    assert "wegen: Zuzug in neue Wohnungen" in first
    # The outlook says what it projected with: Lauf has no history of its own, so the prior's assumed migration.
    outlook = results["demand_outlook"]
    assert outlook["method"]["migration"] == "prior"
    note = pg.locator("#scenario-outlook-method").inner_text()
    assert "Wanderung angenommen" in note
    assert f"{outlook['flows']['births'][0]:,.0f}".replace(",", ".") + " Geburten" in note
    # Green space per resident: the newcomers share the greens, so no resident group gains any.
    green = pg.locator("#scenario-green tr[data-group=residents] [data-field=green_delta]")
    assert green.count() > 0
    assert "better" not in green.evaluate_all("cells => cells.map(c => c.dataset.verdict)")
    watch.assert_clean()
