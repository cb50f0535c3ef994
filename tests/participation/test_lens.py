"""The representation lens: self-descriptions fall into the twin's personas; small counts are withheld."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from h3ronpy.vector import coordinates_to_cells

from tests.conftest import PIPELINES
from twin3d.participation.lens import Persona, group_table, representation, withheld
from twin3d.population.h3cells import parent
from twin3d.population.personas import load_personas


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


def test_withholding_small_counts_and_what_would_give_them_away() -> None:
    counts = np.array([[0, 2, 7, 9, 30], [0, 0, 6, 7, 0], [5, 5, 5, 5, 5], [1, 0, 0, 0, 0]])
    hidden = withheld(counts, 5)
    assert hidden[0].tolist() == [False, True, True, False, False]  # 2 alone could be read off a total: 7 goes too
    assert not hidden[1].any()
    assert not hidden[2].any()
    assert hidden[3].tolist() == [True, False, False, False, False]  # nothing else to hide; totals below 5 go too
    for row, mask in zip(counts[:3], hidden[:3], strict=True):
        assert row[mask].sum() == 0 or row[mask].sum() >= 5


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
