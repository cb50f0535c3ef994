"""Uploaded 3D models of planned buildings (glTF 2.0 binary, ``.glb``): validated, measured, stored once per content.

A model is checked before anything is kept: the GLB container (magic, version 2, every chunk's length), a JSON chunk
that parses, every buffer and image inside the file (no external or ``data:`` URIs: the viewer loads nothing from
elsewhere), accessors that stay inside their buffer views, a node tree without cycles, at least one triangle mesh,
and limits on size and vertices. Draco and KTX2/Basis textures are refused: their decoders would be fetched from a
CDN. Meshopt compression (``EXT_meshopt_compression``) and quantized positions (``KHR_mesh_quantization``) are read.

Its geometry is measured as deck.gl's ``ScenegraphLayer`` places it with ``getOrientation: [0, -rotation, 90]``
(checked in Chromium): glTF's y-up axes become east = x, north = -z, up = y, in metres, after the node hierarchy's
transforms. The footprint is the model seen from above: the union of its triangles' ground projections (exact for
L-shaped buildings and courtyards); a model of more than :data:`OUTLINE_TRIANGLES` such triangles, or of separate
parts, gets the convex hull instead (``footprint_method`` says which). Skins and morph targets are ignored (the bind
pose counts).

Files live beside the store, ``<store_dir>/models/<twin>/<sha256>.glb`` with ``<sha256>.json`` (the metadata), like
the loaded layers, so that a model can be added while a server holds the store open; the same content is kept once.

Example:
    >>> meta, created = store_model(models_dir(PathSettings(), "lauf"), glb_bytes, "tower.glb")  # doctest: +SKIP
    >>> meta.height_m, meta.footprint_m2  # doctest: +SKIP
    (30.0, 240.0)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import struct
import tempfile
from pathlib import Path
from typing import Any, Literal

import meshopt
import numpy as np
import shapely
import shapely.geometry
from pydantic import BaseModel, ConfigDict, Field

from twin3d.errors import InputError
from twin3d.jsonfile import write_atomic
from twin3d.layers.formats import MIB
from twin3d.plaintext import clean_line
from twin3d.settings import PathSettings

GLB_MAGIC = 0x46546C67
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942
MAX_MODEL_BYTES = 25 * MIB
MAX_VERTICES = 2_000_000
"""Vertices of all mesh instances together (a mesh used by two nodes counts twice)."""
MAX_NODES = 50_000
MAX_DEPTH = 64
OUTLINE_TRIANGLES = 20_000
"""Up to this many triangles seen from above, the footprint is their exact union: 1.4 s at the most here (50,000
took 3.5 s, too long for an upload to wait); above it, the convex hull (a million triangles: 1 s in all)."""
GRID_M = 0.001  # the union snaps to millimetres: triangles that share an edge leave no slivers between them
MIN_HOLE_M2 = 0.01
MODEL_ID = re.compile(r"^[0-9a-f]{64}$")
DEFAULT_NAME = "model.glb"

_GLB_HINT = "export the model as a self-contained binary glTF (.glb) with its buffers and textures embedded"
REFUSED_EXTENSIONS = {
    "KHR_draco_mesh_compression": "Draco's decoder would have to be loaded from the internet; export without Draco "
    "(e.g. gltf-transform copy, or gltfpack -c for meshopt compression, which is supported)",
    "KHR_texture_basisu": "the KTX2/Basis transcoder would have to be loaded from the internet; export the textures "
    "as PNG or JPEG",
    "EXT_mesh_gpu_instancing": "apply the instances to the meshes before export (e.g. gltf-transform uninstance)",
}
"""Extensions refused wherever a model uses them, with how to export without them."""
_MATERIALS = "unlit emissive_strength specular ior transmission volume clearcoat sheen iridescence anisotropy"
SHOWN_EXTENSIONS = frozenset(
    ("EXT_meshopt_compression", "KHR_mesh_quantization", "KHR_texture_transform", "KHR_lights_punctual")
) | {"EXT_texture_webp", *(f"KHR_materials_{name}" for name in _MATERIALS.split())}
"""Extensions a model may require: deck.gl 9.4's glTF loader handles them without loading anything."""
_DTYPES: dict[Any, np.dtype[Any]] = {
    5120: np.dtype(np.int8),
    5121: np.dtype(np.uint8),
    5122: np.dtype("<i2"),
    5123: np.dtype("<u2"),
    5125: np.dtype("<u4"),
    5126: np.dtype("<f4"),
}
_NORMALIZED = {5120: 127.0, 5121: 255.0, 5122: 32767.0, 5123: 65535.0}
_WIDTH: dict[Any, int] = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_TRIANGLE_MODES = (4, 5, 6)  # triangles, strip, fan
_MESHOPT_MODES = ("ATTRIBUTES", "TRIANGLES", "INDICES")
_MESHOPT_FILTERS = ("NONE", "OCTAHEDRAL", "QUATERNION", "EXPONENTIAL", "COLOR")


