"""The flood tools in a real browser: draw a flood area by the Pegnitz in Lauf with a water level and a wall, run
it, read the flood section of the results (the twin-wide ground it used, buildings in the water, facilities cut off)
and draw the flooded cells on the map."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, click_until, private_server, watched_page
from tests.browser.test_scenario_viewer import CENTRE, HALF, _open_lauf, _pixel
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def flood_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[str]:
    with private_server(tmp_path_factory.mktemp("flood-viewer"), demo_paths, ("lauf",)) as url:
        yield url


@pytest.fixture
def page(
    browser: Browser, flood_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, flood_server, tmp_path, request) as pair:
        yield pair


def _draw(pg: Page, tool: str, corners: list[tuple[float, float]], ground: float) -> None:
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    pg.get_by_role("button", name=tool).click()
    for i, (sx, sy) in enumerate(corners):
        x, y = _pixel(pg, CENTRE[0] + sx * HALF[0], CENTRE[1] + sy * HALF[1], ground)
        click_until(pg, box, x, y, f"window.__twin3d.drawnPoints.length === {i + 1}")
    pg.keyboard.press("Enter")


def test_a_flood_with_a_wall_is_drawn_run_and_shown(page: tuple[Page, PageWatch], flood_server: str) -> None:
    pg, watch = page
    pg.set_default_timeout(TIMEOUT_MS)
    ground = _open_lauf(pg, flood_server)
    _draw(pg, "Hochwasser zeichnen (Wasserstand)", [(-1, -1), (1, -1), (1, 1), (-1, 1)], ground)
    pg.wait_for_function("window.__twin3d.scenarioMeasures.join() === 'flood'")
    level = pg.get_by_label("Wasserstand (m ü. NHN)")
    assert level.evaluate("e => e === document.activeElement")
    assert level.input_value() == "328"  # 1 m above Lauf's twin-wide ground to start from
    level.fill("328.5")
    _draw(pg, "Schutzmauer zeichnen", [(-0.5, -1.2), (-0.5, 1.2)], ground)
    pg.wait_for_function("window.__twin3d.scenarioMeasures.join() === 'flood,flood_wall'")
    pg.get_by_label("Mauerkrone (m ü. NHN)").fill("329")
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("window.__twin3d.scenarioState === 'done'")
    flood = pg.evaluate("window.__twin3d.lastResults.flood")
    assert flood["terrain"]["kind"] == "twin_ground"
    assert flood["walls"][0]["holds"] == [0]
    terrain = pg.locator("[data-field=flood-terrain]")
    assert "einheitliche Geländehöhe von 327 m" in terrain.inner_text()
    assert f"{flood['buildings']['flooded']} von" in pg.locator("[data-field=flood-buildings]").inner_text()
    if flood["facilities_cut_off"]:
        assert pg.locator("#scenario-flood-facilities tbody tr").count() == len(flood["facilities_cut_off"])
    # The flooded cells come as GeoJSON and are drawn under the measures: the frames after them draw cleanly.
    assert flood["extent"]["features"]
    pg.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
    watch.assert_clean()
