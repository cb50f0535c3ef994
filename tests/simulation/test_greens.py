"""Green space per resident within walking distance: the twin's public greens, a new park, a new quarter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.simulation.engine import Baseline, apply_measures, load_baseline, run_scenario
from twin3d.simulation.greens import GREEN_REACH_M, Greens, entrances, green_per_unit, reach
from twin3d.simulation.scenario import ScenarioSpec
from twin3d.store.connection import connect

KEY = b"test key of the green space tests"
CENTRE = (11.2775, 49.5098)
HALF = (0.00207, 0.00135)  # about 300 m square around Lauf's centre
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [CENTRE[0] - HALF[0], CENTRE[1] - HALF[1]],
            [CENTRE[0] + HALF[0], CENTRE[1] - HALF[1]],
            [CENTRE[0] + HALF[0], CENTRE[1] + HALF[1]],
            [CENTRE[0] - HALF[0], CENTRE[1] + HALF[1]],
            [CENTRE[0] - HALF[0], CENTRE[1] - HALF[1]],
        ]
    ],
}


@pytest.fixture(scope="module")
def lauf(demo_paths: PathSettings, built: dict[str, BuildReport]) -> Iterator[Baseline]:
    con = connect(demo_paths.store_file("lauf"), read_only=True)
    yield load_baseline(con, Path(demo_paths.pipelines_dir), key=KEY)
    con.close()


def _run(base: Baseline, *measures: dict[str, Any]) -> dict[str, Any]:
    return run_scenario(base, ScenarioSpec.model_validate({"name": "Grün", "measures": list(measures)}))


def test_every_m2_of_green_with_residents_in_reach_is_handed_out_once(lauf: Baseline) -> None:
    """The shares add up: persons x their m² per resident is the area of the greens someone can reach."""
    assert len(lauf.greens) == 68
    supply = lauf.green_supply
    handed_out = float(supply @ lauf.units.persons[:, 0])
    reached = np.asarray(reach(lauf.homes, lauf.greens).sum(axis=0)).ravel() > 0
    assert handed_out == pytest.approx(float(lauf.greens.area_m2[reached].sum()), rel=1e-9)
    assert (supply >= 0).all()
    assert 0 < np.median(supply[supply > 0]) < 200


def test_a_green_is_reached_over_the_paths_not_through_walls(lauf: Baseline) -> None:
    """A home reaches a green within 500 m of walking to a point of its outline: never farther than the straight
    line allows, and, over the footpath network, for fewer homes than the straight line would say."""
    near = reach(lauf.homes, lauf.greens).toarray() > 0
    points = shapely.points(lauf.units.point_x, lauf.units.point_y)
    straight = np.stack([shapely.dwithin(g, points, GREEN_REACH_M) for g in lauf.greens.geometry], axis=1)
    assert near.any()
    assert not (near & ~straight).any()  # no walk is shorter than the straight line
    assert near.sum() < straight.sum()
    # Every green's outline is sampled: each has at least one way in, the large ones many.
    *_, owner = entrances(lauf.greens)
    counts = np.bincount(owner, minlength=len(lauf.greens))
    assert (counts >= 1).all()
    assert counts.max() > 10


def test_a_twin_without_greens_gets_none_and_says_so(lauf: Baseline) -> None:
    assert not green_per_unit(lauf.units, lauf.homes, Greens.empty()).any()


def test_a_new_park_helps_the_residents_near_it_and_a_new_quarter_shares_the_green(lauf: Baseline) -> None:
    result = _run(lauf, {"kind": "green_space", "area": SQUARE, "name": "Stadtpark"})
    park = result["green_space"]
    # The residents' gains of green are judged like every other indicator, with their cause.
    gained = [g for g in result["assessment"]["gains"] if g["facility"] == "green"]
    assert gained
    assert all(g["indicator"] == "green_m2" and g["causes"] == ["green_added"] for g in gained)
    assert (park["greens"], park["greens_added"]) == (69, 1)
    residents = [r for r in park["rows"] if r["group"] == "residents"]
    assert residents
    assert all(r["m2_delta"] > 0 for r in residents)
    assert any(r["verdict"] == "better" for r in residents)
    assert not [r for r in park["rows"] if r["group"] == "newcomers"]

    quarter = _run(lauf, {"kind": "new_housing", "area": SQUARE, "dwellings": 400, "storeys": 4})
    green = quarter["green_space"]
    rows = {(r["group"], r["persona"]): r for r in green["rows"]}
    # The newcomers share the same greens: the residents never gain, and the newcomers have figures of their own.
    assert all(r["m2_delta"] <= 0 for (group, _), r in rows.items() if group == "residents")
    assert any(group == "newcomers" and r["m2_scenario"] > 0 for (group, _), r in rows.items())
    # The residents' baseline is the same whatever the scenario does.
    before = {p: r["m2_baseline"] for (g, p), r in rows.items() if g == "residents"}
    assert before == {r["persona"]: r["m2_baseline"] for r in residents}
    assert not quarter["data_gaps"]["greens"]


def test_the_baselines_reach_extended_by_a_scenario_equals_walking_it_all_anew(lauf: Baseline) -> None:
    """A scenario walks only its new homes and new greens; the result is the same as walking everything."""
    spec = ScenarioSpec.model_validate(
        {
            "name": "Park und Quartier",
            "measures": [
                {"kind": "green_space", "area": SQUARE, "name": "Stadtpark"},
                {"kind": "new_housing", "area": SQUARE, "dwellings": 120, "storeys": 3},
            ],
        }
    )
    applied = apply_measures(lauf, spec)
    greens = lauf.greens.plus(applied.greens)
    assert len(applied.homes) > len(lauf.homes)
    extended = reach(applied.homes, greens, lauf.green_reach)  # no flood: the baseline's network
    anew = reach(applied.homes, greens)
    assert (extended != anew).nnz == 0
