"""LoD2 meshes: planar 3D polygons with holes (CityGML/CityJSON boundary surfaces) triangulated in bulk.

Every polygon keeps its own vertices and one flat normal (Newell's method, robust for slightly non-planar rings).
Polygons are triangulated in their own plane (the two axes their normal points along least): convex outlines
without holes, nearly every face of real LoD2 models, as fans with array operations; the rest through earcut.
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS

from twin3d.io.surfaces import Buildings3D, ragged_arange
from twin3d.tiling.geodesy import LocalFrame, projected_to_enu_normal
from twin3d.tiling.mesh import Mesh, Rings, triangulate_rings


def newell_normals(points: np.ndarray, ring_start: np.ndarray, ring_size: np.ndarray) -> np.ndarray:
    """Unnormalised normals (twice the vector area) of rings of ``points`` given by start and size (Newell)."""
    return _newell_rows(np.asarray(points).T, ring_start, ring_size).T


def _newell_rows(rows: np.ndarray, ring_start: np.ndarray, ring_size: np.ndarray) -> np.ndarray:
    """:func:`newell_normals` of points given as x, y, z rows; the normals as rows too, (3, rings)."""
    idx = ragged_arange(ring_start, ring_size)
    owner = np.repeat(np.arange(len(ring_start)), ring_size)
    nxt = idx + 1
    ends = np.cumsum(ring_size) - 1
    nxt[ends[ring_size > 0]] = ring_start[ring_size > 0]  # wrap each ring around
    x, y, z = rows[:, idx]
    xn, yn, zn = rows[:, nxt]
    out = np.empty((3, len(ring_start)))
    out[0] = np.bincount(owner, weights=(y - yn) * (z + zn), minlength=len(ring_start))
    out[1] = np.bincount(owner, weights=(z - zn) * (x + xn), minlength=len(ring_start))
    out[2] = np.bincount(owner, weights=(x - xn) * (y + yn), minlength=len(ring_start))
    return out


# The two axes kept when the normal points most along x, y or z.
_KEEP = np.array([[1, 2], [0, 2], [0, 1]])
# Whether those two axes, in that order, see a polygon whose normal points along +x, +y or +z counter-clockwise.
_CCW = np.array([1.0, -1.0, 1.0])


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
    enu, up = projected_to_enu_normal(xyz[:, 0], xyz[:, 1], crs, frame)
    enu += (xyz[:, 2] + z_offset) * up  # heights are ellipsoidal: along the ellipsoid normal (exact)
    ring_start = np.cumsum(ring_size) - ring_size
    ext = np.cumsum(rings_per_poly) - rings_per_poly  # each polygon's first ring: its exterior

    normal = _newell_rows(enu, ring_start[ext], ring_size[ext]).T
    length = np.linalg.norm(normal, axis=1)
    # A face is degenerate when its area (|normal| / 2) is below 1 mm².
    ok = length > 2e-6
    unit = np.zeros_like(normal)
    unit[ok] = normal[ok] / length[ok, None]

    # Each vertex in its polygon's plane (the two axes its normal points along least); an outline running along
    # its normal turns counter-clockwise there when ``turning`` is +1.
    vert_poly = np.repeat(np.repeat(np.arange(len(poly_ids)), rings_per_poly), ring_size)
    drop = np.argmax(np.abs(unit), axis=1)
    turning = _CCW[drop] * np.sign(unit[np.arange(len(drop)), drop])
    vert_drop = drop[vert_poly]
    flat = np.empty((len(vert_poly), 2))
    flat[:, 0] = np.where(vert_drop == 0, enu[1], enu[0])
    flat[:, 1] = np.where(vert_drop == 2, enu[1], enu[2])

    nxt = np.arange(1, len(vert_poly) + 1)
    nxt[ring_start + ring_size - 1] = ring_start
    exterior = np.zeros(len(ring_size), dtype=bool)
    exterior[ext] = True
    ring_of_vertex = np.repeat(np.arange(len(ring_size)), ring_size)
    rings = Rings(flat, ring_start, ring_size, exterior, vert_poly, ring_of_vertex, nxt)
    ring_poly = np.repeat(np.arange(len(poly_ids)), rings_per_poly)
    triangles = triangulate_rings(rings, sign=turning[ring_poly], usable=ok)

    # Wind every triangle the way its face's normal points (a polygon that is not quite plane can turn one over).
    (ax, ay, az), (bx, by, bz), (cx, cy, cz) = (enu[:, triangles[:, i]] for i in range(3))
    ux, uy, uz = unit[vert_poly[triangles[:, 0]]].T
    bx, by, bz, cx, cy, cz = bx - ax, by - ay, bz - az, cx - ax, cy - ay, cz - az
    flip = (by * cz - bz * cy) * ux + (bz * cx - bx * cz) * uy + (bx * cy - by * cx) * uz < 0
    triangles[flip] = triangles[flip][:, ::-1]

    normals = unit[vert_poly]
    normals[~ok[vert_poly]] = (0.0, 0.0, 1.0)
    mesh = Mesh(
        positions=enu.T,
        normals=normals.astype(np.float32),
        feature_ids=feature_of_poly[vert_poly].astype(np.uint32),
        indices=triangles.reshape(-1).astype(np.uint32),
    )
    return mesh, int((~ok).sum())
