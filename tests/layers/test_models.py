"""Uploaded glTF models: what is refused (and how the refusal reads), the geometry measured in metres as deck.gl
places a model, storage once per content, and the prisms a placed model or a drawn building makes in a twin."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import meshopt
import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from tests.layers.glb import BOX, BOX_DRACO, box_mesh, box_model, glb_bytes, mesh_model
from twin3d.errors import InputError
from twin3d.layers import models
from twin3d.layers.models import find_model, measure_model, model_file, read_glb, store_model
from twin3d.simulation.models3d import check_models, model_placer, placed_prism, planned_prism
from twin3d.simulation.scenario import ModelPlacement, PlannedBuilding, ScenarioSpec

LON, LAT = 11.2775, 49.5098  # Lauf's centre
UTM = "EPSG:25832"
GEOD = Geod(ellps="WGS84")


def _refusal(data: bytes) -> InputError:
    with pytest.raises(InputError) as caught:
        measure_model(data)
    return caught.value


# ---- what is refused ------------------------------------------------------------------------------------------


def test_the_bundled_box_is_a_one_metre_cube_round_its_origin() -> None:
    meta = measure_model(BOX.read_bytes(), "Box.glb")
    assert (meta.vertices, meta.triangles, meta.height_m, meta.footprint_m2) == (24, 12, 1.0, 1.0)
    assert meta.bbox.min == (-0.5, -0.5, -0.5)
    assert meta.footprint_method == "outline"
    assert meta.name == "Box.glb"
    assert len(meta.model_id) == 64


def test_a_truncated_file_is_refused_naming_the_header() -> None:
    error = _refusal(BOX.read_bytes()[:-100])
    assert "truncated" in error.message
    assert error.record == "header"
    assert error.hint == "upload the file again, or export it again"


def test_a_chunk_running_past_the_end_is_refused() -> None:
    data = bytearray(BOX.read_bytes())
    struct.pack_into("<I", data, 12, len(data))  # the JSON chunk claims more bytes than there are
    error = _refusal(bytes(data))
    assert "chunk 0 announces" in error.message
    assert error.record == "chunks"


def test_wrong_magic_and_a_gltf_json_file_are_refused_with_what_to_export() -> None:
    error = _refusal(b"PK\x03\x04" + b"\0" * 40)
    assert "not a glTF binary" in error.message
    assert ".glb" in (error.hint or "")
    json_gltf = _refusal(json.dumps({"asset": {"version": "2.0"}}).encode())
    assert "glTF JSON file (.gltf)" in json_gltf.message


def test_glTF_1_is_refused() -> None:
    data = bytearray(BOX.read_bytes())
    struct.pack_into("<I", data, 4, 1)
    assert "only glTF 2.0" in _refusal(bytes(data)).message


def test_a_json_chunk_that_does_not_parse_is_refused() -> None:
    error = _refusal(glb_bytes({"asset": {"version": "2.0"}}, b"")[:-4] + b"{{{{")
    assert error.record == "chunks/0"


def test_an_external_buffer_a_data_uri_and_an_external_image_are_refused() -> None:
    doc, binary = read_glb(BOX.read_bytes())
    external = {**doc, "buffers": [{"byteLength": 648, "uri": "box.bin"}]}
    error = _refusal(glb_bytes(external, binary))
    assert (error.record, "'box.bin'" in error.message) == ("/buffers/0/uri", True)
    assert "embedded" in (error.hint or "")
    inline = {**doc, "buffers": [{"byteLength": 648, "uri": "data:application/octet-stream;base64,AAAA"}]}
    assert "a data: URI" in _refusal(glb_bytes(inline, binary)).message
    image = {**doc, "images": [{"uri": "https://example.org/texture.png"}]}
    assert _refusal(glb_bytes(image, binary)).record == "/images/0/uri"


def test_draco_is_refused_with_a_hint_to_export_without_it() -> None:
    error = _refusal(BOX_DRACO.read_bytes())
    assert "KHR_draco_mesh_compression" in error.message
    assert "meshopt" in (error.hint or "")


def test_an_unknown_required_extension_is_refused() -> None:
    doc, binary = read_glb(BOX.read_bytes())
    error = _refusal(glb_bytes({**doc, "extensionsRequired": ["ACME_magic"], "extensionsUsed": ["ACME_magic"]}, binary))
    assert "ACME_magic" in error.message


def test_files_and_models_above_the_limits_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    too_large = _refusal(b"glTF" + b"\0" * models.MAX_MODEL_BYTES)
    assert "more than 25 MB" in too_large.message
    monkeypatch.setattr(models, "MAX_VERTICES", 20)
    many = _refusal(BOX.read_bytes())  # 24 vertices
    assert "more than 20 vertices" in many.message
    assert "simplify" in (many.hint or "")


def test_an_accessor_past_its_view_and_a_node_cycle_are_refused() -> None:
    doc, binary = read_glb(box_model((0, 0, 0), (1, 1, 1)))
    doc["accessors"][0]["count"] = 9
    assert "reaches past the end" in _refusal(glb_bytes(doc, binary)).message
    doc, binary = read_glb(box_model((0, 0, 0), (1, 1, 1)))
    doc["nodes"] = [{"mesh": 0, "children": [1]}, {"children": [0]}]
    assert "appears twice" in _refusal(glb_bytes(doc, binary)).message


def test_a_model_without_triangles_is_refused() -> None:
    doc, binary = read_glb(box_model((0, 0, 0), (1, 1, 1)))
    doc["meshes"][0]["primitives"][0]["mode"] = 1  # lines
    assert "no triangle mesh" in _refusal(glb_bytes(doc, binary)).message


# ---- geometry -------------------------------------------------------------------------------------------------


def test_a_prism_is_measured_as_deck_gl_stands_it_up() -> None:
    """glTF is y-up with +z toward the viewer; deck.gl with roll 90 puts x east, -z north, y up (seen in Chromium)."""
    meta = measure_model(box_model((0, 0, 0), (20, 30, 10)))
    assert meta.height_m == 30
    assert meta.bbox.min == (0, -10, 0)
    assert meta.bbox.max == (20, 0, 30)
    assert meta.footprint_m2 == 200
    assert shapely.Polygon(meta.footprint.coordinates[0]).equals(shapely.box(0, -10, 20, 0))


def test_the_node_tree_is_applied_translation_rotation_scale_and_matrix() -> None:
    # Parent: 100 m east (x); child: turned 90 degrees about y (x -> -z, i.e. east -> north), scaled by 2.
    quarter = [0.0, math.sin(math.pi / 4), 0.0, math.cos(math.pi / 4)]
    nodes = [{"translation": [100, 0, 0], "children": [1]}, {"mesh": 0, "rotation": quarter, "scale": [2, 2, 2]}]
    meta = measure_model(mesh_model([box_mesh((0, 0, 0), (10, 5, 1))], nodes))
    assert meta.bbox.min == pytest.approx((100, 0, 0), abs=1e-3)
    assert meta.bbox.max == pytest.approx((102, 20, 10), abs=1e-3)
    # The same as a column-major matrix: z-up content turned y-up, as exporters from CAD write it (Khronos' Box).
    z_up = [1, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    tower = measure_model(box_model((0, 0, 0), (10, 4, 25), matrix=z_up))  # 25 m along z: up after the matrix
    assert tower.height_m == 25
    assert tower.bbox.min == pytest.approx((0, 0, 0))
    assert tower.bbox.max == pytest.approx((10, 4, 25))


def test_an_l_shaped_building_keeps_its_outline_not_its_hull() -> None:
    wing = box_mesh((0, 0, 0), (30, 12, 10))
    other = box_mesh((0, 0, 0), (10, 12, 30))  # a second wing along +z: to the south
    meta = measure_model(mesh_model([wing, other]))
    outline = shapely.Polygon(meta.footprint.coordinates[0])
    assert meta.footprint_method == "outline"
    assert meta.footprint_m2 == pytest.approx(300 + 300 - 100)
    assert outline.area < outline.convex_hull.area - 100
    assert shapely.Point(15, -15).within(outline.convex_hull)
    assert not shapely.Point(15, -15).within(outline)


def test_many_triangles_get_the_convex_hull(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "OUTLINE_TRIANGLES", 1)
    meta = measure_model(mesh_model([box_mesh((0, 0, 0), (30, 12, 10)), box_mesh((0, 0, 0), (10, 12, 30))]))
    assert meta.footprint_method == "convex_hull"
    assert meta.footprint_m2 == pytest.approx(30 * 30 - 20 * 20 / 2)


def test_meshopt_compressed_quantized_positions_are_read() -> None:
    """gltfpack's output: int16 positions (KHR_mesh_quantization) in EXT_meshopt_compression streams."""
    corners, indices = box_mesh((0, 0, 0), (2, 3, 1))
    quantized = np.zeros((8, 4), dtype=np.int16)  # padded to 8 bytes per vertex, as meshopt wants it
    quantized[:, :3] = corners
    packed = meshopt.encode_gltf_buffer(quantized.view(np.uint8).reshape(8, 8), "ATTRIBUTES")
    packed_indices = meshopt.encode_gltf_buffer(indices, "TRIANGLES")
    binary = packed + b"\0" * (-len(packed) % 4) + packed_indices
    fallback_size = quantized.nbytes + indices.nbytes

    def view(at: tuple[int, int], stride: int, count: int, mode: str, plain: int) -> dict[str, object]:
        ext = {"buffer": 0, "byteOffset": at[0], "byteLength": at[1], "byteStride": stride, "count": count}
        ext["mode"] = mode
        plain_view: dict[str, object] = {"buffer": 1, "byteOffset": plain, "byteLength": stride * count}
        if mode == "ATTRIBUTES":
            plain_view["byteStride"] = stride
        return {**plain_view, "extensions": {"EXT_meshopt_compression": ext}}

    doc = {
        "asset": {"version": "2.0"},
        "extensionsUsed": ["EXT_meshopt_compression", "KHR_mesh_quantization"],
        "extensionsRequired": ["EXT_meshopt_compression", "KHR_mesh_quantization"],
        "nodes": [{"mesh": 0, "scale": [10, 10, 10]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "accessors": [
            {"bufferView": 0, "componentType": 5122, "count": 8, "type": "VEC3"},
            {"bufferView": 1, "componentType": 5123, "count": 36, "type": "SCALAR"},
        ],
        "bufferViews": [
            view((0, len(packed)), 8, 8, "ATTRIBUTES", 0),
            view((len(packed) + (-len(packed) % 4), len(packed_indices)), 2, 36, "TRIANGLES", quantized.nbytes),
        ],
        "buffers": [
            {"byteLength": len(binary)},
            {"byteLength": fallback_size, "extensions": {"EXT_meshopt_compression": {"fallback": True}}},
        ],
    }
    meta = measure_model(glb_bytes(doc, binary))
    assert meta.height_m == 30
    assert meta.footprint_m2 == 200
    assert meta.extensions == ["EXT_meshopt_compression", "KHR_mesh_quantization"]


# ---- storage --------------------------------------------------------------------------------------------------


def test_a_model_is_stored_once_per_content(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "lauf"
    meta, created = store_model(folder, BOX.read_bytes(), "Box.glb")
    assert created
    again, created_again = store_model(folder, BOX.read_bytes(), "other name.glb")
    assert (again, created_again) == (meta, False)
    assert model_file(folder, meta.model_id).read_bytes() == BOX.read_bytes()
    assert find_model(folder, meta.model_id) == meta
    assert find_model(folder, "0" * 64) is None
    assert sorted(p.name for p in folder.iterdir()) == [f"{meta.model_id}.glb", f"{meta.model_id}.json"]
    with pytest.raises(InputError):
        model_file(folder, "../../etc/passwd")


def test_a_refused_model_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        store_model(tmp_path / "models", BOX_DRACO.read_bytes())
    assert not (tmp_path / "models").exists()


# ---- placed in a twin -----------------------------------------------------------------------------------------


def _placement(**change: object) -> ModelPlacement:
    body: dict[str, object] = {"model_id": "a" * 64, "location": {"type": "Point", "coordinates": [LON, LAT]}}
    return ModelPlacement.model_validate({**body, **change})


def _corners_lonlat(polygon: shapely.Polygon) -> list[tuple[float, float]]:
    back = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    xs, ys = back.transform(*np.asarray(polygon.exterior.coords).T)
    return list(zip(xs, ys, strict=True))


def test_a_placed_model_is_scaled_and_turned_clockwise_from_true_north() -> None:
    meta = measure_model(box_model((0, 0, -1), (20, 12, 0)))  # 20 m east, 1 m north of the origin; 12 m high
    footprint, height = placed_prism(meta, _placement(scale=2.0, rotation_deg=90.0), UTM)
    assert height == 24
    assert footprint.area == pytest.approx(20 * 2 * 2, rel=1e-3)
    far = max(_corners_lonlat(footprint), key=lambda p: GEOD.inv(LON, LAT, *p)[2])
    azimuth, _, distance = GEOD.inv(LON, LAT, *far)
    # (40 m east, 2 m north) turned 90 degrees clockwise: 40 m south, 2 m east; true north, not the UTM grid's.
    assert distance == pytest.approx(math.hypot(40, 2), abs=0.01)
    assert azimuth % 360 == pytest.approx(180 - math.degrees(math.atan2(2, 40)), abs=0.05)


def test_planned_prisms_of_a_drawn_building_and_a_placed_model(tmp_path: Path) -> None:
    ring = [[LON, LAT], [LON + 0.0003, LAT], [LON + 0.0003, LAT + 0.0002], [LON, LAT + 0.0002], [LON, LAT]]
    drawn = PlannedBuilding.model_validate(
        {"kind": "planned_building", "footprint": {"type": "Polygon", "coordinates": [ring]}, "storeys": 4}
    )
    footprint, height = planned_prism(drawn, UTM, tmp_path)
    assert height == 12
    assert footprint.area == pytest.approx(21.7 * 22.2, rel=0.02)  # 0.0003 deg of longitude, 0.0002 of latitude
    meta, _ = store_model(tmp_path, box_model((-5, 0, -5), (5, 30, 5)))
    placed = PlannedBuilding.model_validate(
        {"kind": "planned_building", "model": _placement(model_id=meta.model_id).model_dump(mode="json")}
    )
    footprint, height = planned_prism(placed, UTM, tmp_path)
    assert (round(footprint.area), height) == (100, 30)
    assert model_placer({meta.model_id: meta}, UTM)(placed.model)[1] == 30  # type: ignore[arg-type]


def test_a_scenario_placing_an_unknown_model_is_refused_naming_the_field(tmp_path: Path) -> None:
    meta, _ = store_model(tmp_path, BOX.read_bytes())
    known = _placement(model_id=meta.model_id).model_dump(mode="json")
    unknown = _placement(model_id="b" * 64).model_dump(mode="json")
    spec = ScenarioSpec.model_validate(
        {
            "name": "Turm",
            "measures": [{"kind": "planned_building", "model": known}, {"kind": "planned_building", "model": unknown}],
        }
    )
    with pytest.raises(InputError) as caught:
        check_models(spec, tmp_path)
    assert caught.value.record == "measures.1.model.model_id"
    assert "POST /api/twins/<twin>/models" in (caught.value.hint or "")
    check_models(ScenarioSpec.model_validate({"name": "Turm", "measures": [spec.measures[0].model_dump()]}), tmp_path)