class ModelFootprint(BaseModel):
    """The footprint as a GeoJSON polygon in model metres: east and north of the model's origin."""

    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[tuple[float, float]]]


class ModelBox(BaseModel):
    """The model's box in metres east, north and up of its origin."""

    min: tuple[float, float, float]
    max: tuple[float, float, float]


class ModelMeta(BaseModel):
    """What is known of a stored model: kept as JSON beside its ``.glb``."""

    model_config = ConfigDict(frozen=True)

    model_id: str = Field(description="SHA-256 of the file's bytes, 64 hex digits")
    name: str = Field(description="the uploaded file's name")
    bytes: int
    vertices: int = Field(description="vertices of all mesh instances")
    triangles: int
    height_m: float = Field(description="from the lowest to the highest vertex, metres at scale 1")
    footprint: ModelFootprint
    footprint_m2: float
    footprint_method: Literal["outline", "convex_hull"] = Field(
        description="outline: the union of the triangles seen from above; convex_hull: for many triangles or parts"
    )
    bbox: ModelBox
    extensions: list[str] = Field(description="the glTF extensions the model uses")


def _refuse(message: str, record: str | None = None, hint: str = _GLB_HINT) -> InputError:
    return InputError(message, record=record, hint=hint)


# ---- the container --------------------------------------------------------------------------------------------


def _chunks(data: bytes) -> list[tuple[int, bytes]]:
    """The (type, bytes) of each chunk after the 12-byte header, each checked to end inside the file."""
    chunks: list[tuple[int, bytes]] = []
    offset = 12
    while offset < len(data):
        if offset + 8 > len(data):
            raise _refuse(f"chunk {len(chunks)} has no complete header: the file is truncated", record="chunks")
        size, kind = struct.unpack_from("<II", data, offset)
        if offset + 8 + size > len(data):
            raise _refuse(
                f"chunk {len(chunks)} announces {size} bytes but only {len(data) - offset - 8} follow: truncated",
                record="chunks",
                hint="upload the file again, or export it again",
            )
        chunks.append((kind, data[offset + 8 : offset + 8 + size]))
        offset += 8 + size
    return chunks


