"""Feature collections of a twin for OGC API - Features and Mapbox Vector Tiles, read in DuckDB.

A :class:`Collection` names a relation (a table of the build store, a registered Arrow table, or a loaded
layer's GeoParquet file), its id column, its WGS84 geometry and the properties it publishes. Only those columns
ever leave the store: the relation may hold more. Every query is assembled from these names, which come from
code or from the catalogue (checked identifiers), never from a request; request values go in as parameters.

GeoJSON is built in SQL (``json_object`` and ``string_agg``), so a page of features costs one query and no
Python object per feature. Vector tiles come from ``ST_AsMVT`` over the features whose extent meets the tile,
pre-filtered in WGS84 so that only those are transformed to Web Mercator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import h3ronpy  # noqa: F401  (registers the Arrow types h3ronpy.vector needs)
import numpy as np
import pyarrow as pa
from h3ronpy.vector import cells_to_wkb_polygons

from twin3d.store.queries import has_column, type_names_relation

Cursor = duckdb.DuckDBPyConnection
Visibility = Literal["public", "council", "admin"]
IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
MVT_EXTENT, MVT_BUFFER = 4096, 64
MAX_TILE_FEATURES = 20_000  # most features in one vector tile, cut on demand or seeded (the largest are kept)
POPULATION_RESOLUTION = 8


@dataclass(frozen=True)
class Collection:
    """One feature collection.

    Attributes:
        id: the collection id in URLs (``[a-z0-9_-]``).
        title, description: what a GIS user sees in the collection list.
        relation: SQL of the relation (a table name, or a subquery written in code).
        id_column: the column of unique feature ids.
        geometry: SQL of the WGS84 (lon/lat) geometry of a row.
        properties: the columns published as properties, in order; the filterable ones are these too.
        where: a fixed condition with ``?`` parameters, and its parameter values.
        register: called with each cursor before a query, to register Arrow tables the relation reads.
        visibility: the lowest role that may see the collection.
        attribution, licence: shown in the collection's metadata.
    """

    id: str
    title: str
    description: str
    relation: str
    id_column: str
    geometry: str = "geom_wgs84"
    properties: tuple[str, ...] = ()
    where: tuple[str, tuple[Any, ...]] = ("TRUE", ())
    register: Callable[[Cursor], None] | None = field(default=None, compare=False)
    visibility: Visibility = "public"
    attribution: str = ""
    licence: str = ""
    version: str = ""  # changes when the data behind the id changes (a layer loaded again): part of cache keys
    bbox_column: str | None = None  # a struct (xmin, ymin, xmax, ymax) per row: Parquet row groups skip by it
    live: bool = False  # written while the server runs (citizens' places): tiles are never cached
    seeded: tuple[str, int, int] | None = None  # (folder of <z>/<x>/<y>.pbf, min zoom, max zoom) cut beforehand

    def __post_init__(self) -> None:
        for name in (self.id_column, *self.properties, *([self.bbox_column] if self.bbox_column else [])):
            if not IDENTIFIER.match(name):
                raise ValueError(f"collection {self.id}: {name!r} is not a plain column name")

    def meets(self) -> str:
        """SQL true where a row's extent meets the box of four ``?`` parameters: west, south, east, north."""
        if self.bbox_column:
            b = self.bbox_column
            return f"({b}.xmax >= ? AND {b}.ymax >= ? AND {b}.xmin <= ? AND {b}.ymin <= ?)"
        return f"ST_Intersects_Extent({self.geometry}, ST_MakeEnvelope(?, ?, ?, ?))"

    def visible_at(self) -> str:
        """SQL true where a row's extent spans at least one ``?`` parameter (degrees) in longitude or latitude,
        or the row is a point: what a tile at low zoom keeps (anything smaller would not cover a pixel)."""
        if self.bbox_column:
            b = self.bbox_column
            return f"({b}.xmax - {b}.xmin >= ? OR {b}.ymax - {b}.ymin >= ? OR {b}.xmax = {b}.xmin)"
        g = self.geometry
        return (
            f"(ST_XMax({g}) - ST_XMin({g}) >= ? OR ST_YMax({g}) - ST_YMin({g}) >= ? "
            f"OR ST_GeometryType({g}) IN ('POINT', 'MULTIPOINT'))"
        )

    def size(self) -> str:
        """SQL of a row's extent in degrees of longitude: the larger of its width and its height divided by the
        ``?`` parameter (the cosine of the tile's middle latitude), the measure :meth:`visible_at` compares."""
        if self.bbox_column:
            b = self.bbox_column
            return f"greatest({b}.xmax - {b}.xmin, ({b}.ymax - {b}.ymin) / ?)"
        g = self.geometry
        return f"greatest(ST_XMax({g}) - ST_XMin({g}), (ST_YMax({g}) - ST_YMin({g})) / ?)"

    def _from(self) -> str:
        return f"(SELECT * FROM {self.relation} WHERE {self.where[0]}) AS source"


