"""Attacks on the published population tables through HTTP, without a token: many overlapping queries over every
resolution, persona and bounding box, checked against the microdata in the store: no difference of two answers may
single out fewer than 50 persons or 25 households, or a persona group under 3 households. The Bavarian grid sample
(scattered 1 km cells, homes on the placement lattice) makes the gate merge far up the H3 hierarchy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h3
import numpy as np
import pytest

from tests.privacy.conftest import TWINS, Http
from twin3d.population.privacy import ALL, PrivacyRules, Units, assign_units, shown_groups
from twin3d.settings import PathSettings
from twin3d.store.connection import connect

pytestmark = pytest.mark.slow
RULES = PrivacyRules()


@dataclass(frozen=True)
class HouseholdUnits:
    """Replicate 0 of the store's households, grouped into units that every public row counts whole."""

    personas: list[str]
    size: np.ndarray  # per household: persons
    group: np.ndarray  # per household: persona index
    units: Units
    shown: np.ndarray  # (atoms, personas): the persona counts the gate shows
    unit_of: np.ndarray  # per household: its unit, one per (atom, persona)
    unit_households: np.ndarray
    unit_persons: np.ndarray

    def rows(self, resolution: int, persona: str) -> np.ndarray:
        """Per household: the h3 of the public row that counts it at ``resolution`` for ``persona``, 0 if none."""
        rows = self.units.household_rows(resolution)
        if persona == ALL:
            return rows
        g = self.personas.index(persona)
        return np.where((self.group == g) & self.shown[self.units.atom, g], rows, np.uint64(0))

    def row_index(self, resolution: int, persona: str) -> tuple[np.ndarray, np.ndarray]:
        """The households sorted by their row at ``resolution`` for ``persona``, and those rows, for look-ups."""
        rows = self.rows(resolution, persona)
        order = np.argsort(rows, kind="stable")
        return order, rows[order]

    def unit_set(self, households: np.ndarray) -> np.ndarray:
        """The units of a set of households (a public row counts whole units only)."""
        out = np.zeros(len(self.unit_households), bool)
        out[self.unit_of[households]] = True
        return out


def household_units(store_file: Path, rules: PrivacyRules) -> HouseholdUnits:
    """The test may read the microdata (read-only); the API may not."""
    with connect(store_file, read_only=True) as con:
        personas = [r[0] for r in con.execute("SELECT persona_id FROM personas ORDER BY position").fetchall()]
        table = con.execute("SELECT h3_10, size, persona FROM households WHERE replicate = 0").to_arrow_table()
    cells = table["h3_10"].to_numpy()
    size = table["size"].to_numpy().astype(np.int64)
    group = np.array([personas.index(p) for p in table["persona"].to_pylist()], np.int64)
    units = assign_units(cells, size, rules)
    shown = shown_groups(units, group, len(personas), rules)
    keys, unit_of = np.unique(units.atom * len(personas) + group, return_inverse=True)
    return HouseholdUnits(
        personas,
        size,
        group,
        units,
        shown,
        unit_of,
        np.bincount(unit_of, minlength=len(keys)).astype(np.float64),
        np.bincount(unit_of, weights=size, minlength=len(keys)),
    )


def differencing_leaks(
    sets: np.ndarray, star: np.ndarray, households: np.ndarray, persons: np.ndarray, rules: PrivacyRules
) -> tuple[int, int]:
    """For every pair of sets of which one lies inside the other, is their difference empty or safe?

    The weighted form of ``tests/population/test_privacy.differencing_leaks``: ``sets`` is (sets, units) bool over
    units of ``households`` households and ``persons`` persons each. Safe: both everyone-sets and the difference
    holds at least ``min_households`` households and ``min_persons`` persons, or else at least ``min_group``
    households. An empty set takes part, so a single unsafe set counts as a leak too.

    Returns:
        The number of nested pairs with a non-empty difference, and how many of those break the thresholds.
    """
    m = np.vstack([np.zeros(sets.shape[1]), sets.astype(np.float64)])
    star = np.append(True, star)
    shared_h, shared_p = (m * households) @ m.T, (m * persons) @ m.T
    h, p = np.diag(shared_h), np.diag(shared_p)
    nested = shared_h == h[None, :]  # [a, b]: b inside a
    diff_h, diff_p = h[:, None] - h[None, :], p[:, None] - p[None, :]
    safe_star = (diff_h >= rules.min_households) & (diff_p >= rules.min_persons)
    safe = (diff_h == 0) | np.where(np.outer(star, star), safe_star, diff_h >= rules.min_group)
    checked = nested & (diff_h > 0)
    return int(checked.sum()), int((checked & ~safe).sum())


