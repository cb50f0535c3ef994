"""Household prototypes: every household composition the synthesis can produce, with a prior weight.

Towns publish no microdata, so the seed of the fit is an enumeration of plausible households (a single woman of
65-74; a couple of 35-44 with two children of 6-14; ...) weighted by national priors. The fit then reweights
these prototypes per zone until the zone's and district's statistics are met. Children carry no sex here: it is
assigned after integerisation, when each zone's count of boys is known.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from twin3d.population.classes import ADULT_CLASSES, AGE_CLASS_NAMES, AGE_CLASSES, CHILD, FEMALE, HOUSEHOLD_TYPES, MALE
from twin3d.population.priors import Priors

# Which child classes a parent of an adult class can plausibly have: in every pair some years of the two classes
# are at least 15 years apart (the single years of age then keep every parent that much older than the eldest
# child), and a mother of 45-54 or 55-64 was at most 49 at the birth.
_CHILDREN_OF: dict[int, tuple[int, ...]] = {
    4: (0, 1),
    5: (0, 1, 2),
    6: (0, 1, 2, 3),
    7: (0, 1, 2, 3),
    8: (2, 3),
    9: (3,),
}


@dataclass(frozen=True)
class Prototypes:
    """Household compositions as compressed rows of members.

    Attributes:
        household_type: index into HOUSEHOLD_TYPES, one per prototype.
        offsets: member rows of prototype ``p`` are ``offsets[p]:offsets[p + 1]``.
        member_class: age class of each member (index into AGE_CLASSES).
        member_sex: MALE, FEMALE or CHILD (sex assigned later).
        seed: prior weight of each prototype; sums to 1.
    """

    household_type: np.ndarray
    offsets: np.ndarray
    member_class: np.ndarray
    member_sex: np.ndarray
    seed: np.ndarray

    def __len__(self) -> int:
        return len(self.household_type)

    @property
    def size(self) -> np.ndarray:
        """Members per prototype."""
        return np.diff(self.offsets)

    def member_owner(self) -> np.ndarray:
        """The prototype of each member row."""
        return np.repeat(np.arange(len(self)), self.size)

    def count_members(self, mask: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
        """Per prototype, the (weighted) number of members selected by ``mask``."""
        w = mask.astype(np.float64) if weight is None else np.where(mask, weight, 0.0)
        return np.bincount(self.member_owner(), weights=w, minlength=len(self))

    def children(self) -> np.ndarray:
        """Members under 18 per prototype."""
        return self.count_members(self.member_sex == CHILD).astype(np.int64)

    def key(self, p: int) -> tuple[int, tuple[tuple[int, int], ...]]:
        """A hashable description of prototype ``p``: its type and sorted members."""
        sl = slice(self.offsets[p], self.offsets[p + 1])
        members = tuple(sorted(zip(self.member_class[sl].tolist(), self.member_sex[sl].tolist(), strict=True)))
        return int(self.household_type[p]), members


def _pairs(classes: tuple[int, ...]) -> list[tuple[int, int]]:
    """(man, woman) classes at most one class apart."""
    return [(a, b) for a in classes for b in classes if abs(a - b) <= 1]


def _child_sets(*parent_classes: int) -> list[tuple[int, ...]]:
    """Sets of one to three children of classes that every one of the parents can have."""
    allowed = sorted(set.intersection(*(set(_CHILDREN_OF[c]) for c in parent_classes)))
    return [c for n in (1, 2, 3) for c in itertools.combinations_with_replacement(allowed, n)]


Row = tuple[int, list[tuple[int, int]], float]


def _gap(a: int, b: int) -> float:
    return 1.0 if a == b else 0.5


def _adults(age_share: np.ndarray, alone: np.ndarray) -> list[Row]:
    single, couple = HOUSEHOLD_TYPES.index("single"), HOUSEHOLD_TYPES.index("couple")
    rows: list[Row] = [(single, [(c, sex)], age_share[c] * alone[c]) for c in ADULT_CLASSES for sex in (MALE, FEMALE)]
    rows += [
        (couple, [(a, MALE), (b, FEMALE)], age_share[a] * age_share[b] * _gap(a, b)) for a, b in _pairs(ADULT_CLASSES)
    ]
    return rows


def _families(age_share: np.ndarray, children_share: dict[int, float]) -> list[Row]:
    def kids(children: tuple[int, ...]) -> tuple[list[tuple[int, int]], float]:
        weight = children_share[len(children)] * float(np.prod(age_share[list(children)]))
        return [(c, CHILD) for c in children], weight

    rows: list[Row] = []
    kind = HOUSEHOLD_TYPES.index("couple_children")
    for a, b in _pairs(tuple(_CHILDREN_OF)):
        # A father one class younger than the mother must be old enough for the children too.
        for children in _child_sets(a, b):
            members, w = kids(children)
            rows.append((kind, [(a, MALE), (b, FEMALE), *members], age_share[a] * age_share[b] * _gap(a, b) * w))
    kind = HOUSEHOLD_TYPES.index("single_parent")
    for c in _CHILDREN_OF:
        # Lone fathers are about one in six lone parents.
        for sex, sex_share in ((FEMALE, 0.83), (MALE, 0.17)):
            for children in _child_sets(c):
                members, w = kids(children)
                rows.append((kind, [(c, sex), *members], age_share[c] * w * sex_share))
    return rows


def _shared(age_share: np.ndarray) -> list[Row]:
    """Flat shares of young adults, parents with a grown-up child, old parents living with a middle-aged one."""
    kind = HOUSEHOLD_TYPES.index("shared")
    young = (4, 5)
    rows: list[Row] = [
        (kind, [(a, sex), (b, sex)], age_share[a] * age_share[b])
        for sex in (MALE, FEMALE)
        for a, b in itertools.combinations_with_replacement(young, 2)
    ]
    for trio in itertools.combinations_with_replacement(young, 3):
        for men in (1, 2):
            sexes = [MALE] * men + [FEMALE] * (3 - men)
            rows.append((kind, list(zip(trio, sexes, strict=True)), float(np.prod(age_share[list(trio)]))))
    # Grown-up children (18-29) living with both parents or one (45-64, so at least 16 years older): where suburban
    # districts have young adults, most of them live so.
    parents = ((8, 8), (9, 9), (8, 9), (9, 8))
    rows += [
        (kind, [(a, MALE), (b, FEMALE), (c, sex)], age_share[a] * age_share[b] * age_share[c])
        for a, b in parents
        for c in young
        for sex in (MALE, FEMALE)
    ]
    grown = [
        [(c, sex), (d, other)]
        for c, d in itertools.combinations_with_replacement(young, 2)
        for sex, other in ((MALE, MALE), (MALE, FEMALE), (FEMALE, FEMALE), (FEMALE, MALE))
        if c != d or sex <= other
    ]
    rows += [
        (kind, [(a, MALE), (b, FEMALE), *two], float(np.prod(age_share[[a, b, *(c for c, _ in two)]])))
        for a, b in parents
        for two in grown
    ]
    rows += [
        (kind, [(parent, parent_sex), (c, sex)], age_share[parent] * age_share[c])
        for parent in (8, 9)
        for parent_sex in (FEMALE, MALE)
        for c in young
        for sex in (MALE, FEMALE)
    ]
    # An old parent is at least 15 years older than the grown-up child in every pair of years: 65-74 with 35-44.
    rows += [
        (kind, [(parent, parent_sex), (c, sex)], age_share[parent] * age_share[c])
        for parent in (10, 11, 12)
        for parent_sex in (FEMALE, MALE)
        for c in (7, 8)
        for sex in (MALE, FEMALE)
        if AGE_CLASSES[parent][0] - AGE_CLASSES[c][1] >= 15
    ]
    return rows


def build_prototypes(priors: Priors) -> Prototypes:
    """Enumerate the household prototypes and weight them by the priors.

    The seed of a prototype is its type's share of households times the product of its members' age-class
    shares (for singles: times the share living alone), times the share of families with that many children,
    normalised within each type; a couple whose partners are one class apart counts half.
    """
    age_share = np.array([priors.age_shares[n] for n in AGE_CLASS_NAMES])
    alone = np.array([priors.living_alone.get(n, 0.0) for n in AGE_CLASS_NAMES])
    rows = _adults(age_share, alone) + _families(age_share, priors.children_share) + _shared(age_share)

    household_type = np.array([r[0] for r in rows], dtype=np.int8)
    weight = np.array([r[2] for r in rows], dtype=np.float64)
    type_share = np.array([priors.type_shares[t] for t in HOUSEHOLD_TYPES])
    per_type = np.bincount(household_type, weights=weight, minlength=len(HOUSEHOLD_TYPES))
    seed = weight / per_type[household_type] * type_share[household_type]
    sizes = np.array([len(r[1]) for r in rows])
    members = [m for r in rows for m in r[1]]
    return Prototypes(
        household_type=household_type,
        offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        member_class=np.array([m[0] for m in members], dtype=np.int8),
        member_sex=np.array([m[1] for m in members], dtype=np.int8),
        seed=seed / seed.sum(),
    )


def neighbour_maps(protos: Prototypes, preference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each prototype, the most plausible prototype with one member more (grow) and one fewer (shrink).

    The integer refinement swaps a household for its grow or shrink neighbour to hit a person total exactly.
    A neighbour of the same household type is preferred (a third child rather than a lodger); among those,
    ``preference`` (e.g. the fitted weights summed over zones) decides. -1: no such prototype.
    """
    by_members: dict[tuple[tuple[int, int], ...], list[int]] = {}
    for p in range(len(protos)):
        by_members.setdefault(protos.key(p)[1], []).append(p)
    grow = np.full(len(protos), -1, dtype=np.int64)
    shrink = np.full(len(protos), -1, dtype=np.int64)
    grow_rank: list[tuple[bool, float]] = [(False, -np.inf)] * len(protos)
    shrink_rank: list[tuple[bool, float]] = [(False, -np.inf)] * len(protos)
    for q in range(len(protos)):
        kind, members = protos.key(q)
        for i in range(len(members)):
            for p in by_members.get(members[:i] + members[i + 1 :], []):
                same = int(protos.household_type[p]) == kind
                if (same, float(preference[q])) > grow_rank[p]:
                    grow_rank[p], grow[p] = (same, float(preference[q])), q
                if (same, float(preference[p])) > shrink_rank[q]:
                    shrink_rank[q], shrink[q] = (same, float(preference[p])), p
    return grow, shrink
