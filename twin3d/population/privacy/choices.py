"""Counts of answers as they may leave the server: no category answered by fewer than ``min_count`` persons, and
no total that gives one away.

Survey results are counts of persons per answer of a question, published with the number of persons who answered
it. Two kinds of question need two rules:

- **exclusive** (one choice, a point on a scale): the counts add up to the question's total, so they are a table
  with a margin, and :func:`~twin3d.population.privacy.tables.suppress_with_margins` decides: every count from 1 to
  ``min_count - 1`` is withheld, and as many more as it takes that the total minus the shown counts is never a
  withheld count or a small sum of them (8 answers, 6 shown for "bus", 2 withheld for "car": "car" needs a second
  withheld count beside it, else 8 - 6 = 2 gives it away).
- **several choices**: each option splits the question's respondents into those who ticked it and those who did
  not. Both parts are categories of persons, so an option is withheld when either part counts 1 to
  ``min_count - 1`` (9 of 10 ticked "bus": the one who did not is a group of one). The counts do not add up to
  anything, so withholding one option gives away no other.

A question's total (persons who answered it) is withheld when it is below ``min_count``; then every count of the
question is at most that total and withheld too. Zero is shown: it is nobody.

Example:
    >>> hidden, total_hidden = suppress_choices(np.array([6, 2, 0]), 8, 3, exclusive=True)
    >>> hidden.tolist(), total_hidden
    ([True, True, False], False)
    >>> suppress_choices(np.array([9, 4]), 10, 3, exclusive=False)[0].tolist()
    [True, False]
"""

from __future__ import annotations

import numpy as np

from twin3d.population.privacy.tables import suppress_with_margins


def suppress_choices(
    counts: np.ndarray, respondents: int, min_count: int, *, exclusive: bool
) -> tuple[np.ndarray, bool]:
    """Which counts of one question to withhold, and whether its total is withheld (see the module docstring).

    Args:
        counts: int (options,): persons per option (per scale value), at least 0.
        respondents: persons who answered the question (for exclusive questions: the sum of ``counts``).
        min_count: the smallest number of persons shown.
        exclusive: each person gave one answer (one choice, a scale), not several.

    Returns:
        bool (options,) withheld counts, and whether the total is withheld.
    """
    counts = np.asarray(counts, np.int64)
    if exclusive and int(counts.sum()) != respondents:
        raise ValueError("the counts of an exclusive question must add up to its respondents")
    if (counts < 0).any() or (counts > respondents).any():
        raise ValueError("a count lies outside 0 .. respondents")
    total_hidden = 0 < respondents < min_count
    if total_hidden:
        return counts > 0, True
    if exclusive:
        if not len(counts):
            return np.zeros(0, bool), False
        hidden = suppress_with_margins(counts[None, :], min_count)
        # A table of one row: its total is the question's, shown whenever it is min_count or more (the
        # suppression hides a total only where the hidden counts could not hide among shown ones, and a row whose
        # positive counts are all hidden sums to the total, which is not small).
        return hidden[0, :-1].copy(), bool(hidden[0, -1])
    rest = respondents - counts
    return ((counts > 0) & (counts < min_count)) | ((rest > 0) & (rest < min_count)), False
