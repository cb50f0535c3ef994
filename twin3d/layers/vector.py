"""Vector layers: read through GDAL (pyogrio, as Arrow), checked, repaired, reprojected, stored as GeoParquet.

``features.parquet`` (GeoParquet 1.1) holds, per feature:

- ``fid`` (int64): the record's 1-based position in the source file, the stable id of OGC API Features items;
- the file's attributes, named as plain SQL identifiers (:func:`column_names`; the catalogue keeps the
  original names);
- ``geometry``: 2D WKB in the twin's CRS, the primary column (areas, lengths, joins with the twin in metres);
- ``geom_wgs84``: WKB in lon/lat (OGC:CRS84), for GeoJSON and OGC API responses and for vector tiles (a
  per-tile ``ST_Transform`` to EPSG:3857 of the few rows a tile touches);
- ``bbox`` (struct xmin, ymin, xmax, ymax): the lon/lat box of ``geom_wgs84``, declared as its GeoParquet
  covering, so that a bounding-box filter skips whole row groups.

Rows are sorted along a Hilbert curve over their box centres and written in row groups of 8,192 rows: a tile or
bbox query then touches few row groups.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from twin3d.errors import ConfigError, CRSError, InputError
from twin3d.io.crs import finite_mask, parse_crs, reproject
from twin3d.io.vector import declared_geojson_crs
from twin3d.layers.context import WGS84, LoadOptions, TwinInfo, check_region, feature_number
from twin3d.layers.model import LayerStyle, LegendItem, SourceFormat
from twin3d.layers.report import LoadReport
from twin3d.settings import LayerSettings

RESERVED = ("fid", "geometry", "geom_wgs84", "bbox")
FAMILIES = ("points", "lines", "polygons", "geometry collections")
ROW_GROUP_SIZE = 8192
# shapely type id -> family index in FAMILIES (Point, LineString, LinearRing, Polygon, Multi*, GeometryCollection)
_FAMILY_OF_TYPE = np.array([0, 1, 1, 2, 0, 1, 2, 3])
_TYPE_NAMES = np.array(
    [
        "Point",
        "LineString",
        "LinearRing",
        "Polygon",
        "MultiPoint",
        "MultiLineString",
        "MultiPolygon",
        "GeometryCollection",
    ]
)
_LONLAT_X = {"lon", "lng", "long", "longitude"}
_LONLAT_Y = {"lat", "latitude"}
_CSV_OPTIONS = {
    "X_POSSIBLE_NAMES": ",".join(sorted(_LONLAT_X)) + ",x,easting,rechtswert,ostwert",
    "Y_POSSIBLE_NAMES": ",".join(sorted(_LONLAT_Y)) + ",y,northing,hochwert,nordwert",
    "GEOM_POSSIBLE_NAMES": "wkt,geometry,geom,the_geom,wkb_geometry",
    "AUTODETECT_TYPE": "YES",
}


@dataclass(frozen=True)
class SourceTable:
    """The features of a file as read: geometries in the file's CRS, attributes, how to name a record."""

    path: Path
    format: SourceFormat
    crs: CRS
    geometry: np.ndarray
    attributes: pa.Table
    record_of: Callable[[int], str]


@dataclass(frozen=True)
class Features:
    """Checked features ready to store: rows of the source kept, in both CRSs."""

    rows: np.ndarray
    geometry: np.ndarray
    geometry_wgs84: np.ndarray
    family: str


def crs_label(crs: CRS) -> str:
    """``EPSG:25832`` style where the CRS has an authority code, else its name."""
    authority = crs.to_authority(min_confidence=90)
    return f"{authority[0]}:{authority[1]}" if authority else crs.name


def _csv_row(i: int) -> str:
    return f"{i + 1} (line {i + 2})"


def _csv_crs(path: Path, opts: LoadOptions) -> tuple[str | None, dict[str, str]]:
    """CSV files carry no CRS: lon/lat columns imply WGS 84; x/y or WKT columns need ``--crs``."""
    info = pyogrio.read_info(path, **_CSV_OPTIONS, KEEP_GEOM_COLUMNS="YES")
    names = {str(f).lower() for f in info["fields"]}
    if opts.crs is None and not (names & _LONLAT_X and names & _LONLAT_Y) and info["geometry_type"]:
        raise CRSError(
            "a CSV file carries no CRS and its coordinate columns are not lon/lat",
            file=path,
            hint="declare the CRS of its x/y or WKT column with --crs EPSG:.... (e.g. EPSG:25832)",
        )
    if not info["geometry_type"]:
        raise InputError(
            "the CSV file has no coordinate columns",
            file=path,
            hint=f"name them lon/lat, x/y or wkt; it has: {', '.join(map(str, info['fields'])) or 'no columns'}",
        )
    return (opts.crs or "OGC:CRS84"), {**_CSV_OPTIONS, "KEEP_GEOM_COLUMNS": "NO"}


