"""Calibrating the cohort-component projection on a town's own history (German priors where it has none).

:func:`fit_town` fits one model per district from a :class:`~twin3d.io.stat_history.DistrictHistory`; it sees
only what the history holds, and :func:`~twin3d.io.stat_history.read_district_history` with a ``last_year`` never
opens a later file, so a backtest cannot see its own future. Why each step is done the way it is:

1. Base population by single year of age and sex. Rostock publishes ten age bands per district and, separately,
   men and women: the (age, sex) table is fitted to both margins by iterative proportional fitting, starting from
   the life table's stationary population, so that inside a band the ages follow survival (it matters in the open
   band of 75 and older) and the old are mostly women.
2. Fertility and mortality keep the prior's age profiles (``germany.toml``) times one factor per district, so that
   expected births (deaths) of the last years that start at a published age table match the observed ones (up to
   ``EVENT_YEARS``; an older table would make the people of earlier years too old). A district's factor is
   shrunk toward the town's (a Poisson-gamma estimate: the district's own events weigh against ``SHRINK_EVENTS``
   expected events at the town's factor), so that the 8 births a year of a small district make no fertility of
   their own. Where the newest age table is newer than the newest births file (births up to 2019, ages for 2023),
   the factor comes from the newest table's youngest band instead (children per woman of the child-bearing ages,
   divided by the share of a birth cohort that the band still holds in the years that have both): fertility fell
   after 2019 and the newest evidence must count.
3. Net migration by age, by the residual method: for each pair of consecutive age tables the district is
   projected one year without migration; observed minus projected bands are its net migrants by band. They also
   absorb what the expansion inside a band gets wrong at the band edges (East German cohorts are anything but
   smooth), which keeps short projections of the bands right. The mean over the pairs is the district's pattern,
   spread inside a band by the prior's migration profile.
4. The level of net migration: each district's yearly net migration from its totals (change minus natural
   balance), averaged over a window of years, damped over the horizon, with a share (``replacement``) of the
   natural change offset by moves, as in districts whose housing is full. Window, damping and replacement are
   chosen by rolling-origin validation on the history: from each origin, predict the totals ``HORIZON`` years on
   (with the natural change those years really had, as no age table before 2016 is published) and score the
   districts' MAPE; the lowest mean over the origins wins, the simplest on ties.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from twin3d.errors import InputError
from twin3d.io.stat_history import Band, DistrictHistory, read_district_history
from twin3d.simulation.cohort import CohortProjection, Migration, project
from twin3d.simulation.projection_rates import AGES, FEMALE, MAX_AGE, ProjectionRates, load_rates
from twin3d.tomlfile import load_toml_model

EVENT_YEARS = 5  # years of births and deaths behind the fertility and mortality factors
SHRINK_EVENTS = 50.0  # weight of the town's factor in a district's, in expected events
HORIZON = 5  # years ahead that the migration assumption is validated on
IPF_ROUNDS = 200


def band_matrix(bands: Sequence[Band]) -> np.ndarray:
    """One-hot (AGES, bands): which band each year of age belongs to (bands must cover 0..MAX_AGE, in order)."""
    out = np.zeros((AGES, len(bands)))
    start = 0
    for i, (lo, hi) in enumerate(bands):
        top = MAX_AGE if hi is None else hi
        if lo != start or top < lo or top > MAX_AGE:
            raise InputError(f"the age bands leave a gap or overlap at age {start}", hint="bands must cover 0-100")
        out[lo : top + 1, i] = 1.0
        start = top + 1
    if start != AGES:
        raise InputError(f"the age bands end at {start - 1}", hint="the last band must be open ('75 and older')")
    return out


def expand(counts: np.ndarray, bands: Sequence[Band], male: np.ndarray | None, seed: np.ndarray) -> np.ndarray:
    """Persons per (district, age, sex), fitted to the counts per (district, band) and men per district by IPF from
    ``seed`` (AGES, 2): shape (districts, AGES, 2). Without ``male`` the seed's sex ratio stays."""
    onehot = band_matrix(bands)
    band_of = onehot.argmax(axis=1)
    counts = np.asarray(counts, dtype=np.float64)
    x = np.broadcast_to(seed, (counts.shape[0], AGES, 2)).copy()
    sexes = None if male is None else np.stack([counts.sum(axis=1) - male, male], axis=1)
    for _ in range(IPF_ROUNDS):
        fitted = x.sum(axis=2) @ onehot
        x *= np.divide(counts, fitted, out=np.zeros_like(counts), where=fitted > 0)[:, band_of, None]
        if sexes is None:
            break
        by_sex = x.sum(axis=1)
        x *= np.divide(sexes, by_sex, out=np.zeros_like(sexes), where=by_sex > 0)[:, None, :]
        if np.abs(x.sum(axis=2) @ onehot - counts).max() < 1e-6:
            break
    return x


