"""bench/layers.py keeps running and prints its figures (the numbers are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_layers_bench_runs_small() -> None:
    result = subprocess.run(
        [sys.executable, "bench/layers.py", "--features", "8000", "--repeat", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    figures = {f["name"]: f for f in map(json.loads, result.stdout.splitlines())}
    load = figures["layers_load_seconds"]
    assert (load["features"], load["features_out"]) == (8000, 8000)
    assert float(figures["layers_baseline_read_write_seconds"]["value"]) > 0
