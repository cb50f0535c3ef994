"""POST .../scenarios/{id}/for-me: "Wie betrifft mich das?" over HTTP, and the per-persona verdicts and gainers of
the results, on the Lauf twin."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

pytestmark = pytest.mark.usefixtures("live_settings")  # both live-store backends

KITA_AT = [11.2775, 49.5098]
KITA = {"name": "Kita am Markt", "measures": [{"kind": "add_facility", "facility": "kita", "capacity": 75,
        "location": {"type": "Point", "coordinates": KITA_AT}}]}  # fmt: skip
FAR = {"lon": 11.31, "lat": 49.525}
NEAR = {"lon": KITA_AT[0], "lat": KITA_AT[1]}


@pytest.fixture
def client(
    tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """A server over the built Lauf twin with a private live store and a council user."""
    paths = PathSettings(
        pipelines_dir=demo_paths.pipelines_dir, store_dir=tmp_path / "var", tiles_dir=demo_paths.tiles_dir
    )
    paths.store_dir.mkdir()
    paths.store_file("lauf").symlink_to(demo_paths.store_file("lauf").resolve())
    paths.privacy_key_file("lauf").symlink_to(demo_paths.privacy_key_file("lauf").resolve())
    _, council = add_user(paths.users_file, "rat", "council")
    with TestClient(create_app(ServerSettings(), paths)) as c:
        yield c, {"Authorization": f"Bearer {council}"}


def _store(c: TestClient, spec: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    response = c.post("/api/twins/lauf/scenarios", json=spec, headers=headers or {})
    assert response.status_code in (200, 201), response.text
    return str(response.json()["scenario_id"])


def _ask(c: TestClient, scenario_id: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return c.post(f"/api/twins/lauf/scenarios/{scenario_id}/for-me", json=body, headers=headers or {})


def test_a_young_family_near_a_new_kita_gains_and_far_away_nothing_changes(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, _ = client
    scenario_id = _store(c, KITA)
    results = c.get(f"/api/twins/lauf/scenarios/{scenario_id}/results").json()
    young = next(p for p in results["personas"] if p["persona"] == "young_families")
    assert young["verdict"] == "better"
    assert results["gainers"]["persons"] > 0
    assert results["gainers"]["by_persona"]["young_families"] > 0

    near = _ask(c, scenario_id, {"persona": "young_families", "home": NEAR})
    assert near.status_code == 200, near.text
    answer = near.json()
    assert answer["verdict"] == "better"
    assert (answer["persona"], answer["persona_name"], answer["radius_m"]) == ("young_families", "Junge Familien", 500)
    assert answer["households"] >= 3
    walk = next(x for x in answer["lines"] if (x["facility"], x["indicator"]) == ("kita", "mean_distance_m"))
    assert walk["verdict"] == "better"
    assert walk["delta"] < 0
    assert "Kita" in answer["summary"]
    # The same person answering two questions instead: the twin's persona rules make them a young family.
    described = _ask(c, scenario_id, {"age_band": "30_44", "household": "family_young_children", "home": NEAR})
    assert described.json()["persona"] == "young_families"
    assert described.json()["lines"] == answer["lines"]
    # Far from the new Kita nothing changes for them; in English when asked.
    far = _ask(c, scenario_id, {"persona": "young_families", "home": FAR, "lang": "en"}).json()
    assert far["verdict"] == "unchanged"
    assert far["persona_name"] == "Young families"
    assert "nothing changes" in far["summary"]


def test_a_persona_with_few_households_nearby_gets_a_wider_area(client: tuple[TestClient, dict[str, str]]) -> None:
    c, _ = client
    scenario_id = _store(c, KITA)
    radii = []
    for home in (NEAR, FAR, {"lon": 11.325, "lat": 49.5115}):  # the centre, the edge of town, a field by the edge
        answer = _ask(c, scenario_id, {"persona": "very_old_alone", "home": home}).json()
        assert answer["households"] >= 3
        assert answer["radius_m"] in (500, 1000, 2000, None)
        radii.append(answer["radius_m"])
    assert radii[0] == 500
    assert radii[-1] != 500, "no one lives in that field at the eastern edge: the area widens"
    assert any(word in answer["summary"] for word in ("Umkreis von 1 km", "Umkreis von 2 km", "ganzen Zwilling"))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"persona": "dragons", "home": NEAR}, "persona"),
        ({"age_band": "30_44", "household": "castle", "home": NEAR}, "household"),
        ({"age_band": "forty", "household": "alone", "home": NEAR}, "age_band"),
        ({"home": NEAR}, "persona"),
        ({"persona": "young_families"}, "home"),
        ({"persona": "young_families", "home": {"lon": 11.2775, "lat": 95.123456}}, "home.lat"),
        ({"persona": "young_families", "home": {"lon": 13.404954, "lat": 52.520008}}, "home"),
        ({"persona": "young_families", "home": NEAR, "lang": "fr"}, "lang"),
        ({"persona": "young_families", "home": NEAR, "street": "Marktplatz 1"}, "street"),
    ],
)
def test_a_wrong_body_is_422_naming_the_field_without_repeating_it(
    client: tuple[TestClient, dict[str, str]], body: dict[str, Any], field: str
) -> None:
    c, _ = client
    scenario_id = _store(c, KITA)
    response = _ask(c, scenario_id, body)
    assert response.status_code == 422, response.text
    assert response.json()["record"] == field
    for secret in ("95.123456", "13.404954", "52.520008", "Marktplatz", "11.2775"):
        assert secret not in response.text


def test_a_council_scenario_is_invisible_to_the_public_and_unknown_ones_are_404(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    c, council = client
    scenario_id = _store(c, {**KITA, "name": "Ratsentwurf", "visibility": "council"}, council)
    body = {"persona": "young_families", "home": NEAR}
    assert _ask(c, scenario_id, body).status_code == 404
    assert _ask(c, scenario_id, body, council).status_code == 200
    assert _ask(c, "0" * 64, body).status_code == 404
    assert _ask(c, "not-an-id", body).status_code == 422


def test_nothing_of_the_question_is_logged_and_the_warm_answer_is_fast(
    client: tuple[TestClient, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    c, _ = client
    scenario_id = _store(c, {**KITA, "name": "Kita fürs Protokoll"})
    home = {"lon": 11.2791357, "lat": 49.5112468}
    with caplog.at_level(logging.DEBUG):
        first = _ask(c, scenario_id, {"persona": "young_families", "home": home})
        assert first.status_code == 200
        started = time.perf_counter()
        for _ in range(5):
            assert _ask(c, scenario_id, {"age_band": "80_plus", "household": "alone", "home": home}).status_code == 200
        warm = (time.perf_counter() - started) / 5
        _ask(c, scenario_id, {"persona": "nope", "home": home})
        _ask(c, scenario_id, {"persona": "young_families", "home": {"lon": 13.4049541, "lat": 52.5200081}})
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for digits in ("2791357", "5112468", "4049541", "5200081", "11.279", "49.511"):
        assert digits not in logged
    assert warm < 0.5, f"a warm answer took {warm:.3f} s"
