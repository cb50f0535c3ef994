from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from lxml import etree
from pyproj import CRS, Transformer

from twin3d.errors import CRSError, InputError
from twin3d.io import citygml_geometry
from twin3d.io.citygml import iter_citygml_buildings, read_citygml_buildings
from twin3d.io.surfaces import Buildings3D, SkipLog, SurfaceKind

DATA = Path(__file__).resolve().parent.parent / "data" / "citygml"
NRW = {version: DATA / f"nrw_lod2_3_buildings_citygml{version}.gml" for version in (1, 2, 3)}
DUISBURG = DATA / "duisburg_lod2_4_buildings_citygml1.gml"
UTM32 = CRS.from_epsg(25832)
NRW_IDS = ["DENW34AL0000rEbC", "DENW34AL0000rEeN", "DENW34AL00026uV0"]
GML = "http://www.opengis.net/gml"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def kind_counts(buildings: Buildings3D) -> dict[str, int]:
    return {SurfaceKind(k).name: n for k, n in Counter(buildings.polygon_kind.tolist()).items()}


def polygon_keys(buildings: Buildings3D) -> list[tuple[int, int, bytes]]:
    """Each polygon as (building, kind, exterior ring bytes), sorted: compares geometry whatever its order."""
    owner = buildings.building_of_polygon()
    first_ring = buildings.polygon_rings[:-1]
    keys = []
    for p, ring in enumerate(first_ring):
        lo, hi = buildings.ring_offsets[ring], buildings.ring_offsets[ring + 1]
        keys.append((int(owner[p]), int(buildings.polygon_kind[p]), buildings.vertices[lo:hi].tobytes()))
    return sorted(keys)


def write_variant(tmp_path: Path, source: Path, old: str, new: str, count: int = 1) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return path


def citygml2(buildings: str, srs: str = "EPSG:25832") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<core:CityModel xmlns:core="http://www.opengis.net/citygml/2.0" xmlns:bldg="http://www.opengis.net/citygml/building/2.0"
    xmlns:gml="http://www.opengis.net/gml" xmlns:xlink="http://www.w3.org/1999/xlink">
  <gml:boundedBy><gml:Envelope srsName="{srs}" srsDimension="3">
    <gml:lowerCorner>500000 5700000 0</gml:lowerCorner><gml:upperCorner>500100 5700100 50</gml:upperCorner>
  </gml:Envelope></gml:boundedBy>
  {buildings}
