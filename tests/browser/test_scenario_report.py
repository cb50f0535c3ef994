"""The downloaded scenario report, opened from disk in a real browser with the network off: the inlined deck.gl
draws the cell map, the KPI tables are there, and nothing is requested or blocked (a CSP violation is a console
error). This is the proof of "offline"."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import Browser, Route

from tests.browser.conftest import watched_page
from tests.server.test_scenarios_api import HOUSING
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000


@pytest.fixture
def report_file(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> Path:
    """The report of the Lauf quarter with a Kita, downloaded through the API into a file."""
    store_dir = tmp_path / "var"
    store_dir.mkdir()
    for suffix in ("duckdb", "privacy-key"):
        (store_dir / f"lauf.{suffix}").symlink_to((demo_paths.store_dir / f"lauf.{suffix}").resolve())
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)
    with TestClient(create_app(ServerSettings(), paths)) as c:
        scenario_id = c.post("/api/twins/lauf/scenarios", json=HOUSING).json()["scenario_id"]
        response = c.get(f"/api/twins/lauf/scenarios/{scenario_id}/report.html")
    assert response.status_code == 200, response.text
    path = tmp_path / "report.html"
    path.write_bytes(response.content)
    return path


def _abort_unless_file(route: Route) -> None:
    if route.request.url.startswith("file:"):
        route.continue_()
    else:
        route.abort()


def test_the_report_renders_offline_from_disk(
    browser: Browser, report_file: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    with watched_page(browser, "file:///", tmp_path, request) as (page, watch):
        page.context.set_offline(True)
        page.route("**/*", _abort_unless_file)
        page.goto(report_file.as_uri())
        page.wait_for_selector("#deck-map[data-ready='true'] canvas", timeout=TIMEOUT_MS)
        assert page.locator("#interactive-map").is_visible()
        assert page.locator("#map-metric").input_value() == "kita"
        rows = page.locator("section[data-persona='young_families'] tbody[data-facility='kita'] tr")
        assert rows.count() == 5
        assert rows.first.is_visible()
        assert page.locator("svg.cell-map").count() >= 2

        # Wait for frames with the cells: the new Kita shortens walks, so some cells are drawn in the "better" blue.
        page.wait_for_function("Number(document.getElementById('deck-map').dataset.frames || 0) >= 1")
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
        shot = np.asarray(Image.open(io.BytesIO(page.locator("#deck-map").screenshot())).convert("RGB")).astype(int)
        blue = (shot[..., 2] > shot[..., 0] + 60) & (shot[..., 2] > 120)
        assert blue.sum() > 50, "the interactive map shows no improved cells"

        page.select_option("#map-metric", "persons")
        page.wait_for_timeout(500)
        page.emulate_media(media="print")
        assert not page.locator("#interactive-map").is_visible()  # print shows the SVG maps instead
        assert page.locator("svg.cell-map").first.is_visible()
        watch.assert_clean()
