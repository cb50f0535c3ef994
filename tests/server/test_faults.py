"""A store that cannot be served disables its twin only; the other twins are served, and a rebuild brings it back."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.pipeline.small_twin import TWIN, build_small
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

NOT_A_STORE = "store cannot be opened: not a valid store file"
ROUTES = [
    "/api/twins/{twin}",
    "/api/twins/{twin}/grid.geojson",
    "/api/twins/{twin}/buildings/at?lon=6.5&lat=51.7",
    "/api/twins/{twin}/features/collections",
    "/tiles/{twin}/tileset.json",
]


def _paths(root: Path, demo_paths: PathSettings) -> PathSettings:
    """Lauf from the session's demo build (shared, read-only) beside a small twin of this test's own."""
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=root / "tiles")
    paths.store_dir.mkdir()
    paths.tiles_dir.mkdir()
    for name in ("lauf.duckdb", "lauf.privacy-key"):
        (paths.store_dir / name).symlink_to((demo_paths.store_dir / name).resolve())
    paths.tileset_dir("lauf").symlink_to(demo_paths.tileset_dir("lauf").resolve())
    build_small(paths)
    return paths


def _catalogue(api: TestClient) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in api.get("/api/twins").json()}


def _wait_for(api: TestClient, twin: str, available: bool) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        entry = _catalogue(api).get(twin)
        if entry is not None and entry["available"] is available:
            return entry
        time.sleep(0.2)
    raise AssertionError(f"{twin} not available={available} within 10 s")


def _assert_lauf_served(api: TestClient) -> None:
    assert api.get("/api/twins/lauf").status_code == 200
    assert api.get("/tiles/lauf/tileset.json").status_code == 200
    assert api.get("/api/twins/lauf/grid.geojson").status_code == 200


def test_garbage_in_a_store_disables_that_twin_until_it_is_rebuilt(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    paths = _paths(tmp_path, demo_paths)
    with TestClient(create_app(ServerSettings(), paths)) as api:
        assert _catalogue(api)[TWIN]["available"] is True

        paths.store_file(TWIN).write_bytes(os.urandom(64 * 1024))  # written over in place, like `cp junk`
        entry = _wait_for(api, TWIN, available=False)

        assert entry == {"name": TWIN, "title": TWIN, "available": False, "reason": NOT_A_STORE}
        listing = api.get("/api/twins").text
        assert str(tmp_path) not in listing
        assert str(os.getpid()) not in listing
        for route in ROUTES:
            response = api.get(route.format(twin=TWIN))
            assert response.status_code == 503, route
            assert response.json()["reason"] == NOT_A_STORE
            assert str(tmp_path) not in response.text
        _assert_lauf_served(api)

        build_small(paths)
        _wait_for(api, TWIN, available=True)
        for route in ROUTES:
            assert api.get(route.format(twin=TWIN)).status_code in (200, 404), route  # 404: no building there
        assert api.get(f"/tiles/{TWIN}/tileset.json").status_code == 200


def test_a_server_starts_beside_a_broken_store_and_lists_only_twin_stores(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    paths = _paths(tmp_path, demo_paths)
    (paths.store_dir / "junk.duckdb").write_bytes(b"")
    (paths.store_dir / "lauf.live.duckdb").write_bytes(b"not a build store")
    (paths.store_dir / "lauf.live.sqlite").write_bytes(b"not a build store")
    (paths.store_dir / f".{TWIN}.duckdb.12345.tmp").write_bytes(b"a build's staging")
    with TestClient(create_app(ServerSettings(), paths)) as api:
        catalogue = _catalogue(api)
        assert set(catalogue) == {"lauf", TWIN, "junk"}
        assert catalogue["junk"]["reason"] == NOT_A_STORE
        assert [t["name"] for t in api.get("/api/twins").json()][-1] == "junk"  # served twins come first
        _assert_lauf_served(api)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file without read permission")
def test_an_unreadable_store_is_reported_as_such(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    paths = _paths(tmp_path, demo_paths)
    paths.store_file(TWIN).chmod(0)
    try:
        with TestClient(create_app(ServerSettings(), paths)) as api:
            assert _catalogue(api)[TWIN]["reason"] == "store cannot be opened: permission denied"
            _assert_lauf_served(api)
    finally:
        paths.store_file(TWIN).chmod(0o644)


def test_a_damaged_live_store_stops_only_that_twins_participation(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    """Garbage in ``lauf.live.sqlite``: Lauf's places answer 503 without a path; its map, and the other twin's
    places, are served."""
    paths = _paths(tmp_path, demo_paths)
    (paths.store_dir / "lauf.live.sqlite").write_bytes(b"this is not a database, " * 400)
    with TestClient(create_app(ServerSettings(), paths)) as api:
        refused = api.get("/api/twins/lauf/places")
        assert refused.status_code == 503, refused.text
        assert "/" not in refused.text.replace("/api", "")
        assert "sqlite" not in refused.text
        posted = api.post("/api/twins/lauf/participants")
        assert posted.status_code == 503, posted.text
        _assert_lauf_served(api)
        assert api.post(f"/api/twins/{TWIN}/participants").status_code == 201
        assert api.get(f"/api/twins/{TWIN}/places").status_code == 200
