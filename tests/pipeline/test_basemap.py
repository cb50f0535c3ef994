"""The basemap's vector tiles as a build makes them: Lauf from its OpenStreetMap extract, Rostock from its districts
and street axes, no basemap for a twin with neither; decoded with a small MVT reader of the test's own."""

from __future__ import annotations

import itertools
import math
import struct
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
import shapely

from tests.conftest import PIPELINES, REPO, TEST_PIPELINES
from twin3d.errors import ConfigError, InputError
from twin3d.io.osm_basemap import read_osm_basemap
from twin3d.io.osm_pass import SKIP_NODES_MISSING
from twin3d.pipeline.basemap import TILES, basemap_step, store_layers
from twin3d.pipeline.build import build_twin, current_tiles
from twin3d.pipeline.config import load_pipeline
from twin3d.pipeline.report import BuildReport
from twin3d.settings import PathSettings
from twin3d.store import queries
from twin3d.store.connection import connect
from twin3d.tiling.basemap import Layer, write_basemap

# --- a Mapbox Vector Tile (v2) reader: enough protobuf to check what a viewer would draw -------------------------


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        byte = buf[i]
        i += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, i
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, Any]]:
    """(field number, value) of a protobuf message: ints for varints, bytes for the other wire types."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        wire = key & 7
        value: Any
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i : i + size], i + size
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, i = buf[i : i + width], i + width
        else:
            raise ValueError(f"wire type {wire}")
        yield key >> 3, value


def _packed(buf: bytes) -> list[int]:
    out, i = [], 0
    while i < len(buf):
        value, i = _varint(buf, i)
        out.append(value)
    return out


def _zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def _value(buf: bytes) -> Any:
    decode = {
        1: lambda v: v.decode(),
        2: lambda v: struct.unpack("<f", v)[0],
        3: lambda v: struct.unpack("<d", v)[0],
        4: lambda v: v,
        5: lambda v: v,
        6: _zigzag,
        7: bool,
    }
    return next((decode[number](v) for number, v in _fields(buf)), None)


def _geometry(commands: list[int]) -> list[list[tuple[int, int]]]:
    """Parts (rings or lines) in tile coordinates; a closed ring repeats its first point."""
    parts: list[list[tuple[int, int]]] = []
    x = y = i = 0
    while i < len(commands):
        command, count = commands[i] & 7, commands[i] >> 3
        i += 1
        if command == 7:  # ClosePath
            parts[-1].append(parts[-1][0])
            continue
        for _ in range(count):
            x, y, i = x + _zigzag(commands[i]), y + _zigzag(commands[i + 1]), i + 2
            if command == 1:  # MoveTo starts a part
                parts.append([])
            parts[-1].append((x, y))
    return parts


def _feature(buf: bytes, keys: list[str], values: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"properties": {}}
    for n, v in _fields(buf):
        if n == 2:
            tags = _packed(v)
            out["properties"] = {keys[tags[k]]: values[tags[k + 1]] for k in range(0, len(tags), 2)}
        elif n == 3:
            out["type"] = v
        elif n == 4:
            out["geometry"] = _geometry(_packed(v))
    return out


def _layer(buf: bytes) -> tuple[str, dict[str, Any]]:
    found: dict[str, Any] = {"version": 1, "extent": 4096}
    keys: list[str] = []
    values: list[Any] = []
    raw: list[bytes] = []
    for n, v in _fields(buf):
        if n == 1:
            found["name"] = v.decode()
        elif n == 2:
            raw.append(v)
        elif n == 3:
            keys.append(v.decode())
        elif n == 4:
            values.append(_value(v))
        elif n in (5, 15):
            found["extent" if n == 5 else "version"] = v
    found["features"] = [_feature(f, keys, values) for f in raw]
    return found.pop("name"), found


def decode_tile(data: bytes) -> dict[str, dict[str, Any]]:
    """A vector tile's layers: ``{name: {"version", "extent", "features": [{"type", "properties", "geometry"}]}}``;
    a layer name seen twice fails (a tile holds each layer once)."""
    layers: dict[str, dict[str, Any]] = {}
    for number, buf in _fields(data):
        assert number == 3, "a tile holds layers only"
        name, layer = _layer(buf)
        assert name not in layers
        layers[name] = layer
    return layers


def ring_area(ring: list[tuple[int, int]]) -> float:
    """The surveyor's formula in tile coordinates: positive for an exterior ring (MVT spec 4.3.4.4)."""
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring)) / 2


# --- the built demo twins --------------------------------------------------------------------------------------------


