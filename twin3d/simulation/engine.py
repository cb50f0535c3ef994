"""Running a scenario: apply its measures to the published population, compute the indicators, compare them.

    privacy gate: published units (noised counts per persona, public home points)  --measures-->  scenario units
    -> accessibility (distance, coverage, 2SFCA) per persona, hazard exposure, green space, sealing, projection
    -> KPI table per persona (baseline, scenario, delta) and per published H3 row.

The simulation never sees a household: :func:`load_baseline` asks the gate (:mod:`twin3d.population.privacy`) for
the published units and keeps nothing else of the microdata. Area measures act on whole units (a unit is removed
or exposed when at least half of its public weight lies in the area) and an area too small to report on gets no
number, so every figure below is a function of published values and public geometry, whatever is asked, and the
same measures give the same figures under any name. What the gate changed is listed in ``privacy.notes``.

The cold part (reading the store, the walking network, locating the home points) is done once per twin by
:func:`load_baseline`; :func:`run_scenario` is the warm part.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import shapely
from h3ronpy.vector import coordinates_to_cells
from pyproj import CRS
from scipy.sparse import csr_matrix

from twin3d.io.crs import reproject, transform_points
from twin3d.population.personas import PersonaCatalogue, load_personas
from twin3d.population.privacy import PrivacyRules, PublishedUnits, published_units
from twin3d.simulation.accessibility import (
    Accessibility,
    Homes,
    compute_accessibility,
    locate_homes,
    persona_indicators,
)
from twin3d.simulation.calibration import TownRates, town_rates
from twin3d.simulation.cells import compare_cells
from twin3d.simulation.data_edge import data_extent, edge_bound
from twin3d.simulation.effects import gainers, persona_verdicts, unit_moves
from twin3d.simulation.facility_types import (
    FACILITY_TYPES,
    Facilities,
    FacilityTypeConfig,
    facilities_from_store,
    load_facility_types,
)
from twin3d.simulation.flood import FloodGround, FloodOutcome, apply_flood, flood_results, load_flood_ground
from twin3d.simulation.greens import (
    GREEN_REACH_M,
    GREEN_TOLERANCE_M2,
    Greens,
    green_per_unit,
    green_rows,
    reach,
)
from twin3d.simulation.housing import NET_SHARE, Footprints, floor_dwellings, quarter_sealing
from twin3d.simulation.infill import LayerSource, Parcels, infill_potential
from twin3d.simulation.network import DistanceModel, distance_model, walk_graph_from_store
from twin3d.simulation.scenario import (
    AddFacility,
    AddStoreys,
    Flood,
    FloodWall,
    GreenSpace,
    Hazard,
    Infill,
    NewHousing,
    Projection,
    RemoveBuildings,
    RemoveFacility,
    ScenarioSpec,
)
from twin3d.simulation.verdicts import assessment, kpi_rows

WGS84 = CRS.from_epsg(4326)
DEMAND_OUTLOOK = {"kita_0_5": (0, 5), "primary_6_9": (6, 9), "care_80_plus": (80, 120)}


@dataclass
class Baseline:
    """A twin's baseline, held warm between scenario runs: the published units, never the microdata."""

    crs: CRS
    catalogue: PersonaCatalogue
    config: FacilityTypeConfig
    model: DistanceModel
    units: PublishedUnits
    homes: Homes
    facilities: Facilities
    accessibility: Accessibility
    rates: TownRates  # the outlook's: fitted on the town's own history, or the German prior
    rules: PrivacyRules
    districts: dict[str, shapely.Geometry] = field(default_factory=dict)
    missing_types: tuple[str, ...] = ()
    footprints: Footprints | None = None
    flood_ground: FloodGround | None = None  # the terrain and what stands on it, for flood measures
    edge_bound: list[dict[str, Any]] = field(default_factory=list)  # see data_edge: walks the extract may overstate
    greens: Greens = field(default_factory=Greens.empty)
    parcels: Parcels = field(default_factory=Parcels.empty)  # the cadastre, for infill measures
    layers: LayerSource | None = None  # where loaded plan layers are read when a scenario runs

    @cached_property
    def green_reach(self) -> csr_matrix:
        """Which greens each baseline home reaches on foot (see :mod:`.greens`), walked once."""
        return reach(self.homes, self.greens)

    @cached_property
    def green_supply(self) -> np.ndarray:
        """Green m² per resident within reach, per baseline unit, computed once."""
        return green_per_unit(self.units, self.homes, self.greens, self.green_reach)

    def green_supply_of(self, applied: Applied) -> np.ndarray:
        """Green m² per resident within reach, per unit of a scenario's state: its new homes and greens walked on
        top of the baseline's reach, unless a flood cut paths (then all is walked anew)."""
        known = None if applied.flood is not None else self.green_reach
        return green_per_unit(applied.units, applied.homes, self.greens.plus(applied.greens), known)

    @cached_property
    def indicators(self) -> list[dict[str, Any]]:
        """The baseline's KPI rows per persona and facility type: the residents' side of every scenario that
        removes no unit, computed once (``dataclasses.replace`` makes a new baseline without it)."""
        return list(persona_indicators(self.accessibility, self.units).to_pylist())


