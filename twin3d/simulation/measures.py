"""Applying a scenario's measures to the published units: who leaves, who moves in, which facilities open or
close, which areas are exposed, what is sealed and which buildings are planned, replaced or raised.

Demolitions and replaced buildings act on whole units (a unit goes when at least half of its public weight is in
the buildings); new housing is occupied by expected households of the published mix; nothing depends on the
scenario's name or on chance. :func:`apply_measures` is the whole step; :mod:`.engine` computes the indicators on its
result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from h3ronpy.vector import coordinates_to_cells
from pyproj import CRS

from twin3d.io.crs import reproject, transform_points
from twin3d.population.privacy import PublishedUnits
from twin3d.simulation.accessibility import (
    Homes,
)
from twin3d.simulation.facility_types import (
    Facilities,
)
from twin3d.simulation.flood import FloodOutcome, apply_flood
from twin3d.simulation.housing import NET_SHARE, building_sealing, floor_dwellings, quarter_sealing
from twin3d.simulation.infill import infill_potential
from twin3d.simulation.layer_inputs import hazard_areas
from twin3d.simulation.models3d import planned_prism
from twin3d.simulation.planned import Prism, home_points, prisms_of
from twin3d.simulation.scenario import (
    AddFacility,
    AddStoreys,
    Flood,
    FloodWall,
    GreenSpace,
    Hazard,
    Infill,
    NewHousing,
    PlannedBuilding,
    Projection,
    RemoveBuildings,
    RemoveFacility,
    ScenarioSpec,
)

if TYPE_CHECKING:
    from twin3d.simulation.engine import Baseline

WGS84 = CRS.from_epsg(4326)


@dataclass
class Applied:
    """The scenario's units and facilities, and what its area measures change."""

    units: PublishedUnits
    homes: Homes
    facilities: Facilities
    kept: np.ndarray  # bool per baseline unit: still there
    sealing: dict[str, float]
    dwellings: int
    hazards: list[tuple[int, shapely.Geometry]]
    greens: list[shapely.Geometry]
    projection_years: int
    notes: list[dict[str, Any]]
    flood: FloodOutcome | None = None
    infill: list[dict[str, Any]] = field(default_factory=list)  # per infill measure: potential and parcels
    prisms: list[Prism] = field(default_factory=list)  # the planned buildings
    removed_buildings: tuple[str, ...] = ()  # demolished or replaced by a planned building
    raised_storeys: dict[str, int] = field(default_factory=dict)  # storeys added per building id


def _to_twin(base: Baseline, geometry: shapely.Geometry) -> shapely.Geometry:
    return reproject(np.array([geometry]), WGS84, base.crs)[0]


