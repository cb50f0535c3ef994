"""The propagation half of the noise model (:mod:`twin3d.simulation.noise`): receivers, road pieces and what the
way between them takes off (RLS-19 / ISO 9613-2, simplified; ``docs/noise.md``).

Receivers and road pieces are paired in a few passes: roads are grouped by their cut-off, each group's roads are
cut into pieces of an eighth of its cut-off, and a KD-tree (scipy ``cKDTree``) pairs every receiver with the pieces
near enough. Pairs whose piece is longer than half its distance to the receiver (RLS-19's rule of thumb for a
point source standing in for a piece of line) are halved, again and again, all at once with numpy. Each final pair
is a point source at the middle of its piece, 0.5 m above the road; its attenuation is numpy over the pairs, and
screening looks along every pair's path at once (:meth:`~twin3d.simulation.surface.Surface.samples_along`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from twin3d.simulation.sun import facade_samples
from twin3d.simulation.surface import Obstacles, Surface

SOURCE_HEIGHT_M = 0.5
"""RLS-19's source lines lie 0.5 m above the road."""
RECEIVER_HEIGHT_M = 4.0
"""EU END: levels at 4 m above the ground."""
MEAN_HEIGHT_M = (SOURCE_HEIGHT_M + RECEIVER_HEIGHT_M) / 2
"""h_m of the ground attenuation: the path's mean height above the ground (flat between source and receiver)."""
FACADE_SPACING_M = 10.0
"""About this far between two receivers along a wall (noise changes slowly along a wall; the sun needs 3 m)."""
MIN_PIECE_M = 1.0
"""Road pieces are not cut shorter than this, however close the receiver."""
MAX_DIFFRACTION_DB = 20.0
"""RLS-19 caps single diffraction at 20 dB."""
PIECES_PER_CUTOFF = 8
"""A group's roads are first cut into pieces of its cut-off over this (then halved where they are too long)."""
CUTOFF_GROUPS_M = tuple(25.0 * 2.0 ** (k / 2) for k in range(14))
"""Roads are paired in groups by cut-off, each group's up to 1.41 times the last's (one KD-tree query each)."""
EDGE_M = 20.0
"""Screening looks at every cell of a path's first and last metres (where an obstacle screens most)..."""
MIDDLE_LOOKS = 24
"""... and about this many times along the rest (at least every 2 m, at most every 16 m): on a long path a building
in the middle has to rise far above the line of sight to screen, and may be stepped over if narrow."""


@dataclass(frozen=True)
class Receivers:
    """Where levels are computed, 4 m above their ground.

    Attributes:
        x, y: float64 (n,), the twin's CRS.
        z: float64 (n,), metres above NHN.
        nx, ny: float64 (n,), the outward normal of a façade receiver's wall; 0 for a point that hears all around.
        owner: int64 (n,), the obstacle a receiver stands at (its own building screens nothing), -1 for none.
        group: int64 (n,), the building (position in the index asked for) or point each receiver belongs to.
    """

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    nx: np.ndarray
    ny: np.ndarray
    owner: np.ndarray
    group: np.ndarray

    @classmethod
    def points(cls, x: np.ndarray, y: np.ndarray, ground: np.ndarray, owner: np.ndarray) -> Receivers:
        """Points that hear from every side, 4 m above ``ground``, each its own group."""
        n = len(x)
        zero = np.zeros(n)
        return cls(x, y, ground + RECEIVER_HEIGHT_M, zero, zero, np.asarray(owner, np.int64), np.arange(n))


def facade_receivers(obstacles: Obstacles, index: np.ndarray) -> Receivers:
    """Receivers on the walls of the buildings ``index``: the façade samples of the sun analysis
    (:func:`~twin3d.simulation.sun.facade_samples`: in front of every wall, courtyards included, none inside another
    building), every :data:`FACADE_SPACING_M` along a wall and 4 m above the building's ground."""
    index = np.asarray(index, np.int64)
    samples = facade_samples(obstacles, index, spacing_m=FACADE_SPACING_M)
    position = np.full(len(obstacles), -1, np.int64)
    position[index] = np.arange(len(index))
    return Receivers(
        samples.x,
        samples.y,
        obstacles.base_m[samples.building] + RECEIVER_HEIGHT_M,
        samples.nx,
        samples.ny,
        samples.building,
        position[samples.building],
    )


