"""The projection's backtest: fit on a town's history up to a year, project ahead, compare with what came.

It answers a statistician's first question about a projection: how far off would it have been? The fit reads
its history with ``last_year`` (:func:`~twin3d.io.stat_history.read_district_history` never opens a later file);
only the scoring reads the later totals. The baseline of the same run is "no change".

Example:
    >>> district_backtest(folders, rates, fit_until=2018, horizon=5)["mape"]  # doctest: +SKIP
    3.18
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from twin3d.io.stat_history import read_district_history
from twin3d.simulation.calibration import fit_town, town_history
from twin3d.simulation.projection_rates import ProjectionRates

HORIZON = 5


def district_backtest(
    folders: Sequence[Path], rates: ProjectionRates, *, fit_until: int, horizon: int = HORIZON
) -> dict[str, Any]:
    """District totals projected from ``fit_until`` by the cohort-component fit on the history up to it, against
    the register ``horizon`` years on: MAPE, the no-change MAPE, and the signed error of each district."""
    past = read_district_history(folders, last_year=fit_until)
    full = read_district_history(folders)
    target = fit_until + horizon
    fit = fit_town(past, rates)
    projected = fit.project(horizon).totals()[-1]
    actual, base = full.population[target], full.population[fit_until]
    error = (projected - actual) / actual * 100.0
    baseline = (base - actual) / actual * 100.0
    return {
        "fit_until": fit_until,
        "target_year": target,
        "mape": round(float(np.abs(error).mean()), 3),
        "baseline_mape": round(float(np.abs(baseline).mean()), 3),
        "method": f"cohort-component; migration: {fit.choice.label}",
        "files_read": len(past.files),
        "later_files_left_unopened": len(past.left_out),
        "districts": [
            {
                "code": code,
                "base": round(float(base[i])),
                "projected": round(float(projected[i])),
                "actual": round(float(actual[i])),
                "error_pct": round(float(error[i]), 2),
                "baseline_error_pct": round(float(baseline[i]), 2),
            }
            for i, code in enumerate(fit.codes)
        ],
    }


def town_backtest(pipelines_dir: Path, twin: str, horizon: int = HORIZON) -> dict[str, Any] | None:
    """The backtest of a twin with a history of its own (None without one, or without ``horizon`` years after an
    age table): from the latest age table whose year plus ``horizon`` has register totals."""
    found = town_history(pipelines_dir, twin)
    if found is None:
        return None
    _, rates, folders = found
    history = read_district_history(folders)
    origins = [y for y in history.ages if y + horizon in history.population]
    if not origins:
        return None
    return district_backtest(folders, rates, fit_until=max(origins), horizon=horizon)
