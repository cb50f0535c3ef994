"""What the tiler meshes: LoD1 blocks from footprints, LoD2 surfaces, or a mix of both in one twin.

Every kind answers the same questions (where is each building, how big will its mesh be, mesh these buildings)
so that partitioning, levels of detail and tile writing do not care where the buildings came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import shapely
from pyproj import CRS

from twin3d.io.surfaces import Buildings3D, ragged_arange
from twin3d.tiling.geodesy import LocalFrame
from twin3d.tiling.mesh import Mesh, estimate_vertices, extrude
from twin3d.tiling.surfaces import triangulate


class BuildingGeometry(Protocol):
    """Buildings the tiler can place, size and mesh (indices are positions in this collection)."""

    @property
    def crs(self) -> CRS:
        """The twin's projected CRS."""
        ...

    def __len__(self) -> int: ...

    def centroids(self) -> np.ndarray:
        """(n, 2) footprint centres in the twin's CRS."""
        ...

    def footprints(self) -> np.ndarray:
        """2D footprints in the twin's CRS (for coarse levels of detail)."""
        ...

    def heights(self) -> tuple[np.ndarray, np.ndarray]:
        """Base and top of each building, metres above the ellipsoid."""
        ...

    def vertex_estimate(self) -> np.ndarray:
        """Vertices each building's full-detail mesh will have (for capping tiles)."""
        ...

    def mesh(self, members: np.ndarray, frame: LocalFrame) -> Mesh:
        """The full-detail mesh of ``members``; feature ids are positions in ``members``."""
        ...

    def fingerprint(self, members: np.ndarray) -> bytes:
        """Bytes that change whenever the geometry of ``members`` changes (for incremental rebuilds)."""
        ...

    def take(self, members: np.ndarray) -> BuildingGeometry:
        """The buildings ``members`` alone (a partition sent to a worker): whatever it answers for its own
        buildings is what this collection answers for them, so tiles do not depend on how the twin was cut."""
        ...


def concat_meshes(parts: list[tuple[Mesh, np.ndarray]]) -> Mesh:
    """Join meshes, mapping each part's feature ids through its array of output feature ids."""
    parts = [(m, ids) for m, ids in parts if m.vertex_count]
    if not parts:
        return Mesh(np.zeros((0, 3)), np.zeros((0, 3), np.float32), np.zeros(0, np.uint32), np.zeros(0, np.uint32))
    offsets = np.cumsum([0] + [m.vertex_count for m, _ in parts[:-1]])
    return Mesh(
        positions=np.concatenate([m.positions for m, _ in parts]),
        normals=np.concatenate([m.normals for m, _ in parts]),
        feature_ids=np.concatenate([ids[m.feature_ids] for m, ids in parts]).astype(np.uint32),
        indices=np.concatenate([m.indices + off for (m, _), off in zip(parts, offsets, strict=True)]).astype(np.uint32),
    )


@dataclass(frozen=True)
class ExtrudedBuildings:
    """LoD1: footprints extruded from ``base`` to ``top`` (both above the ellipsoid)."""

    footprint: np.ndarray
    base: np.ndarray
    top: np.ndarray
    crs: CRS

    def __len__(self) -> int:
        return len(self.footprint)

    def centroids(self) -> np.ndarray:
        cached = self.__dict__.get("_centroids")
        if cached is None:
            c = shapely.centroid(self.footprint)
            cached = np.column_stack([shapely.get_x(c), shapely.get_y(c)])
            object.__setattr__(self, "_centroids", cached)  # partitioning and the quadtree ask for the same
        return np.asarray(cached)

    def footprints(self) -> np.ndarray:
        return self.footprint

    def heights(self) -> tuple[np.ndarray, np.ndarray]:
        return self.base, self.top

    def vertex_estimate(self) -> np.ndarray:
        return estimate_vertices(self.footprint)

    def mesh(self, members: np.ndarray, frame: LocalFrame) -> Mesh:
        return extrude(self.footprint[members], self.base[members], self.top[members], self.crs, frame)

    def fingerprint(self, members: np.ndarray) -> bytes:
        # Coordinates and the shape of each footprint (parts, holes, corners): 4x cheaper than WKB.
        shapes = self.footprint[members]
        counts = np.stack(
            [
                shapely.get_num_geometries(shapes),
                shapely.get_num_interior_rings(shapes),
                shapely.get_num_coordinates(shapes),
            ]
        )
        return b"".join(
            a.tobytes() for a in (shapely.get_coordinates(shapes), counts, self.base[members], self.top[members])
        )

    def take(self, members: np.ndarray) -> ExtrudedBuildings:
        part = ExtrudedBuildings(self.footprint[members], self.base[members], self.top[members], self.crs)
        if (cached := self.__dict__.get("_centroids")) is not None:
            object.__setattr__(part, "_centroids", cached[members])
        return part