def read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON document and the binary chunk (empty if there is none) of a GLB, after checking its container.

    Raises:
        InputError: not a GLB, not glTF 2.0, a chunk that runs past the end, or JSON that does not parse.
    """
    if len(data) > MAX_MODEL_BYTES:
        raise _refuse(
            f"the model has {len(data) / MIB:.1f} MB, more than {MAX_MODEL_BYTES // MIB} MB",
            hint="simplify the model or compress it with meshopt (gltfpack -cc)",
        )
    if len(data) < 20:
        raise _refuse(f"the file has only {len(data)} bytes: not a glTF binary (.glb)")
    magic, version, length = struct.unpack_from("<III", data, 0)
    if magic != GLB_MAGIC:
        if data.lstrip()[:1] == b"{":
            raise _refuse("this is a glTF JSON file (.gltf), not a glTF binary (.glb)")
        raise _refuse("not a glTF binary (.glb): the file does not start with 'glTF'", record="header")
    if version != 2:
        raise _refuse(f"glTF version {version}: only glTF 2.0 is read", record="header", hint="export as glTF 2.0")
    if length != len(data):
        raise _refuse(
            f"the header announces {length} bytes but the file has {len(data)}: it is truncated or has bytes appended",
            record="header",
            hint="upload the file again, or export it again",
        )
    chunks = _chunks(data)
    if not chunks or chunks[0][0] != CHUNK_JSON:
        raise _refuse("the first chunk is not the JSON chunk", record="chunks")
    try:
        doc = json.loads(chunks[0][1].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(f"the JSON chunk does not parse: {exc}", record="chunks/0") from None
    if not isinstance(doc, dict):
        raise _refuse("the JSON chunk is not an object", record="chunks/0")
    version_text = str(_obj(doc.get("asset"), "/asset").get("version", ""))
    if not version_text.startswith("2."):
        raise _refuse(f"asset.version is {version_text!r}, not 2.x", record="/asset/version", hint="export as glTF 2.0")
    binary = [chunk for kind, chunk in chunks[1:] if kind == CHUNK_BIN]
    if len(binary) > 1:
        raise _refuse("the file has more than one binary chunk", record="chunks")
    return doc, binary[0] if binary else b""


def _obj(value: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _refuse(f"{pointer} is missing or not an object", record=pointer)
    return value


def _items(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _refuse(f"/{key} is not a list of objects", record=f"/{key}")
    return value


def _index(value: Any, items: list[Any], pointer: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(items):
        raise _refuse(f"{pointer} = {value!r} names nothing ({len(items)} defined)", record=pointer)
    return value


def _count(value: Any, pointer: str, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _refuse(f"{pointer} = {value!r} is not a whole number of at least {low}", record=pointer)
    return value


def check_embedded(doc: dict[str, Any], binary: bytes) -> list[str]:
    """Check that the model needs nothing from outside the file and no extension the viewer cannot show offline.

    Returns:
        The extensions the model uses, sorted.

    Raises:
        InputError: an external or ``data:`` URI, a refused or unknown required extension.
    """
    used = doc.get("extensionsUsed", [])
    required = doc.get("extensionsRequired", [])
    if not isinstance(used, list) or not isinstance(required, list):
        raise _refuse("extensionsUsed and extensionsRequired must be lists", record="/extensionsUsed")
    names = sorted({str(e) for e in [*used, *required]})
    for name in names:
        if name in REFUSED_EXTENSIONS:
            hint = REFUSED_EXTENSIONS[name]
            raise _refuse(f"the model uses {name}, which cannot be shown here", "/extensionsUsed", hint)
    for name in required:
        if name not in SHOWN_EXTENSIONS:
            raise _refuse(
                f"the model requires the extension {name}, which the viewer does not support",
                record="/extensionsRequired",
                hint="export the model without it",
            )
    for i, buffer in enumerate(_items(doc, "buffers")):
        pointer = f"/buffers/{i}"
        if "uri" in buffer:
            where = "a data: URI" if str(buffer["uri"]).startswith("data:") else f"the file {str(buffer['uri'])[:80]!r}"
            raise _refuse(f"buffer {i} is {where}, not inside the .glb", record=f"{pointer}/uri")
        fallback = buffer.get("extensions", {}).get("EXT_meshopt_compression", {}).get("fallback", False)
        if i == 0 and not fallback:
            size = _count(buffer.get("byteLength"), f"{pointer}/byteLength", 1)
            if size > len(binary):
                raise _refuse(
                    f"buffer 0 announces {size} bytes but the binary chunk has {len(binary)}: truncated",
                    record=f"{pointer}/byteLength",
                    hint="upload the file again, or export it again",
                )
        elif not fallback:
            raise _refuse(f"buffer {i} has no URI and is not the binary chunk", record=pointer)
    for i, image in enumerate(_items(doc, "images")):
        if "uri" in image:
            raise _refuse(f"image {i} is not inside the .glb (it has a URI)", record=f"/images/{i}/uri")
    return names


# ---- accessors ------------------------------------------------------------------------------------------------


class _Views:
    """The bytes of each buffer view, decoding meshopt-compressed ones once."""

    def __init__(self, doc: dict[str, Any], binary: bytes) -> None:
        self.views = _items(doc, "bufferViews")
        self.binary = binary
        self._decoded: dict[int, bytes] = {}

    def _slice(self, spec: dict[str, Any], pointer: str) -> bytes:
        start = _count(spec.get("byteOffset", 0), f"{pointer}/byteOffset")
        size = _count(spec.get("byteLength"), f"{pointer}/byteLength", 1)
        if spec.get("buffer", 0) != 0 or start + size > len(self.binary):
            raise _refuse(
                f"{pointer} reaches past the binary chunk ({start} + {size} > {len(self.binary)} bytes)",
                record=pointer,
                hint="upload the file again, or export it again",
            )
        return self.binary[start : start + size]

    def data(self, index: int) -> tuple[bytes, int | None]:
        """A view's bytes and its byte stride (None: packed)."""
        pointer = f"/bufferViews/{index}"
        view = self.views[index]
        stride = view.get("byteStride")
        compressed = view.get("extensions", {}).get("EXT_meshopt_compression")
        if compressed is None:
            return self._slice(view, pointer), stride
        if index not in self._decoded:
            where = f"{pointer}/extensions/EXT_meshopt_compression"
            count = _count(compressed.get("count"), f"{where}/count", 1)
            size = _count(compressed.get("byteStride"), f"{where}/byteStride", 1)
            mode, filt = compressed.get("mode"), compressed.get("filter", "NONE")
            if mode not in _MESHOPT_MODES or filt not in _MESHOPT_FILTERS:
                raise _refuse(f"{where}: unknown mode {mode!r} or filter {filt!r}", record=where)
            try:
                decoded = meshopt.decode_gltf_buffer(self._slice(compressed, where), count, size, mode, filt)
            except (ValueError, RuntimeError) as exc:
                raise _refuse(f"{where} does not decode: {exc}", record=where) from None
            self._decoded[index] = np.ascontiguousarray(decoded).tobytes()
        return self._decoded[index], stride


