"""Zones and control targets: where the statistics say people live, and what they say about them.

The finest geography with statistics is the zone: a census grid cell cut by a district (Rostock), a grid cell
alone (a town without district tables), or a district alone. Person totals and age/sex groups of the grid are
scaled per district so that they add up to the district's register figures exactly (iterative proportional
fitting of the zone x group table to both margins); household controls come from the district tables, or from
the national priors where a town publishes none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from twin3d.population.ages import class_totals, fill_bands, smooth_to_bands
from twin3d.population.classes import ADULT_CLASSES, AGE_CLASSES, CHILD, FEMALE, HOUSEHOLD_TYPES, MALE
from twin3d.population.fit import Constraint, round_within
from twin3d.population.priors import Priors
from twin3d.population.prototypes import Prototypes

# Person controls by age: the prototype age classes each published band covers.
AGE_BANDS: dict[str, tuple[int, ...]] = {
    "age_0_2": (0,),
    "age_3_5": (1,),
    "age_6_14": (2,),
    "age_15_24": (3, 4),
    "age_25_34": (5, 6),
    "age_35_44": (7,),
    "age_45_54": (8,),
    "age_55_64": (9,),
    "age_65_74": (10,),
    "age_75_plus": (11, 12),
}
GRID_AGE_GROUPS: dict[str, tuple[int, ...]] = {
    "age_under_15": (0, 1, 2),
    "age_15_64": (3, 4, 5, 6, 7, 8, 9),
    "age_65_plus": (10, 11, 12),
}
SEXES = ("male", "female")
ZONE_STRENGTH = 0.5
# National household priors only lean the fit; the town's own person counts decide.
PRIOR_STRENGTH = 0.3
ZONE_CONTROLS = ("persons", *GRID_AGE_GROUPS, *SEXES)
# District household controls and how they follow from the published counts and shares (in per cent).
HOUSEHOLD_CONTROLS = ("households", "single", "single_under_30", "single_65_plus", "with_children", "single_parent")
ALL_CONTROLS = (
    *dict.fromkeys((*ZONE_CONTROLS, *HOUSEHOLD_CONTROLS, *AGE_BANDS)),
    *(f"type_{t}" for t in ("single", "couple", "couple_children", "single_parent", "shared")),
)


@dataclass(frozen=True)
class AreaStats:
    """Polygons (districts or grid cells) and their statistics under the canonical variable names."""

    ids: np.ndarray
    geometry: np.ndarray
    values: dict[str, np.ndarray]

    def get(self, name: str) -> np.ndarray:
        """A variable per area; NaN where the table lacks it."""
        return self.values.get(name, np.full(len(self.ids), np.nan))


@dataclass(frozen=True)
class Zones:
    """The fitting zones and their person targets.

    Attributes:
        district: district index of each zone (-1: the twin has no districts).
        cell: grid cell index of each zone (-1: no census grid there).
        geometry: zone polygons in the twin's CRS.
        persons: integer persons per zone; they add up to the district totals exactly.
        targets: zone-level person controls (ZONE_CONTROLS), NaN where unknown.
    """

    district: np.ndarray
    cell: np.ndarray
    geometry: np.ndarray
    persons: np.ndarray
    targets: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.district)

    def has(self, name: str) -> bool:
        """Whether any zone has a target for the control ``name``."""
        return bool(np.isfinite(self.targets[name]).any())


def pivot_stats(ids: np.ndarray, stats: pa.Table, key: str, year: int | None) -> dict[str, np.ndarray]:
    """Long (key, year, variable, value) rows -> one array per variable aligned with ``ids`` (NaN: absent)."""
    if year is not None:
        stats = stats.filter(pc.equal(stats["year"], year))
    keys = stats[key].to_numpy(zero_copy_only=False).astype(object)
    variables = stats["variable"].to_numpy(zero_copy_only=False).astype(object)
    values = pc.fill_null(pc.cast(stats["value"], pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    order = np.argsort(ids)
    pos = np.searchsorted(ids[order], keys)
    pos = np.clip(pos, 0, len(ids) - 1)
    found = ids[order][pos] == keys
    out: dict[str, np.ndarray] = {}
    for name in np.unique(variables):
        column = np.full(len(ids), np.nan)
        sel = found & (variables == name)
        column[order[pos[sel]]] = values[sel]
        out[str(name)] = column
    return out


def district_controls(districts: AreaStats) -> dict[str, np.ndarray]:
    """Person and household counts per district from the register tables (shares turned into counts)."""
    households = districts.get("households")
    single = households * districts.get("single_pct") / 100.0
    with_children = households * districts.get("with_children_pct") / 100.0
    out = {
        "persons": districts.get("population"),
        "households": households,
        "single": single,
        "single_under_30": single * districts.get("single_under_30_pct") / 100.0,
        "single_65_plus": single * districts.get("single_65_plus_pct") / 100.0,
        "with_children": with_children,
        "single_parent": with_children * districts.get("single_parent_of_with_children_pct") / 100.0,
    }
    out.update({band: districts.get(band) for band in AGE_BANDS})
    out.update({sex: districts.get(sex) for sex in SEXES})
    return out


def _ipf_to_margins(seed: np.ndarray, rows: np.ndarray, group: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Scale ``seed`` (zones x K) so rows sum to ``rows`` and, per district ``group``, columns to ``columns``."""
    table = np.where(np.isfinite(seed), seed, 0.0) + 1e-9
    n_groups = columns.shape[0]
    for _ in range(100):
        col = np.stack([np.bincount(group, weights=table[:, k], minlength=n_groups) for k in range(table.shape[1])], 1)
        table *= np.divide(columns, col, out=np.ones_like(col), where=col > 0)[group]
        row = table.sum(axis=1)
        table *= np.divide(rows, row, out=np.zeros_like(row), where=row > 0)[:, None]
        if np.allclose(col.sum(axis=1), columns.sum(axis=1), rtol=1e-9):
            break
    return table