</core:CityModel>
"""


def member(building_id: str, content: str) -> str:
    building = f'<bldg:Building gml:id="{building_id}">{content}</bldg:Building>'
    return f"<core:cityObjectMember>{building}</core:cityObjectMember>"


def polygon(ring: list[tuple[float, float, float]], srs: str | None = None) -> str:
    coords = " ".join(f"{x} {y} {z}" for x, y, z in [*ring, ring[0]])
    srs_name = f' srsName="{srs}"' if srs else ""
    return (
        f"<gml:surfaceMember><gml:Polygon{srs_name}><gml:exterior><gml:LinearRing>"
        f'<gml:posList srsDimension="3">{coords}</gml:posList>'
        "</gml:LinearRing></gml:exterior></gml:Polygon></gml:surfaceMember>"
    )


def box(
    origin: tuple[float, float, float], size: tuple[float, float, float]
) -> dict[str, list[list[tuple[float, float, float]]]]:
    """The six faces of an axis-parallel box, outward facing, by boundary surface type."""
    (x0, y0, z0), (w, d, h) = origin, size
    x1, y1, z1 = x0 + w, y0 + d, z0 + h
    return {
        "GroundSurface": [[(x0, y0, z0), (x0, y1, z0), (x1, y1, z0), (x1, y0, z0)]],
        "RoofSurface": [[(x0, y0, z1), (x1, y0, z1), (x1, y1, z1), (x0, y1, z1)]],
        "WallSurface": [
            [(x0, y0, z0), (x1, y0, z0), (x1, y0, z1), (x0, y0, z1)],
            [(x1, y0, z0), (x1, y1, z0), (x1, y1, z1), (x1, y0, z1)],
            [(x1, y1, z0), (x0, y1, z0), (x0, y1, z1), (x1, y1, z1)],
            [(x0, y1, z0), (x0, y0, z0), (x0, y0, z1), (x0, y1, z1)],
        ],
    }


def lod1_solid(faces: dict[str, list[list[tuple[float, float, float]]]]) -> str:
    members = "".join(polygon(ring) for rings in faces.values() for ring in rings)
    return (
        "<bldg:lod1Solid><gml:Solid><gml:exterior><gml:CompositeSurface>"
        f"{members}</gml:CompositeSurface></gml:exterior></gml:Solid></bldg:lod1Solid>"
    )


def lod2_surfaces(faces: dict[str, list[list[tuple[float, float, float]]]], srs: str | None = None) -> str:
    return "".join(
        f"<bldg:boundedBy><bldg:{kind}><bldg:lod2MultiSurface><gml:MultiSurface>{polygon(ring, srs)}"
        f"</gml:MultiSurface></bldg:lod2MultiSurface></bldg:{kind}></bldg:boundedBy>"
        for kind, rings in faces.items()
        for ring in rings
    )


# --- real NRW LoD2 data -------------------------------------------------------------------------------------------


def test_nrw_buildings_ids_attributes_and_surface_kinds() -> None:
    buildings = read_citygml_buildings(NRW[1], UTM32)
    attributes = buildings.attributes.to_pydict()
    assert attributes["id"] == NRW_IDS
    assert attributes["function"] == ["31001_2720", "31001_1010", "51009_1610"]
    assert attributes["roof_type"] == ["3200", "5000", "1000"]
    # DENW34AL0000rEeN has no height of its own: its taller BuildingPart (8.123 m, the other is 4.324 m) counts.
    assert attributes["measured_height"] == [6.605, 8.123, 2.962]
    assert attributes["storeys"] == [None, None, None]  # not part of the NRW LoD2 product
    assert attributes["lod"] == [2.0, 2.0, 2.0]
    assert buildings.source_crs.to_epsg() == 25832
    # Every gml:Polygon of the file once: the lod2Solids only point at the boundary surfaces with xlink:href.
    assert NRW[1].read_text(encoding="utf-8").count("<gml:Polygon ") == buildings.polygon_count == 35
    assert np.diff(buildings.building_polygons).tolist() == [9, 20, 6]
    assert kind_counts(buildings) == {"GROUND": 4, "WALL": 18, "ROOF": 9, "CLOSURE": 4}


def test_nrw_heights_and_footprints_are_plausible() -> None:
    buildings = read_citygml_buildings(NRW[1], UTM32)
    low, high = buildings.z_range()
    # DHHN2016 heights of the Lower Rhine plain (the tile's envelope says 15.8-32.1 m) ...
    assert np.all((low > 15.8) & (high < 32.1))
    # ... and the LoD2 model spans exactly the measured height of each building.
    np.testing.assert_allclose(high - low, buildings.attributes["measured_height"].to_numpy(), atol=0.002)
    footprints = buildings.footprints()
    np.testing.assert_allclose(shapely.area(footprints), [130.5, 122.1, 36.2], atol=0.1)
    assert shapely.contains(shapely.box(328000, 5730000, 329000, 5731000), footprints).all()
    # Rings are stored open: no ring repeats its first corner at the end.
    first = buildings.vertices[buildings.ring_offsets[:-1]]
    last = buildings.vertices[buildings.ring_offsets[1:] - 1]
    assert not np.any(np.all(first == last, axis=1))


@pytest.mark.parametrize("version", [2, 3])
def test_citygml_2_and_3_give_the_same_buildings_as_1(version: int) -> None:
    reference = read_citygml_buildings(NRW[1], UTM32)
    buildings = read_citygml_buildings(NRW[version], UTM32)
    assert buildings.attributes.equals(reference.attributes)
    np.testing.assert_array_equal(buildings.vertices, reference.vertices)
    np.testing.assert_array_equal(buildings.ring_offsets, reference.ring_offsets)
    np.testing.assert_array_equal(buildings.polygon_rings, reference.polygon_rings)
    np.testing.assert_array_equal(buildings.polygon_kind, reference.polygon_kind)
    np.testing.assert_array_equal(buildings.building_polygons, reference.building_polygons)


def test_duisburg_buildings_made_of_parts() -> None:
    # The srsName here lacks the *GCG2016 suffix: urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH.
    buildings = read_citygml_buildings(DUISBURG, UTM32)
    attributes = buildings.attributes.to_pydict()
    assert attributes["id"] == ["DENW21AL10007Ard", "DENW21AL17C0002k", "DENW21AL10007Ac5", "DENW21AL100078ge"]
    assert attributes["function"] == ["31001_1010", "31001_2463", "31001_2463", "31001_1010"]
    assert attributes["measured_height"] == [9.425, 2.344, 4.831, 11.812]
    assert attributes["storeys"] == [1.0, 1.0, 1.0, 2.0]
    assert buildings.polygon_count == 100
    assert kind_counts(buildings) == {"GROUND": 6, "WALL": 56, "ROOF": 18, "CLOSURE": 20}
    # measuredHeight is per part; the whole building may reach a little lower than its tallest part's base.
    low, high = buildings.z_range()
    span = high - low
    assert np.all(
        (span >= np.asarray(attributes["measured_height"]) - 0.001) & (span - attributes["measured_height"] < 0.03)
    )
    assert shapely.contains(shapely.box(338000, 5706000, 339000, 5707000), buildings.footprints()).all()


# --- CRS ----------------------------------------------------------------------------------------------------------


def test_urn_adv_srs_is_reprojected_in_xy_and_keeps_z() -> None:
    utm = read_citygml_buildings(NRW[1], UTM32)
    wgs84 = read_citygml_buildings(NRW[1], CRS.from_epsg(4326))
    assert wgs84.source_crs.to_epsg() == 25832
    lon, lat = wgs84.vertices[:, 0], wgs84.vertices[:, 1]
    assert np.all((lon > 6.51) & (lon < 6.53) & (lat > 51.69) & (lat < 51.71))  # Wesel, Lower Rhine
    np.testing.assert_array_equal(wgs84.vertices[:, 2], utm.vertices[:, 2])


def test_declared_crs_overrides_the_srs_name() -> None:
    declared = read_citygml_buildings(NRW[1], CRS.from_epsg(4326), declared_crs="EPSG:25831")
    assert declared.source_crs.to_epsg() == 25831
    lon = declared.vertices[:, 0]
    assert np.all((lon > 0.51) & (lon < 0.53))  # read as UTM zone 31, the buildings land 6 degrees west


def test_unknown_or_missing_srs_name(tmp_path: Path) -> None:
    srs = 'srsName="urn:adv:crs:ETRS89_UTM32*DE_DHHN2016_NH*GCG2016"'
    unknown = write_variant(tmp_path, NRW[1], srs, 'srsName="urn:adv:crs:DE_KRASS_6GK9"')
    with pytest.raises(CRSError, match=r"nrw_lod2_3_buildings_citygml1\.gml.*unknown CRS"):
        read_citygml_buildings(unknown, UTM32)
    missing = write_variant(tmp_path, NRW[1], srs, "")
    with pytest.raises(CRSError, match="no srsName"):
        read_citygml_buildings(missing, UTM32)
    assert len(read_citygml_buildings(missing, UTM32, declared_crs="EPSG:25832")) == 3


def test_srs_name_per_polygon_with_latitude_first_geographic_crs(tmp_path: Path) -> None:
    faces = box((500000, 5700000, 30), (10, 8, 6))
    to_wgs84 = Transformer.from_crs(UTM32, CRS.from_epsg(4326))  # EPSG axis order: latitude, longitude
    geographic = {
        kind: [[(*to_wgs84.transform(x, y), z) for x, y, z in ring] for ring in rings] for kind, rings in faces.items()
    }
    path = tmp_path / "mixed.gml"
    path.write_text(
        citygml2(
            member("utm", lod2_surfaces(faces))
            + member("lat-lon", lod2_surfaces(geographic, "urn:ogc:def:crs:EPSG::4326"))
        ),
        encoding="utf-8",
    )
    buildings = read_citygml_buildings(path, UTM32)
    assert buildings.source_crs.to_epsg() == 25832
    first, second = np.split(buildings.vertices, [len(buildings.vertices) // 2])
    np.testing.assert_allclose(second, first, atol=1e-6)


# --- streaming ----------------------------------------------------------------------------------------------------


def test_chunks_hold_at_most_chunk_size_buildings() -> None:
    whole = read_citygml_buildings(NRW[1], UTM32)
    chunks = list(iter_citygml_buildings(NRW[1], UTM32, chunk_size=2))
    assert [len(c) for c in chunks] == [2, 1]
    assert [c.polygon_count for c in chunks] == [29, 6]
    joined = read_citygml_buildings(NRW[1], UTM32, chunk_size=1)
    np.testing.assert_array_equal(joined.vertices, whole.vertices)
    np.testing.assert_array_equal(joined.building_polygons, whole.building_polygons)
    assert joined.attributes["id"].to_pylist() == NRW_IDS


def test_truncated_file_names_the_line_and_the_last_building(tmp_path: Path) -> None:
    text = NRW[1].read_text(encoding="utf-8")
    path = tmp_path / "LoD2_truncated.gml"
    path.write_text(text[: text.index('gml:id="DENW34AL00026uV0"') + 3000], encoding="utf-8")
    with pytest.raises(InputError, match=r"LoD2_truncated\.gml.*line \d+.*DENW34AL0000rEeN") as info:
        read_citygml_buildings(path, UTM32)
    assert "truncated" in (info.value.hint or "")
    # Streaming: the complete buildings come out before the break is reached.
    stream = iter_citygml_buildings(path, UTM32, chunk_size=1)
    assert [next(stream).attributes["id"][0].as_py() for _ in range(2)] == NRW_IDS[:2]
    with pytest.raises(InputError, match="broken XML"):
        next(stream)


# --- broken buildings ---------------------------------------------------------------------------------------------


def first_polygon_poslist(text: str, after: str) -> tuple[int, int]:
    """Where the text of the first polygon's gml:posList after ``after`` starts and ends."""
    start = text.index("<gml:posList", text.index("<gml:Polygon", text.index(after)))
    start = text.index(">", start) + 1
    return start, text.index("</gml:posList>", start)


