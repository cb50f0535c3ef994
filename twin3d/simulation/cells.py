"""Baseline and scenario side by side per published H3 row, from the privacy gate's units.

A row at resolution r is the union of the units that count in it (:meth:`PublishedUnits.rows`): the same rows the
population API publishes, with the same published persons and households, so the baseline here equals
``/population/h3`` and baseline + delta = scenario in every row. Mean walks are weighted by the published persons
of each unit over its public home points.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from twin3d.population.h3cells import resolution_of
from twin3d.population.privacy import PublishedUnits
from twin3d.simulation.accessibility import Accessibility, row_means

CELL_TYPES = ("kita", "school", "stop", "supermarket", "doctor")


def _row_figures(
    acc: Accessibility, units: PublishedUnits, row_ids: np.ndarray, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Published persons, households and mean walks (rows, types) of ``units`` in each of ``row_ids``."""
    rows = np.searchsorted(row_ids, units.rows(resolution))
    persons = np.bincount(rows, weights=units.persons[:, 0], minlength=len(row_ids))
    households = np.bincount(rows, weights=units.households[:, 0], minlength=len(row_ids))
    means = np.full((len(row_ids), len(CELL_TYPES)), np.nan)
    if len(units):
        found = row_means(acc, units, rows, CELL_TYPES)
        means[: len(found)] = found
    return persons, households, means


def _value(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def compare_cells(
    before: Accessibility,
    before_units: PublishedUnits,
    after: Accessibility,
    after_units: PublishedUnits,
    *,
    resolution: int = 9,
) -> list[dict[str, Any]]:
    """Per published row of either population: persons and households of baseline and scenario, and mean walks."""
    row_ids = np.union1d(before_units.rows(resolution), after_units.rows(resolution))
    in_before = np.isin(row_ids, before_units.rows(resolution))
    p0, h0, m0 = _row_figures(before, before_units, row_ids, resolution)
    p1, h1, m1 = _row_figures(after, after_units, row_ids, resolution)
    cell_resolution = resolution_of(row_ids)
    out = []
    for k, row in enumerate(row_ids):
        old = bool(in_before[k])
        entry: dict[str, Any] = {
            "h3": f"{int(row):x}",
            "cell_resolution": int(cell_resolution[k]),
            "persons_baseline": round(float(p0[k])) if old else None,
            "persons_scenario": round(float(p1[k])),
            "persons_delta": round(float(p1[k])) - round(float(p0[k])) if old else None,
            "households_baseline": round(float(h0[k])) if old else None,
            "households_scenario": round(float(h1[k])),
        }
        for j, ftype in enumerate(CELL_TYPES):
            a = _value(m0[k, j]) if old else None
            b = _value(m1[k, j])
            entry[f"{ftype}_mean_m_baseline"] = a
            entry[f"{ftype}_mean_m_scenario"] = b
            entry[f"{ftype}_mean_m_delta"] = b - a if a is not None and b is not None else None
        out.append(entry)
    return out
