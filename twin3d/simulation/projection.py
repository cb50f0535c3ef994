"""Population projections: the cohort-component model, and a trend model of district totals.

- The cohort-component projection (births, deaths, ageing, net migration by age) lives in
  :mod:`twin3d.simulation.cohort`, its rates in :mod:`twin3d.simulation.projection_rates`, and its calibration on
  a town's own history (with German priors where there is none) in :mod:`twin3d.simulation.calibration`; their
  names are re-exported here for the callers of this module.
- :func:`project_totals`: district totals carried forward by damped trends, with no age structure at all.
  :func:`backtest` picks the trend method by rolling-origin validation on the years up to the base year only,
  projects once, and scores the result next to the no-change baseline. ``bench/projection_backtest.py`` reports
  it beside the cohort-component backtest, as a comparison.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from twin3d.errors import InputError
from twin3d.simulation.cohort import (
    DEMAND_GROUPS,
    CohortProjection,
    Migration,
    project,
    project_cohorts,
    project_pyramid,
)
from twin3d.simulation.projection_rates import AGES, FEMALE, MALE, MAX_AGE, ProjectionRates, load_rates

__all__ = [
    "AGES",
    "DEMAND_GROUPS",
    "FEMALE",
    "MALE",
    "MAX_AGE",
    "NO_CHANGE",
    "Backtest",
    "CohortProjection",
    "Migration",
    "ProjectionRates",
    "TrendMethod",
    "Validation",
    "ape",
    "backtest",
    "candidate_methods",
    "choose_method",
    "district_history",
    "load_rates",
    "mape",
    "project",
    "project_cohorts",
    "project_pyramid",
    "project_totals",
]

History = Mapping[str, Mapping[int, float]]


# ----------------------------------------------------------------------------------------------------------------
# District totals without an age structure: damped trends, chosen by validation on the past.


@dataclass(frozen=True)
class TrendMethod:
    """How district totals are carried forward.

    Attributes:
        mode: ``none`` (no change), ``growth`` (each district's own mean log growth over the last ``k`` years),
            ``share`` (each district's mean yearly change of its share of the city over the last ``k`` years,
            times the city total projected by its own growth) or ``steps`` (each district's median yearly change
            in persons over the last ``k`` years: one year with a new home for refugees or a demolished block
            does not become the trend, as it does in a mean).
        k: years of history behind the trend.
        damping: phi of the damped trend: year i ahead adds phi**i times the yearly trend (0: none, 1: linear).
        constrained: ``growth`` only: scale the districts so that they add up to the city's own projected total.
    """

    mode: Literal["none", "growth", "share", "steps"]
    k: int = 1
    damping: float = 0.0
    constrained: bool = False

    @property
    def label(self) -> str:
        """A short name, e.g. ``growth k=5 phi=0.75 constrained``."""
        if self.mode == "none":
            return "no change"
        return f"{self.mode} k={self.k} phi={self.damping:g}" + (" constrained" if self.constrained else "")


NO_CHANGE = TrendMethod("none")


def candidate_methods(
    ks: Sequence[int] = (2, 3, 4, 5, 6), dampings: Sequence[float] = (0.25, 0.5, 0.75, 0.9, 1.0)
) -> list[TrendMethod]:
    """The methods the validation chooses from, simplest first (ties go to the earlier one)."""
    out = [NO_CHANGE]
    for mode, constrained in (("growth", False), ("growth", True), ("share", False), ("steps", False)):
        out += [TrendMethod(mode, k, phi, constrained) for k in ks for phi in dampings]  # type: ignore[arg-type]
    return out


def _upto(history: History, year: int) -> dict[str, dict[int, float]]:
    """The history without any year after ``year``: the only data a projection from ``year`` may see."""
    return {unit: {y: float(v) for y, v in series.items() if y <= year} for unit, series in history.items()}


def project_totals(history: History, base_year: int, horizon: int, method: TrendMethod) -> dict[str, float]:
    """Project each unit's total from ``base_year`` to ``base_year + horizon``.

    Values of years after ``base_year`` are ignored, so a projection can never see its own future.

    Raises:
        InputError: a unit lacks a value (or has a non-positive one) in a year the method needs.
    """
    past = _upto(history, base_year)
    units = sorted(past)
    span = method.k if method.mode != "none" else 0
    needed = set(range(base_year - span, base_year + 1)) if method.mode == "steps" else {base_year, base_year - span}
    lacking = [(unit, year) for unit in units for year in sorted(needed) if not past[unit].get(year, 0.0) > 0]
    if lacking:
        raise InputError(f"no positive total of {lacking[0][0]!r} in {lacking[0][1]}", hint="the trend needs it")
    now = np.array([past[u][base_year] for u in units])
    if method.mode == "none":
        return dict(zip(units, now.tolist(), strict=True))
    then = np.array([past[u][base_year - method.k] for u in units])
    steps = sum(method.damping**i for i in range(1, horizon + 1))  # the damped trend's years ahead
    if method.mode == "steps":
        window = np.array([[past[u][y] for y in range(base_year - method.k, base_year + 1)] for u in units])
        yearly = np.median(np.diff(window, axis=1), axis=1)
        return dict(zip(units, np.maximum(now + yearly * steps, 0.0).tolist(), strict=True))
    city = now.sum() * math.exp(math.log(now.sum() / then.sum()) / method.k * steps)
    if method.mode == "growth":
        out = now * np.exp(np.log(now / then) / method.k * steps)
        if method.constrained:
            out *= city / out.sum()
    else:
        share = np.clip(now / now.sum() + (now / now.sum() - then / then.sum()) / method.k * steps, 0.0, None)
        out = share / share.sum() * city
    return dict(zip(units, out.tolist(), strict=True))


def ape(projected: Mapping[str, float], actual: Mapping[str, float]) -> dict[str, float]:
    """Absolute percentage error per unit."""
    return {u: abs(projected[u] - actual[u]) / actual[u] * 100.0 for u in sorted(actual)}


def mape(projected: Mapping[str, float], actual: Mapping[str, float]) -> float:
    """Mean absolute percentage error over the units, in percent."""
    return float(np.mean(list(ape(projected, actual).values())))


@dataclass(frozen=True)
class Validation:
    """Rolling-origin validation: each method projects from each origin ``o`` to ``o + horizon <= base_year``."""

    origins: tuple[int, ...]
    horizon: int
    scores: tuple[tuple[TrendMethod, float], ...]  # mean MAPE over the origins, best first

    @property
    def chosen(self) -> TrendMethod:
        """The method with the lowest mean MAPE."""
        return self.scores[0][0]


def choose_method(
    history: History, base_year: int, horizon: int, candidates: Sequence[TrendMethod] | None = None
) -> Validation:
    """Choose the trend method by projecting the past: only years up to ``base_year`` are looked at.

    The origins are every year ``o`` with ``o + horizon <= base_year`` and ``o - k_max`` inside the history, so
    that all candidates are scored on the same origins.
    """
    past = _upto(history, base_year)
    methods = list(candidates) if candidates is not None else candidate_methods()
    first = max(min(series) for series in past.values())
    k_max = max(m.k for m in methods)
    origins = tuple(range(first + k_max, base_year - horizon + 1))
    if not origins:
        raise InputError(f"too few years before {base_year} to validate a {horizon}-year projection")
    scored = []
    for index, method in enumerate(methods):
        errors = [
            mape(project_totals(past, o, horizon, method), {u: past[u][o + horizon] for u in past}) for o in origins
        ]
        scored.append((float(np.mean(errors)), index, method))
    scored.sort(key=lambda s: (s[0], s[1]))
    return Validation(origins, horizon, tuple((m, score) for score, _, m in scored))


@dataclass(frozen=True)
class Backtest:
    """A projection from ``base_year`` to ``target_year`` with the chosen method, next to the no-change baseline."""

    base_year: int
    target_year: int
    validation: Validation
    projected: dict[str, float]
    baseline: dict[str, float]
    actual: dict[str, float]

    @property
    def mape(self) -> float:
        """MAPE of the chosen method, percent."""
        return mape(self.projected, self.actual)

    @property
    def baseline_mape(self) -> float:
        """MAPE of no change (target = base year), percent."""
        return mape(self.baseline, self.actual)


def backtest(
    history: History, base_year: int, horizon: int, candidates: Sequence[TrendMethod] | None = None
) -> Backtest:
    """Choose a method on the years up to ``base_year``, project once, and compare with the real target year."""
    target = base_year + horizon
    missing = [u for u, series in history.items() if target not in series]
    if missing:
        raise InputError(f"no total of {', '.join(sorted(missing))} in {target} to compare with")
    validation = choose_method(history, base_year, horizon, candidates)
    return Backtest(
        base_year,
        target,
        validation,
        project_totals(history, base_year, horizon, validation.chosen),
        project_totals(history, base_year, horizon, NO_CHANGE),
        {u: float(history[u][target]) for u in sorted(history)},
    )


def district_history(cur: Any, level: str, variable: str = "population") -> dict[str, dict[int, float]]:
    """``{district code: {year: value}}`` of one statistic from a store's ``district_stats``."""
    rows = cur.execute(
        "SELECT d.code, s.year, s.value FROM district_stats AS s JOIN districts AS d USING (district_id) "
        "WHERE d.level = ? AND s.variable = ? AND s.value IS NOT NULL ORDER BY d.code, s.year",
        [level, variable],
    ).fetchall()
    out: dict[str, dict[int, float]] = {}
    for code, year, value in rows:
        out.setdefault(str(code), {})[int(year)] = float(value)
    return out
