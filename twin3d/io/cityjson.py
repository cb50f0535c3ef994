"""CityJSON 1.0, 1.1 and 2.0, and CityJSON Text Sequences (``.city.jsonl``), as :class:`Buildings3D`.

Each top-level ``Building`` becomes one building with its ``BuildingPart``/``BuildingInstallation`` children
merged in; its best geometry (highest LoD; ``lod`` may be a string or a number) gives boundary surfaces with
their semantic type. A ``transform`` is applied; x, y are reprojected, z stays in the file's height system.
A sequence file is read one feature at a time, so memory follows the chunk size, not the file size.
Textures and materials (``appearance``) are not read: the surfaces that had one are counted in the ``skipped`` log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pyproj import CRS

from twin3d.errors import CRSError, InputError
from twin3d.io.crs import parse_crs, transform_points
from twin3d.io.surfaces import (
    ATTRIBUTE_SCHEMA,
    SURFACE_KIND_BY_NAME,
    Buildings3D,
    SkipLog,
    SurfaceKind,
    concat,
    empty_buildings,
)

_BUILDING_TYPES = {"Building"}
_PART_TYPES = {"BuildingPart", "BuildingInstallation"}
_SURFACE_DEPTH = {"MultiSurface": 0, "CompositeSurface": 0, "Solid": 1, "MultiSolid": 2, "CompositeSolid": 2}


def _lod_value(geometry: dict[str, Any]) -> float:
    try:
        return float(geometry.get("lod", 0))
    except (TypeError, ValueError):
        return 0.0


def _surfaces(geometry: dict[str, Any]) -> Iterator[tuple[list[list[int]], int]]:
    """(rings as vertex indices, SurfaceKind) for every surface of a geometry."""
    depth = _SURFACE_DEPTH.get(str(geometry.get("type")))
    if depth is None:
        return
    semantics = geometry.get("semantics") or {}
    kinds = [SURFACE_KIND_BY_NAME.get(s.get("type"), SurfaceKind.SOLID) for s in semantics.get("surfaces", [])]
    stack: list[tuple[Any, Any, int]] = [(geometry.get("boundaries", []), semantics.get("values"), depth)]
    while stack:
        node, values, level = stack.pop()
        if level == 0:
            for i, surface in enumerate(node):
                sem = values[i] if isinstance(values, list) and i < len(values) else None
                yield surface, kinds[sem] if isinstance(sem, int) and sem < len(kinds) else SurfaceKind.SOLID
            continue
        for i, child in enumerate(node):
            stack.append((child, values[i] if isinstance(values, list) and i < len(values) else None, level - 1))


def _value_at(values: Any, path: tuple[int, ...]) -> Any:
    for index in path:
        if not isinstance(values, list) or index >= len(values):
            return None
        values = values[index]
    return values


def _surface_paths(boundaries: Any, depth: int) -> Iterator[tuple[int, ...]]:
    """Index paths of the surfaces of a geometry's boundaries (``depth`` levels above the surfaces)."""
    if not isinstance(boundaries, list):
        return
    if depth == 0:
        yield from ((i,) for i in range(len(boundaries)))
        return
    for i, child in enumerate(boundaries):
        yield from ((i, *path) for path in _surface_paths(child, depth - 1))


def _textured_surfaces(geometry: dict[str, Any]) -> int:
    """How many surfaces of a geometry have a texture or a material in any theme (twin3d draws them untextured).

    A surface's texture values hold one list per ring, ``[texture index, uv indices...]`` or ``[null]``; its material
    value is an index or null, or one ``value`` stands for every surface of the geometry.
    """
    textures = geometry.get("texture") or {}
    materials = geometry.get("material") or {}
    depth = _SURFACE_DEPTH.get(str(geometry.get("type")))
    if depth is None or not (textures or materials):
        return 0
    themes = [t for t in (*textures.values(), *materials.values()) if isinstance(t, dict)]
    if any(isinstance(t.get("value"), int) for t in materials.values() if isinstance(t, dict)):
        return sum(1 for _ in _surface_paths(geometry.get("boundaries"), depth))

    def textured(path: tuple[int, ...]) -> bool:
        for theme in themes:
            value = _value_at(theme.get("values"), path)
            if isinstance(value, int) or (
                isinstance(value, list) and any(isinstance(r, list) and r and isinstance(r[0], int) for r in value)
            ):
                return True
        return False

    return sum(textured(path) for path in _surface_paths(geometry.get("boundaries"), depth))


