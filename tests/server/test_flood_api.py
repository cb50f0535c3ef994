"""Flood scenarios over HTTP: on the Rhine test twin with its DEM (tests/simulation/rhine_twin.py) and on Lauf
without one; the results, the report, and 422s that name the field."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import private_paths
from tests.simulation.rhine_twin import build_rhine_twin, dem_heights
from tests.simulation.test_flood import AT_THE_PEGNITZ, box_around, flood, lonlat, wall
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The server on the Rhine test twin."""
    with TestClient(create_app(ServerSettings(), build_rhine_twin(tmp_path_factory.mktemp("rhine")))) as c:
        yield c


def run(client: TestClient, twin: str, *measures: dict[str, Any], name: str = "Hochwasser") -> dict[str, Any]:
    stored = client.post(f"/api/twins/{twin}/scenarios", json={"name": name, "measures": list(measures)})
    assert stored.status_code == 201, stored.text
    response = client.get(f"/api/twins/{twin}/scenarios/{stored.json()['scenario_id']}/results")
    assert response.status_code == 200, response.text
    results: dict[str, Any] = response.json()
    results["scenario_id"] = stored.json()["scenario_id"]
    return results


def test_a_flood_with_a_wall_over_http_states_its_terrain_and_depths(api: TestClient) -> None:
    results = run(api, "rhine", flood(46.0, source={"type": "Point", "coordinates": lonlat(30, 25)}), wall(47.0))
    flood_result = results["flood"]
    assert flood_result["terrain"]["kind"] == "dem"
    assert flood_result["terrain"]["source"] == "dgm1_32_357_5646_koeln_sub20m.tif"
    assert flood_result["terrain"]["resolution_m"] == 20.0
    z = dem_heights()
    # The source was clicked in the river: the water starts at its lowest cell within reach, 39 m and a bit.
    assert 39.0 < flood_result["levels"][0]["source"]["ground_m"] < 39.6
    assert flood_result["buildings"]["depth_m"]["east_bank"] == round(46.0 - float(z[36:40, 38:42].min()), 2)
    assert "east_corner" not in flood_result["buildings"]["depth_m"]  # behind the wall
    assert flood_result["walls"][0]["holds"] == [0]
    assert flood_result["exposed"]["persons"] > 0
    assert {f["facility_id"] for f in flood_result["facilities_cut_off"]} == {"kita_ufer", "kita_insel"}
    assert flood_result["extent"]["features"], "the flooded cells as GeoJSON for the map"
    assert math.isclose(flood_result["area_m2"], flood_result["cells"] * 400)
    assert json.dumps(results)  # plain JSON, no NaN
    for lang, words in (("de", "Geländemodell dgm1_32_357_5646_koeln_sub20m.tif"), ("en", "elevation model dgm1_")):
        page = api.get(f"/api/twins/rhine/scenarios/{results['scenario_id']}/report.html?lang={lang}").text
        assert words in page
        assert 'id="flood-buildings"' in page
        assert 'id="flood-facilities"' in page
        assert "Kita am Ufer" in page


def test_too_few_people_in_the_water_get_no_number_over_http(api: TestClient) -> None:
    results = run(api, "rhine", flood(46.0, area=box_around(46, 31, 15)))
    assert results["flood"]["exposed"]["withheld"] is True
    assert results["flood"]["exposed"]["personas"] == []
    # Renaming a scenario asks nothing new: the same measures give the same figures, so there is nothing to average.
    first = run(api, "rhine", flood(45.0), name="Hochwasser A")["flood"]["exposed"]
    assert all(run(api, "rhine", flood(45.0), name=f"Hochwasser {n}")["flood"]["exposed"] == first for n in range(3))


@pytest.mark.parametrize(
    ("measures", "field", "words"),
    [
        ([flood(20.0)], "measures.0.level_m", "outside the twin's terrain"),
        ([flood(95.0)], "measures.0.level_m", "outside the twin's terrain"),
        ([flood(46.0), wall(200.0)], "measures.1.crest_m", "outside the twin's terrain"),
        ([flood(float("nan"))], "level_m", "finite number"),
        (
            [
                flood(46.0),
                {"kind": "flood_wall", "crest_m": 47, "line": {"type": "LineString", "coordinates": [[7, 51]]}},
            ],
            "line",
            "at least 2",
        ),
        (
            [
                flood(46.0),
                {
                    "kind": "flood_wall",
                    "crest_m": 47,
                    "line": {"type": "LineString", "coordinates": [[13.4, 52.5], [13.41, 52.5]]},
                },
            ],
            "measures.1.line",
            "outside the twin",
        ),
        ([wall(47.0)], "measures.0", "needs a flood"),
    ],
)
def test_invalid_floods_get_422_naming_the_field(
    api: TestClient, measures: list[dict[str, Any]], field: str, words: str
) -> None:
    body = json.dumps({"name": "Hochwasser", "measures": measures})  # allows NaN, as some clients send it
    response = api.post("/api/twins/rhine/scenarios", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert field in response.text
    assert words in response.text


@pytest.fixture
def lauf_client(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[TestClient]:
    with TestClient(create_app(ServerSettings(), private_paths(tmp_path, demo_paths, ("lauf",)))) as c:
        yield c


def test_lauf_floods_on_its_twin_wide_ground_and_the_result_says_so(lauf_client: TestClient) -> None:
    area = {"type": "Polygon", "coordinates": [AT_THE_PEGNITZ]}
    results = run(lauf_client, "lauf", flood(328.0, area=area))
    terrain = results["flood"]["terrain"]
    assert (terrain["kind"], terrain["ground_m"], terrain["source"]) == ("twin_ground", 327.0, None)
    assert results["flood"]["all_or_nothing"] is True
    assert set(results["flood"]["buildings"]["depth_m"].values()) == {1.0}
    page = lauf_client.get(f"/api/twins/lauf/scenarios/{results['scenario_id']}/report.html").text
    assert "einheitlichen Geländehöhe von 327,00 m" in page
    # The level is checked against the twin's ground: below it nothing could flood.
    bad = lauf_client.post("/api/twins/lauf/scenarios", json={"name": "x", "measures": [flood(300.0, area=area)]})
    assert bad.status_code == 422
    assert bad.json()["record"] == "measures.0.level_m"