def two_point_ring(tmp_path: Path) -> Path:
    """The first polygon of DENW34AL0000rEeN cut down to two distinct corners."""
    text = NRW[1].read_text(encoding="utf-8")
    start, end = first_polygon_poslist(text, 'gml:id="DENW34AL0000rEeN"')
    x, y, z = text[start:end].split()[:3]
    path = tmp_path / "two_point_ring.gml"
    path.write_text(f"{text[:start]}{x} {y} {z} {x} {y} 30.0 {x} {y} {z}{text[end:]}", encoding="utf-8")
    return path


def test_ring_with_two_points_names_the_building(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="2 distinct points") as info:
        read_citygml_buildings(two_point_ring(tmp_path), UTM32)
    assert info.value.record == "DENW34AL0000rEeN"
    assert info.value.file is not None
    assert info.value.file.endswith("two_point_ring.gml")
    assert "--skip-invalid" in (info.value.hint or "")


def test_skip_invalid_leaves_the_broken_building_out(tmp_path: Path) -> None:
    path = two_point_ring(tmp_path)
    skipped = SkipLog()
    buildings = read_citygml_buildings(path, UTM32, skip_invalid=True, skipped=skipped)
    assert buildings.attributes["id"].to_pylist() == ["DENW34AL0000rEbC", "DENW34AL00026uV0"]
    assert buildings.polygon_count == 9 + 6
    assert len(skipped) == 1
    file, building, reason = skipped.entries[0]
    assert (file, building) == (str(path), "DENW34AL0000rEeN")
    assert "distinct points" in reason


