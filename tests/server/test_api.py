from __future__ import annotations

import posixpath
import re

import pytest
from fastapi.testclient import TestClient


def test_twins_lists_both_demo_twins_with_what_the_viewer_needs(client: TestClient) -> None:
    twins = {t["name"]: t for t in client.get("/api/twins").json()}
    assert set(twins) == {"lauf", "rostock", "monzel", "nrw"}  # the demo twins and the CityGML test twin
    lauf = twins["lauf"]
    assert re.fullmatch(r"/tiles/lauf/[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}/tileset\.json", lauf["tileset"])
    assert lauf["tileset"] == f"/tiles/lauf/{lauf['build_id']}/tileset.json"
    assert lauf["available"] is True
    assert lauf["counts"]["buildings"] == 6492
    assert lauf["choropleth"]["layer"] == "grid"
    assert {layer["id"] for layer in lauf["layers"]} == {"grid", "facilities", "paths"}
    west, south, east, north = lauf["home_bbox"]
    assert 11.24 < west < east < 11.31
    assert 49.49 < south < north < 49.54
    rostock = twins["rostock"]
    assert {layer["id"] for layer in rostock["layers"]} >= {
        "districts:stadtbereich",
        "districts:bezirk",
        "grid",
    }
    assert any("Rostock" in line for line in rostock["attribution"])


def test_one_twin_carries_its_build_report(client: TestClient) -> None:
    body = client.get("/api/twins/lauf").json()
    assert body["build_report"]["height_sources"] == {"levels": 53, "default": 6439}


def test_districts_with_real_register_statistics(client: TestClient) -> None:
    response = client.get("/api/twins/rostock/districts/stadtbereich.geojson")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    features = response.json()["features"]
    assert len(features) == 21
    assert sum(f["properties"]["population"] for f in features) == 211_692
    warnemuende = next(f["properties"] for f in features if f["properties"]["code"] == "A")
    assert warnemuende["name"] == "Warnemünde"
    assert warnemuende["population"] == 8512
    assert warnemuende["households"] == 5019
    assert warnemuende["year"] == 2023


def test_district_statistics_of_an_earlier_year(client: TestClient) -> None:
    features = client.get("/api/twins/rostock/districts/stadtbereich.geojson", params={"year": 2005}).json()["features"]
    lichtenhagen = next(f["properties"] for f in features if f["properties"]["code"] == "C")
    assert lichtenhagen["population"] == 13553
    assert "households" not in lichtenhagen  # the household table exists for 2023 only


def test_bezirke_know_their_stadtbereich(client: TestClient) -> None:
    features = client.get("/api/twins/rostock/districts/bezirk.geojson").json()["features"]
    assert len(features) == 74
    assert all(f["properties"]["parent_id"].startswith("stadtbereich:") for f in features)


def test_census_grid_cells(client: TestClient) -> None:
    features = client.get("/api/twins/lauf/grid.geojson").json()["features"]
    assert len(features) == 31
    assert sum(f["properties"]["population"] for f in features) == 33_663
    assert features[0]["geometry"]["type"] == "Polygon"


def test_building_by_id_and_at_a_clicked_coordinate(client: TestClient) -> None:
    school = client.get("/api/twins/lauf/buildings/way/23777857").json()
    assert school["name"] == "Montesori FOS"
    assert school["height_source"] == "default"
    assert school["geometry"]["type"] == "Polygon"
    at = client.get("/api/twins/lauf/buildings/at", params={"lon": school["lon"], "lat": school["lat"]}).json()
    assert at["building_id"] == "way/23777857"
    assert at["distance_m"] == 0
    tor = client.get("/api/twins/rostock/buildings/at", params={"lon": 12.12919, "lat": 54.08845}).json()
    assert tor["building_id"] == "DEMVAL03000hEfAe"
    assert tor["district"] == "Stadtmitte V"  # the smallest district it stands in: a statistischer Bezirk


def test_a_click_beside_every_building_is_a_404(client: TestClient) -> None:
    response = client.get("/api/twins/lauf/buildings/at", params={"lon": 11.2, "lat": 49.4})
    assert response.status_code == 404
    assert response.json()["error"] == "no building at this point"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/twins/nowhere", 404),
        ("/api/twins/lauf/districts/stadtbereich.geojson", 404),
        ("/api/twins/rostock/districts/x;drop.geojson", 422),
        ("/api/twins/lauf/buildings/at?lon=500&lat=49", 422),
        ("/api/twins/lauf/buildings/at?lon=abc&lat=49", 422),
        ("/api/twins/lauf/buildings/no-such-building", 404),
        ("/api/twins/rostock/districts/stadtbereich.geojson?year=99999", 422),
        ("/api/twins/lauf/facilities.geojson?category=%27%3B%20DROP%20TABLE%20buildings", 422),
    ],
)
def test_requests_are_validated(client: TestClient, url: str, status: int) -> None:
    assert client.get(url).status_code == status


def test_tiles_are_served_with_caching_headers_and_etags(client: TestClient) -> None:
    response = client.get("/tiles/lauf/tileset.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "must-revalidate" in response.headers["cache-control"]
    etag = response.headers["etag"]
    assert client.get("/tiles/lauf/tileset.json", headers={"If-None-Match": etag}).status_code == 304
    # Down the first branch (overview groups, their own tilesets, a partition's tileset) to a content file.
    tile, folder = response.json()["root"], ""
    while not (uri := tile.get("content", {}).get("uri", "")).endswith(".glb") or "children" in tile:
        if uri.endswith(".json"):
            folder = posixpath.dirname(posixpath.normpath(posixpath.join(folder, uri)))
            tile = client.get(f"/tiles/lauf/{folder}/{posixpath.basename(uri)}").json()["root"]
        else:
            tile = tile["children"][0]
    glb = client.get(f"/tiles/lauf/{posixpath.normpath(posixpath.join(folder, uri))}")
    assert glb.status_code == 200
    assert glb.headers["content-type"] == "model/gltf-binary"
    assert glb.content[:4] == b"glTF"


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/lauf/..%2F..%2Fvar%2Flauf.duckdb",
        "/tiles/lauf/%2e%2e/%2e%2e/pyproject.json",
        "/tiles/lauf/content/%2e%2e/%2e%2e/rostock/tileset.json",
        "/tiles/lauf/tileset.json.bak",
        "/tiles/lauf/content/nope.glb",
        "/tiles/lauf//etc/passwd.json",
    ],
)
def test_no_tile_path_leaves_the_twin_folder(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 422)
    assert b"glTF" not in response.content[:4]


def test_the_viewer_is_served_at_the_root(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert "vendor/deck.gl/dist.min.js" in page.text
    assert client.get("/js/main.js").status_code == 200
    assert client.get("/vendor/deck.gl/dist.min.js").status_code == 200


@pytest.mark.parametrize("path", ["/node_modules/deck.gl/package.json", "/package.json", "/scripts/vendor.mjs"])
def test_only_the_viewers_public_files_are_served(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 404
