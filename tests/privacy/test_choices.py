"""The gate of survey counts: no answer of fewer than three persons, and no total that gives one away."""

from __future__ import annotations

import numpy as np
import pytest

from twin3d.population.privacy import suppress_choices


def test_an_exclusive_question_hides_small_counts_with_a_partner() -> None:
    hidden, total_hidden = suppress_choices(np.array([6, 2, 0]), 8, 3, exclusive=True)
    assert hidden.tolist() == [True, True, False]  # 8 - 6 would be the 2
    assert not total_hidden
    assert suppress_choices(np.array([5, 1, 1, 9]), 16, 3, exclusive=True)[0].tolist() == [True, True, True, False]


def test_several_choices_protect_those_who_did_not_tick_too() -> None:
    hidden, _ = suppress_choices(np.array([9, 4, 1, 10]), 10, 3, exclusive=False)
    assert hidden.tolist() == [True, False, True, False]  # one did not tick the first; one ticked the third


def test_a_question_of_two_persons_shows_nothing_but_zeros() -> None:
    hidden, total_hidden = suppress_choices(np.array([2, 0]), 2, 3, exclusive=True)
    assert (hidden.tolist(), total_hidden) == ([True, False], True)


@pytest.mark.parametrize("exclusive", [True, False])
def test_no_shown_figure_pins_a_small_group(exclusive: bool) -> None:
    rng = np.random.default_rng(15)
    for _ in range(3000):
        k = int(rng.integers(2, 7))
        n = int(rng.integers(0, 25))
        counts = np.bincount(rng.integers(0, k, n), minlength=k) if exclusive else rng.binomial(n, rng.random(k))
        hidden, total_hidden = suppress_choices(counts, n, 3, exclusive=exclusive)
        shown = counts[~hidden]
        assert not ((shown > 0) & (shown < 3)).any()
        if total_hidden:
            assert 0 < n < 3
            continue
        if exclusive:
            withheld = counts[hidden]
            assert len(withheld) != 1  # never one alone beside a shown total
            assert withheld.sum() == 0 or withheld.sum() >= 3
        else:
            rest = n - shown
            assert not ((rest > 0) & (rest < 3)).any()


def test_counts_that_cannot_be_are_refused() -> None:
    with pytest.raises(ValueError, match="add up"):
        suppress_choices(np.array([3, 3]), 5, 3, exclusive=True)
    with pytest.raises(ValueError, match="outside"):
        suppress_choices(np.array([6]), 5, 3, exclusive=False)