def _gpkg_layer(path: Path, wanted: str | None) -> str:
    layers = pyogrio.list_layers(path)
    spatial = [str(name) for name, geometry_type in layers if geometry_type is not None]
    if wanted is not None:
        if wanted not in {str(name) for name, _ in layers}:
            raise InputError(
                f"the GeoPackage has no layer {wanted!r}", file=path, hint=f"its layers: {', '.join(spatial)}"
            )
        return wanted
    if len(spatial) != 1:
        raise InputError(
            f"the GeoPackage holds {len(spatial)} spatial layers",
            file=path,
            hint=f"choose one with --source-layer ({', '.join(spatial) or 'none'})",
        )
    return spatial[0]


def _how_to_open(
    path: Path, fmt: SourceFormat, opts: LoadOptions
) -> tuple[str | None, dict[str, str], str | None, Callable[[int], str]]:
    """The CRS to assume, GDAL open options, the layer to read, and how records are named."""
    if fmt == "geojson" and opts.crs is None:
        named = declared_geojson_crs(path)
        if named is not None:
            parse_crs(named, file=path)  # GDAL would read an unknown CRS as WGS 84 without a word
    if fmt == "csv":
        declared, options = _csv_crs(path, opts)
        return declared, options, None, _csv_row
    if fmt == "shapefile" and opts.encoding:
        return opts.crs, {"ENCODING": opts.encoding}, None, feature_number  # GDAL recodes shapefile text itself
    layer = _gpkg_layer(path, opts.source_layer) if fmt == "gpkg" else None
    return opts.crs, {}, layer, feature_number


def read_source(path: Path, fmt: SourceFormat, opts: LoadOptions, limits: LayerSettings) -> SourceTable:
    """Read every feature of a vector file in its own CRS.

    Raises:
        InputError: truncated or damaged file, no geometry column, too many features, non-UTF-8 text.
        CRSError: unknown CRS, or none in the file and none declared.
    """
    try:
        declared, options, layer, record_of = _how_to_open(path, fmt, opts)
        count = int(pyogrio.read_info(path, layer=layer, **options)["features"])
        if count > limits.max_features:
            raise InputError(
                f"{count:,} features, more than the limit of {limits.max_features:,}",
                file=path,
                hint="split the file, or raise TWIN3D_LAYER_MAX_FEATURES",
            )
        meta, table = pyogrio.read_arrow(path, layer=layer, **options)
    except (DataSourceError, DataLayerError) as exc:
        detail = str(exc).split(";")[-1].strip() or str(exc)
        raise InputError(
            f"cannot be read as {fmt}: {detail}",
            file=path,
            hint="the file may be truncated or damaged; export it again",
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"field names are not UTF-8: {exc}", file=path, hint="declare the file's encoding, e.g. --encoding cp1252"
        ) from exc
    if len(table) > limits.max_features:
        raise InputError(f"more than {limits.max_features:,} features", file=path, hint="split the file")
    if declared is not None:
        crs = parse_crs(declared, file=path)
    elif meta.get("crs"):
        crs = parse_crs(meta["crs"], file=path)
    else:
        raise CRSError("the file has no CRS", file=path, hint="declare it with --crs EPSG:.... (e.g. EPSG:25832)")
    geom_name = meta.get("geometry_name") or "wkb_geometry"
    if geom_name not in table.column_names:
        raise InputError("the file has no geometry column", file=path, hint="load a spatial layer, not a table")
    wkb = table.column(geom_name).to_numpy(zero_copy_only=False)
    geometry = shapely.force_2d(shapely.from_wkb(wkb, on_invalid="ignore"))
    attributes = table.drop_columns([geom_name])
    if opts.encoding and fmt != "shapefile":
        attributes = _recode(attributes, opts.encoding, path)
    else:
        _check_utf8(attributes, path, record_of, meta.get("encoding"))
    return SourceTable(path, fmt, crs, geometry, attributes, record_of)


