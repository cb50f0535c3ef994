"""CityJSON 1.0, 1.1 and 2.0 buildings: footprints and measured heights from LoD1/LoD2 geometry.

Each top-level ``Building`` becomes one record with its ``BuildingPart`` children merged in. The footprint is
the union of the ground surfaces where the file labels them, else of all surfaces seen from above. Heights
stay in the file's height system (the tiler adds the geoid undulation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from twin3d.errors import CRSError, InputError
from twin3d.io.crs import parse_crs, transform_points
from twin3d.io.vector import FeatureTable

_BUILDING_TYPES = {"Building"}
_PART_TYPES = {"BuildingPart", "BuildingInstallation"}


@dataclass(frozen=True)
class _Surface:
    rings: list[list[int]]
    semantic: str | None


def _lod_value(geometry: dict[str, Any]) -> float:
    try:
        return float(geometry.get("lod", 0))
    except (TypeError, ValueError):
        return 0.0


def _surfaces(geometry: dict[str, Any], semantic_surfaces: list[dict[str, Any]]) -> list[_Surface]:
    """Flatten a geometry's boundaries into surfaces with their semantic type."""
    gtype = geometry.get("type")
    boundaries = geometry.get("boundaries", [])
    values = (geometry.get("semantics") or {}).get("values")
    depth = {"MultiSurface": 0, "CompositeSurface": 0, "Solid": 1, "MultiSolid": 2, "CompositeSolid": 2}.get(str(gtype))
    if depth is None:
        return []
    surfaces: list[_Surface] = []

    def walk(node: Any, vals: Any, level: int) -> None:
        if level == 0:
            for i, surface in enumerate(node):
                sem_index = vals[i] if isinstance(vals, list) and i < len(vals) else None
                sem = semantic_surfaces[sem_index]["type"] if isinstance(sem_index, int) else None
                surfaces.append(_Surface([list(r) for r in surface], sem))
            return
        for i, child in enumerate(node):
            walk(child, vals[i] if isinstance(vals, list) and i < len(vals) else None, level - 1)

    walk(boundaries, values, depth)
    return surfaces


def _best_geometry(obj: dict[str, Any]) -> dict[str, Any] | None:
    geoms = [g for g in obj.get("geometry", []) if g.get("type") != "GeometryInstance"]
    return max(geoms, key=_lod_value) if geoms else None


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


def _load_document(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path in the pipeline definition")
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError("file is empty (0 bytes)", file=path, hint="export the city model again")
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid JSON: {exc}", file=path, hint="the file may be truncated") from exc
    if not isinstance(doc, dict) or doc.get("type") != "CityJSON":
        raise InputError("not a CityJSON document (type != 'CityJSON')", file=path)
    return doc


@dataclass
class _Building:
    """One top-level building with its parts merged: footprint pieces, used vertices, best LoD."""

    ground: list[shapely.Geometry]
    others: list[shapely.Geometry]
    used: list[int]
    lod: float = 0.0

    def footprint(self) -> shapely.Geometry | None:
        parts = self.ground or self.others
        return shapely.union_all(parts, grid_size=0.001) if parts else None


def _collect(members: list[dict[str, Any]], xy: np.ndarray) -> _Building:
    building = _Building([], [], [])
    for member in members:
        geom = _best_geometry(member)
        if geom is None:
            continue
        building.lod = max(building.lod, _lod_value(geom))
        semantics = (geom.get("semantics") or {}).get("surfaces", [])
        for surface in _surfaces(geom, semantics):
            rings = [xy[r] for r in surface.rings if len(r) >= 3]
            building.used.extend(v for r in surface.rings for v in r)
            if not rings:
                continue
            poly = shapely.make_valid(shapely.Polygon(rings[0], rings[1:]))
            if shapely.area(poly) <= 1e-6:
                continue  # walls seen from above
            (building.ground if surface.semantic == "GroundSurface" else building.others).append(poly)
    return building


def read_cityjson_buildings(path: Path, target_crs: CRS, *, declared_crs: str | None = None) -> FeatureTable:
    """Read the buildings of a CityJSON file as footprints with measured heights.

    Returns:
        A :class:`FeatureTable` whose attributes are ``id``, ``type`` (the ``function`` attribute or the
        CityObject type), ``name``, ``min_z``, ``max_z`` and ``lod``; records without usable geometry carry a
        ``None`` geometry so that the pipeline reports them.

    Raises:
        InputError: the file is missing, empty, not JSON, or not CityJSON.
        CRSError: the CRS is missing or unknown.
    """
    doc = _load_document(path)
    source_crs = _reference_system(doc, path, declared_crs)
    vertices = np.asarray(doc.get("vertices", []), dtype=np.float64).reshape(-1, 3)
    transform = doc.get("transform")
    if transform:
        vertices = vertices * np.asarray(transform["scale"]) + np.asarray(transform["translate"])
    x, y = transform_points(vertices[:, 0], vertices[:, 1], source_crs, target_crs)
    xy = np.column_stack([x, y])
    z = vertices[:, 2]

    objects: dict[str, dict[str, Any]] = doc.get("CityObjects", {})
    ids, types, names, min_z, max_z, lods, footprints = [], [], [], [], [], [], []
    for obj_id, obj in objects.items():
        if obj.get("type") not in _BUILDING_TYPES or obj.get("parents"):
            continue
        children = [objects[c] for c in obj.get("children", []) if objects.get(c, {}).get("type") in _PART_TYPES]
        building = _collect([obj, *children], xy)
        attrs = obj.get("attributes") or {}
        ids.append(obj_id)
        types.append(str(attrs.get("function", obj.get("type"))))
        names.append(attrs.get("name") if isinstance(attrs.get("name"), str) else None)
        lods.append(building.lod)
        zs = z[np.asarray(building.used, dtype=np.int64)]
        min_z.append(float(zs.min()) if len(zs) else None)
        max_z.append(float(zs.max()) if len(zs) else None)
        footprints.append(building.footprint())
    attributes = pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "type": pa.array(types, pa.string()),
            "name": pa.array(names, pa.string()),
            "min_z": pa.array(min_z, pa.float64()),
            "max_z": pa.array(max_z, pa.float64()),
            "lod": pa.array(lods, pa.float64()),
        }
    )
    return FeatureTable(path, source_crs, np.array(footprints, dtype=object), attributes)