@dataclass(frozen=True)
class SurfaceBuildings:
    """LoD2 (or LoD1 solids): the planar polygons of 3D buildings; ``z_offset`` turns z into ellipsoidal height."""

    buildings: Buildings3D
    z_offset: float
    crs: CRS
    footprint: np.ndarray | None = None  # when the caller has them already (computing them is not cheap)

    def __len__(self) -> int:
        return len(self.buildings)

    def centroids(self) -> np.ndarray:
        c = shapely.centroid(self.footprints())
        return np.column_stack([shapely.get_x(c), shapely.get_y(c)])

    def footprints(self) -> np.ndarray:
        if self.footprint is not None:
            return self.footprint
        cached = self.__dict__.get("_footprints")
        if cached is None:
            cached = self.buildings.footprints()
            object.__setattr__(self, "_footprints", cached)
        return np.asarray(cached)

    def heights(self) -> tuple[np.ndarray, np.ndarray]:
        cached = self.__dict__.get("_heights")
        if cached is None:
            lo, hi = self.buildings.z_range()
            cached = (lo + self.z_offset, hi + self.z_offset)
            object.__setattr__(self, "_heights", cached)
        lo_hi: tuple[np.ndarray, np.ndarray] = cached
        return lo_hi

    def vertex_estimate(self) -> np.ndarray:
        return np.bincount(self.buildings.building_of_vertex(), minlength=len(self.buildings))

    def mesh(self, members: np.ndarray, frame: LocalFrame) -> Mesh:
        mesh, _ = triangulate(self.buildings, members, frame, self.crs, self.z_offset)
        return mesh

    def fingerprint(self, members: np.ndarray) -> bytes:
        b = self.buildings
        polygons = ragged_arange(b.building_polygons[members], np.diff(b.building_polygons)[members])
        vertices = b.vertices[b.vertex_ids(members)]
        offset = np.array([self.z_offset], dtype=np.float64)
        return bytes(vertices.tobytes()) + bytes(b.polygon_kind[polygons].tobytes()) + bytes(offset.tobytes())

    def take(self, members: np.ndarray) -> SurfaceBuildings:
        part = SurfaceBuildings(self.buildings.subset(members), self.z_offset, self.crs, self.footprints()[members])
        base, top = self.heights()
        object.__setattr__(part, "_heights", (base[members], top[members]))
        return part


@dataclass(frozen=True)
class MixedBuildings:
    """Several geometry kinds in one twin, indexed one after another."""

    parts: tuple[BuildingGeometry, ...]
    crs: CRS

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def _bounds(self) -> np.ndarray:
        return np.cumsum([0] + [len(p) for p in self.parts])

    def centroids(self) -> np.ndarray:
        return np.concatenate([p.centroids() for p in self.parts])

    def footprints(self) -> np.ndarray:
        return np.concatenate([p.footprints() for p in self.parts])

    def heights(self) -> tuple[np.ndarray, np.ndarray]:
        pairs = [p.heights() for p in self.parts]
        return np.concatenate([a for a, _ in pairs]), np.concatenate([b for _, b in pairs])

    def vertex_estimate(self) -> np.ndarray:
        return np.concatenate([p.vertex_estimate() for p in self.parts])

    def fingerprint(self, members: np.ndarray) -> bytes:
        bounds = self._bounds()
        out = []
        for i, part in enumerate(self.parts):
            mine = members[(members >= bounds[i]) & (members < bounds[i + 1])]
            out.append(part.fingerprint(mine - bounds[i]))
        return b"|".join(out)

    def mesh(self, members: np.ndarray, frame: LocalFrame) -> Mesh:
        bounds = self._bounds()
        pieces = []
        for i, part in enumerate(self.parts):
            mine = np.flatnonzero((members >= bounds[i]) & (members < bounds[i + 1]))
            if len(mine):
                pieces.append((part.mesh(members[mine] - bounds[i], frame), mine))
        return concat_meshes(pieces)

    def take(self, members: np.ndarray) -> MixedBuildings:
        # Every part stays, empty or not: the fingerprint joins the parts in order.
        bounds = self._bounds()
        return MixedBuildings(
            tuple(
                part.take(members[(members >= bounds[i]) & (members < bounds[i + 1])] - bounds[i])
                for i, part in enumerate(self.parts)
            ),
            self.crs,
        )