def twin_meta(paths: PathSettings, twin: str) -> dict[str, Any]:
    con = connect(paths.store_file(twin), read_only=True)
    try:
        found = queries.meta(con.cursor(), "twin")
    finally:
        con.close()
    assert isinstance(found, dict)
    return found


def basemap_folder(paths: PathSettings, twin: str) -> Path:
    folder = current_tiles(paths, twin)
    assert folder is not None
    return folder / "basemap"


def read_tiles(folder: Path, z: int) -> dict[tuple[int, int], dict[str, dict[str, Any]]]:
    """The decoded tiles of one zoom level, by (x, y)."""
    files = sorted((folder / str(z)).glob("*/*.pbf"))
    return {(int(f.parent.name), int(f.stem)): decode_tile(f.read_bytes()) for f in files}


def features(tiles: dict[tuple[int, int], dict[str, dict[str, Any]]], layer: str) -> list[dict[str, Any]]:
    return [f for tile in tiles.values() for f in tile.get(layer, {}).get("features", [])]


@pytest.fixture(scope="module")
def lauf(demo_paths: PathSettings, built: dict[str, BuildReport]) -> Path:
    return basemap_folder(demo_paths, "lauf")


def test_lauf_gets_a_basemap_of_its_osm_extract(demo_paths: PathSettings, lauf: Path) -> None:
    meta = twin_meta(demo_paths, "lauf")["basemap"]
    assert meta["tiles"] == TILES == "basemap/{z}/{x}/{y}.pbf"
    assert (meta["minzoom"], meta["maxzoom"]) == (8, 14)
    assert meta["layers"] == ["landuse", "water", "waterway", "railways", "roads", "places"]
    assert "OpenStreetMap" in meta["attribution"]
    west, south, east, north = meta["bounds"]
    assert 11.2 < west < 11.3 < east < 11.35
    assert 49.45 < south < 49.52 < north < 49.55
    assert sorted(int(p.name) for p in lauf.iterdir()) == list(range(8, 15))
    # Every tile written holds features: empty tiles are not written (the server answers 204 for them).
    assert all(decode_tile(f.read_bytes()) for f in lauf.rglob("*.pbf"))


def test_lauf_tiles_show_named_streets_the_pegnitz_and_the_town(lauf: Path) -> None:
    tiles = read_tiles(lauf, 14)
    layer = next(iter(tiles.values()))["roads"]
    assert (layer["version"], layer["extent"]) == (2, 4096)
    roads = features(tiles, "roads")
    names = {f["properties"].get("name") for f in roads}
    # Street names of Lauf's walk network (geodata/lauf/osm/lauf_walk_network.geojson).
    assert {"Marktplatz", "Rudolfshofer Straße", "Erbsenbodenstraße"} <= names
    assert all(f["type"] == 2 for f in roads)
    assert {f["properties"]["kind"] for f in roads} >= {"secondary", "residential", "footway", "path", "service"}
    assert all(isinstance(f["properties"]["rank"], int) and 1 <= f["properties"]["rank"] <= 9 for f in roads)
    rivers = [f for f in features(tiles, "waterway") if f["properties"]["kind"] == "river"]
    assert any(f["properties"].get("name") == "Pegnitz" for f in rivers)
    assert features(tiles, "water")
    town = [f for f in features(read_tiles(lauf, 8), "places") if f["properties"]["name"] == "Lauf an der Pegnitz"]
    assert len(town) == 1
    assert town[0]["properties"]["kind"] == "town"
    assert town[0]["properties"]["population"] == 26515
    assert town[0]["type"] == 1
    assert not any("buildings" in tile for tile in tiles.values())  # deck.gl draws them in 3D


def test_low_zooms_are_thinned(lauf: Path) -> None:
    low, high = read_tiles(lauf, 8), read_tiles(lauf, 14)
    assert {f["properties"]["rank"] for f in features(low, "roads")} <= {1, 2, 3}
    assert 9 in {f["properties"]["rank"] for f in features(high, "roads")}
    assert len(features(low, "landuse")) * 20 < len(features(high, "landuse"))
    small_places = {"Hutanger", "Vogelherd"}  # place=locality: from zoom 14 only
    assert not small_places & {f["properties"]["name"] for f in features(low, "places")}
    assert small_places <= {f["properties"]["name"] for f in features(high, "places")}
    assert sum(f.stat().st_size for f in (lauf / "8").rglob("*.pbf")) < 20_000


