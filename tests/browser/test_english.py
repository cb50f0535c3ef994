"""An English session shows no German: the viewer switched to English, its main views opened one after another
(building, scenario, places, proposals, survey, a catalogue layer, measuring, sun, moderation as an administrator,
Rostock's statistics and population), and after each the visible text and the aria-label, title and placeholder
attributes checked against the German texts of the string tables (viewer/js/strings/).

Data is not in the tables (street, district and facility names), so only what the viewer itself says is checked:
the German texts that differ from their English one and are long enough to be unambiguous."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import click_until, json_call, watched_page
from tests.conftest import GENEROUS_PARTICIPATION, GEODATA, free_port, serving
from tests.server.surveys_support import SURVEY
from twin3d.auth.users import add_user
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.load import load_layer
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 120_000
SCHOOL = "way/23777857"  # Lauf's Montessori school, a building the viewer's tests click
POIS = GEODATA / "lauf" / "osm" / "lauf_pois.geojson"
KITA_AT = (11.2775, 49.5098)
KITA = {"kind": "add_facility", "facility": "kita", "capacity": 75, "location": {"type": "Point",
        "coordinates": list(KITA_AT)}}  # fmt: skip
LAYER_TITLE = "Orte aus OpenStreetMap"  # written by the municipality: data, not the viewer's text
# A German text counts when it is this long, or has two words (shorter ones are names, units or codes).
MIN_CHARS, MIN_WORDS_CHARS = 8, 6
STRIP = " .,:;()[]-/\"'\u2013\u2212\u00b7\u2026+\u00bb\u00ab\u201e\u201c"  # punctuation around a placeholder

# The texts a person meets on the page: every visible text node (options of a visible list included), the
# aria-label, title, placeholder and alt of visible elements, and the document's title.
COLLECT_JS = """() => {
  const shown = (el) => el.checkVisibility({ visibilityProperty: true });
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    const text = walker.currentNode.textContent.trim();
    if (!parent || !text || parent.closest("script, style")) continue;
    const select = parent.closest("select");
    if (select ? shown(select) : shown(parent)) out.push(text);
  }
  for (const el of document.body.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
    const select = el.closest("select");
    if (!(select ? shown(select) : shown(el))) continue;
    for (const name of ["aria-label", "title", "placeholder", "alt"]) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def english_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, str, str]]:
    """A server of its own for Lauf and Rostock: a public catalogue layer, an open survey, a citizen's reported
    place (so the lists and the moderation queue have an entry) and a stored scenario; yields the URL, an
    administrator's token and the scenario's id."""
    root = tmp_path_factory.mktemp("english-viewer")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    paths.store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        paths.store_file(twin).symlink_to(demo_paths.store_file(twin).resolve())
        paths.privacy_key_file(twin).symlink_to(demo_paths.privacy_key_file(twin).resolve())
    load_layer(paths, "lauf", POIS, LoadOptions(title=LAYER_TITLE, layer_id="orte"), info=twin_info(paths, "lauf"))
    _, admin = add_user(paths.users_file, "verwaltung", "admin")
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths, GENEROUS_PARTICIPATION), port) as url:
        api = f"{url}/api/twins/lauf"
        bearer = {"Authorization": f"Bearer {admin}"}
        survey = json_call(f"{api}/surveys", "POST", SURVEY, bearer)["survey_id"]
        json_call(f"{api}/surveys/{survey}/state", "POST", {"state": "open"}, bearer)
        citizen = {"X-Participant-Token": json_call(f"{api}/participants", "POST")["token"]}
        place = {
            "kind": "improvable",
            "category": "green",
            "title": "Bänke am Fluss",
            "text": "Hier fehlen Bänke.",
            "location": {"lon": 11.2795, "lat": 49.5105},
        }
        place_id = json_call(f"{api}/places", "POST", place, citizen)["place_id"]
        # Reported, so that it waits in the moderation queue.
        json_call(f"{api}/places/{place_id}/reports", "POST", {"reason": "off_topic"}, citizen)
        scenario = json_call(f"{api}/scenarios", "POST", {"name": "Kita am Markt", "measures": [KITA]})
        yield url, admin, scenario["scenario_id"]


def german_texts(tables: list[dict[str, dict[str, str]]]) -> set[str]:
    """The German texts of the tables an English page must not show: each text's parts between its
    {placeholders}, where they differ from the English text and are long enough to be unambiguous."""
    english = "\n".join(text for table in tables for text in table["en"].values())
    found = set()
    for table in tables:
        for key, german in table["de"].items():
            if german == table["en"][key]:
                continue
            for piece in re.split(r"\{\w+\}", german):
                part = piece.strip(STRIP)
                long_enough = len(part) >= MIN_CHARS or (" " in part and len(part) >= MIN_WORDS_CHARS)
                if long_enough and part not in english:
                    found.add(part)
    return found


def german_on_screen(pg: Page, german: set[str]) -> list[str]:
    """The texts on screen that contain one of the German texts, each with the German text it contains."""
    texts: list[str] = pg.evaluate(COLLECT_JS)
    return sorted({f"{text!r} ({part!r})" for text in texts for part in german if part in text})


def _wait(pg: Page, condition: str) -> None:
    pg.wait_for_function(condition, timeout=TIMEOUT_MS)


