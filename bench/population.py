"""Population synthesis throughput and memory: Rostock end to end, and a whole census tile of northern Bavaria.

Usage:
    python bench/population.py                              # both, full size
    python bench/population.py --only rostock
    python bench/population.py --only bavaria --cells 3000  # every k-th of Bavaria's cells, for a quick run
    python bench/population.py --json-out figures.ndjson    # the JSON lines also appended to a file
    python bench/population.py --only bavaria --executor dask:2  # the draw's blocks on a 2-worker LocalCluster

One JSON line per figure: name, value, unit, and what it was measured on. Every measurement runs in its own
process, so that its peak memory (PSS, sampled by ``bench/tiles.py``'s ``MemorySampler``) is its own.

Measurements:
- rostock-build: ``twin3d build rostock`` as the CLI runs it, ``build_twin(load_pipeline(pipelines/rostock.toml))``
  into a temporary folder (every source read, store written, tiles written; 211,692 persons). Target <= 20 s.
  Per-phase figures are the synthesis timings of the population report (``timings_s``).
- rostock-step: the population step alone (``population_step``) on the inputs read back from that store: the
  synthesis, the validation report, the household/person tables and the privacy gate.
- bavaria: ``../shared/data/census2021-grid-1km-bavaria-tile/`` (38,659 populated 1 km cells, 8,569,917 persons):
  read the grid, pivot its statistics, ``synthesise`` with the German priors and the persona catalogue,
  ``publish_population`` on replicate 0 and ``validation_report``. Targets <= 600 s and <= 8 GiB. ``--cells N``
  keeps N cells, evenly spaced in file order (every k-th), for a quick run.

Baseline (same run, same zones, same persons): the cheapest possible synthesis, one single-threaded
``numpy.random.Generator.multinomial`` draw of each zone's households (persons / mean household size) over the
prior prototype mix, expanded to one row per household; no fitting, no persons, no placement, no personas. It is
the floor of producing household microdata at all, so ``*_vs_baseline`` says what fitting to the statistics,
integer refinement, persons, personas and placement cost on top of it. (Reading the grid CSV, the I/O floor, is
reported as its own phase, ``bavaria_read_seconds``, but it is not the baseline: synthesis does not read files.)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from pyproj import CRS

from tiles import MemorySampler, peak_rss_mib  # bench/tiles.py: the PSS sampler shared by the benches

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
BAVARIA = SHARED / "census2021-grid-1km-bavaria-tile" / "census2021_1km_tile_17_11.csv.gz"
GRID_RENAME = {
    "T": "population",
    "M": "male",
    "F": "female",
    "Y_LT15": "age_under_15",
    "Y_1564": "age_15_64",
    "Y_GE65": "age_65_plus",
}
ROSTOCK_TARGET_S = 20.0
BAVARIA_TARGET_S = 600.0
BAVARIA_TARGET_MIB = 8 * 1024.0
BENCH_KEY = b"twin3d-bench-population-key-0123"

_json_out: Path | None = None


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    line = json.dumps({"name": name, "value": round(float(value), 3), "unit": unit, **extra})
    print(line, flush=True)
    if _json_out is not None:
        with _json_out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def baseline_draw(zone_persons: np.ndarray, seed: np.ndarray, size: np.ndarray) -> dict[str, float]:
    """The cheapest synthesis: households per zone drawn from the prior prototype mix, one row per household.

    Each zone gets persons / (mean prototype size under the prior) households, as the fit's starting weights do.
    """
    rng = np.random.default_rng(2023)
    start = time.perf_counter()
    seed = seed / seed.sum()
    households = np.rint(zone_persons / float((seed * size).sum())).astype(np.int64)
    counts = rng.multinomial(households, seed)
    n_zones, n_protos = counts.shape
    zone = np.repeat(np.repeat(np.arange(n_zones), n_protos), counts.ravel())
    proto = np.tile(np.arange(n_protos), n_zones).repeat(counts.ravel())
    persons = int(size[proto].sum())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "households": len(zone), "persons": persons}


def emit_baseline(prefix: str, zone_persons: np.ndarray, seconds: float, persons: int, what: str) -> None:
    """Draw the baseline on the same zones and persons, and emit it with the ratio to ``seconds`` (of ``what``)."""
    from twin3d.population.priors import load_priors  # noqa: PLC0415
    from twin3d.population.prototypes import build_prototypes  # noqa: PLC0415

    priors = load_priors(REPO / "pipelines" / "priors" / "germany.toml")
    protos = build_prototypes(priors)
    base = min(
        (baseline_draw(zone_persons, protos.seed, protos.size) for _ in range(3)),
        key=lambda r: r["seconds"],
    )
    emit(
        f"{prefix}_baseline_multinomial_persons_per_s",
        base["persons"] / base["seconds"],
        "persons/s",
        seconds=round(base["seconds"], 4),
        persons=base["persons"],
        households=base["households"],
        zones=len(zone_persons),
        prototypes=len(protos.size),
        note="baseline: one multinomial draw of households per zone from the prior mix, no fitting (best of 3)",
    )
    emit(
        f"{prefix}_vs_baseline",
        seconds / base["seconds"],
        "x",
        note=f"{what} seconds / baseline seconds for the same persons",
        persons_per_s=round(persons / seconds, 1),
        baseline_persons_per_s=round(base["persons"] / base["seconds"], 1),
    )


def emit_phases(prefix: str, timings: dict[str, float], **extra: object) -> None:
    for phase, seconds in timings.items():
        emit(f"{prefix}_{phase}_seconds", seconds, "s", **extra)


def emit_memory(prefix: str, memory: MemorySampler, start_mib: float, **extra: object) -> None:
    emit(
        f"{prefix}_peak_memory",
        memory.peak,
        "MiB",
        measure="PSS, process and children",
        pss_at_start=round(start_mib, 1),
        main_process_max_rss=round(peak_rss_mib(), 1),
        **extra,
    )


def _pss_now() -> float:
    return MemorySampler._pss_kib(os.getpid()) / 1024.0


# --- Rostock ---------------------------------------------------------------------------------------------------


def phase_rostock_build(store: Path) -> None:
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415
    from twin3d.settings import PathSettings  # noqa: PLC0415
    from twin3d.store.connection import connect  # noqa: PLC0415
    from twin3d.store.queries import meta  # noqa: PLC0415

    cfg = load_pipeline(REPO / "pipelines" / "rostock.toml")
    paths = PathSettings(pipelines_dir=REPO / "pipelines", store_dir=store / "var", tiles_dir=store / "tiles")
    start_mib = _pss_now()
    with MemorySampler() as memory:
        t0 = time.perf_counter()
        build = build_twin(cfg, paths)
        seconds = time.perf_counter() - t0
    con = connect(paths.store_file("rostock"), read_only=True)
    report = meta(con.cursor(), "population_report")
    con.close()
    persons, households = report["persons"], report["households"]
    emit(
        "rostock_build_persons_per_s",
        persons / seconds,
        "persons/s",
        twin="rostock",
        persons=persons,
        households=households,
        seconds=round(seconds, 3),
        target_seconds=ROSTOCK_TARGET_S,
        met=seconds <= ROSTOCK_TARGET_S,
        counts=build.counts,
        note="twin3d build rostock: every source, store, tiles and the population step",
    )
    emit("rostock_build_seconds", seconds, "s", target=ROSTOCK_TARGET_S, met=seconds <= ROSTOCK_TARGET_S)
    emit_phases("rostock_build_synthesis", report["timings_s"], source="population report timings_s")
    emit_memory("rostock_build", memory, start_mib, twin="rostock")
    cells = _rostock_zone_persons(store)
    emit_baseline("rostock_build", cells, seconds, persons, "whole build")


def _rostock_tables(store: Path) -> tuple[dict[str, list[Any]], Any]:
    """The inputs of the population step read back from the built store (WKB geometry, as the build hands them)."""
    import pyarrow as pa  # noqa: PLC0415
    import shapely  # noqa: PLC0415

    from twin3d.population.placement import BuildingStock  # noqa: PLC0415
    from twin3d.store.connection import connect  # noqa: PLC0415

    con = connect(store / "var" / "rostock.duckdb", read_only=True)
    try:
        tables: dict[str, list[pa.Table]] = {}
        for name in ("districts", "grid_cells"):
            table = con.execute(f"SELECT * EXCLUDE (geom, geom_wgs84), ST_AsWKB(geom) AS geom FROM {name}").arrow()
            tables[name] = [table.read_all() if hasattr(table, "read_all") else table]
        for name in ("district_stats", "grid_stats"):
            table = con.execute(f"SELECT * FROM {name}").arrow()
            tables[name] = [table.read_all() if hasattr(table, "read_all") else table]
        rows = con.execute(
            "SELECT building_id, building_type, levels, height, ST_AsWKB(geom) FROM buildings ORDER BY building_id"
        ).fetchall()
    finally:
        con.close()
    buildings = None
    if rows:
        ids, types, levels, height, geom = zip(*rows, strict=True)
        buildings = BuildingStock.of(
            ids=np.array(ids, dtype=object),
            footprints=shapely.from_wkb(np.array([bytes(g) for g in geom], dtype=object)),
            building_type=np.array(types, dtype=object),
            levels=np.array([np.nan if v is None else v for v in levels], dtype=np.float64),
            height=np.array(height, dtype=np.float64),
        )
    return tables, buildings


def _rostock_zone_persons(store: Path) -> np.ndarray:
    """Persons per fitting zone (district pieces of the grid cells), exactly as the synthesis gets them."""
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415
    from twin3d.pipeline.population_step import gather_inputs  # noqa: PLC0415
    from twin3d.population.controls import build_zones  # noqa: PLC0415

    cfg = load_pipeline(REPO / "pipelines" / "rostock.toml")
    assert cfg.population is not None
    tables, _ = _rostock_tables(store)
    inputs = gather_inputs(cfg.population, cfg.twin_crs(), tables, None)
    persons: np.ndarray = build_zones(inputs.districts, inputs.grid).persons
    return persons


def phase_rostock_step(store: Path) -> None:
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415
    from twin3d.pipeline.population_step import population_step  # noqa: PLC0415

    cfg = load_pipeline(REPO / "pipelines" / "rostock.toml")
    start_mib = _pss_now()
    with MemorySampler() as memory:
        t0 = time.perf_counter()
        tables, buildings = _rostock_tables(store)
        read = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = population_step(cfg, tables, buildings, store / "bench.privacy-key")
        seconds = time.perf_counter() - t0
    report = result.report
    persons, households = report["persons"], report["households"]
    emit(
        "rostock_step_persons_per_s",
        persons / seconds,
        "persons/s",
        twin="rostock",
        persons=persons,
        households=households,
        seconds=round(seconds, 3),
        store_read_seconds=round(read, 3),
        note="population_step alone: synthesis, validation report, store tables, privacy gate",
    )
    timings = dict(report["timings_s"])
    timings["other"] = seconds - sum(timings.values())  # inputs, report, tables, privacy gate
    emit_phases("rostock_step", timings, source="population report timings_s; other = the rest of the step")
    emit_memory("rostock_step", memory, start_mib, twin="rostock")
    emit_baseline("rostock_step", _rostock_zone_persons(store), seconds, persons, "population step")


# --- Bavaria ---------------------------------------------------------------------------------------------------


def phase_bavaria(cells: int | None, grid_file: Path, executor: str, block_households: int | None) -> None:
    start_mib = _pss_now()
    with MemorySampler() as memory:
        phases, figures, pop_timings = _bavaria(cells, grid_file, executor, block_households)
    total = sum(phases.values())
    persons = figures["persons"]
    tag = {"cells": figures["cells"], "persons": persons, "executor": executor, "blocks": figures["blocks"]}
    emit_phases("bavaria", phases, **tag)
    emit_phases("bavaria_synthesis", pop_timings, **tag, note="inside synthesise (pop.timings)")
    emit(
        "bavaria_end_to_end_seconds",
        total,
        "s",
        **tag,
        target=BAVARIA_TARGET_S,
        met=total <= BAVARIA_TARGET_S,
        note="read + pivot + priors + synthesise + publish + report + store tables (batches into DuckDB)",
    )
    emit(
        "bavaria_persons_per_s",
        persons / total,
        "persons/s",
        **tag,
        households=figures["households"],
        zones=figures["zones"],
        seconds=round(total, 3),
        synthesis_persons_per_s=round(persons / phases["synthesise"], 1),
    )
    emit("bavaria_households", figures["households"], "households", **tag)
    emit("bavaria_persons", persons, "persons", **tag, grid_population=figures["grid_population"])
    emit("bavaria_published_rows", figures["published_rows"], "rows", **tag)
    for control in figures["grid_fit"]:
        emit(
            f"bavaria_grid_srmse_{control['control']}",
            control["srmse"],
            "SRMSE",
            **tag,
            target=figures["grid_target"],
            units=control["units"],
            within_10pct=control["within_10pct"],
        )
    emit(
        "bavaria_peak_memory",
        memory.peak,
        "MiB",
        **tag,
        target=BAVARIA_TARGET_MIB,
        met=memory.peak <= BAVARIA_TARGET_MIB,
        measure="PSS, process and children",
        pss_at_start=round(start_mib, 1),
        main_process_max_rss=round(peak_rss_mib(), 1),
    )
    emit_baseline("bavaria", figures["zone_persons"], phases["synthesise"], persons, "synthesise()")


def _bavaria(
    cells: int | None, grid_file: Path, executor: str, block_households: int | None
) -> tuple[dict[str, float], dict[str, Any], dict[str, float]]:
    from scale import parse_executor  # noqa: PLC0415  (bench/scale.py: kind[:workers] as the scale runs take it)

    from twin3d.executor import open_executor  # noqa: PLC0415
    from twin3d.io.stats import read_eurostat_grid  # noqa: PLC0415
    from twin3d.population.controls import AreaStats, pivot_stats  # noqa: PLC0415
    from twin3d.population.personas import load_personas  # noqa: PLC0415
    from twin3d.population.priors import load_priors  # noqa: PLC0415
    from twin3d.population.privacy import publish_population  # noqa: PLC0415
    from twin3d.population.report import validation_report  # noqa: PLC0415
    from twin3d.population.synthesis import PopulationInputs, SynthesisSpec, synthesise  # noqa: PLC0415

    crs = CRS("EPSG:25832")
    phases: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        phases[name] = now - clock
        clock = now

    grid_cells = read_eurostat_grid(grid_file, crs, rename=GRID_RENAME)
    lap("read")
    ids = grid_cells.cell_ids.to_numpy(zero_copy_only=False).astype(object)
    values = pivot_stats(ids, grid_cells.stats.values, "key", None)
    keep = np.arange(len(ids))
    if cells is not None and cells < len(ids):
        keep = np.arange(cells) * len(ids) // cells  # evenly spaced, every (len / cells)-th
    grid = AreaStats(ids[keep], grid_cells.geometry[keep], {k: v[keep] for k, v in values.items()})
    del grid_cells, values
    lap("pivot")
    priors = load_priors(REPO / "pipelines" / "priors" / "germany.toml")
    personas = load_personas(REPO / "pipelines" / "personas.toml")
    inputs = PopulationInputs(crs, districts=None, grid=grid, buildings=None)
    lap("priors")
    with open_executor(parse_executor(executor)) as runner:
        lap("executor_start")  # a Dask cluster starting is not the synthesis
        spec = SynthesisSpec() if block_households is None else SynthesisSpec(block_households=block_households)
        pop = synthesise(inputs, spec, priors, personas, executor=runner)
    lap("synthesise")
    rep = pop.first
    published = publish_population(
        pop.slots.h3[rep.slot],
        rep.persona.astype(np.int64),
        pop.protos.size[rep.proto].astype(np.int64),
        personas.ids,
        key=BENCH_KEY,
    )
    lap("publish")
    report = validation_report(pop, inputs, set(), {"twin": "bavaria-tile-17-11"})
    lap("report")
    _store_tables(pop, personas, inputs)
    lap("store_tables")
    grid_level = next((lv for lv in report["levels"] if lv["level"] == "grid"), None)
    figures = {
        "cells": len(grid.ids),
        "zones": len(pop.zones),
        "persons": report["persons"],
        "households": report["households"],
        "grid_population": int(np.nansum(grid.get("population"))),
        "published_rows": published.num_rows,
        "grid_fit": grid_level["controls"] if grid_level else [],
        "grid_target": grid_level["target_srmse"] if grid_level else None,
        "zone_persons": pop.zones.persons.copy(),
        "blocks": pop.blocks,
    }
    return phases, figures, dict(pop.timings)


def _store_tables(pop: Any, personas: Any, inputs: Any) -> None:
    """The store's household and person tables, inserted batch by batch as a build does (into a scratch DuckDB)."""
    from twin3d.population.synthesis import household_batches, person_batches  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect(str(Path(folder) / "tables.duckdb"))
        try:
            for name, batches in (
                ("households", household_batches(pop, personas, inputs)),
                ("persons", person_batches(pop)),
            ):
                for i, batch in enumerate(batches):
                    con.register("batch", batch)
                    con.execute(f"CREATE TABLE {name} AS FROM batch" if i == 0 else f"INSERT INTO {name} FROM batch")
                    con.unregister("batch")
        finally:
            con.close()


