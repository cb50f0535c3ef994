"""The scenario library in a real browser: saved scenarios listed for the caller's role and opened again; the
council saves drafts for the council by default, which the public never sees."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, json_call, watched_page
from tests.conftest import free_port, private_paths, serving
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
KITA = {"kind": "add_facility", "facility": "kita", "location": {"type": "Point", "coordinates": [11.2775, 49.5098]}}


@pytest.fixture(scope="module")
def library_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, str]]:
    """A server with a live store of its own and a council member; yields the URL and the council's token."""
    paths = private_paths(tmp_path_factory.mktemp("scenario-library"), demo_paths, ("lauf",))
    _, council = add_user(paths.users_file, "ratsbuero", "council")
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths), port) as url:
        yield url, council


@pytest.fixture
def page(
    browser: Browser, library_server: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, library_server[0], tmp_path, request) as pair:
        yield pair


def _call(url: str, body: Any = None, token: str | None = None) -> Any:
    """POST ``body`` (GET without one), as the council where a token is given."""
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return json_call(url, "POST" if body is not None else "GET", body, auth)


def test_the_library_lists_opens_and_keeps_council_drafts_to_the_council(
    page: tuple[Page, PageWatch], library_server: tuple[str, str]
) -> None:
    pg, watch = page
    url, council = library_server
    api = f"{url}/api/twins/lauf/scenarios"
    # Stored by the council for everyone: listed (what the public stores is a permalink only).
    shared = {"name": "Kita am Bahnhof", "measures": [KITA | {"capacity": 75}], "visibility": "public"}
    older = _call(api, shared, council)
    pg.goto(f"{url}/#twin=lauf&view=11.2775,49.5098,15,0,0")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.library")
    pg.get_by_role("button", name="Szenario", exact=True).click()
    pg.wait_for_function(f"window.__twin3d.library.ids.includes('{older['scenario_id']}')", timeout=TIMEOUT_MS)
    assert pg.locator("#scenario-visibility-row").is_hidden(), "the public saves public scenarios only"

    # The council signs in: its drafts are for the council unless it chooses otherwise.
    pg.get_by_label("Anmelden (Token)").fill(council)
    pg.get_by_label("Anmelden (Token)").press("Enter")
    pg.wait_for_function("window.__twin3d.library.role === 'council'", timeout=TIMEOUT_MS)
    assert pg.locator("#scenario-visibility-row").is_visible()
    assert pg.get_by_label("Szenario freigeben für").input_value() == "council"
    pg.get_by_label("Name des Szenarios").fill("Entwurf Ratsausschuss")
    pg.get_by_role("button", name="Einrichtung setzen").click()
    pg.get_by_role("button", name="Punkt in Kartenmitte").click()
    pg.get_by_role("button", name="Berechnen").click()
    pg.wait_for_function("window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)
    draft = pg.evaluate("window.__twin3d.scenarioId")
    pg.wait_for_function(f"window.__twin3d.library.ids.includes('{draft}')", timeout=TIMEOUT_MS)
    assert _call(f"{api}/{draft}", token=council)["spec"]["visibility"] == "council"
    assert draft not in [s["scenario_id"] for s in _call(api)], "the public does not see the council's draft"
    pg.locator("#scenario-library").get_by_text("Gespeicherte Szenarien").click()
    entry = pg.locator(f"#scenario-library-list li[data-scenario='{draft}']")
    assert "Entwurf Ratsausschuss" in entry.inner_text()
    assert "Rat" in entry.inner_text()

    # Open the older scenario from the library: its measures and results come back.
    pg.get_by_role("button", name="Szenario Kita am Bahnhof öffnen").click()
    pg.wait_for_function(f"window.__twin3d.scenarioId === '{older['scenario_id']}'", timeout=TIMEOUT_MS)
    pg.wait_for_function("window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)
    assert pg.get_by_label("Name des Szenarios").input_value() == "Kita am Bahnhof"
    assert pg.evaluate("window.__twin3d.scenarioMeasures") == ["add_facility"]

    # Compare it with the council's draft instead of today: the draft stands where the baseline stood.
    pg.get_by_label("Verglichen mit").select_option(label="Entwurf Ratsausschuss")
    pg.wait_for_function(
        f"window.__twin3d.lastResults?.against?.scenario_id === '{draft}' && window.__twin3d.scenarioState === 'done'",
        timeout=TIMEOUT_MS,
    )
    assert "Verglichen mit dem Szenario „Entwurf Ratsausschuss“" in pg.locator("#scenario-results").inner_text()
    assert pg.get_by_label("Verglichen mit").input_value() == draft
    pg.get_by_label("Verglichen mit").select_option(label="heute (Basis)")
    pg.wait_for_function("window.__twin3d.lastResults?.against === null", timeout=TIMEOUT_MS)
    watch.assert_clean()
