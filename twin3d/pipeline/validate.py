"""Geometry checks and repairs, whole arrays at a time, each reporting what it dropped and why."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS

from twin3d.errors import CRSError
from twin3d.io.crs import finite_mask, transform_points
from twin3d.io.vector import FeatureTable

# How far outside its CRS's area of use a twin's data may reach before we call the CRS wrong. Bavaria keeps all of
# its data in UTM zone 32 (EPSG:25832, 6-12 E) although it reaches 13.8 E; 3 degrees leave room for such states.
REGION_MARGIN_DEG = 3.0

POLYGONAL = ("Polygon", "MultiPolygon")
LINEAR = ("LineString", "MultiLineString")
PUNCTUAL = ("Point", "MultiPoint")


@dataclass
class CheckResult:
    """Geometries after checks: the kept mask over the input, repaired geometries, reasons for the rest."""

    geometry: np.ndarray
    keep: np.ndarray
    repaired: int = 0
    reasons: dict[str, np.ndarray] = field(default_factory=dict)

    def reject(self, mask: np.ndarray, reason: str) -> None:
        """Mark rows (a boolean mask over the input) as dropped for ``reason``, unless already dropped."""
        new = mask & self.keep
        if new.any():
            self.reasons[reason] = np.flatnonzero(new)
            self.keep &= ~new


def region_bounds(crs: CRS) -> tuple[float, float, float, float]:
    """The lon/lat box in which a twin in ``crs`` may have data: the CRS's area of use plus a margin."""
    area = crs.area_of_use
    if area is None:
        return (-180.0, -90.0, 180.0, 90.0)
    m = REGION_MARGIN_DEG
    return (area.west - m, area.south - m, area.east + m, area.north + m)


def check_region(table: FeatureTable, twin_crs: CRS) -> np.ndarray:
    """True for features whose centre lies in the twin's region.

    Raises:
        CRSError: no feature at all lies there, which means the file's CRS is wrong or it shows another place.
    """
    geoms = table.geometry
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    ok = np.zeros(len(geoms), dtype=bool)
    finite = present.copy()
    finite[present] = finite_mask(geoms[present])
    if finite.any():
        centres = shapely.centroid(geoms[finite])
        lon, lat = transform_points(shapely.get_x(centres), shapely.get_y(centres), twin_crs, CRS.from_epsg(4326))
        west, south, east, north = region_bounds(twin_crs)
        ok[finite] = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    if present.any() and not ok.any():
        hint = 'the file\'s CRS is probably wrong: declare the right one with crs = "EPSG:...." for this source'
        if table.source_crs.is_geographic and finite.any():
            # Latitude and longitude swapped land in the region: the file's axis order is the other one.
            swapped = (lat >= west) & (lat <= east) & (lon >= south) & (lon <= north)
            if swapped.mean() > 0.5:
                hint = (
                    "the coordinates lie in the region with latitude and longitude swapped: the file's axis order "
                    'differs from its CRS\'s; declare crs = "OGC:CRS84" for longitude first, or "EPSG:4326" for '
                    "latitude first"
                )
        raise CRSError(
            f"no feature lies in the twin's region (read as {table.source_crs.name})", file=table.path, hint=hint
        )
    return ok


def check_geometries(
    table: FeatureTable, twin_crs: CRS, kinds: tuple[str, ...], *, min_area: float = 0.0
) -> CheckResult:
    """Check, repair and filter the geometries of a feature table.

    Drops, each with its reason: missing or empty geometries, coordinates PROJ could not transform, features
    outside the twin's region, geometry types other than ``kinds``, invalid geometries that cannot be repaired,
    and polygons smaller than ``min_area`` m². Invalid polygons are repaired with ``make_valid`` (counted) and
    repeated corners are removed.
    """
    geoms = table.geometry.copy()
    result = CheckResult(geoms, np.ones(len(geoms), dtype=bool))
    result.reject(shapely.is_missing(geoms) | shapely.is_empty(geoms), "no geometry")
    finite = np.zeros(len(geoms), dtype=bool)
    finite[result.keep] = finite_mask(geoms[result.keep])
    result.reject(~finite, "coordinates outside the valid range of the source CRS")
    in_region = np.zeros(len(geoms), dtype=bool)
    in_region[result.keep] = check_region(table.take(result.keep), twin_crs)
    result.reject(~in_region, "outside the twin's region")
    types = np.asarray(shapely.get_type_id(geoms))
    names = np.array(
        [
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
            "Missing",
        ],
        dtype=object,
    )
    type_names = names[np.where(types < 0, 8, types)]
    wrong = ~np.isin(type_names, kinds)
    for bad_type in np.unique(type_names[wrong & result.keep]):
        result.reject(wrong & (type_names == bad_type), f"geometry type {bad_type} (expected {' or '.join(kinds)})")

    idx = np.flatnonzero(result.keep)
    if kinds == POLYGONAL and len(idx):
        fixed = shapely.remove_repeated_points(geoms[idx], tolerance=0.001)
        invalid = ~shapely.is_valid(fixed)
        if invalid.any():
            repaired = shapely.make_valid(fixed[invalid])
            # make_valid may return collections with slivers or lines; keep only the polygonal part.
            repaired = _polygonal_part(repaired)
            fixed[invalid] = repaired
            result.repaired = int((~shapely.is_empty(repaired)).sum())
        geoms[idx] = fixed
        bad = np.zeros(len(geoms), dtype=bool)
        bad[idx] = shapely.is_empty(fixed)
        result.reject(bad, "invalid geometry that could not be repaired")
        small = np.zeros(len(geoms), dtype=bool)
        small[idx] = shapely.area(fixed) < min_area
        result.reject(small, f"footprint smaller than {min_area:g} m²")
    result.geometry = geoms
    return result


def _polygonal_part(geoms: np.ndarray) -> np.ndarray:
    outer, owner_outer = shapely.get_parts(geoms, return_index=True)
    parts, owner_inner = shapely.get_parts(outer, return_index=True)
    owner = owner_outer[owner_inner]
    polygons = shapely.get_type_id(parts) == 3
    out = np.full(len(geoms), None, dtype=object)
    shapely.multipolygons(parts[polygons], indices=owner[polygons], out=out)
    missing = shapely.is_missing(out)
    out[missing] = shapely.Polygon()
    # A single part reads better as a Polygon than as a one-part MultiPolygon.
    single = ~missing & (shapely.get_num_geometries(out) == 1)
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def duplicate_mask(ids: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """True for every occurrence of an id after its first."""
    arr = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    first = pc.index_in(arr, value_set=pc.unique(arr)).to_numpy(zero_copy_only=False)
    seen = np.zeros(len(first), dtype=bool)
    _, first_pos = np.unique(first, return_index=True)
    seen[first_pos] = True
    return ~seen
