"""Scenarios are stored by content hash; invalid ones get a 422 that names the field and leave nothing behind."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from fastapi.testclient import TestClient

from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings
from twin3d.store.live import live_store_file

pytestmark = pytest.mark.usefixtures("live_settings")  # both live-store backends

# A block of Lauf's centre (lon/lat) and a point beside it.
QUARTER = [[11.2760, 49.5090], [11.2790, 49.5090], [11.2790, 49.5105], [11.2760, 49.5105], [11.2760, 49.5090]]
HOUSING: dict[str, Any] = {
    "name": "Neues Quartier am Bahnhof",
    "description": "120 Wohnungen in vier Geschossen",
    "measures": [
        {"kind": "new_housing", "area": {"type": "Polygon", "coordinates": [QUARTER]}, "storeys": 4, "dwellings": 120},
        {
            "kind": "add_facility",
            "facility": "kita",
            "location": {"type": "Point", "coordinates": [11.2775, 49.5098]},
            "capacity": 75,
            "name": "Kita am Bahnhof",
        },
        {"kind": "projection", "years": 10},
    ],
}


@pytest.fixture
def scenario_client(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[TestClient]:
    """A client whose live stores go to a private folder (the built twins are shared read-only)."""
    store_dir = tmp_path / "var"
    store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        (store_dir / f"{twin}.duckdb").symlink_to(demo_paths.store_file(twin).resolve())
        (store_dir / f"{twin}.privacy-key").symlink_to(demo_paths.privacy_key_file(twin).resolve())
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store_dir, tiles_dir=demo_paths.tiles_dir)
    with TestClient(create_app(ServerSettings(), paths)) as c:
        yield c


def test_a_scenario_is_stored_once_per_content_and_read_back(scenario_client: TestClient) -> None:
    first = scenario_client.post("/api/twins/lauf/scenarios", json=HOUSING)
    assert first.status_code == 201, first.text
    stored = first.json()
    assert len(stored["scenario_id"]) == 64
    assert (stored["name"], stored["version"], stored["measures"]) == (HOUSING["name"], 1, 3)
    again = scenario_client.post("/api/twins/lauf/scenarios", json=HOUSING)
    assert again.status_code == 200
    assert again.json()["scenario_id"] == stored["scenario_id"]

    changed = copy.deepcopy(HOUSING)
    changed["measures"][0]["dwellings"] = 150
    second = scenario_client.post("/api/twins/lauf/scenarios", json=changed).json()
    assert second["scenario_id"] != stored["scenario_id"]
    assert second["version"] == 2

    # What the public stores is a permalink: reachable by its id, in no list (tests/server/test_visibility.py).
    assert scenario_client.get("/api/twins/lauf/scenarios").json() == []
    one = scenario_client.get(f"/api/twins/lauf/scenarios/{stored['scenario_id']}").json()
    assert one["spec"]["measures"][1]["capacity"] == 75
    assert one["spec"]["measures"][0]["occupancy"] == 1.0  # defaults are part of the stored spec
    assert scenario_client.get("/api/twins/rostock/scenarios").json() == []
    assert scenario_client.get(f"/api/twins/lauf/scenarios/{'0' * 64}").status_code == 404


def _with(change: dict[str, Any], index: int = 0) -> dict[str, Any]:
    spec = copy.deepcopy(HOUSING)
    spec["measures"][index].update(change)
    return spec


BOW_TIE = [[11.2760, 49.5090], [11.2790, 49.5105], [11.2790, 49.5090], [11.2760, 49.5105], [11.2760, 49.5090]]
FAR_AWAY = [[13.40, 52.50], [13.41, 52.50], [13.41, 52.51], [13.40, 52.51], [13.40, 52.50]]


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        (_with({"area": {"type": "Polygon", "coordinates": [BOW_TIE]}}), "area", "Self-intersection"),
        (_with({"dwellings": -5}), "dwellings", "greater than or equal to 1"),
        (_with({"facility": "casino"}, 1), "facility", "kita"),
        (_with({"area": {"type": "Polygon", "coordinates": [FAR_AWAY]}}), "measures.0.area", "outside the twin"),
        (_with({"mix": "like:stadtbereich:K"}), "measures.0.mix", "no district"),
        (_with({"storeys": 0}), "storeys", "greater than or equal to 1"),
    ],
)
def test_invalid_scenarios_get_422_naming_the_field_and_nothing_is_stored(
    scenario_client: TestClient, spec: dict[str, Any], field: str, words: str
) -> None:
    response = scenario_client.post("/api/twins/lauf/scenarios", json=spec)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert words in response.text
    assert scenario_client.get("/api/twins/lauf/scenarios").json() == []


def test_unknown_facilities_and_buildings_are_rejected(scenario_client: TestClient) -> None:
    spec = {"name": "Schließung", "measures": [{"kind": "remove_facility", "facility_id": "no-such-facility"}]}
    response = scenario_client.post("/api/twins/lauf/scenarios", json=spec)
    assert response.status_code == 422
    assert "measures.0.facility_id" in response.text
    spec = {"name": "Abriss", "measures": [{"kind": "remove_buildings", "building_ids": ["nope", "nope2"]}]}
    response = scenario_client.post("/api/twins/lauf/scenarios", json=spec)
    assert response.status_code == 422
    assert "2 unknown" in response.text


def test_reading_scenarios_creates_no_live_store(scenario_client: TestClient, tmp_path: Path) -> None:
    assert scenario_client.get("/api/twins/rostock/scenarios").json() == []
    assert not live_store_file(tmp_path / "var", "rostock").exists()


def _kpi(results: dict[str, Any], persona: str, facility: str) -> dict[str, Any]:
    found: dict[str, Any] = next(k for k in results["kpis"] if (k["persona"], k["facility"]) == (persona, facility))
    return found


def test_a_new_quarter_with_a_kita_changes_the_kpis_of_young_families(scenario_client: TestClient) -> None:
    scenario_id = scenario_client.post("/api/twins/lauf/scenarios", json=HOUSING).json()["scenario_id"]
    response = scenario_client.get(f"/api/twins/lauf/scenarios/{scenario_id}/results")
    assert response.status_code == 200, response.text
    results = response.json()
    assert results["distance_method"] == "network"
    assert results["summary"]["households_added"] == 120
    # It seals 40 % of the quarter for buildings and 10 % for access, less what is built over there already.
    sealing = results["summary"]["sealing"]
    assert results["summary"]["sealed_m2"] == sealing["new_m2"] > 5_000
    assert (
        abs(sealing["new_m2"] - (sealing["footprints_m2"] + sealing["access_m2"] - sealing["already_sealed_m2"])) <= 1
    )
    assert sealing["footprints_m2"] == pytest.approx(4 * sealing["access_m2"], rel=1e-3)
    kita = _kpi(results, "young_families", "kita")
    # A Kita in the new quarter: young families who live there already walk less, more of them within their 800 m.
    assert kita["group"] == "residents"
    assert kita["mean_distance_m_delta"] < 0
    assert kita["coverage_share_delta"] > 0
    assert kita["coverage_share_verdict"] == "better"
    assert kita["persons_scenario"] == kita["persons_baseline"], "the same residents on both sides"
    # Walks to what nobody touched read "unchanged": the newcomers are not averaged in.
    residents = [k for k in results["kpis"] if k["group"] == "residents"]
    untouched = [k for k in residents if k["facility"] in ("doctor", "pharmacy", "supermarket", "stop")]
    assert untouched
    assert {k["mean_distance_m_verdict"] for k in untouched} == {"unchanged"}
    # The school places per child are shared with the newcomers' children: a loss, and the assessment says why.
    school = _kpi(results, "school_families", "school")
    assert school["supply_per_demand_verdict"] == "worse"
    losses = results["assessment"]["losses"]
    assert any(i["facility"] == "school" and "newcomers" in i["causes"] for i in losses)
    newcomers = [k for k in results["kpis"] if k["group"] == "newcomers"]
    assert newcomers
    assert all(k["mean_distance_m_baseline"] is None for k in newcomers)
    # The ten-year outlook of Kita-age children: expected persons of the published units, as whole numbers.
    outlook = results["demand_outlook"]
    assert len(outlook["kita_0_5"]) == 11
    assert all(isinstance(v, int) and v > 0 for v in outlook["kita_0_5"])
    again = scenario_client.get(f"/api/twins/lauf/scenarios/{scenario_id}/results").json()
    assert again == results  # cached by content: the same scenario gives the same answer

    # Cells: the baseline side is exactly what the public API publishes; the new quarter adds people somewhere.
    lines = scenario_client.get("/api/twins/lauf/population/h3?resolution=9&format=ndjson").text.splitlines()
    public = {row["h3"]: row["persons"] for row in map(json.loads, lines)}
    cells = results["cells"]
    compared = [c for c in cells if c["persons_baseline"] is not None]
    assert compared
    assert all(public[c["h3"]] == c["persons_baseline"] for c in compared)
    assert all(c["persons_baseline"] + c["persons_delta"] == c["persons_scenario"] for c in compared)
    assert sum(c["persons_scenario"] for c in cells) > sum(c["persons_baseline"] for c in compared)


def test_closing_a_kita_lengthens_walks_for_no_one_less(scenario_client: TestClient, demo_paths: PathSettings) -> None:
    from twin3d.store.connection import connect  # noqa: PLC0415

    con = connect(demo_paths.store_file("lauf"), read_only=True)
    try:
        row = con.execute(
            "SELECT facility_id FROM facilities WHERE category = 'amenity=kindergarten' ORDER BY facility_id LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert row is not None
    spec = {"name": "Kita schließt", "measures": [{"kind": "remove_facility", "facility_id": row[0]}]}
    scenario_id = scenario_client.post("/api/twins/lauf/scenarios", json=spec).json()["scenario_id"]
    results = scenario_client.get(f"/api/twins/lauf/scenarios/{scenario_id}/results").json()
    deltas = [k["mean_distance_m_delta"] for k in results["kpis"] if k["facility"] == "kita"]
    assert deltas
    assert all(d >= 0 for d in deltas)
    assert max(deltas) > 0
    assert scenario_client.get(f"/api/twins/nrw/scenarios/{scenario_id}/results").status_code == 404


def test_results_export_as_csv_and_geojson(scenario_client: TestClient) -> None:
    scenario_id = scenario_client.post("/api/twins/lauf/scenarios", json=HOUSING).json()["scenario_id"]
    results = scenario_client.get(f"/api/twins/lauf/scenarios/{scenario_id}/results").json()
    csv_response = scenario_client.get(f"/api/twins/lauf/scenarios/{scenario_id}/results.csv")
    assert csv_response.headers["content-type"].startswith("text/csv")
    rows = csv_response.text.splitlines()
    assert rows[0].startswith("group,persona,facility,")
    assert len(rows) == len(results["kpis"]) + 1
    geojson = scenario_client.get(f"/api/twins/lauf/scenarios/{scenario_id}/results.geojson").json()
    assert len(geojson["features"]) == len(results["cells"])
    first = geojson["features"][0]
    assert first["geometry"]["type"] == "Polygon"
    lon, lat = first["geometry"]["coordinates"][0][0]
    assert 11.0 < lon < 11.6
    assert 49.3 < lat < 49.7


def test_a_twin_without_facility_data_says_so_instead_of_zero(scenario_client: TestClient) -> None:
    """Rostock has no POI source: access today is unknown, not 0 %; what a scenario adds still shows."""
    kita = {"kind": "add_facility", "facility": "kita", "location": {"type": "Point", "coordinates": [12.10, 54.08]}}
    spec = {"name": "Eine Kita", "measures": [kita | {"capacity": 90}]}
    scenario_id = scenario_client.post("/api/twins/rostock/scenarios", json=spec).json()["scenario_id"]
    results = scenario_client.get(f"/api/twins/rostock/scenarios/{scenario_id}/results").json()
    assert "kita" in results["data_gaps"]["facility_types"]
    row = _kpi(results, "young_families", "kita")
    assert row["coverage_share_baseline"] is None
    assert row["coverage_share_verdict"] is None
    assert row["coverage_share_scenario"] > 0
    stop = _kpi(results, "*", "stop")
    assert stop["coverage_share_baseline"] is None
    assert stop["coverage_share_scenario"] is None
    assert results["assessment"]["losses"] == []
    page = scenario_client.get(f"/api/twins/rostock/scenarios/{scenario_id}/report.html").text
    assert "fehlen Einrichtungsdaten" in page


def _largest_houses(n: int, demo_paths: PathSettings) -> list[tuple[str, float]]:
    from twin3d.store.connection import connect  # noqa: PLC0415

    with connect(demo_paths.store_file("lauf"), read_only=True) as con:
        rows = con.execute(
            "SELECT b.building_id, b.footprint_m2 FROM buildings b WHERE b.building_id IN "
            "(SELECT DISTINCT building_id FROM households WHERE building_id IS NOT NULL) "
            "ORDER BY b.footprint_m2 DESC, b.building_id LIMIT ?",
            [n],
        ).fetchall()
    return [(str(b), float(a)) for b, a in rows]


def test_storeys_on_existing_buildings_add_homes_without_new_sealing(
    scenario_client: TestClient, demo_paths: PathSettings
) -> None:
    """Weisendorf's question: new homes without new sealing. Two storeys on the five largest lived-in buildings."""
    houses = _largest_houses(5, demo_paths)
    spec = {
        "name": "Aufstocken",
        "measures": [{"kind": "add_storeys", "building_ids": [b for b, _ in houses], "storeys": 2}],
    }
    scenario_id = scenario_client.post("/api/twins/lauf/scenarios", json=spec).json()["scenario_id"]
    results = scenario_client.get(f"/api/twins/lauf/scenarios/{scenario_id}/results").json()
    summary = results["summary"]
    assert summary["dwellings_added"] == round(sum(a for _, a in houses) * 2 * 0.8 / 80)
    assert summary["households_added"] == summary["dwellings_added"]
    assert summary["sealed_m2"] == 0
    assert summary["no_new_sealing"] is True
    assert summary["residents_per_sealed_ha"] is None
    assert summary["persons_added"] > 0
    # The newcomers share the schools and Kitas: a persona of the residents loses places, and it says why.
    losses = results["assessment"]["losses"]
    assert losses
    assert all("newcomers" in i["causes"] for i in losses)
    unknown = {"kind": "add_storeys", "building_ids": ["way/0"], "storeys": 1}
    bad = scenario_client.post("/api/twins/lauf/scenarios", json={"name": "x", "measures": [unknown]})
    assert bad.status_code == 422
    assert bad.json()["record"] == "measures.0.building_ids"


