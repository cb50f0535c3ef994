"""Rates of the cohort-component projection: fertility, mortality and the age profile of net migration.

They come from ``pipelines/projection/<region>.toml`` (:func:`load_rates`), which cites its sources; a town's own
history scales them (:mod:`twin3d.simulation.calibration`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from twin3d.population.priors import PriorSource
from twin3d.tomlfile import load_toml_model

MAX_AGE = 100  # the oldest age kept; it is an open class (100 and older)
AGES = MAX_AGE + 1
FEMALE, MALE = 0, 1


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
    # Net migrants per resident and year of a town without a history of its own (a prior, not a fit).
    net_rate: float = Field(default=0.0, ge=-0.05, le=0.05)


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

    def stationary(self) -> np.ndarray:
        """The life table's stationary population per (age, sex), shape (AGES, 2): the persons alive at each age
        out of one year's births (split by ``births.male_share``) under these qx. It shapes a town's population
        inside an age band where the town publishes only the band."""
        q = self.qx()
        alive = np.concatenate([np.ones((1, 2)), np.cumprod(1.0 - q[:-1], axis=0)])
        boys = self.births.male_share
        result: np.ndarray = alive * np.array([1.0 - boys, boys])
        return result

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
    return load_toml_model(
        path, ProjectionRates, what="projection rates file", hint="see pipelines/projection/germany.toml"
    )
