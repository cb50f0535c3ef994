"""Accessibility indicators per persona group and published area: walking distance, coverage, supply per demand.

Every indicator is documented in :data:`INDICATORS` (name -> unit and one sentence), so the API can describe it.
Distances come from a :class:`~twin3d.simulation.network.DistanceModel`: the twin's footpath network where it has
one, else the straight line x detour factor; the tables say which in their metadata.

The population is the privacy gate's published units (:class:`~twin3d.population.privacy.PublishedUnits`): each
unit's published persons per persona, spread over its public home points by their floor area. Distances are
computed per home point; a unit's figures are the weighted means over its points, and a persona's figures are
means over the units weighted by the persona's published persons there. Every figure is thus a function of
published values and public geometry: no scenario can learn from it what lives below a published unit.

Home points are located once (:func:`locate_homes`, the cold step); each scenario then changes the facilities and
the units (:func:`compute_accessibility`, the warm step). Nothing loops over points or units: one shortest-path
search per facility type, array lookups and grouped reductions.

Example:
    >>> model = distance_model(walk_graph_from_store(con))  # doctest: +SKIP
    >>> homes = locate_homes(model, units.point_x, units.point_y)  # doctest: +SKIP
    >>> facilities, report = facilities_from_store(con, config)  # doctest: +SKIP
    >>> acc = compute_accessibility(homes, units, facilities, catalogue, config)  # doctest: +SKIP
    >>> persona_indicators(acc, units)  # an Arrow table, one row per persona and facility type  # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from twin3d.population.personas import PersonaCatalogue
from twin3d.population.privacy import PublishedUnits
from twin3d.simulation.facility_types import FACILITY_TYPES, Facilities, FacilityTypeConfig
from twin3d.simulation.network import DistanceModel, Points

ALL = "*"
"""The persona value of rows that count every household."""


@dataclass(frozen=True)
class Indicator:
    """An indicator's unit and its one-sentence description."""

    unit: str
    description: str


INDICATORS: dict[str, Indicator] = {
    "households": Indicator("households", "Published synthetic households in the group (privacy gate)."),
    "persons": Indicator("persons", "Published persons living in the group's households (privacy gate)."),
    "max_distance_m": Indicator(
        "m", "The persona's maximum walking distance to the facility type (pipelines/personas.toml); empty for '*'."
    ),
    "mean_distance_m": Indicator(
        "m", "Mean walking distance per person from home to the nearest facility of the type."
    ),
    "median_distance_m": Indicator(
        "m", "Median walking distance per person from home to the nearest facility of the type."
    ),
    "coverage_share": Indicator(
        "share",
        "Share of the persons whose persona needs the type whose home lies within that persona's maximum walking "
        "distance of a facility of the type.",
    ),
    "demand": Indicator(
        "persons", "Persons of the type's demand group in the group's households (e.g. children aged 0 to 5 for Kitas)."
    ),
    "supply_per_demand": Indicator(
        "capacity per person",
        "Capacity per person of the demand group by the two-step floating catchment area method with Gaussian "
        "distance decay (Dai 2010): each facility's capacity divided by the demand within its catchment, weighted "
        "from 1 at the door to 0 at the catchment's edge, summed with the same weights over the facilities whose "
        "catchment holds the home, averaged over the group's demand.",
    ),
}
"""Columns of :func:`persona_indicators` (besides the keys persona and facility)."""

FACILITY_INDICATORS: dict[str, Indicator] = {
    "capacity": Indicator("capacity", "Places (or pupils) of the facility, from its source or the type's default."),
    "demand_in_catchment": Indicator(
        "persons",
        "Persons of the type's demand group within the catchment of the facility, weighted by distance decay.",
    ),
    "supply_ratio": Indicator(
        "capacity per person", "The facility's capacity divided by the demand within its catchment (2SFCA step 1)."
    ),
}
"""Columns of :func:`facility_supply`."""


@dataclass(frozen=True)
class Homes:
    """Public home points located for a distance model (the units' points, plus a scenario's new ones)."""

    model: DistanceModel
    points: Points

    def __len__(self) -> int:
        return len(self.points)

    def concat(self, x: np.ndarray, y: np.ndarray) -> Homes:
        """These homes and new points, located now."""
        if not len(x):
            return self
        return Homes(self.model, self.points.concat(self.model.locate(x, y)))


def locate_homes(model: DistanceModel, x: np.ndarray, y: np.ndarray) -> Homes:
    """Locate the home points once for a distance model: the cold step."""
    return Homes(model, model.locate(np.asarray(x, np.float64), np.asarray(y, np.float64)))


