"""3D buildings as flat arrays of planar polygons: what the CityGML and CityJSON readers produce.

Geometry is held in compressed-sparse-row form so that millions of polygons live in a handful of numpy arrays
(no Python object per vertex or polygon) and can be triangulated in bulk:

* ``vertices[ring_offsets[r]:ring_offsets[r + 1]]`` are the corners of ring ``r`` (open: the first corner is not
  repeated at the end),
* ``polygon_rings[p]:polygon_rings[p + 1]`` are the rings of polygon ``p`` (the first is the exterior),
* ``building_polygons[b]:building_polygons[b + 1]`` are the polygons of building ``b``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

# Columns every reader fills in ``Buildings3D.attributes`` (null where the source does not say).
ATTRIBUTE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),  # gml:id / CityObject id
        pa.field("function", pa.string()),  # e.g. ALKIS code "31001_1000" or the CityObject type
        pa.field("name", pa.string()),
        pa.field("measured_height", pa.float64()),  # as stated by the source, metres
        pa.field("roof_type", pa.string()),
        pa.field("storeys", pa.float64()),  # storeysAboveGround
        pa.field("lod", pa.float64()),  # the LoD the geometry comes from (1, 2, 2.2, ...)
    ]
)


def ragged_arange(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ranges ``[starts[i], starts[i] + counts[i])`` without a Python loop."""
    counts = np.asarray(counts, dtype=np.int64)
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - counts), counts) + np.arange(total, dtype=np.int64)


class SurfaceKind(IntEnum):
    """What a polygon is (CityGML boundary surface types; ``SOLID`` for LoD1 solids and unlabelled faces)."""

    SOLID = 0
    GROUND = 1
    WALL = 2
    ROOF = 3
    CLOSURE = 4
    OUTER_FLOOR = 5
    OUTER_CEILING = 6


# The boundary surface types by their name in CityGML (element) and CityJSON (semantic surface "type").
SURFACE_KIND_BY_NAME = {
    "GroundSurface": SurfaceKind.GROUND,
    "WallSurface": SurfaceKind.WALL,
    "RoofSurface": SurfaceKind.ROOF,
    "ClosureSurface": SurfaceKind.CLOSURE,
    "OuterFloorSurface": SurfaceKind.OUTER_FLOOR,
    "OuterCeilingSurface": SurfaceKind.OUTER_CEILING,
}


@dataclass(frozen=True)
class Buildings3D:
    """A chunk of 3D buildings from one file.

    Attributes:
        path: the file they come from.
        source_crs: the file's horizontal CRS (before any reprojection).
        vertices: (v, 3) float64 x, y in the target CRS, z in the file's height system.
        ring_offsets: (r + 1,) int64 offsets into ``vertices``.
        polygon_rings: (p + 1,) int64 offsets into the rings; the first ring of a polygon is its exterior.
        polygon_kind: (p,) uint8 :class:`SurfaceKind` of each polygon.
        building_polygons: (b + 1,) int64 offsets into the polygons.
        attributes: one row per building, with at least the columns of :data:`ATTRIBUTE_SCHEMA`.
    """

    path: Path
    source_crs: CRS
    vertices: np.ndarray
    ring_offsets: np.ndarray
    polygon_rings: np.ndarray
    polygon_kind: np.ndarray
    building_polygons: np.ndarray
    attributes: pa.Table

    def __len__(self) -> int:
        return len(self.building_polygons) - 1

    @property
    def polygon_count(self) -> int:
        return len(self.polygon_rings) - 1

    def building_of_polygon(self) -> np.ndarray:
        """(p,) index of the building each polygon belongs to."""
        return np.repeat(np.arange(len(self)), np.diff(self.building_polygons))

    def polygon_of_ring(self) -> np.ndarray:
        """(r,) index of the polygon each ring belongs to."""
        return np.repeat(np.arange(self.polygon_count), np.diff(self.polygon_rings))

    def building_of_vertex(self) -> np.ndarray:
        """(v,) index of the building each vertex belongs to."""
        ring_building = self.building_of_polygon()[self.polygon_of_ring()]
        return np.repeat(ring_building, np.diff(self.ring_offsets))

    def take(self, keep: np.ndarray) -> Buildings3D:
        """The buildings where the boolean mask ``keep`` is true, with offsets rebuilt."""
        return self.subset(np.flatnonzero(keep))

    def vertex_ids(self, members: np.ndarray) -> np.ndarray:
        """Indices into ``vertices`` of the buildings ``members``, in order."""
        bp, pr, ro = self.building_polygons, self.polygon_rings, self.ring_offsets
        poly_ids = ragged_arange(bp[members], bp[members + 1] - bp[members])
        ring_ids = ragged_arange(pr[poly_ids], pr[poly_ids + 1] - pr[poly_ids])
        return ragged_arange(ro[ring_ids], ro[ring_ids + 1] - ro[ring_ids])

    def subset(self, members: np.ndarray) -> Buildings3D:
        """The buildings at the indices ``members`` (in that order), with offsets rebuilt."""
        members = np.asarray(members, dtype=np.int64)
        bp, pr, ro = self.building_polygons, self.polygon_rings, self.ring_offsets
        polys_per = bp[members + 1] - bp[members]
        poly_ids = ragged_arange(bp[members], polys_per)
        rings_per = pr[poly_ids + 1] - pr[poly_ids]
        ring_ids = ragged_arange(pr[poly_ids], rings_per)
        sizes = ro[ring_ids + 1] - ro[ring_ids]

        def offsets(counts: np.ndarray) -> np.ndarray:
            return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

        return Buildings3D(
            self.path,
            self.source_crs,
            self.vertices[ragged_arange(ro[ring_ids], sizes)],
            offsets(sizes),
            offsets(rings_per),
            self.polygon_kind[poly_ids],
            offsets(polys_per),
            self.attributes.take(pa.array(members)),
        )

    def z_range(self) -> tuple[np.ndarray, np.ndarray]:
        """Lowest and highest z per building (NaN for a building without vertices)."""
        n = len(self)
        lo = np.full(n, np.inf)
        hi = np.full(n, -np.inf)
        owner = self.building_of_vertex()
        np.minimum.at(lo, owner, self.vertices[:, 2])
        np.maximum.at(hi, owner, self.vertices[:, 2])
        lo[~np.isfinite(lo)] = np.nan
        hi[~np.isfinite(hi)] = np.nan
        return lo, hi

    def footprints(self) -> np.ndarray:
        """2D footprint per building: the union of its ground surfaces, else of all its faces seen from above.

        Returns:
            shapely geometries (an empty Polygon where a building has no polygon with area).
        """
        n = len(self)
        out = np.array([shapely.Polygon()] * n, dtype=object)
        if self.polygon_count == 0:
            return out
        ring_poly = self.polygon_of_ring()
        rings = shapely.linearrings(
            self.vertices[:, :2], indices=np.repeat(np.arange(len(self.ring_offsets) - 1), np.diff(self.ring_offsets))
        )
        # Rings are stored exterior first within each polygon, which is the order shapely expects with indices.
        polygons = shapely.polygons(rings, indices=ring_poly)
        owner = self.building_of_polygon()
        # Only the polygons an outline may come from are made valid (the costly part): ground surfaces, and every
        # face of a building without any ground surface with area. Walls seen from above are slivers.
        ground = self.polygon_kind == SurfaceKind.GROUND
        polygons[ground] = shapely.make_valid(polygons[ground])
        ground &= shapely.area(polygons) > 1e-6
        has_ground = np.zeros(n, dtype=bool)
        has_ground[owner[ground]] = True
        others = ~has_ground[owner]
        polygons[others] = shapely.make_valid(polygons[others])
        use = np.where(has_ground[owner], ground, others & (shapely.area(polygons) > 1e-6))
        parts, part_owner = shapely.get_parts(polygons[use], return_index=True)
        part_owner = owner[use][part_owner]
        keep = shapely.get_type_id(parts) == 3
        merged = np.full(n, None, dtype=object)
        shapely.multipolygons(parts[keep], indices=part_owner[keep], out=merged)
        present = ~shapely.is_missing(merged)
        # buffer(0) dissolves the shared edges of adjacent faces (roof planes seen from above) into one outline.
        out[present] = shapely.buffer(merged[present], 0)
        return out


