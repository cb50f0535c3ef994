"""Tables of counts as they may leave the server: small counts hidden with their totals, every cell noised.

A two-way table of counts is published with its row totals, column totals and grand total. Hiding a small count in
its row alone is not enough: the column total beside it gives it away (7 contributions of a group, 6 shown in cell A
and 1 withheld in cell B: 7 - 6 = 1). The table is therefore extended by its margins, and every line of it (each
row with its total, each column with its total) is made safe together:

1. primary: every count, totals included, from 1 to ``min_count - 1`` is hidden;
2. secondary, until nothing changes: a line with exactly one hidden entry hides one more, and a line whose total is
   shown while its hidden entries add up to 1 .. ``min_count - 1`` hides more, smallest positive entries first
   (the line's total where no shown entry is left), so that no equation of the published table pins a hidden
   entry or a small sum of them.

Example:
    >>> hidden = suppress_with_margins(np.array([[6, 9], [1, 8]]), 5)
    >>> hidden.shape  # rows + totals, columns + totals
    (3, 3)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from twin3d.population.privacy.atoms import DEFAULT_RULES, PrivacyRules
from twin3d.population.privacy.noise import keyed_noise, noise_secret


def with_margins(counts: np.ndarray) -> np.ndarray:
    """int (rows + 1, columns + 1): the counts with row totals (last column) and column totals (last row)."""
    counts = np.asarray(counts, np.int64)
    out = np.zeros((counts.shape[0] + 1, counts.shape[1] + 1), np.int64)
    out[:-1, :-1] = counts
    out[:-1, -1] = counts.sum(axis=1)
    out[-1, :] = out[:-1, :].sum(axis=0)
    return out


def _protect_line(values: np.ndarray, hidden: np.ndarray, crossing: np.ndarray, min_count: int) -> int | None:
    """The index of one more entry to hide in a line (its total last), or None when the line is safe.

    Entries inside the table go before the line's total (totals are what readers use most); among them, one whose
    other line hides something already (``crossing``: per entry, the hidden entries of the other line through it)
    goes first, so that hiding it does not start a chain there; then the smallest.
    """
    n_hidden = int(hidden.sum())
    if n_hidden == 0:
        return None
    hidden_sum = int(values[:-1][hidden[:-1]].sum())
    single = n_hidden == 1
    small_sum = not hidden[-1] and 0 < hidden_sum < min_count
    if not (single or small_sum):
        return None
    candidates = np.flatnonzero(~hidden[:-1] & (values[:-1] > 0))
    if len(candidates):
        best = np.lexsort((values[candidates], crossing[candidates] == 0))
        return int(candidates[best[0]])
    if not hidden[-1]:
        return len(values) - 1
    zeros = np.flatnonzero(~hidden[:-1])
    return int(zeros[0]) if len(zeros) else None


def suppress_with_margins(counts: np.ndarray, min_count: int) -> np.ndarray:
    """Which entries of the table with margins to hide (see the module docstring).

    Args:
        counts: int (rows, columns), at least 0.
        min_count: the smallest count that may be shown.

    Returns:
        bool (rows + 1, columns + 1), laid out as :func:`with_margins`.
    """
    table = with_margins(counts)
    hidden = (table > 0) & (table < min_count)
    changed = True
    while changed:
        changed = False
        # Only lines holding a hidden entry can need more; each pass fixes one entry per such line.
        for i in np.flatnonzero(hidden.any(axis=1)):
            j = _protect_line(table[i], hidden[i], hidden.sum(axis=0) - hidden[i], min_count)
            if j is not None:
                hidden[i, j] = changed = True
        for j in np.flatnonzero(hidden.any(axis=0)):
            i = _protect_line(table[:, j], hidden[:, j], hidden.sum(axis=1) - hidden[:, j], min_count)
            if i is not None:
                hidden[i, j] = changed = True
    return hidden


def _record_ids(table: str, row_names: Sequence[str]) -> np.ndarray:
    """uint64 per row: a stable id of (table, row) for the keyed noise, apart from every atom's H3 id."""
    digests = (hashlib.blake2b(f"{table}\x00{name}".encode(), digest_size=8).digest() for name in row_names)
    return np.fromiter((int.from_bytes(d, "little") for d in digests), np.uint64, count=len(row_names))


def publish_table(
    table: str, row_names: Sequence[str], counts: np.ndarray, key: bytes, rules: PrivacyRules = DEFAULT_RULES
) -> np.ndarray:
    """A count table of persons as it may leave the server: keyed noise on every cell, small counts hidden.

    Each positive cell is perturbed by :func:`.noise.keyed_noise`, keyed on the twin's secret, the table's name,
    the row, the column and the true value (so asking again changes nothing); counts from 1 to
    ``rules.min_group - 1`` are hidden together with what their row and column totals would give away
    (:func:`suppress_with_margins`).

    Args:
        table: the table's name (say ``"pyramid"``): part of the noise key.
        row_names: one per row (say the district ids).
        counts: int (rows, columns), the true counts.
        key: the twin's privacy key.
        rules: the gate's rules (noise amplitude, smallest shown count).

    Returns:
        float (rows, columns): the published counts, NaN where hidden.
    """
    counts = np.asarray(counts, np.int64)
    records = _record_ids(table, row_names)
    noise = keyed_noise(noise_secret(key), records, counts.shape[1], counts, rules.noise_amplitude)
    # Zeros stay zero (as in the Zensus cell-key method): noise there would invent persons.
    published = np.where(counts > 0, np.maximum(counts + noise, 0), 0).astype(np.float64)
    published[suppress_with_margins(counts, rules.min_group)[:-1, :-1]] = np.nan
    return published