def _rake_pieces(
    grid_people: np.ndarray, area: np.ndarray, district: np.ndarray, cell: np.ndarray, district_persons: np.ndarray
) -> np.ndarray:
    """Persons per piece (cell x district) that add up to the district totals and follow the cells' counts.

    Spreading a cell's count over its pieces by area alone puts a dense quarter's people into the park next
    door; raking the piece table to both margins (district register totals, exact; cell counts scaled by the
    twin-wide register/census ratio) lets the districts' totals correct the split inside shared cells.
    """
    n_d = len(district_persons)
    seed = grid_people.copy()
    in_district = np.bincount(district, weights=seed, minlength=n_d)
    # Districts the grid does not see take their persons by area.
    blind = in_district[district] <= 0
    seed[blind] = area[blind]
    has_cell = cell >= 0
    cells = np.where(has_cell, cell, 0)
    n_c = int(cells.max(initial=0)) + 1
    cell_target = np.bincount(cells[has_cell], weights=grid_people[has_cell], minlength=n_c)
    ratio = district_persons.sum() / max(cell_target.sum(), 1.0)
    cell_target *= ratio
    table = seed
    for _ in range(50):
        current = np.bincount(cells[has_cell], weights=table[has_cell], minlength=n_c)
        factor = np.divide(cell_target, current, out=np.ones(n_c), where=current > 0)
        table = np.where(has_cell & ~blind, table * factor[cells], table)
        per_district = np.bincount(district, weights=table, minlength=n_d)
        table = table * np.divide(district_persons, per_district, out=np.zeros(n_d), where=per_district > 0)[district]
    return table


