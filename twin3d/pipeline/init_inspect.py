"""What a GIS team's files hold, for ``twin3d init``: format, layers, geometry, count, CRS, extent and fields.

Each file is looked at as cheaply as its format allows and never written: vector layers through GDAL's metadata
(``pyogrio.read_info``) and the attributes of their first records, census grids through the grid reader
(:func:`twin3d.io.zensus.read_grid`), other CSV tables as text, CityGML and NAS XML in one streaming pass that
counts objects, CityJSON from its document, OpenStreetMap extracts from their header and a filtered pass, and a
DEM from a decimated read of its one band.

Example:
    >>> found = inspect_file(Path("geodata/monzel/monzel_alkis.gpkg"))  # doctest: +SKIP
    >>> [(i.label, i.geometry, i.count) for i in found]  # doctest: +SKIP
    [('monzel_alkis.gpkg:flurstuecke', 'polygon', 2369), ...]
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.alkis import LAND_USE_CLASSES
from twin3d.io.crs import WGS84, parse_crs, transform_points
from twin3d.io.stats import LAEA_EUROPE
from twin3d.io.vector import declared_geojson_crs
from twin3d.io.xml_stream import local_name, stream_elements

KNOWN_FORMATS = (
    "GeoPackage (.gpkg), Shapefile (.shp), GeoJSON (.geojson, .json), FlatGeobuf (.fgb), "
    "CSV (census grid, district statistics or a code list), CityGML (.gml, .xml), CityJSON (.city.json, .jsonl), "
    "ALKIS NAS XML (.xml, .gml), OpenStreetMap (.osm.pbf, .osm), GeoTIFF DEM (.tif)"
)
SAMPLE_ROWS = 20_000
"""Attribute rows read per layer to judge fields by their content."""
OSM_COUNT_MAX_BYTES = 256 << 20
"""OSM extracts up to this size get their buildings, streets and POIs counted (about 6 s per 100 MB)."""

_VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".xml", ".kml", ".sqlite", ".zip"}
_RASTER_SUFFIXES = {".tif", ".tiff", ".asc", ".vrt", ".img"}
_OSM_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.gz", ".osm.bz2")
_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv")
_GEOMETRY_FAMILY = {0: "point", 4: "point", 1: "line", 2: "line", 5: "line", 3: "polygon", 6: "polygon"}
_NAS_OBJECTS = {"ax_flurstueck": "parcels", "ax_gebaeude": "buildings"} | dict.fromkeys(LAND_USE_CLASSES, "land_use")
_CITYGML_ATTRIBUTES = ("measuredheight", "storeysaboveground", "function", "rooftype", "height")
_OSM_KEYS = ("building", "highway", "amenity", "leisure", "shop", "public_transport", "landuse", "natural")
_CITYJSON = re.compile(rb'"type"\s*:\s*"CityJSON"')
_METADATA_KEYS = re.compile(r"(copyright|licen[cs]e|attribution|rights|source|artist|author|publisher)", re.I)


@dataclass(frozen=True)
class LayerInfo:
    """One layer of one file, as far as ``twin3d init`` needs to know it.

    Attributes:
        path: the file.
        format: how twin3d reads it: ``vector``, ``grid`` (census grid CSV), ``table`` (another CSV), ``citygml``,
            ``cityjson``, ``nas``, ``osm`` or ``raster``.
        driver: the file format by name (``GPKG``, ``GeoJSON``, ``CityGML 2.0`` ...).
        layer: the layer of a multi-layer file, else None.
        geometry: ``polygon``, ``line``, ``point``, ``mixed``, ``none`` (a table), ``3d`` or ``raster``.
        count: features, cells, buildings or rows; None where counting would cost too much.
        crs: the file's CRS, None where it names none.
        bounds: the extent in ``crs`` (xmin, ymin, xmax, ymax), None where unknown.
        fields: attribute names (the variables of a grid, the columns of a table).
        sample: the attributes of up to :data:`SAMPLE_ROWS` records (vector layers and tables).
        metadata: the file's own metadata that may say who published it (copyright, licence, source).
        details: what is particular to the format (object counts of a NAS file, a DEM's heights ...).
    """

    path: Path
    format: str
    driver: str
    layer: str | None
    geometry: str
    count: int | None
    crs: CRS | None
    bounds: tuple[float, float, float, float] | None
    fields: tuple[str, ...] = ()
    sample: pa.Table | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``file`` or ``file:layer``."""
        return f"{self.path.name}:{self.layer}" if self.layer else self.path.name

    def lonlat_bounds(self) -> tuple[float, float, float, float] | None:
        """The extent in WGS 84 longitude/latitude, None without a CRS or an extent."""
        if self.crs is None or self.bounds is None:
            return None
        x0, y0, x1, y1 = self.bounds
        # The box's edges are sampled, so a projected box maps to the lon/lat box that holds it.
        t = np.linspace(0.0, 1.0, 11)
        xs = np.concatenate([x0 + (x1 - x0) * t, np.full(11, x1), x1 - (x1 - x0) * t, np.full(11, x0)])
        ys = np.concatenate([np.full(11, y0), y0 + (y1 - y0) * t, np.full(11, y1), y1 - (y1 - y0) * t])
        lon, lat = transform_points(xs, ys, self.crs, WGS84)
        ok = np.isfinite(lon) & np.isfinite(lat)
        if not ok.any():
            return None
        return float(lon[ok].min()), float(lat[ok].min()), float(lon[ok].max()), float(lat[ok].max())


def _unknown(path: Path, why: str) -> InputError:
    return InputError(f"not a format twin3d init knows: {why}", file=path, hint=f"known: {KNOWN_FORMATS}")


def _head(path: Path, size: int = 1 << 16) -> bytes:
    with path.open("rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    with gzip.open(path, "rb") if gzipped else path.open("rb") as fh:
        return fh.read(size)


def _crs_or_none(text: str | None, path: Path) -> CRS | None:
    return parse_crs(text, file=path) if text else None


def _metadata(*sources: Mapping[str, Any] | None) -> dict[str, str]:
    """The metadata entries that may name a publisher or a licence."""
    found: dict[str, str] = {}
    for source in sources:
        for key, value in (source or {}).items():
            if isinstance(value, str) and value.strip() and _METADATA_KEYS.search(str(key)):
                found[str(key)] = value.strip()
    return found


def _geometry_family(ogr_type: str | None, path: Path, layer: str, options: dict[str, str]) -> str:
    """Point, line or polygon from GDAL's layer type; a layer of mixed or unknown type is judged by its records."""
    if ogr_type:
        lowered = ogr_type.lower().replace(" z", "").replace(" m", "")
        for key, family in (("polygon", "polygon"), ("surface", "polygon"), ("line", "line"), ("point", "point")):
            if key in lowered and "collection" not in lowered:
                return family
    try:
        meta, table = pyogrio.read_arrow(path, layer=layer, max_features=500, columns=[], **options)
    except (DataSourceError, DataLayerError):
        return "none"
    name = meta.get("geometry_name") or "wkb_geometry"
    if name not in table.column_names:
        return "none"
    geoms = shapely.from_wkb(table.column(name).to_numpy(zero_copy_only=False), on_invalid="ignore")
    families = {_GEOMETRY_FAMILY.get(int(t)) for t in np.unique(shapely.get_type_id(geoms)) if t >= 0}
    families.discard(None)
    if not families:
        return "none"
    return families.pop() if len(families) == 1 else "mixed"  # type: ignore[return-value]


def _layer_names(path: Path, options: dict[str, str]) -> list[str]:
    """The layers of a file; GML files are opened with ``WRITE_GFS=NO`` so that GDAL writes nothing beside them."""
    if not options:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    names: list[str] = []
    while True:
        try:
            names.append(str(pyogrio.read_info(path, layer=len(names), **options)["layer_name"]))
        except DataLayerError:
            return names


def _inspect_vector(path: Path) -> list[LayerInfo]:
    declared = declared_geojson_crs(path) if path.suffix.lower() in {".geojson", ".json"} else None
    if declared is not None:
        parse_crs(declared, file=path)  # GDAL reads an unknown crs member as WGS 84 without a word
    options = {"WRITE_GFS": "NO"} if path.suffix.lower() in {".gml", ".xml"} else {}
    try:
        names = _layer_names(path, options)
    except (DataSourceError, DataLayerError) as exc:
        raise _unknown(path, str(exc).split(";")[-1].strip() or "GDAL cannot open it") from exc
    out = []
    for name in names:
        layer = name if len(names) > 1 or path.suffix.lower() == ".gpkg" else None
        try:
            info = pyogrio.read_info(path, layer=name, force_feature_count=True, force_total_bounds=True, **options)
            _, sample = pyogrio.read_arrow(path, layer=name, read_geometry=False, max_features=SAMPLE_ROWS, **options)
        except (DataSourceError, DataLayerError) as exc:
            detail = str(exc).split(";")[-1].strip() or str(exc)
            raise InputError(f"cannot be read as vector data: {detail}", file=path, hint="export it again") from exc
        bounds = info.get("total_bounds")
        finite = bounds is not None and np.all(np.isfinite(np.asarray(bounds, dtype=float)))
        out.append(
            LayerInfo(
                path=path,
                format="vector",
                driver=str(info.get("driver") or "GDAL"),
                layer=layer,
                geometry=_geometry_family(info.get("geometry_type"), path, name, options),
                count=int(info["features"]) if info.get("features") is not None else None,
                crs=_crs_or_none(info.get("crs"), path),
                bounds=tuple(float(v) for v in bounds) if finite else None,  # type: ignore[arg-type]
                fields=tuple(str(f) for f in info["fields"]),
                sample=sample,
                metadata=_metadata(info.get("dataset_metadata"), info.get("layer_metadata")),
            )
        )
    return out


def _header(path: Path) -> str:
    raw = _head(path).split(b"\n", 1)[0].removeprefix(b"\xef\xbb\xbf").rstrip(b"\r")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _inspect_grid(path: Path, header: str) -> LayerInfo:
    from twin3d.io.zensus import read_grid  # noqa: PLC0415  (the grid reader only for grid tables)

    grid = read_grid(path, LAEA_EUROPE)
    variables = tuple(dict.fromkeys(grid.stats.values.column("variable").to_pylist()))
    resolution = float(np.max(grid.resolution_m)) if len(grid.resolution_m) else 0.0
    bounds = shapely.total_bounds(grid.geometry) if len(grid.geometry) else None
    return LayerInfo(
        path=path,
        format="grid",
        driver="Zensus 2022 grid CSV" if "GITTER_ID" in header else "Eurostat census grid CSV",
        layer=None,
        geometry="polygon",
        count=len(grid.cell_ids),
        crs=LAEA_EUROPE,
        bounds=tuple(float(v) for v in bounds) if bounds is not None else None,  # type: ignore[arg-type]
        fields=variables,
        details={"layout": "zensus" if "GITTER_ID" in header else "eurostat", "resolution_m": resolution},
    )


def _inspect_csv(path: Path) -> LayerInfo:
    """A census grid (by its id column), else any table: district statistics or a code list, told apart later."""
    if path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", file=path, hint="export the table again")
    header = _header(path)
    names_semicolon = [n.strip().strip('"') for n in header.split(";")]
    if any(re.match(r"^GITTER_ID_\d+(km|m)$", n) for n in names_semicolon) or "GRD_ID" in header.split(","):
        return _inspect_grid(path, header)
    delimiter = max((";", ",", "\t"), key=header.count)
    table = None
    for encoding in ("utf8", "cp1252"):
        try:
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=encoding),
                parse_options=pacsv.ParseOptions(delimiter=delimiter),
                convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
            )
            break
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            error = exc
    if table is None:
        raise InputError(f"not a readable CSV table: {error}", file=path, hint="save it as UTF-8 CSV, one header row")
    if table.num_columns < 2:
        raise _unknown(path, f"a CSV table with one column ({header[:80]!r})")
    return LayerInfo(
        path=path,
        format="table",
        driver=f"CSV ({'tab' if delimiter == chr(9) else repr(delimiter)}-separated)",
        layer=None,
        geometry="none",
        count=table.num_rows,
        crs=None,
        bounds=None,
        fields=tuple(table.column_names),
        sample=table.slice(0, SAMPLE_ROWS),
        details={"delimiter": delimiter},
    )


