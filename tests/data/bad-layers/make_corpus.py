"""Write the corpus of bad layer files (see README.md) from small real samples in geodata/ and tests/data/.

Run from the repository root: ``python tests/data/bad-layers/make_corpus.py``. Deterministic.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import laspy
import numpy as np
import pyarrow as pa
import pyogrio
import shapely
from pyproj import Transformer

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
POIS = REPO / "geodata" / "lauf" / "osm" / "lauf_pois.geojson"
BUILDINGS = REPO / "geodata" / "lauf" / "osm" / "lauf_buildings.geojson"
ROSTOCK = REPO / "geodata" / "rostock" / "stadtbereiche" / "stadtbereiche.json"
KROEPELINER_TOR = REPO / "geodata" / "rostock" / "lod2-cityjson" / "rostock_kroepeliner_tor_DEMVAL03000hEfAe.city.json"
DEM = REPO / "tests" / "data" / "dem" / "dgm1_32_357_5646_koeln_sub20m.tif"
CLOUD = REPO / "tests" / "data" / "pointcloud" / "koeln_dgm1_ground_4000.laz"
N = 20  # features per small sample


def _features(path: Path, n: int = N) -> list[dict[str, Any]]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [f for f in doc["features"] if f["geometry"] is not None][:n]


def _collection(features: list[dict[str, Any]], crs: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return doc


def _write_json(name: str, doc: dict[str, Any]) -> None:
    (HERE / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _named_pois() -> list[dict[str, Any]]:
    # POIs whose names have umlauts, so that a Latin-1 encoding differs from UTF-8.
    doc = json.loads(POIS.read_text(encoding="utf-8"))
    return [f for f in doc["features"] if any(c in (f["properties"].get("name") or "") for c in "äöüß")][:N]


def _to_utm(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    tr = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    out = []
    for f in features:
        geom = shapely.from_geojson(json.dumps(f["geometry"]))
        utm = shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        out.append({**f, "geometry": json.loads(shapely.to_geojson(utm))})
    return out


def _shapefile_zip(name: str, table: pa.Table, *, keep: tuple[str, ...], patch: tuple[bytes, bytes] | None) -> None:
    tmp = HERE / "_shp"
    tmp.mkdir(exist_ok=True)
    pyogrio.write_arrow(table, tmp / "pois.shp", geometry_name="geometry", geometry_type="Point", crs="EPSG:4326")
    if patch is not None:
        dbf = (tmp / "pois.dbf").read_bytes()
        (tmp / "pois.dbf").write_bytes(dbf.replace(*patch))
    with zipfile.ZipFile(HERE / name, "w", zipfile.ZIP_DEFLATED) as zf:
        for suffix in keep:
            zf.write(tmp / f"pois{suffix}", f"pois{suffix}")
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()


def _poi_table(features: list[dict[str, Any]], ascii_names: bool) -> pa.Table:
    names = [f["properties"].get("name") or "" for f in features]
    if ascii_names:
        names = [n.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss") for n in names]
    geoms = [shapely.from_geojson(json.dumps(f["geometry"])) for f in features]
    return pa.table({"name": names, "geometry": shapely.to_wkb(shapely.centroid(geoms))})


def main() -> None:
    pois = _features(POIS)
    # Truncated files: real files cut short.
    (HERE / "truncated.geojson").write_bytes(POIS.read_bytes()[:3000])
    (HERE / "truncated.tif").write_bytes(DEM.read_bytes()[:3000])
    (HERE / "truncated.laz").write_bytes(CLOUD.read_bytes()[: CLOUD.stat().st_size * 6 // 10])
    (HERE / "truncated.city.json").write_bytes(KROEPELINER_TOR.read_bytes()[:900])
    gpkg = HERE / "_full.gpkg"
    meta, table = pyogrio.read_arrow(POIS)
    pyogrio.write_arrow(
        table, gpkg, geometry_name=meta["geometry_name"] or "wkb_geometry", geometry_type="Point", crs="EPSG:4326"
    )
    (HERE / "truncated.gpkg").write_bytes(gpkg.read_bytes()[: gpkg.stat().st_size // 2])
    gpkg.unlink()
    # Empty: no bytes, and a valid collection without features.
    (HERE / "empty.geojson").write_bytes(b"")
    _write_json("empty_collection.geojson", _collection([]))
    # CRS: unknown, missing, wrong.
    _write_json("unknown_crs.geojson", _collection(pois, "urn:ogc:def:crs:EPSG::99999"))
    _write_json("utm_without_crs.geojson", _collection(_to_utm(pois)))
    _write_json("lonlat_declared_utm.geojson", _collection(pois, "urn:ogc:def:crs:EPSG::25832"))
    _write_json("rostock_in_lauf.geojson", _collection(_features(ROSTOCK, 2)))
    utm = _to_utm(pois)
    rows = ["x,y,name"] + [
        f"{x:.2f},{y:.2f},{f['properties'].get('name') or ''}"
        for f in utm
        if f["geometry"]["type"] == "Point"
        for x, y in [f["geometry"]["coordinates"]]
    ]
    (HERE / "xy_without_crs.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    _shapefile_zip("shapefile_without_prj.zip", _poi_table(pois, True), keep=(".shp", ".shx", ".dbf"), patch=None)
    _write_rest(pois)


def _write_rest(pois: list[dict[str, Any]]) -> None:
    # Coordinates out of range: one latitude beyond 90 degrees.
    bad = json.loads(json.dumps(pois))
    bad[7]["geometry"] = {"type": "Point", "coordinates": [11.28, 95.0]}
    _write_json("latitude_out_of_range.geojson", _collection(bad))
    # Mixed geometry families: POIs (points) and buildings (polygons) in one layer.
    mixed = pois[:5] + _features(BUILDINGS, 5)
    _write_json("mixed_types.geojson", _collection(mixed))
    geoms = [shapely.from_geojson(json.dumps(f["geometry"])) for f in mixed]
    pyogrio.write_arrow(
        pa.table({"osm_id": [f["properties"]["osm_id"] for f in mixed], "geometry": shapely.to_wkb(geoms)}),
        HERE / "mixed_types.gpkg",
        geometry_name="geometry",
        geometry_type="Unknown",
        crs="EPSG:4326",
    )
    # Non-UTF-8 attributes: real POI names in Latin-1.
    named = _named_pois()
    (HERE / "latin1_attributes.geojson").write_bytes(
        json.dumps(_collection(named), ensure_ascii=False).encode("latin-1")
    )
    csv = ["lon,lat,name"] + [
        f"{c[0]},{c[1]},{f['properties']['name']}"
        for f in named
        for c in [shapely.centroid(shapely.from_geojson(json.dumps(f["geometry"]))).coords[0]]
    ]
    (HERE / "latin1_lonlat.csv").write_bytes(("\n".join(csv) + "\n").encode("latin-1"))
    _write_archives(pois, named)


def _write_archives(pois: list[dict[str, Any]], named: list[dict[str, Any]]) -> None:
    # A shapefile written in UTF-8 whose names are then swapped for Latin-1 bytes, and its .cpg left out.
    table = _poi_table(named, True)
    original = [f["properties"]["name"] for f in named]
    first = next(i for i, n in enumerate(original) if any(c in n for c in "äöüß"))
    ascii_name = table.column("name")[first].as_py()
    latin = original[first].encode("latin-1").ljust(len(ascii_name.encode()), b" ")
    _shapefile_zip(
        "latin1_shapefile_without_cpg.zip",
        table,
        keep=(".shp", ".shx", ".dbf", ".prj"),
        patch=(ascii_name.encode(), latin),
    )
    # Zip archives that try to write outside the folder they are unpacked in, or to fill the disk.
    data = json.dumps(_collection(pois)).encode()
    with zipfile.ZipFile(HERE / "zip_slip.zip", "w") as zf:
        zf.writestr("../../evil.geojson", data)
    with zipfile.ZipFile(HERE / "zip_absolute_path.zip", "w") as zf:
        zf.writestr(zipfile.ZipInfo("/tmp/evil.geojson"), data)
    with zipfile.ZipFile(HERE / "zip_bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("pois.geojson", data + b" " * (16 << 20))
    # A file whose name says GeoPackage but which is text.
    (HERE / "not_a_geopackage.gpkg").write_bytes(json.dumps(_collection(pois[:2])).encode())
    # A point cloud without a CRS: the real sample's first 500 points, header without the CRS record.
    cloud = laspy.read(CLOUD)
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.scales, header.offsets = cloud.header.scales, cloud.header.offsets
    out = laspy.LasData(header)
    out.x, out.y, out.z = cloud.x[:500], cloud.y[:500], cloud.z[:500]
    out.write(HERE / "pointcloud_without_crs.las")


if __name__ == "__main__":
    main()
