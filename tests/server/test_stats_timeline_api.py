"""What the viewer's time slider and its layer styling ask the server: the years of each district level's statistics
(listed with the twin), one statistic over all years in one request, and a vector layer's fields summarised."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import GEODATA
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.load import load_layer
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

POPULATION_CSV = GEODATA / "rostock" / "stadtbereiche" / "population_csv"
POIS = GEODATA / "lauf" / "osm" / "lauf_pois.geojson"
BEZIRKE = GEODATA / "rostock" / "statistische-bezirke" / "statistische_bezirke.geojson"


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, Any]) -> PathSettings:
    """A private store folder (the built twins linked in) with a public POI layer, a numeric layer (Rostock's
    statistical districts with their code as a number) and a council layer in Lauf."""
    root = tmp_path_factory.mktemp("timeline")
    out = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    out.store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        out.store_file(twin).symlink_to(demo_paths.store_file(twin).resolve())
    lauf = twin_info(out, "lauf")
    load_layer(out, "lauf", POIS, LoadOptions(title="Orte", layer_id="orte"), info=lauf)
    load_layer(out, "lauf", POIS, LoadOptions(title="Intern", layer_id="intern", visibility="council"), info=lauf)
    bezirke = json.loads(BEZIRKE.read_text(encoding="utf-8"))
    for feature in bezirke["features"]:
        feature["properties"]["code_number"] = int(feature["properties"]["code"])
    numbered = root / "bezirke.geojson"
    numbered.write_text(json.dumps(bezirke), encoding="utf-8")
    rostock = twin_info(out, "rostock")
    load_layer(out, "rostock", numbered, LoadOptions(title="Bezirke", layer_id="bezirke"), info=rostock)
    return out


@pytest.fixture(scope="module")
def api(paths: PathSettings) -> Iterator[TestClient]:
    with TestClient(create_app(ServerSettings(), paths)) as c:
        yield c


def _csv_density(year: int) -> dict[str, float]:
    with (POPULATION_CSV / f"insgesamt_{year}.csv").open(encoding="utf-8") as fh:
        return {row["stadtbereich_code"]: float(row["bevoelkerungsdichte"]) for row in csv.DictReader(fh)}


def test_the_districts_layers_list_the_years_of_their_statistics(api: TestClient) -> None:
    rostock = api.get("/api/twins/rostock").json()
    layers = {layer["id"]: layer for layer in rostock["layers"]}
    stadtbereich = layers["districts:stadtbereich"]
    assert stadtbereich["years"] == list(range(2005, 2024))
    assert stadtbereich["variable_years"]["population"] == list(range(2005, 2024))
    assert stadtbereich["variable_years"]["mean_age"] == [2023]  # one year only: no slider for it
    assert stadtbereich["series_url"] == "/api/twins/rostock/districts/stadtbereich/series"
    assert layers["districts:bezirk"]["years"] == []  # the statistical districts carry no statistics
    listed = {t["name"]: t for t in api.get("/api/twins").json()}
    assert listed["rostock"]["layers"] == rostock["layers"]  # the catalogue says the same


def test_one_request_brings_a_statistic_over_all_years(api: TestClient) -> None:
    answer = api.get("/api/twins/rostock/districts/stadtbereich/series", params={"variable": "density"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["level"], body["variable"], body["source"], body["unit"]) == (
        "stadtbereich", "density", "einwohner", "persons/km²",
    )  # fmt: skip
    assert body["years"] == list(range(2005, 2024))
    assert len(body["values"]) == 21
    for year in (2005, 2014, 2023):
        expected = _csv_density(year)
        got = {key.split(":", 1)[1]: series[body["years"].index(year)] for key, series in body["values"].items()}
        assert got == pytest.approx(expected)
    # The latest year is what the districts' GeoJSON says without a year.
    latest = api.get("/api/twins/rostock/districts/stadtbereich.geojson").json()
    for feature in latest["features"]:
        p = feature["properties"]
        assert body["values"][p["district_id"]][-1] == pytest.approx(p["density"])


@pytest.mark.parametrize(
    ("url", "params", "status", "words"),
    [
        ("/api/twins/rostock/districts/stadtbereich/series", {}, 422, "variable"),
        ("/api/twins/rostock/districts/stadtbereich/series", {"variable": "pop'; DROP"}, 422, "variable"),
        ("/api/twins/rostock/districts/stadtbereich/series", {"variable": "no_such"}, 404, "no_such"),
        ("/api/twins/rostock/districts/bezirk/series", {"variable": "population"}, 404, "population"),
        ("/api/twins/rostock/districts/kreis/series", {"variable": "population"}, 404, "kreis"),
    ],
)
def test_a_bad_series_request_names_what_is_wrong(
    api: TestClient, url: str, params: dict[str, str], status: int, words: str
) -> None:
    answer = api.get(url, params=params)
    assert answer.status_code == status
    assert words in answer.text


def test_a_layer_summary_gives_categories_and_quantile_classes(api: TestClient) -> None:
    orte = api.get("/api/twins/lauf/layers/orte/summary")
    assert orte.status_code == 200, orte.text
    fields = orte.json()["fields"]
    kinds = fields["poi_kind"]
    pois = json.loads(POIS.read_text(encoding="utf-8"))["features"]
    distinct = {f["properties"]["poi_kind"] for f in pois}
    assert kinds["kind"] == "categorical"
    assert kinds["distinct"] == len(distinct)
    assert len(kinds["categories"]) == min(12, len(distinct)) - (1 if len(distinct) > 12 else 0)
    assert sum(c["count"] for c in kinds["categories"]) + kinds["other_count"] == kinds["count"] == len(pois)
    counts = [c["count"] for c in kinds["categories"]]
    assert counts == sorted(counts, reverse=True)

    numbers = api.get("/api/twins/rostock/layers/bezirke/summary").json()["fields"]["code_number"]
    codes = sorted(int(f["properties"]["code"]) for f in json.loads(BEZIRKE.read_text(encoding="utf-8"))["features"])
    assert numbers["kind"] == "numeric"
    assert (numbers["min"], numbers["max"], numbers["count"]) == (codes[0], codes[-1], len(codes))
    assert len(numbers["breaks"]) == 4
    assert numbers["breaks"] == sorted(numbers["breaks"])
    assert sum(numbers["class_counts"]) == len(codes)
    assert numbers["class_counts"][0] == sum(1 for c in codes if c < numbers["breaks"][0])
    assert "categories" not in numbers  # keys that do not apply are left out


def test_a_hidden_or_unknown_layer_has_no_summary(api: TestClient) -> None:
    assert api.get("/api/twins/lauf/layers/intern/summary").status_code == 404
    assert api.get("/api/twins/lauf/layers/nirgends/summary").status_code == 404
    assert api.get("/api/twins/lauf/layers/Bad..Id/summary").status_code == 422