def test_geometry_is_in_tile_coordinates_and_wound_as_the_spec_says(lauf: Path) -> None:
    for tile in read_tiles(lauf, 13).values():
        for layer in tile.values():
            for feature in layer["features"]:
                points = [p for part in feature["geometry"] for p in part]
                assert all(-64 <= x <= 4160 and -64 <= y <= 4160 for x, y in points)
                if feature["type"] == 3:
                    # An exterior ring first, of positive area in tile coordinates (y down).
                    assert ring_area(feature["geometry"][0]) > 0


def test_rostock_without_osm_gets_its_districts_and_street_axes(demo_paths: PathSettings, built: object) -> None:
    meta = twin_meta(demo_paths, "rostock")["basemap"]
    assert {"districts", "district_labels"} <= set(meta["layers"])
    assert not {"landuse", "water", "places"} & set(meta["layers"])
    assert "Rostock" in meta["attribution"]
    assert "OpenStreetMap" not in meta["attribution"]
    tiles = read_tiles(basemap_folder(demo_paths, "rostock"), 12)
    outlines = features(tiles, "districts")
    assert {f["properties"]["level"] for f in outlines} == {"stadtbereich", "bezirk"}
    assert all(f["type"] == 3 and f["properties"]["code"] for f in outlines)
    labels = {f["properties"]["name"] for f in features(tiles, "district_labels")}
    assert {"Kröpeliner-Tor-Vorstadt", "Biestow I"} <= labels


def test_a_cadastre_twin_gets_its_actual_land_use(demo_paths: PathSettings, built: dict[str, BuildReport]) -> None:
    if "monzel" not in built:
        pytest.skip("the session builds no cadastre twin")
    meta = twin_meta(demo_paths, "monzel")["basemap"]
    assert meta["layers"] == ["landuse", "water"]
    assert "GeoBasis" in meta["attribution"]
    tiles = read_tiles(basemap_folder(demo_paths, "monzel"), 14)
    kinds = {f["properties"]["kind"] for f in features(tiles, "landuse")}
    assert {"farmland", "forest", "residential", "traffic"} <= kinds
    assert {f["properties"]["kind"] for f in features(tiles, "water")} <= {"river", "lake", "basin"}


def test_a_twin_with_neither_osm_nor_districts_has_no_basemap(demo_paths: PathSettings, built: object) -> None:
    assert twin_meta(demo_paths, "nrw")["basemap"] is None
    assert not basemap_folder(demo_paths, "nrw").exists()


def test_the_store_gives_roads_and_land_use_without_osm(demo_paths: PathSettings, built: object) -> None:
    con = connect(demo_paths.store_file("lauf"), read_only=True)
    try:
        layers = store_layers(con.cursor())
    finally:
        con.close()
    roads = layers["roads"].attributes
    assert roads.num_rows == 2815  # Lauf's walk network
    assert {"residential", "footway", "service"} <= set(roads["kind"].to_pylist())
    assert "Marktplatz" in roads["name"].to_pylist()
    greens = set(layers["landuse"].attributes["kind"].to_pylist())
    assert greens <= {"park", "garden", "playground", "recreation_ground"}


def test_disabled_basemap_is_none() -> None:
    cfg = load_pipeline(PIPELINES / "lauf.toml")
    cfg = cfg.model_copy(update={"basemap": cfg.basemap.model_copy(update={"enabled": False})})
    report = BuildReport("lauf")
    # Nothing of the build is touched.
    assert basemap_step(cfg, None, report) is None  # type: ignore[arg-type]
    assert report.notes == ["basemap: none ([basemap] enabled = false)"]


def _pipeline(tmp_path: Path, source: Path, extra: str) -> Path:
    """A copy of a pipeline definition in ``tmp_path`` with ``extra`` appended, its paths still pointing at the
    repository's data."""
    text = source.read_text(encoding="utf-8").replace('"../', f'"{source.parent.resolve()}/../')
    target = tmp_path / "pipelines" / source.name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(f"{text}\n{extra}\n", encoding="utf-8")
    return target


def test_zoom_levels_are_checked(tmp_path: Path) -> None:
    path = _pipeline(tmp_path, TEST_PIPELINES / "nrw.toml", "[basemap]\nminzoom = 12\nmaxzoom = 10")
    with pytest.raises(ConfigError, match="basemap"):
        load_pipeline(path)


