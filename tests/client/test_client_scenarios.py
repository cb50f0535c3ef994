"""Scenarios from Python: measures built with the server's own models, run on the server, read as frames and
compared with each other."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
import shapely
from pydantic import ValidationError
from pyproj import Transformer

import twin3d.client as t3
from tests.client.conftest import ClientServer
from twin3d.client import measures

KITA_SOUTH = (11.2660, 49.5030)  # south-west Lauf, some 700 m from the nearest Kita: young families gain most here
KITA = "young_families", "kita"


@pytest.fixture(scope="module")
def lauf(client_server: ClientServer) -> Iterator[t3.Twin]:
    with t3.connect(client_server.url) as client:
        yield client.twin("lauf")


def _metres(twin: t3.Twin, lon: float, lat: float) -> tuple[float, float]:
    x, y = Transformer.from_crs(4326, twin.crs, always_xy=True).transform(lon, lat)
    return float(x), float(y)


def _quarter(twin: t3.Twin) -> shapely.Polygon:
    """A block of 120 m by 90 m, 150 m east of the new Kita, drawn in the twin's metres."""
    x, y = _metres(twin, *KITA_SOUTH)
    return shapely.box(x + 150, y - 45, x + 270, y + 45)


@pytest.fixture(scope="module")
def kita(lauf: t3.Twin) -> t3.Scenario:
    """A new Kita in south Lauf, drawn in the twin's CRS."""
    point = shapely.Point(*_metres(lauf, *KITA_SOUTH))
    measure = measures.add_facility("kita", point, capacity=75, name="Kita Süd", crs=lauf.crs)
    return lauf.create_scenario("Kita Süd", [measure])


@pytest.fixture(scope="module")
def kita_and_quarter(lauf: t3.Twin) -> t3.Scenario:
    """The same Kita, and a new quarter of 120 dwellings beside it."""
    measure = measures.add_facility("kita", KITA_SOUTH, capacity=75, name="Kita Süd")
    quarter = measures.new_housing(_quarter(lauf), 4, crs=lauf.crs, dwellings=120)
    return lauf.create_scenario("Kita Süd mit Quartier", [measure, quarter])


def test_measures_take_geometries_in_the_twins_crs_or_lon_lat(lauf: t3.Twin) -> None:
    in_metres = measures.add_facility("kita", shapely.Point(*_metres(lauf, *KITA_SOUTH)), crs=lauf.crs)
    in_degrees = measures.add_facility("kita", KITA_SOUTH)
    assert in_metres.location.coordinates == pytest.approx(in_degrees.location.coordinates, abs=1e-9)
    quarter = measures.new_housing(_quarter(lauf), 4, crs=lauf.crs, dwellings=120)
    ring = quarter.area.coordinates[0]
    assert ring[0] == ring[-1]
    lons = [p[0] for p in ring]
    lats = [p[1] for p in ring]
    assert KITA_SOUTH[0] < min(lons) < max(lons) < KITA_SOUTH[0] + 0.01  # lon/lat east of the Kita, not metres
    assert min(lats) < KITA_SOUTH[1] < max(lats)
    # The area survives the round trip: 120 m x 90 m.
    back = measures.lonlat(measures.lonlat(_quarter(lauf), lauf.crs))
    assert shapely.geometry.shape(back).equals_exact(shapely.geometry.shape(quarter.area.model_dump()), 1e-12)
    spec = measures.scenario("Kita Süd", [in_degrees], description="für junge Familien")
    assert spec.measures[0].kind == "add_facility"


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: measures.add_facility("kita", KITA_SOUTH, capacity=-5), "capacity"),
        (lambda: measures.add_facility("casino", KITA_SOUTH), "facility"),  # type: ignore[arg-type]
        (lambda: measures.new_housing(shapely.box(11.26, 49.50, 11.27, 49.51), 0), "storeys"),
        (lambda: measures.add_storeys(["b1"], 2, occupancy=-1.0), "occupancy"),
        (lambda: measures.projection(-3), "years"),
    ],
)
def test_bad_values_fail_in_python_before_any_request(
    lauf: t3.Twin, monkeypatch: pytest.MonkeyPatch, build: object, field: str
) -> None:
    def no_request(*args: object, **kwargs: object) -> None:
        raise AssertionError("a request was sent")

    monkeypatch.setattr(lauf.session, "post_json", no_request)
    monkeypatch.setattr(lauf.session, "get", no_request)
    with pytest.raises(ValidationError) as invalid:
        lauf.create_scenario("Falsch", [build()])  # type: ignore[operator]
    assert field in {str(part) for error in invalid.value.errors() for part in error["loc"]}
    with pytest.raises(t3.TwinClientError, match="at least one measure"):
        lauf.create_scenario("Leer", [])


