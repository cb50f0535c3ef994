"""Write a twin's buildings as 3D Tiles 1.1: one external tileset per partition, a quadtree in each.

Layout of ``tiles/<twin>/``::

    tileset.json              root: ENU-to-ECEF transform, one child per partition (external tileset)
    p/<partition>/tileset.json   the partition's quadtree; leaves full detail, inner nodes coarse LoD1 (REPLACE)
    p/<partition>/<node>.glb

A partition (a district, or a square block of the twin) is a pure function of its buildings: it can be built in
a separate process, and it is rebuilt only when its input changed. Its ``tileset.json`` records a hash of its
input; a rebuild finds an unchanged partition in the previous tileset and links its files instead of writing
them again, so unchanged tiles keep their bytes.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import numpy as np

from twin3d import __version__
from twin3d.tiling import lod
from twin3d.tiling.geodesy import LocalFrame
from twin3d.tiling.geometry import BuildingGeometry, ExtrudedBuildings
from twin3d.tiling.gltf import Property, encode_glb
from twin3d.tiling.lod import coarse_content
from twin3d.tiling.mesh import Mesh
from twin3d.tiling.model import Tile, Tileset, box_volume, tileset_json

PARTITIONS_DIR = "p"
# Bump when the bytes written for the same input change (mesh layout, glTF writer, LoD rules): partitions built by
# an older writer are then rebuilt instead of reused.
TILE_FORMAT = 4  # 4: heights applied in geographic WGS 84 (Bessel-based CRSs no longer lift buildings)
BOX_PAD_M = 0.01  # float32 rounding of positions relative to a tile origin stays far below 1 cm


@dataclass(frozen=True)
class TilingOptions:
    """How buildings are cut into tiles."""

    max_features: int = 800
    max_vertices: int = 60_000
    levels_of_detail: bool = True
    compression: Literal["none", "meshopt"] = "none"
    workers: int = 1
    attribution: tuple[str, ...] = ()  # who the data is from (ODbL, dl-de, ...): the root tileset's extras carry it


@dataclass(frozen=True)
class BuildingProperties:
    """Per-building columns of the property table; ``id`` always comes first."""

    ids: np.ndarray
    columns: dict[str, tuple[Literal["STRING", "FLOAT32"], np.ndarray]] = field(default_factory=dict)

    def table(self, members: np.ndarray) -> list[Property]:
        props = [Property("id", "STRING", self.ids[members], "building id in the twin store")]
        props.extend(Property(name, kind, values[members]) for name, (kind, values) in self.columns.items())
        return props


@dataclass(frozen=True)
class TilesetSummary:
    """What :func:`write_tileset` produced."""

    tiles: int
    buildings: int
    bytes: int
    leaf_bytes: int
    partitions: int
    reused_partitions: int
    content_of_building: np.ndarray


@dataclass
class _Node:
    key: str
    members: np.ndarray
    extent: float
    children: list[_Node] = field(default_factory=list)


def quadtree(xy: np.ndarray, weight: np.ndarray, members: np.ndarray, max_features: int, max_weight: int) -> _Node:
    """Split ``members`` (points ``xy``) until each leaf holds at most ``max_features`` and ``max_weight``."""
    sub = xy[members]
    x0, y0 = sub.min(axis=0) if len(sub) else (0.0, 0.0)
    size = max(float(np.ptp(sub[:, 0])) if len(sub) else 0.0, float(np.ptp(sub[:, 1])) if len(sub) else 0.0, 1.0)
    root = _Node("r", members, size)
    stack = [(root, float(x0), float(y0), size)]
    while stack:
        node, nx, ny, s = stack.pop()
        idx = node.members
        if (len(idx) <= max_features and weight[idx].sum() <= max_weight) or len(idx) == 1 or s < 1.0:
            continue
        half = s / 2.0
        east = xy[idx, 0] >= nx + half
        north = xy[idx, 1] >= ny + half
        for q, mask in enumerate([~east & ~north, east & ~north, ~east & north, east & north]):
            if mask.any():
                child = _Node(f"{node.key}{q}", idx[mask], half)
                node.children.append(child)
                stack.append((child, nx + half * (q % 2), ny + half * (q // 2), half))
    return root


def _leaves(node: _Node) -> list[_Node]:
    return [node] if not node.children else [leaf for c in node.children for leaf in _leaves(c)]


@dataclass(frozen=True)
class _Job:
    geometry: BuildingGeometry
    properties: BuildingProperties
    frame: LocalFrame
    options: TilingOptions
    xy: np.ndarray
    weight: np.ndarray


@dataclass(frozen=True)
class _PartitionResult:
    pid: str
    tile: Tile
    tiles: int
    bytes: int
    leaf_bytes: int
    reused: bool


def _content(job: _Job, mesh: Mesh, members: np.ndarray, out: Path, name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Write one ``.glb``; returns its box (lo, hi) in the twin's ENU frame and its size."""
    lo, hi = mesh.positions.min(axis=0), mesh.positions.max(axis=0)
    # The content's own origin keeps float32 positions small; the glTF node carries it as a translation.
    origin = np.round((lo + hi) / 2.0, 3)
    glb = encode_glb(
        mesh,
        origin,
        job.properties.table(members),
        len(members),
        compression=job.options.compression,
        double_sided=not isinstance(job.geometry, ExtrudedBuildings),
    )
    (out / name).write_bytes(glb)
    return lo - BOX_PAD_M, hi + BOX_PAD_M, len(glb)


