"""Binary glTF 2.0 writer for building tiles, with per-building metadata.

Each tile is one mesh primitive whose vertices carry ``_FEATURE_ID_0`` (``EXT_mesh_features``) pointing into
one ``EXT_structural_metadata`` property table of class ``building``. Every buffer view starts on an 8-byte
boundary (the 3D Tiles validator requires it for metadata buffers). Positions are relative to the content origin,
which the glTF node carries as its translation, in glTF's y-up axes (x east, y up, z south); 3D Tiles turns y-up
content to z-up.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from twin3d.tiling.mesh import Mesh

GLB_MAGIC = 0x46546C67
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942
ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963
BYTE = 5120
SHORT = 5122
UNSIGNED_SHORT = 5123
UNSIGNED_INT = 5125
FLOAT = 5126

BUILDING_COLOR = (0.86, 0.84, 0.80, 1.0)
_DTYPES = {BYTE: np.int8, SHORT: np.int16, FLOAT: np.float32, UNSIGNED_SHORT: np.uint16, UNSIGNED_INT: np.uint32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


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


def _asset(copyright: str | None) -> dict[str, str]:
    asset = {"version": "2.0", "generator": "twin3d"}
    if copyright:
        asset["copyright"] = copyright
    return asset


def _nbytes(data: bytes | np.ndarray) -> int:
    return data.nbytes if isinstance(data, np.ndarray) else len(data)


def pad_bytes(data: bytes, align: int = 8, fill: bytes = b"\x00") -> bytes:
    """``data`` padded to a multiple of ``align`` bytes."""
    return data + fill * ((-len(data)) % align)


def y_up(enu: np.ndarray) -> np.ndarray:
    """ENU (z-up) vectors to glTF y-up: (e, n, u) -> (e, u, -n), a proper rotation, so winding is kept."""
    return np.column_stack([enu[:, 0], enu[:, 2], -enu[:, 1]])


def _utf8_column(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """A string column as its UTF-8 bytes and byte offsets (``EXT_structural_metadata`` strings)."""
    text = list(map(str, values))
    joined = "".join(text)
    data = joined.encode("utf-8")
    offsets = np.zeros(len(text) + 1, dtype=np.uint32)
    if len(data) == len(joined):  # ASCII (building ids nearly always): characters are bytes
        offsets[1:] = np.cumsum(np.fromiter(map(len, text), dtype=np.int64, count=len(text)))
    else:
        offsets[1:] = np.cumsum([len(t.encode("utf-8")) for t in text])
    return data, offsets


@dataclass
class GlbBuilder:
    """Collects buffer views, accessors and the property table of one building mesh, then writes the GLB."""

    views: list[dict[str, Any]] = field(default_factory=list)
    accessors: list[dict[str, Any]] = field(default_factory=list)
    # Binary chunk contents and where each starts; copied into the GLB once, in finish (a tile is about a megabyte).
    chunks: list[tuple[int, bytes | np.ndarray]] = field(default_factory=list)
    offset: int = 0
    buffers_extra: list[dict[str, Any]] = field(default_factory=list)

    def add_bytes(self, data: bytes | np.ndarray) -> int:
        """Append 8-byte aligned data (bytes, or a C-contiguous array) to the binary chunk; returns its offset there."""
        start = self.offset
        self.chunks.append((start, data))
        size = _nbytes(data)
        self.offset += size + (-size) % 8
        return start

    def add_view(self, data: bytes | np.ndarray, target: int | None = None, stride: int | None = None) -> int:
        """A buffer view over new data (bytes, or a C-contiguous array) in the binary chunk."""
        view: dict[str, Any] = {"buffer": 0, "byteOffset": self.add_bytes(data), "byteLength": _nbytes(data)}
        if target is not None:
            view["target"] = target
        if stride is not None:
            view["byteStride"] = stride
        self.views.append(view)
        return len(self.views) - 1

    def add_accessor(self, view: int, component: int, count: int, kind: str, **extra: Any) -> int:
        self.accessors.append({"bufferView": view, "componentType": component, "count": count, "type": kind, **extra})
        return len(self.accessors) - 1

    def property_table(self, properties: list[Property], feature_count: int) -> dict[str, Any]:
        """The ``EXT_structural_metadata`` extension with one ``building`` class and its table."""
        class_props: dict[str, Any] = {}
        table_props: dict[str, Any] = {}
        for prop in properties:
            if prop.kind == "STRING":
                values, offsets = _utf8_column(prop.values)
                table_props[prop.name] = {"values": self.add_view(values), "stringOffsets": self.add_view(offsets)}
                class_props[prop.name] = {"type": "STRING"}
            else:
                table_props[prop.name] = {"values": self.add_view(np.ascontiguousarray(prop.values, dtype=np.float32))}
                class_props[prop.name] = {"type": "SCALAR", "componentType": "FLOAT32"}
            if prop.description:
                class_props[prop.name]["description"] = prop.description
        return {
            "schema": {
                "id": "twin3d_buildings",
                "classes": {"building": {"name": "Building", "properties": class_props}},
            },
            "propertyTables": [{"class": "building", "count": feature_count, "properties": table_props}],
        }

    def finish(
        self,
        node: dict[str, Any],
        attributes: dict[str, int],
        indices: int,
        metadata: dict[str, Any],
        feature_count: int,
        *,
        double_sided: bool,
        extensions_used: tuple[str, ...] = (),
        extensions_required: tuple[str, ...] = (),
        copyright: str | None = None,
    ) -> bytes:
        """The GLB: one node with one primitive, one material, the property table."""
        bin_length = self.offset
        gltf: dict[str, Any] = {
            "asset": _asset(copyright),
            "extensionsUsed": ["EXT_mesh_features", "EXT_structural_metadata", *extensions_used],
            "scene": 0,
            "scenes": [{"nodes": [0]}],
            "nodes": [{"mesh": 0, **node}],
            "meshes": [
                {
                    "primitives": [
                        {
                            "attributes": attributes,
                            "indices": indices,
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
                    },
                    "doubleSided": double_sided,
                }
            ],
            "accessors": self.accessors,
            "bufferViews": self.views,
            "buffers": [{"byteLength": bin_length}, *self.buffers_extra],
            "extensions": {"EXT_structural_metadata": metadata},
        }
        if extensions_required:
            gltf["extensionsRequired"] = list(extensions_required)
        json_chunk = pad_bytes(json.dumps(gltf, separators=(",", ":")).encode("utf-8"), 8, b" ")
        bin_start = 12 + 8 + len(json_chunk) + 8
        out = bytearray(bin_start + bin_length)  # zeros: the padding after each piece of the binary chunk
        struct.pack_into("<III", out, 0, GLB_MAGIC, 2, len(out))
        struct.pack_into("<II", out, 12, len(json_chunk), CHUNK_JSON)
        out[20 : 20 + len(json_chunk)] = json_chunk
        struct.pack_into("<II", out, 20 + len(json_chunk), bin_length, CHUNK_BIN)
        for start, data in self.chunks:
            at = bin_start + start
            if isinstance(data, np.ndarray):
                np.frombuffer(out, dtype=np.uint8, count=data.nbytes, offset=at)[:] = data.reshape(-1).view(np.uint8)
            else:
                out[at : at + len(data)] = data
        return bytes(out)


def encode_glb(
    mesh: Mesh,
    origin: np.ndarray,
    properties: list[Property],
    feature_count: int,
    *,
    double_sided: bool = False,
    copyright: str | None = None,
) -> bytes:
    """Encode a building mesh and its property table as a GLB (:mod:`twin3d.tiling.content` picks this encoder or
    the meshopt-compressed one).

    Args:
        mesh: the tile's triangles in the local ENU frame.
        origin: the content origin in the same frame: positions are written relative to it and the glTF node
            carries it as its translation.
        properties: the property table columns, each ``feature_count`` long.
        feature_count: number of buildings in the tile.
        double_sided: render both sides of each triangle (LoD2 surfaces from survey data are not always
            oriented consistently).
        copyright: who the content is from (e.g. "© OpenStreetMap contributors, ODbL"): the glTF ``asset.copyright``
            that clients show to credit the data.

    Returns:
        The GLB bytes.
    """
    pos = _y_up_rows(mesh.positions, origin)
    nrm = _y_up_rows(mesh.normals)
    wide = mesh.vertex_count > 65535
    idx = mesh.indices.astype(np.uint32 if wide else np.uint16)

    glb = GlbBuilder()
    count = mesh.vertex_count
    attributes = {
        "POSITION": glb.add_accessor(
            glb.add_view(_interleaved(pos), ARRAY_BUFFER),
            FLOAT,
            count,
            "VEC3",
            min=[float(v) for v in pos.min(axis=1)],
            max=[float(v) for v in pos.max(axis=1)],
        ),
        "NORMAL": glb.add_accessor(glb.add_view(_interleaved(nrm), ARRAY_BUFFER), FLOAT, count, "VEC3"),
        "_FEATURE_ID_0": glb.add_accessor(
            glb.add_view(mesh.feature_ids.astype(np.float32), ARRAY_BUFFER), FLOAT, count, "SCALAR"
        ),
    }
    indices = glb.add_accessor(
        glb.add_view(idx, ELEMENT_ARRAY_BUFFER), UNSIGNED_INT if wide else UNSIGNED_SHORT, len(idx), "SCALAR"
    )
    metadata = glb.property_table(properties, feature_count)
    node = {"translation": [float(v) for v in y_up(origin.reshape(1, 3))[0]]}
    return glb.finish(
        node, attributes, indices, metadata, feature_count, double_sided=double_sided, copyright=copyright
    )


def _y_up_rows(enu: np.ndarray, origin: np.ndarray | None = None) -> np.ndarray:
    """``y_up(enu - origin)`` as float32 rows x, y, z: axis by axis, since a reduction or an operation across the
    three columns of an (n, 3) array is many times slower in numpy than along contiguous rows."""
    out = np.empty((3, len(enu)), dtype=np.float32)
    o = np.zeros(3) if origin is None else origin
    np.subtract(enu[:, 0], o[0], out=out[0], casting="same_kind")
    np.subtract(enu[:, 2], o[2], out=out[1], casting="same_kind")
    np.subtract(enu[:, 1], o[1], out=out[2], casting="same_kind")
    np.negative(out[2], out=out[2])  # negating after rounding keeps the bits of y_up (and its -0.0)
    return out


def _interleaved(rows: np.ndarray) -> np.ndarray:
    """(3, n) rows as an (n, 3) C-contiguous array; column by column (a transposing copy is several times slower)."""
    out = np.empty(rows.shape[::-1], dtype=rows.dtype)
    for axis, row in enumerate(rows):
        out[:, axis] = row
    return out


def decode_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Split a GLB into its JSON and its binary chunk (for tests and tools)."""
    magic, version, total = struct.unpack_from("<III", data, 0)
    if magic != GLB_MAGIC or version != 2 or total != len(data):
        raise ValueError("not a glTF 2.0 binary")
    json_len, _ = struct.unpack_from("<II", data, 12)
    doc = json.loads(data[20 : 20 + json_len])
    bin_start = 20 + json_len + 8
    bin_len, _ = struct.unpack_from("<II", data, 20 + json_len)
    return doc, data[bin_start : bin_start + bin_len]