@dataclass(frozen=True)
class FacilityLoad:
    """2SFCA step 1 for the facilities of one type."""

    index: np.ndarray
    demand: np.ndarray
    ratio: np.ndarray


@dataclass(frozen=True)
class Accessibility:
    """Distances and supply of every home point, per facility type, for one set of facilities and units.

    Attributes:
        types: the facility types computed: those a persona needs and those with a demand group.
        threshold: (personas, types) maximum walking distance; NaN where a persona does not need a type.
        distance: per type, metres from each home point to the nearest facility (inf: the type has none).
        fallback: per type, home points whose distance is a straight line x detour factor for want of a route.
        supply: per type with a demand group, the 2SFCA capacity per demand person within reach of each point.
        catchment_m: per type with a demand group, the 2SFCA catchment.
    """

    homes: Homes
    facilities: Facilities
    catalogue: PersonaCatalogue
    config: FacilityTypeConfig
    types: tuple[str, ...]
    threshold: np.ndarray
    distance: dict[str, np.ndarray]
    fallback: dict[str, int]
    supply: dict[str, np.ndarray]
    catchment_m: dict[str, float]
    loads: dict[str, FacilityLoad]

    def metadata(self) -> dict[bytes, bytes]:
        """Arrow schema metadata: how distances were measured and how many points fell back to the straight line."""
        model = self.homes.model
        return {
            b"distance_method": model.method.encode(),
            b"distance_description": model.describe().encode(),
            b"detour_factor": str(model.detour_factor).encode(),
            b"fallback_points": json.dumps(self.fallback).encode(),
            b"catchment_m": json.dumps(self.catchment_m).encode(),
            b"indicators": json.dumps({k: vars(v) for k, v in INDICATORS.items()}).encode(),
        }


def demand_ranges(config: FacilityTypeConfig) -> list[tuple[int, int]]:
    """The age ranges of every type's demand group."""
    return sorted({spec.demand.ages for spec in config.types.values() if spec.demand is not None})


def thresholds(catalogue: PersonaCatalogue, types: tuple[str, ...]) -> np.ndarray:
    """(personas, types) maximum walking distance of each persona's needs; NaN where a persona has none."""
    out = np.full((len(catalogue.persona), len(types)), np.nan)
    for i, persona in enumerate(catalogue.persona):
        for need in persona.needs:
            j = types.index(need.facility)
            out[i, j] = np.fmin(out[i, j], need.max_distance_m)
    return out


def _member_share(units: PublishedUnits) -> np.ndarray:
    """float (memberships,): each membership's share of its unit's public weight."""
    total = units.unit_weight[units.member_unit]
    share: np.ndarray = np.divide(units.member_weight, total, out=np.zeros(len(total)), where=total > 0)
    return share


def point_demand(units: PublishedUnits, ages: tuple[int, int], n_points: int) -> np.ndarray:
    """float (points,): the units' expected persons aged ``ages`` spread over their home points by public weight."""
    per_member = units.demand(ages)[units.member_unit] * _member_share(units)
    return np.bincount(units.member_point, weights=per_member, minlength=n_points)


def decay_weight(distance: np.ndarray, catchment: float, decay: str) -> np.ndarray:
    """The 2SFCA weight of a walk of ``distance`` metres inside the catchment.

    Gaussian (Dai 2010, "Gaussian-based 2SFCA"): (exp(-d²/2c²) - exp(-1/2)) / (1 - exp(-1/2)), 1 at the door and
    0 at the catchment ``c``; "none": 1 everywhere inside (the original 2SFCA of Luo & Wang 2003).
    """
    d = np.asarray(distance, np.float64)
    if decay == "none":
        return np.where(d <= catchment, 1.0, 0.0)
    edge = np.exp(-0.5)
    weight: np.ndarray = np.clip((np.exp(-0.5 * (d / catchment) ** 2) - edge) / (1.0 - edge), 0.0, 1.0)
    return weight


def _supply(
    homes: Homes,
    facilities: Facilities,
    idx: np.ndarray,
    located: Points,
    *,
    demand: np.ndarray,
    catchment: float,
    decay: str,
) -> tuple[np.ndarray, FacilityLoad]:
    """2SFCA over the home points with demand: each facility's capacity per decay-weighted demand within its
    catchment (step 1), summed with the same weights over the facilities within reach of each home (step 2), so
    that the places handed out add up to the capacity of every facility that reaches anyone."""
    has = np.flatnonzero(demand > 0)
    pairs = homes.model.within(homes.points.take(has), located, catchment)
    weight = decay_weight(pairs.distance, catchment, decay)
    reached = np.bincount(pairs.facility, weights=demand[has][pairs.point] * weight, minlength=len(idx))
    capacity = facilities.capacity[idx]
    ratio = np.divide(capacity, reached, out=np.full(len(idx), np.nan), where=reached > 0)
    access = np.zeros(len(homes))
    access[has] = np.bincount(pairs.point, weights=np.nan_to_num(ratio)[pairs.facility] * weight, minlength=len(has))
    return access, FacilityLoad(idx, reached, ratio)


