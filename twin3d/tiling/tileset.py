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
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

from twin3d import __version__
from twin3d.executor import Executor, ExecutorSpec, open_executor
from twin3d.tiling import lod
from twin3d.tiling.content import encode_content
from twin3d.tiling.geodesy import LocalFrame
from twin3d.tiling.geometry import BuildingGeometry, ExtrudedBuildings
from twin3d.tiling.gltf import Property
from twin3d.tiling.lod import coarse_content
from twin3d.tiling.mesh import Mesh
from twin3d.tiling.model import PARTITIONS_DIR, Tile, Tileset, box_bounds, box_volume, tileset_json
from twin3d.tiling.overview import (
    OverviewContext,
    OverviewResult,
    PackedSample,
    PartitionTop,
    overview_sample,
    previous_records,
    write_overview,
)
from twin3d.tiling.reuse import link_tree

# Bump when the bytes written for the same input change (mesh layout, glTF writer, LoD rules): partitions built by
# an older writer are then rebuilt instead of reused.
TILE_FORMAT = 7  # 7: every tile REPLACE (deck.gl); 6: coarse levels count every building left out
BOX_PAD_M = 0.01  # float32 rounding of positions relative to a tile origin stays far below 1 cm
# Every tile under the root refines by REPLACE, leaves and empty tiles too (for them it changes nothing drawn): a
# REPLACE parent waits for all its children, also those off screen, and loaders.gl (deck.gl) never fetches an
# off-screen ADD tile, so one ADD child under a coarse level kept the viewer waiting forever.
REFINE: Literal["REPLACE"] = "REPLACE"


@dataclass(frozen=True)
class TilingOptions:
    """How buildings are cut into tiles."""

    max_features: int = 800
    max_vertices: int = 60_000
    levels_of_detail: bool = True
    compression: Literal["none", "meshopt"] = "none"
    workers: int = 1
    attribution: tuple[str, ...] = ()  # who the data is from (ODbL, dl-de, ...): the root tileset's extras carry it

    @property
    def copyright(self) -> str | None:
        """The attribution as every glTF content's ``asset.copyright``: a tile taken alone keeps its licences."""
        return "; ".join(self.attribution) or None


@dataclass(frozen=True)
class BuildingProperties:
    """Per-building columns of the property table; ``id`` always comes first."""

    ids: np.ndarray
    columns: dict[str, tuple[Literal["STRING", "FLOAT32"], np.ndarray]] = field(default_factory=dict)

    def table(self, members: np.ndarray) -> list[Property]:
        props = [Property("id", "STRING", self.ids[members], "building id in the twin store")]
        props.extend(Property(name, kind, values[members]) for name, (kind, values) in self.columns.items())
        return props

    def take(self, members: np.ndarray) -> BuildingProperties:
        return BuildingProperties(self.ids[members], {k: (kind, v[members]) for k, (kind, v) in self.columns.items()})


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
class Partition:
    """One partition's buildings alone: what a worker needs to write its tiles."""

    pid: str
    geometry: BuildingGeometry
    properties: BuildingProperties


class PartitionOnDisk(Protocol):
    """A partition a worker loads itself (see :mod:`twin3d.tiling.spill`): only its name travels."""

    @property
    def pid(self) -> str: ...

    def load(self) -> Partition: ...


@dataclass(frozen=True)
class TilingContext:
    """What every partition task shares (sent to each worker once)."""

    frame: LocalFrame
    options: TilingOptions
    out_root: Path
    previous: Path | None
    tile_of: Path | None = None  # where each task writes which content holds each building (<pid>.parquet)


@dataclass(frozen=True)
class PartitionResult:
    """A written (or reused) partition: its root tile, sizes, and what the tiles above and the store need."""

    pid: str
    tile: Tile  # the partition's root tile: its box and geometric error
    tiles: int
    bytes: int
    leaf_bytes: int
    reused: bool
    fingerprint: str
    leaf_keys: tuple[str, ...]
    leaf_of: np.ndarray  # per building of the partition: its position in leaf_keys
    sample: PackedSample

    def top(self) -> PartitionTop:
        return PartitionTop(self.pid, self.tile, self.sample, self.fingerprint)

    def content_files(self) -> np.ndarray:
        """The content file (relative to the root tileset) that holds each of the partition's buildings."""
        files: np.ndarray = content_files(self.pid, self.leaf_keys)[self.leaf_of]
        return files


def content_files(pid: str, leaf_keys: tuple[str, ...]) -> np.ndarray:
    """The content file of each leaf of a partition, relative to the root tileset."""
    return np.array([f"{PARTITIONS_DIR}/{pid}/{key}.glb" for key in leaf_keys], dtype=object)


