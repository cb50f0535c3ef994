"""The survey in a real browser against the real server: a citizen answers with an e-mail address, follows the link
from the mail (a real SMTP server) and reads that the answer counts; the administration reads the results, a count
of fewer than three persons as "< 3", and the free texts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import json_call, watched_page
from tests.conftest import GENEROUS_PARTICIPATION, free_port, serving
from tests.server.surveys_support import API, SURVEY, Inbox, answers, mail_settings, smtp_server
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[tuple[str, str, Inbox]]:
    """(base URL, an administrator's token, the inbox) of a server with one open survey, answered with codes by
    five persons who come by bus and two by car."""
    store_dir = tmp_path / "var"
    store_dir.mkdir()
    (store_dir / "lauf.duckdb").symlink_to(demo_paths.store_file("lauf").resolve())
    _, admin = add_user(store_dir / "users.json", "verwaltung", "admin")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with smtp_server() as (inbox, smtp_port):
        app = create_app(ServerSettings(port=port), paths, GENEROUS_PARTICIPATION, mail=mail_settings(smtp_port, url))
        with serving(app, port) as base:
            bearer = {"Authorization": f"Bearer {admin}"}
            sid = json_call(f"{base}{API}/surveys", "POST", SURVEY, bearer)["survey_id"]
            json_call(f"{base}{API}/surveys/{sid}/state", "POST", {"state": "open"}, bearer)
            codes = json_call(f"{base}{API}/surveys/{sid}/codes", "POST", {"count": 7, "format": "json"}, bearer)
            for i, code in enumerate(codes["codes"]):
                body = {"answers": answers("bus" if i < 5 else "car"), "code": code}
                json_call(f"{base}{API}/surveys/{sid}/responses", "POST", body)
            yield base, admin, inbox


def test_a_citizen_answers_and_the_administration_reads_the_results(
    browser: Browser, server: tuple[str, str, Inbox], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url, admin, inbox = server
    with watched_page(browser, url, tmp_path, request) as (pg, watch):
        pg.goto(f"{url}/#twin=lauf")
        pg.wait_for_function("window.__twin3d.survey && window.__twin3d.survey.loads > 0")
        pg.click("#survey-toggle")
        expect(pg.locator("#survey-results")).to_contain_text("Die Ergebnisse erscheinen")  # open: none yet
        pg.check('[data-question="mode"] input[value="bike"]')
        pg.check('[data-question="wishes"] input[value="trees"]')
        pg.check('[data-question="safety"] input[value="4"]')
        pg.fill('[data-question="idea"] textarea', "Mehr Radwege am Fluss")
        pg.fill("#survey-email", "radlerin@example.org")
        pg.click("#survey-submit")
        pg.wait_for_function("window.__twin3d.survey.submitted === 'pending'")
        expect(pg.locator("#survey-status")).to_contain_text("E-Mail geschickt")

        inbox.wait(1)
        pg.goto("about:blank")  # a fresh load, as from the mail program
        pg.goto(f"{url}/#twin=lauf&survey-confirm={inbox.token()}")
        pg.wait_for_function("window.__twin3d.survey && window.__twin3d.survey.confirmed === 'confirmed'")
        expect(pg.locator("#survey-confirm")).to_contain_text("ist bestätigt und zählt")
        assert "survey-confirm" not in pg.evaluate("location.hash")  # the token leaves the address bar

        pg.evaluate("token => sessionStorage.setItem('twin3dToken', token)", admin)
        pg.reload()
        pg.wait_for_function("window.__twin3d.survey && window.__twin3d.survey.admin && window.__twin3d.survey.results")
        if pg.get_attribute("#survey-toggle", "aria-expanded") != "true":
            pg.click("#survey-toggle")
        mode = pg.locator('.survey-result[data-question="mode"]')
        # bus 5, car 2, bike 1 (hers): the two small ones withheld together, so 8 - 5 tells neither.
        expect(mode.locator('li[data-value="bus"] .survey-count')).to_have_text("5")
        expect(mode.locator('li[data-value="bike"] .survey-count')).to_have_text("< 3")
        expect(mode.locator('li[data-value="car"] .survey-count')).to_have_text("< 3")
        expect(pg.locator(".survey-texts")).to_contain_text("Mehr Radwege am Fluss")
        expect(pg.locator("#survey-admin-status")).to_contain_text("per E-Mail: 1")
        watch.assert_clean()
