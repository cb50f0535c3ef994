"""The corpus of bad files (tests/data/bad-layers/README.md): each is rejected with a message that names the file
and the fix, and the catalogue and every existing layer file stay byte for byte as they were."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.layers.conftest import BAD, CLOUD, DEM, POIS, fingerprint
from twin3d.cli import main
from twin3d.errors import CRSError, InputError, Twin3dError
from twin3d.layers.catalogue import list_layers
from twin3d.layers.context import LoadOptions, TwinInfo
from twin3d.layers.load import load_layer
from twin3d.settings import LayerSettings, PathSettings

# file -> (error class, words the message must contain)
CORPUS: dict[str, tuple[type[Twin3dError], str]] = {
    "truncated.geojson": (InputError, "cannot be read as geojson"),
    "truncated.gpkg": (InputError, "cannot be read as gpkg"),
    "truncated.tif": (InputError, "cannot be read as a GeoTIFF"),
    "truncated.laz": (InputError, "cannot be read as a LAS/LAZ point cloud"),
    "truncated.city.json": (InputError, "not valid JSON"),
    "empty.geojson": (InputError, "empty (0 bytes)"),
    "empty_collection.geojson": (InputError, "no features"),
    "unknown_crs.geojson": (CRSError, "unknown CRS 'urn:ogc:def:crs:EPSG::99999'"),
    "utm_without_crs.geojson": (InputError, "coordinates out of range for EPSG:4326"),
    "lonlat_declared_utm.geojson": (InputError, "lies outside 50 km around twin 'lauf'"),
    "rostock_in_lauf.geojson": (InputError, "lies outside 50 km around twin 'lauf'"),
    "shapefile_without_prj.zip": (CRSError, "no CRS"),
    "xy_without_crs.csv": (CRSError, "carries no CRS"),
    "latitude_out_of_range.geojson": (InputError, "record 8: coordinates out of range for EPSG:4326"),
    "mixed_types.geojson": (InputError, "record 6: mixed geometry types: record 1 is a Point, this one a Polygon"),
    "mixed_types.gpkg": (InputError, "mixed geometry types"),
    "latin1_attributes.geojson": (InputError, "record 1: attribute 'name' is not UTF-8"),
    "latin1_lonlat.csv": (InputError, "record 1 (line 2): attribute 'name' is not UTF-8"),
    "latin1_shapefile_without_cpg.zip": (InputError, "not UTF-8 text: b'Ahornstra\\xdfe' (the file says ISO-8859-1)"),
    "zip_slip.zip": (InputError, "unsafe zip entry '../../evil.geojson'"),
    "zip_absolute_path.zip": (InputError, "unsafe zip entry '/tmp/evil.geojson': it has an absolute path"),
    "zip_bomb.zip": (InputError, "refused as a zip bomb"),
    "not_a_geopackage.gpkg": (InputError, "the file is not GeoPackage"),
    "pointcloud_without_crs.las": (CRSError, "the point cloud has no CRS"),
}
HINTS = {
    CRSError: "--crs",
}


def test_the_corpus_is_complete() -> None:
    on_disk = {p.name for p in BAD.iterdir() if p.suffix not in (".py", ".md")}
    assert on_disk == set(CORPUS)


@pytest.fixture
def existing(paths: PathSettings, lauf: TwinInfo) -> Path:
    """A catalogue with one real layer in it; the bad files try to replace it."""
    load_layer(paths, "lauf", POIS, LoadOptions(layer_id="pois", title="POIs"), info=lauf)
    return paths.layers_dir


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_bad_file_is_rejected_and_nothing_changes(
    paths: PathSettings, lauf: TwinInfo, existing: Path, tmp_path: Path, name: str
) -> None:
    source = tmp_path / "upload" / name
    source.parent.mkdir()
    shutil.copyfile(BAD / name, source)
    before = fingerprint(existing)
    error, words = CORPUS[name]
    with pytest.raises(error) as caught:
        load_layer(paths, "lauf", source, LoadOptions(layer_id="pois", title="Ersatz", replace=True), info=lauf)
    message = caught.value.one_line()
    assert words in message
    assert name in message  # names the file (for a zip: the archive, and the member in it)
    assert "(fix: " in message
    assert HINTS.get(error, "") in (caught.value.hint or "")
    assert fingerprint(existing) == before
    assert [e.title for e in list_layers(paths, "lauf")] == ["POIs"]
    assert not list(tmp_path.glob("evil*"))
    assert not Path("/tmp/evil.geojson").exists()


def test_a_failed_first_load_leaves_no_folder_behind(paths: PathSettings, lauf: TwinInfo) -> None:
    with pytest.raises(InputError):
        load_layer(paths, "lauf", BAD / "truncated.geojson", LoadOptions(), info=lauf)
    assert not paths.store_dir.exists()


@pytest.mark.parametrize(
    ("source", "limits", "words"),
    [
        (POIS, LayerSettings(max_file_mb=0.01), "the file has 0.1 MiB, more than the limit of 10.2 KiB"),
        (POIS, LayerSettings(max_features=100), "573 features, more than the limit of 100"),
        (BAD / "latin1_shapefile_without_cpg.zip", LayerSettings(max_zip_entries=3), "4 entries"),
        (
            BAD / "latin1_shapefile_without_cpg.zip",
            LayerSettings(max_unzipped_mb=0.001),
            "unpacks to 2.7 KiB, more than the limit of 1.0 KiB",
        ),
        (CLOUD, LayerSettings(max_points=1000), "4,000 points, more than the limit of 1,000"),
        (DEM, LayerSettings(max_raster_pixels=1000), "50 x 50 pixels x 1 band(s), more than 1,000"),
    ],
)
def test_size_limits(nrw_paths: PathSettings, source: Path, limits: LayerSettings, words: str) -> None:
    with pytest.raises(InputError) as caught:
        load_layer(nrw_paths, "nrw", source, LoadOptions(), limits)
    assert words in caught.value.one_line()
    assert not nrw_paths.layers_dir.exists()


def test_zip_with_several_datasets_asks_which_one(paths: PathSettings, lauf: TwinInfo, tmp_path: Path) -> None:
    archive = tmp_path / "zwei.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(POIS, "pois.geojson")
        zf.write(POIS, "kopie/pois2.geojson")
    with pytest.raises(InputError, match=r"2 data file\(s\): pois.geojson, pois2.geojson.*--source-layer"):
        load_layer(paths, "lauf", archive, LoadOptions(), info=lauf)
    entry, _ = load_layer(paths, "lauf", archive, LoadOptions(source_layer="pois2"), info=lauf)
    assert entry.feature_count == 573


def test_cli_exit_code_and_message(paths: PathSettings, tmp_path: Path) -> None:
    env = {"TWIN3D_PIPELINES_DIR": str(paths.pipelines_dir), "TWIN3D_STORE_DIR": str(paths.store_dir)}
    result = CliRunner().invoke(main, ["layers", "add", "lauf", str(BAD / "zip_slip.zip"), "--title", "x"], env=env)
    assert result.exit_code == 3
    assert "unsafe zip entry" in result.output
    assert not paths.store_dir.exists()
