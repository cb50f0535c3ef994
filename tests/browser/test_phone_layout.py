"""The viewer on a phone (390 x 844, touch): the map stays in view under a bottom sheet that a tap, a drag or the
keyboard raises and lowers, opening "Orte" raises the sheet instead of scrolling the page, the hint speaks of
touch gestures, and a signed-in user's "Abmelden" is not cut off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, private_server, watched_page
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE: dict[str, Any] = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


@pytest.fixture(scope="module")
def phone_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, str]]:
    """(base URL, a council member's bearer token) on a server with a users file of its own."""
    root = tmp_path_factory.mktemp("phone")
    with private_server(root, demo_paths, ("lauf",)) as url:
        _, token = add_user(root / "var" / "users.json", "rat", "council")
        yield url, token


@pytest.fixture
def phone(
    browser: Browser, phone_server: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, phone_server[0], tmp_path, request, **PHONE) as pair:
        yield pair


def _open(pg: Page, url: str) -> None:
    pg.goto(f"{url}/#twin=lauf")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.frames > 0")
    pg.wait_for_function("window.__twin3d.places && window.__twin3d.places.loads > 0")


def _sheet(pg: Page) -> str:
    """The sheet's height once it has stopped moving (its height is a CSS transition)."""
    pg.wait_for_function("document.getElementById('sidebar').getAnimations().length === 0")
    state: str = pg.evaluate("window.__twin3d.sheet.state")
    return state


def _sheet_becomes(pg: Page, state: str) -> None:
    pg.wait_for_function(f"window.__twin3d.sheet.state === '{state}'")
    assert _sheet(pg) == state


def _map_in_view(pg: Page) -> float:
    """The page has not scrolled, the map's canvas fills the screen under the top bar, and the share of its height
    that the sheet leaves uncovered."""
    assert pg.evaluate("window.scrollY") == 0
    canvas = pg.locator("#deck-container canvas").bounding_box()
    sheet = pg.locator("#sidebar").bounding_box()
    assert canvas is not None
    assert sheet is not None
    assert canvas["y"] >= 0
    assert canvas["x"] == 0
    assert canvas["width"] == 390
    assert canvas["y"] + canvas["height"] <= 844
    return (sheet["y"] - canvas["y"]) / canvas["height"]


def test_the_map_stays_in_view_under_a_sheet(phone: tuple[Page, PageWatch], phone_server: tuple[str, str]) -> None:
    pg, watch = phone
    _open(pg, phone_server[0])
    assert pg.evaluate("window.__twin3d.sheet") == {"phone": True, "state": "peek"}
    handle = pg.locator("#sheet-handle")
    assert handle.get_attribute("aria-expanded") == "false"
    assert _map_in_view(pg) > 0.7  # peeking: the panel titles, the map above them

    # Opening "Orte" raises the sheet to half height and shows the panel; the page does not scroll.
    pg.locator("#places-toggle").tap()
    _sheet_becomes(pg, "half")
    assert pg.locator("#places-toggle").get_attribute("aria-expanded") == "true"
    assert 0.4 < _map_in_view(pg) < 0.6
    assert pg.locator("#place-start").is_visible()
    assert pg.locator("#place-start").bounding_box()["y"] < 844  # type: ignore[index]

    # The handle: a tap goes up (full), the next tap down to peek; it says whether the sheet is open.
    handle.tap()
    _sheet_becomes(pg, "full")
    assert handle.get_attribute("aria-expanded") == "true"
    assert _map_in_view(pg) < 0.05
    handle.tap()
    _sheet_becomes(pg, "peek")
    assert handle.get_attribute("aria-expanded") == "false"

    # The keyboard: the arrow keys step, Enter works like a tap.
    handle.focus()
    pg.keyboard.press("ArrowUp")
    assert _sheet(pg) == "half"
    pg.keyboard.press("Enter")
    assert _sheet(pg) == "full"
    pg.keyboard.press("ArrowDown")
    pg.keyboard.press("ArrowDown")
    assert _sheet(pg) == "peek"
    assert handle.get_attribute("aria-label") == "Seitenleiste: eingeklappt. Tippen zum Aufziehen"

    # Dragging the handle up by half the screen lets the sheet snap to half height.
    box = handle.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    pg.mouse.move(x, y)
    pg.mouse.down()
    for step in range(1, 11):
        pg.mouse.move(x, y - 30 * step)
    pg.mouse.up()
    _sheet_becomes(pg, "half")
    assert pg.evaluate("window.scrollY") == 0
    watch.assert_clean()


def test_touch_hint_and_sign_out_on_a_phone(phone: tuple[Page, PageWatch], phone_server: tuple[str, str]) -> None:
    pg, watch = phone
    url, token = phone_server
    _open(pg, url)
    hint = pg.locator("#map-hint")
    text = pg.locator("#map-hint-text").inner_text()
    assert "Zwei Finger" in text
    assert "Maus" not in text
    assert "Rechte" not in text
    # The hint sits above the sheet, over the map, and closes with its button.
    hint_box, sheet_box = hint.bounding_box(), pg.locator("#sidebar").bounding_box()
    assert hint_box is not None
    assert sheet_box is not None
    assert hint_box["y"] + hint_box["height"] <= sheet_box["y"]
    pg.get_by_role("button", name="Hinweis schließen").tap()
    assert hint.is_hidden()

    # Signed in (the token help says where a token comes from), "Abmelden" shows its whole word.
    field = pg.get_by_label("Anmelden (Token)")
    assert "twin3d users add" in pg.locator("#token-help").inner_text()
    described = field.get_attribute("aria-describedby") or ""
    assert "token-help" in described.split()
    field.fill(token)
    field.press("Enter")
    sign_out = pg.locator("#token-signout")
    sign_out.wait_for(state="visible")
    assert sign_out.inner_text() == "Abmelden"
    assert pg.evaluate("(b) => b.scrollWidth <= b.clientWidth", sign_out.element_handle())
    row = pg.locator(".token-row").bounding_box()
    assert row is not None
    assert row["x"] + row["width"] <= 390
    assert pg.evaluate("window.scrollY") == 0
    watch.assert_clean()


def test_the_loading_status_ends_when_the_tiles_are_there(
    phone: tuple[Page, PageWatch], phone_server: tuple[str, str]
) -> None:
    """The status said "Lade Gebäude … 4 Kacheln" after the last tile had arrived; now it ends with their count."""
    pg, watch = phone
    _open(pg, phone_server[0])
    pg.wait_for_function("window.__twin3d.allTilesLoaded", timeout=120_000)
    loaded = pg.evaluate("window.__twin3d.tilesLoaded")
    assert loaded > 0
    assert pg.locator("#status").inner_text() == f"{loaded} Gebäudekacheln geladen"
    watch.assert_clean()
