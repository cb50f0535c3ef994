"""Backtest of the district projection: Rostock's 21 Stadtbereiche from 2018 to 2023, using only data up to 2018.

Usage:
    python bench/projection_backtest.py                        # reads var/rostock.duckdb (twin3d build rostock)
    python bench/projection_backtest.py --store path/to.duckdb
    python bench/projection_backtest.py --build                # builds Rostock into a temporary folder first

One JSON line per figure: name, value, unit, and the baseline measured in the same run.

Method (twin3d.simulation.projection): each candidate trend method (no change; each district's damped log growth
over the last k = 2..6 years, with or without scaling to the city's own projected total; a damped trend of each
district's share of the city; each district's damped median yearly change) projects 5 years ahead from every
origin 2011..2013 (targets 2016..2018, so no figure after 2018 is read), and the one with the lowest mean MAPE is
applied once, from 2018 to 2023. Baseline:
no change (2023 = 2018), scored in the same run. The period holds COVID (2020-21) and the arrival of refugees from
Ukraine (2022), which no trend of 2005-2018 could know.

``hindsight_*`` figures score every candidate against 2023 after the fact. They were NOT used for the choice and
only show how far the choice made without 2019-2023 lies from the best this family of methods could have done.

The last figures show demand by year under the cohort projection of the published synthetic population (2023)
with ``pipelines/projection/germany.toml``: children 0-5 (Kita), 6-9 (primary school), persons 80+ (care),
2023 to 2033. Net migration per district = its mean yearly change 2018-2023 minus its projected natural balance
(a rough assumption, stated here so that nobody mistakes the figures for a forecast). Baseline: 2023 held constant.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings
from twin3d.simulation.projection import (
    DEMAND_GROUPS,
    ape,
    backtest,
    candidate_methods,
    district_history,
    load_rates,
    mape,
    project_cohorts,
    project_totals,
)
from twin3d.store.connection import connect

REPO = Path(__file__).resolve().parent.parent

BASE_YEAR, HORIZON, TARGET_MAPE = 2018, 5, 3.0
DEMAND_YEARS = 10


def emit(name: str, value: Any, unit: str, **extra: Any) -> None:
    print(json.dumps({"name": name, "value": value, "unit": unit, **extra}, ensure_ascii=False))


def persons_by_district(cur: Any) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Published replicate 0: district codes, and per person age, male, district index."""
    rows = cur.execute(
        "SELECT d.code, p.age, p.sex = 'm' FROM persons AS p JOIN households AS h USING (replicate, household_id) "
        "JOIN districts AS d ON d.district_id = h.district_id WHERE p.replicate = 0"
    ).fetchall()
    codes = sorted({r[0] for r in rows})
    index = {c: i for i, c in enumerate(codes)}
    return (
        codes,
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array([r[2] for r in rows], dtype=bool),
        np.array([index[r[0]] for r in rows], dtype=np.int64),
    )


