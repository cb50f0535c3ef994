"""Uploading and deleting layers in the administration view of the layer catalogue, in a real browser: a real
GeoJSON goes in through the form and is drawn from its vector tiles; a truncated file is refused with a message
naming the file, and leaves the catalogue as it was; the public sees no upload form."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PageWatch, watched_page
from tests.conftest import GEODATA, REPO, free_port, serving
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
POIS = GEODATA / "lauf" / "osm" / "lauf_pois.geojson"
TRUNCATED = REPO / "tests" / "data" / "bad-layers" / "truncated.geojson"
VIEW = "view=11.2775,49.5098,14,0,0"
TITLE = "Ausgewählte Orte (OSM)"


@pytest.fixture(scope="module")
def upload_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, str, str]]:
    """A server of its own (private store folder, layers and users file); yields URL, an admin's and a council
    member's token."""
    root = tmp_path_factory.mktemp("layer-upload")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    paths.store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        paths.store_file(twin).symlink_to(demo_paths.store_file(twin).resolve())
        paths.privacy_key_file(twin).symlink_to(demo_paths.privacy_key_file(twin).resolve())
    _, admin = add_user(paths.users_file, "gis", "admin")
    _, council = add_user(paths.users_file, "rat", "council")
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths), port) as url:
        yield url, admin, council


