"""Versioned and unversioned tile URLs, nginx's ETags, and a twin built before build ids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.pipeline.small_twin import TWIN, build_small, make_legacy, small_paths
from twin3d.pipeline.build import current_tiles
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, must-revalidate"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> PathSettings:
    paths = small_paths(tmp_path_factory.mktemp("tile-urls"))
    build_small(paths)
    return paths


@pytest.fixture(scope="module")
def api(small: PathSettings) -> Iterator[TestClient]:
    with TestClient(create_app(ServerSettings(), small)) as c:
        yield c


def _glb_path(api: TestClient, base: str) -> str:
    """A glb of the tileset under ``base``, found through its tilesets' relative URIs."""
    partition = api.get(f"{base}/tileset.json").json()["root"]["children"][0]["content"]["uri"]
    sub = api.get(f"{base}/{partition}").json()
    return f"{partition.rsplit('/', 1)[0]}/{sub['root']['content']['uri']}"


def test_the_catalogue_names_the_versioned_tileset_and_both_urls_load_it(api: TestClient) -> None:
    (twin,) = api.get("/api/twins").json()
    build = twin["build_id"]
    assert twin["tileset"] == f"/tiles/{TWIN}/{build}/tileset.json"

    versioned, unversioned = api.get(twin["tileset"]), api.get(f"/tiles/{TWIN}/tileset.json")
    assert versioned.status_code == unversioned.status_code == 200
    assert versioned.content == unversioned.content
    assert versioned.headers["cache-control"] == IMMUTABLE
    assert unversioned.headers["cache-control"] == REVALIDATE
    for base in (f"/tiles/{TWIN}/{build}", f"/tiles/{TWIN}"):
        glb = api.get(f"{base}/{_glb_path(api, base)}")
        assert glb.status_code == 200
        assert glb.headers["content-type"] == "model/gltf-binary"
        assert glb.content[:4] == b"glTF"


def test_etags_are_nginx_s_and_weak_or_listed_tags_revalidate(api: TestClient, small: PathSettings) -> None:
    folder = current_tiles(small, TWIN)
    assert folder is not None
    st = (folder / "tileset.json").stat()
    nginx = f'"{int(st.st_mtime):x}-{st.st_size:x}"'  # nginx: "%xT-%xO"
    for url in (f"/tiles/{TWIN}/{folder.name}/tileset.json", f"/tiles/{TWIN}/tileset.json"):
        response = api.get(url)
        assert response.headers["etag"] == nginx
        for header in (nginx, f"W/{nginx}", f'"0-0", W/{nginx}', "*"):
            again = api.get(url, headers={"If-None-Match": header})
            assert again.status_code == 304, header
            assert again.content == b""
            assert again.headers["etag"] == nginx
            assert again.headers["cache-control"] == response.headers["cache-control"]
        assert api.get(url, headers={"If-None-Match": '"0-0", W/"1-2"'}).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        f"/tiles/{TWIN}/20000101T000000Z-000000/tileset.json",  # no such build
        f"/tiles/{TWIN}/20000101T000000Z-000000/..%2F..%2Fvar%2F{TWIN}.duckdb",
        f"/tiles/{TWIN}/nope/tileset.json",
    ],
)
def test_an_unknown_build_or_file_is_not_found(api: TestClient, url: str) -> None:
    assert api.get(url).status_code in (404, 422)


def test_a_twin_built_before_build_ids_is_served_unversioned(tmp_path: Path) -> None:
    paths = small_paths(tmp_path)
    build_small(paths)
    old_id = make_legacy(paths)
    with TestClient(create_app(ServerSettings(), paths)) as api:
        (twin,) = api.get("/api/twins").json()
        assert twin["build_id"] is None
        assert twin["tileset"] == f"/tiles/{TWIN}/tileset.json"
        response = api.get(twin["tileset"])
        assert response.status_code == 200
        assert response.headers["cache-control"] == REVALIDATE
        assert api.get(f"/tiles/{TWIN}/{_glb_path(api, f'/tiles/{TWIN}')}").content[:4] == b"glTF"
        assert api.get(f"/tiles/{TWIN}/{old_id}/tileset.json").status_code == 404