@dataclass
class _Collector:
    """Accumulates buildings as flat arrays; vertex indices point into the document's vertex list."""

    vertex_index: list[np.ndarray] = field(default_factory=list)
    ring_sizes: list[int] = field(default_factory=list)
    polygon_rings: list[int] = field(default_factory=list)
    polygon_kind: list[int] = field(default_factory=list)
    building_polygons: list[int] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, obj_id: str, obj: dict[str, Any], members: list[dict[str, Any]], path: Path) -> None:
        n_polygons = 0
        best_lod = 0.0
        for member in members:
            geoms = [g for g in member.get("geometry", []) if g.get("type") != "GeometryInstance"]
            if not geoms:
                continue
            geom = max(geoms, key=_lod_value)
            best_lod = max(best_lod, _lod_value(geom))
            for rings, kind in _surfaces(geom):
                usable = [r for r in rings if len(r) >= 3]
                if not usable or len(rings[0]) < 3:
                    raise InputError(
                        "a surface has a ring with fewer than 3 vertices",
                        file=path,
                        record=obj_id,
                        hint="repair the object, or build with --skip-invalid to leave it out",
                    )
                for ring in usable:
                    self.vertex_index.append(np.asarray(ring, dtype=np.int64))
                    self.ring_sizes.append(len(ring))
                self.polygon_rings.append(len(usable))
                self.polygon_kind.append(int(kind))
                n_polygons += 1
        attrs = obj.get("attributes") or {}
        height = attrs.get("measuredHeight")
        storeys = attrs.get("storeysAboveGround")
        self.building_polygons.append(n_polygons)
        self.rows.append(
            {
                "id": obj_id,
                "function": str(attrs.get("function", obj.get("type"))),
                "name": attrs.get("name") if isinstance(attrs.get("name"), str) else None,
                "measured_height": float(height) if isinstance(height, int | float) else None,
                "roof_type": str(attrs["roofType"]) if "roofType" in attrs else None,
                "storeys": float(storeys) if isinstance(storeys, int | float) else None,
                "lod": best_lod,
            }
        )

    def build(self, path: Path, source_crs: CRS, xyz: np.ndarray) -> Buildings3D:
        index = np.concatenate(self.vertex_index) if self.vertex_index else np.zeros(0, dtype=np.int64)
        if len(index) and (index.min() < 0 or index.max() >= len(xyz)):
            raise InputError(
                f"a surface refers to vertex {int(index.max())}, but the file has {len(xyz)} vertices",
                file=path,
                hint="the vertex list is incomplete: export the file again",
            )

        def offsets(sizes: list[int]) -> np.ndarray:
            return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)

        return Buildings3D(
            path=path,
            source_crs=source_crs,
            vertices=xyz[index],
            ring_offsets=offsets(self.ring_sizes),
            polygon_rings=offsets(self.polygon_rings),
            polygon_kind=np.asarray(self.polygon_kind, dtype=np.uint8),
            building_polygons=offsets(self.building_polygons),
            attributes=pa.Table.from_pylist(self.rows, schema=ATTRIBUTE_SCHEMA),
        )


def _reference_system(doc: dict[str, Any], path: Path, declared: str | None) -> CRS:
    if declared is not None:
        return parse_crs(declared, file=path)
    ref = (doc.get("metadata") or {}).get("referenceSystem")
    if not ref:
        raise CRSError(
            "the CityJSON file has no metadata.referenceSystem",
            file=path,
            hint='declare it with crs = "EPSG:...." for this source in the pipeline definition',
        )
    return parse_crs(str(ref), file=path)


def _vertices(doc: dict[str, Any], transform: dict[str, Any] | None, path: Path) -> np.ndarray:
    try:
        raw = np.asarray(doc.get("vertices", []), dtype=np.float64).reshape(-1, 3)
    except ValueError as exc:
        raise InputError("vertices are not a list of [x, y, z]", file=path) from exc
    if transform:
        raw = raw * np.asarray(transform["scale"]) + np.asarray(transform["translate"])
    return raw


