"""The basemap's vector tiles over HTTP: found through /api/twins, served with their type and ETag, 204 for a tile
the map has nothing in, 404 for anything else."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.pipeline.test_basemap import basemap_folder, decode_tile
from twin3d.settings import PathSettings

MVT = "application/vnd.mapbox-vector-tile"


def _twin(client: TestClient, name: str) -> dict[str, object]:
    twins = client.get("/api/twins").json()
    return next(t for t in twins if t["name"] == name)


def _url(twin: dict[str, object], z: int, x: int, y: int) -> str:
    return str(twin["basemap_url"]).replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))


def _a_tile(folder: Path, z: int) -> tuple[int, int, int]:
    found = min(folder.glob(f"{z}/*/*.pbf"))
    return z, int(found.parent.name), int(found.stem)


def _tile_range(bounds: list[float], z: int) -> tuple[range, range]:
    west, south, east, north = bounds
    n = 2**z

    def row(lat: float) -> int:
        return math.floor((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)

    return range(math.floor((west + 180) / 360 * n), math.floor((east + 180) / 360 * n) + 1), range(
        row(north), row(south) + 1
    )


def test_the_catalogue_gives_the_basemap_url_like_the_tilesets(client: TestClient) -> None:
    lauf = _twin(client, "lauf")
    build_id = lauf["build_id"]
    assert lauf["basemap_url"] == f"/tiles/lauf/{build_id}/basemap/{{z}}/{{x}}/{{y}}.pbf"
    assert lauf["tileset"] == f"/tiles/lauf/{build_id}/tileset.json"
    basemap = lauf["basemap"]
    assert isinstance(basemap, dict)
    assert (basemap["minzoom"], basemap["maxzoom"]) == (8, 14)
    assert "roads" in basemap["layers"]
    assert len(basemap["bounds"]) == 4
    nrw = _twin(client, "nrw")
    assert nrw["basemap_url"] is None
    assert nrw["basemap"] is None
    # One twin's page says the same.
    assert client.get("/api/twins/lauf").json()["basemap_url"] == lauf["basemap_url"]


def test_a_basemap_tile_is_served_with_its_type_and_etag(client: TestClient, demo_paths: PathSettings) -> None:
    lauf = _twin(client, "lauf")
    z, x, y = _a_tile(basemap_folder(demo_paths, "lauf"), 14)
    response = client.get(_url(lauf, z, x, y))
    assert response.status_code == 200
    assert response.headers["content-type"] == MVT
    assert "immutable" in response.headers["cache-control"]
    etag = response.headers["etag"]
    assert "roads" in decode_tile(response.content)
    assert client.get(_url(lauf, z, x, y), headers={"If-None-Match": etag}).status_code == 304
    # The unversioned URL names the served build's same file, revalidated by its ETag.
    plain = client.get(f"/tiles/lauf/basemap/{z}/{x}/{y}.pbf")
    assert plain.status_code == 200
    assert plain.content == response.content
    assert plain.headers["etag"] == etag
    assert "must-revalidate" in plain.headers["cache-control"]


def test_a_tile_without_features_inside_the_basemap_is_no_content(client: TestClient, demo_paths: PathSettings) -> None:
    rostock = _twin(client, "rostock")
    basemap = rostock["basemap"]
    assert isinstance(basemap, dict)
    folder = basemap_folder(demo_paths, "rostock")
    columns, rows = _tile_range(basemap["bounds"], 14)
    gaps = [(x, y) for x in columns for y in rows if not (folder / "14" / str(x) / f"{y}.pbf").exists()]
    assert gaps, "Rostock's bounds hold tiles of the sea without features"
    x, y = gaps[0]
    response = client.get(_url(rostock, 14, x, y))
    assert response.status_code == 204
    assert response.content == b""
    assert "immutable" in response.headers["cache-control"]
    assert client.get(f"/tiles/rostock/basemap/14/{x}/{y}.pbf").status_code == 204


def test_other_missing_tiles_are_not_found(client: TestClient, demo_paths: PathSettings) -> None:
    lauf = _twin(client, "lauf")
    basemap = lauf["basemap"]
    assert isinstance(basemap, dict)
    columns, rows = _tile_range(basemap["bounds"], 14)
    build_id = str(lauf["build_id"])
    missing = [
        _url(lauf, 14, columns[-1] + 5, rows[0]),  # outside the bounds
        _url(lauf, 15, 2 * columns[0], 2 * rows[0]),  # above the highest zoom: viewers overzoom 14
        _url(lauf, 7, columns[0] // 128, rows[0] // 128),  # below the lowest
        _url(lauf, 14, columns[0], rows[0]).replace(build_id, "20000101T000000Z-000000"),  # not the served build
        f"/tiles/lauf/{build_id}/p/basemap/14/{columns[0]}/{rows[0]}.pbf",  # not where the basemap is
        f"/tiles/nrw/basemap/14/{columns[0]}/{rows[0]}.pbf",  # a twin without a basemap
        f"/tiles/nowhere/basemap/14/{columns[0]}/{rows[0]}.pbf",  # no such twin
    ]
    for url in missing:
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/lauf/basemap/..%2F..%2F..%2Fvar%2Flauf.pbf",
        "/tiles/lauf/basemap/%2e%2e/%2e%2e/tileset.pbf",
        "/tiles/lauf/basemap/14/8704/5590.pbf%00.json",
        "/tiles/lauf/basemap/14/8704/-1.pbf",
        "/tiles/lauf//etc/passwd.pbf",
    ],
)
def test_no_basemap_path_leaves_the_build_folder(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (404, 422)
    assert not response.headers.get("content-type", "").startswith(MVT)
