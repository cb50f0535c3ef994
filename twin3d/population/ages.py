"""Single years of age: a national profile by year, bent smoothly to each unit's age bands, handed out by quota.

Age statistics come in bands (0-2, 15-24, 75 and over). Spreading a band evenly, or by its share of the national
profile alone, leaves steps at the band edges (Rostock's Südstadt has three times as many 15-24-year-olds per year
as 6-14-year-olds, so its 15-year-olds would be twice its 14-year-olds). Here a unit's (a district's) persons per
year are the national profile times a factor that varies smoothly with age, found by pycnophylactic smoothing
(Tobler 1979): smooth the factor, restore every band's total, repeat. Band totals stay exact; the factor carries a
university quarter's surplus of young adults smoothly over the 14/15 and 24/25 edges, so its 19-24-year-olds
outnumber its 15-17-year-olds as they do in a university city. A last pass limits what remains of a step between
two years of one band (a steep district gradient on top of a real cohort step, such as the births of 1945/46 at
age 77/78 in 2023) to ``MAX_STEP``, moving persons between the two years only.

Persons then get their years by quota: per unit and age class, the expected counts rounded to whole persons by
largest remainder, so even a district of 1,700 persons has no random holes or heaps. Which member takes which of
those years is decided by rank: children first, then adults keyed on their eldest child's age plus an age at its
birth drawn from the priors, so parents are older than their eldest child by at least ``MIN_PARENT_GAP`` years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin3d.population.classes import AGE_CLASSES
from twin3d.population.fit import round_within
from twin3d.population.priors import ParentAges, SingleYears

MAX_AGE = AGE_CLASSES[-1][1]
YEARS = MAX_AGE + 1
MIN_PARENT_GAP = 15
MOTHER_MAX_AGE_AT_BIRTH = 49
MAX_STEP = 1.30
_SWEEPS = 400
_ESCALATIONS = 8
_CLASS_LO = np.array([c[0] for c in AGE_CLASSES])
_CLASS_HI = np.array([c[1] for c in AGE_CLASSES])
CLASS_OF_AGE = np.repeat(np.arange(len(AGE_CLASSES)), _CLASS_HI - _CLASS_LO + 1)


@dataclass(frozen=True)
class AgeModel:
    """What members need to give everyone a single year of age.

    Attributes:
        unit_of_zone: the unit (row of ``expected``) of each zone: its district, or 0 for a twin without districts.
        expected: expected persons per unit and single year, shape (units, YEARS).
        parents: the age of mothers and fathers at the birth of their eldest child.
    """

    unit_of_zone: np.ndarray
    expected: np.ndarray
    parents: ParentAges


def national_profile(years: SingleYears) -> np.ndarray:
    """Persons per single year 0..MAX_AGE: the published years, then the open class declining steadily.

    The open class continues the last published year with one yearly factor, chosen by bisection so that the
    years up to MAX_AGE hold the class's published total (those above MAX_AGE are counted at MAX_AGE).
    """
    counts = np.asarray(years.counts, dtype=np.float64)[:YEARS]
    missing = YEARS - len(counts)
    if missing <= 0:
        return counts
    steps = np.arange(1, missing + 1)
    lo, hi = 0.0, 2.0
    for _ in range(60):
        factor = (lo + hi) / 2
        if (counts[-1] * factor**steps).sum() > years.open_total:
            hi = factor
        else:
            lo = factor
    tail = counts[-1] * ((lo + hi) / 2) ** steps
    tail *= years.open_total / max(tail.sum(), 1e-9)
    result: np.ndarray = np.concatenate([counts, tail])
    return result


def band_starts(bands: list[tuple[int, int]]) -> np.ndarray:
    """The first year of each band of a partition of 0..MAX_AGE: the given bands, and each gap between them.

    Raises:
        ValueError: two bands overlap.
    """
    starts: list[int] = []
    edge = 0
    for lo, hi in sorted(bands):
        if lo < edge:
            raise ValueError(f"age band {lo}-{hi} overlaps the band before it")
        if lo > edge:
            starts.append(edge)
        starts.append(lo)
        edge = hi + 1
    if edge <= MAX_AGE:
        starts.append(edge)
    return np.array(starts, dtype=np.int64)


def fill_bands(
    profile: np.ndarray, bands: list[tuple[int, int]], totals: np.ndarray, persons: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All bands of 0..MAX_AGE with their totals per unit: the known ones, and the gaps between them.

    The gaps (ages no statistic covers, or whose band is held out) share the persons the known bands leave, in
    proportion to the national profile.

    Args:
        profile: national persons per year.
        bands: the known bands (first and last year).
        totals: persons per unit and known band, shape (units, len(bands)).
        persons: persons per unit.

    Returns:
        The first year of each band and the totals per unit and band.
    """
    starts = band_starts(bands)
    mass = np.add.reduceat(profile, starts)
    column = {lo: k for k, (lo, _) in enumerate(bands)}
    known = np.array([int(s) in column for s in starts])
    full = np.zeros((len(persons), len(starts)))
    for j in np.flatnonzero(known):
        full[:, j] = totals[:, column[int(starts[j])]]
    rest = np.maximum(persons - full.sum(axis=1), 0.0)
    gap_mass = np.where(known, 0.0, mass)
    if gap_mass.sum() > 0:
        full += rest[:, None] * (gap_mass / gap_mass.sum())[None, :]
    return starts, full


