"""The validation report: how well the synthetic population reproduces the statistics it came from.

Per control and level (district, census grid cell, H3 res 9) it gives the standardised root mean square error
SRMSE = sqrt(mean((synthetic - target)^2)) / mean(target) and the share of units within max(1, 10 %) of the
target. Controls held out of the fit are reported the same way and flagged: they test the model, not the fit.

Every reference is data, never the fit's own targets. Districts are compared with the district tables, census
cells with the census grid (the part of each cell inside the twin). H3 cells have no statistics of their own:
their reference is the census grid's counts, each 1-km cell's spread over its residential capacity (floor area,
or area where buildings are missing), so the H3 figure measures the synthesis and the placement against the census
under that one assumption. It is no independent check: the census cell counts are fitted. The independent checks
are the held-out controls, compared with the data at every level where the data has them; each level states its
reference in ``reference``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from h3ronpy import change_resolution

from twin3d.population.controls import AGE_BANDS, GRID_AGE_GROUPS, SEXES, district_controls
from twin3d.population.synthesis import Population, PopulationInputs, Replicate

TARGETS = {"district": 0.05, "grid": 0.30, "h3_9": 0.10}
REFERENCES = {
    "district": "the district tables",
    "grid": "the census grid (the part of each cell inside the twin)",
    "h3_9": "the census grid, each 1-km cell's counts spread over its residential capacity (H3 has no data of its own)",
}
GRID_VARIABLES = {"persons": "population", **{g: g for g in GRID_AGE_GROUPS}, **{s: s for s in SEXES}}


@dataclass(frozen=True)
class ControlFit:
    """One control at one level."""

    control: str
    units: int
    srmse: float
    within_10pct: float
    target_total: float
    synthetic_total: float
    holdout: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "control": self.control,
            "units": self.units,
            "srmse": round(self.srmse, 5),
            "within_10pct": round(self.within_10pct, 4),
            "target_total": round(self.target_total, 1),
            "synthetic_total": round(self.synthetic_total, 1),
            "holdout": self.holdout,
        }


def compare(name: str, synthetic: np.ndarray, target: np.ndarray, holdout: bool) -> ControlFit | None:
    """SRMSE and the share within max(1, 10 %) over the units with a known target; None if there are none."""
    known = np.isfinite(target)
    if not known.any() or np.nanmean(target[known]) <= 0:
        return None
    s, t = synthetic[known], target[known]
    srmse = float(np.sqrt(np.mean((s - t) ** 2)) / np.mean(t))
    within = float(np.mean(np.abs(s - t) <= np.maximum(1.0, 0.1 * t)))
    return ControlFit(name, int(known.sum()), srmse, within, float(t.sum()), float(s.sum()), holdout)


def person_counts(rep: Replicate, unit_of_household: np.ndarray, n_units: int) -> dict[str, np.ndarray]:
    """Persons per unit by age band, grid age group and sex, counted from the synthetic persons themselves."""
    unit = unit_of_household[rep.persons.household]
    inside = unit >= 0
    age = rep.persons.age.astype(np.int64)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(unit[inside & mask], minlength=n_units).astype(np.float64)

    from twin3d.population.classes import AGE_CLASSES  # noqa: PLC0415

    out = {"persons": count(np.ones(len(age), dtype=bool))}
    for name, classes in {**AGE_BANDS, **GRID_AGE_GROUPS}.items():
        lo, hi = AGE_CLASSES[classes[0]][0], AGE_CLASSES[classes[-1]][1]
        out[name] = count((age >= lo) & (age <= hi))
    out["male"] = count(rep.persons.male)
    out["female"] = count(~rep.persons.male)
    return out


def household_counts(pop: Population, rep: Replicate, unit: np.ndarray, n_units: int) -> dict[str, np.ndarray]:
    """Households per unit by the household controls."""
    from twin3d.population.controls import prototype_coefficients  # noqa: PLC0415

    coefs = prototype_coefficients(pop.protos, 0.5)
    inside = unit >= 0
    names = ("households", "single", "single_under_30", "single_65_plus", "with_children", "single_parent")
    return {n: np.bincount(unit[inside], weights=coefs[n][rep.proto][inside], minlength=n_units) for n in names}


def district_level(pop: Population, inputs: PopulationInputs, holdout: set[str]) -> list[ControlFit]:
    if inputs.districts is None or (pop.zones.district < 0).any():
        return []
    rep = pop.first
    n = len(inputs.districts.ids)
    unit = pop.zones.district[rep.zone]
    synthetic = {**person_counts(rep, unit, n), **household_counts(pop, rep, unit, n)}
    targets = district_controls(inputs.districts)
    fits = [compare(name, synthetic[name], targets[name], name in holdout) for name in targets]
    return [f for f in fits if f is not None]


def inside_share(pop: Population, inputs: PopulationInputs) -> np.ndarray:
    """Per census cell, the share of its area inside the twin (0 for cells the twin does not reach)."""
    assert inputs.grid is not None
    n = len(inputs.grid.ids)
    inside = pop.zones.cell >= 0
    area = np.bincount(pop.zones.cell[inside], weights=shapely.area(pop.zones.geometry[inside]), minlength=n)
    share: np.ndarray = np.divide(area, shapely.area(inputs.grid.geometry), out=np.zeros(n), where=area > 0)
    return share


def grid_level(pop: Population, inputs: PopulationInputs, holdout: set[str]) -> list[ControlFit]:
    """Synthetic persons per census cell against the cell's own counts, for the part of it inside the twin."""
    if inputs.grid is None:
        return []
    rep = pop.first
    n = len(inputs.grid.ids)
    synthetic = person_counts(rep, pop.zones.cell[rep.zone], n)
    share = inside_share(pop, inputs)
    fits = []
    for name, variable in GRID_VARIABLES.items():
        target = np.where(share > 0, inputs.grid.get(variable) * share, np.nan)
        fits.append(compare(name, synthetic[name], target, name in holdout))
    return [f for f in fits if f is not None]


