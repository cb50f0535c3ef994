"""OGC API Features items as an Arrow stream (``f=arrow``): the same features as the GeoJSON pages, in a form a
notebook reads without parsing JSON (WKB geometry with GeoArrow metadata, counts and the next page in headers)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient

from tests.conftest import GEODATA
from twin3d.auth.users import add_user
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.load import load_layer
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

ARROW = "application/vnd.apache.arrow.stream"
ITEMS = "/api/twins/{twin}/features/collections/{collection}/items"
LAUF_CENTRE = (11.2775, 49.5098)
CENTRE_BBOX = "11.2745,49.5080,11.2805,49.5116"  # about 430 m by 400 m around Lauf's old town


def _read(content: bytes) -> pa.Table:
    return pa.ipc.open_stream(pa.BufferReader(content)).read_all()


def _both(client: TestClient, twin: str, collection: str, params: dict[str, Any]) -> tuple[Any, Any]:
    """The GeoJSON page and the Arrow answer of the same query."""
    url = ITEMS.format(twin=twin, collection=collection)
    geojson = client.get(url, params=params)
    arrow = client.get(url, params={**params, "f": "arrow"})
    assert geojson.status_code == 200, geojson.text
    assert arrow.status_code == 200, arrow.text
    assert arrow.headers["content-type"] == ARROW
    return geojson, arrow


def _property(value: Any) -> Any:
    """An Arrow value as GeoJSON writes it (DuckDB's JSON columns arrive in Arrow as their text)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _ids(table: pa.Table) -> list[Any]:
    """The feature ids of an Arrow page: the column its metadata names."""
    return table.column(table.schema.metadata[b"id_column"].decode()).to_pylist()


def _assert_same_features(page: dict[str, Any], table: pa.Table) -> None:
    """Same ids in the same order, the same properties (a loaded layer's own property named ``id`` too),
    geometries equal within 1e-9 degrees."""
    features = page["features"]
    rows = table.to_pylist()
    assert [f["id"] for f in features] == _ids(table)
    for feature, row in zip(features, rows, strict=True):
        got = {k: _property(v) for k, v in row.items() if k != "geometry"}
        assert got == feature["properties"], feature["id"]
    wkb = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    geojson = [shapely.geometry.shape(f["geometry"]) for f in features]
    assert all(shapely.equals_exact(a, b, tolerance=1e-9) for a, b in zip(wkb, geojson, strict=True))


@pytest.mark.parametrize(
    ("twin", "collection", "params"),
    [
        ("lauf", "buildings", {"limit": 500}),
        ("lauf", "buildings", {"limit": 300, "offset": 4000}),
        ("lauf", "buildings", {"bbox": CENTRE_BBOX, "limit": 10_000}),
        ("lauf", "buildings", {"building_type": "yes", "bbox": CENTRE_BBOX, "limit": 50, "offset": 20}),
        ("lauf", "facilities", {"limit": 1000}),
        ("lauf", "paths", {"bbox": CENTRE_BBOX, "limit": 2000}),
        ("rostock", "districts_stadtbereich", {"limit": 100}),
    ],
)
def test_arrow_items_are_the_geojson_page(
    client: TestClient, twin: str, collection: str, params: dict[str, Any]
) -> None:
    geojson, arrow = _both(client, twin, collection, params)
    page, table = geojson.json(), _read(arrow.content)
    assert table.num_rows == page["numberReturned"] > 0
    assert int(arrow.headers["OGC-NumberReturned"]) == page["numberReturned"]
    assert int(arrow.headers["OGC-NumberMatched"]) == page["numberMatched"]
    _assert_same_features(page, table)


def test_arrow_geometry_is_geoarrow_wkb_in_lon_lat(client: TestClient) -> None:
    _, arrow = _both(client, "lauf", "buildings", {"bbox": CENTRE_BBOX, "limit": 100})
    table = _read(arrow.content)
    field = table.schema.field("geometry")
    assert field.type == pa.binary()
    assert field.metadata[b"ARROW:extension:name"] == b"geoarrow.wkb"
    assert "CRS84" in json.loads(field.metadata[b"ARROW:extension:metadata"])["crs"]
    west, south, east, north = shapely.total_bounds(shapely.from_wkb(table.column("geometry").to_pylist()))
    assert 11.27 < west < east < 11.29  # lon/lat, not the twin's metres
    assert 49.50 < south < north < 49.52


def test_arrow_pages_link_to_the_next_one_until_the_last(client: TestClient) -> None:
    url = ITEMS.format(twin="lauf", collection="buildings")
    first = client.get(url, params={"f": "arrow", "bbox": CENTRE_BBOX, "limit": 100})
    matched = int(first.headers["OGC-NumberMatched"])
    assert matched > 200, "the old town needs more than two pages of 100"
    pages, ids, response = 1, _ids(_read(first.content)), first
    while "next" in response.links:
        link = response.links["next"]["url"]
        assert "f=arrow" in link
        assert f"bbox={CENTRE_BBOX}" in link.replace("%2C", ",")
        response = client.get(link)
        assert response.status_code == 200
        assert response.headers["content-type"] == ARROW
        ids += _ids(_read(response.content))
        pages += 1
    assert "link" not in response.headers  # the last page names no next one
    assert int(response.headers["OGC-NumberReturned"]) == matched - (pages - 1) * 100 > 0
    assert pages == -(-matched // 100)
    assert len(ids) == len(set(ids)) == matched
    whole = _read(client.get(url, params={"f": "arrow", "bbox": CENTRE_BBOX, "limit": 10_000}).content)
    assert ids == _ids(whole)


def test_a_page_past_the_end_is_an_empty_stream(client: TestClient) -> None:
    response = client.get(ITEMS.format(twin="lauf", collection="facilities"), params={"f": "arrow", "offset": 10**6})
    assert response.status_code == 200
    table = _read(response.content)
    assert table.num_rows == 0
    assert "geometry" in table.schema.names
    assert response.headers["OGC-NumberReturned"] == "0"
    assert "link" not in response.headers


@pytest.mark.parametrize("value", ["csv", "ARROW", "parquet"])
def test_an_unknown_format_is_422_naming_f(client: TestClient, value: str) -> None:
    response = client.get(ITEMS.format(twin="lauf", collection="buildings"), params={"f": value})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["query", "f"]]


def test_collection_documents_offer_the_arrow_items(client: TestClient) -> None:
    listing = client.get("/api/twins/lauf/features/collections").json()["collections"]
    for doc in [*listing, client.get("/api/twins/lauf/features/collections/buildings").json()]:
        items = {link["type"]: link["href"] for link in doc["links"] if link["rel"] == "items"}
        assert items[ARROW].endswith(f"/collections/{doc['id']}/items?f=arrow"), doc["id"]
        assert "application/geo+json" in items
    href = next(link["href"] for link in listing[0]["links"] if link.get("type") == ARROW)
    answer = client.get(f"{href}&limit=5")  # the link as a client follows it, with its own query kept
    assert answer.headers["content-type"] == ARROW
    assert _read(answer.content).num_rows == min(5, int(answer.headers["OGC-NumberMatched"]))


@pytest.fixture(scope="module")
def council_layer(
    tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, Any]
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """Lauf with its OSM buildings loaded as a council layer (``intern``), and a council member's header."""
    root: Path = tmp_path_factory.mktemp("arrow-layers")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    paths.store_dir.mkdir()
    paths.store_file("lauf").symlink_to(demo_paths.store_file("lauf").resolve())
    options = LoadOptions(title="Gebäude intern", layer_id="intern", visibility="council")
    load_layer(
        paths, "lauf", GEODATA / "lauf" / "osm" / "lauf_buildings.geojson", options, info=twin_info(paths, "lauf")
    )
    _, token = add_user(paths.users_file, "rat", "council")
    with TestClient(create_app(ServerSettings(), paths)) as c:
        yield c, {"Authorization": f"Bearer {token}"}


def test_a_council_layer_is_404_in_arrow_for_the_public_and_served_to_the_council(
    council_layer: tuple[TestClient, dict[str, str]],
) -> None:
    c, council = council_layer
    url = ITEMS.format(twin="lauf", collection="layer_intern")
    public = c.get(url, params={"f": "arrow"})
    assert public.status_code == 404
    assert public.headers["content-type"].startswith("application/json")  # an error, never a stream of the layer
    assert "intern" not in public.headers.get("link", "")
    served = c.get(url, params={"f": "arrow", "limit": 10_000}, headers=council)
    assert served.status_code == 200
    table = _read(served.content)
    assert table.num_rows == int(served.headers["OGC-NumberMatched"]) > 1000
    page = {"limit": 200, "offset": 100}
    geojson = c.get(url, params=page, headers=council).json()
    _assert_same_features(geojson, _read(c.get(url, params={**page, "f": "arrow"}, headers=council).content))
