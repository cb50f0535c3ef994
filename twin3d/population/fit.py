"""Fitting prototype weights to statistics, and turning weights into whole households.

The fit is iterative proportional updating (Ye et al. 2009): weights per zone and prototype are scaled, one
control at a time, until every control (households of a type, persons of an age band, men, women) matches its
target in every zone, district or the whole twin. Controls of one kind are updated for all units at once, so
the Python loop runs over control kinds, never over zones, households or persons.

Integerisation draws whole households per zone ("truncate, replicate, sample"); the refinement pass then
swaps households for a neighbour with one member more or fewer until every zone's person total is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

REFINE_CHUNK = 64
# Below this share of prototypes a constraint scales their weights by index rather than by a masked pass.
SPARSE_ROWS = 0.2


@dataclass(frozen=True)
class Constraint:
    """One control kind over a set of units.

    Attributes:
        name: the control (e.g. ``age_25_34``).
        level: ``zone``, ``district`` or ``twin``: where its targets come from.
        coef: per prototype, how much one household adds to the control (members of the band, 1 for a type).
        unit_of_zone: per zone, the index of its unit, or -1 where the control has no target.
        target: per unit; NaN where unknown.
        strength: exponent on each update (1: hard; below 1: a soft control that yields where controls conflict,
            e.g. census-grid ages two years older than the register's district figures).
    """

    name: str
    level: str
    coef: np.ndarray
    unit_of_zone: np.ndarray
    target: np.ndarray
    strength: float = 1.0

    def current(self, weights: np.ndarray) -> np.ndarray:
        """The control's value per unit under ``weights`` (zones x prototypes)."""
        per_zone = weights @ self.coef
        inside = self.unit_of_zone >= 0
        return np.bincount(self.unit_of_zone[inside], weights=per_zone[inside], minlength=len(self.target))


@dataclass
class FitLog:
    """How the fit went: iterations and the worst remaining relative error per control."""

    iterations: int = 0
    worst_error: dict[str, float] = field(default_factory=dict)
    unfittable: dict[str, int] = field(default_factory=dict)


def fit_weights(
    weights: np.ndarray, constraints: list[Constraint], *, max_iterations: int = 300, tolerance: float = 1e-6
) -> FitLog:
    """Scale ``weights`` (zones x prototypes, modified in place) until all constraints hold.

    Stops when no control is off by more than ``tolerance`` relative to its target (at least one unit), or after
    ``max_iterations``. Targets that no prototype can reach (a target above zero where every eligible weight is
    zero) are left and counted in ``FitLog.unfittable``.
    """
    log = FitLog()
    # Prototype-major copy: a constraint scales some prototypes in every zone, and each prototype's weights are one
    # contiguous row here (a masked pass over the zones x prototypes matrix took 3 to 7 times as long).
    by_proto = np.ascontiguousarray(weights.T)
    rows = [_Rows.of(c.coef) for c in constraints]
    history: list[float] = []
    for iteration in range(1, max_iterations + 1):
        worst = 0.0
        for c, row in zip(constraints, rows, strict=True):
            per_zone = c.coef @ by_proto
            inside = c.unit_of_zone >= 0
            current = np.bincount(c.unit_of_zone[inside], weights=per_zone[inside], minlength=len(c.target))
            known = np.isfinite(c.target)
            reachable = known & (current > 0)
            factor = np.ones(len(c.target))
            factor[reachable] = (c.target[reachable] / current[reachable]) ** c.strength
            error = np.abs(current[known] - c.target[known]) / np.maximum(c.target[known], 1.0)
            worst = max(worst, float(error.max(initial=0.0)))
            if np.all(factor == 1.0):
                continue
            zone_factor = np.ones(weights.shape[0])
            zone_factor[inside] = factor[c.unit_of_zone[inside]]
            row.scale(by_proto, zone_factor)
        log.iterations = iteration
        history.append(worst)
        # Conflicting controls never reach the tolerance; stop once the worst error no longer improves.
        if worst < tolerance or (len(history) > 20 and history[-21] - worst < 1e-4 * max(worst, 1e-9)):
            break
    weights[...] = by_proto.T
    for c in constraints:
        current = c.current(weights)
        known = np.isfinite(c.target)
        log.worst_error[c.name] = float(
            (np.abs(current[known] - c.target[known]) / np.maximum(c.target[known], 1.0)).max(initial=0.0)
        )
        stuck = int((known & (current <= 0) & (c.target > 0)).sum())
        if stuck:
            log.unfittable[c.name] = stuck
    return log


@dataclass(frozen=True)
class _Rows:
    """The prototype rows a constraint scales, and the cheapest way to scale them in place.

    All rows: plainly. Few rows: by index (a copy out and back, in proportion to their number). The rest: a masked
    pass, which costs about the same whatever the mask.
    """

    index: np.ndarray | None
    mask: np.ndarray | None

    @staticmethod
    def of(coef: np.ndarray) -> _Rows:
        used = coef > 0
        if used.all():
            return _Rows(None, None)
        if used.mean() < SPARSE_ROWS:
            return _Rows(np.flatnonzero(used), None)
        return _Rows(None, used[:, None])

    def scale(self, by_proto: np.ndarray, zone_factor: np.ndarray) -> None:
        """Multiply the rows of ``by_proto`` (prototypes x zones) by the factor of each zone."""
        if self.index is not None:
            by_proto[self.index] *= zone_factor[None, :]
        elif self.mask is not None:
            np.multiply(by_proto, zone_factor[None, :], out=by_proto, where=self.mask)
        else:
            by_proto *= zone_factor[None, :]


def round_within(values: np.ndarray, group: np.ndarray, totals: np.ndarray | None = None) -> np.ndarray:
    """Round non-negative ``values`` to integers so that each group sums to its total (largest remainder).

    Args:
        values: expected counts.
        group: the group of each value (0..G-1).
        totals: the integer total per group; by default the rounded sum of the group's values.
    """
    n_groups = int(group.max(initial=-1)) + 1
    sums = np.bincount(group, weights=values, minlength=n_groups)
    if totals is None:
        totals = np.rint(sums).astype(np.int64)
    else:
        # Scale each group to its total first: the remainder to hand out is then between 0 and the group size.
        values = values * np.divide(totals, sums, out=np.ones(n_groups), where=sums > 0)[group]
    floors = np.floor(values).astype(np.int64)
    remainder = totals - np.bincount(group, weights=floors, minlength=n_groups).astype(np.int64)
    frac = values - floors
    order = np.lexsort((-frac, group))
    rank = np.empty(len(values), dtype=np.int64)
    starts = np.searchsorted(group[order], np.arange(n_groups))
    rank[order] = np.arange(len(values)) - starts[group[order]]
    result: np.ndarray = floors + (rank < remainder[group]).astype(np.int64)
    return result


def integerise(weights: np.ndarray, households: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Whole households per zone and prototype ("truncate, replicate, sample").

    Args:
        weights: fitted weights, zones x prototypes.
        households: the integer number of households each zone must get.
        rng: the seeded generator.

    Returns:
        counts (zones x prototypes, int64) whose rows sum to ``households``: the integer part of the scaled
        weights, plus the remainder drawn without replacement in proportion to the fractional parts.
    """
    total = weights.sum(axis=1)
    scale = np.divide(households, total, out=np.zeros(len(total)), where=total > 0)
    expected = weights * scale[:, None]
    counts = np.floor(expected).astype(np.int64)
    frac = expected - counts
    need = households - counts.sum(axis=1)
    # Weighted sampling without replacement (Efraimidis-Spirakis): the `need` largest keys u^(1/frac) win.
    with np.errstate(divide="ignore"):
        keys = np.where(frac > 0, np.log(rng.random(frac.shape)) / frac, -np.inf)
    ordered = -np.sort(-keys, axis=1)
    rows = np.flatnonzero(need > 0)
    threshold = np.full(len(need), np.inf)
    threshold[rows] = ordered[rows, np.minimum(need[rows], keys.shape[1]) - 1]
    counts += (keys >= threshold[:, None]) & np.isfinite(keys)
    result: np.ndarray = counts
    return result


def refine_persons(
    zone: np.ndarray,
    proto: np.ndarray,
    size: np.ndarray,
    target: np.ndarray,
    *,
    grow: np.ndarray,
    shrink: np.ndarray,
    rng: np.random.Generator,
    passes: int = 16,
) -> np.ndarray:
    """Swap households for a neighbour prototype until each zone's person total equals ``target``.

    Args:
        zone: zone of each household.
        proto: prototype of each household (a modified copy is returned).
        size: members per prototype.
        target: integer persons per zone.
        grow: per prototype, the prototype with one member more (-1: none); shrink likewise with one fewer.
        rng: the seeded generator.
        passes: each pass moves a zone by at most one person per household; more passes allow larger gaps.

    Returns:
        The new prototype per household. Zones that stay off (no household can grow or shrink) keep the gap.
    """
    proto = proto.copy()
    n_zones = len(target)
    gap = target - np.bincount(zone, weights=size[proto], minlength=n_zones).astype(np.int64)
    for _ in range(passes):
        # Only households of zones still off take part: after a pass or two that is a few hundred zones.
        idx = np.flatnonzero(gap[zone] != 0)
        if not len(idx):
            break
        z = zone[idx]
        direction = np.sign(gap)[z]
        neighbour = np.where(direction > 0, grow[proto[idx]], np.where(direction < 0, shrink[proto[idx]], -1))
        candidate = neighbour >= 0
        # A random order within each zone, candidates first: the first |gap| of them are swapped.
        order = np.lexsort((rng.random(len(idx)), ~candidate, z))
        ordered = z[order]
        rank = np.empty(len(idx), dtype=np.int64)
        rank[order] = np.arange(len(idx)) - np.searchsorted(ordered, ordered)
        swap = candidate & (rank < np.abs(gap)[z])
        if not swap.any():
            break
        changed = idx[swap]
        gap -= np.bincount(
            zone[changed], weights=size[neighbour[swap]] - size[proto[changed]], minlength=n_zones
        ).astype(np.int64)
        proto[changed] = neighbour[swap]
    return proto


def refine_controls(
    unit: np.ndarray,
    proto: np.ndarray,
    size: np.ndarray,
    constraints: list[Constraint],
    rng: np.random.Generator,
    *,
    max_rounds: int = 400,
) -> np.ndarray:
    """Swap households between prototypes of the same size to pull the integer counts onto the unit controls.

    Drawing whole households adds sampling noise of about the square root of each count. This pass removes
    most of it: per unit (district) it repeatedly applies the swap p -> q (same size, so person and household
    totals stay exact) that lowers the sum of squared residuals, each standardised by the control's mean
    target (the SRMSE the validation reports), by the best number of households at once. It works on the
    unit x prototype count table; households are reassigned once at the end.

    Args:
        unit: the unit (e.g. district) of each household; all constraints must be defined on these units.
        proto: prototype of each household.
        size: members per prototype.
        constraints: unit-level controls (their ``unit_of_zone`` is ignored; targets are per unit).
        rng: the seeded generator.
        max_rounds: upper bound on improving swaps per unit.

    Returns:
        The new prototype of each household.
    """
    if not constraints:
        return proto
    n_units, n_protos = int(unit.max()) + 1, len(size)
    targets = np.stack([np.nan_to_num(c.target) for c in constraints], axis=1)
    known = np.stack([np.isfinite(c.target) for c in constraints], axis=1)
    scale = np.maximum(np.nanmean(np.stack([c.target for c in constraints], axis=1), axis=0), 1.0)
    coef = np.stack([c.coef for c in constraints], axis=1) / scale
    norm = (coef**2).sum(axis=1)
    gram = coef @ coef.T
    # |coef[q] - coef[p]|^2 for every pair; only same-size pairs may swap.
    distance = norm[:, None] + norm[None, :] - 2 * gram
    start = np.bincount(unit * n_protos + proto, minlength=n_units * n_protos).reshape(n_units, n_protos)
    counts = start.copy()
    # Swaps stay within a household size, so each size is a separate, much smaller search.
    blocks = [np.flatnonzero(size == s) for s in np.unique(size)]
    block_distance = [np.where(d > 1e-12, d, np.inf) for d in (distance[np.ix_(b, b)] for b in blocks)]
    search = _SwapSearch(targets, known, scale, coef, distance, blocks, block_distance)
    active = np.arange(n_units)
    for _ in range(max_rounds):
        still: list[np.ndarray] = []
        # Units that found no improving swap drop out; the rest go in chunks that keep the gain table small.
        for chunk in np.array_split(active, max(1, len(active) // REFINE_CHUNK)):
            moved = _best_swaps(search, chunk, counts)
            still.append(chunk[moved])
        active = np.concatenate(still) if still else active[:0]
        if not len(active):
            break
    return _reassign(unit, proto, start, counts, size, rng=rng)


@dataclass(frozen=True)
class _SwapSearch:
    """The fixed parts of the swap search: standardised targets and coefficients, pair distances, size blocks."""

    targets: np.ndarray
    known: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    distance: np.ndarray
    blocks: list[np.ndarray]
    block_distance: list[np.ndarray]  # per size block, |coef[q] - coef[p]|^2, inf where the swap changes nothing


def _best_swaps(search: _SwapSearch, units: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Apply each unit's best swap (by the best number of households) to ``counts``; True where one improved."""
    n = len(units)
    rows = np.arange(n)
    c = counts[units]
    coef, distance = search.coef, search.distance
    residual = np.where(search.known[units], search.targets[units] / search.scale - c @ coef, 0.0)
    a = residual @ coef.T
    best_gain = np.full(n, 1e-9)
    best_p = np.zeros(n, dtype=np.int64)
    best_q = np.zeros(n, dtype=np.int64)
    for block, d in zip(search.blocks, search.block_distance, strict=True):
        ab = a[:, block]
        # In place, the exclusions folded into the terms: a prototype p the unit has no household of has a_p = inf,
        # a pair that changes nothing has d = inf, so either gain is -inf (the gain table is the refinement's
        # largest array; masking it afterwards took three times as long).
        held = np.where(c[:, block] > 0, ab, np.inf)
        gain = np.subtract(ab[:, None, :], held[:, :, None])
        gain *= 2
        gain -= d
        gain = gain.reshape(n, -1)
        flat = gain.argmax(axis=1)
        g = gain[rows, flat]
        better = g > best_gain
        best_gain[better] = g[better]
        best_p[better] = block[flat[better] // len(block)]
        best_q[better] = block[flat[better] % len(block)]
    improved = best_gain > 1e-9
    p, q = best_p[improved], best_q[improved]
    r = rows[improved]
    steps = np.floor((a[r, q] - a[r, p]) / np.maximum(distance[p, q], 1e-12))
    k = np.clip(steps, 1, c[r, p]).astype(np.int64)
    counts[units[improved], p] -= k
    counts[units[improved], q] += k
    result: np.ndarray = improved
    return result


def _reassign(
    unit: np.ndarray,
    proto: np.ndarray,
    start: np.ndarray,
    counts: np.ndarray,
    size: np.ndarray,
    *,
    rng: np.random.Generator,
) -> np.ndarray:
    """Give households of prototypes that lost count the prototypes that gained, within unit and size."""
    n_protos = counts.shape[1]
    change = counts - start
    cell = unit * n_protos + proto
    # Random households of each shrinking (unit, prototype), as many as it lost.
    order = np.lexsort((rng.random(len(proto)), cell))
    ordered = cell[order]
    rank = np.arange(len(order)) - np.searchsorted(ordered, ordered)
    lost = np.maximum(-change, 0).ravel()
    leaving = order[rank < lost[ordered]]
    gained_cells = np.repeat(np.arange(change.size), np.maximum(change, 0).ravel())
    # Pair leavers and newcomers by (unit, size): both lists are sorted the same way and have equal lengths.
    leave_key = unit[leaving] * 64 + size[proto[leaving]]
    leaving = leaving[np.argsort(leave_key, kind="stable")]
    new_proto = gained_cells % n_protos
    new_key = (gained_cells // n_protos) * 64 + size[new_proto]
    new_proto = new_proto[np.argsort(new_key, kind="stable")]
    out = proto.copy()
    out[leaving] = new_proto
    return out
