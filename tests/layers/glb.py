"""Small glTF binaries built in memory for the model tests: boxes and prisms with the nodes a test asks for."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

MODELS = Path(__file__).resolve().parent.parent / "data" / "models"
BOX = MODELS / "box.glb"  # Khronos' Box (CC BY 4.0, Cesium): a 1 m cube round its origin, under a z-up-to-y-up node
BOX_DRACO = MODELS / "box-draco.glb"  # the same Box, Draco-compressed

# The 12 triangles of a box over its corners numbered by bits (x: 4, y: 2, z: 1).
_BOX_FACES = [(0, 1, 3), (0, 3, 2), (4, 6, 7), (4, 7, 5), (0, 4, 5), (0, 5, 1)]
_BOX_FACES += [(2, 3, 7), (2, 7, 6), (0, 2, 6), (0, 6, 4), (1, 5, 7), (1, 7, 3)]


def box_mesh(low: tuple[float, float, float], high: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """The 8 corners (float32) and 36 indices of an axis-aligned box in glTF coordinates (y up)."""
    corners = [(x, y, z) for x in (low[0], high[0]) for y in (low[1], high[1]) for z in (low[2], high[2])]
    return np.asarray(corners, dtype=np.float32), np.asarray(_BOX_FACES, dtype=np.uint16).reshape(-1)


def glb_bytes(doc: dict[str, Any], binary: bytes) -> bytes:
    """A GLB of a JSON document and a binary chunk (each padded to 4 bytes)."""
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\0" * (-len(binary) % 4)
    chunks = struct.pack("<II", len(text), 0x4E4F534A) + text
    if binary:
        chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<III", 0x46546C67, 2, 12 + len(chunks)) + chunks


def mesh_model(
    parts: list[tuple[np.ndarray, np.ndarray]],
    nodes: list[dict[str, Any]] | None = None,
    **doc_extra: Any,
) -> bytes:
    """A model of one mesh per part (positions, indices); ``nodes`` default to one node per mesh at the origin
    (a node's ``"mesh"`` names the part)."""
    binary = b""
    accessors: list[dict[str, Any]] = []
    views: list[dict[str, Any]] = []
    meshes = []
    for positions, indices in parts:
        for data, target in ((positions, 34962), (indices, 34963)):
            views.append({"buffer": 0, "byteOffset": len(binary), "byteLength": data.nbytes, "target": target})
            binary += data.tobytes() + b"\0" * (-data.nbytes % 4)
        accessors.append(
            {
                "bufferView": len(views) - 2,
                "componentType": 5126,
                "count": len(positions),
                "type": "VEC3",
                "min": positions.min(axis=0).tolist(),
                "max": positions.max(axis=0).tolist(),
            }
        )
        accessors.append({"bufferView": len(views) - 1, "componentType": 5123, "count": len(indices), "type": "SCALAR"})
        meshes.append({"primitives": [{"attributes": {"POSITION": len(accessors) - 2}, "indices": len(accessors) - 1}]})
    nodes = nodes if nodes is not None else [{"mesh": i} for i in range(len(parts))]
    children = {c for n in nodes for c in n.get("children", [])}
    doc: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "twin3d tests"},
        "scene": 0,
        "scenes": [{"nodes": [i for i in range(len(nodes)) if i not in children]}],
        "nodes": nodes,
        "meshes": meshes,
        "accessors": accessors,
        "bufferViews": views,
        "buffers": [{"byteLength": len(binary)}],
    }
    doc.update(doc_extra)
    return glb_bytes(doc, binary)


def box_model(low: tuple[float, float, float], high: tuple[float, float, float], **node: Any) -> bytes:
    """One box with one node (``node`` adds its translation, rotation, scale or matrix)."""
    return mesh_model([box_mesh(low, high)], [{"mesh": 0, **node}])
