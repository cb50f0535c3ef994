"""The share link and the print view in a real browser: a link copied with "Teilen" opens the same view, layers,
building and language in a fresh browser; "Drucken" puts the map as one image on an A4 page with its legend, scale,
north arrow and sources, and nothing of the sidebar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, click_until, json_call, watched_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 120_000
SCHOOL = "way/23777857"  # Lauf's "Montesori FOS", the building test_viewer.py clicks too


def _wait_for_tiles(pg: Page) -> None:
    pg.wait_for_function("window.__twin3d && window.__twin3d.allTilesLoaded", timeout=TIMEOUT_MS)


def _settled(pg: Page) -> None:
    """Wait until two frames apart show the same view (a keyboard move is a short transition)."""
    pg.wait_for_function(
        """() => new Promise((resolve) => {
            const before = JSON.stringify(window.__twin3d.views());
            setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() =>
                resolve(JSON.stringify(window.__twin3d.views()) === before))), 400);
        })""",
        timeout=TIMEOUT_MS,
    )


def _camera(pg: Page) -> dict[str, float]:
    """Where the map looks now: the viewport's centre and zoom, the view state's pitch and bearing."""
    lon, lat, zoom = pg.evaluate("window.__twin3d.views()[0]")
    view = pg.evaluate("window.__twin3d.permalink.state().view")
    return {"longitude": lon, "latitude": lat, "zoom": zoom, "pitch": view["pitch"], "bearing": view["bearing"]}


def _make_a_view_and_share_it(pg: Page, live_server: str) -> tuple[str, dict[str, float]]:
    """Move, zoom, turn and tilt the map, click a building, switch layers, open a panel, go English, press "Share":
    the link copied and the camera it was copied at."""
    lauf = next(t for t in json_call(f"{live_server}/api/twins") if t["name"] == "lauf")
    school = json_call(f"{live_server}/api/twins/lauf/buildings/{SCHOOL}")
    pg.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    pg.goto(f"{live_server}/#twin=lauf&view={school['lon']},{school['lat']},18,40,0")
    _wait_for_tiles(pg)

    # deck.gl's keyboard controller on the focused canvas.
    pg.locator("#deck-container canvas").focus()
    for key in ["Minus", "ArrowRight", "Shift+ArrowLeft", "Shift+ArrowUp"]:
        pg.keyboard.press(key)
        _settled(pg)
    moved = _camera(pg)
    assert moved["zoom"] < 17.9
    assert abs(moved["bearing"]) > 1
    assert moved["pitch"] != 40

    # Click the school's roof: its details show.
    roof = school["ground_height"] + lauf["geoid_undulation"] + school["height"]
    x, y = pg.evaluate(f"window.__twin3d.project({school['lon']}, {school['lat']}, {roof})")[:2]
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y}) === 'buildings-lauf'", timeout=TIMEOUT_MS)
    click_until(pg, box, x, y, "window.__twin3d.lastBuilding !== null")
    assert pg.evaluate("window.__twin3d.lastBuilding") == SCHOOL

    # One layer on, one off; the places panel open; English.
    pg.locator("#toggle-facilities").check()
    pg.locator("#toggle-basemap").uncheck()
    pg.locator("#places-toggle").click()
    pg.locator("#lang-toggle").click()
    assert pg.evaluate("document.documentElement.lang") == "en"

    # "Share" copies the link and says so.
    pg.locator("#share-button").click()
    pg.wait_for_function("window.__twin3d.share.method !== null")
    assert pg.evaluate("window.__twin3d.share.method") == "clipboard"
    assert pg.locator("#share-status").inner_text() == "Link copied"
    link: str = pg.evaluate("navigator.clipboard.readText()")
    assert link == pg.locator("#share-url").input_value()  # the field shows the same link, to copy by hand
    assert link.startswith(f"{live_server}/#twin=lauf&view=")
    for part in ["building=way/23777857", "lang=en", "panel=places"]:
        assert part in link
    # The address bar keeps the link current too (written shortly after the last change).
    pg.wait_for_function("(link) => location.href === link", arg=link)
    return link, moved


def test_a_share_link_restores_the_view_layers_building_and_language(
    browser: Browser, page: tuple[Page, PageWatch], live_server: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    pg, watch = page
    link, moved = _make_a_view_and_share_it(pg, live_server)
    watch.assert_clean()

    # A fresh browser (no language remembered, nothing cached) opens the same view.
    with watched_page(browser, live_server, tmp_path, request) as (fresh, fresh_watch):
        fresh.goto(link)
        fresh.wait_for_function(
            "window.__twin3d && window.__twin3d.permalink && window.__twin3d.permalink.restored > 0",
            timeout=TIMEOUT_MS,
        )
        _settled(fresh)
        opened = _camera(fresh)
        assert opened["longitude"] == pytest.approx(moved["longitude"], abs=2e-6)
        assert opened["latitude"] == pytest.approx(moved["latitude"], abs=2e-6)
        assert opened["zoom"] == pytest.approx(moved["zoom"], abs=0.006)
        assert opened["pitch"] == pytest.approx(moved["pitch"], abs=0.6)
        assert opened["bearing"] == pytest.approx(moved["bearing"], abs=0.6)

        assert fresh.locator("#toggle-facilities").is_checked()
        assert not fresh.locator("#toggle-basemap").is_checked()
        assert fresh.locator("#toggle-buildings").is_checked()
        assert fresh.evaluate("window.__twin3d.lastBuilding") == SCHOOL
        assert fresh.locator("#building-details [data-field=name]").inner_text() == "Montesori FOS"
        assert fresh.evaluate("document.documentElement.lang") == "en"
        assert fresh.locator("#lang-toggle").inner_text() == "Deutsch"
        assert fresh.locator("#places-toggle").get_attribute("aria-expanded") == "true"
        assert fresh.locator("#share-button").inner_text() == "Share"
        fresh_watch.assert_clean()


def test_a_link_sets_the_statistics_year_and_the_toggles(page: tuple[Page, PageWatch], live_server: str) -> None:
    """The time slider's year (stats_timeline.js) goes into the link and comes back from it."""
    pg, watch = page
    pg.goto(f"{live_server}/#twin=rostock&layers=buildings,choropleth&year=2005")
    pg.wait_for_function(
        "window.__twin3d && window.__twin3d.timeline && window.__twin3d.timeline.ready", timeout=TIMEOUT_MS
    )
    pg.wait_for_function("window.__twin3d.timeline.year === 2005", timeout=TIMEOUT_MS)
    assert pg.locator("#toggle-choropleth").is_checked()
    assert not pg.locator("#toggle-basemap").is_checked()
    pg.wait_for_function("location.hash.includes('&year=2005&')", timeout=TIMEOUT_MS)
    assert "layers=buildings,choropleth&" in pg.evaluate("location.hash")
    watch.assert_clean()


