"""The privacy gate on households placed at real Lauf building footprints, attacked with overlapping queries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import h3
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyogrio
import pytest
import shapely
from h3ronpy import change_resolution
from h3ronpy.vector import cells_to_coordinates, coordinates_to_cells

from tests.conftest import GEODATA
from twin3d.errors import ConfigError, InputError
from twin3d.population.privacy import (
    ALL,
    SCHEMA,
    PrivacyRules,
    Units,
    assign_units,
    publish_atoms,
    publish_population,
    shown_groups,
)

LAUF_BUILDINGS = GEODATA / "lauf" / "osm" / "lauf_buildings.geojson"
NAMES = ("family", "couple", "single", "senior", "student", "shared")
SHARES = (0.3, 0.25, 0.25, 0.12, 0.05, 0.03)
RULES = PrivacyRules()
EXACT = PrivacyRules(noise_amplitude=0)
KEY = b"test-only key"

Member = Callable[[int, str], np.ndarray]  # (resolution, persona) -> per household the h3 of its row, 0 = not counted


@dataclass(frozen=True)
class Town:
    cells: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    size: np.ndarray
    group: np.ndarray

    def publish(self, rules: PrivacyRules = RULES, *, key: bytes = KEY) -> pa.Table:
        return publish_population(self.cells, self.group, self.size, NAMES, key=key, rules=rules)


@pytest.fixture(scope="module")
def town() -> Town:
    """About 4,200 households in Lauf's buildings; the east is thinned to an eighth, so merging climbs far."""
    _, table = pyogrio.read_arrow(LAUF_BUILDINGS, columns=[])
    centre = shapely.centroid(shapely.from_wkb(table.column("wkb_geometry")))
    lon, lat = shapely.get_x(centre), shapely.get_y(centre)
    rng = np.random.default_rng(7)
    per_building = rng.poisson(1.3, len(lon))
    per_building[(lon > 11.275) & (rng.random(len(lon)) > 0.12)] = 0
    home = np.repeat(np.arange(len(lon)), per_building)
    cells = np.asarray(coordinates_to_cells(lat[home], lon[home], 10))
    size = rng.choice(np.arange(1, 7), len(home), p=[0.38, 0.33, 0.13, 0.11, 0.04, 0.01])
    group = rng.choice(len(NAMES), len(home), p=SHARES)
    return Town(cells, lon[home], lat[home], size, group)


@pytest.fixture(scope="module")
def units(town: Town) -> Units:
    return assign_units(town.cells, town.size, RULES)


def gate_member(town: Town, units: Units) -> Member:
    shown = shown_groups(units, town.group, len(NAMES), RULES)

    def member(resolution: int, persona: str) -> np.ndarray:
        rows = units.household_rows(resolution)
        if persona == ALL:
            return rows
        g = NAMES.index(persona)
        return np.where((town.group == g) & shown[units.atom, g], rows, np.uint64(0))

    return member


def atom_group_counts(town: Town, units: Units) -> np.ndarray:
    flat = np.bincount(units.atom * len(NAMES) + town.group, minlength=len(units.atom_ids) * len(NAMES))
    return flat.reshape(-1, len(NAMES))


def naive_gate(town: Town, resolutions: tuple[int, ...] = (8, 9)) -> tuple[pa.Table, Member]:
    """Thresholds applied to each resolution on its own: every row is safe, but differences are not."""
    tables, shown_at = [], {}
    for r in resolutions:
        cell = np.asarray(change_resolution(town.cells, r))
        ids, of = np.unique(cell, return_inverse=True)
        safe = (np.bincount(of, town.size) >= 50) & (np.bincount(of) >= 25)
        by_group = np.bincount(of * len(NAMES) + town.group, minlength=len(ids) * len(NAMES)).reshape(-1, len(NAMES))
        shown = np.column_stack([safe, safe[:, None] & (by_group >= 3)])
        shown_at[r] = (cell, shown[of])
        row, code = np.nonzero(shown)
        personas = pa.array([ALL, *NAMES]).take(pa.array(code))
        tables.append(pa.table({"resolution": np.full(len(row), r, np.uint8), "h3": ids[row], "persona": personas}))

    def member(resolution: int, persona: str) -> np.ndarray:
        cell, shown = shown_at[resolution]
        code = 0 if persona == ALL else 1 + NAMES.index(persona)
        counted = shown[:, code] & ((town.group == code - 1) | (code == 0))
        return np.where(counted, cell, np.uint64(0))

    return pa.concat_tables(tables), member


