"""OGC API - Features and vector tiles: read by GDAL's own clients (OAPIF and MVT drivers), checked against the store.

GDAL is what QGIS uses underneath, so a collection GDAL reads with the right count is one a GIS team can load.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import GEODATA
from tests.server.revalidation import assert_revalidates
from twin3d.auth.users import add_user
from twin3d.layers.catalogue import get_layer, layer_file
from twin3d.layers.context import LoadOptions, twin_info
from twin3d.layers.load import load_layer
from twin3d.layers.tiles import vector_collection
from twin3d.server.app import create_app
from twin3d.settings import PathSettings, ServerSettings
from twin3d.store import features
from twin3d.store.connection import connect

OGRINFO = shutil.which("ogrinfo")
needs_gdal = pytest.mark.skipif(OGRINFO is None, reason="gdal-bin (ogrinfo) is not installed; CI installs it")
LAUF_CENTRE = (11.2775, 49.5098)


def _store_count(demo_paths: PathSettings, twin: str, sql: str) -> int:
    con = connect(demo_paths.store_file(twin), read_only=True)
    try:
        row = con.execute(sql).fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


def _expected_counts(demo_paths: PathSettings, twin: str) -> dict[str, int]:
    """Feature count of every collection, straight from the store."""
    con = connect(demo_paths.store_file(twin), read_only=True)
    try:
        out = {}
        for (level,) in con.execute("SELECT DISTINCT level FROM districts").fetchall():
            out[f"districts_{level}"] = int(
                con.execute("SELECT count(*) FROM districts WHERE level = ?", [level]).fetchone()[0]
            )  # type: ignore[index]
        for table in ("buildings", "facilities", "paths", "grid_cells"):
            n = int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # type: ignore[index]
            if n:
                out[table] = n
        out["population_h3"] = int(
            con.execute(
                "SELECT count(*) FROM population_public WHERE scenario = 'baseline' AND persona = '*' "
                "AND resolution = 8"
            ).fetchone()[0]  # type: ignore[index]
        )
        return out
    finally:
        con.close()


def _ogr_count(url: str, layer: str) -> int:
    """Features GDAL's OAPIF driver reads from a collection, following the server's paging links."""
    assert OGRINFO is not None
    result = subprocess.run(
        [OGRINFO, "-ro", "-al", "-q", "-oo", "PAGE_SIZE=500", f"OAPIF:{url}", layer],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.count("OGRFeature(")


@needs_gdal
@pytest.mark.slow
@pytest.mark.parametrize("twin", ["lauf", "rostock"])
def test_gdal_reads_every_public_collection_with_the_store_counts(
    live_server: str, demo_paths: PathSettings, twin: str
) -> None:
    url = f"{live_server}/api/twins/{twin}/features"
    listing = subprocess.run([OGRINFO, "-ro", "-so", f"OAPIF:{url}"], capture_output=True, text=True, check=True)  # type: ignore[list-item]
    expected = _expected_counts(demo_paths, twin)
    for collection in expected:
        assert f": {collection} (" in listing.stdout, listing.stdout
    for collection, count in expected.items():
        assert _ogr_count(url, collection) == count, collection


def test_landing_conformance_and_collections(client: TestClient) -> None:
    landing = client.get("/api/twins/rostock/features").json()
    rels = {link["rel"]: link["href"] for link in landing["links"]}
    assert rels["data"].endswith("/api/twins/rostock/features/collections")
    assert rels["conformance"].endswith("/features/conformance")
    classes = client.get("/api/twins/rostock/features/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in classes
    collections = {c["id"]: c for c in client.get("/api/twins/rostock/features/collections").json()["collections"]}
    assert {"districts_stadtbereich", "districts_bezirk", "grid_cells", "population_h3"} <= set(collections)
    west, south, east, north = collections["districts_stadtbereich"]["extent"]["spatial"]["bbox"][0]
    assert 11.9 < west < east < 12.4  # Rostock, in lon/lat (CRS84)
    assert 54.0 < south < north < 54.3
    assert "Rostock" in collections["districts_stadtbereich"]["attribution"]


def test_items_page_with_links_bbox_and_property_filter(client: TestClient, demo_paths: PathSettings) -> None:
    base = "/api/twins/lauf/features/collections/buildings/items"
    total = _store_count(demo_paths, "lauf", "SELECT count(*) FROM buildings")
    first = client.get(base, params={"limit": 50})
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/geo+json")
    page = first.json()
    assert (page["numberMatched"], page["numberReturned"], len(page["features"])) == (total, 50, 50)
    next_link = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "offset=50" in next_link
    second = client.get(next_link).json()
    assert {f["id"] for f in page["features"]}.isdisjoint({f["id"] for f in second["features"]})

    # bbox: 300 m around the town centre; every returned footprint meets it, and the count is the store's.
    lon, lat = LAUF_CENTRE
    bbox = (lon - 0.002, lat - 0.00135, lon + 0.002, lat + 0.00135)
    inside = client.get(base, params={"bbox": ",".join(map(str, bbox)), "limit": 10000}).json()
    expected = _store_count(
        demo_paths,
        "lauf",
        f"SELECT count(*) FROM buildings WHERE ST_Intersects(geom_wgs84, ST_MakeEnvelope({', '.join(map(str, bbox))}))",
    )
    assert inside["numberMatched"] == inside["numberReturned"] == expected > 0
    # property filter
    kind = inside["features"][0]["properties"]["building_type"]
    filtered = client.get(base, params={"building_type": kind, "limit": 1}).json()
    expected = _store_count(demo_paths, "lauf", f"SELECT count(*) FROM buildings WHERE building_type = '{kind}'")
    assert filtered["numberMatched"] == expected
    one = filtered["features"][0]
    single = client.get(f"{base}/{one['id']}").json()
    assert single["properties"] == one["properties"]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"bbox": "1,2,3"}, "bbox"), ({"bbox": "0,80,1,70"}, "bbox"), ({"no_such_column": "x"}, "no_such_column")],
)
def test_bad_item_queries_are_422_naming_the_parameter(client: TestClient, params: dict[str, str], field: str) -> None:
    response = client.get("/api/twins/lauf/features/collections/buildings/items", params=params)
    assert response.status_code == 422
    assert field in response.text


def test_microdata_is_no_collection(client: TestClient) -> None:
    ids = {c["id"] for c in client.get("/api/twins/rostock/features/collections").json()["collections"]}
    assert not ids & {"persons", "households"}
    assert client.get("/api/twins/rostock/features/collections/persons/items").status_code == 404


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


@needs_gdal
def test_vector_tile_decodes_in_gdal_with_the_buildings_of_the_tile(
    client: TestClient, demo_paths: PathSettings, tmp_path: Path
) -> None:
    z = 15
    x, y = _tile_of(*LAUF_CENTRE, z)
    response = client.get(f"/api/twins/lauf/mvt/buildings/{z}/{x}/{y}.pbf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    etag = response.headers["etag"]
    assert_revalidates(client, f"/api/twins/lauf/mvt/buildings/{z}/{x}/{y}.pbf", etag)
    path = tmp_path / "tile.mvt"
    path.write_bytes(response.content)
    info = subprocess.run(
        [OGRINFO, "-ro", "-al", "-so", "-oo", f"X={x}", "-oo", f"Y={y}", "-oo", f"Z={z}", f"MVT:{path}"],  # type: ignore[list-item]
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    count = int(info.split("Feature Count:")[1].split()[0])
    # Buildings whose footprint meets the tile (the tile's buffer adds a few around its edge).
    n = 2.0**z
    west, east = x / n * 360 - 180, (x + 1) / n * 360 - 180
    north = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / n))))
    south = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + 1) / n))))
    envelope = f"ST_MakeEnvelope({west}, {south}, {east}, {north})"
    meeting = _store_count(
        demo_paths, "lauf", f"SELECT count(*) FROM buildings WHERE ST_Intersects(geom_wgs84, {envelope})"
    )
    assert meeting > 100
    assert meeting <= count <= meeting * 1.1
    assert "building_type: String" in info


def test_tilejson_and_tile_errors(client: TestClient) -> None:
    doc: dict[str, Any] = client.get("/api/twins/lauf/mvt/buildings/tilejson.json").json()
    assert doc["tiles"][0].endswith("/api/twins/lauf/mvt/buildings/{z}/{x}/{y}.pbf")
    assert doc["vector_layers"][0]["id"] == "buildings"
    assert client.get("/api/twins/lauf/mvt/buildings/3/8/0.pbf").status_code == 422  # x beyond 2**3 - 1
    assert client.get("/api/twins/lauf/mvt/nothing/3/1/1.pbf").status_code == 404
    empty = client.get("/api/twins/lauf/mvt/buildings/3/0/0.pbf")  # far from Lauf: an empty tile, not an error
    assert empty.status_code == 200
    assert empty.content == b""


@pytest.fixture
def layered(tmp_path: Path, demo_paths: PathSettings, built: dict[str, Any]) -> tuple[PathSettings, str]:
    """Lauf with two loaded layers: its POIs for the public, its buildings for the council; and a council token."""
    paths = PathSettings(
        pipelines_dir=demo_paths.pipelines_dir, store_dir=tmp_path / "var", tiles_dir=demo_paths.tiles_dir
    )
    paths.store_dir.mkdir()
    paths.store_file("lauf").symlink_to(demo_paths.store_file("lauf").resolve())
    info = twin_info(paths, "lauf")
    osm = GEODATA / "lauf" / "osm"
    load_layer(paths, "lauf", osm / "lauf_pois.geojson", LoadOptions(title="Orte", layer_id="orte"), info=info)
    options = LoadOptions(title="Gebäude intern", layer_id="intern", visibility="council")
    load_layer(paths, "lauf", osm / "lauf_buildings.geojson", options, info=info)
    _, token = add_user(paths.users_file, "rat", "council")
    return paths, token


def test_loaded_layers_are_collections_and_tiles_only_for_their_roles(layered: tuple[PathSettings, str]) -> None:
    paths, token = layered
    council = {"Authorization": f"Bearer {token}"}
    pois = len(json.loads((GEODATA / "lauf" / "osm" / "lauf_pois.geojson").read_text())["features"])
    z = 15
    x, y = _tile_of(*LAUF_CENTRE, z)
    with TestClient(create_app(ServerSettings(), paths)) as c:
        base = "/api/twins/lauf/features/collections"
        public_ids = {d["id"] for d in c.get(base).json()["collections"]}
        council_ids = {d["id"] for d in c.get(base, headers=council).json()["collections"]}
        assert "layer_orte" in public_ids
        assert "layer_intern" not in public_ids
        assert "layer_intern" in council_ids
        page = c.get(f"{base}/layer_orte/items", params={"limit": 5000}).json()
        assert page["numberMatched"] == page["numberReturned"] > 0
        assert page["numberMatched"] <= pois  # records without a geometry are dropped (and counted) on loading
        # The council layer: 404 to the public everywhere (never a hint that it exists), served to the council.
        assert c.get(f"{base}/layer_intern").status_code == 404
        assert c.get(f"{base}/layer_intern/items").status_code == 404
        assert c.get(f"/api/twins/lauf/mvt/layer_intern/{z}/{x}/{y}.pbf").status_code == 404
        tile = c.get(f"/api/twins/lauf/mvt/layer_intern/{z}/{x}/{y}.pbf", headers=council)
        assert tile.status_code == 200
        assert len(tile.content) > 1000
        assert c.get(f"{base}/layer_intern/items", headers=council).json()["numberMatched"] > 1000


@pytest.mark.parametrize("z", [12, 14, 16])
def test_linear_tile_map_matches_web_mercator_within_rounding(demo_paths: PathSettings, z: int) -> None:
    """From zoom 12 the tiles skip PROJ (Mercator y taken as linear in latitude inside a tile); the vertices may
    move by no more than the encoding's own rounding (half a unit of 4,096)."""
    x, y = _tile_of(*LAUF_CENTRE, z)
    a, d, xoff, yoff, geometry = features._to_tile("geom_wgs84", z, x, y)
    assert geometry == "geom_wgs84"
    minx, _, maxx, maxy = features.tile_bounds_mercator(z, x, y)
    s = 4096 / (maxx - minx)
    west, south, east, north = features.tile_bounds_wgs84(z, x, y)
    worst = _store_count(
        demo_paths,
        "lauf",
        f"""
        SELECT ceil(1000 * max(greatest(abs(ST_XMin(a) - ST_XMin(b)), abs(ST_YMin(a) - ST_YMin(b)),
                                        abs(ST_XMax(a) - ST_XMax(b)), abs(ST_YMax(a) - ST_YMax(b)))))
        FROM (SELECT ST_Affine(geom_wgs84, {a}, 0, 0, {d}, {xoff}, {yoff}) AS a,
                     ST_Affine(ST_Transform(geom_wgs84, 'EPSG:4326', 'EPSG:3857', always_xy := true),
                               {s}, 0, 0, {-s}, {-minx * s}, {maxy * s}) AS b
              FROM buildings WHERE ST_Intersects_Extent(geom_wgs84, ST_MakeEnvelope({west}, {south}, {east}, {north})))
        """,
    )
    assert 0 < worst <= 500  # thousandths of a tile unit


