"""Names instead of ids and codes wherever a person reads: building types (OSM values, ALKIS codes), facility
categories, and census grid cells named by where they lie."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PIPELINES
from twin3d.pipeline.cadastre import OSM_NAMES_FILE, osm_names, twin_type_names
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.store.area_names import COMPASS, DASH, grid_cell_names, town_name
from twin3d.store.connection import connect


def test_the_shipped_osm_names_are_complete_in_both_languages() -> None:
    names = osm_names()
    assert names.building["yes"].de == "Gebäude"
    assert names.building["yes"].en == "Building"
    assert names.building["house"].de == "Haus"
    assert names.building["apartments"].en == "Apartment building"
    assert names.facility["amenity=kindergarten"].de == "Kindergarten"
    # Every category the facility types map (pipelines/facility_types.toml) has a name.
    mapped = set(re.findall(r'^category = "([^"]+)"', (PIPELINES / "facility_types.toml").read_text("utf-8"), re.M))
    assert mapped
    assert mapped <= set(names.facility)
    assert "Key:building" in OSM_NAMES_FILE.read_text("utf-8")  # the source is named


def test_osm_names_go_to_twins_whose_buildings_come_from_osm() -> None:
    (lauf,) = twin_type_names(load_pipeline(PIPELINES / "lauf.toml"), [])
    domains = Counter(lauf["domain"].to_pylist())
    assert domains["building_type"] == len(osm_names().building)
    assert domains["facility_category"] == len(osm_names().facility)
    # Monzel's buildings are ALKIS: its code list names them, the OSM list is not added.
    assert twin_type_names(load_pipeline(PIPELINES / "monzel.toml"), []) == []


def test_lauf_buildings_are_named_by_their_osm_value(client: TestClient) -> None:
    items = client.get("/api/twins/lauf/features/collections/buildings/items?building_type=yes&limit=1").json()
    props = items["features"][0]["properties"]
    assert props["building_type_name"] == "Gebäude"
    building = client.get(f"/api/twins/lauf/buildings/{props['building_id']}").json()
    assert (building["building_type_name"], building["building_type_name_en"]) == ("Gebäude", "Building")
    assert building["parcels"] == []  # no cadastre in Lauf
    houses = client.get("/api/twins/lauf/features/collections/buildings/items?building_type=house").json()
    assert {f["properties"]["building_type_name"] for f in houses["features"]} == {"Haus"}


def test_monzel_buildings_are_named_from_the_alkis_code_list(client: TestClient) -> None:
    items = client.get("/api/twins/monzel/features/collections/buildings/items?building_type=1000&limit=5").json()
    assert items["numberReturned"] == 5
    assert {f["properties"]["building_type_name"] for f in items["features"]} == {"Wohngebäude"}


def test_facilities_are_named_by_their_category(client: TestClient) -> None:
    kitas = client.get("/api/twins/lauf/facilities.geojson?category=amenity=kindergarten").json()["features"]
    assert kitas
    assert {f["properties"]["category_name"] for f in kitas} == {"Kindergarten"}
    stops = client.get("/api/twins/lauf/facilities.geojson?category=highway=bus_stop").json()["features"]
    assert {(f["properties"]["category_name"], f["properties"]["category_name_en"]) for f in stops} == {
        ("Bushaltestelle", "Bus stop")
    }
    categories = client.get("/api/twins/lauf/facilities/categories").json()
    assert all(c["name"] != c["category"] for c in categories)  # every category of Lauf's POIs has a name
    ogc = client.get("/api/twins/lauf/features/collections/facilities/items?category=amenity=pharmacy").json()
    assert {f["properties"]["category_name"] for f in ogc["features"]} == {"Apotheke"}


def test_lauf_grid_cells_are_named_by_their_place_in_the_town(client: TestClient) -> None:
    cells = [f["properties"] for f in client.get("/api/twins/lauf/grid.geojson").json()["features"]]
    names = [c["name"] for c in cells]
    assert len(set(names)) == len(names) == 31  # one name per cell
    assert all(n.startswith(f"Lauf a.d. Pegnitz {DASH} ") and "CRS3035" not in n for n in names)
    assert sum(n == f"Lauf a.d. Pegnitz {DASH} Mitte" for n in names) == 1  # the cell holding the town centre
    compass = {de for de, _ in COMPASS}
    assert all(n.split(f" {DASH} ")[1].split(" (")[0] in compass | {"Mitte"} for n in names)
    assert any("Centre" in c["name_en"] for c in cells)
    # Cells that share a direction are told apart by the street most of their buildings stand on, where known.
    assert any(re.search(r"\((.+(straße|weg|gasse|platz|Straße|Weg))\)$", n) for n in names)
    ogc = client.get("/api/twins/lauf/features/collections/grid_cells/items?limit=1").json()["features"][0]
    assert ogc["properties"]["name"] in names


def test_rostock_grid_cells_are_named_after_the_district_they_mostly_lie_in(client: TestClient) -> None:
    cells = [f["properties"] for f in client.get("/api/twins/rostock/grid.geojson").json()["features"]]
    bezirke = client.get("/api/twins/rostock/districts/bezirk.geojson").json()["features"]
    districts = {f["properties"]["name"] for f in bezirke}
    names = [c["name"] for c in cells]
    assert len(set(names)) == len(names)
    in_district = [n for n in names if n.split(" (")[0] in districts]
    assert len(in_district) > len(names) / 2  # most of the grid lies in the city's statistical districts
    assert all(
        n.split(" (")[0] in districts or n.startswith(f"Hanse- und Universitätsstadt Rostock {DASH} ") for n in names
    )


def test_a_cell_mostly_outside_the_districts_is_named_after_the_town(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> None:
    """grid_cell_names on a copy of Rostock's store whose districts are cut to one: only the cells that district
    covers for the most part are named after it."""
    copy = tmp_path / "rostock.duckdb"
    copy.write_bytes(demo_paths.store_file("rostock").read_bytes())
    con = connect(copy)
    try:
        largest = "SELECT name FROM districts WHERE level = 'bezirk' ORDER BY area_m2 DESC LIMIT 1"
        keep = con.execute(largest).fetchone()
        assert keep is not None
        con.execute("DELETE FROM districts WHERE level <> 'bezirk' OR name <> ?", [keep[0]])
        share = "ST_Area(ST_Intersection(c.geom, d.geom)) / ST_Area(c.geom)"
        shares = dict(con.execute(f"SELECT c.cell_id, {share} FROM grid_cells AS c, districts AS d").fetchall())
        table = grid_cell_names(con, "Rostock")
    finally:
        con.close()
    named = dict(zip(table["cell_id"].to_pylist(), table["name"].to_pylist(), strict=True))
    inside = {c for c, part in shares.items() if part >= 0.5}
    assert inside, "the largest district covers at least one cell for the most part"
    for cell, name in named.items():
        assert name.startswith(str(keep[0])) == (cell in inside), (cell, name, shares.get(cell))
        if cell not in inside:
            assert name.startswith(f"Rostock {DASH} ")


@pytest.mark.parametrize(
    ("title", "town"), [("Monzel (Osann-Monzel)", "Monzel"), ("Lauf a.d. Pegnitz", "Lauf a.d. Pegnitz")]
)
def test_the_town_name_leaves_out_what_the_title_adds_in_brackets(title: str, town: str) -> None:
    assert town_name(title) == town
