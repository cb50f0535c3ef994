"""Green space per resident within walking distance, per persona: the twin's public greens and a scenario's new ones.

The measure is the per-capita supply of public green within reach, as German open-space plans state it (e.g.
Berlin's "Versorgung mit wohnungsnahen Grünanlagen": m² of public green within 500 m per resident): every green
area's m² are shared among the residents within reach of it, and each home gets the sum of its shares over the
greens it can reach (the two-step floating catchment method with green area as the capacity). A home reaches a
green whose outline lies within :data:`GREEN_REACH_M` of walking, taken as the straight distance to the outline
times the twin's detour factor (greens have no entrances in the data, so a network distance to them is not known).

Everything counts published units only: a unit's residents count by the share of its public weight at the homes
in reach, as every area figure of the gate. Residents (households living there before and after) and newcomers are
reported apart; a change within :data:`GREEN_TOLERANCE_M2` reads "unchanged".

Example:
    >>> supply = green_per_unit(units, greens, detour_factor=1.3)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import shapely
from scipy.sparse import coo_matrix, csr_matrix

from twin3d.population.privacy.units import PublishedUnits

GREEN_REACH_M = 500.0
"""Walking distance to a green that still counts as near home (German guides: 500 m, some 6 to 7 minutes)."""
GREEN_TOLERANCE_M2 = 0.5
"""The largest change of green m² per resident that still counts as unchanged."""


@dataclass(frozen=True)
class Greens:
    """Public green areas in the twin's CRS."""

    area_m2: np.ndarray
    geometry: np.ndarray

    def __len__(self) -> int:
        return len(self.area_m2)

    @classmethod
    def empty(cls) -> Greens:
        """No greens (a twin without a greens source)."""
        return cls(np.zeros(0), np.zeros(0, dtype=object))

    @classmethod
    def from_store(cls, con: duckdb.DuckDBPyConnection) -> Greens:
        """The twin's greens (none for a store built before the twin had a greens source)."""
        exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'greens'").fetchone()
        if not exists or not exists[0]:
            return cls.empty()
        rows = con.execute("SELECT area_m2, ST_AsWKB(geom) FROM greens ORDER BY green_id").fetchall()
        return cls(
            np.array([r[0] for r in rows], np.float64),
            np.asarray(shapely.from_wkb([bytes(r[1]) for r in rows]), dtype=object),
        )

    def plus(self, areas: list[shapely.Geometry]) -> Greens:
        """These greens and new areas (a scenario's green spaces)."""
        if not areas:
            return self
        new = np.asarray(areas, dtype=object)
        return Greens(np.concatenate([self.area_m2, shapely.area(new)]), np.concatenate([self.geometry, new]))


def _unit_share_in_reach(units: PublishedUnits, greens: Greens, detour_factor: float) -> csr_matrix:
    """(units, greens): the share of each unit's public weight at homes within reach of each green."""
    points = shapely.points(units.point_x, units.point_y)
    tree = shapely.STRtree(greens.geometry)
    point_i, green_i = tree.query(points, predicate="dwithin", distance=GREEN_REACH_M / detour_factor)
    near = csr_matrix((np.ones(len(point_i)), (point_i, green_i)), shape=(len(points), len(greens)))
    weight = units.member_weight / np.where(units.unit_weight > 0, units.unit_weight, 1)[units.member_unit]
    members = coo_matrix((weight, (units.member_unit, units.member_point)), shape=(len(units), len(points))).tocsr()
    share: csr_matrix = members @ near
    return share


def green_per_unit(units: PublishedUnits, greens: Greens, detour_factor: float) -> np.ndarray:
    """float (units,): m² of public green per resident within reach of each unit's homes (weighted over them)."""
    if not len(greens) or not len(units):
        return np.zeros(len(units))
    share = _unit_share_in_reach(units, greens, detour_factor)
    residents = share.T @ units.persons[:, 0].astype(np.float64)
    per_resident = np.divide(greens.area_m2, residents, out=np.zeros(len(greens)), where=residents > 0)
    supply: np.ndarray = share @ per_resident
    return supply


def _persona_means(units: PublishedUnits, supply: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per persona: persons (published, with each unit's rest spread) and their mean green m²."""
    persons = units.group_persons()
    total = persons.sum(axis=0)
    mean = np.divide(supply @ persons, total, out=np.full(len(total), np.nan), where=total > 0)
    return total, mean


def green_rows(
    persona_ids: list[str],
    residents: tuple[PublishedUnits, np.ndarray, np.ndarray],
    newcomers: tuple[PublishedUnits, np.ndarray] | None,
    min_group: int,
) -> list[dict[str, Any]]:
    """The rows of the result: residents (before, after, change, verdict) and newcomers (after) per persona.

    Args:
        persona_ids: the catalogue's ids, in the units' column order.
        residents: the residents' units and their green m² per resident before and after.
        newcomers: the added units and their green m² after, or None.
        min_group: personas with fewer published households in a group get no row (as the KPI rows).
    """
    units, before, after = residents
    total, mean_before = _persona_means(units, before)
    _, mean_after = _persona_means(units, after)
    shown = units.group_households().sum(axis=0) >= min_group
    rows = []
    for i, pid in enumerate(persona_ids):
        if not shown[i]:
            continue
        delta = float(mean_after[i] - mean_before[i])
        rows.append(
            {
                "group": "residents",
                "persona": pid,
                "persons": round(float(total[i])),
                "m2_baseline": round(float(mean_before[i]), 2),
                "m2_scenario": round(float(mean_after[i]), 2),
                "m2_delta": round(delta, 2),
                "verdict": "unchanged" if abs(delta) <= GREEN_TOLERANCE_M2 else ("better" if delta > 0 else "worse"),
            }
        )
    if newcomers is not None and len(newcomers[0]):
        added_total, added_mean = _persona_means(*newcomers)
        added_shown = newcomers[0].group_households().sum(axis=0) >= min_group
        rows.extend(
            {
                "group": "newcomers",
                "persona": pid,
                "persons": round(float(added_total[i])),
                "m2_baseline": None,
                "m2_scenario": round(float(added_mean[i]), 2),
                "m2_delta": None,
                "verdict": None,
            }
            for i, pid in enumerate(persona_ids)
            if added_shown[i]
        )
    return rows