def load_baseline(
    con: duckdb.DuckDBPyConnection, pipelines_dir: Path, *, key: bytes | None = None, rules: PrivacyRules | None = None
) -> Baseline:
    """Ask the gate for a built twin's published units; read its facilities and network; compute the baseline.

    Args:
        con: the twin's store.
        pipelines_dir: where personas.toml, facility_types.toml, projection/germany.toml and the town's history
            file (projection/towns/<twin>.toml, if it has one) are.
        key: the twin's privacy key (the one its build used, so the units are the published ones); a fresh random
            key where none is given (benchmarks).
        rules: the privacy gate's rules.
    """
    catalogue = load_personas(pipelines_dir / "personas.toml")
    config = load_facility_types(pipelines_dir / "facility_types.toml")
    row = con.execute("SELECT value->>'crs', value->>'name' FROM twin_meta WHERE key = 'twin'").fetchone()
    assert row is not None
    crs = CRS.from_user_input(row[0])
    rules = rules or PrivacyRules()
    units = published_units(con, catalogue.ids, key=key or secrets.token_bytes(32), rules=rules)
    model = distance_model(walk_graph_from_store(con))
    homes = locate_homes(model, units.point_x, units.point_y)
    facilities, facility_report = facilities_from_store(con, config)
    accessibility = compute_accessibility(homes, units, facilities, catalogue, config)
    districts = {
        str(district_id): shapely.from_wkb(wkb)
        for district_id, wkb in con.execute("SELECT district_id, ST_AsWKB(geom) FROM districts").fetchall()
    }
    footprints = Footprints.from_store(con)
    return Baseline(
        crs=crs,
        catalogue=catalogue,
        config=config,
        model=model,
        units=units,
        homes=homes,
        facilities=facilities,
        accessibility=accessibility,
        rates=town_rates(pipelines_dir, row[1], units.pyramid()),
        rules=rules,
        districts=districts,
        missing_types=tuple(facility_report.missing_types),
        footprints=footprints,
        flood_ground=load_flood_ground(con, crs, footprints, model),
        edge_bound=edge_bound(data_extent(con), units, accessibility, model.detour_factor),
        greens=Greens.from_store(con),
        parcels=Parcels.from_store(con),
        layers=LayerSource.of_store(con),
    )


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
            "by_persona": _per_persona(base, added),
        }
        dwellings += found.dwellings
        results.append({"measure": i, **found.summary, "newcomers": newcomers})
    return units, dwellings, results


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


