"""bench/serve.py keeps running and prints its figures (their values are not judged here: the cores are shared)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings

pytestmark = pytest.mark.slow


def test_serve_bench_runs_short(demo_paths: PathSettings, built: dict[str, BuildReport]) -> None:
    where = ["--store-dir", str(demo_paths.store_dir), "--tiles-dir", str(demo_paths.tiles_dir)]
    result = subprocess.run(
        [sys.executable, "bench/serve.py", "--seconds", "1", *where],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    figures = {line["name"]: line for line in map(json.loads, result.stdout.splitlines())}
    for kind in ("tileset", "glb"):
        assert float(figures[f"tiles_{kind}_nginx_alone_rps"]["value"]) > 0
        assert figures[f"tiles_{kind}_production_vs_nginx_alone"]["errors"] == 0
        assert "baseline" in figures[f"tiles_{kind}_embedded_rps"]
    assert figures["api_mixed_errors"]["value"] == 0
    assert float(figures["api_mixed_cpu_ms"]["value"]) > 0
    assert {"api_route_ogc_items_p50_ms", "api_route_mvt_p50_ms"} <= set(figures)
