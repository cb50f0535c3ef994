"""Shared fixtures: the demo twins built once per session into a temporary folder, and clients."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from tests.services.postgres import fresh_database, postgres_cluster
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import LiveSettings, ParticipationSettings, PathSettings, ServerSettings

REPO = Path(__file__).resolve().parent.parent
GENEROUS_PARTICIPATION = ParticipationSettings(
    posts_per_minute=10_000,
    posts_burst=10_000,
    participant_posts_per_minute=10_000,
    participant_posts_burst=10_000,
    votes_per_minute=10_000,
    votes_burst=10_000,
    participants_per_hour=10_000,
    participants_burst=10_000,
)
"""Participation limits no test client meets (all of them share 127.0.0.1); the limits have tests of their own."""
PIPELINES = REPO / "pipelines"
GEODATA = REPO / "geodata"


@pytest.fixture(scope="session")
def demo_paths(tmp_path_factory: pytest.TempPathFactory) -> PathSettings:
    """Store and tiles folders outside the repository, with the repository's pipeline definitions."""
    root = tmp_path_factory.mktemp("twins")
    return PathSettings(pipelines_dir=PIPELINES, store_dir=root / "var", tiles_dir=root / "tiles")


TEST_PIPELINES = REPO / "tests" / "data" / "pipelines"


@pytest.fixture(scope="session")
def built(demo_paths: PathSettings) -> dict[str, BuildReport]:
    """The demo twins (Lauf, Rostock and Monzel, the cadastre twin) and a small CityGML LoD2 test twin, built once
    for the whole session (about 7 s)."""
    demos = ("lauf", "rostock", "monzel")
    reports = {name: build_twin(load_pipeline(PIPELINES / f"{name}.toml"), demo_paths) for name in demos}
    reports["nrw"] = build_twin(load_pipeline(TEST_PIPELINES / "nrw.toml"), demo_paths)
    return reports


@pytest.fixture(scope="session")
def client(demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[TestClient]:
    """An API client with the app's lifespan running."""
    with TestClient(create_app(ServerSettings(), demo_paths)) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: FastAPI, port: int) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1:``port`` in a thread; yields the base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", proxy_headers=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[str]:
    """The real server (uvicorn) on a free local port, serving the built twins; yields its base URL."""
    port = free_port()
    with serving(create_app(ServerSettings(port=port), demo_paths), port) as url:
        yield url


@pytest.fixture
def project_copy(tmp_path: Path) -> PathSettings:
    """A private copy of the pipelines and geodata, for tests that break inputs on purpose."""
    shutil.copytree(PIPELINES, tmp_path / "pipelines")
    shutil.copytree(GEODATA, tmp_path / "geodata")
    return PathSettings(pipelines_dir=tmp_path / "pipelines", store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")


def private_paths(root: Path, demo_paths: PathSettings, twins: tuple[str, ...]) -> PathSettings:
    """Paths on the built demo twins (shared read-only, with their privacy keys) whose live stores, where scenarios
    and places are written, go to a folder of their own under ``root``: no test meets another's scenarios."""
    store_dir = root / "var"
    store_dir.mkdir()
    for twin in twins:
        for name in (f"{twin}.duckdb", f"{twin}.privacy-key"):
            if (demo_paths.store_dir / name).exists():
                (store_dir / name).symlink_to((demo_paths.store_dir / name).resolve())
    return PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL cluster for the session (Debian's package, started in a temporary folder)."""
    with postgres_cluster(free_port()) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def live_settings(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> LiveSettings:
    """Run the test once on each live-store backend: the embedded SQLite and a fresh PostgreSQL database.

    ``TWIN3D_LIVE_DATABASE_URL`` is set for the test, so apps it creates and servers it starts use the backend.
    """
    if request.param == "sqlite":
        monkeypatch.delenv("TWIN3D_LIVE_DATABASE_URL", raising=False)
        return LiveSettings()
    url = fresh_database(request.getfixturevalue("postgres_server"))
    monkeypatch.setenv("TWIN3D_LIVE_DATABASE_URL", url)
    return LiveSettings(database_url=url)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for every test of the session that drives one (tests/browser, tests/deploy)."""
    from tests.browser.conftest import launch_browser  # noqa: PLC0415  (Playwright only where a test asks)

    with launch_browser() as b:
        yield b