@dataclass(frozen=True)
class ItemsQuery:
    """A page of items: bbox (west, south, east, north in CRS84), equality filters on properties, paging."""

    bbox: tuple[float, float, float, float] | None = None
    filters: tuple[tuple[str, str], ...] = ()
    limit: int = 100
    offset: int = 0


def _cursor(cur: Cursor, collection: Collection) -> Cursor:
    if collection.register is not None:
        collection.register(cur)
    return cur


def _conditions(collection: Collection, query: ItemsQuery) -> tuple[str, list[Any]]:
    parts, params = [], list(collection.where[1])
    if query.bbox is not None:
        parts.append(f"{collection.meets()} AND ST_Intersects({collection.geometry}, ST_MakeEnvelope(?, ?, ?, ?))")
        params.extend([*query.bbox, *query.bbox])
    for name, value in query.filters:
        if name not in collection.properties:
            raise ValueError(f"{name!r} is not a property of {collection.id}")
        parts.append(f"CAST({name} AS VARCHAR) = ?")
        params.append(value)
    return " AND ".join(parts) or "TRUE", params


def _feature_sql(collection: Collection) -> str:
    props = ", ".join(f"'{p}', {p}" for p in collection.properties)
    return (
        f"json_object('type', 'Feature', 'id', {collection.id_column}, "
        f"'geometry', ST_AsGeoJSON({collection.geometry})::JSON, "
        f"'properties', json_object({props}))"
    )


def count(cur: Cursor, collection: Collection, query: ItemsQuery | None = None) -> int:
    """How many features match ``query`` (all features without one)."""
    where, params = _conditions(collection, query or ItemsQuery())
    row = _cursor(cur, collection).execute(f"SELECT count(*) FROM {collection._from()} WHERE {where}", params)
    return int(row.fetchone()[0])  # type: ignore[index]


def items(cur: Cursor, collection: Collection, query: ItemsQuery) -> tuple[str, int]:
    """A page of features as the JSON text of a list of GeoJSON features, and how many features it holds."""
    where, params = _conditions(collection, query)
    # The page is picked first and only its rows become GeoJSON: building the JSON of every matching row before
    # the LIMIT made a page of Lauf's buildings six times slower.
    sql = f"""
        SELECT coalesce(string_agg(feature, ',' ORDER BY __order), ''), count(*) FROM (
            SELECT {_feature_sql(collection)} AS feature, {collection.id_column} AS __order FROM (
                SELECT * FROM {collection._from()} WHERE {where} ORDER BY {collection.id_column} LIMIT ? OFFSET ?
            )
        )
    """
    text, returned = _cursor(cur, collection).execute(sql, [*params, query.limit, query.offset]).fetchone()  # type: ignore[misc]
    return f"[{text}]", int(returned)