def _tile_ids(path: Path, z: int, x: int, y: int) -> list[str]:
    """The ``id`` of every feature GDAL's MVT driver reads from a tile file."""
    assert OGRINFO is not None
    text = subprocess.run(
        [OGRINFO, "-ro", "-al", "-q", "-oo", f"X={x}", "-oo", f"Y={y}", "-oo", f"Z={z}", f"MVT:{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(line.split("=", 1)[1].strip() for line in text.splitlines() if line.strip().startswith("id (String)"))


@needs_gdal
@pytest.mark.parametrize("z", [12, 15, 16])
def test_tiles_cut_on_loading_equal_tiles_cut_on_demand(
    layered: tuple[PathSettings, str], tmp_path: Path, z: int
) -> None:
    """A loaded layer's tiles of zoom 12-16 are cut when it is loaded; they hold the features a tile cut on
    demand holds, with the same properties."""
    paths, token = layered
    entry = get_layer(paths, "lauf", "intern")
    assert entry.files["tiles"] == "mvt"
    x, y = _tile_of(*LAUF_CENTRE, z)
    seeded_file = layer_file(paths, entry, "tiles") / str(z) / str(x) / f"{y}.pbf"
    assert seeded_file.is_file()
    on_demand = vector_collection(entry.id, layer_file(paths, entry, "features"), entry.fields)
    con = connect()
    try:
        fresh = features.mvt(con.cursor(), on_demand, z, x, y)
    finally:
        con.close()
    fresh_file = tmp_path / "fresh.pbf"
    fresh_file.write_bytes(fresh)
    assert len(_tile_ids(seeded_file, z, x, y)) > 50
    assert _tile_ids(seeded_file, z, x, y) == _tile_ids(fresh_file, z, x, y)
    with TestClient(create_app(ServerSettings(), paths)) as c:
        served = c.get(
            f"/api/twins/lauf/mvt/layer_intern/{z}/{x}/{y}.pbf", headers={"Authorization": f"Bearer {token}"}
        )
    assert served.content == seeded_file.read_bytes()


@needs_gdal
def test_low_zoom_tiles_leave_out_features_smaller_than_a_pixel(
    client: TestClient, demo_paths: PathSettings, tmp_path: Path
) -> None:
    z = 11
    x, y = _tile_of(*LAUF_CENTRE, z)
    tile = tmp_path / "low.pbf"
    tile.write_bytes(client.get(f"/api/twins/lauf/mvt/buildings/{z}/{x}/{y}.pbf").content)
    shown = len(_tile_ids(tile, z, x, y))
    pixel = 360.0 / 2**z / 256
    west, south, east, north = features.tile_bounds_wgs84(z, x, y)
    envelope = f"ST_MakeEnvelope({west}, {south}, {east}, {north})"
    total = _store_count(
        demo_paths, "lauf", f"SELECT count(*) FROM buildings WHERE ST_Intersects(geom_wgs84, {envelope})"
    )
    large = _store_count(
        demo_paths,
        "lauf",
        f"SELECT count(*) FROM buildings WHERE ST_Intersects(geom_wgs84, {envelope}) AND "
        f"(ST_XMax(geom_wgs84) - ST_XMin(geom_wgs84) >= {pixel} "
        f"OR ST_YMax(geom_wgs84) - ST_YMin(geom_wgs84) >= {pixel * math.cos(math.radians((south + north) / 2))})",
    )
    assert 0 < large < total / 2  # most houses are smaller than a pixel at zoom 11
    assert shown == large
