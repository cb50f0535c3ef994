"""Cadastre sources: ALKIS parcels, land use and building functions, and the parcels' GRZ and GFZ."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PIPELINES, REPO
from tests.pipeline.cadastre_twin import box, build_cadastre_twin
from twin3d.errors import InputError
from twin3d.io.alkis import read_nas
from twin3d.pipeline.build import build_twin
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings
from twin3d.store.connection import connect

NAS_SAMPLE = REPO / "tests" / "data" / "alkis" / "flurstueck_wfs_nas6.gml"
X0, Y0 = 350_000.0, 5_530_000.0  # a spot in EPSG:25832


def _box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return box(X0 + x0, Y0 + y0, x1 - x0, y1 - y0)


def _hand_twin(tmp_path: Path) -> PathSettings:
    """Two parcels side by side (A: 30 m x 20 m, B: 20 m x 20 m) and two buildings: a 10 m x 10 m house on A with
    two storeys, and a 10 m x 4 m barn across the boundary (half on each) with no storey count, 6.2 m high."""
    codes = tmp_path / "codes.csv"
    codes.write_text("wert,beschreibung\n1000,Wohngebäude\n2000,Gebäude für Wirtschaft oder Gewerbe\n")
    return build_cadastre_twin(
        tmp_path / "twin",
        parcels=[
            (_box(0, 0, 30, 20), {"gml_id": "A", "flurstueckskennzeichen": "072566001000120003__",
                                  "gemarkungsnummer": "2566", "flurnummer": "1", "zaehler": "12", "nenner": "3",
                                  "amtlicheflaeche": 600}),
            (_box(30, 0, 50, 20), {"gml_id": "B", "flurstueckskennzeichen": "07256600100013______",
                                   "gemarkungsnummer": "2566", "flurnummer": "1", "zaehler": "13", "nenner": None,
                                   "amtlicheflaeche": 400}),
        ],
        buildings=[
            (_box(2, 2, 12, 12), {"gml_id": "house", "gebaeudefunktion": "1000", "geschosse": 2}),
            (_box(25, 10, 35, 14), {"gml_id": "barn", "gebaeudefunktion": "2000", "hoehe": 6.2}),
        ],
        land_use=[
            (_box(0, 0, 40, 20), {"gml_id": "L1", "objektart": "AX_Wohnbauflaeche"}),
            (_box(40, 0, 50, 20), {"gml_id": "L2", "objektart": "AX_Landwirtschaft"}),
        ],
        gemarkung_name="Monzel",
        building_fields=f'type_field = "gebaeudefunktion"\ntype_names = "{codes}"\nlevels_field = "geschosse"\n'
        'height_field = "hoehe"',
    )  # fmt: skip


def test_grz_and_gfz_match_a_hand_calculation(tmp_path: Path) -> None:
    paths = _hand_twin(tmp_path)
    con = connect(paths.store_file("hand"), read_only=True)
    try:
        rows = con.execute(
            "SELECT parcel_id, label, number, area_m2, buildings, built_m2, floor_area_m2, grz, gfz,"
            " storeys_estimated, land_use, land_use_name FROM parcels ORDER BY parcel_id"
        ).fetchall()
        relation = con.execute(
            "SELECT building_id, parcel_id, area_m2, share FROM building_parcels ORDER BY building_id, parcel_id"
        ).fetchall()
        names = dict(con.execute("SELECT code, name FROM type_names WHERE domain = 'building_type'").fetchall())
    finally:
        con.close()
    a, b = rows
    # A (600 m²): the house (100 m², 2 storeys) and half the barn (20 m²; 6.2 m / 3 m -> 2 storeys, estimated).
    assert a[:3] == ("A", "Gemarkung Monzel (2566), Flur 1, Flurstück 12/3", "12/3")
    assert a[3] == pytest.approx(600.0)
    assert a[4] == 2
    assert a[5] == pytest.approx(120.0)
    assert a[6] == pytest.approx(100 * 2 + 20 * 2)
    assert a[7] == pytest.approx(120 / 600)  # GRZ 0.2
    assert a[8] == pytest.approx(240 / 600)  # GFZ 0.4
    assert a[9] is True
    assert (a[10], a[11]) == ("ax_wohnbauflaeche", "Wohnbaufläche")
    # B (400 m²): the other half of the barn; half of B is residential land, half farmland: the larger wins (tie ->
    # either), so only the figures are checked.
    assert b[1] == "Gemarkung Monzel (2566), Flur 1, Flurstück 13"
    assert (b[4], b[5], b[6]) == (1, pytest.approx(20.0), pytest.approx(40.0))
    assert b[7:9] == (pytest.approx(0.05), pytest.approx(0.1))
    assert relation == [
        ("barn", "A", pytest.approx(20.0), pytest.approx(0.5)),
        ("barn", "B", pytest.approx(20.0), pytest.approx(0.5)),
        ("house", "A", pytest.approx(100.0), pytest.approx(1.0)),
    ]
    assert names == {"1000": "Wohngebäude", "2000": "Gebäude für Wirtschaft oder Gewerbe"}


def test_nas_parcel_is_read_with_its_number_and_area() -> None:
    from pyproj import CRS  # noqa: PLC0415

    table = read_nas(NAS_SAMPLE, CRS.from_epsg(25832), "parcels")
    assert len(table) == 1
    row = table.attributes.to_pylist()[0]
    assert row["flurstueckskennzeichen"] == "05329001100085______"
    assert (row["gemarkungsnummer"], row["flurnummer"], row["zaehler"], row["nenner"]) == ("3290", "11", "85", None)
    assert float(row["amtlicheflaeche"]) == 684.0
    assert table.geometry[0].area == pytest.approx(684.0, abs=1.0)
    # Owner and land-register references are never read.
    assert not any("gebucht" in c or "person" in c for c in table.attributes.column_names)


def test_nas_arcs_are_linearised_and_historic_versions_left_out(tmp_path: Path) -> None:
    from pyproj import CRS  # noqa: PLC0415

    from twin3d.io.surfaces import SkipLog  # noqa: PLC0415

    nas = tmp_path / "arcs.xml"
    nas.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<AX_Bestandsdatenauszug xmlns="http://www.adv-online.de/namespaces/adv/gid/7.1"
    xmlns:gml="http://www.opengis.net/gml/3.2">
 <enthaelt><wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0">
  <wfs:member><AX_Flurstueck gml:id="DERP0001">
   <position><gml:Surface srsName="urn:adv:crs:ETRS89_UTM32"><gml:patches><gml:PolygonPatch><gml:exterior>
    <gml:Ring><gml:curveMember><gml:Curve><gml:segments>
     <gml:LineStringSegment><gml:posList>350000 5530000 350020 5530000</gml:posList></gml:LineStringSegment>
     <gml:Arc><gml:posList>350020 5530000 350010 5530010 350000 5530000</gml:posList></gml:Arc>
    </gml:segments></gml:Curve></gml:curveMember></gml:Ring>
   </gml:exterior></gml:PolygonPatch></gml:patches></gml:Surface></position>
   <flurstueckskennzeichen>07256600100001______</flurstueckskennzeichen><flurnummer>1</flurnummer>
   <zaehler>1</zaehler><istGebucht xlink:href="urn:adv:oid:DERP9999" xmlns:xlink="http://www.w3.org/1999/xlink"/>
  </AX_Flurstueck></wfs:member>
  <wfs:member><AX_Flurstueck gml:id="DERP0002">
   <lebenszeitintervall><AA_Lebenszeitintervall><beginnt>2001-01-01T00:00:00Z</beginnt>
    <endet>2005-01-01T00:00:00Z</endet></AA_Lebenszeitintervall></lebenszeitintervall>
   <position><gml:Polygon srsName="EPSG:25832"><gml:exterior><gml:LinearRing>
    <gml:posList>0 0 1 0 1 1 0 0</gml:posList></gml:LinearRing></gml:exterior></gml:Polygon></position>
  </AX_Flurstueck></wfs:member>
 </wfs:FeatureCollection></enthaelt>
</AX_Bestandsdatenauszug>
""",
        encoding="utf-8",
    )
    skipped = SkipLog()
    table = read_nas(nas, CRS.from_epsg(25832), "parcels", skipped=skipped)
    assert list(table.attributes["gml_id"].to_pylist()) == ["DERP0001"]
    # A half disc of radius 10 m: pi * 100 / 2, linearised to within a centimetre.
    assert table.geometry[0].area == pytest.approx(3.14159265 * 100 / 2, rel=2e-3)
    assert [(e[1], "historic" in e[2]) for e in skipped.entries] == [("DERP0002", True)]


