"""Bebauungspläne in XPlanGML load as a layer of their areas with building-density values (GRZ, GFZ, Z ...)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import shapely
from pyproj import CRS

from tests.layers.conftest import DATA
from twin3d.errors import InputError
from twin3d.layers.catalogue import layer_file
from twin3d.layers.context import LoadOptions, TwinInfo
from twin3d.layers.formats import detect_format
from twin3d.layers.load import load_layer
from twin3d.layers.report import LoadReport
from twin3d.layers.xplan import xplan_version
from twin3d.settings import PathSettings

XPLAN = DATA / "xplan"
ROTHERBAUM, HAFENCITY, BAERL = XPLAN / "Rotherbaum27.gml", XPLAN / "HafenCity7.gml", XPLAN / "duisburg_1251_baerl.gml"
# A twin in EPSG:25832 not built yet: a plan may lie anywhere in the CRS's area of use (Hamburg, Duisburg).
TWIN = TwinInfo("plaene", CRS.from_epsg(25832), 40.0)


def _load(paths: PathSettings, source: Path, **options: Any) -> tuple[Any, LoadReport, list[dict[str, Any]]]:
    entry, report = load_layer(paths, TWIN.name, source, LoadOptions(**options), info=TWIN)
    table = pq.read_table(layer_file(paths, entry, "features"))
    rows = table.drop_columns(["geom_wgs84", "bbox"]).to_pylist()
    for row in rows:
        row["area_m2"] = shapely.from_wkb(row.pop("geometry")).area
    return entry, report, sorted(rows, key=lambda r: (r["feature_type"], -r["area_m2"]))


def _of(rows: list[dict[str, Any]], feature_type: str) -> list[dict[str, Any]]:
    return [r for r in rows if r["feature_type"] == feature_type]


def test_plans_are_told_from_citygml_by_their_namespace(tmp_path: Path) -> None:
    assert detect_format(ROTHERBAUM) == "xplangml"
    assert detect_format(BAERL) == "xplangml"  # 5.1, default namespace on the root element
    assert detect_format(DATA / "citygml" / "nrw_lod2_3_buildings_citygml2.gml") == "citygml"
    assert xplan_version(ROTHERBAUM.read_bytes()[:2000]) == "5.2"
    assert xplan_version(BAERL.read_bytes()[:2000]) == "5.1"
    other = tmp_path / "other.xml"
    other.write_text('<?xml version="1.0"?><wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"/>')
    with pytest.raises(InputError, match=r"neither CityGML .* nor XPlanGML"):
        detect_format(other)


def test_rotherbaum_keeps_its_density_areas_with_grz_gfz_z_and_use(paths: PathSettings) -> None:
    entry, report, rows = _load(paths, ROTHERBAUM, title="B-Plan Rotherbaum 27")
    assert (entry.format, entry.kind, entry.geometry_type, entry.source_crs) == (
        "xplangml",
        "vector",
        "polygons",
        "EPSG:25832",
    )
    # 4 Baugebiete, 3 Gemeinbedarf areas, the 3 of 23 building windows that set storeys, and the plan's boundary.
    assert entry.feature_count == 11
    assert [len(_of(rows, t)) for t in ("BP_BaugebietsTeilFlaeche", "BP_GemeinbedarfsFlaeche")] == [4, 3]
    assert len(_of(rows, "BP_UeberbaubareGrundstuecksFlaeche")) == 3
    assert {r["plan"] for r in rows} == {"Rotherbaum27"}
    zones = _of(rows, "BP_BaugebietsTeilFlaeche")
    uses = sorted((r["use"], r["grz"], r["z"], r["gfz"], r["gfz_source"]) for r in zones)
    assert uses == [
        ("Kerngebiet (MK)", 0.6, 6.0, 3.6, "grz_x_z"),  # GFZ estimated as GRZ x Z
        ("Kerngebiet (MK)", 1.0, None, None, "none"),
        ("allgemeines Wohngebiet (WA)", 1.0, None, None, "none"),
        ("reines Wohngebiet (WR)", 1.0, 4.0, 4.0, "grz_x_z"),
    ]
    school = _of(rows, "BP_GemeinbedarfsFlaeche")[0]  # the largest: the one GFZ the plan itself sets
    assert (school["grz"], school["gfz"], school["gfz_source"], school["use"]) == (
        0.6,
        1.2,
        "plan",
        "Fläche für den Gemeinbedarf",
    )
    assert school["source_feature"] == "GML_A155962F-8CA9-41E5-9981-517C172E2D32"
    assert school["area_m2"] == pytest.approx(29_521, abs=1)
    boundary = _of(rows, "BP_Plan")[0]
    assert boundary["grz"] is None
    assert boundary["area_m2"] == pytest.approx(81_486, abs=1)
    assert set(entry.fields) >= {"plan", "feature_type", "grz", "gfz", "gfz_source", "gr", "gf", "z", "use"}
    notes = "\n".join(report.notes)
    assert "XPlanGML 5.2: plan Rotherbaum27" in notes
    assert "GFZ estimated as GRZ x Z for 3 area(s)" in notes
    assert "BP_UeberbaubareGrundstuecksFlaeche 20" in notes  # building windows without a value, left out
    assert "BP_BauGrenze 18" in notes
    assert "BP_TextAbschnitt 12" in notes


def test_hafencity_storeys_from_z_or_zmax(paths: PathSettings) -> None:
    entry, _, rows = _load(paths, HAFENCITY)
    assert entry.feature_count == 30  # 3 Baugebiete, 25 building windows, 1 special-purpose area, the boundary
    windows = _of(rows, "BP_UeberbaubareGrundstuecksFlaeche")
    assert len(windows) == 25
    assert all(r["grz"] == 1.0 for r in windows if r["grz"] is not None)
    assert max(r["z"] for r in windows if r["z"] is not None) == 16.0  # the tower: Zmin..Zmax, the upper end
    assert {r["use"] for r in _of(rows, "BP_BaugebietsTeilFlaeche")} == {"Mischgebiet (MI)"}
    assert all(r["gfz"] is None for r in _of(rows, "BP_BaugebietsTeilFlaeche"))  # GRZ only: no GFZ to estimate
    estimated = [r for r in rows if r["gfz_source"] == "grz_x_z"]
    assert estimated
    assert all(r["gfz"] == pytest.approx(r["grz"] * r["z"]) for r in estimated)


def test_an_envelope_plan_loads_with_its_boundary_and_says_it_has_no_density(paths: PathSettings) -> None:
    entry, report, rows = _load(paths, BAERL)
    assert entry.feature_count == 1
    assert [r["feature_type"] for r in rows] == ["BP_Plan"]
    assert rows[0]["plan"].startswith("Baerl_Heinrich_Kerlen_Straße")
    assert "Nr. 1251" in rows[0]["plan"]
    notes = "\n".join(report.notes)
    assert "no building density" in notes
    assert "BP_UeberbaubareGrundstuecksFlaeche 7" in notes
    assert "BP_BauLinie 8" in notes
    assert report.one_line().startswith("plaene/duisburg-1251-baerl (vector, duisburg_1251_baerl.gml): 1 in -> 1 out")


def test_nothing_is_written_beside_the_plan_and_a_zip_loads_too(paths: PathSettings, tmp_path: Path) -> None:
    folder = tmp_path / "input"
    folder.mkdir()
    plan = folder / "Rotherbaum27.gml"
    shutil.copyfile(ROTHERBAUM, plan)
    (folder / "Rotherbaum27.gfs").write_text("<GMLFeatureClassList>stale</GMLFeatureClassList>")  # never read
    entry, _, _ = _load(paths, plan, title="Rotherbaum")
    assert entry.feature_count == 11
    assert sorted(p.name for p in folder.iterdir()) == ["Rotherbaum27.gfs", "Rotherbaum27.gml"]
    archive = tmp_path / "plan.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(HAFENCITY, "HafenCity7.gml")
    zipped, _, _ = _load(paths, archive, title="HafenCity 7")
    assert (zipped.format, zipped.feature_count) == ("xplangml", 30)


def test_a_truncated_plan_is_refused_with_the_file_named(paths: PathSettings, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gml"
    broken.write_bytes(ROTHERBAUM.read_bytes()[:20_000])
    with pytest.raises(InputError, match="neither a plan boundary") as caught:
        _load(paths, broken)
    assert caught.value.file is not None
    assert "broken.gml" in str(caught.value.file)
    assert not paths.layers_dir.joinpath(TWIN.name, "broken").exists()
