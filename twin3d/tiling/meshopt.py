"""Compressed building tiles: quantized attributes (KHR_mesh_quantization) in EXT_meshopt_compression streams.

Positions become 16-bit integers on one uniform grid (the glTF node scales them back), normals 8-bit
normalized, feature ids 16-bit; vertices are reordered for the GPU's vertex cache, then each stream is
compressed with meshoptimizer's codecs. The property table stays plain (it is small and clients read it
directly). No Draco: its decoder would come from a CDN, while CesiumJS and loaders.gl carry meshopt's decoder.
"""

from __future__ import annotations

from typing import Any

import meshopt
import numpy as np

from twin3d.tiling.gltf import (
    ARRAY_BUFFER,
    BYTE,
    ELEMENT_ARRAY_BUFFER,
    FLOAT,
    SHORT,
    UNSIGNED_INT,
    UNSIGNED_SHORT,
    GlbBuilder,
    Property,
    pad_bytes,
    y_up,
)
from twin3d.tiling.mesh import Mesh

POSITION_BITS = 16
EXTENSIONS = ("EXT_meshopt_compression", "KHR_mesh_quantization")


class _Compressed:
    """Buffer views whose data lives meshopt-compressed in the binary chunk, with no uncompressed fallback."""

    def __init__(self, glb: GlbBuilder) -> None:
        self.glb = glb
        self.fallback_size = 0

    def view(self, data: np.ndarray, mode: str, stride: int, count: int, target: int) -> int:
        raw = np.ascontiguousarray(data)
        encoded = meshopt.encode_gltf_buffer(raw.reshape(-1) if mode != "ATTRIBUTES" else raw, mode)
        view: dict[str, Any] = {
            "buffer": 1,
            "byteOffset": self.fallback_size,
            "byteLength": raw.nbytes,
            "target": target,
            "extensions": {
                "EXT_meshopt_compression": {
                    "buffer": 0,
                    "byteOffset": self.glb.add_bytes(encoded),
                    "byteLength": len(encoded),
                    "byteStride": stride,
                    "mode": mode,
                    "count": count,
                }
            },
        }
        if mode == "ATTRIBUTES":
            view["byteStride"] = stride
        self.fallback_size += len(pad_bytes(b"\0" * raw.nbytes))
        self.glb.views.append(view)
        return len(self.glb.views) - 1


def encode_glb_meshopt(
    mesh: Mesh,
    origin: np.ndarray,
    properties: list[Property],
    feature_count: int,
    *,
    double_sided: bool,
    copyright: str | None = None,
) -> bytes:
    """Like :func:`twin3d.tiling.gltf.encode_glb`, with quantized, meshopt-compressed geometry."""
    indices, remap, used = meshopt.reorder_mesh(mesh.indices.astype(np.uint32), True, False)
    order = np.empty(used, dtype=np.int64)
    kept = remap < used
    order[remap[kept]] = np.flatnonzero(kept)
    pos = y_up(mesh.positions[order] - origin)
    nrm = y_up(mesh.normals[order].astype(np.float64))
    fid = mesh.feature_ids[order]

    # One scale for all axes keeps the normals right under the node transform.
    extent = float(np.abs(pos).max()) if len(pos) else 1.0
    scale = max(extent, 1e-3) / (2 ** (POSITION_BITS - 1) - 1)
    qpos = np.zeros((used, 4), dtype=np.int16)
    qpos[:, :3] = np.round(pos / scale)
    qnrm = np.zeros((used, 4), dtype=np.int8)
    qnrm[:, :3] = np.round(np.clip(nrm, -1.0, 1.0) * 127.0)
    wide_ids = feature_count > 65535
    if wide_ids:
        qfid: np.ndarray = fid.astype(np.float32).reshape(-1, 1)
    else:
        qfid = np.zeros((used, 2), dtype=np.uint16)
        qfid[:, 0] = fid
    wide = used > 65535
    idx = indices.astype(np.uint32 if wide else np.uint16)

    glb = GlbBuilder()
    glb.buffers_extra.append({"byteLength": 0, "extensions": {"EXT_meshopt_compression": {"fallback": True}}})
    packed = _Compressed(glb)
    attributes = {
        "POSITION": glb.add_accessor(
            packed.view(qpos, "ATTRIBUTES", 8, used, ARRAY_BUFFER),
            SHORT,
            used,
            "VEC3",
            min=[int(v) for v in qpos[:, :3].min(axis=0)],
            max=[int(v) for v in qpos[:, :3].max(axis=0)],
        ),
        "NORMAL": glb.add_accessor(
            packed.view(qnrm, "ATTRIBUTES", 4, used, ARRAY_BUFFER), BYTE, used, "VEC3", normalized=True
        ),
        "_FEATURE_ID_0": glb.add_accessor(
            packed.view(qfid, "ATTRIBUTES", 4, used, ARRAY_BUFFER),
            FLOAT if wide_ids else UNSIGNED_SHORT,
            used,
            "SCALAR",
        ),
    }
    index_view = packed.view(idx, "TRIANGLES", idx.itemsize, len(idx), ELEMENT_ARRAY_BUFFER)
    index_accessor = glb.add_accessor(index_view, UNSIGNED_INT if wide else UNSIGNED_SHORT, len(idx), "SCALAR")
    glb.buffers_extra[0]["byteLength"] = max(packed.fallback_size, 1)
    metadata = glb.property_table(properties, feature_count)
    node = {"translation": [float(v) for v in y_up(origin.reshape(1, 3))[0]], "scale": [scale, scale, scale]}
    return glb.finish(
        node,
        attributes,
        index_accessor,
        metadata,
        feature_count,
        double_sided=double_sided,
        extensions_used=EXTENSIONS,
        extensions_required=EXTENSIONS,
        copyright=copyright,
    )
