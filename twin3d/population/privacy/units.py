"""Published units: the population as the simulation, the exposure and every scenario figure may see it.

A unit is a published atom (at least ``min_persons`` persons and ``min_households`` households) with its noised,
suppressed counts per persona, or a scenario's new housing (expected values from published pools, no microdata).
Where a unit lives is described by public geometry only: its home points (building centres or the placement
lattice) weighted by their residential floor area, the same public capacity the synthesis placed households by.
No count below a unit ever leaves this module, so every figure computed from units is a function of published
atom values and public data, whatever a scenario asks:

- an area measure (a hazard, a demolition) acts on a unit as a whole when at least half of the unit's public
  weight lies in the area (:meth:`PublishedUnits.affected`), else not at all;
- an area figure is withheld when the public estimate of the persons or households in the area (published unit
  values times the share of each unit's public weight inside it) is below the thresholds
  (:meth:`PublishedUnits.too_small`): a question about one building gets no number;
- households of a persona the gate suppressed in a unit are not lost: the unit's published total less its shown
  personas is spread by the town's mix of all suppressed households (one fixed, town-wide figure per persona), so
  persona totals stay unbiased while no unit shows a small group;
- ages come from per-persona profiles over the whole town (mean persons per household by age and sex; a persona
  too small for a profile of its own gets the town's), times the unit's households of that persona.

Example:
    >>> units = publish_units(microdata, ["family", "senior"], key=secret)  # doctest: +SKIP
    >>> exposed = units.affected(units.share_of(inside_flood_zone))  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from twin3d.population.privacy.atoms import DEFAULT_RULES, PrivacyRules, by_atom, row_cells
from twin3d.population.privacy.publish import publish_atoms

PROFILE_AGES = 101
"""Ages 0 to 100 in the profiles, the last an open class (as the cohort projection keeps them)."""
MAJORITY = 0.5
"""A unit is affected by an area measure when at least this share of its public weight lies in the area."""


@dataclass(frozen=True)
class Microdata:
    """One replicate's households and persons, as read by :func:`.microdata.read_microdata`: for the gate only.

    Attributes:
        h3_10, persona, size: per household: res-10 cell, persona index, persons.
        x, y: per household: home position in the twin's CRS.
        building: per household: its building id, or "" where it lives on the placement lattice.
        weight: per household: the public capacity of its home (its building's residential floor area in m², or
            the area of a lattice point); households of one building share the value.
        person_household, person_age, person_male: per person: household index, age in years, sex.
    """

    h3_10: np.ndarray
    persona: np.ndarray
    size: np.ndarray
    x: np.ndarray
    y: np.ndarray
    building: np.ndarray
    weight: np.ndarray
    person_household: np.ndarray
    person_age: np.ndarray
    person_male: np.ndarray


@dataclass(frozen=True)
class PublishedUnits:
    """Published units with their public geometry; see the module docstring.

    Attributes:
        ids: uint64 (units,): the H3 cell naming each unit.
        group_names: persona ids; column 1 + g of the count arrays is persona g, column 0 everyone.
        persons, households: float (units, 1 + groups): published values, 0 where not shown.
        shown: bool (units, 1 + groups).
        added: bool (units,): a scenario's new housing.
        residual_households, residual_persons: float (groups,): the town's mix (shares summing to 1) of the
            households and persons the gate suppressed, by persona: how a unit's unshown rest is spread.
        profiles: float (groups, PROFILE_AGES, 2): mean persons per household by age and sex (female, male).
        point_x, point_y: float (points,): public home points in the twin's CRS.
        member_unit, member_point, member_weight: (memberships,): which unit has homes at which point, and the
            public weight of those homes.
        building_ids, building_member, building_weight: (buildings,): each residential building, the membership
            that holds it and its floor area.
    """

    ids: np.ndarray
    group_names: tuple[str, ...]
    persons: np.ndarray
    households: np.ndarray
    shown: np.ndarray
    added: np.ndarray
    residual_households: np.ndarray
    residual_persons: np.ndarray
    profiles: np.ndarray
    point_x: np.ndarray
    point_y: np.ndarray
    member_unit: np.ndarray
    member_point: np.ndarray
    member_weight: np.ndarray
    building_ids: np.ndarray
    building_member: np.ndarray
    building_weight: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def unit_weight(self) -> np.ndarray:
        """float (units,): the public weight of each unit's homes."""
        return np.bincount(self.member_unit, weights=self.member_weight, minlength=len(self))

    def share_of(self, point_inside: np.ndarray) -> np.ndarray:
        """float (units,): the share of each unit's public weight at the points marked (one per point: True, or the
        part of the point's homes, 0 to 1)."""
        inside = np.asarray(point_inside, np.float64)[self.member_point]
        return self._share(self.member_unit, self.member_weight * inside)

    def building_share(self, building_ids: Sequence[str]) -> np.ndarray:
        """float (units,): the share of each unit's public weight in the buildings named."""
        return self.share_of_buildings(np.isin(self.building_ids, np.asarray(list(building_ids), dtype=object)))

    def share_of_buildings(self, part: np.ndarray) -> np.ndarray:
        """float (units,): the share of each unit's public weight in the buildings marked (one entry per entry of
        :attr:`building_ids`: True, or the part of the building's homes, 0 to 1)."""
        part = np.asarray(part, np.float64)
        return self._share(self.member_unit[self.building_member], self.building_weight * part)

    def _share(self, unit: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """float (units,): the weight given per unit (``unit``, ``weight``: one pair each) over its whole weight."""
        part = np.bincount(unit, weights=weight, minlength=len(self))
        total = self.unit_weight
        share: np.ndarray = np.divide(part, total, out=np.zeros(len(self)), where=total > 0)
        return share

    @staticmethod
    def affected(share: np.ndarray) -> np.ndarray:
        """bool (units,): the units an area measure acts on, as a whole (at least half their weight inside)."""
        return np.asarray(share) >= MAJORITY

    def too_small(self, share: np.ndarray, rules: PrivacyRules) -> bool:
        """Whether an area is too small to report on: the public estimate of its persons or households (published
        unit values times the share of each unit inside) is below the thresholds. Only public data decide."""
        persons = float(np.dot(share, self.persons[:, 0]))
        households = float(np.dot(share, self.households[:, 0]))
        return persons < rules.min_persons or households < rules.min_households

    def persona_counts(self, rules: PrivacyRules) -> list[dict[str, Any]]:
        """Households and persons per persona summed over these units (shown counts plus each unit's rest by the
        town's suppressed mix), rounded; a persona below ``rules.min_group`` households is left out. Every figure is
        a sum of published values: what domain code may publish about a set of units."""
        households = self.group_households().sum(axis=0)
        persons = self.group_persons().sum(axis=0)
        return [
            {"persona": pid, "households": round(float(households[i])), "persons": round(float(persons[i]))}
            for i, pid in enumerate(self.group_names)
            if households[i] >= rules.min_group
        ]

    def estimate(self, share: np.ndarray, rules: PrivacyRules) -> dict[str, Any] | None:
        """The households and persons (all, and per persona) that ``share`` of each unit's public weight holds: the
        published values times the share, as :meth:`too_small` estimates them; None when that part is too small to
        report on. For conditions that hold building by building (sun at a façade, a noise band, a view): a
        one-building condition must not reveal its households, and every figure stays a function of published
        values and public geometry. Personas below ``rules.min_group`` households are left out."""
        share = np.asarray(share, np.float64)
        if self.too_small(share, rules):
            return None
        households = share @ self.group_households()
        persons = share @ self.group_persons()
        return {
            "households": round(float(share @ self.households[:, 0])),
            "persons": round(float(share @ self.persons[:, 0])),
            "by_persona": [
                {"persona": pid, "households": round(float(households[i])), "persons": round(float(persons[i]))}
                for i, pid in enumerate(self.group_names)
                if households[i] >= rules.min_group
            ],
        }

    def rows(self, resolution: int) -> np.ndarray:
        """uint64 (units,): the published row each unit counts in at ``resolution`` (see :class:`.atoms.Units`)."""
        return row_cells(self.ids, resolution)

    def group_households(self) -> np.ndarray:
        """float (units, groups): households per persona: the shown ones plus the unit's rest spread by the
        town's suppressed mix."""
        return _spread(self.households, self.shown, self.residual_households)

    def group_persons(self) -> np.ndarray:
        """float (units, groups): persons per persona, as :meth:`group_households`."""
        return _spread(self.persons, self.shown, self.residual_persons)

    def demand(self, ages: tuple[int, int]) -> np.ndarray:
        """float (units,): the expected persons aged ``ages[0]`` to ``ages[1]`` (inclusive) in each unit."""
        lo, hi = ages
        per_household = self.profiles[:, lo : min(hi, PROFILE_AGES - 1) + 1, :].sum(axis=(1, 2))
        return np.asarray(self.group_households() @ per_household)

    def pyramid(self) -> np.ndarray:
        """float (PROFILE_AGES, 2): the expected persons by age and sex of all units."""
        return np.asarray(np.tensordot(self.group_households().sum(axis=0), self.profiles, axes=1))

    def select(self, keep: np.ndarray) -> PublishedUnits:
        """The units marked in ``keep`` (bool, one per unit), with their memberships and buildings."""
        keep = np.asarray(keep, bool)
        new_index = np.cumsum(keep) - 1
        member_keep = keep[self.member_unit]
        member_index = np.cumsum(member_keep) - 1
        building_keep = member_keep[self.building_member]
        return replace(
            self,
            ids=self.ids[keep],
            persons=self.persons[keep],
            households=self.households[keep],
            shown=self.shown[keep],
            added=self.added[keep],
            member_unit=new_index[self.member_unit[member_keep]],
            member_point=self.member_point[member_keep],
            member_weight=self.member_weight[member_keep],
            building_ids=self.building_ids[building_keep],
            building_member=member_index[self.building_member[building_keep]],
            building_weight=self.building_weight[building_keep],
        )

    def with_new_housing(
        self,
        pool: np.ndarray,
        households: float,
        x: np.ndarray,
        y: np.ndarray,
        cells: np.ndarray,
        *,
        weights: np.ndarray | None = None,
    ) -> PublishedUnits:
        """These units plus new housing: ``households`` spread over the points (x, y; one res-10 ``cells`` id each)
        evenly or by ``weights``, one unit per cell, occupied like the published units marked in ``pool``.

        The new households are expected values from the pool's published totals: their persona mix, persons per
        household and ages; nothing is drawn from the microdata.
        """
        if not len(x) or households <= 0:
            return self
        pool = np.asarray(pool, bool)
        if not pool.any():
            pool = np.ones(len(self), bool)
        pool_h = self.group_households()[pool].sum(axis=0)
        pool_p = self.group_persons()[pool].sum(axis=0)
        mix = pool_h / pool_h.sum() if pool_h.sum() > 0 else self.residual_households
        per_household = np.divide(pool_p, pool_h, out=np.zeros_like(pool_p), where=pool_h > 0)
        new_cells, point_unit = np.unique(np.asarray(cells, np.uint64), return_inverse=True)
        point_unit = point_unit.reshape(-1)
        share = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64)
        unit_h = households * np.bincount(point_unit, weights=share, minlength=len(new_cells)) / share.sum()
        group_h = unit_h[:, None] * mix[None, :]
        group_p = group_h * per_household[None, :]
        counts_h = np.column_stack([group_h.sum(axis=1), group_h])
        counts_p = np.column_stack([group_p.sum(axis=1), group_p])
        shown = np.column_stack([np.ones(len(new_cells), bool), group_h > 0])
        n_points = len(self.point_x)
        return replace(
            self,
            ids=np.concatenate([self.ids, new_cells]),
            persons=np.vstack([self.persons, counts_p]),
            households=np.vstack([self.households, counts_h]),
            shown=np.vstack([self.shown, shown]),
            added=np.concatenate([self.added, np.ones(len(new_cells), bool)]),
            point_x=np.concatenate([self.point_x, x]),
            point_y=np.concatenate([self.point_y, y]),
            member_unit=np.concatenate([self.member_unit, len(self) + point_unit]),
            member_point=np.concatenate([self.member_point, n_points + np.arange(len(x))]),
            member_weight=np.concatenate([self.member_weight, share]),
        )


