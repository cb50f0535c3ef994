"""One vector tile holds at most ``vector_tile_max_features`` features: the largest, said in ``X-Tile-Thinned``,
chosen before any geometry is transformed or encoded, so a tile of a huge layer costs what a capped tile costs."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import GEODATA
from twin3d.layers.load import LoadOptions, load_layer
from twin3d.layers.tiles import vector_collection
from twin3d.server.app import create_app
from twin3d.server.routers.features import THINNED_HEADER
from twin3d.settings import LayerSettings, PathSettings, ServerSettings
from twin3d.store import features
from twin3d.store.connection import connect
from twin3d.store.features import Collection, sql_string
from twin3d.store.tile_seed import seed_tiles

LAUF_CENTRE = (11.2780, 49.5100)
BUILDINGS = GEODATA / "lauf" / "osm" / "lauf_buildings.geojson"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    row = (1 - math.log(math.tan(math.radians(lat)) + 1 / math.cos(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(row)


@pytest.fixture
def layer_paths(tmp_path: Path, demo_paths: PathSettings, built: dict[str, Any]) -> PathSettings:
    """Lauf with its buildings loaded as a public layer whose tiles are all cut on demand (none seeded)."""
    paths = PathSettings(
        pipelines_dir=demo_paths.pipelines_dir, store_dir=tmp_path / "var", tiles_dir=demo_paths.tiles_dir
    )
    paths.store_dir.mkdir()
    paths.store_file("lauf").symlink_to(demo_paths.store_file("lauf").resolve())
    options = LoadOptions(title="Gebäude", layer_id="haeuser", visibility="public")
    load_layer(paths, "lauf", BUILDINGS, options, LayerSettings(seed_max_features=0))
    return paths


def test_a_crowded_tile_keeps_the_largest_features_and_says_so(layer_paths: PathSettings) -> None:
    z = 12
    x, y = tile_of(*LAUF_CENTRE, z)
    url = f"/api/twins/lauf/mvt/layer_haeuser/{z}/{x}/{y}.pbf"
    with TestClient(create_app(ServerSettings(vector_tile_max_features=500), layer_paths)) as c:
        thinned = c.get(url)
        head = c.head(url)
        own = c.get(f"/api/twins/lauf/mvt/buildings/{z}/{x}/{y}.pbf")  # the twin's own collections too
        x16, y16 = tile_of(*LAUF_CENTRE, 16)
        roomy = c.get(f"/api/twins/lauf/mvt/layer_haeuser/16/{x16}/{y16}.pbf")
    with TestClient(create_app(ServerSettings(), layer_paths)) as c:
        whole = c.get(url)
    assert thinned.status_code == whole.status_code == 200
    kept, _, rest = thinned.headers[THINNED_HEADER].partition(" of ")
    assert int(kept) == 500
    assert int(rest.split()[0]) > 6000
    assert "zoom in" in thinned.headers[THINNED_HEADER]
    assert head.headers[THINNED_HEADER] == thinned.headers[THINNED_HEADER]
    assert THINNED_HEADER in own.headers
    assert THINNED_HEADER not in whole.headers
    assert THINNED_HEADER not in roomy.headers
    assert 0 < len(thinned.content) < len(whole.content) / 5


def _crowd(tmp_path: Path, copies: int) -> tuple[Path, int]:
    """Lauf's footprints ``copies`` times over, shifted a little, as a loaded layer's GeoParquet: the last copy
    made tiny (20 cm disks at the footprints' centres, the smallest features of every tile) and ``poisoned``."""
    parquet = tmp_path / "crowd.parquet"
    con = connect()
    try:
        con.execute(f"""
            COPY (
                WITH shapes AS (SELECT geom FROM ST_Read({sql_string(str(BUILDINGS))})),
                copies AS (
                    SELECT i = {copies - 1} AS poisoned,
                           CASE WHEN i = {copies - 1} THEN ST_Buffer(ST_Centroid(geom), 0.000002) ELSE geom END AS g,
                           i * 0.00002 AS shift
                    FROM shapes, range({copies}) AS r(i)
                ),
                placed AS (SELECT poisoned, ST_Translate(g, shift, shift) AS geom_wgs84 FROM copies)
                SELECT row_number() OVER () AS fid, poisoned, geom_wgs84,
                       {{'xmin': ST_XMin(geom_wgs84), 'ymin': ST_YMin(geom_wgs84),
                         'xmax': ST_XMax(geom_wgs84), 'ymax': ST_YMax(geom_wgs84)}} AS bbox
                FROM placed
            ) TO {sql_string(str(parquet))} (FORMAT parquet)
        """)
        rows = con.execute(f"SELECT count(*) FROM read_parquet({sql_string(str(parquet))})").fetchone()
    finally:
        con.close()
    assert rows is not None
    return parquet, int(rows[0])


def test_features_beyond_the_cap_are_never_transformed_or_encoded(tmp_path: Path) -> None:
    """Over 300,000 features meet the tile; the geometry of the poisoned (smallest) ones raises if it is ever
    computed: the cap is applied on bounding boxes before any geometry is read, transformed or encoded."""
    parquet, total = _crowd(tmp_path, 50)
    layer = vector_collection("crowd", parquet, ["fid", "poisoned"])
    poisoned = Collection(
        **{**layer.__dict__, "geometry": "CASE WHEN poisoned THEN error('a feature beyond the cap was cut') "
                                          "ELSE geom_wgs84 END"}
    )  # fmt: skip
    con = connect()
    try:
        cur = con.cursor()
        for z in (11, 13):
            x, y = tile_of(*LAUF_CENTRE, z)
            started = time.perf_counter()
            tile = features.vector_tile(cur, poisoned, z, x, y, max_features=2000)
            seconds = time.perf_counter() - started
            assert tile.thinned, z
            assert (tile.kept, tile.meeting > 2000) == (2000, True), z
            assert 0 < len(tile.data) < 2000 * 400
            assert seconds < 20, f"zoom {z}: {seconds:.1f} s for a capped tile"
        with pytest.raises(Exception, match="beyond the cap"):  # the poison works: uncapped, it is cut
            features.mvt(cur, poisoned, 13, *tile_of(*LAUF_CENTRE, 13))
    finally:
        con.close()
    assert total > 300_000


def test_tiles_cut_when_a_layer_is_loaded_hold_the_largest_within_the_cap_too(layer_paths: PathSettings) -> None:
    """Tiles of zoom 12-16 are cut when a layer is loaded and then served as files: the cap holds for them too."""
    parquet = next((layer_paths.layers_dir / "lauf" / "haeuser").rglob("*.parquet"))
    collection = vector_collection("haeuser", parquet, [])
    con = connect()
    x, y = tile_of(*LAUF_CENTRE, 12)
    capped = {(tx, ty): data for _, tx, ty, data in seed_tiles(con.cursor(), collection, [12], max_features=500)}
    whole = {(tx, ty): data for _, tx, ty, data in seed_tiles(con.cursor(), collection, [12], max_features=10**9)}
    assert capped.keys() == whole.keys()
    assert 0 < len(capped[(x, y)]) < len(whole[(x, y)]) / 5