def random_queries(table: pa.Table, n: int, seed: int) -> list[tuple[int, str, np.ndarray]]:
    """Public queries: a resolution, a persona or "*", and the rows whose cell centre lies in a random box."""
    rng = np.random.default_rng(seed)
    centres = cells_to_coordinates(table.column("h3").to_numpy())
    lat, lon = np.asarray(centres.column("lat")), np.asarray(centres.column("lng"))
    resolution, persona = table.column("resolution").to_numpy(), table.column("persona").to_numpy(zero_copy_only=False)
    x0, x1, y0, y1 = lon.min(), lon.max(), lat.min(), lat.max()
    queries = []
    for _ in range(n):
        r = int(rng.choice(np.unique(resolution)))
        p = ALL if rng.random() < 0.5 else str(rng.choice(NAMES))
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        hx, hy = np.exp(rng.uniform(np.log(0.002), np.log(0.03), 2))
        inside = (np.abs(lon - cx) <= hx) & (np.abs(lat - cy) <= hy) & (resolution == r) & (persona == p)
        queries.append((r, p, table.column("h3").to_numpy()[inside]))
    return queries


def differencing_leaks(
    town: Town, member: Member, queries: list[tuple[int, str, np.ndarray]], rules: PrivacyRules
) -> tuple[int, int]:
    """For every pair of queries whose household sets are nested, is the difference empty or safe?

    Returns:
        The number of nested pairs with a non-empty difference, and how many of those break the thresholds.
        The empty query takes part, so a single unsafe query counts as a leak too.
    """
    sets, star = [np.zeros(len(town.cells), bool)], [True]
    for r, persona, selected in queries:
        rows = member(r, persona)
        sets.append(np.isin(rows, selected) & (rows != 0))
        star.append(persona == ALL)
    m = np.array(sets, np.float64)
    shared_h, shared_p = m @ m.T, (m * town.size) @ m.T
    h, p = np.diag(shared_h), np.diag(shared_p)
    nested = shared_h == h[None, :]  # [a, b]: b inside a
    diff_h, diff_p = h[:, None] - h[None, :], p[:, None] - p[None, :]
    both_star = np.outer(star, star)
    safe_star = (diff_h >= rules.min_households) & (diff_p >= rules.min_persons)
    safe = (diff_h == 0) | np.where(both_star, safe_star, diff_h >= rules.min_group)
    checked = nested & (diff_h > 0)
    return int(checked.sum()), int((checked & ~safe).sum())


def test_differencing_attack_with_overlapping_queries_recovers_nothing_small(town: Town, units: Units) -> None:
    queries = random_queries(town.publish(), 500, seed=1)
    checked, leaks = differencing_leaks(town, gate_member(town, units), queries, RULES)
    assert checked > 20_000, "too few nested query pairs to mean anything"
    assert leaks == 0


def test_attack_checker_catches_a_gate_that_thresholds_each_resolution_alone(town: Town) -> None:
    table, member = naive_gate(town)
    single_rows = [(int(r["resolution"]), r["persona"], np.array([r["h3"]], np.uint64)) for r in table.to_pylist()]
    assert all(differencing_leaks(town, member, [row], RULES)[1] == 0 for row in single_rows), "each row is safe"
    assert differencing_leaks(town, member, single_rows, RULES)[1] > 0, "a parent minus its child is not"
    checked, leaks = differencing_leaks(town, member, random_queries(table, 500, seed=1), RULES)
    assert checked > 10_000
    assert leaks > 0


def test_every_row_covers_enough_persons_and_households(town: Town, units: Units) -> None:
    table, member = town.publish(EXACT), gate_member(town, units)
    for r in RULES.resolutions:
        for persona in (ALL, *NAMES):
            rows = member(r, persona)
            cells, of, households = np.unique(rows[rows != 0], return_inverse=True, return_counts=True)
            persons = np.bincount(of, town.size[rows != 0])
            part = table.filter(pc.and_(pc.equal(table["resolution"], r), pc.equal(table["persona"], persona)))
            # Without noise the table is exactly the membership: the audit below is about what users see.
            assert np.array_equal(part["h3"].to_numpy(), cells)
            assert np.array_equal(part["households"].to_numpy(), households)
            assert np.array_equal(part["persons"].to_numpy(), persons)
            if persona == ALL:
                assert len(cells) > 0
                assert households.min() >= RULES.min_households
                assert persons.min() >= RULES.min_persons
            else:
                assert households.min(initial=RULES.min_group) >= RULES.min_group


