"""LoD2 meshes: planar 3D polygons with holes (CityGML/CityJSON boundary surfaces) triangulated in bulk.

Every polygon keeps its own vertices and one flat normal (Newell's method, robust for slightly non-planar rings).
Triangles and convex quadrilaterals without holes, most faces of real LoD2 models, are triangulated with array
operations; the rest go through earcut in the polygon's own plane.
"""

from __future__ import annotations

import mapbox_earcut
import numpy as np
from pyproj import CRS

from twin3d.io.surfaces import Buildings3D, ragged_arange
from twin3d.tiling.geodesy import LocalFrame, projected_to_ecef
from twin3d.tiling.mesh import Mesh


def newell_normals(points: np.ndarray, ring_start: np.ndarray, ring_size: np.ndarray) -> np.ndarray:
    """Unnormalised normals (twice the vector area) of rings of ``points`` given by start and size (Newell)."""
    idx = ragged_arange(ring_start, ring_size)
    owner = np.repeat(np.arange(len(ring_start)), ring_size)
    nxt = idx + 1
    ends = np.cumsum(ring_size) - 1
    nxt[ends[ring_size > 0]] = ring_start[ring_size > 0]  # wrap each ring around
    a, b = points[idx], points[nxt]
    terms = np.column_stack(
        [
            (a[:, 1] - b[:, 1]) * (a[:, 2] + b[:, 2]),
            (a[:, 2] - b[:, 2]) * (a[:, 0] + b[:, 0]),
            (a[:, 0] - b[:, 0]) * (a[:, 1] + b[:, 1]),
        ]
    )
    out = np.zeros((len(ring_start), 3))
    for axis in range(3):
        out[:, axis] = np.bincount(owner, weights=terms[:, axis], minlength=len(ring_start))
    return out


def _plane_coords(points: np.ndarray, normal: np.ndarray) -> np.ndarray:
    """2D coordinates in the plane: drop the axis the normal points along most."""
    drop = np.argmax(np.abs(normal), axis=1)
    keep = np.array([[1, 2], [0, 2], [0, 1]])[drop]
    return np.column_stack(
        [np.take_along_axis(points, keep[:, :1], axis=1)[:, 0], np.take_along_axis(points, keep[:, 1:], axis=1)[:, 0]]
    )


def triangulate(
    buildings: Buildings3D, members: np.ndarray, frame: LocalFrame, crs: CRS, z_offset: float
) -> tuple[Mesh, int]:
    """Triangulate the polygons of the buildings ``members`` into one mesh in the local frame.

    Args:
        buildings: the 3D buildings (x, y in ``crs``; z in the file's height system).
        members: indices of the buildings to mesh; feature ids in the mesh are positions in ``members``.
        frame: the local ENU frame of the output.
        crs: the horizontal CRS of the vertices.
        z_offset: added to z to get heights above the ellipsoid (the geoid undulation).

    Returns:
        The mesh and the number of degenerate polygons (no area) that were left out.
    """
    bp, pr, ro = buildings.building_polygons, buildings.polygon_rings, buildings.ring_offsets
    polys_per_building = bp[members + 1] - bp[members]
    poly_ids = ragged_arange(bp[members], polys_per_building)
    feature_of_poly = np.repeat(np.arange(len(members)), polys_per_building)
    rings_per_poly = pr[poly_ids + 1] - pr[poly_ids]
    ring_ids = ragged_arange(pr[poly_ids], rings_per_poly)
    ring_size = ro[ring_ids + 1] - ro[ring_ids]
    vert_ids = ragged_arange(ro[ring_ids], ring_size)

    xyz = buildings.vertices[vert_ids]
    enu = frame.from_ecef(projected_to_ecef(xyz[:, 0], xyz[:, 1], xyz[:, 2] + z_offset, crs))
    ring_start = np.concatenate([[0], np.cumsum(ring_size)[:-1]]).astype(np.int64)
    poly_first_ring = np.concatenate([[0], np.cumsum(rings_per_poly)[:-1]]).astype(np.int64)

    ext = poly_first_ring
    normal = newell_normals(enu, ring_start[ext], ring_size[ext]) if len(ext) else np.zeros((0, 3))
    length = np.linalg.norm(normal, axis=1)
    # A face is degenerate when its area (|normal| / 2) is below 1 mm².
    ok = length > 2e-6
    unit = np.zeros_like(normal)
    unit[ok] = normal[ok] / length[ok, None]

    simple = ok & (rings_per_poly == 1) & np.isin(ring_size[ext], (3, 4))
    fan, handled = _fan(enu, unit[simple], ring_start[ext[simple]], ring_size[ext[simple]])
    tris = [fan]
    fan_ok = np.zeros(len(poly_ids), dtype=bool)
    fan_ok[np.flatnonzero(simple)] = handled
    for p in np.flatnonzero(ok & ~fan_ok):
        first = poly_first_ring[p]
        rs = ring_size[first : first + rings_per_poly[p]]
        lo = ring_start[first]
        pts = enu[lo : lo + rs.sum()]
        flat = _plane_coords(pts, np.broadcast_to(unit[p], pts.shape))
        local = mapbox_earcut.triangulate_float64(flat, np.cumsum(rs).astype(np.uint32))
        tris.append(local.reshape(-1, 3).astype(np.int64) + lo)
    triangles = np.concatenate(tris) if tris else np.zeros((0, 3), dtype=np.int64)

    # Wind every triangle the way its face's normal points (earcut and projections may flip it).
    vert_poly = np.repeat(np.repeat(np.arange(len(poly_ids)), rings_per_poly), ring_size)
    face = vert_poly[triangles[:, 0]]
    a, b, c = enu[triangles[:, 0]], enu[triangles[:, 1]], enu[triangles[:, 2]]
    flip = np.einsum("ij,ij->i", np.cross(b - a, c - a), unit[face]) < 0
    triangles[flip] = triangles[flip][:, ::-1]

    normals = unit[vert_poly]
    normals[~ok[vert_poly]] = (0.0, 0.0, 1.0)
    mesh = Mesh(
        positions=enu,
        normals=normals.astype(np.float32),
        feature_ids=feature_of_poly[vert_poly].astype(np.uint32),
        indices=triangles.reshape(-1).astype(np.uint32),
    )
    return mesh, int((~ok).sum())


def _fan(points: np.ndarray, unit: np.ndarray, start: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fan triangles for triangles and convex quads; returns (triangles, handled mask over the inputs)."""
    tri = size == 3
    quad = size == 4
    out = [np.column_stack([start[tri], start[tri] + 1, start[tri] + 2])]
    handled = tri.copy()
    if quad.any():
        s = start[quad]
        p = points[s[:, None] + np.arange(4)]
        n = unit[quad]
        edges = np.roll(p, -1, axis=1) - p
        turns = np.cross(edges, np.roll(edges, -1, axis=1))
        convex = (np.einsum("ijk,ik->ij", turns, n) > 0).all(axis=1)
        s = s[convex]
        out.append(np.column_stack([s, s + 1, s + 2]))
        out.append(np.column_stack([s, s + 2, s + 3]))
        handled[np.flatnonzero(quad)[convex]] = True
    return np.concatenate(out).astype(np.int64), handled
