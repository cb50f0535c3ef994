"""The GLB writer: what a client reads back from a tile is the mesh, its property table and who the data is from."""

from __future__ import annotations

import itertools
import struct

import numpy as np
import pytest

from twin3d.tiling.content import encode_content
from twin3d.tiling.gltf import Property, decode_glb, encode_glb, read_accessor, y_up
from twin3d.tiling.mesh import Mesh

ODBL = "© OpenStreetMap contributors, ODbL 1.0"


def _mesh(n: int = 600, features: int = 40, *, column_major: bool = False) -> Mesh:
    rng = np.random.default_rng(3)
    positions = rng.uniform(-400.0, 400.0, (n, 3)) + np.array([1200.0, -800.0, 30.0])
    normals = rng.normal(size=(n, 3)).astype(np.float32)
    if column_major:  # the extruder's layout: each axis contiguous
        positions, normals = np.asfortranarray(positions), np.asfortranarray(normals)
    return Mesh(
        positions=positions,
        normals=normals,
        feature_ids=rng.integers(0, features, n).astype(np.uint32),
        indices=rng.integers(0, n, 3 * n).astype(np.uint32),
    )


def _properties(features: int = 40) -> list[Property]:
    ids = np.array([f"DENW{i:04d}" if i % 5 else f"Straße-{i}" for i in range(features)], dtype=object)
    return [Property("id", "STRING", ids, "building id"), Property("height", "FLOAT32", np.arange(features) * 1.5)]


@pytest.mark.parametrize("compression", ["none", "meshopt"])
def test_the_tile_credits_its_data_in_the_gltf_asset(compression: str) -> None:
    mesh = _mesh()
    credited, _ = decode_glb(
        encode_content(mesh, np.zeros(3), _properties(), 40, compression=compression, copyright=ODBL)
    )
    plain, _ = decode_glb(encode_content(mesh, np.zeros(3), _properties(), 40, compression=compression))
    assert credited["asset"] == {"version": "2.0", "generator": "twin3d", "copyright": ODBL}
    assert "copyright" not in plain["asset"]


@pytest.mark.parametrize("column_major", [False, True])
def test_a_client_reads_back_the_mesh_and_its_property_table(column_major: bool) -> None:
    mesh, origin = _mesh(column_major=column_major), np.array([1200.5, -800.25, 30.0])
    glb = encode_glb(mesh, origin, _properties(), 40)

    magic, version, length = struct.unpack_from("<III", glb)
    assert (magic, version, length) == (0x46546C67, 2, len(glb))
    doc, blob = decode_glb(glb)
    assert all(v["byteOffset"] % 8 == 0 for v in doc["bufferViews"])
    assert doc["buffers"][0]["byteLength"] == len(blob)
    prim = doc["meshes"][0]["primitives"][0]
    positions = read_accessor(doc, blob, prim["attributes"]["POSITION"])
    assert np.array_equal(positions, y_up(mesh.positions - origin).astype(np.float32))
    # Clients and validators take the accessor bounds as the data's: they must be exact.
    accessor = doc["accessors"][prim["attributes"]["POSITION"]]
    assert accessor["min"] == positions.min(axis=0).tolist()
    assert accessor["max"] == positions.max(axis=0).tolist()
    assert np.array_equal(read_accessor(doc, blob, prim["attributes"]["NORMAL"]), y_up(mesh.normals))
    assert np.array_equal(read_accessor(doc, blob, prim["attributes"]["_FEATURE_ID_0"]), mesh.feature_ids)
    assert np.array_equal(read_accessor(doc, blob, prim["indices"]), mesh.indices)
    assert doc["nodes"][0]["translation"] == y_up(origin.reshape(1, 3))[0].tolist()

    table = doc["extensions"]["EXT_structural_metadata"]["propertyTables"][0]
    views = doc["bufferViews"]

    def view(index: int) -> bytes:
        return blob[views[index]["byteOffset"] : views[index]["byteOffset"] + views[index]["byteLength"]]

    text = view(table["properties"]["id"]["values"])
    offsets = np.frombuffer(view(table["properties"]["id"]["stringOffsets"]), dtype=np.uint32)
    ids = [text[a:b].decode("utf-8") for a, b in itertools.pairwise(offsets.tolist())]
    assert ids == list(_properties()[0].values)  # multi-byte characters (ß) count as bytes in the offsets
    heights = np.frombuffer(view(table["properties"]["height"]["values"]), dtype=np.float32)
    assert np.array_equal(heights, np.arange(40) * 1.5)
