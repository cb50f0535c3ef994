"""Running a scenario: apply its measures to the baseline, compute the indicators for both, compare them.

    baseline (store: households, persons, facilities, paths)  --measures-->  scenario population and facilities
    -> accessibility (distance, coverage, 2SFCA) per persona, hazard exposure, green space, sealing, projection
    -> KPI table per persona (baseline, scenario, delta) and per-H3-cell comparisons that pass the privacy rules.

The cold part (reading the store, the walking network, locating the baseline's homes) is done once per twin by
:func:`load_baseline`; :func:`run_scenario` is the warm part, seeded by the scenario's content hash.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import shapely
from h3ronpy.vector import coordinates_to_cells
from pyproj import CRS

from twin3d.io.crs import reproject, transform_points
from twin3d.population.personas import PersonaCatalogue, load_personas
from twin3d.population.privacy import PrivacyRules
from twin3d.simulation.accessibility import (
    Accessibility,
    Homes,
    Households,
    compute_accessibility,
    households_from_store,
    locate_households,
    persona_indicators,
)
from twin3d.simulation.cells import compare_cells
from twin3d.simulation.facility_types import Facilities, FacilityTypeConfig, facilities_from_store, load_facility_types
from twin3d.simulation.network import DistanceModel, distance_model, walk_graph_from_store
from twin3d.simulation.projection import ProjectionRates, load_rates, project_cohorts
from twin3d.simulation.scenario import (
    AddFacility,
    GreenSpace,
    Hazard,
    NewHousing,
    Projection,
    RemoveBuildings,
    RemoveFacility,
    ScenarioSpec,
)

WGS84 = CRS.from_epsg(4326)
GREEN_REACH_M = 500.0
# Published counts of exposure are rounded to this step, and groups below the gate's minimum are left out.
ROUND_TO = 5
DEMAND_OUTLOOK = {"kita_0_5": (0, 5), "primary_6_9": (6, 9), "care_80_plus": (80, 120)}


@dataclass
class Baseline:
    """A twin's baseline, held warm between scenario runs."""

    crs: CRS
    catalogue: PersonaCatalogue
    config: FacilityTypeConfig
    model: DistanceModel
    households: Households
    building: np.ndarray
    district: np.ndarray
    person_offsets: np.ndarray
    person_age: np.ndarray
    person_male: np.ndarray
    facilities: Facilities
    accessibility: Accessibility
    rates: ProjectionRates
    rules: PrivacyRules
    key: bytes


def load_baseline(
    con: duckdb.DuckDBPyConnection, pipelines_dir: Path, *, key: bytes | None = None, rules: PrivacyRules | None = None
) -> Baseline:
    """Read a built twin's population, facilities and network, and compute the baseline's indicators.

    Args:
        con: the twin's store.
        pipelines_dir: where personas.toml, facility_types.toml and projection/germany.toml are.
        key: the twin's privacy key (the one its build used, so baseline cells match the published ones);
            a fresh random key where none is given (benchmarks).
        rules: the privacy gate's rules.
    """
    catalogue = load_personas(pipelines_dir / "personas.toml")
    config = load_facility_types(pipelines_dir / "facility_types.toml")
    row = con.execute("SELECT value->>'crs' FROM twin_meta WHERE key = 'twin'").fetchone()
    assert row is not None
    crs = CRS.from_user_input(row[0])
    model = distance_model(walk_graph_from_store(con))
    households = households_from_store(con, catalogue, config)
    extra = con.execute(
        "SELECT building_id, district_id FROM households WHERE replicate = 0 ORDER BY household_id"
    ).to_arrow_table()
    persons = con.execute(
        "SELECT household_id, age, sex = 'm' AS male FROM persons WHERE replicate = 0 ORDER BY household_id, person_id"
    ).to_arrow_table()
    person_household = persons["household_id"].to_numpy(zero_copy_only=False)
    offsets = np.searchsorted(person_household, np.arange(len(households) + 1))
    facilities, _ = facilities_from_store(con, config)
    homes = locate_households(model, households)
    return Baseline(
        crs=crs,
        catalogue=catalogue,
        config=config,
        model=model,
        households=households,
        building=extra["building_id"].to_numpy(zero_copy_only=False).astype(object),
        district=extra["district_id"].to_numpy(zero_copy_only=False).astype(object),
        person_offsets=offsets,
        person_age=persons["age"].to_numpy(zero_copy_only=False).astype(np.int64),
        person_male=persons["male"].to_numpy(zero_copy_only=False).astype(bool),
        facilities=facilities,
        accessibility=compute_accessibility(homes, facilities, catalogue, config),
        rates=load_rates(pipelines_dir / "projection" / "germany.toml"),
        rules=rules or PrivacyRules(),
        key=key or secrets.token_bytes(32),
    )