GEOARROW_WKB = {b"ARROW:extension:name": b"geoarrow.wkb", b"ARROW:extension:metadata": b'{"crs":"OGC:CRS84"}'}
"""Field metadata of a WKB geometry column in lon/lat (GeoArrow): geopandas, GDAL and lonboard read it as such."""


def items_arrow(cur: Cursor, collection: Collection, query: ItemsQuery) -> pa.Table:
    """A page of features as an Arrow table: the properties as they are (the id column among them, named in the
    schema's metadata ``id_column``) and ``geometry`` as WKB in lon/lat (GeoArrow ``geoarrow.wkb``), in the order
    of the GeoJSON pages. One query, no Python object per feature. (A property called ``geometry`` is left out.)"""
    where, params = _conditions(collection, query)
    names = [p for p in collection.properties if p != "geometry"]
    if collection.id_column not in names:
        names.insert(0, collection.id_column)
    sql = f"""
        SELECT {", ".join(names)}, ST_AsWKB({collection.geometry}) AS geometry
        FROM {collection._from()} WHERE {where} ORDER BY {collection.id_column} LIMIT ? OFFSET ?
    """
    table = _cursor(cur, collection).execute(sql, [*params, query.limit, query.offset]).to_arrow_table()
    index = table.schema.get_field_index("geometry")
    field = pa.field("geometry", pa.binary(), metadata=GEOARROW_WKB)
    table = table.set_column(index, field, table.column(index).cast(pa.binary()))
    return table.replace_schema_metadata({"id_column": collection.id_column})


def item(cur: Cursor, collection: Collection, feature_id: str) -> str | None:
    """One feature as GeoJSON text; None if there is none with that id."""
    where, params = collection.where
    sql = (
        f"SELECT {_feature_sql(collection)} FROM {collection._from()} "
        f"WHERE CAST({collection.id_column} AS VARCHAR) = ? LIMIT 1"
    )
    row = _cursor(cur, collection).execute(sql, [*params, feature_id]).fetchone()
    del where
    return str(row[0]) if row else None


def extent(cur: Cursor, collection: Collection) -> list[float] | None:
    """The CRS84 bounding box of all features, or None for an empty collection."""
    row = (
        _cursor(cur, collection)
        .execute(
            f"SELECT min(ST_XMin(g)), min(ST_YMin(g)), max(ST_XMax(g)), max(ST_YMax(g)) "
            f"FROM (SELECT {collection.geometry} AS g FROM {collection._from()})",
            list(collection.where[1]),
        )
        .fetchone()
    )
    if row is None or row[0] is None:
        return None
    return [round(float(v), 7) for v in row]


