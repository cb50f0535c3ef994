"""Atoms: the smallest units the gate publishes, built once, bottom-up through the H3 hierarchy.

1. Res-10 cells that meet the thresholds are atoms. The unsafe cells that share a parent are pooled into one
   residual unit of that parent; a safe residual becomes an atom named by the parent cell, an unsafe one climbs
   another level and is pooled with its siblings' leftovers, up to ``coarsest_resolution``.
2. What is still unsafe at the coarsest resolution is merged with one atom of its own coarse cell (the coarsest,
   then the one with the fewest households), and that atom is renamed to the coarse cell, which contains all its
   homes. Coarse cells without any atom are pooled together: the pool becomes an atom named by its largest cell if
   it is safe, and otherwise joins the coarsest, smallest atom anywhere; only there may a published cell not
   contain all of its homes. A population too small as a whole publishes nothing at all.
3. At resolution r an atom named by a cell of resolution >= r counts in its ancestor at r; a coarser atom is
   published under its own cell (``cell_resolution`` < r). Every row is thus a union of atoms, and the rows of all
   resolutions are nested or disjoint, so any difference of rows is a union of atoms or empty.
4. Persona counts are suppressed per atom below ``min_group``; where the suppressed households of an atom add up to
   1 or 2, the next smallest personas are suppressed too, so that "everyone minus the shown personas" never
   isolates a small group.

Membership (which household is in which atom) is for the gate itself and for audits in tests: never publish it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from twin3d.errors import ConfigError, InputError
from twin3d.population.h3cells import parent, resolution_of

ALL = "*"
"""The persona value of rows that count every household."""

_MODE_SHIFT = 59
_CELL_MODE = 1


@dataclass(frozen=True)
class PrivacyRules:
    """What may be published.

    Attributes:
        min_persons: the fewest persons an atom (the smallest published unit) may hold.
        min_households: the fewest households an atom may hold.
        min_group: the fewest households of one persona an atom may show.
        noise_amplitude: each atom's count is published as ``true + d`` with an integer d in [-a, a], never below 0;
            d is a function of the twin's secret, the atom, the column and the true value only.
        resolutions: the H3 resolutions published, each at most 10.
        coarsest_resolution: merging climbs the H3 hierarchy up to this resolution.
    """

    min_persons: int = 50
    min_households: int = 25
    min_group: int = 3
    noise_amplitude: int = 2
    resolutions: tuple[int, ...] = (7, 8, 9, 10)
    coarsest_resolution: int = 5

    def __post_init__(self) -> None:
        if min(self.min_persons, self.min_households, self.min_group) < 1 or self.noise_amplitude < 0:
            raise ConfigError("privacy thresholds must be at least 1 and the noise amplitude at least 0")
        if not 0 <= self.coarsest_resolution < 10 or not all(0 <= r <= 10 for r in self.resolutions):
            raise ConfigError(
                f"H3 resolutions out of range: {self.resolutions}, coarsest {self.coarsest_resolution}",
                hint="publish resolutions 0..10 and merge up to a coarsest resolution below 10",
            )


DEFAULT_RULES = PrivacyRules()
"""The gate's default rules: 50 persons and 25 households per atom, 3 households per persona group, noise +-2."""

_resolution = resolution_of
_parent = parent


def row_cells(atom_ids: np.ndarray, resolution: int) -> np.ndarray:
    """uint64, one per atom: the ``h3`` of the row it counts in at ``resolution``: its ancestor there, or its own
    (coarser) cell, published with ``cell_resolution`` below ``resolution``."""
    return np.where(_resolution(atom_ids) >= resolution, _parent(atom_ids, resolution), atom_ids)


def _safe(persons: np.ndarray, households: np.ndarray, rules: PrivacyRules) -> np.ndarray:
    return (persons >= rules.min_persons) & (households >= rules.min_households)


@dataclass(frozen=True)
class Units:
    """Membership, for tests and internal audits only: never publish it.

    Attributes:
        atom: int64, one per household: its index into ``atom_ids``; -1 when the whole population is below the
            thresholds and nothing is published.
        atom_ids: uint64, one per atom, unique: the H3 cell (resolution ``coarsest_resolution`` to 10) that names
            the atom and keys its noise.
    """

    atom: np.ndarray
    atom_ids: np.ndarray

    def atom_rows(self, resolution: int) -> np.ndarray:
        """uint64, one per atom: the ``h3`` of the row it counts in at ``resolution``.

        The row's ``cell_resolution`` is the resolution encoded in that id.
        """
        return row_cells(self.atom_ids, resolution)

    def household_rows(self, resolution: int) -> np.ndarray:
        """uint64, one per household: the ``h3`` of the row it counts in at ``resolution``, 0 where unpublished."""
        rows = np.append(self.atom_rows(resolution), np.uint64(0))
        return np.take(rows, self.atom)  # atom -1 picks the appended 0


