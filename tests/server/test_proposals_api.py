"""Citizens' proposals through the real app: measures stored as a permalink scenario, moderation, stages, the
simulated effects per persona, sorting, clusters, exports, and places and proposals kept apart."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import GENEROUS_PARTICIPATION
from tests.server.participation_twin import API, Twin

pytestmark = pytest.mark.usefixtures("live_settings")  # both live-store backends

KITA = {
    "kind": "add_facility",
    "facility": "kita",
    "location": {"type": "Point", "coordinates": [11.2775, 49.5098]},
    "capacity": 60,
    "name": "Kita auf dem Parkplatz",
}
PARKING = {
    "type": "Polygon",
    "coordinates": [
        [[11.2770, 49.5095], [11.2780, 49.5095], [11.2780, 49.5101], [11.2770, 49.5101], [11.2770, 49.5095]]
    ],
}
PRE = 'moderation = "pre"'


def proposal(**change: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Kita auf dem Parkplatz",
        "text": "Der Parkplatz steht fast immer leer; hier fehlt eine Kita.",
        "topic": "social",
        "area": PARKING,
        "measures": [KITA],
    }
    body.update(change)
    return body


def post(twin: Twin, headers: dict[str, str], **change: Any) -> dict[str, Any]:
    response = twin.client.post(f"{API}/proposals", json=proposal(**change), headers=headers)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def twin(make_twin: Callable[..., Twin]) -> Twin:
    return make_twin(participation_toml=PRE)


def test_a_proposal_is_moderated_simulated_and_shows_who_gains(twin: Twin) -> None:
    admin = twin.bearer("admin")
    posted = post(twin, twin.participant())
    pid, scenario_id = posted["proposal_id"], posted["scenario_id"]
    assert (posted["status"], posted["stage"], len(scenario_id)) == ("new", "under_review", 64)
    assert posted["location"] == {"lon": pytest.approx(11.2775, abs=6e-4), "lat": pytest.approx(49.5098, abs=4e-4)}
    assert twin.client.get(f"{API}/proposals").json()["total"] == 0  # pre-moderation
    assert twin.client.get(f"{API}/proposals/{pid}").status_code == 404
    assert twin.client.get(f"{API}/proposals", headers=admin).json()["total"] == 1
    queue = twin.client.get(f"{API}/moderation/queue", headers=admin).json()
    assert [(q["place_id"], q["kind"]) for q in queue] == [(pid, "idea")]

    # The measures are a permalink scenario: reachable, listed only once the proposal is public.
    scenarios = f"{API}/scenarios"
    assert twin.client.get(f"{scenarios}/{scenario_id}").json()["spec"]["measures"][0]["facility"] == "kita"
    assert twin.client.get(scenarios).json() == []
    shown = twin.client.post(f"{API}/proposals/{pid}/moderation", json={"action": "show"}, headers=admin)
    assert shown.status_code == 200, shown.text
    assert [s["scenario_id"] for s in twin.client.get(scenarios).json()] == [scenario_id]

    early = twin.client.get(f"{API}/proposals/{pid}/effects")
    assert early.status_code == 409  # not simulated yet
    assert twin.client.post(f"{API}/proposals/{pid}/stage", json={"stage": "simulated"}).status_code == 403
    simulated = twin.client.post(f"{API}/proposals/{pid}/stage", json={"stage": "simulated"}, headers=admin)
    assert simulated.status_code == 200, simulated.text
    assert simulated.json()["gainers"] > 0

    effects = twin.client.get(f"{API}/proposals/{pid}/effects")
    assert effects.status_code == 200, effects.text
    verdicts = {p["persona"]: p for p in effects.json()["personas"]}
    assert verdicts["young_families"]["verdict"] == "better"
    assert verdicts["young_families"]["name"] == "Junge Familien"
    assert any(b["facility"] == "kita" for b in verdicts["young_families"]["better"])
    one = twin.client.get(f"{API}/proposals/{pid}").json()
    assert (one["stage"], one["gainers"]) == ("simulated", simulated.json()["gainers"])

    refused = twin.client.post(f"{API}/proposals/{pid}/stage", json={"stage": "rejected"}, headers=admin)
    assert refused.status_code == 422  # a rejection needs a reason
    adopted = twin.client.post(
        f"{API}/proposals/{pid}/stage", json={"stage": "adopted", "reason": "Im Haushalt 2027."}, headers=admin
    )
    assert adopted.json()["from"] == "simulated"
    log = twin.client.get(f"{API}/proposals/{pid}", headers=admin).json()["moderation"]
    assert [(e["action"], e["to_status"]) for e in log] == [
        ("show", "visible"),
        ("stage", "simulated"),
        ("stage", "adopted"),
    ]
    public = twin.client.get(f"{API}/proposals/{pid}").json()
    assert (public["stage"], public["stage_reason"]) == ("adopted", "Im Haushalt 2027.")
    assert "moderation" not in public


def test_an_official_scenario_stands_in_for_a_proposal_without_measures(twin: Twin) -> None:
    admin, council = twin.bearer("admin"), twin.bearer("council")
    idea = post(twin, twin.participant(), measures=[], area=None, location={"lon": 11.2775, "lat": 49.5098})
    pid = idea["proposal_id"]
    assert idea["scenario_id"] is None
    twin.client.post(f"{API}/proposals/{pid}/moderation", json={"action": "show"}, headers=admin)
    nothing = twin.client.post(f"{API}/proposals/{pid}/stage", json={"stage": "simulated"}, headers=admin)
    assert nothing.status_code == 409
    assert twin.client.get(f"{API}/proposals/{pid}/effects").status_code == 404

    draft = {"name": "Kita (Amt)", "measures": [KITA], "visibility": "council"}
    council_id = twin.client.post(f"{API}/scenarios", json=draft, headers=council).json()["scenario_id"]
    hidden = twin.client.post(f"{API}/proposals/{pid}/scenario", json={"scenario_id": council_id}, headers=admin)
    assert hidden.status_code == 422  # a council draft would be shown to everyone
    official = twin.client.post(
        f"{API}/scenarios", json={**draft, "name": "Kita (Amt, öffentlich)", "visibility": "public"}, headers=admin
    ).json()["scenario_id"]
    attached = twin.client.post(f"{API}/proposals/{pid}/scenario", json={"scenario_id": official}, headers=admin)
    assert attached.status_code == 200, attached.text
    twin.client.post(f"{API}/proposals/{pid}/stage", json={"stage": "simulated"}, headers=admin)
    effects = twin.client.get(f"{API}/proposals/{pid}/effects").json()
    assert (effects["scenario_id"], effects["official"]) == (official, True)


def test_places_and_proposals_do_not_mix(make_twin: Callable[..., Twin]) -> None:
    twin = make_twin()  # post-moderation: public at once
    me = twin.participant()
    place_id = twin.post_place(me)["place_id"]
    pid = post(twin, me)["proposal_id"]
    assert twin.client.get(f"{API}/proposals/{place_id}").status_code == 404
    assert twin.client.get(f"{API}/places/{pid}").status_code == 404
    assert twin.client.post(f"{API}/places/{pid}/votes", json={"value": 1}, headers=me).status_code == 404
    assert [p["place_id"] for p in twin.client.get(f"{API}/places").json()["places"]] == [place_id]
    assert [p["proposal_id"] for p in twin.client.get(f"{API}/proposals").json()["proposals"]] == [pid]

    voted = twin.client.post(f"{API}/proposals/{pid}/votes", json={"value": 1}, headers=me)
    assert voted.json() == {"place_id": pid, "up": 1, "down": 0, "score": 1, "yours": 1}
    assert twin.client.get(f"{API}/proposals/{pid}").json()["votes"] == {"up": 1, "down": 0, "score": 1}
    comment = twin.client.post(f"{API}/proposals/{pid}/comments", json={"text": "Gute Idee"}, headers=me)
    assert comment.status_code == 201
    assert [c["text"] for c in twin.client.get(f"{API}/proposals/{pid}/comments").json()] == ["Gute Idee"]
    assert twin.client.get(f"{API}/places/{pid}/comments").status_code == 404
    report = twin.client.post(f"{API}/proposals/{pid}/reports", json={"reason": "spam"}, headers=me)
    assert report.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"topic": "weather"}, "topic"),
        ({"measures": [], "area": None}, ""),
        ({"measures": [{**KITA, "location": {"type": "Point", "coordinates": [13.0, 52.0]}}]}, "measures.0.location"),
        ({"measures": [{**KITA, "facility": "casino"}]}, "measures.0.add_facility.facility"),
        ({"area": {"type": "Polygon", "coordinates": [[[11.27, 49.50], [11.28, 49.51], [11.28, 49.50],
                                                        [11.27, 49.51], [11.27, 49.50]]]}}, "area.coordinates"),
        ({"website": "http://spam.example"}, None),
    ],
)  # fmt: skip
def test_a_bad_proposal_is_refused_naming_the_field_and_leaves_nothing(
    twin: Twin, change: dict[str, Any], field: str | None
) -> None:
    admin = twin.bearer("admin")
    response = twin.client.post(f"{API}/proposals", json=proposal(**change), headers=twin.participant())
    assert response.status_code == 422, response.text
    body = response.json()
    if field is not None:
        where = body.get("record") or ".".join(str(p) for p in body["detail"][0]["loc"][1:])
        assert where.startswith(field), body
    assert twin.client.get(f"{API}/proposals", headers=admin).json()["total"] == 0
    assert twin.client.get(f"{API}/scenarios?unlisted=true", headers=admin).json() == []


def test_proposals_sort_by_votes_and_by_residents_who_gain_and_cluster(make_twin: Callable[..., Twin]) -> None:
    twin = make_twin(GENEROUS_PARTICIPATION.model_copy(update={"cluster_above": 3}))
    admin = twin.bearer("admin")
    me = twin.participant()
    kita = post(twin, me)["proposal_id"]
    plain = [post(twin, me, title=f"Idee {i}", measures=[])["proposal_id"] for i in range(3)]
    for voter in (twin.participant() for _ in range(2)):
        twin.client.post(f"{API}/proposals/{plain[1]}/votes", json={"value": 1}, headers=voter)
    twin.client.post(f"{API}/proposals/{kita}/stage", json={"stage": "simulated"}, headers=admin)

    def order(sort: str) -> list[int]:
        listing = twin.client.get(f"{API}/proposals", params={"sort": sort, "cluster": "false"}).json()
        return [p["proposal_id"] for p in listing["proposals"]]

    assert order("top")[0] == plain[1]
    assert order("gainers")[0] == kita
    assert order("new") == [*plain[::-1], kita]
    clusters = twin.client.get(f"{API}/proposals").json()
    assert clusters["mode"] == "clusters"
    assert sum(c["count"] for c in clusters["clusters"]) == 4
    assert sum(c["simulated"] for c in clusters["clusters"]) == 1
    simulated = twin.client.get(f"{API}/proposals", params={"stage": "simulated", "cluster": "false"}).json()
    assert [p["proposal_id"] for p in simulated["proposals"]] == [kita]


def test_public_proposals_are_exported_with_their_areas(make_twin: Callable[..., Twin]) -> None:
    twin = make_twin()
    me = twin.participant()
    pid = post(twin, me, self_description={"age_band": "30_44", "household": "family_young_children"})["proposal_id"]
    twin.post_place(me)
    geojson = twin.client.get(f"{API}/proposals.geojson").json()
    (feature,) = geojson["features"]
    assert (feature["id"], feature["geometry"]["type"]) == (pid, "Polygon")
    assert feature["properties"]["stage"] == "under_review"
    rows = list(csv.DictReader(io.StringIO(twin.client.get(f"{API}/proposals.csv").text)))
    assert [int(r["proposal_id"]) for r in rows] == [pid]
    forbidden = {"participant", "ip_hash", "age_band", "household"}
    assert not forbidden & set(rows[0])
    assert not forbidden & set(feature["properties"])
    items = twin.client.get(f"{API}/features/collections/proposals/items").json()
    assert [f["id"] for f in items["features"]] == [pid]
    assert items["features"][0]["geometry"]["type"] == "Polygon"
    places = twin.client.get(f"{API}/features/collections/places/items").json()
    assert pid not in [f["id"] for f in places["features"]]
