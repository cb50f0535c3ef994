"""Households become persons: a single year of age within each member's class, and a sex for every child.

Years come from ``ages`` (quota per district and class, parents at least 15 years older than their eldest
child). Children's sex is chosen per zone so that the zone's count of men and boys meets its target as closely as
whole persons allow; where a zone has no sex target (none published, or held out), each child is a boy with the
prior's share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin3d.population.ages import AgeModel, assign_ages
from twin3d.population.classes import CHILD, FEMALE, MALE
from twin3d.population.prototypes import Prototypes

NO_CHILD = 255


@dataclass(frozen=True)
class Persons:
    """Members of all households, ordered by household.

    Attributes:
        household: index of each person's household.
        age: age in whole years.
        male: True for men and boys.
        child: True for persons under 18 living with a parent.
    """

    household: np.ndarray
    age: np.ndarray
    male: np.ndarray
    child: np.ndarray


@dataclass(frozen=True)
class HouseholdTraits:
    """What persona rules can ask about a household."""

    household_type: np.ndarray
    size: np.ndarray
    adults: np.ndarray
    children: np.ndarray
    youngest_child_age: np.ndarray
    oldest_age: np.ndarray
    youngest_adult_age: np.ndarray

    def get(self, name: str) -> np.ndarray:
        """One trait by name (raises AttributeError for unknown names)."""
        value: np.ndarray = getattr(self, name)
        return value


def expand_persons(
    protos: Prototypes,
    proto: np.ndarray,
    zone: np.ndarray,
    male_target: np.ndarray,
    *,
    male_share_children: float,
    ages: AgeModel,
    rng: np.random.Generator,
) -> Persons:
    """The members of each household.

    Args:
        protos: the prototypes.
        proto: prototype of each household.
        zone: zone of each household.
        male_target: men and boys per zone (NaN: no target).
        male_share_children: share of boys where a zone has no target.
        ages: the expected persons per unit and year, and the parents' ages at birth.
        rng: the seeded generator.
    """
    size = protos.size[proto]
    household = np.repeat(np.arange(len(proto)), size)
    first = np.cumsum(size) - size
    member = np.repeat(protos.offsets[:-1][proto], size) + (np.arange(len(household)) - np.repeat(first, size))
    klass = protos.member_class[member].astype(np.int64)
    sex = protos.member_sex[member]
    child = sex == CHILD
    male = sex == MALE
    person_zone = zone[household]
    age = assign_ages(
        klass,
        child,
        sex == FEMALE,
        household_start=first,
        unit=ages.unit_of_zone[person_zone],
        expected=ages.expected,
        parents=ages.parents,
        rng=rng,
    )

    n_zones = len(male_target)
    adult_men = np.bincount(person_zone, weights=male, minlength=n_zones)
    kids = np.bincount(person_zone, weights=child, minlength=n_zones).astype(np.int64)
    boys = np.where(
        np.isfinite(male_target),
        np.clip(np.rint(np.nan_to_num(male_target) - adult_men), 0, kids),
        rng.binomial(kids, male_share_children),
    ).astype(np.int64)
    # A random order of each zone's children; the first `boys` of them are boys.
    idx = np.flatnonzero(child)
    order = idx[np.lexsort((rng.random(len(idx)), person_zone[idx]))]
    ordered_zone = person_zone[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered_zone, ordered_zone)
    male[order] = rank < boys[ordered_zone]
    return Persons(household, age.astype(np.uint8), male, child)


def household_traits(protos: Prototypes, proto: np.ndarray, persons: Persons) -> HouseholdTraits:
    """Sizes, counts and age extremes per household, computed over the person table without loops."""
    n = len(proto)
    size = protos.size[proto]
    starts = np.concatenate([[0], np.cumsum(size)[:-1]])
    age = persons.age.astype(np.int64)
    children = np.bincount(persons.household, weights=persons.child, minlength=n).astype(np.int64)
    child_age = np.where(persons.child, age, NO_CHILD)
    adult_age = np.where(persons.child, NO_CHILD, age)
    return HouseholdTraits(
        household_type=protos.household_type[proto],
        size=size,
        adults=size - children,
        children=children,
        youngest_child_age=np.minimum.reduceat(child_age, starts),
        oldest_age=np.maximum.reduceat(age, starts),
        youngest_adult_age=np.minimum.reduceat(adult_age, starts),
    )