@dataclass(frozen=True)
class MigrationChoice:
    """How the level of net migration is carried forward (see the module docstring, step 4)."""

    window: int
    damping: float
    replacement: float

    @property
    def label(self) -> str:
        """A short name, e.g. ``mean of 4 y, phi=0.9, replacement 1``."""
        return f"mean of {self.window} y, phi={self.damping:g}, replacement {self.replacement:g}"


def migration_candidates(
    windows: Sequence[int] = (2, 3, 4, 5),
    dampings: Sequence[float] = (1.0, 0.9, 0.75, 0.5),
    replacements: Sequence[float] = (0.0, 0.5, 1.0),
) -> list[MigrationChoice]:
    """The choices the validation picks from, simplest first (no replacement, short window, no damping)."""
    return [MigrationChoice(k, phi, rho) for rho, k, phi in itertools.product(replacements, windows, dampings)]


@dataclass(frozen=True)
class MigrationValidation:
    """Mean MAPE of each choice over the origins (best first); each origin + horizon lies inside the history."""

    origins: tuple[int, ...]
    horizon: int
    scores: tuple[tuple[MigrationChoice, float], ...]

    @property
    def chosen(self) -> MigrationChoice:
        """The choice with the lowest mean MAPE."""
        return self.scores[0][0]


def _components(history: DistrictHistory) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Net migration and natural change per component year."""
    years = history.component_years()
    return (
        {y: history.net_migration(y) for y in years},
        {y: history.births[y] - history.deaths[y] for y in years},
    )


def _level(net: dict[int, np.ndarray], natural: dict[int, np.ndarray], end: int, choice: MigrationChoice) -> Any:
    window = range(end - choice.window + 1, end + 1)
    return np.mean([net[y] + choice.replacement * natural[y] for y in window], axis=0)


def validate_migration(
    history: DistrictHistory, horizon: int = HORIZON, candidates: Sequence[MigrationChoice] | None = None
) -> MigrationValidation:
    """Score each choice by projecting district totals ``horizon`` years from every origin of the history.

    Raises:
        InputError: the history has too few years of births, deaths and totals for one origin.
    """
    choices = list(candidates) if candidates is not None else migration_candidates()
    net, natural = _components(history)
    years = sorted(net)
    k_max = max(c.window for c in choices)
    origins = tuple(
        o
        for o in range(years[0] + k_max - 1 if years else 0, (years[-1] if years else 0) - horizon + 1)
        if all(y in net for y in range(o - k_max + 1, o + horizon + 1))
    )
    if not origins:
        raise InputError(
            f"too few years of births, deaths and totals to validate {horizon} years of migration",
            hint=f"the history needs {k_max + horizon} years in a row",
        )
    scored = []
    for index, choice in enumerate(choices):
        errors = []
        for o in origins:
            ahead = range(1, horizon + 1)
            level = _level(net, natural, o, choice)
            moved = sum(choice.damping**i * level - choice.replacement * natural[o + i] for i in ahead)
            projected = history.population[o] + sum(natural[o + i] for i in ahead) + moved
            actual = history.population[o + horizon]
            errors.append(float(np.mean(np.abs(projected - actual) / actual)) * 100.0)
        scored.append((float(np.mean(errors)), index, choice))
    scored.sort(key=lambda s: (s[0], s[1]))
    return MigrationValidation(origins, horizon, tuple((c, s) for s, _, c in scored))


def _sexes(history: DistrictHistory, year: int) -> np.ndarray | None:
    """Men per district in ``year``: published, or the latest earlier (else the earliest) year's share."""
    if year in history.male:
        return history.male[year]
    known = sorted(history.male)
    if not known:
        return None
    near = max((y for y in known if y < year), default=known[0])
    return np.asarray(history.male[near] / history.population[near] * history.ages[year].sum(axis=1))


def _scale(observed: np.ndarray, expected: np.ndarray) -> tuple[np.ndarray, float]:
    """Per district and town-wide: observed / expected events, the districts shrunk toward the town."""
    town = float(observed.sum() / expected.sum()) if expected.sum() > 0 else 1.0
    return (observed + SHRINK_EVENTS * town) / (expected + SHRINK_EVENTS), town


