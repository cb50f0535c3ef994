"""Citizens' places through the real app: posting, voting, comments, reports, moderation, roles, exports, lens."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import pytest

from tests.conftest import GENEROUS_PARTICIPATION
from tests.server.participation_twin import API, Twin, place
from twin3d.settings import ParticipationSettings, PathSettings
from twin3d.store.connection import connect
from twin3d.store.live import live_store_file

pytestmark = pytest.mark.usefixtures("live_settings")  # both live-store backends


@pytest.fixture
def twin(make_twin: Callable[..., Twin]) -> Twin:
    return make_twin()


def test_a_place_is_posted_and_read_back_as_plain_text(twin: Twin) -> None:
    me = twin.participant()
    posted = twin.post_place(me, title="<img src=x onerror=alert(1)>", text="Zeile 1\r\nZeile 2")
    assert posted["status"] == "visible"
    assert posted["title"] == "<img src=x onerror=alert(1)>"  # stored as given; rendered escaped by clients
    assert posted["text"] == "Zeile 1\nZeile 2"
    one = twin.client.get(f"{API}/places/{posted['place_id']}")
    assert one.headers["content-type"].startswith("application/json")
    assert one.json() == posted
    listing = twin.client.get(f"{API}/places").json()
    assert (listing["mode"], listing["total"]) == ("pins", 1)
    payload = json.dumps(listing)
    for private in ("participant", "ip_hash", "age_band", "household", "self_description", "remarks"):
        assert private not in payload
    assert twin.client.get(f"{API}/places/999").status_code == 404


def test_a_pin_on_a_building_sits_on_its_roof(twin: Twin, demo_paths: PathSettings) -> None:
    con = connect(demo_paths.store_file("lauf"), read_only=True)
    bid, height, lon, lat = con.execute(
        "SELECT building_id, height, ST_X(ST_PointOnSurface(geom_wgs84)), ST_Y(ST_PointOnSurface(geom_wgs84)) "
        "FROM buildings ORDER BY footprint_m2 DESC LIMIT 1"
    ).fetchone()
    con.close()
    me = twin.participant()
    on_roof = twin.post_place(me, location={"lon": lon, "lat": lat, "building_id": bid})
    assert on_roof["location"]["height"] == pytest.approx(height, abs=0.01)
    lower = twin.post_place(me, location={"lon": lon, "lat": lat, "building_id": bid, "height": 2.5})
    assert lower["location"]["height"] == 2.5
    for location, field in [
        ({"lon": lon, "lat": lat, "building_id": bid, "height": height + 20}, "location.height"),
        ({"lon": lon, "lat": lat, "building_id": "way/0"}, "location.building_id"),
        ({"lon": lon + 0.01, "lat": lat, "building_id": bid}, "location"),
        ({"lon": 13.40, "lat": 52.52}, "location"),  # Berlin: outside the twin
    ]:
        response = twin.client.post(f"{API}/places", json=place(location=location), headers=me)
        assert response.status_code == 422, response.text
        assert response.json()["record"] == field


def test_malformed_oversized_and_anonymous_bodies_are_refused(twin: Twin) -> None:
    me = twin.participant()
    client = twin.client
    raw = {**me, "Content-Type": "application/json"}
    broken = client.post(f"{API}/places", content=b'{"kind": "happy",', headers=raw)
    assert broken.status_code == 422
    missing = client.post(f"{API}/places", json={"kind": "happy"}, headers=me)
    assert missing.status_code == 422
    assert {e["loc"][-1] for e in missing.json()["detail"]} >= {"title", "text", "location", "category"}
    long_title = client.post(f"{API}/places", json=place(title="x" * 121), headers=me)
    assert long_title.status_code == 422
    assert long_title.json()["detail"][0]["loc"] == ["body", "title"]
    huge = client.post(f"{API}/places", content=b"{" + b" " * 20_000 + b"}", headers=raw)
    assert huge.status_code == 413
    streamed = client.post(f"{API}/places", content=iter([b"{", b" " * 20_000, b"}"]), headers=raw)
    assert streamed.status_code == 413  # no Content-Length: counted while it streams
    unknown_category = client.post(f"{API}/places", json=place(category="parking"), headers=me)
    assert (unknown_category.status_code, unknown_category.json()["record"]) == (422, "category")
    anonymous = client.post(f"{API}/places", json=place())
    assert anonymous.status_code == 401
    forged = client.post(f"{API}/places", json=place(), headers={"X-Participant-Token": "made-up"})
    assert forged.status_code == 401
    assert forged.json()["record"] == "X-Participant-Token"
    bot = client.post(f"{API}/places", json=place(website="http://spam.example"), headers=me)
    assert bot.status_code == 422
    assert "website" not in bot.text  # the honeypot does not give itself away
    assert client.get(f"{API}/places").json()["total"] == 0


def test_rate_limits_answer_429_with_retry_after(make_twin: Callable[..., Twin]) -> None:
    strict = ParticipationSettings(posts_per_minute=1, posts_burst=2, participants_per_hour=60, participants_burst=3)
    twin = make_twin(strict)
    me = twin.participant()
    assert twin.client.post(f"{API}/places", json=place(), headers=me).status_code == 201
    assert twin.client.post(f"{API}/places", json=place(), headers=me).status_code == 201
    limited = twin.client.post(f"{API}/places", json=place(), headers=me)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # New tokens do not help: the address is limited too, for posts and for tokens.
    assert twin.client.post(f"{API}/places", json=place(), headers=twin.participant()).status_code == 429
    twin.participant()
    assert twin.client.post(f"{API}/participants").status_code == 429


def test_one_vote_per_participant_and_a_few_per_network(make_twin: Callable[..., Twin]) -> None:
    twin = make_twin(GENEROUS_PARTICIPATION.model_copy(update={"votes_per_place_per_address": 2}))
    place_id = twin.post_place(twin.participant())["place_id"]
    voters = [twin.participant() for _ in range(3)]
    url = f"{API}/places/{place_id}/votes"
    assert twin.client.post(url, json={"value": 1}, headers=voters[0]).json()["up"] == 1
    again = twin.client.post(url, json={"value": 1}, headers=voters[0]).json()
    assert (again["up"], again["down"]) == (1, 0)  # the same participant: still one vote
    changed = twin.client.post(url, json={"value": -1}, headers=voters[0]).json()
    assert (changed["up"], changed["down"], changed["score"]) == (0, 1, -1)
    assert twin.client.post(url, json={"value": 1}, headers=voters[1]).status_code == 200
    # A third token from the same network (cookies cleared) is one too many for this place today.
    capped = twin.client.post(url, json={"value": 1}, headers=voters[2])
    assert capped.status_code == 429
    assert "Retry-After" in capped.headers
    assert twin.client.get(f"{API}/places/{place_id}").json()["votes"] == {"up": 1, "down": 1, "score": 0}
    assert twin.client.post(url, json={"value": 3}, headers=voters[0]).status_code == 422


def test_comments_have_one_level_of_replies(twin: Twin) -> None:
    me = twin.participant()
    place_id = twin.post_place(me)["place_id"]
    url = f"{API}/places/{place_id}/comments"
    top = twin.client.post(url, json={"text": "Stimmt, gefährlich."}, headers=me).json()
    reply = twin.client.post(url, json={"text": "Ja!", "parent_id": top["comment_id"]}, headers=me)
    assert reply.status_code == 201
    deeper = twin.client.post(url, json={"text": "Nein", "parent_id": reply.json()["comment_id"]}, headers=me)
    assert (deeper.status_code, deeper.json()["record"]) == (422, "parent_id")
    threads = twin.client.get(url).json()
    assert [(c["text"], [r["text"] for r in c["replies"]]) for c in threads] == [("Stimmt, gefährlich.", ["Ja!"])]
    assert twin.client.get(f"{API}/places/{place_id}").json()["comments"] == 2


def test_reports_hide_a_place_and_the_administration_decides(twin: Twin) -> None:
    place_id = twin.post_place(twin.participant())["place_id"]
    admin = twin.bearer("admin")
    for reason in ("spam", "spam", "insult"):
        response = twin.client.post(
            f"{API}/places/{place_id}/reports", json={"reason": reason}, headers=twin.participant()
        )
        assert response.status_code == 201
    assert response.json()["hidden"]  # the third report (the default threshold) hid it
    assert twin.client.get(f"{API}/places/{place_id}").status_code == 404
    assert twin.client.get(f"{API}/places").json()["total"] == 0
    queue = twin.client.get(f"{API}/moderation/queue", headers=admin).json()
    assert [(q["place_id"], q["status"], q["reasons"]) for q in queue] == [
        (place_id, "hidden", {"spam": 2, "insult": 1})
    ]
    answered = twin.client.post(
        f"{API}/places/{place_id}/moderation", json={"action": "answer", "answer": "Wird geprüft."}, headers=admin
    )
    assert answered.status_code == 422  # a hidden place is shown before it is answered
    shown = twin.client.post(
        f"{API}/places/{place_id}/moderation", json={"action": "show", "reason": "kein Spam"}, headers=admin
    )
    assert shown.json()["status"] == "visible"
    answered = twin.client.post(
        f"{API}/places/{place_id}/moderation", json={"action": "answer", "answer": "Wird geprüft."}, headers=admin
    )
    assert answered.json()["status"] == "answered"
    public = twin.client.get(f"{API}/places/{place_id}").json()
    assert (public["status"], public["answer"]) == ("answered", "Wird geprüft.")
    assert twin.client.get(f"{API}/moderation/queue", headers=admin).json() == []


def test_each_role_sees_what_it_may(twin: Twin) -> None:
    me = twin.participant()
    visible = twin.post_place(me)["place_id"]
    hidden = twin.post_place(me, title="Versteckt")["place_id"]
    admin, council = twin.bearer("admin"), twin.bearer("council")
    twin.client.post(f"{API}/places/{hidden}/moderation", json={"action": "hide", "reason": "Spam"}, headers=admin)
    remark = twin.client.post(f"{API}/places/{visible}/remarks", json={"text": "Bauamt fragen"}, headers=admin)
    assert remark.status_code == 201

    public = twin.client.get(f"{API}/places").json()
    assert [p["place_id"] for p in public["places"]] == [visible]
    assert "counts" not in public
    by_council = twin.client.get(f"{API}/places", headers=council).json()
    assert [p["place_id"] for p in by_council["places"]] == [visible]
    assert by_council["counts"] == {"new": 0, "visible": 1, "hidden": 1, "answered": 0}
    assert twin.client.get(f"{API}/places?status=hidden", headers=council).status_code == 403
    by_admin = twin.client.get(f"{API}/places?status=hidden", headers=admin).json()
    assert [p["place_id"] for p in by_admin["places"]] == [hidden]
    assert by_admin["places"][0]["reports_open"] == 0

    detail = twin.client.get(f"{API}/places/{visible}", headers=admin).json()
    assert [r["text"] for r in detail["remarks"]] == ["Bauamt fragen"]
    assert [e["action"] for e in twin.client.get(f"{API}/places/{hidden}", headers=admin).json()["moderation"]] == [
        "hide"
    ]
    for headers in ({}, council):
        assert "remarks" not in twin.client.get(f"{API}/places/{visible}", headers=headers).json()
        assert twin.client.get(f"{API}/places/{visible}/remarks", headers=headers).status_code == 403
        assert twin.client.get(f"{API}/places/{hidden}", headers=headers).status_code == 404
    exports = twin.client.get(f"{API}/places.geojson").text + twin.client.get(f"{API}/places.csv").text
    assert "Bauamt" not in exports
    assert "Versteckt" not in exports


def test_pre_moderation_publishes_only_what_a_moderator_showed(make_twin: Callable[..., Twin]) -> None:
    twin = make_twin(participation_toml='moderation = "pre"\nauto_hide_reports = 2')
    assert twin.client.get(f"{API}/places/config").json()["moderation"] == "pre"
    me = twin.participant()
    posted = twin.post_place(me)
    assert posted["status"] == "new"
    assert twin.client.get(f"{API}/places").json()["total"] == 0
    admin = twin.bearer("admin")
    queue = twin.client.get(f"{API}/moderation/queue", headers=admin).json()
    assert [(q["type"], q["status"]) for q in queue] == [("place", "new")]
    twin.client.post(f"{API}/places/{posted['place_id']}/moderation", json={"action": "show"}, headers=admin)
    assert twin.client.get(f"{API}/places").json()["total"] == 1
    comment = twin.client.post(f"{API}/places/{posted['place_id']}/comments", json={"text": "Gut"}, headers=me)
    assert comment.json()["status"] == "new"
    assert twin.client.get(f"{API}/places/{posted['place_id']}/comments").json() == []
    shown = twin.client.post(
        f"{API}/places/{posted['place_id']}/comments/{comment.json()['comment_id']}/moderation",
        json={"action": "show"},
        headers=admin,
    )
    assert shown.json()["status"] == "visible"
    assert len(twin.client.get(f"{API}/places/{posted['place_id']}/comments").json()) == 1


def test_a_crowded_view_is_clustered_per_h3_cell(make_twin: Callable[..., Twin]) -> None:
    twin = make_twin(GENEROUS_PARTICIPATION.model_copy(update={"cluster_above": 5}))
    me = twin.participant()
    for i in range(8):
        kind = "happy" if i % 2 else "improvable"
        twin.post_place(me, kind=kind, location={"lon": 11.2780 + 0.004 * (i % 2), "lat": 49.5100})
    clustered = twin.client.get(f"{API}/places?zoom=13").json()
    assert (clustered["mode"], clustered["total"], clustered["resolution"]) == ("clusters", 8, 8)
    assert sum(c["count"] for c in clustered["clusters"]) == 8
    assert {c["h3"][:2] for c in clustered["clusters"]} == {"88"}  # H3 res-8 cells
    assert sum(c["happy"] for c in clustered["clusters"]) == 4
    listed = twin.client.get(f"{API}/places?cluster=false&limit=5").json()
    assert (listed["mode"], listed["total"], len(listed["places"])) == ("pins", 8, 5)
    filtered = twin.client.get(f"{API}/places?kind=happy&zoom=13").json()
    assert (filtered["mode"], filtered["total"]) == ("pins", 4)
    west = twin.client.get(f"{API}/places?bbox=11.27,49.50,11.279,49.52").json()
    assert west["total"] == 4
    paged = twin.client.get(f"{API}/places?kind=happy&limit=3&offset=3&sort=old").json()
    assert len(paged["places"]) == 1


def test_exports_hold_public_places(twin: Twin) -> None:
    me = twin.participant()
    twin.post_place(me, title="=1+1", text='Komma, "Zitat"')
    geojson = twin.client.get(f"{API}/places.geojson")
    assert geojson.headers["content-type"] == "application/geo+json"
    assert geojson.headers["x-content-type-options"] == "nosniff"
    feature = geojson.json()["features"][0]
    assert feature["properties"]["title"] == "=1+1"
    text = twin.client.get(f"{API}/places.csv")
    assert text.headers["content-type"].startswith("text/csv")
    row = next(csv.DictReader(io.StringIO(text.text)))
    assert (row["title"], row["text"]) == ("'=1+1", 'Komma, "Zitat"')


def test_the_lens_is_coarser_for_the_public(twin: Twin) -> None:
    me = twin.participant()
    for _ in range(3):
        twin.post_place(me)  # one participant with three places counts once
    for _ in range(5):
        twin.post_place(twin.participant())  # school families, in one cell
    lens = twin.client.get(f"{API}/lens").json()
    assert lens["resolution"] == 8
    assert lens["counted"] == "participants"
    groups = {g["id"]: g for g in lens["groups"]}
    assert groups["school_families"]["contributions"] == 6
    assert groups["school_families"]["contribution_share"] == 1.0
    assert "young_families" in lens["under_heard"]["groups"]
    assert lens["under_heard"]["cells"]
    assert twin.client.get(f"{API}/lens?resolution=9").status_code == 403
    fine = twin.client.get(f"{API}/lens?resolution=9", headers=twin.bearer("council"))
    assert fine.status_code == 200
    assert fine.json()["resolution"] == 9
    assert twin.client.get("/api/twins/nrw/lens").status_code == 404  # no population there


def test_reading_creates_no_live_store(twin: Twin) -> None:
    assert twin.client.get("/api/twins/rostock/places").json()["total"] == 0
    assert twin.client.get("/api/twins/rostock/places.geojson").json()["features"] == []
    assert not live_store_file(twin.paths.store_dir, "rostock").exists()


def test_places_are_an_ogc_collection_and_vector_tiles_of_public_fields(twin: Twin) -> None:
    """GIS teams read the places through OGC API Features: visible ones only, no hashes or self-descriptions."""
    kept = twin.post_place(twin.participant(), title="Bank am Fluss")["place_id"]
    hidden = twin.post_place(twin.participant(), title="Wird versteckt", location={"lon": 11.2781, "lat": 49.5101})
    admin = twin.bearer("admin")
    response = twin.client.post(
        f"{API}/places/{hidden['place_id']}/moderation", json={"action": "hide", "reason": "doppelt"}, headers=admin
    )
    assert response.status_code == 200
    items = twin.client.get(f"{API}/features/collections/places/items").json()
    assert items["numberMatched"] == 1
    feature = items["features"][0]
    assert (feature["id"], feature["properties"]["title"]) == (kept, "Bank am Fluss")
    assert feature["geometry"] == {"type": "Point", "coordinates": [11.278, 49.51]}
    assert not {"self_description", "participant", "ip_hash", "remarks"} & set(feature["properties"])
    assert twin.client.get(f"{API}/features/collections/places/items/{hidden['place_id']}").status_code == 404
    tile = twin.client.get(f"{API}/mvt/places/16/34821/22364.pbf")  # the tile of the pins at zoom 16
    assert tile.status_code == 200
    assert b"Bank am Fluss" in tile.content
    assert b"Wird versteckt" not in tile.content
