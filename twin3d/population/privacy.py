"""The privacy gate: the only way population counts leave the store for the public API.

The synthetic population is microdata; the public sees only what :func:`publish_population` returns:

- cells with fewer than ``min_persons`` persons or ``min_households`` households are merged into their parent cell;
- a persona count is shown only where it covers at least ``min_group`` households;
- every published count carries deterministic noise keyed on cell, persona and scenario, so that asking the same
  question again, or in another way, gives the same answer and averaging cannot remove the noise.

Thresholds per cell are not enough on their own: publishing each resolution separately lets an attacker subtract
the published children of a cell from the cell and read off the small child that was withheld. The gate therefore
builds **atoms** once, bottom-up, and publishes every resolution as sums of whole atoms:

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
   isolates a small group. Noise is drawn per atom and persona and rows are sums of noised atoms, so nested rows
   agree and a difference cannot cancel it.

Example:
    ``publish_population(h3_10, persona_index, size, ["family", "senior"], key=secret, scenario="baseline")``
    returns the rows of ``population_public`` for that scenario, without the ``scenario`` column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from twin3d.errors import ConfigError, InputError
from twin3d.population.h3cells import parent, resolution_of

ALL = "*"
"""The persona value of rows that count every household."""

_MODE_SHIFT = 59
_CELL_MODE = 1
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)

SCHEMA = pa.schema(
    [
        ("resolution", pa.uint8()),
        ("h3", pa.uint64()),
        ("cell_resolution", pa.uint8()),
        ("persona", pa.string()),
        ("persons", pa.int64()),
        ("households", pa.int64()),
    ]
)
"""The published table: ``population_public`` in the store without its ``scenario`` column."""


@dataclass(frozen=True)
class PrivacyRules:
    """What may be published.

    Attributes:
        min_persons: the fewest persons an atom (the smallest published unit) may hold.
        min_households: the fewest households an atom may hold.
        min_group: the fewest households of one persona an atom may show.
        noise_amplitude: each atom's count is published as ``true + d`` with an integer d in [-a, a], never below 0.
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


_resolution = resolution_of
_parent = parent


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
        ids = self.atom_ids
        return np.where(_resolution(ids) >= resolution, _parent(ids, resolution), ids)

    def household_rows(self, resolution: int) -> np.ndarray:
        """uint64, one per household: the ``h3`` of the row it counts in at ``resolution``, 0 where unpublished."""
        rows = np.append(self.atom_rows(resolution), np.uint64(0))
        return np.take(rows, self.atom)  # atom -1 picks the appended 0


def assign_units(h3_10: np.ndarray, persons: np.ndarray, rules: PrivacyRules = PrivacyRules()) -> Units:
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


def _by_atom(units: Units, group: np.ndarray, n_groups: int, weights: np.ndarray | None) -> np.ndarray:
    """int64 (atoms, 1 + groups): column 0 counts everyone, column 1 + g persona g; weights default to 1."""
    inside = units.atom >= 0
    atom, w = units.atom[inside], None if weights is None else weights[inside]
    n_atoms = len(units.atom_ids)
    out = np.empty((n_atoms, 1 + n_groups), np.int64)
    out[:, 0] = np.bincount(atom, weights=w, minlength=n_atoms)
    flat = np.bincount(atom * n_groups + group[inside], weights=w, minlength=n_atoms * n_groups)
    out[:, 1:] = flat.reshape(n_atoms, n_groups)
    return out


def shown_groups(units: Units, group: np.ndarray, n_groups: int, rules: PrivacyRules = PrivacyRules()) -> np.ndarray:
    """Which persona counts each atom may show, after primary and secondary suppression.

    Args:
        units: the atoms, from :func:`assign_units`.
        group: int, one per household: its persona index.
        n_groups: the number of personas.
        rules: ``min_group``.

    Returns:
        bool (atoms, groups): True where the atom shows that persona (always at least ``min_group`` households).
    """
    counts = _by_atom(units, np.asarray(group, np.int64), n_groups, None)[:, 1:]
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


def _scenario_key(key: bytes, scenario: str) -> np.uint64:
    digest = hashlib.blake2b(digest_size=8, person=b"twin3d.privacy")
    digest.update(len(key).to_bytes(8, "little") + key + scenario.encode())  # length prefix: no key/scenario overlap
    return np.uint64(int.from_bytes(digest.digest(), "little"))


