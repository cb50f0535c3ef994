"""Accessibility indicators per persona group and H3 cell: walking distance, coverage, supply per demand.

Every indicator is documented in :data:`INDICATORS` (name -> unit and one sentence), so the API can describe it.
Distances come from a :class:`~twin3d.simulation.network.DistanceModel`: the twin's footpath network where it has
one, else the straight line x detour factor; the tables say which in their metadata.

Homes are snapped once (:func:`locate_households`, the cold step); each scenario then only changes the facilities
(:func:`compute_accessibility`, the warm step). Nothing loops over households: one shortest-path search per facility
type, array lookups and grouped reductions.

Example:
    >>> model = distance_model(walk_graph_from_store(con))  # doctest: +SKIP
    >>> homes = locate_households(model, households_from_store(con, catalogue, config))  # doctest: +SKIP
    >>> facilities, report = facilities_from_store(con, config)  # doctest: +SKIP
    >>> acc = compute_accessibility(homes, facilities, catalogue, config)  # doctest: +SKIP
    >>> cell_indicators(acc, 9)  # an Arrow table, one row per H3 cell, persona and facility type  # doctest: +SKIP

The tables count synthetic households per cell and persona: they are microdata-derived and leave the store for the
public only through the privacy gate (:mod:`twin3d.population.privacy`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from pyproj import CRS

from twin3d.errors import ConfigError
from twin3d.io.crs import transform_points
from twin3d.population.h3cells import parent
from twin3d.population.personas import PersonaCatalogue
from twin3d.simulation.facility_types import FACILITY_TYPES, Facilities, FacilityTypeConfig
from twin3d.simulation.network import SNAP_GRID_M, DistanceModel, Points

ALL = "*"
"""The persona value of rows that count every household."""
WGS84 = CRS.from_epsg(4326)


@dataclass(frozen=True)
class Indicator:
    """An indicator's unit and its one-sentence description."""

    unit: str
    description: str


INDICATORS: dict[str, Indicator] = {
    "households": Indicator("households", "Synthetic households in the group."),
    "persons": Indicator("persons", "Persons living in the group's households."),
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
        "Capacity per person of the demand group by the two-step floating catchment area method (Luo & Wang 2003): "
        "each facility's capacity divided by the demand within its catchment, summed over the facilities whose "
        "catchment holds the home, averaged over the group's demand.",
    ),
}
"""Columns of :func:`persona_indicators` and :func:`cell_indicators` (besides the keys h3, persona, facility)."""

FACILITY_INDICATORS: dict[str, Indicator] = {
    "capacity": Indicator("capacity", "Places (or pupils) of the facility, from its source or the type's default."),
    "demand_in_catchment": Indicator(
        "persons", "Persons of the type's demand group living within the catchment distance of the facility."
    ),
    "supply_ratio": Indicator(
        "capacity per person", "The facility's capacity divided by the demand within its catchment (2SFCA step 1)."
    ),
}
"""Columns of :func:`facility_supply`."""


@dataclass(frozen=True)
class Households:
    """Households as arrays: home position (twin CRS), persona index, size, res-10 H3 cell, demand by age range."""

    x: np.ndarray
    y: np.ndarray
    persona: np.ndarray
    size: np.ndarray
    h3_10: np.ndarray
    demand: dict[tuple[int, int], np.ndarray]

    def __len__(self) -> int:
        return len(self.x)


@dataclass(frozen=True)
class Homes:
    """Households located for a distance model: their distinct home points and each household's point."""

    households: Households
    model: DistanceModel
    points: Points
    home_of: np.ndarray


@dataclass(frozen=True)
class FacilityLoad:
    """2SFCA step 1 for the facilities of one type."""

    index: np.ndarray
    demand: np.ndarray
    ratio: np.ndarray


