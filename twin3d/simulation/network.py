"""Walking distances: over a twin's footpath network where it has one, else straight line x a detour factor.

The walking distance between a home (or any origin) and a facility is defined pairwise, so that the distance to
the nearest facility is the minimum over facilities and adding a facility can never lengthen it:

- both lie on the same network component: the shorter of (a) the network route: the perpendicular walk to the
  nearest path segment, along the network (Dijkstra), and back off it, and (b) the straight line x
  :data:`DETOUR_FACTOR` where that line is at most :data:`DIRECT_MAX_M` (courtyards, squares, campuses that the
  mapped paths miss);
- on different components (islands of the network, pieces cut off at the extract's edge), or either of them more
  than :data:`MAX_SNAP_M` from any path (off the mapped network, e.g. homes beyond the extract): the straight line
  x :data:`DETOUR_FACTOR`, counted as a fallback;
- a twin without paths: the straight line x :data:`DETOUR_FACTOR` throughout (:class:`StraightLineDistances`).

The graph's nodes are the paths' vertices snapped to a :data:`SNAP_GRID_M` grid, so that ways sharing a vertex
meet; its edges are the segments between consecutive vertices, weighted by length. Points snap to the nearest
segment of a component at least :data:`MIN_COMPONENT_M` long (shorter fragments are counted and skipped).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import duckdb
import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

DETOUR_FACTOR = 1.3
"""Walking route length per straight-line metre where no route is known. Studies of the circuity of urban street
networks put it at about 1.2 to 1.4 (e.g. Levinson & El-Geneidy 2009; Giacomin & Levinson 2015); 1.3 is the middle."""
SNAP_GRID_M = 0.1
"""Path vertices closer than this (rounded to a grid of this size) are one node."""
MIN_COMPONENT_M = 1000.0
"""Network components shorter than this in total are fragments: points do not snap to them."""
MAX_SNAP_M = 250.0
"""A point farther than this from every path is off the mapped network (its component is -1)."""
SAMPLE_M = 5.0
"""Spacing of the points sampled along segments to find snapping candidates."""
SNAP_CANDIDATES = 4
"""Nearest samples whose segments are tried when a point snaps."""
DIRECT_MAX_M = 100.0
"""Up to this straight-line distance, the straight line x detour factor is a walking route too."""
_PAIR_BLOCK = 20_000_000  # distance-matrix cells per Dijkstra block in :meth:`NetworkDistances.within`


@dataclass(frozen=True)
class Snap:
    """Where points meet the network: a segment, the position along it and the walk to it.

    Attributes:
        seg: the nearest segment of each point.
        u, v: its end nodes.
        to_u, to_v: metres along the segment from the foot point to u and to v.
        offset: metres from the point to its foot point on the segment.
        comp: the network component of the segment; -1 where the point is off the network (beyond MAX_SNAP_M).
    """

    seg: np.ndarray
    u: np.ndarray
    v: np.ndarray
    to_u: np.ndarray
    to_v: np.ndarray
    offset: np.ndarray
    comp: np.ndarray

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return (self.seg, self.u, self.v, self.to_u, self.to_v, self.offset, self.comp)

    def take(self, index: np.ndarray) -> Snap:
        """A subset of the points."""
        return Snap(*(a[index] for a in self._arrays()))

    def concat(self, other: Snap) -> Snap:
        """These points and others."""
        return Snap(*(np.concatenate([a, b]) for a, b in zip(self._arrays(), other._arrays(), strict=True)))


@dataclass(frozen=True)
class Points:
    """Points in the twin's CRS, snapped to the network when there is one (``snap`` is None otherwise)."""

    x: np.ndarray
    y: np.ndarray
    snap: Snap | None = None

    def __len__(self) -> int:
        return len(self.x)

    @cached_property
    def xy(self) -> np.ndarray:
        """(n, 2) coordinates."""
        return np.column_stack([self.x, self.y])

    @cached_property
    def tree(self) -> cKDTree:
        """A KD-tree over the points."""
        return cKDTree(self.xy)

    def take(self, index: np.ndarray) -> Points:
        """A subset of the points."""
        return Points(self.x[index], self.y[index], self.snap.take(index) if self.snap is not None else None)

    def concat(self, other: Points) -> Points:
        """These points and others (located by the same model)."""
        snap = self.snap.concat(other.snap) if self.snap is not None and other.snap is not None else None
        return Points(np.concatenate([self.x, other.x]), np.concatenate([self.y, other.y]), snap)