def _string_columns(table: pa.Table) -> list[str]:
    return [f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]


def _check_utf8(table: pa.Table, path: Path, record_of: Callable[[int], str], file_encoding: str | None) -> None:
    for name in _string_columns(table):
        column = table.column(name)
        try:
            column.validate(full=True)
        except pa.ArrowInvalid:
            # Only on the error path: find the record to name, value by value.
            values = column.cast(pa.binary()).to_pylist()
            bad = next(i for i, v in enumerate(values) if v is not None and not _is_utf8(v))
            said = f" (the file says {file_encoding})" if file_encoding and file_encoding.upper() != "UTF-8" else ""
            raise InputError(
                f"attribute {name!r} is not UTF-8 text: {values[bad][:40]!r}{said}",
                file=path,
                record=record_of(bad),
                hint="declare the file's encoding with --encoding (e.g. cp1252 or latin-1), or save it as UTF-8",
            ) from None


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _recode(table: pa.Table, encoding: str, path: Path) -> pa.Table:
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise ConfigError(f"unknown encoding {encoding!r}", file=path, hint="e.g. cp1252, latin-1, utf-8") from exc
    for name in _string_columns(table):
        raw = table.column(name).cast(pa.binary()).to_pylist()
        try:
            text = [None if v is None else v.decode(encoding) for v in raw]
        except UnicodeDecodeError as exc:
            raise InputError(
                f"attribute {name!r} is not {encoding}: {exc}", file=path, hint="check --encoding"
            ) from exc
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(text, pa.string()))
    return table


def _family_part(geoms: np.ndarray, family: int) -> np.ndarray:
    """The parts of each geometry that belong to ``family`` (collections from make_valid or mixed files)."""
    outer, owner_outer = shapely.get_parts(geoms, return_index=True)
    parts, owner_inner = shapely.get_parts(outer, return_index=True)
    owner = owner_outer[owner_inner]
    wanted = _FAMILY_OF_TYPE[shapely.get_type_id(parts)] == family
    out = np.full(len(geoms), None, dtype=object)
    build = (shapely.multipoints, shapely.multilinestrings, shapely.multipolygons)[family]
    build(parts[wanted], indices=owner[wanted], out=out)
    missing = shapely.is_missing(out)
    out[missing] = shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
    single = ~missing & (shapely.get_num_geometries(out) == 1)
    out[single] = shapely.get_geometry(out[single], 0)
    return out