@dataclass
class Applied:
    """The scenario's population and facilities, and what its area measures change."""

    households: Households
    source: np.ndarray  # baseline household each scenario household copies (itself, or the one it was drawn from)
    facilities: Facilities
    added_households: int
    removed_households: int
    sealed_m2: float
    hazards: list[shapely.Geometry]
    greens: list[shapely.Geometry]
    projection_years: int


def _to_twin(base: Baseline, geometry: shapely.Geometry) -> shapely.Geometry:
    return reproject(np.array([geometry]), WGS84, base.crs)[0]


def _points_in(area: shapely.Geometry, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` places spread over an area: a square lattice at the spacing that fits them, cycled if short."""
    x0, y0, x1, y1 = area.bounds
    spacing = max(np.sqrt(area.area / max(n, 1)), 2.0)
    xs, ys = np.meshgrid(np.arange(x0 + spacing / 2, x1, spacing), np.arange(y0 + spacing / 2, y1, spacing))
    inside = shapely.contains_xy(area, xs.ravel(), ys.ravel())
    px, py = xs.ravel()[inside], ys.ravel()[inside]
    if not len(px):
        point = area.representative_point()
        px, py = np.array([point.x]), np.array([point.y])
    pick = np.arange(n) % len(px)
    return px[pick], py[pick]


def _new_housing(base: Baseline, m: NewHousing, rng: np.random.Generator) -> tuple[Households, np.ndarray, float]:
    area = _to_twin(base, m.area.shape())
    n = round(m.dwellings * m.occupancy)
    if m.mix.startswith("like:"):
        pool = np.flatnonzero(base.district == m.mix.removeprefix("like:"))
    else:
        # A new-build quarter draws from the twin's own households: its mix of sizes and ages, moving in.
        pool = np.arange(len(base.households))
    source = rng.choice(pool, size=n, replace=True) if len(pool) else np.zeros(0, np.int64)
    x, y = _points_in(area, n)
    lon, lat = transform_points(x, y, base.crs, WGS84)
    h = base.households
    new = Households(
        x=x,
        y=y,
        persona=h.persona[source],
        size=h.size[source],
        h3_10=np.asarray(coordinates_to_cells(lat, lon, 10)).astype(np.uint64),
        demand={k: v[source] for k, v in h.demand.items()},
    )
    return new, source, float(area.area)


def _concat(a: Households, b: Households) -> Households:
    return Households(
        x=np.concatenate([a.x, b.x]),
        y=np.concatenate([a.y, b.y]),
        persona=np.concatenate([a.persona, b.persona]),
        size=np.concatenate([a.size, b.size]),
        h3_10=np.concatenate([a.h3_10, b.h3_10]),
        demand={k: np.concatenate([a.demand[k], b.demand[k]]) for k in a.demand},
    )


def _take(h: Households, index: np.ndarray) -> Households:
    return Households(
        h.x[index],
        h.y[index],
        h.persona[index],
        h.size[index],
        h.h3_10[index],
        {k: v[index] for k, v in h.demand.items()},
    )


def apply_measures(base: Baseline, spec: ScenarioSpec) -> Applied:
    """The scenario's households and facilities. New households are drawn with a generator seeded by the spec's
    content hash, so a scenario always gives the same population."""
    rng = np.random.default_rng(int(spec.content_hash()[:16], 16))
    keep = np.ones(len(base.households), dtype=bool)
    facilities = base.facilities
    added: list[Households] = []
    sources: list[np.ndarray] = []
    sealed, hazards, greens, years = 0.0, [], [], 0
    for i, m in enumerate(spec.measures):
        if isinstance(m, RemoveBuildings):
            keep &= ~np.isin(base.building, m.building_ids)
        elif isinstance(m, RemoveFacility):
            facilities = facilities.take(facilities.ids != m.facility_id)
        elif isinstance(m, AddFacility):
            (x,), (y,) = transform_points(
                np.array([m.location.coordinates[0]]), np.array([m.location.coordinates[1]]), WGS84, base.crs
            )
            facilities = facilities.concat(Facilities.build([f"scenario:{i}"], [m.facility], [x], [y], [m.capacity]))
        elif isinstance(m, NewHousing):
            new, source, area = _new_housing(base, m, rng)
            added.append(new)
            sources.append(source)
            sealed += area
        elif isinstance(m, GreenSpace):
            green = _to_twin(base, m.area.shape())
            greens.append(green)
            point = green.representative_point()
            facilities = facilities.concat(Facilities.build([f"scenario:{i}"], ["park"], [point.x], [point.y], [0]))
        elif isinstance(m, Hazard):
            hazards.append(_to_twin(base, m.area.shape()))
        elif isinstance(m, Projection):
            years = max(years, m.years)
    kept = np.flatnonzero(keep)
    households = _take(base.households, kept)
    for new in added:
        households = _concat(households, new)
    return Applied(
        households=households,
        source=np.concatenate([kept, *sources]),
        facilities=facilities,
        added_households=int(sum(len(a) for a in added)),
        removed_households=int(len(keep) - keep.sum()),
        sealed_m2=sealed,
        hazards=hazards,
        greens=greens,
        projection_years=years,
    )


def _rounded(value: float) -> int:
    return int(ROUND_TO * round(value / ROUND_TO))


def _per_persona(base: Baseline, h: Households, mask: np.ndarray) -> list[dict[str, Any]]:
    """Households and persons per persona among ``mask``: rounded, and absent below the gate's group minimum."""
    n = len(base.catalogue.ids)
    households = np.bincount(h.persona[mask], minlength=n)
    persons = np.bincount(h.persona[mask], weights=h.size[mask], minlength=n)
    return [
        {"persona": pid, "households": _rounded(households[i]), "persons": _rounded(persons[i])}
        for i, pid in enumerate(base.catalogue.ids)
        if households[i] >= base.rules.min_group
    ]


KPI_METRICS = ("mean_distance_m", "median_distance_m", "coverage_share", "supply_per_demand")


def _kpis(base: Baseline, before: Accessibility, after: Accessibility) -> list[dict[str, Any]]:
    """Per persona and needed facility type: distances, coverage and supply, baseline and scenario, and the change.

    Rows of personas with fewer households than the privacy minimum are left out; counts are rounded.
    """
    b = {(r["persona"], r["facility"]): r for r in persona_indicators(after).to_pylist()}
    out = []
    for row in persona_indicators(before).to_pylist():
        other = b.get((row["persona"], row["facility"]))
        if other is None or min(row["households"], other["households"]) < base.rules.min_group:
            continue
        entry: dict[str, Any] = {
            "persona": row["persona"],
            "facility": row["facility"],
            "max_distance_m": row["max_distance_m"],
            "persons_baseline": _rounded(row["persons"]),
            "persons_scenario": _rounded(other["persons"]),
        }
        for key in KPI_METRICS:
            old, new = row[key], other[key]
            entry[f"{key}_baseline"] = old
            entry[f"{key}_scenario"] = new
            entry[f"{key}_delta"] = None if old is None or new is None else new - old
        out.append(entry)
    return out


def _projection(base: Baseline, applied: Applied) -> dict[str, Any] | None:
    if not applied.projection_years:
        return None
    src = applied.source
    starts, ends = base.person_offsets[src], base.person_offsets[src + 1]
    counts = ends - starts
    idx = np.repeat(starts, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    projection = project_cohorts(
        base.person_age[idx],
        base.person_male[idx],
        np.zeros(len(idx), np.int64),
        applied.projection_years,
        base.rates,
        n_units=1,
    )
    groups = projection.by_group(DEMAND_OUTLOOK)[:, 0, :]
    return {
        "years": list(range(applied.projection_years + 1)),
        **{name: [_rounded(v) for v in groups[:, j]] for j, name in enumerate(DEMAND_OUTLOOK)},
    }


def _homes(base: Baseline, applied: Applied) -> Homes:
    """The scenario's homes: the baseline's located points for the households it keeps, new ones located now."""
    old = base.accessibility.homes
    n_kept = len(applied.households) - applied.added_households
    kept = applied.source[:n_kept]
    if not applied.added_households:
        return Homes(applied.households, base.model, old.points, old.home_of[kept])
    new = locate_households(base.model, _take(applied.households, np.arange(n_kept, len(applied.households))))
    return Homes(
        applied.households,
        base.model,
        old.points.concat(new.points),
        np.concatenate([old.home_of[kept], len(old.points) + new.home_of]),
    )


def run_scenario(base: Baseline, spec: ScenarioSpec) -> dict[str, Any]:
    """The scenario's results: KPIs per persona against the baseline, hazard exposure, green space, sealing and
    the demand outlook. Every count is rounded to 5 and groups below the privacy minimum are left out."""
    applied = apply_measures(base, spec)
    h = applied.households
    homes = _homes(base, applied)
    after = compute_accessibility(homes, applied.facilities, base.catalogue, base.config)
    exposed = np.zeros(len(h), dtype=bool)
    for area in applied.hazards:
        exposed |= shapely.contains_xy(area, h.x, h.y)
    green_m2 = np.zeros(len(h))
    for area in applied.greens:
        near = shapely.distance(area, shapely.points(h.x, h.y)) <= GREEN_REACH_M
        residents = h.size[near].sum()
        if residents:
            green_m2[near] += area.area / residents
    n_personas = len(base.catalogue.ids)
    persons = np.bincount(h.persona, weights=h.size, minlength=n_personas)
    green = np.bincount(h.persona, weights=green_m2 * h.size, minlength=n_personas)
    new_persons = int(h.size[len(h) - applied.added_households :].sum()) if applied.added_households else 0
    model = base.model
    return {
        "scenario_id": spec.content_hash(),
        "name": spec.name,
        "distance_method": model.method,
        "distance_description": model.describe(),
        "summary": {
            "households_added": _rounded(applied.added_households),
            "persons_added": _rounded(new_persons),
            "households_removed": _rounded(applied.removed_households),
            "facilities": len(applied.facilities),
            "sealed_m2": round(applied.sealed_m2),
            "residents_per_sealed_m2": round(new_persons / applied.sealed_m2, 4) if applied.sealed_m2 else None,
        },
        "kpis": _kpis(base, base.accessibility, after),
        "hazard_exposed": _per_persona(base, h, exposed) if applied.hazards else [],
        "green_m2_per_resident": [
            {"persona": pid, "m2": round(float(green[i] / persons[i]), 2)}
            for i, pid in enumerate(base.catalogue.ids)
            if persons[i] and applied.greens
        ],
        "demand_outlook": _projection(base, applied),
        "cells": compare_cells(
            base.accessibility, after, base.catalogue.ids, key=base.key, scenario=spec.content_hash(), rules=base.rules
        ),
    }
