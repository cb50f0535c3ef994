"""Scenario submissions through HTTP: rate-limited per address, token and user, size-limited, versions per name and
visibility; and every CSV the server writes opens as data with either separator."""

from __future__ import annotations

import csv
import http.client
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import free_port, serving
from tests.test_csvsafe import formula_cells
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import ParticipationSettings, PathSettings, ScenarioSettings, ServerSettings

API = "/api/twins/lauf"
QUARTER = [[11.2760, 49.5090], [11.2790, 49.5090], [11.2790, 49.5105], [11.2760, 49.5105], [11.2760, 49.5090]]


def spec(name: str, dwellings: int = 120, *, ring: list[list[float]] | None = None, **extra: Any) -> dict[str, Any]:
    area = {"type": "Polygon", "coordinates": [ring or QUARTER]}
    measures = [{"kind": "new_housing", "area": area, "storeys": 4, "dwellings": dwellings}]
    return {"name": name, "measures": measures, **extra}


def circle(n: int) -> list[list[float]]:
    """A drawn outline with ``n`` vertices inside the quarter."""
    ring = [
        [
            round(11.2775 + 0.0012 * math.cos(2 * math.pi * i / n), 7),
            round(49.5097 + 0.0006 * math.sin(2 * math.pi * i / n), 7),
        ]
        for i in range(n)
    ]
    return [*ring, ring[0]]


@pytest.fixture
def paths(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> PathSettings:
    store_dir = tmp_path / "var"
    store_dir.mkdir()
    (store_dir / "lauf.duckdb").symlink_to(demo_paths.store_file("lauf").resolve())
    (store_dir / "lauf.privacy-key").symlink_to(demo_paths.privacy_key_file("lauf").resolve())
    return PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)


@pytest.fixture
def client(paths: PathSettings) -> Iterator[TestClient]:
    """The app with the default limits."""
    with TestClient(create_app(ServerSettings(), paths)) as c:
        yield c


def bearer(paths: PathSettings, role: str) -> dict[str, str]:
    _, token = add_user(paths.users_file, f"{role}-user", role)
    return {"Authorization": f"Bearer {token}"}


def test_a_hundred_public_posts_in_a_row_get_429_a_planner_does_not(client: TestClient, paths: PathSettings) -> None:
    statuses = [client.post(f"{API}/scenarios", json=spec(f"Variante {i}")).status_code for i in range(100)]
    assert statuses == [201] * 10 + [429] * 90  # the default: 10 at once, then 10 an hour
    refused = client.post(f"{API}/scenarios", json=spec("Noch eine"))
    assert 300 <= int(refused.headers["Retry-After"]) <= 400
    body = refused.json()
    assert body["reason"] == "scenarios"
    assert "Szenarien" in body["message"]["de"]
    assert "scenarios" in body["message"]["en"]
    # A scenario stored before is found again at no cost, while the address is limited (results stay cached).
    assert client.post(f"{API}/scenarios", json=spec("Variante 3")).status_code == 200
    # The council is limited per user, far above what a planner needs.
    council = bearer(paths, "council")
    planned = [client.post(f"{API}/scenarios", json=spec(f"Rat {i}"), headers=council).status_code for i in range(30)]
    assert planned == [201] * 30


def test_a_participant_token_has_its_own_limit_across_addresses(paths: PathSettings, demo_paths: PathSettings) -> None:
    """Behind a trusted proxy each forwarded address has its own bucket, and so has each token across them."""
    port = free_port()
    app = create_app(
        ServerSettings(port=port, trusted_proxies="127.0.0.1"),
        paths,
        ParticipationSettings(),
        scenario_limits=ScenarioSettings(burst=3, per_hour=1),
    )

    def post(name: str, headers: dict[str, str]) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request(
                "POST",
                f"{API}/scenarios",
                body=json.dumps(spec(name)),
                headers={"Content-Type": "application/json", **headers},
            )
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    with serving(app, port):
        assert [post(f"A{i}", {"X-Forwarded-For": "203.0.113.1"}) for i in range(4)] == [201, 201, 201, 429]
        assert post("B0", {"X-Forwarded-For": "203.0.113.2"}) == 201  # another address
        token = {"X-Participant-Token": "t" * 32}
        by_token = [post(f"T{i}", {"X-Forwarded-For": f"198.51.100.{i}", **token}) for i in range(4)]
        assert by_token == [201, 201, 201, 429]


