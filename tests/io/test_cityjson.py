from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from pyproj import CRS

from tests.conftest import GEODATA
from twin3d.errors import CRSError, InputError
from twin3d.io.cityjson import read_cityjson_buildings

LOD2 = GEODATA / "rostock" / "lod2-cityjson"
UTM33 = CRS.from_epsg(25833)


def test_kroepeliner_tor_footprint_and_measured_height() -> None:
    # CityJSON 1.0 without transform, CRS written as "EPSG:25833", lod as the number 2.0.
    table = read_cityjson_buildings(LOD2 / "rostock_kroepeliner_tor_DEMVAL03000hEfAe.city.json", UTM33)
    assert table.column("id").to_pylist() == ["DEMVAL03000hEfAe"]
    assert table.column("type").to_pylist() == ["31001_3034"]
    assert table.column("min_z")[0].as_py() == pytest.approx(15.57)
    assert table.column("max_z")[0].as_py() == pytest.approx(23.635, abs=1e-3)
    footprint = table.geometry[0]
    assert footprint.area == pytest.approx(103.8, abs=0.5)
    assert footprint.contains(shapely.Point(312243.0, 5997173.5))


def test_building_with_part_and_transform_merges_into_one_record() -> None:
    # CityJSON 1.0 with transform (scale 0.001) and a BuildingPart child; CRS as an OGC URN.
    table = read_cityjson_buildings(LOD2 / "rostock_building_DEMVAL03000cncxu_textured.city.json", UTM33)
    assert table.column("id").to_pylist() == ["DEMVAL03000cncxu"]
    assert table.column("min_z")[0].as_py() == pytest.approx(10.5, abs=0.1)
    assert table.column("max_z")[0].as_py() == pytest.approx(42.0, abs=0.1)
    x0, y0, x1, y1 = shapely.bounds(table.geometry[0])
    assert (x0, y0) == pytest.approx((310180.4, 5997725.3), abs=0.5)
    assert (x1, y1) == pytest.approx((310254.6, 5997805.1), abs=0.5)


def test_missing_reference_system_needs_a_declared_crs(tmp_path: Path) -> None:
    text = (LOD2 / "rostock_kroepeliner_tor_DEMVAL03000hEfAe.city.json").read_text()
    path = tmp_path / "no_crs.city.json"
    path.write_text(text.replace('"referenceSystem": "EPSG:25833", ', ""))
    with pytest.raises(CRSError, match="referenceSystem"):
        read_cityjson_buildings(path, UTM33)
    assert len(read_cityjson_buildings(path, UTM33, declared_crs="EPSG:25833")) == 1


def test_not_cityjson_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "x.city.json"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="not a CityJSON"):
        read_cityjson_buildings(path, UTM33)
