from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import CRS

from tests.conftest import GEODATA
from twin3d.errors import CRSError, InputError
from twin3d.io.cityjson import iter_cityjson, read_cityjson
from twin3d.io.surfaces import SkipLog, SurfaceKind

LOD2 = GEODATA / "rostock" / "lod2-cityjson"
TOR = LOD2 / "rostock_kroepeliner_tor_DEMVAL03000hEfAe.city.json"
TEXTURED = LOD2 / "rostock_building_DEMVAL03000cncxu_textured.city.json"
UTM33 = CRS.from_epsg(25833)


def test_kroepeliner_tor_surfaces_footprint_and_heights() -> None:
    # CityJSON 1.0 without transform, CRS written as "EPSG:25833", lod as the number 2.0.
    tor = read_cityjson(TOR, UTM33)
    assert tor.attributes["id"].to_pylist() == ["DEMVAL03000hEfAe"]
    assert tor.attributes["function"].to_pylist() == ["31001_3034"]
    assert tor.attributes["lod"].to_pylist() == [2.0]
    kinds = tor.polygon_kind.tolist()
    assert kinds.count(SurfaceKind.GROUND) == 1
    assert kinds.count(SurfaceKind.ROOF) == 1
    assert kinds.count(SurfaceKind.WALL) == 4
    lo, hi = tor.z_range()
    assert (lo[0], hi[0]) == pytest.approx((15.57, 23.635), abs=1e-3)
    footprint = tor.footprints()[0]
    assert footprint.area == pytest.approx(103.8, abs=0.5)
    assert footprint.contains(shapely.Point(312243.0, 5997173.5))


def test_building_with_part_and_transform_is_one_building() -> None:
    # CityJSON 1.0 with transform (scale 0.001) and a BuildingPart child; CRS as an OGC URN.
    building = read_cityjson(TEXTURED, UTM33)
    assert len(building) == 1
    assert building.polygon_count == 32  # 12 roof + 20 wall surfaces of the part
    assert set(building.polygon_kind.tolist()) == {SurfaceKind.ROOF, SurfaceKind.WALL}
    lo, hi = building.z_range()
    assert (lo[0], hi[0]) == pytest.approx((10.47, 42.0), abs=0.1)
    x0, y0, x1, y1 = shapely.bounds(building.footprints()[0])
    assert (x0, y0) == pytest.approx((310180.4, 5997725.3), abs=0.5)
    assert (x1, y1) == pytest.approx((310254.6, 5997805.1), abs=0.5)


def test_reprojection_moves_x_y_and_keeps_heights() -> None:
    in_33 = read_cityjson(TOR, UTM33)
    in_32 = read_cityjson(TOR, CRS.from_epsg(25832))
    assert np.allclose(in_33.vertices[:, 2], in_32.vertices[:, 2])
    assert in_32.vertices[0, 0] > 700_000  # Rostock lies east of zone 32
    assert in_32.footprints()[0].area == pytest.approx(in_33.footprints()[0].area, rel=1e-3)


def test_missing_reference_system_needs_a_declared_crs(tmp_path: Path) -> None:
    path = tmp_path / "no_crs.city.json"
    path.write_text(TOR.read_text().replace('"referenceSystem": "EPSG:25833", ', ""))
    with pytest.raises(CRSError, match="referenceSystem"):
        read_cityjson(path, UTM33)
    assert len(read_cityjson(path, UTM33, declared_crs="EPSG:25833")) == 1


def _with_bad_ring(tmp_path: Path) -> Path:
    doc = json.loads(TOR.read_text())
    building = doc["CityObjects"]["DEMVAL03000hEfAe"]
    doc["CityObjects"]["broken"] = {
        "type": "Building",
        "geometry": [{"type": "MultiSurface", "lod": "2", "boundaries": [[[0, 1]]]}],
    }
    doc["CityObjects"]["DEMVAL03000hEfAe"] = building
    path = tmp_path / "bad.city.json"
    path.write_text(json.dumps(doc))
    return path


def test_a_ring_with_two_vertices_names_the_object(tmp_path: Path) -> None:
    path = _with_bad_ring(tmp_path)
    with pytest.raises(InputError) as err:
        read_cityjson(path, UTM33)
    assert "bad.city.json" in err.value.one_line()
    assert "record broken" in err.value.one_line()
    assert "--skip-invalid" in err.value.one_line()


def test_skip_invalid_keeps_the_sound_buildings_and_counts_the_rest(tmp_path: Path) -> None:
    skipped = SkipLog()
    buildings = read_cityjson(_with_bad_ring(tmp_path), UTM33, skip_invalid=True, skipped=skipped)
    assert buildings.attributes["id"].to_pylist() == ["DEMVAL03000hEfAe"]
    assert buildings.polygon_count == 6
    assert [entry[1] for entry in skipped.entries] == ["broken"]


def test_vertex_index_beyond_the_vertex_list_is_an_error(tmp_path: Path) -> None:
    doc = json.loads(TOR.read_text())
    doc["vertices"] = doc["vertices"][:5]  # "missing vertices"
    path = tmp_path / "short.city.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="vertex 7, but the file has 5 vertices"):
        read_cityjson(path, UTM33)


def test_truncated_and_foreign_files_are_rejected(tmp_path: Path) -> None:
    truncated = tmp_path / "t.city.json"
    truncated.write_bytes(TEXTURED.read_bytes()[:4000])
    with pytest.raises(InputError, match="truncated"):
        read_cityjson(truncated, UTM33)
    foreign = tmp_path / "x.city.json"
    foreign.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match="not a CityJSON"):
        read_cityjson(foreign, UTM33)


def test_cityjson_sequence_streams_feature_by_feature(tmp_path: Path) -> None:
    # CityJSONSeq: a header line with the CRS and transform, then one CityJSONFeature per line.
    doc = json.loads(TEXTURED.read_text())
    header = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": doc["transform"],
        "CityObjects": {},
        "vertices": [],
        "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/25833"},
    }
    feature = {
        "type": "CityJSONFeature",
        "id": "DEMVAL03000cncxu",
        "CityObjects": doc["CityObjects"],
        "vertices": doc["vertices"],
    }
    path = tmp_path / "seq.city.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in [header, feature, feature]) + "\n")
    chunks = list(iter_cityjson(path, UTM33, chunk_size=1))
    assert [len(c) for c in chunks] == [1, 1]
    assert np.allclose(chunks[0].vertices, read_cityjson(TEXTURED, UTM33).vertices)