# window.print() recorded instead of opening the dialog; the clipboard refused, as a browser may refuse it.
PRINT_STUB = """
window.__printCalls = 0;
window.print = () => { window.__printCalls += 1; };
navigator.clipboard.writeText = () => Promise.reject(new DOMException("not allowed", "NotAllowedError"));
"""

# The printed map's pixels: how many differ clearly from the map's empty background, and how many colours there are.
IMAGE_STATS = """async () => {
    const img = document.querySelector('.print-sheet .print-map img');
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d');
    ctx.drawImage(img, 0, 0);
    const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const [r0, g0, b0] = getComputedStyle(document.getElementById('map')).backgroundColor.match(/\\d+/g).map(Number);
    let drawn = 0;
    const colours = new Set();
    for (let i = 0; i < px.length; i += 4) {
        if (Math.abs(px[i] - r0) + Math.abs(px[i + 1] - g0) + Math.abs(px[i + 2] - b0) > 30) drawn += 1;
        colours.add((px[i] >> 3) * 1024 + (px[i + 1] >> 3) * 32 + (px[i + 2] >> 3));
    }
    return { drawn: drawn / (px.length / 4), colours: colours.size, width: canvas.width, height: canvas.height };
}"""


def _print(pg: Page, calls: int) -> dict[str, Any]:
    pg.locator("#print-button").click()
    pg.wait_for_function(
        "(n) => window.__printCalls === n && window.__twin3d.print.ready", arg=calls, timeout=TIMEOUT_MS
    )
    stats: dict[str, Any] = pg.evaluate(IMAGE_STATS)
    return stats


