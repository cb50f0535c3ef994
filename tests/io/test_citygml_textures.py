"""Textures and materials are not drawn: the readers count the surfaces that had one, and the build report says so."""

from __future__ import annotations

from pathlib import Path

from pyproj import CRS

from tests.conftest import GEODATA
from twin3d.io.citygml import read_citygml_buildings
from twin3d.io.cityjson import read_cityjson
from twin3d.io.surfaces import SkipLog
from twin3d.pipeline.buildings import buildings_from_3d
from twin3d.pipeline.config import BuildingsSource, HeightRules
from twin3d.pipeline.report import BuildReport, SourceSummary
from twin3d.pipeline.sources import StepContext

DATA = Path(__file__).resolve().parent.parent / "data" / "citygml"
BERLIN = DATA / "berlin_lod2_textured_1_building_citygml2.gml"
NRW = DATA / "nrw_lod2_3_buildings_citygml1.gml"
ROSTOCK = GEODATA / "rostock" / "lod2-cityjson"
UTM33 = CRS.from_epsg(25833)


def test_citygml_textured_surfaces_are_counted_once_over_themes() -> None:
    # 18 polygons with a texture and 4 multi-surfaces with a material, in three themes that reuse them by xlink.
    skipped = SkipLog()
    building = read_citygml_buildings(BERLIN, UTM33, skipped=skipped)
    assert building.polygon_count == 19
    assert skipped.textured == {str(BERLIN): 22}
    assert skipped.entries == []


def test_untextured_citygml_reports_nothing() -> None:
    skipped = SkipLog()
    read_citygml_buildings(NRW, CRS.from_epsg(25832), skipped=skipped)
    assert skipped.textured == {}


def test_cityjson_textured_surfaces_are_counted() -> None:
    textured = ROSTOCK / "rostock_building_DEMVAL03000cncxu_textured.city.json"
    skipped = SkipLog()
    read_cityjson(textured, UTM33, skipped=skipped)
    assert skipped.textured == {str(textured): 32}  # every surface of the part's solid has a texture
    # The Kröpeliner Tor names textures but lays none on its surfaces (empty values).
    plain = SkipLog()
    read_cityjson(ROSTOCK / "rostock_kroepeliner_tor_DEMVAL03000hEfAe.city.json", UTM33, skipped=plain)
    assert plain.textured == {}


def test_the_build_summary_says_how_many_surfaces_lost_their_texture() -> None:
    report = BuildReport("berlin")
    summary = SourceSummary("lod2", "buildings", [BERLIN])
    ctx = StepContext(UTM33, report, HeightRules(), 42.5, 0.0)
    source = BuildingsSource(name="lod2", kind="buildings", format="citygml", path=str(BERLIN), source_label="lod2")
    rows = buildings_from_3d(source, BERLIN, ctx, summary)
    assert len(rows.ids) == 1
    assert summary.textured_surfaces == 22
    assert report.notes == [
        f"textures: 22 surfaces of {BERLIN.name} had textures or materials; twin3d draws untextured LoD2 (dropped)"
    ]
    report.sources.append(summary)
    assert report.as_dict()["sources"][0]["textured_surfaces"] == 22
