"""The Python client against a real server: frames of the twin's data through the caller's role, the population as
the public API publishes it, and the server's refusals as exceptions with its message, field and hint."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import geopandas as gpd
import httpx2
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

import twin3d.client as t3
import twin3d.client.twin as client_twin
from tests.client.conftest import ClientServer
from tests.conftest import PIPELINES, free_port, serving
from twin3d.client import measures
from twin3d.server.app import create_app
from twin3d.settings import ServerSettings
from twin3d.simulation.facility_types import FACILITY_TYPES, load_facility_types

LAUF_BUILDINGS = 6492
CENTRE = (11.2745, 49.5080, 11.2805, 49.5116)  # Lauf's old town, lon/lat
KITA = (11.2775, 49.5098)


@pytest.fixture(scope="module")
def public(client_server: ClientServer) -> Iterator[t3.Twin]:
    with t3.connect(client_server.url) as client:
        yield client.twin("lauf")


@pytest.fixture(scope="module")
def council(client_server: ClientServer) -> Iterator[t3.Twin]:
    with t3.connect(client_server.url, client_server.council) as client:
        yield client.twin("lauf")


def _matched(url: str, collection: str, **params: Any) -> int:
    """numberMatched of a plain GeoJSON items request: the count an OGC client sees."""
    answer = httpx2.get(f"{url}/api/twins/lauf/features/collections/{collection}/items", params={**params, "limit": 1})
    answer.raise_for_status()
    return int(answer.json()["numberMatched"])


def _counting(monkeypatch: pytest.MonkeyPatch, twin: t3.Twin) -> list[str]:
    """Record the paths the twin's session asks for from now on."""
    asked: list[str] = []
    original = twin.session.get

    def get(path: str, params: Any = None) -> httpx2.Response:
        asked.append(path)
        return original(path, params)

    monkeypatch.setattr(twin.session, "get", get)
    return asked


# ----------------------------------------------------------------------------------------------------------------
# Feature collections


def test_all_lauf_buildings_arrive_as_one_frame_in_the_twins_crs(public: t3.Twin, client_server: ClientServer) -> None:
    buildings = public.buildings()
    assert isinstance(buildings, gpd.GeoDataFrame)
    assert buildings.crs.to_epsg() == 25832
    assert len(buildings) == LAUF_BUILDINGS == _matched(client_server.url, "buildings")
    assert buildings.index.name == "building_id"
    assert buildings.index.is_unique
    assert {"building_type", "height", "levels", "footprint_m2"} <= set(buildings.columns)
    # Metres: the footprints the server computed match the areas of the geometries in the projected CRS.
    assert (buildings.area - buildings["footprint_m2"]).abs().median() < 1.0
    west, south, east, north = buildings.total_bounds
    assert 600_000 < west < east < 700_000
    assert 5_480_000 < south < north < 5_500_000


def test_wgs84_on_request(public: t3.Twin) -> None:
    projected = public.buildings(bbox=CENTRE)
    lonlat = public.buildings(bbox=CENTRE, crs="EPSG:4326")
    assert lonlat.crs.to_epsg() == 4326
    assert lonlat.index.equals(projected.index)
    back = projected.to_crs("EPSG:4326")
    assert shapely.equals_exact(back.geometry.values, lonlat.geometry.values, tolerance=1e-8).all()
    west, south, east, north = lonlat.total_bounds
    assert 11.26 < west < east < 11.30
    assert 49.50 < south < north < 49.52


def test_bbox_and_attribute_filters_match_the_ogc_counts(public: t3.Twin, client_server: ClientServer) -> None:
    box = ",".join(map(str, CENTRE))
    inside = public.buildings(bbox=CENTRE, crs="EPSG:4326")
    assert 0 < len(inside) == _matched(client_server.url, "buildings", bbox=box) < LAUF_BUILDINGS
    assert inside.intersects(shapely.box(*CENTRE)).all()
    garages = public.buildings(building_type="garage")
    assert 0 < len(garages) == _matched(client_server.url, "buildings", building_type="garage")
    assert set(garages["building_type"]) == {"garage"}
    both = public.buildings(bbox=CENTRE, building_type="yes")
    assert set(both.index) <= set(inside.index)
    assert len(both) == _matched(client_server.url, "buildings", bbox=box, building_type="yes")
    nowhere = public.buildings(bbox=(1.0, 2.0, 1.1, 2.1))  # far from Lauf: an empty frame, not an error
    assert len(nowhere) == 0


