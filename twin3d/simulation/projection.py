"""Population projections: cohort ageing of the synthetic persons, and a trend model of district totals.

- :func:`project_cohorts`: a deterministic cohort-component projection on a unit x age x sex count array (units:
  districts, H3 cells). Each year: births (fertility of women), deaths (qx), ageing, net migration spread by an age
  profile. Counts are expected values, so no seed is involved. ``by_group`` gives demand by year (Kita 0-5, ...).
- :func:`project_totals`: district totals where no age structure of the base year exists (Rostock published age
  tables by district only for 2023). :func:`backtest` picks its trend method by rolling-origin validation on the
  years up to the base year only, projects once, and scores the result next to the no-change baseline.

Rates come from ``pipelines/projection/<region>.toml`` (:func:`load_rates`), which cites its sources.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from twin3d.errors import ConfigError, InputError
from twin3d.population.priors import PriorSource

MAX_AGE = 100  # the oldest age kept; it is an open class (100 and older)
AGES = MAX_AGE + 1
FEMALE, MALE = 0, 1
DEMAND_GROUPS: dict[str, tuple[int, int]] = {"kita_0_5": (0, 5), "primary_6_9": (6, 9), "care_80_plus": (80, MAX_AGE)}

History = Mapping[str, Mapping[int, float]]


def _band(key: str) -> tuple[int, int]:
    """``"15-19"`` -> (15, 19); ``"0"`` -> (0, 0); ``"95+"`` -> (95, MAX_AGE)."""
    text = key.strip()
    try:
        if text.endswith("+"):
            return int(text[:-1]), MAX_AGE
        lo, _, hi = text.partition("-")
        return int(lo), int(hi or lo)
    except ValueError:
        raise ValueError(f"age group {key!r} is not 'a-b', 'a' or 'a+'") from None


def _by_age(table: Mapping[str, float], *, cover: bool) -> np.ndarray:
    """One value per year of age from a table by age group (groups must not overlap; ``cover``: span 0..MAX_AGE)."""
    out = np.zeros(AGES)
    seen = np.zeros(AGES, dtype=bool)
    for key, value in table.items():
        lo, hi = _band(key)
        if not 0 <= lo <= hi <= MAX_AGE:
            raise ValueError(f"age group {key!r} lies outside 0..{MAX_AGE}")
        if seen[lo : hi + 1].any():
            raise ValueError(f"age group {key!r} overlaps another group")
        seen[lo : hi + 1] = True
        out[lo : hi + 1] = value
    if cover and not seen.all():
        raise ValueError(f"the age groups leave out age {int(np.flatnonzero(~seen)[0])}")
    return out


def _covering(value: dict[str, float]) -> dict[str, float]:
    _by_age(value, cover=True)
    return value


def _fertile(value: dict[str, float]) -> dict[str, float]:
    rates = _by_age(value, cover=False)
    if rates[:10].any() or rates[56:].any():
        raise ValueError("fertility must lie within ages 10 to 55")
    return value


def _adding_to_one(value: dict[str, float]) -> dict[str, float]:
    if abs(sum(value.values()) - 1.0) > 0.01:
        raise ValueError(f"the shares must add up to 1 (they add up to {sum(value.values()):.3f})")
    return value


Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Covered = Annotated[dict[str, Probability], AfterValidator(_covering)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Births(_Strict):
    male_share: float = Field(gt=0.4, lt=0.6)
    fertility: Annotated[dict[str, Annotated[float, Field(ge=0.0, le=0.3)]], AfterValidator(_fertile)]


class _Deaths(_Strict):
    male: Covered
    female: Covered


class _Migration(_Strict):
    male_share: float = Field(ge=0.3, le=0.7)
    age_profile: Annotated[Covered, AfterValidator(_adding_to_one)]


class ProjectionRates(_Strict):
    """Fertility, mortality and the net-migration age profile of a region, with their source."""

    source: PriorSource
    births: _Births
    deaths: _Deaths
    migration: _Migration

    def fertility(self) -> np.ndarray:
        """Births per woman and year, per year of age (0..MAX_AGE)."""
        return _by_age(self.births.fertility, cover=False)

    def qx(self) -> np.ndarray:
        """Probability of dying within the year, shape (AGES, 2): column 0 women, column 1 men."""
        return np.stack([_by_age(self.deaths.female, cover=True), _by_age(self.deaths.male, cover=True)], axis=1)

    def migration_profile(self) -> np.ndarray:
        """Share of a year's net migrants per (age, sex), shape (AGES, 2), sum 1: a group's share is spread evenly."""
        per_age = np.zeros(AGES)
        for key, share in self.migration.age_profile.items():
            lo, hi = _band(key)
            per_age[lo : hi + 1] = share / (hi - lo + 1)
        shares: np.ndarray = (per_age / per_age.sum())[:, None] * np.array(
            [1 - self.migration.male_share, self.migration.male_share]
        )
        return shares

    def total_fertility(self) -> float:
        """Children per woman over a lifetime at these rates (TFR)."""
        return float(self.fertility().sum())

    def life_expectancy(self, *, male: bool) -> float:
        """Life expectancy at birth implied by the qx table (deaths at mid-year, open class at MAX_AGE)."""
        q = self.qx()[:, MALE if male else FEMALE]
        alive = np.concatenate([[1.0], np.cumprod(1.0 - q[:-1])])
        years = alive - 0.5 * alive * q
        years[-1] = alive[-1] / q[-1] if q[-1] > 0 else alive[-1]
        return float(years.sum())


def load_rates(path: Path) -> ProjectionRates:
    """Read and validate a rates file (``pipelines/projection/<region>.toml``).

    Raises:
        ConfigError: the file is missing, not TOML, or a value is wrong (the message names the field).
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("projection rates file not found", file=path) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=path) from exc
    try:
        return ProjectionRates.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{where}: {first['msg']}", file=path, hint="see pipelines/projection/germany.toml") from exc


