"""Citizens' places in a real browser: a pin on a 3D building, the form, the list and the map in sync, moderation
by an administrator, script payloads rendered inert, the keyboard path, and clusters in a busy view."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FloatRect, Page

from tests.browser.conftest import PageWatch, click_until, json_call, watched_page
from tests.conftest import free_port, serving
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import ParticipationSettings, PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TILES_TIMEOUT_MS = 120_000
SCHOOL = "way/23777857"  # a school in Lauf, 7.5 m high
CENTRE = (11.2775, 49.5098)
PAYLOADS = ("<img src=x onerror=window.__pwned=1>", "<script>window.__pwned=1</script>")
CSP = "default-src 'self'"


@contextmanager
def _server(store_dir: Path, demo_paths: PathSettings, participation: ParticipationSettings) -> Iterator[str]:
    """A server of its own: private live stores (places are written there) and a private users file."""
    store_dir.mkdir(parents=True, exist_ok=True)
    for twin in ("lauf", "rostock"):
        (store_dir / f"{twin}.duckdb").symlink_to(demo_paths.store_file(twin).resolve())
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths, participation), port) as url:
        yield url


# Generous limits: every request of these tests comes from one address.
GENEROUS = ParticipationSettings(posts_burst=200, participant_posts_burst=200, participants_burst=50, votes_burst=100)


@pytest.fixture(scope="module")
def places_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, str]]:
    """(base URL, an administrator's bearer token made with the users module into the private users file)."""
    store_dir = tmp_path_factory.mktemp("places-viewer") / "var"
    store_dir.mkdir()
    _, token = add_user(store_dir / "users.json", "moderator", "admin")
    with _server(store_dir, demo_paths, GENEROUS) as url:
        yield url, token


@pytest.fixture
def page(
    browser: Browser, places_server: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, places_server[0], tmp_path, request) as pair:
        yield pair


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _lauf(url: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in json_call(f"{url}/api/twins") if t["name"] == "lauf")
    return found


def _open(pg: Page, url: str, view: str, *, tiles: bool = False) -> None:
    """Open Lauf at `view` (lon,lat,zoom,pitch,bearing) and wait for the places listing (and the tiles)."""
    pg.goto(f"{url}/#twin=lauf&view={view}")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.frames > 0")
    pg.wait_for_function("window.__twin3d.places && window.__twin3d.places.loads > 0")
    if tiles:
        pg.wait_for_function("window.__twin3d.allTilesLoaded", timeout=TILES_TIMEOUT_MS)
        pg.wait_for_timeout(400)  # the camera settles before pixels are projected
    csp = pg.locator("meta[http-equiv=Content-Security-Policy]").get_attribute("content") or ""
    assert csp.startswith(CSP)
    assert "unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


def _expand_places(pg: Page) -> None:
    toggle = pg.locator("#places-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"


def _sign_in(pg: Page, token: str) -> None:
    """Paste the token into the sign-in field; the moderation view appears for an administrator."""
    field = pg.get_by_label("Anmelden (Token)")
    field.fill(token)
    field.press("Enter")
    pg.wait_for_function("window.__twin3d.moderation.admin === true")
    assert pg.locator("#moderation-panel").is_visible()


def _tab_to(pg: Page, selector: str, limit: int = 12) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        if pg.evaluate(f"document.activeElement === document.querySelector({json.dumps(selector)})"):
            return
        pg.keyboard.press("Tab")
    raise AssertionError(f"Tab did not reach {selector}")


def _participant(url: str) -> dict[str, str]:
    token = json_call(f"{url}/api/twins/lauf/participants", "POST")["token"]
    return {"X-Participant-Token": token}


def _pin_on_the_school(pg: Page, lauf: dict[str, Any], school: dict[str, Any]) -> FloatRect:
    """Start placing and click the school's roof: the pin sits on the building, above its ground."""
    _expand_places(pg)
    pg.get_by_role("button", name="Ort markieren").click()
    pg.wait_for_function("window.__twin3d.places.placing")  # once the participant token is there
    roof = school["ground_height"] + lauf["geoid_undulation"] + school["height"]
    x, y = pg.evaluate(f"window.__twin3d.project({school['lon']}, {school['lat']}, {roof})")[:2]
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y}) === 'buildings-lauf'", timeout=TILES_TIMEOUT_MS)
    on_building = "window.__twin3d.places.draft?.building_id !== undefined"
    click_until(pg, box, x, y, f"window.__twin3d.places.draft !== null && {on_building}")
    draft = pg.evaluate("window.__twin3d.places.draft")
    assert draft["building_id"] == SCHOOL
    assert 0 < draft["height"] <= school["height"] + 0.5
    assert "Gebäude way/23777857" in pg.locator("#place-where").inner_text()
    return box