@dataclass
class _Built:
    tile: Tile
    lo: np.ndarray
    hi: np.ndarray
    tiles: int = 0
    bytes: int = 0
    leaf_bytes: int = 0


def _build_node(job: _Job, node: _Node, out: Path) -> _Built:
    """Write a node and its subtree. Boxes are in the twin's ENU frame (only the root tileset transforms)."""
    if not node.children:
        lo, hi, size = _content(job, job.geometry.mesh(node.members, job.frame), node.members, out, f"{node.key}.glb")
        tile: Tile = {
            "boundingVolume": box_volume(list(lo), list(hi)),
            "geometricError": 0.0,
            "content": {"uri": f"{node.key}.glb"},
        }
        return _Built(tile, lo, hi, 1, size, size)

    children = [_build_node(job, child, out) for child in node.children]
    lo = np.min([c.lo for c in children], axis=0)
    hi = np.max([c.hi for c in children], axis=0)
    built = _Built({"boundingVolume": box_volume([0] * 3, [1] * 3), "geometricError": 0.0}, lo, hi)
    built.tiles = sum(c.tiles for c in children)
    built.bytes = sum(c.bytes for c in children)
    built.leaf_bytes = sum(c.leaf_bytes for c in children)
    child_error = max(float(c.tile["geometricError"]) for c in children)
    coarse = None
    if job.options.levels_of_detail:
        full = int(job.weight[node.members].sum())
        coarse = coarse_content(job.geometry, node.members, job.frame, node.extent, full)
    if coarse is not None and len(coarse.shown):
        clo, chi, size = _content(job, coarse.mesh, node.members[coarse.shown], out, f"{node.key}.glb")
        built.lo, built.hi = np.minimum(lo, clo), np.maximum(hi, chi)
        built.tiles += 1
        built.bytes += size
        built.tile["content"] = {"uri": f"{node.key}.glb"}
        built.tile["refine"] = "REPLACE"
        built.tile["geometricError"] = max(coarse.geometric_error, child_error)
    else:
        built.tile["refine"] = "ADD"
        # Without coarse content the node must refine whenever it is on screen.
        built.tile["geometricError"] = max(child_error, round(node.extent / 2.0, 3))
    built.tile["boundingVolume"] = box_volume(list(built.lo), list(built.hi))
    built.tile["children"] = [c.tile for c in children]
    return built


def partition_fingerprint(job: _Job, members: np.ndarray) -> str:
    """A hash of everything a partition's files depend on: code version, options, frame and its buildings."""
    digest = hashlib.sha256()
    rules = (
        __version__,
        TILE_FORMAT,
        lod.TOLERANCE_PER_EXTENT,
        lod.MIN_SIDE_PER_EXTENT,
        lod.ROOF_SHAPE_ERROR,
        lod.MIN_SAVING,
        job.options.max_features,
        job.options.max_vertices,
        job.options.levels_of_detail,
        job.options.compression,
    )
    digest.update(repr(rules).encode())
    digest.update(np.asarray(job.frame.origin, dtype=np.float64).tobytes())
    digest.update(job.geometry.fingerprint(members))
    for prop in job.properties.table(members):
        digest.update(prop.name.encode())
        digest.update(
            json.dumps([str(v) for v in prop.values]).encode()
            if prop.kind == "STRING"
            else np.asarray(prop.values, dtype=np.float32).tobytes()
        )
    return digest.hexdigest()


_JOB: _Job | None = None  # the job a forked worker inherits (no pickling of the geometry)