@dataclass(frozen=True)
class Accessibility:
    """Distances and supply of every home, per facility type, for one set of facilities (a scenario).

    Attributes:
        types: the facility types computed: those a persona needs and those with a demand group.
        threshold: (personas, types) maximum walking distance; NaN where a persona does not need a type.
        distance: per type, metres from each home point to the nearest facility (inf: the type has none).
        fallback: per type, households whose distance is a straight line x detour factor for want of a route.
        supply: per type with a demand group, the 2SFCA capacity per demand person within reach of each home point.
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

    def household_distance(self, facility_type: str) -> np.ndarray:
        """Metres from each household's home to the nearest facility of a type."""
        return np.asarray(self.distance[facility_type][self.homes.home_of])

    def metadata(self) -> dict[bytes, bytes]:
        """Arrow schema metadata: how distances were measured and how many fell back to the straight line."""
        model = self.homes.model
        return {
            b"distance_method": model.method.encode(),
            b"distance_description": model.describe().encode(),
            b"detour_factor": str(model.detour_factor).encode(),
            b"fallback_households": json.dumps(self.fallback).encode(),
            b"catchment_m": json.dumps(self.catchment_m).encode(),
            b"indicators": json.dumps({k: vars(v) for k, v in INDICATORS.items()}).encode(),
        }


def demand_ranges(config: FacilityTypeConfig) -> list[tuple[int, int]]:
    """The age ranges of every type's demand group."""
    return sorted({spec.demand.ages for spec in config.types.values() if spec.demand is not None})


def households_from_store(
    con: duckdb.DuckDBPyConnection, catalogue: PersonaCatalogue, config: FacilityTypeConfig, *, replicate: int = 0
) -> Households:
    """One replicate of a twin's synthetic households, with the persons of each demand age range.

    Raises:
        ConfigError: the store's personas are not the catalogue's (built with another personas.toml).
    """
    row = con.execute("SELECT value->>'crs' FROM twin_meta WHERE key = 'twin'").fetchone()
    if row is None:
        raise ConfigError("the store has no twin metadata", hint="build the twin first: twin3d build <twin>")
    ranges = demand_ranges(config)
    counts = "".join(f", count(*) FILTER (WHERE age BETWEEN ? AND ?) AS d{i}" for i in range(len(ranges)))
    columns = "".join(f", coalesce(a.d{i}, 0) AS d{i}" for i in range(len(ranges)))
    sql = (
        f"WITH ages AS (SELECT household_id, count(*) AS n{counts} FROM persons WHERE replicate = ? "
        f"GROUP BY household_id) SELECT h.persona, h.size, h.lon, h.lat, h.h3_10{columns} FROM households h "
        "LEFT JOIN ages a USING (household_id) WHERE h.replicate = ? ORDER BY h.household_id"
    )
    params: list[Any] = [bound for r in ranges for bound in r] + [replicate, replicate]
    t = con.execute(sql, params).to_arrow_table()
    personas = t["persona"].to_numpy(zero_copy_only=False).astype(str)
    unknown = sorted(set(personas) - set(catalogue.ids))
    if unknown:
        raise ConfigError(f"households of unknown personas {', '.join(unknown)}", hint="rebuild the twin")
    x, y = transform_points(
        t["lon"].to_numpy(zero_copy_only=False), t["lat"].to_numpy(zero_copy_only=False), WGS84, CRS(row[0])
    )
    return Households(
        x=x,
        y=y,
        persona=_persona_index(personas, catalogue.ids),
        size=t["size"].to_numpy(zero_copy_only=False).astype(np.int64),
        h3_10=t["h3_10"].to_numpy(zero_copy_only=False).astype(np.uint64),
        demand={r: t[f"d{i}"].to_numpy(zero_copy_only=False).astype(np.int64) for i, r in enumerate(ranges)},
    )


def _persona_index(values: np.ndarray, ids: list[str]) -> np.ndarray:
    lookup = {p: i for i, p in enumerate(ids)}
    distinct, inverse = np.unique(values, return_inverse=True)
    return np.array([lookup[v] for v in distinct], dtype=np.int16)[inverse].reshape(-1)


def locate_households(model: DistanceModel, households: Households, *, grid_m: float = SNAP_GRID_M) -> Homes:
    """Snap the distinct home points once (households sharing a building share a point): the cold step."""
    cells = np.round(np.column_stack([households.x, households.y]) / grid_m).astype(np.int64)
    if len(cells):
        cells -= cells.min(axis=0)
    key = cells[:, 0] * (int(cells[:, 1].max(initial=0)) + 1) + cells[:, 1]
    _, first, home_of = np.unique(key, return_index=True, return_inverse=True)
    points = model.locate(households.x[first], households.y[first])
    return Homes(households, model, points, home_of.reshape(-1))