def run_backtest(history: dict[str, dict[int, float]]) -> None:
    clock = time.perf_counter()
    result = backtest(history, BASE_YEAR, HORIZON)
    seconds = time.perf_counter() - clock
    chosen = result.validation.chosen
    scores = dict(result.validation.scores)
    context = {"base_year": BASE_YEAR, "target_year": result.target_year, "districts": len(result.actual)}
    emit(
        "projection_backtest_mape",
        round(result.mape, 3),
        "%",
        baseline=round(result.baseline_mape, 3),
        baseline_name="no change (2023 = 2018)",
        method=chosen.label,
        target=TARGET_MAPE,
        target_met=result.mape <= TARGET_MAPE,
        seconds=round(seconds, 3),
        **context,
    )
    emit("projection_backtest_baseline_no_change_mape", round(result.baseline_mape, 3), "%", **context)
    emit(
        "projection_backtest_mape_vs_baseline",
        round(result.mape / result.baseline_mape, 3),
        "ratio",
        baseline=1.0,
        note="MAPE of the method / MAPE of no change; below 1 is better than no change",
    )
    emit(
        "projection_validation_choice",
        chosen.label,
        "method",
        validation_mape=round(scores[chosen], 3),
        baseline=round(scores[next(m for m in scores if m.mode == "none")], 3),
        baseline_name="no change, same validation",
        origins=list(result.validation.origins),
        horizon=HORIZON,
        candidates=len(scores),
        data_years=f"{min(min(s) for s in history.values())}-{BASE_YEAR}",
        runner_up=[{"method": m.label, "validation_mape": round(s, 3)} for m, s in result.validation.scores[1:4]],
    )
    city_projected, city_actual = sum(result.projected.values()), sum(result.actual.values())
    emit(
        "projection_city_total_error",
        round((city_projected - city_actual) / city_actual * 100, 3),
        "%",
        projected=round(city_projected),
        actual=round(city_actual),
        baseline=round((sum(result.baseline.values()) - city_actual) / city_actual * 100, 3),
    )
    errors, baseline_errors = ape(result.projected, result.actual), ape(result.baseline, result.actual)
    for code in sorted(errors):
        emit(
            f"projection_ape_{code}",
            round(errors[code], 3),
            "%",
            baseline=round(baseline_errors[code], 3),
            base=round(history[code][BASE_YEAR]),
            projected=round(result.projected[code]),
            actual=round(result.actual[code]),
        )
    hindsight = sorted(
        (mape(project_totals(history, BASE_YEAR, HORIZON, m), result.actual), m.label) for m in candidate_methods()
    )
    emit(
        "hindsight_best_mape",
        round(hindsight[0][0], 3),
        "%",
        method=hindsight[0][1],
        chosen_rank=1 + [label for _, label in hindsight].index(chosen.label),
        candidates=len(hindsight),
        baseline=round(result.mape, 3),
        baseline_name="the method chosen without 2019-2023",
        note="scored against 2023 after the fact; not used for any choice",
    )


def run_demand(cur: Any, history: dict[str, dict[int, float]]) -> None:
    rates = load_rates(REPO / "pipelines" / "projection" / "germany.toml")
    codes, age, male, unit = persons_by_district(cur)
    natural = project_cohorts(age, male, unit, 1, rates, n_units=len(codes))
    recent = np.array([(history[c][2023] - history[c][BASE_YEAR]) / HORIZON for c in codes])
    migration = recent - (natural.births[0] - natural.deaths[0])
    clock = time.perf_counter()
    projection = project_cohorts(
        age, male, unit, DEMAND_YEARS, rates, net_migration_per_unit=migration, n_units=len(codes), start_year=2023
    )
    seconds = time.perf_counter() - clock
    city = projection.by_group().sum(axis=1)  # years x groups
    for g, name in enumerate(DEMAND_GROUPS):
        emit(
            f"demand_{name}",
            round(float(city[-1, g])),
            "persons",
            year=int(projection.years[-1]),
            baseline=round(float(city[0, g])),
            baseline_name="2023 held constant",
            by_year={int(y): round(float(v)) for y, v in zip(projection.years, city[:, g], strict=True)},
        )
    emit(
        "demand_projection_seconds",
        round(seconds, 4),
        "s",
        persons=len(age),
        units=len(codes),
        years=DEMAND_YEARS,
        deaths_first_year=round(float(projection.deaths[0].sum())),
        net_migration_per_year=round(float(migration.sum())),
    )
    emit(
        "demand_births_first_year",
        round(float(projection.births[0].sum())),
        "births",
        baseline=round(float((age <= 5).sum() / 6)),
        baseline_name="persons per year of age 0-5 in the 2023 population (recent births, less moves)",
        note="German rates on Rostock's women, above its recent cohorts (students, lower MV fertility)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", type=Path, default=REPO / "var" / "rostock.duckdb")
    parser.add_argument("--build", action="store_true", help="build Rostock into a temporary folder first")
    parser.add_argument("--no-demand", action="store_true", help="skip the demand figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store
        if args.build or not store.is_file():
            paths = PathSettings(pipelines_dir=REPO / "pipelines", store_dir=Path(tmp), tiles_dir=Path(tmp))
            build_twin(load_pipeline(REPO / "pipelines" / "rostock.toml"), paths)
            store = paths.store_file("rostock")
        con = connect(store, read_only=True)
        try:
            history = district_history(con, "stadtbereich")
            run_backtest(history)
            if not args.no_demand:
                run_demand(con, history)
        finally:
            con.close()


if __name__ == "__main__":
    main()
