"""Binary glTF 2.0 writer for building tiles, with per-building metadata.

Each tile is one mesh primitive whose vertices carry ``_FEATURE_ID_0`` (``EXT_mesh_features``) pointing into
one ``EXT_structural_metadata`` property table of class ``building``. Every buffer view starts on an 8-byte
boundary (the 3D Tiles validator requires it for metadata buffers). Positions are float32 relative to the tile
origin, in glTF's y-up axes (x east, y up, z south); 3D Tiles rotates y-up content to z-up.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from twin3d.tiling.mesh import Mesh

_GLB_MAGIC = 0x46546C67
_CHUNK_JSON = 0x4E4F534A
_CHUNK_BIN = 0x004E4942
_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963
_FLOAT = 5126
_UNSIGNED_SHORT = 5123
_UNSIGNED_INT = 5125

BUILDING_COLOR = (0.86, 0.84, 0.80, 1.0)


@dataclass(frozen=True)
class Property:
    """One column of the building property table.

    Attributes:
        name: property id (``[A-Za-z_][A-Za-z0-9_]*``).
        kind: ``"STRING"`` or ``"FLOAT32"``.
        values: one value per feature (str for STRING, float for FLOAT32).
        description: a sentence for the schema.
    """

    name: str
    kind: Literal["STRING", "FLOAT32"]
    values: np.ndarray
    description: str = ""


def _pad(data: bytes, align: int = 8, fill: bytes = b"\x00") -> bytes:
    return data + fill * ((-len(data)) % align)


class _BufferBuilder:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.views: list[dict[str, Any]] = []
        self.offset = 0

    def add(self, data: bytes, target: int | None = None) -> int:
        view: dict[str, Any] = {"buffer": 0, "byteOffset": self.offset, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        self.views.append(view)
        padded = _pad(data)
        self.chunks.append(padded)
        self.offset += len(padded)
        return len(self.views) - 1

    def blob(self) -> bytes:
        return b"".join(self.chunks)


def _string_column(values: np.ndarray) -> tuple[bytes, bytes]:
    encoded = [str(v).encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.uint32)
    offsets[1:] = np.cumsum([len(e) for e in encoded])
    return b"".join(encoded), offsets.tobytes()


def encode_glb(mesh: Mesh, origin: np.ndarray, properties: list[Property], feature_count: int) -> bytes:
    """Encode a building mesh and its property table as a GLB.

    Args:
        mesh: the tile's triangles in the local ENU frame.
        origin: the tile origin in the same frame; positions are written relative to it.
        properties: the property table columns, each ``feature_count`` long.
        feature_count: number of buildings in the tile.

    Returns:
        The GLB bytes.
    """
    enu = mesh.positions - origin
    # ENU (z-up) to glTF y-up: (e, n, u) -> (e, u, -n); a proper rotation, so winding is kept.
    pos = np.column_stack([enu[:, 0], enu[:, 2], -enu[:, 1]]).astype(np.float32)
    nrm = np.column_stack([mesh.normals[:, 0], mesh.normals[:, 2], -mesh.normals[:, 1]]).astype(np.float32)
    fid = mesh.feature_ids.astype(np.float32)
    wide = mesh.vertex_count > 65535
    idx = mesh.indices.astype(np.uint32 if wide else np.uint16)

    buf = _BufferBuilder()
    v_pos = buf.add(pos.tobytes(), _ARRAY_BUFFER)
    v_nrm = buf.add(nrm.tobytes(), _ARRAY_BUFFER)
    v_fid = buf.add(fid.tobytes(), _ARRAY_BUFFER)
    v_idx = buf.add(idx.tobytes(), _ELEMENT_ARRAY_BUFFER)

    accessors: list[dict[str, Any]] = [
        {
            "bufferView": v_pos,
            "componentType": _FLOAT,
            "count": len(pos),
            "type": "VEC3",
            "min": [float(v) for v in pos.min(axis=0)],
            "max": [float(v) for v in pos.max(axis=0)],
        },
        {"bufferView": v_nrm, "componentType": _FLOAT, "count": len(nrm), "type": "VEC3"},
        {"bufferView": v_fid, "componentType": _FLOAT, "count": len(fid), "type": "SCALAR"},
        {
            "bufferView": v_idx,
            "componentType": _UNSIGNED_INT if wide else _UNSIGNED_SHORT,
            "count": len(idx),
            "type": "SCALAR",
        },
    ]

    class_props: dict[str, Any] = {}
    table_props: dict[str, Any] = {}
    for prop in properties:
        if prop.kind == "STRING":
            data, offsets = _string_column(prop.values)
            table_props[prop.name] = {"values": buf.add(data), "stringOffsets": buf.add(offsets)}
            class_props[prop.name] = {"type": "STRING"}
        else:
            table_props[prop.name] = {"values": buf.add(np.asarray(prop.values, dtype=np.float32).tobytes())}
            class_props[prop.name] = {"type": "SCALAR", "componentType": "FLOAT32"}
        if prop.description:
            class_props[prop.name]["description"] = prop.description

    blob = buf.blob()
    gltf: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "twin3d"},
        "extensionsUsed": ["EXT_mesh_features", "EXT_structural_metadata"],
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [
            {
                "primitives": [
                    {
                        "attributes": {"POSITION": 0, "NORMAL": 1, "_FEATURE_ID_0": 2},
                        "indices": 3,
                        "material": 0,
                        "mode": 4,
                        "extensions": {
                            "EXT_mesh_features": {
                                "featureIds": [{"featureCount": feature_count, "attribute": 0, "propertyTable": 0}]
                            }
                        },
                    }
                ]
            }
        ],
        "materials": [
            {
                "pbrMetallicRoughness": {
                    "baseColorFactor": list(BUILDING_COLOR),
                    "metallicFactor": 0.0,
                    "roughnessFactor": 1.0,
                }
            }
        ],
        "accessors": accessors,
        "bufferViews": buf.views,
        "buffers": [{"byteLength": len(blob)}],
        "extensions": {
            "EXT_structural_metadata": {
                "schema": {
                    "id": "twin3d_buildings",
                    "classes": {"building": {"name": "Building", "properties": class_props}},
                },
                "propertyTables": [{"class": "building", "count": feature_count, "properties": table_props}],
            }
        },
    }
    json_chunk = _pad(json.dumps(gltf, separators=(",", ":")).encode("utf-8"), 8, b" ")
    total = 12 + 8 + len(json_chunk) + 8 + len(blob)
    return b"".join(
        [
            struct.pack("<III", _GLB_MAGIC, 2, total),
            struct.pack("<II", len(json_chunk), _CHUNK_JSON),
            json_chunk,
            struct.pack("<II", len(blob), _CHUNK_BIN),
            blob,
        ]
    )


def decode_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Split a GLB into its JSON and its binary chunk (for tests and tools)."""
    magic, version, total = struct.unpack_from("<III", data, 0)
    if magic != _GLB_MAGIC or version != 2 or total != len(data):
        raise ValueError("not a glTF 2.0 binary")
    json_len, _ = struct.unpack_from("<II", data, 12)
    doc = json.loads(data[20 : 20 + json_len])
    bin_start = 20 + json_len + 8
    bin_len, _ = struct.unpack_from("<II", data, 20 + json_len)
    return doc, data[bin_start : bin_start + bin_len]


def read_accessor(doc: dict[str, Any], blob: bytes, index: int) -> np.ndarray:
    """An accessor's data as a numpy array (tightly packed views only, as this writer makes them)."""
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    dtype = {_FLOAT: np.float32, _UNSIGNED_SHORT: np.uint16, _UNSIGNED_INT: np.uint32}[acc["componentType"]]
    width = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}[acc["type"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    arr = np.frombuffer(blob, dtype=dtype, count=acc["count"] * width, offset=start)
    return arr.reshape(-1, width) if width > 1 else arr