def read_accessor(doc: dict[str, Any], views: _Views, index: int, pointer: str) -> np.ndarray:
    """An accessor's values as float64 rows (normalized integers scaled to 0..1 or -1..1), within its view's bounds.

    Raises:
        InputError: a sparse accessor or one without a buffer view, an unknown type, or data past the view's end.
    """
    accessors = _items(doc, "accessors")
    acc = accessors[_index(index, accessors, pointer)]
    where = f"/accessors/{index}"
    if "sparse" in acc or "bufferView" not in acc:
        raise _refuse(f"{where} is sparse or has no buffer view: not supported for geometry", record=where)
    dtype = _DTYPES.get(acc.get("componentType"))
    width = _WIDTH.get(acc.get("type"))
    if dtype is None or width is None:
        raise _refuse(f"{where} has an unknown componentType or type", record=where)
    count = _count(acc.get("count"), f"{where}/count", 1)
    data, stride = views.data(_index(acc["bufferView"], views.views, f"{where}/bufferView"))
    element = dtype.itemsize * width
    stride = stride or element
    start = _count(acc.get("byteOffset", 0), f"{where}/byteOffset")
    if stride < element or start + (count - 1) * stride + element > len(data):
        raise _refuse(
            f"{where} reaches past the end of its buffer view ({count} x {stride} bytes from {start})",
            record=where,
            hint="the file is damaged: export it again",
        )
    rows = np.ndarray((count, width), dtype=dtype, buffer=data, offset=start, strides=(stride, dtype.itemsize))
    values = rows.astype(np.float64)
    if acc.get("normalized") and acc["componentType"] in _NORMALIZED:
        values = np.maximum(values / _NORMALIZED[acc["componentType"]], -1.0)
    return values


