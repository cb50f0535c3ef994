"""Cut buildings into a quadtree of tiles and write a 3D Tiles 1.1 tileset (explicit ``tileset.json``).

Each leaf of the quadtree holds at most ``max_features`` buildings and ``max_vertices`` vertices and becomes
one ``.glb``. Leaves carry their own ``transform`` (a translation in the twin's ENU frame) so that their float32
positions stay small; the root carries the ENU-to-ECEF transform of the twin origin.

A tile is a pure function of its buildings (:func:`build_tile`), so tiles can be built in parallel or by a
distributed executor; :func:`write_tileset` is the small driver.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS

from twin3d import __version__
from twin3d.tiling.geodesy import LocalFrame
from twin3d.tiling.gltf import Property, encode_glb
from twin3d.tiling.mesh import estimate_vertices, extrude
from twin3d.tiling.model import Tile, Tileset, box_volume

CONTENT_DIR = "content"


@dataclass(frozen=True)
class BuildingSet:
    """Buildings ready to tile.

    Attributes:
        ids: building ids (str), unique.
        footprints: shapely polygons in ``crs``.
        base: ellipsoidal height of the ground under each building, metres.
        height: building height above its ground, metres.
        properties: extra per-building columns for the property table, name -> (kind, values).
        crs: the twin's projected CRS.
    """

    ids: np.ndarray
    footprints: np.ndarray
    base: np.ndarray
    height: np.ndarray
    properties: dict[str, tuple[str, np.ndarray]]
    crs: CRS

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class TileContent:
    """One built tile: its file bytes and where it sits."""

    key: str
    glb: bytes
    origin: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    members: np.ndarray


@dataclass(frozen=True)
class TilesetSummary:
    """What :func:`write_tileset` produced."""

    tiles: int
    buildings: int
    bytes: int
    content_of_building: np.ndarray


def partition(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray, max_features: int, max_weight: int
) -> list[tuple[str, np.ndarray]]:
    """Split points into quadtree leaves with at most ``max_features`` points and ``max_weight`` weight.

    Returns:
        (key, indices) per non-empty leaf, keys like ``"0_3_1"`` (quadrant path), in a stable order.
    """
    leaves: list[tuple[str, np.ndarray]] = []
    if len(x) == 0:
        return leaves
    size = max(float(np.ptp(x)), float(np.ptp(y)), 1.0)
    stack: list[tuple[str, np.ndarray, float, float, float]] = [
        ("r", np.arange(len(x)), float(x.min()), float(y.min()), size)
    ]
    while stack:
        key, idx, x0, y0, s = stack.pop()
        if (len(idx) <= max_features and weight[idx].sum() <= max_weight) or len(idx) == 1 or s < 1.0:
            leaves.append((key, idx))
            continue
        half = s / 2.0
        east = x[idx] >= x0 + half
        north = y[idx] >= y0 + half
        for q, mask in enumerate([~east & ~north, east & ~north, ~east & north, east & north]):
            if mask.any():
                stack.append((f"{key}_{q}", idx[mask], x0 + half * (q % 2), y0 + half * (q // 2), half))
    leaves.sort(key=lambda leaf: leaf[0])
    return leaves


def build_tile(key: str, buildings: BuildingSet, members: np.ndarray, frame: LocalFrame) -> TileContent:
    """Mesh and encode the buildings ``members`` as one tile."""
    mesh = extrude(
        buildings.footprints[members],
        buildings.base[members],
        buildings.base[members] + buildings.height[members],
        buildings.crs,
        frame,
    )
    lo = mesh.positions.min(axis=0)
    hi = mesh.positions.max(axis=0)
    origin = np.round((lo + hi) / 2.0, 3)
    props = [
        Property("id", "STRING", buildings.ids[members], "building id in the twin store"),
        Property("height", "FLOAT32", buildings.height[members], "height above ground, metres"),
    ]
    for name, (kind, values) in buildings.properties.items():
        props.append(Property(name, "STRING" if kind == "STRING" else "FLOAT32", values[members]))
    glb = encode_glb(mesh, origin, props, len(members))
    return TileContent(key, glb, origin, lo, hi, members)


def _leaf(tile: TileContent) -> Tile:
    # Float32 rounding of positions relative to the origin can move a vertex by ~1e-4 m; pad the box by 1 cm.
    pad = 0.01
    lo = [float(v) - pad for v in tile.lo - tile.origin]
    hi = [float(v) + pad for v in tile.hi - tile.origin]
    translate = [float(v) for v in tile.origin]
    return {
        "boundingVolume": box_volume(lo, hi),
        "geometricError": 0.0,
        "transform": [1.0, 0, 0, 0, 0, 1.0, 0, 0, 0, 0, 1.0, 0, *translate, 1.0],
        "content": {"uri": f"{CONTENT_DIR}/{tile.key}.glb"},
    }


def write_tileset(
    buildings: BuildingSet,
    frame: LocalFrame,
    out_dir: Path,
    *,
    max_features: int,
    max_vertices: int,
    progress: Callable[[int], None] | None = None,
) -> TilesetSummary:
    """Write ``tileset.json`` and one ``.glb`` per leaf into ``out_dir`` (an empty or new folder).

    Args:
        buildings: what to tile.
        frame: the twin's ENU frame (its origin becomes the root transform).
        out_dir: the folder to write; the build driver stages it and swaps it in when the whole build succeeded.
        max_features: buildings per tile at most.
        max_vertices: vertices per tile at most (<= 65535 keeps 16-bit indices).
        progress: called with the number of buildings done after each tile.
    """
    centroids = shapely.centroid(buildings.footprints)
    cx, cy = shapely.get_x(centroids), shapely.get_y(centroids)
    leaves = partition(cx, cy, estimate_vertices(buildings.footprints), max_features, max_vertices)
    content_of = np.empty(len(buildings), dtype=object)

    (out_dir / CONTENT_DIR).mkdir(parents=True, exist_ok=True)
    children: list[Tile] = []
    lo_all = np.full(3, np.inf)
    hi_all = np.full(3, -np.inf)
    total = 0
    done = 0
    digest = hashlib.sha256()
    for key, members in leaves:
        tile = build_tile(key, buildings, members, frame)
        (out_dir / CONTENT_DIR / f"{key}.glb").write_bytes(tile.glb)
        digest.update(tile.glb)
        total += len(tile.glb)
        content_of[members] = f"{CONTENT_DIR}/{key}.glb"
        children.append(_leaf(tile))
        lo_all = np.minimum(lo_all, tile.lo - 0.01)
        hi_all = np.maximum(hi_all, tile.hi + 0.01)
        done += len(members)
        if progress:
            progress(done)
    extent = float(np.linalg.norm(hi_all - lo_all)) if children else 1.0
    root: Tile = {
        "boundingVolume": box_volume(list(lo_all), list(hi_all)) if children else box_volume([0] * 3, [1] * 3),
        # Until coarser levels of detail exist, the root must refine at any town-wide view: its error is
        # half the extent, so its children load whenever the town is on screen.
        "geometricError": round(extent / 2.0, 3),
        "refine": "ADD",
        "transform": frame.transform(),
        "children": children,
    }
    tileset: Tileset = {
        "asset": {
            "version": "1.1",
            "generator": f"twin3d {__version__}",
            "tilesetVersion": digest.hexdigest()[:16],
        },
        "geometricError": round(extent, 3),
        "root": root,
    }
    (out_dir / "tileset.json").write_text(json.dumps(tileset, indent=1), encoding="utf-8")
    return TilesetSummary(len(leaves), len(buildings), total, content_of)