@dataclass(frozen=True)
class _Lines:
    """The roads' lines for lookups by chainage: every vertex with its distance along its line, all lines in one
    increasing key (line offset + chainage), so that one ``searchsorted`` finds the points of many lines at once."""

    coords: np.ndarray
    key: np.ndarray
    first: np.ndarray
    last: np.ndarray
    offset: np.ndarray
    length: np.ndarray

    @classmethod
    def of(cls, lines: np.ndarray) -> _Lines:
        coords, line = shapely.get_coordinates(lines, return_index=True)
        step = np.hypot(*np.diff(coords, axis=0).T)
        step[line[1:] != line[:-1]] = 0.0  # no length between the end of one line and the start of the next
        chainage = np.r_[0.0, np.cumsum(step)]
        first = np.searchsorted(line, np.arange(len(lines)))
        last = np.searchsorted(line, np.arange(len(lines)), side="right") - 1
        empty = last < first
        start = chainage[np.minimum(first, len(chainage) - 1)] if len(chainage) else np.zeros(len(lines))
        length = np.where(empty, 0.0, chainage[np.maximum(last, 0)] - start) if len(chainage) else start
        # One metre between lines keeps the key increasing from one line to the next.
        offset = np.cumsum(np.r_[0.0, length[:-1] + 1.0]) if len(lines) else np.zeros(0)
        key = chainage - start[line] + offset[line] if len(chainage) else chainage
        return cls(coords, key, first, last, offset, length)

    def point(self, road: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The points at chainage ``t`` (metres from the start) along the lines ``road``."""
        at = np.searchsorted(self.key, self.offset[road] + t, side="right") - 1
        at = np.clip(at, self.first[road], np.maximum(self.last[road] - 1, self.first[road]))
        nxt = np.minimum(at + 1, self.last[road])
        span = self.key[nxt] - self.key[at]
        w = np.clip((self.offset[road] + t - self.key[at]) / np.where(span > 0, span, 1.0), 0.0, 1.0)
        xy = self.coords[at] + (self.coords[nxt] - self.coords[at]) * w[:, None]
        return xy[:, 0], xy[:, 1]


@dataclass(frozen=True)
class _Pairs:
    """Receiver-piece pairs: the receiver, the road, and the piece as chainages (t0, t1) along the road."""

    receiver: np.ndarray
    road: np.ndarray
    t0: np.ndarray
    t1: np.ndarray

    def take(self, mask: np.ndarray) -> _Pairs:
        return _Pairs(self.receiver[mask], self.road[mask], self.t0[mask], self.t1[mask])

    @classmethod
    def join(cls, parts: list[_Pairs]) -> _Pairs:
        if not parts:
            return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("receiver", "road", "t0", "t1")))


def _split(pairs: _Pairs, lines: _Lines, receivers: Receivers, reach: np.ndarray) -> _Pairs:
    """Halve every piece longer than half its distance to the receiver until none is; pieces behind a façade
    receiver's wall or beyond the road's reach are dropped on the way. A piece follows its road around bends: its
    source is the point half way along it."""
    done: list[_Pairs] = []
    facing = (receivers.nx != 0) | (receivers.ny != 0)
    while len(pairs.receiver):
        r, road = pairs.receiver, pairs.road
        rx, ry, nx, ny = receivers.x[r], receivers.y[r], receivers.nx[r], receivers.ny[r]
        mx, my = lines.point(road, (pairs.t0 + pairs.t1) / 2)
        distance = np.hypot(mx - rx, my - ry)
        length = pairs.t1 - pairs.t0
        # Every point of a piece lies within half its length of its middle: wholly behind the wall, or wholly
        # beyond reach, nothing of it counts.
        ahead = (mx - rx) * nx + (my - ry) * ny
        alive = ~(facing[r] & (ahead + length / 2 <= 0)) & (distance - length / 2 <= reach[road])
        split = alive & (length > np.maximum(distance / 2, MIN_PIECE_M))
        final = alive & ~split & (distance <= reach[road])
        final &= ~facing[r] | (ahead > 0)  # the point source itself stands in front
        done.append(pairs.take(final))
        halves = pairs.take(split)
        middle = (halves.t0 + halves.t1) / 2
        pairs = _Pairs(
            np.concatenate([halves.receiver, halves.receiver]),
            np.concatenate([halves.road, halves.road]),
            np.concatenate([halves.t0, middle]),
            np.concatenate([middle, halves.t1]),
        )
    return _Pairs.join(done)


def road_pairs(lines: np.ndarray, reach: np.ndarray, receivers: Receivers) -> tuple[_Pairs, _Lines]:
    """Every receiver paired with the pieces of every road within the road's ``reach`` (metres; 0: the road emits
    nothing), each piece at most half its distance from the receiver long (and at least :data:`MIN_PIECE_M`)."""
    found: list[_Pairs] = []
    table = _Lines.of(lines)
    receiver_tree = cKDTree(np.column_stack([receivers.x, receivers.y]))
    lower = 0.0
    for upper in CUTOFF_GROUPS_M:
        last = upper == CUTOFF_GROUPS_M[-1]
        roads = np.flatnonzero((reach > lower) & ((reach <= upper) | last) & (table.length > 0))
        lower = upper
        if not len(roads) or not len(receivers.x):
            continue
        radius = float(reach[roads].max())
        first = radius / PIECES_PER_CUTOFF
        count = np.ceil(table.length[roads] / first).astype(np.int64)
        road = np.repeat(roads, count)
        k = np.arange(len(road)) - np.repeat(np.cumsum(count) - count, count)
        size = table.length[road] / count.repeat(count)
        mx, my = table.point(road, (k + 0.5) * size)
        near = receiver_tree.sparse_distance_matrix(
            cKDTree(np.column_stack([mx, my])), radius + first / 2, output_type="ndarray"
        )
        j = near["j"]
        pairs = _Pairs(near["i"].astype(np.int64), road[j], k[j] * size[j], (k[j] + 1) * size[j])
        found.append(_split(pairs, table, receivers, reach))
    return _Pairs.join(found), table


def diffraction_db(a: np.ndarray, b: np.ndarray, s: np.ndarray) -> np.ndarray:
    """RLS-19's single diffraction D_z = 10 lg(3 + 80 z K), capped at :data:`MAX_DIFFRACTION_DB`.

    Args:
        a: distance source - top of the obstacle (m).
        b: distance top of the obstacle - receiver (m).
        s: direct distance source - receiver (m).

    Returns:
        D_z in dB, with the path difference z = a + b - s and the weather correction
        K = exp(-(1/2000) sqrt(a b s / (2 z))).
    """
    z = np.maximum(a + b - s, 1e-9)
    k = np.exp(-np.sqrt(a * b * s / (2.0 * z)) / 2000.0)
    d_z: np.ndarray = np.minimum(10.0 * np.log10(3.0 + 80.0 * z * k), MAX_DIFFRACTION_DB)
    return d_z


def free_field_db(s: np.ndarray) -> np.ndarray:
    """Attenuation without screening: D_div + D_atm + D_gr at direct distance ``s`` (m), RLS-19 / ISO 9613-2."""
    total: np.ndarray = divergence_db(s) + s / 200.0 + ground_db(s)
    return total


def divergence_db(s: np.ndarray) -> np.ndarray:
    """D_div = 10 lg(2 pi s^2): a point source over reflecting ground."""
    d: np.ndarray = 10.0 * np.log10(2.0 * np.pi * s**2)
    return d


def ground_db(s: np.ndarray) -> np.ndarray:
    """D_gr = max(0, 4.8 - (h_m / s)(34 + 600 / s)) with the path's mean height h_m (:data:`MEAN_HEIGHT_M`)."""
    d: np.ndarray = np.maximum(4.8 - (MEAN_HEIGHT_M / s) * (34.0 + 600.0 / s), 0.0)
    return d