def test_poslist_length_must_fit_the_dimension(tmp_path: Path) -> None:
    text = DUISBURG.read_text(encoding="utf-8")
    _, end = first_polygon_poslist(text, "<bldg:Building")
    path = tmp_path / DUISBURG.name
    path.write_text(f"{text[:end]} 12.5{text[end:]}", encoding="utf-8")
    with pytest.raises(InputError, match="not a multiple of srsDimension 3") as info:
        read_citygml_buildings(path, UTM32)
    assert info.value.record == "DENW21AL10007Ard"


def test_missing_empty_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_citygml_buildings(tmp_path / "nowhere.gml", UTM32)
    empty = tmp_path / "empty.gml"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.gml.*empty"):
        read_citygml_buildings(empty, UTM32)
    foreign = tmp_path / "parcels.gml"
    foreign.write_text('<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"/>', encoding="utf-8")
    with pytest.raises(InputError, match="not a CityGML file"):
        read_citygml_buildings(foreign, UTM32)


def test_city_model_without_buildings_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "none.gml"
    path.write_text(citygml2(""), encoding="utf-8")
    buildings = read_citygml_buildings(path, UTM32)
    assert len(buildings) == 0
    assert buildings.polygon_count == 0
    assert buildings.vertices.shape == (0, 3)
    assert buildings.attributes.num_rows == 0
    assert list(iter_citygml_buildings(path, UTM32)) == []


