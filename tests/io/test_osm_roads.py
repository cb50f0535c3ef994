"""Roads for motor traffic from OSM extracts, and the parsing of their speed limits."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.osm_pass import SKIP_LINE_DEGENERATE, SKIP_LINE_NODES_MISSING
from twin3d.io.osm_roads import (
    MOTOR_ROAD_CLASSES,
    SKIP_ROAD_AREA,
    SPEED_MISSING,
    SPEED_NONE,
    SPEED_UNPARSED,
    SPEED_VARIABLE,
    parse_maxspeed,
    read_osm_roads,
)
from twin3d.io.surfaces import SkipLog

UTM32 = CRS.from_epsg(25832)
LAUF = Path(__file__).resolve().parent.parent / "data" / "osm" / "lauf-centre.osm.pbf"  # see tests/data/osm/SOURCE.md


def _write_osm(path: Path, nodes: dict[int, tuple[float, float]], ways: list[str]) -> Path:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="twin3d tests">']
    lines += [f'<node id="{i}" lat="{lat:.7f}" lon="{lon:.7f}"/>' for i, (lon, lat) in sorted(nodes.items())]
    lines += [*ways, "</osm>"]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _way(way_id: int, refs: list[int], **tags: str) -> str:
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    tag_xml = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{way_id}">{nds}{tag_xml}</way>'


def test_motor_roads_are_kept_with_their_tags_and_the_rest_left_out(tmp_path: Path) -> None:
    nodes = {1: (11.27, 49.515), 2: (11.271, 49.515), 3: (11.271, 49.516), 4: (11.27, 49.516)}
    ways = [
        _way(1, [1, 2], highway="primary", name="Hauptstraße", maxspeed="50", lanes="2", oneway="yes", ref="B 14"),
        _way(2, [2, 3], highway="motorway", maxspeed="none", layer="1", bridge="yes"),
        _way(3, [3, 4], highway="residential", maxspeed="DE:zone30", tunnel="yes"),
        _way(4, [1, 2], highway="footway", name="Fußweg"),  # no motor traffic: left out without a record
        _way(5, [1, 2, 3, 4, 1], highway="service", area="yes"),
        _way(6, [3, 999], highway="secondary"),  # node 999 lies beyond the extract's edge
        _way(7, [1, 1], highway="tertiary"),
        _way(8, [2, 3], highway="motorway_link"),
        _way(9, [2, 3], highway="cycleway"),
    ]
    log = SkipLog()
    roads = read_osm_roads(_write_osm(tmp_path / "roads.osm", nodes, ways), UTM32, skipped=log)
    rows = {r["osm_id"]: r for r in roads.attributes.to_pylist()}
    assert list(rows) == ["way/1", "way/2", "way/3", "way/8"]
    assert rows["way/1"] == {
        "osm_id": "way/1", "highway": "primary", "name": "Hauptstraße", "maxspeed": "50", "lanes": "2",
        "oneway": "yes", "layer": None, "tunnel": None, "bridge": None, "service": None, "ref": "B 14",
    }  # fmt: skip
    assert (rows["way/2"]["layer"], rows["way/2"]["bridge"], rows["way/3"]["tunnel"]) == ("1", "yes", "yes")
    assert {(i, r) for _, i, r in log.entries} == {
        ("way/5", SKIP_ROAD_AREA),
        ("way/6", SKIP_LINE_NODES_MISSING),
        ("way/7", SKIP_LINE_DEGENERATE),
    }
    assert set(shapely.get_type_id(roads.geometry)) == {1}
    assert roads.geometry[0].length == pytest.approx(72.4, abs=0.5)  # 0.001 degrees of longitude at 49.5 N


def test_lauf_centre_roads_are_the_motor_ways_of_the_cut() -> None:
    log = SkipLog()
    roads = read_osm_roads(LAUF, UTM32, skipped=log)
    classes = Counter(roads.column("highway").to_pylist())
    assert set(classes) <= set(MOTOR_ROAD_CLASSES)
    assert classes["residential"] > 0
    assert not classes.keys() & {"footway", "path", "cycleway", "steps", "track"}
    assert {r for _, _, r in log.entries} <= {SKIP_LINE_NODES_MISSING, SKIP_ROAD_AREA}
    lengths = shapely.length(roads.geometry)
    assert (lengths > 0).all()
    assert len(set(roads.column("osm_id").to_pylist())) == len(roads)


def test_speed_limits_are_parsed_to_kmh_with_the_reason_where_they_give_none() -> None:
    values = ["50", "30 mph", "DE:urban", "DE:rural", "DE:zone30", "DE:zone:30", "walk", "70 km/h", "AT:motorway"]
    speeds, why = parse_maxspeed(values)
    np.testing.assert_allclose(speeds, [50, 48.28, 50, 100, 30, 30, 7, 70, 130], atol=0.01)
    assert why == [None] * len(values)
    speeds, why = parse_maxspeed([None, "", "none", "signals", "variable", "50;30", "fast", "DE:unknown"])
    assert np.isnan(speeds).all()
    assert why == [SPEED_MISSING, SPEED_MISSING, SPEED_NONE, SPEED_VARIABLE, SPEED_VARIABLE, SPEED_VARIABLE,
                   SPEED_UNPARSED, SPEED_UNPARSED]  # fmt: skip


def test_a_broken_extract_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "lauf-centre.osm.pbf"
    broken.write_bytes(LAUF.read_bytes()[: LAUF.stat().st_size // 2])
    with pytest.raises(InputError) as err:
        read_osm_roads(broken, UTM32)
    assert err.value.file == str(broken)
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_osm_roads(empty, UTM32)
