"""The infill measure ("Nachverdichtung") over HTTP: stored and run like every measure, refused with a 422 that names
the field, and its newcomers published through the privacy gate as every housing measure's are."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import CRS

from tests.conftest import GEODATA
from twin3d.io.crs import reproject
from twin3d.layers.context import LoadOptions
from twin3d.layers.load import load_layer
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings
from twin3d.store.connection import connect
from twin3d.store.writer import derive_parcels

UTM32, WGS84 = CRS.from_epsg(25832), CRS.from_epsg(4326)
# A block of Lauf's centre (lon/lat), cut into 25 m test parcels below.
QUARTER = [[11.2760, 49.5090], [11.2790, 49.5090], [11.2790, 49.5105], [11.2760, 49.5105], [11.2760, 49.5090]]
INFILL: dict[str, Any] = {
    "name": "Nachverdichtung Altstadt",
    "measures": [{"kind": "infill", "default_gfz": 1.2, "take_up": 0.5}],
}
PARCEL_FIELDS = {"parcel_id", "label", "gfz_now", "gfz_allowed", "limit", "storeys_max", "unused_m2",
                 "realisable_m2", "needs_sealing", "outline"}  # fmt: skip


def _add_test_parcels(store: Path) -> int:
    """Square 25 m parcels over the block (test geometry: Lauf has no cadastre in the repository), with their
    figures derived from Lauf's real buildings by the build's own SQL (twin3d/sql/parcels.sql)."""
    block = reproject(np.array([shapely.Polygon(QUARTER)]), WGS84, UTM32)[0]
    x0, y0, x1, y1 = block.bounds
    corners = [(x, y) for x in np.arange(x0, x1 - 25, 25) for y in np.arange(y0, y1 - 25, 25)]
    squares = [shapely.box(x, y, x + 25, y + 25) for x, y in corners]
    lonlat = reproject(np.array(squares), UTM32, WGS84)
    con = connect(store)
    try:
        con.executemany(
            "INSERT INTO parcels (parcel_id, label, area_m2, source, geom, geom_wgs84)"
            " VALUES (?, ?, ?, 'test', ST_GeomFromWKB(?), ST_GeomFromWKB(?))",
            [
                [f"T{i:03d}", f"Testflurstück {i}", square.area, shapely.to_wkb(square), shapely.to_wkb(ll)]
                for i, (square, ll) in enumerate(zip(squares, lonlat, strict=True))
            ],
        )
        derive_parcels(con, storey_height=3.0)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return len(squares)


@pytest.fixture(scope="module")
def infill_client(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[TestClient]:
    """Lauf (a copy of the built store, with its privacy key) with test parcels, and a GeoJSON layer ``pois``."""
    root = tmp_path_factory.mktemp("infill-api")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    paths.store_dir.mkdir()
    shutil.copyfile(demo_paths.store_file("lauf"), paths.store_file("lauf"))
    shutil.copyfile(demo_paths.privacy_key_file("lauf"), paths.privacy_key_file("lauf"))
    assert _add_test_parcels(paths.store_file("lauf")) > 20
    load_layer(paths, "lauf", GEODATA / "lauf" / "osm" / "lauf_pois.geojson", LoadOptions(layer_id="pois"))
    with TestClient(create_app(ServerSettings(), paths)) as client:
        yield client


def _run(client: TestClient, spec: dict[str, Any]) -> dict[str, Any]:
    stored = client.post("/api/twins/lauf/scenarios", json=spec)
    assert stored.status_code in (200, 201), stored.text
    response = client.get(f"/api/twins/lauf/scenarios/{stored.json()['scenario_id']}/results")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_infill_adds_homes_without_sealing(infill_client: TestClient) -> None:
    results = _run(infill_client, INFILL)
    (infill,) = results["infill"]
    assert infill["measure"] == 0
    assert infill["parcels_considered"] > 0  # parcels with buildings count where the land use is unknown
    assert infill["realised_m2"] == pytest.approx(infill["realisable_m2"] * 0.5, abs=1)
    assert infill["dwellings"] == round(infill["realised_m2"] * 0.8 / 80) > 0
    summary = results["summary"]
    assert summary["dwellings_added"] == infill["dwellings"]
    assert summary["households_added"] == infill["newcomers"]["households"] == infill["dwellings"]  # occupancy 1
    assert (summary["sealed_m2"], summary["no_new_sealing"]) == (0, True)
    rows = infill["parcels"]
    assert rows
    assert len(rows) == infill["listed"] <= infill["listed_max"] == 2000
    assert [r["unused_m2"] for r in rows] == sorted((r["unused_m2"] for r in rows), reverse=True)
    assert all(set(r) == PARCEL_FIELDS for r in rows)  # cadastre figures only: no household or person counts
    assert all(r["limit"] == "default" and r["gfz_allowed"] == 1.2 for r in rows)
    assert shapely.geometry.shape(rows[0]["outline"]).intersects(shapely.Polygon(QUARTER))


def test_newcomers_are_gated_and_mixed_as_for_every_housing_measure(infill_client: TestClient) -> None:
    results = _run(infill_client, INFILL)
    (infill,) = results["infill"]
    min_group = results["privacy"]["min_group"]
    by_persona = infill["newcomers"]["by_persona"]
    assert by_persona
    assert all(row["households"] >= min_group for row in by_persona)
    # The newcomers' KPI rows show the same personas (and some the rounded count lets through).
    kpi_personas = {k["persona"] for k in results["kpis"] if k["group"] == "newcomers"}
    assert {row["persona"] for row in by_persona} <= kpi_personas
    assert sum(row["households"] for row in by_persona) <= infill["newcomers"]["households"]
    # The same number of homes as a new quarter: the same published mix, so the same newcomers.
    quarter = {"kind": "new_housing", "area": {"type": "Polygon", "coordinates": [QUARTER]}, "storeys": 3}
    quarter["dwellings"] = infill["dwellings"]
    other = _run(infill_client, {"name": "Quartier", "measures": [quarter]})
    assert other["summary"]["persons_added"] == results["summary"]["persons_added"]
    # A renamed copy is the same scenario for the gate: the same figures.
    renamed = _run(infill_client, {**copy.deepcopy(INFILL), "name": "Andere Bezeichnung", "description": "x"})
    assert renamed["infill"] == results["infill"]
    assert renamed["summary"] == results["summary"]


def test_a_layer_that_is_no_plan_falls_back_to_the_default(infill_client: TestClient) -> None:
    measure = {**INFILL["measures"][0], "plan_layer": "pois"}
    (infill,) = _run(infill_client, {"name": "Mit Plan", "measures": [measure]})["infill"]
    assert infill["notes"] == [{"code": "plan_layer_not_a_plan", "layer": "pois"}]
    assert infill["plan_layer"] is None
    assert infill["parcels_with_plan"] == 0
    measure["plan_layer"] = "kein-plan"
    (missing,) = _run(infill_client, {"name": "Ohne Plan", "measures": [measure]})["infill"]
    assert missing["notes"] == [{"code": "plan_layer_missing", "layer": "kein-plan"}]
    assert missing["dwellings"] == infill["dwellings"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"default_gfz": 0.0}, "default_gfz"),
        ({"take_up": 2}, "take_up"),
        ({"plan_layer": "Bebauungsplan Nr. 1"}, "plan_layer"),
        ({"dwelling_m2": 5}, "dwelling_m2"),
        ({"land_uses": []}, "land_uses"),
        ({"gfz": 1.0}, "gfz"),
    ],
)
def test_bad_values_get_422_and_nothing_is_stored(
    infill_client: TestClient, change: dict[str, Any], field: str
) -> None:
    spec = copy.deepcopy(INFILL)
    spec["name"] = f"Falsch {field}"
    spec["measures"][0].update(change)
    response = infill_client.post("/api/twins/lauf/scenarios", json=spec)
    assert response.status_code == 422, response.text
    assert field in response.text
    listed = infill_client.get("/api/twins/lauf/scenarios", params={"unlisted": False}).json()
    assert all(s["name"] != spec["name"] for s in listed)


def test_an_area_outside_the_twin_is_refused(infill_client: TestClient) -> None:
    far = [[13.40, 52.50], [13.41, 52.50], [13.41, 52.51], [13.40, 52.51], [13.40, 52.50]]
    spec = {"name": "Berlin", "measures": [{"kind": "infill", "area": {"type": "Polygon", "coordinates": [far]}}]}
    response = infill_client.post("/api/twins/lauf/scenarios", json=spec)
    assert response.status_code == 422
    assert "measures.0.area" in response.text


def test_a_twin_without_parcels_refuses_infill(client: TestClient) -> None:
    response = client.post("/api/twins/rostock/scenarios", json={**INFILL, "name": "Ohne Kataster"})
    assert response.status_code == 422
    assert "measures.0: this twin has no parcels" in response.text
