"""The population layer in a real browser: hexagons drawn, personas change values and legend, both languages."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import Page

from tests.browser.conftest import PageWatch, click_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
PROBE = """() => ({cells: __twin3d.populationCells, persons: __twin3d.populationPersons,
                 persona: __twin3d.populationPersona, resolution: __twin3d.populationResolution,
                 loads: __twin3d.populationLoads})"""


def _pixels(page: Page) -> np.ndarray:
    shot = page.locator("#deck-container").screenshot()
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


def _drawn(page: Page, loads: int) -> dict[str, Any]:
    """Wait until the population data loaded after ``loads`` is drawn; the probe's figures."""
    page.wait_for_function(f"window.__twin3d.populationDrawn > {loads}", timeout=TIMEOUT_MS)
    return dict(page.evaluate(PROBE))


def _published(client: TestClient, persona: str, resolution: int) -> list[dict[str, Any]]:
    params: dict[str, str | int] = {"persona": persona, "resolution": resolution}
    response = client.get("/api/twins/rostock/population/h3", params=params)
    return [json.loads(line) for line in response.text.splitlines()]


def test_population_layer_personas_picking_and_languages(
    page: tuple[Page, PageWatch], live_server: str, client: TestClient
) -> None:
    pg, watch = page
    catalogue = client.get("/api/twins/rostock/personas").json()
    pg.goto(f"{live_server}/#twin=rostock")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'rostock'")
    pg.locator("#persona-catalogue details").first.wait_for()
    before = _pixels(pg)

    # Switched on from the layer list, the layer draws every published cell of resolution 9.
    pg.get_by_label("Bevölkerung (Personas, H3)").check()
    everyone = _drawn(pg, 0)
    published = _published(client, "*", 9)
    assert everyone == {
        "cells": len(published),
        "persons": sum(r["persons"] for r in published),
        "persona": "*",
        "resolution": 9,
        "loads": 1,
    }
    with_cells = _pixels(pg)
    changed = (np.abs(with_cells - before).sum(axis=2) > 30).mean()
    assert changed > 0.05, f"only {changed:.1%} of the map changed when the hexagons appeared"
    legend_everyone = pg.locator("#population-legend li").all_inner_texts()
    assert len(legend_everyone) >= 3
    assert "Alle Personen" in pg.locator("#population-legend-label").inner_text()

    # A persona: other values, its colour in the legend, its name in the legend's title.
    pg.select_option("#population-persona", "young_families")
    families = _drawn(pg, everyone["loads"])
    published = _published(client, "young_families", 9)
    assert families["persona"] == "young_families"
    assert families["persons"] == sum(r["persons"] for r in published) < everyone["persons"]
    assert families["cells"] == len(published)
    assert pg.locator("#population-legend li").all_inner_texts() != legend_everyone
    assert "Junge Familien" in pg.locator("#population-legend-label").inner_text()
    green = pg.locator("#population-legend li .swatch").nth(3).evaluate("e => getComputedStyle(e).backgroundColor")
    assert green == "rgb(44, 160, 44)"  # the persona's own colour, #2ca02c
    assert (np.abs(_pixels(pg) - with_cells).sum(axis=2) > 30).mean() > 0.02

    # A click on the tallest column shows its published counts in the panel.
    top = pg.evaluate("window.__twin3d.populationTallest")
    x, y = pg.evaluate(f"window.__twin3d.project({top['lon']}, {top['lat']}, {top['z'] - 1})")[:2]
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y}) === 'population-rostock'", timeout=TIMEOUT_MS)
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    click_until(pg, box, x, y, "window.__twin3d.lastPopulationCell !== null")
    assert pg.evaluate("window.__twin3d.lastPopulationCell") == top["h3"]
    row = next(r for r in published if r["h3"] == top["h3"])
    cell = pg.locator("#population-cell")
    assert cell.locator("[data-field=persons]").inner_text() == f"{row['persons']:,}".replace(",", ".")
    assert cell.locator("[data-field=households]").inner_text() == f"{row['households']:,}".replace(",", ".")

    # Keyboard: the persona select answers the arrow keys like any select.
    pg.focus("#population-persona")
    pg.keyboard.press("ArrowDown")
    following = _drawn(pg, families["loads"])
    assert following["persona"] == catalogue[2]["id"]

    # English: persona names in the select, the legend and the catalogue follow the language.
    pg.get_by_role("button", name="English").click()
    options = pg.locator("#population-persona option").all_inner_texts()
    assert options == ["Everyone", *[p["name_en"] for p in catalogue]]
    assert catalogue[2]["name_en"] in pg.locator("#population-legend-label").inner_text()
    names = pg.locator("#persona-catalogue summary .persona-name").all_inner_texts()
    assert names == [p["name_en"] for p in catalogue]
    _assert_report_in_english(pg, live_server)
    watch.assert_clean()


def _assert_report_in_english(pg: Page, live_server: str) -> None:
    """The statistician's report opens in the viewer's language, with a pyramid per district."""
    href = pg.locator("#population-report").get_attribute("href") or ""
    assert href.endswith("/population/report.html?lang=en")
    report = pg.context.request.get(f"{live_server}{href}")
    assert report.ok
    assert "Age pyramids per district" in report.text()


def test_population_panel_works_on_a_phone(page: tuple[Page, PageWatch], live_server: str) -> None:
    pg, watch = page
    pg.set_viewport_size({"width": 390, "height": 844})
    pg.goto(f"{live_server}/#twin=rostock&pop=single_parents,auto")
    first = _drawn(pg, 0)
    assert first["persona"] == "single_parents"
    assert first["cells"] > 0
    assert pg.get_by_label("Bevölkerung (Personas, H3)").is_checked()
    select = pg.locator("#population-persona")
    select.scroll_into_view_if_needed()
    area = select.bounding_box()
    assert area is not None
    assert area["x"] >= 0
    assert area["x"] + area["width"] <= 390
    assert area["height"] >= 36  # big enough for a finger
    # A persona's entry in the catalogue opens and puts it on the map.
    entry = pg.locator("#persona-catalogue details[data-persona=very_old_alone]")
    entry.locator("summary").click()
    entry.get_by_role("button").click()
    assert _drawn(pg, first["loads"])["persona"] == "very_old_alone"
    pg.wait_for_function("location.hash.includes('pop=very_old_alone')", timeout=5_000)  # the permalink follows
    watch.assert_clean()
