"""Loaded layers as inputs of scenario measures: the polygons of a hazard (``hazard`` with ``layer``), and the noise
level at homes (``noise_map``).

A layer counts for a scenario only if the scenario's audience may see it (a council layer cannot shape a public
scenario's results, which would show its outline), as :meth:`twin3d.simulation.infill.LayerSource.plan` decides for
plans. Where a layer cannot be used the functions return None and a reason code instead of raising: the engine
notes the code in the result and goes on, as it does for a plan layer.

Noise levels are read, in dB, from

- a raster layer (a GeoTIFF loaded with ``twin3d layers add``, e.g. a state's L_DEN map): band 1 at each point,
  nearest pixel, NaN outside the raster and on no-data pixels; or
- a polygon layer (e.g. noise bands imported from a WFS) with a numeric attribute named, in this order of
  preference, one of :data:`NOISE_FIELDS` (case-insensitive, as stored or as named in the file): the highest level
  of the polygons a point lies in, NaN outside them. A band's lower bound (``db_lo``) stands for the band.

A WMS or WMTS map layer is a picture, not levels: it is refused with ``layer_not_levels``.

Example:
    >>> layers, crs = LayerSource(paths, "lauf"), CRS("EPSG:25832")  # doctest: +SKIP
    >>> areas, reason = hazard_areas(layers, "hochwasser", "public", crs)  # doctest: +SKIP
    >>> levels, reason = noise_at(layers, "laerm", "public", crs, x, y)  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import rasterio
import shapely
from pyproj import CRS, Transformer
from rasterio.windows import Window

from twin3d.errors import NotFoundError, StoreError
from twin3d.layers.catalogue import get_layer, layer_file
from twin3d.layers.model import LayerEntry, visible_to
from twin3d.simulation.infill import LayerSource

NOISE_FIELDS = ("lden", "l_den", "db", "dba", "db_a", "pegel", "laerm_db", "db_lo")
"""Attributes of a polygon layer read as the noise level in dB, the first one found."""
NUMERIC = ("int", "uint", "float", "double", "decimal")


def layer_for_scenario(layers: LayerSource, layer_id: str, visibility: str) -> tuple[LayerEntry | None, str | None]:
    """The catalogue entry of ``layer_id`` if a scenario of ``visibility`` may use it, else None and why:
    ``layer_missing`` (no such layer, or a broken entry) or ``layer_hidden`` (a narrower audience than the
    scenario's)."""
    try:
        entry = get_layer(layers.paths, layers.twin, layer_id)
    except (NotFoundError, StoreError):
        return None, "layer_missing"
    if not visible_to(entry.visibility, visibility):
        return None, "layer_hidden"
    return entry, None


def _geometry(
    layers: LayerSource, entry: LayerEntry, crs: CRS, columns: list[str]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The stored features' geometries in ``crs`` and the asked attribute columns (as numpy arrays)."""
    path = layer_file(layers.paths, entry, "features")
    same = CRS.from_user_input(entry.crs) == crs
    table = pq.read_table(path, columns=["geometry" if same else "geom_wgs84", *columns])
    wkb = np.asarray(table.column(0).to_numpy(zero_copy_only=False), dtype=object)
    geometry = shapely.from_wkb(wkb)
    if not same:  # stored in another twin's CRS (a layer folder copied over): from lon/lat, whatever it was
        to_crs = Transformer.from_crs(4326, crs, always_xy=True)
        geometry = shapely.transform(geometry, lambda xy: np.column_stack(to_crs.transform(xy[:, 0], xy[:, 1])))
    values = {name: table.column(name).to_numpy(zero_copy_only=False) for name in columns}
    return geometry, values


def hazard_areas(layers: LayerSource, layer_id: str, visibility: str, crs: CRS) -> tuple[np.ndarray | None, str | None]:
    """The polygons of a loaded vector layer in the twin's CRS, for a ``hazard`` measure with ``layer``.

    Args:
        layers: where the twin's layers are.
        layer_id: the layer.
        visibility: the scenario's audience (``public``, ``council``, ``admin``).
        crs: the twin's CRS.

    Returns:
        The valid, non-empty polygons (shapely array) and None; or None and a reason: ``layer_missing``,
        ``layer_hidden``, ``layer_not_polygons`` (a point, line, raster, map or 3D layer), ``layer_empty``.
    """
    entry, reason = layer_for_scenario(layers, layer_id, visibility)
    if entry is None:
        return None, reason
    if entry.kind != "vector" or entry.geometry_type != "polygons":
        return None, "layer_not_polygons"
    geometry, _ = _geometry(layers, entry, crs, [])
    keep = ~shapely.is_empty(geometry) & (shapely.area(geometry) > 0)
    if not keep.any():
        return None, "layer_empty"
    return geometry[keep], None


def noise_field(entry: LayerEntry) -> str | None:
    """The stored attribute of a polygon layer read as the level in dB (see :data:`NOISE_FIELDS`), or None."""
    by_name = {name.lower(): name for name, kind in entry.fields.items() if kind.startswith(NUMERIC)}
    by_source = {
        original.lower(): stored for stored, original in entry.field_sources.items() if stored in by_name.values()
    }
    for wanted in NOISE_FIELDS:
        found = by_name.get(wanted) or by_source.get(wanted)
        if found is not None:
            return found
    return None


def _raster_levels(path: Path, crs: CRS, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Band 1 at the points (nearest pixel), NaN outside the raster and on no-data pixels; one window read."""
    out = np.full(len(x), np.nan)
    with rasterio.open(path) as ds:
        to_raster = Transformer.from_crs(crs, CRS.from_user_input(ds.crs.to_wkt()), always_xy=True)
        rx, ry = to_raster.transform(x, y)
        inverse = ~ds.transform  # pixel = inverse affine of the point, written out (Affine's `*` is deprecated)
        rx, ry = np.asarray(rx), np.asarray(ry)
        cols = inverse.a * rx + inverse.b * ry + inverse.c
        rows = inverse.d * rx + inverse.e * ry + inverse.f
        col, row = np.floor(cols).astype(np.int64), np.floor(rows).astype(np.int64)
        inside = np.isfinite(cols) & np.isfinite(rows) & (col >= 0) & (row >= 0) & (col < ds.width) & (row < ds.height)
        if not inside.any():
            return out
        c0, c1, r0, r1 = col[inside].min(), col[inside].max(), row[inside].min(), row[inside].max()
        block = ds.read(1, window=Window(c0, r0, c1 - c0 + 1, r1 - r0 + 1), masked=True)
        picked = block[row[inside] - r0, col[inside] - c0]
        out[inside] = np.ma.filled(picked.astype(np.float64), np.nan)
    return out


def _polygon_levels(geometry: np.ndarray, levels: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The highest level of the polygons each point lies in, NaN outside them."""
    out = np.full(len(x), np.nan)
    valid = np.isfinite(levels) & ~shapely.is_empty(geometry)
    if not valid.any() or not len(x):
        return out
    points = shapely.points(x, y)
    point, polygon = shapely.STRtree(geometry[valid]).query(points, predicate="intersects")
    if len(point):
        np.fmax.at(out, point, levels[valid][polygon])
    return out


def noise_at(  # noqa: PLR0917  (points as x, y like the engine's other samplers)
    layers: LayerSource, layer_id: str, visibility: str, crs: CRS, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray | None, str | None]:
    """The noise level in dB at points, from a loaded raster or polygon layer, for a ``noise_map`` measure.

    Args:
        layers: where the twin's layers are.
        layer_id: the layer.
        visibility: the scenario's audience.
        crs: the twin's CRS, in which ``x`` and ``y`` are given.
        x, y: the points (e.g. the homes), float arrays of equal length.

    Returns:
        Levels in dB per point (NaN where the layer has none) and None; or None and a reason: ``layer_missing``,
        ``layer_hidden``, ``layer_not_levels`` (a map picture, points, lines or a 3D layer), ``layer_no_levels``
        (polygons without a numeric attribute of :data:`NOISE_FIELDS`).
    """
    entry, reason = layer_for_scenario(layers, layer_id, visibility)
    if entry is None:
        return None, reason
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if entry.kind in ("raster", "terrain"):
        return _raster_levels(layer_file(layers.paths, entry, "raster"), crs, x, y), None
    if entry.kind != "vector" or entry.geometry_type != "polygons":
        return None, "layer_not_levels"
    field = noise_field(entry)
    if field is None:
        return None, "layer_no_levels"
    geometry, values = _geometry(layers, entry, crs, [field])
    levels = np.asarray(values[field], dtype=np.float64)
    return _polygon_levels(geometry, levels, x, y), None