@dataclass
class _GmlScan:
    """What one streaming pass over a GML file found."""

    objects: Counter[str] = field(default_factory=Counter)
    attributes: Counter[str] = field(default_factory=Counter)
    srs: str | None = None
    first_id: str | None = None
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    z_min: float | None = None

    def extend(self, text: str | None, dimension: int) -> None:
        values = np.array((text or "").split(), dtype=np.float64) if text else np.empty(0)
        if len(values) >= dimension:
            values = values[: len(values) - len(values) % dimension].reshape(-1, dimension)
            self.x += [float(values[:, 0].min()), float(values[:, 0].max())]
            self.y += [float(values[:, 1].min()), float(values[:, 1].max())]
            if dimension == 3:
                low = float(values[:, 2].min())
                self.z_min = low if self.z_min is None else min(self.z_min, low)

    def element(self, element: Any, root: Any, citygml: bool) -> None:
        """Take note of one element whose end tag has been read."""
        name = local_name(element.tag)
        lowered = name.lower()
        parent = element.getparent()
        if citygml and name == "Building" and parent is not None and local_name(parent.tag).endswith("ember"):
            self.objects["building"] += 1  # a top-level building: a cityObjectMember's (or featureMember's)
            if self.first_id is None:  # German LoD2 buildings carry their ALKIS id (DENW...): who surveyed them
                self.first_id = next((str(v) for k, v in element.attrib.items() if str(k).endswith("}id")), None)
        elif citygml and lowered in _CITYGML_ATTRIBUTES:
            self.attributes[lowered] += 1
        elif not citygml and lowered in _NAS_OBJECTS:
            self.objects[_NAS_OBJECTS[lowered]] += 1
            if self.first_id is None:
                self.first_id = next((str(v) for k, v in element.attrib.items() if str(k).endswith("}id")), None)
        elif name in {"lowerCorner", "upperCorner"} and parent is not None and parent.getparent() is not None:
            if parent.getparent().getparent() is root:  # Envelope <- boundedBy <- the root: the file's own extent
                corner = [float(v) for v in (element.text or "").split()]
                (self.lower if name == "lowerCorner" else self.upper).extend(corner)
        elif name in {"posList", "pos"} and not self.upper:
            self.extend(element.text, int(element.get("srsDimension") or (3 if citygml else 2)))


