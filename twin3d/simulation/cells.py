"""Baseline and scenario side by side per H3 cell, through the privacy gate.

Counts per cell are the gate's published counts for each population (the scenario's noise keyed on its content
hash). Mean walking distances are taken over the households of a published row, which holds at least the gate's
minimum persons and households; only rows published in both populations are compared.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from twin3d.population.privacy import ALL, PrivacyRules, assign_units, publish_population
from twin3d.simulation.accessibility import Accessibility

CELL_TYPES = ("kita", "school", "stop", "supermarket", "doctor")


def _published(
    acc: Accessibility, catalogue_ids: list[str], *, key: bytes, scenario: str, rules: PrivacyRules, resolution: int
) -> pa.Table:
    h = acc.homes.households
    table = publish_population(
        h.h3_10,
        h.persona.astype(np.int64),
        h.size,
        catalogue_ids,
        key=key,
        scenario=scenario,
        rules=replace(rules, resolutions=(resolution,)),
    )
    return table.filter(pc.equal(table["persona"], ALL))


def _row_means(acc: Accessibility, rules: PrivacyRules, resolution: int) -> dict[int, dict[str, float]]:
    """Mean distance per facility type over the households of each published row."""
    h = acc.homes.households
    rows = assign_units(h.h3_10, h.size, rules).household_rows(resolution)
    ids, index = np.unique(rows, return_inverse=True)
    out: dict[int, dict[str, float]] = {int(i): {} for i in ids if i}
    for ftype in CELL_TYPES:
        if ftype not in acc.distance:
            continue
        d = acc.household_distance(ftype)
        finite = np.isfinite(d)
        sums = np.bincount(index, weights=np.where(finite, d, 0.0), minlength=len(ids))
        counts = np.bincount(index, weights=finite, minlength=len(ids))
        for j, cell in enumerate(ids):
            if cell and counts[j]:
                out[int(cell)][ftype] = float(sums[j] / counts[j])
    return out


def compare_cells(
    before: Accessibility,
    after: Accessibility,
    catalogue_ids: list[str],
    *,
    key: bytes,
    scenario: str,
    rules: PrivacyRules,
    resolution: int = 9,
) -> list[dict[str, Any]]:
    """Per published H3 cell: persons and households of baseline and scenario, and mean walks by type."""
    base = {
        (r["h3"], r["cell_resolution"]): r
        for r in _published(
            before, catalogue_ids, key=key, scenario="baseline", rules=rules, resolution=resolution
        ).to_pylist()
    }
    new = _published(after, catalogue_ids, key=key, scenario=scenario, rules=rules, resolution=resolution).to_pylist()
    means_before = _row_means(before, rules, resolution)
    means_after = _row_means(after, rules, resolution)
    out = []
    for row in new:
        old = base.get((row["h3"], row["cell_resolution"]))
        entry: dict[str, Any] = {
            "h3": f"{row['h3']:x}",
            "cell_resolution": row["cell_resolution"],
            "persons_baseline": old["persons"] if old else None,
            "persons_scenario": row["persons"],
            "persons_delta": row["persons"] - old["persons"] if old else None,
            "households_baseline": old["households"] if old else None,
            "households_scenario": row["households"],
        }
        for ftype in CELL_TYPES:
            a = means_before.get(row["h3"], {}).get(ftype) if old else None
            b = means_after.get(row["h3"], {}).get(ftype)
            entry[f"{ftype}_mean_m_baseline"] = a
            entry[f"{ftype}_mean_m_scenario"] = b
            entry[f"{ftype}_mean_m_delta"] = b - a if a is not None and b is not None else None
        out.append(entry)
    return out