@pytest.fixture
def page(
    browser: Browser, upload_server: tuple[str, str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, upload_server[0], tmp_path, request) as pair:
        yield pair


def _get(url: str, token: str | None = None) -> Any:
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        return json.loads(response.read())


def _some_pois(path: Path, n: int = 12) -> Path:
    """The first ``n`` named points of the real Lauf OSM POIs, as a GeoJSON file of their own."""
    data = json.loads(POIS.read_text(encoding="utf-8"))
    points = [f for f in data["features"] if f["geometry"]["type"] == "Point" and f["properties"].get("name")]
    assert len(points) >= n
    path.write_text(json.dumps({"type": "FeatureCollection", "features": points[:n]}), encoding="utf-8")
    return path


def _open(pg: Page, url: str) -> None:
    pg.goto(f"{url}/#twin=lauf&{VIEW}")
    pg.wait_for_function("window.__twin3d?.twin === 'lauf' && window.__twin3d.upload", timeout=TIMEOUT_MS)


def test_public_and_council_see_no_upload_form(
    page: tuple[Page, PageWatch], upload_server: tuple[str, str, str]
) -> None:
    pg, watch = page
    url, _, council = upload_server
    assert _get(f"{url}/api/me") == {"role": "public", "user": None, "twins": None}
    assert _get(f"{url}/api/me", council)["role"] == "council"
    _open(pg, url)
    pg.wait_for_function("window.__twin3d.upload.roleChecks >= 1", timeout=TIMEOUT_MS)  # the role is known
    assert pg.locator("#layer-upload").is_hidden()
    assert pg.get_by_role("button", name="Hochladen").count() == 0
    checks = pg.evaluate("window.__twin3d.upload.roleChecks")
    pg.get_by_label("Anmelden (Token)").fill(council)
    pg.get_by_label("Anmelden (Token)").press("Enter")
    pg.wait_for_function("document.getElementById('token-status').textContent.includes('Angemeldet')")
    pg.wait_for_function(f"window.__twin3d.upload.roleChecks > {checks}", timeout=TIMEOUT_MS)  # the council's role
    assert not pg.evaluate("window.__twin3d.upload.admin")
    assert pg.locator("#layer-upload").is_hidden()
    assert pg.locator("#moderation-panel").is_hidden()
    watch.assert_clean()  # asking the role refuses nothing: no 403 in the console


def _sign_in_as_admin(pg: Page, token: str) -> None:
    field = pg.get_by_label("Anmelden (Token)")
    field.fill(token)
    field.press("Enter")
    pg.wait_for_function("window.__twin3d.upload.admin === true", timeout=TIMEOUT_MS)
    assert pg.locator("#layer-upload").is_visible()
    assert pg.get_by_role("heading", name="Ebene hochladen").is_visible()


def _upload_pois(pg: Page, url: str, admin: str, tmp_path: Path) -> dict[str, Any]:
    """Upload a real GeoJSON through the form: the catalogue refreshes, the new layer is there, switched off."""
    pg.locator("#upload-file").set_input_files(str(_some_pois(tmp_path / "ausgewaehlte_orte.geojson")))
    assert pg.get_by_label("Titel", exact=True).input_value() == "ausgewaehlte orte"  # suggested by the name
    pg.get_by_label("Titel", exact=True).fill(TITLE)
    pg.get_by_label("Sichtbar für").select_option("council")
    pg.get_by_label("Quellenangabe (optional)").fill("© OpenStreetMap-Mitwirkende")
    pg.get_by_label("Lizenz (optional)").fill("ODbL 1.0")
    pg.get_by_role("button", name="Hochladen").click()
    pg.wait_for_function("window.__twin3d.upload.uploads === 1", timeout=TIMEOUT_MS)
    status = pg.locator("#upload-status").inner_text()
    assert f"Ebene „{TITLE}“ geladen" in status, status
    catalogue = _get(f"{url}/api/twins/lauf/layers", admin)
    assert [e["title"] for e in catalogue] == [TITLE]
    layer: dict[str, Any] = catalogue[0]
    assert (layer["visibility"], layer["feature_count"], layer["licence"]) == ("council", 12, "ODbL 1.0")
    assert _get(f"{url}/api/twins/lauf/layers") == []  # a council layer: not public
    assert pg.evaluate("window.__twin3d.catalogue.ids") == [layer["id"]]
    assert pg.evaluate("window.__twin3d.catalogue.shown") == []
    assert not pg.get_by_label(TITLE, exact=True).is_checked()
    assert pg.evaluate("document.activeElement.id") == f"catalogue-{layer['id']}"  # focus on the new layer
    return layer


def _refuse_truncated(pg: Page, url: str, admin: str, layer_id: str) -> None:
    """A truncated GeoJSON is refused: the server's message names the file and says what to do; nothing changes."""
    pg.locator("#upload-file").set_input_files(str(TRUNCATED))
    pg.get_by_label("Titel", exact=True).fill("Kaputt")
    pg.get_by_role("button", name="Hochladen").click()
    pg.wait_for_function("window.__twin3d.upload.failures === 1", timeout=TIMEOUT_MS)
    error = pg.locator("#upload-error")
    assert error.get_attribute("role") == "alert"
    text = error.inner_text()
    print("upload error shown:", text)
    assert "Hochladen fehlgeschlagen" in text
    assert "truncated.geojson" in text
    assert "Hinweis:" in text
    assert [e["id"] for e in _get(f"{url}/api/twins/lauf/layers", admin)] == [layer_id]
    assert pg.evaluate("window.__twin3d.catalogue.ids") == [layer_id]


def _delete_by_keyboard(pg: Page, url: str, admin: str, layer_id: str) -> None:
    """Delete with a confirm step, from the keyboard: cancel first (focus returns), then yes."""
    pg.get_by_role("button", name=f"Ebene {TITLE} löschen").focus()
    pg.keyboard.press("Enter")
    assert pg.get_by_text(f"Ebene „{TITLE}“ mit ihren Dateien endgültig löschen?").is_visible()
    assert pg.evaluate("document.activeElement.textContent") == "Abbrechen"
    pg.keyboard.press("Escape")
    assert pg.evaluate("document.activeElement.getAttribute('aria-label')") == f"Ebene {TITLE} löschen"
    assert [e["id"] for e in _get(f"{url}/api/twins/lauf/layers", admin)] == [layer_id]
    pg.keyboard.press("Enter")
    pg.keyboard.press("Shift+Tab")  # from "Abbrechen" back to "Ja, löschen"
    assert pg.evaluate("document.activeElement.textContent") == "Ja, löschen"
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.upload.deleted === 1", timeout=TIMEOUT_MS)
    assert _get(f"{url}/api/twins/lauf/layers", admin) == []
    assert pg.evaluate("window.__twin3d.catalogue.ids") == []
    assert pg.locator("#upload-status").inner_text() == f"Ebene „{TITLE}“ gelöscht."


def test_upload_toggle_refuse_and_delete_as_admin(
    page: tuple[Page, PageWatch], upload_server: tuple[str, str, str], tmp_path: Path
) -> None:
    pg, watch = page
    url, admin, _ = upload_server
    _open(pg, url)
    _sign_in_as_admin(pg, admin)
    # The moderation view lists places as rows, never clusters.
    with pg.expect_request(re.compile(r"/places\?.*cluster=false")):
        pg.locator("#moderation-filter").select_option("visible")

    # A submit without a file or title says what is missing, at the field.
    pg.get_by_role("button", name="Hochladen").click()
    assert pg.locator("#upload-file-error").inner_text() == "Bitte eine Datei wählen."
    assert pg.locator("#upload-file").get_attribute("aria-invalid") == "true"

    layer = _upload_pois(pg, url, admin, tmp_path)
    pg.keyboard.press("Space")  # switched on from the keyboard: its vector tiles load, its source is credited
    assert pg.get_by_label(TITLE, exact=True).is_checked()
    pg.wait_for_function(f"(window.__twin3d.catalogue.features['{layer['id']}'] || 0) > 0", timeout=TIMEOUT_MS)
    credit = pg.locator(f"#attribution [data-layer-attribution='{layer['id']}']")
    assert credit.inner_text() == f"{TITLE}: © OpenStreetMap-Mitwirkende, ODbL 1.0"

    _refuse_truncated(pg, url, admin, layer["id"])
    pg.locator("#catalogue-panel").screenshot(path=str(tmp_path / "upload-panel.png"))
    _delete_by_keyboard(pg, url, admin, layer["id"])
    assert credit.count() == 0

    # English labels follow the language switch.
    pg.locator("#lang-toggle").click()
    assert pg.get_by_role("heading", name="Upload a layer").is_visible()
    # The browser logs the refused upload's 422 itself.
    watch.console_errors = [e for e in watch.console_errors if not re.search(r"status of 422", e)]
    assert pg.evaluate("window.__twin3d.catalogue.errors") == 0
    watch.assert_clean()