def _scaled_within(grid: AreaStats, cell: np.ndarray, share: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    return np.stack([grid.get(n)[cell] * share for n in names], axis=1)


def build_zones(districts: AreaStats | None, grid: AreaStats | None, holdout: frozenset[str] = frozenset()) -> Zones:
    """Cut districts by grid cells and spread each district's persons over its pieces by the grid's counts.

    Held-out controls get no zone targets (NaN), and no other target is derived from them.

    Raises:
        ValueError: neither districts with a population nor a grid are given.
    """
    if districts is not None and np.isfinite(districts.get("population")).any():
        if grid is None:
            n = len(districts.ids)
            persons = np.nan_to_num(districts.get("population")).astype(np.int64)
            empty = {k: np.full(n, np.nan) for k in ZONE_CONTROLS}
            return Zones(np.arange(n), np.full(n, -1), districts.geometry, persons, {**empty, "persons": persons})
        return _district_grid_zones(districts, grid, holdout)
    if grid is None:
        raise ValueError("population synthesis needs district populations or a census grid")
    total = grid.get("population")
    keep = np.flatnonzero(np.nan_to_num(total) > 0)
    persons = total[keep].astype(np.int64)
    targets = {"persons": persons.astype(np.float64)}
    for names in (tuple(GRID_AGE_GROUPS), SEXES):
        parts = np.stack([grid.get(n)[keep] for n in names], axis=1)
        if holdout.intersection(names):
            targets.update(_without_holdout(names, parts, holdout))
            continue
        sums = np.nansum(parts, axis=1)
        complete = np.isfinite(parts).all(axis=1) & (sums > 0)
        scaled = np.where(complete[:, None], parts * (persons / np.where(sums > 0, sums, 1.0))[:, None], np.nan)
        targets.update({n: scaled[:, i] for i, n in enumerate(names)})
    return Zones(np.full(len(keep), -1), keep, grid.geometry[keep], persons, targets)


def _without_holdout(names: tuple[str, ...], parts: np.ndarray, holdout: frozenset[str]) -> dict[str, np.ndarray]:
    """Targets of a family of controls one of which is held out: NaN for it, the grid's own counts for the rest.

    Scaling the family to the zone's persons would hand the held-out count on to the others (women = persons less
    men), so the others are not scaled.
    """
    return {n: np.full(len(parts), np.nan) if n in holdout else parts[:, i] for i, n in enumerate(names)}


def _district_margins(
    ctrl: dict[str, np.ndarray], names: tuple[str, ...], holdout: frozenset[str]
) -> np.ndarray | None:
    """Per district, the register's persons of each grid age group or sex; None where a held-out band is needed."""
    if names == SEXES:
        return np.stack([np.nan_to_num(ctrl[s]) for s in SEXES], axis=1)
    columns = []
    for classes in GRID_AGE_GROUPS.values():
        bands = [b for b in AGE_BANDS if set(AGE_BANDS[b]) <= set(classes)]
        if holdout.intersection(bands):
            return None
        columns.append(sum((np.nan_to_num(ctrl[b]) for b in bands), np.zeros(len(ctrl["persons"]))))
    return np.stack(columns, axis=1)


def _district_grid_zones(districts: AreaStats, grid: AreaStats, holdout: frozenset[str]) -> Zones:
    tree = shapely.STRtree(grid.geometry)
    d_idx, c_idx = tree.query(districts.geometry, predicate="intersects")
    pieces = shapely.intersection(districts.geometry[d_idx], grid.geometry[c_idx])
    area = shapely.area(pieces)
    keep = area > 1.0
    d_idx, c_idx, pieces, area = d_idx[keep], c_idx[keep], pieces[keep], area[keep]
    share = area / shapely.area(grid.geometry[c_idx])
    n_d = len(districts.ids)
    # Districts the grid does not reach are one zone each, without grid targets.
    missing = np.setdiff1d(np.arange(n_d), d_idx)
    d_idx = np.concatenate([d_idx, missing])
    c_idx = np.concatenate([c_idx, np.full(len(missing), -1)])
    pieces = np.concatenate([pieces, districts.geometry[missing]])
    area = np.concatenate([area, shapely.area(districts.geometry[missing])])
    share = np.concatenate([share, np.zeros(len(missing))])

    ctrl = district_controls(districts)
    d_persons = np.nan_to_num(ctrl["persons"])
    grid_people = np.where(c_idx >= 0, np.nan_to_num(grid.get("population")[np.maximum(c_idx, 0)]) * share, 0.0)
    expected = _rake_pieces(grid_people, area, d_idx, c_idx, d_persons)
    persons = round_within(expected, d_idx, np.rint(d_persons).astype(np.int64))

    targets: dict[str, np.ndarray] = {"persons": persons.astype(np.float64)}
    grid_cell = np.maximum(c_idx, 0)
    for names in (tuple(GRID_AGE_GROUPS), SEXES):
        seed = _scaled_within(grid, grid_cell, np.where(c_idx >= 0, share, 0.0), names)
        if holdout.intersection(names):
            targets.update(_without_holdout(names, np.where(c_idx[:, None] >= 0, seed, np.nan), holdout))
            continue
        margins = _district_margins(ctrl, names, holdout)
        if margins is None:
            # A held-out district band: the grid's mix alone, scaled to each zone's persons.
            sums = np.nansum(seed, axis=1)
            scaled = np.where((sums > 0)[:, None], seed * (persons / np.where(sums > 0, sums, 1.0))[:, None], np.nan)
            targets.update({n: scaled[:, i] for i, n in enumerate(names)})
            continue
        if not (margins.sum(axis=1) > 0).any():
            targets.update({n: np.full(len(d_idx), np.nan) for n in names})
            continue
        # Where the grid is silent the district's own mix is the best guess.
        fallback = margins[d_idx] / np.maximum(margins.sum(axis=1), 1.0)[d_idx, None] * persons[:, None]
        seed = np.where(np.isfinite(seed) & (seed.sum(axis=1, keepdims=True) > 0), seed, fallback)
        fitted = _ipf_to_margins(seed, persons.astype(np.float64), d_idx, margins)
        targets.update({n: fitted[:, i] for i, n in enumerate(names)})
    return Zones(d_idx, c_idx, pieces, persons, targets)


def _years(classes: tuple[int, ...]) -> tuple[int, int]:
    return AGE_CLASSES[classes[0]][0], AGE_CLASSES[classes[-1]][1]


def age_profiles(
    zones: Zones, districts: AreaStats | None, holdout: frozenset[str], profile: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The units of the single-year quota and their expected persons per year (``ages.smooth_to_bands``).

    Units are the districts, bent to their published age bands; a twin without districts is one unit, bent to the
    grid's age groups summed over its zones. Held-out bands are left to the national profile.

    Returns:
        The unit of each zone, and the expected persons per unit and year.
    """
    if districts is not None and bool((zones.district >= 0).all()):
        ctrl = district_controls(districts)
        names = [b for b in AGE_BANDS if b not in holdout and np.isfinite(ctrl[b]).all()]
        totals = np.stack([ctrl[b] for b in names], axis=1) if names else np.zeros((len(districts.ids), 0))
        persons = np.nan_to_num(ctrl["persons"])
        unit_of_zone = zones.district
        bands = [_years(AGE_BANDS[b]) for b in names]
    else:
        names = [g for g in GRID_AGE_GROUPS if g not in holdout and zones.has(g)]
        persons = np.array([float(zones.persons.sum())])
        totals = np.array([[np.nansum(zones.targets[g]) for g in names]])
        if len(names) == len(GRID_AGE_GROUPS) and totals.sum() > 0:
            # Zones without an age mix in the grid are taken to have the mix of the others.
            totals *= persons[0] / totals.sum()
        unit_of_zone = np.zeros(len(zones), dtype=np.int64)
        bands = [_years(GRID_AGE_GROUPS[g]) for g in names]
    starts, full = fill_bands(profile, bands, totals, persons)
    return unit_of_zone, smooth_to_bands(profile, starts, full)


def prototype_coefficients(protos: Prototypes, male_share_children: float) -> dict[str, np.ndarray]:
    """Per control, what one household of each prototype contributes."""
    kind = protos.household_type
    klass, sex = protos.member_class, protos.member_sex
    single = kind == HOUSEHOLD_TYPES.index("single")
    first_class = klass[protos.offsets[:-1]]
    coefs: dict[str, np.ndarray] = {
        "households": np.ones(len(protos)),
        "persons": protos.size.astype(np.float64),
        "single": single.astype(np.float64),
        "single_under_30": (single & np.isin(first_class, (4, 5))).astype(np.float64),
        "single_65_plus": (single & (first_class >= 10)).astype(np.float64),
        "with_children": np.isin(kind, [HOUSEHOLD_TYPES.index(t) for t in ("couple_children", "single_parent")]).astype(
            np.float64
        ),
        "single_parent": (kind == HOUSEHOLD_TYPES.index("single_parent")).astype(np.float64),
    }
    for t in HOUSEHOLD_TYPES:
        coefs[f"type_{t}"] = (kind == HOUSEHOLD_TYPES.index(t)).astype(np.float64)
    for name, classes in {**AGE_BANDS, **GRID_AGE_GROUPS}.items():
        coefs[name] = protos.count_members(np.isin(klass, classes))
    child = sex == CHILD
    coefs["male"] = protos.count_members((sex == MALE) | child, np.where(child, male_share_children, 1.0))
    coefs["female"] = protos.count_members((sex == FEMALE) | child, np.where(child, 1.0 - male_share_children, 1.0))
    assert set(ADULT_CLASSES).isdisjoint({0, 1, 2, 3})
    return coefs


def build_constraints(
    zones: Zones,
    districts: AreaStats | None,
    protos: Prototypes,
    priors: Priors,
    holdout: set[str],
    *,
    expected: np.ndarray | None = None,
) -> list[Constraint]:
    """The controls the fit must meet: zone persons, age groups and sex; district tables; else the priors.

    With ``expected`` (persons per district and single year, from ``age_profiles``), each published band that
    spans several age classes (15-24: 15-17 and 18-24) is split between them as the district's smooth profile
    says. Without that split the fit alone decides it, and it put a whole band into one class: three Rostock
    districts had nobody aged 18-24 and 15-17-year-olds one and a half times as many per year as 18-24-year-olds.
    A twin without districts is split as a whole (split per zone, a 3,000-cell grid synthesis took three times
    as long); what integer refinement per zone moves between classes, ``ages.assign_ages`` spreads smoothly.
    """
    coefs = prototype_coefficients(protos, priors.persons.male_share_children)
    out: list[Constraint] = []
    all_zones = np.arange(len(zones))
    nested = districts is not None and bool((zones.district >= 0).all())
    for name in ZONE_CONTROLS:
        target = zones.targets[name]
        if name not in holdout and np.isfinite(target).any():
            # Below districts the grid's age and sex mix only guides: the district tables are the harder facts.
            strength = ZONE_STRENGTH if nested and name != "persons" else 1.0
            out.append(Constraint(name, "zone", coefs[name], all_zones, target, strength))
    has_households = False
    if nested:
        assert districts is not None
        ctrl = district_controls(districts)
        for name in (*HOUSEHOLD_CONTROLS, *AGE_BANDS, *SEXES):
            target = ctrl[name]
            if name in holdout or not np.isfinite(target).any():
                continue
            has_households |= name == "households"
            out.append(Constraint(name, "district", coefs[name], zones.district, target))
        if expected is not None:
            known = {b: AGE_BANDS[b] for b in AGE_BANDS if b not in holdout and np.isfinite(ctrl[b]).all()}
            out += _class_splits(protos, "district", zones.district, known, class_totals(expected))
    elif expected is not None:
        # Without districts the twin is the profile's one unit: its classes are split over the whole twin.
        known = {g: GRID_AGE_GROUPS[g] for g in GRID_AGE_GROUPS if g not in holdout and zones.has(g)}
        out += _class_splits(protos, "twin", np.zeros(len(zones), dtype=np.int64), known, class_totals(expected))
    if not has_households:
        # No household table: the national mix of household types over the twin's estimated households.
        households = zones.persons.sum() / priors.households.persons_per_household
        twin = np.zeros(len(zones), dtype=np.int64)
        for t in HOUSEHOLD_TYPES:
            name = f"type_{t}"
            if name not in holdout:
                target = np.array([households * priors.type_shares[t]])
                out.append(Constraint(name, "twin", coefs[name], twin, target, PRIOR_STRENGTH))
    # Person totals last, so that every sweep ends on the controls that must hold exactly.
    out.sort(key=lambda c: c.name == "persons")
    return out


def _class_splits(
    protos: Prototypes, level: str, unit_of_zone: np.ndarray, bands: dict[str, tuple[int, ...]], per_class: np.ndarray
) -> list[Constraint]:
    """Controls for the age classes of each band that spans several (derived from the smooth profile, not data).

    The band's own control fixes the sum, so the last class of each band needs no control of its own.
    """
    out = []
    for classes in bands.values():
        for c in classes[:-1]:
            lo, hi = AGE_CLASSES[c]
            coef = protos.count_members(protos.member_class == c)
            out.append(Constraint(f"age_class_{lo}_{hi}", level, coef, unit_of_zone, per_class[:, c]))
    return out