# --- driver ----------------------------------------------------------------------------------------------------


def main() -> None:
    global _json_out  # noqa: PLW0603
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["rostock", "bavaria"], help="run one of the two (default: both)")
    parser.add_argument("--cells", type=int, help="Bavaria: keep this many cells, evenly spaced in file order")
    parser.add_argument("--json-out", type=Path, help="also append the JSON lines to this file")
    parser.add_argument(
        "--grid", type=Path, default=BAVARIA, help="Bavaria: the census grid CSV (default: the shared 256 km tile)"
    )
    parser.add_argument(
        "--executor", default="local", help="Bavaria: where the draw's blocks run, kind[:workers] (e.g. dask:2)"
    )
    parser.add_argument("--block-households", type=int, help="Bavaria: households per block of the draw")
    parser.add_argument("--phase", choices=["rostock-build", "rostock-step", "bavaria"], help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    _json_out = args.json_out
    if args.phase == "rostock-build":
        phase_rostock_build(args.store)
        return
    if args.phase == "rostock-step":
        phase_rostock_step(args.store)
        return
    if args.phase == "bavaria":
        phase_bavaria(args.cells, args.grid, args.executor, args.block_households)
        return
    if args.json_out is not None:
        args.json_out.write_text("")
    extra = ["--json-out", str(args.json_out)] if args.json_out is not None else []

    def run(*phase_args: str) -> None:
        subprocess.run([sys.executable, __file__, *phase_args, *extra], check=True)

    if args.only in (None, "rostock"):
        with tempfile.TemporaryDirectory(prefix="twin3d-bench-population-") as tmp:
            run("--phase", "rostock-build", "--store", tmp)
            run("--phase", "rostock-step", "--store", tmp)
    if args.only in (None, "bavaria"):
        cells = ["--cells", str(args.cells)] if args.cells is not None else []
        blocks = ["--block-households", str(args.block_households)] if args.block_households else []
        run("--phase", "bavaria", "--grid", str(args.grid), "--executor", args.executor, *cells, *blocks)


if __name__ == "__main__":
    main()