def _scan_gml(path: Path, citygml: bool) -> _GmlScan:
    """Count the buildings (CityGML) or ALKIS objects (NAS) of a file, and find its CRS and extent, streaming."""
    scan = _GmlScan()

    def first_srs(element: Any) -> None:
        if scan.srs is None and element.get("srsName"):
            scan.srs = str(element.get("srsName"))

    for element, root in stream_elements(path, on_start=first_srs):
        scan.element(element, root, citygml)
    return scan


def _gml_bounds(scan: _GmlScan) -> tuple[float, float, float, float] | None:
    if len(scan.lower) >= 2 and len(scan.upper) >= 2:
        return scan.lower[0], scan.lower[1], scan.upper[0], scan.upper[1]
    if scan.x:
        return min(scan.x), min(scan.y), max(scan.x), max(scan.y)
    return None


def _inspect_xml(path: Path, head: bytes) -> list[LayerInfo]:
    """CityGML, NAS, or any other GML that GDAL reads."""
    text = head.decode("utf-8", errors="replace")
    version = re.search(r"opengis\.net/citygml/(\d\.\d)", text)
    if version is None and "adv-online.de" not in text and "<AX_" not in text:
        return _inspect_vector(path)
    citygml = version is not None
    scan = _scan_gml(path, citygml)
    crs = _crs_or_none(scan.srs, path)
    bounds = _gml_bounds(scan)
    if citygml:
        if not scan.objects["building"]:
            raise InputError("a CityGML file without buildings", file=path, hint="twin3d reads bldg:Building objects")
        ground = scan.lower[2] if len(scan.lower) >= 3 else scan.z_min
        return [
            LayerInfo(
                path=path,
                format="citygml",
                driver=f"CityGML {version.group(1) if version else ''}".strip(),
                layer=None,
                geometry="3d",
                count=scan.objects["building"],
                crs=crs,
                bounds=bounds,
                fields=tuple(sorted(scan.attributes)),
                details={"z_min": ground, "srs": scan.srs, "first_id": scan.first_id},
            )
        ]
    if not scan.objects:
        raise InputError(
            "no ALKIS parcels, buildings or land use in the NAS file",
            file=path,
            hint="twin3d reads AX_Flurstueck, AX_Gebaeude and the classes of the tatsächliche Nutzung",
        )
    return [
        LayerInfo(
            path=path,
            format="nas",
            driver="ALKIS NAS XML",
            layer=None,
            geometry="polygon",
            count=sum(scan.objects.values()),
            crs=crs,
            bounds=bounds,
            details={"objects": dict(scan.objects), "first_id": scan.first_id},
        )
    ]


