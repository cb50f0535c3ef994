"""The layer catalogue API: visibility per role, raster tiles, 3D tileset files (path-safe), uploads by admins."""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from PIL import Image
from pyproj import Transformer
from rasterio.transform import from_origin

from tests.conftest import GEODATA
from tests.server.revalidation import assert_revalidates
from twin3d.auth.users import add_user
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.load import load_layer
from twin3d.layers.raster_tiles import WEB_MERCATOR_HALF
from twin3d.server.app import create_app
from twin3d.settings import LayerSettings, PathSettings, ServerSettings

POIS = GEODATA / "lauf" / "osm" / "lauf_pois.geojson"
KROEPELINER_TOR = GEODATA / "rostock" / "lod2-cityjson" / "rostock_kroepeliner_tor_DEMVAL03000hEfAe.city.json"
BAD = Path(__file__).resolve().parent.parent / "data" / "bad-layers"
TO_UTM = Transformer.from_crs(4326, 25832, always_xy=True)
TO_LONLAT = Transformer.from_crs(25832, 4326, always_xy=True)
RASTER_NW = TO_UTM.transform(11.275, 49.511)  # north-west corner of the test raster, in Lauf's centre
RASTER_PIXELS, RASTER_RES = 200, 2.0
NODATA_BLOCK = 20  # the south-east 20 x 20 pixels carry no data


@dataclass
class Layered:
    """Paths of a private store with loaded layers, and a token per role."""

    paths: PathSettings
    council: dict[str, str]
    admin: dict[str, str]


def _fingerprint(root: Path) -> dict[str, str]:
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


def _gradient_tif(path: Path) -> Path:
    """A float raster in EPSG:25832: values rise from 0 (west) to 100 (east); a no-data block in the south-east."""
    data = np.tile(np.linspace(0, 100, RASTER_PIXELS, dtype=np.float32), (RASTER_PIXELS, 1))
    data[-NODATA_BLOCK:, -NODATA_BLOCK:] = -9999
    transform = from_origin(*RASTER_NW, RASTER_RES, RASTER_RES)
    profile = {"driver": "GTiff", "width": RASTER_PIXELS, "height": RASTER_PIXELS, "count": 1, "dtype": "float32"}
    with rasterio.open(path, "w", **profile, crs="EPSG:25832", transform=transform, nodata=-9999) as ds:
        ds.write(data, 1)
    return path


@pytest.fixture
def layered(tmp_path: Path, demo_paths: PathSettings, built: dict[str, Any]) -> Layered:
    """Lauf with a public vector layer, a council vector layer and a public raster; Rostock with a 3D layer."""
    paths = PathSettings(
        pipelines_dir=demo_paths.pipelines_dir, store_dir=tmp_path / "var", tiles_dir=demo_paths.tiles_dir
    )
    paths.store_dir.mkdir()
    for twin in ("lauf", "rostock"):
        paths.store_file(twin).symlink_to(demo_paths.store_file(twin).resolve())
    lauf = twin_info(paths, "lauf")
    load_layer(paths, "lauf", POIS, LoadOptions(title="Orte", layer_id="orte", attribution="© OSM"), info=lauf)
    secret = LoadOptions(title="Interne Orte", layer_id="intern", visibility="council")
    load_layer(paths, "lauf", POIS, secret, info=lauf)
    tif = _gradient_tif(tmp_path / "laerm.tif")
    load_layer(paths, "lauf", tif, LoadOptions(title="Lärm", layer_id="laerm"), info=lauf)
    tor = LoadOptions(title="Kröpeliner Tor", layer_id="tor")
    load_layer(paths, "rostock", KROEPELINER_TOR, tor, info=twin_info(paths, "rostock"))
    _, council = add_user(paths.users_file, "rat", "council")
    _, admin = add_user(paths.users_file, "chefin", "admin")
    return Layered(paths, {"Authorization": f"Bearer {council}"}, {"Authorization": f"Bearer {admin}"})


@pytest.fixture
def api(layered: Layered) -> Iterator[TestClient]:
    with TestClient(create_app(ServerSettings(), layered.paths)) as c:
        yield c