def apply_measures(base: Baseline, spec: ScenarioSpec) -> Applied:
    """The scenario's units and facilities. Demolitions act on whole units; new housing is occupied by expected
    households of the published mix; nothing depends on the scenario's name or on chance."""
    removed = np.zeros(len(base.units), bool)
    facilities = base.facilities
    years = 0
    hazards: list[tuple[int, shapely.Geometry]] = []
    greens: list[shapely.Geometry] = []
    notes: list[dict[str, Any]] = []
    housing: list[NewHousing | AddStoreys] = []
    floods = [(i, m) for i, m in enumerate(spec.measures) if isinstance(m, Flood | FloodWall)]
    for i, m in enumerate(spec.measures):
        if isinstance(m, RemoveBuildings):
            share = base.units.building_share(m.building_ids)
            whole = base.units.affected(share)
            removed |= whole
            partly = int(np.count_nonzero((share > 0) & ~whole))
            notes.append({"measure": i, "code": "removal_whole_units", "units": int(whole.sum()), "kept": partly})
        elif isinstance(m, RemoveFacility):
            facilities = facilities.take(facilities.ids != m.facility_id)
        elif isinstance(m, AddFacility):
            (x,), (y,) = transform_points(
                np.array([m.location.coordinates[0]]), np.array([m.location.coordinates[1]]), WGS84, base.crs
            )
            fid = _new_facility_id(facilities, m.facility, x, y)
            facilities = facilities.concat(Facilities.build([fid], [m.facility], [x], [y], [m.capacity]))
        elif isinstance(m, NewHousing | AddStoreys):
            housing.append(m)
        elif isinstance(m, GreenSpace):
            green = _to_twin(base, m.area.shape())
            greens.append(green)
            point = green.representative_point()
            fid = _new_facility_id(facilities, "park", point.x, point.y)
            facilities = facilities.concat(Facilities.build([fid], ["park"], [point.x], [point.y], [0]))
        elif isinstance(m, Hazard):
            hazards.append((i, _to_twin(base, m.area.shape())))
        elif isinstance(m, Projection):
            years = max(years, m.years)
    units = base.units.select(~removed)
    sealing: list[dict[str, float]] = []
    dwellings = 0
    for m in housing:
        if isinstance(m, NewHousing):
            units, sealed, n = _new_housing(base, m, units, ~removed)
            sealing.append(sealed)
        else:
            units, n = _add_storeys(base, m, units, ~removed)
        dwellings += n
    units, n, infill = _infill(base, spec, units, ~removed)
    dwellings += n
    homes = base.homes.concat(units.point_x[len(base.homes) :], units.point_y[len(base.homes) :])
    flood = None
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
        projection_years=years,
        flood=flood,
        notes=notes,
        infill=infill,
    )


def _per_persona(base: Baseline, units: PublishedUnits) -> list[dict[str, Any]]:
    """Households and persons per persona summed over ``units`` (shown counts plus each unit's rest by the town's
    suppressed mix); absent below the group minimum."""
    households = units.group_households().sum(axis=0)
    persons = units.group_persons().sum(axis=0)
    return [
        {"persona": pid, "households": round(float(households[i])), "persons": round(float(persons[i]))}
        for i, pid in enumerate(base.catalogue.ids)
        if households[i] >= base.rules.min_group
    ]


