"""LoD1 meshes: footprints extruded to block buildings, walls built for all buildings at once.

Vertices are not shared between faces so that each face carries its own flat normal (what a block model should
look like under lighting). Walls come from whole coordinate arrays. Roofs are fans made with array operations where
one corner sees the whole outline (convex houses, most L-shapes); the rest go through earcut, one call each.

Every corner goes through the map projection once: a wall's foot and top, and the roof corner above it, are the
corner's point on the ellipsoid moved along the ellipsoid normal by their heights (exact, see
:func:`~twin3d.tiling.geodesy.projected_to_enu_normal`). Rings are read straight from the coordinate arrays:
shapely only builds part and ring geometries for multipolygons and polygons with holes.
"""

from __future__ import annotations

from dataclasses import dataclass

import mapbox_earcut
import numpy as np
import shapely
from pyproj import CRS

from twin3d.io.surfaces import ragged_arange
from twin3d.tiling.geodesy import LocalFrame, projected_to_enu_normal


@dataclass(frozen=True)
class Mesh:
    """A triangle mesh in a local ENU frame (x east, y north, z up).

    Attributes:
        positions: (v, 3) float64 vertex positions, metres.
        normals: (v, 3) float32 unit normals.
        feature_ids: (v,) uint32 index of the feature (building) each vertex belongs to.
        indices: (t * 3,) uint32 vertex indices, counter-clockwise seen from outside.
    """

    positions: np.ndarray
    normals: np.ndarray
    feature_ids: np.ndarray
    indices: np.ndarray

    @property
    def vertex_count(self) -> int:
        return int(self.positions.shape[0])


def estimate_vertices(footprints: np.ndarray) -> np.ndarray:
    """Vertices each footprint will produce when extruded (walls: 4 per edge; roof: 1 per corner)."""
    # A ring of n stored coordinates (the first repeated at the end) gives 4(n-1) wall and n-1 roof vertices.
    return np.asarray(5 * shapely.get_num_coordinates(footprints))


@dataclass(frozen=True)
class Rings:
    """Rings laid out one after another, for triangulation; from footprints (:func:`rings`): their open rings (the
    closing corner dropped), exteriors counter-clockwise, holes clockwise.

    Attributes:
        xy: (r, 2) corners, ring after ring, buildings in input order.
        start: first corner of each ring.
        size: corners of each ring.
        exterior: whether a ring is a part's exterior (a part is its exterior and the holes after it).
        feature: the footprint (or polygon) of each corner.
        ring: the ring of each corner.
        next: the next corner of each corner along its ring.
    """

    xy: np.ndarray
    start: np.ndarray
    size: np.ndarray
    exterior: np.ndarray
    feature: np.ndarray
    ring: np.ndarray
    next: np.ndarray


