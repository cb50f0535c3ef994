"""Attacks on the server's edges over HTTP: non-finite JSON numbers, HEAD, security headers, what an error tells,
tokens of other twins, and invisible characters in citizens' texts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from tests.conftest import GENEROUS_PARTICIPATION, private_paths
from tests.server.test_access import url_of
from twin3d.auth.users import add_user
from twin3d.pipeline.report import BuildReport
from twin3d.server.access import MATRIX, PUBLIC, matrix_keys
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings
from twin3d.store.connection import connect

API = "/api/twins/lauf"
PLACE: dict[str, Any] = {
    "kind": "happy",
    "category": "green",
    "title": "Stadtpark",
    "text": "Schöne Bänke",
    "location": {"lon": 11.278, "lat": 49.51},
}
# Every JSON body a caller can post, with one number the attack replaces (``%s``).
BODIES = {
    "/participants": '{"workshop_code": %s}',
    "/places": '{"kind": "happy", "category": "green", "title": "P", "text": "x", "location": {"lon": %s, "lat": 5}}',
    "/places/1/votes": '{"value": %s}',
    "/places/1/comments": '{"text": "x", "parent_id": %s}',
    "/places/1/reports": '{"reason": "spam", "comment_id": %s}',
    "/places/1/moderation": '{"action": "answer", "answer": "a", "x": [1, {"y": %s}]}',
    "/places/1/comments/1/moderation": '{"action": "show", "x": %s}',
    "/places/1/remarks": '{"text": "a", "x": %s}',
    "/workshops": '{"label": "a", "quota": 3, "hours": %s}',
    "/scenarios": '{"name": "a", "measures": [{"kind": "projection", "years": %s}]}',
    f"/scenarios/{'0' * 64}/for-me": '{"persona": "young_families", "home": {"lon": %s, "lat": 49.5}}',
    f"/scenarios/{'0' * 64}/listing": '{"listed": true, "x": %s}',
    "/proposals": '{"title": "a", "text": "x", "topic": "green", "location": {"lon": %s, "lat": 49.5}}',
    "/proposals/1/votes": '{"value": %s}',
    "/proposals/1/comments": '{"text": "x", "parent_id": %s}',
    "/proposals/1/reports": '{"reason": "spam", "comment_id": %s}',
    "/proposals/1/moderation": '{"action": "show", "x": %s}',
    "/proposals/1/comments/1/moderation": '{"action": "show", "x": %s}',
    "/proposals/1/stage": '{"stage": "adopted", "x": [%s]}',
    "/proposals/1/scenario": '{"scenario_id": "a", "x": %s}',
    "/surveys": '{"title": "a", "questions": [{"x": %s}]}',
    "/surveys/confirmations": '{"token": "a", "x": %s}',
    "/surveys/1/state": '{"state": "open", "x": %s}',
    "/surveys/1/responses": '{"answers": {"q1": %s}}',
    "/surveys/1/codes": '{"count": %s}',
    "/layers/services": '{"kind": "wms", "url": "http://127.0.0.1:9/wms", "layer": "a", "x": %s}',
    "/shadows": '{"time": "2026-03-21T12:00", "bbox": [11.27, 49.50, %s, 49.51]}',
}
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1" + "0" * 400, "-1" + "0" * 4400]


@pytest.fixture
def paths(tmp_path: Path, demo_paths: PathSettings, built: dict[str, BuildReport]) -> PathSettings:
    return private_paths(tmp_path, demo_paths, ("lauf", "rostock"))


@pytest.fixture
def app(paths: PathSettings) -> FastAPI:
    return create_app(ServerSettings(), paths, GENEROUS_PARTICIPATION)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def bearer(paths: PathSettings, name: str, role: str, twins: list[str] | None = None) -> dict[str, str]:
    _, token = add_user(paths.users_file, name, role, twins)
    return {"Authorization": f"Bearer {token}"}


def participant(client: TestClient) -> dict[str, str]:
    return {"X-Participant-Token": client.post(f"{API}/participants").json()["token"]}


# --- 1. non-finite numbers in JSON bodies ---------------------------------------------------------------------


def test_every_json_body_with_a_non_finite_number_gets_a_clean_422(client: TestClient, paths: PathSettings) -> None:
    headers = {**participant(client), **bearer(paths, "verwaltung", "admin"), "Content-Type": "application/json"}
    posted = [path for method, path in matrix_keys(client.app) if method == "POST"]  # type: ignore[arg-type]
    multipart = [f"{API}/layers", f"{API}/models", f"{API}/layers/x/refresh"]  # uploads, and a refresh: no JSON body
    assert sorted([*(f"{API}{p}" for p in BODIES), *multipart]) == sorted(url_of(p) for p in posted), "add an attack"
    assert client.post(f"{API}/places", json=PLACE, headers=headers).status_code == 201
    for path, body in BODIES.items():
        for number in NON_FINITE:
            response = client.post(f"{API}{path}", content=body % number, headers=headers)
            assert "Traceback" not in response.text
            if response.status_code == 413:  # the 4,400 digits are more than a small route takes at all
                continue
            assert response.status_code == 422, (path, number[:10], response.text[:200])
            (detail,) = response.json()["detail"]
            assert detail["type"] == "json_invalid"
            assert "not a JSON number" in detail["ctx"]["error"]


def test_words_like_nan_in_texts_and_large_finite_numbers_still_pass(client: TestClient) -> None:
    who = participant(client)
    body = {**PLACE, "title": "NaN Infinity 1e400", "location": {"lon": 11.278, "lat": 4.951e1}}
    response = client.post(f"{API}/places", json=body, headers=who)
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "NaN Infinity 1e400"
    big = client.post(f"{API}/places/1/comments", content='{"text": "x", "parent_id": 1e300}', headers=who)
    assert big.status_code == 422  # finite but out of range: the model's own answer
    assert big.json()["detail"][0]["type"] != "json_invalid"


def test_a_route_that_reads_the_body_itself_gets_the_same_422(paths: PathSettings, monkeypatch: Any) -> None:
    app = create_app(ServerSettings(), paths)

    async def echo(request: Request) -> dict[str, Any]:
        return {"got": await request.json()}

    app.add_api_route("/api/echo", echo, methods=["POST"])
    monkeypatch.setitem(MATRIX, ("POST", "/api/echo"), PUBLIC)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.post("/api/echo", json={"a": 1.5}).json() == {"got": {"a": 1.5}}
        refused = c.post("/api/echo", content='{"a": [NaN]}', headers={"Content-Type": "application/json"})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["type"] == "json_invalid"


# --- 2. HEAD ----------------------------------------------------------------------------------------------------


def test_head_answers_like_get_on_every_route(client: TestClient, paths: PathSettings) -> None:
    admin = bearer(paths, "verwaltung", "admin")
    assert client.post(f"{API}/places", json=PLACE, headers=participant(client)).status_code == 201
    urls = [url_of(path) for method, path in matrix_keys(client.app) if method == "GET"]  # type: ignore[arg-type]
    urls += [f"{API}/places/1", "/tiles/lauf/tileset.json", "/api/nothing-here"]
    different = []
    for url in urls:
        for headers in ({}, admin):
            got, head = client.get(url, headers=headers), client.head(url, headers=headers)
            same = {k: v for k, v in got.headers.items() if k not in ("date", "content-length")}
            if head.status_code != got.status_code or head.content or head.headers.get("etag") != same.get("etag"):
                different.append(f"{url}: HEAD {head.status_code} GET {got.status_code}")
            if got.status_code == 200 and "content-length" in got.headers:
                assert head.headers["content-length"] == got.headers["content-length"], url
            assert head.headers.get("content-type") == got.headers.get("content-type"), url
    assert different == []
    assert client.head(f"{API}/moderation/queue").status_code == 403  # HEAD is authorised as the GET it is
    assert client.head(f"{API}").status_code == 200


# --- 3. security headers ----------------------------------------------------------------------------------------


def test_every_answer_has_nosniff_and_a_referrer_policy(client: TestClient) -> None:
    answers = [
        client.get("/api/twins"),
        client.get(f"{API}/moderation/queue"),  # 403 from the access layer
        client.get("/api/twins", headers={"Authorization": "Bearer nope"}),  # 401
        client.get("/api/nothing"),  # 404 from the router
        client.get("/js/main.js"),  # a static file
        client.post(f"{API}/places", content="{", headers={"Content-Type": "application/json"}),  # 422
    ]
    for response in answers:
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url
        assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin"), response.url


def test_the_viewer_page_may_be_framed_by_its_own_origin_only(client: TestClient) -> None:
    for url in ("/", "/index.html"):
        response = client.get(url)
        assert response.status_code == 200
        policy = response.headers["Content-Security-Policy"]
        directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
        assert directives["frame-ancestors"] == ["'self'"]
        assert directives["default-src"] == ["'self'"]
        assert "'self'" in directives["script-src"]  # the page's own <meta> policy, which the viewer works with
        assert directives["object-src"] == ["'none'"]
        assert client.head(url).headers["Content-Security-Policy"] == policy
    report = client.get(f"{API}/population/report.html")  # its own stricter policy is kept, framing limited too
    assert report.status_code == 200
    assert "frame-ancestors 'self'" in report.headers["Content-Security-Policy"]
    assert "default-src 'none'" in report.headers["Content-Security-Policy"]


# --- 5. no paths, interpreters or PIDs in answers -------------------------------------------------------------


def _store_error_app(paths: PathSettings, store: Path, monkeypatch: Any) -> FastAPI:
    app = create_app(ServerSettings(), paths)

    def open_store() -> dict[str, str]:
        connect(store).close()
        return {"opened": "yes"}

    app.add_api_route("/api/open-store", open_store, methods=["GET"])
    monkeypatch.setitem(MATRIX, ("GET", "/api/open-store"), PUBLIC)
    return app


def _assert_tells_nothing_of_the_server(text: str, store: Path) -> None:
    for secret in ("/", "\\", "python", "PID", "pid ", store.name, str(store.parent)):
        assert secret not in text, (secret, text)


def test_a_locked_store_answers_503_without_paths_interpreter_or_pid(
    paths: PathSettings, tmp_path: Path, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store = tmp_path / "locked.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "sys.stdin.read()", str(store)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ok"
        with TestClient(_store_error_app(paths, store, monkeypatch), raise_server_exceptions=False) as c:
            response = c.get("/api/open-store")
            head = c.head("/api/open-store")
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert (response.status_code, head.status_code) == (503, 503)
    assert set(response.json()) == {"error", "hint"}
    _assert_tells_nothing_of_the_server(response.text, store)
    assert str(holder.pid) not in response.text
    assert str(store) in caplog.text  # the whole story is in the server log


def test_a_damaged_store_answers_503_without_its_path(paths: PathSettings, tmp_path: Path, monkeypatch: Any) -> None:
    store = tmp_path / "secret-folder" / "damaged.duckdb"
    store.parent.mkdir()
    store.write_bytes(b"not a database" * 1000)
    with TestClient(_store_error_app(paths, store, monkeypatch), raise_server_exceptions=False) as c:
        response = c.get("/api/open-store")
    assert response.status_code == 503
    _assert_tells_nothing_of_the_server(response.text, store)
    assert "secret-folder" not in response.text


# --- 6. a token of another twin -------------------------------------------------------------------------------


def test_a_token_of_another_twin_is_anonymous_here_never_weaker(client: TestClient, paths: PathSettings) -> None:
    rostock_admin = bearer(paths, "rostock-admin", "admin", ["rostock"])
    who = {**participant(client), **rostock_admin}
    for url in (API, f"{API}/places", f"{API}/features/collections", f"{API}/population/summary", f"{API}/lens"):
        anonymous, token = client.get(url), client.get(url, headers=rostock_admin)
        assert token.status_code == anonymous.status_code == 200, url
    assert client.post(f"{API}/places", json=PLACE, headers=who).status_code == 201
    assert client.get(f"{API}/places", headers=rostock_admin).json() == client.get(f"{API}/places").json()
    for method, url in (("GET", f"{API}/moderation/queue"), ("POST", f"{API}/workshops")):
        refused = client.request(method, url, headers=rostock_admin, json={})
        assert refused.status_code == client.request(method, url, json={}).status_code == 403
        assert "no role in the twin 'lauf'" in refused.json()["error"]
    assert client.get("/api/twins/rostock/moderation/queue", headers=rostock_admin).status_code == 200
    assert client.get(API, headers={"Authorization": "Bearer t3d_unknown"}).status_code == 401  # still refused


# --- 7. invisible characters in citizens' texts ----------------------------------------------------------------

HIDDEN = "\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\U000e0041\U000e007f"


def test_invisible_and_bidi_characters_never_reach_the_store(client: TestClient) -> None:
    who = participant(client)
    body = {**PLACE, "title": f"Stadt{HIDDEN}park", "text": f"{HIDDEN}Schöne\u200b Bänke\U000e0068\U000e0069"}
    posted = client.post(f"{API}/places", json=body, headers=who)
    assert posted.status_code == 201, posted.text
    place_id = posted.json()["place_id"]
    stored = client.get(f"{API}/places/{place_id}").json()
    assert (stored["title"], stored["text"]) == ("Stadtpark", "Schöne Bänke")
    comment = client.post(f"{API}/places/{place_id}/comments", json={"text": f"Ja{HIDDEN}!"}, headers=who)
    assert comment.json()["text"] == "Ja!"
    assert [c["text"] for c in client.get(f"{API}/places/{place_id}/comments").json()] == ["Ja!"]
    only_hidden = client.post(f"{API}/places", json={**PLACE, "title": HIDDEN}, headers=who)
    assert only_hidden.status_code == 422
    assert only_hidden.json()["detail"][0]["loc"] == ["body", "title"]
    empty_comment = client.post(f"{API}/places/{place_id}/comments", json={"text": f" {HIDDEN} "}, headers=who)
    assert empty_comment.status_code == 422


def test_scenario_names_are_cleaned_as_citizens_texts(client: TestClient) -> None:
    spec = {
        "name": f"Neues{HIDDEN} Quartier",
        "description": "a\u202eb",
        "measures": [{"kind": "projection", "years": 5}],
    }
    posted = client.post(f"{API}/scenarios", json=spec)
    assert posted.status_code in (200, 201), posted.text
    stored = client.get(f"{API}/scenarios/{posted.json()['scenario_id']}").json()
    assert (stored["spec"]["name"], stored["spec"]["description"]) == ("Neues Quartier", "ab")
