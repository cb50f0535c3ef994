"""Fixtures of the server tests: the real app on a private live store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import GENEROUS_PARTICIPATION
from tests.server.participation_twin import Twin
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import ParticipationSettings, PathSettings, ServerSettings


@pytest.fixture
def make_twin(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[Callable[..., Twin]]:
    """Start the real app on a private store folder (the built twins are shared read-only)."""
    opened: list[TestClient] = []

    def make(settings: ParticipationSettings = GENEROUS_PARTICIPATION, participation_toml: str | None = None) -> Twin:
        root = tmp_path / f"app{len(opened)}"
        store_dir = root / "var"
        store_dir.mkdir(parents=True)
        for twin in ("lauf", "rostock", "nrw"):
            (store_dir / f"{twin}.duckdb").symlink_to(demo_paths.store_file(twin).resolve())
        pipelines = demo_paths.pipelines_dir
        if participation_toml is not None:  # the demo's definitions, Lauf's with this [participation] table
            pipelines = root / "pipelines"
            pipelines.mkdir()
            for entry in demo_paths.pipelines_dir.iterdir():
                if entry.name != "lauf.toml":
                    (pipelines / entry.name).symlink_to(entry.resolve())
            lauf = (demo_paths.pipelines_dir / "lauf.toml").read_text(encoding="utf-8")
            (pipelines / "lauf.toml").write_text(f"{lauf}\n[participation]\n{participation_toml}\n", encoding="utf-8")
        paths = PathSettings(pipelines_dir=pipelines, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)
        client = TestClient(create_app(ServerSettings(), paths, settings))
        client.__enter__()
        opened.append(client)
        return Twin(client, paths)

    yield make
    for client in opened:
        client.__exit__(None, None, None)
