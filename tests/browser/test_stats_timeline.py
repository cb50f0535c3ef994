"""The statistics time slider over Rostock's 2005-2023 district figures, in a real browser: moved with the keyboard,
the list of areas shows that year's figures from the city's own tables, the legend's classes stay as they were (fixed
over all years), and the play button steps through the years."""

from __future__ import annotations

import csv
import math

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import PageWatch
from tests.conftest import GEODATA

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
POPULATION_CSV = GEODATA / "rostock" / "stadtbereiche" / "population_csv"
AREA = "Lichtenhagen"


def _density(year: int, name: str) -> float:
    """Residents per km² of one Stadtbereich in the city's table of that year (the choropleth's variable)."""
    with (POPULATION_CSV / f"insgesamt_{year}.csv").open(encoding="utf-8") as fh:
        rows = {row["stadtbereich_bezeichnung"]: row for row in csv.DictReader(fh)}
    return float(rows[name]["bevoelkerungsdichte"])


def _german(value: float) -> str:
    """A whole number as the German page writes it (Intl rounds halves away from zero)."""
    return f"{math.floor(value + 0.5):,}".replace(",", ".")


def _area_value(pg: Page, name: str) -> str:
    row = pg.locator("#area-list tbody tr").filter(has=pg.get_by_role("button", name=f"{name}:"))
    return row.locator("td.num").inner_text()


def test_the_year_slider_shows_each_years_figures_with_fixed_classes(
    page: tuple[Page, PageWatch], live_server: str
) -> None:
    pg, watch = page
    pg.goto(f"{live_server}/#twin=rostock")
    pg.wait_for_function("window.__twin3d?.twin === 'rostock' && window.__twin3d.timeline?.ready", timeout=TIMEOUT_MS)
    assert pg.evaluate("window.__twin3d.timeline.years") == list(range(2005, 2024))
    pg.locator("#area-list tbody tr").first.wait_for()
    # The build's year first: the list shows 2023's figures, as the city's 2023 table has them.
    assert _area_value(pg, AREA) == _german(_density(2023, AREA))
    pg.get_by_label("Gebietsstatistik").check()
    slider = pg.locator("#stats-timeline-year")
    slider.wait_for()
    assert slider.get_attribute("aria-valuetext") == "2023"
    assert "2023" in pg.locator("#stats-timeline-caption").inner_text()
    legend_before = pg.locator("#legend li").all_inner_texts()
    assert len(legend_before) >= 3

    # Keyboard: Home goes to the first year.
    slider.focus()
    pg.keyboard.press("Home")
    pg.wait_for_function("window.__twin3d.timeline.year === 2005", timeout=TIMEOUT_MS)
    assert _density(2005, AREA) != _density(2023, AREA)
    assert _area_value(pg, AREA) == _german(_density(2005, AREA))
    assert slider.get_attribute("aria-valuetext") == "2005"
    assert pg.locator("#stats-timeline output").inner_text() == "2005"
    caption = pg.locator("#stats-timeline-caption").inner_text()
    assert "2005" in caption
    assert "Quelle: " in caption
    assert "31.12.2005" in pg.locator("#legend-label").inner_text()  # the label names the year shown
    # The classes are fixed over all years: the same colours mean the same figures in 2005 and 2023.
    assert pg.locator("#legend li").all_inner_texts() == legend_before
    pg.keyboard.press("ArrowRight")
    pg.wait_for_function("window.__twin3d.timeline.year === 2006", timeout=TIMEOUT_MS)
    assert _area_value(pg, AREA) == _german(_density(2006, AREA))
    # The address bar's link names the year (share link, url_state.js).
    pg.wait_for_function("location.hash.includes('year=2006')", timeout=TIMEOUT_MS)

    # Play steps on through the years; pause stops it where it is.
    play = pg.locator("#stats-timeline-play")
    play.click()
    assert play.get_attribute("aria-pressed") == "true"
    pg.wait_for_function("window.__twin3d.timeline.year >= 2007", timeout=TIMEOUT_MS)
    play.click()
    assert play.get_attribute("aria-pressed") == "false"
    stopped = pg.evaluate("window.__twin3d.timeline.year")
    assert _area_value(pg, AREA) == _german(_density(stopped, AREA))
    watch.assert_clean()


def test_a_link_with_a_year_opens_the_map_and_list_in_that_year(page: tuple[Page, PageWatch], live_server: str) -> None:
    pg, watch = page
    pg.goto(f"{live_server}/#twin=rostock&year=2009")
    pg.wait_for_function(
        "window.__twin3d?.timeline?.ready && window.__twin3d.timeline.year === 2009", timeout=TIMEOUT_MS
    )
    assert _area_value(pg, AREA) == _german(_density(2009, AREA))
    watch.assert_clean()


def test_a_twin_whose_statistics_have_one_year_shows_no_slider(page: tuple[Page, PageWatch], live_server: str) -> None:
    pg, watch = page
    pg.goto(f"{live_server}/#twin=lauf")
    pg.wait_for_function("window.__twin3d?.twin === 'lauf' && window.__twin3d.timeline", timeout=TIMEOUT_MS)
    pg.locator("#area-list tbody tr").first.wait_for()
    assert pg.evaluate("window.__twin3d.timeline.ready") is False
    assert pg.locator("#stats-timeline").is_hidden()
    watch.assert_clean()
