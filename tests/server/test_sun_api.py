"""``GET .../sun`` and ``POST .../shadows`` over HTTP on Lauf: the sun's day for the slider, a planned tower's shadow
h / tan(e) long away from the sun, removed and replaced buildings casting none, a night without shadows, and bad
requests refused with the field named."""

from __future__ import annotations

import math
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import Geod

SITE = (11.278182, 49.509607)  # open ground among houses in Lauf's centre
HALF = (0.000135, 0.0000875)  # a 20 m square
BOX = [SITE[0] - 0.003, SITE[1] - 0.002, SITE[0] + 0.003, SITE[1] + 0.002]
HOUSE = ("way/45179094", 11.278243, 49.509817)  # the house just north of the site (OSM, January 2020), 7.5 m
GEOD = Geod(ellps="WGS84")


def _square(lon: float, lat: float) -> dict[str, Any]:
    hx, hy = HALF
    ring = [
        [lon - hx, lat - hy],
        [lon + hx, lat - hy],
        [lon + hx, lat + hy],
        [lon - hx, lat + hy],
        [lon - hx, lat - hy],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def _shadows(client: TestClient, **body: Any) -> Any:
    return client.post("/api/twins/lauf/shadows", json={"time": "2026-06-21T10:00", "bbox": BOX, **body})


def _polygons(answer: dict[str, Any], source: str) -> shapely.Geometry:
    rings = [f["geometry"]["coordinates"] for f in answer["features"] if f["properties"]["source"] == source]
    return shapely.union_all(
        [shapely.Polygon([p[:2] for p in r[0]], [[p[:2] for p in h] for h in r[1:]]) for r in rings]
    )


def test_the_suns_day_for_the_slider(client: TestClient) -> None:
    day = client.get("/api/twins/lauf/sun", params={"date": "2026-06-21"})
    assert day.status_code == 200
    body = day.json()
    assert body["zone"] == "Europe/Berlin"
    assert body["sunrise"].startswith("2026-06-21T05:0")
    assert body["sunset"].startswith("2026-06-21T21:2")
    assert body["step_minutes"] == 10
    assert len(body["path"]) == 144
    assert body["path"][0]["time"] == "2026-06-21T00:00:00+02:00"
    highest = max(body["path"], key=lambda step: step["elevation"])
    assert highest["time"][11:16] in {"13:10", "13:20"}
    assert highest["elevation"] == pytest.approx(64.0, abs=0.3)
    assert 170 < highest["azimuth"] < 190
    # The day the clocks go forward has 23 hours: 138 steps, 02:00 to 03:00 left out.
    spring = client.get("/api/twins/lauf/sun", params={"date": "2026-03-29"}).json()
    assert len(spring["path"]) == 138
    assert client.get("/api/twins/lauf/sun", params={"date": "21.06.2026"}).status_code == 422
    assert client.get("/api/twins/lauf/sun", params={"date": "1410-06-21"}).json()["record"] == "date"


def test_a_planned_tower_casts_h_over_tan_e_away_from_the_sun(client: TestClient) -> None:
    answer = _shadows(client, planned=[{"footprint": _square(*SITE), "height_m": 30}])
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/geo+json"
    body = answer.json()
    assert body["type"] == "FeatureCollection"
    assert body["time"] == "2026-06-21T10:00:00+02:00"  # no offset: Europe/Berlin's wall clock
    assert body["day"]["sunrise"].startswith("2026-06-21T05:0")
    sun = body["sun"]
    assert sun["above_horizon"]
    assert 100 < sun["azimuth"] < 112
    assert body["ground"] == "flat"
    assert body["capped"] == 0
    assert body["replaced"] == 0
    planned = [f for f in body["features"] if f["properties"]["source"] == "planned"]
    assert len(planned) == 1
    # The sweep of a square is symmetric about its middle: its centroid lies half the shadow vector away.
    centre = _polygons(body, "planned").centroid
    bearing, _, distance = GEOD.inv(SITE[0], SITE[1], centre.x, centre.y)
    assert bearing % 360 == pytest.approx((sun["azimuth"] + 180) % 360, abs=0.3)
    assert 2 * distance == pytest.approx(30 * body["shadow_per_metre"], rel=0.005)
    assert body["shadow_per_metre"] == pytest.approx(1 / math.tan(math.radians(sun["elevation"])), rel=1e-3)
    # The existing buildings' shadows are there too, never under the planned one's; all on Lauf's ground.
    existing = _polygons(body, "existing")
    assert existing.area > 0
    assert existing.intersection(_polygons(body, "planned")).area < 1e-12
    heights = {p[2] for f in body["features"] for ring in f["geometry"]["coordinates"] for p in ring}
    assert heights == {374.8}  # 327 m above NHN + 47.8 m geoid undulation: the twin's flat ground, ellipsoidal
    assert all(
        shapely.box(*BOX).covers(shapely.Point(p[:2]))
        for f in body["features"]
        for p in f["geometry"]["coordinates"][0]
    )


def test_removed_and_replaced_buildings_cast_no_shadow(client: TestClient) -> None:
    house_id, lon, lat = HOUSE
    at_noon = {"time": "2026-06-21T13:15"}  # the sun in the south: the house's shadow lies north of it
    north = shapely.Point(lon, lat + 0.00009)  # 10 m north of its middle
    before = _shadows(client, **at_noon).json()
    assert _polygons(before, "existing").contains(north)
    removed = _shadows(client, **at_noon, removed=[house_id]).json()
    assert removed["replaced"] == 1
    assert _polygons(removed, "existing").area < _polygons(before, "existing").area
    # A low planned building standing on the house replaces it: what shade is left there is the plan's.
    on_top = _shadows(client, **at_noon, planned=[{"footprint": _square(lon, lat), "height_m": 3}]).json()
    assert on_top["replaced"] == 1
    assert on_top["casters"] == before["casters"]  # one existing building less, one planned more


def test_no_shadows_at_night(client: TestClient) -> None:
    body = _shadows(client, time="2026-06-21T23:30").json()
    assert body["features"] == []
    assert body["sun"]["above_horizon"] is False
    assert body["shadow_per_metre"] is None


def test_an_offset_moves_the_wall_clock(client: TestClient) -> None:
    utc = _shadows(client, time="2026-06-21T08:00:00Z").json()
    local = _shadows(client).json()
    assert utc["time"] == "2026-06-21T10:00:00+02:00"
    assert utc["sun"] == local["sun"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"bbox": [11.25, 49.49, 11.31, 49.53]}, "bbox"),  # 4.3 km across
        ({"bbox": [11.28, 49.51, 11.27, 49.52]}, "bbox"),  # west and east swapped
        ({"bbox": [13.0, 52.0, 13.01, 52.01]}, "bbox"),  # Berlin
        ({"time": "morgen früh"}, "time"),
        ({"time": "2200-06-21T10:00"}, "time"),
        ({"planned": [{"footprint": _square(*SITE), "height_m": 0}]}, "height_m"),
        ({"planned": [{"footprint": _square(*SITE), "height_m": 30}] * 51}, "planned"),
        ({"planned": [{"footprint": _square(13.0, 52.0), "height_m": 30}]}, "planned.0.footprint"),
        ({"removed": [""]}, "removed"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_requests_name_the_field(client: TestClient, change: dict[str, Any], field: str) -> None:
    answer = _shadows(client, **change)
    assert answer.status_code == 422
    body = answer.json()
    named = body.get("record") or ".".join(str(part) for part in body["detail"][0]["loc"])
    assert field in named


def test_an_unknown_twin_is_not_found(client: TestClient) -> None:
    assert client.get("/api/twins/nowhere/sun", params={"date": "2026-06-21"}).status_code == 404
    assert client.post("/api/twins/nowhere/shadows", json={"time": "2026-06-21T10:00", "bbox": BOX}).status_code == 404
