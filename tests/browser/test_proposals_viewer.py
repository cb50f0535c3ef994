"""Citizens' proposals in a real browser: a citizen drafts "Kita auf dem Parkplatz" with a Kita drawn on the map,
an administrator shows it (pre-moderation) and has it simulated, the proposal's page shows the verdict per persona,
and another citizen with a young family who lives nearby sees that they gain ("Wie betrifft mich das?")."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FloatRect, Page

from tests.browser.conftest import PageWatch, click_until, json_call, watched_page
from tests.conftest import REPO, free_port, serving
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import ParticipationSettings, PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TIMEOUT_MS = 60_000
# A parking lot in the north of Lauf (OSM way/46108401) with some 60 young families' households within 600 m, half
# of them today more than 800 m from a Kita: a Kita here makes young families better off.
PARKING = (11.27033, 49.52338)
# A house some 120 m north of it (way/98298303): the second citizen's home.
HOME = (11.27033, 49.52446)
VIEW = f"{PARKING[0]},{PARKING[1] + 0.0004},17,0,0"  # straight down, so that a click lands where it is aimed
TITLE = "Kita auf dem Parkplatz"
TEXT = "Der Parkplatz steht fast immer leer.\nHier fehlt eine Kita für die jungen Familien."
# Every request of these tests comes from one address.
GENEROUS = ParticipationSettings(posts_burst=200, participant_posts_burst=200, participants_burst=50, votes_burst=100)


def _pipelines(root: Path) -> Path:
    """The repository's pipeline definitions, with Lauf under pre-moderation: a proposal is public once shown."""
    folder = root / "pipelines"
    folder.mkdir()
    for entry in (REPO / "pipelines").iterdir():
        if entry.name != "lauf.toml":
            (folder / entry.name).symlink_to(entry.resolve())
    text = (REPO / "pipelines" / "lauf.toml").read_text(encoding="utf-8")
    text = text.replace('"../geodata/', f'"{(REPO / "geodata").as_posix()}/')
    (folder / "lauf.toml").write_text(f'{text}\n[participation]\nmoderation = "pre"\n', encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def proposals_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[str, str]]:
    """(base URL, an administrator's bearer token): a server of its own with private live stores and users."""
    root = tmp_path_factory.mktemp("proposals-viewer")
    store_dir = root / "var"
    store_dir.mkdir()
    for name in ("lauf.duckdb", "lauf.privacy-key"):
        if (demo_paths.store_dir / name).exists():
            (store_dir / name).symlink_to((demo_paths.store_dir / name).resolve())
    _, token = add_user(store_dir / "users.json", "moderator", "admin")
    paths = PathSettings(pipelines_dir=_pipelines(root), store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths, GENEROUS), port) as url:
        yield url, token