def test_without_a_clipboard_the_link_stands_selected_in_a_field(
    page: tuple[Page, PageWatch], live_server: str
) -> None:
    pg, watch = page
    pg.add_init_script(PRINT_STUB)
    pg.goto(f"{live_server}/#twin=lauf")
    pg.wait_for_function(
        "window.__twin3d && window.__twin3d.permalink && window.__twin3d.permalink.restored > 0", timeout=TIMEOUT_MS
    )
    share = pg.locator("#share-button")
    share.focus()
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.share.method === 'field'")
    assert share.get_attribute("aria-expanded") == "true"
    field = pg.locator("#share-url")
    assert field.is_visible()
    assert pg.evaluate("document.activeElement.id") == "share-url"
    link = field.input_value()
    selected = pg.evaluate(
        "(() => { const f = document.activeElement; return f.value.slice(f.selectionStart, f.selectionEnd); })()"
    )
    assert selected == link  # Ctrl+C copies it
    assert link.startswith(f"{live_server}/#twin=lauf&view=")
    assert "Strg+C" in pg.locator("#share-status").inner_text()  # said in the live region
    pg.keyboard.press("Escape")
    assert not field.is_visible()
    assert pg.evaluate("document.activeElement.id") == "share-button"
    watch.assert_clean()


def test_print_puts_the_map_legend_scale_and_sources_on_the_page(
    page: tuple[Page, PageWatch], live_server: str, tmp_path: Path
) -> None:
    pg, watch = page
    pg.add_init_script(PRINT_STUB)
    pg.goto(f"{live_server}/#twin=lauf")
    _wait_for_tiles(pg)
    pg.wait_for_function("window.__twin3d.basemap.ready", timeout=TIMEOUT_MS)
    canvas = pg.locator("#deck-container canvas").bounding_box()
    assert canvas is not None

    # Without the basemap, what is drawn on the image is deck.gl's: its WebGL canvas was read right after a frame.
    pg.locator("#toggle-basemap").uncheck()
    deck_only = _print(pg, 1)
    assert deck_only["width"] >= canvas["width"]  # device pixels, not fewer
    assert deck_only["drawn"] > 0.02, deck_only  # the buildings
    assert deck_only["colours"] > 20, deck_only

    # With the basemap and the statistics: the basemap's canvas under it, and the statistics' legend beside it.
    pg.locator("#toggle-basemap").check()
    pg.locator("#toggle-choropleth").check()
    pg.wait_for_function("window.__twin3d.basemap.ready", timeout=TIMEOUT_MS)
    full = _print(pg, 2)
    assert full["drawn"] > max(0.3, deck_only["drawn"] * 2), full
    assert full["colours"] > deck_only["colours"], full

    attribution = [line.strip() for line in pg.locator("#attribution").inner_text().split("\n") if line.strip()]
    assert attribution
    pg.emulate_media(media="print")
    sheet = pg.locator(".print-sheet")
    assert sheet.is_visible()
    assert not pg.locator("#sidebar").is_visible()
    assert not pg.locator("#map-tools").is_visible()
    assert not pg.locator(".topbar").is_visible()
    title = pg.evaluate("document.getElementById('twin-select').selectedOptions[0].textContent")
    assert sheet.locator("h1").inner_text() == title
    assert sheet.locator(".print-map img").is_visible()
    legend = sheet.locator(".print-legend")
    assert legend.count() == 1
    assert legend.is_visible()
    assert legend.locator("li").count() >= 3
    assert sheet.locator(".print-north").is_visible()
    scale = sheet.locator(".print-scale-label").inner_text()
    assert scale.endswith((" m", " km")), scale
    sources = sheet.locator(".print-sources")
    assert sources.is_visible()
    for line in attribution:  # every source and licence the screen names
        assert line in sources.inner_text()
    # The page as printed, for a person to look at.
    pdf = tmp_path / "print.pdf"
    pg.pdf(path=pdf, format="A4", landscape=True, print_background=True)
    print(f"the printed page: {pdf}")
    assert pdf.stat().st_size > 20_000
    watch.assert_clean()
