"""The basemap as Mapbox Vector Tiles: ``<folder>/{z}/{x}/{y}.pbf``, several layers per tile, only tiles that hold
a feature.

Every layer goes through the same few whole-array steps per zoom level, in shapely (GEOS) and numpy:

1. Web Mercator (spherical, EPSG:3857) once, by its formula: exact at every zoom, so tiles of zoom 8 are as right as
   those of 14 (the linear-in-latitude map of :func:`twin3d.store.features.mvt` holds from zoom 12 only).
2. Thinning: a feature shows from its layer's minimum zoom (:func:`min_zooms`: roads and places by rank, waterways
   and railways by kind, land use and water by area); simplification by a share of a pixel of the zoom.
3. One copy of each feature per tile its box meets (with the tile buffer), moved into the tile's coordinates
   (0..4096, y down) in one ``set_coordinates`` call, clipped to the buffered tile only where it reaches past it,
   polygons wound as the MVT spec wants (exterior rings of positive area in tile coordinates: DuckDB's ``ST_AsMVT``
   encodes rings as given, and the GEOS clip does not keep the winding).

DuckDB's ``ST_AsMVT`` then encodes each layer's tiles in one query (grouped by tile, features in a fixed order), and
a tile is the concatenation of its layers' blobs (MVT layers are fields of one message, so blobs concatenate).
The same layers give the same bytes: nothing depends on threads or timing. A tile whose bytes equal the file of the
previous build is linked from it (same bytes, same file, same ETag).

Example:
    >>> roads = Layer("roads", lines, properties)  # doctest: +SKIP
    >>> summary = write_basemap([roads], Path("tiles/lauf/<build>/basemap"), range(8, 15))  # doctest: +SKIP
    >>> summary.tiles  # doctest: +SKIP
    52
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from twin3d.io.surfaces import ragged_arange
from twin3d.store.connection import connect
from twin3d.store.features import EARTH_RADIUS, HALF_WORLD, IDENTIFIER, MVT_BUFFER, MVT_EXTENT, Cursor, tile_file
from twin3d.tiling.reuse import link_file

#: The order layers are written in (and drawn in by a style that follows it): areas under lines under labels.
LAYER_ORDER = ("landuse", "water", "waterway", "railways", "roads", "districts", "district_labels", "places")

#: From which zoom a road shows, by its rank (1 motorway ... 9 path): every road shows at the highest zoom.
ROAD_MIN_ZOOM: Mapping[int, int] = {1: 8, 2: 8, 3: 8, 4: 9, 5: 10, 6: 12, 7: 13, 8: 13, 9: 14}
#: From which zoom a place shows, by its rank (1 city ... 8 locality).
PLACE_MIN_ZOOM: Mapping[int, int] = {1: 8, 2: 8, 3: 10, 4: 11, 5: 12, 6: 13, 7: 13, 8: 14}
#: From which zoom a waterway or railway shows, by its kind (others: the highest zoom).
LINE_MIN_ZOOM: Mapping[str, Mapping[str, int]] = {
    "waterway": {"river": 8, "canal": 9, "stream": 12, "ditch": 13, "drain": 13},
    "railways": {"rail": 8, "light_rail": 10, "subway": 10, "tram": 11, "narrow_gauge": 11, "monorail": 11},
}
#: Railways with a ``service`` value (sidings, yards, spurs) show from this zoom.
RAILWAY_SERVICE_MIN_ZOOM = 12
#: A land-use or water polygon shows from the zoom where its area reaches this many square tile units (32 x 32 units
#: are 4 x 4 pixels of a 512-pixel tile): smaller ones would be specks.
MIN_AREA_UNITS = 32.0**2
#: Simplification tolerance in tile units (of 4,096): half a pixel of a 512-pixel tile below the highest zoom, and
#: 0.5 units at the highest (viewers overzoom its tiles, so it keeps all the detail the encoding's whole units hold).
TOLERANCE_UNITS, TOLERANCE_UNITS_MAX_ZOOM = 4.0, 0.5
_POLYGON_LAYERS_BY_AREA = frozenset({"landuse", "water"})
# The dimension of each shapely type id (0 point, 1 line string, 2 linear ring, 3 polygon, 4-6 their multi types,
# 7 collection): 0 points, 1 lines, 2 polygons, -1 none of these.
_DIMENSION = np.array([0, 1, -1, 2, 0, 1, 2, -1], dtype=np.int64)


def _dimensions(geoms: np.ndarray) -> np.ndarray:
    types = shapely.get_type_id(geoms)
    return np.where((types >= 0) & (types < len(_DIMENSION)), _DIMENSION[np.clip(types, 0, len(_DIMENSION) - 1)], -1)


@dataclass(frozen=True)
class Layer:
    """One layer: geometries in lon/lat (all points, all lines or all polygons) and their properties.

    Attributes:
        name: the MVT layer name (lower case).
        geometry: shapely geometries in EPSG:4326.
        attributes: one row per geometry; string, int32 and float64 columns become the features' properties (nulls
            are left out of a feature).
    """

    name: str
    geometry: np.ndarray
    attributes: pa.Table

    def __post_init__(self) -> None:
        for name in (self.name, *self.attributes.column_names):
            if not IDENTIFIER.match(name):
                raise ValueError(f"basemap layer {self.name}: {name!r} is not a plain lower-case name")
        if len(self.geometry) != self.attributes.num_rows:
            raise ValueError(
                f"basemap layer {self.name}: {len(self.geometry)} geometries, {self.attributes.num_rows} rows"
            )


@dataclass
class BasemapTiles:
    """What :func:`write_basemap` wrote.

    Attributes:
        tiles: tile files; bytes: their size in total; reused: tiles linked from the previous build.
        bounds: (west, south, east, north) of the features, in degrees; None without features.
        features: features per layer (each counted once, whatever the zooms it shows at).
    """

    tiles: int = 0
    bytes: int = 0
    reused: int = 0
    bounds: tuple[float, float, float, float] | None = None
    features: dict[str, int] = field(default_factory=dict)


def to_mercator(geoms: np.ndarray) -> np.ndarray:
    """Lon/lat geometries in spherical Web Mercator metres (EPSG:3857), by its formula."""

    def project(coords: np.ndarray) -> np.ndarray:
        lat = np.radians(np.clip(coords[:, 1], -85.0511287798, 85.0511287798))
        return np.column_stack(
            [EARTH_RADIUS * np.radians(coords[:, 0]), EARTH_RADIUS * np.log(np.tan(np.pi / 4 + lat / 2))]
        )

    return np.asarray(shapely.transform(geoms, project), dtype=object)


def tile_size(z: int) -> float:
    """The width of a tile of zoom ``z`` in Web Mercator metres."""
    return float(2 * HALF_WORLD / 2**z)


def _dimension(geoms: np.ndarray) -> int:
    """The highest dimension of a layer's geometries of known type (collections and empties aside); -1: none."""
    return int(_dimensions(geoms[~shapely.is_empty(geoms)]).max(initial=-1))