@dataclass(frozen=True)
class TownFit:
    """A town's cohort-component model per district, fitted on its history (see the module docstring).

    Attributes:
        base: persons per (district, age, sex) in ``base_year`` (the newest age table), expanded from the bands.
        fertility_scale, mortality_scale: per district, times the prior's rates; ``town_scales``: the town's.
        pattern: net migrants per year by (district, age, sex) from the residual method; level: net migrants per
            year per district at the end of the history (the chosen window's mean).
        evidence: which years each part was fitted on, for the method statement of a result.
    """

    codes: tuple[str, ...]
    base_year: int
    base: np.ndarray
    rates: ProjectionRates
    fertility_scale: np.ndarray
    mortality_scale: np.ndarray
    town_scales: tuple[float, float]
    pattern: np.ndarray
    level: np.ndarray
    validation: MigrationValidation
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def choice(self) -> MigrationChoice:
        """The migration assumption the validation chose."""
        return self.validation.chosen

    def fertility(self) -> np.ndarray:
        """Births per woman and year, shape (districts, AGES)."""
        return np.asarray(self.fertility_scale[:, None] * self.rates.fertility()[None])

    def qx(self) -> np.ndarray:
        """Probability of dying within the year, shape (districts, AGES, 2)."""
        return np.asarray(self.mortality_scale[:, None, None] * self.rates.qx()[None])

    def migration(self) -> Migration:
        """The districts' net migration under the chosen assumption."""
        choice = self.choice
        return Migration(
            level=self.level,
            profile=self.rates.migration_profile(),
            pattern=self.pattern,
            damping=choice.damping,
            replacement=choice.replacement,
        )

    def project(self, years: int, *, migration: bool = True, base: np.ndarray | None = None) -> CohortProjection:
        """The districts ``years`` years on from ``base`` (default: the fitted base year's population)."""
        return project(
            self.base if base is None else base,
            years,
            fertility=self.fertility(),
            qx=self.qx(),
            male_share=self.rates.births.male_share,
            migration=self.migration() if migration else None,
            start_year=self.base_year,
        )

    def town(self, name: str) -> TownRates:
        """The town as one unit: its own factors, the sum of its districts' migration pattern and level."""
        choice = self.choice
        fertility, mortality = self.town_scales
        return TownRates(
            rates=self.rates,
            fertility_scale=fertility,
            mortality_scale=mortality,
            pattern=self.pattern.sum(axis=0),
            level=float(self.level.sum()),
            births_per_year=self.evidence["births_per_year"],
            damping=choice.damping,
            replacement=choice.replacement,
            method={
                "model": "cohort_component",
                "rates": self.rates.source.region,
                "calibrated_on": name,
                "fertility_scale": round(fertility, 3),
                "fertility_years": self.evidence["fertility_years"],
                "mortality_scale": round(mortality, 3),
                "mortality_years": self.evidence["mortality_years"],
                "migration": "history",
                "migration_years": self.evidence["migration_years"],
                "migration_window": choice.window,
                "migration_damping": choice.damping,
                "migration_replacement": choice.replacement,
            },
        )


def _event_years(events: dict[int, np.ndarray], pyramids: dict[int, np.ndarray]) -> list[int]:
    """The last ``EVENT_YEARS`` years of births (deaths) whose population at the start is a published table: an
    older table would make the expected deaths of earlier years too many (its people are older), and the factor too
    low. Without such a year, the last years at the earliest table."""
    known = sorted(events)
    exact = [y for y in known if y - 1 in pyramids][-EVENT_YEARS:]
    return exact or known[-EVENT_YEARS:]


def _start(pyramids: dict[int, np.ndarray], year: int) -> np.ndarray:
    """The population at the start of ``year``: the table of the year before, else the earliest table."""
    return pyramids.get(year - 1, pyramids[min(pyramids)])


