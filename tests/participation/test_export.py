"""Exports carry public fields of public places only; CSV cells cannot run as spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from twin3d.participation import export, review
from twin3d.participation import store as sql
from twin3d.participation.model import ModerationIn, PlaceIn
from twin3d.settings import LiveSettings
from twin3d.store.live import LiveStore, LiveStores

PRIVATE = ("participant", "ip_hash", "age_band", "household", "remark", "h3_10")


@pytest.fixture
def stores(tmp_path: Path, live_settings: LiveSettings) -> Iterator[LiveStores]:
    stores = LiveStores(tmp_path, live_settings)
    store = stores.get("lauf", create=True)
    assert store is not None
    sql.add_participant(store, "p", "ip")
    author = sql.Author("p", "ip")
    for title, text, status in [
        ('=HYPERLINK("http://x")', '+1 Zeile\nzwei, "drei"', "visible"),
        ("Versteckt", "Spam", "hidden"),
        ("Neu", "wartet", "new"),
        ("@Rathaus", "-minus", "visible"),
    ]:
        body = PlaceIn.model_validate(
            {
                "kind": "improvable",
                "category": "safety",
                "title": title,
                "text": text,
                "location": {"lon": 11.28, "lat": 49.51},
                "self_description": {"age_band": "30_44", "household": "alone"},
            }
        )
        sql.add_place(store, body, author, status=status, h3_10=1, height=None)
    review.add_remark(store, 1, "intern: Anwohner kennt den Kämmerer", author="admin")
    review.moderate(store, 4, ModerationIn(action="answer", answer="=SUMME(A1)"), moderator="admin")
    yield stores
    stores.close()  # a PostgreSQL pool left to the garbage collector would be closed in its own worker thread


def test_geojson_holds_public_places_and_fields(stores: LiveStores) -> None:
    data = json.loads(export.geojson(stores.get("lauf", create=False)))
    features = data["features"]
    assert [f["id"] for f in features] == [1, 4]
    assert features[0]["geometry"] == {"type": "Point", "coordinates": [11.28, 49.51]}
    assert features[0]["properties"]["title"] == '=HYPERLINK("http://x")'  # JSON keeps the text as it is
    assert set(features[0]["properties"]) == set(export.PUBLIC_FIELDS) - {"lon", "lat"}
    text = json.dumps(data)
    assert not any(f'"{name}"' in text for name in PRIVATE)
    assert "Kämmerer" not in text


def test_csv_neutralises_formulas_and_quotes(stores: LiveStores) -> None:
    text = export.csv(stores.get("lauf", create=False)).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["place_id"] for r in rows] == ["1", "4"]
    assert rows[0]["title"] == '\'=HYPERLINK("http://x")'
    assert rows[0]["text"] == '\'+1 Zeile\nzwei, "drei"'
    assert rows[1]["title"] == "'@Rathaus"
    assert rows[1]["answer"] == "'=SUMME(A1)"
    assert rows[1]["status"] == "answered"
    assert list(rows[0]) == list(export.PUBLIC_FIELDS)
    assert "Kämmerer" not in text


def test_public_places_rows_for_other_publishers(stores: LiveStores, tmp_path: Path) -> None:
    rows = export.public_places(stores, "lauf")
    assert [r["place_id"] for r in rows] == [1, 4]
    assert set(rows[0]) == set(export.PUBLIC_FIELDS)
    assert export.public_places(stores, "lauf", limit=1, offset=1)[0]["place_id"] == 4
    assert export.public_places(stores, "lauf", bbox=(0.0, 0.0, 1.0, 1.0)) == []
    assert export.public_places(stores, "another") == []  # a twin without a live store
    assert json.loads(export.geojson(None)) == {"type": "FeatureCollection", "features": []}
    assert export.csv(None).decode().startswith("place_id,kind,")


def test_stores_are_only_read(stores: LiveStores) -> None:
    store = stores.get("lauf", create=False)
    assert isinstance(store, LiveStore)
    before = store.read("SELECT count(*) AS n FROM places")
    export.csv(store)
    export.geojson(store)
    assert store.read("SELECT count(*) AS n FROM places") == before