def compute_accessibility(
    homes: Homes,
    units: PublishedUnits,
    facilities: Facilities,
    catalogue: PersonaCatalogue,
    config: FacilityTypeConfig,
) -> Accessibility:
    """Distance to the nearest facility of each type and 2SFCA supply for every home point: the warm step.

    The 2SFCA demand is the units' expected demand group (published households times the town's persona profiles)
    spread over their points. The catchment of a type is its ``catchment_m`` in the facility types, else the largest
    maximum walking distance a persona sets for it; a type with a demand group but neither gets no supply.
    """
    needed = {n.facility for p in catalogue.persona for n in p.needs}
    with_demand = {t for t in FACILITY_TYPES if config.spec(t).demand is not None}
    types = tuple(t for t in FACILITY_TYPES if t in needed or t in with_demand)
    limit = thresholds(catalogue, types)
    located = homes.model.locate(facilities.x, facilities.y)
    distance, fallback, supply, catchment_m, loads = {}, {}, {}, {}, {}
    for j, ftype in enumerate(types):
        idx = facilities.of_type(ftype)
        mine = located.take(idx)
        near = homes.model.nearest(homes.points, mine)
        distance[ftype] = near.distance
        fallback[ftype] = int(np.count_nonzero(near.fallback))
        spec = config.spec(ftype)
        column = limit[:, j]
        catchment = spec.catchment_m or (float(np.nanmax(column)) if np.isfinite(column).any() else None)
        if spec.demand is not None and catchment is not None:
            demand = point_demand(units, spec.demand.ages, len(homes))
            supply[ftype], loads[ftype] = _supply(
                homes, facilities, idx, mine, demand=demand, catchment=catchment, decay=spec.decay
            )
            catchment_m[ftype] = catchment
    return Accessibility(
        homes, facilities, catalogue, config, types, limit, distance, fallback, supply, catchment_m, loads
    )