def _mix(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: uint64 in, well-mixed uint64 out (wrapping arithmetic is intended)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def _noise(atom_ids: np.ndarray, n_columns: int, secret: np.uint64, amplitude: int) -> np.ndarray:
    """int64 (atoms, columns) in [-amplitude, amplitude], a function of (secret, atom id, column) only."""
    codes = np.arange(1, n_columns + 1, dtype=np.uint64) * _GOLDEN
    x = _mix(_mix(atom_ids ^ secret)[:, None] ^ codes[None, :])
    x = _mix(x + secret)
    return (x % np.uint64(2 * amplitude + 1)).astype(np.int64) - amplitude


def _check(h3_10: np.ndarray, group: np.ndarray, persons: np.ndarray, group_names: Sequence[str]) -> None:
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


def publish_population(
    h3_10: np.ndarray,
    group: np.ndarray,
    persons: np.ndarray,
    group_names: Sequence[str],
    *,
    key: bytes,
    scenario: str,
    rules: PrivacyRules = PrivacyRules(),
) -> pa.Table:
    """Counts of persons and households per H3 cell and persona, safe to publish.

    Args:
        h3_10: uint64, one per household: its res-10 H3 cell.
        group: int, one per household: its index into ``group_names``.
        persons: int, one per household: its size (at least 1).
        group_names: the persona ids, in index order; ``"*"`` is reserved for everyone.
        key: the secret noise key; keep it out of the repository and stable between runs.
        scenario: the scenario id the counts are for; part of the noise key.
        rules: thresholds, noise amplitude and resolutions.

    Returns:
        A table with :data:`SCHEMA`: per resolution of ``rules.resolutions``, one ``"*"`` row per published cell and
        one row per persona shown there, sorted by resolution (in the order of the rules), ``h3`` and persona index.
        Empty if the whole population is below the thresholds.

    Raises:
        InputError: arrays of different lengths, cells that are not res-10 H3 cells, bad persona indices or sizes.
        ConfigError: an empty key.
    """
    cells = np.asarray(h3_10).astype(np.uint64, copy=False)
    grp = np.asarray(group).astype(np.int64, copy=False)
    size = np.asarray(persons).astype(np.int64, copy=False)
    _check(cells, grp, size, group_names)
    if not key:
        raise ConfigError("the privacy noise key is empty", hint="configure a secret key for the population gate")
    units = assign_units(cells, size, rules)
    n_groups = len(group_names)
    shown = np.column_stack([np.ones(len(units.atom_ids), bool), shown_groups(units, grp, n_groups, rules)])
    noise = _noise(units.atom_ids, 2 * shown.shape[1], _scenario_key(key, scenario), rules.noise_amplitude)
    # Noise is added once per atom; every row is a sum of noised atoms, so nested rows stay consistent.
    noised_p = np.maximum(_by_atom(units, grp, n_groups, size) + noise[:, : shown.shape[1]], 0)
    noised_h = np.maximum(_by_atom(units, grp, n_groups, None) + noise[:, shown.shape[1] :], 0)
    names = pa.array([ALL, *group_names], pa.string())
    tables = [
        _rows(r, units.atom_rows(r), shown=shown, persons=noised_p, households=noised_h, names=names)
        for r in rules.resolutions
    ]
    return pa.concat_tables([pa.table({n: [] for n in SCHEMA.names}, schema=SCHEMA), *tables])


def _rows(
    resolution: int,
    atom_rows: np.ndarray,
    *,
    shown: np.ndarray,
    persons: np.ndarray,
    households: np.ndarray,
    names: pa.Array,
) -> pa.Table:
    """The rows at one resolution: sums of the shown, noised atom values per row cell and persona code."""
    rows, row_of = np.unique(atom_rows, return_inverse=True)
    n_rows, n_codes = len(rows), shown.shape[1]
    cell = (row_of[:, None] * n_codes + np.arange(n_codes)).ravel()[shown.ravel()]
    present = np.bincount(cell, minlength=n_rows * n_codes) > 0
    sum_p = np.bincount(cell, weights=persons.ravel()[shown.ravel()], minlength=n_rows * n_codes)
    sum_h = np.bincount(cell, weights=households.ravel()[shown.ravel()], minlength=n_rows * n_codes)
    flat = np.flatnonzero(present)  # row-major: sorted by h3, then persona index with "*" first
    h3 = rows[flat // n_codes]
    return pa.table(
        {
            "resolution": pa.array(np.full(len(flat), resolution, np.uint8)),
            "h3": pa.array(h3),
            "cell_resolution": pa.array(_resolution(h3)),
            "persona": names.take(pa.array(flat % n_codes)),
            "persons": pa.array(sum_p[flat].astype(np.int64)),
            "households": pa.array(sum_h[flat].astype(np.int64)),
        },
        schema=SCHEMA,
    )