def smooth_to_bands(profile: np.ndarray, starts: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Persons per unit and single year whose band sums are ``totals`` and whose ratio to ``profile`` is smooth.

    Args:
        profile: persons per year, all positive: length YEARS (national), or one row per unit.
        starts: the first year of each band (ascending, starting at 0; see ``band_starts``).
        totals: persons per unit and band, shape (units, bands); NaN counts as 0.

    Returns:
        Expected persons, shape (units, YEARS).
    """
    totals = np.nan_to_num(np.asarray(totals, dtype=np.float64))
    profile = np.broadcast_to(profile, (totals.shape[0], YEARS))
    band = np.searchsorted(starts, np.arange(YEARS), side="right") - 1
    mass = np.add.reduceat(profile, starts, axis=1)
    n = profile * (totals / mass)[:, band]
    for _ in range(_SWEEPS):
        ratio = n / profile
        padded = np.pad(ratio, ((0, 0), (1, 1)), mode="edge")
        smoothed = profile * (padded[:, :-2] + 2.0 * padded[:, 1:-1] + padded[:, 2:]) / 4.0
        sums = np.add.reduceat(smoothed, starts, axis=1)
        scale = np.divide(totals, sums, out=np.zeros_like(totals), where=sums > 0)
        new = smoothed * scale[:, band]
        done = np.abs(new - n).max(initial=0.0) <= 1e-6 * max(float(n.max(initial=0.0)), 1.0)
        n = new
        if done:
            break
    return _limit_steps(n, band)


def _limit_steps(n: np.ndarray, band: np.ndarray) -> np.ndarray:
    """Move persons between two adjacent years of one band until neither has more than MAX_STEP times the other."""
    n = n.copy()
    same_band = band[1:] == band[:-1]
    for _ in range(200):
        changed = False
        for parity in (0, 1):
            # Disjoint pairs (a, a + 1) with a of one parity: each pair is settled on its own, all at once.
            a = np.arange(parity, YEARS - 1, 2)
            a = a[same_band[a]]
            x, y = n[:, a], n[:, a + 1]
            big, small = np.maximum(x, y), np.minimum(x, y)
            over = big > MAX_STEP * small + 1e-9
            if not over.any():
                continue
            changed = True
            total = x + y
            high, low = total * MAX_STEP / (1 + MAX_STEP), total / (1 + MAX_STEP)
            n[:, a] = np.where(over, np.where(x >= y, high, low), x)
            n[:, a + 1] = np.where(over, np.where(x >= y, low, high), y)
        if not changed:
            break
    return n


def class_totals(expected: np.ndarray) -> np.ndarray:
    """Expected persons per unit and age class (AGE_CLASSES), shape (units, classes)."""
    result: np.ndarray = np.add.reduceat(expected, _CLASS_LO, axis=1)
    return result


def assign_ages(
    klass: np.ndarray,
    child: np.ndarray,
    female: np.ndarray,
    *,
    household_start: np.ndarray,
    unit: np.ndarray,
    expected: np.ndarray,
    parents: ParentAges,
    rng: np.random.Generator,
) -> np.ndarray:
    """A single year of age for every person, by quota per unit and class, parents at least 15 years older.

    Args:
        klass: age class of each person (index into AGE_CLASSES); persons are ordered by household.
        child: True for children (their classes are never adult classes).
        female: True for women and girls.
        household_start: index of each household's first person, ascending.
        unit: the unit of each person (row of ``expected``).
        expected: expected persons per unit and year, shape (units, YEARS), e.g. from ``smooth_to_bands``.
        parents: the age of mothers and fathers at the birth of their eldest child.
        rng: the seeded generator.
    """
    if not len(klass):
        return np.zeros(0, dtype=np.int64)
    n_classes = len(AGE_CLASSES)
    group = unit * n_classes + klass
    size = np.bincount(group, minlength=expected.shape[0] * n_classes)
    # The households fix how many persons each class has, a few per cent off the expected (and off more where the
    # fit has no class split): the unit's profile is bent once more to these counts, so the difference is spread
    # smoothly instead of making a step at the class edge.
    # (A class nobody is in keeps its expected total, so that it does not pull its neighbours' edges to zero.)
    floor = 1e-3 * expected.mean(axis=1, keepdims=True) + 1e-9
    counts = size.reshape(expected.shape[0], n_classes).astype(np.float64)
    counts = np.where(counts > 0, counts, class_totals(expected))
    quota, start = _quota(smooth_to_bands(expected + floor, _CLASS_LO, counts), size)
    age = np.zeros(len(klass), dtype=np.int64)

    def draw(who: np.ndarray) -> np.ndarray:
        """A year drawn from each person's own quota, plus a fraction that breaks ties at random."""
        g = group[who]
        pick = start[g] + np.minimum((rng.random(len(who)) * size[g]).astype(np.int64), size[g] - 1)
        keyed: np.ndarray = quota[pick] + rng.random(len(who))
        return keyed

    owner = np.repeat(np.arange(len(household_start)), np.diff(np.append(household_start, len(klass))))
    # Children first: a child cannot be older than its youngest parent's class allows (the oldest year of that
    # class less MIN_PARENT_GAP); such children are keyed to the top of what is left to them.
    kids = np.flatnonzero(child)
    adult_hi = np.where(child, MAX_AGE, _CLASS_HI[klass])
    cap = np.minimum.reduceat(adult_hi, household_start)[owner[kids]] - MIN_PARENT_GAP
    key = np.minimum(draw(kids), cap + rng.random(len(kids)))
    age[kids] = _by_rank(group[kids], key, quota, start)
    # Then adults: a parent's key is the eldest child's age plus an age at its birth, so that the older the
    # children, the older the parents that take the class's upper years.
    eldest = np.maximum.reduceat(np.where(child, age, -1), household_start)[owner]
    adults = np.flatnonzero(~child)
    key = draw(adults)
    parent = eldest[adults] >= 0
    mothers = female[adults] & parent
    birth = np.where(
        mothers,
        np.clip(rng.normal(parents.mother_mean, parents.mother_sd, len(adults)), 15, MOTHER_MAX_AGE_AT_BIRTH),
        np.maximum(rng.normal(parents.father_mean, parents.father_sd, len(adults)), 15),
    )
    key = np.where(parent, eldest[adults] + birth + rng.random(len(adults)), key)
    adult_group = group[adults]
    adult_age = _by_rank(adult_group, key, quota, start)
    # A drawn age at birth can rank a parent below the years its children need. Such parents go before everyone
    # else of their group, ordered by what they need, and their groups are ranked again: the quota stays exact.
    need = np.where(parent, eldest[adults] + MIN_PARENT_GAP, -1)
    for _ in range(_ESCALATIONS):
        short = adult_age < need
        if not short.any():
            break
        key[short] = 2 * YEARS + need[short] + rng.random(int(short.sum()))
        again = np.isin(adult_group, np.unique(adult_group[short]))
        adult_age[again] = _by_rank(adult_group[again], key[again], quota, start)
    age[adults] = adult_age
    return _close_gaps(age, klass, child, household_start, owner)


def _quota(expected: np.ndarray, persons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The years to hand out per (unit, class) group, ascending within each group, and each group's first index.

    ``persons[g]`` of group ``g = unit * classes + class`` get the class's years in proportion to the unit's
    expected counts (evenly where it expects nobody in the class), rounded by largest remainder.
    """
    n_units = expected.shape[0]
    n_classes = len(AGE_CLASSES)
    width = (_CLASS_HI - _CLASS_LO + 1)[CLASS_OF_AGE]
    in_class = class_totals(expected)[:, CLASS_OF_AGE]
    share = np.where(in_class > 0, expected / np.where(in_class > 0, in_class, 1.0), 1.0 / width)
    group = (np.arange(n_units)[:, None] * n_classes + CLASS_OF_AGE[None, :]).ravel()
    counts = round_within(share.ravel(), group, persons.astype(np.int64))
    quota = np.repeat(np.tile(np.arange(YEARS), n_units), counts)
    start = np.concatenate([[0], np.cumsum(persons)[:-1]]).astype(np.int64)
    return quota, start


def _by_rank(group: np.ndarray, key: np.ndarray, quota: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Within each group, the person with the k-th smallest key takes the group's k-th youngest year."""
    order = np.lexsort((key, group))
    ordered = group[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered, ordered)
    out = np.empty(len(group), dtype=np.int64)
    out[order] = quota[start[ordered] + rank]
    return out


def _close_gaps(
    age: np.ndarray, klass: np.ndarray, child: np.ndarray, household_start: np.ndarray, owner: np.ndarray
) -> np.ndarray:
    """Where ranking left a parent less than MIN_PARENT_GAP years older than the eldest child, close the gap.

    Parents move up to the eldest child's age plus the gap (at most to the top of their class); where that is not
    enough, the children move down to the youngest parent's age less the gap. The household prototypes guarantee
    that this stays inside the children's classes.
    """
    eldest = np.maximum.reduceat(np.where(child, age, -1), household_start)[owner]
    raise_to = np.minimum(eldest + MIN_PARENT_GAP, _CLASS_HI[klass])
    age = np.where(~child & (eldest >= 0), np.maximum(age, raise_to), age)
    youngest_parent = np.minimum.reduceat(np.where(child, YEARS + MIN_PARENT_GAP, age), household_start)[owner]
    lowered = np.maximum(np.minimum(age, youngest_parent - MIN_PARENT_GAP), _CLASS_LO[klass])
    result: np.ndarray = np.where(child, lowered, age)
    return result
