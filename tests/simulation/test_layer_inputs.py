"""Loaded layers as scenario inputs: hazard polygons in the twin's CRS, and noise levels at points from a raster or
a polygon layer, with the reasons a layer cannot serve."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import CRS, Transformer
from rasterio.transform import from_origin

from tests.conftest import PIPELINES
from twin3d.layers.catalogue import StagedLayer, get_layer, write_entry
from twin3d.layers.context import LoadOptions, TwinInfo, twin_info
from twin3d.layers.load import load_layer
from twin3d.layers.model import LayerEntry, ServiceSource
from twin3d.settings import PathSettings
from twin3d.simulation.infill import LayerSource
from twin3d.simulation.layer_inputs import hazard_areas, noise_at, noise_field

UTM = CRS.from_epsg(25832)
TO_LONLAT = Transformer.from_crs(UTM, 4326, always_xy=True)
ORIGIN = (659_000.0, 5_487_000.0)  # Lauf's old town, EPSG:25832


@pytest.fixture
def paths(tmp_path: Path) -> PathSettings:
    return PathSettings(pipelines_dir=PIPELINES, store_dir=tmp_path / "var", tiles_dir=tmp_path / "tiles")


@pytest.fixture
def lauf(paths: PathSettings) -> TwinInfo:
    return twin_info(paths, "lauf")


def _square(x0: float, y0: float, size: float) -> list[list[float]]:
    ring = [(x0, y0), (x0 + size, y0), (x0 + size, y0 + size), (x0, y0 + size), (x0, y0)]
    return [list(TO_LONLAT.transform(x, y)) for x, y in ring]


def _polygons(path: Path, squares: list[tuple[float, float, float, dict[str, object]]]) -> Path:
    """Squares (south-west corner in EPSG:25832, side in metres, properties) as a lon/lat GeoJSON."""
    features = [
        {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [_square(x, y, s)]}}
        for x, y, s, props in squares
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    return path


def _load(paths: PathSettings, lauf: TwinInfo, file: Path, layer_id: str, visibility: str = "public") -> None:
    load_layer(paths, "lauf", file, LoadOptions(layer_id=layer_id, visibility=visibility), info=lauf)  # type: ignore[arg-type]


def test_hazard_areas_are_the_layers_polygons_in_the_twins_crs(
    tmp_path: Path, paths: PathSettings, lauf: TwinInfo
) -> None:
    x0, y0 = ORIGIN
    zones = [(x0, y0, 200.0, {"name": "HQ100"}), (x0 + 500, y0, 100.0, {"name": "HQ100"})]
    _load(paths, lauf, _polygons(tmp_path / "hochwasser.geojson", zones), "hochwasser")
    layers = LayerSource(paths, "lauf")
    areas, reason = hazard_areas(layers, "hochwasser", "public", UTM)
    assert reason is None
    assert areas is not None
    assert sorted(round(a, -2) for a in (float(g.area) for g in areas)) == [10_000.0, 40_000.0]
    assert min(g.bounds[0] for g in areas) == pytest.approx(x0, abs=1.0)
    # A council layer cannot shape a public scenario; a council scenario may use it.
    _load(paths, lauf, _polygons(tmp_path / "intern.geojson", zones), "intern", visibility="council")
    assert hazard_areas(layers, "intern", "public", UTM) == (None, "layer_hidden")
    council, reason = hazard_areas(layers, "intern", "council", UTM)
    assert reason is None
    assert council is not None
    assert len(council) == 2
    assert hazard_areas(layers, "gibtsnicht", "public", UTM) == (None, "layer_missing")


def test_points_rasters_and_maps_are_no_hazard_areas(tmp_path: Path, paths: PathSettings, lauf: TwinInfo) -> None:
    point = {"type": "Point", "coordinates": _square(*ORIGIN, 1)[0]}
    feature = {"type": "Feature", "properties": {"name": "Messpunkt"}, "geometry": point}
    points = {"type": "FeatureCollection", "features": [feature]}
    (tmp_path / "punkte.geojson").write_text(json.dumps(points), encoding="utf-8")
    _load(paths, lauf, tmp_path / "punkte.geojson", "punkte")
    _load(paths, lauf, _levels_tif(tmp_path / "laerm.tif"), "laerm")
    _map_layer(paths)
    layers = LayerSource(paths, "lauf")
    for layer_id in ("punkte", "laerm", "karte"):
        assert hazard_areas(layers, layer_id, "public", UTM) == (None, "layer_not_polygons"), layer_id


def _levels_tif(path: Path) -> Path:
    """A 400 m x 400 m L_DEN raster at 10 m pixels: 55 dB in the west half, 70 dB in the east, no data in the
    north-east 100 m x 100 m corner."""
    data = np.full((40, 40), 55.0, np.float32)
    data[:, 20:] = 70.0
    data[:10, 30:] = -9999.0
    x0, y0 = ORIGIN
    profile = {"driver": "GTiff", "width": 40, "height": 40, "count": 1, "dtype": "float32", "nodata": -9999.0}
    with rasterio.open(path, "w", **profile, crs="EPSG:25832", transform=from_origin(x0, y0 + 400, 10, 10)) as ds:
        ds.write(data, 1)
    return path


def _map_layer(paths: PathSettings) -> None:
    """A WMS map layer's entry, as registering one writes it (a picture: no levels to read)."""
    now = datetime.now(UTC).replace(microsecond=0)
    source = ServiceSource(kind="wms", url="https://example.org/wms", layer="laerm", crs="EPSG:3857", fetched_at=now)
    entry = LayerEntry(
        id="karte", twin="lauf", title="Lärmkarte (WMS)", kind="service", format="wms", source="example.org/wms",
        source_sha256="0" * 64, origin="service", source_crs="EPSG:3857", crs="EPSG:3857", feature_count=0,
        extent=(11.2, 49.4, 11.4, 49.6), updated_at=now, service=source,
    )  # fmt: skip
    with StagedLayer(paths, "lauf", "karte") as staged:
        write_entry(staged.path, entry)


