"""Models of planned buildings over HTTP: upload (once per content, rate-limited like scenarios), the file served
as immutable, its metadata, refusals as 4xx that change nothing, and a scenario that places a model."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.layers.glb import BOX, BOX_DRACO, box_model
from tests.server.revalidation import assert_revalidates
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.access import MATRIX, PUBLIC
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ScenarioSettings, ServerSettings

API = "/api/twins/lauf"
TOWER = box_model((-6, 0, -6), (6, 30, 6))  # 12 m x 12 m, 30 m high, round its origin


@pytest.fixture
def paths(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> PathSettings:
    store_dir = tmp_path / "var"
    store_dir.mkdir()
    for name in ("lauf.duckdb", "lauf.privacy-key"):
        (store_dir / name).symlink_to((demo_paths.store_dir / name).resolve())
    return PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)


@pytest.fixture
def client(paths: PathSettings) -> Iterator[TestClient]:
    with TestClient(create_app(ServerSettings(), paths)) as c:
        yield c


def _upload(client: TestClient, data: bytes, name: str = "turm.glb", **headers: str) -> Any:
    return client.post(f"{API}/models", files={"file": (name, io.BytesIO(data), "model/gltf-binary")}, headers=headers)


def _files(paths: PathSettings) -> list[str]:
    folder = paths.store_dir / "models"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_the_public_uploads_a_model_once_and_gets_it_back(client: TestClient, paths: PathSettings) -> None:
    response = _upload(client, TOWER)
    assert response.status_code == 201, response.text
    meta = response.json()
    assert (meta["height_m"], meta["footprint_m2"], meta["name"]) == (30, 144, "turm.glb")
    assert response.headers["location"] == meta["url"] == f"{API}/models/{meta['model_id']}"
    again = _upload(client, TOWER, "anders.glb")
    assert again.status_code == 200
    assert again.json() == meta  # the same bytes: the model stored first, nothing new
    assert _files(paths) == [f"lauf/{meta['model_id']}.glb", f"lauf/{meta['model_id']}.json"]

    glb = client.get(meta["glb"])
    assert glb.status_code == 200
    assert glb.content == TOWER
    assert glb.headers["content-type"] == "model/gltf-binary"
    assert glb.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert_revalidates(client, meta["glb"], glb.headers["etag"])
    assert client.get(meta["url"]).json() == meta


def test_unknown_models_are_404_and_malformed_ids_422(client: TestClient) -> None:
    assert client.get(f"{API}/models/{'0' * 64}").status_code == 404
    assert client.get(f"{API}/models/{'0' * 64}.glb").status_code == 404
    assert client.get(f"{API}/models/..%2F..%2Fusers.json").status_code in (404, 422)
    assert client.get(f"{API}/models/ABC.glb").status_code == 422
    assert client.get("/api/twins/nirgends/models/" + "0" * 64).status_code == 404


@pytest.mark.parametrize(
    ("data", "words", "record"),
    [
        (BOX_DRACO.read_bytes(), "KHR_draco_mesh_compression", "/extensionsUsed"),
        (BOX.read_bytes()[:-64], "truncated", "header"),
        (b"<html>not a model</html>" * 4, "not a glTF binary", "header"),
    ],
)
def test_a_bad_model_is_a_422_naming_the_problem_and_changes_nothing(
    client: TestClient, paths: PathSettings, data: bytes, words: str, record: str
) -> None:
    response = _upload(client, data)
    assert response.status_code == 422
    body = response.json()
    assert words in body["error"]
    assert body["record"] == record
    assert body["hint"]
    assert str(paths.store_dir) not in response.text
    assert _files(paths) == []


def test_an_empty_upload_is_refused(client: TestClient) -> None:
    assert _upload(client, b"").status_code == 422


def test_an_upload_above_25_mb_is_refused_while_it_streams(client: TestClient, paths: PathSettings) -> None:
    response = _upload(client, b"glTF" + b"\0" * (27 * 1024 * 1024))
    assert response.status_code == 413
    assert _files(paths) == []


def test_every_role_may_upload_as_it_may_store_a_scenario(client: TestClient, paths: PathSettings) -> None:
    assert MATRIX[("POST", "/api/twins/{twin}/models")] == MATRIX[("POST", "/api/twins/{twin}/scenarios")] == PUBLIC
    assert MATRIX[("GET", "/api/twins/{twin}/models/{model_id}.glb")] == PUBLIC
    _, council = add_user(paths.users_file, "rat", "council")
    assert _upload(client, TOWER, Authorization=f"Bearer {council}").status_code == 201
    assert _upload(client, BOX.read_bytes(), Authorization="Bearer falsch").status_code == 401


def test_new_models_are_rate_limited_like_new_scenarios(paths: PathSettings) -> None:
    limits = ScenarioSettings(per_hour=1, burst=2)
    with TestClient(create_app(ServerSettings(), paths, scenario_limits=limits)) as c:
        assert _upload(c, TOWER).status_code == 201
        assert _upload(c, BOX.read_bytes()).status_code == 201
        assert _upload(c, TOWER).status_code == 200  # known bytes cost nothing
        refused = _upload(c, box_model((0, 0, 0), (5, 5, 5)))
        assert refused.status_code == 429
        assert "retry-after" in refused.headers


def _placing(model_id: str) -> dict[str, Any]:
    model = {"model_id": model_id, "location": {"type": "Point", "coordinates": [11.2775, 49.5098]}, "rotation_deg": 30}
    return {"name": "Turm am Markt", "measures": [{"kind": "planned_building", "model": model, "use": "residential"}]}


def test_a_scenario_placing_an_unknown_model_is_refused_naming_the_field(client: TestClient) -> None:
    response = client.post(f"{API}/scenarios", json=_placing("c" * 64))
    assert response.status_code == 422
    assert response.json()["record"] == "measures.0.model.model_id"


def test_a_scenario_placing_an_uploaded_model_is_stored(client: TestClient) -> None:
    model_id = _upload(client, TOWER).json()["model_id"]
    response = client.post(f"{API}/scenarios", json=_placing(model_id))
    assert response.status_code == 201, response.text
    assert response.json()["scenario_id"]
