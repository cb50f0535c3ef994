"""Scenario run times: Lauf over its footpath network, full-city Rostock, and a scale case of 1 million households.

Usage:
    python bench/simulation.py              # builds lauf and rostock into a temporary folder first
    python bench/simulation.py --store var  # use already built stores (var/<twin>.duckdb)

One JSON line per figure (name, value, unit). For each case the cold step (reading the store, the walking
network, locating the baseline's homes and its indicators: ``load_baseline``) and the warm step (``run_scenario``:
measures, every indicator for the scenario, the KPI comparison; best of three) are timed separately; the issue's
targets are for the warm step. Baseline in the same run: the warm step of a scenario that changes nothing but one
facility, so the ratio shows what new households and area measures add.

- lauf: a quarter of 300 dwellings with a Kita, a green space and a flood area near the station; network distances.
- rostock: a quarter of 400 dwellings in the Südstadt "like" Südstadt, plus a Kita and a school in each of the 21
  Stadtbereiche (the twin has no POI source yet, so the scenario brings the facilities); straight-line distances.
- scale: Lauf's published units copied with offsets of up to 30 m to 1,000,000 households; the Lauf scenario.

The simulation works on the privacy gate's published units (each at least 50 persons and 25 households, with
their public home points), not on households: ``units`` in each line says how many.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
QUARTER_LAUF = [[11.2760, 49.5090], [11.2790, 49.5090], [11.2790, 49.5105], [11.2760, 49.5105], [11.2760, 49.5090]]
QUARTER_ROSTOCK = [[12.100, 54.070], [12.106, 54.070], [12.106, 54.074], [12.100, 54.074], [12.100, 54.070]]
TARGETS = {"lauf": 2.0, "rostock": 1.0, "scale": 5.0}


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra}), flush=True)


def polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def lauf_spec() -> dict[str, Any]:
    return {
        "name": "Quartier am Bahnhof",
        "measures": [
            {"kind": "new_housing", "area": polygon(QUARTER_LAUF), "storeys": 4, "dwellings": 300},
            {"kind": "add_facility", "facility": "kita", "location": point(11.2775, 49.5098), "capacity": 75},
            {"kind": "green_space", "area": polygon(QUARTER_LAUF)},
            {"kind": "hazard", "area": polygon(QUARTER_LAUF)},
            {"kind": "projection", "years": 10},
        ],
    }


def rostock_spec(con: Any) -> dict[str, Any]:
    centres = con.execute(
        "SELECT code, ST_X(ST_PointOnSurface(geom_wgs84)), ST_Y(ST_PointOnSurface(geom_wgs84)) FROM districts "
        "WHERE level = 'stadtbereich' ORDER BY code"
    ).fetchall()
    facilities = [
        {"kind": "add_facility", "facility": kind, "location": point(lon, lat), "capacity": capacity}
        for _, lon, lat in centres
        for kind, capacity in (("kita", 90), ("school", 400))
    ]
    housing = {
        "kind": "new_housing",
        "area": polygon(QUARTER_ROSTOCK),
        "storeys": 5,
        "dwellings": 400,
        "mix": "like:stadtbereich:L",
    }
    return {"name": "Südstadt-Erweiterung", "measures": [housing, *facilities, {"kind": "projection", "years": 10}]}


def timed(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def households_of(base: Any) -> int:
    """The published households of a baseline (the simulation sees published units, not households)."""
    return round(float(base.units.households[:, 0].sum()))


def one_facility_spec(lon: float, lat: float) -> dict[str, Any]:
    return {"name": "baseline", "measures": [{"kind": "add_facility", "facility": "kita", "location": point(lon, lat)}]}


def scaled(base: Any, target: int) -> Any:
    """Lauf's baseline with its published units copied (home points offset by up to 30 m) to about ``target``
    households."""
    from twin3d.simulation.accessibility import compute_accessibility, locate_homes  # noqa: PLC0415

    u = base.units
    copies = max(1, round(target / u.households[:, 0].sum()))
    rng = np.random.default_rng(1)
    n_points, n_units, n_members = len(u.point_x), len(u), len(u.member_unit)
    offset = rng.uniform(-30, 30, size=(copies * n_points, 2))
    copy_of_member = np.repeat(np.arange(copies), n_members)
    units = replace(
        u,
        ids=np.tile(u.ids, copies),
        persons=np.tile(u.persons, (copies, 1)),
        households=np.tile(u.households, (copies, 1)),
        shown=np.tile(u.shown, (copies, 1)),
        added=np.tile(u.added, copies),
        point_x=np.tile(u.point_x, copies) + offset[:, 0],
        point_y=np.tile(u.point_y, copies) + offset[:, 1],
        member_unit=np.tile(u.member_unit, copies) + copy_of_member * n_units,
        member_point=np.tile(u.member_point, copies) + copy_of_member * n_points,
        member_weight=np.tile(u.member_weight, copies),
        building_ids=np.tile(u.building_ids, copies),
        building_member=np.tile(u.building_member, copies)
        + np.repeat(np.arange(copies), len(u.building_member)) * n_members,
        building_weight=np.tile(u.building_weight, copies),
    )
    homes = locate_homes(base.model, units.point_x, units.point_y)
    return replace(
        base,
        units=units,
        homes=homes,
        accessibility=compute_accessibility(homes, units, base.facilities, base.catalogue, base.config),
    )


def bench(store_dir: Path, scale: int) -> None:
    from twin3d.simulation.engine import load_baseline, run_scenario  # noqa: PLC0415
    from twin3d.simulation.scenario import ScenarioSpec  # noqa: PLC0415
    from twin3d.store.connection import connect  # noqa: PLC0415

    cases: list[tuple[str, str, Any]] = [("lauf", "lauf", lauf_spec), ("rostock", "rostock", rostock_spec)]
    bases: dict[str, Any] = {}
    for case, twin, make_spec in cases:
        con = connect(store_dir / f"{twin}.duckdb", read_only=True)
        key_file = store_dir / f"{twin}.privacy-key"
        started = time.perf_counter()
        base = load_baseline(con, REPO / "pipelines", key=key_file.read_bytes() if key_file.is_file() else None)
        cold = time.perf_counter() - started
        bases[twin] = base
        spec = ScenarioSpec.model_validate(make_spec(con) if twin == "rostock" else make_spec())
        con.close()
        warm, result = timed(lambda base=base, spec=spec: run_scenario(base, spec))
        lon, lat = spec.measures[0].area.coordinates[0][0]  # type: ignore[union-attr]
        plain, _ = timed(
            lambda base=base, lon=lon, lat=lat: run_scenario(
                base, ScenarioSpec.model_validate(one_facility_spec(lon, lat))
            )
        )
        tag = {
            "households": households_of(base),
            "units": len(base.units),
            "distance_method": result["distance_method"],
        }
        emit(f"{case}_cold_seconds", cold, "s", **tag)
        emit(
            f"{case}_warm_seconds",
            warm,
            "s",
            **tag,
            target=TARGETS[case],
            met=warm <= TARGETS[case],
            kpi_rows=len(result["kpis"]),
        )
        emit(f"{case}_one_facility_warm_seconds", plain, "s", **tag, note="baseline: a scenario adding one Kita")
        emit(f"{case}_vs_one_facility", warm / plain, "x", **tag)

    started = time.perf_counter()
    big = scaled(bases["lauf"], scale)
    cold = time.perf_counter() - started
    spec = ScenarioSpec.model_validate({**lauf_spec(), "measures": lauf_spec()["measures"][:-1]})
    warm, result = timed(lambda: run_scenario(big, spec), repeat=2)
    tag = {"households": households_of(big), "units": len(big.units), "distance_method": result["distance_method"]}
    emit("scale_cold_seconds", cold, "s", **tag, note="copying units and the baseline's indicators")
    emit(
        "scale_warm_seconds",
        warm,
        "s",
        **tag,
        target=TARGETS["scale"],
        met=warm <= TARGETS["scale"],
        note="the Lauf scenario without the projection",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, help="folder with built lauf.duckdb and rostock.duckdb")
    parser.add_argument("--scale", type=int, default=1_000_000, help="households of the scale case")
    args = parser.parse_args()
    if args.store is not None:
        bench(args.store, args.scale)
        return
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415
    from twin3d.settings import PathSettings  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="twin3d-bench-simulation-") as tmp:
        paths = PathSettings(store_dir=Path(tmp) / "var", tiles_dir=Path(tmp) / "tiles")
        for twin in ("lauf", "rostock"):
            build_twin(load_pipeline(REPO / "pipelines" / f"{twin}.toml"), paths)
        bench(paths.store_dir, args.scale)


if __name__ == "__main__":
    main()