def _collect_document(
    doc: dict[str, Any], collector: _Collector, path: Path, skip_invalid: bool, skipped: SkipLog | None
) -> None:
    objects: dict[str, dict[str, Any]] = doc.get("CityObjects", {})
    if skipped is not None:
        textured = sum(_textured_surfaces(g) for obj in objects.values() for g in obj.get("geometry", []))
        skipped.add_textured(path, textured)
    for obj_id, obj in objects.items():
        if obj.get("type") not in _BUILDING_TYPES or obj.get("parents"):
            continue
        children = [objects[c] for c in obj.get("children", []) if objects.get(c, {}).get("type") in _PART_TYPES]
        mark = (len(collector.vertex_index), len(collector.polygon_rings), len(collector.building_polygons))
        try:
            collector.add(obj_id, obj, [obj, *children], path)
        except InputError as exc:
            if not skip_invalid:
                raise
            # Undo what the broken building added, then go on with the next one.
            del collector.vertex_index[mark[0] :], collector.ring_sizes[mark[0] :]
            del collector.polygon_rings[mark[1] :], collector.polygon_kind[mark[1] :]
            del collector.building_polygons[mark[2] :], collector.rows[mark[2] :]
            if skipped is not None:
                skipped.add(path, obj_id, exc.message)


def _load(path: Path) -> bytes:
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path in the pipeline definition")
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("file is empty (0 bytes)", file=path, hint="export the city model again")
    return raw


def _parse(text: bytes | str, path: Path, where: str = "") -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON{where}: {exc}", file=path, hint="the file may be truncated") from exc
    if not isinstance(doc, dict):
        raise InputError(f"not a CityJSON object{where}", file=path)
    return doc


def read_cityjson(
    path: Path,
    target_crs: CRS,
    *,
    declared_crs: str | None = None,
    skip_invalid: bool = False,
    skipped: SkipLog | None = None,
) -> Buildings3D:
    """Read the buildings of a CityJSON file, or of a CityJSON Text Sequence (``.jsonl``), into flat arrays.

    Raises:
        InputError: missing, empty, truncated or not CityJSON; a surface with fewer than 3 vertices or a vertex
            index beyond the vertex list (naming the building unless ``skip_invalid``).
        CRSError: no or an unknown reference system and none declared.
    """
    chunks = list(
        iter_cityjson(path, target_crs, declared_crs=declared_crs, skip_invalid=skip_invalid, skipped=skipped)
    )
    return concat(chunks) if chunks else empty_buildings(path, parse_crs(declared_crs or "EPSG:4326"))


def iter_cityjson(
    path: Path,
    target_crs: CRS,
    *,
    declared_crs: str | None = None,
    chunk_size: int = 5000,
    skip_invalid: bool = False,
    skipped: SkipLog | None = None,
) -> Iterator[Buildings3D]:
    """Yield the buildings of a CityJSON document or sequence in chunks of about ``chunk_size`` buildings."""
    raw = _load(path)
    first_line, _, rest = raw.partition(b"\n")
    header = _parse(first_line if path.suffix == ".jsonl" else raw, path)
    if header.get("type") != "CityJSON":
        raise InputError("not a CityJSON document (type != 'CityJSON')", file=path)
    source_crs = _reference_system(header, path, declared_crs)
    transform = header.get("transform")
    if path.suffix != ".jsonl":
        collector = _Collector()
        _collect_document(header, collector, path, skip_invalid, skipped)
        yield _reproject(collector.build(path, source_crs, _vertices(header, transform, path)), target_crs)
        return
    # A sequence: the header carries the transform, each line is a CityJSONFeature with its own vertices.
    parts: list[Buildings3D] = []
    count = 0
    for n, line in enumerate(rest.splitlines(), start=2):
        if not line.strip():
            continue
        feature = _parse(line, path, f" at line {n}")
        collector = _Collector()
        _collect_document(feature, collector, path, skip_invalid, skipped)
        parts.append(collector.build(path, source_crs, _vertices(feature, transform, path)))
        count += len(parts[-1])
        if count >= chunk_size:
            yield _reproject(concat(parts), target_crs)
            parts, count = [], 0
    if parts:
        yield _reproject(concat(parts), target_crs)


def _reproject(chunk: Buildings3D, target_crs: CRS) -> Buildings3D:
    x, y = transform_points(chunk.vertices[:, 0], chunk.vertices[:, 1], chunk.source_crs, target_crs)
    vertices = np.column_stack([x, y, chunk.vertices[:, 2]]) if len(chunk.vertices) else chunk.vertices
    return Buildings3D(
        chunk.path,
        chunk.source_crs,
        vertices,
        chunk.ring_offsets,
        chunk.polygon_rings,
        chunk.polygon_kind,
        chunk.building_polygons,
        chunk.attributes,
    )