def _fill_the_form_by_keyboard(pg: Page) -> int:
    """The kind (focused after the pin), the topic, the title, the text; Enter on "Absenden" sends."""
    assert pg.evaluate("document.activeElement.name") == "place-kind"
    pg.keyboard.press("ArrowDown")  # "Könnte besser sein"
    pg.keyboard.press("Tab")
    pg.keyboard.press("m")  # type-ahead to Mobilität (no topic is preselected: "Bitte wählen")
    pg.keyboard.press("Tab")
    pg.keyboard.type("Schulweg ohne Ampel")
    pg.keyboard.press("Tab")
    pg.keyboard.type("Vor der Schule fehlt ein sicherer Übergang.\nBitte prüfen.")
    _tab_to(pg, "#place-submit")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.places.submitted !== null")
    place_id: int = pg.evaluate("window.__twin3d.places.submitted.place_id")
    return place_id


def _list_and_map_in_sync(pg: Page, box: FloatRect, place_id: int, ground: float) -> None:
    """Listed (selected) and on the map on the roof; unselect in the list, select again by clicking the pin."""
    pg.wait_for_function(f"window.__twin3d.places.listed.includes({place_id})")
    item = pg.locator(f"#places-list li[data-place-id='{place_id}']")
    assert "Schulweg ohne Ampel" in item.inner_text()
    assert "selected" in (item.get_attribute("class") or "")
    lon, lat, z = pg.evaluate(f"window.__twin3d.places.pinAt({place_id})")
    assert z == pytest.approx(ground)
    x, y = pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {z})")[:2]
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y}) === 'places-pins'")
    item.locator(".place-head").click()
    pg.wait_for_function("window.__twin3d.places.selected === null")
    assert "selected" not in (item.get_attribute("class") or "")
    click_until(pg, box, x, y, f"window.__twin3d.places.selected === {place_id}")
    assert pg.locator(f"#place-{place_id}-head").get_attribute("aria-expanded") == "true"


def _hide_as_administrator(pg: Page, token: str, place_id: int) -> None:
    """Sign in with the token, add an internal remark, hide the place with a reason (required)."""
    _sign_in(pg, token)
    pg.locator(f"#mod-place-{place_id}").click()
    pg.wait_for_function(f"window.__twin3d.moderation.detail?.place_id === {place_id}")
    pg.get_by_label("Neue interne Notiz").fill("Mit dem Tiefbauamt klären")
    pg.get_by_role("button", name="Notiz speichern").click()
    pg.wait_for_function("window.__twin3d.moderation.remarks.length === 1")
    pg.get_by_role("button", name="Verbergen").click()
    assert "Begründung" in pg.locator("#moderation-reason-error").inner_text()
    pg.get_by_label("Begründung (intern)").fill("Doppelt gemeldet")
    pg.get_by_role("button", name="Verbergen").click()
    pg.wait_for_function("window.__twin3d.moderation.last?.status === 'hidden'")
    # The admin view still shows it, marked hidden, in the list and in the moderation view.
    pg.wait_for_function(
        f"document.querySelector(\"#places-list [data-place-id='{place_id}']\")?.dataset.status === 'hidden'"
    )
    assert pg.locator(f"#moderation-places li[data-place-id='{place_id}']").get_attribute("data-status") == "hidden"
    detail = pg.locator("#moderation-detail").inner_text()
    assert "Doppelt gemeldet" in detail
    assert "Mit dem Tiefbauamt klären" in detail