def _exposure(base: Baseline, applied: Applied) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Exposure per persona over the units most of whose homes lie in a hazard area, and the privacy notes; all
    withheld when one area holds too few persons or households by the public estimate."""
    units = applied.units
    exposed = np.zeros(len(units), bool)
    notes = []
    for i, area in applied.hazards:
        inside = shapely.contains_xy(area, units.point_x, units.point_y)
        share = units.share_of(inside)
        if units.too_small(share, base.rules):
            return [], [{"measure": i, "code": "hazard_area_too_small"}]
        whole = units.affected(share)
        exposed |= whole
        partly = int(np.count_nonzero((share > 0) & ~whole))
        notes.append({"measure": i, "code": "hazard_whole_units", "units": int(whole.sum()), "kept": partly})
    return _per_persona(base, units.select(exposed)), notes


def _causes(reference: Facilities, applied: Applied) -> dict[str, list[str]]:
    """Per facility type, what the scenario did that can change its indicators against the reference's
    facilities (cause codes)."""
    old, new = reference, applied.facilities
    causes: dict[str, list[str]] = {}
    for t, name in enumerate(FACILITY_TYPES):
        before, after = set(old.ids[old.type == t]), set(new.ids[new.type == t])
        found = (["facility_closed"] if before - after else []) + (["facility_added"] if after - before else [])
        causes[name] = found
    causes["green"] = ["green_added"] if applied.greens else []
    for found in causes.values():
        if applied.units.added.any():
            found.append("newcomers")
        if not applied.kept.all():
            found.append("homes_removed")
        if applied.flood is not None:
            found.append("flood")
    return causes


def _projection(base: Baseline, applied: Applied) -> dict[str, Any] | None:
    """The scenario's population by the cohort-component method (births, deaths and net migration each year, at
    the town's own rates or the German prior: ``method`` says which), per demand group and year; ``flows`` are the
    persons born, dying and moving in net in each projected year."""
    if not applied.projection_years:
        return None
    projection = base.rates.project(applied.units.pyramid()[None], applied.projection_years)
    groups = projection.by_group(DEMAND_OUTLOOK)[:, 0, :]
    flows = {"births": projection.births, "deaths": projection.deaths, "net_migration": projection.migration}
    return {
        "years": list(range(applied.projection_years + 1)),
        **{name: [round(float(v)) for v in groups[:, j]] for j, name in enumerate(DEMAND_OUTLOOK)},
        "persons": [round(float(v)) for v in projection.totals()[:, 0]],
        "flows": {name: [round(float(v)) for v in flow[:, 0]] for name, flow in flows.items()},
        "method": base.rates.method,
    }


@dataclass
class Reference:
    """What a scenario is compared with: the baseline, or another scenario's state."""

    units: PublishedUnits
    accessibility: Accessibility
    facilities: Facilities
    kept: np.ndarray  # bool per baseline unit
    against: dict[str, Any] | None
    green_supply: np.ndarray  # green m² per resident within reach, per unit of ``units``


def reference_of(base: Baseline, against: ScenarioSpec | None) -> Reference:
    """The baseline, or the state ``against`` leads to (its units, facilities and accessibility)."""
    if against is None:
        everyone = np.ones(len(base.units), bool)
        return Reference(base.units, base.accessibility, base.facilities, everyone, None, base.green_supply)
    applied = apply_measures(base, against)
    acc = compute_accessibility(applied.homes, applied.units, applied.facilities, base.catalogue, base.config)
    summary = {"scenario_id": against.content_hash(), "name": against.name}
    return Reference(applied.units, acc, applied.facilities, applied.kept, summary, base.green_supply_of(applied))


def _green_space(
    base: Baseline, applied: Applied, reference: Reference, both: np.ndarray
) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray] | None]:
    """Green m² per resident within reach per persona: the residents in the reference and in the scenario, and
    the newcomers; with the method's parameters and how many greens the twin has. Also the residents' m² per
    unit before and after (None without greens), for :func:`.effects.unit_moves`."""

    def per_baseline_unit(units: PublishedUnits, kept: np.ndarray, values: np.ndarray) -> np.ndarray:
        # A state's units are the kept baseline units in their order, then what its measures added.
        out = np.full(len(base.units), np.nan)
        out[np.flatnonzero(kept)] = values[~units.added]
        return out

    rows: list[dict[str, Any]] = []
    per_unit = None
    if len(base.greens):  # without data on today's greens there is no baseline to compare with
        supply = base.green_supply_of(applied)
        before = per_baseline_unit(reference.units, reference.kept, reference.green_supply)[both]
        after = per_baseline_unit(applied.units, applied.kept, supply)[both]
        added = applied.units.added
        rows = green_rows(
            list(base.catalogue.ids),
            (base.units.select(both), before, after),
            (applied.units.select(added), supply[added]) if added.any() else None,
            base.rules.min_group,
        )
        per_unit = before, after
    return {
        "reach_m": GREEN_REACH_M,
        "tolerance_m2": GREEN_TOLERANCE_M2,
        "greens": len(base.greens) + len(applied.greens),
        "greens_added": len(applied.greens),
        "rows": rows,
    }, per_unit