def _points_in(area: shapely.Geometry, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` places spread over an area: a square lattice at the spacing that fits them."""
    x0, y0, x1, y1 = area.bounds
    spacing = max(np.sqrt(area.area / max(n, 1)), 2.0)
    xs, ys = np.meshgrid(np.arange(x0 + spacing / 2, x1, spacing), np.arange(y0 + spacing / 2, y1, spacing))
    inside = shapely.contains_xy(area, xs.ravel(), ys.ravel())
    px, py = xs.ravel()[inside], ys.ravel()[inside]
    if not len(px):
        point = area.representative_point()
        return np.array([point.x]), np.array([point.y])
    return px[:n], py[:n]


def _unit_centres(units: PublishedUnits) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's centre: the mean of its home points weighted by their public weight."""
    total = units.unit_weight
    w = units.member_weight
    cx = np.bincount(units.member_unit, weights=w * units.point_x[units.member_point], minlength=len(units))
    cy = np.bincount(units.member_unit, weights=w * units.point_y[units.member_point], minlength=len(units))
    return cx / np.where(total > 0, total, 1), cy / np.where(total > 0, total, 1)


def _pool(base: Baseline, mix: str, units: PublishedUnits, kept: np.ndarray) -> np.ndarray:
    """The units whose mix new households follow: a district's (by their centres) or the whole twin's baseline,
    as a mask over ``units``: the baseline units ``kept`` (in their order), then what measures added."""
    pool = np.ones(len(base.units), bool)
    if mix.startswith("like:"):
        district = base.districts.get(mix.removeprefix("like:"))
        if district is not None:
            cx, cy = _unit_centres(base.units)
            pool = shapely.contains_xy(district, cx, cy)
    return np.concatenate([pool[kept], np.zeros(len(units) - int(kept.sum()), bool)])


def _cells(base: Baseline, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    lon, lat = transform_points(x, y, base.crs, WGS84)
    return np.asarray(coordinates_to_cells(lat, lon, 10)).astype(np.uint64)


def _new_housing(
    base: Baseline, m: NewHousing, units: PublishedUnits, kept: np.ndarray
) -> tuple[PublishedUnits, dict[str, float], int]:
    """The quarter's newcomers, what it seals, and its dwellings."""
    area = _to_twin(base, m.area.shape())
    dwellings = m.dwellings or floor_dwellings(
        area.area, site_coverage=m.site_coverage, storeys=m.storeys, dwelling_m2=m.dwelling_m2
    )
    households = dwellings * m.occupancy
    x, y = _points_in(area, max(round(households), 1))
    added = units.with_new_housing(_pool(base, m.mix, units, kept), households, x, y, _cells(base, x, y))
    return added, quarter_sealing(area, m.site_coverage, base.footprints), dwellings


def _add_storeys(base: Baseline, m: AddStoreys, units: PublishedUnits, kept: np.ndarray) -> tuple[PublishedUnits, int]:
    """The newcomers in storeys added on existing buildings (each by its new floor area), and their dwellings."""
    assert base.footprints is not None  # the ids were checked against the twin's buildings
    idx = base.footprints.take(m.building_ids)
    floor = base.footprints.area_m2[idx] * m.storeys
    dwellings = int(max(1, round(float(floor.sum()) * NET_SHARE / m.dwelling_m2)))
    x, y = base.footprints.x[idx], base.footprints.y[idx]
    pool = _pool(base, m.mix, units, kept)
    return units.with_new_housing(pool, dwellings * m.occupancy, x, y, _cells(base, x, y), weights=floor), dwellings


def _infill(
    base: Baseline, spec: ScenarioSpec, units: PublishedUnits, kept: np.ndarray
) -> tuple[PublishedUnits, int, list[dict[str, Any]]]:
    """The newcomers in the infill the scenario's infill measures realise (by each parcel's realised floor area;
    storeys on existing buildings, so no sealing), their dwellings, and per measure its result: the potential per
    parcel (:mod:`.infill`) and its newcomers per persona through the gate."""
    dwellings, results = 0, []
    for i, m in ((i, m) for i, m in enumerate(spec.measures) if isinstance(m, Infill)):
        plan, why = base.layers.plan(m.plan_layer, spec.visibility) if base.layers and m.plan_layer else (None, None)
        if m.plan_layer and why is None and plan is None:
            why = "plan_layer_missing"  # no layers folder known (an in-memory store)
        notes = [{"code": why, "layer": m.plan_layer}] if why else []
        area = _to_twin(base, m.area.shape()) if m.area is not None else None
        found = infill_potential(base.parcels, m, area=area, plan=plan, notes=notes)
        before, households, cells = len(units), found.dwellings * m.occupancy, _cells(base, found.x, found.y)
        pool = _pool(base, m.mix, units, kept)
        units = units.with_new_housing(pool, households, found.x, found.y, cells, weights=found.floor_m2)
        added = units.select(np.arange(len(units)) >= before)
        newcomers = {
            "households": round(float(added.households[:, 0].sum())),
            "persons": round(float(added.persons[:, 0].sum())),
            "by_persona": added.persona_counts(base.rules),
        }
        dwellings += found.dwellings
        results.append({"measure": i, **found.summary, "newcomers": newcomers})
    return units, dwellings, results


def _hazard_area(base: Baseline, m: Hazard, visibility: str) -> tuple[shapely.Geometry | None, str | None]:
    """A hazard's area in the twin's CRS: drawn, or the polygons of a loaded layer (None and why where it has none)."""
    if m.area is not None:
        return _to_twin(base, m.area.shape()), None
    assert m.layer is not None
    if base.layers is None:
        return None, "layer_missing"
    polygons, why = hazard_areas(base.layers, m.layer, visibility, base.crs)
    return (shapely.union_all(polygons), None) if polygons is not None else (None, why)


def _planned(
    base: Baseline, prisms: list[Prism], spec: ScenarioSpec, units: PublishedUnits, kept: np.ndarray
) -> tuple[PublishedUnits, list[dict[str, float]], int]:
    """The newcomers in the planned buildings that hold homes, what the buildings seal, and their dwellings."""
    sealing, dwellings = [], 0
    for prism in prisms:
        m = spec.measures[prism.measure]
        assert isinstance(m, PlannedBuilding)
        sealing.append(building_sealing(prism.footprint, base.footprints))
        if prism.dwellings:
            x, y = home_points(prism.footprint)
            units = units.with_new_housing(
                _pool(base, m.mix, units, kept), prism.dwellings * m.occupancy, x, y, _cells(base, x, y)
            )
            dwellings += prism.dwellings
    return units, sealing, dwellings


def _sum_sealing(parts: list[dict[str, float]]) -> dict[str, float]:
    keys = ("footprints_m2", "access_m2", "already_sealed_m2", "new_m2")
    return {k: round(sum(p[k] for p in parts)) for k in keys}


def _new_facility_id(facilities: Facilities, kind: str, x: float, y: float) -> str:
    """A scenario's facility named by what and where it is (the same place in two scenarios is the same facility,
    whatever the order of the measures), numbered on where one scenario puts two alike."""
    fid = f"scenario:{kind}@{x:.1f},{y:.1f}"
    taken = set(facilities.ids.tolist())
    k = 1
    while fid in taken:
        k += 1
        fid = f"scenario:{kind}@{x:.1f},{y:.1f}#{k}"
    return fid


def _removals(
    base: Baseline, spec: ScenarioSpec, prisms: list[Prism], notes: list[dict[str, Any]]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The baseline units that leave (whole units in demolished or replaced buildings) and those buildings' ids."""
    removed = np.zeros(len(base.units), bool)
    demolished: list[str] = []
    removals = [(i, list(m.building_ids)) for i, m in enumerate(spec.measures) if isinstance(m, RemoveBuildings)]
    for i, building_ids in [*removals, *((p.measure, list(p.replaced)) for p in prisms if p.replaced)]:
        share = base.units.building_share(building_ids)
        whole = base.units.affected(share)
        removed |= whole
        demolished += building_ids
        partly = int(np.count_nonzero((share > 0) & ~whole))
        notes.append({"measure": i, "code": "removal_whole_units", "units": int(whole.sum()), "kept": partly})
    return removed, tuple(dict.fromkeys(demolished))


def _facilities(base: Baseline, spec: ScenarioSpec) -> tuple[Facilities, list[shapely.Geometry]]:
    """The facilities after the measures that open or close them (a new green is a park), and the new greens."""
    facilities = base.facilities
    greens: list[shapely.Geometry] = []
    for m in spec.measures:
        if isinstance(m, RemoveFacility):
            facilities = facilities.take(facilities.ids != m.facility_id)
        elif isinstance(m, AddFacility):
            (x,), (y,) = transform_points(
                np.array([m.location.coordinates[0]]), np.array([m.location.coordinates[1]]), WGS84, base.crs
            )
            fid = _new_facility_id(facilities, m.facility, x, y)
            facilities = facilities.concat(Facilities.build([fid], [m.facility], [x], [y], [m.capacity]))
        elif isinstance(m, GreenSpace):
            green = _to_twin(base, m.area.shape())
            greens.append(green)
            point = green.representative_point()
            fid = _new_facility_id(facilities, "park", point.x, point.y)
            facilities = facilities.concat(Facilities.build([fid], ["park"], [point.x], [point.y], [0]))
    return facilities, greens


def _hazards(base: Baseline, spec: ScenarioSpec, notes: list[dict[str, Any]]) -> list[tuple[int, shapely.Geometry]]:
    """The hazard areas (twin CRS) with their measure; a layer without polygons is a note."""
    hazards = []
    for i, m in enumerate(spec.measures):
        if isinstance(m, Hazard):
            area, why = _hazard_area(base, m, spec.visibility)
            if area is not None:
                hazards.append((i, area))
            else:
                notes.append({"measure": i, "code": why, "layer": m.layer})
    return hazards


def _housing(
    base: Baseline, spec: ScenarioSpec, prisms: list[Prism], units: PublishedUnits, kept: np.ndarray
) -> tuple[PublishedUnits, list[dict[str, float]], int, list[dict[str, Any]]]:
    """The units with every measure's newcomers, what they seal, their dwellings and the infill results."""
    sealing: list[dict[str, float]] = []
    dwellings = 0
    for m in spec.measures:
        if isinstance(m, NewHousing):
            units, sealed, n = _new_housing(base, m, units, kept)
            sealing.append(sealed)
            dwellings += n
        elif isinstance(m, AddStoreys):
            units, n = _add_storeys(base, m, units, kept)
            dwellings += n
    units, n, infill = _infill(base, spec, units, kept)
    dwellings += n
    units, planned_sealing, n = _planned(base, prisms, spec, units, kept)
    return units, sealing + planned_sealing, dwellings + n, infill


def apply_measures(base: Baseline, spec: ScenarioSpec) -> Applied:
    """The scenario's units and facilities. Demolitions act on whole units; new housing is occupied by expected
    households of the published mix; nothing depends on the scenario's name or on chance."""
    notes: list[dict[str, Any]] = []
    prisms = prisms_of(spec, base.footprints, lambda m: planned_prism(m, base.crs, base.models or {}))
    removed, demolished = _removals(base, spec, prisms, notes)
    facilities, greens = _facilities(base, spec)
    hazards = _hazards(base, spec, notes)
    raised: dict[str, int] = {}
    for m in spec.measures:
        if isinstance(m, AddStoreys):
            raised.update((b, raised.get(b, 0) + m.storeys) for b in m.building_ids)
    units, sealing, dwellings, infill = _housing(base, spec, prisms, base.units.select(~removed), ~removed)
    homes = base.homes.concat(units.point_x[len(base.homes) :], units.point_y[len(base.homes) :])
    flood = None
    floods = [(i, m) for i, m in enumerate(spec.measures) if isinstance(m, Flood | FloodWall)]
    if floods and base.flood_ground is not None:  # last: the water closes facilities and cuts paths of all of them
        flood = apply_flood(base.flood_ground, floods, units, facilities, homes)
        facilities, homes = flood.facilities, flood.homes
    return Applied(
        units=units,
        homes=homes,
        facilities=facilities,
        kept=~removed,
        sealing=_sum_sealing(sealing),
        dwellings=dwellings,
        hazards=hazards,
        greens=greens,
        projection_years=max((m.years for m in spec.measures if isinstance(m, Projection)), default=0),
        flood=flood,
        notes=notes,
        infill=infill,
        prisms=prisms,
        removed_buildings=demolished,
        raised_storeys=raised,
    )
