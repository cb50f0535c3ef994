"""The roads source: OSM extracts and vector files into the store's ``roads`` table, with every drop reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.osm_roads import SPEED_MISSING, SPEED_UNPARSED
from twin3d.pipeline.config import HeightRules, RoadsSource
from twin3d.pipeline.report import BuildReport, SourceSummary
from twin3d.pipeline.sources import StepContext, roads_table
from twin3d.settings import PathSettings
from twin3d.store.connection import connect

UTM32 = CRS.from_epsg(25832)


def _geojson(path: Path, features: list[tuple[list[list[float]], dict[str, object]]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": props, "geometry": {"type": "LineString", "coordinates": line}}
                    for line, props in features
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


def _step(src: RoadsSource, file: Path) -> tuple[dict[str, list[object]], BuildReport, SourceSummary]:
    report = BuildReport("t")
    summary = SourceSummary(src.name, src.kind, [file])
    table = roads_table(src, file, StepContext(UTM32, report, HeightRules(), 300.0, 0.0), summary)
    return table.to_pydict(), report, summary


def test_a_vector_file_with_osm_field_names_needs_no_field_mapping(tmp_path: Path) -> None:
    line = [[11.27, 49.515], [11.271, 49.515]]
    file = _geojson(
        tmp_path / "roads.geojson",
        [
            (line, {"id": "a", "highway": "primary", "maxspeed": 50, "lanes": "2;3", "oneway": "yes"}),
            (line, {"id": "b", "highway": "residential", "maxspeed": "30 mph", "tunnel": "yes", "layer": "-1"}),
            (line, {"id": "c", "highway": "footway"}),
            (line, {"id": "d", "highway": "service", "maxspeed": "fast", "bridge": "no"}),
            (line, {"id": "e", "highway": None}),
        ],
    )
    src = RoadsSource(name="roads", kind="roads", path=str(file), id_field="id")
    rows, report, summary = _step(src, file)
    assert rows["road_id"] == ["a", "b", "d"]
    assert rows["road_class"] == ["primary", "residential", "service"]
    assert rows["maxspeed"] == ["50", "30 mph", "fast"]
    assert rows["maxspeed_kmh"][0] == 50.0
    assert rows["maxspeed_kmh"][1] == pytest.approx(48.28, abs=0.01)
    assert rows["maxspeed_kmh"][2] is None
    assert rows["lanes"] == [2, None, None]
    assert rows["oneway"] == [True, None, None]
    assert rows["layer"] == [None, -1, None]
    assert rows["tunnel"] == [False, True, False]
    assert rows["bridge"] == [False, False, False]
    assert rows["length_m"][0] == pytest.approx(72.4, abs=0.5)
    assert (summary.records_in, summary.records_out, summary.dropped) == (5, 3, 2)
    assert {d.record for d in report.drops} == {"c", "e"}
    assert all("no motor road class" in d.reason for d in report.drops)
    assert f"roads: 1 road(s): {SPEED_UNPARSED}" in report.notes


def test_a_field_named_in_the_source_must_exist(tmp_path: Path) -> None:
    file = _geojson(tmp_path / "roads.geojson", [([[11.27, 49.515], [11.271, 49.515]], {"klasse": "primary"})])
    defaults = RoadsSource(name="roads", kind="roads", path=str(file), class_field="klasse")
    rows, report, _ = _step(defaults, file)
    assert rows["maxspeed"] == [None]  # the default field names are OSM's; a file without them has none
    assert f"roads: 1 road(s): {SPEED_MISSING}" in report.notes
    named = RoadsSource(name="roads", kind="roads", path=str(file), class_field="klasse", maxspeed_field="vmax")
    with pytest.raises(InputError, match="vmax"):
        _step(named, file)


def test_lauf_roads_come_from_the_osm_extract(built: dict[str, BuildReport], demo_paths: PathSettings) -> None:
    roads = next(s for s in built["lauf"].sources if s.kind == "roads")
    # 1,700 motor-road ways; 49 cut at the extract's edge and 2 highway areas are left out (reported).
    assert (roads.records_in, roads.records_out, roads.dropped) == (1700, 1649, 51)
    con = connect(demo_paths.store_file("lauf"), read_only=True)
    try:
        found = con.execute(
            "SELECT count(*), count(maxspeed_kmh), sum(tunnel::INT), count(DISTINCT road_class) FROM roads"
        ).fetchone()
        classes = dict(con.execute("SELECT road_class, count(*) FROM roads GROUP BY 1").fetchall())
    finally:
        con.close()
    assert found == (1649, 593, 17, 11)
    assert (classes["motorway"], classes["primary"], classes["residential"]) == (14, 35, 529)
