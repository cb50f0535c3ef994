"""OpenStreetMap extracts (PBF and XML) read with pyosmium: building footprints, points of interest and paths.

Each reader makes one streaming pass over the file (two for areas: pyosmium reads the relations first) and lets
libosmium do the heavy work: node locations are cached and looked up in C++, key filters drop uninteresting
objects before Python sees them, areas (closed ways and multipolygon relations) are assembled by libosmium's
area assembler, and geometries leave C++ as WKB that shapely parses in bulk. Python touches each selected object
once (to read its tags), never each vertex.

OpenStreetMap data is in WGS 84 (EPSG:4326); geometries are reprojected to the twin's CRS. OSM data is
licensed under the ODbL 1.0 ("© OpenStreetMap contributors"); tables read from it are derived databases.

Extracts cut along a bounding box contain ways and relations whose nodes or member ways lie outside the cut.
Those cannot be assembled; the readers never drop them silently but list each one, with the reason, in the
:class:`~twin3d.io.surfaces.SkipLog` passed as ``skipped`` (the ``SKIP_*`` constants of this module and of
:mod:`twin3d.io.osm_pass`, whose pass the readers share, are the reasons, so that callers can count by reason).

Example:
    >>> from pyproj import CRS  # doctest: +SKIP
    >>> log = SkipLog()  # doctest: +SKIP
    >>> table = read_osm_buildings(Path("lauf-200115.osm.pbf"), CRS.from_epsg(25832), skipped=log)  # doctest: +SKIP
    >>> len(table), len(log.entries)  # doctest: +SKIP
    (6492, 66)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import osmium
import osmium.filter
import osmium.geom
import osmium.osm
import shapely
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.crs import reproject
from twin3d.io.osm_pass import (
    WGS84,
    AreaBook,
    Rows,
    area_polygons,
    check_readable,
    is_area_relation,
    osmium_errors,
    way_lines,
)
from twin3d.io.surfaces import SkipLog
from twin3d.io.vector import FeatureTable

# --- what the readers keep ---------------------------------------------------------------------------------------

#: Tags of a building copied into string columns (null where the building does not have them).
BUILDING_TAGS: tuple[str, ...] = (
    "building",
    "building:levels",
    "height",
    "min_height",
    "roof:shape",
    "roof:levels",
    "building:min_level",
    "name",
    "amenity",
    "shop",
    "addr:street",
    "addr:housenumber",
    "addr:postcode",
    "addr:city",
    "start_date",
)

#: The keys that make an object a point of interest, in the order that decides its ``poi_kind``.
POI_KEYS: tuple[str, ...] = (
    "amenity",
    "leisure",
    "shop",
    "public_transport",
    "highway",
    "railway",
    "healthcare",
    "social_facility",
)

#: Tags of a point of interest copied into string columns besides ``name``.
POI_TAGS: tuple[str, ...] = (
    "operator",
    "capacity",
    "wheelchair",
    "isced:level",
    "social_facility",
    "social_facility:for",
)

#: ``highway`` values that are no place to walk, and therefore left out of :func:`read_osm_paths`.
EXCLUDED_HIGHWAYS: frozenset[str] = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "construction",
        "proposed",
        "raceway",
        "bus_guideway",
    }
)

#: Tags of a path copied into string columns besides ``highway`` and ``name``.
PATH_TAGS: tuple[str, ...] = ("footway", "sidewalk", "foot", "access", "surface")

# --- why an object was left out (the reasons in the SkipLog) -----------------------------------------------------

SKIP_BUILDING_PART = "building:part"
SKIP_BUILDING_NO = "building=no"
SKIP_BUILDING_NODE = "building mapped as a node, without an outline"

_PRIVATE_ACCESS = frozenset({"private", "no"})


@dataclass(frozen=True)
class ValueFilter:
    """Which values of one key make a point of interest.

    Attributes:
        only: if given, only these values count.
        exclude: values that never count (checked after ``only``).
    """

    only: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset({"no"})

    def accepts(self, value: str) -> bool:
        """Whether ``value`` makes the object a point of interest."""
        if self.only is not None and value not in self.only:
            return False
        return value not in self.exclude


#: The default value filters of :func:`read_osm_pois`; a key not listed here accepts every value but ``no``.
#:
#: * ``amenity``: street furniture and car/bike infrastructure are left out (benches, bins, grit bins, vending
#:   machines, post boxes, recycling containers, parking, charging stations, shelters, hunting stands, ...):
#:   they are no destinations a twin's accessibility analysis walks to.
#: * ``leisure``: ``track`` (the running track inside a stadium, which is its own POI) and outdoor furniture.
#:   Private gardens and pools are removed by the ``access`` rule below, not here.
#: * ``shop``: every shop except ``vacant``.
#: * ``public_transport``: ``platform`` and ``station``; ``stop_position`` is the point on the road where the
#:   vehicle halts and duplicates the platform next to it.
#: * ``highway``: only ``bus_stop``.
#: * ``railway``: ``station``, ``halt``, ``tram_stop``, ``subway_entrance`` (not tracks, signals, platforms).
#: * ``healthcare`` and ``social_facility``: every value.
#:
#: Independently of these, objects tagged ``access=private`` or ``access=no`` are never points of interest.
POI_VALUES: Mapping[str, ValueFilter] = {
    "amenity": ValueFilter(
        exclude=frozenset(
            {
                "no",
                "bench",
                "waste_basket",
                "waste_disposal",
                "grit_bin",
                "vending_machine",
                "post_box",
                "recycling",
                "parking",
                "parking_space",
                "parking_entrance",
                "bicycle_parking",
                "motorcycle_parking",
                "charging_station",
                "telephone",
                "fountain",
                "drinking_water",
                "shelter",
                "hunting_stand",
                "clock",
                "wlan",
                "sanitary_dump_station",
                "loading_dock",
                "compressed_air",
                "water_point",
                "watering_place",
                "feeding_place",
                "bbq",
                "table",
                "lounger",
                "letter_box",
                "photo_booth",
                "smoking_area",
                "trolley_bay",
            }
        )
    ),
    "leisure": ValueFilter(
        exclude=frozenset({"no", "track", "picnic_table", "firepit", "bleachers", "outdoor_seating"})
    ),
    "shop": ValueFilter(exclude=frozenset({"no", "vacant"})),
    "public_transport": ValueFilter(only=frozenset({"platform", "station"})),
    "highway": ValueFilter(only=frozenset({"bus_stop"})),
    "railway": ValueFilter(only=frozenset({"station", "halt", "tram_stop", "subway_entrance"})),
}

_ANY_VALUE = ValueFilter()

# --- buildings -----------------------------------------------------------------------------------------------------


def _not_a_building(building: str | None) -> str | None:
    """Why an object in the building pass is no building (it passed the key filter through building:part)."""
    if building is None:
        return SKIP_BUILDING_PART
    if building == "no":
        return SKIP_BUILDING_NO
    return None


def read_osm_buildings(path: Path, target_crs: CRS, *, skipped: SkipLog | None = None) -> FeatureTable:
    """Read building footprints: every area (closed way or multipolygon relation) tagged ``building``.

    Left out, each recorded in ``skipped``: ``building:part`` objects (parts of a building, not buildings of
    their own), ``building=no``, buildings mapped as a node, open ways, and areas that cannot be assembled
    (nodes or member ways missing at the edge of the extract, broken rings). Relations of ``type=building``
    are no areas; their outline is a way of its own and is read as such.

    Args:
        path: an OSM PBF (``.osm.pbf``) or XML (``.osm``, ``.osm.gz``, ``.osm.bz2``) file.
        target_crs: the twin's projected CRS.
        skipped: where to list the objects left out, as (file, ``"way/123"``, reason).

    Returns:
        One row per building in file order (ways before relations): Polygon or MultiPolygon geometries (holes
        kept) in ``target_crs``; attributes ``osm_id`` (``"way/123"`` or ``"relation/5"``) and one string column
        per tag in :data:`BUILDING_TAGS`, null where the building lacks the tag.

    Raises:
        InputError: the file is missing, empty, truncated or not OSM data.
    """
    path = Path(path)
    check_readable(path)
    book = AreaBook(path, osmium.geom.WKBFactory())
    rows = Rows(("osm_id",), BUILDING_TAGS)
    processor = (
        osmium.FileProcessor(path)
        .with_areas(osmium.filter.KeyFilter("building"))
        .with_filter(osmium.filter.KeyFilter("building", "building:part"))
    )
    with osmium_errors(path):
        for obj in processor:
            why_not = _not_a_building(obj.tags.get("building"))
            if isinstance(obj, osmium.osm.Area):
                if why_not is None:  # parts and building=no are logged once, from their way or relation
                    osm_id, wkb = book.polygon(obj)
                    if wkb is not None:
                        rows.add(wkb, obj.tags, osm_id)
            elif isinstance(obj, osmium.osm.Way):
                if why_not is None:
                    book.expect_way(obj)
                else:
                    book.skip(f"way/{obj.id}", why_not)
            elif is_area_relation(obj):
                if why_not is None:
                    book.expect_relation(obj)
                else:
                    book.skip(f"relation/{obj.id}", why_not)
            elif isinstance(obj, osmium.osm.Node) and why_not is None:
                book.skip(f"node/{obj.id}", SKIP_BUILDING_NODE)
    book.close(skipped)
    return FeatureTable(path, WGS84, area_polygons(rows, target_crs), rows.attributes())


# --- points of interest --------------------------------------------------------------------------------------------


def _poi_kind(tags: osmium.osm.TagList, keys: Sequence[str], values: Mapping[str, ValueFilter]) -> str | None:
    if tags.get("access") in _PRIVATE_ACCESS:
        return None
    for key in keys:
        value = tags.get(key)
        if value is not None and values.get(key, _ANY_VALUE).accepts(value):
            return f"{key}={value}"
    return None


def _read_tagged(
    path: Path,
    keys: Sequence[str],
    values: Mapping[str, ValueFilter],
    skipped: SkipLog | None,
    *,
    node_reason: str | None,
) -> Rows:
    """Nodes and areas whose tags :func:`_poi_kind` accepts, in one pass; with a ``node_reason``, nodes are left
    out and recorded with it (for readers that need an outline)."""
    check_readable(path)
    factory = osmium.geom.WKBFactory()
    book = AreaBook(path, factory)
    rows = Rows(("osm_id", "poi_kind", "geom_source"), ("name", *POI_TAGS))
    processor = (
        osmium.FileProcessor(path)
        .with_areas(osmium.filter.KeyFilter(*keys))
        .with_filter(osmium.filter.KeyFilter(*keys))
    )
    with osmium_errors(path):
        for obj in processor:
            kind = _poi_kind(obj.tags, keys, values)
            if kind is None:
                continue
            if isinstance(obj, osmium.osm.Node):
                if node_reason is None:
                    rows.add(bytes.fromhex(factory.create_point(obj)), obj.tags, f"node/{obj.id}", kind, "node")
                elif skipped is not None:
                    skipped.add(path, f"node/{obj.id}", node_reason)
            elif isinstance(obj, osmium.osm.Area):
                osm_id, wkb = book.polygon(obj)
                if wkb is not None:
                    rows.add(wkb, obj.tags, osm_id, kind, "area")
            elif isinstance(obj, osmium.osm.Way):
                book.expect_way(obj)
            elif is_area_relation(obj):
                book.expect_relation(obj)
    book.close(skipped)
    return rows


def read_osm_pois(
    path: Path,
    target_crs: CRS,
    *,
    keys: Sequence[str] = POI_KEYS,
    values: Mapping[str, ValueFilter] = POI_VALUES,
    skipped: SkipLog | None = None,
) -> FeatureTable:
    """Read points of interest: nodes, and areas as a point inside them.

    An object is a point of interest when one of ``keys`` has a value its :class:`ValueFilter` in ``values``
    accepts (see :data:`POI_VALUES` for the defaults and why) and it is not tagged ``access=private``/``no``.
    Its ``poi_kind`` is ``key=value`` of the first such key in ``keys`` order, so a bus stop node tagged both
    ``public_transport=platform`` and ``highway=bus_stop`` is ``public_transport=platform`` with the default
    order. Areas (closed ways, multipolygon relations) give a point on their surface
    (:func:`shapely.point_on_surface`, computed in ``target_crs``). Open ways with such tags and areas that
    cannot be assembled are recorded in ``skipped``.

    Args:
        path: an OSM PBF or XML file.
        target_crs: the twin's projected CRS.
        keys: the keys to look at, in the order that decides ``poi_kind``.
        values: value filters per key; a key without one accepts every value but ``no``.
        skipped: where to list the objects left out.

    Returns:
        One Point per object (nodes first, in file order); attributes ``osm_id``, ``poi_kind``, ``geom_source``
        (``"node"`` or ``"area"``), ``name`` and the tags in :data:`POI_TAGS`, all strings.

    Raises:
        InputError: the file is missing, empty, truncated or not OSM data, or ``keys`` is empty.
    """
    path = Path(path)
    if not keys:
        raise InputError("no keys given for points of interest", file=path, hint="pass keys such as ('amenity',)")
    rows = _read_tagged(path, keys, values, skipped, node_reason=None)
    # The point on the surface is taken in the target CRS; for a node it is the node itself.
    geoms = shapely.point_on_surface(reproject(rows.geometries(), WGS84, target_crs))
    return FeatureTable(path, WGS84, np.asarray(geoms, dtype=object), rows.attributes())


# --- green areas ---------------------------------------------------------------------------------------------------

#: The tags of public green space a resident can walk to and spend time in ("wohnungsnahes Grün"): parks,
#: public gardens, playgrounds, commons, recreation grounds, nature reserves and dog parks. Left out: pitches and
#: sports centres (sports facilities, not green space), forests, meadows and farmland (landscape, not places one
#: stays in), cemeteries, and ``landuse=grass`` and ``landuse=village_green`` (in German OSM mostly road verges
#: and strips between houses: Lauf has 202 of them averaging 860 m²). Objects tagged
#: ``access=private``/``no`` never count, so private gardens are left out.
GREEN_VALUES: Mapping[str, ValueFilter] = {
    "leisure": ValueFilter(
        only=frozenset({"park", "garden", "playground", "recreation_ground", "common", "dog_park", "nature_reserve"})
    ),
    "landuse": ValueFilter(only=frozenset({"recreation_ground"})),
}
GREEN_KEYS: tuple[str, ...] = ("leisure", "landuse")
SKIP_GREEN_NODE = "green space mapped as a node, without an outline"


def read_osm_greens(path: Path, target_crs: CRS, *, skipped: SkipLog | None = None) -> FeatureTable:
    """Read public green areas (see :data:`GREEN_VALUES`) as polygons in ``target_crs``.

    Args:
        path: an OSM PBF or XML file.
        target_crs: the twin's projected CRS.
        skipped: where to list what was left out: greens mapped as nodes (they have no area), open ways and areas
            that cannot be assembled.

    Returns:
        One (Multi)Polygon per area in file order; attributes as :func:`read_osm_pois` (``poi_kind`` is the
        green's ``key=value``).
    """
    path = Path(path)
    rows = _read_tagged(path, GREEN_KEYS, GREEN_VALUES, skipped, node_reason=SKIP_GREEN_NODE)
    return FeatureTable(path, WGS84, area_polygons(rows, target_crs), rows.attributes())


# --- paths ---------------------------------------------------------------------------------------------------------


def read_osm_paths(path: Path, target_crs: CRS, *, skipped: SkipLog | None = None) -> FeatureTable:
    """Read the ways people walk on: every way tagged ``highway``, as a LineString.

    Left out without a record: ``highway`` values in :data:`EXCLUDED_HIGHWAYS` (motorways, trunk roads and their
    links, construction, proposed, raceway, bus_guideway) and ways tagged ``area=yes`` (squares, which are
    surfaces, not lines). Left out and recorded in ``skipped``: ways with nodes missing at the extract edge (also
    where only their first nodes are missing: no shortened lines) and ways with fewer than two distinct nodes.
    Ways are not split at intersections.

    Args:
        path: an OSM PBF or XML file.
        target_crs: the twin's projected CRS.
        skipped: where to list the ways left out.

    Returns:
        One LineString per way in file order; attributes ``osm_id``, ``highway``, ``name`` and the tags in
        :data:`PATH_TAGS`, all strings.

    Raises:
        InputError: the file is missing, empty, truncated or not OSM data.
    """
    path = Path(path)

    def skip(tags: osmium.osm.TagList) -> str | None:
        highway = tags.get("highway")
        return "" if highway is None or highway in EXCLUDED_HIGHWAYS or tags.get("area") == "yes" else None

    rows = Rows(("osm_id",), ("highway", "name", *PATH_TAGS))
    lines, attributes = way_lines(path, target_crs, rows, osmium.filter.KeyFilter("highway"), skip, skipped=skipped)
    return FeatureTable(path, WGS84, lines, attributes)
