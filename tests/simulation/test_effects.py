"""A verdict per persona and the residents who gain, and "for me" on the Lauf twin (the engine, no server)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from twin3d.io.crs import transform_points
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.simulation.engine import Baseline, load_baseline, run_scenario
from twin3d.simulation.for_me import RADII_M, for_me, prepare
from twin3d.simulation.measures import WGS84
from twin3d.simulation.scenario import ScenarioSpec
from twin3d.store.connection import connect

KEY = b"test key of the effects tests"
KITA_AT = (11.2775, 49.5098)  # Lauf's centre, where young families live
KITA = {"kind": "add_facility", "facility": "kita", "location": {"type": "Point", "coordinates": list(KITA_AT)}}


@pytest.fixture(scope="module")
def lauf(demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[Baseline]:
    con = connect(demo_paths.store_file("lauf"), read_only=True)
    yield load_baseline(con, Path(demo_paths.pipelines_dir), key=KEY)
    con.close()


def _spec(*measures: dict[str, Any]) -> ScenarioSpec:
    return ScenarioSpec.model_validate({"name": "Wirkung", "measures": list(measures)})


def _persona(result: dict[str, Any], pid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in result["personas"] if p["persona"] == pid)
    return found


def _kita_row(base: Baseline) -> str:
    """The Kita nearest to where young families live most (closing it hurts someone)."""
    kitas = base.facilities.of_type("kita")
    return str(base.facilities.ids[kitas[0]])


def test_a_kita_near_young_families_makes_them_better_off_and_they_gain(lauf: Baseline) -> None:
    result = run_scenario(lauf, _spec(KITA | {"capacity": 75}))
    young = _persona(result, "young_families")
    assert young["verdict"] == "better"
    assert {"facility": "kita", "indicator": "mean_distance_m"} in young["better"]
    assert young["worse"] == []
    # Personas without a Kita need see no change; every persona shown among the residents has one verdict.
    assert _persona(result, "active_seniors")["verdict"] == "unchanged"
    residents = {k["persona"] for k in result["kpis"] if k["group"] == "residents" and k["persona"] != "*"}
    assert [p["persona"] for p in result["personas"]] == [p for p in lauf.catalogue.ids if p in residents]
    gainers = result["gainers"]
    assert gainers["persons"] > 0
    assert gainers["by_persona"]["young_families"] > 0
    assert set(gainers["by_persona"]) <= {"young_families", "single_parents"}, "only who needs a Kita gains"
    assert sum(gainers["by_persona"].values()) <= gainers["persons"] + len(gainers["by_persona"])
    # The results' other keys are as before: the assessment still lists the Kita's gain.
    assert any(g["facility"] == "kita" for g in result["assessment"]["gains"])


def test_closing_a_kita_makes_its_users_worse_off_and_nobody_gains(lauf: Baseline) -> None:
    result = run_scenario(lauf, _spec({"kind": "remove_facility", "facility_id": _kita_row(lauf)}))
    young = _persona(result, "young_families")
    assert young["verdict"] == "worse"
    assert young["better"] == []
    assert any(i["facility"] == "kita" for i in young["worse"])
    assert result["gainers"] == {"persons": None, "by_persona": {}}


def test_a_new_quarter_beside_a_kita_is_mixed_for_some_and_gains_are_per_unit(lauf: Baseline) -> None:
    """Newcomers share the schools: a persona can gain a Kita and lose school places at once (mixed), and a unit
    that loses anything does not count as gaining."""
    quarter = [[11.2760, 49.5090], [11.2790, 49.5090], [11.2790, 49.5105], [11.2760, 49.5105], [11.2760, 49.5090]]
    housing = {
        "kind": "new_housing",
        "area": {"type": "Polygon", "coordinates": [quarter]},
        "dwellings": 300,
        "storeys": 4,
    }
    result = run_scenario(lauf, _spec(housing, KITA | {"capacity": 75}))
    verdicts = {p["persona"]: p["verdict"] for p in result["personas"]}
    assert "worse" in verdicts.values() or "mixed" in verdicts.values()
    alone = run_scenario(lauf, _spec(KITA | {"capacity": 75}))
    assert (result["gainers"]["persons"] or 0) < alone["gainers"]["persons"]


def test_for_me_near_the_new_kita_young_families_gain_and_far_away_nothing_changes(lauf: Baseline) -> None:
    spec = _spec(KITA | {"capacity": 75})
    started = time.perf_counter()
    state = prepare(lauf, spec)
    prepared_s = time.perf_counter() - started
    near = for_me(lauf, state, "young_families", KITA_AT, lang="de")
    assert near["verdict"] == "better"
    assert near["radius_m"] == RADII_M[0]
    assert near["households"] >= lauf.rules.min_group
    kita = [line for line in near["lines"] if line["facility"] == "kita"]
    assert {line["indicator"] for line in kita} == {"mean_distance_m", "coverage_share", "supply_per_demand"}
    walk = next(line for line in kita if line["indicator"] == "mean_distance_m")
    assert walk["delta"] < 0
    assert walk["verdict"] == "better"
    assert "Kita" in walk["text"]
    assert "Min." in walk["text"]
    assert "besser" in near["summary"]
    # Seniors need no Kita: their lines are all unchanged; the text comes in English when asked.
    seniors = for_me(lauf, state, "active_seniors", KITA_AT, lang="en")
    assert seniors["verdict"] == "unchanged"
    assert "nothing changes" in seniors["summary"]
    # A warm answer is array arithmetic over the units near the point: much faster than preparing.
    started = time.perf_counter()
    far = for_me(lauf, state, "young_families", (11.31, 49.525), lang="de")
    assert time.perf_counter() - started < max(prepared_s, 0.05)
    assert far["verdict"] == "unchanged"


def test_for_me_widens_the_area_until_the_persona_has_enough_households(lauf: Baseline) -> None:
    state = prepare(lauf, _spec(KITA | {"capacity": 75}))
    x0, y0 = lauf.units.point_x.min(), lauf.units.point_y.min()
    corner = transform_points(np.array([x0 - 400.0]), np.array([y0 - 400.0]), lauf.crs, WGS84)
    answer = for_me(lauf, state, "very_old_alone", (float(corner[0][0]), float(corner[1][0])), lang="de")
    assert answer["radius_m"] != RADII_M[0]
    assert answer["households"] >= lauf.rules.min_group
    assert ("Umkreis" in answer["summary"]) or ("ganzen Zwilling" in answer["summary"])
