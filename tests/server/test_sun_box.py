"""``POST .../shadows`` measures the box's sides on the ground: in Rostock, 2.9° west of its UTM zone's central
meridian, a lon/lat box of 2.4 km a side stands turned by 2.4° in the grid and spans 2.5 km of easting; it was
refused (issue 19), while a box longer than 2.5 km a side still is."""

from __future__ import annotations

from fastapi.testclient import TestClient
from pyproj import Geod

GEOD = Geod(ellps="WGS84")
ROSTOCK_VIEW = [12.04817, 54.191941, 12.085029, 54.213652]
"""The box the viewer asked for with Rostock's first view: 2,405 m by 2,418 m."""


def _sides(box: list[float]) -> tuple[float, float]:
    w, s, e, n = box
    return GEOD.inv(w, s, e, s)[2], GEOD.inv(w, s, w, n)[2]


def test_a_box_of_2_4_km_a_side_in_rostock_is_answered(client: TestClient) -> None:
    assert max(_sides(ROSTOCK_VIEW)) < 2500
    answer = client.post("/api/twins/rostock/shadows", json={"time": "2026-12-07T12:00", "bbox": ROSTOCK_VIEW})
    assert answer.status_code == 200, answer.text
    assert answer.json()["type"] == "FeatureCollection"


def test_a_box_longer_than_2_5_km_a_side_is_refused_naming_the_bbox(client: TestClient) -> None:
    w, s, _, n = ROSTOCK_VIEW
    box = [w, s, w + 0.04, n]  # 2.6 km east to west
    assert 2500 < _sides(box)[0] < 2700
    answer = client.post("/api/twins/rostock/shadows", json={"time": "2026-12-07T12:00", "bbox": box})
    assert answer.status_code == 422
    body = answer.json()
    assert body["record"] == "bbox"
    assert "m a side" in body["error"]