def min_zooms(layer: Layer, mercator: np.ndarray, zooms: range) -> np.ndarray:
    """The zoom from which each feature shows (within ``zooms``; a feature too small for any shows at the highest).

    Roads and places by their ``rank``, waterways and railways by their ``kind`` (railway sidings later), land use
    and water by their area; every other layer (districts, their labels) at every zoom.
    """
    n = len(layer.geometry)
    lowest, highest = zooms[0], zooms[-1]
    table = layer.attributes
    found = np.full(n, lowest, dtype=np.int64)
    if layer.name in ("roads", "places") and "rank" in table.column_names:
        ranks = ROAD_MIN_ZOOM if layer.name == "roads" else PLACE_MIN_ZOOM
        rank = np.asarray(pc.fill_null(table["rank"], max(ranks)).to_numpy(), dtype=np.int64)
        lookup = np.full(max(ranks) + 2, highest, dtype=np.int64)  # ranks outside the table: the highest zoom
        lookup[list(ranks)] = list(ranks.values())
        found = lookup[np.clip(rank, 0, len(lookup) - 1)]
    elif layer.name in LINE_MIN_ZOOM:
        kinds = pc.fill_null(table["kind"], "").to_numpy(zero_copy_only=False)
        by_kind = LINE_MIN_ZOOM[layer.name]
        found = np.array([by_kind.get(str(k), highest) for k in np.unique(kinds)], dtype=np.int64)[
            np.unique(kinds, return_inverse=True)[1]
        ]
        if "service" in table.column_names:
            service = table["service"].is_valid().to_numpy(zero_copy_only=False)
            found[service] = np.maximum(found[service], RAILWAY_SERVICE_MIN_ZOOM)
    elif layer.name in _POLYGON_LAYERS_BY_AREA:
        area = np.maximum(shapely.area(mercator), 1e-9)
        # area * (4096 / tile_size(z))^2 >= MIN_AREA_UNITS  <=>  2^z >= sqrt(MIN_AREA_UNITS / area) * 2 H / 4096
        found = np.ceil(np.log2(np.sqrt(MIN_AREA_UNITS / area) * 2 * HALF_WORLD / MVT_EXTENT)).astype(np.int64)
    return np.clip(found, lowest, highest)