@pytest.fixture
def page(
    browser: Browser, proposals_server: tuple[str, str], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    with watched_page(browser, proposals_server[0], tmp_path, request) as pair:
        yield pair


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _open(pg: Page, url: str, extra: str = "") -> float:
    """Open Lauf over the parking lot with the proposals expanded; the twin's ground (metres above the ellipsoid)."""
    pg.goto(f"{url}/#twin=lauf&view={VIEW}{extra}")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.frames > 0")
    pg.wait_for_function("window.__twin3d.proposals && window.__twin3d.proposals.loads > 0")
    toggle = pg.locator("#proposals-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    lauf = next(t for t in json_call(f"{url}/api/twins") if t["name"] == "lauf")
    return float(lauf["origin"]["height"])


def _map_box(pg: Page) -> FloatRect:
    box = pg.locator("#deck-container").bounding_box()
    assert box is not None
    return box


def _pixel(pg: Page, lon: float, lat: float, z: float) -> tuple[float, float]:
    x, y = pg.evaluate(f"window.__twin3d.project({lon}, {lat}, {z})")[:2]
    return float(x), float(y)


def _draft_with_a_kita(pg: Page, ground: float) -> dict[str, Any]:
    """The form (title, topic, text), a Kita clicked onto the parking lot with the scenario's facility tool, send."""
    pg.get_by_role("button", name="Vorschlag machen").click()
    pg.wait_for_function("window.__twin3d.proposals.drafting === true")  # once the participant token is there
    assert pg.evaluate("document.activeElement.id") == "proposal-title-input"
    pg.keyboard.type(TITLE)
    pg.locator("#proposal-topic").select_option("social")
    pg.locator("#proposal-text").fill(TEXT)
    # Without a place, an area or a measure the proposal is not sent: the form says so.
    pg.get_by_role("button", name="Vorschlag einreichen").click()
    assert "Ort" in pg.locator("#proposal-form-status").inner_text()

    form = pg.locator("#proposal-form")
    assert form.locator("#proposal-facility-type").input_value() == "kita"
    tool = form.locator("[data-proposal-tool=add_facility]")
    tool.click()
    assert tool.get_attribute("aria-pressed") == "true"
    assert "Kita" in pg.locator("#proposal-draw-hint").inner_text()
    x, y = _pixel(pg, PARKING[0], PARKING[1], ground)
    click_until(pg, _map_box(pg), x, y, "window.__twin3d.proposals.draftMeasures.length === 1")
    assert pg.evaluate("window.__twin3d.proposals.draftMeasures") == ["add_facility"]
    assert tool.get_attribute("aria-pressed") == "false"
    measure = form.locator("li.measure")
    capacity = measure.get_by_label("Plätze")
    assert capacity.evaluate("e => e === document.activeElement")  # the next thing to enter
    assert capacity.input_value() == "75"
    measure.get_by_label("Name").fill("Kita am Parkplatz")
    assert "erste Maßnahme" in pg.locator("#proposal-where").inner_text()

    pg.get_by_role("button", name="Vorschlag einreichen").click()
    pg.wait_for_function("window.__twin3d.proposals.submitted !== null")
    created: dict[str, Any] = pg.evaluate("window.__twin3d.proposals.submitted")
    assert "nach einer Prüfung" in pg.locator("#proposal-form-status").inner_text()
    assert pg.locator("#proposal-form").is_hidden()
    return created


def _stored_as_drawn(url: str, admin: dict[str, str], created: dict[str, Any]) -> str:
    """The proposal waits for moderation, with its Kita stored as an unlisted scenario where it was clicked."""
    assert (created["title"], created["topic"], created["status"]) == (TITLE, "social", "new")
    assert created["stage"] == "under_review"
    stored = json_call(f"{url}/api/twins/lauf/proposals/{created['proposal_id']}", headers=admin)
    assert stored["text"] == TEXT
    scenario_id: str = stored["scenario_id"]
    spec = json_call(f"{url}/api/twins/lauf/scenarios/{scenario_id}")["spec"]
    (kita,) = spec["measures"]
    assert (kita["kind"], kita["facility"], kita["capacity"], kita["name"]) == (
        "add_facility",
        "kita",
        75,
        "Kita am Parkplatz",
    )
    lon, lat = kita["location"]["coordinates"]
    assert abs(lon - PARKING[0]) < 7e-5  # the click landed where it was aimed (< 5 m)
    assert abs(lat - PARKING[1]) < 5e-5
    assert stored["location"] == {"lon": lon, "lat": lat}  # the place of a proposal without one: its first measure
    listed = [s["scenario_id"] for s in json_call(f"{url}/api/twins/lauf/scenarios")]
    assert scenario_id not in listed  # a citizen's scenario is reachable by its id, not listed
    return scenario_id


def _sign_in(pg: Page, token: str) -> None:
    field = pg.get_by_label("Anmelden (Token)")
    field.fill(token)
    field.press("Enter")
    pg.wait_for_function("window.__twin3d.proposals.admin === true")


def _item(proposal_id: int) -> str:
    """JavaScript: the proposal's item in the list (or undefined)."""
    return f"document.querySelector(\"#proposals-list li[data-proposal-id='{proposal_id}']\")"


def _moderate_and_simulate(pg: Page, proposal_id: int) -> None:
    """The administration finds the proposal among the unreviewed ones, shows it, and has it simulated."""
    pg.locator("#proposals-status").select_option("new")
    pg.wait_for_function(f"window.__twin3d.proposals.listed.includes({proposal_id})")
    item = pg.locator(f"#proposals-list li[data-proposal-id='{proposal_id}']")
    assert item.get_attribute("data-status") == "new"
    item.locator(".place-head").click()
    admin = pg.locator(f"#proposal-{proposal_id}-admin")
    admin.get_by_role("button", name="Zeigen").click()
    pg.wait_for_function("window.__twin3d.proposals.last?.status === 'visible'")
    pg.locator("#proposals-status").select_option("")
    pg.wait_for_function(f"{_item(proposal_id)}?.dataset.status === 'visible'")
    # Under review, the administration already sees what the simulation would say; the public does not.
    pg.wait_for_function("window.__twin3d.proposals.effects?.state === 'ready'", timeout=TIMEOUT_MS)
    admin = pg.locator(f"#proposal-{proposal_id}-admin")
    admin.get_by_label("Stand", exact=True).select_option("simulated")
    admin.get_by_label("Begründung des Stands (öffentlich)").fill("Geprüft und berechnet.")
    admin.get_by_role("button", name="Stand speichern").click()
    pg.wait_for_function("window.__twin3d.proposals.stage?.stage === 'simulated'", timeout=TIMEOUT_MS)
    pg.wait_for_function(f"{_item(proposal_id)}?.dataset.stage === 'simulated'")
    assert "Stand gespeichert: berechnet" in pg.locator(f"#proposal-{proposal_id}-admin").inner_text()


def _verdicts(pg: Page, proposal_id: int, scenario_id: str) -> dict[str, str]:
    """The proposal's page: stage with its reason, and the verdict per persona (young families better)."""
    pg.wait_for_function(
        f"window.__twin3d.proposals.effects?.proposal_id === {proposal_id}"
        " && window.__twin3d.proposals.effects.state === 'ready'",
        timeout=TIMEOUT_MS,
    )
    body = pg.locator(f"#proposal-{proposal_id}-body")
    assert "Stand: berechnet" in body.inner_text()
    assert "Begründung: Geprüft und berechnet." in body.inner_text()
    effects = body.locator(f"#proposal-{proposal_id}-effects")
    rows = effects.locator("li.effect")
    verdicts = {
        str(rows.nth(i).get_attribute("data-persona")): str(rows.nth(i).get_attribute("data-verdict"))
        for i in range(rows.count())
    }
    young = effects.locator("li[data-persona=young_families]")
    assert young.get_attribute("data-verdict") == "better"
    assert "Junge Familien" in young.inner_text()
    assert "besser" in young.inner_text()
    assert "Kita" in young.locator(".effect-lines").inner_text()
    assert "Einwohner, die gewinnen" in effects.inner_text()
    assert effects.locator(f"button.for-me-open[data-scenario='{scenario_id}']").count() == 1
    return verdicts


def _for_me_as_a_young_family(pg: Page, ground: float, scenario_id: str) -> None:
    """ "Wie betrifft mich das?": persona young families, a click on one's home near the Kita, and the answer."""
    pg.locator(f"button.for-me-open[data-scenario='{scenario_id}']").click()
    pg.wait_for_function("window.__twin3d.forMeState === 'ready'")
    assert pg.locator("#for-me-panel").is_visible()
    pg.wait_for_function("document.querySelector('#for-me-persona option[value=young_families]') !== null")
    pg.locator("#for-me-persona").select_option("young_families")
    pg.locator("#for-me-home").click()
    pg.wait_for_function("window.__twin3d.forMeArmed === true")
    x, y = _pixel(pg, HOME[0], HOME[1], ground)
    click_until(pg, _map_box(pg), x, y, "window.__twin3d.forMeHome === true")
    runs = pg.evaluate("window.__twin3d.forMeRuns")
    pg.locator("#for-me-run").click()
    pg.wait_for_function(f"window.__twin3d.forMeRuns > {runs}", timeout=TIMEOUT_MS)
    result = pg.locator("#for-me-result")
    assert result.get_attribute("data-verdict") == "better", pg.locator("#for-me-panel").inner_text()
    assert result.locator("li[data-facility=kita][data-verdict=better]").count() >= 1
    assert "Junge Familien" in pg.locator("#for-me-summary").inner_text()
    # Nothing of this is kept in the browser: no home point in its storage.
    kept = pg.evaluate("JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
    assert f"{HOME[1]:.3f}" not in kept


def test_a_drawn_kita_is_moderated_simulated_and_a_young_family_nearby_gains(
    page: tuple[Page, PageWatch],
    proposals_server: tuple[str, str],
    browser: Browser,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    pg, watch = page
    url, token = proposals_server
    admin = {"Authorization": f"Bearer {token}"}

    # A citizen drafts the proposal with a Kita drawn on the parking lot.
    ground = _open(pg, url)
    created = _draft_with_a_kita(pg, ground)
    proposal_id = int(created["proposal_id"])
    scenario_id = _stored_as_drawn(url, admin, created)
    assert _status(f"{url}/api/twins/lauf/proposals/{proposal_id}") == 404  # not public before moderation
    assert proposal_id not in pg.evaluate("window.__twin3d.proposals.listed")
    pg.screenshot(path=str(tmp_path / "proposal-drafted.png"))
    watch.assert_clean()

    # The administration (a page of its own, signed in with its token) shows it and has it simulated.
    with watched_page(browser, url, tmp_path, request) as (office, office_watch):
        _open(office, url)
        _sign_in(office, token)
        _moderate_and_simulate(office, proposal_id)
        _verdicts(office, proposal_id, scenario_id)
        office.screenshot(path=str(tmp_path / "proposal-administration.png"))
        office_watch.assert_clean()
    stored = json_call(f"{url}/api/twins/lauf/proposals/{proposal_id}")
    assert (stored["status"], stored["stage"]) == ("visible", "simulated")
    assert stored["gainers"] > 0

    # Another citizen (a fresh browser context, no token) finds it first when sorted by residents who gain.
    with watched_page(browser, url, tmp_path, request) as (other, other_watch):
        ground = _open(other, url)
        other.locator("#proposals-sort").select_option("gainers")
        other.wait_for_function(f"window.__twin3d.proposals.listed[0] === {proposal_id}")
        other.locator(f"#proposal-{proposal_id}-head").click()
        verdicts = _verdicts(other, proposal_id, scenario_id)
        effects = json_call(f"{url}/api/twins/lauf/proposals/{proposal_id}/effects")
        assert verdicts == {row["persona"]: row["verdict"] or "none" for row in effects["personas"]}
        assert other.locator(f"#proposal-{proposal_id}-admin").count() == 0  # no administration box
        other.wait_for_function("window.__twin3d.proposals.shownMeasures.join() === 'add_facility'")  # on the map
        _for_me_as_a_young_family(other, ground, scenario_id)
        other.screenshot(path=str(tmp_path / "proposal-for-me.png"))
        # The page's permalink opens the same proposal.
        other.wait_for_function(f"location.hash.includes('proposal={proposal_id}')")
        other_watch.assert_clean()


PAYLOAD = "<img src=x onerror=window.__pwned=1>"
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


def _tab_to(pg: Page, selector: str, limit: int = 30) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        if pg.evaluate(f"document.activeElement === document.querySelector({selector!r})"):
            return
        pg.keyboard.press("Tab")
    raise AssertionError(f"Tab did not reach {selector}")


def _pan(pg: Page, key: str) -> None:
    """Move the map with an arrow key (the canvas focused) and wait until it rests."""
    before = pg.evaluate(f"String({CENTRE_JS})")
    pg.locator("#deck-container canvas").focus()
    for _ in range(3):
        pg.keyboard.press(key)
    pg.wait_for_function(f"String({CENTRE_JS}) !== {before!r}")
    pg.evaluate(CENTRE_STILL_JS)


def _area_by_keyboard(pg: Page) -> None:
    """ "Gebiet zeichnen", then a point at the map centre three times (panning between), then "Fläche schließen"."""
    _tab_to(pg, "[data-proposal-tool=area]")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.proposals.tool === 'area'")
    assert pg.evaluate("document.activeElement.id") == "proposal-draw-centre"
    for i, key in enumerate(("", "ArrowRight", "ArrowDown")):
        if key:
            _pan(pg, key)
            pg.locator("#proposal-draw-centre").focus()
        pg.keyboard.press("Enter")
        pg.wait_for_function(f"window.__twin3d.proposals.drawnPoints.length === {i + 1}")
    assert "3 Punkte" in pg.locator("#proposal-draw-hint").inner_text()
    _tab_to(pg, "#proposal-draw-finish")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.proposals.draftArea === true && window.__twin3d.proposals.tool === null")
    assert pg.evaluate("document.activeElement.dataset.proposalTool") == "area"
    assert "Gebiet, etwa" in pg.locator("#proposal-where").inner_text()


def test_keyboard_area_rejection_payloads_and_english(
    page: tuple[Page, PageWatch], proposals_server: tuple[str, str], tmp_path: Path
) -> None:
    pg, watch = page
    url, token = proposals_server
    _open(pg, url)
    pg.locator("#proposals-toggle").focus()  # already expanded by _open: Tab on from its toggle
    _tab_to(pg, "#proposal-start")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.proposals.drafting === true")
    pg.keyboard.type(PAYLOAD)  # the title has the focus
    pg.keyboard.press("Tab")
    pg.keyboard.press("m")  # type-ahead to Mobilität (no topic is preselected: "Bitte wählen")
    pg.keyboard.press("Tab")
    pg.keyboard.type(f"{PAYLOAD}\nEin Zebrastreifen im ganzen Viertel.")
    _area_by_keyboard(pg)
    _tab_to(pg, "#proposal-submit")
    pg.keyboard.press("Enter")
    pg.wait_for_function("window.__twin3d.proposals.submitted !== null")
    created = pg.evaluate("window.__twin3d.proposals.submitted")
    assert (created["title"], created["topic"], created["status"]) == (PAYLOAD, "mobility", "new")
    assert created["area"]["type"] == "Polygon"
    assert created["scenario_id"] is None  # no measures: nothing to simulate
    assert pg.evaluate("document.activeElement.id") == "proposal-start"

    # The administration, in the same page: the proposal is listed as text, its area on the map; it is rejected.
    _sign_in(pg, token)
    pid = created["proposal_id"]
    pg.wait_for_function(f"window.__twin3d.proposals.listed.includes({pid})")
    assert PAYLOAD in pg.locator(f"#proposal-{pid}-head").inner_text()
    pg.locator(f"#proposal-{pid}-head").click()
    body = pg.locator(f"#proposal-{pid}-body")
    pg.wait_for_function("window.__twin3d.proposals.effects?.state === 'none'")
    assert "keine Maßnahme" in body.locator(f"#proposal-{pid}-effects").inner_text()
    admin = body.locator(f"#proposal-{pid}-admin")
    admin.get_by_label("Stand", exact=True).select_option("rejected")
    admin.get_by_role("button", name="Stand speichern").click()
    assert "Begründung nötig" in admin.locator(f"#proposal-{pid}-stage-reason-error").inner_text()
    assert pg.evaluate("document.activeElement.id") == f"proposal-{pid}-stage-reason"
    pg.keyboard.type(PAYLOAD)
    pg.keyboard.press("Enter")  # sends the stage form
    pg.wait_for_function("window.__twin3d.proposals.stage?.stage === 'rejected'")
    pg.wait_for_function(f"{_item(pid)}?.dataset.stage === 'rejected'")
    assert f"Begründung: {PAYLOAD}" in body.inner_text()
    assert body.locator(".place-text").inner_text().startswith(PAYLOAD)
    assert pg.evaluate("window.__pwned") is None
    assert pg.locator("#sidebar img, #sidebar script").count() == 0
    pg.screenshot(path=str(tmp_path / "proposal-rejected.png"))

    # English: the panel, the stage and the page in the other language.
    pg.get_by_role("button", name="English").click()
    assert pg.locator("#proposals-toggle").inner_text().strip() == "Proposals"
    assert "Stage: rejected" in body.inner_text()
    assert "rejected" in pg.locator(f"#proposal-{pid}-head").inner_text()
    assert "no measure" in body.locator(f"#proposal-{pid}-effects").inner_text()
    pg.get_by_role("button", name="Deutsch").click()
    watch.assert_clean()
