"""The cohort-component projection: births, deaths, ageing and net migration of units by single year of age and sex.

:func:`project` is the one loop; every unit (district, H3 cell, the town) may have rates of its own, so a town
calibrated per district (:mod:`twin3d.simulation.calibration`) and a town on German priors run the same code.
Counts are expected values (floats), so no seed is involved. ``by_group`` gives demand by year (Kita 0-5, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from twin3d.simulation.projection_rates import AGES, FEMALE, MALE, MAX_AGE, ProjectionRates

DEMAND_GROUPS: dict[str, tuple[int, int]] = {"kita_0_5": (0, 5), "primary_6_9": (6, 9), "care_80_plus": (80, MAX_AGE)}


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


@dataclass(frozen=True)
class Migration:
    """Net migrants of each unit per projected year, by age and sex.

    The yearly total of unit u in projected year t = 1, 2, ... is ``damping**t * level[u] - replacement *
    natural[u]``, with ``natural`` the unit's births minus deaths of that year: ``replacement`` 1 says that, as in
    a town whose housing is full, whoever dies or is born is offset by moves and the total follows ``level``
    alone; 0 says that net migration is ``level`` whatever the natural change. The total is spread by ``pattern``
    (the net migrants by age a town's own history shows, shape (units, AGES, 2)), and what the total asks beyond
    the pattern's own sum by ``profile`` (shares per (age, sex), shape (AGES, 2), sum 1).

    Attributes:
        level: persons per year, shape (units,), or (years, units) for a given total per year (no damping then).
    """

    level: np.ndarray
    profile: np.ndarray
    pattern: np.ndarray | None = None
    damping: float = 1.0
    replacement: float = 0.0

    def of_year(self, t: int, natural: np.ndarray) -> np.ndarray:
        """Net migrants of projected year ``t`` (1-based) per (unit, age, sex), given each unit's natural change."""
        level = np.asarray(self.level, dtype=np.float64)
        total = level[t - 1] if level.ndim == 2 else self.damping**t * level
        total = total - self.replacement * natural
        if self.pattern is None:
            result: np.ndarray = total[:, None, None] * self.profile[None]
            return result
        beyond = total - self.pattern.sum(axis=(1, 2))
        return np.asarray(self.pattern + beyond[:, None, None] * self.profile[None])


def project(
    pyramid: np.ndarray,
    years: int,
    *,
    fertility: np.ndarray,
    qx: np.ndarray,
    male_share: float,
    migration: Migration | None = None,
    start_year: int = 0,
) -> CohortProjection:
    """Project units ``years`` years forward by the cohort-component method.

    Each year, in this order: births = sum over women of the fertility at their age at the start of the year
    (split into boys and girls by ``male_share``, entering at age 0); deaths = qx at the age at the start of the
    year; survivors become one year older (age MAX_AGE stays); then the year's net migrants are added to the
    end-of-year population (a loss never takes a count below zero; ``migration`` of the result says what was
    really added). Migrants are added at the end of the year, as the residual method of the calibration measures
    them, so that a fitted pattern reproduces its own years.

    Args:
        pyramid: expected persons, shape (units, AGES, 2), sex 0 women, 1 men.
        years: how many years to project.
        fertility: births per woman and year by age, shape (AGES,) or (units, AGES).
        qx: probability of dying within the year, shape (AGES, 2) or (units, AGES, 2).
        male_share: share of boys among births.
        migration: net migration (None: none).
        start_year: the calendar year of the base.
    """
    pop = np.asarray(pyramid, dtype=np.float64)
    if years < 0 or pop.ndim != 3 or pop.shape[1:] != (AGES, 2) or (pop < 0).any():
        raise ValueError(f"a pyramid needs the shape (units, {AGES}, 2), no negative counts and years >= 0")
    units = pop.shape[0]
    fert = np.broadcast_to(np.asarray(fertility, dtype=np.float64), (units, AGES))
    dying_rate = np.clip(np.broadcast_to(np.asarray(qx, dtype=np.float64), (units, AGES, 2)), 0.0, 1.0)
    flows = np.zeros((3, years, units))
    counts = [pop]
    for year in range(years):
        births = np.einsum("ua,ua->u", pop[:, :, FEMALE], fert)
        dying = pop * dying_rate
        survivors = pop - dying
        nxt = np.zeros_like(pop)
        nxt[:, 1:] = survivors[:, :-1]
        nxt[:, MAX_AGE] += survivors[:, MAX_AGE]
        nxt[:, 0, MALE] = births * male_share
        nxt[:, 0, FEMALE] = births * (1.0 - male_share)
        deaths = dying.sum(axis=(1, 2))
        if migration is not None:
            before = nxt.sum(axis=(1, 2))
            nxt = np.maximum(nxt + migration.of_year(year + 1, births - deaths), 0.0)
            flows[2, year] = nxt.sum(axis=(1, 2)) - before
        flows[0, year], flows[1, year] = births, deaths
        counts.append(nxt)
        pop = nxt
    return CohortProjection(start_year, np.stack(counts), flows[0], flows[1], flows[2])


def project_pyramid(
    pyramid: np.ndarray,
    years: int,
    rates: ProjectionRates,
    *,
    net_migration_per_unit: np.ndarray | float | None = None,
    start_year: int = 0,
) -> CohortProjection:
    """:func:`project` at one set of rates for every unit, with a given net migration spread by the rates'
    migration profile: persons per year, a scalar, one per unit (units,), or (years, units). A population given
    as expected persons by unit, age and sex: shape (units, AGES, 2) (the privacy gate's published units give
    such pyramids)."""
    pop = np.asarray(pyramid, dtype=np.float64)
    migration = None
    if net_migration_per_unit is not None and pop.ndim == 3:
        level = np.broadcast_to(np.asarray(net_migration_per_unit, dtype=np.float64), (max(years, 1), pop.shape[0]))
        migration = Migration(level=level, profile=rates.migration_profile())
    return project(
        pop,
        years,
        fertility=rates.fertility(),
        qx=rates.qx(),
        male_share=rates.births.male_share,
        migration=migration,
        start_year=start_year,
    )


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
    """:func:`project_pyramid` of persons given one by one.

    Args:
        ages, male, unit: per person: age in years (above MAX_AGE counts as MAX_AGE), sex, unit index.
        years: how many years to project; rates: :func:`~twin3d.simulation.projection_rates.load_rates`.
        net_migration_per_unit: persons per year: a scalar, one per unit (n_units,), or (years, n_units).
        n_units: number of units (default: largest index + 1); start_year: calendar year of the base.

    Example:
        >>> rates = load_rates(Path("pipelines/projection/germany.toml"))  # doctest: +SKIP
        >>> ages, male, unit = np.array([30, 80]), np.array([False, True]), np.array([0, 0])
        >>> p = project_cohorts(ages, male, unit, 10, rates)  # doctest: +SKIP
        >>> kita = p.by_group()[:, 0, 0]  # children 0-5 in unit 0, per year  # doctest: +SKIP
    """
    age, place = np.asarray(ages, dtype=np.int64), np.asarray(unit, dtype=np.int64)
    units = int(n_units if n_units is not None else (place.max() + 1 if len(place) else 0))
    if years < 0 or (age < 0).any() or (place < 0).any() or (place >= units).any():
        raise ValueError("years and ages must not be negative, and units must lie in 0..n_units-1")
    flat = (place * AGES + np.minimum(age, MAX_AGE)) * 2 + np.asarray(male, dtype=np.int64)
    pop = np.bincount(flat, minlength=units * AGES * 2).astype(np.float64).reshape(units, AGES, 2)
    return project_pyramid(pop, years, rates, net_migration_per_unit=net_migration_per_unit, start_year=start_year)