def test_a_kita_in_south_lauf_raises_the_young_families_kita_coverage(lauf: t3.Twin, kita: t3.Scenario) -> None:
    results = kita.run()
    coverage = results.kpi(*KITA)
    assert coverage["delta"] > 0
    assert coverage["scenario"] == pytest.approx(coverage["baseline"] + coverage["delta"])
    assert coverage["verdict"] == "better"
    assert results.kpi(*KITA, indicator="mean_distance_m")["delta"] < 0
    assert results.summary["persons_added"] == 0
    verdicts = kita.verdicts()
    assert list(verdicts.columns) == ["verdict", "better", "worse"]
    assert set(verdicts.index) <= set(lauf.personas().index)
    assert verdicts.loc["young_families", "verdict"] == "better"
    assert "kita:coverage_share" in verdicts.loc["young_families", "better"]
    assert not any(verdicts["worse"].map(len))  # a new Kita takes nothing from anyone


def test_cells_show_where_the_walks_to_a_kita_shorten(lauf: t3.Twin, kita: t3.Scenario) -> None:
    cells = kita.run().cells
    assert cells.crs == lauf.crs
    assert {"h3", "persons_baseline", "persons_scenario", "persons_delta", "kita_mean_m_delta"} <= set(cells.columns)
    assert (cells["persons_delta"] == 0).all()  # a Kita moves nobody
    assert (cells["kita_mean_m_delta"].dropna() <= 0).all()
    shorter = cells[cells["kita_mean_m_delta"] < 0]
    assert len(shorter) > 0
    site = shapely.Point(*_metres(lauf, *KITA_SOUTH))
    assert (cells[cells.contains(site)]["kita_mean_m_delta"] < 0).any()  # the Kita's own neighbourhood gains
    assert shorter.distance(site).median() < cells.distance(site).median()  # and the gains lie towards it
    in_degrees = kita.run(crs="EPSG:4326").cells
    assert in_degrees.crs.to_epsg() == 4326
    assert in_degrees["h3"].tolist() == cells["h3"].tolist()


def test_a_new_quarter_brings_newcomers_into_its_cells(lauf: t3.Twin, kita_and_quarter: t3.Scenario) -> None:
    results = kita_and_quarter.run()
    assert results.summary["dwellings_added"] == results.summary["households_added"] == 120
    assert results.summary["persons_added"] >= 120
    cells = results.cells
    grown = cells[cells["persons_delta"] > 0]  # published cells only: the privacy gate may hold some back
    assert len(grown) > 0
    assert grown.intersects(_quarter(lauf)).all()


def test_two_scenarios_compare_with_each_other(lauf: t3.Twin, kita: t3.Scenario, kita_and_quarter: t3.Scenario) -> None:
    """The quarter with its Kita against the Kita alone: the Kita's walks are the same in both, so what is left is
    the newcomers' share of its places; the Kita alone stands where the baseline stood."""
    alone, both = kita.run(), kita_and_quarter.run()
    compared = kita_and_quarter.compare(kita)
    assert compared.raw["against"]["scenario_id"] == kita.id
    walk = compared.kpi(*KITA, indicator="mean_distance_m")
    assert walk["verdict"] == "unchanged"
    assert both.kpi(*KITA, indicator="mean_distance_m")["verdict"] == "better"  # against the baseline
    places = compared.kpi(*KITA, indicator="supply_per_demand")
    assert places["verdict"] == "worse"
    assert both.kpi(*KITA, indicator="supply_per_demand")["scenario"] == pytest.approx(places["scenario"])
    assert alone.kpi(*KITA, indicator="supply_per_demand")["scenario"] == pytest.approx(places["baseline"])
    # Per cell: the other scenario is the baseline; only the quarter's newcomers differ.
    cells = compared.cells
    away = cells[~cells.intersects(_quarter(lauf))]
    assert (away["kita_mean_m_delta"].dropna().abs() < 1).all()  # the same Kita in both: the same walks
    assert cells["persons_delta"].sum() == both.cells["persons_delta"].sum()
    reverse = kita.compare(kita_and_quarter)
    assert reverse.kpi(*KITA, indicator="supply_per_demand")["verdict"] == "better"


def test_the_same_spec_twice_is_the_same_scenario(
    lauf: t3.Twin, kita: t3.Scenario, client_server: ClientServer
) -> None:
    point = shapely.Point(*_metres(lauf, *KITA_SOUTH))
    again = lauf.create_scenario(
        "Kita Süd", [measures.add_facility("kita", point, capacity=75, name="Kita Süd", crs=lauf.crs)]
    )
    assert again.id == kita.id
    spec = lauf.scenario(kita.id).stored["spec"]
    answer = httpx2.post(f"{client_server.url}/api/twins/lauf/scenarios", json=spec)
    assert answer.status_code == 200  # found, not stored a second time (that is 201)
    assert answer.json()["scenario_id"] == kita.id
    assert answer.json()["version"] == lauf.scenario(kita.id).stored["version"]
