"""Green space per resident within walking distance, per persona: the twin's public greens and a scenario's new ones.

The measure is the per-capita supply of public green within reach, as German open-space plans state it (e.g.
Berlin's "Versorgung mit wohnungsnahen Grünanlagen": m² of public green within 500 m per resident): every green
area's m² are shared among the residents within reach of it, and each home gets the sum of its shares over the
greens it can reach (the two-step floating catchment method with green area as the capacity). A home reaches a
green when it can walk to a point of the green's outline within :data:`GREEN_REACH_M`, measured like every other
walk of the twin (over the footpath network where it has one, with the legs to and from the paths): greens have no
entrances in the data, so their outlines are sampled every :data:`ENTRANCE_SPACING_M` as the ways in.

Everything counts published units only: a unit's residents count by the share of its public weight at the homes
in reach, as every area figure of the gate. Residents (households living there before and after) and newcomers are
reported apart; a change within :data:`GREEN_TOLERANCE_M2` reads "unchanged".

Example:
    >>> supply = green_per_unit(units, homes, greens)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import shapely
from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

from twin3d.population.privacy.units import PublishedUnits
from twin3d.simulation.accessibility import Homes
from twin3d.simulation.network import DistanceModel, Points
from twin3d.store.queries import has_table

GREEN_REACH_M = 500.0
"""Walking distance to a green that still counts as near home (German guides: 500 m, some 6 to 7 minutes)."""
GREEN_TOLERANCE_M2 = 0.5
"""The largest change of green m² per resident that still counts as unchanged."""
ENTRANCE_SPACING_M = 50.0
"""Spacing of the points along a green's outline that count as its ways in."""


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
        if not has_table(con, "greens"):
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


def entrances(greens: Greens) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points along each green's outline, every :data:`ENTRANCE_SPACING_M` (at least one per ring): x, y and the
    green each belongs to."""
    parts, owner = shapely.get_parts(greens.geometry, return_index=True)
    rings = shapely.get_exterior_ring(parts)
    length = shapely.length(rings)
    count = np.maximum(np.ceil(length / ENTRANCE_SPACING_M).astype(np.int64), 1)
    ring_of = np.repeat(np.arange(len(rings)), count)
    step = np.arange(len(ring_of)) - np.repeat(np.cumsum(count) - count, count)
    points = shapely.line_interpolate_point(rings[ring_of], step / count[ring_of], normalized=True)
    return shapely.get_x(points), shapely.get_y(points), owner[ring_of]


def _reach(model: DistanceModel, points: Points, greens: Greens) -> csr_matrix:
    """(points, greens): 1 where the point reaches the green within :data:`GREEN_REACH_M` of walking."""
    if not len(points) or not len(greens):
        return csr_matrix((len(points), len(greens)))
    x, y, owner = entrances(greens)
    pairs = model.within(points, model.locate(x, y), GREEN_REACH_M)
    near = coo_matrix(
        (np.ones(len(pairs.point)), (pairs.point, owner[pairs.facility])), shape=(len(points), len(greens))
    ).tocsr()
    near.data[:] = 1.0  # a home reaching a green by several of its ways in reaches it once
    return near


def reach(homes: Homes, greens: Greens, known: csr_matrix | None = None) -> csr_matrix:
    """(home points, greens): 1 where the home reaches the green within :data:`GREEN_REACH_M` of walking.

    ``known``: the reach of the first home points to the first greens, on the same network (the baseline's, which
    a scenario extends by new homes and greens): only the new rows and columns are walked.
    """
    if known is None:
        return _reach(homes.model, homes.points, greens)
    n, m = known.shape
    old_homes = homes.points.take(np.arange(n))
    new_greens = Greens(greens.area_m2[m:], greens.geometry[m:])
    top = hstack([known, _reach(homes.model, old_homes, new_greens)])
    bottom = _reach(homes.model, homes.points.take(np.arange(n, len(homes))), greens)
    return vstack([top, bottom]).tocsr()


def green_per_unit(units: PublishedUnits, homes: Homes, greens: Greens, known: csr_matrix | None = None) -> np.ndarray:
    """float (units,): m² of public green per resident within reach of each unit's homes (weighted over them).

    ``homes``: the units' home points located for the twin's distance model (one per point of ``units``);
    ``known``: see :func:`reach`.
    """
    if not len(greens) or not len(units):
        return np.zeros(len(units))
    weight = units.member_weight / np.where(units.unit_weight > 0, units.unit_weight, 1)[units.member_unit]
    members = coo_matrix((weight, (units.member_unit, units.member_point)), shape=(len(units), len(homes))).tocsr()
    share = members @ reach(homes, greens, known)  # (units, greens): the share of a unit's weight reaching a green
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