def run_scenario(base: Baseline, spec: ScenarioSpec, against: ScenarioSpec | None = None) -> dict[str, Any]:
    """The scenario's results: KPIs per persona (residents under the old and the new facilities, newcomers apart)
    with a verdict per indicator and the largest losses, hazard exposure, green space, sealing, the demand outlook
    and the published H3 rows; every count a sum of published units (see the module docstring).

    ``against``: compare with that scenario instead of the baseline. The residents are then the households that
    live in both, and "baseline" in the KPIs and cells means the other scenario; the rest is this one's own.
    """
    applied = apply_measures(base, spec)
    reference = reference_of(base, against)
    units = applied.units
    after = compute_accessibility(applied.homes, units, applied.facilities, base.catalogue, base.config)
    exposure, exposure_notes = _exposure(base, applied)
    flood, flood_notes = (
        flood_results(applied.flood, units, base.catalogue.ids, base.rules) if applied.flood else (None, [])
    )
    notes = applied.notes + exposure_notes + flood_notes
    added = units.select(units.added)
    both = applied.kept & reference.kept
    residents = base.units.select(both)  # their home points are the baseline's, located alike in both states
    persons_added = float(added.persons[:, 0].sum())
    if against is None and both.all():
        before = base.indicators
    else:
        before = persona_indicators(reference.accessibility, residents).to_pylist()
    lacking_before = [t for t in base.missing_types if not len(reference.facilities.of_type(t))]
    green, green_per_unit = _green_space(base, applied, reference, both)
    kpis = kpi_rows(
        before,
        persona_indicators(after, residents).to_pylist(),
        persona_indicators(after, added).to_pylist() if len(added) else [],
        base.rules.min_group,
        missing=lacking_before,
        missing_after=[t for t in base.missing_types if not len(applied.facilities.of_type(t))],
    )
    lacking = [*lacking_before, *(t for t in base.missing_types if not len(applied.facilities.of_type(t)))]
    moves = unit_moves(residents, reference.accessibility, after, skip=lacking, green=green_per_unit)
    model = base.model
    return {
        "scenario_id": spec.content_hash(),
        "name": spec.name,
        "distance_method": model.method,
        "distance_description": model.describe(),
        "summary": {
            "households_added": round(float(added.households[:, 0].sum())),
            "persons_added": round(persons_added),
            "households_removed": round(float(base.units.households[~applied.kept, 0].sum())),
            "persons_removed": round(float(base.units.persons[~applied.kept, 0].sum())),
            "facilities": len(applied.facilities),
            "dwellings_added": applied.dwellings,
            "sealed_m2": applied.sealing["new_m2"],
            "sealing": applied.sealing,
            "residents_per_sealed_ha": (
                round(persons_added / (applied.sealing["new_m2"] / 10_000), 1) if applied.sealing["new_m2"] else None
            ),
            "no_new_sealing": persons_added > 0 and applied.sealing["new_m2"] == 0,
        },
        "kpis": kpis,
        "assessment": assessment(kpis, _causes(reference.facilities, applied), green=green["rows"]),
        "personas": persona_verdicts(kpis, green["rows"], base.catalogue.ids),
        "gainers": gainers(residents, moves, base.catalogue.ids, base.rules),
        "against": reference.against,
        "hazard_exposed": exposure,
        "flood": flood,
        "green_space": green,
        "infill": applied.infill or None,
        "demand_outlook": _projection(base, applied),
        "data_gaps": {
            "facility_types": list(base.missing_types),
            "facility_edge": base.edge_bound,
            "greens": not len(base.greens),
        },
        "cells": compare_cells(reference.accessibility, reference.units, after, units),
        "privacy": {
            "min_persons": base.rules.min_persons,
            "min_households": base.rules.min_households,
            "min_group": base.rules.min_group,
            "notes": notes,
        },
    }
