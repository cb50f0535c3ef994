"""Surveys on a real server, ``twin3d serve --workers 2``, on both live-store backends: the double opt-in round trip
over HTTP with mail through a real SMTP server, one invitation code sent at once to both workers counts once, and
the server's own output (stdout and stderr of the supervisor and its workers) never holds the address."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.server.surveys_support import API, SURVEY, answers, smtp_server
from tests.server.test_surveys_privacy import found_in, store_bytes
from tests.services.server import call, serving_workers
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("live_settings")]

ADDRESS = "hans.hidden@post.example.net"


def test_round_trip_and_one_code_on_two_workers(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    store_dir = tmp_path / "var"
    store_dir.mkdir()
    (store_dir / "lauf.duckdb").symlink_to(demo_paths.store_file("lauf").resolve())
    _, token = add_user(store_dir / "users.json", "verwaltung", "admin")
    admin = {"Authorization": f"Bearer {token}"}
    log = tmp_path / "serve.log"
    with smtp_server() as (inbox, smtp_port):
        env = {
            "TWIN3D_SMTP_HOST": "127.0.0.1",
            "TWIN3D_SMTP_PORT": str(smtp_port),
            "TWIN3D_SMTP_FROM": "beteiligung@lauf.example",
            "TWIN3D_PUBLIC_URL": "https://lauf.example",
            "TWIN3D_PARTICIPATION_POSTS_PER_MINUTE": "100000",  # every request comes from 127.0.0.1
            "TWIN3D_PARTICIPATION_POSTS_BURST": "100000",
        }
        with serving_workers(store_dir, demo_paths, workers=2, env=env, log=log) as served:
            port = served.port
            status, made = call(port, "POST", f"{API}/surveys", SURVEY, admin)
            assert status == 201, made
            sid = made["survey_id"]
            assert call(port, "POST", f"{API}/surveys/{sid}/state", {"state": "open"}, admin)[0] == 200

            status, sent = call(
                port, "POST", f"{API}/surveys/{sid}/responses", {"answers": answers(), "email": ADDRESS}
            )
            assert (status, sent["status"]) == (202, "pending"), sent
            inbox.wait(1)
            assert "https://lauf.example/#twin=lauf&survey-confirm=" in inbox.messages[0].get_body().get_content()  # type: ignore[union-attr]
            status, done = call(port, "POST", f"{API}/surveys/confirmations", {"token": inbox.token()})
            assert (status, done["already"]) == (200, False), done
            again = [
                call(port, "POST", f"{API}/surveys/{sid}/responses", {"answers": answers(), "email": ADDRESS})[0]
                for _ in range(4)  # whichever worker answers
            ]
            assert again == [409] * 4

            status, issued = call(port, "POST", f"{API}/surveys/{sid}/codes", {"count": 1, "format": "json"}, admin)
            assert status == 201, issued
            body = {"answers": answers("bike"), "code": issued["codes"][0]}
            with ThreadPoolExecutor(8) as pool:  # one code, eight requests at once, spread over both workers
                statuses = sorted(
                    pool.map(lambda _: call(port, "POST", f"{API}/surveys/{sid}/responses", body)[0], range(8))
                )
            assert statuses == [201] + [409] * 7
            status, result = call(port, "GET", f"{API}/surveys/{sid}/results", headers=admin)
            assert (result["status"]["confirmed_email"], result["status"]["confirmed_code"]) == (1, 1)
    output = log.read_bytes()
    assert not found_in(output), output[-2000:]
    assert not found_in(store_bytes(store_dir))
