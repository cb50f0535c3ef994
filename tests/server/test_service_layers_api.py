"""Layers from web services over HTTP, against a real MapServer (tests/services/mapserver.py): only admins register
them, refusals are 4xx naming the field, a WMS layer's tiles and legend come through the twin's server (cached:
the second request does not reach the service), 204 outside the layer, 502 with a plain sentence when the service
fails; WFS and OGC API Features layers are imported and refreshed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.server.revalidation import assert_revalidates
from tests.services.mapserver import MapServer, census_cells, mapserver
from twin3d.auth.users import add_user
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings

LAUF_TILE = "14/8705/5591"  # the old town of Lauf
BASE = "/api/twins/lauf/layers"


@dataclass
class Setup:
    """A private store for Lauf, tokens per role, and the running MapServer."""

    paths: PathSettings
    ms: MapServer
    admin: dict[str, str]
    council: dict[str, str]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, demo_paths: PathSettings, built: dict[str, Any]) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("service-layers")
    paths = PathSettings(pipelines_dir=demo_paths.pipelines_dir, store_dir=root / "var", tiles_dir=demo_paths.tiles_dir)
    paths.store_dir.mkdir()
    paths.store_file("lauf").symlink_to(demo_paths.store_file("lauf").resolve())
    _, admin = add_user(paths.users_file, "verwaltung", "admin")
    _, council = add_user(paths.users_file, "rat", "council")
    with mapserver(root / "mapserver") as ms:
        yield Setup(paths, ms, {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {council}"})


@pytest.fixture(scope="module")
def api(setup: Setup) -> Iterator[TestClient]:
    with TestClient(create_app(ServerSettings(), setup.paths)) as client:
        yield client


def _register(api: TestClient, setup: Setup, **body: Any) -> Any:
    return api.post(f"{BASE}/services", json=body, headers=setup.admin)


def test_only_admins_register_and_the_catalogue_says_where_a_layer_comes_from(api: TestClient, setup: Setup) -> None:
    body = {"kind": "wms", "url": setup.ms.wms_url, "layer": "zensus", "id": "zensus-wms", "opacity": 0.7}
    assert api.post(f"{BASE}/services", json=body).status_code == 403
    assert api.post(f"{BASE}/services", json=body, headers=setup.council).status_code == 403
    assert setup.ms.count("GetCapabilities") == 0  # refused before anything was asked
    created = _register(api, setup, **body)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert created.headers["location"] == f"{BASE}/zensus-wms"
    assert (entry["kind"], entry["format"], entry["title"]) == ("service", "wms", "Zensus 2021: Einwohner je km²")
    assert entry["tiles"] == f"{BASE}/zensus-wms/tiles/{{z}}/{{x}}/{{y}}.png"
    assert entry["legend_image"] == f"{BASE}/zensus-wms/legend"
    assert entry["style"]["opacity"] == 0.7
    host = setup.ms.base.removeprefix("http://")
    assert entry["service"] == {
        "kind": "wms", "host": f"{host}/wms", "layer": "zensus", "fetched_at": entry["service"]["fetched_at"],
    }  # fmt: skip
    listed = {e["id"]: e for e in api.get(BASE).json()}
    assert listed["zensus-wms"]["service"]["host"] == f"{host}/wms"
    assert "map=" not in api.get(BASE).text  # the registered URL's query (a file path here) stays on the server


@pytest.mark.parametrize(
    ("body", "record", "words"),
    [
        ({"layer": "strassen"}, "layer", "offers: dgm"),
        ({"layer": "dgm_utm"}, "layer", "Web Mercator (EPSG:3857)"),
        ({"layer": "zensus", "url": "ftp://example.org/wms"}, "url", "http:// or https://"),
        ({"layer": "zensus", "url": "http://127.0.0.1:9/wms"}, "url", "cannot be reached"),
        ({"layer": "zensus", "style": "nacht"}, "style", "no style"),
        ({"layer": "zensus", "kind": "karte"}, None, None),
    ],
    ids=["unknown-layer", "no-3857", "ftp", "down", "style", "unknown-kind"],
)
def test_refusals_are_4xx_naming_the_field_and_the_fix(
    api: TestClient, setup: Setup, body: dict[str, str], record: str | None, words: str | None
) -> None:
    response = _register(api, setup, **{"kind": "wms", "url": setup.ms.wms_url, "id": "abgelehnt", **body})
    assert response.status_code == 422, response.text
    if record is not None:
        answer = response.json()
        assert answer["record"] == record
        assert words in f"{answer['error']} (fix: {answer['hint']})"
    assert api.get(f"{BASE}/abgelehnt").status_code == 404


def test_tiles_come_through_the_twin_cached_with_204_outside(api: TestClient, setup: Setup) -> None:
    _register(api, setup, kind="wms", url=setup.ms.wms_url, layer="zensus", id="kacheln")
    before = setup.ms.count("REQUEST=GetMap")
    first = api.get(f"{BASE}/kacheln/tiles/{LAUF_TILE}.png")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/png"
    assert first.headers["cache-control"].startswith("public")
    rgba = np.asarray(Image.open(io.BytesIO(first.content)).convert("RGBA"))
    assert ((rgba[..., 0] > 200) & (rgba[..., 1] < 60) & (rgba[..., 2] > 200)).mean() > 0.5  # magenta cells
    second = api.get(f"{BASE}/kacheln/tiles/{LAUF_TILE}.png")
    assert second.content == first.content
    assert_revalidates(api, f"{BASE}/kacheln/tiles/{LAUF_TILE}.png", first.headers["etag"])
    assert setup.ms.count("REQUEST=GetMap") == before + 1  # the second and third never reached MapServer
    assert api.get(f"{BASE}/kacheln/tiles/14/0/0.png").status_code == 204
    assert setup.ms.count("REQUEST=GetMap") == before + 1
    legend = api.get(f"{BASE}/kacheln/legend")
    assert legend.status_code == 200
    assert legend.content.startswith(b"\x89PNG")


def test_a_failing_service_is_a_plain_502(api: TestClient, setup: Setup, tmp_path: Path) -> None:
    with mapserver(tmp_path / "kurzlebig") as short_lived:
        created = _register(api, setup, kind="wms", url=short_lived.wms_url, layer="zensus", id="weg")
        assert created.status_code == 201
    response = api.get(f"{BASE}/weg/tiles/{LAUF_TILE}.png")
    assert response.status_code == 502
    assert response.headers["cache-control"] == "no-store"
    text = response.text
    assert response.json()["error"] == "the map service of this layer did not answer with an image"
    for leak in (short_lived.base, "127.0.0.1", str(tmp_path), "map=", "Connection refused"):
        assert leak not in text
    assert api.get(f"{BASE}/weg/legend").status_code == 502


def test_wfs_and_ogc_api_layers_are_imported_and_refreshed(api: TestClient, setup: Setup) -> None:
    cells = census_cells()
    for kind, url in (("wfs", setup.ms.wms_url), ("oapif", setup.ms.ogcapi_url)):
        created = _register(api, setup, kind=kind, url=url, layer="zellen", id=f"zellen-{kind}", visibility="council")
        assert created.status_code == 201, created.text
        entry = created.json()
        assert (entry["kind"], entry["geometry_type"], entry["feature_count"]) == ("vector", "polygons", len(cells))
        assert entry["mvt"] == f"/api/twins/lauf/mvt/layer_zellen_{kind}/{{z}}/{{x}}/{{y}}.pbf"
        assert entry["service"]["kind"] == kind
        assert entry["report"].startswith(f"lauf/zellen-{kind} (vector")
        assert api.get(f"{BASE}/zellen-{kind}").status_code == 404  # a council layer: hidden from the public
        items = api.get(
            f"/api/twins/lauf/features/collections/layer_zellen_{kind}/items?limit=100", headers=setup.council
        )
        assert sum(f["properties"]["einwohner"] for f in items.json()["features"]) == sum(r for _, _, r in cells)
    asked = setup.ms.count("REQUEST=GetFeature")
    assert api.post(f"{BASE}/zellen-wfs/refresh", headers=setup.council).status_code == 403
    refreshed = api.post(f"{BASE}/zellen-wfs/refresh", headers=setup.admin)
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["feature_count"] == len(cells)
    assert setup.ms.count("REQUEST=GetFeature") == asked + 1
    assert api.post(f"{BASE}/gibtsnicht/refresh", headers=setup.admin).status_code == 404
