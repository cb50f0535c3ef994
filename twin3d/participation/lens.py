"""The representation lens: who is heard, and where, against who lives there.

The lens counts **participants**, not places: each participant (anonymous token) with places that are not hidden
counts once, in the published cell where most of their places lie (the earliest on a tie), and in the group of
their latest self-description; a group is the persona a voluntary self-description (age band, household) falls
into under the twin's own persona rules. Each count is set against the published population (``population_public``,
already through the privacy gate):

- per group: its share of the described contributions against its share of the population;
- per cell: its share of all contributions against its share of the population;
- per cell and group: the group's share of the cell's described contributions against its share of the cell's
  population.

A group or area is *under-heard* when its contribution share is below half its population share (cells only where
at least half the average cell's population lives). Privacy: the cell x group table of self-descriptions is
published with its totals (per cell, per group, all), and all of them are suppressed together by the gate's
:func:`~twin3d.population.privacy.suppress_with_margins` (the participants per cell, described or not, are a
list with its total, suppressed the same way): counts from 1 to ``min_count - 1`` are withheld
(``null``), and more, across rows, columns and totals alike, until no equation of the published figures gives a
withheld count or a small sum of them. A share or ratio is shown only where its count and its denominator are. A
group or cell whose count is withheld is called under-heard only if even ``min_count`` would be under half its
share, so the flag tells nothing about the withheld count. Population numbers are the published ones; nothing here
reads microdata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import h3ronpy
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from twin3d.participation.model import AGE_BANDS, HOUSEHOLDS
from twin3d.population.classes import HOUSEHOLD_TYPES
from twin3d.population.h3cells import parent
from twin3d.population.members import NO_CHILD, HouseholdTraits
from twin3d.population.personas import Match
from twin3d.population.privacy import suppress_with_margins, with_margins

UNDER_HEARD_RATIO = 0.5
AGE_OF_BAND = {"under_18": 15, "18_29": 24, "30_44": 37, "45_64": 55, "65_79": 72, "80_plus": 85}
# household -> (household type, size, adults, children, youngest child's age); a child's parents are taken as 40.
HOUSEHOLD_TRAITS = {
    "alone": ("single", 1, 1, 0, NO_CHILD),
    "couple": ("couple", 2, 2, 0, NO_CHILD),
    "family_young_children": ("couple_children", 3, 2, 1, 3),
    "family_school_children": ("couple_children", 4, 2, 2, 11),
    "single_parent": ("single_parent", 2, 1, 1, 8),
    "shared": ("shared", 3, 3, 0, NO_CHILD),
}


@dataclass(frozen=True)
class Persona:
    """A group of the lens: a persona of the twin's catalogue."""

    id: str
    name: str
    name_en: str
    rule: dict[str, Any]


def _traits(pairs: list[tuple[str, str]]) -> HouseholdTraits:
    rows = []
    for band, household in pairs:
        kind, size, adults, children, youngest = HOUSEHOLD_TRAITS[household]
        age = AGE_OF_BAND[band]
        adult_age = age if age >= 18 else 40
        rows.append((HOUSEHOLD_TYPES.index(kind), size, adults, children, youngest, adult_age, adult_age))
    a = np.array(rows, dtype=np.int64)
    return HouseholdTraits(*(a[:, i] for i in range(7)))


def group_table(personas: list[Persona]) -> dict[tuple[str | None, str | None], int]:
    """The group (persona index) of every self-description, also of partial ones.

    A partial self-description (one field left out) gets a group only where every value of the missing field
    leads to the same persona; otherwise, and without any self-description, it is -1 (not described).
    """
    pairs = [(b, h) for b in AGE_BANDS for h in HOUSEHOLDS]
    traits = _traits(pairs)
    index = np.full(len(pairs), -1, dtype=np.int64)
    for i, persona in enumerate(personas):
        index[(index < 0) & Match.model_validate(persona.rule).mask(traits)] = i
    full: dict[tuple[str | None, str | None], int] = {p: int(g) for p, g in zip(pairs, index, strict=True)}
    table: dict[tuple[str | None, str | None], int] = dict(full)
    for band in AGE_BANDS:
        found = {full[(band, h)] for h in HOUSEHOLDS}
        table[(band, None)] = found.pop() if len(found) == 1 else -1
    for household in HOUSEHOLDS:
        found = {full[(b, household)] for b in AGE_BANDS}
        table[(None, household)] = found.pop() if len(found) == 1 else -1
    table[(None, None)] = -1
    return table


