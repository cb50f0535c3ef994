"""The synthesis driver: statistics in, households and persons with personas and H3 cells out.

    zones and targets (controls) -> fit prototype weights (fit) -> whole households per zone (integerise)
    -> exact person totals (refine) -> members (members) -> personas -> slots and H3 (placement)

Seeded and reproducible: replicate ``r`` uses the generator seeded with ``(seed, r)``; the fitted weights are
shared by all replicates.

The draw (households, members, personas, places) runs in blocks of whole districts (of zones, without districts),
one task per replicate and block on the build's executor: what a district's households must add up to never
crosses a block. Blocks follow the data (:attr:`SynthesisSpec.block_households`), never the number of workers, and
block ``b > 0`` of replicate ``r`` draws from the generator seeded with ``(seed, r, b)``, so the population is the
same whichever executor drew it; a town of one block is drawn exactly as without blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from time import perf_counter

import numpy as np
import pyarrow as pa
from pyproj import CRS

from twin3d.executor import Executor, LocalExecutor
from twin3d.population.ages import AgeModel, national_profile
from twin3d.population.classes import HOUSEHOLD_TYPES
from twin3d.population.controls import AreaStats, Zones, age_profiles, build_constraints, build_zones
from twin3d.population.fit import (
    Constraint,
    FitLog,
    fit_weights,
    integerise,
    refine_controls,
    refine_persons,
    round_within,
)
from twin3d.population.members import Persons, expand_persons, household_traits
from twin3d.population.personas import PersonaCatalogue
from twin3d.population.placement import BuildingStock, PlacementRules, Slots, allocate, build_slots
from twin3d.population.priors import Priors
from twin3d.population.prototypes import Prototypes, build_prototypes, neighbour_maps

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SynthesisSpec:
    """How to synthesise: seed, replicates, the controls held out for validation, placement rules."""

    seed: int = 2023
    replicates: int = 1
    holdout: tuple[str, ...] = ()
    placement: PlacementRules = field(default_factory=PlacementRules)
    # Households per block of the draw (see the module docstring): a city of up to this many is one block.
    block_households: int = 250_000


@dataclass(frozen=True)
class PopulationInputs:
    """What a town knows: district tables and/or census grid, and buildings if it has them."""

    crs: CRS
    districts: AreaStats | None
    grid: AreaStats | None
    buildings: BuildingStock | None


@dataclass
class Replicate:
    """One synthetic population."""

    zone: np.ndarray
    proto: np.ndarray
    persona: np.ndarray
    slot: np.ndarray
    persons: Persons
    zones_off: int = 0  # zones whose person target no household swap could reach (reported, never hidden)


@dataclass
class Population:
    """The result: zones, fitted weights, slots and one or more replicates."""

    zones: Zones
    protos: Prototypes
    weights: np.ndarray
    slots: Slots
    replicates: list[Replicate]
    fit: FitLog
    lattice_zones: int
    timings: dict[str, float]
    blocks: int = 1  # blocks the households were drawn in (see the module docstring)

    @property
    def first(self) -> Replicate:
        """Replicate 0: the published one."""
        return self.replicates[0]


def synthesise(
    inputs: PopulationInputs,
    spec: SynthesisSpec,
    priors: Priors,
    personas: PersonaCatalogue,
    progress: Progress | None = None,
    *,
    executor: Executor | None = None,
) -> Population:
    """Synthesise households and persons that reproduce the inputs' statistics (the draw's blocks on
    ``executor``, default this process).

    Raises:
        ConfigError: a household matches no persona.
        ValueError: the inputs have neither district populations nor a grid.
    """
    say = progress or (lambda step: None)
    timings: dict[str, float] = {}
    clock = perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = perf_counter()
        timings[name] = now - clock
        clock = now

    say("zones and controls")
    holdout = frozenset(spec.holdout)
    protos = build_prototypes(priors)
    zones = build_zones(inputs.districts, inputs.grid, holdout)
    profile = national_profile(priors.persons.single_years)
    unit_of_zone, expected = age_profiles(zones, inputs.districts, holdout, profile)
    ages = AgeModel(unit_of_zone, expected, priors.persons.parents)
    constraints = build_constraints(zones, inputs.districts, protos, priors, set(holdout), expected=expected)
    mean_size = float((protos.seed * protos.size).sum())
    weights = protos.seed[None, :] * (zones.persons / mean_size)[:, None]
    lap("controls")
    say("fitting")
    log = fit_weights(weights, constraints)
    lap("fit")

    # A census cell may hold only children (the census perturbs small counts): no prototype fits it and the fit
    # zeroes its weights. Such zones keep the prior mix, so their persons are not lost.
    empty = (weights.sum(axis=1) <= 1e-9) & (zones.persons > 0)
    weights[empty] = protos.seed[None, :] * (zones.persons[empty] / mean_size)[:, None]
    households_per_zone = _household_totals(weights, zones, inputs.districts, set(holdout))
    # The integer refinement works on the coarsest level with statistics of the town's own: districts, else zones
    # (a census grid alone).
    nested = bool((zones.district >= 0).all())
    level = "district" if nested else "zone"
    unit_constraints = [c for c in constraints if c.level == level and c.name not in ("persons", "households")]
    grow, shrink = neighbour_maps(protos, weights.sum(axis=0))
    say("placing")
    slots, lattice_zones = build_slots(zones.geometry, zones.persons, inputs.buildings, spec.placement, inputs.crs)
    lap("slots")
    plan = _Plan(
        protos,
        zones,
        weights,
        households_per_zone,
        _movable_persons(zones, households_per_zone),
        zones.district if nested else np.arange(len(zones)),
        unit_constraints,
        grow,
        shrink,
        slots,
        priors.persons.male_share_children,
        ages,
    )
    blocks = _blocks(plan, spec.block_households)
    say(f"drawing {spec.replicates} replicate(s) in {len(blocks)} block(s)")
    tasks = [_BlockTask(r, b, zones_of) for r in range(spec.replicates) for b, zones_of in enumerate(blocks)]
    drawn = iter((executor or LocalExecutor()).map(_draw_block, _DrawContext(plan, personas, spec.seed), tasks))
    replicates = [_joined([next(drawn) for _ in blocks]) for _ in range(spec.replicates)]
    lap("households")
    return Population(zones, protos, weights, slots, replicates, log, lattice_zones, timings, len(blocks))


@dataclass(frozen=True)
class _Plan:
    """What every replicate shares: the fitted weights, the integer targets, the refinement and the slots."""

    protos: Prototypes
    zones: Zones
    weights: np.ndarray
    households: np.ndarray
    persons: np.ndarray
    refine_unit: np.ndarray
    unit_constraints: list[Constraint]
    grow: np.ndarray
    shrink: np.ndarray
    slots: Slots
    male_share_children: float
    ages: AgeModel

    def take(self, zones: np.ndarray) -> tuple[_Plan, np.ndarray]:
        """The plan for the (ascending) ``zones`` only, zones, slots and refine units numbered from 0, and the
        slots' numbers in the whole. Districts and age units keep their numbers."""
        z = self.zones
        in_block = np.isin(self.slots.zone, zones)
        s = self.slots
        slots = Slots(
            np.searchsorted(zones, s.zone[in_block]),
            s.x[in_block],
            s.y[in_block],
            s.weight[in_block],
            s.building[in_block],
            s.h3[in_block] if len(s.h3) else s.h3,
            s.lon[in_block] if len(s.lon) else s.lon,
            s.lat[in_block] if len(s.lat) else s.lat,
        )
        # Only the block's refine units, numbered from 0: the refinement's tables are units x prototypes.
        units, unit_in_block = np.unique(self.refine_unit[zones], return_inverse=True)
        return replace(
            self,
            zones=Zones(
                z.district[zones],
                z.cell[zones],
                z.geometry[zones],
                z.persons[zones],
                {name: target[zones] for name, target in z.targets.items()},
            ),
            weights=self.weights[zones],
            households=self.households[zones],
            persons=self.persons[zones],
            refine_unit=unit_in_block,
            unit_constraints=[replace(c, target=c.target[units]) for c in self.unit_constraints],
            slots=slots,
            ages=AgeModel(self.ages.unit_of_zone[zones], self.ages.expected, self.ages.parents),
        ), np.flatnonzero(in_block)


