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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from twin3d.io.stat_history import DistrictHistory, read_district_history
from twin3d.simulation.calibration import TownFit, fit_town, town_history
from twin3d.simulation.cohort import CohortProjection
from twin3d.simulation.projection_rates import ProjectionRates

HORIZON = 5


@dataclass(frozen=True)
class BacktestScore:
    """District totals at the target year: projected by a fit, observed, and in the fit's last year (no change)."""

    fit: TownFit
    fit_until: int
    target_year: int
    projected: np.ndarray
    actual: np.ndarray
    base: np.ndarray

    @property
    def error(self) -> np.ndarray:
        """Signed error of the projection per district, in percent of the observed total."""
        return np.asarray((self.projected - self.actual) / self.actual * 100.0)

    @property
    def baseline_error(self) -> np.ndarray:
        """Signed error of "no change" per district, in percent."""
        return np.asarray((self.base - self.actual) / self.actual * 100.0)

    def as_dict(self) -> dict[str, Any]:
        """MAPE, the no-change MAPE and each district's signed errors, JSON-ready (the population report's)."""
        error, baseline = self.error, self.baseline_error
        return {
            "fit_until": self.fit_until,
            "target_year": self.target_year,
            "mape": round(float(np.abs(error).mean()), 3),
            "baseline_mape": round(float(np.abs(baseline).mean()), 3),
            "method": f"cohort-component; migration: {self.fit.choice.label}",
            "districts": [
                {
                    "code": code,
                    "base": round(float(self.base[i])),
                    "projected": round(float(self.projected[i])),
                    "actual": round(float(self.actual[i])),
                    "error_pct": round(float(error[i]), 2),
                    "baseline_error_pct": round(float(baseline[i]), 2),
                }
                for i, code in enumerate(self.fit.codes)
            ],
        }


def score_backtest(fit: TownFit, full: DistrictHistory, horizon: int, projection: CohortProjection) -> BacktestScore:
    """The fit's projection ``horizon`` years on from its base year against the full history's totals."""
    start = fit.base_year
    return BacktestScore(
        fit,
        start,
        start + horizon,
        projection.totals()[horizon],
        full.population[start + horizon],
        full.population[start],
    )


def district_backtest(
    folders: Sequence[Path], rates: ProjectionRates, *, fit_until: int, horizon: int = HORIZON
) -> dict[str, Any]:
    """District totals projected from ``fit_until`` by the cohort-component fit on the history up to it, against
    the register ``horizon`` years on: MAPE, the no-change MAPE, and the signed error of each district."""
    past = read_district_history(folders, last_year=fit_until)
    fit = fit_town(past, rates)
    score = score_backtest(fit, read_district_history(folders), horizon, fit.project(horizon))
    return {
        **score.as_dict(),
        "files_read": len(past.files),
        "later_files_left_unopened": len(past.left_out),
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