def _spread(counts: np.ndarray, shown: np.ndarray, mix: np.ndarray) -> np.ndarray:
    """float (units, groups): the shown persona counts plus each unit's unshown rest spread by ``mix``."""
    groups = np.where(shown[:, 1:], counts[:, 1:], 0.0)
    rest = np.maximum(counts[:, 0] - groups.sum(axis=1), 0.0)
    return np.asarray(groups + rest[:, None] * mix[None, :])


def _profiles(micro: Microdata, n_groups: int, rules: PrivacyRules) -> np.ndarray:
    """Mean persons per household by age and sex of each persona where it has at least the thresholds' persons and
    households town-wide, else the town's."""
    group = np.asarray(micro.persona, np.int64)
    households = np.bincount(group, minlength=n_groups).astype(np.float64)
    persons = np.bincount(group, weights=micro.size, minlength=n_groups)
    age = np.minimum(np.asarray(micro.person_age, np.int64), PROFILE_AGES - 1)
    cell = (group[micro.person_household] * PROFILE_AGES + age) * 2 + np.asarray(micro.person_male, np.int64)
    counts = np.bincount(cell, minlength=n_groups * PROFILE_AGES * 2).reshape(n_groups, PROFILE_AGES, 2)
    town = counts.sum(axis=0) / max(len(group), 1)
    own = (households >= rules.min_households) & (persons >= rules.min_persons)
    per_group = np.where(own[:, None, None], counts / np.maximum(households, 1)[:, None, None], town[None, :, :])
    return np.asarray(per_group)