def tile_bounds_wgs84(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a Web Mercator (XYZ) tile in degrees."""
    n = 2.0**z

    def lat(row: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


# What ST_AsMVT takes as property types; the others are cast to the nearest one it takes.
MVT_TYPES = {"VARCHAR", "FLOAT", "DOUBLE", "INTEGER", "BIGINT", "BOOLEAN"}
MVT_CASTS = {
    "TINYINT": "INTEGER",
    "SMALLINT": "INTEGER",
    "UTINYINT": "INTEGER",
    "USMALLINT": "INTEGER",
    "UINTEGER": "BIGINT",
    "UBIGINT": "DOUBLE",
    "HUGEINT": "DOUBLE",
}


def _mvt_property(name: str, type_name: str) -> str:
    base = type_name.split("(", maxsplit=1)[0].upper()
    if base in MVT_TYPES:
        return name
    if base == "DECIMAL":
        return f"CAST({name} AS DOUBLE)"
    return f"CAST({name} AS {MVT_CASTS.get(base, 'VARCHAR')})"


def mvt_entries(collection: Collection, types: dict[str, str]) -> list[str]:
    """The struct entries of a tile feature: its id (``__fid``, and ``id`` unless a property has that name) and
    its properties, cast to what ``ST_AsMVT`` takes. The source may have columns called id or fid, so the helper
    columns ``__fid`` and ``__id`` get names no source uses."""
    entries = ["'__fid': __fid"] + ([] if "id" in collection.properties else ["'id': __id"])
    entries += [f"'{p}': {_mvt_property(p, types.get(p, 'VARCHAR'))}" for p in collection.properties]
    return entries


def column_types(cur: Cursor, collection: Collection) -> dict[str, str]:
    """The SQL type of each published property."""
    names = ", ".join(collection.properties) or "1"
    result = _cursor(cur, collection).execute(
        f"DESCRIBE SELECT {names} FROM {collection._from()}", list(collection.where[1])
    )
    return {str(row[0]): str(row[1]) for row in result.fetchall()}


def tile_file(folder: Path, z: int, x: int, y: int) -> Path:
    """Where vector tile z/x/y lies in a folder of cut tiles (seeded layers, the basemap): ``<folder>/z/x/y.pbf``."""
    return folder / str(z) / str(x) / f"{y}.pbf"


def tile_bounds_mercator(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of a Web Mercator (XYZ) tile in metres (EPSG:3857)."""
    size = 2 * HALF_WORLD / 2**z
    return -HALF_WORLD + x * size, HALF_WORLD - (y + 1) * size, -HALF_WORLD + (x + 1) * size, HALF_WORLD - y * size


EARTH_RADIUS = 6378137.0  # the sphere of Web Mercator (EPSG:3857)
HALF_WORLD = math.pi * EARTH_RADIUS  # half the width of the Web Mercator plane, metres (20,037,508.34)
LINEAR_FROM_ZOOM = 12
THIN_BELOW_ZOOM = 12


def _to_tile(geometry: str, z: int, x: int, y: int) -> tuple[float, float, float, float, str]:
    """The affine map (a, d, xoff, yoff) into tile z/x/y's coordinates, and the geometry it applies to.

    From zoom 12 the map goes straight from lon/lat: Mercator's y is taken as linear in latitude within the tile
    (its tangent at the tile's middle): on Lauf's buildings the vertices lie within 0.49 of 4,096 tile units of
    PROJ's at zoom 12 and within 0.16 from zoom 14 (tests/server/test_features_api.py), below the encoding's
    rounding to whole units. That keeps PROJ off the path of nearly every tile.
    Below zoom 12 the geometry is projected to Web Mercator with ``ST_Transform`` first.
    """
    minx, _, maxx, maxy = tile_bounds_mercator(z, x, y)
    scale = MVT_EXTENT / (maxx - minx)
    if z < LINEAR_FROM_ZOOM:
        mercator = f"ST_Transform({geometry}, 'EPSG:4326', 'EPSG:3857', always_xy := true)"
        return scale, -scale, -minx * scale, maxy * scale, mercator
    _, south, _, north = tile_bounds_wgs84(z, x, y)
    middle = math.radians((south + north) / 2)
    y_middle = EARTH_RADIUS * math.log(math.tan(math.pi / 4 + middle / 2))
    per_degree_x = EARTH_RADIUS * math.pi / 180
    per_degree_y = per_degree_x / math.cos(middle)
    a = per_degree_x * scale
    d = -per_degree_y * scale
    xoff = -minx * scale
    yoff = (maxy - y_middle + per_degree_y * math.degrees(middle)) * scale
    return a, d, xoff, yoff, geometry


@dataclass(frozen=True)
class VectorTile:
    """A vector tile and how many features it holds of those that meet it at its zoom.

    Attributes:
        data: the Mapbox Vector Tile (empty: no feature).
        kept: features in the tile.
        meeting: features that meet the tile (those below a pixel at low zoom left out); more than ``kept`` when the
            tile was thinned to its largest features.
    """

    data: bytes
    kept: int
    meeting: int

    @property
    def thinned(self) -> bool:
        """Whether features were left out to keep the tile within its cap."""
        return self.meeting > self.kept


def _tile_filter(collection: Collection, z: int, x: int, y: int) -> tuple[str, list[Any], float]:
    """SQL of the rows a tile holds (they meet its buffered box and span a pixel below THIN_BELOW_ZOOM), its
    parameters, and the cosine of the tile's middle latitude."""
    west, south, east, north = tile_bounds_wgs84(z, x, y)
    # A margin of the tile buffer, so that lines and outlines cut at the edge join their neighbours.
    pad_x, pad_y = (east - west) * MVT_BUFFER / MVT_EXTENT, (north - south) * MVT_BUFFER / MVT_EXTENT
    # Below THIN_BELOW_ZOOM a feature smaller than a pixel (of a 256-pixel tile) is left out: a district's
    # 100,000 footprints made a 1.6 MB tile at zoom 10 that shows as a grey smear. Tiles of zoom 12 and up keep
    # every feature (up to the cap of vector_tile), as do the tiles cut when a layer is loaded.
    pixel = 360.0 / 2**z / 256 if z < THIN_BELOW_ZOOM else 0.0
    cosine = math.cos(math.radians((south + north) / 2))
    sql = f"{collection.meets()} AND {collection.visible_at()}"
    params = [west - pad_x, south - pad_y, east + pad_x, north + pad_y, pixel, pixel * cosine]
    return sql, params, cosine


def tile_count(cur: Cursor, collection: Collection, z: int, x: int, y: int) -> int:
    """How many features tile z/x/y would hold without a cap: one cheap query (a loaded layer's bounding boxes
    only), asked before a tile is cut."""
    where, params, _ = _tile_filter(collection, z, x, y)
    sql = f"SELECT count(*) FROM {collection._from()} WHERE {where}"
    row = _cursor(cur, collection).execute(sql, [*collection.where[1], *params]).fetchone()
    return int(row[0]) if row else 0


def mvt(
    cur: Cursor,
    collection: Collection,
    z: int,
    x: int,
    y: int,
    *,
    types: dict[str, str] | None = None,
    largest: int | None = None,
) -> bytes:
    """The features meeting tile z/x/y as one Mapbox Vector Tile layer named after the collection.

    Geometries go to tile coordinates by one affine map, and only those that reach past the tile's buffer are
    clipped: ``ST_AsMVTGeom`` does the same but validates and snaps every geometry with GEOS, which made a tile
    of a thousand buildings two to three times slower. ``ST_AsMVT`` rounds the coordinates as it encodes.
    ``types`` (from :func:`column_types`) saves a query per tile where the caller keeps them. With ``largest``
    only that many features are kept, the largest (ties, such as points, in a fixed pseudo-random order): they
    are chosen before any geometry is transformed or encoded.
    """
    a, d, xoff, yoff, mercator = _to_tile(collection.geometry, z, x, y)
    types = types if types is not None else column_types(cur, collection)
    where, params, cosine = _tile_filter(collection, z, x, y)
    entries = mvt_entries(collection, types)
    box = f"ST_MakeEnvelope({-MVT_BUFFER}, {-MVT_BUFFER}, {MVT_EXTENT + MVT_BUFFER}, {MVT_EXTENT + MVT_BUFFER})"
    fid = f"CAST(hash({collection.id_column}) % 2147483647 AS INTEGER)"
    clipped = f"CASE WHEN ST_Within(__local, {box}) THEN __local ELSE ST_Intersection(__local, {box}) END"
    chosen, chosen_params = "", []
    if largest is not None:
        chosen = f"ORDER BY {collection.size()} DESC, hash({collection.id_column}) LIMIT ?"
        chosen_params = [cosine, largest]
    sql = f"""
        SELECT ST_AsMVT(feature, ?, {MVT_EXTENT}, 'geometry', '__fid') FROM (
            SELECT {{'geometry': {clipped}, {", ".join(entries)}}} AS feature
            FROM (
                SELECT CAST(ST_Affine({mercator}, ?, 0, 0, ?, ?, ?) AS GEOMETRY) AS __local, {fid} AS __fid,
                       CAST({collection.id_column} AS VARCHAR) AS __id, *
                FROM (SELECT * FROM {collection._from()} WHERE {where} {chosen})
            )
        ) WHERE NOT ST_IsEmpty(feature.geometry)
        HAVING count(*) > 0
    """
    all_params = [collection.id, a, d, xoff, yoff, *collection.where[1], *params, *chosen_params]
    row = _cursor(cur, collection).execute(sql, all_params).fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""


def vector_tile(
    cur: Cursor,
    collection: Collection,
    z: int,
    x: int,
    y: int,
    *,
    max_features: int,
    types: dict[str, str] | None = None,
) -> VectorTile:
    """Tile z/x/y with at most ``max_features`` features: counted first, and above the cap thinned to the largest
    (what shows at the tile's zoom); zooming in shows the others. A tile's cost grows with the features it holds,
    so one tile of a large layer must not hold them all (a 200 MB layer made a 97 MB tile and 40 s of work).
    """
    meeting = tile_count(cur, collection, z, x, y)
    if meeting == 0:
        return VectorTile(b"", 0, 0)
    largest = max_features if meeting > max_features else None
    data = mvt(cur, collection, z, x, y, types=types, largest=largest)
    return VectorTile(data, min(meeting, max_features), meeting)


# ----------------------------------------------------------------------------------------------------------------
# The twin's own collections.


def population_cells(cur: Cursor, resolution: int = POPULATION_RESOLUTION) -> pa.Table:
    """The published baseline cells of all persons at ``resolution``, with their outlines as WKB."""
    table = cur.execute(
        """
        SELECT printf('%x', h3) AS cell, cell_resolution, persons, households, h3
        FROM population_public WHERE scenario = 'baseline' AND persona = '*' AND resolution = ?
        ORDER BY h3
        """,
        [resolution],
    ).to_arrow_table()
    cells = np.asarray(table["h3"].to_numpy(), dtype=np.uint64)
    outlines = cells_to_wkb_polygons(cells) if len(cells) else pa.array([], pa.binary())
    return table.drop_columns(["h3"]).append_column("outline", pa.array(outlines, pa.binary()))


def _named_relations(cur: Cursor) -> dict[str, str]:
    """Relations that give coded values the names a person reads from ``type_names`` (the value itself where it
    has none): buildings' ``building_type_name``, facilities' ``category_name``."""
    names = type_names_relation(cur)

    def join(table: str, column: str, domain: str, alias: str) -> str:
        return (
            f"(SELECT t.*, coalesce(n.name, t.{column}) AS {alias} FROM {table} AS t "
            f"LEFT JOIN {names} AS n ON n.domain = '{domain}' AND n.code = t.{column})"
        )

    return {
        "buildings": join("buildings", "building_type", "building_type", "building_type_name"),
        "facilities": join("facilities", "category", "facility_category", "category_name"),
    }


def twin_collections(
    cur: Cursor, meta: dict[str, Any], counts: dict[str, int], facility_types: pa.Table | None = None
) -> list[Collection]:
    """The collections every built twin offers: districts per level, buildings, facilities, paths, grid cells,
    parcels and land use, and the public population aggregates (persons per H3 cell, through the privacy gate).

    ``facility_types`` (``facility_id``, ``facility_type``: the scenario types the twin's facility-type table gives
    its facilities) adds the column ``facility_type`` to the facilities, so a client asks for ``kita`` instead of
    the OSM tags that make one."""
    credit = "; ".join(str(a.get("text", a)) if isinstance(a, dict) else str(a) for a in meta.get("attribution", []))
    out = []
    for level in meta.get("district_levels", []):
        name = str(level["level"])
        out.append(
            Collection(
                id=f"districts_{name}",
                title=str(level.get("title") or name),
                description=f"Districts of the level {name!r} with their code and name.",
                relation="districts",
                id_column="district_id",
                properties=("district_id", "code", "name", "parent_id", "area_m2"),
                where=("level = ?", (name,)),
                attribution=credit,
            )
        )
    named_cells = has_column(cur, "grid_cells", "name")  # stores built before cells had names lack the column
    # The Gemarkung's name, so a viewer writes a parcel's name in its reader's language (label is German).
    gemarkung_name = ("gemarkung_name",) if has_column(cur, "parcels", "gemarkung_name") else ()
    plain = [
        ("buildings", "Buildings", "Building footprints with type, height and storeys.", "building_id",
         ("building_id", "building_type", "building_type_name", "name", "height", "levels", "footprint_m2",
          "source")),
        ("facilities", "Facilities", "Schools, Kitas, stops, doctors and other facilities.", "facility_id",
         ("facility_id", "category", "category_name", "name", "source")),
        ("paths", "Paths", "The street and footpath network.", "path_id",
         ("path_id", "path_class", "name", "length_m")),
        ("streets", "Streets", "Street axes with their names and official keys.", "street_id",
         ("street_id", "name", "street_key", "street_class", "length_m")),
        ("grid_cells", "Census grid cells", "The census grid cells of the twin, named by where they lie.", "cell_id",
         ("cell_id", "name", "resolution_m") if named_cells else ("cell_id", "resolution_m")),
        ("parcels", "Parcels", "Cadastre parcels (Flurstücke) with their areas, main land use and what is built on "
         "them: GRZ = built-up area / parcel area, GFZ = floor area / parcel area.", "parcel_id",
         ("parcel_id", "label", "cadastral_id", "number", "flur", "gemarkung", *gemarkung_name, "area_m2",
          "official_area_m2", "land_use_name", "buildings", "built_m2", "floor_area_m2", "grz", "gfz")),
        ("land_use", "Land use", "Actual land use (ALKIS tatsächliche Nutzung) by class and group.", "land_use_id",
         ("land_use_id", "land_use_class", "name", "land_use_group", "function", "label", "area_m2")),
    ]  # fmt: skip
    relations = _named_relations(cur)
    registers: dict[str, Callable[[Cursor], None]] = {}
    if facility_types is not None:
        relations["facilities"] = (
            f"(SELECT f.*, t.facility_type FROM {relations['facilities']} AS f "
            "LEFT JOIN facility_types_of AS t USING (facility_id))"
        )
        types_table = facility_types

        def register_types(c: Cursor) -> None:
            c.register("facility_types_of", types_table)

        registers["facilities"] = register_types
    for table, title, description, key, props in plain:
        if counts.get(table):
            relation = relations.get(table, table)
            typed = ("facility_type",) if table in registers else ()
            out.append(
                Collection(
                    table, title, description, relation, key, properties=(*props, *typed), attribution=credit,
                    register=registers.get(table),
                )
            )  # fmt: skip
    if counts.get("personas"):
        cache: dict[str, pa.Table] = {}

        def register(c: Cursor) -> None:
            if "cells" not in cache:
                cache["cells"] = population_cells(c)
            c.register("population_cells", cache["cells"])

        out.append(
            Collection(
                id="population_h3",
                title="Population per H3 cell",
                description=(
                    f"Persons and households per H3 cell (resolution {POPULATION_RESOLUTION}) of the synthetic "
                    "population, as published by the privacy gate: small cells merged, counts noised."
                ),
                relation="population_cells",
                id_column="cell",
                geometry="ST_GeomFromWKB(outline)",
                properties=("cell", "cell_resolution", "persons", "households"),
                register=register,
                attribution=credit,
            )
        )
    return out


def sql_string(text: str) -> str:
    """A SQL string literal of ``text`` (for file paths from the catalogue, which table functions need inline)."""
    return "'" + text.replace("'", "''") + "'"


def by_id(collections: Sequence[Collection]) -> dict[str, Collection]:
    """Collections keyed by id."""
    return {c.id: c for c in collections}
