"""Planned buildings of a scenario as the simulation sees them: a prism (footprint and height in the twin's CRS),
the existing buildings it replaces, and the dwellings it holds.

A drawn planned building stands on its footprint up to ``height_m`` (or ``storeys`` x :data:`.scenario.STOREY_M`); a
placed glTF model on the outline of its mesh seen from above up to its top (:mod:`twin3d.layers.models`; the convex hull
for very large or many-part models). An existing building
is replaced when at least :data:`REPLACED_SHARE` of its footprint lies under the plan: its households leave (whole
units, as a demolition) and it no longer casts shadows, screens noise or blocks views. A residential planned building
holds floor area x :data:`.housing.NET_SHARE` / ``dwelling_m2`` dwellings (unless given); a mixed one keeps its
ground floor for other uses; a non-residential one holds none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely

from twin3d.simulation.housing import NET_SHARE, Footprints
from twin3d.simulation.scenario import STOREY_M, PlannedBuilding, ScenarioSpec

REPLACED_SHARE = 0.5
"""An existing building is replaced when at least this share of its footprint lies under a planned one."""

PrismOf = Callable[[PlannedBuilding], tuple[shapely.Polygon, float]]
"""A planned building's footprint (twin CRS) and height in metres (:func:`twin3d.simulation.models3d.planned_prism`)."""


@dataclass(frozen=True)
class Prism:
    """One planned building as the simulation sees it."""

    measure: int
    id: str  # "planned:<measure index>": how results and obstacles name it
    footprint: shapely.Polygon  # twin CRS
    height_m: float  # above the ground it stands on
    replaced: tuple[str, ...]  # ids of the existing buildings under it
    dwellings: int  # 0 for a non-residential one


def dwellings_in(m: PlannedBuilding, footprint_m2: float, height_m: float) -> int:
    """The dwellings a planned building holds: given, or from its residential floor area."""
    if m.use == "non_residential":
        return 0
    if m.dwellings is not None:
        return m.dwellings
    floors = m.storeys if m.storeys is not None else max(1, round(height_m / STOREY_M))
    residential = max(1, floors - 1) if m.use == "mixed" else floors
    return max(1, round(footprint_m2 * residential * NET_SHARE / m.dwelling_m2))


def prisms_of(spec: ScenarioSpec, footprints: Footprints | None, prism_of: PrismOf) -> list[Prism]:
    """The scenario's planned buildings, in the order of its measures."""
    prisms = []
    for i, m in enumerate(spec.measures):
        if not isinstance(m, PlannedBuilding):
            continue
        footprint, height = prism_of(m)
        replaced = footprints.under(footprint, REPLACED_SHARE) if footprints is not None else np.zeros(0, object)
        prisms.append(
            Prism(i, f"planned:{i}", footprint, float(height), tuple(replaced), dwellings_in(m, footprint.area, height))
        )
    return prisms


def home_points(footprint: shapely.Polygon) -> tuple[np.ndarray, np.ndarray]:
    """Where a planned building's households live: one point inside its footprint (twin CRS)."""
    point = shapely.point_on_surface(footprint)
    return np.array([point.x]), np.array([point.y])