# --- geometry variants --------------------------------------------------------------------------------------------


def test_geometry_in_the_solid_takes_its_kind_from_xlinked_boundary_surfaces(tmp_path: Path) -> None:
    """The reverse layout some exporters write: polygons in lod2Solid, boundary surfaces point at them."""
    tree = etree.parse(str(NRW[2]))
    polygons = {p.get(f"{{{GML}}}id"): p for p in tree.iter(f"{{{GML}}}Polygon")}
    references = [(m, m.get(XLINK_HREF)) for m in tree.iter(f"{{{GML}}}surfaceMember") if m.get(XLINK_HREF)]
    for member, href in references:  # the solid's references: swap the real polygon in, leave a reference behind
        target = polygons[href[1:]]
        target.getparent().set(XLINK_HREF, href)
        del member.attrib[XLINK_HREF]
        member.append(target)
    path = tmp_path / "solid_geometry.gml"
    tree.write(str(path))
    text = path.read_text(encoding="utf-8")
    assert text.count("<gml:Polygon ") == 35
    assert text.index("<gml:Polygon ") < text.index("<bldg:boundedBy>")  # geometry now comes first, in the solid
    moved = read_citygml_buildings(path, UTM32)
    assert polygon_keys(moved) == polygon_keys(read_citygml_buildings(NRW[2], UTM32))


def test_solid_copies_of_boundary_polygons_are_not_counted_twice(tmp_path: Path) -> None:
    tree = etree.parse(str(NRW[2]))
    polygons = {p.get(f"{{{GML}}}id"): p for p in tree.iter(f"{{{GML}}}Polygon")}
    for member in list(tree.iter(f"{{{GML}}}surfaceMember")):
        href = member.get(XLINK_HREF)
        if href:
            copy = etree.fromstring(etree.tostring(polygons[href[1:]]))
            copy.set(f"{{{GML}}}id", f"copy_{href[1:]}")
            del member.attrib[XLINK_HREF]
            member.append(copy)
    path = tmp_path / "duplicated.gml"
    tree.write(str(path))
    assert path.read_text(encoding="utf-8").count("<gml:Polygon ") == 70
    buildings = read_citygml_buildings(path, UTM32)
    assert buildings.polygon_count == 35
    assert kind_counts(buildings) == {"GROUND": 4, "WALL": 18, "ROOF": 9, "CLOSURE": 4}


def test_lod1_solid_when_there_is_no_lod2_and_lod2_preferred_over_lod1(tmp_path: Path) -> None:
    only_lod1 = box((500000, 5700000, 30), (10, 8, 6))
    both = box((500040, 5700000, 31), (12, 10, 9))
    footprint = polygon(both["GroundSurface"][0])
    path = tmp_path / "lod1.gml"
    path.write_text(
        citygml2(
            member("lod1", f"<bldg:measuredHeight>6</bldg:measuredHeight>{lod1_solid(only_lod1)}")
            + member("lod1and2", lod1_solid(both) + lod2_surfaces(both))
            + member(
                "lod0", f"<bldg:lod0FootPrint><gml:MultiSurface>{footprint}</gml:MultiSurface></bldg:lod0FootPrint>"
            )
        ),
        encoding="utf-8",
    )
    buildings = read_citygml_buildings(path, UTM32)
    # A building with LoD0 geometry only is kept, without polygons, so that the pipeline can report it.
    assert buildings.attributes["id"].to_pylist() == ["lod1", "lod1and2", "lod0"]
    assert buildings.attributes["lod"].to_pylist() == [1.0, 2.0, None]
    assert np.diff(buildings.building_polygons).tolist() == [6, 6, 0]
    assert buildings.polygon_kind[:6].tolist() == [SurfaceKind.SOLID] * 6
    assert sorted(buildings.polygon_kind[6:].tolist()) == [1, 2, 2, 2, 2, 3]  # ground, 4 walls, roof
    np.testing.assert_allclose(shapely.area(buildings.footprints()), [80.0, 120.0, 0.0])
    low, high = buildings.z_range()
    np.testing.assert_allclose(low, [30.0, 31.0, np.nan])
    np.testing.assert_allclose(high, [36.0, 40.0, np.nan])