def test_bodies_above_the_cap_get_413_and_drawn_outlines_fit(paths: PathSettings) -> None:
    drawn = spec("Gezeichnet", ring=circle(2000))  # a finely drawn outline: about 60 KB
    assert 40_000 < len(json.dumps(drawn)) < 512 * 1024
    with TestClient(create_app(ServerSettings(), paths)) as c:
        assert c.post(f"{API}/scenarios", json=drawn).status_code == 201
        huge = spec("Riesig", ring=circle(30_000))  # 10 000 positions per ring at most: refused by size first
        assert len(json.dumps(huge)) > 512 * 1024
        assert c.post(f"{API}/scenarios", json=huge).status_code == 413
    with TestClient(create_app(ServerSettings(), paths, scenario_limits=ScenarioSettings(max_body_bytes=16_384))) as c:
        assert c.post(f"{API}/scenarios", json=drawn).status_code == 413
        assert c.post(f"{API}/scenarios", json=spec("Klein")).status_code == 201


def test_versions_count_per_name_and_visibility(client: TestClient, paths: PathSettings) -> None:
    council = bearer(paths, "council")
    draft = client.post(f"{API}/scenarios", json=spec("Plan Süd", visibility="council"), headers=council).json()
    assert draft["version"] == 1
    # The public's scenario of the same name does not learn of the draft through its version.
    public = client.post(f"{API}/scenarios", json=spec("Plan Süd")).json()
    assert public["version"] == 1
    assert client.post(f"{API}/scenarios", json=spec("Plan Süd", 150)).json()["version"] == 2
    second = client.post(f"{API}/scenarios", json=spec("Plan Süd", 150, visibility="council"), headers=council)
    assert second.json()["version"] == 2
    assert [s["version"] for s in client.get(f"{API}/scenarios", headers=council).json()] == [2, 1]


HYPERLINK = 'a;=HYPERLINK("http://x/","klick")'


def test_every_csv_export_opens_as_data_with_either_separator(client: TestClient) -> None:
    token = {"X-Participant-Token": client.post(f"{API}/participants").json()["token"]}
    place = {
        "kind": "improvable",
        "category": "mobility",
        "title": HYPERLINK,
        "text": 'Komma, =1+1; "@SUMME(A1)"\n-2+3 \uff1dWEBSERVICE("http://x/")',
        "location": {"lon": 11.2780, "lat": 49.5100},
    }
    posted = client.post(f"{API}/places", json=place, headers=token)
    assert posted.status_code == 201, posted.text
    voted = client.post(f"{API}/places/{posted.json()['place_id']}/votes", json={"value": -1}, headers=token)
    assert voted.json()["score"] == -1

    places = client.get(f"{API}/places.csv").text
    assert formula_cells(places) == []
    row = next(csv.DictReader(io.StringIO(places)))
    assert row["title"] == 'a;\'=HYPERLINK("http://x/","klick")'  # the text is kept, made inert
    assert row["score"] == "-1"  # numbers stay numbers
    assert float(row["lon"]) == pytest.approx(11.278)

    scenario_id = client.post(f"{API}/scenarios", json=spec(HYPERLINK)).json()["scenario_id"]
    results = client.get(f"{API}/scenarios/{scenario_id}/results.csv")
    assert results.status_code == 200, results.text
    assert results.text.count("\n") > 1
    assert formula_cells(results.text) == []