@dataclass(frozen=True)
class Pairs:
    """Facility-point pairs within a distance: facility index, point index, walking metres."""

    facility: np.ndarray
    point: np.ndarray
    distance: np.ndarray


@dataclass(frozen=True)
class Nearest:
    """Distance of each point to its nearest facility; ``fallback`` where it is a straight line x detour factor
    for want of a network route (no network, or the facility on another component)."""

    distance: np.ndarray
    fallback: np.ndarray


class DistanceModel(Protocol):
    """How walking distances are measured; :func:`distance_model` picks one for a twin."""

    method: str
    detour_factor: float

    def describe(self) -> str:
        """One sentence saying how distances are measured."""

    def locate(self, x: np.ndarray, y: np.ndarray) -> Points:
        """Points prepared for distance queries (snapped to the network, if any)."""

    def nearest(self, points: Points, facilities: Points) -> Nearest:
        """Each point's walking distance to the nearest facility (inf where there is none)."""

    def within(self, points: Points, facilities: Points, max_m: float) -> Pairs:
        """Every facility-point pair whose walking distance is at most ``max_m``."""


@dataclass(frozen=True)
class WalkGraph:
    """The walking graph of a twin: symmetric CSR matrix of segment lengths and the segments points snap to."""

    node_xy: np.ndarray
    matrix: csr_matrix
    seg_u: np.ndarray
    seg_v: np.ndarray
    seg_length: np.ndarray
    component: np.ndarray
    samples: cKDTree
    sample_segment: np.ndarray
    n_components: int
    fragments: int
    length_m: float

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_xy)


def build_walk_graph(
    lines: np.ndarray, *, grid_m: float = SNAP_GRID_M, min_component_m: float = MIN_COMPONENT_M
) -> WalkGraph:
    """The walking graph of path line geometries (twin CRS, metres); vectorised, no loop over paths."""
    parts = shapely.get_parts(np.asarray(lines, dtype=object))
    xy, owner = shapely.get_coordinates(parts, return_index=True)
    grid = np.round(xy / grid_m).astype(np.int64)
    grid -= grid.min(axis=0) if len(grid) else 0
    key = grid[:, 0] * (int(grid[:, 1].max(initial=0)) + 1) + grid[:, 1]
    _, first, node = np.unique(key, return_index=True, return_inverse=True)
    node_xy = np.round(xy[first] / grid_m) * grid_m
    same = owner[1:] == owner[:-1]
    u, v = node[:-1][same], node[1:][same]
    keep = u != v
    u, v = u[keep], v[keep]
    length = np.hypot(*(node_xy[u] - node_xy[v]).T)
    return _graph(node_xy, u, v, length, min_component_m=min_component_m)


def _graph(
    node_xy: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    length: np.ndarray,
    *,
    min_component_m: float,
    component: np.ndarray | None = None,
) -> WalkGraph:
    """The graph of segments u-v between nodes; ``component``: labels to keep instead of the pieces found."""
    n = len(node_xy)
    # Shortest duplicate first, so CSR (which would sum duplicates) gets each node pair once.
    a, b = np.concatenate([u, v]), np.concatenate([v, u])
    w = np.concatenate([length, length])
    order = np.lexsort((w, b, a))
    a, b, w = a[order], b[order], w[order]
    unique = np.r_[True, (a[1:] != a[:-1]) | (b[1:] != b[:-1])]
    matrix = csr_matrix((w[unique], (a[unique], b[unique])), shape=(n, n))
    n_comp, pieces_of = connected_components(matrix, directed=False)
    comp_length = np.bincount(pieces_of[u], weights=length, minlength=n_comp)
    snappable = comp_length >= min(min_component_m, comp_length.max(initial=0.0))
    # Points sampled along the segments points may snap to, at most SAMPLE_M apart: a KD-tree over them finds
    # candidate segments for millions of points far faster than a nearest-geometry search.
    snap_segments = np.flatnonzero(snappable[pieces_of[u]])
    pieces = np.maximum(np.ceil(length[snap_segments] / SAMPLE_M), 1).astype(np.int64)
    owner, step = _expand(np.zeros(len(pieces), np.int64), pieces)
    t = (step + 0.5) / pieces[owner]
    seg = snap_segments[owner]
    sample_xy = node_xy[u[seg]] + t[:, None] * (node_xy[v[seg]] - node_xy[u[seg]])
    return WalkGraph(
        node_xy=node_xy,
        matrix=matrix,
        seg_u=u,
        seg_v=v,
        seg_length=length,
        component=pieces_of if component is None else component,
        samples=cKDTree(sample_xy),
        sample_segment=seg,
        n_components=int(snappable.sum()),
        fragments=int((~snappable).sum()),
        length_m=float(length.sum()),
    )