def test_rebuilding_on_sealed_land_seals_less_and_the_dwellings_follow_the_storeys(
    scenario_client: TestClient, demo_paths: PathSettings
) -> None:
    """A quarter without a dwelling count gets them from its floor area; over existing buildings (demolished for
    it) it seals only what is not sealed already."""
    from twin3d.store.connection import connect  # noqa: PLC0415

    with connect(demo_paths.store_file("lauf"), read_only=True) as con:
        ids = [
            r[0]
            for r in con.execute(
                "SELECT building_id FROM buildings WHERE ST_Intersects(geom_wgs84, ST_GeomFromText(?))",
                [shapely.Polygon(QUARTER).wkt],
            ).fetchall()
        ]
    area = {"type": "Polygon", "coordinates": [QUARTER]}
    fresh = {"kind": "new_housing", "area": area, "storeys": 3}
    plain = scenario_client.post("/api/twins/lauf/scenarios", json={"name": "a", "measures": [fresh]}).json()
    first = scenario_client.get(f"/api/twins/lauf/scenarios/{plain['scenario_id']}/results").json()["summary"]
    sealing = first["sealing"]
    assert first["dwellings_added"] == round(sealing["footprints_m2"] * 3 * 0.8 / 80)
    assert sealing["already_sealed_m2"] > 0, "the quarter covers Lauf's station area, built over already"
    assert (
        abs(sealing["new_m2"] - (sealing["footprints_m2"] + sealing["access_m2"] - sealing["already_sealed_m2"])) <= 1
    )
    if ids:
        demolish = {"kind": "remove_buildings", "building_ids": ids}
        spec = {"name": "b", "measures": [demolish, fresh]}
        rebuilt = scenario_client.post("/api/twins/lauf/scenarios", json=spec).json()
        summary = scenario_client.get(f"/api/twins/lauf/scenarios/{rebuilt['scenario_id']}/results").json()["summary"]
        assert summary["sealed_m2"] == sealing["new_m2"]  # the land under the old buildings is sealed either way