@dataclass(frozen=True)
class _DrawContext:
    """What every block task shares (sent to each worker once)."""

    plan: _Plan
    personas: PersonaCatalogue
    seed: int


@dataclass(frozen=True)
class _BlockTask:
    replicate: int
    block: int
    zones: np.ndarray  # ascending


def _blocks(plan: _Plan, block_households: int) -> list[np.ndarray]:
    """The zones of each block: consecutive refine units (districts, or zones) of about ``block_households``."""
    unit = plan.refine_unit
    per_unit = np.bincount(unit, weights=plan.households, minlength=int(unit.max()) + 1 if len(unit) else 0)
    start = np.cumsum(per_unit) - per_unit  # households before each unit
    _, block_of_unit = np.unique(start // max(block_households, 1), return_inverse=True)
    block_of_zone = block_of_unit[unit]
    return [np.flatnonzero(block_of_zone == b) for b in range(int(block_of_zone.max()) + 1 if len(unit) else 0)]


def _draw_block(ctx: _DrawContext, task: _BlockTask) -> Replicate:
    """One replicate's households of one block, zones and slots numbered as in the whole town."""
    seed = [ctx.seed, task.replicate] + ([task.block] if task.block else [])
    rng = np.random.default_rng(seed)
    if len(task.zones) == len(ctx.plan.zones):  # the whole town
        return _draw_replicate(ctx.plan, ctx.personas, rng)
    plan, slot_ids = ctx.plan.take(task.zones)
    rep = _draw_replicate(plan, ctx.personas, rng)
    return replace(rep, zone=task.zones[rep.zone], slot=slot_ids[rep.slot])


def _joined(reps: list[Replicate]) -> Replicate:
    """A replicate from its blocks, in block order (households numbered on, persons after them)."""
    if len(reps) == 1:
        return reps[0]
    offsets = np.cumsum([0] + [len(r.zone) for r in reps[:-1]])
    persons = Persons(
        np.concatenate([r.persons.household + o for r, o in zip(reps, offsets, strict=True)]),
        np.concatenate([r.persons.age for r in reps]),
        np.concatenate([r.persons.male for r in reps]),
        np.concatenate([r.persons.child for r in reps]),
    )
    return Replicate(
        np.concatenate([r.zone for r in reps]),
        np.concatenate([r.proto for r in reps]),
        np.concatenate([r.persona for r in reps]),
        np.concatenate([r.slot for r in reps]),
        persons,
        sum(r.zones_off for r in reps),
    )


def _draw_replicate(plan: _Plan, personas: PersonaCatalogue, rng: np.random.Generator) -> Replicate:
    protos, zones = plan.protos, plan.zones
    n_zones = len(zones)
    counts = integerise(plan.weights, plan.households, rng)
    zone = np.repeat(np.repeat(np.arange(n_zones), counts.shape[1]), counts.ravel())
    proto = np.tile(np.arange(counts.shape[1]), n_zones).repeat(counts.ravel())
    proto = refine_persons(zone, proto, protos.size, plan.persons, grow=plan.grow, shrink=plan.shrink, rng=rng)
    gap = plan.persons - np.bincount(zone, weights=protos.size[proto], minlength=n_zones).astype(np.int64)
    if gap.any() and (zones.district >= 0).all():
        # A zone whose households can neither grow nor shrink (old couples, say) hands its gap to the
        # district's largest zone, so that the district total stays exact.
        target = plan.persons - gap + _to_largest_zone(zones, plan.households, gap)
        proto = refine_persons(zone, proto, protos.size, target, grow=plan.grow, shrink=plan.shrink, rng=rng)
    if plan.unit_constraints:
        proto = refine_controls(plan.refine_unit[zone], proto, protos.size, plan.unit_constraints, rng)
    persons = expand_persons(
        protos,
        proto,
        zone,
        zones.targets["male"],
        male_share_children=plan.male_share_children,
        ages=plan.ages,
        rng=rng,
    )
    traits = household_traits(protos, proto, persons)
    persona = personas.classify(traits)
    # Sorted by the age groups the census counts, then size and persona, each kind of household spreads evenly
    # over the zone's slots (children under 15 first: they cluster in few households and vary most).
    n = len(proto)
    under_15 = np.bincount(persons.household, weights=persons.age < 15, minlength=n).astype(np.int64)
    over_64 = np.bincount(persons.household, weights=persons.age >= 65, minlength=n).astype(np.int64)
    make_up = ((under_15 * 4 + np.minimum(over_64, 3)) * 8 + traits.size) * 16 + persona
    slot = allocate(zone, make_up, plan.slots, n_zones=n_zones, rng=rng)
    final = np.bincount(zone, weights=protos.size[proto], minlength=n_zones).astype(np.int64)
    target = plan.persons if not (zones.district >= 0).all() else None
    zones_off = int((final != target).sum()) if target is not None else 0
    return Replicate(zone, proto, persona, slot, persons, zones_off)


def _household_totals(weights: np.ndarray, zones: Zones, districts: AreaStats | None, holdout: set[str]) -> np.ndarray:
    """Whole households per zone: the fitted sums, rounded so that each district's total is exact."""
    expected = weights.sum(axis=1)
    if districts is not None and "households" not in holdout and (zones.district >= 0).all():
        totals = districts.get("households")
        if np.isfinite(totals).all():
            return round_within(expected, zones.district, np.rint(totals).astype(np.int64))
    rounded: np.ndarray = np.rint(expected).astype(np.int64)
    return rounded


def _movable_persons(zones: Zones, households: np.ndarray) -> np.ndarray:
    """Zone person targets, with persons of zones that got no household moved to the district's largest zone.

    A sliver of a grid cell may be owed one person but round to no household; without districts, such a zone
    gets one household instead (``households`` is raised in place).
    """
    persons = zones.persons.copy()
    orphan = (households == 0) & (persons > 0)
    if not orphan.any():
        return persons
    if (zones.district < 0).any():
        households[orphan] = 1
        return persons
    moved = _to_largest_zone(zones, households, np.where(orphan, persons, 0))
    persons[orphan] = 0
    result: np.ndarray = persons + moved
    return result


def _to_largest_zone(zones: Zones, households: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Per zone, the sum of ``amount`` over its district if it is the district's zone with most households."""
    n_d = int(zones.district.max()) + 1
    order = np.lexsort((households, zones.district))
    largest = np.full(n_d, -1)
    largest[zones.district[order]] = order  # the last write per district is its zone with most households
    per_district = np.bincount(zones.district, weights=amount, minlength=n_d).astype(np.int64)
    out = np.zeros(len(zones), dtype=np.int64)
    out[largest[per_district != 0]] = per_district[per_district != 0]
    return out


# Rows of a store table made at a time: a Land's households and persons never exist as one Arrow table (their
# strings would be about 1 GB for Bavaria's 13 M residents), only the compact arrays of the draw.
BATCH_ROWS = 1_000_000


def household_batches(
    pop: Population, personas: PersonaCatalogue, inputs: PopulationInputs, rows: int = BATCH_ROWS
) -> Iterator[pa.Table]:
    """All replicates' households as the store's ``households`` table, ``rows`` at a time."""
    district_ids = inputs.districts.ids if inputs.districts is not None else None
    cell_ids = inputs.grid.ids if inputs.grid is not None else None
    building_ids = inputs.buildings.ids if inputs.buildings is not None else None
    persona_ids = np.array(personas.ids, dtype=object)
    household_types = np.array(HOUSEHOLD_TYPES, dtype=object)
    for r, rep in enumerate(pop.replicates):
        n = len(rep.zone)
        children_all = np.bincount(rep.persons.household, weights=rep.persons.child, minlength=n).astype(np.int64)
        for start in range(0, n, rows):
            at = slice(start, min(start + rows, n))
            proto, zone, slot, children = rep.proto[at], rep.zone[at], rep.slot[at], children_all[at]
            size = pop.protos.size[proto]
            yield pa.table(
                {
                    "replicate": pa.array(np.full(len(proto), r, np.int16)),
                    "household_id": pa.array(np.arange(at.start, at.stop, dtype=np.int64)),
                    "household_type": pa.array(household_types[pop.protos.household_type[proto]]),
                    "size": pa.array(size.astype(np.uint8)),
                    "adults": pa.array((size - children).astype(np.uint8)),
                    "children": pa.array(children.astype(np.uint8)),
                    "persona": pa.array(persona_ids[rep.persona[at]]),
                    "district_id": _take(district_ids, pop.zones.district[zone]),
                    "cell_id": _take(cell_ids, pop.zones.cell[zone]),
                    "building_id": _take(building_ids, pop.slots.building[slot]),
                    "lon": pa.array(pop.slots.lon[slot]),
                    "lat": pa.array(pop.slots.lat[slot]),
                    "h3_10": pa.array(pop.slots.h3[slot]),
                }
            )


def person_batches(pop: Population, rows: int = BATCH_ROWS) -> Iterator[pa.Table]:
    """All replicates' persons as the store's ``persons`` table, ``rows`` at a time."""
    for r, rep in enumerate(pop.replicates):
        p = rep.persons
        n = len(p.age)
        for start in range(0, n, rows):
            at = slice(start, min(start + rows, n))
            yield pa.table(
                {
                    "replicate": pa.array(np.full(at.stop - at.start, r, np.int16)),
                    "person_id": pa.array(np.arange(at.start, at.stop, dtype=np.int64)),
                    "household_id": pa.array(p.household[at].astype(np.int64)),
                    "age": pa.array(p.age[at]),
                    "sex": pa.array(np.where(p.male[at], "m", "f")),
                    "role": pa.array(np.where(p.child[at], "child", "adult")),
                }
            )


def _take(ids: np.ndarray | None, index: np.ndarray) -> pa.Array:
    if ids is None:
        return pa.nulls(len(index), pa.string())
    values = np.asarray(ids, dtype=object)[np.maximum(index, 0)]
    return pa.array(values, pa.string(), mask=index < 0)