def thresholds(catalogue: PersonaCatalogue, types: tuple[str, ...]) -> np.ndarray:
    """(personas, types) maximum walking distance of each persona's needs; NaN where a persona has none."""
    out = np.full((len(catalogue.persona), len(types)), np.nan)
    for i, persona in enumerate(catalogue.persona):
        for need in persona.needs:
            j = types.index(need.facility)
            out[i, j] = np.fmin(out[i, j], need.max_distance_m)
    return out


def _supply(
    homes: Homes, facilities: Facilities, idx: np.ndarray, located: Points, *, demand: np.ndarray, catchment: float
) -> tuple[np.ndarray, FacilityLoad]:
    """2SFCA over the home points with demand: each facility's capacity per demand within its catchment (step 1),
    summed over the facilities within reach of each home (step 2)."""
    n_points = len(homes.points)
    at_home = np.bincount(homes.home_of, weights=demand, minlength=n_points)
    has = np.flatnonzero(at_home > 0)
    pairs = homes.model.within(homes.points.take(has), located, catchment)
    reached = np.bincount(pairs.facility, weights=at_home[has][pairs.point], minlength=len(idx))
    capacity = facilities.capacity[idx]
    ratio = np.divide(capacity, reached, out=np.full(len(idx), np.nan), where=reached > 0)
    access = np.zeros(n_points)
    access[has] = np.bincount(pairs.point, weights=np.nan_to_num(ratio)[pairs.facility], minlength=len(has))
    return access, FacilityLoad(idx, reached, ratio)


def compute_accessibility(
    homes: Homes, facilities: Facilities, catalogue: PersonaCatalogue, config: FacilityTypeConfig
) -> Accessibility:
    """Distance to the nearest facility of each type and 2SFCA supply for every home: the warm step of a scenario.

    The 2SFCA catchment of a type is its ``catchment_m`` in the facility types, else the largest maximum walking
    distance a persona sets for it; a type with a demand group but neither gets no supply indicator.
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
        fallback[ftype] = int(near.fallback[homes.home_of].sum())
        spec = config.spec(ftype)
        column = limit[:, j]
        catchment = spec.catchment_m or (float(np.nanmax(column)) if np.isfinite(column).any() else None)
        if spec.demand is not None and catchment is not None:
            demand = homes.households.demand[spec.demand.ages]
            supply[ftype], loads[ftype] = _supply(homes, facilities, idx, mine, demand=demand, catchment=catchment)
            catchment_m[ftype] = catchment
    return Accessibility(
        homes, facilities, catalogue, config, types, limit, distance, fallback, supply, catchment_m, loads
    )


def h3_parent(cells: np.ndarray, resolution: int) -> np.ndarray:
    """Ancestors at ``resolution`` (0 to 10) of res-10 H3 cells, by the H3 bit layout (as the privacy gate does)."""
    if not 0 <= resolution <= 10:
        raise ConfigError(f"H3 resolution {resolution} is out of range", hint="ask for a resolution from 0 to 10")
    return parent(cells, resolution)


def _null_if_not_finite(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.float64(), mask=~np.isfinite(values))


def _group_stats(
    rank: np.ndarray, by_distance: np.ndarray, d: np.ndarray, w: np.ndarray, extra: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Per group (households in distance order, grouped stably by rank): counts, mean, weighted median, sums."""
    sel = by_distance[np.argsort(rank[by_distance], kind="stable")]  # a radix sort for small ranks
    if len(sel) == 0:
        return {"rank": np.zeros(0, np.int64)}
    k = rank[sel]
    start = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    count = np.diff(np.r_[start, len(k)])
    ws, ds = w[sel], d[sel]
    persons = np.add.reduceat(ws, start)
    cumulative = np.cumsum(ws)
    before = cumulative[start] - ws[start]
    middle = np.clip(np.searchsorted(cumulative, before + persons / 2, side="left"), start, start + count - 1)
    with np.errstate(invalid="ignore"):
        mean = np.add.reduceat(ws * ds, start) / persons
    out = {"rank": k[start], "households": count, "persons": persons, "mean": mean, "median": ds[middle]}
    for name, values in extra.items():
        out[name] = np.add.reduceat(values[sel], start)
    return out


