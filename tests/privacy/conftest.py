"""The privacy attacks' server: the demo twins and a grid-only Bavarian twin behind a real uvicorn, limits raised so
that an attacker's many requests reach the gate (the limits themselves are tested in tests/participation and
tests/server). Attacks speak HTTP only; the tests may read the microdata to know the truth."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from tests.conftest import GENEROUS_PARTICIPATION, REPO, free_port, serving
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ScenarioSettings, ServerSettings
from twin3d.store.connection import connect

TWINS = ("lauf", "rostock", "bavaria")
GENEROUS_SCENARIOS = ScenarioSettings(per_hour=100_000, burst=100_000)


@pytest.fixture(scope="session")
def privacy_paths(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> PathSettings:
    """A store folder of its own: the demo twins (read-only links) and the Bavarian grid sample, built here."""
    root = tmp_path_factory.mktemp("privacy")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=root / "tiles")
    paths.store_dir.mkdir()
    paths.tiles_dir.mkdir()
    for twin in ("lauf", "rostock"):
        paths.store_file(twin).symlink_to(demo_paths.store_file(twin).resolve())
        paths.privacy_key_file(twin).symlink_to(demo_paths.privacy_key_file(twin).resolve())
        (paths.tiles_dir / twin).symlink_to((demo_paths.tiles_dir / twin).resolve())
    build_twin(load_pipeline(REPO / "tests" / "data" / "pipelines" / "bavaria.toml"), paths)
    return paths


class Http:
    """A plain HTTP client (the standard library), as an attacker without a token would use."""

    def __init__(self, base: str) -> None:
        self.base = base

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **params: Any
    ) -> tuple[int, Any]:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}{path}{query}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                raw, status, kind = response.read(), response.status, response.headers.get("content-type", "")
        except urllib.error.HTTPError as error:
            raw, status, kind = error.read(), error.code, error.headers.get("content-type", "")
        if "json" in kind and "ndjson" not in kind:
            return status, json.loads(raw)
        return status, raw.decode("utf-8")

    def get(self, path: str, **params: Any) -> Any:
        status, body = self.request("GET", path, **params)
        assert status == 200, (path, status, body)
        return body

    def ndjson(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.get(path, format="ndjson", **params).splitlines()]

    def scenario(self, twin: str, spec: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        """POST a scenario and GET its results."""
        status, stored = self.request("POST", f"/api/twins/{twin}/scenarios", spec, headers)
        assert status in (200, 201), (status, stored)
        results: dict[str, Any] = self.get(f"/api/twins/{twin}/scenarios/{stored['scenario_id']}/results")
        return results


@contextmanager
def attack_server(paths: PathSettings) -> Iterator[Http]:
    """The real server on ``paths`` with the limits raised, behind uvicorn on a free port."""
    port = free_port()
    app = create_app(
        ServerSettings(port=port), paths, participation=GENEROUS_PARTICIPATION, scenario_limits=GENEROUS_SCENARIOS
    )
    with serving(app, port) as url:
        yield Http(url)


@pytest.fixture(scope="module")
def http(privacy_paths: PathSettings) -> Iterator[Http]:
    with attack_server(privacy_paths) as client:
        yield client


@dataclass(frozen=True)
class Truth:
    """The microdata of one twin (replicate 0), read by the test to judge what the attacks recovered."""

    lon: np.ndarray
    lat: np.ndarray
    size: np.ndarray
    persona: np.ndarray
    building: np.ndarray

    def inside(self, polygon: shapely.Geometry) -> np.ndarray:
        return np.asarray(shapely.contains_xy(polygon, self.lon, self.lat))

    def counts(self, mask: np.ndarray) -> tuple[int, int]:
        """Households and persons among ``mask``."""
        return int(mask.sum()), int(self.size[mask].sum())


def read_truth(store_file: Path) -> Truth:
    with connect(store_file, read_only=True) as con:
        t = con.execute(
            "SELECT lon, lat, size, persona, coalesce(building_id, '') AS building FROM households "
            "WHERE replicate = 0 ORDER BY household_id"
        ).to_arrow_table()
    return Truth(
        t["lon"].to_numpy(),
        t["lat"].to_numpy(),
        t["size"].to_numpy().astype(np.int64),
        t["persona"].to_numpy(zero_copy_only=False).astype(str),
        t["building"].to_numpy(zero_copy_only=False).astype(str),
    )


@pytest.fixture(scope="session")
def truth(privacy_paths: PathSettings) -> dict[str, Truth]:
    return {twin: read_truth(privacy_paths.store_file(twin)) for twin in TWINS}