def read_accessor(doc: dict[str, Any], blob: bytes, index: int) -> np.ndarray:
    """An accessor's data as a numpy array, decoding EXT_meshopt_compression and strided views."""
    acc = doc["accessors"][index]
    view = doc["bufferViews"][acc["bufferView"]]
    dtype = np.dtype(_DTYPES[acc["componentType"]])
    width = _WIDTH[acc["type"]]
    meshopt_ext = view.get("extensions", {}).get("EXT_meshopt_compression")
    if meshopt_ext:
        import meshopt  # noqa: PLC0415

        stride = meshopt_ext["byteStride"]
        raw = blob[meshopt_ext["byteOffset"] : meshopt_ext["byteOffset"] + meshopt_ext["byteLength"]]
        decoded = meshopt.decode_gltf_buffer(raw, meshopt_ext["count"], stride, meshopt_ext["mode"])
        if meshopt_ext["mode"] != "ATTRIBUTES":
            return np.asarray(decoded).reshape(-1).astype(dtype)
        data = np.ascontiguousarray(decoded, dtype=np.uint8).tobytes()
        start = acc.get("byteOffset", 0)
    else:
        stride = view.get("byteStride", dtype.itemsize * width)
        data = blob
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    rows = np.frombuffer(data, dtype=np.uint8, count=(acc["count"] - 1) * stride + dtype.itemsize * width, offset=start)
    out = (
        np.lib.stride_tricks.as_strided(
            rows.view(np.uint8), shape=(acc["count"], dtype.itemsize * width), strides=(stride, 1)
        )
        .copy()
        .view(dtype)
    )
    return out.reshape(-1, width) if width > 1 else out.reshape(-1)