def _mix(values: np.ndarray) -> np.ndarray:
    total = values.sum()
    return values / total if total > 0 else np.full(len(values), 1.0 / max(len(values), 1))


def publish_units(
    micro: Microdata, group_names: Sequence[str], *, key: bytes, rules: PrivacyRules = DEFAULT_RULES
) -> PublishedUnits:
    """The published units of a population (the gate's atoms with their published values and public geometry).

    Raises:
        InputError, ConfigError: as :func:`.publish.publish_atoms`.
    """
    units, counts = publish_atoms(micro.h3_10, micro.persona, micro.size, group_names, key=key, rules=rules)
    n_groups = len(group_names)
    # The town-wide mix of what the gate suppressed: one fixed figure per persona (the persona totals themselves
    # are public in the validation report), never a figure of one unit.
    hidden = ~counts.shown[:, 1:]
    group = np.asarray(micro.persona, np.int64)
    suppressed_h = (by_atom(units, group, n_groups, None)[:, 1:] * hidden).sum(axis=0).astype(np.float64)
    suppressed_p = (by_atom(units, group, n_groups, micro.size)[:, 1:] * hidden).sum(axis=0).astype(np.float64)
    inside = units.atom >= 0
    xy = np.round(np.column_stack([micro.x, micro.y])[inside] * 100).astype(np.int64)
    points, point_of = np.unique(xy, axis=0, return_inverse=True)
    point_of = point_of.reshape(-1)
    building = np.asarray(micro.building, dtype=object)[inside].astype(str)
    names, building_code = np.unique(building, return_inverse=True)
    # One row per (unit, point, building): a building's weight counts once however many households it holds.
    triple = np.column_stack([units.atom[inside], point_of, building_code.reshape(-1)])
    distinct, first = np.unique(triple, axis=0, return_index=True)
    weight = np.asarray(micro.weight, np.float64)[inside][first]
    pairs, member_of = np.unique(distinct[:, :2], axis=0, return_inverse=True)
    member_of = member_of.reshape(-1)
    has_building = names[distinct[:, 2]] != ""
    return PublishedUnits(
        ids=counts.ids,
        group_names=counts.group_names,
        persons=counts.persons.astype(np.float64),
        households=counts.households.astype(np.float64),
        shown=counts.shown,
        added=np.zeros(len(counts.ids), bool),
        residual_households=_mix(suppressed_h),
        residual_persons=_mix(suppressed_p),
        profiles=_profiles(micro, n_groups, rules),
        point_x=points[:, 0] / 100.0,
        point_y=points[:, 1] / 100.0,
        member_unit=pairs[:, 0],
        member_point=pairs[:, 1],
        member_weight=np.bincount(member_of, weights=weight, minlength=len(pairs)),
        building_ids=names[distinct[has_building, 2]].astype(object),
        building_member=member_of[has_building],
        building_weight=weight[has_building],
    )