def _fertility_evidence(
    history: DistrictHistory, pyramids: dict[int, np.ndarray], fertility: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[int], int]:
    """Observed and expected births per district, the first and last year they stand for, and how many years
    (module docstring, step 2)."""
    newest, births_years = max(pyramids), sorted(history.births)
    if births_years and newest <= births_years[-1]:
        years = _event_years(history.births, pyramids)
        observed = np.sum([history.births[y] for y in years], axis=0)
        expected = np.sum([_start(pyramids, y)[:, :, FEMALE] @ fertility for y in years], axis=0)
        return observed, expected, [years[0], years[-1]], len(years)
    lo, hi = history.bands[0]
    width = (MAX_AGE if hi is None else hi) - lo + 1
    both = [t for t in pyramids if all(t - i in history.births for i in range(width))]
    held = [history.ages[t][:, 0].sum() / sum(history.births[t - i].sum() for i in range(width)) for t in both]
    retention = float(np.mean(held)) if held else 1.0
    observed = history.ages[newest][:, 0] / retention
    expected = width * (pyramids[newest][:, :, FEMALE] @ fertility)
    return observed, expected, [newest - width + 1, newest], width


def fit_town(
    history: DistrictHistory, rates: ProjectionRates, *, candidates: Sequence[MigrationChoice] | None = None
) -> TownFit:
    """Fit fertility, mortality and net migration per district on ``history`` (nothing else is read).

    ``candidates``: the migration assumptions the validation picks from (default :func:`migration_candidates`).

    Raises:
        InputError: the history has no age table, no births or deaths, or too few years to validate migration.
    """
    if not history.ages or not history.births or not history.deaths:
        raise InputError("a town's fit needs age tables, births and deaths", hint="see geodata/rostock/stat-history")
    seed = rates.stationary()
    pyramids = {y: expand(history.ages[y], history.bands, _sexes(history, y), seed) for y in sorted(history.ages)}
    fertility, qx = rates.fertility(), rates.qx()
    births_seen, births_expected, fertility_years, birth_years = _fertility_evidence(history, pyramids, fertility)
    fertility_scale, town_fertility = _scale(births_seen, births_expected)
    death_years = _event_years(history.deaths, pyramids)
    deaths_seen = np.sum([history.deaths[y] for y in death_years], axis=0)
    deaths_expected = np.sum([(_start(pyramids, y) * qx[None]).sum(axis=(1, 2)) for y in death_years], axis=0)
    mortality_scale, town_mortality = _scale(deaths_seen, deaths_expected)
    onehot = band_matrix(history.bands)
    pairs = [y for y in sorted(pyramids) if y - 1 in pyramids]
    residuals = []
    for y in pairs:
        natural = project(
            pyramids[y - 1],
            1,
            fertility=fertility_scale[:, None] * fertility[None],
            qx=mortality_scale[:, None, None] * qx[None],
            male_share=rates.births.male_share,
        )
        residuals.append(history.ages[y] - natural.counts[1].sum(axis=2) @ onehot)
    profile = rates.migration_profile()
    within = profile / np.maximum((profile.sum(axis=1) @ onehot) @ onehot.T, 1e-12)[:, None]
    by_band = np.mean(residuals, axis=0) if residuals else np.zeros((len(history.codes), len(history.bands)))
    pattern = (by_band @ onehot.T)[:, :, None] * within[None]
    validation = validate_migration(history, candidates=candidates)
    net, natural_change = _components(history)
    end = max(net)
    level = _level(net, natural_change, end, validation.chosen)
    window = [end - validation.chosen.window + 1, end]
    base_year = max(pyramids)
    return TownFit(
        codes=history.codes,
        base_year=base_year,
        base=pyramids[base_year],
        rates=rates,
        fertility_scale=fertility_scale,
        mortality_scale=mortality_scale,
        town_scales=(town_fertility, town_mortality),
        pattern=pattern,
        level=np.asarray(level),
        validation=validation,
        evidence={
            "fertility_years": fertility_years,
            "births_per_year": float(births_seen.sum()) / birth_years,
            "mortality_years": [death_years[0], death_years[-1]],
            "migration_years": [min(pairs[0] - 1, window[0]) if pairs else window[0], end],
            "pattern_years": [pairs[0] - 1, pairs[-1]] if pairs else [],
            "level_years": window,
        },
    )