def test_paging_under_the_hood_gives_the_frame_of_one_page(public: t3.Twin, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = public.buildings()
    monkeypatch.setattr(client_twin, "PAGE_SIZE", 1000)
    asked = _counting(monkeypatch, public)
    paged = public.buildings()
    assert len(asked) == 7  # 6,492 buildings in pages of 1,000, following the server's next links
    assert_geodataframe_equal(paged, whole)


def test_limit_takes_the_first_features_across_pages(public: t3.Twin, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = public.buildings()
    first = public.features("buildings", limit=250)
    assert_geodataframe_equal(first, whole.iloc[:250])
    monkeypatch.setattr(client_twin, "PAGE_SIZE", 100)
    asked = _counting(monkeypatch, public)
    assert_geodataframe_equal(public.features("buildings", limit=250), first)
    assert len(asked) == 3  # stops when it has enough, not at the last page


def test_facilities_carry_the_type_scenarios_speak_of(public: t3.Twin, client_server: ClientServer) -> None:
    """A planner asks for Kitas, not for the OSM tags that make one: each facility has the scenario type the
    twin's facility-type table gives it (the simulation's own mapping), or none."""
    facilities = public.facilities()
    assert set(facilities["facility_type"].dropna()) <= set(FACILITY_TYPES)
    kitas = public.facilities(facility_type="kita")
    assert set(kitas["category"]) == {"amenity=kindergarten"}  # Lauf's OSM data tags all its Kitas alike
    assert kitas.index.equals(public.facilities(category="amenity=kindergarten").index)
    stops = public.facilities(facility_type="stop")
    assert len(stops) > 100
    rules = load_facility_types(PIPELINES / "facility_types.toml").rules_by_category()
    assert set(stops["category"]) <= {c for c, found in rules.items() if any(r.type == "stop" for r in found)}
    untyped = facilities[facilities["facility_type"].isna()]
    assert len(untyped) > 0  # shops, benches ...: no type, and still listed


def test_facilities_paths_grid_collections_and_personas(public: t3.Twin) -> None:
    counts = public.counts
    facilities = public.facilities()
    assert len(facilities) == counts["facilities"] > 0
    assert facilities.crs == public.crs
    kitas = public.facilities(category="amenity=kindergarten")
    assert 0 < len(kitas) < len(facilities)
    assert set(kitas["category"]) == {"amenity=kindergarten"}
    paths = public.paths()
    assert len(paths) == counts["paths"] > 0
    assert set(paths.geom_type) <= {"LineString", "MultiLineString"}
    grid = public.grid()
    assert len(grid) == counts["grid_cells"] > 0
    assert grid["population"].sum() > 10_000  # Lauf has some 27,000 residents in its census cells
    assert set(grid.geom_type) == {"Polygon"}
    collections = set(public.collections()["id"])
    assert {"buildings", "facilities", "paths", "grid_cells", "layer_orte"} <= collections
    personas = public.personas()
    assert len(personas) == counts["personas"]
    assert {"young_families", "very_old_alone"} <= set(personas.index)
    assert personas.loc["young_families", "name"] == "Junge Familien"


def test_rostock_districts_with_statistics_by_year_and_their_series(client_server: ClientServer) -> None:
    with t3.connect(client_server.url) as client:
        rostock = client.twin("rostock")
        assert rostock.district_levels() == ["stadtbereich", "bezirk"]
        latest = rostock.districts()
        assert rostock.crs.to_epsg() == 25833
        assert latest.crs == rostock.crs
        assert len(latest) == 21
        assert set(latest["year"]) == {2023}
        older = rostock.districts(year=2010).set_index("district_id")
        assert set(older["year"]) == {2010}
        series = rostock.district_series("population")
        assert series.shape == (21, 19)
        assert series.columns[0] == 2005
        assert series.columns[-1] == 2023
        by_id = latest.set_index("district_id")
        assert series[2023].sort_index().tolist() == by_id["population"].sort_index().tolist()
        assert series[2010].sort_index().tolist() == older["population"].sort_index().tolist()
        assert series[2023].sum() > 200_000  # Rostock's main residents
        with pytest.raises(t3.NotFound, match="no statistic of that name"):
            rostock.district_series("no_such_statistic")
        lauf = client.twin("lauf")
        assert lauf.district_levels() == []
        for call in (lauf.districts, lambda: lauf.district_series("population")):
            with pytest.raises(t3.TwinClientError, match="has no districts"):
                call()


# ----------------------------------------------------------------------------------------------------------------
# Roles: what a council token sees and the public does not


def test_a_council_token_sees_the_council_layer_and_the_public_does_not(public: t3.Twin, council: t3.Twin) -> None:
    assert "intern" in set(council.layers()["id"])
    assert council.layers().set_index("id").loc["intern", "visibility"] == "council"
    assert "intern" not in set(public.layers()["id"])
    assert "orte" in set(public.layers()["id"])
    intern = council.layer("intern")
    assert len(intern) > 1000
    assert intern.crs == council.crs
    with pytest.raises(t3.NotFound) as refused:
        public.layer("intern")
    assert "intern" in refused.value.message
    assert not public.has("layer_intern")
    assert council.has("layer_intern")
    assert len(public.layer("orte")) > 0


def test_a_council_scenario_is_the_councils_alone(public: t3.Twin, council: t3.Twin) -> None:
    kita = measures.add_facility("kita", KITA, capacity=60, name="Entwurf Kita")
    draft = council.create_scenario("Entwurf des Rats", [kita], visibility="council")
    assert draft.id in council.scenarios().index
    results = draft.run()
    assert not results.kpis.empty
    assert draft.id not in public.scenarios().index
    with pytest.raises(t3.NotFound):
        public.scenario(draft.id).run()
    with pytest.raises(t3.NotFound):
        public.scenario(draft.id).stored  # noqa: B018
    with pytest.raises(t3.Forbidden) as refused:  # nor may the public store one for the council
        public.create_scenario("Entwurf", [kita], visibility="council")
    assert refused.value.hint


# ----------------------------------------------------------------------------------------------------------------
# The population: the public API's figures, nothing else


def _ndjson(url: str, token: str | None = None, **params: Any) -> pd.DataFrame:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx2.get(f"{url}/api/twins/lauf/population/h3", params=params, headers=headers)
    answer.raise_for_status()
    return pd.DataFrame([json.loads(line) for line in answer.text.splitlines()])


@pytest.mark.parametrize("resolution", [7, 8, 9, 10])
@pytest.mark.parametrize("persona", ["*", "young_families", "very_old_alone"])
def test_population_per_cell_equals_the_public_api(
    public: t3.Twin, client_server: ClientServer, resolution: int, persona: str
) -> None:
    cells = public.population(resolution=resolution, persona=persona)
    plain = _ndjson(client_server.url, resolution=resolution, persona=persona)
    assert len(cells) == len(plain) > 0
    assert cells.crs == public.crs
    got = cells[["h3", "cell_resolution", "persons", "households"]].sort_values("h3").reset_index(drop=True)
    expected = plain[["h3", "cell_resolution", "persons", "households"]].sort_values("h3").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # Each cell's outline holds the centre the server published.
    centres = gpd.GeoSeries.from_xy(plain["lon"], plain["lat"], crs="EPSG:4326").to_crs(public.crs)
    outlines = cells.set_index("h3").geometry.loc[plain["h3"]].reset_index(drop=True)
    assert outlines.contains(centres, align=False).all()


def test_the_council_gets_the_same_published_figures(council: t3.Twin, client_server: ClientServer) -> None:
    cells = council.population(resolution=10, persona="young_families")
    plain = _ndjson(client_server.url, resolution=10, persona="young_families")
    assert sorted(zip(cells["h3"], cells["persons"], strict=True)) == sorted(
        zip(plain["h3"], plain["persons"], strict=True)
    )


def test_population_summary_equals_the_public_api(public: t3.Twin, client_server: ClientServer) -> None:
    summary = public.population_summary()
    plain = httpx2.get(f"{client_server.url}/api/twins/lauf/population/summary").json()
    assert summary.attrs["total"] == plain["total"]
    assert summary["persons"].to_dict() == {p["id"]: p["persons"] for p in plain["personas"]}
    assert summary["households"].to_dict() == {p["id"]: p["households"] for p in plain["personas"]}
    assert 0 < summary["persons"].sum() <= plain["total"]["persons"]


@pytest.fixture(scope="module")
def coarse_for_public(client_server: ClientServer) -> Iterator[str]:
    """The same twins from a server that keeps resolution 10 for the council (the default serves it to all)."""
    port = free_port()
    app = create_app(ServerSettings(port=port, public_max_h3_resolution=9), client_server.paths)
    with serving(app, port) as url:
        yield url


def test_the_public_is_refused_a_resolution_kept_for_the_council(
    coarse_for_public: str, client_server: ClientServer
) -> None:
    with t3.connect(coarse_for_public) as client:
        lauf = client.twin("lauf")
        assert len(lauf.population(resolution=9)) > 0
        with pytest.raises(t3.Forbidden) as refused:
            lauf.population(resolution=10)
    assert refused.value.field == "resolution"
    assert "council" in refused.value.message
    assert refused.value.hint == "ask for resolution 9 or coarser"
    with t3.connect(coarse_for_public, client_server.council) as client:
        assert len(client.twin("lauf").population(resolution=10)) > 0


# ----------------------------------------------------------------------------------------------------------------
# Errors: the server's own words, as exceptions


def _refusal(call: Callable[[], object]) -> t3.ServerError:
    with pytest.raises(t3.ServerError) as caught:
        call()
    return caught.value


def test_errors_arrive_with_the_servers_message_field_and_hint(public: t3.Twin, client_server: ClientServer) -> None:
    with t3.connect(client_server.url) as client:
        unknown = _refusal(lambda: client.twin("atlantis"))
    assert isinstance(unknown, t3.NotFound)
    assert "atlantis" in unknown.message
    assert unknown.hint is not None
    assert "lauf" in unknown.hint  # the twins it does serve

    wrong_token = _refusal(lambda: t3.connect(client_server.url, "not-a-token"))
    assert isinstance(wrong_token, t3.Unauthorized)
    assert wrong_token.hint

    invalid = _refusal(lambda: public.population(resolution=12))
    assert isinstance(invalid, t3.InvalidRequest)
    assert invalid.field == "resolution"
    unknown_property = _refusal(lambda: public.buildings(colour="red"))
    assert isinstance(unknown_property, t3.InvalidRequest)
    assert unknown_property.field == "colour"
    assert "building_type" in (unknown_property.hint or "")

    far = measures.add_facility("kita", (13.40, 52.52), name="Kita in Berlin")
    outside = _refusal(lambda: public.create_scenario("Zu weit", [far]))
    assert isinstance(outside, t3.InvalidRequest)
    assert outside.field == "measures.0.location"
    assert "outside the twin" in outside.message
    assert outside.hint is not None
    assert outside.hint.startswith("draw it within lon 11.2")

    for error in (unknown, wrong_token, invalid, unknown_property, outside):
        text = str(error)
        assert error.message in text
        for secret in (str(client_server.paths.store_dir), ".duckdb", "/tmp/", "Traceback"):
            assert secret not in text, (secret, text)


def test_without_the_notebook_extra_the_import_says_what_to_install() -> None:
    blocked = "import sys; sys.modules['pydeck'] = None; import twin3d.client"  # as if pydeck were not installed
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "twin3d.client needs pydeck: pip install 'twin3d[notebook]'" in result.stderr