def test_broken_nas_names_the_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.xml"
    bad.write_text("<AX_Bestandsdatenauszug><AX_Flurstueck>", encoding="utf-8")
    from pyproj import CRS  # noqa: PLC0415

    with pytest.raises(InputError, match="not well-formed XML") as err:
        read_nas(bad, CRS.from_epsg(25832), "parcels")
    assert "broken.xml" in str(err.value)


def test_monzel_holds_every_parcel_building_and_land_use_polygon(tmp_path: Path) -> None:
    paths = PathSettings(pipelines_dir=PIPELINES, store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")
    report = build_twin(load_pipeline(PIPELINES / "monzel.toml"), paths)
    assert report.counts["parcels"] == 2369
    assert report.counts["land_use"] == 1345
    assert report.counts["buildings"] == 827
    con = connect(paths.store_file("monzel"), read_only=True)
    try:
        on_parcels = con.execute("SELECT count(DISTINCT building_id) FROM building_parcels").fetchone()
        residential = con.execute(
            "SELECT count(*), avg(grz) FROM parcels WHERE land_use = 'ax_wohnbauflaeche' AND buildings > 0"
        ).fetchone()
        names = {r[0] for r in con.execute("SELECT name FROM buildings WHERE name IS NOT NULL").fetchall()}
        named = con.execute(
            "SELECT n.name FROM buildings AS b JOIN type_names AS n ON n.domain = 'building_type'"
            " AND n.code = b.building_type WHERE b.building_type = '1000' LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert on_parcels == (827,)  # every building stands on a parcel
    assert residential is not None
    assert residential[0] > 100
    assert 0.05 < residential[1] < 0.6
    assert named == ("Wohngebäude",)
    # ALKIS's repeatable names come as PostNAS array literals ({"Herz Jesu"}): shown as plain text.
    assert {"Herz Jesu", "Kirche", "Dorfgemeinschaftshaus"} <= names
    assert not any(n.startswith("{") for n in names)


def test_twin_from_the_nas_sample_holds_its_parcel(tmp_path: Path) -> None:
    paths = PathSettings(pipelines_dir=PIPELINES, store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")
    report = build_twin(load_pipeline(REPO / "tests" / "data" / "pipelines" / "duisburg.toml"), paths)
    assert report.counts["parcels"] == 1
    assert report.counts["buildings"] == 4
    con = connect(paths.store_file("duisburg"), read_only=True)
    try:
        parcel = con.execute("SELECT cadastral_id, label, official_area_m2, area_m2 FROM parcels").fetchone()
    finally:
        con.close()
    assert parcel is not None
    assert parcel[:3] == ("05329001100085______", "Gemarkung 3290, Flur 11, Flurstück 85", 684.0)
    assert parcel[3] == pytest.approx(684.0, abs=1.0)  # the official area is rounded to the m²
    assert any(n.startswith("parcels: 0 with buildings") for n in report.notes)  # the four stand next to it
