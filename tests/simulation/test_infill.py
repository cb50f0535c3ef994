"""Nachverdichtung: unused floor area per parcel under a Bebauungsplan's GFZ (or a default), realised as storeys on
existing buildings only; checked against a hand calculation on a small twin drawn into the Rotherbaum 27 plan."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import numpy as np
import pytest
import shapely
from pyproj import CRS

from tests.conftest import REPO
from tests.pipeline.cadastre_twin import box, build_cadastre_twin
from twin3d.io.crs import reproject
from twin3d.layers.context import LoadOptions
from twin3d.layers.load import load_layer
from twin3d.settings import PathSettings
from twin3d.simulation.housing import NET_SHARE
from twin3d.simulation.infill import MAX_LISTED, LayerSource, Parcels, PlanAreas, infill_potential
from twin3d.simulation.scenario import Infill
from twin3d.store.connection import connect

ROTHERBAUM = REPO / "tests" / "data" / "xplan" / "Rotherbaum27.gml"
UTM32, WGS84 = CRS.from_epsg(25832), CRS.from_epsg(4326)
# Parcels of 20 m x 20 m (400 m²), placed in areas of Rotherbaum 27 (EPSG:25832, lower-left corners):
# A in the school's Gemeinbedarf area (GFZ 1.2 set by the plan) and 95 % in a building window with Z 3;
# B in the WR (GRZ 1.0, Z 4: GFZ 4.0 estimated as GRZ x Z); C in the WA (GRZ 1.0 only: no GFZ, the default);
# D in an MK without GFZ or Z, and empty; E outside the plan, on farmland.
PARCELS = {"A": (565694, 5936259), "B": (565546, 5936292), "C": (565542, 5936266), "D": (565499, 5936267),
           "E": (565600, 5936150)}  # fmt: skip
# A 10 m x 10 m building 5 m inside each parcel but D: A's with 2 storeys, the others with 1.
STOREYS = {"A": 2, "B": 1, "C": 1, "E": 1}


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> PathSettings:
    """The small twin, built once, with Rotherbaum 27 loaded as plan layer ``rotherbaum`` (public), again as
    ``rotherbaum-council`` (council only), and the parcels file as an ordinary layer ``flurstuecke``."""
    root = tmp_path_factory.mktemp("infill")
    paths = build_cadastre_twin(
        root,
        parcels=[(box(x, y), {"gml_id": k, "gemarkungsnummer": "0001", "flurnummer": "1", "zaehler": str(i + 1)})
                 for i, (k, (x, y)) in enumerate(PARCELS.items())],
        buildings=[(box(PARCELS[k][0] + 5, PARCELS[k][1] + 5, 10, 10), {"gml_id": f"house-{k}", "geschosse": n})
                   for k, n in STOREYS.items()],
        land_use=[
            (box(565490, 5936250, 230, 70), {"gml_id": "L1", "objektart": "AX_Wohnbauflaeche"}),
            (box(565590, 5936140, 40, 40), {"gml_id": "L2", "objektart": "AX_Landwirtschaft"}),
        ],
        gemarkung_name="Rotherbaum",
    )  # fmt: skip
    load_layer(paths, "hand", ROTHERBAUM, LoadOptions(layer_id="rotherbaum"))
    load_layer(paths, "hand", ROTHERBAUM, LoadOptions(layer_id="rotherbaum-council", visibility="council"))
    load_layer(paths, "hand", root / "data" / "parcels.geojson", LoadOptions(layer_id="flurstuecke"))
    return paths


@pytest.fixture
def con(hand: PathSettings) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(hand.store_file("hand"), read_only=True)
    yield c
    c.close()


def _plan(con: duckdb.DuckDBPyConnection, layer: str = "rotherbaum", visibility: str = "public") -> PlanAreas:
    source = LayerSource.of_store(con)
    assert source is not None
    plan, why = source.plan(layer, visibility)
    assert why is None
    assert plan is not None
    return plan


def _measure(**fields: Any) -> Infill:
    return Infill.model_validate({"kind": "infill", "take_up": 0.5, "dwelling_m2": 62.0, **fields})


def _by_id(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["parcel_id"]: row for row in summary["parcels"]}


def test_the_plan_sets_gfz_and_storeys_and_the_rest_takes_the_default(con: duckdb.DuckDBPyConnection) -> None:
    parcels = Parcels.from_store(con)
    assert sorted(parcels.ids) == ["A", "B", "C", "D", "E"]
    out = infill_potential(parcels, _measure(plan_layer="rotherbaum"), area=None, plan=_plan(con))
    s = out.summary
    rows = _by_id(s)
    # A: 400 m² x GFZ 1.2 = 480 allowed, 200 built (100 m² x 2 storeys): 280 unused; but Z 3 on its 100 m²
    # footprint allows 300, so only 100 can go on top.
    assert (rows["A"]["gfz_now"], rows["A"]["gfz_allowed"], rows["A"]["limit"]) == (0.5, 1.2, "plan")
    assert (rows["A"]["unused_m2"], rows["A"]["realisable_m2"], rows["A"]["storeys_max"]) == (280, 100, 3)
    # B: GFZ 4.0 (GRZ 1.0 x Z 4) -> 1,600 allowed, 100 built: 1,500 unused, Z 4 caps it at 400 - 100 = 300.
    assert (rows["B"]["gfz_allowed"], rows["B"]["limit"], rows["B"]["unused_m2"], rows["B"]["realisable_m2"]) == (
        4.0,
        "plan_grz_x_z",
        1500,
        300,
    )
    # C: the WA sets no GFZ: the default 0.8 -> 320 allowed, 100 built, no storey limit: 220.
    assert (rows["C"]["gfz_allowed"], rows["C"]["limit"], rows["C"]["realisable_m2"]) == (0.8, "default", 220)
    # D: nothing built: its 320 m² would need new sealing and add no homes.
    assert (rows["D"]["unused_m2"], rows["D"]["realisable_m2"], rows["D"]["needs_sealing"]) == (320, 0, True)
    assert "E" not in rows  # farmland does not count by default
    assert s["needs_sealing"] == {"parcels": 1, "unused_m2": 320, "area_m2": 400}
    assert (s["parcels_considered"], s["parcels_with_plan"], s["parcels_default"]) == (4, 2, 2)
    assert (s["unused_m2"], s["realisable_m2"], s["capped_by_storeys"]) == (2320, 620, 2)
    # Half of the 620 m² built in the horizon: 310 m² x 0.8 living area / 62 m² per dwelling = 4 dwellings.
    assert s["realised_m2"] == 310
    assert s["dwellings"] == 4 == round(310 * NET_SHARE / 62)
    assert s["plan_layer"]["id"] == "rotherbaum"
    # The newcomers' homes: the three built parcels, weighted by the floor area realised on each.
    assert sorted(out.floor_m2.tolist()) == [50.0, 110.0, 150.0]
    a = rows["A"]["outline"]
    assert a["type"] in ("Polygon", "MultiPolygon")
    back = reproject(np.array([shapely.geometry.shape(a)]), WGS84, UTM32)[0]  # lon/lat, on a 0.1 m grid
    assert back.area == pytest.approx(400, rel=0.02)


def test_without_a_plan_every_parcel_takes_the_default(con: duckdb.DuckDBPyConnection) -> None:
    s = infill_potential(Parcels.from_store(con), _measure(default_gfz=0.8), area=None, plan=None).summary
    rows = _by_id(s)
    # 320 allowed each: A 320 - 200 = 120, B and C 320 - 100 = 220; D empty (sealing).
    assert [rows[k]["realisable_m2"] for k in "ABC"] == [120, 220, 220]
    assert {r["limit"] for r in rows.values()} == {"default"}
    assert (s["parcels_with_plan"], s["realisable_m2"], s["realised_m2"]) == (0, 560, 280)
    assert s["dwellings"] == round(280 * NET_SHARE / 62) == 4


def test_land_uses_and_the_area_choose_the_parcels(con: duckdb.DuckDBPyConnection) -> None:
    parcels = Parcels.from_store(con)
    farm = infill_potential(parcels, _measure(land_uses=["ax_landwirtschaft"]), area=None, plan=None).summary
    assert list(_by_id(farm)) == ["E"]
    assert farm["realisable_m2"] == 220
    # An area drawn around parcel A alone (lon/lat in the measure, the twin's CRS here).
    x, y = PARCELS["A"]
    ring = shapely.box(x - 2, y - 2, x + 22, y + 22)
    lonlat = reproject(np.array([ring]), UTM32, WGS84)[0]
    m = _measure(area={"type": "Polygon", "coordinates": [list(lonlat.exterior.coords)]})
    assert m.area is not None
    within = infill_potential(parcels, m, area=reproject(np.array([m.area.shape()]), WGS84, UTM32)[0], plan=None)
    assert list(_by_id(within.summary)) == ["A"]
    assert within.summary["parcels_considered"] == 1


def test_plan_layers_a_scenario_may_not_use_are_named(con: duckdb.DuckDBPyConnection) -> None:
    source = LayerSource.of_store(con)
    assert source is not None
    assert source.plan("nope", "public") == (None, "plan_layer_missing")
    assert source.plan("flurstuecke", "public") == (None, "plan_layer_not_a_plan")
    # A council's plan in a public scenario would show its limits to everyone.
    assert source.plan("rotherbaum-council", "public") == (None, "plan_layer_hidden")
    assert _plan(con, "rotherbaum-council", "council").layer["id"] == "rotherbaum-council"


def test_the_list_is_bounded_to_the_largest(con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("twin3d.simulation.infill.MAX_LISTED", 2)
    s = infill_potential(Parcels.from_store(con), _measure(plan_layer="rotherbaum"), area=None, plan=_plan(con)).summary
    assert [r["parcel_id"] for r in s["parcels"]] == ["B", "D"]  # 1,500 and 320 m² unused
    assert (s["listed"], s["listed_max"], s["parcels_considered"]) == (2, 2, 4)
    assert MAX_LISTED == 2_000


def test_a_twin_without_a_cadastre_has_no_potential() -> None:
    s = infill_potential(Parcels.empty(), _measure(), area=None, plan=None).summary
    assert (s["parcels_considered"], s["dwellings"], s["notes"]) == (0, 0, [{"code": "no_parcels"}])
    con = connect()
    try:
        assert len(Parcels.from_store(con)) == 0  # a store without the cadastre tables
        assert LayerSource.of_store(con) is None
    finally:
        con.close()


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"default_gfz": 0}, "default_gfz"),
        ({"default_gfz": 9}, "default_gfz"),
        ({"take_up": 0}, "take_up"),
        ({"take_up": 1.5}, "take_up"),
        ({"plan_layer": "../etc"}, "plan_layer"),
        ({"land_uses": []}, "land_uses"),
        ({"land_uses": ["AX Wohn"]}, "land_uses"),
    ],
)
def test_bad_values_are_refused(fields: dict[str, Any], where: str) -> None:
    from pydantic import ValidationError  # noqa: PLC0415

    with pytest.raises(ValidationError, match=where):
        _measure(**fields)