def _inspect_cityjson(path: Path) -> LayerInfo:
    raw = path.read_bytes()
    lines = raw.split(b"\n") if path.suffix == ".jsonl" else [raw]
    try:
        docs = [json.loads(line) for line in lines if line.strip()]
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", file=path, hint="the file may be truncated") from exc
    if not docs or not isinstance(docs[0], dict) or docs[0].get("type") != "CityJSON":
        raise _unknown(path, "JSON, but neither GeoJSON nor CityJSON")
    header = docs[0]
    meta = header.get("metadata") or {}
    ref = meta.get("referenceSystem")
    transform = header.get("transform") or {}
    scale = np.asarray(transform.get("scale", [1, 1, 1]), dtype=np.float64)
    shift = np.asarray(transform.get("translate", [0, 0, 0]), dtype=np.float64)
    buildings, vertices = 0, []
    for doc in docs:
        objects: dict[str, Any] = doc.get("CityObjects") or {}
        buildings += sum(1 for o in objects.values() if o.get("type") == "Building" and not o.get("parents"))
        if doc.get("vertices"):
            vertices.append(np.asarray(doc["vertices"], dtype=np.float64).reshape(-1, 3) * scale + shift)
    points = np.concatenate(vertices) if vertices else np.empty((0, 3))
    bounds = (*points[:, :2].min(axis=0), *points[:, :2].max(axis=0)) if len(points) else None
    contact = meta.get("pointOfContact") or {}
    publisher = contact.get("contactName") if isinstance(contact, dict) else None
    return LayerInfo(
        path=path,
        format="cityjson",
        driver=f"CityJSON {header.get('version', '')}".strip(),
        layer=None,
        geometry="3d",
        count=buildings,
        crs=_crs_or_none(str(ref) if ref else None, path),
        bounds=tuple(float(v) for v in bounds) if bounds is not None else None,  # type: ignore[arg-type]
        metadata=_metadata({"source": publisher, "copyright": meta.get("copyright")}),
        details={"z_min": float(np.percentile(points[:, 2], 5)) if len(points) else None},
    )