def test_persona_counts_hide_small_groups_and_their_complement(town: Town, units: Units) -> None:
    counts = atom_group_counts(town, units)
    shown = shown_groups(units, town.group, len(NAMES), RULES)
    small = (counts > 0) & (counts < RULES.min_group)
    assert small.sum() > 20, "the test data must contain small groups"
    assert not shown[small].any()
    assert (counts[shown] >= RULES.min_group).all()
    hidden = np.where(shown, 0, counts).sum(axis=1)
    assert not ((hidden > 0) & (hidden < RULES.min_group)).any()
    assert (~shown & (counts >= RULES.min_group)).any(), "secondary suppression hid some larger groups too"
    # What a user sees in single-atom rows: everyone minus the shown personas is never 1 or 2 households.
    table = town.publish(EXACT).filter(pc.equal(pc.field("resolution"), 10)).to_pylist()
    total = {r["h3"]: r["households"] for r in table if r["persona"] == ALL}
    for cell, everyone in total.items():
        personas = [r["households"] for r in table if r["h3"] == cell and r["persona"] != ALL]
        assert everyone - sum(personas) not in {1, 2}


def test_rows_of_all_resolutions_are_nested_or_disjoint(town: Town, units: Units) -> None:
    assert len(np.unique(units.atom_ids)) == len(units.atom_ids)
    assert (units.atom >= 0).all(), "nobody is lost"
    for fine in RULES.resolutions:
        for coarse in (r for r in RULES.resolutions if r < fine):
            pairs = np.unique(np.stack([units.atom_rows(fine), units.atom_rows(coarse)]), axis=1)
            assert len(np.unique(pairs[0])) == pairs.shape[1], f"a res-{fine} row straddles res-{coarse} rows"
    merged = 0
    for r in RULES.resolutions:
        rows = units.household_rows(r)
        for cell10, row in set(zip(town.cells.tolist(), rows.tolist(), strict=True)):
            row_res = h3.get_resolution(h3.int_to_str(row))
            assert row_res <= r
            assert h3.cell_to_parent(h3.int_to_str(cell10), row_res) == h3.int_to_str(row), "row holds its homes"
            merged += row_res < r
    assert merged > 0, "the sparse east must produce merged remainders"


def test_totals_add_up_and_noise_stays_in_bounds(town: Town, units: Units) -> None:
    table = town.publish()
    everyone = table.filter(pc.equal(table["persona"], ALL))
    sums = {r: pc.sum(everyone.filter(pc.equal(everyone["resolution"], r))["persons"]).as_py() for r in (7, 8, 9, 10)}
    assert len(set(sums.values())) == 1, "every resolution sums the same noised atoms"
    assert abs(sums[10] - int(town.size.sum())) <= RULES.noise_amplitude * len(units.atom_ids)
    assert sums[10] != int(town.size.sum()), "noise is there"
    exact = town.publish(EXACT)
    for name in ("persons", "households"):
        noise = table[name].to_numpy() - exact[name].to_numpy()
        at10 = table["resolution"].to_numpy() == 10  # every res-10 row is a single atom
        assert np.abs(noise[at10]).max() <= RULES.noise_amplitude
        assert len(np.unique(noise[at10])) == 2 * RULES.noise_amplitude + 1
        for r in RULES.resolutions:
            atoms_per_row = np.unique(units.atom_rows(r), return_counts=True)[1]
            rows = (table["resolution"].to_numpy() == r) & (table["persona"].to_numpy(zero_copy_only=False) == ALL)
            assert (np.abs(noise[rows]) <= RULES.noise_amplitude * atoms_per_row).all()


def test_noise_is_keyed_on_the_record_and_its_value_only_and_never_negative(town: Town) -> None:
    first = town.publish()
    assert first.equals(town.publish())
    other = town.publish(key=b"another key")
    assert other.select(["resolution", "h3", "persona"]).equals(first.select(["resolution", "h3", "persona"]))
    assert (other["households"].to_numpy() != first["households"].to_numpy()).mean() > 0.5
    loud = town.publish(replace(RULES, noise_amplitude=60))
    assert pc.min(loud["persons"]).as_py() == 0
    assert pc.min(loud["households"]).as_py() == 0


