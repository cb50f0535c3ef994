"""Flood scenario run times on Lauf, against a scenario without a flood in the same run and process.

Usage:
    python bench/flood.py              # builds lauf into a temporary folder first
    python bench/flood.py --store var  # use an already built store (var/lauf.duckdb)

One JSON line per figure (name, value, unit). The cold step of the flood model (reading the terrain, laying the
buildings and the path segments onto its cells: part of ``load_baseline``) is timed apart; each warm figure is the
best of five ``run_scenario`` calls and carries ``baseline_seconds``: the warm run of a scenario that only adds a
Kita, measured in the same run. Lauf has no DEM: it floods on its twin-wide ground (a flat grid of 10 m cells).

- polygon: a water level 1 m above the ground in a drawn area by the Pegnitz (about 25 ha);
- wall: the same area 1.5 m deep with a wall across it whose crest holds;
- whole twin: the whole twin 1 m deep (every building, facility and path in the water).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
AREA = [[11.2760, 49.5090], [11.2830, 49.5090], [11.2830, 49.5120], [11.2760, 49.5120], [11.2760, 49.5090]]
WALL = {"type": "LineString", "coordinates": [[11.2790, 49.5085], [11.2790, 49.5125]]}
KITA = {"kind": "add_facility", "facility": "kita", "location": {"type": "Point", "coordinates": [11.2775, 49.5098]}}


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra}), flush=True)


def timed(fn: Any, repeat: int = 5) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench(store_dir: Path) -> None:
    from twin3d.simulation.engine import load_baseline, run_scenario  # noqa: PLC0415
    from twin3d.simulation.flood import load_flood_ground  # noqa: PLC0415
    from twin3d.simulation.scenario import ScenarioSpec  # noqa: PLC0415
    from twin3d.store.connection import connect  # noqa: PLC0415

    con = connect(store_dir / "lauf.duckdb", read_only=True)
    key_file = store_dir / "lauf.privacy-key"
    base = load_baseline(con, REPO / "pipelines", key=key_file.read_bytes() if key_file.is_file() else None)
    cold, ground = timed(lambda: load_flood_ground(con, base.crs, base.footprints, base.model), repeat=3)
    rows, cols = ground.terrain.shape
    emit("lauf_flood_cold_seconds", cold, "s", cells=rows * cols, terrain=ground.terrain.describe()["kind"])
    area = {"type": "Polygon", "coordinates": [AREA]}
    specs = {
        "none": [KITA],
        "polygon": [{"kind": "flood", "level_m": 328.0, "area": area}],
        "wall": [
            {"kind": "flood", "level_m": 328.5, "area": area},
            {"kind": "flood_wall", "crest_m": 329.0, "line": WALL},
        ],
        "whole_twin": [{"kind": "flood", "level_m": 328.0}],
    }
    baseline = None
    for name, measures in specs.items():
        spec = ScenarioSpec.model_validate({"name": name, "measures": measures})
        run_scenario(base, spec)  # first run apart: what is cached per baseline is cached
        seconds, result = timed(lambda spec=spec: run_scenario(base, spec))
        if name == "none":
            baseline = seconds
            emit("lauf_warm_seconds_without_flood", seconds, "s")
            continue
        flood = result["flood"]
        emit(
            f"lauf_flood_{name}_warm_seconds",
            seconds,
            "s",
            baseline_seconds=round(baseline or 0.0, 4),
            buildings_flooded=flood["buildings"]["flooded"],
            facilities_cut_off=len(flood["facilities_cut_off"]),
            segments_removed=flood["paths"]["segments_removed"],
            result_kb=round(len(json.dumps(result)) / 1024),
        )
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="folder with a built lauf.duckdb")
    args = parser.parse_args()
    if args.store is not None:
        bench(args.store)
        return
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415
    from twin3d.settings import PathSettings  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="twin3d-bench-flood-") as tmp:
        paths = PathSettings(store_dir=Path(tmp) / "var", tiles_dir=Path(tmp) / "tiles")
        build_twin(load_pipeline(REPO / "pipelines" / "lauf.toml"), paths)
        bench(paths.store_dir)


if __name__ == "__main__":
    main()