def _source_range(src: SourceTable, rows: np.ndarray, geoms: np.ndarray) -> None:
    b = shapely.bounds(geoms)
    bad = ~np.isfinite(b).all(axis=1)
    if src.crs.is_geographic:
        bad |= (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    hint = (
        "lon must lie within +-180 and lat within +-90: the file is probably in a projected CRS; "
        "declare it with --crs EPSG:.... (e.g. EPSG:25832)"
        if src.crs.is_geographic
        else "coordinates must be finite numbers"
    )
    raise InputError(
        f"coordinates out of range for {crs_label(src.crs)}: x {b[k, 0]:.6g}..{b[k, 2]:.6g}, "
        f"y {b[k, 1]:.6g}..{b[k, 3]:.6g}; {int(bad.sum()):,} record(s) in all",
        file=src.path,
        record=src.record_of(int(rows[k])),
        hint=hint,
    )


def _one_family(src: SourceTable, rows: np.ndarray, geoms: np.ndarray, only: str | None) -> int:
    """The family index of the layer; rows of other families raise, or are dropped with ``only``."""
    types = shapely.get_type_id(geoms)
    family = _FAMILY_OF_TYPE[types]
    if only is None:
        other = np.flatnonzero(family != family[0])
        if len(other) or family[0] == 3:
            k = int(other[0]) if len(other) else 0
            raise InputError(
                f"mixed geometry types: record {src.record_of(int(rows[0]))} is a {_TYPE_NAMES[types[0]]}, "
                f"this one a {_TYPE_NAMES[types[k]]}"
                if len(other)
                else "geometry collections mix geometry types",
                file=src.path,
                record=src.record_of(int(rows[k])),
                hint="a layer holds one family (points, lines or polygons; single and multi parts mix freely): "
                "split the file, or keep one family with --only points|lines|polygons",
            )
        return int(family[0])
    return FAMILIES.index(only)


def check_features(
    src: SourceTable, twin: TwinInfo, opts: LoadOptions, limits: LayerSettings, report: LoadReport
) -> Features:
    """Drop missing and empty geometries, check coordinates and geometry families, reproject, repair.

    Rules: records without geometry, with an empty one, or (with ``--only``) of another family are dropped and
    counted; coordinates outside the source CRS's range, ones that cannot be transformed, features outside the
    twin's region and (without ``--only``) mixed families raise, naming the first such record. Invalid
    geometries are repaired in the twin's CRS with ``make_valid`` (keeping the layer's family); those that
    come out empty are dropped and counted.

    Raises:
        InputError: as above, or when no feature is left.
    """
    geoms = src.geometry
    report.records_in = len(geoms)
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    report.drop("no geometry", int(missing.sum()))
    report.drop("empty geometry", int(empty.sum()))
    rows = np.flatnonzero(~(missing | empty))
    if not len(rows):
        raise InputError("the file has no features with a geometry", file=src.path, hint="check the export")
    g = geoms[rows]
    _source_range(src, rows, g)
    family = _one_family(src, rows, g, opts.only)
    if opts.only is not None:
        g = g.copy()
        mixed = _FAMILY_OF_TYPE[shapely.get_type_id(g)] == 3
        g[mixed] = _family_part(g[mixed], family)
        other = (_FAMILY_OF_TYPE[shapely.get_type_id(g)] != family) | shapely.is_empty(g)
        report.drop(f"not {opts.only} (--only)", int(other.sum()))
        rows, g = rows[~other], g[~other]
        if not len(rows):
            raise InputError(f"the file has no {opts.only}", file=src.path, hint="choose another --only")

    t = reproject(g, src.crs, twin.crs)
    if t is g:
        t = g.copy()
    finite = finite_mask(t)
    if not finite.all():
        k = int(np.flatnonzero(~finite)[0])
        raise InputError(
            f"coordinates cannot be transformed from {crs_label(src.crs)} to the twin's {crs_label(twin.crs)}",
            file=src.path,
            record=src.record_of(int(rows[k])),
            hint="check the file's CRS, or declare the right one with --crs",
        )
    invalid = ~shapely.is_valid(t)
    keep = np.ones(len(t), dtype=bool)
    if invalid.any():
        fixed = _family_part(shapely.make_valid(t[invalid]), family)
        t[invalid] = fixed
        lost = shapely.is_empty(fixed)
        report.repaired = int((~lost).sum())
        keep[np.flatnonzero(invalid)[lost]] = False
        report.drop("invalid geometry that could not be repaired", int(lost.sum()))
    rows, t = rows[keep], t[keep]
    if not len(rows):
        raise InputError("no feature has a usable geometry", file=src.path, hint="repair the data and export it again")
    w = reproject(t, twin.crs, WGS84)
    check_region(
        shapely.bounds(w), twin, limits.max_distance_km, file=src.path, record_of=lambda k: src.record_of(int(rows[k]))
    )
    report.records_out = len(rows)
    return Features(rows, t, w, FAMILIES[family])


def hilbert_order(x: np.ndarray, y: np.ndarray, bits: int = 16) -> np.ndarray:
    """Indices that sort points along a Hilbert curve over their bounding box (nearby rows stay together)."""
    if not len(x):
        return np.zeros(0, dtype=np.int64)
    n = 1 << bits
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-12)
    xi = ((x - x.min()) / span * (n - 1)).astype(np.int64)
    yi = ((y - y.min()) / span * (n - 1)).astype(np.int64)
    d = np.zeros(len(x), dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        xi = np.where(flip, n - 1 - xi, xi)
        yi = np.where(flip, n - 1 - yi, yi)
        xi, yi = np.where(~ry, yi, xi), np.where(~ry, xi, yi)
        s >>= 1
    return np.argsort(d, kind="stable")


def _geo_metadata(features: Features, twin_crs: CRS, bounds: np.ndarray) -> dict[str, Any]:
    types = sorted(set(_TYPE_NAMES[np.unique(shapely.get_type_id(features.geometry))].tolist()))
    twin_box = list(shapely.total_bounds(features.geometry))
    wgs_box = [
        float(bounds[:, 0].min()),
        float(bounds[:, 1].min()),
        float(bounds[:, 2].max()),
        float(bounds[:, 3].max()),
    ]
    return {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "WKB",
                "geometry_types": types,
                "crs": json.loads(twin_crs.to_json()),
                "bbox": [float(v) for v in twin_box],
            },
            "geom_wgs84": {
                "encoding": "WKB",
                "geometry_types": types,
                "bbox": wgs_box,
                "covering": {"bbox": {k: ["bbox", k] for k in ("xmin", "ymin", "xmax", "ymax")}},
            },
        },
    }