def assign_units(h3_10: np.ndarray, persons: np.ndarray, rules: PrivacyRules = DEFAULT_RULES) -> Units:
    """Merge households into atoms, each meeting the thresholds, bottom-up through the H3 hierarchy.

    Args:
        h3_10: uint64, one per household: its res-10 H3 cell.
        persons: one per household: its size.
        rules: the thresholds and the coarsest resolution.

    Returns:
        The atom of every household; see the module docstring for the merging rules. The inputs are trusted here:
        :func:`publish_population` checks them.
    """
    cells, cell_of = np.unique(np.asarray(h3_10, dtype=np.uint64), return_inverse=True)
    cell_p = np.bincount(cell_of, weights=persons, minlength=len(cells)).astype(np.int64)
    cell_h = np.bincount(cell_of, minlength=len(cells)).astype(np.int64)
    cell_atom = np.full(len(cells), -1, np.int64)
    current = np.arange(len(cells))  # cell -> its unit at the current level, while it has no atom
    ids, unit_p, unit_h = cells, cell_p, cell_h
    atoms: list[np.ndarray] = []
    n_atoms = 0

    def new_atoms(names: np.ndarray) -> np.ndarray:
        nonlocal n_atoms
        atoms.append(names)
        n_atoms += len(names)
        return np.arange(n_atoms - len(names), n_atoms)

    def settle(unit_atom: np.ndarray, unit_next: np.ndarray | None) -> None:
        live = np.flatnonzero(cell_atom < 0)
        cell_atom[live] = unit_atom[current[live]]
        if unit_next is not None:
            current[live] = unit_next[current[live]]

    for level in range(10, rules.coarsest_resolution, -1):
        safe = _safe(unit_p, unit_h, rules)
        unit_atom = np.full(len(ids), -1, np.int64)
        unit_atom[safe] = new_atoms(ids[safe])
        pools, pool_of = np.unique(_parent(ids[~safe], level - 1), return_inverse=True)
        pool_p = np.bincount(pool_of, weights=unit_p[~safe], minlength=len(pools)).astype(np.int64)
        pool_h = np.bincount(pool_of, weights=unit_h[~safe], minlength=len(pools)).astype(np.int64)
        pool_safe = _safe(pool_p, pool_h, rules)
        pool_atom = np.full(len(pools), -1, np.int64)
        pool_atom[pool_safe] = new_atoms(pools[pool_safe])
        pool_next = np.full(len(pools), -1, np.int64)
        pool_next[~pool_safe] = np.arange(np.count_nonzero(~pool_safe))
        unit_atom[~safe] = pool_atom[pool_of]
        unit_next = np.full(len(ids), -1, np.int64)
        unit_next[~safe] = pool_next[pool_of]
        settle(unit_atom, unit_next)
        ids, unit_p, unit_h = pools[~pool_safe], pool_p[~pool_safe], pool_h[~pool_safe]

    atom_ids = np.concatenate([*atoms, np.empty(0, np.uint64)])
    if len(ids):
        unit_atom, atom_ids = _place_leftovers(
            ids, unit_p, unit_h, atom_ids=atom_ids, cell_atom=cell_atom, cell_h=cell_h, rules=rules
        )
        settle(unit_atom, None)
    return Units(atom=cell_atom[cell_of], atom_ids=atom_ids)