@dataclass(frozen=True)
class _Job:
    geometry: BuildingGeometry
    properties: BuildingProperties
    frame: LocalFrame
    options: TilingOptions
    xy: np.ndarray
    weight: np.ndarray


def _content(job: _Job, mesh: Mesh, members: np.ndarray, out: Path, name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Write one ``.glb``; returns its box (lo, hi) in the twin's ENU frame and its size."""
    lo, hi = mesh.positions.min(axis=0), mesh.positions.max(axis=0)
    # The content's own origin keeps float32 positions small; the glTF node carries it as a translation.
    origin = np.round((lo + hi) / 2.0, 3)
    glb = encode_content(
        mesh,
        origin,
        job.properties.table(members),
        len(members),
        compression=job.options.compression,
        double_sided=not isinstance(job.geometry, ExtrudedBuildings),
        copyright=job.options.copyright,
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
            "refine": REFINE,
            "content": {"uri": f"{node.key}.glb"},
        }
        return _Built(tile, lo, hi, 1, size, size)

    coarse = None
    if job.options.levels_of_detail:
        full = int(job.weight[node.members].sum())
        coarse = coarse_content(job.geometry, node.members, job.frame, node.extent, full)
    if (coarse is None or not len(coarse.shown)) and len(node.children) == 1:
        return _build_node(job, node.children[0], out)  # a level over one tile that shows nothing less: skip it
    children = [_build_node(job, child, out) for child in node.children]
    lo = np.min([c.lo for c in children], axis=0)
    hi = np.max([c.hi for c in children], axis=0)
    built = _Built({"boundingVolume": box_volume([0] * 3, [1] * 3), "geometricError": 0.0}, lo, hi)
    built.tiles = sum(c.tiles for c in children)
    built.bytes = sum(c.bytes for c in children)
    built.leaf_bytes = sum(c.leaf_bytes for c in children)
    child_error = max(float(c.tile["geometricError"]) for c in children)
    if coarse is not None and len(coarse.shown):
        clo, chi, size = _content(job, coarse.mesh, node.members[coarse.shown], out, f"{node.key}.glb")
        built.lo, built.hi = np.minimum(lo, clo), np.maximum(hi, chi)
        built.tiles += 1
        built.bytes += size
        built.tile["content"] = {"uri": f"{node.key}.glb"}
        built.tile["refine"] = "REPLACE"
        built.tile["geometricError"] = max(coarse.geometric_error, child_error)
    else:
        built.tile["refine"] = REFINE
        # Without coarse content the node must refine whenever it is on screen.
        built.tile["geometricError"] = max(child_error, round(node.extent / 2.0, 3))
    built.tile["boundingVolume"] = box_volume(list(built.lo), list(built.hi))
    built.tile["children"] = [c.tile for c in children]
    return built


def _rules(options: TilingOptions) -> tuple[object, ...]:
    """Everything besides the buildings and the frame that the bytes of a partition depend on."""
    return (
        __version__,
        TILE_FORMAT,
        lod.TOLERANCE_PER_EXTENT,
        lod.MIN_SIDE_PER_EXTENT,
        lod.ROOF_SHAPE_ERROR,
        lod.MIN_SAVING,
        options.max_features,
        options.max_vertices,
        options.levels_of_detail,
        options.compression,
        options.attribution,
    )


def partition_fingerprint(job: _Job, members: np.ndarray) -> str:
    """A hash of everything a partition's files depend on: code version, options, frame and its buildings."""
    digest = hashlib.sha256()
    digest.update(repr(_rules(job.options)).encode())
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


def _partition_tree(job: _Job, members: np.ndarray) -> _Node:
    """The partition's quadtree; a partition of one tile gets a level above it, so that it has a coarse level too
    (the level is left out again where coarse blocks would not pay)."""
    tree = quadtree(job.xy, job.weight, members, job.options.max_features, job.options.max_vertices)
    if not tree.children and job.options.levels_of_detail and len(members) > 1:
        tree.children = [_Node(f"{tree.key}0", members, tree.extent)]
    return tree


def tile_partition(ctx: TilingContext, task: Partition | PartitionOnDisk) -> PartitionResult:
    """Write one partition's tiles (or link them from the previous build if its input is unchanged)."""
    part = task if isinstance(task, Partition) else task.load()
    geometry = part.geometry
    job = _Job(geometry, part.properties, ctx.frame, ctx.options, geometry.centroids(), geometry.vertex_estimate())
    members = np.arange(len(geometry))
    fingerprint = partition_fingerprint(job, members)
    tree = _partition_tree(job, members)
    leaves = _leaves(tree)
    leaf_of = np.zeros(len(members), dtype=np.int32)
    for i, leaf in enumerate(leaves):
        leaf_of[leaf.members] = i
    sample = PackedSample.of(overview_sample(geometry, part.properties.ids, int(job.weight.sum())))
    out = ctx.out_root / PARTITIONS_DIR / part.pid
    old = ctx.previous / PARTITIONS_DIR / part.pid if ctx.previous else None
    keys = tuple(leaf.key for leaf in leaves)
    if ctx.tile_of is not None:
        # Written here, not sent back: a Land's building ids would otherwise all pass through the driver.
        ctx.tile_of.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.table(
                {
                    "building_id": pa.array(part.properties.ids, pa.string()),
                    "tile": pa.array(content_files(part.pid, keys)[leaf_of]),
                }
            ),
            ctx.tile_of / f"{part.pid}.parquet",
        )
    old_doc: dict[str, Any] = {}
    if old is not None and (old / "tileset.json").is_file():
        old_doc = json.loads((old / "tileset.json").read_text(encoding="utf-8"))
    stats = old_doc.get("extras", {}).get("twin3d", {})
    reused = stats.get("input") == fingerprint
    if old is not None and reused:
        link_tree(old, out)
        root = cast(Tile, old_doc["root"])
    else:
        out.mkdir(parents=True, exist_ok=True)
        built = _build_node(job, tree, out)
        stats = {"input": fingerprint, "tiles": built.tiles, "bytes": built.bytes, "leaf_bytes": built.leaf_bytes}
        doc = tileset_json(built.tile, built.tile["geometricError"], extras={"twin3d": stats})
        (out / "tileset.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
        root = doc["root"]
    return PartitionResult(
        part.pid,
        # Only what the tiles above refer to: the whole tree would travel to the driver and on to the overview.
        {"boundingVolume": root["boundingVolume"], "geometricError": root["geometricError"]},
        stats["tiles"],
        stats["bytes"],
        stats["leaf_bytes"],
        reused,
        fingerprint,
        keys,
        leaf_of,
        sample,
    )


def partition_groups(partition_of: np.ndarray) -> tuple[list[str], list[np.ndarray]]:
    """The partition ids in sorted order and the ascending positions of each one's buildings."""
    names, inverse = np.unique(np.asarray(partition_of, dtype=str), return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    return names.tolist(), np.split(order, np.cumsum(np.bincount(inverse, minlength=len(names)))[:-1])


def partitions_of(
    geometry: BuildingGeometry, properties: BuildingProperties, partition_of: np.ndarray
) -> tuple[list[str], Iterator[Partition], list[np.ndarray]]:
    """Cut an in-memory collection into partitions (ids in sorted order); the partitions are made as they are sent."""
    pids, groups = partition_groups(partition_of)

    def parts() -> Iterator[Partition]:
        for pid, members in zip(pids, groups, strict=True):
            yield Partition(pid, geometry.take(members), properties.take(members))

    return pids, parts(), groups


def write_partitions(
    partitions: Iterable[Partition | PartitionOnDisk],
    *,
    crs: CRS,
    frame: LocalFrame,
    out_dir: Path,
    options: TilingOptions,
    executor: Executor | None = None,
    previous: Path | None = None,
    progress: Callable[[int], None] | None = None,
    on_partition: Callable[[PartitionResult], None] | None = None,
    tile_of: Path | None = None,
) -> TilesetSummary:
    """Write the tileset of ``partitions`` (each a separate task, in any executor) into ``out_dir``, a new folder.

    Partitions may come from a generator that reads them as they are asked for: the executor asks for a few per
    worker at a time, so no process holds more than a few partitions' buildings. Each result is handed to
    ``on_partition`` (where its buildings' tiles are) and then kept only as the small sample the overview needs.

    Args:
        partitions: each partition's buildings (ids ``[A-Za-z0-9_-]``, each once).
        crs: the twin's projected CRS (the buildings' footprints are in it).
        frame: the twin's ENU frame; its origin becomes the root transform.
        out_dir: the folder to write.
        options: caps, levels of detail, compression.
        executor: where partitions are tiled (default: this process, or forked processes for ``options.workers``).
        previous: the tileset this one replaces; unchanged partitions and groups are linked from it.
        progress: called with the number of partitions done after each one.
        on_partition: called with each partition's result, in partition order.
        tile_of: a folder where each task writes the content file of each of its buildings (``<pid>.parquet``).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    context = TilingContext(frame, options, out_dir, previous, tile_of)
    tops: list[PartitionTop] = []
    totals = np.zeros(4, dtype=np.int64)  # tiles, bytes, leaf bytes, buildings
    reused = 0
    with (
        open_executor(ExecutorSpec("processes", options.workers))
        if executor is None
        else nullcontext(executor) as runner
    ):
        for done, result in enumerate(runner.map(tile_partition, context, partitions), start=1):
            if on_partition is not None:
                on_partition(result)
            tops.append(result.top())
            totals += (result.tiles, result.bytes, result.leaf_bytes, len(result.leaf_of))
            reused += result.reused
            if progress:
                progress(done)
        tops.sort(key=lambda t: t.pid)
        root, overview = _root(tops, context, crs, runner)
    credits = {"attribution": list(options.attribution)} if options.attribution else None
    doc: Tileset = tileset_json(root, round(float(root["geometricError"]) * 2.0, 3), extras=credits)
    (out_dir / "tileset.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return TilesetSummary(
        tiles=int(totals[0]) + (overview.tiles if overview else 0),
        buildings=int(totals[3]),
        bytes=int(totals[1]) + (overview.bytes if overview else 0),
        leaf_bytes=int(totals[2]),
        partitions=len(tops),
        reused_partitions=reused,
        content_of_building=np.empty(0, dtype=object),
    )


def _root(
    tops: list[PartitionTop], ctx: TilingContext, crs: CRS, executor: Executor
) -> tuple[Tile, OverviewResult | None]:
    """The root tile: the overview above the partitions (its lower levels on ``executor``), or (one partition, no
    levels of detail) the partitions."""
    overview = None
    if ctx.options.levels_of_detail and len(tops) > 1:
        overview = write_overview(
            tops,
            OverviewContext(
                ctx.frame,
                crs,
                ctx.out_root,
                ctx.previous,
                previous_records(ctx.previous),
                repr(_rules(ctx.options)),
                ctx.options.compression,
                ctx.options.copyright,
            ),
            executor,
        )
        top: Tile = {**overview.top, "transform": ctx.frame.transform()}
        return top, overview
    children = [t.reference() for t in tops]
    lo_all, hi_all = np.full(3, np.inf), np.full(3, -np.inf)
    for t in tops:
        lo, hi = box_bounds(t.tile["boundingVolume"])
        lo_all, hi_all = np.minimum(lo_all, lo), np.maximum(hi_all, hi)
    extent = float(np.linalg.norm(hi_all - lo_all)) if children else 1.0
    root_error = max([extent / 2.0] + [float(c["geometricError"]) for c in children])
    root: Tile = {
        "boundingVolume": box_volume(list(lo_all), list(hi_all)) if children else box_volume([0] * 3, [1] * 3),
        # The root has no content of its own: its error makes it refine whenever the twin is on screen.
        "geometricError": round(root_error, 3),
        "refine": "ADD",
        "transform": ctx.frame.transform(),
        "children": children,
    }
    return root, None


def write_tileset(
    geometry: BuildingGeometry,
    properties: BuildingProperties,
    *,
    partition_of: np.ndarray,
    frame: LocalFrame,
    out_dir: Path,
    options: TilingOptions,
    executor: Executor | None = None,
    previous: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> TilesetSummary:
    """Write the tileset of buildings held in memory into ``out_dir`` (a new, staged folder).

    Args:
        geometry: the buildings to mesh.
        properties: per-building property table columns.
        partition_of: the partition (district or block id, ``[A-Za-z0-9_-]``) of each building.
        frame: the twin's ENU frame; its origin becomes the root transform.
        out_dir: the folder to write.
        options: caps, levels of detail, compression, worker processes (when no executor is given).
        executor: where partitions are tiled.
        previous: the tileset this one replaces; unchanged partitions are linked from it.
        progress: called with (partitions done, partitions) after each partition.

    Returns:
        The summary, with the content file of each building.
    """
    geometry.heights()  # computed (and cached) once here, not per partition
    pids, parts, groups = partitions_of(geometry, properties, partition_of)
    members_of = dict(zip(pids, groups, strict=True))
    content_of = np.empty(len(geometry), dtype=object)

    def record(result: PartitionResult) -> None:
        content_of[members_of[result.pid]] = result.content_files()

    summary = write_partitions(
        parts,
        crs=geometry.crs,
        frame=frame,
        out_dir=out_dir,
        options=options,
        executor=executor,
        previous=previous,
        progress=(lambda done: progress(done, len(pids))) if progress else None,
        on_partition=record,
    )
    return replace(summary, content_of_building=content_of)


def block_partitions(xy: np.ndarray, size_m: float) -> np.ndarray:
    """Square blocks of ``size_m`` metres on a grid aligned to the CRS origin, named by their corner in metres."""
    corner = np.floor(xy / size_m).astype(np.int64) * int(size_m)
    blocks, inverse = np.unique(corner, axis=0, return_inverse=True)
    names = np.array([f"e{e}_n{n}" for e, n in blocks], dtype=object)
    return names[inverse.reshape(-1)]