def without_segments(graph: WalkGraph, drop: np.ndarray) -> WalkGraph | None:
    """The graph without the segments marked in ``drop`` (e.g. under water); None when none is left.

    Nodes keep their numbers and their component of the whole graph: two points that the dropped segments cut
    apart stay "on one component", so the straight-line fallback between components (see the module docstring)
    does not bridge the gap; their walk is the route that is left, or none.
    """
    keep = ~np.asarray(drop, bool)
    if not keep.any():
        return None
    u, v, length = graph.seg_u[keep], graph.seg_v[keep], graph.seg_length[keep]
    return _graph(graph.node_xy, u, v, length, min_component_m=MIN_COMPONENT_M, component=graph.component)


def walk_graph_from_store(con: duckdb.DuckDBPyConnection) -> WalkGraph | None:
    """The walking graph of a twin's ``paths``, or None where it has no paths."""
    table = con.execute("SELECT ST_AsWKB(geom) AS wkb FROM paths ORDER BY path_id").to_arrow_table()
    if table.num_rows == 0:
        return None
    lines = shapely.from_wkb(table["wkb"].to_numpy(zero_copy_only=False))
    lines = lines[np.isin(shapely.get_type_id(lines), [1, 5])]  # LineString, MultiLineString
    graph = build_walk_graph(lines)
    return graph if len(graph.sample_segment) else None


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [lo, hi): the range of each element and the element's position."""
    count = hi - lo
    owner = np.repeat(np.arange(len(lo)), count)
    position = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count) + lo[owner]
    return owner, position


def _best_pairs(facility: np.ndarray, point: np.ndarray, distance: np.ndarray, n_points: int) -> Pairs:
    """One pair per (facility, point): the shortest."""
    key = facility.astype(np.int64) * max(n_points, 1) + point
    order = np.lexsort((distance, key))
    key = key[order]
    first = order[np.r_[True, key[1:] != key[:-1]]] if len(key) else order
    return Pairs(facility[first], point[first], distance[first])


def _tree_pairs(facilities: Points, points: Points, max_straight_m: float) -> tuple[np.ndarray, ...]:
    found = facilities.tree.sparse_distance_matrix(points.tree, max_straight_m, output_type="ndarray")
    return found["i"].astype(np.int64), found["j"].astype(np.int64), found["v"]


class StraightLineDistances:
    """Straight-line distance x detour factor: for twins without a footpath network."""

    method = "straight_line"

    def __init__(self, detour_factor: float = DETOUR_FACTOR, reason: str = "the twin has no footpath network") -> None:
        self.detour_factor = detour_factor
        self.reason = reason

    def describe(self) -> str:
        """One sentence saying how distances are measured."""
        return f"Straight-line distance x detour factor {self.detour_factor:g} ({self.reason})."

    def locate(self, x: np.ndarray, y: np.ndarray) -> Points:
        """Points as they are."""
        return Points(np.asarray(x, np.float64), np.asarray(y, np.float64))

    def nearest(self, points: Points, facilities: Points) -> Nearest:
        """Each point's detoured straight-line distance to the nearest facility."""
        if len(facilities) == 0 or len(points) == 0:
            return Nearest(np.full(len(points), np.inf), np.zeros(len(points), dtype=bool))
        dist, _ = facilities.tree.query(points.xy, workers=-1)
        return Nearest(dist * self.detour_factor, np.ones(len(points), dtype=bool))

    def within(self, points: Points, facilities: Points, max_m: float) -> Pairs:
        """Pairs whose detoured straight-line distance is at most ``max_m``."""
        if len(facilities) == 0 or len(points) == 0:
            empty = np.zeros(0, np.int64)
            return Pairs(empty, empty, np.zeros(0))
        f, p, d = _tree_pairs(facilities, points, max_m / self.detour_factor)
        return Pairs(f, p, d * self.detour_factor)


