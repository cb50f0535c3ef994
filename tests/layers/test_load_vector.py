"""Vector layers from GeoJSON, GeoPackage, zipped Shapefile and CSV: stored as GeoParquet in the twin's CRS."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from pyproj import CRS, Transformer

from tests.conftest import GEODATA
from tests.layers.conftest import BAD, BUILDINGS, POIS
from twin3d.errors import ConfigError, CRSError, InputError
from twin3d.layers.catalogue import layer_file
from twin3d.layers.context import LoadOptions, TwinInfo
from twin3d.layers.load import load_layer
from twin3d.layers.vector import column_names, hilbert_order
from twin3d.settings import PathSettings
from twin3d.store.connection import connect

UTM32, UTM33 = CRS.from_epsg(25832), CRS.from_epsg(25833)
STADTBEREICHE = GEODATA / "rostock" / "stadtbereiche" / "stadtbereiche.json"
BEZIRKE = GEODATA / "rostock" / "statistische-bezirke" / "statistische_bezirke.geojson"


def _read(path: Path) -> tuple[np.ndarray, pa.Table]:
    meta, table = pyogrio.read_arrow(path)
    geoms = shapely.from_wkb(table.column(meta["geometry_name"] or "wkb_geometry").to_numpy(zero_copy_only=False))
    return geoms, table


def test_geojson_points_become_geoparquet_in_the_twin_crs(paths: PathSettings, lauf: TwinInfo) -> None:
    entry, report = load_layer(
        paths, "lauf", POIS, LoadOptions(title="Einrichtungen", licence="ODbL-1.0", attribution="© OSM"), info=lauf
    )
    assert (entry.id, entry.kind, entry.format, entry.geometry_type) == ("einrichtungen", "vector", "geojson", "points")
    assert (entry.source_crs, entry.crs, entry.feature_count) == ("EPSG:4326", "EPSG:25832", 573)
    assert report.one_line().startswith("lauf/einrichtungen (vector, lauf_pois.geojson): 573 in -> 573 out")
    assert entry.stats.records_out == 573
    west, south, east, north = entry.extent
    assert 11.2 < west < east < 11.35
    assert 49.45 < south < north < 49.56
    table = pq.read_table(layer_file(paths, entry, "features"))
    assert sorted(table.column("fid").to_pylist()) == list(range(1, 574))
    assert {"geometry", "geom_wgs84", "bbox", "osm_id", "social_facility_for"} <= set(table.column_names)
    assert entry.field_sources["social_facility_for"] == "social_facility:for"
    geo = json.loads(table.schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry"
    assert CRS.from_json_dict(geo["columns"]["geometry"]["crs"]) == UTM32
    assert geo["columns"]["geom_wgs84"]["covering"]["bbox"]["xmin"] == ["bbox", "xmin"]
    # The stored geometries are the file's, reprojected: compare by feature id.
    source, _ = _read(POIS)
    order = np.asarray(table.column("fid")) - 1
    stored = shapely.from_wkb(table.column("geometry").to_numpy(zero_copy_only=False))
    expected = shapely.transform(
        shapely.centroid(source[order]),
        lambda xy: np.column_stack(Transformer.from_crs(4326, 25832, always_xy=True).transform(xy[:, 0], xy[:, 1])),
    )
    assert np.allclose(shapely.get_coordinates(shapely.centroid(stored)), shapely.get_coordinates(expected), atol=0.01)


def test_geoparquet_is_queryable_by_bbox_in_duckdb(paths: PathSettings, lauf: TwinInfo) -> None:
    entry, _ = load_layer(paths, "lauf", BUILDINGS, LoadOptions(title="Gebäude"), info=lauf)
    file = str(layer_file(paths, entry, "features"))
    con = connect()
    centre = (11.2775, 49.5098, 11.2875, 49.5148)
    in_box = con.execute(
        "SELECT count(*) FROM read_parquet(?) WHERE bbox.xmax >= ? AND bbox.ymax >= ? AND bbox.xmin <= ? "
        "AND bbox.ymin <= ? AND ST_Intersects(geom_wgs84, ST_MakeEnvelope(?, ?, ?, ?))",
        [file, *centre, *centre],
    ).fetchone()
    assert in_box is not None
    assert 100 < in_box[0] < 6492
    # DuckDB reads the GeoParquet metadata: both columns arrive as GEOMETRY with their CRS.
    types = dict(
        con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", [file]).fetchall()
    )
    assert types["geom_wgs84"].startswith("GEOMETRY")
    assert types["geometry"].startswith("GEOMETRY")
    # Rows are sorted along a Hilbert curve: row groups cover compact areas, which the bbox filter skips.
    assert pq.ParquetFile(file).metadata.num_rows == 6492


def test_geopackage_in_the_twin_crs_keeps_its_areas(paths: PathSettings, lauf: TwinInfo, tmp_path: Path) -> None:
    geoms, table = _read(BUILDINGS)
    utm = shapely.transform(
        geoms,
        lambda xy: np.column_stack(Transformer.from_crs(4326, 25832, always_xy=True).transform(xy[:, 0], xy[:, 1])),
    )
    gpkg = tmp_path / "gebaeude.gpkg"
    pyogrio.write_arrow(
        table.drop_columns(["wkb_geometry"]).append_column("geometry", pa.array(shapely.to_wkb(utm))),
        gpkg,
        geometry_name="geometry",
        geometry_type="Unknown",
        crs="EPSG:25832",
    )
    entry, report = load_layer(paths, "lauf", gpkg, LoadOptions(), info=lauf)
    assert (entry.id, entry.format, entry.source_crs, entry.feature_count) == ("gebaeude", "gpkg", "EPSG:25832", 6492)
    assert entry.geometry_type == "polygons"
    stored = pq.read_table(layer_file(paths, entry, "features"), columns=["geometry"])
    area = shapely.area(shapely.from_wkb(stored.column("geometry").to_numpy(zero_copy_only=False))).sum()
    assert np.isclose(area, shapely.area(utm[shapely.is_valid(utm)]).sum(), rtol=0.01)
    assert report.records_in == 6492


@pytest.mark.filterwarnings("ignore:Normalized/laundered field name")
def test_zipped_shapefile(paths: PathSettings, tmp_path: Path) -> None:
    _geoms, table = _read(STADTBEREICHE)
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_arrow(
        table, folder / "stadtbereiche.shp", geometry_name="wkb_geometry", geometry_type="Polygon", crs="EPSG:4326"
    )
    archive = tmp_path / "stadtbereiche.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"stadtbereiche/{f.name}")
    entry, _ = load_layer(paths, "rostock", archive, LoadOptions(title="Stadtbereiche"))
    assert (entry.format, entry.source, entry.feature_count, entry.crs) == ("shapefile", archive.name, 21, "EPSG:25833")
    stored = pq.read_table(layer_file(paths, entry, "features"), columns=["geometry"])
    area_km2 = shapely.area(shapely.from_wkb(stored.column("geometry").to_numpy(zero_copy_only=False))).sum() / 1e6
    assert np.isclose(area_km2, 181, rtol=0.05)
    assert not (paths.layers_dir / "rostock" / entry.id / ".unpacked").exists()


def test_csv_with_lon_lat_columns_needs_no_crs(paths: PathSettings, lauf: TwinInfo, tmp_path: Path) -> None:
    geoms, table = _read(POIS)
    points = shapely.centroid(geoms)
    lines = ["name;lon;lat"] + [
        f"{name or ''};{x:.7f};{y:.7f}"
        for name, x, y in zip(
            table.column("name").to_pylist(), shapely.get_x(points), shapely.get_y(points), strict=True
        )
    ]
    csv = tmp_path / "pois.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    entry, _ = load_layer(paths, "lauf", csv, LoadOptions(title="POIs als CSV"), info=lauf)
    assert (entry.format, entry.source_crs, entry.feature_count, entry.geometry_type) == (
        "csv",
        "OGC:CRS84",
        573,
        "points",
    )
    assert set(entry.fields) == {"name"}


def test_csv_with_wkt_needs_its_crs_declared(paths: PathSettings, tmp_path: Path) -> None:
    geoms, table = _read(BEZIRKE)
    utm = shapely.transform(
        geoms,
        lambda xy: np.column_stack(Transformer.from_crs(4326, 25833, always_xy=True).transform(xy[:, 0], xy[:, 1])),
    )
    name_field = next(n for n in table.column_names if n != "wkb_geometry")
    csv = tmp_path / "bezirke.csv"
    rows = [f'"{v}","{w}"' for v, w in zip(table.column(name_field).to_pylist(), shapely.to_wkt(utm), strict=True)]
    csv.write_text(f"{name_field},WKT\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(CRSError, match="--crs"):
        load_layer(paths, "rostock", csv, LoadOptions())
    entry, _ = load_layer(paths, "rostock", csv, LoadOptions(crs="EPSG:25833"))
    assert (entry.feature_count, entry.geometry_type, entry.source_crs) == (74, "polygons", "EPSG:25833")


def test_invalid_geometries_are_repaired_or_dropped_and_counted(
    paths: PathSettings, lauf: TwinInfo, tmp_path: Path
) -> None:
    doc = json.loads(BUILDINGS.read_text(encoding="utf-8"))
    features = [f for f in doc["features"] if f["geometry"]["type"] == "Polygon"][:10]
    ring = features[0]["geometry"]["coordinates"][0]
    # A bow tie: two corners swapped (repairable); a ring of two distinct corners (no area: not repairable).
    features[0]["geometry"]["coordinates"][0] = [ring[0], ring[2], ring[1], *ring[3:]]
    features[1]["geometry"] = {"type": "Polygon", "coordinates": [[ring[0], ring[1], ring[1], ring[0]]]}
    features[2]["geometry"] = None
    features[3]["geometry"] = {"type": "Polygon", "coordinates": []}
    path = tmp_path / "repair.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    entry, report = load_layer(paths, "lauf", path, LoadOptions(), info=lauf)
    assert (report.records_in, report.records_out, report.repaired) == (10, 7, 1)
    assert report.dropped == {
        "no geometry": 1,
        "empty geometry": 1,
        "invalid geometry that could not be repaired": 1,
    }
    assert "repaired 1; dropped 3" in report.one_line()
    stored = pq.read_table(layer_file(paths, entry, "features"))
    geoms = shapely.from_wkb(stored.column("geometry").to_numpy(zero_copy_only=False))
    assert shapely.is_valid(geoms).all()
    assert sorted(stored.column("fid").to_pylist()) == [1, 5, 6, 7, 8, 9, 10]
    assert entry.stats.dropped["no geometry"] == 1


def test_only_keeps_one_family_of_a_mixed_file(paths: PathSettings, lauf: TwinInfo) -> None:
    entry, report = load_layer(paths, "lauf", BAD / "mixed_types.gpkg", LoadOptions(only="polygons"), info=lauf)
    assert (entry.feature_count, entry.geometry_type) == (5, "polygons")
    assert report.dropped == {"not polygons (--only)": 5}


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("latin1_attributes.geojson", "latin-1"),
        ("latin1_lonlat.csv", "cp1252"),
        ("latin1_shapefile_without_cpg.zip", "ISO-8859-1"),
    ],
)
def test_declared_encoding_decodes_the_attributes(
    paths: PathSettings, lauf: TwinInfo, name: str, encoding: str
) -> None:
    entry, _ = load_layer(paths, "lauf", BAD / name, LoadOptions(encoding=encoding), info=lauf)
    names = pq.read_table(layer_file(paths, entry, "features")).column("name").to_pylist()
    assert any("ß" in n or "ü" in n or "ä" in n or "ö" in n for n in names)


def test_declared_crs_stands_in_for_a_missing_prj(paths: PathSettings, lauf: TwinInfo) -> None:
    entry, _ = load_layer(paths, "lauf", BAD / "shapefile_without_prj.zip", LoadOptions(crs="EPSG:4326"), info=lauf)
    assert (entry.source_crs, entry.feature_count) == ("EPSG:4326", 20)


def test_extrusion_property_must_be_a_numeric_field(paths: PathSettings, lauf: TwinInfo, tmp_path: Path) -> None:
    doc = json.loads(BUILDINGS.read_text(encoding="utf-8"))
    features = doc["features"][:20]
    for i, f in enumerate(features):
        f["properties"] = {"Höhe [m]": 3.0 + i, "name": f["properties"].get("name")}
    path = tmp_path / "hoehen.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    from twin3d.layers.model import LayerStyle  # noqa: PLC0415

    with pytest.raises(ConfigError, match="numeric fields: h_he_m"):
        load_layer(paths, "lauf", path, LoadOptions(style=LayerStyle(extrusion_property="name")), info=lauf)
    entry, _ = load_layer(paths, "lauf", path, LoadOptions(style=LayerStyle(extrusion_property="Höhe [m]")), info=lauf)
    assert entry.style.extrusion_property == "h_he_m"
    assert entry.field_sources == {"h_he_m": "Höhe [m]"}


def test_column_names_are_plain_unique_identifiers() -> None:
    assert column_names(["addr:street", "Addr Street", "geometry", "fid", "1st", "", "ÄÖ"]) == [
        "addr_street",
        "addr_street_2",
        "geometry_2",
        "fid_2",
        "f_1st",
        "field",
        "field_2",
    ]


def test_hilbert_order_is_a_permutation_that_keeps_neighbours_together() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.random(10_000), rng.random(10_000)
    order = hilbert_order(x, y)
    assert sorted(order.tolist()) == list(range(10_000))
    steps = np.hypot(np.diff(x[order]), np.diff(y[order]))
    assert np.median(steps) < 0.02


def test_geopackage_with_several_layers_asks_which_one(paths: PathSettings, lauf: TwinInfo, tmp_path: Path) -> None:
    gpkg = tmp_path / "lauf.gpkg"
    for name, source in (("pois", POIS), ("gebaeude", BUILDINGS)):
        meta, table = pyogrio.read_arrow(source)
        pyogrio.write_arrow(
            table, gpkg, layer=name, geometry_name=meta["geometry_name"], geometry_type="Unknown", crs="EPSG:4326"
        )
    with pytest.raises(InputError, match="2 spatial layers"):
        load_layer(paths, "lauf", gpkg, LoadOptions(), info=lauf)
    with pytest.raises(InputError, match="no layer 'strassen'"):
        load_layer(paths, "lauf", gpkg, LoadOptions(source_layer="strassen"), info=lauf)
    entry, _ = load_layer(paths, "lauf", gpkg, LoadOptions(source_layer="gebaeude"), info=lauf)
    assert entry.feature_count == 6492