@dataclass
class SkipLog:
    """What a reader left out: broken objects when asked to keep going past them (``skip_invalid``), and appearance.

    Attributes:
        entries: (file, object id, reason) per skipped object.
        textured: per file, how many surfaces had a texture or a material (twin3d draws LoD2 untextured).
    """

    entries: list[tuple[str, str, str]] = field(default_factory=list)
    textured: dict[str, int] = field(default_factory=dict)

    def add(self, path: Path | str, object_id: str, reason: str) -> None:
        self.entries.append((str(path), object_id, reason))

    def add_textured(self, path: Path | str, surfaces: int) -> None:
        """Count ``surfaces`` of ``path`` whose texture or material was left out."""
        if surfaces:
            self.textured[str(path)] = self.textured.get(str(path), 0) + surfaces

    def __len__(self) -> int:
        return len(self.entries)


def empty_attributes(n: int = 0) -> pa.Table:
    """An attribute table of ``n`` null rows in :data:`ATTRIBUTE_SCHEMA` (ids must be filled in)."""
    return pa.table({f.name: pa.nulls(n, f.type) for f in ATTRIBUTE_SCHEMA})


def empty_buildings(path: Path, source_crs: CRS) -> Buildings3D:
    """A chunk without buildings."""
    zero = np.zeros(1, dtype=np.int64)
    return Buildings3D(
        path, source_crs, np.zeros((0, 3)), zero, zero.copy(), np.zeros(0, np.uint8), zero.copy(), empty_attributes()
    )


def concat(chunks: list[Buildings3D]) -> Buildings3D:
    """Join chunks of the same file into one (offsets shifted); at least one chunk is needed."""
    if len(chunks) == 1:
        return chunks[0]
    vertex_base = np.cumsum([0] + [len(c.vertices) for c in chunks[:-1]])
    ring_base = np.cumsum([0] + [len(c.ring_offsets) - 1 for c in chunks[:-1]])
    poly_base = np.cumsum([0] + [c.polygon_count for c in chunks[:-1]])
    return Buildings3D(
        path=chunks[0].path,
        source_crs=chunks[0].source_crs,
        vertices=np.concatenate([c.vertices for c in chunks]),
        ring_offsets=np.concatenate(
            [chunks[0].ring_offsets[:1]] + [c.ring_offsets[1:] + b for c, b in zip(chunks, vertex_base, strict=True)]
        ),
        polygon_rings=np.concatenate(
            [chunks[0].polygon_rings[:1]] + [c.polygon_rings[1:] + b for c, b in zip(chunks, ring_base, strict=True)]
        ),
        polygon_kind=np.concatenate([c.polygon_kind for c in chunks]),
        building_polygons=np.concatenate(
            [chunks[0].building_polygons[:1]]
            + [c.building_polygons[1:] + b for c, b in zip(chunks, poly_base, strict=True)]
        ),
        attributes=pa.concat_tables([c.attributes for c in chunks], promote_options="default"),
    )