def test_holes_pos_coordinates_and_reversed_orientable_surfaces(tmp_path: Path) -> None:
    ground = (
        '<bldg:boundedBy><bldg:GroundSurface><bldg:lod2MultiSurface><gml:MultiSurface srsDimension="3">'
        "<gml:surfaceMember><gml:Polygon>"
        "<gml:exterior><gml:LinearRing>"
        "<gml:pos>500000 5700000 30</gml:pos><gml:pos>500000 5700020 30</gml:pos>"
        "<gml:pos>500020 5700020 30</gml:pos><gml:pos>500020 5700000 30</gml:pos><gml:pos>500000 5700000 30</gml:pos>"
        "</gml:LinearRing></gml:exterior>"
        "<gml:interior><gml:LinearRing><gml:posList>"
        "500005 5700005 30 500010 5700005 30 500010 5700010 30 500005 5700010 30 500005 5700005 30"
        "</gml:posList></gml:LinearRing></gml:interior>"
        "</gml:Polygon></gml:surfaceMember></gml:MultiSurface></bldg:lod2MultiSurface></bldg:GroundSurface>"
        "</bldg:boundedBy>"
    )
    roof = (
        "<bldg:boundedBy><bldg:RoofSurface><bldg:lod2MultiSurface><gml:MultiSurface>"
        '<gml:surfaceMember><gml:OrientableSurface orientation="-"><gml:baseSurface><gml:Polygon>'
        "<gml:exterior><gml:LinearRing><gml:coordinates>"
        "500000,5700000,36 500000,5700020,36 500020,5700020,36 500020,5700000,36 500000,5700000,36"
        "</gml:coordinates></gml:LinearRing></gml:exterior>"
        "</gml:Polygon></gml:baseSurface></gml:OrientableSurface></gml:surfaceMember>"
        "</gml:MultiSurface></bldg:lod2MultiSurface></bldg:RoofSurface></bldg:boundedBy>"
    )
    path = tmp_path / "holes.gml"
    path.write_text(
        citygml2(member("b", ground + roof)),
        encoding="utf-8",
    )
    buildings = read_citygml_buildings(path, UTM32)
    assert buildings.polygon_kind.tolist() == [SurfaceKind.GROUND, SurfaceKind.ROOF]
    assert np.diff(buildings.polygon_rings).tolist() == [2, 1]
    assert np.diff(buildings.ring_offsets).tolist() == [4, 4, 4]
    assert buildings.footprints()[0].area == pytest.approx(400 - 25)
    # orientation="-" turns the roof ring around, so that it faces up.
    roof_ring = buildings.vertices[buildings.ring_offsets[2] : buildings.ring_offsets[3]]
    assert roof_ring[:, :2].tolist() == [[500020, 5700000], [500020, 5700020], [500000, 5700020], [500000, 5700000]]
    assert shapely.Polygon(roof_ring[:, :2]).exterior.is_ccw


# --- rings read in one go and ring by ring --------------------------------------------------------------------------

WALL = [(500000, 5700000, 30), (500010, 5700000, 30), (500010, 5700000, 36), (500000, 5700000, 36)]
WINDOW = [(500002, 5700000, 31), (500002, 5700000, 33), (500004, 5700000, 33), (500004, 5700000, 31)]


