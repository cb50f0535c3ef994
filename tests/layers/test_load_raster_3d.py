"""Raster layers (GeoTIFF overlay or terrain) and 3D layers (CityJSON, CityGML, LAS/LAZ point clouds)."""

from __future__ import annotations

import json
from pathlib import Path

import laspy
import numpy as np
import pyarrow.parquet as pq
import pytest
import rasterio
import rasterio.shutil
from pyproj import Transformer

from tests.conftest import GEODATA
from tests.layers.conftest import CLOUD, DATA, DEM
from twin3d.errors import ConfigError, CRSError
from twin3d.layers.catalogue import get_layer, layer_file
from twin3d.layers.context import LoadOptions
from twin3d.layers.load import load_layer
from twin3d.settings import PathSettings
from twin3d.tiling.gltf import decode_glb

KROEPELINER_TOR = GEODATA / "rostock" / "lod2-cityjson" / "rostock_kroepeliner_tor_DEMVAL03000hEfAe.city.json"
NRW_CITYGML = DATA / "citygml" / "nrw_lod2_3_buildings_citygml1.gml"
NRW_UNDULATION = 46.8  # tests/data/pipelines/nrw.toml


def test_geotiff_overlay_is_a_web_mercator_cog(nrw_paths: PathSettings) -> None:
    entry, _ = load_layer(nrw_paths, "nrw", DEM, LoadOptions(title="Gelände (Bild)"))
    assert (entry.kind, entry.format, entry.source_crs, entry.crs) == ("raster", "geotiff", "EPSG:25832", "EPSG:3857")
    assert entry.raster is not None
    assert entry.raster.bands == 1
    assert entry.raster.minimum is not None
    assert 38.9 < entry.raster.minimum < entry.raster.maximum < 50.4
    assert [item.symbol for item in entry.legend] == ["ramp", "ramp"]
    with rasterio.open(layer_file(nrw_paths, entry, "raster")) as ds:
        assert ds.crs.to_epsg() == 3857
        assert ds.block_shapes == [(256, 256)]
        # Aligned to the XYZ tile grid: the origin is a multiple of a tile's width at the file's zoom.
        tile_m = 256 * ds.transform.a
        assert np.isclose(((ds.transform.c + 20037508.342789244) / tile_m) % 1, 0, atol=1e-6)
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    west, south, east, north = entry.extent
    assert 6.9 < west < east < 7.0
    assert 50.9 < south < north < 51.0


def test_geotiff_terrain_keeps_the_heights_in_the_twin_crs(nrw_paths: PathSettings) -> None:
    entry, _ = load_layer(nrw_paths, "nrw", DEM, LoadOptions(title="DGM1", role="terrain"))
    assert (entry.kind, entry.crs, entry.style.colormap) == ("terrain", "EPSG:25832", "terrain")
    with rasterio.open(DEM) as src, rasterio.open(layer_file(nrw_paths, entry, "raster")) as out:
        assert out.transform == src.transform
        assert np.array_equal(out.read(1), src.read(1))
    # A twin has one terrain: a second one under another id is refused, the same id can be replaced.
    with pytest.raises(ConfigError, match="terrain layer already: 'dgm1'"):
        load_layer(nrw_paths, "nrw", DEM, LoadOptions(layer_id="dgm-neu", role="terrain"))
    load_layer(nrw_paths, "nrw", DEM, LoadOptions(layer_id="dgm1", title="DGM1 neu", role="terrain", replace=True))
    assert get_layer(nrw_paths, "nrw", "dgm1").title == "DGM1 neu"


def test_geotiff_without_crs_takes_the_declared_one(nrw_paths: PathSettings, tmp_path: Path) -> None:
    bare = tmp_path / "dgm_ohne_crs.tif"
    with rasterio.open(DEM) as src:
        profile = {**src.profile, "crs": None}
        with rasterio.open(bare, "w", **profile) as dst:
            dst.write(src.read())
    with pytest.raises(CRSError, match="no CRS"):
        load_layer(nrw_paths, "nrw", bare, LoadOptions())
    entry, _ = load_layer(nrw_paths, "nrw", bare, LoadOptions(crs="EPSG:25832"))
    assert entry.source_crs == "EPSG:25832"
    assert 6.9 < entry.extent[0] < 7.0