def test_the_same_atom_with_the_same_true_value_gets_the_same_noise_whatever_else_changes(town: Town) -> None:
    """A scenario, a renamed request or a change elsewhere in town leaves an atom's published value alone; only
    a change of the atom's own true value draws new noise (and then a fresh, unpredictable one)."""
    _, before = publish_atoms(town.cells, town.group, town.size, NAMES, key=KEY)
    far = town.lon > np.quantile(town.lon, 0.9)
    keep = ~far | (np.arange(len(far)) % 2 == 0)  # half of the east's households move out
    _, after = publish_atoms(town.cells[keep], town.group[keep], town.size[keep], NAMES, key=KEY)
    same_ids, i, j = np.intersect1d(before.ids, after.ids, return_indices=True)
    assert len(same_ids) > 30
    _, exact_before = publish_atoms(town.cells, town.group, town.size, NAMES, key=KEY, rules=EXACT)
    _, exact_after = publish_atoms(town.cells[keep], town.group[keep], town.size[keep], NAMES, key=KEY, rules=EXACT)
    unchanged = exact_before.persons[i, 0] == exact_after.persons[j, 0]
    assert unchanged.sum() > 30
    assert (~unchanged).sum() > 0
    assert np.array_equal(before.persons[i, 0][unchanged], after.persons[j, 0][unchanged])
    noise_before = before.persons[i, 0] - exact_before.persons[i, 0]
    noise_after = after.persons[j, 0] - exact_after.persons[j, 0]
    assert (noise_before[~unchanged] != noise_after[~unchanged]).any()


def test_leftovers_at_the_coarsest_resolution_join_an_atom(town: Town) -> None:
    coarse = h3.cell_to_parent(h3.int_to_str(int(town.cells[0])), RULES.coarsest_resolution)
    children = [h3.str_to_int(c) for c in h3.cell_to_children(coarse, 10)[::4000]]
    big, small, strays = children[0], children[1], children[2:5]
    cells = np.array([big] * 60 + [small] * 30 + strays, np.uint64)
    units = assign_units(cells, np.full(len(cells), 2), RULES)
    # The strays join the smallest atom of their coarse cell, which is renamed so that it still contains them.
    assert units.atom_ids.tolist() == [big, h3.str_to_int(coarse)]
    assert units.atom.tolist() == [0] * 60 + [1] * 33
    elsewhere = h3.str_to_int(h3.latlng_to_cell(52.5, 13.4, 10))
    units = assign_units(np.append(cells[:90], np.full(3, elsewhere, np.uint64)), np.full(93, 2), RULES)
    assert units.atom_ids.tolist() == [big, small]
    assert units.atom[-3:].tolist() == [1, 1, 1], "strays in a coarse cell without atoms join the smallest atom"
    # Scattered households in distant coarse cells without any atom pool into one atom of their own if safe.
    far = np.asarray(coordinates_to_cells(np.full(30, 52.0), np.linspace(5.0, 14.0, 30), 10))
    units = assign_units(far, np.full(30, 2), RULES)
    assert len(units.atom_ids) == 1
    assert (units.atom == 0).all()
    assert h3.get_resolution(h3.int_to_str(int(units.atom_ids[0]))) == RULES.coarsest_resolution


def test_a_population_below_the_thresholds_publishes_nothing() -> None:
    cells = np.full(10, h3.str_to_int(h3.latlng_to_cell(49.51, 11.28, 10)), np.uint64)
    table = publish_population(cells, np.zeros(10, int), np.full(10, 3), NAMES, key=KEY)
    assert table.schema == SCHEMA
    assert table.num_rows == 0


def test_bad_input_is_rejected(town: Town) -> None:
    n = 5
    cells, group, size = town.cells[:n], town.group[:n], town.size[:n]
    coarse = np.asarray(change_resolution(cells, 9))
    with pytest.raises(InputError, match="res-10"):
        publish_population(coarse, group, size, NAMES, key=KEY)
    with pytest.raises(InputError, match="persona index"):
        publish_population(cells, group + 10, size, NAMES, key=KEY)
    with pytest.raises(InputError, match="equal length"):
        publish_population(cells, group[:2], size, NAMES, key=KEY)
    with pytest.raises(InputError, match="unique"):
        publish_population(cells, group, size, [*NAMES[:-1], ALL], key=KEY)
    with pytest.raises(ConfigError, match="key"):
        publish_population(cells, group, size, NAMES, key=b"")
    with pytest.raises(ConfigError):
        PrivacyRules(resolutions=(11,))