def test_any_two_scenarios_compare_with_each_other(scenario_client: TestClient) -> None:
    """The quarter with its Kita against the Kita alone: the walks are the same, and what is left is the effect of
    the newcomers (fewer places per child); the other scenario stands where the baseline stood."""
    kita_only = {"name": "Nur die Kita", "measures": [HOUSING["measures"][1]]}
    first = scenario_client.post("/api/twins/lauf/scenarios", json=kita_only).json()["scenario_id"]
    second = scenario_client.post("/api/twins/lauf/scenarios", json=HOUSING).json()["scenario_id"]
    api = f"/api/twins/lauf/scenarios/{second}/results"
    compared = scenario_client.get(api, params={"against": first}).json()
    assert compared["against"] == {"scenario_id": first, "name": "Nur die Kita"}
    kita = _kpi(compared, "young_families", "kita")
    assert kita["mean_distance_m_verdict"] == "unchanged"
    assert kita["supply_per_demand_verdict"] == "worse"
    assert all("facility_added" not in i["causes"] for i in compared["assessment"]["losses"])
    alone = scenario_client.get(api).json()
    assert alone["against"] is None
    assert _kpi(alone, "young_families", "kita")["mean_distance_m_verdict"] == "better"
    # A scenario the caller may not see cannot be compared with.
    assert scenario_client.get(api, params={"against": "f" * 64}).status_code == 404
    assert scenario_client.get(api, params={"against": "nope"}).status_code == 422