@dataclass(frozen=True)
class TownRates:
    """What a scenario's outlook projects with: the prior rates, a town's factors and its net migration.

    ``level`` None: a town without history of its own; its net migration is the prior's ``net_rate`` times its
    population, spread by the prior's migration profile. ``method`` says which, for the result. The ``pattern`` was
    measured against the fit's own expansion of the age bands; on a population shaped otherwise inside the bands
    (the published synthetic one) the part of it that corrects the band edges is only approximate.
    """

    rates: ProjectionRates
    fertility_scale: float = 1.0
    mortality_scale: float = 1.0
    pattern: np.ndarray | None = None
    level: float | None = None
    damping: float = 1.0
    replacement: float = 0.0
    births_per_year: float | None = None
    method: dict[str, Any] = field(default_factory=dict)

    def based_on(self, pyramid: np.ndarray) -> TownRates:
        """These rates for projecting ``pyramid`` (AGES, 2), the town's population as another model shaped it
        (the published synthetic population): fertility rescaled so that it gives the town's recent births per
        year. Which ages inside a band the women have moves the births of a band by up to a tenth (Rostock's
        thin cohorts born after 1990 are in their early thirties now); the recent births are what was counted."""
        expected = float(np.asarray(pyramid)[:, FEMALE] @ self.rates.fertility())
        if self.births_per_year is None or expected <= 0:
            return self
        scale = self.births_per_year / expected
        return replace(self, fertility_scale=scale, method={**self.method, "fertility_scale": round(scale, 3)})

    def migration(self, pyramid: np.ndarray) -> Migration:
        """Net migration of the units of ``pyramid`` (units, AGES, 2): the town's, shared by population."""
        people = pyramid.sum(axis=(1, 2))
        share = people / people.sum() if people.sum() > 0 else np.full(len(people), 1.0 / max(len(people), 1))
        profile = self.rates.migration_profile()
        if self.level is None:
            return Migration(level=self.rates.migration.net_rate * people, profile=profile)
        pattern = None if self.pattern is None else share[:, None, None] * self.pattern[None]
        return Migration(
            level=self.level * share,
            profile=profile,
            pattern=pattern,
            damping=self.damping,
            replacement=self.replacement,
        )

    def project(self, pyramid: np.ndarray, years: int, *, start_year: int = 0) -> CohortProjection:
        """Project a pyramid (units, AGES, 2) ``years`` years with births, deaths and net migration."""
        pop = np.asarray(pyramid, dtype=np.float64)
        return project(
            pop,
            years,
            fertility=self.fertility_scale * self.rates.fertility(),
            qx=self.mortality_scale * self.rates.qx(),
            male_share=self.rates.births.male_share,
            migration=self.migration(pop),
            start_year=start_year,
        )


def prior_rates(rates: ProjectionRates) -> TownRates:
    """A town without history of its own: the prior's rates and its stated net migration rate."""
    return TownRates(
        rates=rates,
        method={
            "model": "cohort_component",
            "rates": rates.source.region,
            "calibrated_on": None,
            "fertility_scale": 1.0,
            "mortality_scale": 1.0,
            "migration": "prior",
            "migration_rate": rates.migration.net_rate,
        },
    )


class TownHistory(BaseModel):
    """``pipelines/projection/towns/<twin>.toml``: where a twin's own history lies (paths relative to the file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    town: str = Field(min_length=1, description="the town's name, as results name it")
    title: str = ""
    prior: str = "../germany.toml"
    history: list[str] = Field(min_length=1)
    attribution: str = ""


def town_rates(pipelines_dir: Path, twin: str | None, pyramid: np.ndarray | None = None) -> TownRates:
    """The outlook's rates of a twin: fitted on all of its history where ``projection/towns/<twin>.toml`` names
    one, else the German prior (``projection/germany.toml``). ``pyramid``: the population (AGES, 2) they will
    project, see :meth:`TownRates.based_on`.

    Raises:
        ConfigError: the town file is not valid; InputError: its history cannot be read or fitted.
    """
    found = town_history(pipelines_dir, twin)
    if found is None:
        return prior_rates(load_rates(pipelines_dir / "projection" / "germany.toml"))
    town, rates, folders = found
    fitted = fit_town(read_district_history(folders), rates).town(town.town)
    return fitted if pyramid is None else fitted.based_on(pyramid)


def town_history(pipelines_dir: Path, twin: str | None) -> tuple[TownHistory, ProjectionRates, list[Path]] | None:
    """The town file of a twin (``projection/towns/<twin>.toml``), its prior rates and its history folders; None
    for a twin without history.

    Raises:
        ConfigError: the town file is not valid.
    """
    path = pipelines_dir / "projection" / "towns" / f"{twin}.toml"
    if twin is None or not path.is_file():
        return None
    town = load_toml_model(path, TownHistory, what="town history file", hint="see pipelines/projection/towns/")
    return town, load_rates((path.parent / town.prior).resolve()), [(path.parent / f).resolve() for f in town.history]
