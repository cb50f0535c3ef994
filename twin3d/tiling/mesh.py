"""LoD1 meshes: footprints extruded to block buildings, walls built for all buildings at once.

Vertices are not shared between faces so that each face carries its own flat normal (what a block model should
look like under lighting). Walls come from whole coordinate arrays; roofs are triangulated with earcut, and the
common footprints that are convex quadrilaterals (most houses) skip earcut with a vectorised fan.
"""

from __future__ import annotations

from dataclasses import dataclass

import mapbox_earcut
import numpy as np
import shapely
from pyproj import CRS

from twin3d.tiling.geodesy import LocalFrame, projected_to_ecef


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


def _roof_triangles(ring_coords: np.ndarray, ring_of_coord: np.ndarray, part_of_ring: np.ndarray) -> np.ndarray:
    """Triangles (as indices into the open ring coordinates) for every polygon part's top face."""
    n_parts = int(part_of_ring.max()) + 1 if len(part_of_ring) else 0
    rings_per_part = np.bincount(part_of_ring, minlength=n_parts)
    coords_per_ring = np.bincount(ring_of_coord, minlength=len(part_of_ring))
    ring_start = np.concatenate([[0], np.cumsum(coords_per_ring)[:-1]])
    part_first_ring = np.concatenate([[0], np.cumsum(rings_per_part)[:-1]])

    # Convex quadrilaterals without holes: a fan (0,1,2),(0,2,3) is exact and needs no earcut.
    first_ring_len = coords_per_ring[part_first_ring]
    simple = (rings_per_part == 1) & (first_ring_len == 4)
    if simple.any():
        starts = ring_start[part_first_ring[simple]]
        p = ring_coords[starts[:, None] + np.arange(4)]
        d1 = p[:, 1] - p[:, 0]
        d2 = p[:, 2] - p[:, 1]
        d3 = p[:, 3] - p[:, 2]
        d4 = p[:, 0] - p[:, 3]
        cross = np.stack(
            [
                d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0],
                d2[:, 0] * d3[:, 1] - d2[:, 1] * d3[:, 0],
                d3[:, 0] * d4[:, 1] - d3[:, 1] * d4[:, 0],
                d4[:, 0] * d1[:, 1] - d4[:, 1] * d1[:, 0],
            ],
            axis=1,
        )
        convex = (cross > 0).all(axis=1)
        simple_idx = np.flatnonzero(simple)
        simple[simple_idx[~convex]] = False
        starts = starts[convex]
        fan = np.concatenate(
            [
                np.column_stack([starts, starts + 1, starts + 2]),
                np.column_stack([starts, starts + 2, starts + 3]),
            ]
        )
    else:
        fan = np.empty((0, 3), dtype=np.int64)

    tris = [fan]
    for part in np.flatnonzero(~simple):
        first = part_first_ring[part]
        ring_ids = np.arange(first, first + rings_per_part[part])
        lo = ring_start[ring_ids[0]]
        ends = np.cumsum(coords_per_ring[ring_ids]).astype(np.uint32)
        verts = ring_coords[lo : lo + int(ends[-1])]
        local = mapbox_earcut.triangulate_float64(verts, ends)
        tris.append(local.reshape(-1, 3).astype(np.int64) + lo)
    return np.concatenate(tris) if tris else np.empty((0, 3), dtype=np.int64)


def _face_normals(positions: np.ndarray, triangles: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    a, b, c = positions[triangles[:, 0]], positions[triangles[:, 1]], positions[triangles[:, 2]]
    n = np.cross(b - a, c - a)
    length = np.linalg.norm(n, axis=1)
    good = length > 1e-12
    n[good] /= length[good, None]
    n[~good] = fallback
    return np.asarray(n)


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
        One mesh whose ``feature_ids`` are the positions of the footprints in the input.
    """
    oriented = shapely.orient_polygons(footprints, exterior_cw=False)
    parts, feature_of_part = shapely.get_parts(oriented, return_index=True)
    rings, part_of_ring = shapely.get_rings(parts, return_index=True)
    coords, ring_of_coord = shapely.get_coordinates(rings, return_index=True)
    feature_of_coord = feature_of_part[part_of_ring[ring_of_coord]]

    # Walls: every edge between consecutive corners of the same ring becomes a quad.
    same_ring = ring_of_coord[:-1] == ring_of_coord[1:]
    start = np.flatnonzero(same_ring)
    p0, p1 = coords[start], coords[start + 1]
    f = feature_of_coord[start]
    lo, hi = base[f], top[f]
    wall_xy = np.stack([p0, p1, p1, p0], axis=1).reshape(-1, 2)
    wall_z = np.stack([lo, lo, hi, hi], axis=1).reshape(-1)
    wall_feature = np.repeat(f, 4)
    q = np.arange(len(start), dtype=np.int64)[:, None] * 4
    wall_tris = np.concatenate([q + np.array([0, 1, 2]), q + np.array([0, 2, 3])], axis=1).reshape(-1, 3)

    # Roofs: the open rings (closing corner dropped) at the top height.
    open_mask = np.ones(len(coords), dtype=bool)
    open_mask[np.flatnonzero(~same_ring)] = False
    open_mask[-1:] = False
    roof_xy = coords[open_mask]
    roof_ring = ring_of_coord[open_mask]
    roof_feature = feature_of_coord[open_mask]
    roof_tris = _roof_triangles(roof_xy, roof_ring, part_of_ring)
    a, b, c = roof_xy[roof_tris[:, 0]], roof_xy[roof_tris[:, 1]], roof_xy[roof_tris[:, 2]]
    clockwise = ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])) < 0
    roof_tris[clockwise] = roof_tris[clockwise][:, ::-1]  # roofs face up: counter-clockwise from above

    xy = np.concatenate([wall_xy, roof_xy])
    z = np.concatenate([wall_z, top[roof_feature]])
    enu = frame.from_ecef(projected_to_ecef(xy[:, 0], xy[:, 1], z, crs))
    triangles = np.concatenate([wall_tris, roof_tris + len(wall_xy)])

    normals = np.zeros_like(enu)
    up = np.array([0.0, 0.0, 1.0])
    face = _face_normals(enu, triangles, up)
    # Flat shading: every vertex belongs to one face, so scattering face normals is exact.
    normals[triangles.reshape(-1)] = np.repeat(face, 3, axis=0)
    unset = ~np.isfinite(normals).all(axis=1) | (np.linalg.norm(normals, axis=1) < 0.5)
    normals[unset] = up
    return Mesh(
        positions=enu,
        normals=normals.astype(np.float32),
        feature_ids=np.concatenate([wall_feature, roof_feature]).astype(np.uint32),
        indices=triangles.reshape(-1).astype(np.uint32),
    )
