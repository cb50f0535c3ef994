""" "Wie betrifft mich das?" in a real browser: opened from a scenario's results, a persona or two answers, a
home clicked on the map, the verdict per line and the summary, de and en; nothing kept in the browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, click_until, json_call, private_server, watched_page
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
KITA_AT = (11.2775, 49.5098)
KITA = {"kind": "add_facility", "facility": "kita", "capacity": 75, "location": {"type": "Point",
        "coordinates": list(KITA_AT)}}  # fmt: skip


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[str]:
    with private_server(tmp_path_factory.mktemp("for-me"), demo_paths, ("lauf",)) as url:
        yield url


@pytest.fixture
def page(
    browser: Browser, server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, server, tmp_path, request) as pair:
        yield pair


def _click_home(pg: Page, server: str) -> None:
    """Arm the panel's map click and click the new Kita's place on the ground."""
    pg.locator("#for-me-home").click()
    pg.wait_for_function("window.__twin3d.forMeArmed === true")
    lauf = json_call(f"{server}/api/twins/lauf")
    x, y = pg.evaluate(f"window.__twin3d.project({KITA_AT[0]}, {KITA_AT[1]}, {lauf['origin']['height']})")[:2]
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    click_until(pg, box, x, y, "window.__twin3d.forMeHome === true")
    assert pg.evaluate("window.__twin3d.forMeArmed") is False


def test_a_young_family_clicks_home_near_the_new_kita_and_reads_that_they_gain(
    page: tuple[Page, PageWatch], server: str
) -> None:
    pg, watch = page
    stored = json_call(f"{server}/api/twins/lauf/scenarios", "POST", {"name": "Kita am Markt", "measures": [KITA]})
    scenario_id = stored["scenario_id"]
    pg.goto(f"{server}/#twin=lauf&view={KITA_AT[0]},{KITA_AT[1]},15.5,0,0&scenario={scenario_id}")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.forMe")
    pg.wait_for_function("window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)
    stored_keys = pg.evaluate("Object.keys(localStorage).sort()")

    # From the scenario's results: the button opens the panel for this scenario.
    if pg.locator("#scenario-toggle").get_attribute("aria-expanded") != "true":
        pg.locator("#scenario-toggle").click()
    pg.locator("#scenario-for-me").click()
    pg.wait_for_function("window.__twin3d.forMeState === 'ready'", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.forMeScenario") == scenario_id
    assert pg.locator("#for-me-panel").is_visible()
    pg.locator("#for-me-persona").select_option("young_families")
    assert pg.locator("#for-me-questions").is_hidden()

    # Running without a home asks for one; then the map click goes to the panel, not to the buildings.
    pg.locator("#for-me-run").click()
    assert "Wohnort" in pg.locator("#for-me-message").inner_text()
    _click_home(pg, server)
    assert pg.evaluate("window.__twin3d.lastBuilding") is None, "the click chose the home, it picked no building"

    pg.locator("#for-me-run").click()
    pg.wait_for_function("window.__twin3d.forMeRuns === 1", timeout=TIMEOUT_MS)
    result = pg.locator("#for-me-result")
    assert result.get_attribute("data-verdict") == "better"
    walk = result.locator("li[data-facility='kita'][data-indicator='mean_distance_m']")
    assert walk.get_attribute("data-verdict") == "better"
    assert "Min." in walk.inner_text()
    assert "besser" in pg.locator("#for-me-summary").inner_text()

    # Two answers instead of a persona: an old person living alone needs no Kita.
    pg.locator("#for-me-persona").select_option("")
    assert pg.locator("#for-me-questions").is_visible()
    pg.locator("#for-me-age").select_option("80_plus")
    pg.locator("#for-me-household").select_option("alone")
    pg.locator("#for-me-run").click()
    pg.wait_for_function("window.__twin3d.forMeRuns === 2", timeout=TIMEOUT_MS)
    assert result.get_attribute("data-verdict") == "unchanged"
    assert result.locator("li").count() > 0

    # In English the answer is asked again in that language.
    pg.locator("#lang-toggle").click()
    pg.wait_for_function("window.__twin3d.forMeRuns === 3", timeout=TIMEOUT_MS)
    assert "nothing changes" in pg.locator("#for-me-summary").inner_text()
    assert pg.locator("#for-me-home").inner_text() == "Choose your home on the map"

    # Nothing of the question is kept in the browser or the address.
    assert pg.evaluate("Object.keys(localStorage).sort()") == sorted({*stored_keys, "twin3d.lang"})
    assert pg.evaluate("Object.keys(sessionStorage)") == []
    assert str(KITA_AT[0]) not in pg.url.split("view=")[0]
    pg.locator("#for-me-close").click()
    assert pg.locator("#for-me-panel").is_hidden()
    watch.assert_clean()