def test_the_catalogue_shows_each_role_its_layers_and_hides_the_rest(api: TestClient, layered: Layered) -> None:
    public = {e["id"]: e for e in api.get("/api/twins/lauf/layers").json()}
    assert set(public) == {"orte", "laerm"}
    orte = public["orte"]
    assert orte["mvt"] == "/api/twins/lauf/mvt/layer_orte/{z}/{x}/{y}.pbf"
    assert (orte["kind"], orte["geometry_type"], orte["attribution"], orte["visibility"]) == (
        "vector", "points", "© OSM", "public",
    )  # fmt: skip
    assert orte["feature_count"] > 500
    assert orte["legend"]
    assert orte["style"]["fill_color"].startswith("#")
    assert "files" not in orte
    assert "source_sha256" not in orte
    assert public["laerm"]["tiles"] == "/api/twins/lauf/layers/laerm/tiles/{z}/{x}/{y}.png"
    assert public["laerm"]["maxzoom"] == 16

    # A council layer does not exist for the public: the same 404 as for an unknown id, never a 403.
    hidden = api.get("/api/twins/lauf/layers/intern")
    unknown = api.get("/api/twins/lauf/layers/gibtsnicht")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["error"].replace("intern", "X") == unknown.json()["error"].replace("gibtsnicht", "X")

    council = {e["id"] for e in api.get("/api/twins/lauf/layers", headers=layered.council).json()}
    assert council == {"orte", "laerm", "intern"}
    assert api.get("/api/twins/lauf/layers/intern", headers=layered.council).json()["visibility"] == "council"
    assert api.get("/api/twins/lauf/layers", headers={"Authorization": "Bearer falsch"}).status_code == 401
    rostock = api.get("/api/twins/rostock/layers").json()
    assert [(e["id"], e["tileset"]) for e in rostock] == [("tor", "/api/twins/rostock/layers/tor/tileset/tileset.json")]


def _mercator(lon: float, lat: float) -> tuple[float, float]:
    return (
        math.radians(lon) * 6378137.0,
        math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137.0,
    )


def _tile_pixel(lon: float, lat: float, z: int, x: int, y: int) -> tuple[float, float]:
    """Where a lon/lat point falls in tile z/x/y, in pixels from its top-left corner."""
    mx, my = _mercator(lon, lat)
    size = 2 * WEB_MERCATOR_HALF / 2**z
    return (mx + WEB_MERCATOR_HALF - x * size) / size * 256, (WEB_MERCATOR_HALF - my - y * size) / size * 256


def _raster_lonlat(col: float, row: float) -> tuple[float, float]:
    """Lon/lat of a pixel position of the test raster."""
    lon, lat = TO_LONLAT.transform(RASTER_NW[0] + col * RASTER_RES, RASTER_NW[1] - row * RASTER_RES)
    return float(lon), float(lat)