def _inspect_osm(path: Path) -> LayerInfo:
    import osmium  # noqa: PLC0415  (pyosmium only for OSM files)
    import osmium.filter  # noqa: PLC0415

    try:
        reader = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING)
        box = reader.header().box()
        reader.close()
    except RuntimeError as exc:
        raise InputError(f"cannot be read as OpenStreetMap data: {exc}", file=path, hint="download it again") from exc
    counts: Counter[str] = Counter()
    lons: list[float] = []
    lats: list[float] = []
    if path.stat().st_size <= OSM_COUNT_MAX_BYTES:
        try:
            for obj in osmium.FileProcessor(str(path)).with_filter(osmium.filter.KeyFilter(*_OSM_KEYS)):
                tags = obj.tags
                counts.update(k for k in _OSM_KEYS if k in tags)
                if (
                    isinstance(obj, osmium.osm.Node) and obj.location.valid()
                ):  # tagged nodes: the extent where the header has none
                    lons.append(obj.location.lon)
                    lats.append(obj.location.lat)
        except RuntimeError as exc:
            raise InputError(
                f"cannot be read as OpenStreetMap data: {exc}", file=path, hint="download it again"
            ) from exc
    bounds = None
    if box.valid():
        bounds = (box.bottom_left.lon, box.bottom_left.lat, box.top_right.lon, box.top_right.lat)
    elif lons:
        bounds = (min(lons), min(lats), max(lons), max(lats))
    return LayerInfo(
        path=path,
        format="osm",
        driver="OpenStreetMap PBF" if path.suffix == ".pbf" else "OpenStreetMap XML",
        layer=None,
        geometry="mixed",
        count=counts["building"] if counts else None,
        crs=WGS84,
        bounds=bounds,
        fields=tuple(k for k in _OSM_KEYS if counts[k]),
        metadata={"source": "OpenStreetMap"},
        details={"counts": dict(counts)},
    )