def _tileset(paths: PathSettings, twin: str, layer: str) -> tuple[Path, dict[str, object]]:
    file = layer_file(paths, get_layer(paths, twin, layer), "tileset")
    return file.parent, json.loads(file.read_text(encoding="utf-8"))


def test_cityjson_becomes_a_3d_tiles_layer(paths: PathSettings) -> None:
    entry, report = load_layer(paths, "rostock", KROEPELINER_TOR, LoadOptions(title="Kröpeliner Tor"))
    assert (entry.kind, entry.format, entry.feature_count, entry.crs) == ("tiles3d", "cityjson", 1, "EPSG:4978")
    assert report.records_out == 1
    folder, tileset = _tileset(paths, "rostock", entry.id)
    assert tileset["asset"]["version"] == "1.1"  # type: ignore[index]
    glbs = sorted(folder.rglob("*.glb"))
    assert glbs
    doc, _ = decode_glb(glbs[0].read_bytes())
    assert "EXT_structural_metadata" in doc["extensionsUsed"]
    features = pq.read_table(layer_file(paths, entry, "features"))
    assert features.column("building_id").to_pylist() == ["DEMVAL03000hEfAe"]
    assert features.column("tile").to_pylist()[0].endswith(".glb")
    west, south, east, north = entry.extent
    assert 12.12 < west < east < 12.14
    assert 54.08 < south < north < 54.09


def test_citygml_becomes_a_3d_tiles_layer(nrw_paths: PathSettings) -> None:
    entry, _ = load_layer(nrw_paths, "nrw", NRW_CITYGML, LoadOptions(title="LoD2"))
    assert (entry.kind, entry.format, entry.feature_count, entry.geometry_type) == (
        "tiles3d",
        "citygml",
        3,
        "buildings",
    )
    assert entry.files == {"tileset": "tileset/tileset.json", "features": "features.parquet"}


def _root_position(tileset: dict[str, object]) -> tuple[float, float, float]:
    root = tileset["root"]
    tx, ty, tz = root["transform"][12:15]  # type: ignore[index]
    lon, lat, h = Transformer.from_crs(4978, 4979, always_xy=True).transform(tx, ty, tz)
    return float(lon), float(lat), float(h)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".laz", ".las"])
def test_point_cloud_from_the_real_dem_becomes_a_point_tileset(
    nrw_paths: PathSettings, tmp_path: Path, suffix: str
) -> None:
    source = tmp_path / f"koeln{suffix}"
    laspy.read(CLOUD).write(source)
    entry, report = load_layer(nrw_paths, "nrw", source, LoadOptions(title="Punktwolke"))
    assert (entry.kind, entry.format, entry.feature_count, entry.source_crs) == (
        "pointcloud",
        suffix[1:],
        4000,
        "EPSG:25832",
    )
    folder, tileset = _tileset(nrw_paths, "nrw", entry.id)
    assert sorted(folder.rglob("*.pnts"))
    lon, lat, height = _root_position(tileset)
    west, south, east, north = entry.extent
    assert west - 0.01 < lon < east + 0.01
    assert south - 0.01 < lat < north + 0.01
    # DGM1 heights 39-50 m above NHN, raised by the twin's quasigeoid undulation to heights above the ellipsoid.
    assert 39.0 + NRW_UNDULATION - 1 < height < 50.4 + NRW_UNDULATION + 1
    assert "raised by 46.80 m" in report.notes[0]


def test_raise_root_moves_a_tileset_up_along_the_ellipsoid_normal() -> None:
    from twin3d.layers.threed import raise_root  # noqa: PLC0415

    to_ecef = Transformer.from_crs(4979, 4978, always_xy=True)
    x, y, z = to_ecef.transform(6.97, 50.95, 44.0)
    tileset = {"root": {"transform": [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, x, y, z, 1], "boundingVolume": {"box": []}}}
    raise_root(tileset, NRW_UNDULATION)
    lon, lat, height = _root_position(tileset)
    assert np.allclose((lon, lat, height), (6.97, 50.95, 44.0 + NRW_UNDULATION), atol=1e-6)
