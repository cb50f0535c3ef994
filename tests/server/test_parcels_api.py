"""Monzel's cadastre over HTTP: GDAL reads the parcels and land use through OGC API - Features (paging through
`next` links), and the parcel routes answer a parcel's figures and a click; buildings name their parcels."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from tests.conftest import PIPELINES
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings
from twin3d.store.connection import connect

PARCELS, LAND_USE = 2369, 1345  # ALKIS Gemarkung Monzel: every Flurstück and tatsächliche-Nutzung polygon


def _features_url(live_server: str) -> str:
    return f"OAPIF:{live_server}/api/twins/monzel/features"


def _store(demo_paths: PathSettings, sql: str) -> list[tuple[Any, ...]]:
    con = connect(demo_paths.store_file("monzel"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(("layer", "count"), [("parcels", PARCELS), ("land_use", LAND_USE)])
def test_ogrinfo_counts_every_parcel_and_land_use_polygon(live_server: str, layer: str, count: int) -> None:
    run = subprocess.run(
        ["ogrinfo", "-ro", "-so", _features_url(live_server), layer],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = re.search(r"Feature Count: (\d+)", run.stdout)
    assert found is not None, run.stdout + run.stderr
    assert int(found[1]) == count
    assert "Geometry: Multi Polygon" in run.stdout or "Geometry: Polygon" in run.stdout


def test_ogr2ogr_pages_the_parcels_into_a_geopackage_equal_to_the_store(
    live_server: str, demo_paths: PathSettings, tmp_path: Path
) -> None:
    target = tmp_path / "monzel.gpkg"
    # Pages of 500: GDAL follows the `next` links five times for the parcels, three times for the land use.
    subprocess.run(
        ["ogr2ogr", "-f", "GPKG", str(target), _features_url(live_server), "parcels", "land_use",
         "-oo", "PAGE_SIZE=500"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    meta, parcels = pyogrio.read_arrow(target, layer="parcels")
    assert parcels.num_rows == PARCELS
    ids = parcels["parcel_id"].to_pylist()
    assert len(set(ids)) == PARCELS
    stored = {str(p): float(a) for p, a in _store(demo_paths, "SELECT parcel_id, area_m2 FROM parcels")}
    assert set(ids) == set(stored)
    areas = np.array([stored[p] for p in ids], dtype=np.float64)
    assert np.allclose(parcels["area_m2"].to_numpy(), areas, rtol=1e-9)
    # The outlines came through in WGS 84: their areas, projected back to the twin's CRS, are the parcels' areas.
    crs = load_pipeline(PIPELINES / "monzel.toml").twin.crs
    to_twin = Transformer.from_crs(4326, crs, always_xy=True)
    outlines = shapely.from_wkb(parcels[meta["geometry_name"] or "wkb_geometry"].to_numpy(zero_copy_only=False))
    projected = shapely.area(shapely.transform(outlines, lambda xy: np.column_stack(to_twin.transform(*xy.T))))
    assert np.allclose(projected, areas, rtol=1e-4)
    _, land_use = pyogrio.read_arrow(target, layer="land_use", read_geometry=False)
    assert land_use.num_rows == LAND_USE
    assert set(land_use["land_use_group"].drop_null().to_pylist()) <= {"Siedlung", "Verkehr", "Vegetation", "Gewässer"}


def _built_parcel(client: TestClient) -> dict[str, Any]:
    """A parcel with buildings on it, through the OGC items (the first by id with two or more)."""
    items = client.get("/api/twins/monzel/features/collections/parcels/items?limit=10000").json()["features"]
    chosen = min((f["properties"] for f in items if f["properties"]["buildings"] >= 2), key=lambda p: p["parcel_id"])
    body: dict[str, Any] = client.get(f"/api/twins/monzel/parcels/{chosen['parcel_id']}").json()
    return body


def test_a_parcel_has_its_figures_and_the_buildings_on_it(client: TestClient) -> None:
    parcel = _built_parcel(client)
    assert str(parcel["label"]).startswith("Gemarkung Monzel (2566), Flur ")
    assert parcel["land_use_name"]
    assert parcel["land_use_name_en"]
    buildings = parcel["building_list"]
    assert isinstance(buildings, list)
    assert len(buildings) == parcel["buildings"] >= 2
    built = sum(b["area_m2"] for b in buildings)
    assert built == pytest.approx(parcel["built_m2"], abs=0.1 * len(buildings))
    assert parcel["grz"] == pytest.approx(float(parcel["built_m2"]) / float(parcel["area_m2"]), abs=1e-3)
    assert parcel["gfz"] == pytest.approx(float(parcel["floor_area_m2"]) / float(parcel["area_m2"]), abs=1e-3)
    for b in buildings:
        # ALKIS function codes are named from the twin's code list: a person reads "Wohngebäude", not "1000".
        assert b["building_type_name"] != b["building_type"]
        assert 0 < b["share"] <= 1


def test_a_click_finds_the_parcel_under_it_and_nothing_outside(client: TestClient) -> None:
    parcel = _built_parcel(client)
    found = client.get(f"/api/twins/monzel/parcels/at?lon={parcel['lon']}&lat={parcel['lat']}")
    assert found.status_code == 200
    assert found.json()["parcel_id"] == parcel["parcel_id"]
    outside = client.get("/api/twins/monzel/parcels/at?lon=6.5&lat=49.5")
    assert outside.status_code == 404
    assert "no parcel" in outside.json()["error"]
    assert client.get("/api/twins/monzel/parcels/DERP-none").status_code == 404
    # A twin without a cadastre has no parcels, and its catalogue says so.
    assert client.get("/api/twins/lauf/parcels/at?lon=11.28&lat=49.51").status_code == 404
    counts = {t["name"]: t["counts"] for t in client.get("/api/twins").json()}
    assert counts["monzel"]["parcels"] == PARCELS
    assert counts["monzel"]["land_use"] == LAND_USE
    assert counts["lauf"]["parcels"] == 0


def test_a_building_names_its_type_and_the_parcels_it_stands_on(client: TestClient) -> None:
    parcel = _built_parcel(client)
    first = parcel["building_list"][0]
    building = client.get(f"/api/twins/monzel/buildings/{first['building_id']}").json()
    assert building["building_type_name"] == first["building_type_name"]
    assert parcel["parcel_id"] in [p["parcel_id"] for p in building["parcels"]]
    assert {"parcel_id", "label", "share", "area_m2"} <= set(building["parcels"][0])
    at = client.get(f"/api/twins/monzel/buildings/at?lon={building['lon']}&lat={building['lat']}").json()
    assert at["parcels"]
    assert at["building_type_name"]


def test_parcels_and_land_use_are_vector_tiles_too(client: TestClient) -> None:
    parcel = _built_parcel(client)
    z = 16
    x = int((float(parcel["lon"]) + 180) / 360 * 2**z)
    lat = np.radians(float(parcel["lat"]))
    y = int((1 - np.arcsinh(np.tan(lat)) / np.pi) / 2 * 2**z)
    for collection in ("parcels", "land_use"):
        tile = client.get(f"/api/twins/monzel/mvt/{collection}/{z}/{x}/{y}.pbf")
        assert tile.status_code == 200
        assert len(tile.content) > 100
        assert collection.encode() in tile.content  # the layer is named after the collection
    assert str(parcel["parcel_id"]).encode() in client.get(f"/api/twins/monzel/mvt/parcels/{z}/{x}/{y}.pbf").content
