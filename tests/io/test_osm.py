from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import osmium
import osmium.filter
import osmium.geom
import osmium.osm
import pyarrow.compute as pc
import pyogrio
import pytest
import shapely
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.crs import reproject
from twin3d.io.osm import (
    SKIP_BUILDING_NO,
    SKIP_BUILDING_NODE,
    SKIP_BUILDING_PART,
    SKIP_GREEN_NODE,
    ValueFilter,
    read_osm_buildings,
    read_osm_greens,
    read_osm_paths,
    read_osm_pois,
)
from twin3d.io.osm_pass import (
    SKIP_AREA_NO,
    SKIP_LINE_DEGENERATE,
    SKIP_LINE_NODES_MISSING,
    SKIP_NODES_MISSING,
    SKIP_OPEN_WAY,
    SKIP_RELATION_INCOMPLETE,
    SKIP_RING_BROKEN,
)
from twin3d.io.surfaces import SkipLog
from twin3d.io.vector import FeatureTable

UTM32 = CRS.from_epsg(25832)
WGS84 = CRS.from_epsg(4326)
OSM_DATA = Path(__file__).resolve().parent.parent / "data" / "osm"
LAUF = OSM_DATA / "lauf-centre.osm.pbf"  # PBF cut of Lauf a.d. Pegnitz, see SOURCE.md
BAYREUTH = OSM_DATA / "north-bayreuth-cut.osm.gz"  # XML cut north of Bayreuth
# What GDAL's OSM driver needs to open each fixture (it reads gzip only through /vsigzip/).
GDAL_PATH = {LAUF: str(LAUF), BAYREUTH: f"/vsigzip/{BAYREUTH}"}

Reader = Callable[..., FeatureTable]


def _ids(table: FeatureTable) -> list[str]:
    return [str(v) for v in table.column("osm_id").to_pylist()]


def _row(table: FeatureTable, osm_id: str) -> tuple[shapely.Geometry, dict[str, str]]:
    i = _ids(table).index(osm_id)
    row = table.attributes.slice(i, 1).to_pylist()[0]
    return table.geometry[i], {k: v for k, v in row.items() if v is not None}


def _by_reason(log: SkipLog) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for _, object_id, reason in log.entries:
        out.setdefault(reason, set()).add(object_id)
    return out


