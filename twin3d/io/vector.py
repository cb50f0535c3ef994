"""Vector files (GeoJSON, GeoPackage, Shapefile, FlatGeobuf) through GDAL, read as whole columns.

Example:
    >>> from pyproj import CRS  # doctest: +SKIP
    >>> table = read_vector(Path("geodata/lauf/lauf_buildings.geojson"), CRS.from_epsg(25832))  # doctest: +SKIP
    >>> len(table), table.source_crs.to_epsg()  # doctest: +SKIP
    (6492, 4326)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from twin3d.errors import CRSError, InputError
from twin3d.io.crs import parse_crs, reproject

_GEOJSON_CRS_MEMBER = re.compile(rb'"crs"\s*:\s*\{[^{}]*"properties"\s*:\s*\{[^{}]*"name"\s*:\s*"([^"]+)"', re.DOTALL)
_GEOJSON_SUFFIXES = {".geojson", ".json"}


@dataclass(frozen=True)
class FeatureTable:
    """Features of one file: geometries in the target CRS and their attributes, row by row.

    Attributes:
        path: the file read.
        source_crs: the CRS the file was in.
        geometry: shapely geometries (2D) in the target CRS; ``None`` where the file had no geometry.
        attributes: one row per geometry, the file's fields as columns.
    """

    path: Path
    source_crs: CRS
    geometry: np.ndarray
    attributes: pa.Table

    def __len__(self) -> int:
        return len(self.geometry)

    def column(self, name: str) -> pa.ChunkedArray:
        """A field by name; the error names the fields the file does have."""
        if name not in self.attributes.column_names:
            raise InputError(
                f"field {name!r} not found",
                file=self.path,
                hint=f"the file has: {', '.join(self.attributes.column_names) or 'no fields'}",
            )
        return self.attributes.column(name)

    def take(self, mask: np.ndarray) -> FeatureTable:
        """The rows where ``mask`` is true."""
        return FeatureTable(self.path, self.source_crs, self.geometry[mask], self.attributes.filter(pa.array(mask)))


def declared_geojson_crs(path: Path) -> str | None:
    """The CRS named by a GeoJSON file's (pre-RFC 7946) ``crs`` member, or None.

    GDAL silently falls back to WGS 84 when that member names an unknown CRS, so callers look at it themselves.
    """
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    match = _GEOJSON_CRS_MEMBER.search(head)
    return match.group(1).decode("utf-8", "replace") if match else None


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", file=path, hint="check the path in the pipeline definition")
    if path.is_file() and path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", file=path, hint="export the data again")


def read_vector(
    path: Path,
    target_crs: CRS,
    *,
    declared_crs: str | None = None,
    layer: str | None = None,
) -> FeatureTable:
    """Read a vector file and reproject its geometries to ``target_crs``.

    Args:
        path: GeoJSON, GeoPackage, Shapefile or any other format GDAL reads.
        target_crs: the twin's projected CRS.
        declared_crs: the CRS to assume, for files that carry none or a wrong one.
        layer: the layer to read in multi-layer files (GeoPackage); default the first.

    Returns:
        The features, geometries forced to 2D and reprojected; coordinates that cannot be transformed become
        ``inf`` so that the caller can report those records.

    Raises:
        InputError: the file is missing, empty, truncated or not a vector format GDAL knows.
        CRSError: the file's CRS is unknown and none is declared.
    """
    _check_readable(path)
    file_crs_text: str | None = None
    if path.suffix.lower() in _GEOJSON_SUFFIXES:
        file_crs_text = declared_geojson_crs(path)
        if file_crs_text is not None and declared_crs is None:
            parse_crs(file_crs_text, file=path)  # raises CRSError on a CRS PROJ does not know
    try:
        meta, table = pyogrio.read_arrow(path, layer=layer)
    except (DataSourceError, DataLayerError) as exc:
        detail = str(exc).split(";")[-1].strip() or str(exc)
        raise InputError(
            f"cannot be read as vector data: {detail}",
            file=path,
            hint="the file may be truncated or in another format; export it again as GeoJSON or GeoPackage",
        ) from exc
    if declared_crs is not None:
        source_crs = parse_crs(declared_crs, file=path)
    elif meta.get("crs"):
        source_crs = parse_crs(meta["crs"], file=path)
    else:
        raise CRSError(
            "the file has no CRS",
            file=path,
            hint='declare it with crs = "EPSG:...." for this source in the pipeline definition',
        )
    geom_name = meta.get("geometry_name") or "wkb_geometry"
    if geom_name not in table.column_names:
        raise InputError("the file has no geometry column", file=path, hint="use a spatial format, not a table")
    wkb = table.column(geom_name).to_numpy(zero_copy_only=False)
    geoms = shapely.force_2d(shapely.from_wkb(wkb, on_invalid="ignore"))
    attributes = table.drop_columns([geom_name])
    return FeatureTable(path, source_crs, reproject(geoms, source_crs, target_crs), attributes)
