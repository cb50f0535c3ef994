"""Single years of age and families in the built demo twins, checked from outside on the persons table; the
single-year machinery on small inputs; and hold-outs that influence nothing."""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pytest
from pyproj import CRS

from tests.conftest import PIPELINES
from tests.population.test_synthesis import household_table, person_table
from twin3d.population.ages import (
    MAX_STEP,
    MIN_PARENT_GAP,
    YEARS,
    assign_ages,
    band_starts,
    fill_bands,
    national_profile,
    smooth_to_bands,
)
from twin3d.population.controls import AreaStats
from twin3d.population.inputs import inputs_from_store
from twin3d.population.personas import load_personas
from twin3d.population.priors import load_priors
from twin3d.population.synthesis import PopulationInputs, SynthesisSpec, synthesise

PRIORS = load_priors(PIPELINES / "priors" / "germany.toml")
PERSONAS = load_personas(PIPELINES / "personas.toml")
# The Rostock register's bands (alter_2023.csv), first and last year.
ROSTOCK_BANDS = [(0, 2), (3, 5), (6, 14), (15, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74), (75, 99)]


def persons_by_year(con: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    """District name -> persons per single year 0..99 (replicate 0)."""
    rows = con.execute(
        """
        SELECT d.name, p.age, count(*)
        FROM persons p JOIN households h USING (replicate, household_id) JOIN districts d USING (district_id)
        WHERE p.replicate = 0 GROUP BY ALL
        """
    ).fetchall()
    out: dict[str, np.ndarray] = {}
    for name, age, n in rows:
        out.setdefault(name, np.zeros(YEARS))[min(age, YEARS - 1)] += n
    return out


def test_single_years_are_smooth_inside_every_band_of_every_rostock_district(stores: dict[str, Any]) -> None:
    by_year = persons_by_year(stores["rostock"])
    assert len(by_year) == 21
    worst: list[tuple[float, str, int]] = []
    for name, counts in by_year.items():
        for lo, hi in ROSTOCK_BANDS:
            x, y = counts[lo:hi], counts[lo + 1 : hi + 1]
            # At most 35 % apart, give or take the one person whole persons round to (4 and 6 very old people).
            assert (np.maximum(x, y) <= 1.35 * np.minimum(x, y) + 1).all(), (name, lo, hi, counts[lo : hi + 1])
            ratio = np.maximum(x, y) / np.maximum(np.minimum(x, y), 1)
            worst.append((float(ratio.max()), name, lo))
    # Where a year holds 20 or more persons, the limit holds without any allowance.
    big = [
        r
        for name, counts in by_year.items()
        for lo, hi in ROSTOCK_BANDS
        for a in range(lo, hi)
        if min(counts[a], counts[a + 1]) >= 20
        for r in [max(counts[a], counts[a + 1]) / min(counts[a], counts[a + 1])]
    ]
    assert max(big) <= 1.35
    # The band edges are no steps either: the whole city's 15-year-olds are within 15 % of its 14-year-olds.
    city = sum(by_year.values())
    for edge in (15, 25, 75, 80):
        assert abs(city[edge] / city[edge - 1] - 1) < 0.15, (edge, city[edge - 1], city[edge])


def test_students_outnumber_teenagers_in_the_university_quarters(stores: dict[str, Any]) -> None:
    by_year = persons_by_year(stores["rostock"])
    for quarter in ("Kröpeliner-Tor-Vorstadt", "Südstadt"):
        counts = by_year[quarter]
        assert counts[19:25].mean() > 1.3 * counts[15:18].mean(), quarter
    # Every district has young adults: they are at least 40 % of its 15-24-year-olds.
    for name, counts in by_year.items():
        assert counts[18:25].sum() >= 0.4 * counts[15:25].sum(), name


@pytest.mark.parametrize("twin", ["rostock", "lauf"])
def test_every_parent_is_at_least_15_years_older_than_the_eldest_child(stores: dict[str, Any], twin: str) -> None:
    families, too_close = (
        stores[twin]
        .execute(
            """
        WITH f AS (
            SELECT replicate, household_id,
                   max(age) FILTER (WHERE role = 'child') AS eldest_child,
                   min(age) FILTER (WHERE role = 'adult') AS youngest_adult
            FROM persons GROUP BY ALL HAVING count(*) FILTER (WHERE role = 'child') > 0)
        SELECT count(*), count(*) FILTER (WHERE youngest_adult - eldest_child < 15) FROM f
        """
        )
        .fetchone()
    )
    assert families > (15_000 if twin == "rostock" else 3_000)
    assert too_close == 0


def test_the_single_years_are_the_published_ones_and_add_up() -> None:
    years = PRIORS.persons.single_years
    assert sum(years.counts) + years.open_total == 84_669_326
    profile = national_profile(years)
    assert profile.shape == (YEARS,)
    assert profile.sum() == pytest.approx(84_669_326)
    assert profile[:90].tolist() == [float(c) for c in years.counts]
    # The open class declines steadily from the 89-year-olds on.
    tail = profile[89:]
    assert (np.diff(tail) < 0).all()
    assert np.allclose(tail[1:] / tail[:-1], tail[1] / tail[0])


def test_smoothing_keeps_band_totals_and_bends_across_band_edges() -> None:
    profile = national_profile(PRIORS.persons.single_years)
    # A university quarter: few children, many young adults.
    totals = np.array([[481, 458, 1104, 3174, 4607, 3203, 1922, 1774, 1144, 1344.0]])
    starts, full = fill_bands(profile, ROSTOCK_BANDS, totals, totals.sum(axis=1))
    assert starts.tolist() == [lo for lo, _ in ROSTOCK_BANDS]
    expected = smooth_to_bands(profile, starts, full)
    assert np.allclose(np.add.reduceat(expected, starts, axis=1), totals)
    steps = expected[0, 1:] / expected[0, :-1]
    inside = np.isin(np.arange(YEARS - 1), starts - 1, invert=True)
    assert (np.maximum(steps, 1 / steps)[inside] <= MAX_STEP + 1e-9).all()
    assert expected[0, 19:25].mean() > 1.5 * expected[0, 15:18].mean()


def test_gaps_between_bands_share_what_the_known_bands_leave() -> None:
    profile = national_profile(PRIORS.persons.single_years)
    starts, full = fill_bands(profile, [(0, 14), (65, 99)], np.array([[100.0, 300.0]]), np.array([1000.0]))
    assert starts.tolist() == [0, 15, 65]
    assert full.tolist() == [[100.0, 600.0, 300.0]]
    with pytest.raises(ValueError, match="overlaps"):
        band_starts([(0, 14), (10, 20)])


def test_assign_ages_meets_the_quota_and_keeps_parents_15_years_older() -> None:
    rng = np.random.default_rng(5)
    # 400 households: a mother of 25-29 (class 5) with a child of 6-14 (class 2), and 400 single women of 25-29.
    n = 400
    klass = np.concatenate([np.tile([5, 2], n), np.full(n, 5)])
    child = np.concatenate([np.tile([False, True], n), np.zeros(n, dtype=bool)])
    starts = np.concatenate([np.arange(0, 2 * n, 2), np.arange(2 * n, 3 * n)])
    # Expected: flat, as many per year in the two classes as there are persons, 100 per year elsewhere.
    expected = np.full((1, YEARS), 100.0)
    expected[0, 6:15], expected[0, 25:30] = n / 9, 2 * n / 5
    age = assign_ages(
        klass,
        child,
        ~child,
        household_start=starts,
        unit=np.zeros(len(klass), dtype=np.int64),
        expected=expected,
        parents=PRIORS.persons.parents,
        rng=rng,
    )
    mothers, children = age[: 2 * n : 2], age[1 : 2 * n : 2]
    assert (mothers - children >= MIN_PARENT_GAP).all()
    # Flat quota: each year of a class gets its share of the class's persons.
    assert np.bincount(age[klass == 5], minlength=30)[25:30].tolist() == [160] * 5
    assert set(np.bincount(children, minlength=15)[6:15].tolist()) == {44, 45}


def _changed(inputs: PopulationInputs, factors: dict[str, float]) -> PopulationInputs:
    """The same inputs with some district or grid variables scaled."""

    def scale(area: AreaStats | None) -> AreaStats | None:
        if area is None:
            return None
        values = {k: v * factors.get(k, 1.0) for k, v in area.values.items()}
        return AreaStats(area.ids, area.geometry, values)

    return PopulationInputs(inputs.crs, scale(inputs.districts), scale(inputs.grid), inputs.buildings)


@pytest.mark.parametrize(
    ("twin", "holdout", "factors"),
    [
        # More men and as many women: scaling both alike would not change the grid's sex ratio.
        ("lauf", ("male", "female"), {"male": 1.37}),
        ("rostock", ("single_under_30", "age_25_34"), {"single_under_30_pct": 1.37, "age_25_34": 1.2}),
    ],
)
def test_a_held_out_control_changes_nothing(
    stores: dict[str, Any], twin: str, holdout: tuple[str, ...], factors: dict[str, float]
) -> None:
    crs, level, year = (25832, None, None) if twin == "lauf" else (25833, "stadtbereich", 2023)
    inputs = inputs_from_store(stores[twin], CRS.from_epsg(crs), level, year)
    spec = SynthesisSpec(seed=11, holdout=holdout)
    first = synthesise(inputs, spec, PRIORS, PERSONAS)
    other = synthesise(_changed(inputs, factors), spec, PRIORS, PERSONAS)
    assert person_table(first).equals(person_table(other))
    assert household_table(first, PERSONAS, inputs).equals(household_table(other, PERSONAS, inputs))
    for name in holdout:
        assert not np.isfinite(first.zones.targets.get(name, np.full(1, np.nan))).any()
