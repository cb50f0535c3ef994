"""Build throughput of the demo twins: prints one JSON line per figure.

Usage: python bench/build.py [--twin lauf] [--repeat 3]

Figures: whole-build buildings/s (read, check, store, tiles), tiling-only buildings/s, bytes per building, and
the same-run baseline of reading the footprints alone (the floor any build must pay).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from pyproj import CRS

from twin3d.io.vector import read_vector
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import BuildingsSource, load_pipeline
from twin3d.settings import PathSettings
from twin3d.tiling.geodesy import frame_at
from twin3d.tiling.geometry import ExtrudedBuildings
from twin3d.tiling.tileset import BuildingProperties, TilingOptions, block_partitions, write_tileset

REPO = Path(__file__).resolve().parent.parent


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, **extra}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--twin", default="lauf")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cfg = load_pipeline(REPO / "pipelines" / f"{args.twin}.toml")
    crs = CRS.from_user_input(cfg.twin.crs)
    src = next(s for s in cfg.sources if isinstance(s, BuildingsSource) and s.format == "vector")
    path = src.files(cfg.base_dir)[0]

    read_times, build_times, tile_times = [], [], []
    n_buildings = tile_bytes = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        table = read_vector(path, crs, declared_crs=src.crs)
        read_times.append(time.perf_counter() - t0)
        with tempfile.TemporaryDirectory() as tmp:
            paths = PathSettings(
                pipelines_dir=REPO / "pipelines", store_dir=Path(tmp) / "var", tiles_dir=Path(tmp) / "tiles"
            )
            t0 = time.perf_counter()
            report = build_twin(cfg, paths)
            build_times.append(time.perf_counter() - t0)
            n_buildings = report.counts["buildings"]
            tile_bytes = report.tile_bytes
            footprints = table.geometry
            n = len(footprints)
            base = np.full(n, 370.0)
            geometry = ExtrudedBuildings(footprints, base, base + 7.5, crs)
            props = BuildingProperties(np.array([f"b{i}" for i in range(n)], dtype=object))
            t0 = time.perf_counter()
            write_tileset(
                geometry,
                props,
                partition_of=block_partitions(geometry.centroids(), cfg.tiles.block_size_m),
                frame=frame_at(11.28, 49.51, 370.0),
                out_dir=Path(tmp) / "tiles-only",
                options=TilingOptions(
                    max_features=cfg.tiles.max_features_per_tile, max_vertices=cfg.tiles.max_vertices_per_tile
                ),
            )
            tile_times.append(time.perf_counter() - t0)

    best = min
    emit(
        "build_buildings_per_s",
        n_buildings / best(build_times),
        "buildings/s",
        twin=args.twin,
        buildings=n_buildings,
        seconds_best=round(best(build_times), 3),
        seconds_median=round(statistics.median(build_times), 3),
    )
    emit(
        "tiling_buildings_per_s",
        n / best(tile_times),
        "buildings/s",
        twin=args.twin,
        baseline_read_buildings_per_s=round(n / best(read_times), 1),
    )
    emit(
        "read_footprints_per_s",
        n / best(read_times),
        "buildings/s",
        twin=args.twin,
        note="baseline: GDAL read only",
    )
    emit("tile_bytes_per_building", tile_bytes / max(n_buildings, 1), "B/building", twin=args.twin)
    emit("peak_rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB")


if __name__ == "__main__":
    main()