def _build_partition(pid: str, members: np.ndarray, out_root: Path, previous: Path | None) -> _PartitionResult:
    job = _JOB
    assert job is not None
    out = out_root / PARTITIONS_DIR / pid
    fingerprint = partition_fingerprint(job, members)
    old = previous / PARTITIONS_DIR / pid if previous else None
    if old is not None and (old / "tileset.json").is_file():
        old_doc = json.loads((old / "tileset.json").read_text(encoding="utf-8"))
        if old_doc.get("extras", {}).get("twin3d", {}).get("input") == fingerprint:
            _link_tree(old, out)
            stats = old_doc["extras"]["twin3d"]
            root = cast(Tile, old_doc["root"])
            return _PartitionResult(pid, root, stats["tiles"], stats["bytes"], stats["leaf_bytes"], True)
    out.mkdir(parents=True, exist_ok=True)
    tree = quadtree(job.xy, job.weight, members, job.options.max_features, job.options.max_vertices)
    built = _build_node(job, tree, out)
    doc = tileset_json(
        built.tile,
        built.tile["geometricError"],
        extras={
            "twin3d": {"input": fingerprint, "tiles": built.tiles, "bytes": built.bytes, "leaf_bytes": built.leaf_bytes}
        },
    )
    (out / "tileset.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return _PartitionResult(pid, doc["root"], built.tiles, built.bytes, built.leaf_bytes, False)


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link (or copy across file systems) an unchanged partition into the new tileset."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        try:
            os.link(f, dst / f.name)
        except OSError:
            shutil.copy2(f, dst / f.name)


def write_tileset(
    geometry: BuildingGeometry,
    properties: BuildingProperties,
    *,
    partition_of: np.ndarray,
    frame: LocalFrame,
    out_dir: Path,
    options: TilingOptions,
    previous: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TilesetSummary:
    """Write the tileset into ``out_dir`` (a new, staged folder).

    Args:
        geometry: the buildings to mesh.
        properties: per-building property table columns.
        partition_of: the partition (district or block id, ``[A-Za-z0-9_-]``) of each building.
        frame: the twin's ENU frame; its origin becomes the root transform.
        out_dir: the folder to write.
        options: caps, levels of detail, compression, worker processes.
        previous: the tileset this one replaces; unchanged partitions are linked from it.
        progress: called with (partitions done, partitions) after each partition.
    """
    global _JOB  # noqa: PLW0603  (forked workers inherit the job instead of receiving a pickled copy)
    xy = geometry.centroids()
    weight = geometry.vertex_estimate()
    geometry.heights()  # computed (and cached) once here, before workers fork, so they share it
    _JOB = _Job(geometry, properties, frame, options, xy, weight)
    names, inverse = np.unique(np.asarray(partition_of, dtype=str), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    groups = dict(zip(names.tolist(), np.split(order, np.cumsum(np.bincount(inverse))[:-1]), strict=True))
    pids = list(groups)
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[_PartitionResult] = []
    try:
        if options.workers > 1 and len(pids) > 1:
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=options.workers, mp_context=ctx) as pool:
                futures = [pool.submit(_build_partition, pid, groups[pid], out_dir, previous) for pid in pids]
                for i, future in enumerate(futures):
                    results.append(future.result())
                    if progress:
                        progress(i + 1, len(pids))
        else:
            for i, pid in enumerate(pids):
                results.append(_build_partition(pid, groups[pid], out_dir, previous))
                if progress:
                    progress(i + 1, len(pids))
    finally:
        _JOB = None

    children: list[Tile] = []
    lo_all, hi_all = np.full(3, np.inf), np.full(3, -np.inf)
    for r in results:
        box = np.asarray(r.tile["boundingVolume"]["box"])
        half = np.abs(box[3:].reshape(3, 3)).sum(axis=0)
        lo_all, hi_all = np.minimum(lo_all, box[:3] - half), np.maximum(hi_all, box[:3] + half)
        children.append(
            {
                "boundingVolume": r.tile["boundingVolume"],
                "geometricError": r.tile["geometricError"],
                "content": {"uri": f"{PARTITIONS_DIR}/{r.pid}/tileset.json"},
            }
        )
    extent = float(np.linalg.norm(hi_all - lo_all)) if children else 1.0
    root_error = max([extent / 2.0] + [float(c["geometricError"]) for c in children])
    root: Tile = {
        "boundingVolume": box_volume(list(lo_all), list(hi_all)) if children else box_volume([0] * 3, [1] * 3),
        # The root has no content of its own: its error makes it refine whenever the twin is on screen.
        "geometricError": round(root_error, 3),
        "refine": "ADD",
        "transform": frame.transform(),
        "children": children,
    }
    credits = {"attribution": list(options.attribution)} if options.attribution else None
    doc: Tileset = tileset_json(root, round(root_error * 2.0, 3), extras=credits)
    (out_dir / "tileset.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")

    content_of = np.empty(len(geometry), dtype=object)
    for pid in pids:
        tree = quadtree(xy, weight, groups[pid], options.max_features, options.max_vertices)
        for leaf in _leaves(tree):
            content_of[leaf.members] = f"{PARTITIONS_DIR}/{pid}/{leaf.key}.glb"
    return TilesetSummary(
        tiles=sum(r.tiles for r in results),
        buildings=len(geometry),
        bytes=sum(r.bytes for r in results),
        leaf_bytes=sum(r.leaf_bytes for r in results),
        partitions=len(results),
        reused_partitions=sum(r.reused for r in results),
        content_of_building=content_of,
    )


def block_partitions(xy: np.ndarray, size_m: float) -> np.ndarray:
    """Square blocks of ``size_m`` metres on a grid aligned to the CRS origin, named by their corner in metres."""
    corner = np.floor(xy / size_m).astype(np.int64) * int(size_m)
    blocks, inverse = np.unique(corner, axis=0, return_inverse=True)
    names = np.array([f"e{e}_n{n}" for e, n in blocks], dtype=object)
    return names[inverse.reshape(-1)]