def numbers(corners: list[tuple[float, float, float]]) -> list[str]:
    return [str(v) for corner in corners for v in corner]


@dataclass(frozen=True)
class RingCase:
    rings: list[list[str]]  # the numbers of each ring as written, exterior first
    exterior: list[int]  # the exterior as read, as indices into WALL
    in_one_go: bool  # whether the gml:posList building is read in one go
    reversed_surface: bool = False


RING_CASES = {
    "closed": RingCase([numbers([*WALL, WALL[0]])], [0, 1, 2, 3], True),
    "open": RingCase([numbers(WALL)], [0, 1, 2, 3], True),
    "hole": RingCase([numbers([*WALL, WALL[0]]), numbers([*WINDOW, WINDOW[0]])], [0, 1, 2, 3], True),
    "reversed": RingCase([numbers([*WALL, WALL[0]]), numbers(WINDOW)], [3, 2, 1, 0], True, reversed_surface=True),
    # Left to the ring-by-ring reader: a closing corner in other digits, the first corner repeated.
    "closing-in-other-digits": RingCase([[*numbers(WALL), "500000.0", "5700000.00", "30.0"]], [0, 1, 2, 3], False),
    "first-corner-repeated": RingCase([numbers([WALL[0], *WALL, WALL[0]])], [0, 0, 1, 2, 3], False),
}


def ring_xml(values: list[str], encoding: str) -> str:
    if encoding == "posList":
        return f'<gml:posList srsDimension="3">{" ".join(values)}</gml:posList>'
    return "".join(f"<gml:pos>{' '.join(values[i : i + 3])}</gml:pos>" for i in range(0, len(values), 3))


def wall_xml(case: RingCase, encoding: str) -> str:
    boundaries = "".join(
        f"<gml:{side}><gml:LinearRing>{ring_xml(ring, encoding)}</gml:LinearRing></gml:{side}>"
        for side, ring in zip(["exterior"] + ["interior"] * len(case.rings), case.rings, strict=False)
    )
    surface = f"<gml:Polygon>{boundaries}</gml:Polygon>"
    if case.reversed_surface:
        surface = (
            '<gml:OrientableSurface orientation="-"><gml:baseSurface>'
            f"{surface}</gml:baseSurface></gml:OrientableSurface>"
        )
    return (
        "<bldg:boundedBy><bldg:WallSurface><bldg:lod2MultiSurface><gml:MultiSurface>"
        f"<gml:surfaceMember>{surface}</gml:surfaceMember>"
        "</gml:MultiSurface></bldg:lod2MultiSurface></bldg:WallSurface></bldg:boundedBy>"
    )


@pytest.mark.parametrize("case", RING_CASES.values(), ids=RING_CASES.keys())
def test_poslist_rings_read_in_one_go_match_rings_read_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: RingCase
) -> None:
    """A building of gml:posList rings is read in one go, one of gml:pos rings ring by ring: the same polygons."""
    ring_by_ring = Counter[str]()
    polygon_rings = citygml_geometry.polygon_rings

    def counted(face: Any) -> list[np.ndarray]:
        ring_by_ring[face.element.getroottree().docinfo.URL] += 1
        return polygon_rings(face)

    monkeypatch.setattr(citygml_geometry, "polygon_rings", counted)
    read = {}
    for encoding in ("posList", "pos"):
        path = tmp_path / f"{encoding}.gml"
        path.write_text(citygml2(member("b", wall_xml(case, encoding))), encoding="utf-8")
        read[encoding] = read_citygml_buildings(path, UTM32)
    assert (ring_by_ring[str(tmp_path / "posList.gml")] == 0) == case.in_one_go
    assert ring_by_ring[str(tmp_path / "pos.gml")] == 1
    for name in ("vertices", "ring_offsets", "polygon_rings", "polygon_kind", "building_polygons"):
        np.testing.assert_array_equal(getattr(read["posList"], name), getattr(read["pos"], name))
    buildings = read["posList"]
    assert np.diff(buildings.ring_offsets).tolist() == [len(case.exterior)] + [4] * (len(case.rings) - 1)
    assert buildings.vertices[: len(case.exterior)].tolist() == [list(WALL[i]) for i in case.exterior]
