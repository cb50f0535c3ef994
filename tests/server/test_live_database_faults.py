"""The PostgreSQL live store goes away and comes back: participation answers 503 at once (no hang, no driver text),
the rest of the twin is served, and writes work again as soon as the database is back, without a restart."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import GENEROUS_PARTICIPATION, free_port
from tests.services.postgres import fresh_database, running_cluster
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import LiveSettings, PathSettings, ServerSettings

API = "/api/twins/lauf"
PLACE: dict[str, Any] = {
    "kind": "happy",
    "category": "green",
    "title": "Am Fluss",
    "text": "Hier sitze ich gern.",
    "location": {"lon": 11.2783, "lat": 49.5101},
}


def test_a_database_outage_is_a_quick_503_and_heals_by_itself(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=tmp_path / "var", tiles_dir=tmp_path)
    paths.store_dir.mkdir()
    paths.store_file("lauf").symlink_to(demo_paths.store_file("lauf").resolve())
    with running_cluster(free_port()) as cluster:
        live = LiveSettings(database_url=fresh_database(cluster.url))
        app = create_app(ServerSettings(), paths, GENEROUS_PARTICIPATION, live_settings=live)
        with TestClient(app) as api:
            me = {"X-Participant-Token": api.post(f"{API}/participants").json()["token"]}
            assert api.post(f"{API}/places", json=PLACE, headers=me).status_code == 201

            cluster.stop()
            for method, path in (("GET", f"{API}/places"), ("POST", f"{API}/places")):
                started = time.monotonic()
                answer = api.request(method, path, json=PLACE if method == "POST" else None, headers=me)
                assert answer.status_code == 503, answer.text
                assert time.monotonic() - started < 10  # the pool's wait, not a hang
                assert "127.0.0.1" not in answer.text
                assert "postgres" not in answer.text.lower()
            assert api.get(API).status_code == 200  # the map, the buildings and the rest are served

            cluster.start()
            # The first write after the restart: dead connections are replaced before anything runs on them.
            assert api.post(f"{API}/places", json=PLACE, headers=me).status_code == 201
            assert api.get(f"{API}/places?cluster=false").json()["total"] >= 2