def _click_school(pg: Page, url: str) -> None:
    """Click the school's roof: the building panel shows it."""
    lauf: dict[str, Any] = next(t for t in json_call(f"{url}/api/twins") if t["name"] == "lauf")
    school = json_call(f"{url}/api/twins/lauf/buildings/{SCHOOL}")
    roof = school["ground_height"] + lauf["geoid_undulation"] + school["height"]
    x, y = pg.evaluate(f"window.__twin3d.project({school['lon']}, {school['lat']}, {roof})")[:2]
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    _wait(pg, f"window.__twin3d.pickLayer({x}, {y}) === 'buildings-lauf'")
    click_until(pg, box, x, y, f"window.__twin3d.lastBuilding === '{SCHOOL}'")


def _open_panel(pg: Page, toggle: str) -> None:
    if pg.get_attribute(toggle, "aria-expanded") != "true":
        pg.click(toggle)


def _participation_views(pg: Page, look: Callable[[str], None]) -> None:
    """Scenario, places (and placing a pin), proposals (and the form), the survey."""
    _open_panel(pg, "#scenario-toggle")
    look("scenario")
    _open_panel(pg, "#places-toggle")
    _wait(pg, "window.__twin3d.places.loads > 0")
    look("places")
    pg.click("#place-start")
    _wait(pg, "window.__twin3d.places.placing")
    look("placing a pin")
    pg.click("#place-cancel")
    _open_panel(pg, "#proposals-toggle")
    _wait(pg, "window.__twin3d.proposals.loads > 0")
    pg.click("#proposal-start")
    look("proposals and the proposal form")
    pg.click("#proposal-cancel")
    _wait(pg, "window.__twin3d.survey && window.__twin3d.survey.loads > 0")
    _open_panel(pg, "#survey-toggle")
    look("survey")


def _tool_views(pg: Page, look: Callable[[str], None], admin: str) -> None:
    """A catalogue layer, measuring, sun and shadows, moderation as an administrator."""
    pg.locator("#catalogue-panel [data-layer-id=orte] input[type=checkbox]").check()
    _wait(pg, "(window.__twin3d.catalogue.tiles.orte || 0) > 0")
    look("catalogue layer")
    measure = pg.get_by_role("button", name="Measure", exact=True)
    measure.click()
    _wait(pg, "window.__twin3d.measure.open")
    look("measuring tool")
    measure.click()
    pg.click("#sun-toggle")
    _wait(pg, "window.__twin3d.sun && window.__twin3d.sun.date")
    look("sun and shadows")
    pg.click("#sun-toggle")  # closed, as a person leaves it before going to another twin
    field = pg.get_by_label("Sign in (token)")
    field.fill(admin)
    field.press("Enter")
    _wait(pg, "window.__twin3d.moderation.admin === true && window.__twin3d.moderation.queue.length > 0")
    pg.locator("#moderation-queue button").first.click()
    _wait(pg, "window.__twin3d.moderation.detail !== null")
    look("moderation as administrator")


def test_an_english_session_shows_no_german(
    browser: Browser, english_server: tuple[str, str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url, admin, scenario = english_server
    found: dict[str, list[str]] = {}
    with watched_page(browser, url, tmp_path, request) as (pg, watch):
        school = json_call(f"{url}/api/twins/lauf/buildings/{SCHOOL}")
        pg.goto(f"{url}/#twin=lauf&view={school['lon']},{school['lat']},18,40,0")
        _wait(pg, "window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.allTilesLoaded")
        german = german_texts(pg.evaluate("import('/js/strings/index.js').then((m) => m.TABLES)"))
        assert len(german) > 500, "the check needs the German texts of the tables"
        assert german_on_screen(pg, german), "the German page must show German texts the check knows"

        pg.get_by_role("button", name="English").click()
        _wait(pg, "document.documentElement.lang === 'en'")

        def look(view: str) -> None:
            found[view] = german_on_screen(pg, german)
            print(f"{view}: {found[view]}")  # shown if a later step fails

        look("start")
        _click_school(pg, url)
        look("building")
        _participation_views(pg, look)
        _tool_views(pg, look, admin)

        pg.select_option("#twin-select", "rostock")
        _wait(pg, "window.__twin3d.twin === 'rostock' && window.__twin3d.allTilesLoaded")
        loads = pg.evaluate("window.__twin3d.populationLoads || 0")
        pg.get_by_label("Population (personas, H3)").check()
        pg.get_by_label("Area statistics").check()
        _wait(pg, f"window.__twin3d.populationDrawn > {loads}")
        look("Rostock with statistics and population")

        # A fresh load remembers English and draws every text in it from the start: a stored scenario's results.
        pg.goto(f"{url}/#twin=lauf&view={KITA_AT[0]},{KITA_AT[1]},15.5,0,0&scenario={scenario}")
        pg.reload()
        _wait(pg, "window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.scenarioState === 'done'")
        look("a fresh load with a scenario's results")
        watch.assert_clean()

    shown = {view: texts for view, texts in found.items() if texts}
    assert shown == {}, "German on the English page:\n" + "\n".join(
        f"{view}:\n  " + "\n  ".join(texts) for view, texts in shown.items()
    )