def h3_level(pop: Population, inputs: PopulationInputs, holdout: set[str], resolution: int = 9) -> list[ControlFit]:
    """Synthetic counts per H3 cell against the census grid's counts spread over each census cell's capacity.

    H3 cells that hold a slot outside every census cell have no reference and are left out.
    """
    if inputs.grid is None:
        return []
    rep = pop.first
    slots = pop.slots
    slot_h3 = np.asarray(change_resolution(slots.h3, resolution)).astype(np.uint64)
    cells, slot_unit = np.unique(slot_h3, return_inverse=True)
    n = len(cells)
    census = pop.zones.cell[slots.zone]
    known = census >= 0
    census = np.maximum(census, 0)
    capacity = np.bincount(census[known], weights=slots.weight[known], minlength=len(inputs.grid.ids))
    spread = np.where(known, slots.weight / np.where(known, capacity[census], 1.0), np.nan)
    share = inside_share(pop, inputs)
    synthetic = person_counts(rep, slot_unit[rep.slot], n)
    fits = []
    for name, variable in GRID_VARIABLES.items():
        per_slot = (inputs.grid.get(variable) * share)[census] * spread
        target = np.bincount(slot_unit, weights=np.nan_to_num(per_slot), minlength=n)
        target[np.bincount(slot_unit, weights=~np.isfinite(per_slot), minlength=n) > 0] = np.nan
        fits.append(compare(name, synthetic[name], target, name in holdout))
    return [f for f in fits if f is not None]


def validation_report(
    pop: Population, inputs: PopulationInputs, holdout: set[str], context: dict[str, Any]
) -> dict[str, Any]:
    """The report as a JSON-ready dict: levels with per-control figures, targets and whether they are met."""
    levels = {
        "district": district_level(pop, inputs, holdout),
        "grid": grid_level(pop, inputs, holdout),
        "h3_9": h3_level(pop, inputs, holdout),
    }
    rep = pop.first
    out_levels = []
    for level, fits in levels.items():
        if not fits:
            continue
        fitted = [f.srmse for f in fits if not f.holdout]
        out_levels.append(
            {
                "level": level,
                "reference": REFERENCES[level],
                "units": max(f.units for f in fits),
                "target_srmse": TARGETS[level],
                "max_srmse_fitted": round(max(fitted), 5) if fitted else None,
                "met": bool(fitted) and max(fitted) <= TARGETS[level],
                "controls": [f.as_dict() for f in fits],
            }
        )
    exact: dict[str, bool] = {}
    district = next((lv for lv in levels["district"] if lv.control == "persons"), None)
    if district is not None:
        exact["district_persons"] = district.srmse == 0.0
    households = next((lv for lv in levels["district"] if lv.control == "households"), None)
    if households is not None:
        exact["district_households"] = households.srmse == 0.0
    return {
        **context,
        "persons": len(rep.persons.age),
        "households": len(rep.zone),
        "zones": len(pop.zones),
        "holdout": sorted(holdout),
        "exact_totals": exact,
        "levels": out_levels,
        "fit": {
            "iterations": pop.fit.iterations,
            "worst_relative_error": {k: round(v, 5) for k, v in pop.fit.worst_error.items()},
            "unfittable_units": pop.fit.unfittable,
        },
        "zones_off_person_target": rep.zones_off,
        "placement": {
            "slots": len(pop.slots.zone),
            "building_slots": int((pop.slots.building >= 0).sum()),
            "zones_on_area_lattice": pop.lattice_zones,
        },
        "timings_s": {k: round(v, 3) for k, v in pop.timings.items()},
    }