def _groups_of(places: pa.Table, personas: list[Persona]) -> np.ndarray:
    """The group of each contribution (-1: not described), by table look-up on the coded self-description."""
    table = group_table(personas)
    lut = np.full((len(AGE_BANDS) + 1, len(HOUSEHOLDS) + 1), -1, dtype=np.int64)
    for (band, household), g in table.items():
        b = AGE_BANDS.index(band) if band is not None else len(AGE_BANDS)
        h = HOUSEHOLDS.index(household) if household is not None else len(HOUSEHOLDS)
        lut[b, h] = g
    band_code = pc.fill_null(pc.index_in(places.column("age_band"), value_set=pa.array(AGE_BANDS)), len(AGE_BANDS))
    household_code = pc.fill_null(
        pc.index_in(places.column("household"), value_set=pa.array(HOUSEHOLDS)), len(HOUSEHOLDS)
    )
    groups: np.ndarray = lut[band_code.to_numpy(zero_copy_only=False), household_code.to_numpy(zero_copy_only=False)]
    return groups


def _shown(counts: np.ndarray, hidden: np.ndarray) -> list[int | None]:
    return [None if h else int(c) for c, h in zip(counts.tolist(), hidden.tolist(), strict=True)]


def _share(part: np.ndarray, whole: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(whole) > 0, part / whole, np.nan)


def _round(values: np.ndarray) -> list[float | None]:
    out = np.round(values.astype(float), 4)
    return [float(v) if k else None for v, k in zip(out.tolist(), np.isfinite(out).tolist(), strict=True)]


def _cell_of(h3_10: np.ndarray, cell_ids: np.ndarray, cell_res: np.ndarray) -> np.ndarray:
    """The published cell (row index) that contains each contribution; -1 outside every published cell.

    A published row may be a coarser cell that smaller cells were merged into, so each contribution is looked up
    by its ancestor at every resolution that occurs among the rows.
    """
    cell_of = np.full(len(h3_10), -1, dtype=np.int64)
    for res in np.unique(cell_res)[::-1]:  # the finest published cell first
        rows = np.flatnonzero(cell_res == res)
        order = rows[np.argsort(cell_ids[rows])]
        ancestors = parent(h3_10, int(res))
        pos = np.clip(np.searchsorted(cell_ids[order], ancestors), 0, len(order) - 1)
        hit = (cell_of < 0) & (cell_ids[order][pos] == ancestors)
        cell_of[hit] = order[pos[hit]]
    return cell_of


def _population_by_group(by_persona: pa.Table, cell_ids: np.ndarray, ids: list[str]) -> np.ndarray:
    """Persons per cell and group from the persona rows; NaN where the privacy gate withheld a group."""
    pop = np.full((len(cell_ids), len(ids)), np.nan)
    if not by_persona.num_rows or not len(cell_ids):
        return pop
    sorted_cells = np.argsort(cell_ids)
    row_h3 = np.asarray(by_persona.column("h3").to_numpy(), dtype=np.uint64)
    rows_c = sorted_cells[np.clip(np.searchsorted(cell_ids[sorted_cells], row_h3), 0, len(cell_ids) - 1)]
    rows_g = pc.index_in(by_persona.column("persona"), value_set=pa.array(ids)).to_numpy(zero_copy_only=False)
    ok = cell_ids[rows_c] == row_h3
    pop[rows_c[ok], rows_g[ok].astype(np.int64)] = by_persona.column("persons").to_numpy()[ok]
    return pop


