"""``GET /api/twins/{twin}/search``: what a person finds by typing, over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def _search(client: TestClient, twin: str, q: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/api/twins/{twin}/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _names(answer: dict[str, Any]) -> list[str]:
    return [r["name"] for r in answer["results"]]


def test_marktplatz_finds_the_lauf_street_first_then_the_stop_and_the_address(client: TestClient) -> None:
    answer = _search(client, "lauf", "marktplatz")
    first = answer["results"][0]
    assert (first["kind"], first["name"], first["detail"]) == ("street", "Marktplatz", "Lauf a.d. Pegnitz")
    west, south, east, north = first["bbox"]
    assert west < first["lon"] < east
    assert south < first["lat"] < north
    assert {"Lauf Marktplatz", "Marktplatz 1"} <= set(_names(answer))
    assert answer["fuzzy"] is False


def test_an_address_is_found_by_street_and_number(client: TestClient) -> None:
    first = _search(client, "lauf", "Marktplatz 1")["results"][0]
    assert (first["kind"], first["name"]) == ("address", "Marktplatz 1")
    assert first["detail"] == "91207 Lauf a.d.Pegnitz"  # the address's own postcode and town (OSM)
    assert first["ref"].startswith("way/")  # the building, for the viewer to select
    building = client.get(f"/api/twins/lauf/buildings/{first['ref']}")
    assert building.status_code == 200


@pytest.mark.parametrize(
    "query", ["Adolf-Becker-Str.", "adolf becker strasse", "Adolf-Becker-Straße", "adolf beck str", "ADOLF-BECKER"]
)
def test_every_way_of_writing_a_street_finds_it(client: TestClient, query: str) -> None:
    first = _search(client, "rostock", query)["results"][0]
    assert (first["kind"], first["name"]) == ("street", "Adolf-Becker-Str.")
    assert first["detail"] == "Kröpeliner-Tor-Vorstadt IV"


@pytest.mark.parametrize("query", ["kroep", "Kröp", "kroepeliner", "Kröpeliner-Tor"])
def test_kroep_finds_the_kroepeliner_tor_vorstadt(client: TestClient, query: str) -> None:
    answer = _search(client, "rostock", query)
    assert answer["fuzzy"] is False
    assert _names(answer)[0] == "Kröpeliner-Tor-Vorstadt"  # the Stadtbereich, then its four Bezirke
    assert {r["kind"] for r in answer["results"]} == {"district"}
    assert [r["detail"] for r in answer["results"][1:]] == ["Kröpeliner-Tor-Vorstadt"] * 4


def test_kroepeliner_strasse_is_not_in_the_data_and_the_district_is_offered_instead(client: TestClient) -> None:
    # The bundled register holds only streets beginning with "A" (see geodata/rostock/strassen/SOURCE.md).
    answer = _search(client, "rostock", "Kröpeliner Straße")
    assert answer["fuzzy"] is True
    assert "Kröpeliner-Tor-Vorstadt" in _names(answer)
    assert "Kröpeliner Straße" not in _names(answer)


def test_rostock_districts_by_name_and_code(client: TestClient) -> None:
    answer = _search(client, "rostock", "Evershagen")
    assert _names(answer)[:2] == ["Evershagen", "Evershagen I"]
    assert [r["kind"] for r in answer["results"]] == ["district"] * len(answer["results"])
    coded = _search(client, "rostock", "162")["results"][0]
    assert (coded["name"], coded["ref"]) == ("Kröpeliner-Tor-Vorstadt II", "bezirk:162")


def test_a_typo_still_finds_the_street(client: TestClient) -> None:
    answer = _search(client, "lauf", "Markplatz")
    assert answer["fuzzy"] is True
    assert _names(answer)[0] == "Marktplatz"


def test_facility_categories_read_in_the_callers_language(client: TestClient) -> None:
    de = _search(client, "lauf", "Markt-Apotheke")["results"][0]
    en = _search(client, "lauf", "Markt-Apotheke", lang="en")["results"][0]
    assert (de["kind"], de["detail"], en["detail"]) == ("facility", "Apotheke", "pharmacy")
    kita = _search(client, "lauf", "Bertlein-KiTa")["results"][0]
    assert kita["detail"] == "Kita"  # amenity=kindergarten
    limited = _search(client, "lauf", "apotheke", limit=2)
    assert len(limited["results"]) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"q": ""},
        {"q": "x" * 101},
        {},
        {"q": "markt", "limit": 0},
        {"q": "markt", "limit": 51},
        {"q": "markt", "limit": "ten"},
        {"q": "markt", "lang": "fr"},
    ],
)
def test_bad_queries_are_refused(client: TestClient, params: dict[str, Any]) -> None:
    assert client.get("/api/twins/lauf/search", params=params).status_code == 422


def test_an_unknown_twin_is_not_found(client: TestClient) -> None:
    response = client.get("/api/twins/atlantis/search", params={"q": "markt"})
    assert response.status_code == 404
    assert "/" not in response.json()["error"].replace("'", "")  # no path in the answer


def test_sql_and_like_characters_neither_break_nor_widen_the_search(client: TestClient) -> None:
    plain = _search(client, "lauf", "marktplatz")
    for query in ["marktplatz%", "marktplatz_", "%marktplatz", "marktplatz'--", "(marktplatz)"]:
        assert _search(client, "lauf", query)["results"] == plain["results"], query
    # SQL in the query is words like any other: the answer is that of the words alone.
    injected = _search(client, "lauf", 'marktplatz"; DROP TABLE search_index; --')
    assert injected == {**_search(client, "lauf", "marktplatz drop table search index"), "query": injected["query"]}
    # Only separators: nothing to look for, not everything.
    for query in ["%", "_", "%_%", "--", "*", "'"]:
        assert _search(client, "lauf", query)["results"] == [], query
    tautology = _search(client, "lauf", "' OR '1'='1", limit=50)["results"]
    assert tautology == _search(client, "lauf", "or 1 1", limit=50)["results"]
    assert all(r["name"].lower().startswith("or") for r in tautology)  # Orffstraße 1..., not everything
    # "%arkt" is the word "arkt", not "anything, then arkt": no name has a word beginning with it.
    wild = _search(client, "lauf", "%arkt")
    assert wild["results"] == _search(client, "lauf", "arkt")["results"]
    assert "Marktplatz" not in _names(wild)
    # The index is still there after every attempt.
    assert _search(client, "lauf", "marktplatz")["results"] == plain["results"]


def test_search_is_in_the_access_matrix_and_public() -> None:
    from twin3d.server.access import MATRIX, PUBLIC  # noqa: PLC0415

    assert MATRIX[("GET", "/api/twins/{twin}/search")] == PUBLIC


def test_the_street_register_is_an_ogc_api_collection(client: TestClient) -> None:
    collections = client.get("/api/twins/rostock/features/collections").json()["collections"]
    assert "streets" in [c["id"] for c in collections]
    items = client.get("/api/twins/rostock/features/collections/streets/items", params={"limit": 200}).json()
    assert items["numberMatched"] == 157
    props = {f["properties"]["name"]: f["properties"] for f in items["features"]}
    assert props["Adolf-Becker-Str."]["street_key"] == "00110"  # the city's street key
    lauf = client.get("/api/twins/lauf/features/collections").json()["collections"]
    assert "streets" not in [c["id"] for c in lauf]  # Lauf has no street register (its streets are paths)