def _weighted_stats(values: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``weights`` (members, columns): the total weight, the weighted mean and the weighted median of
    ``values`` (members,); NaN where a column has no weight."""
    total = weights.sum(axis=0)
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order], axis=0)
    # The first member at which half the column's weight is reached (cumulative sums never fall).
    middle = np.array([np.searchsorted(cumulative[:, c], total[c] / 2) for c in range(weights.shape[1])], np.int64)
    middle = np.minimum(middle, max(len(values) - 1, 0))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        mean = (values @ weights) / total
    median = values[order][middle] if len(values) else np.full(len(total), np.nan)
    empty = total <= 0
    return total, np.where(empty, np.nan, mean), np.where(empty, np.nan, median)


def _ratio(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    ratio: np.ndarray = np.divide(part, whole, out=np.full(np.shape(part), np.nan), where=np.asarray(whole) > 0)
    return ratio


def persona_indicators(acc: Accessibility, units: PublishedUnits) -> pa.Table:
    """One row per persona and facility type it needs, plus '*' (everyone) per type; see :data:`INDICATORS`.

    Persona rows weigh each unit by the persona's persons there (:meth:`PublishedUnits.group_persons`); '*' rows by
    all its published persons (coverage: of the personas that need the type; supply: by its expected demand).
    """
    share = _member_share(units)
    member_unit, member_point = units.member_unit, units.member_point
    unit_p = np.column_stack([units.persons[:, 0], units.group_persons()])
    weights = unit_p[member_unit] * share[:, None]  # (members, 1 + personas)
    households = np.concatenate([[units.households[:, 0].sum()], units.group_households().sum(axis=0)])
    persons = unit_p.sum(axis=0)
    n_personas = len(acc.catalogue.persona)
    ids = [ALL, *acc.catalogue.ids]
    rows: dict[str, list[Any]] = {c: [] for c in ("persona", "facility", *INDICATORS)}
    for j, ftype in enumerate(acc.types):
        d = acc.distance[ftype][member_point]
        limit = acc.threshold[:, j]
        needs = np.concatenate([[True], np.isfinite(limit)])
        _, mean, median = _weighted_stats(d, weights)
        covered = np.concatenate([[np.nan], (weights[:, 1:] * (d[:, None] <= limit[None, :])).sum(axis=0)])
        need_w = weights[:, 1:][:, np.isfinite(limit)]
        need_cov = (need_w * (d[:, None] <= limit[np.isfinite(limit)][None, :])).sum()
        covered[0] = need_cov
        need_total = np.concatenate([[need_w.sum()], persons[1:]])
        coverage = np.where(needs, _ratio(covered, need_total), np.nan)
        spec = acc.config.spec(ftype)
        demand = np.full(1 + n_personas, np.nan)
        supply = np.full(1 + n_personas, np.nan)
        if ftype in acc.supply and spec.demand is not None:
            unit_demand = units.demand(spec.demand.ages)
            s = acc.supply[ftype][member_point]
            supply_w = np.column_stack([unit_demand[member_unit] * share, weights[:, 1:]])
            demand[0] = unit_demand.sum()
            supply = _ratio((supply_w * s[:, None]).sum(axis=0), supply_w.sum(axis=0))
            supply[0] = supply[0] if demand[0] > 0 else np.nan
        for k in np.flatnonzero(needs):
            rows["persona"].append(ids[k])
            rows["facility"].append(ftype)
            rows["households"].append(round(float(households[k])))
            rows["persons"].append(round(float(persons[k])))
            rows["max_distance_m"].append(float(limit[k - 1]) if k else None)
            rows["mean_distance_m"].append(mean[k])
            rows["median_distance_m"].append(median[k])
            rows["coverage_share"].append(coverage[k])
            rows["demand"].append(demand[k])
            rows["supply_per_demand"].append(supply[k])
    return _table(acc, rows)


def _table(acc: Accessibility, rows: dict[str, list[Any]]) -> pa.Table:
    arrays: dict[str, pa.Array] = {
        "persona": pa.array(rows["persona"], pa.string()),
        "facility": pa.array(rows["facility"], pa.string()),
        "households": pa.array(rows["households"], pa.int64()),
        "persons": pa.array(rows["persons"], pa.int64()),
    }
    for name in ("max_distance_m", "mean_distance_m", "median_distance_m", "coverage_share", "demand"):
        arrays[name] = _null_if_not_finite(np.array(rows[name], dtype=np.float64))
    arrays["supply_per_demand"] = _null_if_not_finite(np.array(rows["supply_per_demand"], dtype=np.float64))
    return pa.table(arrays).replace_schema_metadata(acc.metadata())


def _null_if_not_finite(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=~np.isfinite(values))


def row_means(acc: Accessibility, units: PublishedUnits, rows: np.ndarray, types: tuple[str, ...]) -> np.ndarray:
    """float (rows, types): the mean walk per published person of each row (``rows``: int, one row index per unit)
    to the nearest facility of each type; NaN where the row has no reachable home."""
    n_rows = int(rows.max()) + 1 if len(rows) else 0
    w = units.persons[units.member_unit, 0] * _member_share(units)
    row = rows[units.member_unit]
    out = np.full((n_rows, len(types)), np.nan)
    for j, ftype in enumerate(types):
        if ftype not in acc.distance:
            continue
        d = acc.distance[ftype][units.member_point]
        finite = np.isfinite(d)
        sums = np.bincount(row, weights=np.where(finite, d * w, 0.0), minlength=n_rows)
        total = np.bincount(row, weights=np.where(finite, w, 0.0), minlength=n_rows)
        out[:, j] = _ratio(sums, total)
    return out


def facility_supply(acc: Accessibility) -> pa.Table:
    """2SFCA step 1 per facility of a type with a demand group; see :data:`FACILITY_INDICATORS`."""
    f, loads = acc.facilities, list(acc.loads.items())

    def join(parts: Iterable[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.zeros(0), *parts])

    index = join(ld.index for _, ld in loads).astype(np.int64)
    return pa.table(
        {
            "facility_id": pa.array(f.ids[index].astype(str), pa.string()),
            "facility": pa.array([FACILITY_TYPES[t] for t in f.type[index]], pa.string()),
            "catchment_m": pa.array(join(np.full(len(ld.index), acc.catchment_m[t]) for t, ld in loads)),
            "capacity": pa.array(f.capacity[index], pa.float64()),
            "demand_in_catchment": pa.array(join(ld.demand for _, ld in loads)),
            "supply_ratio": _null_if_not_finite(join(ld.ratio for _, ld in loads)),
        }
    ).replace_schema_metadata(acc.metadata())
