"""Published atom values and the published table: the numbers every public population figure is made of.

:func:`publish_atoms` perturbs each atom's counts once (keyed noise, :mod:`.noise`) and suppresses small persona
groups (:func:`.atoms.shown_groups`); :func:`population_rows` sums those values into the rows of each H3
resolution. Rows are sums of the same noised atoms, so nested rows agree, baseline + change = scenario holds
wherever figures are compared, and no difference of rows can cancel the noise.

Example:
    ``publish_population(h3_10, persona_index, size, ["family", "senior"], key=secret)`` returns the rows of
    ``population_public`` for the baseline, without the ``scenario`` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from twin3d.errors import ConfigError
from twin3d.population.h3cells import resolution_of
from twin3d.population.privacy.atoms import (
    ALL,
    DEFAULT_RULES,
    PrivacyRules,
    Units,
    assign_units,
    by_atom,
    check_households,
    row_cells,
    shown_groups,
)
from twin3d.population.privacy.noise import keyed_noise, noise_secret

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
class AtomCounts:
    """The published value of every atom: noised once, small persona groups suppressed.

    Attributes:
        ids: uint64 (atoms,): the H3 cell naming each atom.
        group_names: the persona ids; column 1 + g of the arrays is persona g, column 0 everyone ("*").
        persons, households: int64 (atoms, 1 + groups), never below 0; 0 where not shown.
        shown: bool (atoms, 1 + groups); column 0 is always shown.
    """

    ids: np.ndarray
    group_names: tuple[str, ...]
    persons: np.ndarray
    households: np.ndarray
    shown: np.ndarray

    def rows(self, resolution: int) -> np.ndarray:
        """uint64 (atoms,): the ``h3`` of the row each atom counts in at ``resolution`` (see :class:`.atoms.Units`)."""
        return row_cells(self.ids, resolution)


def publish_atoms(
    h3_10: np.ndarray,
    group: np.ndarray,
    persons: np.ndarray,
    group_names: Sequence[str],
    *,
    key: bytes,
    rules: PrivacyRules = DEFAULT_RULES,
) -> tuple[Units, AtomCounts]:
    """The atoms of a population and their published values.

    Args:
        h3_10: uint64, one per household: its res-10 H3 cell.
        group: int, one per household: its index into ``group_names``.
        persons: int, one per household: its size (at least 1).
        group_names: the persona ids, in index order; ``"*"`` is reserved for everyone.
        key: the twin's secret privacy key; keep it out of the repository and stable between runs.
        rules: thresholds and noise amplitude.

    Returns:
        The membership (the gate's own, never to be published) and the published counts.

    Raises:
        InputError: arrays of different lengths, cells that are not res-10 H3 cells, bad persona indices or sizes.
        ConfigError: an empty key.
    """
    cells = np.asarray(h3_10).astype(np.uint64, copy=False)
    grp = np.asarray(group).astype(np.int64, copy=False)
    size = np.asarray(persons).astype(np.int64, copy=False)
    check_households(cells, grp, size, group_names)
    if not key:
        raise ConfigError("the privacy noise key is empty", hint="configure a secret key for the population gate")
    units = assign_units(cells, size, rules)
    n_groups = len(group_names)
    shown = np.column_stack([np.ones(len(units.atom_ids), bool), shown_groups(units, grp, n_groups, rules)])
    true_p = by_atom(units, grp, n_groups, size)
    true_h = by_atom(units, grp, n_groups, None)
    width = shown.shape[1]
    noise = keyed_noise(
        noise_secret(key), units.atom_ids, 2 * width, np.hstack([true_p, true_h]), rules.noise_amplitude
    )
    noised_p = np.where(shown, np.maximum(true_p + noise[:, :width], 0), 0)
    noised_h = np.where(shown, np.maximum(true_h + noise[:, width:], 0), 0)
    return units, AtomCounts(units.atom_ids, tuple(group_names), noised_p, noised_h, shown)


def population_rows(counts: AtomCounts, resolutions: Sequence[int]) -> pa.Table:
    """Per resolution, one ``"*"`` row per published cell and one row per persona shown there: sums of the
    published atom values, sorted by resolution (in the order given), ``h3`` and persona index."""
    names = pa.array([ALL, *counts.group_names], pa.string())
    tables = [_rows(r, counts, names) for r in resolutions]
    return pa.concat_tables([pa.table({n: [] for n in SCHEMA.names}, schema=SCHEMA), *tables])


def publish_population(
    h3_10: np.ndarray,
    group: np.ndarray,
    persons: np.ndarray,
    group_names: Sequence[str],
    *,
    key: bytes,
    rules: PrivacyRules = DEFAULT_RULES,
) -> pa.Table:
    """Counts of persons and households per H3 cell and persona, safe to publish.

    Returns:
        A table with :data:`SCHEMA` for every resolution of ``rules.resolutions`` (see :func:`population_rows`);
        empty if the whole population is below the thresholds. Arguments and errors as :func:`publish_atoms`.
    """
    _, counts = publish_atoms(h3_10, group, persons, group_names, key=key, rules=rules)
    return population_rows(counts, rules.resolutions)


def _rows(resolution: int, counts: AtomCounts, names: pa.Array) -> pa.Table:
    """The rows at one resolution: sums of the shown, noised atom values per row cell and persona code."""
    rows, row_of = np.unique(counts.rows(resolution), return_inverse=True)
    shown = counts.shown
    n_rows, n_codes = len(rows), shown.shape[1]
    cell = (row_of.reshape(-1)[:, None] * n_codes + np.arange(n_codes)).ravel()[shown.ravel()]
    present = np.bincount(cell, minlength=n_rows * n_codes) > 0
    sum_p = np.bincount(cell, weights=counts.persons.ravel()[shown.ravel()], minlength=n_rows * n_codes)
    sum_h = np.bincount(cell, weights=counts.households.ravel()[shown.ravel()], minlength=n_rows * n_codes)
    flat = np.flatnonzero(present)  # row-major: sorted by h3, then persona index with "*" first
    h3 = rows[flat // n_codes]
    return pa.table(
        {
            "resolution": pa.array(np.full(len(flat), resolution, np.uint8)),
            "h3": pa.array(h3),
            "cell_resolution": pa.array(resolution_of(h3)),
            "persona": names.take(pa.array(flat % n_codes)),
            "persons": pa.array(sum_p[flat].astype(np.int64)),
            "households": pa.array(sum_h[flat].astype(np.int64)),
        },
        schema=SCHEMA,
    )
