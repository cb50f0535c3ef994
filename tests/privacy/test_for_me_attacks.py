"""Attacks on "Wie betrifft mich das?" (POST .../for-me) through HTTP, without a token: a home point in an empty
field or at the edge of the twin, on a single house, and two homes a few metres apart to difference their answers.

What must hold (issue 15): every answer is a sum over whole published units (the gate's output), so no count below a
unit and no persona group under ``min_group`` households can be recovered, whatever point is asked; an area with too
few of the persona's households widens (500 m, 1 km, 2 km, the whole twin) and says so; the point is in no log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from tests.privacy.conftest import Http, Truth
from twin3d.io.crs import transform_points
from twin3d.population.privacy import PrivacyRules
from twin3d.secretfile import read_or_create_secret
from twin3d.settings import PathSettings
from twin3d.simulation.engine import Baseline, load_baseline
from twin3d.simulation.measures import WGS84
from twin3d.store.connection import connect

RULES = PrivacyRules()
STEPS = (500, 1000, 2000, None)
KITA = {"kind": "add_facility", "facility": "kita", "capacity": 60, "location": {"type": "Point",
        "coordinates": [11.2775, 49.5098]}}  # fmt: skip


@pytest.fixture(scope="module")
def published(privacy_paths: PathSettings) -> Iterator[Baseline]:
    """The published units exactly as the server holds them (same key): what every answer must be a sum of."""
    with connect(privacy_paths.store_file("lauf"), read_only=True) as con:
        yield load_baseline(
            con, Path(privacy_paths.pipelines_dir), key=read_or_create_secret(privacy_paths.privacy_key_file("lauf"))
        )


@pytest.fixture(scope="module")
def scenario_id(http: Http) -> str:
    status, stored = http.request("POST", "/api/twins/lauf/scenarios", {"name": "Kita", "measures": [KITA]})
    assert status in (200, 201), stored
    return str(stored["scenario_id"])


def ask(http: Http, scenario_id: str, persona: str, lon: float, lat: float) -> dict[str, Any]:
    body = {"persona": persona, "home": {"lon": lon, "lat": lat}}
    status, answer = http.request("POST", f"/api/twins/lauf/scenarios/{scenario_id}/for-me", body)
    assert status == 200, answer
    return dict(answer)


def expected_households(base: Baseline, persona: str, lon: float, lat: float, radius: float | None) -> float:
    """The persona's published households of the whole units with at least half their public weight within the
    radius (the test's own reading of the rule)."""
    units = base.units
    (x,), (y,) = transform_points(np.array([lon]), np.array([lat]), WGS84, base.crs)
    inside = np.hypot(units.point_x - x, units.point_y - y) <= (radius if radius is not None else np.inf)
    weight = np.bincount(
        units.member_unit, weights=units.member_weight * inside[units.member_point], minlength=len(units)
    )
    whole = weight >= 0.5 * units.unit_weight
    return float(units.group_households()[whole, base.catalogue.ids.index(persona)].sum())


def homes_to_try(truth: Truth, n: int) -> list[tuple[float, float]]:
    """Single houses (the 20 with the fewest households), the twin's corners and edges, and random points."""
    ids, counts = np.unique(truth.building[truth.building != ""], return_counts=True)
    houses = [
        (float(truth.lon[truth.building == b][0]), float(truth.lat[truth.building == b][0]))
        for b in ids[np.argsort(counts)[:20]]
    ]
    west, south, east, north = 11.2282, 49.4841, 11.3261, 49.5391  # inside the twin's box
    edges = [(west, south), (east, north), (west, north), (east, south), ((west + east) / 2, south), (east, 49.5115)]
    rng = np.random.default_rng(15)
    spread = [(float(rng.uniform(west, east)), float(rng.uniform(south, north))) for _ in range(n)]
    return houses + edges + spread


def test_every_answer_is_a_sum_of_whole_published_units_and_never_a_small_group(
    http: Http, scenario_id: str, published: Baseline, truth: dict[str, Truth]
) -> None:
    checked = 0
    for persona in ("young_families", "very_old_alone", "shared_households"):
        for lon, lat in homes_to_try(truth["lauf"], 10):
            answer = ask(http, scenario_id, persona, lon, lat)
            assert answer["radius_m"] in STEPS
            assert answer["households"] is not None
            assert answer["households"] >= RULES.min_group
            expected = expected_households(published, persona, lon, lat, answer["radius_m"])
            assert answer["households"] == round(expected), (persona, lon, lat)
            if answer["radius_m"] != STEPS[0]:  # a smaller area would have held too few
                smaller = STEPS[STEPS.index(answer["radius_m"]) - 1]
                assert expected_households(published, persona, lon, lat, smaller) < RULES.min_group
            checked += 1
    assert checked >= 100


def test_differencing_two_homes_a_few_metres_apart_learns_only_published_units(
    http: Http, scenario_id: str, published: Baseline, truth: dict[str, Truth]
) -> None:
    """Step the home 5 m at a time across town: whenever two neighbouring answers differ, the difference is that of
    whole published units (each of at least 50 persons and 25 households), never of one household or building."""
    units = published.units
    persons = units.group_persons()[:, published.catalogue.ids.index("young_families")]
    smallest_unit = float(units.persons[:, 0].min())
    assert smallest_unit >= RULES.min_persons - RULES.noise_amplitude  # published (noised) values of true >= 50
    differences = 0
    for lon in np.arange(11.2700, 11.2860, 0.00007)[:60]:  # about 5 m steps along a street of the centre
        first = ask(http, scenario_id, "young_families", float(lon), 49.5098)
        second = ask(http, scenario_id, "young_families", float(lon) + 0.00007, 49.5098)
        if first["households"] != second["households"]:
            differences += 1
            assert first["radius_m"] == second["radius_m"] == STEPS[0]
            a = expected_households(published, "young_families", float(lon), 49.5098, 500)
            b = expected_households(published, "young_families", float(lon) + 0.00007, 49.5098, 500)
            assert second["households"] - first["households"] == pytest.approx(round(b) - round(a), abs=1)
    assert differences >= 1, "the walk crossed a unit's boundary at least once"
    assert persons.sum() > 0
    # The walk also passed single houses: none of their households is a figure of its own.
    inside = truth["lauf"].inside(shapely.box(11.2700, 49.5095, 11.2860, 49.5101))
    assert inside.sum() > 0


def test_the_home_point_is_in_no_log_and_no_refusal(
    http: Http, scenario_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        ask(http, scenario_id, "couples", 11.2812345, 49.5101234)
        status, refused = http.request(
            "POST",
            f"/api/twins/lauf/scenarios/{scenario_id}/for-me",
            {"persona": "couples", "home": {"lon": 12.3456789, "lat": 49.5101234}},
        )
        assert status == 422
        status, invalid = http.request(
            "POST",
            f"/api/twins/lauf/scenarios/{scenario_id}/for-me",
            {"persona": "couples", "home": {"lon": 11.2812345, "lat": "49.5101234 Marktplatz"}},
        )
        assert status == 422
    text = caplog.text + " ".join(str(r.args) for r in caplog.records) + str(refused) + str(invalid)
    for digits in ("2812345", "5101234", "3456789", "Marktplatz"):
        assert digits not in text