@dataclass(frozen=True)
class Paths:
    """The way from each road piece (a point source 0.5 m above the road) to each receiver it reaches.

    Attributes:
        receiver, road: int64 (m,) per pair.
        length: float64 (m,), the piece's length l.
        sx, sy, sz: float64 (m,), the source (sz metres above NHN).
        horizontal: float64 (m,), the horizontal distance source - receiver.
        s: float64 (m,), the direct distance (at least 1 m).
    """

    receiver: np.ndarray
    road: np.ndarray
    length: np.ndarray
    sx: np.ndarray
    sy: np.ndarray
    sz: np.ndarray
    horizontal: np.ndarray
    s: np.ndarray

    @classmethod
    def between(cls, lines: np.ndarray, reach: np.ndarray, surface: Surface, receivers: Receivers) -> Paths:
        """The paths from every road (its LineString in ``lines``, its cut-off in ``reach``; 0: it emits nothing)
        to every receiver within the road's reach."""
        pairs, table = road_pairs(lines, reach, receivers)
        r = pairs.receiver
        sx, sy = table.point(pairs.road, (pairs.t0 + pairs.t1) / 2)
        rz = receivers.z[r]
        ground = surface.ground_at(sx, sy)
        sz = np.where(np.isnan(ground), rz - RECEIVER_HEIGHT_M, ground) + SOURCE_HEIGHT_M
        horizontal = np.hypot(sx - receivers.x[r], sy - receivers.y[r])
        s = np.maximum(np.hypot(horizontal, rz - sz), 1.0)
        return cls(r, pairs.road, pairs.t1 - pairs.t0, sx, sy, sz, horizontal, s)

    def free(self) -> np.ndarray:
        """Energy per unit of sound power without screening: l 10^(-0.1 (D_div + D_atm + D_gr))."""
        energy: np.ndarray = self.length * 10.0 ** (-0.1 * free_field_db(self.s))
        return energy

    def edges(self, which: np.ndarray, surface: Surface, receivers: Receivers) -> tuple[np.ndarray, np.ndarray]:
        """The most effective screening edge on each path ``which`` (receiver to source): the top that rises
        highest above the line of sight for its place, by the path difference it makes (Fresnel's approximation
        z ~ h^2 / 2 (1/w + 1/(d - w)) for an edge h above the line of sight, w from the receiver and d - w from the
        source), looked at every cell near both ends and more coarsely in between.

        Returns:
            float64 top (metres above NHN) and its distance from the receiver; NaN where nothing cuts the line of sight.
        """
        r, sx, sy, sz = self.receiver[which], self.sx[which], self.sy[which], self.sz[which]
        horizontal = self.horizontal[which]
        n = len(r)
        rx, ry, rz = receivers.x[r], receivers.y[r], receivers.z[r]
        best, top, where = np.full(n, -np.inf), np.full(n, np.nan), np.full(n, np.nan)
        # Steps of 2, 4, 8 or 16 m: one sampling pass each.
        middle_step = np.clip(2.0 ** np.ceil(np.log2(np.maximum(horizontal, 1.0) / MIDDLE_LOOKS)), 2.0, 16.0)
        long = horizontal > 2 * EDGE_M
        parts = (  # (paths, from, to, step): whole short paths; the ends and the middle of long ones
            (np.flatnonzero(~long), 0.0, None, surface.cell_m),
            (np.flatnonzero(long), 0.0, EDGE_M, surface.cell_m),
            (np.flatnonzero(long), -EDGE_M, None, surface.cell_m),
            (np.flatnonzero(long), EDGE_M, -EDGE_M, None),
        )
        for paths, start, stop, step in parts:
            if not len(paths):
                continue
            h = horizontal[paths]
            d0 = np.where(start < 0, h + start, start)
            d1 = h if stop is None else np.where(stop < 0, h + stop, stop)
            ux, uy = (sx[paths] - rx[paths]) / h, (sy[paths] - ry[paths]) / h
            x0, y0 = rx[paths] + ux * d0, ry[paths] + uy * d0
            x1, y1 = rx[paths] + ux * d1, ry[paths] + uy * d1
            steps = [step] if step is not None else np.unique(middle_step[paths])
            for size in steps:
                pick = np.arange(len(paths)) if step is not None else np.flatnonzero(middle_step[paths] == size)
                chosen_paths = paths[pick]
                start_w, level, slope = d0[pick], rz[chosen_paths], (sz - rz)[chosen_paths] / horizontal[chosen_paths]
                span = horizontal[chosen_paths]
                for seg, distance, height in surface.samples_along(
                    x0[pick],
                    y0[pick],
                    x1[pick],
                    y1[pick],
                    step_m=float(size),
                    skip_owner=receivers.owner[r[chosen_paths]],
                ):
                    w = start_w[seg] + distance
                    above = np.flatnonzero(height > level[seg] + slope[seg] * w)  # few: the tops above the sight line
                    if not len(above):
                        continue
                    hit, w = seg[above], w[above]
                    rise = height[above] - (level[hit] + slope[hit] * w)
                    score = rise * rise * span[hit] / (w * (span[hit] - w))  # samples lie strictly inside the path
                    starts = np.flatnonzero(np.r_[True, hit[1:] != hit[:-1]])
                    high = np.maximum.reduceat(score, starts)
                    runs = np.diff(np.r_[starts, len(hit)])
                    at = np.minimum.reduceat(
                        np.where(score == np.repeat(high, runs), np.arange(len(hit)), len(hit)), starts
                    )
                    path = chosen_paths[hit[starts]]
                    better = high > best[path]
                    best[path[better]] = high[better]
                    top[path[better]] = height[above][at[better]]
                    where[path[better]] = w[at[better]]
        return top, where

    def screened(self, which: np.ndarray, surface: Surface, receivers: Receivers) -> np.ndarray:
        """Energy per unit of sound power of the pairs ``which``: l 10^(-0.1 (D_div + D_atm + max(D_gr, D_z))),
        D_z over the most effective edge on the path (:meth:`edges`) where it cuts the line of sight."""
        r, horizontal, s = self.receiver[which], self.horizontal[which], self.s[which]
        sz, rz = self.sz[which], receivers.z[r]
        top, where = self.edges(which, surface, receivers)
        with np.errstate(invalid="ignore"):
            sight = rz + (sz - rz) * where / np.maximum(horizontal, 1e-9)  # the line of sight above the top's place
            blocked = np.isfinite(top) & (top > sight)
        b = np.hypot(where[blocked], top[blocked] - rz[blocked])
        a = np.hypot(horizontal[blocked] - where[blocked], top[blocked] - sz[blocked])
        screen = ground_db(s)
        screen[blocked] = np.maximum(screen[blocked], diffraction_db(a, b, s[blocked]))
        energy: np.ndarray = self.length[which] * 10.0 ** (-0.1 * (divergence_db(s) + s / 200.0 + screen))
        return energy


