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
from pyproj import CRS
from scipy.sparse import csr_matrix

from twin3d.layers.models import models_dir
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
from twin3d.simulation.flood import FloodGround, flood_results, load_flood_ground
from twin3d.simulation.greens import (
    GREEN_REACH_M,
    GREEN_TOLERANCE_M2,
    Greens,
    green_per_unit,
    green_rows,
    reach,
)
from twin3d.simulation.housing import Footprints
from twin3d.simulation.infill import LayerSource, Parcels
from twin3d.simulation.measures import Applied, apply_measures
from twin3d.simulation.models3d import Models
from twin3d.simulation.network import DistanceModel, distance_model, walk_graph_from_store
from twin3d.simulation.planning import PlanningGround, planning_results
from twin3d.simulation.scenario import (
    ScenarioSpec,
)
from twin3d.simulation.verdicts import assessment, kpi_rows

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
    planning: PlanningGround | None = None  # buildings as obstacles, terrain and roads: sun, noise, views
    models: Models | None = None  # where uploaded glTF models are (placed planned buildings)

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
    con: duckdb.DuckDBPyConnection,
    pipelines_dir: Path,
    *,
    key: bytes | None = None,
    rules: PrivacyRules | None = None,
    models: Models | None = None,
    layers: LayerSource | None = None,
) -> Baseline:
    """Ask the gate for a built twin's published units; read its facilities and network; compute the baseline.

    Args:
        con: the twin's store.
        pipelines_dir: where personas.toml, facility_types.toml, projection/germany.toml and the town's history
            file (projection/towns/<twin>.toml, if it has one) are.
        key: the twin's privacy key (the one its build used, so the units are the published ones); a fresh random
            key where none is given (benchmarks).
        rules: the privacy gate's rules.
        models: where the twin's uploaded glTF models are (the server's models folder); left out: beside the store.
        layers: where the twin's loaded layers are (the server's layers folder); left out: beside the store.
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
    flood_ground = load_flood_ground(con, crs, footprints, model)
    layers = layers or LayerSource.of_store(con)
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
        flood_ground=flood_ground,
        edge_bound=edge_bound(data_extent(con), units, accessibility, model.detour_factor),
        greens=Greens.from_store(con),
        parcels=Parcels.from_store(con),
        layers=layers,
        planning=PlanningGround.load(con, pipelines_dir, crs, flood_ground.terrain),
        models=models if models is not None or layers is None else models_dir(layers.paths, layers.twin),
    )


def _per_persona(base: Baseline, units: PublishedUnits) -> list[dict[str, Any]]:
    """Households and persons per persona summed over ``units``, through the gate's rules."""
    return units.persona_counts(base.rules)


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
        **planning_results(base, applied, spec),
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
