"""Refusals come before the form, in the page's language, and a workshop code lets a citizen of a full network in:
in a real browser, against the real server."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, watched_page
from tests.conftest import free_port, serving
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import ParticipationSettings, PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEW = "11.2775,49.5098,16,0,0"
# Two new participants per address, hardly refilled: the test's own requests use them up.
STRICT = ParticipationSettings(participants_burst=2, participants_per_hour=1)


def _call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def full_network(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, str]]:
    """(base URL, a workshop code) of a server whose network (127.0.0.1) has used up its new participants."""
    store_dir = tmp_path_factory.mktemp("refusals") / "var"
    store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        (store_dir / f"{twin}.duckdb").symlink_to(demo_paths.store_file(twin).resolve())
    _, admin = add_user(store_dir / "users.json", "verwaltung", "admin")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths, STRICT), port) as url:
        status, issued = _call(
            f"{url}/api/twins/lauf/workshops",
            "POST",
            {"label": "Bürgerwerkstatt", "quota": 40, "hours": 2},
            {"Authorization": f"Bearer {admin}"},
        )
        assert status == 201, issued
        assert [_call(f"{url}/api/twins/lauf/participants", "POST")[0] for _ in range(3)] == [201, 201, 429]
        yield url, issued["code"]


@pytest.fixture
def page(
    browser: Browser, full_network: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, full_network[0], tmp_path, request) as pair:
        yield pair


def _open_places(pg: Page, url: str) -> None:
    pg.goto(f"{url}/#twin=lauf&view={VIEW}")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.frames > 0")
    pg.wait_for_function("window.__twin3d.places && window.__twin3d.places.loads > 0")
    toggle = pg.locator("#places-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def _expected_refusals(watch: PageWatch, statuses: str) -> int:
    """Drop the browser's own console lines about the refusals the test provokes; returns how many there were."""
    expected = [e for e in watch.console_errors if re.search(rf"status of ({statuses})", e)]
    watch.console_errors = [e for e in watch.console_errors if e not in expected]
    return len(expected)


def test_a_refused_citizen_reads_the_german_refusal_before_the_form_and_joins_with_a_code(
    page: tuple[Page, PageWatch], full_network: tuple[str, str]
) -> None:
    pg, watch = page
    url, code = full_network
    _open_places(pg, url)
    assert pg.locator("#workshop-box summary").inner_text() == "Bei einer Veranstaltung? Workshop-Code eingeben"

    pg.get_by_role("button", name="Ort markieren").click()
    pg.wait_for_function("window.__twin3d.places.participant === 'refused'")
    refusal = pg.locator("#place-refusal")
    assert refusal.is_visible()
    text = refusal.inner_text()
    assert text.startswith("Gerade nicht möglich:")
    assert "Bitte versuchen Sie es in" in text
    assert "Workshop-Code" in text
    assert pg.evaluate("window.__twin3d.places.refusal.reason") == "participants"
    # Nothing to fill in yet: the form stays closed, and the code field is offered.
    assert pg.locator("#place-form").is_hidden()
    assert not pg.evaluate("window.__twin3d.places.placing")
    assert pg.evaluate("document.getElementById('workshop-box').open")
    assert pg.evaluate("document.activeElement.id") == "place-refusal"

    # A wrong code, then the right one, by keyboard: the field is reached with Tab.
    for _ in range(6):
        pg.keyboard.press("Tab")
        if pg.evaluate("document.activeElement.id") == "workshop-code":
            break
    assert pg.evaluate("document.activeElement.id") == "workshop-code"
    pg.keyboard.type("ABCD-EFGH-JKLM")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.places.refusal && window.__twin3d.places.refusal.status === 422")
    assert pg.locator("#workshop-code-error").inner_text().startswith("Diesen Workshop-Code gibt es nicht")
    assert pg.evaluate("document.activeElement.id") == "workshop-code"
    pg.keyboard.press("Control+A")
    pg.keyboard.type(code.lower())
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.places.workshop !== null && window.__twin3d.places.placing")
    assert pg.locator("#workshop-status").inner_text() == "Sie nehmen am Workshop „Bürgerwerkstatt“ teil."
    assert pg.locator("#place-refusal").is_hidden()

    # The form opened once the token was there; the contribution goes through.
    assert pg.locator("#place-form").is_visible()
    pg.get_by_role("button", name="Stecknadel in Kartenmitte").click()
    pg.get_by_label("Kurzer Titel").fill("Sitzbänke am Markt")
    pg.get_by_label("Ihr Beitrag").fill("Hier fehlen Bänke im Schatten.")
    pg.locator("#place-category").select_option("green")  # no topic is preselected
    pg.get_by_role("button", name="Absenden").click()
    pg.wait_for_function("window.__twin3d.places.submitted !== null")
    listed = _call(f"{url}/api/twins/lauf/places?cluster=false")[1]["places"]
    assert "Sitzbänke am Markt" in [p["title"] for p in listed]

    assert _expected_refusals(watch, "429|422") == 2
    watch.assert_clean()


def test_the_refusal_follows_the_page_language(page: tuple[Page, PageWatch], full_network: tuple[str, str]) -> None:
    pg, watch = page
    url, _ = full_network
    pg.add_init_script("localStorage.setItem('twin3d.lang', 'en')")
    _open_places(pg, url)
    assert pg.locator("#workshop-box summary").inner_text() == "At an event? Enter a workshop code"
    assert pg.get_by_label("Workshop code").is_visible() is False  # inside the closed box
    pg.get_by_role("button", name="Mark a place").click()
    pg.wait_for_function("window.__twin3d.places.participant === 'refused'")
    text = pg.locator("#place-refusal").inner_text()
    assert text.startswith("Not possible right now:")
    assert "Please try again in" in text
    assert "workshop code" in text
    assert pg.locator("#place-form").is_hidden()
    assert pg.get_by_label("Workshop code").is_visible()
    assert _expected_refusals(watch, "429") == 1
    watch.assert_clean()
