"""Placing households: into residential buildings by capacity, else evenly over the zone's area; then H3.

A zone's households are spread over its "slots" (residential buildings weighted by floor area, or a lattice of
points where the town has no buildings) with a low-discrepancy sequence over the households sorted by their
make-up. Every slot then gets close to its expected share, and a mix of households like the zone's, instead
of the clumps random draws would give; so small areas such as H3 cells see the fitted figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
import shapely
from h3ronpy.vector import coordinates_to_cells
from pyproj import CRS

from twin3d.io.crs import transform_points

GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
WGS84 = CRS.from_epsg(4326)
H3_FINEST = 10


@dataclass(frozen=True)
class PlacementRules:
    """Which buildings house people and how the fallback lattice is laid."""

    residential_types: tuple[str, ...] = (
        "yes",
        "house",
        "detached",
        "semidetached_house",
        "terrace",
        "residential",
        "apartments",
        "farm",
        "bungalow",
        "dormitory",
    )
    min_footprint_m2: float = 35.0
    storey_height_m: float = 3.0
    lattice_spacing_m: float = 100.0
    # Germans live on about 47 m² each; a zone whose mapped floor area is far below even a fifth of that is
    # only partly mapped, and its people go on the area lattice rather than into the few buildings it has.
    min_floor_area_per_person_m2: float = 10.0


@dataclass(frozen=True)
class BuildingStock:
    """Buildings the synthesis may place households in: a point and an area each, not their outlines.

    A Land's buildings are read in tasks, and each task hands its buildings' stock to the driver: a point inside
    each footprint and its area are what placing households needs, and a few numbers per building instead of its
    outline keep a Land's stock small in the driver (see :meth:`of`).
    """

    ids: np.ndarray
    x: np.ndarray  # a point inside each footprint (shapely's point_on_surface), twin CRS
    y: np.ndarray
    area: np.ndarray  # footprint area, m²
    building_type: np.ndarray
    levels: np.ndarray
    height: np.ndarray

    @classmethod
    def of(
        cls, ids: np.ndarray, footprints: np.ndarray, building_type: np.ndarray, levels: np.ndarray, height: np.ndarray
    ) -> BuildingStock:
        """The stock of buildings with these footprints."""
        inside = shapely.point_on_surface(footprints)
        x, y = shapely.get_x(inside), shapely.get_y(inside)
        return cls(ids, x, y, shapely.area(footprints), building_type, levels, height)

    @staticmethod
    def concat(stocks: list[BuildingStock]) -> BuildingStock:
        return BuildingStock(*(np.concatenate([getattr(s, f.name) for s in stocks]) for f in fields(BuildingStock)))


@dataclass
class Slots:
    """Places households can live, grouped by zone (ascending).

    Attributes:
        zone: zone of each slot.
        x, y: position in the twin's CRS.
        weight: capacity (residential floor area, or area per lattice point).
        building: index into the building stock (-1: a lattice point).
        h3: the res-10 H3 cell of each slot.
    """

    zone: np.ndarray
    x: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    building: np.ndarray
    h3: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    lat: np.ndarray = field(default_factory=lambda: np.zeros(0))


def building_capacity(stock: BuildingStock, rules: PlacementRules) -> np.ndarray:
    """Residential floor area per building: footprint x storeys, 0 for non-residential types and sheds."""
    area = stock.area
    storeys = np.where(
        np.isfinite(stock.levels) & (stock.levels > 0),
        stock.levels,
        np.maximum(1.0, np.floor(stock.height / rules.storey_height_m)),
    )
    residential = np.isin(stock.building_type, list(rules.residential_types)) & (area >= rules.min_footprint_m2)
    return np.where(residential, area * storeys, 0.0)


def _lattice(zones: np.ndarray, geometry: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points on a square lattice inside each zone (its representative point where none falls inside)."""
    bounds = shapely.bounds(geometry[zones])
    x0 = np.floor(bounds[:, 0] / spacing) * spacing + spacing / 2
    y0 = np.floor(bounds[:, 1] / spacing) * spacing + spacing / 2
    nx = np.maximum(np.ceil((bounds[:, 2] - x0) / spacing), 1).astype(np.int64)
    ny = np.maximum(np.ceil((bounds[:, 3] - y0) / spacing), 1).astype(np.int64)
    count = nx * ny
    owner = np.repeat(np.arange(len(zones)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    px = x0[owner] + (k % nx[owner]) * spacing
    py = y0[owner] + (k // nx[owner]) * spacing
    inside = shapely.contains_xy(geometry[zones][owner], px, py)
    owner, px, py = owner[inside], px[inside], py[inside]
    empty = np.setdiff1d(np.arange(len(zones)), owner)
    if len(empty):
        rep = shapely.get_coordinates(shapely.point_on_surface(geometry[zones[empty]]))
        owner = np.concatenate([owner, empty])
        px, py = np.concatenate([px, rep[:, 0]]), np.concatenate([py, rep[:, 1]])
    return zones[owner], px, py


def build_slots(
    geometry: np.ndarray, persons: np.ndarray, stock: BuildingStock | None, rules: PlacementRules, crs: CRS
) -> tuple[Slots, int]:
    """Slots for every zone: its residential buildings, or a lattice where it has too few of them.

    Args:
        geometry: zone polygons.
        persons: persons per zone, to judge whether its buildings can house them.
        stock: the twin's buildings, if any.
        rules: residential types and lattice spacing.
        crs: the twin's CRS.

    Returns:
        The slots, sorted by zone, and the number of zones that fell back to the lattice.
    """
    n = len(geometry)
    zone_parts: list[np.ndarray] = []
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    buildings: list[np.ndarray] = []
    housed = np.zeros(n, dtype=bool)
    if stock is not None and len(stock.ids):
        capacity = building_capacity(stock, rules)
        usable = np.flatnonzero(capacity > 0)
        centres = shapely.points(stock.x[usable], stock.y[usable])
        point_idx, zone_idx = shapely.STRtree(geometry).query(centres, predicate="within")
        first = np.unique(point_idx, return_index=True)[1]
        point_idx, zone_idx = point_idx[first], zone_idx[first]
        floor_area = np.bincount(zone_idx, weights=capacity[usable[point_idx]], minlength=n)
        covered = floor_area >= rules.min_floor_area_per_person_m2 * persons
        keep = covered[zone_idx]
        point_idx, zone_idx = point_idx[keep], zone_idx[keep]
        b = usable[point_idx]
        xy = shapely.get_coordinates(centres[point_idx])
        zone_parts.append(zone_idx)
        xs.append(xy[:, 0])
        ys.append(xy[:, 1])
        weights.append(capacity[b])
        buildings.append(b)
        housed[zone_idx] = True
    lattice_zones = np.flatnonzero(~housed)
    if len(lattice_zones):
        z, px, py = _lattice(lattice_zones, geometry, rules.lattice_spacing_m)
        zone_parts.append(z)
        xs.append(px)
        ys.append(py)
        weights.append(np.full(len(z), rules.lattice_spacing_m**2))
        buildings.append(np.full(len(z), -1))
    zone = np.concatenate(zone_parts)
    x, y = np.concatenate(xs), np.concatenate(ys)
    lon, lat = transform_points(x, y, crs, WGS84)
    h3 = np.asarray(coordinates_to_cells(lat, lon, H3_FINEST)).astype(np.uint64)
    # H3 ids sort their cells by every ancestor: ordered so, each H3 cell of any resolution is one run of a
    # zone's slots, and the even spread of allocate() holds per cell, not only per slot.
    order = np.lexsort((h3, zone))
    slots = Slots(
        zone[order],
        x[order],
        y[order],
        np.concatenate(weights)[order],
        np.concatenate(buildings)[order].astype(np.int64),
        h3[order],
        lon[order],
        lat[order],
    )
    return slots, len(lattice_zones)


def slot_shares(slots: Slots, n_zones: int) -> np.ndarray:
    """Each slot's share of its zone's capacity."""
    total = np.bincount(slots.zone, weights=slots.weight, minlength=n_zones)
    shares: np.ndarray = slots.weight / total[slots.zone]
    return shares


def allocate(
    zone: np.ndarray,
    sort_key: np.ndarray,
    slots: Slots,
    *,
    n_zones: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """The slot of each household.

    A zone's households, sorted by ``sort_key`` (their make-up), take the positions k * golden ratio (mod 1)
    plus a random offset per zone on the zone's cumulative capacity. Each run of slots, such as one H3 cell,
    then receives its share of households to within about one, drawn evenly from across the sorted list, so
    its mix is the zone's; random draws would err by the square root of the count.
    """
    share = slot_shares(slots, n_zones)
    cumulative = np.cumsum(share)
    zone_end = np.bincount(slots.zone, weights=share, minlength=n_zones).cumsum()
    # Cumulative share within the zone, placed at zone + share so one searchsorted serves every zone.
    within = cumulative - np.concatenate([[0.0], zone_end[:-1]])[slots.zone]
    keys = slots.zone + np.minimum(within, 1.0)
    order = np.lexsort((sort_key, zone))
    ordered_zone = zone[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered_zone, ordered_zone)
    offset = rng.random(n_zones)
    position = np.mod(rank * GOLDEN + offset[ordered_zone], 1.0)
    slot_of_sorted = np.searchsorted(keys, ordered_zone + position, side="right")
    last = np.searchsorted(slots.zone, ordered_zone, side="right") - 1
    first = np.searchsorted(slots.zone, ordered_zone, side="left")
    slot_of_sorted = np.clip(slot_of_sorted, first, last)
    result = np.empty(len(zone), dtype=np.int64)
    result[order] = slot_of_sorted
    return result