def _comparison(counts: np.ndarray, hidden: np.ndarray, share: np.ndarray, pop_share: np.ndarray) -> dict[str, Any]:
    """The columns every lens table shares: counts, shares and their ratio, withheld where the count is."""
    return {
        "contributions": pa.array(_shown(counts, hidden), pa.int64()),
        "contribution_share": pa.array(_round(share), pa.float64()),
        "population_share": pa.array(_round(pop_share), pa.float64()),
        "ratio": pa.array(_round(_share(share, pop_share)), pa.float64()),
    }


def _participants(places: pa.Table, cell_of: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per participant: the cell where most of their places lie (the earliest on a tie; -1 outside every published
    cell) and the group of their latest self-description (-1: never described). ``places`` are in time order."""
    who = np.unique(places.column("participant").to_numpy(zero_copy_only=False).astype(str), return_inverse=True)[1]
    who = who.reshape(-1)
    if not len(who):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    n = int(who.max()) + 1
    cell_code = cell_of + 1  # -1 (outside) becomes 0
    pair, first, count = np.unique(
        who * (cell_code.max(initial=0) + 1) + cell_code, return_index=True, return_counts=True
    )
    owner = pair // (cell_code.max(initial=0) + 1)
    best = np.lexsort((first, -count, owner))
    take = best[np.r_[True, owner[best][1:] != owner[best][:-1]]]
    cell = np.full(n, -1, np.int64)
    cell[owner[take]] = pair[take] % (cell_code.max(initial=0) + 1) - 1
    described = np.flatnonzero(group >= 0)
    latest = np.full(n, -1, np.int64)
    latest[who[described]] = group[described]  # later places overwrite earlier ones
    return cell, latest


def _judged(count: np.ndarray, hidden: np.ndarray, min_count: int) -> np.ndarray:
    """The count the under-heard flag is judged on: the count, or ``min_count`` where it is withheld."""
    return np.where(hidden, float(min_count), count.astype(float))


def representation(
    places: pa.Table,
    population: pa.Table,
    personas: list[Persona],
    *,
    resolution: int,
    min_count: int,
    unplaced: pa.Table | None = None,
) -> dict[str, Any]:
    """The lens for one resolution.

    Args:
        places: the contributions in time order: ``h3_10`` (uint64), ``age_band``, ``household`` (strings or
            null), ``participant`` (who posted it).
        population: published rows of one resolution: ``h3``, ``cell_resolution``, ``persona`` ('*' = all),
            ``persons``, ``lon``, ``lat``.
        personas: the twin's persona catalogue in rule order.
        resolution: the H3 resolution of the cells (8 or 9).
        min_count: the smallest count of participants shown.
        unplaced: self-descriptions without a place (survey answers): ``age_band``, ``household``,
            ``participant`` (one each). They count town-wide: in the groups, the described and the total, in the
            row "outside every cell" of the suppressed table, never in a cell.

    Returns:
        ``{"resolution", "min_count", "counted", "contributions", "described", "groups": [...], "cells": [...],
        "cell_groups": [...], "under_heard": {"groups": [...], "cells": [...]}}``; ``contributions`` count
        participants.
    """
    ids = [p.id for p in personas]
    n_groups = len(ids)
    everyone = population.filter(pc.equal(population.column("persona"), "*"))
    cell_ids = np.asarray(everyone.column("h3").to_numpy(), dtype=np.uint64)
    cell_res = np.asarray(everyone.column("cell_resolution").to_numpy(), dtype=np.uint8)
    persons = np.asarray(everyone.column("persons").to_numpy(), dtype=np.float64)
    n_cells = len(cell_ids)
    pop_cg = _population_by_group(
        population.filter(pc.is_in(population.column("persona"), pa.array(ids))), cell_ids, ids
    )
    pop_total = float(persons.sum())
    h3_10 = np.asarray(places.column("h3_10").to_numpy(zero_copy_only=False), dtype=np.uint64)
    cell, group = _participants(places, _cell_of(h3_10, cell_ids, cell_res), _groups_of(places, personas))
    if unplaced is not None and unplaced.num_rows:
        cell = np.concatenate([cell, np.full(unplaced.num_rows, -1, np.int64)])
        group = np.concatenate([group, _groups_of(unplaced, personas)])

    # Self-descriptions: cells (+ outside) x groups with all their totals, suppressed together.
    row = np.where(cell >= 0, cell, n_cells)
    described = group >= 0
    flat = row[described] * n_groups + group[described]
    by_group = np.bincount(flat, minlength=(n_cells + 1) * n_groups).reshape(n_cells + 1, n_groups)
    table, hidden = with_margins(by_group), suppress_with_margins(by_group, min_count)
    # Participants per cell, described or not: a list with its total, suppressed the same way.
    per_cell = np.bincount(row, minlength=n_cells + 1)[:, None]
    cells_all, cells_hidden = with_margins(per_cell)[:, 0], suppress_with_margins(per_cell, min_count)[:, 0]
    total, total_hidden = int(cells_all[-1]), bool(cells_hidden[-1])
    n_described = np.nan if hidden[-1, -1] else float(table[-1, -1])
    inside = np.nan if total_hidden or cells_hidden[n_cells] else float(total - cells_all[n_cells])

    count_g, hidden_g = table[-1, :n_groups], hidden[-1, :n_groups]
    share_g = np.where(hidden_g, np.nan, _share(count_g, n_described))
    pop_share_g = _share(np.nansum(pop_cg, axis=0), pop_total)
    heard_g = _share(_judged(count_g, hidden_g, min_count), n_described) < UNDER_HEARD_RATIO * pop_share_g

    count_c, hidden_c = cells_all[:n_cells], cells_hidden[:n_cells]
    share_c = np.where(hidden_c, np.nan, _share(count_c, inside))
    pop_share_c = _share(persons, pop_total)
    heard_c = (pop_share_c >= 0.5 / max(n_cells, 1)) & (
        _share(_judged(count_c, hidden_c, min_count), inside) < UNDER_HEARD_RATIO * pop_share_c
    )

    count_cg, hidden_cg = table[:n_cells, :n_groups], hidden[:n_cells, :n_groups]
    cell_described = np.where(hidden[:n_cells, -1], np.nan, table[:n_cells, -1]).astype(float)
    share_cg = np.where(hidden_cg, np.nan, _share(count_cg, cell_described[:, None]))
    pop_share_cg = _share(pop_cg, persons[:, None])

    h3_text = h3ronpy.cells_to_string(pa.array(cell_ids, pa.uint64())).to_pylist() if n_cells else []
    groups = pa.table(
        {
            "id": ids,
            "name": [p.name for p in personas],
            "name_en": [p.name_en for p in personas],
            **_comparison(count_g, hidden_g, share_g, pop_share_g),
            "under_heard": heard_g.tolist(),
        }
    )
    cells = pa.table(
        {
            "h3": pa.array(h3_text, pa.string()),
            "cell_resolution": cell_res.tolist(),
            "lon": everyone.column("lon"),
            "lat": everyone.column("lat"),
            **_comparison(count_c, hidden_c, share_c, pop_share_c),
            "under_heard": heard_c.tolist(),
        }
    )
    cell_groups = pa.table(
        {
            "h3": pa.array(np.repeat(np.array(h3_text, dtype=object), n_groups), pa.string()),
            "group": pa.array(np.tile(np.array(ids, dtype=object), n_cells), pa.string()),
            **_comparison(count_cg.ravel(), hidden_cg.ravel(), share_cg.ravel(), pop_share_cg.ravel()),
        }
    )
    ratio_g = np.nan_to_num(_share(share_g, pop_share_g), nan=np.inf)
    return {
        "resolution": resolution,
        "min_count": min_count,
        "counted": "participants",
        "contributions": None if total_hidden else total,
        "described": None if np.isnan(n_described) else int(n_described),
        "groups": groups.to_pylist(),
        "cells": cells.to_pylist(),
        "cell_groups": cell_groups.to_pylist(),
        "under_heard": {
            "groups": [ids[i] for i in np.argsort(ratio_g, kind="stable") if heard_g[i]],
            "cells": [h3_text[i] for i in np.argsort(-np.nan_to_num(pop_share_c)) if heard_c[i]],
        },
    }
