"""The twin catalogue speaks to an English viewer: keys for the texts the server names itself (the layer titles),
and the English texts the twin definition gives for what the municipality wrote (title, description, district
levels, the choropleth's label)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

STRINGS = Path(__file__).resolve().parents[2] / "viewer" / "js" / "strings"


def _twins(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/api/twins")
    assert response.status_code == 200
    return {twin["name"]: twin for twin in response.json()}


def test_layers_the_server_names_carry_a_key_beside_the_german_title(client: TestClient) -> None:
    layers = {layer["id"]: layer for layer in _twins(client)["lauf"]["layers"]}
    # The German title stays for API clients; the viewer translates the key.
    assert layers["grid"] == layers["grid"] | {"title": "Zensus-Gitter", "title_key": "layerGrid"}
    assert layers["facilities"]["title_key"] == "layerFacilities"
    assert layers["paths"]["title_key"] == "layerPaths"
    # Every key the server sends is in the viewer's string tables, in German and in English.
    tables = "\n".join(path.read_text(encoding="utf-8") for path in STRINGS.glob("*.js"))
    for layer in layers.values():
        if "title_key" in layer:
            assert len(re.findall(rf"^\s+{layer['title_key']}:", tables, re.MULTILINE)) == 2, layer["title_key"]


def test_the_municipalitys_texts_come_in_english_where_the_definition_gives_them(client: TestClient) -> None:
    twins = _twins(client)
    rostock = twins["rostock"]
    assert rostock["title"] == "Hanse- und Universitätsstadt Rostock"
    assert rostock["i18n"]["en"]["title"] == "Hanseatic and University City of Rostock"
    assert rostock["i18n"]["en"]["description"].startswith("21 city areas")
    levels = {layer["id"]: layer for layer in rostock["layers"] if layer["kind"] == "districts"}
    assert levels["districts:stadtbereich"]["title"] == "Stadtbereiche"
    assert levels["districts:stadtbereich"]["i18n"] == {"en": {"title": "City areas"}}
    assert levels["districts:bezirk"]["i18n"] == {"en": {"title": "Statistical districts"}}
    assert rostock["choropleth"]["label"].startswith("Einwohner je km²")
    assert rostock["choropleth"]["i18n"]["en"]["label"].startswith("Residents per km²")
    assert "label_en" not in rostock["choropleth"]
    # Each attribution line in English, in the same order as the German ones.
    assert len(rostock["i18n"]["en"]["attribution"]) == len(rostock["attribution"])
    assert rostock["i18n"]["en"]["attribution"][1].startswith("Census 2022 1 km grid")
    # Monzel's title is a name, the same in both languages: only the description is translated.
    assert twins["monzel"]["i18n"]["en"].keys() == {"description", "attribution"}
    for name in ("lauf", "rostock", "monzel"):
        assert twins[name]["i18n"]["en"]["description"], name


def test_one_twin_answers_with_its_english_texts_too(client: TestClient) -> None:
    lauf = client.get("/api/twins/lauf").json()
    assert lauf["i18n"]["en"]["title"] == "Lauf an der Pegnitz"
    assert lauf["choropleth"]["i18n"]["en"]["label"] == "Residents per km² (census 2022)"
