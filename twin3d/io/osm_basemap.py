"""OpenStreetMap for the basemap: land use, water, waterways, roads, railways and places, read in one pass.

The basemap is the calm map under the 3D buildings (:mod:`twin3d.pipeline.basemap` cuts it into vector tiles). Its
layers come from one pass of pyosmium over the extract (plus the relation pass libosmium's area assembler makes
first), with the machinery of :mod:`twin3d.io.osm_pass`: key filters in C++, areas (closed ways and multipolygon
relations) assembled by libosmium, lines checked by its line helper (a way whose first nodes are missing is no
shortened line), geometries out of C++ as WKB parsed by shapely in bulk. Python reads each selected object's tags
once; repairing, clipping and typing the columns happen on whole arrays afterwards.

Geometries stay in lon/lat (EPSG:4326, OpenStreetMap's own), the coordinates vector tiles start from. Buildings are
not read: the twin draws them in 3D.

What could not be built (areas or lines cut at the extract's edge, broken rings) is listed in a
:class:`~twin3d.io.surfaces.SkipLog` with the reasons of :mod:`twin3d.io.osm_pass`. OpenStreetMap data is licensed under
the ODbL 1.0 (:data:`OSM_ATTRIBUTION`).

Example:
    >>> found = read_osm_basemap(Path("lauf-200115.osm.pbf"), bbox=(11.24, 49.49, 11.31, 49.54))  # doctest: +SKIP
    >>> sorted(found.layers)  # doctest: +SKIP
    ['landuse', 'places', 'railways', 'roads', 'water', 'waterway']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import osmium
import osmium.filter
import osmium.geom
import osmium.osm
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from twin3d.io.osm_pass import (
    SKIP_LINE_NODES_MISSING,
    WGS84,
    AreaBook,
    Rows,
    area_polygons,
    check_readable,
    is_area_relation,
    osmium_errors,
    way_line,
)
from twin3d.io.surfaces import SkipLog

OSM_ATTRIBUTION = "© OpenStreetMap contributors (ODbL 1.0)"

# --- what becomes which layer --------------------------------------------------------------------------------------

#: ``highway`` values drawn as roads, with their rank (1 most important): the style thins roads by rank at low zoom.
#: Other values (platforms, proposed roads, construction sites, corridors, ...) are not drawn.
ROAD_RANKS: Mapping[str, int] = {
    "motorway": 1,
    "motorway_link": 1,
    "trunk": 2,
    "trunk_link": 2,
    "primary": 3,
    "primary_link": 3,
    "secondary": 4,
    "secondary_link": 4,
    "tertiary": 5,
    "tertiary_link": 5,
    "unclassified": 6,
    "residential": 6,
    "living_street": 6,
    "road": 6,
    "pedestrian": 7,
    "service": 7,
    "busway": 7,
    "track": 8,
    "footway": 9,
    "cycleway": 9,
    "path": 9,
    "steps": 9,
    "bridleway": 9,
}

#: ``railway`` values drawn as railways (tracks only: no platforms, signals or stations).
RAILWAY_KINDS = frozenset(
    {"rail", "light_rail", "tram", "subway", "narrow_gauge", "monorail", "funicular", "preserved", "disused"}
)

#: ``waterway`` values drawn as lines (``riverbank`` is an area: water).
WATERWAY_KINDS = frozenset({"river", "stream", "canal", "ditch", "drain"})

#: ``place`` values drawn as labels, with their rank (lower is more important).
PLACE_RANKS: Mapping[str, int] = {
    "city": 1,
    "town": 2,
    "village": 3,
    "suburb": 4,
    "borough": 4,
    "quarter": 5,
    "hamlet": 5,
    "neighbourhood": 6,
    "isolated_dwelling": 7,
    "locality": 8,
}

#: ``leisure`` and ``natural`` values drawn as land use, and the kind they are drawn as. Every ``landuse`` value is
#: drawn as itself, but those that are water (:data:`WATER_LANDUSE`); ``amenity=grave_yard`` is a cemetery.
LEISURE_KINDS: Mapping[str, str] = {
    "park": "park",
    "garden": "garden",
    "common": "park",
    "dog_park": "park",
    "playground": "playground",
    "recreation_ground": "recreation_ground",
    "pitch": "sports",
    "sports_centre": "sports",
    "stadium": "sports",
    "track": "sports",
    "golf_course": "sports",
}
NATURAL_KINDS: Mapping[str, str] = {
    "wood": "wood",
    "scrub": "scrub",
    "heath": "heath",
    "wetland": "wetland",
    "grassland": "grass",
    "grass": "grass",
    "sand": "sand",
    "beach": "beach",
    "bare_rock": "bare_rock",
    "scree": "scree",
}
WATER_LANDUSE: Mapping[str, str] = {"reservoir": "reservoir", "basin": "basin"}
#: ``water=*`` values kept as the kind of a water area; others are plain ``water``.
WATER_KINDS = frozenset({"river", "lake", "pond", "reservoir", "basin", "canal", "oxbow", "stream", "ditch", "moat"})

# The keys that bring an object into the pass, and those whose areas libosmium assembles.
_AREA_KEYS = ("landuse", "natural", "leisure", "water", "waterway", "amenity", "place")
_KEYS = (*_AREA_KEYS, "highway", "railway")


@dataclass(frozen=True)
class MapLayer:
    """One layer of the basemap: geometries in lon/lat and their properties (one row each)."""

    geometry: np.ndarray
    attributes: pa.Table

    def __len__(self) -> int:
        return len(self.geometry)

    def clipped(self, bbox: tuple[float, float, float, float]) -> MapLayer:
        """The layer cut to ``bbox`` (west, south, east, north); what lies wholly outside is left out."""
        geoms = shapely.clip_by_rect(self.geometry, *bbox)
        keep = ~shapely.is_empty(geoms)
        return MapLayer(np.asarray(geoms[keep], dtype=object), self.attributes.filter(pa.array(keep)))


@dataclass(frozen=True)
class OsmBasemap:
    """The basemap layers of an extract (see :func:`read_osm_basemap`) and what could not be built."""

    path: Path
    layers: dict[str, MapLayer]
    skipped: SkipLog = field(default_factory=SkipLog)
    cut_lines: int = 0  # lines crossing the extract's edge, kept in the parts the extract holds


def _known_parts(way: osmium.osm.Way) -> bytes | None:
    """A way some of whose nodes are missing (cut at the extract's edge) as the runs of its nodes the extract holds:
    WKB of a (Multi)LineString of the runs of at least two distinct nodes; None if there is no such run.

    A loop over the way's nodes, but only for the few ways that cross the edge (Lauf: 134 of about 3,000); they are
    the long ones (main roads, the river), so dropping them would empty the map's edge of exactly what shows first.
    """
    nowhere = (np.nan, np.nan)
    coords = np.array([(n.location.lon, n.location.lat) if n.location.valid() else nowhere for n in way.nodes])
    known = ~np.isnan(coords[:, 0])
    # Runs of known nodes: a part starts where a known node follows a missing one (or the way starts).
    part = np.cumsum(np.concatenate([[True], known[1:] & ~known[:-1]]))[known]
    coords = coords[known]
    counts = np.bincount(part)[part]
    coords, part = coords[counts >= 2], part[counts >= 2]
    if not len(coords):
        return None
    lines = shapely.linestrings(coords, indices=np.unique(part, return_inverse=True)[1])
    lines = lines[shapely.length(lines) > 0]
    if not len(lines):
        return None
    geom = lines[0] if len(lines) == 1 else shapely.multilinestrings(lines)
    return bytes(shapely.to_wkb(geom))


def _water_kind(tags: osmium.osm.TagList) -> str | None:
    """The kind of a water area (None: the tags make none)."""
    landuse = tags.get("landuse")
    riverbank = tags.get("waterway") == "riverbank"
    if tags.get("natural") != "water" and not riverbank and landuse not in WATER_LANDUSE:
        return None
    water = tags.get("water")
    if water in WATER_KINDS:
        return str(water)
    return "riverbank" if riverbank else WATER_LANDUSE.get(str(landuse), "water")


def _polygon_kind(tags: osmium.osm.TagList) -> tuple[str, str] | None:
    """The layer (``landuse`` or ``water``) and kind an area with these tags is drawn as; None: not drawn."""
    if (water := _water_kind(tags)) is not None:
        return "water", water
    landuse = tags.get("landuse")
    kind = (
        landuse.strip().lower().replace(" ", "_")
        if landuse is not None
        else "cemetery"
        if tags.get("amenity") == "grave_yard"
        else LEISURE_KINDS.get(tags.get("leisure") or "") or NATURAL_KINDS.get(tags.get("natural") or "")
    )
    return None if kind is None else ("landuse", kind)


class _Pass:
    """Rows of every layer, collected object by object in one pass."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.factory = osmium.geom.WKBFactory()
        self.book = AreaBook(path, self.factory)
        self.lines: list[tuple[str, str]] = []  # (osm id, reason) of lines that could not be built
        self.cut_lines = 0  # lines cut at the extract's edge, kept in the parts it holds
        self.areas = {"landuse": Rows(("kind",), ("name",)), "water": Rows(("kind",), ("name",))}
        self.roads = Rows(("kind",), ("name", "name:en", "ref", "bridge", "tunnel"))
        self.railways = Rows(("kind",), ("name", "service"))
        self.waterway = Rows(("osm_id", "kind"), ("name", "name:en"))
        self.place_nodes = Rows(("kind",), ("name", "name:en", "population"))
        self.place_areas = Rows(("kind",), ("name", "name:en", "population"))
        self.river_names: dict[str, tuple[str | None, str | None]] = {}  # way id -> its waterway relation's names

    def node(self, node: osmium.osm.Node) -> None:
        place = node.tags.get("place") or ""
        if place in PLACE_RANKS:
            self.place_nodes.add(bytes.fromhex(self.factory.create_point(node)), node.tags, place)

    def way(self, way: osmium.osm.Way) -> None:
        tags = way.tags
        if _polygon_kind(tags) is not None or tags.get("place") in PLACE_RANKS:
            self.book.expect_way(way)
        highway, railway, waterway = tags.get("highway"), tags.get("railway"), tags.get("waterway")
        rows, kind = None, None
        if highway in ROAD_RANKS and tags.get("area") != "yes":
            rows, kind = self.roads, highway
        elif railway in RAILWAY_KINDS:
            rows, kind = self.railways, railway
        elif waterway in WATERWAY_KINDS:
            rows, kind = self.waterway, waterway
        if rows is None or kind is None:
            return
        line = way_line(self.factory, way)
        if line == SKIP_LINE_NODES_MISSING and (parts := _known_parts(way)) is not None:
            line = parts  # cut at the extract's edge: the map keeps what the extract holds of it
            self.cut_lines += 1
        if isinstance(line, str):
            self.lines.append((f"way/{way.id}", line))
        elif rows is self.waterway:
            rows.add(line, tags, f"way/{way.id}", kind)
        else:
            rows.add(line, tags, kind)

    def relation(self, relation: osmium.osm.Relation) -> None:
        tags = relation.tags
        if tags.get("type") == "waterway" and tags.get("name"):
            # Rivers are often named on their relation only: its unnamed member ways take its name.
            names = (tags.get("name"), tags.get("name:en"))
            for member in relation.members:
                if member.type == "w":
                    self.river_names.setdefault(f"way/{member.ref}", names)
        elif is_area_relation(relation) and (_polygon_kind(tags) is not None or tags.get("place") in PLACE_RANKS):
            self.book.expect_relation(relation)

    def area(self, area: osmium.osm.Area) -> None:
        tags = area.tags
        drawn = _polygon_kind(tags)
        place = tags.get("place") or ""
        if drawn is None and place not in PLACE_RANKS:
            return
        _, wkb = self.book.polygon(area)
        if wkb is None:
            return
        if drawn is not None:
            self.areas[drawn[0]].add(wkb, tags, drawn[1])
        if place in PLACE_RANKS:
            self.place_areas.add(wkb, tags, place)


def _flag(column: pa.Array) -> pa.Array:
    """``"1"`` where a tag such as ``bridge`` is set (to anything but ``no``), else null."""
    set_ = pc.fill_null(pc.not_equal(column, "no"), False)
    return pc.if_else(set_, pa.scalar("1"), pa.scalar(None, pa.string()))


def _ranks(kinds: pa.ChunkedArray, ranks: Mapping[str, int]) -> pa.Array:
    """The rank of each kind (every kind is a key of ``ranks``)."""
    index = pc.index_in(kinds.combine_chunks(), value_set=pa.array(list(ranks), pa.string()))
    return pa.array(np.array(list(ranks.values()), dtype=np.int32)).take(index)


def _named_rivers(rows: Rows, river_names: dict[str, tuple[str | None, str | None]]) -> pa.Table:
    """Waterway attributes, unnamed member ways of a named waterway relation named after it."""
    table = rows.attributes()
    if not river_names:
        return table
    index = pc.index_in(table["osm_id"].combine_chunks(), value_set=pa.array(list(river_names), pa.string()))
    for column, position in (("name", 0), ("name:en", 1)):
        inherited = pa.array([names[position] for names in river_names.values()], pa.string()).take(index)
        filled = pc.coalesce(table[column], inherited)
        table = table.set_column(table.column_names.index(column), column, filled)
    return table


def _places(found: _Pass) -> MapLayer:
    """Places: nodes as they are, areas as a point inside them; rank and a numeric population."""
    areas = area_polygons(found.place_areas, WGS84)
    geoms = np.concatenate([found.place_nodes.geometries(), shapely.point_on_surface(areas)])
    table = pa.concat_tables([found.place_nodes.attributes(), found.place_areas.attributes()])
    digits = pc.fill_null(pc.match_substring_regex(table["population"], r"^[0-9]{1,9}$"), False)
    population = pc.if_else(digits, table["population"], pa.scalar(None, pa.string())).cast(pa.float64())
    attributes = pa.table(
        {
            "kind": table["kind"],
            "name": table["name"],
            "name_en": table["name:en"],
            "rank": _ranks(table["kind"], PLACE_RANKS),
            "population": population,
        }
    )
    return MapLayer(np.asarray(geoms, dtype=object), attributes)


def _layers(found: _Pass) -> dict[str, MapLayer]:
    roads = found.roads.attributes()
    waterway = _named_rivers(found.waterway, found.river_names)
    layers = {name: MapLayer(area_polygons(rows, WGS84), rows.attributes()) for name, rows in found.areas.items()}
    layers["waterway"] = MapLayer(
        found.waterway.geometries(),
        pa.table({"kind": waterway["kind"], "name": waterway["name"], "name_en": waterway["name:en"]}),
    )
    layers["roads"] = MapLayer(
        found.roads.geometries(),
        pa.table(
            {
                "kind": roads["kind"],
                "name": roads["name"],
                "name_en": roads["name:en"],
                "ref": roads["ref"],
                "bridge": _flag(roads["bridge"]),
                "tunnel": _flag(roads["tunnel"]),
                "rank": _ranks(roads["kind"], ROAD_RANKS),
            }
        ),
    )
    layers["railways"] = MapLayer(found.railways.geometries(), found.railways.attributes())
    layers["places"] = _places(found)
    return layers


def read_osm_basemap(path: Path, *, bbox: tuple[float, float, float, float] | None = None) -> OsmBasemap:
    """Read the basemap layers of an OpenStreetMap extract.

    Layers (all properties strings unless said):

    * ``landuse`` (polygons): ``kind`` is the ``landuse`` value, else ``cemetery`` (``amenity=grave_yard``), else a
      kind of :data:`LEISURE_KINDS` or :data:`NATURAL_KINDS`; ``name``.
    * ``water`` (polygons): ``natural=water``, ``waterway=riverbank``, ``landuse=reservoir/basin``; ``kind`` (the
      ``water`` value where it is one of :data:`WATER_KINDS`, ``riverbank``, ``reservoir``, ``basin`` or ``water``),
      ``name``.
    * ``waterway`` (lines): :data:`WATERWAY_KINDS`; ``kind``, ``name``, ``name_en``. An unnamed way takes the name of
      the waterway relation it belongs to.
    * ``roads`` (lines): the ``highway`` values of :data:`ROAD_RANKS` (not ``area=yes``); ``kind``, ``name``,
      ``name_en``, ``ref``, ``bridge``/``tunnel`` (``"1"`` where set), ``rank`` (int32).
    * ``railways`` (lines): :data:`RAILWAY_KINDS`; ``kind``, ``name``, ``service``.
    * ``places`` (points; areas as a point inside them): :data:`PLACE_RANKS`; ``kind``, ``name``, ``name_en``,
      ``rank`` (int32), ``population`` (float64, where the tag is a whole number).

    Args:
        path: an OSM PBF or XML file.
        bbox: where to keep the map, in lon/lat (west, south, east, north): geometries are cut to it and what lies
            outside is left out. None keeps everything.

    Returns:
        The layers in lon/lat, in file order, and the objects that could not be built, with their reasons.

    Raises:
        InputError: the file is missing, empty, truncated or not OSM data.
    """
    path = Path(path)
    check_readable(path)
    found = _Pass(path)
    processor = (
        osmium.FileProcessor(path)
        .with_areas(osmium.filter.KeyFilter(*_AREA_KEYS))
        .with_filter(osmium.filter.KeyFilter(*_KEYS))
    )
    with osmium_errors(path):
        for obj in processor:
            if isinstance(obj, osmium.osm.Area):
                found.area(obj)
            elif isinstance(obj, osmium.osm.Way):
                found.way(obj)
            elif isinstance(obj, osmium.osm.Relation):
                found.relation(obj)
            elif isinstance(obj, osmium.osm.Node):
                found.node(obj)
    skipped = SkipLog()
    found.book.close(skipped)
    for osm_id, reason in found.lines:
        skipped.add(path, osm_id, reason)
    layers = _layers(found)
    if bbox is not None:
        layers = {name: layer.clipped(bbox) for name, layer in layers.items()}
    return OsmBasemap(path, layers, skipped, found.cut_lines)