def test_raster_tiles_are_coloured_inside_and_transparent_outside(api: TestClient) -> None:
    entry = api.get("/api/twins/lauf/layers/laerm").json()
    west, south, east, north = entry["extent"]
    z = entry["maxzoom"]
    while True:  # the deepest tile that holds the whole raster
        n = 2**z
        x0, y0 = _tile_pixel(west, north, z, 0, 0)
        x1, y1 = _tile_pixel(east, south, z, 0, 0)
        if int(x0 // 256) == int(x1 // 256) and int(y0 // 256) == int(y1 // 256):
            x, y = int(x0 // 256), int(y0 // 256)
            break
        z -= 1
    assert 0 <= x < n
    url = f"/api/twins/lauf/layers/laerm/tiles/{z}/{x}/{y}.png"
    response = api.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"].startswith("public")
    rgba = np.asarray(Image.open(io.BytesIO(response.content)))
    assert rgba.shape == (256, 256, 4)
    alpha = rgba[..., 3]

    # Outside the raster's extent: transparent. Well inside it: opaque, except the block without data.
    (c0, r0), (c1, r1) = _tile_pixel(west, north, z, x, y), _tile_pixel(east, south, z, x, y)
    outside = np.ones_like(alpha, dtype=bool)
    outside[max(0, math.floor(r0)) : math.ceil(r1) + 1, max(0, math.floor(c0)) : math.ceil(c1) + 1] = False
    assert outside.any()
    assert (alpha[outside] == 0).all()
    ci, ri = _tile_pixel(*_raster_lonlat(RASTER_PIXELS * 0.5, RASTER_PIXELS * 0.5), z, x, y)
    assert alpha[int(ri), int(ci)] == 255
    for fraction in (0.2, 0.5, 0.8):  # a row through the middle of the raster
        cc, rr = _tile_pixel(*_raster_lonlat(RASTER_PIXELS * fraction, RASTER_PIXELS / 2), z, x, y)
        assert alpha[int(rr), int(cc)] == 255
    cn, rn = _tile_pixel(*_raster_lonlat(RASTER_PIXELS - NODATA_BLOCK / 2, RASTER_PIXELS - NODATA_BLOCK / 2), z, x, y)
    assert alpha[int(rn), int(cn)] == 0
    # Colours follow the legend's ramp: green (#1a9850) for low values in the west, red (#d73027) in the east.
    cw, rw = _tile_pixel(*_raster_lonlat(RASTER_PIXELS * 0.05, RASTER_PIXELS / 2), z, x, y)
    ce, re_ = _tile_pixel(*_raster_lonlat(RASTER_PIXELS * 0.95, RASTER_PIXELS / 2), z, x, y)
    low, high = rgba[int(rw), int(cw), :3].astype(int), rgba[int(re_), int(ce), :3].astype(int)
    assert low[1] > low[0]
    assert high[0] > high[1]

    # Revalidation by ETag; a tile far away is an empty transparent PNG; a vector layer has no raster tiles.
    assert_revalidates(api, url, response.headers["etag"])
    far = api.get(f"/api/twins/lauf/layers/laerm/tiles/{z}/0/0.png")
    assert far.status_code == 200
    assert (np.asarray(Image.open(io.BytesIO(far.content)))[..., 3] == 0).all()
    assert api.get(f"/api/twins/lauf/layers/orte/tiles/{z}/{x}/{y}.png").status_code == 404
    assert api.get(f"/api/twins/lauf/layers/laerm/tiles/{z}/{n}/0.png").status_code == 422


def test_tileset_files_are_served_and_no_path_leaves_the_tileset(api: TestClient, layered: Layered) -> None:
    base = "/api/twins/rostock/layers/tor/tileset"
    response = api.get(f"{base}/tileset.json")
    assert response.status_code == 200
    tileset = response.json()
    assert tileset["asset"]["version"] == "1.1"
    glbs = _glb_urls(api, f"{base}/tileset.json", tileset)
    assert glbs
    glb = api.get(glbs[0])
    assert glb.status_code == 200
    assert glb.headers["content-type"] == "model/gltf-binary"
    assert glb.content[:4] == b"glTF"
    assert_revalidates(api, f"{base}/tileset.json", response.headers["etag"])

    # A link inside the tileset folder that points out of it is refused like a missing file.
    folder = layered.paths.layers_dir / "rostock" / "tor" / "tileset"
    (folder / "escape.json").symlink_to(folder.parent / "layer.json")
    for bad in (
        "escape.json",
        "%2e%2e/layer.json",
        "%2E%2E%2Flayer.json",
        "..%2Flayer.json",
        "%2Fetc%2Fpasswd.json",
        "sub/%2e%2e/%2e%2e/layer.json",
        "layer.parquet",
    ):
        answer = api.get(f"{base}/{bad}")
        assert answer.status_code in (404, 422), bad
        assert b"schema_version" not in answer.content


def _contents(tile: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "content" in tile:
        yield tile["content"]
    for child in tile.get("children", []):
        yield from _contents(child)


def _glb_urls(api: TestClient, url: str, tileset: dict[str, Any]) -> list[str]:
    """The URLs of every .glb of a tileset, its external tilesets followed (URIs are relative to each file)."""
    folder = url.rsplit("/", 1)[0]
    found = []
    for content in _contents(tileset["root"]):
        target = f"{folder}/{content['uri']}"
        if target.endswith(".json"):
            found += _glb_urls(api, target, api.get(target).json())
        else:
            found.append(target)
    return found


def test_an_admin_uploads_and_removes_a_layer_others_may_not(api: TestClient, layered: Layered, tmp_path: Path) -> None:
    collection = json.loads(POIS.read_text(encoding="utf-8"))
    collection["features"] = [f for f in collection["features"] if f["geometry"]][:40]
    small = tmp_path / "neue_orte.geojson"
    small.write_text(json.dumps(collection), encoding="utf-8")

    def post(headers: dict[str, str], **fields: str) -> Any:
        with small.open("rb") as fh:
            files = {"file": ("../../neue orte.geojson", fh, "application/geo+json")}
            return api.post("/api/twins/lauf/layers", files=files, data=fields, headers=headers)

    before = _fingerprint(layered.paths.layers_dir)
    assert post({}, title="Neue Orte").status_code == 403
    assert post(layered.council, title="Neue Orte").status_code == 403
    assert _fingerprint(layered.paths.layers_dir) == before

    created = post(layered.admin, title="Neue Orte", visibility="council", licence="ODbL-1.0")
    assert created.status_code == 201, created.text
    entry = created.json()
    assert (entry["id"], entry["origin"], entry["feature_count"], entry["source"]) == (
        "neue-orte", "upload", 40, "neue_orte.geojson",
    )  # fmt: skip
    assert created.headers["location"] == "/api/twins/lauf/layers/neue-orte"
    assert "neue-orte" not in {e["id"] for e in api.get("/api/twins/lauf/layers").json()}
    assert "neue-orte" in {e["id"] for e in api.get("/api/twins/lauf/layers", headers=layered.council).json()}
    taken = post(layered.admin, title="Neue Orte")
    assert taken.status_code == 422
    assert "exists already" in taken.json()["error"]

    assert api.delete("/api/twins/lauf/layers/neue-orte", headers=layered.council).status_code == 403
    assert api.delete("/api/twins/lauf/layers/neue-orte", headers=layered.admin).status_code == 204
    assert api.delete("/api/twins/lauf/layers/neue-orte", headers=layered.admin).status_code == 404
    assert _fingerprint(layered.paths.layers_dir) == before


@pytest.mark.parametrize(
    ("name", "words", "record"),
    [
        ("truncated.geojson", "truncated.geojson: cannot be read as geojson", None),
        ("latitude_out_of_range.geojson", "latitude_out_of_range.geojson: coordinates out of range", "8"),
        ("unknown_crs.geojson", "unknown CRS", None),
        ("zip_slip.zip", "unsafe zip entry '../../evil.geojson'", None),
        ("empty.geojson", "empty (0 bytes)", None),
    ],
)
def test_a_bad_upload_is_a_422_naming_the_file_and_changes_nothing(
    api: TestClient, layered: Layered, name: str, words: str, record: str | None
) -> None:
    before = _fingerprint(layered.paths.layers_dir)
    with (BAD / name).open("rb") as fh:
        response = api.post(
            "/api/twins/lauf/layers", files={"file": (name, fh)}, data={"title": "Kaputt"}, headers=layered.admin
        )
    assert response.status_code == 422, response.text
    body = response.json()
    assert words in body["error"]
    assert "twin3d-upload-" not in response.text  # the server's temporary folder is not shown
    if record is not None:
        assert str(body["record"]) == record
    assert _fingerprint(layered.paths.layers_dir) == before


def test_an_upload_above_the_size_limit_is_refused_while_it_streams(layered: Layered) -> None:
    limits = LayerSettings(max_file_mb=0.01)
    with TestClient(create_app(ServerSettings(), layered.paths, layer_limits=limits)) as c:
        before = _fingerprint(layered.paths.layers_dir)
        big = io.BytesIO(b"x" * (2 * 1024 * 1024))
        response = c.post(
            "/api/twins/lauf/layers",
            files={"file": ("gross.geojson", big)},
            data={"title": "Groß"},
            headers=layered.admin,
        )
        assert response.status_code == 413
        assert _fingerprint(layered.paths.layers_dir) == before