def _inspect_raster(path: Path) -> LayerInfo:
    import rasterio  # noqa: PLC0415
    from rasterio.errors import RasterioIOError  # noqa: PLC0415

    try:
        with rasterio.open(path) as src:
            step = max(1, int(np.ceil(max(src.width, src.height) / 512)))
            shape = (max(1, src.height // step), max(1, src.width // step))
            values = src.read(1, out_shape=shape, masked=True).astype(np.float64).filled(np.nan)
            crs = parse_crs(src.crs.to_wkt(), file=path) if src.crs is not None else None
            info = LayerInfo(
                path=path,
                format="raster",
                driver=str(src.driver),
                layer=None,
                geometry="raster",
                count=src.width * src.height,
                crs=crs,
                bounds=tuple(float(v) for v in src.bounds),  # type: ignore[arg-type]
                metadata=_metadata(src.tags()),
                details={
                    "bands": src.count,
                    "pixel": (abs(src.transform.a), abs(src.transform.e)),
                    "dtype": src.dtypes[0],
                    "median": float(np.nanmedian(values)) if np.isfinite(values).any() else None,
                    "vertical_datum": src.tags().get("VERTICAL_DATUM"),
                },
            )
    except RasterioIOError as exc:
        raise InputError(f"cannot be read as a raster: {exc}", file=path, hint="export it again as GeoTIFF") from exc
    if info.details["bands"] != 1:
        raise _unknown(path, f"a raster with {info.details['bands']} bands; twin3d reads one band of terrain heights")
    return info


def inspect_file(path: Path) -> list[LayerInfo]:
    """Inspect one file: every layer of it, with what :class:`LayerInfo` holds.

    Args:
        path: any of :data:`KNOWN_FORMATS`.

    Returns:
        One entry per layer (a GeoPackage may hold several, every other format one).

    Raises:
        InputError: the file is missing, empty, unreadable, or of a format twin3d does not read (the message lists
            the known ones).
        CRSError: the file names a CRS that PROJ does not know.
    """
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path")
    if path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", file=path, hint="export it again")
    name, suffix = path.name.lower(), path.suffix.lower()
    head = _head(path)
    if name.endswith(_OSM_SUFFIXES):
        inspect = _inspect_osm
    elif name.endswith(_CSV_SUFFIXES):
        inspect = _inspect_csv
    elif name.endswith((".city.json", ".jsonl")) or (suffix == ".json" and _CITYJSON.search(head)):
        inspect = _inspect_cityjson
    elif suffix in _RASTER_SUFFIXES:
        inspect = _inspect_raster
    elif suffix in {".gml", ".xml"} or head.lstrip().startswith(b"<"):
        return _inspect_xml(path, head)
    elif suffix in _VECTOR_SUFFIXES:
        return _inspect_vector(path)
    else:
        raise _unknown(path, f"the suffix {path.suffix or '(none)'!r} is none of the known ones")
    return [inspect(path)]