def exposure(paths: Paths, weight: np.ndarray, surface: Surface, receivers: Receivers) -> tuple[np.ndarray, np.ndarray]:
    """The screened energy of the pairs that decide each group's most exposed receiver.

    Screening is the costly part, and only the loudest receiver of a group (a building's façades) counts. Without
    screening a receiver hears at most its free-field level U; screened, never more. So in rounds, each group's
    receiver of the highest U not yet screened is screened, as long as its U exceeds the loudest screened level S
    of its group: every receiver left over stays below S whatever screens it. The answer is exact, not an estimate.

    Args:
        paths: the pairs.
        weight: float64 per road, the sound power that ranks receivers (10^(0.1 L_W') of the L_DEN mix).
        surface: what screens.
        receivers: where to listen; ``group`` ties a building's receivers together.

    Returns:
        The screened energy per pair (per unit of sound power; NaN for pairs not screened) and a bool mask of the
        receivers whose every pair was screened (the others cannot be their group's loudest).
    """
    n = len(receivers.x)
    free = np.bincount(paths.receiver, paths.free() * weight[paths.road], minlength=n)
    # The receivers by group, loudest free field first; a round takes the first still open one of each group.
    order = np.lexsort((-free, receivers.group))
    group = receivers.group[order]
    rank = np.arange(n) - np.searchsorted(group, group)
    bar = np.full(int(receivers.group.max(initial=-1)) + 1, -np.inf)
    by_receiver = np.argsort(paths.receiver, kind="stable")
    bounds = np.searchsorted(paths.receiver[by_receiver], np.arange(n + 1))
    energy = np.full(len(paths.receiver), np.nan)
    heard = np.zeros(n, bool)
    for round_ in range(int(rank.max(initial=-1)) + 1):
        now = order[(rank == round_) & (free[order] > bar[group])]
        if not len(now):
            break
        heard[now] = True
        which = _pairs_of(now, by_receiver, bounds)
        energy[which] = paths.screened(which, surface, receivers)
        level = np.bincount(paths.receiver[which], energy[which] * weight[paths.road[which]], minlength=n)
        np.maximum.at(bar, receivers.group[now], level[now])
    return energy, heard


def _pairs_of(receivers: np.ndarray, by_receiver: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """The pairs of ``receivers``, given the pairs sorted by receiver and each receiver's slice bounds."""
    start, stop = bounds[receivers], bounds[receivers + 1]
    count = stop - start
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    pairs: np.ndarray = by_receiver[np.repeat(start, count) + offset]
    return pairs