def column_names(names: list[str]) -> list[str]:
    """Plain SQL identifiers (``[a-z_][a-z0-9_]{0,62}``) for the file's field names, unique and clear of the
    reserved columns, so that the server can put them into queries without quoting (``addr:street`` becomes
    ``addr_street``)."""
    used = set(RESERVED)
    out = []
    for name in names:
        base = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "field"
        base = base if re.match(r"[a-z_]", base) else f"f_{base}"
        stored, n = base[:63], 2
        while stored in used:
            stored, n = f"{base[:58]}_{n}", n + 1
        used.add(stored)
        out.append(stored)
    return out


def write_features(
    path: Path, src: SourceTable, features: Features, twin_crs: CRS
) -> tuple[dict[str, str], dict[str, str]]:
    """Write ``features.parquet`` (see the module docstring).

    Returns:
        The stored attribute fields (name -> Arrow type), and the stored names that differ from the file's
        (stored name -> name in the file).
    """
    bounds = shapely.bounds(features.geometry_wgs84)
    order = hilbert_order((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)
    rows = features.rows[order]
    attributes = src.attributes.take(pa.array(rows))
    stored = column_names(attributes.column_names)
    renamed = {new: old for new, old in zip(stored, attributes.column_names, strict=True) if new != old}
    attributes = attributes.rename_columns(stored)
    box = bounds[order]
    table = (
        attributes.add_column(0, "fid", pa.array(rows + 1, pa.int64()))
        .append_column("geometry", pa.array(shapely.to_wkb(features.geometry[order]), pa.binary()))
        .append_column("geom_wgs84", pa.array(shapely.to_wkb(features.geometry_wgs84[order]), pa.binary()))
        .append_column(
            "bbox",
            pa.StructArray.from_arrays(
                [pa.array(box[:, k], pa.float64()) for k in range(4)], names=["xmin", "ymin", "xmax", "ymax"]
            ),
        )
    )
    geo = _geo_metadata(features, twin_crs, bounds)
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    pq.write_table(table, path, row_group_size=ROW_GROUP_SIZE, compression="zstd")
    return {f.name: str(f.type) for f in attributes.schema}, renamed


def default_style(family: str) -> LayerStyle:
    """Distinct defaults per family, so that a new layer is visible at once."""
    if family == "points":
        return LayerStyle(fill_color="#f59e0b", line_color="#7c2d12", line_width=1.0, opacity=0.9)
    if family == "lines":
        return LayerStyle(fill_color="#dc2626", line_color="#dc2626", line_width=2.0, opacity=0.9)
    return LayerStyle(fill_color="#2563eb", line_color="#1e3a8a", line_width=1.0, opacity=0.4)


def default_legend(title: str, family: str, style: LayerStyle) -> list[LegendItem]:
    """One legend line: the layer's title in its colour."""
    symbol = {"points": "point", "lines": "line"}.get(family, "fill")
    color = style.line_color if family == "lines" else style.fill_color
    return [LegendItem(label=title, color=color, symbol=symbol)]


def check_extrusion(style: LayerStyle, fields: dict[str, str], renamed: dict[str, str], path: Path) -> LayerStyle:
    """The style with its extrusion property as stored (a field's name in the file is accepted too).

    Raises:
        ConfigError: the property is not a numeric field of the layer.
    """
    name = style.extrusion_property
    if name is None:
        return style
    name = {old: new for new, old in renamed.items()}.get(name, name)
    numeric = ("int", "uint", "float", "double", "decimal")
    if name not in fields or not fields[name].startswith(numeric):
        raise ConfigError(
            f"extrusion property {style.extrusion_property!r} is not a numeric field of the layer",
            file=path,
            hint=f"numeric fields: {', '.join(k for k, v in fields.items() if v.startswith(numeric)) or 'none'}",
        )
    return style.model_copy(update={"extrusion_property": name})
