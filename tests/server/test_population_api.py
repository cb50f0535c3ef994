"""The society twin's API: persona catalogue, published H3 cells (NDJSON and Arrow), summary, report, errors.

Only privacy-safe aggregates may leave the server; tests/privacy attacks them (and everything else built on the
population) through HTTP.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pyarrow as pa
import pytest
import shapely
from fastapi.testclient import TestClient

from tests.conftest import PIPELINES
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.population_step import privacy_rules
from twin3d.population.personas import load_personas
from twin3d.population.privacy import ALL
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings
from twin3d.store.connection import connect

API = "/api/twins/rostock"
FIELDS = ["h3", "cell_resolution", "persona", "persons", "households", "lon", "lat"]
RULES = privacy_rules(load_pipeline(PIPELINES / "rostock.toml").population)  # type: ignore[arg-type]


def cells(client: TestClient, twin: str = "rostock", **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/api/twins/{twin}/population/h3", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    return [json.loads(line) for line in response.text.splitlines()]


def test_persona_catalogue_in_its_order_with_every_field(client: TestClient) -> None:
    personas = client.get(f"{API}/personas").json()
    expected = load_personas(PIPELINES / "personas.toml")
    assert [p["id"] for p in personas] == list(expected.ids)
    for got, persona in zip(personas, expected.persona, strict=True):
        assert set(got) == {"id", "name", "name_en", "description", "description_en", "color", "needs", "rule"}
        assert (got["name"], got["name_en"], got["color"]) == (persona.name, persona.name_en, persona.color)
        assert got["description_en"] == persona.description_en
        assert [n["facility"] for n in got["needs"]] == [n.facility for n in persona.needs]
        assert isinstance(got["rule"], dict)


def test_ndjson_and_arrow_carry_the_same_rows(client: TestClient) -> None:
    params = {"resolution": 8, "persona": "young_families", "geometry": "true"}
    rows = cells(client, **params)
    response = client.get(f"{API}/population/h3", params={**params, "format": "arrow"})
    assert response.headers["content-type"] == "application/vnd.apache.arrow.stream"
    table = pa.ipc.open_stream(response.content).read_all()
    assert table.schema.names == [*FIELDS, "boundary"]
    assert table.schema.field("h3").type == pa.string()
    assert len(rows) > 20
    assert table.to_pylist() == rows
    plain = client.get(f"{API}/population/h3", params={"resolution": 8, "persona": "young_families", "format": "arrow"})
    assert pa.ipc.open_stream(plain.content).read_all().to_pylist() == [{k: r[k] for k in FIELDS} for r in rows]


def test_published_rows_are_plausible_and_every_resolution_adds_up_alike(client: TestClient) -> None:
    report = client.get(f"{API}/population/report").json()
    totals: dict[str, list[int]] = {}
    for resolution in (7, 8, 9, 10):  # the finest last: the sums of all resolutions are compared then
        for persona in (ALL, "very_old_alone"):
            rows = cells(client, resolution=resolution, persona=persona)
            assert rows, (resolution, persona)
            for row in rows:
                assert list(row) == FIELDS
                assert h3.is_valid_cell(row["h3"])
                assert len(row["h3"]) == 15
                assert h3.get_resolution(row["h3"]) == row["cell_resolution"] <= resolution
                assert h3.cell_to_latlng(row["h3"]) == pytest.approx((row["lat"], row["lon"]), abs=1e-9)
                assert row["persona"] == persona
                # Noise is at most the amplitude per atom, and every atom meets the thresholds before noise.
                least = (RULES.min_persons, RULES.min_households) if persona == ALL else (RULES.min_group,) * 2
                assert row["persons"] >= least[0] - RULES.noise_amplitude
                assert row["households"] >= least[1] - RULES.noise_amplitude
            persons, households = sum(r["persons"] for r in rows), sum(r["households"] for r in rows)
            assert 0.9 <= persons / households <= 4, "a plausible mean household size (singles: noise may tip it)"
            totals.setdefault(persona, []).append(persons)
            if resolution == 10:
                slack = 2 * RULES.noise_amplitude * len(rows)  # at least one atom per finest row
                assert max(totals[persona]) - min(totals[persona]) <= slack, persona
                if persona == ALL:
                    assert abs(persons - report["persons"]) <= slack


def test_cell_boundaries_come_with_the_cells(client: TestClient) -> None:
    for row in cells(client, resolution=9, geometry="true"):
        ring = row["boundary"]
        assert ring[0] == ring[-1]
        assert len(ring) in (7, 8)  # a closed hexagon (or, in theory, a pentagon with a distortion vertex)
        assert shapely.Polygon(ring).contains(shapely.Point(row["lon"], row["lat"]))


def test_bbox_selects_cells_by_their_centre(client: TestClient) -> None:
    everything = {r["h3"]: r for r in cells(client, resolution=10)}
    lon = np.median([r["lon"] for r in everything.values()])
    west = cells(client, resolution=10, bbox=f"11,53.5,{lon},54.5")
    east = cells(client, resolution=10, bbox=f"{lon},53.5,13,54.5")
    assert 0 < len(west) < len(everything)
    assert 0 < len(east) < len(everything)
    assert all(r["lon"] <= lon for r in west)
    assert all(r["lon"] >= lon for r in east)
    assert {r["h3"] for r in west} | {r["h3"] for r in east} == set(everything)
    assert cells(client, resolution=10, bbox="0,0,1,1") == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("resolution=6", "resolution"),
        ("resolution=11", "resolution"),
        ("resolution=nine", "resolution"),
        ("persona=nobody", "persona"),
        ("persona=%27%3B%20DROP%20TABLE%20households", "persona"),
        ("bbox=12,54,12.1", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=12.2,54,12.1,54.1", "bbox"),
        ("bbox=12,-95,13,54", "bbox"),
        ("scenario=future", "scenario"),
        ("scenario=ABC", "scenario"),
        ("format=csv", "format"),
        ("geometry=maybe", "geometry"),
    ],
)
def test_invalid_parameters_are_422_naming_the_field(client: TestClient, query: str, field: str) -> None:
    response = client.get(f"{API}/population/h3?{query}")
    assert response.status_code == 422
    assert [e["loc"][-1] for e in response.json()["detail"]] == [field]


def test_an_unknown_scenario_hash_is_a_404(client: TestClient) -> None:
    for path in ("population/h3", "population/summary"):
        response = client.get(f"{API}/{path}", params={"scenario": "ab" * 32})
        assert response.status_code == 404
        assert "scenario" in response.json()["error"]


@pytest.mark.parametrize(
    "path", ["personas", "population/h3", "population/summary", "population/report", "population/report.html"]
)
def test_a_twin_without_population_says_so(client: TestClient, path: str) -> None:
    response = client.get(f"/api/twins/nrw/{path}")
    assert response.status_code == 404
    body = response.json()
    assert body["error"] == "this twin has no population"
    assert "[population]" in body["hint"]


def test_the_twin_list_tells_the_viewer_which_twins_have_a_population(client: TestClient) -> None:
    counts = {t["name"]: t["counts"]["personas"] for t in client.get("/api/twins").json()}
    assert counts == {"lauf": 9, "rostock": 9, "nrw": 0, "monzel": 0}


def test_summary_sums_the_published_resolution_7_rows(client: TestClient) -> None:
    summary = client.get(f"{API}/population/summary").json()
    catalogue = client.get(f"{API}/personas").json()
    assert [p["id"] for p in summary["personas"]] == [p["id"] for p in catalogue]
    assert [p["color"] for p in summary["personas"]] == [p["color"] for p in catalogue]
    everyone = cells(client, resolution=7)
    assert summary["total"]["persons"] == sum(r["persons"] for r in everyone)
    assert summary["total"]["households"] == sum(r["households"] for r in everyone)
    seniors = next(p for p in summary["personas"] if p["id"] == "active_seniors")
    assert seniors["persons"] == sum(r["persons"] for r in cells(client, resolution=7, persona="active_seniors"))
    # Suppressed small groups are missing from the persona sums, never added.
    assert sum(p["households"] for p in summary["personas"]) <= summary["total"]["households"] + 2 * len(everyone)


def test_validation_report_as_json_and_as_a_page(client: TestClient) -> None:
    report = client.get(f"{API}/population/report").json()
    assert report["persons"] == 211_692  # the register total of the 21 Stadtbereiche, reproduced exactly
    assert {level["level"] for level in report["levels"]} >= {"district", "grid"}
    page = client.get(f"{API}/population/report.html")
    assert page.headers["content-type"].startswith("text/html")
    assert "Synthetische Bevölkerung: Hanse- und Universitätsstadt Rostock" in page.text
    assert "<script" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    # A statistician's page: an age pyramid per district as inline SVG, in German or English.
    assert page.text.count("<figure data-area=") == 21
    assert page.text.count("<svg") >= 21 + len(report["levels"])
    english = client.get(f"{API}/population/report.html", params={"lang": "en"}).text
    assert "Age pyramids per district" in english
    assert "Synthetic population: Hanse" in english
    assert client.get(f"{API}/population/report.html", params={"lang": "fr"}).status_code == 422


def test_the_pyramids_are_published_through_the_gate(client: TestClient) -> None:
    """Single years per district and sex are noised counts of the gate, and their bands stay near the register."""
    report = client.get(f"{API}/population/report").json()
    pyramids = {p["name"]: p for p in report["pyramids"]}
    assert len(pyramids) == 21
    mitte = pyramids["Stadtmitte"]
    assert len(mitte["male"]) == len(mitte["female"]) == 101  # 0 .. 99 and the open class 100+
    for band, synthetic in zip(mitte["register"], mitte["synthetic_bands"], strict=True):
        if synthetic is not None:  # noise of at most 2 per single year and sex
            assert abs(synthetic - band["persons"]) <= 4 * (band["hi"] - band["lo"] + 1)


@pytest.mark.parametrize(
    "path",
    [f"{API}/population/households", f"{API}/population/persons", f"{API}/households", f"{API}/persons"],
)
def test_no_route_to_the_microdata(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404


def test_the_api_schema_has_no_microdata_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert f"{API.replace('rostock', '{twin}')}/population/h3" in paths
    assert not [p for p in paths if re.search(r"(?<![a-z])(households|persons)(?![a-z])", p)]


def test_every_population_answer_is_the_same_without_the_microdata(
    client: TestClient, demo_paths: PathSettings, tmp_path: Path
) -> None:
    """A store copy with ``households`` and ``persons`` dropped answers every population request alike."""
    store = tmp_path / "var"
    store.mkdir()
    shutil.copy(demo_paths.store_file("rostock"), store / "rostock.duckdb")
    with connect(store / "rostock.duckdb") as con:
        assert con.execute("SELECT count(*) FROM households").fetchone() != (0,)
        con.execute("DROP TABLE persons")
        con.execute("DROP TABLE households")
    requests = [
        "personas",
        "population/h3",
        "population/h3?resolution=10&persona=couples&geometry=true&bbox=12.0,54.0,12.2,54.2",
        "population/h3?resolution=7&format=arrow",
        "population/summary",
        "population/report",
        "population/report.html",
    ]
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=store, tiles_dir=demo_paths.tiles_dir)
    with TestClient(create_app(ServerSettings(), paths)) as bare:
        for request in requests:
            answer = bare.get(f"{API}/{request}")
            assert answer.status_code == 200, (request, answer.text)
            assert answer.content == client.get(f"{API}/{request}").content, request