def _place_leftovers(
    ids: np.ndarray,
    unit_p: np.ndarray,
    unit_h: np.ndarray,
    *,
    atom_ids: np.ndarray,
    cell_atom: np.ndarray,
    cell_h: np.ndarray,
    rules: PrivacyRules,
) -> tuple[np.ndarray, np.ndarray]:
    """The atom (or -1) of each unsafe unit left at the coarsest resolution, and the atom ids after placing them."""
    done = cell_atom >= 0
    atom_h = np.bincount(cell_atom[done], weights=cell_h[done], minlength=len(atom_ids))
    atom_res = _resolution(atom_ids)
    # The host in each coarse cell: the coarsest atom (it is imprecise already), then the fewest households.
    anc = _parent(atom_ids, rules.coarsest_resolution)
    order = np.lexsort((atom_ids, atom_h, atom_res, anc))
    hosted, first = np.unique(anc[order], return_index=True)
    pos = np.minimum(np.searchsorted(hosted, ids), max(len(hosted) - 1, 0))
    has_host = hosted[pos] == ids if len(hosted) else np.zeros(len(ids), bool)
    unit_atom = np.full(len(ids), -1, np.int64)
    unit_atom[has_host] = order[first][pos[has_host]]
    # The host takes the name of the coarse cell, so that the published cell still contains all its homes.
    atom_ids = atom_ids.copy()
    atom_ids[unit_atom[has_host]] = ids[has_host]
    orphan = ~has_host
    if not orphan.any():
        return unit_atom, atom_ids
    if _safe(unit_p[orphan].sum(), unit_h[orphan].sum(), rules):
        largest = np.lexsort((ids[orphan], -unit_h[orphan]))[0]
        unit_atom[orphan] = len(atom_ids)
        atom_ids = np.append(atom_ids, ids[orphan][largest])
    elif len(atom_ids):
        unit_atom[orphan] = np.lexsort((atom_ids, atom_h, _resolution(atom_ids)))[0]
    return unit_atom, atom_ids


def by_atom(units: Units, group: np.ndarray, n_groups: int, weights: np.ndarray | None) -> np.ndarray:
    """int64 (atoms, 1 + groups): column 0 counts everyone, column 1 + g persona g; weights default to 1."""
    inside = units.atom >= 0
    atom, w = units.atom[inside], None if weights is None else weights[inside]
    n_atoms = len(units.atom_ids)
    out = np.empty((n_atoms, 1 + n_groups), np.int64)
    out[:, 0] = np.bincount(atom, weights=w, minlength=n_atoms)
    flat = np.bincount(atom * n_groups + group[inside], weights=w, minlength=n_atoms * n_groups)
    out[:, 1:] = flat.reshape(n_atoms, n_groups)
    return out


def shown_groups(units: Units, group: np.ndarray, n_groups: int, rules: PrivacyRules = DEFAULT_RULES) -> np.ndarray:
    """Which persona counts each atom may show, after primary and secondary suppression.

    Args:
        units: the atoms, from :func:`assign_units`.
        group: int, one per household: its persona index.
        n_groups: the number of personas.
        rules: ``min_group``.

    Returns:
        bool (atoms, groups): True where the atom shows that persona (always at least ``min_group`` households).
    """
    counts = by_atom(units, np.asarray(group, np.int64), n_groups, None)[:, 1:]
    hidden = (counts > 0) & (counts < rules.min_group)
    hidden_sum = np.where(hidden, counts, 0).sum(axis=1)
    # Secondary suppression: "everyone minus the shown personas" must not single out 1 or 2 households, so hide
    # the next smallest personas until the hidden households reach min_group.
    order = np.argsort(counts, axis=1, kind="stable")
    rows = np.arange(len(counts))
    for k in range(n_groups):
        col = order[:, k]
        size = counts[rows, col]
        more = (hidden_sum > 0) & (hidden_sum < rules.min_group) & (size > 0) & ~hidden[rows, col]
        hidden[rows[more], col[more]] = True
        hidden_sum += np.where(more, size, 0)
    return (counts > 0) & ~hidden


def check_households(h3_10: np.ndarray, group: np.ndarray, persons: np.ndarray, group_names: Sequence[str]) -> None:
    if not (h3_10.ndim == 1 and group.shape == h3_10.shape and persons.shape == h3_10.shape):
        raise InputError(
            f"h3_10, group and persons must be 1-D of equal length, not {h3_10.shape}, {group.shape}, {persons.shape}",
            hint="pass one value per household in each array",
        )
    if len(set(group_names)) != len(group_names) or ALL in group_names:
        raise InputError(f"persona names must be unique and not {ALL!r}: {list(group_names)}")
    checks = [
        ((_resolution(h3_10) != 10) | ((h3_10 >> np.uint64(_MODE_SHIFT)) != _CELL_MODE), "not an H3 res-10 cell"),
        ((group < 0) | (group >= len(group_names)), f"persona index outside 0..{len(group_names) - 1}"),
        (persons < 1, "household size below 1"),
    ]
    for bad, what in checks:
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise InputError(f"{np.count_nonzero(bad)} households: {what}", record=first, hint="fix the synthesis")