def test_the_leak_checker_catches_a_small_difference() -> None:
    households, persons = np.array([30.0, 1.0, 40.0]), np.array([60.0, 2.0, 90.0])
    parent_and_child = np.array([[True, True, False], [True, False, False]])
    assert differencing_leaks(parent_and_child, np.array([True, True]), households, persons, RULES) == (3, 1)
    alone = np.array([[False, True, False]])
    assert differencing_leaks(alone, np.array([True]), households, persons, RULES) == (1, 1), "one unsafe set leaks"
    safe = np.array([[True, False, True], [True, False, False]])
    assert differencing_leaks(safe, np.array([True, True]), households, persons, RULES)[1] == 0


@pytest.mark.parametrize("twin", TWINS)
def test_overlapping_public_queries_single_out_no_small_group(
    http: Http, privacy_paths: PathSettings, twin: str
) -> None:
    """Cross-resolution and bounding-box differencing over /population/h3 (resolutions 7-10, every persona)."""
    micro = household_units(privacy_paths.store_file(twin), RULES)
    centres = http.ndjson(f"/api/twins/{twin}/population/h3", resolution=10)
    lons, lats = np.array([r["lon"] for r in centres]), np.array([r["lat"] for r in centres])
    rng = np.random.default_rng(2023)
    index: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
    sets, star, row_sets, row_star = [], [], {}, {}
    span = max(lons.max() - lons.min(), lats.max() - lats.min())
    for _ in range(240):
        resolution = int(rng.integers(7, 11))
        persona = ALL if rng.random() < 0.5 else str(rng.choice(micro.personas))
        cx, cy = rng.uniform(lons.min(), lons.max()), rng.uniform(lats.min(), lats.max())
        hx, hy = np.exp(rng.uniform(np.log(span / 50), np.log(span / 2), 2))
        bbox = f"{cx - hx},{cy - hy},{cx + hx},{cy + hy}"
        rows = http.ndjson(f"/api/twins/{twin}/population/h3", resolution=resolution, persona=persona, bbox=bbox)
        order, sorted_rows = index.setdefault((resolution, persona), micro.row_index(resolution, persona))
        selected = np.zeros(len(order), bool)
        for row in rows:
            # Each published row is exactly the gate's row for these households, up to the noise per atom.
            cell = np.uint64(h3.str_to_int(row["h3"]))
            inside = order[np.searchsorted(sorted_rows, cell) : np.searchsorted(sorted_rows, cell, side="right")]
            atoms = len(np.unique(micro.units.atom[inside]))
            assert atoms > 0, row
            slack = RULES.noise_amplitude * atoms
            assert abs(row["households"] - len(inside)) <= slack, row
            assert abs(row["persons"] - int(micro.size[inside].sum())) <= slack, row
            selected[inside] = True
            key = (resolution, persona, row["h3"])
            row_sets[key], row_star[key] = micro.unit_set(inside), persona == ALL
        sets.append(micro.unit_set(np.flatnonzero(selected)))
        star.append(persona == ALL)
    # The queries, and a sample of the single rows they returned, against each other.
    sample = rng.permutation(len(row_sets))[:300]
    keys = list(row_sets)
    all_sets = np.array(sets + [row_sets[keys[i]] for i in sample])
    all_star = np.array(star + [row_star[keys[i]] for i in sample])
    checked, leaks = differencing_leaks(all_sets, all_star, micro.unit_households, micro.unit_persons, RULES)
    assert checked > 2_000, "too few nested pairs to mean anything"
    assert leaks == 0