def test_a_missing_extract_fails_the_build_and_keeps_the_twin(tmp_path: Path) -> None:
    paths = PathSettings(pipelines_dir=tmp_path / "pipelines", store_dir=tmp_path / "var", tiles_dir=tmp_path / "t")
    path = _pipeline(tmp_path, TEST_PIPELINES / "nrw.toml", '[basemap]\nosm = "nowhere.osm.pbf"')
    with pytest.raises(InputError, match="not found") as raised:
        build_twin(load_pipeline(path), paths)
    assert "nowhere.osm.pbf" in str(raised.value)
    assert not paths.store_file("nrw").exists()


@pytest.mark.slow
def test_a_rebuild_keeps_the_same_tiles(tmp_path: Path, demo_paths: PathSettings, lauf: Path) -> None:
    paths = PathSettings(pipelines_dir=PIPELINES, store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")
    cfg = load_pipeline(PIPELINES / "lauf.toml")
    build_twin(cfg, paths)
    first = basemap_folder(paths, "lauf")
    files = {f.relative_to(first): f.read_bytes() for f in sorted(first.rglob("*.pbf"))}
    # The same input gives the same bytes in another build folder (the session's build) ...
    assert files == {f.relative_to(lauf): f.read_bytes() for f in sorted(lauf.rglob("*.pbf"))}
    report = build_twin(cfg, paths)
    second = basemap_folder(paths, "lauf")
    assert second != first
    # ... and a rebuild links its unchanged tiles from the build before: same bytes, same file, same ETag.
    assert all((second / name).stat().st_ino == (first / name).stat().st_ino for name in files)
    assert any(f"{len(files)} unchanged and kept" in note for note in report.notes), report.notes
    assert {f.relative_to(second): f.read_bytes() for f in sorted(second.rglob("*.pbf"))} == files


def test_tile_bounds_hold_every_tile(demo_paths: PathSettings, lauf: Path) -> None:
    west, south, east, north = twin_meta(demo_paths, "lauf")["basemap"]["bounds"]
    for z in range(8, 15):
        n = 2**z
        columns = range(math.floor((west + 180) / 360 * n), math.floor((east + 180) / 360 * n) + 1)
        top = math.floor((1 - math.asinh(math.tan(math.radians(north))) / math.pi) / 2 * n)
        bottom = math.floor((1 - math.asinh(math.tan(math.radians(south))) / math.pi) / 2 * n)
        assert all(x in columns and top <= y <= bottom for x, y in read_tiles(lauf, z))


def test_the_osm_file_is_the_one_lauf_reads(demo_paths: PathSettings) -> None:
    cfg = load_pipeline(PIPELINES / "lauf.toml")
    assert cfg.basemap.osm is not None
    assert (cfg.base_dir / cfg.basemap.osm).resolve() == REPO / "geodata/lauf/osm/lauf-200115.osm.pbf"


LAUF_OSM = REPO / "geodata/lauf/osm/lauf-200115.osm.pbf"


def test_the_reader_counts_what_the_extract_edge_cut() -> None:
    found = read_osm_basemap(LAUF_OSM)
    reasons = Counter(reason for _, _, reason in found.skipped.entries)
    assert reasons[SKIP_NODES_MISSING] > 0  # areas cut at the edge cannot be closed
    # Lines cut at the edge are kept where the extract has their nodes: the Pegnitz way crosses it.
    assert found.cut_lines > 50
    assert "Pegnitz" in found.layers["waterway"].attributes["name"].to_pylist()
    box = (11.27, 49.50, 11.28, 49.51)
    small = read_osm_basemap(LAUF_OSM, bbox=box)
    assert 0 < len(small.layers["roads"]) < len(found.layers["roads"])
    for layer in small.layers.values():
        if len(layer):
            bounds = shapely.total_bounds(layer.geometry)
            assert (bounds[:2] >= box[:2]).all()
            assert (bounds[2:] <= box[2:]).all()


def test_a_layer_cut_into_a_collection_still_draws(tmp_path: Path) -> None:
    square = shapely.box(11.27, 49.50, 11.28, 49.51)
    mixed = shapely.GeometryCollection([square, shapely.LineString([(11.28, 49.51), (11.29, 49.52)])])
    layer = Layer("water", np.array([mixed, square.buffer(-0.002)], dtype=object), pa.table({"kind": ["a", "b"]}))
    written = write_basemap([layer], tmp_path, range(12, 13))
    assert written.tiles >= 1
    tile = decode_tile(next(tmp_path.rglob("*.pbf")).read_bytes())
    assert {f["type"] for f in tile["water"]["features"]} == {3}
    with pytest.raises(ValueError, match="plain lower-case"):
        Layer("Water", layer.geometry, layer.attributes)