def test_pin_on_a_building_list_map_and_moderation(
    page: tuple[Page, PageWatch],
    places_server: tuple[str, str],
    browser: Browser,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    pg, watch = page
    url, admin_token = places_server
    lauf = _lauf(url)
    school = json_call(f"{url}/api/twins/lauf/buildings/{SCHOOL}")
    view = f"{school['lon']},{school['lat']},18,40,0"
    _open(pg, url, view, tiles=True)
    box = _pin_on_the_school(pg, lauf, school)
    place_id = _fill_the_form_by_keyboard(pg)

    stored = json_call(f"{url}/api/twins/lauf/places/{place_id}")
    assert (stored["kind"], stored["category"], stored["title"]) == ("improvable", "mobility", "Schulweg ohne Ampel")
    assert stored["text"] == "Vor der Schule fehlt ein sicherer Übergang.\nBitte prüfen."
    assert stored["location"]["building_id"] == SCHOOL
    assert stored["location"]["height"] > 0  # above the ground: the pin sits on the building
    on_roof = school["ground_height"] + lauf["geoid_undulation"] + stored["location"]["height"]
    assert on_roof > lauf["origin"]["height"]
    _list_and_map_in_sync(pg, box, place_id, on_roof)
    pg.screenshot(path=str(tmp_path / "places-citizen.png"))

    _hide_as_administrator(pg, admin_token, place_id)
    admin = {"Authorization": f"Bearer {admin_token}"}
    assert json_call(f"{url}/api/twins/lauf/places/{place_id}", headers=admin)["status"] == "hidden"
    pg.screenshot(path=str(tmp_path / "places-admin.png"))
    watch.assert_clean()

    # The public (a fresh page, no token) no longer sees it; remarks are closed to it.
    assert _status(f"{url}/api/twins/lauf/places/{place_id}/remarks") == 403
    assert _status(f"{url}/api/twins/lauf/places/{place_id}") == 404
    with watched_page(browser, url, tmp_path, request) as (public, public_watch):
        _open(public, url, view)
        _expand_places(public)
        assert place_id not in public.evaluate("window.__twin3d.places.listed")
        assert public.locator(f"#places-list li[data-place-id='{place_id}']").count() == 0
        assert public.locator("#moderation-panel").is_hidden()
        assert not public.evaluate("window.__twin3d.moderation.admin")
        public_watch.assert_clean()


def test_script_payloads_are_rendered_as_text(
    page: tuple[Page, PageWatch], places_server: tuple[str, str], tmp_path: Path
) -> None:
    pg, watch = page
    url, admin_token = places_server
    base = f"{url}/api/twins/lauf"
    admin = {"Authorization": f"Bearer {admin_token}"}
    citizen = _participant(url)
    ids = []
    for i, payload in enumerate(PAYLOADS):
        body = {
            "kind": "happy",
            "category": "green",
            "title": payload,
            "text": f"{payload}\n{payload}",
            "location": {"lon": CENTRE[0] + 0.0004 * i, "lat": CENTRE[1]},
        }
        ids.append(json_call(f"{base}/places", "POST", body, citizen)["place_id"])
    first = ids[0]
    top = json_call(f"{base}/places/{first}/comments", "POST", {"text": PAYLOADS[0]}, citizen)
    json_call(f"{base}/places/{first}/comments", "POST", {"text": PAYLOADS[1], "parent_id": top["comment_id"]}, citizen)
    json_call(f"{base}/places/{first}/remarks", "POST", {"text": PAYLOADS[0]}, admin)
    answer = {"action": "answer", "reason": PAYLOADS[1], "answer": PAYLOADS[0]}
    json_call(f"{base}/places/{first}/moderation", "POST", answer, admin)
    # After the decision (which resolves open reports), so that the report waits in the queue.
    json_call(f"{base}/places/{first}/reports", "POST", {"reason": "other", "text": PAYLOADS[1]}, citizen)

    _open(pg, url, f"{CENTRE[0]},{CENTRE[1]},16,0,0")
    _expand_places(pg)
    pg.wait_for_function(f"[{first}, {ids[1]}].every(id => window.__twin3d.places.listed.includes(id))")
    listing = pg.locator("#places-list")
    for payload in PAYLOADS:
        assert payload in listing.inner_text()
    # The citizen's view of the answered place: text, official answer, comments and the reply, as text.
    pg.locator(f"#place-{first}-head").click()
    pg.wait_for_function("(window.__twin3d.places.comments || []).length === 2")
    body = pg.locator(f"#place-{first}-body")
    text = body.inner_text()
    assert text.count(PAYLOADS[0]) >= 4  # the text (twice), the answer, the comment
    assert PAYLOADS[1] in text  # the reply
    assert body.locator(".place-answer-text").inner_text() == PAYLOADS[0]
    # Reporting a comment (the form opens and sends) changes nothing on screen but the message.
    body.get_by_role("button", name="Kommentar melden").first.click()
    body.get_by_role("button", name="Meldung senden").click()  # no reason is preselected: the form asks for one
    assert "Bitte wählen Sie einen Grund" in body.locator(".field-error").inner_text()
    body.get_by_label("Grund der Meldung").select_option("other")
    body.get_by_role("button", name="Meldung senden").click()
    pg.wait_for_function(f"document.getElementById('place-{first}-body').innerText.includes('Moderation sieht')")

    # The administration's view: the queue (report texts), the detail with remark, history and comments.
    _sign_in(pg, admin_token)
    queue = pg.locator("#moderation-queue")
    pg.wait_for_function("window.__twin3d.moderation.queue.length > 0")
    assert PAYLOADS[1] in queue.inner_text()
    pg.locator(f"#mod-place-{first}").click()
    pg.wait_for_function(f"window.__twin3d.moderation.detail && window.__twin3d.moderation.detail.place_id === {first}")
    detail = pg.locator("#moderation-detail").inner_text()
    assert PAYLOADS[0] in detail  # text, remark, comment
    assert PAYLOADS[1] in detail  # the moderation reason in the history, the reply
    assert pg.locator("#moderation-answer").input_value() == PAYLOADS[0]
    pg.screenshot(path=str(tmp_path / "places-payloads.png"))

    # Nothing ran, and no element came from the payloads.
    assert pg.evaluate("window.__pwned") is None
    assert pg.locator("#sidebar img, #sidebar script").count() == 0
    watch.assert_clean()


CENTRE_JS = (
    "(() => { const c = document.querySelector('#deck-container canvas');"
    " return window.__twin3d.groundAt(c.clientWidth / 2, c.clientHeight / 2); })()"
)
# Resolves once the map centre has not moved for three polls 100 ms apart: the view's transition is over.
CENTRE_STILL_JS = f"""() => new Promise(resolve => {{
    let last = null, still = 0;
    const poll = () => {{
        const key = String({CENTRE_JS});
        still = key === last ? still + 1 : 0;
        last = key;
        if (still >= 3) resolve(true); else setTimeout(poll, 100);
    }};
    poll();
}})"""


def _use_my_location(pg: Page, url: str) -> None:
    """ "Meinen Standort verwenden": refused first (a message says so), then allowed (a location in Lauf)."""
    _tab_to(pg, "#place-locate")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.places.geolocationError === 1")
    assert "nicht freigegeben" in pg.locator("#place-where").inner_text()
    pg.context.grant_permissions(["geolocation"], origin=url)
    pg.context.set_geolocation({"latitude": 49.5102, "longitude": 11.2781, "accuracy": 12})
    pg.locator("#place-locate").focus()
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.places.draft !== null")
    assert pg.evaluate("window.__twin3d.places.draft") == {"lon": 11.2781, "lat": 49.5102}
    pg.wait_for_function(f"Math.abs({CENTRE_JS}[0] - 11.2781) < 1e-5")  # the map flew there


def _pin_at_the_map_centre(pg: Page) -> None:
    """Move the map with the arrow keys, then "Stecknadel in Kartenmitte" puts the pin at the new centre."""
    pg.locator("#deck-container canvas").focus()
    for _ in range(3):
        pg.keyboard.press("ArrowRight")
    pg.wait_for_function(f"{CENTRE_JS}[0] > 11.2785")
    pg.evaluate(CENTRE_STILL_JS)  # the pan's transition has ended (a fixed wait was too short on a busy machine)
    pg.locator("#place-centre").focus()
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.places.draft.lon !== 11.2781")
    draft = pg.evaluate("window.__twin3d.places.draft")
    centre = pg.evaluate(CENTRE_JS)
    assert draft["lon"] == pytest.approx(centre[0], abs=1e-6)
    assert draft["lat"] == pytest.approx(centre[1], abs=1e-6)
    assert draft["lon"] > 11.2781  # moved east by the arrow keys
    assert "building_id" not in draft


def _vote_and_comment(pg: Page, place_id: int) -> None:
    """Agree and comment with the keyboard on the selected place."""
    _tab_to(pg, f"#place-{place_id}-voteup")
    pg.keyboard.press("Enter")
    pg.wait_for_function(f"document.getElementById('place-{place_id}-voteup')?.getAttribute('aria-pressed') === 'true'")
    _tab_to(pg, f"#place-{place_id}-comment", limit=20)
    pg.keyboard.type("Stimmt!")
    pg.keyboard.press("Tab")
    pg.keyboard.press("Enter")
    pg.wait_for_function("(window.__twin3d.places.comments || []).length === 1")


def test_keyboard_only_pin_at_the_map_centre_and_submit(
    page: tuple[Page, PageWatch], places_server: tuple[str, str], tmp_path: Path
) -> None:
    pg, watch = page
    url, _ = places_server
    _open(pg, url, f"{CENTRE[0]},{CENTRE[1]},17,0,0")
    pg.locator("#places-toggle").focus()
    pg.keyboard.press("Enter")
    assert pg.locator("#places-toggle").get_attribute("aria-expanded") == "true"
    _tab_to(pg, "#place-start")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.places.placing")  # once the participant token is there
    assert pg.evaluate("document.activeElement.id") == "place-centre"
    _use_my_location(pg, url)
    _pin_at_the_map_centre(pg)

    # The form: kind "gern" stays; no topic is preselected, so Enter on "Absenden" first asks for one.
    pg.locator("input[name=place-kind]:checked").focus()
    pg.keyboard.press("Tab")
    pg.keyboard.press("Tab")
    pg.keyboard.type("Bank am Markt")
    pg.keyboard.press("Tab")
    pg.keyboard.type("Schöner Platz zum Ausruhen.")
    _tab_to(pg, "#place-submit")
    pg.keyboard.press("Enter")
    assert pg.locator("#place-category-error").inner_text() == "Bitte wählen Sie ein Thema."
    assert pg.evaluate("document.activeElement.id") == "place-category"
    pg.keyboard.press("ArrowDown")  # the first topic: Wohnen
    _tab_to(pg, "#place-age")
    pg.keyboard.press("ArrowDown")  # unter 18: a voluntary self-description
    _tab_to(pg, "#place-submit")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.places.submitted !== null")
    created = pg.evaluate("window.__twin3d.places.submitted")
    assert (created["kind"], created["category"], created["title"]) == ("happy", "housing", "Bank am Markt")
    assert created["location"]["building_id"] is None
    assert pg.evaluate("document.activeElement.id") == f"place-{created['place_id']}-head"
    _vote_and_comment(pg, created["place_id"])
    assert json_call(f"{url}/api/twins/lauf/places/{created['place_id']}")["votes"]["up"] == 1
    pg.screenshot(path=str(tmp_path / "places-keyboard.png"))
    watch.assert_clean()


def test_drag_the_pin_and_escape_cancels(page: tuple[Page, PageWatch], places_server: tuple[str, str]) -> None:
    pg, watch = page
    url, _ = places_server
    lauf = _lauf(url)
    _open(pg, url, f"{CENTRE[0]},{CENTRE[1]},17,0,0")
    _expand_places(pg)
    pg.get_by_role("button", name="Ort markieren").click()
    pg.get_by_role("button", name="Stecknadel in Kartenmitte").click()
    draft = pg.evaluate("window.__twin3d.places.draft")
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    x, y = pg.evaluate(f"window.__twin3d.project({draft['lon']}, {draft['lat']}, {lauf['origin']['height'] + 1})")[:2]
    pg.wait_for_function(f"window.__twin3d.pickLayer({x}, {y}) === 'places-draft'")
    view = pg.evaluate("location.hash")
    # Drag the pin 80 px right and 50 px down: it lands under the pointer, and the map does not move.
    pg.mouse.move(box["x"] + x, box["y"] + y)
    pg.mouse.down()
    for i in range(1, 11):
        pg.mouse.move(box["x"] + x + 8 * i, box["y"] + y + 5 * i)
    pg.mouse.up()
    pg.wait_for_function("document.getElementById('place-where').innerText.includes('verschoben')")
    moved = pg.evaluate("window.__twin3d.places.draft")
    target = pg.evaluate(f"window.__twin3d.groundAt({x + 80}, {y + 50})")
    assert moved["lon"] == pytest.approx(target[0], abs=2e-6)
    assert moved["lat"] == pytest.approx(target[1], abs=2e-6)
    assert pg.evaluate("location.hash") == view
    pg.keyboard.press("Escape")
    pg.wait_for_function("window.__twin3d.places.placing === false && window.__twin3d.places.draft === null")
    assert pg.locator("#place-form").is_hidden()
    watch.assert_clean()


def test_clusters_in_a_busy_view_and_the_lens(
    browser: Browser,
    tmp_path: Path,
    demo_paths: PathSettings,
    built: dict[str, BuildReport],
    request: pytest.FixtureRequest,
) -> None:
    settings = ParticipationSettings(
        cluster_above=3, posts_burst=200, participant_posts_burst=200, participants_burst=20
    )
    with _server(tmp_path / "var", demo_paths, settings) as url:
        for i in range(6):  # six participants: the lens counts people, not places
            citizen = _participant(url)
            body = {
                "kind": "happy" if i % 2 else "improvable",
                "category": "other",
                "title": f"Ort {i}",
                "text": "Text",
                "location": {"lon": CENTRE[0] + 0.0003 * i, "lat": CENTRE[1]},
                "self_description": {"age_band": "65_79", "household": "couple"},
            }
            json_call(f"{url}/api/twins/lauf/places", "POST", body, citizen)
        lens = json_call(f"{url}/api/twins/lauf/lens")
        assert lens["under_heard"]["groups"]
        with watched_page(browser, url, tmp_path, request) as (pg, watch):
            _open(pg, url, f"{CENTRE[0]},{CENTRE[1]},15,0,0")
            _expand_places(pg)
            pg.wait_for_function("window.__twin3d.places.mode === 'clusters'")
            assert pg.evaluate("window.__twin3d.places.total") == 6
            clusters = pg.evaluate("window.__twin3d.places.clusters")
            assert clusters >= 1
            assert "6 Orte" in pg.locator("#places-summary").inner_text()
            assert pg.locator("#places-list .cluster-item").count() == clusters

            # The lens lists the groups that are not heard (only seniors in couples spoke), and areas.
            pg.wait_for_function("window.__twin3d.places.lens !== null")
            groups = pg.locator("#places-lens [data-lens=groups] li")
            assert groups.count() == len(lens["under_heard"]["groups"])
            first = next(g for g in lens["groups"] if g["id"] == lens["under_heard"]["groups"][0])
            assert first["name"] in groups.first.inner_text()
            assert pg.locator("#places-lens [data-lens=areas] li button").count() >= 1
            pg.screenshot(path=str(tmp_path / "places-clusters.png"))
            pg.locator("#places-lens-section").screenshot(path=str(tmp_path / "places-lens.png"))

            pg.get_by_role("button", name="English").click()
            assert "6 places in this view" in pg.locator("#places-summary").inner_text()
            assert first["name_en"] in groups.first.inner_text()
            zoom = float(pg.evaluate("location.hash").split("view=")[1].split(",")[2])
            pg.locator("#places-list .cluster-item button").first.focus()
            pg.keyboard.press("Enter")  # zooms into the group
            pg.wait_for_function(f"Number(location.hash.split('view=')[1]?.split(',')[2]) > {zoom + 1.5}")
            watch.assert_clean()