def test_noise_levels_are_read_from_a_raster_layer(tmp_path: Path, paths: PathSettings, lauf: TwinInfo) -> None:
    _load(paths, lauf, _levels_tif(tmp_path / "laerm.tif"), "laerm")
    x0, y0 = ORIGIN
    x = np.array([x0 + 50, x0 + 150, x0 + 250, x0 + 350, x0 + 350, x0 - 500, x0 + 50])
    y = np.array([y0 + 200, y0 + 50, y0 + 200, y0 + 150, y0 + 370, y0 + 200, y0 + 5_000])
    levels, reason = noise_at(LayerSource(paths, "lauf"), "laerm", "public", UTM, x, y)
    assert reason is None
    assert levels is not None
    np.testing.assert_allclose(levels[:4], [55.0, 55.0, 70.0, 70.0], atol=0.5)
    assert np.isnan(levels[4:]).all()  # the no-data corner, west of the raster, far north


def test_noise_levels_from_polygons_take_the_loudest_band_a_point_lies_in(
    tmp_path: Path, paths: PathSettings, lauf: TwinInfo
) -> None:
    x0, y0 = ORIGIN
    bands = [
        (x0, y0, 300.0, {"Lden": 55, "Strasse": "B14"}),
        (x0 + 100, y0, 100.0, {"Lden": 65, "Strasse": "B14"}),
        (x0 + 1_000, y0, 100.0, {"Lden": None, "Strasse": "B14"}),
    ]
    _load(paths, lauf, _polygons(tmp_path / "baender.geojson", bands), "baender")
    quiet = [(x0, y0, 300.0, {"Strasse": "B14", "Spuren": 2})]
    _load(paths, lauf, _polygons(tmp_path / "strassen.geojson", quiet), "strassen")
    layers = LayerSource(paths, "lauf")
    x = np.array([x0 + 50, x0 + 150, x0 + 500, x0 + 1_050])
    y = np.array([y0 + 50, y0 + 50, y0 + 50, y0 + 50])
    levels, reason = noise_at(layers, "baender", "public", UTM, x, y)
    assert reason is None
    assert levels is not None
    assert levels[:2].tolist() == [55.0, 65.0]
    assert np.isnan(levels[2:]).all()  # outside every band; in a band without a level
    assert noise_at(layers, "strassen", "public", UTM, x, y) == (None, "layer_no_levels")
    _map_layer(paths)
    assert noise_at(layers, "karte", "public", UTM, x, y) == (None, "layer_not_levels")
    assert noise_at(layers, "fehlt", "public", UTM, x, y) == (None, "layer_missing")


def test_the_accepted_noise_attributes(tmp_path: Path, paths: PathSettings, lauf: TwinInfo) -> None:
    x0, y0 = ORIGIN
    _load(paths, lauf, _polygons(tmp_path / "pegel.geojson", [(x0, y0, 50.0, {"Pegel": 61.5})]), "pegel")
    layers = LayerSource(paths, "lauf")
    levels, _ = noise_at(layers, "pegel", "public", UTM, np.array([x0 + 10]), np.array([y0 + 10]))
    assert levels is not None
    assert levels.tolist() == [61.5]
    assert noise_field(get_layer(paths, "lauf", "pegel")) == "pegel"
