"""A parcel's name in parts (issue 19): the API keeps the German label for its clients and sends what it is made of
(Gemarkung name and number, Flur, the Flurstück number's numerator and denominator), so the viewer writes the name
in its reader's language; the parcels of a building and the parcels' features carry the parts too."""

from __future__ import annotations

from typing import Any

import shapely
from fastapi.testclient import TestClient

SIX_TWO = "DERP1234000002FY"  # Gemarkung Monzel (2566), Flur 1, Flurstück 6/2 (ALKIS, LVermGeo RP)
PARTS = {"gemarkung_name": "Monzel", "gemarkung": "2566", "flur": "1", "numerator": "6", "denominator": "2"}


def _items(client: TestClient) -> list[dict[str, Any]]:
    answer = client.get("/api/twins/monzel/features/collections/parcels/items?limit=10000")
    assert answer.status_code == 200
    features: list[dict[str, Any]] = answer.json()["features"]
    return features


def test_a_parcel_sends_its_german_label_and_the_parts_of_it(client: TestClient) -> None:
    parcel = client.get(f"/api/twins/monzel/parcels/{SIX_TWO}").json()
    assert parcel["label"] == "Gemarkung Monzel (2566), Flur 1, Flurstück 6/2"
    assert parcel["label_parts"] == PARTS
    point = shapely.geometry.shape(parcel["geometry"]).representative_point()
    at = client.get("/api/twins/monzel/parcels/at", params={"lon": point.x, "lat": point.y}).json()
    assert at["parcel_id"] == SIX_TWO
    assert at["label_parts"] == PARTS


def test_a_number_without_denominator_has_none(client: TestClient) -> None:
    whole = next(f["properties"] for f in _items(client) if f["properties"]["number"] == "5")
    parts = client.get(f"/api/twins/monzel/parcels/{whole['parcel_id']}").json()["label_parts"]
    assert parts == {**PARTS, "numerator": "5", "denominator": None}


def test_every_parcel_has_parts_in_its_features_and_its_buildings_name_them(client: TestClient) -> None:
    items = _items(client)
    assert len(items) == 2369
    assert {f["properties"]["gemarkung_name"] for f in items} == {"Monzel"}
    built = next(f["properties"] for f in items if f["properties"]["buildings"] >= 1)
    parcel = client.get(f"/api/twins/monzel/parcels/{built['parcel_id']}").json()
    building = client.get(f"/api/twins/monzel/buildings/{parcel['building_list'][0]['building_id']}").json()
    named = next(p for p in building["parcels"] if p["parcel_id"] == parcel["parcel_id"])
    assert named["label"] == parcel["label"]
    assert named["label_parts"] == parcel["label_parts"]
    assert named["label_parts"]["gemarkung_name"] == "Monzel"


def test_the_openapi_document_describes_the_parts(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert set(schemas["ParcelLabelParts"]["properties"]) == set(PARTS)
