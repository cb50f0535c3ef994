"""The authorisation matrix: every route is listed, and every role gets what the matrix says on every route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from twin3d.auth.users import ROLES, add_user, remove_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.access import MATRIX, PUBLIC, matrix_keys, request_role
from twin3d.server.app import create_app
from twin3d.settings import ParticipationSettings, PathSettings, ServerSettings

# A value for path parameters ("x" for others); allowed requests may still get 404 or 422, never 401 or 403.
SAMPLES = {
    "twin": "lauf",
    "level": "stadtteil",
    "building_id": "way/1",
    "tile_path": "tileset.json",
    "scenario_id": "0" * 64,
    "place_id": "1",
    "proposal_id": "1",
    "survey_id": "1",
    "comment_id": "1",
    "collection_id": "buildings",
    "feature_id": "1",
    "z": "0",
    "x": "0",
    "y": "0",
}
MOUNT_FILES = {"/js": "/js/main.js", "/vendor": "/vendor/none.js"}
LIMITLESS = ParticipationSettings(
    posts_per_minute=1e6,
    posts_burst=10**6,
    participant_posts_per_minute=1e6,
    participant_posts_burst=10**6,
    votes_per_minute=1e6,
    votes_burst=10**6,
    participants_per_hour=1e6,
    participants_burst=10**6,
)


def url_of(path: str) -> str:
    if path in MOUNT_FILES:
        return MOUNT_FILES[path]
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLES.get(m.group(1), "x"), path)


@pytest.fixture
def paths(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> PathSettings:
    store_dir = tmp_path / "var"
    store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        (store_dir / f"{twin}.duckdb").symlink_to(demo_paths.store_file(twin).resolve())
        (store_dir / f"{twin}.privacy-key").symlink_to(demo_paths.privacy_key_file(twin).resolve())
    return PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)


@pytest.fixture
def app(paths: PathSettings) -> FastAPI:
    return create_app(ServerSettings(), paths, LIMITLESS)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def bearer(paths: PathSettings, role: str, twins: list[str] | None = None) -> dict[str, str]:
    _, token = add_user(paths.users_file, f"{role}-{len(twins or [])}-{id(twins)}", role, twins)
    return {"Authorization": f"Bearer {token}"}


def test_every_route_is_in_the_matrix_and_nothing_else(app: FastAPI) -> None:
    keys = matrix_keys(app)
    assert [k for k in keys if k not in MATRIX] == [], "add these routes to twin3d.server.access.MATRIX"
    assert [k for k in MATRIX if k not in keys] == [], "these MATRIX entries name no route"
    assert all(roles <= PUBLIC and roles for roles in MATRIX.values())


def test_each_role_on_each_route_gets_what_the_matrix_says(
    client: TestClient, app: FastAPI, paths: PathSettings
) -> None:
    token = client.post("/api/twins/lauf/participants").json()["token"]
    participant = {"X-Participant-Token": token}
    place = {
        "kind": "happy",
        "category": "green",
        "title": "Park",
        "text": "Schön",
        "location": {"lon": 11.278, "lat": 49.51},
    }
    assert client.post("/api/twins/lauf/places", json=place, headers=participant).json()["place_id"] == 1
    assert client.post("/api/twins/lauf/places/1/comments", json={"text": "Ja"}, headers=participant).status_code == 201
    headers = {role: {**participant, **(bearer(paths, role) if role != "public" else {})} for role in ROLES}
    wrong: list[str] = []
    for method, path in matrix_keys(app):
        for role in ROLES:
            body = {} if method in ("POST", "PUT", "PATCH") else None
            response = client.request(method, url_of(path), headers=headers[role], json=body)
            allowed = role in MATRIX[(method, path)]
            if allowed and response.status_code in (401, 403):
                wrong.append(f"{role} {method} {path}: {response.status_code} {response.text[:100]}")
            if not allowed and response.status_code != 403:
                wrong.append(f"{role} {method} {path}: {response.status_code}, expected 403")
    assert wrong == []


def test_tokens_that_are_wrong_get_401(client: TestClient) -> None:
    for value in ("Bearer t3d_not-a-token", "Basic dXNlcjpwYXNz", "Bearer", "t3d_x"):
        response = client.get("/api/twins", headers={"Authorization": value})
        assert response.status_code == 401, value
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["hint"]


def test_a_user_can_be_limited_to_twins(client: TestClient, paths: PathSettings) -> None:
    rostock_admin = bearer(paths, "admin", ["rostock"])
    assert client.get("/api/twins/rostock/moderation/queue", headers=rostock_admin).status_code == 200
    refused = client.get("/api/twins/lauf/moderation/queue", headers=rostock_admin)
    assert refused.status_code == 403
    assert "no role in the twin 'lauf'" in refused.json()["error"]


def test_users_added_and_removed_while_the_server_runs(client: TestClient, paths: PathSettings) -> None:
    assert client.get("/api/twins/lauf/moderation/queue").status_code == 403
    _, token = add_user(paths.users_file, "verwaltung", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/twins/lauf/moderation/queue", headers=headers).status_code == 200
    remove_user(paths.users_file, "verwaltung")
    assert client.get("/api/twins/lauf/moderation/queue", headers=headers).status_code == 401


def test_routes_missing_from_the_matrix_are_refused_to_everyone(
    paths: PathSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(ServerSettings(), paths)

    def unlisted() -> dict[str, str]:
        return {"secret": "x"}

    def whoami(request: Request) -> dict[str, str]:
        return {"role": request_role(request)}

    app.add_api_route("/api/unlisted", unlisted, methods=["GET"])
    app.add_api_route("/api/whoami", whoami, methods=["GET"])
    monkeypatch.setitem(MATRIX, ("GET", "/api/whoami"), PUBLIC)
    with TestClient(app) as c:
        admin = bearer(paths, "admin")
        for headers in ({}, admin):
            response = c.get("/api/unlisted", headers=headers)
            assert response.status_code == 403
            assert "not in the access matrix" in response.json()["hint"]
        assert c.get("/api/whoami").json() == {"role": "public"}
        assert c.get("/api/whoami", headers=bearer(paths, "council")).json() == {"role": "council"}
        assert c.get("/api/whoami", headers=admin).json() == {"role": "admin"}
        assert c.delete("/api/twins").status_code == 405  # no route for the method: the router answers
        assert c.get("/api/nothing-here").status_code == 404
