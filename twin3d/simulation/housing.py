"""Measures that add homes: a new quarter on an area, or storeys on existing buildings; and what they seal.

A new quarter builds over ``site_coverage`` of its area (the GRZ of German planning law) with ``storeys`` floors:
floor area = area x site coverage x storeys, dwellings = floor area x :data:`NET_SHARE` / ``dwelling_m2`` (unless
the planner gives the dwellings). It seals its footprints plus :data:`ACCESS_SHARE` of the area for access, less
what the twin's buildings there seal already (building on sealed land, after a demolition, seals nothing new).
Storeys on existing buildings add floor area = footprint x storeys and seal nothing. The newcomers are expected
households of the published mix (:meth:`~twin3d.population.privacy.PublishedUnits.with_new_housing`).

Example:
    >>> floor_dwellings(10_000.0, site_coverage=0.4, storeys=4, dwelling_m2=80.0)
    160
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import shapely

NET_SHARE = 0.8
"""Living area per gross floor area (walls, stairs and shafts take the rest)."""
ACCESS_SHARE = 0.1
"""Share of a new quarter's area sealed for paths, parking and access besides the buildings' footprints."""


def floor_dwellings(area_m2: float, *, site_coverage: float, storeys: int, dwelling_m2: float) -> int:
    """The dwellings a floor area holds: area x site coverage x storeys x net share / dwelling size (at least 1)."""
    return max(1, round(area_m2 * site_coverage * storeys * NET_SHARE / dwelling_m2))


@dataclass(frozen=True)
class Footprints:
    """The twin's buildings as scenarios use them: footprint area, a point inside, the outline (twin CRS)."""

    ids: np.ndarray
    area_m2: np.ndarray
    x: np.ndarray
    y: np.ndarray
    geometry: np.ndarray

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection) -> Footprints:
        """Every building of a built twin."""
        t = con.execute(
            "SELECT building_id, footprint_m2, ST_X(ST_PointOnSurface(geom)) AS x, ST_Y(ST_PointOnSurface(geom)) AS y,"
            " ST_AsWKB(geom) AS wkb FROM buildings ORDER BY building_id"
        ).to_arrow_table()
        return cls(
            t["building_id"].to_numpy(zero_copy_only=False).astype(object),
            t["footprint_m2"].to_numpy(zero_copy_only=False).astype(np.float64),
            t["x"].to_numpy(zero_copy_only=False).astype(np.float64),
            t["y"].to_numpy(zero_copy_only=False).astype(np.float64),
            shapely.from_wkb(t["wkb"].to_numpy(zero_copy_only=False)),
        )

    def take(self, building_ids: list[str]) -> np.ndarray:
        """Indices of the buildings named (unknown ids are refused before a scenario is stored)."""
        return np.flatnonzero(np.isin(self.ids, np.asarray(building_ids, dtype=object)))

    def under(self, area: shapely.Geometry, share: float) -> np.ndarray:
        """Ids of the buildings at least ``share`` of whose footprint lies under ``area`` (what a plan replaces)."""
        if not len(self.geometry):
            return np.zeros(0, object)
        near = shapely.STRtree(self.geometry).query(area, predicate="intersects")
        covered = shapely.area(shapely.intersection(self.geometry[near], area))
        whole = np.maximum(shapely.area(self.geometry[near]), 1e-9)
        return np.asarray(self.ids[near[covered / whole >= share]], dtype=object)

    def sealed_within(self, area: shapely.Geometry) -> float:
        """Square metres of building footprint inside ``area``: land that is sealed already."""
        if not len(self.geometry):
            return 0.0
        near = shapely.STRtree(self.geometry).query(area, predicate="intersects")
        return float(shapely.area(shapely.intersection(self.geometry[near], area)).sum())


def quarter_sealing(area: shapely.Geometry, site_coverage: float, footprints: Footprints | None) -> dict[str, Any]:
    """What a new quarter seals: its footprints and access, less what is sealed there already (m²)."""
    built = area.area * site_coverage
    access = area.area * ACCESS_SHARE
    already = footprints.sealed_within(area) if footprints is not None else 0.0
    return {
        "footprints_m2": built,
        "access_m2": access,
        "already_sealed_m2": already,
        "new_m2": max(built + access - already, 0.0),
    }


def building_sealing(footprint: shapely.Geometry, footprints: Footprints | None) -> dict[str, Any]:
    """What one planned building seals: its footprint, less what the twin's buildings there seal already (m²)."""
    already = footprints.sealed_within(footprint) if footprints is not None else 0.0
    return {
        "footprints_m2": footprint.area,
        "access_m2": 0.0,
        "already_sealed_m2": already,
        "new_m2": max(footprint.area - already, 0.0),
    }