class NetworkDistances:
    """Walking distances over a :class:`WalkGraph` (see the module docstring for the rules)."""

    method = "network"

    def __init__(
        self, graph: WalkGraph, detour_factor: float = DETOUR_FACTOR, direct_max_m: float = DIRECT_MAX_M
    ) -> None:
        self.graph = graph
        self.detour_factor = detour_factor
        self.direct_max_m = direct_max_m

    def describe(self) -> str:
        """One sentence saying how distances are measured."""
        g = self.graph
        return (
            f"Walking distance over the twin's footpath network ({g.length_m / 1000:.0f} km, {g.n_nodes} nodes); "
            f"straight line x detour factor {self.detour_factor:g} within {self.direct_max_m:g} m and between "
            f"network components or beyond {MAX_SNAP_M:g} m from any path (components used: {g.n_components}; "
            f"fragments under {MIN_COMPONENT_M:g} m skipped: {g.fragments})."
        )

    def locate(self, x: np.ndarray, y: np.ndarray) -> Points:
        """Points snapped to the nearest segment of the graph's main components.

        The candidates are the segments of the :data:`SNAP_CANDIDATES` nearest samples; the point is projected
        exactly onto each and the closest wins, so the chosen segment is at most SAMPLE_M / 2 farther than the
        nearest one (and in practice it is the nearest).
        """
        g = self.graph
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        k = min(SNAP_CANDIDATES, len(g.sample_segment))
        _, hit = g.samples.query(np.column_stack([x, y]), k=k, workers=-1)
        cand = g.sample_segment[np.asarray(hit).reshape(len(x), k)]
        a, b = g.node_xy[g.seg_u[cand]], g.node_xy[g.seg_v[cand]]
        ab = b - a
        px, py = x[:, None] - a[..., 0], y[:, None] - a[..., 1]
        t = np.clip((px * ab[..., 0] + py * ab[..., 1]) / np.maximum((ab**2).sum(-1), 1e-18), 0, 1)
        dist = np.hypot(px - t * ab[..., 0], py - t * ab[..., 1])
        best = np.argmin(dist, axis=1)
        rows = np.arange(len(x))
        seg, t, dist = cand[rows, best], t[rows, best], dist[rows, best]
        u, v = g.seg_u[seg], g.seg_v[seg]
        to_u = t * g.seg_length[seg]
        comp = np.where(dist <= MAX_SNAP_M, g.component[u], -1)
        return Points(x, y, Snap(seg, u, v, to_u, g.seg_length[seg] - to_u, dist, comp))

    @staticmethod
    def _snap(points: Points) -> Snap:
        if points.snap is None:
            raise ValueError("points were not located by this model")
        return points.snap

    def _augmented(self, f: Snap) -> csr_matrix:
        """The graph plus one source node per facility, linked (one way) to both ends of its segment."""
        m, n = self.graph.matrix, self.graph.n_nodes
        k = len(f.seg)
        data = np.concatenate([m.data, np.column_stack([f.offset + f.to_u, f.offset + f.to_v]).ravel()])
        indices = np.concatenate([m.indices, np.column_stack([f.u, f.v]).ravel()])
        indptr = np.concatenate([m.indptr, m.nnz + 2 * np.arange(1, k + 1)])
        return csr_matrix((data, indices, indptr), shape=(n + k, n + k))

    @staticmethod
    def _same_segment(p: Snap, f: Snap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Facility-point pairs on one segment (both on the network) and their distance along it."""
        order = np.argsort(f.seg, kind="stable")
        fseg = f.seg[order]
        hosts = np.zeros(int(max(p.seg.max(initial=0), fseg.max(initial=0))) + 1, dtype=bool)
        hosts[fseg] = True
        cand = np.flatnonzero(hosts[p.seg])
        owner, pos = _expand(np.searchsorted(fseg, p.seg[cand], "left"), np.searchsorted(fseg, p.seg[cand], "right"))
        pi, fi = cand[owner], order[pos]
        on = (p.comp[pi] >= 0) & (f.comp[fi] >= 0)
        fi, pi = fi[on], pi[on]
        return fi, pi, p.offset[pi] + np.abs(p.to_u[pi] - f.to_u[fi]) + f.offset[fi]

    def nearest(self, points: Points, facilities: Points) -> Nearest:
        """Each point's walking distance to the nearest facility; see the module docstring."""
        n = len(points)
        if len(facilities) == 0 or n == 0:
            return Nearest(np.full(n, np.inf), np.zeros(n, dtype=bool))
        p, f = self._snap(points), self._snap(facilities)
        best = np.full(n, np.inf)
        on = np.flatnonzero(f.comp >= 0)
        if len(on):
            sources = self.graph.n_nodes + np.arange(len(on))
            node_d = dijkstra(self._augmented(f.take(on)), indices=sources, min_only=True)[: self.graph.n_nodes]
            network = p.offset + np.minimum(p.to_u + node_d[p.u], p.to_v + node_d[p.v])
            best = np.where(p.comp >= 0, network, np.inf)
            _, pi, along = self._same_segment(p, f)
            np.minimum.at(best, pi, along)
        # One straight-line query serves the direct line (within direct_max_m) and, where the nearest facility is
        # off the point's component, the fallback; only points whose nearest shares their component need another.
        line, j = facilities.tree.query(points.xy, workers=-1)
        best = np.minimum(best, np.where(line <= self.direct_max_m, line * self.detour_factor, np.inf))
        elsewhere = (f.comp[j] != p.comp) | (p.comp < 0)
        cross = np.where(elsewhere, line * self.detour_factor, np.inf)
        for c in np.unique(p.comp[~elsewhere]):
            others = np.flatnonzero(f.comp != c)
            if len(others):
                mine = np.flatnonzero(~elsewhere & (p.comp == c))
                d, _ = cKDTree(facilities.xy[others]).query(points.xy[mine], workers=-1)
                cross[mine] = d * self.detour_factor
        fallback = cross < best
        return Nearest(np.minimum(best, cross), fallback)

    def within(self, points: Points, facilities: Points, max_m: float) -> Pairs:
        """Every facility-point pair within ``max_m`` walking metres: limited Dijkstra from each facility."""
        if len(facilities) == 0 or len(points) == 0:
            empty = np.zeros(0, np.int64)
            return Pairs(empty, empty, np.zeros(0))
        p, f = self._snap(points), self._snap(facilities)
        on_f, on_p = np.flatnonzero(f.comp >= 0), np.flatnonzero(p.comp >= 0)
        n, k = self.graph.n_nodes, len(on_f)
        graph = self._augmented(f.take(on_f))
        by_u, by_v = on_p[np.argsort(p.u[on_p], kind="stable")], on_p[np.argsort(p.v[on_p], kind="stable")]
        u_sorted, v_sorted = p.u[by_u], p.v[by_v]
        parts = [self._same_segment(p, f)]
        block = max(1, _PAIR_BLOCK // (n + k))
        for start in range(0, k, block):
            sources = n + np.arange(start, min(k, start + block))
            dist = np.asarray(dijkstra(graph, indices=sources, limit=max_m))[:, :n]
            row, node = np.nonzero(dist <= max_m)
            reach = dist[row, node]
            for order, ends, to_end in ((by_u, u_sorted, p.to_u), (by_v, v_sorted, p.to_v)):
                owner, pos = _expand(np.searchsorted(ends, node, "left"), np.searchsorted(ends, node, "right"))
                pi = order[pos]
                parts.append((on_f[row[owner] + start], pi, reach[owner] + to_end[pi] + p.offset[pi]))
        comps = np.unique(np.concatenate([p.comp, f.comp]))
        crossing = len(comps) > 1 or comps[0] < 0
        radius = max_m / self.detour_factor if crossing else min(self.direct_max_m, max_m / self.detour_factor)
        fi, pi, line = _tree_pairs(facilities, points, radius)
        keep = (line <= self.direct_max_m) | (f.comp[fi] != p.comp[pi]) | (p.comp[pi] < 0)
        parts.append((fi[keep], pi[keep], line[keep] * self.detour_factor))
        facility, point, distance = (np.concatenate(column) for column in zip(*parts, strict=True))
        ok = distance <= max_m
        return _best_pairs(facility[ok], point[ok], distance[ok], len(points))


def distance_model(graph: WalkGraph | None) -> DistanceModel:
    """Network distances where the twin has a walking graph, else straight line x :data:`DETOUR_FACTOR`."""
    return NetworkDistances(graph) if graph is not None else StraightLineDistances()