@dataclass(frozen=True)
class CohortProjection:
    """Expected persons per year, unit, age and sex, and the flows of each projected year.

    Attributes:
        start_year: the calendar year of ``counts[0]`` (the base population).
        counts: shape (years + 1, units, AGES, 2), sex 0 women, 1 men; age MAX_AGE holds everyone older too.
        births, deaths, migration: shape (years, units), the flows during year ``start_year + i + 1``.
    """

    start_year: int
    counts: np.ndarray
    births: np.ndarray
    deaths: np.ndarray
    migration: np.ndarray

    @property
    def years(self) -> np.ndarray:
        """Calendar year of each row of ``counts``."""
        return self.start_year + np.arange(self.counts.shape[0])

    def totals(self) -> np.ndarray:
        """Persons per year and unit, shape (years + 1, units)."""
        result: np.ndarray = self.counts.sum(axis=(2, 3))
        return result

    def by_group(self, groups: Mapping[str, tuple[int, int]] = DEMAND_GROUPS) -> np.ndarray:
        """Persons per year, unit and age group (inclusive bounds), shape (years + 1, units, len(groups))."""
        by_age = self.counts.sum(axis=3)
        return np.stack([by_age[:, :, lo : hi + 1].sum(axis=2) for lo, hi in groups.values()], axis=2)


def project_cohorts(
    ages: np.ndarray,
    male: np.ndarray,
    unit: np.ndarray,
    years: int,
    rates: ProjectionRates,
    *,
    net_migration_per_unit: np.ndarray | float | None = None,
    n_units: int | None = None,
    start_year: int = 0,
) -> CohortProjection:
    """Age a population ``years`` years forward, by the cohort-component method.

    Each year, in this order: births = sum over women of the fertility at their age at the start of the year
    (split into boys and girls by ``births.male_share``, entering at age 0); deaths = qx at the age at the start
    of the year; survivors become one year older (age MAX_AGE stays); then the unit's net migration of the year
    is added, spread over ages and sexes by the migration profile (a loss never takes a count below zero).

    Args:
        ages, male, unit: per person: age in years (above MAX_AGE counts as MAX_AGE), sex, unit index.
        years: how many years to project; rates: :func:`load_rates`.
        net_migration_per_unit: persons per year: a scalar, one per unit (n_units,), or (years, n_units).
        n_units: number of units (default: largest index + 1); start_year: calendar year of the base.

    Example:
        >>> p = project_cohorts(np.array([30, 80]), np.array([False, True]), np.array([0, 0]), 10, rates)
        >>> kita = p.by_group()[:, 0, 0]  # children 0-5 in unit 0, per year
    """
    age, place = np.asarray(ages, dtype=np.int64), np.asarray(unit, dtype=np.int64)
    units = int(n_units if n_units is not None else (place.max() + 1 if len(place) else 0))
    if years < 0 or (age < 0).any() or (place < 0).any() or (place >= units).any():
        raise ValueError("years and ages must not be negative, and units must lie in 0..n_units-1")
    flat = (place * AGES + np.minimum(age, MAX_AGE)) * 2 + np.asarray(male, dtype=np.int64)
    pop = np.bincount(flat, minlength=units * AGES * 2).astype(np.float64).reshape(units, AGES, 2)
    return project_pyramid(pop, years, rates, net_migration_per_unit=net_migration_per_unit, start_year=start_year)


def project_pyramid(
    pyramid: np.ndarray,
    years: int,
    rates: ProjectionRates,
    *,
    net_migration_per_unit: np.ndarray | float | None = None,
    start_year: int = 0,
) -> CohortProjection:
    """:func:`project_cohorts` of a population given as expected persons by unit, age and sex: shape
    (units, AGES, 2), sex 0 women, 1 men (the privacy gate's published units give such pyramids)."""
    pop = np.asarray(pyramid, dtype=np.float64)
    if years < 0 or pop.ndim != 3 or pop.shape[1:] != (AGES, 2) or (pop < 0).any():
        raise ValueError(f"a pyramid needs the shape (units, {AGES}, 2), no negative counts and years >= 0")
    units = pop.shape[0]
    flows = np.zeros((3, years, units))
    migrants = np.broadcast_to(
        np.asarray(0.0 if net_migration_per_unit is None else net_migration_per_unit), (years, units)
    )
    fertility, qx, profile = rates.fertility(), rates.qx(), rates.migration_profile()
    boys = rates.births.male_share
    counts = [pop]
    for year in range(years):
        births = pop[:, :, FEMALE] @ fertility
        dying = pop * qx[None]
        survivors = pop - dying
        nxt = np.zeros_like(pop)
        nxt[:, 1:] = survivors[:, :-1]
        nxt[:, MAX_AGE] += survivors[:, MAX_AGE]
        nxt[:, 0, MALE] = births * boys
        nxt[:, 0, FEMALE] = births * (1.0 - boys)
        before = nxt.sum(axis=(1, 2))
        nxt = np.maximum(nxt + migrants[year][:, None, None] * profile[None], 0.0)
        flows[:, year] = births, dying.sum(axis=(1, 2)), nxt.sum(axis=(1, 2)) - before
        counts.append(nxt)
        pop = nxt
    return CohortProjection(start_year, np.stack(counts), flows[0], flows[1], flows[2])


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