def _closed_rings(footprints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Closed ring coordinates, ring sizes, the footprint of each ring and whether it is an exterior."""
    counts = shapely.get_num_coordinates(footprints)
    # A polygon without holes is one ring: its coordinates are the ring, no part or ring geometries needed.
    plain = (shapely.get_type_id(footprints) == 3) & (shapely.get_num_interior_rings(footprints) == 0) & (counts > 0)
    if plain.all():  # the common case, without the copies below
        return shapely.get_coordinates(footprints), counts, np.arange(len(counts)), np.ones(len(counts), dtype=bool)
    plain_ids = np.flatnonzero(plain)
    xy = shapely.get_coordinates(footprints[plain_ids])
    size, feature = counts[plain_ids], plain_ids
    exterior = np.ones(len(plain_ids), dtype=bool)
    other = np.flatnonzero(~plain & (counts > 0))
    if len(other):
        parts, part_feature = shapely.get_parts(footprints[other], return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        first = np.ones(len(rings), dtype=bool)
        first[1:] = ring_part[1:] != ring_part[:-1]
        ring_size = shapely.get_num_coordinates(rings)
        # Rings in footprint order (a footprint is either plain or not, so a stable sort keeps its rings in order).
        feature = np.concatenate([feature, other[part_feature[ring_part]]])
        order = np.argsort(feature, kind="stable")
        size = np.concatenate([size, ring_size])
        src_start = np.concatenate([[0], np.cumsum(size)[:-1]])
        xy = np.concatenate([xy, shapely.get_coordinates(rings)])[ragged_arange(src_start[order], size[order])]
        feature, size, exterior = feature[order], size[order], np.concatenate([exterior, first])[order]
    keep = size > 0
    return xy, size[keep], feature[keep], exterior[keep]


def rings(footprints: np.ndarray) -> Rings:
    """The oriented open rings of ``footprints`` (as ``shapely.orient_polygons(..., exterior_cw=False)``)."""
    xy, closed_size, ring_feature, exterior = _closed_rings(footprints)
    closed_start = np.cumsum(closed_size) - closed_size
    keep = np.ones(len(xy), dtype=bool)
    keep[closed_start + closed_size - 1] = False  # the closing corner repeats the first
    xy = xy[keep]
    size = closed_size - 1
    start = closed_start - np.arange(len(size))
    ring = np.repeat(np.arange(len(size)), size)
    first = start[ring]
    # Twice the signed area, relative to each ring's first corner (absolute map coordinates would cancel digits).
    rel = xy - xy[first]
    nxt = _next(start, size)
    area2 = np.bincount(ring, rel[:, 0] * rel[nxt, 1] - rel[nxt, 0] * rel[:, 1], minlength=len(size))
    flip = np.where(exterior, area2 < 0, area2 > 0)
    if flip.any():
        # Reversing a closed ring keeps its first corner: p0, p[n-1], ..., p1.
        corner = np.arange(len(xy))
        n = size[ring]
        xy = xy[np.where(flip[ring], first + (n - (corner - first)) % n, corner)]
    return Rings(xy, start, size, exterior, ring_feature[ring], ring, nxt)


def _next(start: np.ndarray, size: np.ndarray) -> np.ndarray:
    """The index of the next corner of each ring corner, wrapping around at the ring's end."""
    nxt = np.arange(1, int(size.sum()) + 1)
    nxt[start + size - 1] = start
    return nxt


def triangulate_rings(r: Rings, sign: np.ndarray | None = None, usable: np.ndarray | None = None) -> np.ndarray:
    """Triangles, as corner indices, for every polygon part (an exterior ring and the holes after it) of ``r``.

    Triangles turn the way their outline does: counter-clockwise for outlines that run counter-clockwise (LoD1
    footprints, oriented), or as ``sign`` (+1/-1 for each ring: the way its polygon's outline turns) says.

    Args:
        r: the rings, in the plane they are triangulated in.
        sign: how each ring's outline turns; counter-clockwise (+1) for all when None.
        usable: which parts to triangulate (one flag per exterior ring); all when None.
    """
    part = np.cumsum(r.exterior) - 1
    rings_per_part = np.bincount(part, minlength=int(part[-1]) + 1 if len(part) else 0)
    single = r.exterior & (rings_per_part[part] == 1)
    if usable is not None:
        single[np.flatnonzero(r.exterior)[~usable]] = False
    # Strictly convex rings (every corner turns the outline's way) are fanned from their first corner without earcut.
    edge = r.xy[r.next] - r.xy
    prev_edge = np.empty_like(edge)
    prev_edge[r.next] = edge
    turn = prev_edge[:, 0] * edge[:, 1] - prev_edge[:, 1] * edge[:, 0]
    if sign is not None:
        turn *= sign[r.ring]
    concave = np.bincount(r.ring, turn <= 0, minlength=len(r.size)) > 0
    done = single & ~concave
    fan_start, fan_count = r.start[done], r.size[done] - 2
    second = ragged_arange(fan_start + 1, fan_count)
    tris = [np.column_stack([np.repeat(fan_start, fan_count), second, second + 1])]
    # Concave outlines (L-shapes and the like) fanned from their sharpest reflex corner, where every triangle of that
    # fan turns the outline's way: the corners of a simple outline then lie in angular order around that corner, so
    # the triangles tile it (tests/tiling/test_mesh.py checks the roof areas of real footprints).
    candidates = np.flatnonzero(single & concave)
    if len(candidates) >= _MIN_REFLEX_FANS:
        star, star_tris = _reflex_fans(r, turn, candidates, None if sign is None else sign[candidates])
        tris.append(star_tris)
        done[star] = True

    # The rest (holes, outlines no corner sees whole) through earcut, one call per part over its rings.
    rest = r.exterior & ~done
    if usable is not None:
        rest[np.flatnonzero(r.exterior)[~usable]] = False
    rest_rings = np.flatnonzero(rest)
    if len(rest_rings):
        cut = _earcut(r, rest_rings, rings_per_part[part[rest_rings]])
        a, b, c = r.xy[cut[:, 0]], r.xy[cut[:, 1]], r.xy[cut[:, 2]]
        area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
        wrong = area * (1.0 if sign is None else sign[r.ring[cut[:, 0]]]) < 0
        cut[wrong] = cut[wrong][:, ::-1]
        tris.append(cut)
    return np.concatenate(tris)


def _earcut(r: Rings, first: np.ndarray, n_rings: np.ndarray) -> np.ndarray:
    """Earcut triangles of the parts whose exterior rings are ``first`` (with ``n_rings`` rings each)."""
    lo = r.start[first]
    ends = np.cumsum(r.size)[first + n_rings - 1] - lo
    earcut = mapbox_earcut.triangulate_float64
    got: list[np.ndarray] = []
    for a, b, k, ring in zip(lo.tolist(), ends.tolist(), n_rings.tolist(), first.tolist(), strict=True):
        ring_ends = _END[b] if k == 1 and b < len(_END) else np.cumsum(r.size[ring : ring + k]).astype(np.uint32)
        got.append(earcut(r.xy[a : a + b], ring_ends))
    counts = np.fromiter(map(len, got), dtype=np.int64, count=len(got)) // 3
    triangles: np.ndarray = np.concatenate(got).astype(np.int64).reshape(-1, 3) + np.repeat(lo, counts)[:, None]
    return triangles


def _reflex_fans(
    r: Rings, turn: np.ndarray, candidates: np.ndarray, sign: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Fans of the ``candidates`` rings from their sharpest corner; returns the rings fanned and their triangles."""
    xy, start, size, ring = r.xy, r.start, r.size, r.ring
    # The sharpest corner of each ring: the first corner whose turn is the ring's minimum (rings are never empty).
    ring_min = np.minimum.reduceat(turn, start) if len(start) else np.zeros(0)
    is_min = np.flatnonzero(turn == ring_min[ring])
    first = np.ones(len(is_min), dtype=bool)
    first[1:] = ring[is_min[1:]] != ring[is_min[:-1]]
    apex_of_ring = np.empty(len(size), dtype=np.int64)
    apex_of_ring[ring[is_min[first]]] = is_min[first]
    s, m = start[candidates], size[candidates]
    apex = apex_of_ring[candidates]
    count = m - 2
    owner = np.repeat(np.arange(len(candidates)), count)
    k = ragged_arange(np.ones(len(candidates), dtype=np.int64), count)
    rel, mm = apex[owner] - s[owner] + k, m[owner]
    tri = np.column_stack([apex[owner], s[owner] + rel % mm, s[owner] + (rel + 1) % mm])
    a, b, c = xy[tri[:, 0]], xy[tri[:, 1]], xy[tri[:, 2]]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    if sign is not None:
        area *= sign[owner]
    ok = np.bincount(owner, area <= 0, minlength=len(candidates)) == 0
    return candidates[ok], tri[ok[owner]]


# Below this many concave outlines in a call, earcut is cheaper than finding the fans that would spare it.
_MIN_REFLEX_FANS = 16
# Earcut's ring-end argument for a ring of k corners, made once (an array per call costs as much as the call).
_END = [np.array([k], dtype=np.uint32) for k in range(64)]
_QUAD = np.array([0, 1, 2, 0, 2, 3], dtype=np.uint32)


def extrude(
    footprints: np.ndarray,
    base: np.ndarray,
    top: np.ndarray,
    crs: CRS,
    frame: LocalFrame,
) -> Mesh:
    """Extrude footprints to LoD1 blocks.

    Args:
        footprints: shapely Polygons or MultiPolygons in ``crs`` (2D).
        base: ellipsoidal height of each footprint's ground, metres.
        top: ellipsoidal height of each block's roof, metres.
        crs: the projected CRS of the footprints.
        frame: the local frame the mesh is expressed in.

    Returns:
        One mesh whose ``feature_ids`` are the positions of the footprints in the input. Vertices: four per wall
        (foot, foot of the next corner, its top, top), one wall per ring edge, then the roof corners.
    """
    r = rings(footprints)
    n = len(r.xy)
    foot, normal = projected_to_enu_normal(r.xy[:, 0], r.xy[:, 1], crs, frame)
    lo = np.asarray(base, dtype=np.float64)[r.feature]
    hi = np.asarray(top, dtype=np.float64)[r.feature]
    low = foot + lo * normal
    high = foot + hi * normal
    nxt = r.next

    # Positions axis by axis (x, y, z rows; the mesh gets the transposed, column-major view).
    pos = np.empty((3, 5 * n))
    wall = pos[:, : 4 * n].reshape(3, n, 4)
    wall[:, :, 0] = low
    wall[:, :, 1] = low[:, nxt]
    wall[:, :, 2] = high[:, nxt]
    wall[:, :, 3] = high
    pos[:, 4 * n :] = high

    # A wall's outward normal: along the ring edge crossed with the vertical (exteriors run counter-clockwise,
    # holes clockwise), turned round when the block is upside down, as the triangles' own winding would be.
    d = wall[:, :, 1] - low
    side = np.stack(
        [d[1] * normal[2] - d[2] * normal[1], d[2] * normal[0] - d[0] * normal[2], d[0] * normal[1] - d[1] * normal[0]]
    )
    side *= hi - lo
    length = np.sqrt(np.einsum("ij,ij->j", side, side))
    good = length > 1e-12
    side[:, good] /= length[good]
    side[:, ~good] = ((0.0,), (0.0,), (1.0,))  # a wall without area (repeated corner, zero height) faces up
    nrm = np.empty((3, 5 * n), dtype=np.float32)
    nrm[:, : 4 * n].reshape(3, n, 4)[:] = side[:, :, None]
    nrm[:, 4 * n :] = normal  # a flat roof at one ellipsoidal height faces along the ellipsoid normal

    feature = np.empty(5 * n, dtype=np.uint32)
    feature[: 4 * n].reshape(n, 4)[:] = r.feature[:, None]
    feature[4 * n :] = r.feature
    walls = np.arange(0, 4 * n, 4, dtype=np.uint32)[:, None] + _QUAD
    indices = np.concatenate([walls.reshape(-1), (triangulate_rings(r) + 4 * n).reshape(-1)]).astype(np.uint32)
    return Mesh(positions=pos.T, normals=nrm.T, feature_ids=feature, indices=indices)
