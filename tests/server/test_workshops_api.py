"""Workshop codes through HTTP: a room of 40 behind one address takes part; without a code the limits hold; refusals
name their reason in German and English."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from tests.conftest import free_port, serving
from twin3d.auth.users import add_user
from twin3d.cli import main
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import ParticipationSettings, PathSettings, ServerSettings

pytestmark = pytest.mark.usefixtures("live_settings")  # both live-store backends

API = "/api/twins/lauf"


def place(title: str) -> dict[str, Any]:
    return {
        "kind": "improvable",
        "category": "mobility",
        "title": title,
        "text": "Hier fehlt ein Zebrastreifen.",
        "location": {"lon": 11.2780, "lat": 49.5100},
    }


@pytest.fixture
def paths(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> PathSettings:
    store_dir = tmp_path / "var"
    store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        (store_dir / f"{twin}.duckdb").symlink_to(demo_paths.store_file(twin).resolve())
    return PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)


def admin(paths: PathSettings) -> dict[str, str]:
    _, token = add_user(paths.users_file, "verwaltung", "admin")
    return {"Authorization": f"Bearer {token}"}


class Http:
    """JSON over a real TCP connection to the server (every request from 127.0.0.1: one address)."""

    def __init__(self, port: int) -> None:
        self.port = port

    def __call__(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        data = json.dumps(body).encode() if body is not None else b""
        try:
            conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
            response = conn.getresponse()
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, {k.lower(): v for k, v in response.getheaders()}
        finally:
            conn.close()


@pytest.fixture
def server(paths: PathSettings) -> Iterator[Http]:
    """The real server (uvicorn) with the default limits."""
    port = free_port()
    with serving(create_app(ServerSettings(port=port), paths), port):
        yield Http(port)


def test_forty_participants_behind_one_address_take_part_with_a_workshop_code(
    server: Http, paths: PathSettings
) -> None:
    boss = admin(paths)
    status, issued, _ = server(
        "POST", f"{API}/workshops", {"label": "Werkstatt Altstadt", "quota": 40, "hours": 3}, boss
    )
    assert status == 201, issued
    code = issued["code"]
    assert issued["quota"] == 40
    assert issued["joined"] == 0

    # Without a code the limit per address holds: five new participants, then a refusal in both languages.
    plain = [server("POST", f"{API}/participants") for _ in range(6)]
    assert [s for s, _, _ in plain] == [201] * 5 + [429]
    _, refused, headers = plain[-1]
    assert refused["reason"] == "participants"
    assert "Workshop-Code" in refused["message"]["de"]
    assert "workshop code" in refused["message"]["en"]
    assert refused["error"]
    assert refused["hint"]
    assert int(headers["retry-after"]) >= 1

    # With the code, 40 tablets behind the same router each get a token of their own ...
    joined = [
        server("POST", f"{API}/participants", {"workshop_code": code.lower().replace("-", " ")}) for _ in range(40)
    ]
    assert [s for s, _, _ in joined] == [201] * 40
    assert joined[0][1]["workshop"]["label"] == "Werkstatt Altstadt"
    tokens = [{"X-Participant-Token": body["token"]} for _, body, _ in joined]
    assert len({t["X-Participant-Token"] for t in tokens}) == 40
    # ... each posts (more than the 10 an address may at once) ...
    posted = [server("POST", f"{API}/places", place(f"Ort {i}"), t) for i, t in enumerate(tokens)]
    assert [s for s, _, _ in posted] == [201] * 40
    # ... and each votes on one place (more than the 5 an address may per place), one vote per participant.
    target = posted[0][1]["place_id"]
    votes = [server("POST", f"{API}/places/{target}/votes", {"value": 1}, t) for t in tokens]
    assert [s for s, _, _ in votes] == [200] * 40
    assert votes[-1][1]["up"] == 40
    again = [server("POST", f"{API}/places/{target}/votes", {"value": 1}, t)[1]["up"] for t in tokens[:5]]
    assert again == [40] * 5

    # The 41st is refused: the quota is named.
    status, full, _ = server("POST", f"{API}/participants", {"workshop_code": code})
    assert (status, full["reason"]) == (409, "workshop_full")
    assert "40" in full["message"]["de"]
    assert "Werkstatt Altstadt" in full["message"]["en"]
    # The room's votes do not use up the address's votes on the place for other citizens of that network.
    citizen = {"X-Participant-Token": plain[0][1]["token"]}
    assert server("POST", f"{API}/places/{target}/votes", {"value": -1}, citizen)[1]["down"] == 1

    status, listed, _ = server("GET", f"{API}/workshops", None, boss)
    assert status == 200
    assert [(w["label"], w["quota"], w["joined"], w["expired"]) for w in listed] == [
        ("Werkstatt Altstadt", 40, 40, False)
    ]
    assert code not in json.dumps(listed)
    assert "code" not in listed[0]
    assert code not in (paths.workshops_file).read_text(encoding="utf-8")  # only its hash is kept


@pytest.fixture
def make_client(paths: PathSettings) -> Iterator[Callable[..., TestClient]]:
    opened: list[TestClient] = []

    def make(settings: ParticipationSettings, address: str = "testclient") -> TestClient:
        client = TestClient(create_app(ServerSettings(), paths, settings), client=(address, 50000))
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def _issue(client: TestClient, boss: dict[str, str], twin: str = "lauf", **body: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/twins/{twin}/workshops", json={"label": "Runde", "quota": 5, "hours": 2, **body}, headers=boss
    )
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


def test_workshop_participants_keep_their_own_limits_and_share_one_bucket(
    make_client: Callable[..., TestClient], paths: PathSettings
) -> None:
    client = make_client(
        ParticipationSettings(
            posts_burst=2, posts_per_minute=0.01, participant_posts_burst=2, participant_posts_per_minute=0.01
        )
    )
    code = _issue(client, admin(paths), quota=2)["code"]
    one, two = (
        {"X-Participant-Token": client.post(f"{API}/participants", json={"workshop_code": code}).json()["token"]}
        for _ in range(2)
    )
    assert client.post(f"{API}/places", json=place("a"), headers=one).status_code == 201
    assert client.post(f"{API}/places", json=place("b"), headers=one).status_code == 201
    per_token = client.post(f"{API}/places", json=place("c"), headers=one)  # its own two are used up
    assert (per_token.status_code, per_token.json()["reason"]) == (429, "posts")
    assert client.post(f"{API}/places", json=place("d"), headers=two).status_code == 201
    shared = client.post(f"{API}/places", json=place("e"), headers=two)  # the workshop's 2 x 2 are used up
    assert (shared.status_code, shared.json()["reason"]) == (429, "workshop_posts")
    assert "Workshop" in shared.json()["message"]["de"]


def test_wrong_expired_foreign_and_withdrawn_codes(make_client: Callable[..., TestClient], paths: PathSettings) -> None:
    client = make_client(ParticipationSettings(workshop_code_attempts_burst=3, votes_per_place_per_address=1))
    boss = admin(paths)
    issued = _issue(client, boss)
    code = issued["code"]
    rostock = _issue(client, boss, twin="rostock")["code"]

    member = {"X-Participant-Token": client.post(f"{API}/participants", json={"workshop_code": code}).json()["token"]}
    wrong = client.post(f"{API}/participants", json={"workshop_code": "AAAA-BBBB-CCCC"})
    assert (wrong.status_code, wrong.json()["reason"], wrong.json()["record"]) == (
        422,
        "workshop_unknown",
        "workshop_code",
    )
    assert wrong.json()["message"]["de"].startswith("Diesen Workshop-Code gibt es nicht")
    assert client.post(f"{API}/participants", json={"workshop_code": rostock}).status_code == 422  # another twin's
    assert client.post(f"{API}/participants", json={"workshop_code": "ZZZZ"}).status_code == 422
    # Three wrong codes from this address: now every code is refused for a while, the right one too (no oracle).
    for attempt in (code, "AAAA-BBBB-CCCD"):
        locked = client.post(f"{API}/participants", json={"workshop_code": attempt})
        assert (locked.status_code, locked.json()["reason"]) == (429, "workshop_codes")
        assert "Retry-After" in locked.headers

    # An expired code: 410, named as such.
    data = json.loads(paths.workshops_file.read_text(encoding="utf-8"))
    data["workshops"][1]["expires_at"] = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    paths.workshops_file.write_text(json.dumps(data), encoding="utf-8")
    fresh = make_client(ParticipationSettings(), "198.51.100.7")  # another address: not locked out
    expired = fresh.post("/api/twins/rostock/participants", json={"workshop_code": rostock})
    assert (expired.status_code, expired.json()["reason"]) == (410, "workshop_expired")
    assert "abgelaufen" in expired.json()["message"]["de"]

    # Withdrawn: the code stops working and its participants are limited like everyone else.
    place_id = client.post(f"{API}/places", json=place("x"), headers=member).json()["place_id"]
    removed = client.delete(f"{API}/workshops/{issued['workshop_id']}", headers=boss)
    assert (removed.status_code, removed.json()["joined"]) == (200, 1)
    assert client.get(f"{API}/workshops", headers=boss).json() == []
    assert fresh.post(f"{API}/participants", json={"workshop_code": code}).status_code == 422
    other = {"X-Participant-Token": client.post(f"{API}/participants").json()["token"]}
    assert client.post(f"{API}/places/{place_id}/votes", json={"value": 1}, headers=other).status_code == 200
    capped = client.post(f"{API}/places/{place_id}/votes", json={"value": 1}, headers=member)
    assert (capped.status_code, capped.json()["reason"]) == (429, "votes_per_place")


def test_issuing_checks_its_values(make_client: Callable[..., TestClient], paths: PathSettings) -> None:
    client = make_client(ParticipationSettings(workshop_max_quota=50))
    boss = admin(paths)
    url = f"{API}/workshops"
    assert client.post(url, json={"label": "x", "quota": 51, "hours": 1}, headers=boss).status_code == 422
    assert client.post(url, json={"label": "x", "quota": 5}, headers=boss).status_code == 422  # no expiry
    both = {"label": "x", "quota": 5, "hours": 1, "expires_at": "2099-01-01T00:00:00Z"}
    assert client.post(url, json=both, headers=boss).status_code == 422
    past = {"label": "x", "quota": 5, "expires_at": "2020-01-01T00:00:00Z"}
    assert client.post(url, json=past, headers=boss).status_code == 422
    until = (datetime.now(UTC) + timedelta(hours=5)).isoformat()
    issued = client.post(url, json={"label": "  Bürger  forum ", "quota": 5, "expires_at": until}, headers=boss)
    assert issued.status_code == 201
    assert issued.json()["label"] == "Bürger forum"
    assert client.post(url, json={"label": "x", "quota": 5, "hours": 1}).status_code == 403  # the public
    assert client.get(url).status_code == 403


def test_the_cli_issues_lists_and_withdraws_codes_a_running_server_uses(
    make_client: Callable[..., TestClient], paths: PathSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWIN3D_STORE_DIR", str(paths.store_dir))
    monkeypatch.setenv("TWIN3D_PIPELINES_DIR", str(paths.pipelines_dir))
    client = make_client(ParticipationSettings())
    runner = CliRunner()
    added = runner.invoke(main, ["workshops", "add", "lauf", "--label", "Schule", "--quota", "30", "--hours", "4"])
    assert added.exit_code == 0, added.output
    code = added.stdout.strip().splitlines()[-1]
    assert len(code) == 14
    assert code.count("-") == 2
    joined = client.post(f"{API}/participants", json={"workshop_code": code})
    assert joined.status_code == 201
    assert joined.json()["workshop"]["label"] == "Schule"
    listed = runner.invoke(main, ["workshops", "list", "lauf"])
    assert "Schule" in listed.stdout
    assert "quota 30" in listed.stdout
    assert code not in listed.stdout
    workshop_id = listed.stdout.split()[0]
    assert (
        runner.invoke(main, ["workshops", "add", "atlantis", "--label", "x", "--quota", "3", "--hours", "1"]).exit_code
        == 5
    )
    assert runner.invoke(main, ["workshops", "add", "lauf", "--label", "x", "--quota", "3"]).exit_code == 3
    assert runner.invoke(main, ["workshops", "remove", "lauf", workshop_id]).exit_code == 0
    assert runner.invoke(main, ["workshops", "remove", "lauf", workshop_id]).exit_code == 5
    assert client.post(f"{API}/participants", json={"workshop_code": code}).status_code == 422
