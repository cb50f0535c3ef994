"""A count table published through the gate (the report's age pyramids): noised, small counts hidden, stable."""

from __future__ import annotations

import numpy as np

from twin3d.population.privacy import PrivacyRules, publish_table, suppress_with_margins

KEY = b"test key of the published tables"


def test_a_table_is_noised_within_the_amplitude_and_small_counts_are_hidden() -> None:
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 300, size=(21, 202))
    counts[3, 17] = 1  # one person of one age and sex in a district: must not show
    counts[5, :40] = 0
    published = publish_table("pyramid", [f"d{i}" for i in range(21)], counts, KEY)
    hidden = np.isnan(published)
    assert hidden[3, 17]
    assert np.array_equal(hidden, suppress_with_margins(counts, PrivacyRules().min_group)[:-1, :-1])
    shown = ~hidden
    assert np.abs(published[shown] - counts[shown]).max() <= 2
    assert (published[shown] != counts[shown]).mean() > 0.5  # most cells carry noise
    assert (published[5, :40] == 0).all()  # zeros stay zero: noise invents nobody


def test_asking_again_gives_the_same_table_and_a_rebuilt_count_a_fresh_draw() -> None:
    counts = np.full((2, 50), 100)
    first = publish_table("pyramid", ["a", "b"], counts, KEY)
    assert np.array_equal(first, publish_table("pyramid", ["a", "b"], counts, KEY))
    # The row, not its position, keys the noise: the same district in another order gets the same values.
    assert np.array_equal(first[::-1], publish_table("pyramid", ["b", "a"], counts, KEY))
    changed = counts.copy()
    changed[0, 0] = 101
    again = publish_table("pyramid", ["a", "b"], changed, KEY)
    assert np.array_equal(again[:, 1:], first[:, 1:])  # only the changed cell draws anew
