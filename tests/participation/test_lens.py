"""The representation lens: self-descriptions fall into the twin's personas; participants count once; small counts
are withheld across rows, columns and totals so that no equation of the published table gives one away."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from h3ronpy.vector import coordinates_to_cells

from tests.conftest import PIPELINES
from twin3d.participation.lens import Persona, group_table, representation
from twin3d.population.h3cells import parent
from twin3d.population.personas import load_personas
from twin3d.population.privacy import suppress_with_margins, with_margins


@pytest.fixture(scope="module")
def personas() -> list[Persona]:
    catalogue = load_personas(PIPELINES / "personas.toml")
    return [Persona(p.id, p.name, p.name_en, p.match.model_dump(exclude_none=True)) for p in catalogue.persona]


def test_self_descriptions_fall_into_the_personas(personas: list[Persona]) -> None:
    ids = [p.id for p in personas]
    table = group_table(personas)

    def group(band: str | None, household: str | None) -> str | None:
        g = table[(band, household)]
        return ids[g] if g >= 0 else None

    assert group("30_44", "family_young_children") == "young_families"
    assert group("45_64", "family_school_children") == "school_families"
    assert group("18_29", "alone") == "young_singles"
    assert group("30_44", "alone") == "middle_singles"
    assert group("80_plus", "alone") == "very_old_alone"
    assert group("65_79", "couple") == "active_seniors"
    assert group("30_44", "couple") == "couples"
    # A household alone decides where every age agrees; an age alone rarely does.
    assert group(None, "single_parent") == "single_parents"
    assert group(None, "family_young_children") == "young_families"
    assert group("30_44", None) is None
    assert group(None, None) is None


def interval(table: np.ndarray, hidden: np.ndarray, at: tuple[int, int]) -> tuple[float, float]:
    """What an attacker can prove about one withheld entry: its least and greatest value given every published
    figure of the table with margins (linear programming over the withheld entries, all at least 0)."""
    from scipy.optimize import linprog  # noqa: PLC0415

    unknown = np.argwhere(hidden)
    index = {tuple(u): k for k, u in enumerate(unknown)}
    rows, cols = table.shape
    equations, values = [], []
    lines = [[(i, j) for j in range(cols - 1)] + [(i, cols - 1)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows - 1)] + [(rows - 1, j)] for j in range(cols)]
    for line in lines:
        coef, rhs = np.zeros(len(unknown)), 0.0
        for pos, (i, j) in enumerate(line):
            sign = -1.0 if pos == len(line) - 1 else 1.0  # interior entries minus the line's total = 0
            if hidden[i, j]:
                coef[index[(i, j)]] += sign
            else:
                rhs -= sign * table[i, j]
        if coef.any():
            equations.append(coef)
            values.append(rhs)
    target = np.zeros(len(unknown))
    target[index[at]] = 1.0
    bounds = [(0, None)] * len(unknown)
    low = linprog(target, A_eq=np.array(equations), b_eq=values, bounds=bounds)
    high = linprog(-target, A_eq=np.array(equations), b_eq=values, bounds=bounds)
    return float(low.fun), float(-high.fun) if high.status == 0 else float("inf")


def assert_protected(counts: np.ndarray, min_count: int) -> np.ndarray:
    table, hidden = with_margins(counts), suppress_with_margins(counts, min_count)
    small = (table > 0) & (table < min_count)
    assert (hidden >= small).all(), "every small count is withheld"
    for at in map(tuple, np.argwhere(small)):
        _, high = interval(table, hidden, at)
        assert high >= min_count, f"{at}: the published table proves it is at most {high}"
    return hidden


def test_a_total_beside_a_withheld_count_does_not_give_it_away() -> None:
    """The issue's attack: 7 contributions of "80+, living alone", 6 in cell A (shown) and 1 in cell B; the group
    total 7 would give the one in cell B away."""
    counts = np.array([[6, 20, 3], [1, 30, 12], [9, 9, 9]])
    hidden = assert_protected(counts, 5)
    assert hidden[1, 0]
    assert hidden[:, 0].sum() >= 2
    assert hidden[1, :].sum() >= 2


@pytest.mark.parametrize("seed", range(12))
def test_no_published_equation_pins_a_small_count(seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.uniform(0.5, 6), size=(int(rng.integers(2, 9)), int(rng.integers(2, 7))))
    counts[rng.random(counts.shape) < 0.2] = 0
    assert_protected(counts, 5)


def _cells(lon: np.ndarray, lat: np.ndarray, res: int) -> np.ndarray:
    return parent(np.asarray(coordinates_to_cells(lat, lon, 10)).astype(np.uint64), res)


def test_the_lens_compares_contributions_with_the_population(personas: list[Persona]) -> None:
    rng = np.random.default_rng(1)
    # Two populated res-8 cells: west (many young families) and east (mostly seniors).
    west = _cells(np.array([11.270]), np.array([49.510]), 8)[0]
    east = _cells(np.array([11.300]), np.array([49.510]), 8)[0]
    rows = [
        (west, 8, "*", 1000, 0.0, 0.0),
        (west, 8, "young_families", 600, 0.0, 0.0),
        (west, 8, "active_seniors", 100, 0.0, 0.0),
        (east, 8, "*", 1000, 0.0, 0.0),
        (east, 8, "young_families", 100, 0.0, 0.0),
        (east, 8, "active_seniors", 700, 0.0, 0.0),
    ]
    population = pa.table(
        {
            "h3": pa.array([r[0] for r in rows], pa.uint64()),
            "cell_resolution": pa.array([r[1] for r in rows], pa.uint8()),
            "persona": [r[2] for r in rows],
            "persons": pa.array([r[3] for r in rows], pa.int64()),
            "lon": [r[4] for r in rows],
            "lat": [r[5] for r in rows],
        }
    )
    # West: 40 young families and 8 couples. East: 3 seniors (withheld) and 9 without a self-description.
    n_west, n_couples, n_east, n_none = 40, 8, 3, 9
    n = n_west + n_couples + n_east + n_none
    lon = np.repeat([11.270, 11.300], [n_west + n_couples, n_east + n_none]) + rng.normal(0, 1e-5, n)
    lat = np.full(n, 49.510) + rng.normal(0, 1e-5, n)
    places = pa.table(
        {
            "h3_10": pa.array(np.asarray(coordinates_to_cells(lat, lon, 10)).astype(np.uint64)),
            "age_band": ["30_44"] * (n_west + n_couples) + ["65_79"] * n_east + [None] * n_none,
            "household": ["family_young_children"] * n_west + ["couple"] * (n_couples + n_east) + [None] * n_none,
            "participant": [f"p{i}" for i in range(n)],
        }
    )
    lens = representation(places, population, personas, resolution=8, min_count=5)
    groups = {g["id"]: g for g in lens["groups"]}
    assert groups["young_families"]["contributions"] == 40
    assert groups["active_seniors"]["contributions"] is None  # 3 < 5: withheld
    assert groups["couples"]["contributions"] is None  # 8, withheld too: 51 described - 40 would give the 3 away
    assert groups["single_parents"]["contributions"] == 0
    assert groups["young_families"]["contribution_share"] == pytest.approx(40 / 51, abs=1e-4)
    assert groups["young_families"]["population_share"] == pytest.approx(0.35)
    assert groups["active_seniors"]["under_heard"]
    assert not groups["young_families"]["under_heard"]
    assert "active_seniors" in lens["under_heard"]["groups"]
    assert "young_families" not in lens["under_heard"]["groups"]
    cells = {c["h3"]: c for c in lens["cells"]}
    assert len(cells) == 2
    east_cell = next(c for c in lens["cells"] if c["contributions"] == 12)
    assert east_cell["under_heard"]  # 12 of 60 contributions, half the population
    assert lens["under_heard"]["cells"] == [east_cell["h3"]]
    per_cell = [g for g in lens["cell_groups"] if g["h3"] == east_cell["h3"] and g["group"] == "active_seniors"]
    assert per_cell[0]["contributions"] is None
    assert per_cell[0]["population_share"] == pytest.approx(0.7)
    assert (lens["contributions"], lens["described"]) == (60, 51)


def test_a_participant_counts_once_however_many_places(personas: list[Persona]) -> None:
    """One participant with six pins (three cells) counts once: in the cell of most of their pins, in the group
    of their latest self-description."""
    here = _cells(np.array([11.270]), np.array([49.510]), 8)[0]
    population = pa.table(
        {
            "h3": pa.array([here, here], pa.uint64()),
            "cell_resolution": pa.array([8, 8], pa.uint8()),
            "persona": ["*", "very_old_alone"],
            "persons": pa.array([1000, 100], pa.int64()),
            "lon": [0.0, 0.0],
            "lat": [0.0, 0.0],
        }
    )
    n_others = 6
    lon = np.array([11.270] * (6 + n_others))
    lat = np.array([49.510] * (6 + n_others)) + np.r_[np.zeros(4), 1e-3, 2e-3, np.zeros(n_others)]
    places = pa.table(
        {
            "h3_10": pa.array(np.asarray(coordinates_to_cells(lat, lon, 10)).astype(np.uint64)),
            "age_band": ["80_plus"] * 6 + ["30_44"] * n_others,
            "household": ["alone"] * 6 + ["couple"] * n_others,
            "participant": ["one"] * 6 + [f"p{i}" for i in range(n_others)],
        }
    )
    lens = representation(places, population, personas, resolution=8, min_count=5)
    assert lens["contributions"] == 1 + n_others
    assert lens["counted"] == "participants"
    groups = {g["id"]: g for g in lens["groups"]}
    assert groups["very_old_alone"]["contributions"] is None  # one person: withheld, not 6
    # 7 described of whom 6 couples would give the one away: the couples are withheld too.
    assert lens["described"] == 1 + n_others
    assert groups["couples"]["contributions"] is None