def _indicator_columns(acc: Accessibility, cell: np.ndarray) -> dict[str, list[Any]]:
    """Rows per (cell, persona needing the type or '*', type); ``cell`` indexes each household's cell."""
    hh, home_of = acc.homes.households, acc.homes.home_of
    n_personas = len(acc.catalogue.persona)
    ids = np.array([*acc.catalogue.ids, ALL], dtype=object)
    cols: dict[str, list[Any]] = {c: [] for c in ("cell", "persona", "facility", *INDICATORS)}
    w = hh.size.astype(np.float64)
    n = len(hh)
    key = cell.astype(np.int64) * (n_personas + 1)
    keys, rank = np.unique(np.concatenate([key + hh.persona, key + n_personas]), return_inverse=True)
    rank = rank.reshape(-1).astype(np.uint16 if len(keys) < 2**16 else np.int64)
    for j, ftype in enumerate(acc.types):
        d = acc.distance[ftype][home_of]
        limit = acc.threshold[:, j][hh.persona]
        needs = np.isfinite(limit)
        extra = {"need": w * needs, "covered": w * (needs & (d <= limit))}
        spec = acc.config.spec(ftype)
        if ftype in acc.supply and spec.demand is not None:
            demand = hh.demand[spec.demand.ages].astype(np.float64)
            extra |= {"demand": demand, "supplied": demand * acc.supply[ftype][home_of]}
        by_distance = np.argsort(d)
        for ranks, subset in ((rank[:n], by_distance[needs[by_distance]]), (rank[n:], by_distance)):
            g = _group_stats(ranks, subset, d, w, extra)
            group = keys[g["rank"]]
            size = len(group)
            if size == 0:
                continue
            persona = group % (n_personas + 1)
            cols["cell"].append(group // (n_personas + 1))
            cols["persona"].append(ids[persona])
            cols["facility"].append(np.full(size, ftype, dtype=object))
            cols["households"].append(g["households"])
            cols["persons"].append(g["persons"].astype(np.int64))
            cols["max_distance_m"].append(np.append(acc.threshold[:, j], np.nan)[persona])
            cols["mean_distance_m"].append(g["mean"])
            cols["median_distance_m"].append(g["median"])
            with np.errstate(invalid="ignore", divide="ignore"):
                cols["coverage_share"].append(np.where(g["need"] > 0, g["covered"] / g["need"], np.nan))
                demand_sum = g.get("demand", np.full(size, np.nan))
                cols["demand"].append(demand_sum)
                cols["supply_per_demand"].append(
                    np.where(demand_sum > 0, g.get("supplied", demand_sum) / demand_sum, np.nan)
                )
    return cols


def _table(acc: Accessibility, cols: dict[str, list[Any]], keys: dict[str, pa.Array]) -> pa.Table:
    def cat(name: str, dtype: type) -> np.ndarray:
        return np.asarray(np.concatenate([np.zeros(0, dtype), *cols[name]]), dtype=dtype)

    arrays = dict(keys)
    arrays["persona"] = pa.array(cat("persona", str), pa.string())
    arrays["facility"] = pa.array(cat("facility", str), pa.string())
    arrays["households"] = pa.array(cat("households", np.int64))
    arrays["persons"] = pa.array(cat("persons", np.int64))
    for name in ("max_distance_m", "mean_distance_m", "median_distance_m", "coverage_share", "demand"):
        arrays[name] = _null_if_not_finite(cat(name, np.float64))
    arrays["supply_per_demand"] = _null_if_not_finite(cat("supply_per_demand", np.float64))
    return pa.table(arrays).replace_schema_metadata(acc.metadata())


def persona_indicators(acc: Accessibility) -> pa.Table:
    """One row per persona and facility type it needs, plus '*' (everyone) per type; see :data:`INDICATORS`."""
    cols = _indicator_columns(acc, np.zeros(len(acc.homes.households), dtype=np.int64))
    return _table(acc, cols, {})


def cell_indicators(acc: Accessibility, resolution: int) -> pa.Table:
    """Like :func:`persona_indicators`, per H3 cell of ``resolution`` (0 to 10): columns resolution, h3, ..."""
    parents = h3_parent(acc.homes.households.h3_10, resolution)
    cells, cell = np.unique(parents, return_inverse=True)
    cols = _indicator_columns(acc, cell.reshape(-1))
    index = np.concatenate(cols["cell"]).astype(np.int64) if cols["cell"] else np.zeros(0, np.int64)
    keys = {"resolution": pa.array(np.full(len(index), resolution, np.uint8)), "h3": pa.array(cells[index])}
    return _table(acc, cols, keys)


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