def _gdal_buildings(path: Path) -> dict[str, shapely.Geometry]:
    """Building objects as GDAL's OSM driver sees them (its own parser and polygon builder), by OSM id."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Non closed ring detected" for ways cut at the edge
        meta, table = pyogrio.read_arrow(GDAL_PATH[path], layer="multipolygons")
    table = table.filter(pc.and_(pc.is_valid(table["building"]), pc.not_equal(table["building"], "no")))
    geoms = shapely.from_wkb(table[meta["geometry_name"] or "wkb_geometry"].to_numpy(zero_copy_only=False), "ignore")
    ids = [
        f"way/{way}" if way is not None else f"relation/{rel}"
        for way, rel in zip(table["osm_way_id"].to_pylist(), table["osm_id"].to_pylist(), strict=True)
    ]
    return dict(zip(ids, geoms, strict=True))


def _incomplete_building_ways(path: Path) -> set[str]:
    """Closed building ways whose nodes are not all in the file, counted without locations or areas."""
    node_ids: set[int] = set()
    refs: dict[str, list[int]] = {}
    for obj in osmium.FileProcessor(path, osmium.osm.NODE | osmium.osm.WAY):
        if isinstance(obj, osmium.osm.Node):
            node_ids.add(obj.id)
        elif isinstance(obj, osmium.osm.Way) and obj.tags.get("building", "no") != "no":
            refs[f"way/{obj.id}"] = [n.ref for n in obj.nodes]
    return {osm_id for osm_id, nodes in refs.items() if not set(nodes) <= node_ids}


# --- buildings ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [LAUF, BAYREUTH], ids=["pbf", "xml-gz"])
def test_buildings_are_the_assembled_building_areas_gdal_sees(path: Path) -> None:
    log = SkipLog()
    table = read_osm_buildings(path, UTM32, skipped=log)
    gdal = _gdal_buildings(path)
    cut_at_edge = _by_reason(log)[SKIP_NODES_MISSING]
    # GDAL lists every building object, even those cut at the edge (as broken rings); we list each once,
    # either as a building or in the skip log with its reason.
    assert len(table) + len(cut_at_edge) == len(gdal)
    assert set(_ids(table)) | cut_at_edge == set(gdal)
    assert not set(_ids(table)) & cut_at_edge
    # Same footprints as GDAL's own polygon building, once both are in UTM.
    theirs = reproject(np.array([gdal[i] for i in _ids(table)], dtype=object), WGS84, UTM32)
    np.testing.assert_allclose(shapely.area(table.geometry), shapely.area(theirs), rtol=1e-6)


def test_lauf_building_counts_and_what_was_left_out() -> None:
    log = SkipLog()
    table = read_osm_buildings(LAUF, UTM32, skipped=log)
    assert len(table) == 802
    skipped = _by_reason(log)
    assert {reason: len(ids) for reason, ids in skipped.items()} == {SKIP_NODES_MISSING: 55, SKIP_BUILDING_PART: 8}
    # The ways recorded as cut at the edge are exactly those with node references not in the file.
    assert skipped[SKIP_NODES_MISSING] == _incomplete_building_ways(LAUF)
    assert all(entry[0] == str(LAUF) for entry in log.entries)
    assert table.source_crs.to_epsg() == 4326
    assert table.attributes.column_names[:2] == ["osm_id", "building"]
    assert all(t == "string" for t in map(str, table.attributes.schema.types))


def test_lauf_footprints_are_valid_polygons_in_utm32() -> None:
    table = read_osm_buildings(LAUF, UTM32)
    assert shapely.is_valid(table.geometry).all()
    assert set(shapely.get_type_id(table.geometry)) <= {3, 6}
    x0, y0, x1, y1 = shapely.total_bounds(table.geometry)
    # The cut is 11.268-11.284 E, 49.514-49.523 N: about 1.2 km by 1 km at E 664-665 km, N 5487-5488 km.
    assert 663_900 < x0 < x1 < 665_600
    assert 5_486_900 < y0 < y1 < 5_488_300
    area = shapely.area(table.geometry)
    assert 5 < np.median(area) < 300  # houses and garages
    assert area.min() > 0.5


def test_known_way_building_keeps_its_tags() -> None:
    table = read_osm_buildings(LAUF, UTM32)
    geom, tags = _row(table, "way/36900392")
    assert tags == {
        "osm_id": "way/36900392",
        "building": "yes",
        "name": "Rathaus",
        "amenity": "townhall",
        "addr:street": "Urlasstraße",
        "addr:housenumber": "22",
        "addr:postcode": "91207",
        "addr:city": "Lauf a.d.Pegnitz",
    }
    assert geom.geom_type == "Polygon"
    assert shapely.area(geom) == pytest.approx(956, abs=2)


def test_multipolygon_relation_building_keeps_its_courtyards() -> None:
    table = read_osm_buildings(LAUF, UTM32)
    geom, tags = _row(table, "relation/357746")
    assert tags["name"] == "Krankenhaus Lauf"
    assert tags["amenity"] == "hospital"
    assert geom.geom_type == "Polygon"
    assert shapely.get_num_interior_rings(geom) == 7
    assert shapely.is_valid(geom)
    holes = shapely.area(shapely.polygons(shapely.get_interior_ring(geom, np.arange(7))))
    assert shapely.area(geom) == pytest.approx(7750, rel=0.01)
    outline = shapely.area(shapely.polygons(shapely.get_exterior_ring(geom)))
    assert outline == pytest.approx(shapely.area(geom) + holes.sum())
    assert holes.min() > 10  # real courtyards, not slivers
    assert {"relation/2247094", "relation/2247095"} <= set(_ids(table))  # the two grandstands


def test_xml_gz_buildings_in_utm32() -> None:
    log = SkipLog()
    table = read_osm_buildings(BAYREUTH, UTM32, skipped=log)
    assert len(table) == 201
    assert {reason: len(ids) for reason, ids in _by_reason(log).items()} == {SKIP_NODES_MISSING: 8}
    assert _by_reason(log)[SKIP_NODES_MISSING] == _incomplete_building_ways(BAYREUTH)
    assert shapely.is_valid(table.geometry).all()
    x0, y0, x1, y1 = shapely.total_bounds(table.geometry)
    assert 683_500 < x0 < x1 < 684_600
    assert 5_544_400 < y0 < y1 < 5_545_800


def test_reading_in_wgs84_gives_the_file_coordinates() -> None:
    table = read_osm_buildings(LAUF, WGS84)
    lon0, lat0, lon1, lat1 = shapely.total_bounds(table.geometry)
    assert 11.26 < lon0 < lon1 < 11.29
    assert 49.51 < lat0 < lat1 < 49.53


# --- what is not a building or cannot be one: a handwritten file ----------------------------------------------------

_SQUARE = [(0, 0), (0, 1), (1, 1), (1, 0)]


def _write_osm(
    path: Path, nodes: dict[int, tuple[float, float]], ways: str, relations: str = "", *, node_xml: str = ""
) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="twin3d tests">']
    lines += [f'<node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}"/>' for i, (lon, lat) in sorted(nodes.items())]
    lines += [node_xml, ways, relations, "</osm>"]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _square(first_id: int, lon: float, lat: float, size: float) -> dict[int, tuple[float, float]]:
    return {first_id + k: (lon + dx * size, lat + dy * size) for k, (dx, dy) in enumerate(_SQUARE)}


def _way(way_id: int, refs: list[int], **tags: str) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    tag_xml = "".join(f'<tag k="{k.replace("__", ":")}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{way_id}">{nds}{tag_xml}</way>'


def _relation(rel_id: int, members: list[tuple[int, str]], **tags: str) -> str:
    mem = "".join(f'<member type="way" ref="{ref}" role="{role}"/>' for ref, role in members)
    tag_xml = "".join(f'<tag k="{k.replace("__", ":")}" v="{v}"/>' for k, v in tags.items())
    return f'<relation id="{rel_id}">{mem}{tag_xml}</relation>'


@pytest.fixture
def edge_cases(tmp_path: Path) -> Path:
    lon, lat, s = 11.27, 49.515, 0.0002
    nodes = {
        **_square(1, lon, lat, s),  # a house
        **_square(11, lon + 0.001, lat, s),  # building=no
        **_square(21, lon + 0.002, lat, s),  # a building:part
        **_square(31, lon + 0.003, lat, s),  # an open way tagged building
        **_square(41, lon, lat + 0.001, 4 * s),  # outer ring of a building relation ...
        **_square(51, lon + 1.5 * s, lat + 0.001 + 1.5 * s, s),  # ... and its courtyard
        **_square(61, lon + 0.002, lat + 0.001, s),  # two separate outlines of one building relation
        **_square(71, lon + 0.003, lat + 0.001, s),
        81: (lon + 0.004, lat),  # a bow tie
        82: (lon + 0.004 + s, lat + s),
        83: (lon + 0.004 + s, lat),
        84: (lon + 0.004, lat + s),
    }
    ways = "\n".join(
        [
            _way(100, [1, 2, 3, 4, 1], building="house", name="Haus"),
            _way(101, [1, 2, 999, 1], building="yes"),  # node 999 lies beyond the extract edge
            _way(102, [11, 12, 13, 14, 11], building="no"),
            _way(103, [21, 22, 23, 24, 21], building__part="yes"),
            _way(104, [31, 32, 33, 34], building="yes"),
            _way(105, [81, 82, 83, 84, 81], building="yes"),
            _way(106, [1, 2, 3, 4, 1], building="yes", area="no"),
            _way(110, [41, 42, 43, 44, 41]),
            _way(111, [51, 52, 53, 54, 51]),
            _way(112, [61, 62, 63, 64, 61]),
            _way(113, [71, 72, 73, 74, 71]),
        ]
    )
    relations = "\n".join(
        [
            _relation(200, [(110, "outer"), (111, "inner")], type="multipolygon", building="school", name="Schule"),
            _relation(201, [(112, "outer"), (113, "outer")], type="multipolygon", building="yes"),
            _relation(202, [(110, "outer"), (998, "outer")], type="multipolygon", building="yes"),  # 998 is missing
        ]
    )
    building_node = f'<node id="91" lat="{lat}" lon="{lon + 0.005}"><tag k="building" v="yes"/></node>'
    return _write_osm(tmp_path / "edge.osm", nodes, ways, relations, node_xml=building_node)


def test_every_building_object_left_out_is_logged_with_its_reason(edge_cases: Path) -> None:
    log = SkipLog()
    table = read_osm_buildings(edge_cases, UTM32, skipped=log)
    assert _ids(table) == ["way/100", "relation/200", "relation/201"]
    assert {(object_id, reason) for _, object_id, reason in log.entries} == {
        ("way/101", SKIP_NODES_MISSING),
        ("way/102", SKIP_BUILDING_NO),
        ("way/103", SKIP_BUILDING_PART),
        ("way/104", SKIP_OPEN_WAY),
        ("way/105", SKIP_RING_BROKEN),
        ("way/106", SKIP_AREA_NO),
        ("relation/202", SKIP_RELATION_INCOMPLETE),
        ("node/91", SKIP_BUILDING_NODE),
    }
    assert all(file == str(edge_cases) for file, _, _ in log.entries)


def test_relation_buildings_keep_holes_and_parts(edge_cases: Path) -> None:
    table = read_osm_buildings(edge_cases, UTM32)
    school, tags = _row(table, "relation/200")
    assert tags["building"] == "school"
    assert tags["name"] == "Schule"
    assert school.geom_type == "Polygon"
    assert shapely.get_num_interior_rings(school) == 1
    house = _row(table, "way/100")[0]
    # 4 x 4 cells of the house's size with a 1 x 1 courtyard.
    assert shapely.area(school) == pytest.approx(15 * shapely.area(house), rel=1e-3)
    twin, _ = _row(table, "relation/201")
    assert twin.geom_type == "MultiPolygon"
    assert shapely.get_num_geometries(twin) == 2
    assert shapely.is_valid(table.geometry).all()


def test_without_a_skip_log_the_reader_still_leaves_them_out(edge_cases: Path) -> None:
    assert len(read_osm_buildings(edge_cases, UTM32)) == 3


# --- points of interest ----------------------------------------------------------------------------------------------


def test_lauf_pois_kinds_and_geometry_sources() -> None:
    log = SkipLog()
    pois = read_osm_pois(LAUF, UTM32, skipped=log)
    kinds = Counter(pois.column("poi_kind").to_pylist())
    assert len(pois) == 59
    assert kinds["highway=bus_stop"] == 9
    assert kinds["public_transport=platform"] == 8
    assert kinds["amenity=school"] == 3
    assert kinds["amenity=kindergarten"] == 2
    assert kinds["amenity=hospital"] == 1
    assert kinds["leisure=playground"] == 3
    # Street furniture, parking and vehicle stop positions are no destinations.
    assert not {k for k in kinds if k.split("=")[1] in {"bench", "parking", "waste_basket", "stop_position"}}
    assert Counter(pois.column("geom_source").to_pylist()) == {"node": 39, "area": 20}
    assert set(shapely.get_type_id(pois.geometry)) == {0}
    x0, y0, x1, y1 = shapely.total_bounds(pois.geometry)
    assert 663_900 < x0 < x1 < 665_600
    assert 5_486_900 < y0 < y1 < 5_488_300
    assert {reason for _, _, reason in log.entries} <= {SKIP_OPEN_WAY, SKIP_NODES_MISSING}


def test_area_pois_lie_inside_their_area() -> None:
    pois = read_osm_pois(LAUF, UTM32)
    buildings = read_osm_buildings(LAUF, UTM32)
    point, tags = _row(pois, "relation/357746")
    assert tags["poi_kind"] == "amenity=hospital"
    assert tags["name"] == "Krankenhaus Lauf"
    assert tags["geom_source"] == "area"
    hospital = _row(buildings, "relation/357746")[0]
    assert shapely.contains(hospital, point)  # inside the outline, not in one of its courtyards
    _, tags = _row(pois, "way/38633481")
    assert tags == {
        "osm_id": "way/38633481",
        "poi_kind": "amenity=school",
        "geom_source": "area",
        "name": "Christoph-Jacob-Treu-Gymnasium",
        "wheelchair": "limited",
    }


def test_private_gardens_are_no_pois() -> None:
    private = {
        f"way/{w.id}"
        for w in osmium.FileProcessor(LAUF, osmium.osm.WAY).with_filter(osmium.filter.KeyFilter("leisure"))
        if isinstance(w, osmium.osm.Way) and w.tags.get("access") == "private"
    }
    assert len(private) > 10
    assert not private & set(_ids(read_osm_pois(LAUF, UTM32)))


def test_green_areas_are_public_outlines_with_their_area() -> None:
    """Parks, public gardens and playgrounds come as polygons; verges, private gardens and pitches do not."""
    log = SkipLog()
    greens = read_osm_greens(LAUF, UTM32, skipped=log)
    kinds = set(greens.column("poi_kind").to_pylist())
    assert "leisure=park" in kinds
    assert "leisure=playground" in kinds
    assert not kinds & {"landuse=village_green", "landuse=grass", "leisure=pitch"}
    assert set(shapely.get_type_id(greens.geometry)) <= {3, 6}  # (Multi)Polygons only
    assert shapely.is_valid(greens.geometry).all()
    assert (shapely.area(greens.geometry) > 1).all()
    private = {
        f"way/{w.id}"
        for w in osmium.FileProcessor(LAUF, osmium.osm.WAY).with_filter(osmium.filter.KeyFilter("leisure"))
        if isinstance(w, osmium.osm.Way) and w.tags.get("access") == "private"
    }
    assert not private & set(_ids(greens))
    # A playground mapped as a node has no area: it is named in the log, not counted as 0 m².
    nodes = [entry for entry in log.entries if entry[2] == SKIP_GREEN_NODE]
    assert all(object_id.startswith("node/") for _, object_id, _ in nodes)


def test_poi_kind_follows_the_key_order() -> None:
    default = read_osm_pois(LAUF, UTM32)
    swapped = read_osm_pois(LAUF, UTM32, keys=("highway", "public_transport"))
    by_id = dict(zip(_ids(swapped), swapped.column("poi_kind").to_pylist(), strict=True))
    both = [
        osm_id
        for osm_id, kind in zip(_ids(default), default.column("poi_kind").to_pylist(), strict=True)
        if kind == "public_transport=platform" and by_id.get(osm_id) == "highway=bus_stop"
    ]
    assert both  # bus stops mapped with both tags
    assert set(swapped.column("poi_kind").to_pylist()) == {"highway=bus_stop", "public_transport=platform"}


def test_custom_value_filters() -> None:
    pois = read_osm_pois(
        LAUF, UTM32, keys=("leisure", "amenity"), values={"amenity": ValueFilter(only=frozenset({"school"}))}
    )
    kinds = Counter(pois.column("poi_kind").to_pylist())
    assert kinds["amenity=school"] == 3
    assert {k.split("=")[0] for k in kinds} == {"leisure", "amenity"}
    assert "leisure=garden" in kinds  # public or untagged gardens count, private ones do not


def test_xml_gz_pois() -> None:
    pois = read_osm_pois(BAYREUTH, UTM32)
    kinds = Counter(pois.column("poi_kind").to_pylist())
    assert kinds == {
        "railway=station": 1,
        "amenity=restaurant": 1,
        "amenity=place_of_worship": 1,
        "amenity=fire_station": 1,
        "amenity=townhall": 2,
        "leisure=pitch": 1,
        "amenity=kindergarten": 1,
        "leisure=playground": 1,
    }


# --- paths -----------------------------------------------------------------------------------------------------------


def _haversine_lengths(path: Path) -> dict[str, float]:
    """Length in metres of every complete highway way, on the sphere, computed by osmium from the node list."""
    out: dict[str, float] = {}
    for way in osmium.FileProcessor(path).with_locations().with_filter(osmium.filter.KeyFilter("highway")):
        if isinstance(way, osmium.osm.Way) and all(n.location.valid() for n in way.nodes):
            out[f"way/{way.id}"] = osmium.geom.haversine_distance(way.nodes)
    return out


def test_lauf_paths_and_their_lengths() -> None:
    log = SkipLog()
    paths = read_osm_paths(LAUF, UTM32, skipped=log)
    assert len(paths) == 300
    assert {reason: len(ids) for reason, ids in _by_reason(log).items()} == {SKIP_LINE_NODES_MISSING: 55}
    assert set(shapely.get_type_id(paths.geometry)) == {1}
    highways = Counter(paths.column("highway").to_pylist())
    assert highways["footway"] == 51
    assert highways["residential"] == 58
    assert not highways.keys() & {"motorway", "trunk", "construction", "proposed"}
    # UTM lengths agree with osmium's great-circle lengths: UTM 32 scale at 11.3 E is 0.9999, the sphere
    # differs from the ellipsoid by up to 0.3 % depending on direction.
    reference = _haversine_lengths(LAUF)
    ours = dict(zip(_ids(paths), shapely.length(paths.geometry), strict=True))
    assert ours.keys() == reference.keys()
    np.testing.assert_allclose([ours[k] for k in ours], [reference[k] for k in ours], rtol=5e-3, atol=0.01)
    assert sum(ours.values()) / 1000 == pytest.approx(19.85, abs=0.05)


def test_paths_leave_out_motor_roads_and_squares(tmp_path: Path) -> None:
    nodes = {1: (11.27, 49.515), 2: (11.271, 49.515), 3: (11.271, 49.516), 4: (11.27, 49.516)}
    ways = "\n".join(
        [
            _way(1, [1, 2], highway="footway", name="Weg", surface="gravel"),
            _way(2, [1, 2], highway="motorway"),
            _way(3, [2, 3], highway="trunk_link"),
            _way(4, [1, 2, 3, 4, 1], highway="pedestrian", area="yes"),
            _way(5, [2, 3], highway="construction"),
            _way(6, [3, 4, 999], highway="residential"),
            _way(7, [1, 1], highway="service"),
            _way(8, [999, 1, 2], highway="path"),  # libosmium alone would return the line from node 1 on
            _way(9, [999, 1], highway="path"),
        ]
    )
    log = SkipLog()
    paths = read_osm_paths(_write_osm(tmp_path / "roads.osm", nodes, ways), UTM32, skipped=log)
    assert _ids(paths) == ["way/1"]
    assert _row(paths, "way/1")[1] == {"osm_id": "way/1", "highway": "footway", "name": "Weg", "surface": "gravel"}
    assert paths.geometry[0].length == pytest.approx(72.4, abs=0.5)  # 0.001 degrees of longitude at 49.5 N
    assert {(i, r) for _, i, r in log.entries} == {
        ("way/6", SKIP_LINE_NODES_MISSING),
        ("way/7", SKIP_LINE_DEGENERATE),
        ("way/8", SKIP_LINE_NODES_MISSING),
        ("way/9", SKIP_LINE_NODES_MISSING),
    }


def test_xml_gz_paths_leave_out_the_motorway() -> None:
    log = SkipLog()
    paths = read_osm_paths(BAYREUTH, UTM32, skipped=log)
    assert len(paths) == 42
    assert {reason: len(ids) for reason, ids in _by_reason(log).items()} == {SKIP_LINE_NODES_MISSING: 18}
    assert shapely.length(paths.geometry).sum() / 1000 == pytest.approx(6.64, abs=0.05)
    # The cut crosses the A 70 (six complete motorway ways); none of it is a path.
    reference = _haversine_lengths(BAYREUTH)
    motorway = reference.keys() - set(_ids(paths))
    assert len(motorway) == 6
    assert "motorway" not in paths.column("highway").to_pylist()


# --- broken input -----------------------------------------------------------------------------------------------------

READERS = [read_osm_buildings, read_osm_pois, read_osm_paths]


@pytest.mark.parametrize("reader", READERS)
def test_truncated_pbf_names_the_file(tmp_path: Path, reader: Reader) -> None:
    broken = tmp_path / "lauf-centre.osm.pbf"
    broken.write_bytes(LAUF.read_bytes()[: LAUF.stat().st_size // 2])
    with pytest.raises(InputError) as err:
        reader(broken, UTM32)
    assert err.value.file == str(broken)
    assert "lauf-centre.osm.pbf" in err.value.one_line()
    assert "truncated" in err.value.one_line()


@pytest.mark.parametrize("reader", READERS)
def test_truncated_xml_gz_names_the_file(tmp_path: Path, reader: Reader) -> None:
    broken = tmp_path / "north-bayreuth-cut.osm.gz"
    broken.write_bytes(BAYREUTH.read_bytes()[:20_000])
    with pytest.raises(InputError) as err:
        reader(broken, UTM32)
    assert "north-bayreuth-cut.osm.gz" in err.value.one_line()


@pytest.mark.parametrize("reader", READERS)
def test_empty_file_is_rejected(tmp_path: Path, reader: Reader) -> None:
    empty = tmp_path / "empty.osm.pbf"
    empty.touch()
    with pytest.raises(InputError, match="empty") as err:
        reader(empty, UTM32)
    assert err.value.file == str(empty)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_osm_buildings(tmp_path / "nowhere.osm.pbf", UTM32)
    odd = tmp_path / "lauf.data"
    odd.write_bytes(LAUF.read_bytes())
    with pytest.raises(InputError) as err:
        read_osm_buildings(odd, UTM32)
    assert "lauf.data" in err.value.one_line()
    assert err.value.hint is not None
    assert ".osm.pbf" in err.value.hint


def test_xml_that_is_not_osm_is_rejected(tmp_path: Path) -> None:
    wrong = tmp_path / "buildings.osm"
    wrong.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="cannot be read as OpenStreetMap data"):
        read_osm_buildings(wrong, UTM32)