# ---- the scene ------------------------------------------------------------------------------------------------


def _local_matrix(node: dict[str, Any], pointer: str) -> np.ndarray:
    """A node's transform: its column-major ``matrix``, or translation x rotation (quaternion) x scale."""
    try:
        if "matrix" in node:
            matrix = np.asarray(node["matrix"], dtype=np.float64).reshape(4, 4).T
        else:
            t = np.asarray(node.get("translation", (0, 0, 0)), dtype=np.float64).reshape(3)
            x, y, z, w = np.asarray(node.get("rotation", (0, 0, 0, 1)), dtype=np.float64).reshape(4)
            s = np.asarray(node.get("scale", (1, 1, 1)), dtype=np.float64).reshape(3)
            rotation = np.array(
                [
                    [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                    [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                    [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
                ]
            )
            matrix = np.eye(4)
            matrix[:3, :3] = rotation * s
            matrix[:3, 3] = t
    except (TypeError, ValueError):
        raise _refuse(f"{pointer} has a malformed matrix, translation, rotation or scale", record=pointer) from None
    if not np.isfinite(matrix).all():
        raise _refuse(f"{pointer} has a transform that is not finite", record=pointer)
    return matrix


def mesh_instances(doc: dict[str, Any]) -> list[tuple[int, np.ndarray]]:
    """Every (mesh index, world matrix) of the default scene (or of every root node, without scenes).

    Raises:
        InputError: a node in the tree twice (a cycle), a tree deeper than :data:`MAX_DEPTH`, too many nodes.
    """
    nodes = _items(doc, "nodes")
    if len(nodes) > MAX_NODES:
        raise _refuse(f"the model has {len(nodes):,} nodes, more than {MAX_NODES:,}", record="/nodes")
    scenes = _items(doc, "scenes")
    if scenes:
        scene = _index(doc.get("scene", 0), scenes, "/scene")
        roots = scenes[scene].get("nodes", [])
        if not isinstance(roots, list):
            raise _refuse(f"/scenes/{scene}/nodes is not a list", record=f"/scenes/{scene}/nodes")
    else:
        children = {c for n in nodes for c in n.get("children", []) if isinstance(c, int)}
        roots = [i for i in range(len(nodes)) if i not in children]
    meshes = _items(doc, "meshes")
    seen: set[int] = set()
    found: list[tuple[int, np.ndarray]] = []
    stack = [(_index(r, nodes, "/scenes/nodes"), np.eye(4), 0) for r in roots]
    while stack:
        i, parent, depth = stack.pop()
        pointer = f"/nodes/{i}"
        if i in seen:
            raise _refuse(f"node {i} appears twice in the node tree (a cycle, or two parents)", record=pointer)
        if depth > MAX_DEPTH:
            raise _refuse(f"the node tree is deeper than {MAX_DEPTH}", record=pointer)
        seen.add(i)
        node = nodes[i]
        if "EXT_mesh_gpu_instancing" in node.get("extensions", {}):
            raise _refuse("the model uses GPU instancing", pointer, REFUSED_EXTENSIONS["EXT_mesh_gpu_instancing"])
        world = parent @ _local_matrix(node, pointer)
        if "mesh" in node:
            found.append((_index(node["mesh"], meshes, f"{pointer}/mesh"), world))
        children = node.get("children", [])
        if not isinstance(children, list):
            raise _refuse(f"{pointer}/children is not a list", record=f"{pointer}/children")
        stack.extend((_index(c, nodes, f"{pointer}/children"), world, depth + 1) for c in children)
    return found


def _triangles(mode: int, indices: np.ndarray) -> np.ndarray:
    """Vertex indices (n, 3) of a triangle list, strip or fan."""
    if mode == 4:
        return indices[: len(indices) // 3 * 3].reshape(-1, 3)
    if len(indices) < 3:
        return np.empty((0, 3), dtype=np.int64)
    steps = np.arange(len(indices) - 2)
    if mode == 5:  # strip: (i, i+1, i+2); the winding does not matter for the footprint
        return np.column_stack([indices[steps], indices[steps + 1], indices[steps + 2]])
    return np.column_stack([np.full(len(steps), indices[0]), indices[steps + 1], indices[steps + 2]])  # fan


def model_geometry(doc: dict[str, Any], binary: bytes) -> tuple[np.ndarray, np.ndarray]:
    """All vertices in metres east, north, up of the model's origin (n, 3), and the triangles (m, 3, 3).

    Raises:
        InputError: no triangle mesh, positions that are not 3D, indices past the vertices, too many vertices.
    """
    views = _Views(doc, binary)
    meshes = _items(doc, "meshes")
    cache: dict[int, np.ndarray] = {}
    points: list[np.ndarray] = []
    triangles: list[np.ndarray] = []
    total = 0
    for mesh, world in mesh_instances(doc):
        primitives = meshes[mesh].get("primitives", [])
        for p, primitive in enumerate(primitives if isinstance(primitives, list) else []):
            pointer = f"/meshes/{mesh}/primitives/{p}"
            position = _obj(primitive, pointer).get("attributes", {}).get("POSITION")
            if position is None:
                continue
            if position not in cache:
                cache[position] = read_accessor(doc, views, position, f"{pointer}/attributes/POSITION")
            local = cache[position]
            if local.shape[1] != 3:
                raise _refuse(f"{pointer}: POSITION is not 3D (VEC3)", record=f"{pointer}/attributes/POSITION")
            total += len(local)
            if total > MAX_VERTICES:
                raise _refuse(
                    f"the model has more than {MAX_VERTICES:,} vertices",
                    record="/meshes",
                    hint="simplify the model (e.g. gltfpack -si 0.5) or remove what is hidden inside",
                )
            xyz = local @ world[:3, :3].T + world[:3, 3]
            enu = np.column_stack([xyz[:, 0], -xyz[:, 2], xyz[:, 1]])  # glTF y-up: x east, -z north, y up
            points.append(enu)
            mode = primitive.get("mode", 4)
            if mode not in _TRIANGLE_MODES:
                continue  # points and lines stand in the box, not in the footprint
            if "indices" in primitive:
                indices = read_accessor(doc, views, primitive["indices"], f"{pointer}/indices")[:, 0].astype(np.int64)
                if len(indices) and (indices.max() >= len(enu) or indices.min() < 0):
                    raise _refuse(f"{pointer}/indices names vertices past the {len(enu)} there are", record=pointer)
            else:
                indices = np.arange(len(enu))
            triangles.append(enu[_triangles(mode, indices)])
    if not triangles or not sum(len(t) for t in triangles):
        raise _refuse(
            "the model has no triangle mesh with positions",
            record="/meshes",
            hint="export the building's surfaces as a triangle mesh",
        )
    return np.concatenate(points), np.concatenate(triangles)


def footprint_of(
    points: np.ndarray, triangles: np.ndarray
) -> tuple[shapely.Polygon, Literal["outline", "convex_hull"]]:
    """The model seen from above: the union of its triangles' ground projections, or the convex hull of its
    vertices for very many triangles or a model in several parts (see the module docstring).

    Raises:
        InputError: the model covers no ground at all (every surface vertical and in one line).
    """
    flat = triangles[:, :, :2]
    a, b, c = flat[:, 0], flat[:, 1], flat[:, 2]
    area = np.abs((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b[:, 1] - a[:, 1])) / 2
    seen = flat[area > 1e-6]  # walls stand on a line seen from above: they add nothing
    shape: shapely.Geometry | None = None
    method: Literal["outline", "convex_hull"] = "convex_hull"
    if 0 < len(seen) <= OUTLINE_TRIANGLES:
        rings = np.concatenate([seen, seen[:, :1]], axis=1)
        shape = shapely.union_all(shapely.polygons(rings), grid_size=GRID_M)
        method = "outline"
    if shape is None or not isinstance(shape, shapely.Polygon):
        shape = shapely.convex_hull(shapely.multipoints(points[:, :2]))
        method = "convex_hull"
    if not isinstance(shape, shapely.Polygon) or shape.area <= 0:
        raise _refuse("the model covers no ground seen from above", record="/meshes", hint="check the model's axes")
    holes = [ring for ring in shape.interiors if shapely.Polygon(ring).area >= MIN_HOLE_M2]
    shape = shapely.Polygon(shape.exterior, holes).simplify(GRID_M * 10, preserve_topology=True)
    return shapely.orient_polygons(shape), method


def _xyz(values: np.ndarray) -> tuple[float, float, float]:
    return round(float(values[0]), 3), round(float(values[1]), 3), round(float(values[2]), 3)


def measure_model(data: bytes, name: str = DEFAULT_NAME) -> ModelMeta:
    """Validate a GLB and measure it: what :func:`store_model` keeps beside it.

    Raises:
        InputError: any problem of the file (the message names it, ``record`` the place, ``hint`` the fix).
    """
    doc, binary = read_glb(data)
    extensions = check_embedded(doc, binary)
    points, triangles = model_geometry(doc, binary)
    footprint, method = footprint_of(points, triangles)
    low, high = points.min(axis=0), points.max(axis=0)
    return ModelMeta(
        model_id=hashlib.sha256(data).hexdigest(),
        name=(clean_line(name) or DEFAULT_NAME)[:200],
        bytes=len(data),
        vertices=len(points),
        triangles=len(triangles),
        height_m=round(float(high[2] - low[2]), 3),
        footprint=ModelFootprint(coordinates=shapely.geometry.mapping(footprint)["coordinates"]),
        footprint_m2=round(float(footprint.area), 2),
        footprint_method=method,
        bbox=ModelBox(min=_xyz(low), max=_xyz(high)),
        extensions=extensions,
    )


# ---- the store ------------------------------------------------------------------------------------------------


def models_dir(paths: PathSettings, twin: str) -> Path:
    """Where a twin's models are: ``<store_dir>/models/<twin>/``."""
    return paths.store_dir / "models" / twin


def model_file(folder: Path, model_id: str) -> Path:
    """The ``.glb`` of a model id (the id is checked: no other file can be named)."""
    if not MODEL_ID.match(model_id):
        raise InputError(f"{model_id!r} is not a model id", record="model_id", hint="a model id has 64 hex digits")
    return folder / f"{model_id}.glb"


def find_model(folder: Path, model_id: str) -> ModelMeta | None:
    """The metadata of a stored model, or None. The JSON is written last: a model without it is not complete."""
    meta = model_file(folder, model_id).with_suffix(".json")
    try:
        return ModelMeta.model_validate_json(meta.read_bytes())
    except FileNotFoundError:
        return None


def store_model(folder: Path, data: bytes, name: str = DEFAULT_NAME) -> tuple[ModelMeta, bool]:
    """Validate, measure and keep a model once per content.

    Returns:
        The metadata, and whether the model is new (False: the same bytes were stored before; nothing changes).

    Raises:
        InputError: as :func:`measure_model`; nothing is written.
    """
    meta = measure_model(data, name)
    existing = find_model(folder, meta.model_id)
    if existing is not None:
        return existing, False
    folder.mkdir(parents=True, exist_ok=True)
    target = model_file(folder, meta.model_id)
    fd, tmp = tempfile.mkstemp(prefix=f".{meta.model_id[:12]}-", suffix=".glb", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        Path(tmp).replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            Path(tmp).unlink()
        raise
    write_atomic(target.with_suffix(".json"), meta.model_dump(mode="json"))
    return meta, True
