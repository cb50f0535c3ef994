"""What the basemap adds to a build: prints one JSON line per figure.

Usage: python bench/basemap.py [--twin lauf] [--repeat 3]

Each round builds the twin twice into a temporary folder, once with its ``[basemap]`` as defined and once with
``enabled = false`` (the baseline: the whole build without the basemap), in alternating order. The basemap step is
timed inside the real build (the build's own call of ``basemap_step``, wrapped with a clock). Best of the rounds.

Figures (wall seconds, with the process's CPU seconds beside them: on a shared machine the CPU figure is the steadier):
    basemap_step_seconds: the step in the build (read the OSM extract or the store's tables, cut and write the tiles),
        with the whole build's time without the basemap as its baseline, and the tiles and bytes it wrote.
    build_with_basemap_seconds: the whole build with the basemap; baseline the build without it.
    basemap_bytes_per_tile: mean size of a tile.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import twin3d.pipeline.build as build_module
from twin3d.pipeline.basemap import basemap_step
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import PipelineConfig, load_pipeline
from twin3d.settings import PathSettings

REPO = Path(__file__).resolve().parent.parent


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, **extra}), flush=True)


@dataclass
class Timing:
    """One build: wall and CPU seconds (this process, all its threads) of the whole build and of the basemap step."""

    build: float = 0.0
    build_cpu: float = 0.0
    step: float = 0.0
    step_cpu: float = 0.0
    meta: dict[str, Any] | None = None


def timed_build(cfg: PipelineConfig, root: Path) -> Timing:
    """Build into ``root`` (in this process: Lauf's pipeline reads and tiles without worker processes)."""
    timing = Timing()

    def clocked(*args: Any, **kwargs: Any) -> dict[str, Any] | None:
        t0, c0 = time.perf_counter(), time.process_time()
        timing.meta = basemap_step(*args, **kwargs)
        timing.step, timing.step_cpu = time.perf_counter() - t0, time.process_time() - c0
        return timing.meta

    paths = PathSettings(pipelines_dir=REPO / "pipelines", store_dir=root / "var", tiles_dir=root / "tiles")
    # The build's own call of the step goes through the clock.
    with patch.object(build_module, "basemap_step", clocked):
        t0, c0 = time.perf_counter(), time.process_time()
        build_twin(cfg, paths)
        timing.build, timing.build_cpu = time.perf_counter() - t0, time.process_time() - c0
    return timing


def tile_files(root: Path) -> list[Path]:
    return sorted(root.glob("tiles/*/*/basemap/*/*/*.pbf"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--twin", default="lauf")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cfg = load_pipeline(REPO / "pipelines" / f"{args.twin}.toml")
    without = cfg.model_copy(update={"basemap": cfg.basemap.model_copy(update={"enabled": False})})

    with_basemap: list[Timing] = []
    without_basemap: list[Timing] = []
    tiles = size = 0
    for round_ in range(args.repeat):
        # Alternate which goes first, so that a warm cache favours neither.
        order = [(cfg, with_basemap), (without, without_basemap)]
        for config, timings in order if round_ % 2 == 0 else order[::-1]:
            with tempfile.TemporaryDirectory() as tmp:
                timings.append(timed_build(config, Path(tmp)))
                if timings is with_basemap:
                    files = tile_files(Path(tmp))
                    tiles, size = len(files), sum(f.stat().st_size for f in files)

    meta = with_basemap[-1].meta
    baseline = round(min(t.build for t in without_basemap), 3)
    baseline_cpu = round(min(t.build_cpu for t in without_basemap), 3)
    emit(
        "basemap_step_seconds",
        min(t.step for t in with_basemap),
        "s",
        twin=args.twin,
        baseline=baseline,
        baseline_name="whole build without the basemap",
        cpu_seconds=round(min(t.step_cpu for t in with_basemap), 3),
        baseline_cpu_seconds=baseline_cpu,
        tiles=tiles,
        bytes=size,
        layers=meta["layers"] if meta else [],
        zooms=f"{meta['minzoom']}-{meta['maxzoom']}" if meta else None,
        rounds=args.repeat,
        load_average=round(os.getloadavg()[0], 1),
    )
    emit(
        "build_with_basemap_seconds",
        min(t.build for t in with_basemap),
        "s",
        twin=args.twin,
        baseline=baseline,
        baseline_name="whole build without the basemap",
        cpu_seconds=round(min(t.build_cpu for t in with_basemap), 3),
        baseline_cpu_seconds=baseline_cpu,
        rounds=args.repeat,
    )
    emit("basemap_bytes_per_tile", size / max(tiles, 1), "B/tile", twin=args.twin, tiles=tiles)


if __name__ == "__main__":
    main()
