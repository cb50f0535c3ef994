from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS

from tests.conftest import GEODATA
from twin3d.errors import CRSError, InputError
from twin3d.io.vector import read_vector

UTM32 = CRS.from_epsg(25832)
LAUF_BUILDINGS = GEODATA / "lauf" / "osm" / "lauf_buildings.geojson"


def test_reads_every_lauf_footprint_into_the_twin_crs() -> None:
    table = read_vector(LAUF_BUILDINGS, UTM32)
    assert len(table) == 6492
    assert table.source_crs.to_epsg() == 4326
    x0, y0, x1, y1 = shapely.total_bounds(table.geometry)
    # Lauf a.d. Pegnitz lies around E 662 km, N 5486 km in UTM zone 32.
    assert 655_000 < x0 < x1 < 670_000
    assert 5_480_000 < y0 < y1 < 5_492_000
    assert table.column("osm_id")[0].as_py().startswith("way/")


def test_truncated_geojson_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "buildings.geojson"
    broken.write_bytes(LAUF_BUILDINGS.read_bytes()[:5000])
    with pytest.raises(InputError) as err:
        read_vector(broken, UTM32)
    assert "buildings.geojson" in err.value.one_line()
    assert "truncated" in err.value.one_line()


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    empty = tmp_path / "empty.geojson"
    empty.touch()
    with pytest.raises(InputError, match="empty"):
        read_vector(empty, UTM32)


def test_geojson_with_unknown_crs_is_rejected_not_read_as_wgs84(tmp_path: Path) -> None:
    # GDAL alone would silently fall back to WGS 84 here.
    path = tmp_path / "unknown_crs.geojson"
    path.write_text(
        '{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::99999"}},'
        '"features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[11.28,49.51]}}]}'
    )
    with pytest.raises(CRSError) as err:
        read_vector(path, UTM32)
    assert "unknown_crs.geojson" in err.value.one_line()
    assert "EPSG::99999" in err.value.one_line()


@pytest.mark.filterwarnings("ignore:Normalized/laundered field name")
def test_shapefile_without_prj_needs_a_declared_crs(tmp_path: Path) -> None:
    # The real Rostock districts written as a shapefile whose .prj got lost on the way.
    meta, table = pyogrio.read_arrow(GEODATA / "rostock" / "stadtbereiche" / "stadtbereiche.json")
    pyogrio.write_arrow(
        table,
        tmp_path / "stadtbereiche.shp",
        geometry_name=meta["geometry_name"] or "wkb_geometry",
        geometry_type="Polygon",
        crs="EPSG:4326",
    )
    (tmp_path / "stadtbereiche.prj").unlink()
    with pytest.raises(CRSError, match="no CRS"):
        read_vector(tmp_path / "stadtbereiche.shp", CRS.from_epsg(25833))
    table = read_vector(tmp_path / "stadtbereiche.shp", CRS.from_epsg(25833), declared_crs="EPSG:4326")
    assert len(table) == 21
    assert np.isclose(shapely.area(table.geometry).sum() / 1e6, 181, rtol=0.05)


def test_missing_field_lists_the_fields_the_file_has() -> None:
    table = read_vector(LAUF_BUILDINGS, UTM32)
    with pytest.raises(InputError, match="building:levels"):
        table.column("storeys")
