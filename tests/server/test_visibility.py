"""The triple twin: scenarios and the finest population resolution carry a visibility, and a caller below it
finds nothing (a 404, never a hint that something is there)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from twin3d.auth.users import add_user
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

LAUF_QUARTER = {
    "kind": "new_housing",
    "area": {
        "type": "Polygon",
        "coordinates": [[[11.276, 49.509], [11.279, 49.509], [11.279, 49.511], [11.276, 49.511], [11.276, 49.509]]],
    },
    "dwellings": 40,
    "storeys": 4,
}


@pytest.fixture
def twin(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, Any]
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A server over the demo stores with a private live store and users file; the public keeps H3 res <= 9."""
    paths = PathSettings(
        pipelines_dir=demo_paths.pipelines_dir, store_dir=tmp_path / "var", tiles_dir=demo_paths.tiles_dir
    )
    paths.store_dir.mkdir()
    for name in ("lauf", "rostock"):
        paths.store_file(name).symlink_to(demo_paths.store_file(name).resolve())
        key = demo_paths.privacy_key_file(name)
        if key.is_file():
            paths.privacy_key_file(name).symlink_to(key.resolve())
    _, council = add_user(paths.users_file, "rat", "council")
    _, admin = add_user(paths.users_file, "amt", "admin")
    tokens = {"council": f"Bearer {council}", "admin": f"Bearer {admin}"}
    with TestClient(create_app(ServerSettings(public_max_h3_resolution=9), paths)) as client:
        yield client, tokens


def test_a_council_scenario_is_invisible_to_the_public(twin: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = twin
    council = {"Authorization": tokens["council"]}
    base = "/api/twins/lauf/scenarios"
    draft = {"name": "Ratsentwurf", "measures": [LAUF_QUARTER], "visibility": "council"}

    refused = client.post(base, json=draft)
    assert refused.status_code == 403  # the public cannot file for the council
    assert client.get(base).json() == []

    stored = client.post(base, json=draft, headers=council)
    assert stored.status_code == 201
    scenario_id = stored.json()["scenario_id"]
    public = client.post(base, json={**draft, "name": "Offen", "visibility": "public"})
    assert public.status_code == 201
    assert public.json()["scenario_id"] != scenario_id

    assert client.get(base).json() == []  # what the public stores is unlisted
    assert [s["name"] for s in client.get(base, headers=council).json()] == ["Ratsentwurf"]
    for suffix in ("", "/results", "/results.csv", "/results.geojson", "/report.html"):
        assert client.get(f"{base}/{scenario_id}{suffix}").status_code == 404, suffix
    assert client.get(f"{base}/{scenario_id}", headers=council).json()["spec"]["visibility"] == "council"
    results = client.get(f"{base}/{scenario_id}/results", headers={"Authorization": tokens["admin"]})
    assert results.status_code == 200
    assert results.json()["summary"]["households_added"] > 0


def test_what_the_public_stores_is_a_permalink_and_listed_only_by_the_administration(
    twin: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = twin
    admin, council = {"Authorization": tokens["admin"]}, {"Authorization": tokens["council"]}
    base = "/api/twins/lauf/scenarios"
    names = [f"Spam {i}" for i in range(3)]
    ids = [client.post(base, json={"name": n, "measures": [LAUF_QUARTER]}).json()["scenario_id"] for n in names]
    assert client.get(base).json() == []
    assert client.get(base, headers=admin).json() == []
    assert client.get(f"{base}/{ids[0]}").json()["listed"] == 0  # the permalink works
    assert client.get(f"{base}/{ids[0]}/results").status_code == 200
    assert client.get(f"{base}?unlisted=true").status_code == 403
    everything = client.get(f"{base}?unlisted=true", headers=admin).json()
    assert [s["scenario_id"] for s in everything] == ids[::-1]

    assert client.post(f"{base}/{ids[1]}/listing", json={"listed": True}).status_code == 403
    listed = client.post(f"{base}/{ids[1]}/listing", json={"listed": True}, headers=admin)
    assert listed.status_code == 200
    assert listed.json()["listed"] == 1
    assert [s["name"] for s in client.get(base).json()] == ["Spam 1"]
    again = client.post(base, json={"name": "Spam 2", "measures": [LAUF_QUARTER]}, headers=council)
    assert again.status_code == 200  # the council saving the same scenario lists it
    assert [s["name"] for s in client.get(base).json()] == ["Spam 2", "Spam 1"]
    missing = client.post(f"{base}/{'0' * 64}/listing", json={"listed": False}, headers=admin)
    assert missing.status_code == 404


def test_a_public_scenario_keeps_the_id_it_had_before_visibilities(twin: tuple[TestClient, dict[str, str]]) -> None:
    from twin3d.simulation.scenario import ScenarioSpec  # noqa: PLC0415

    spec = ScenarioSpec.model_validate({"name": "x", "measures": [LAUF_QUARTER]})
    assert '"visibility"' not in spec.canonical_json()
    council = ScenarioSpec.model_validate({"name": "x", "measures": [LAUF_QUARTER], "visibility": "council"})
    assert council.content_hash() != spec.content_hash()


def test_the_finest_population_resolution_is_kept_for_the_council(twin: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = twin
    url = "/api/twins/rostock/population/h3"
    assert client.get(url, params={"resolution": 9}).status_code == 200
    refused = client.get(url, params={"resolution": 10})
    assert refused.status_code == 403
    assert refused.json()["record"] == "resolution"
    council = client.get(url, params={"resolution": 10}, headers={"Authorization": tokens["council"]})
    assert council.status_code == 200
    assert len(council.text.splitlines()) > 100
    assert client.get("/api/twins/rostock/population/summary").json()["max_resolution"] == 9
    summary = client.get("/api/twins/rostock/population/summary", headers={"Authorization": tokens["council"]})
    assert summary.json()["max_resolution"] == 10