def _draw_order(layer: Layer, mercator: np.ndarray) -> np.ndarray:
    """Each feature's place in its tiles: large areas under small ones, minor roads under major ones, the most
    important places first (placed first by a symbol layer); ties in input order."""
    key = np.zeros(len(mercator))
    if _dimension(mercator) == 2:
        key = -shapely.area(mercator)
    elif "rank" in layer.attributes.column_names:
        rank = np.asarray(pc.fill_null(layer.attributes["rank"], 99).to_numpy(), dtype=np.float64)
        key = -rank if layer.name == "roads" else rank
    order = np.lexsort((np.arange(len(mercator)), key))
    position = np.empty(len(mercator), dtype=np.int64)
    position[order] = np.arange(len(mercator))
    return position


def _of_dimension(geoms: np.ndarray, dimension: int) -> np.ndarray:
    """Geometries reduced to their parts of ``dimension`` (a clip can leave a collection, or a polygon's sliver as a
    line); empty where none is left."""
    wrong = _dimensions(geoms) != dimension
    if not wrong.any():
        return geoms
    out = geoms.copy()
    parts, index = shapely.get_parts(geoms[wrong], return_index=True)
    parts, inner = shapely.get_parts(parts, return_index=True)  # a collection may hold multi-part geometries
    index = index[inner]
    keep = _dimensions(parts) == dimension
    parts, index = parts[keep], index[keep]
    make = {0: shapely.multipoints, 1: shapely.multilinestrings, 2: shapely.multipolygons}[dimension]
    fixed = np.full(int(np.count_nonzero(wrong)), shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"), dtype=object)
    if len(parts):
        present = np.unique(index)
        fixed[present] = make(parts, indices=np.searchsorted(present, index))
    out[wrong] = fixed
    return out


def _cut(layer: Layer, mercator: np.ndarray, zooms: range) -> pa.Table:
    """One row per (feature, tile) of every zoom: z, x, y, the feature's draw order, its geometry in the tile's
    coordinates (WKB) and its properties."""
    dimension = _dimension(mercator)
    first = min_zooms(layer, mercator, zooms)
    order = _draw_order(layer, mercator)
    bounds = shapely.bounds(mercator)
    parts: list[pa.Table] = []
    buffer = float(MVT_BUFFER)
    for z in zooms:
        chosen = np.flatnonzero(first <= z)
        if not len(chosen):
            continue
        size = tile_size(z)
        scale = MVT_EXTENT / size
        geoms = mercator[chosen]
        if dimension > 0:
            tolerance = (TOLERANCE_UNITS_MAX_ZOOM if z == zooms[-1] else TOLERANCE_UNITS) / scale
            geoms = shapely.simplify(geoms, tolerance, preserve_topology=True)
        # The tiles each feature's box meets, with the buffer (points: only the tile that holds them).
        pad = buffer / MVT_EXTENT if dimension > 0 else 0.0
        b = bounds[chosen]
        last = 2**z - 1
        x0 = np.clip(np.floor((b[:, 0] + HALF_WORLD) / size - pad), 0, last).astype(np.int64)
        x1 = np.clip(np.floor((b[:, 2] + HALF_WORLD) / size + pad), 0, last).astype(np.int64)
        y0 = np.clip(np.floor((HALF_WORLD - b[:, 3]) / size - pad), 0, last).astype(np.int64)
        y1 = np.clip(np.floor((HALF_WORLD - b[:, 1]) / size + pad), 0, last).astype(np.int64)
        width, counts = x1 - x0 + 1, (x1 - x0 + 1) * (y1 - y0 + 1)
        copy_of = np.repeat(np.arange(len(chosen)), counts)
        k = ragged_arange(np.zeros(len(chosen), dtype=np.int64), counts)
        tx, ty = x0[copy_of] + k % width[copy_of], y0[copy_of] + k // width[copy_of]
        # Into each copy's tile: x right, y down, 0..4096 across the tile.
        local = geoms[copy_of]
        coords, index = shapely.get_coordinates(local, return_index=True)
        coords[:, 0] = (coords[:, 0] - (tx[index] * size - HALF_WORLD)) * scale
        coords[:, 1] = ((HALF_WORLD - ty[index] * size) - coords[:, 1]) * scale
        local = shapely.set_coordinates(local, coords)
        box = shapely.bounds(local)
        outside = (box[:, 0] < -buffer) | (box[:, 1] < -buffer) | (box[:, 2] > MVT_EXTENT + buffer)
        outside |= box[:, 3] > MVT_EXTENT + buffer
        if outside.any():
            clip = (-buffer, -buffer, MVT_EXTENT + buffer, MVT_EXTENT + buffer)
            local[outside] = _of_dimension(shapely.clip_by_rect(local[outside], *clip), dimension)
        if dimension == 2:
            local = shapely.orient_polygons(local, exterior_cw=False)
            keep = shapely.area(local) >= 1.0  # below one square unit the encoding rounds it away
        elif dimension == 1:
            keep = shapely.length(local) >= 1.0
        else:
            keep = ~shapely.is_empty(local)
        feature = chosen[copy_of[keep]]
        n = int(np.count_nonzero(keep))
        columns = {
            "__z": pa.array(np.full(n, z, dtype=np.int32)),
            "__x": pa.array(tx[keep].astype(np.int32)),
            "__y": pa.array(ty[keep].astype(np.int32)),
            "__order": pa.array(order[feature]),
            "__wkb": pa.array(shapely.to_wkb(local[keep]), pa.binary()),
        }
        properties = layer.attributes.take(pa.array(feature))
        parts.append(pa.table({**columns, **{name: properties[name] for name in properties.column_names}}))
    return pa.concat_tables(parts) if parts else pa.table({})


def _encode(con: Cursor, layer: Layer, cut: pa.Table) -> list[tuple[int, int, int, bytes]]:
    """(z, x, y, the layer's MVT blob) of every tile the layer's features reach, by one ``ST_AsMVT`` query."""
    properties = ", ".join(f"'{name}': \"{name}\"" for name in layer.attributes.column_names)
    con.register("__basemap_layer", cut)
    try:
        rows = con.execute(
            f"""
            SELECT __z, __x, __y,
                   ST_AsMVT({{'geometry': ST_GeomFromWKB(__wkb){", " if properties else ""}{properties}}},
                            ?, {MVT_EXTENT}, 'geometry' ORDER BY __order)
            FROM __basemap_layer GROUP BY __z, __x, __y
            """,
            [layer.name],
        ).fetchall()
    finally:
        con.unregister("__basemap_layer")
    return [(int(z), int(x), int(y), bytes(blob)) for z, x, y, blob in rows]


def _drawable(layer: Layer) -> Layer | None:
    """The layer with one kind of geometry (what a cut to the twin's extent left as a collection reduced to it) and
    without empty geometries; None if nothing is left."""
    dimension = _dimension(layer.geometry)
    geoms = _of_dimension(layer.geometry, dimension)
    kept = ~shapely.is_empty(geoms)
    if dimension < 0 or not kept.any():
        return None
    return Layer(layer.name, geoms[kept], layer.attributes.filter(pa.array(kept)))


def _write_tile(folder: Path, previous: Path | None, key: tuple[int, int, int], data: bytes) -> bool:
    """Write one tile; True if it was linked from the previous build's same tile (same bytes)."""
    z, x, y = key
    path = tile_file(folder, z, x, y)
    path.parent.mkdir(parents=True, exist_ok=True)
    old = tile_file(previous, z, x, y) if previous is not None else None
    if old is not None and old.is_file() and old.stat().st_size == len(data) and old.read_bytes() == data:
        link_file(old, path)
        return True
    path.write_bytes(data)
    return False


def write_basemap(
    layers: Sequence[Layer], folder: Path, zooms: range, *, previous: Path | None = None, con: Cursor | None = None
) -> BasemapTiles:
    """Write the vector tiles of ``layers`` at ``zooms`` as ``folder/{z}/{x}/{y}.pbf`` (only tiles with features).

    Args:
        layers: the layers, in lon/lat; written in :data:`LAYER_ORDER` (others after them, by name), empty ones
            left out.
        folder: where the tiles go (created).
        zooms: the zoom levels, e.g. ``range(8, 15)``.
        previous: the same folder of the previous build: a tile with the same bytes is linked from it.
        con: a DuckDB connection with the spatial extension to encode with (the store's in a build); default: one
            of its own.

    Returns:
        Counts, size and bounds of what was written.
    """
    if not len(zooms):
        raise ValueError("no zoom levels to write the basemap at")
    rank = {name: i for i, name in enumerate(LAYER_ORDER)}
    drawable = [found for lay in layers if len(lay.geometry) and (found := _drawable(lay)) is not None]
    ordered = sorted(drawable, key=lambda lay: (rank.get(lay.name, len(rank)), lay.name))
    summary = BasemapTiles()
    if not ordered:
        return summary
    west, south, east, north = shapely.total_bounds(np.concatenate([lay.geometry for lay in ordered]))
    summary.bounds = (float(west), float(south), float(east), float(north))
    tiles: dict[tuple[int, int, int], list[bytes]] = {}
    encoder = connect() if con is None else con
    try:
        for lay in ordered:
            summary.features[lay.name] = len(lay.geometry)
            cut = _cut(lay, to_mercator(lay.geometry), zooms)
            for z, x, y, blob in _encode(encoder, lay, cut) if cut.num_rows else []:
                tiles.setdefault((z, x, y), []).append(blob)
    finally:
        if con is None:
            encoder.close()
    for key, blobs in sorted(tiles.items()):
        data = b"".join(blobs)  # MVT layers are fields of the tile message: their encodings concatenate
        summary.reused += _write_tile(folder, previous, key, data)
        summary.tiles += 1
        summary.bytes += len(data)
    return summary
