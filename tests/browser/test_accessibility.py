"""axe-core (the npm copy in viewer/node_modules) over the viewer's main views, on a desktop and on a phone: the
start page with the layer catalogue, the population layer with its panel, the places and proposals panels, a
scenario's computed results, and an administrator's moderation detail. Every violation counts, whatever its
impact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, FloatRect, Page

from tests.browser.conftest import PageWatch, json_call, watched_page
from tests.conftest import GENEROUS_PARTICIPATION, REPO, free_port, private_paths, serving
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]
AXE = REPO / "viewer" / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 120_000
CENTRE = (11.2775, 49.5098)
KITA = {"kind": "add_facility", "facility": "kita", "capacity": 75, "location": {"type": "Point",
        "coordinates": list(CENTRE)}}  # fmt: skip
VIEWPORTS: dict[str, dict[str, Any]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True},
}
# What a violation is reported with: the rule, its impact, and where (the first few nodes).
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => `${n.target.join(" ")} :: ${n.failureSummary.split("\\n").slice(0, 2)}`),
  }));
}"""


@pytest.fixture(scope="module")
def axe_server(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[dict[str, Any]]:
    """A server of its own with an administrator, a stored scenario, and a place with a comment and a report."""
    root = tmp_path_factory.mktemp("axe")
    port = free_port()
    app = create_app(ServerSettings(port=port), private_paths(root, demo_paths, ("lauf",)), GENEROUS_PARTICIPATION)
    with serving(app, port) as url:
        _, token = add_user(root / "var" / "users.json", "moderator", "admin")
        api = f"{url}/api/twins/lauf"
        scenario = json_call(f"{api}/scenarios", "POST", {"name": "Kita am Markt", "measures": [KITA]})
        citizen = {"X-Participant-Token": json_call(f"{api}/participants", "POST")["token"]}
        body = {"kind": "improvable", "category": "mobility", "title": "Ampel fehlt", "text": "Vor der Schule.",
                "location": {"lon": CENTRE[0], "lat": CENTRE[1]}}  # fmt: skip
        place = json_call(f"{api}/places", "POST", body, citizen)["place_id"]
        admin = {"Authorization": f"Bearer {token}"}
        for text in ("Sehe ich auch so.", "Werbung"):
            comment = json_call(f"{api}/places/{place}/comments", "POST", {"text": text}, citizen)
        hide = {"action": "hide", "reason": "Werbung"}
        json_call(f"{api}/places/{place}/comments/{comment['comment_id']}/moderation", "POST", hide, admin)
        json_call(f"{api}/places/{place}/reports", "POST", {"reason": "off_topic"}, citizen)
        # A hidden place in the administration's list, and an answered one.
        for action in ({"action": "hide", "reason": "doppelt"}, {"action": "answer", "answer": "Wird geprüft."}):
            other = json_call(f"{api}/places", "POST", {**body, "title": action["action"]}, citizen)["place_id"]
            json_call(f"{api}/places/{other}/moderation", "POST", action, admin)
        yield {"url": url, "token": token, "scenario": scenario["scenario_id"], "place": place}


@pytest.fixture(params=list(VIEWPORTS))
def page(
    browser: Browser, axe_server: dict[str, Any], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Page, PageWatch]]:
    # bypass_csp: axe is injected as an inline script, which the viewer's Content-Security-Policy forbids.
    options = {**VIEWPORTS[request.param], "bypass_csp": True}
    with watched_page(browser, axe_server["url"], tmp_path, request, **options) as pair:
        yield pair


def _axe(pg: Page) -> list[dict[str, Any]]:
    if not pg.evaluate("typeof window.axe === 'object'"):
        pg.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = pg.evaluate(AXE_RUN)
    return violations


def _overlap(a: FloatRect | None, b: FloatRect | None) -> bool:
    if a is None or b is None:  # not shown
        return False
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def _expand(pg: Page, toggle: str) -> None:
    button = pg.locator(toggle)
    if button.get_attribute("aria-expanded") != "true":
        button.click()
    assert button.get_attribute("aria-expanded") == "true"


def test_no_axe_violations_on_the_main_views(page: tuple[Page, PageWatch], axe_server: dict[str, Any]) -> None:
    pg, watch = page
    url, place = axe_server["url"], axe_server["place"]
    pg.goto(f"{url}/#twin=lauf&view={CENTRE[0]},{CENTRE[1]},15.5,0,0&scenario={axe_server['scenario']}")
    pg.wait_for_function("window.__twin3d && window.__twin3d.twin === 'lauf' && window.__twin3d.frames > 0")
    pg.wait_for_function("window.__twin3d.places && window.__twin3d.places.loads > 0")
    pg.wait_for_function("window.__twin3d.scenarioState === 'done'", timeout=TIMEOUT_MS)
    found: dict[str, list[dict[str, Any]]] = {}
    found["start page and layer catalogue"] = _axe(pg)

    pg.get_by_label("Bevölkerung (Personas, H3)").check()
    pg.locator("#population-panel").wait_for(state="visible")
    pg.wait_for_function("window.__twin3d.populationDrawn > 0", timeout=TIMEOUT_MS)
    found["population layer and panel"] = _axe(pg)

    _expand(pg, "#places-toggle")
    pg.wait_for_function(f"window.__twin3d.places.listed.includes({place})")
    found["places panel"] = _axe(pg)

    _expand(pg, "#proposals-toggle")
    found["proposals panel"] = _axe(pg)

    _expand(pg, "#scenario-toggle")
    pg.locator("#scenario-kpis").wait_for(state="visible")
    found["scenario results"] = _axe(pg)

    # Side by side: each half's label is clear of the status pill and of the map's buttons ("Basis (heute)" sat
    # under the pill).
    pg.locator("#scenario-mode").get_by_text("Nebeneinander").click()
    pg.wait_for_function("window.__twin3d.compare === true")
    covers = [pg.locator("#status"), *pg.locator("#map-tools button").all()]
    for label in (pg.locator(".compare-left"), pg.locator(".compare-right")):
        for other in covers:
            assert not _overlap(label.bounding_box(), other.bounding_box()), (label.inner_text(), other.inner_text())
    found["scenario side by side"] = _axe(pg)

    field = pg.get_by_label("Anmelden (Token)")
    field.fill(axe_server["token"])
    field.press("Enter")
    pg.wait_for_function("window.__twin3d.moderation.admin === true")
    # Signed in, "Abmelden" shows its whole word (it was cut to "Abmel").
    assert pg.locator("#token-signout").evaluate("(b) => b.scrollWidth <= b.clientWidth && b.clientWidth > 0")
    pg.wait_for_function(f"window.__twin3d.moderation.places.some(p => p.place_id === {place})")
    pg.locator(f"#mod-place-{place}").click()
    pg.wait_for_function(f"window.__twin3d.moderation.detail?.place_id === {place}")
    found["moderation detail (administrator)"] = _axe(pg)

    violations = {view: v for view, v in found.items() if v}
    assert violations == {}, "\n".join(f"{view}: {v}" for view, v in violations.items())
    watch.assert_clean()
