"""The tiles above the partitions: merged, simplified overviews of groups of partitions up to the root.

A region of thousands of partitions seen from afar must not load every partition's own coarse tile: from 60 km a
whole town is a few pixels wide. Partitions are grouped by a quadtree over their centres; each group gets one tile
of LoD1 blocks for the buildings big enough to be seen at its size (the rules of :mod:`twin3d.tiling.lod`, with
the group's extent), or no content at all where none is. Each partition hands up only a small sample (its
buildings big enough for the smallest group, already simplified) so that building the overview never needs a
whole region's geometry in one process.

A group's geometric error is what it leaves out (:func:`twin3d.tiling.lod.left_out_error`: the side of one block
as big as all buildings left out together, or the tallest of them), so clients refine into the partitions when
the missing houses would start to show as a town, not only when the largest missing one would. A group's tile is
rebuilt only when a partition under it changed: the root tileset records each group's input fingerprint, and an
unchanged group's file is linked from the previous build.

The lower levels of the tree are written by the build's executor, one subtree per task (with the samples of its
partitions only); the driver writes the few levels above them. Every group's tile depends only on the partitions
under it, so the files are the same whichever process wrote them.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from twin3d.executor import Executor, LocalExecutor
from twin3d.tiling import lod
from twin3d.tiling.content import encode_content
from twin3d.tiling.geodesy import LocalFrame
from twin3d.tiling.geometry import BuildingGeometry, ExtrudedBuildings
from twin3d.tiling.gltf import Property
from twin3d.tiling.lod import coarse_content
from twin3d.tiling.model import PARTITIONS_DIR, Tile, box_bounds, box_volume, tileset_json
from twin3d.tiling.reuse import link_file

OVERVIEW_DIR = "o"
GROUPS_FILE = "groups.json"  # each group's input fingerprint, box and size, for the next build to reuse
# Every few levels a group's subtree goes into a tileset of its own (o/<group>.json), which clients load only
# when they refine into it: the root tileset of a Land stays small.
SUBTREE_LEVELS = 3
# The smallest group stands for a few partitions: samples keep what a group of this size could show.
SMALLEST_GROUP_M = 2000.0
BOX_PAD_M = 0.01


@dataclass(frozen=True)
class OverviewSample:
    """What a partition hands up: its buildings big enough for the smallest group, simplified for it.

    Attributes:
        ids: building ids (the overview tiles' property table, so picking still names a building).
        footprints: simplified footprints in the twin CRS.
        base, top: ellipsoidal heights of the blocks.
        dropped_area: footprint area of the buildings left out (see :func:`twin3d.tiling.lod.left_out_error`).
        dropped_height: the tallest building left out.
        roof_error: how far a block is from the LoD2 roofs it stands for (0 for LoD1).
        vertices: full-detail vertices of the partition (what an overview replaces).
    """

    ids: np.ndarray
    footprints: np.ndarray
    base: np.ndarray
    top: np.ndarray
    dropped_area: float
    dropped_height: float
    roof_error: float
    vertices: int

    def take(self, keep: np.ndarray, dropped_area: float, dropped_height: float) -> OverviewSample:
        return OverviewSample(
            self.ids[keep],
            self.footprints[keep],
            self.base[keep],
            self.top[keep],
            dropped_area,
            dropped_height,
            self.roof_error,
            self.vertices,
        )

    def __getstate__(self) -> dict[str, object]:
        # Every partition's sample is pickled (PackedSample) and a subtree's merged one comes back to the driver.
        # Pickled as they are, the footprints cost a WKB call each and the ids an object each; one vectorised WKB
        # pass (6x faster) and one Arrow string array (2x) return the same WKB and strings, so the same tiles.
        return {
            **self.__dict__,
            "ids": pa.array(self.ids, pa.string()),
            "footprints": shapely.to_wkb(self.footprints),
        }

    def __setstate__(self, state: dict[str, object]) -> None:
        ids = cast(pa.StringArray, state["ids"]).to_numpy(zero_copy_only=False)
        self.__dict__.update(state, ids=ids, footprints=shapely.from_wkb(cast(np.ndarray, state["footprints"])))


def overview_sample(geometry: BuildingGeometry, ids: np.ndarray, vertices: int) -> OverviewSample:
    """The sample of one partition's buildings for the groups above it (``vertices``: its full-detail vertices)."""
    footprints = geometry.footprints()
    base, top = geometry.heights()
    area = shapely.area(footprints)
    finite = np.isfinite(base) & np.isfinite(top)
    keep = (area >= (SMALLEST_GROUP_M * lod.MIN_SIDE_PER_EXTENT) ** 2) & finite
    simplified = shapely.simplify(footprints[keep], SMALLEST_GROUP_M * lod.TOLERANCE_PER_EXTENT, preserve_topology=True)
    dropped = ~keep & finite
    roof = 0.0
    if not isinstance(geometry, ExtrudedBuildings) and keep.any():
        roof = float(np.nanmax(top[keep] - base[keep])) * lod.ROOF_SHAPE_ERROR  # a block for a pitched roof
    return OverviewSample(
        ids[keep],
        simplified,
        base[keep],
        top[keep],
        float(np.nansum(area[dropped])),
        float((top[dropped] - base[dropped]).max()) if dropped.any() else 0.0,
        roof,
        vertices,
    )


@dataclass(frozen=True)
class PackedSample:
    """A partition's sample, pickled once by the task that made it.

    The driver only passes a partition's sample on, to the subtree task that merges it: as bytes it crosses the
    driver as one copy, where unpickling it there and pickling it again for the subtree task took most of the
    driver's CPU in the overview (the workers waited for it).
    """

    data: bytes
    buildings: int

    @classmethod
    def of(cls, sample: OverviewSample) -> PackedSample:
        return cls(pickle.dumps(sample, protocol=pickle.HIGHEST_PROTOCOL), len(sample.ids))

    def unpack(self) -> OverviewSample:
        sample: OverviewSample = pickle.loads(self.data)
        return sample


@dataclass(frozen=True)
class PartitionTop:
    """A partition as the overview sees it: its root tile (box in the twin's frame), sample and fingerprint."""

    pid: str
    tile: Tile
    sample: PackedSample
    fingerprint: str

    def reference(self) -> Tile:
        """The tile that refers to the partition's own tileset."""
        return {
            "boundingVolume": self.tile["boundingVolume"],
            "geometricError": self.tile["geometricError"],
            "refine": "REPLACE",  # see twin3d.tiling.tileset.REFINE
            "content": {"uri": f"{PARTITIONS_DIR}/{self.pid}/tileset.json"},
        }


@dataclass
class _Group:
    key: str
    extent: float
    members: list[int]  # positions in the partition list
    children: list[_Group] = field(default_factory=list)


def _group_tree(centres: np.ndarray) -> _Group:
    """A quadtree over partition centres down to single partitions (the leaves)."""
    lo = centres.min(axis=0)
    side = max(float(np.ptp(centres[:, 0])), float(np.ptp(centres[:, 1])), 1.0) * (1 + 1e-9)
    root = _Group("g", side, list(range(len(centres))))
    stack = [(root, float(lo[0]), float(lo[1]))]
    while stack:
        node, x0, y0 = stack.pop()
        if len(node.members) <= 1:
            continue
        idx = np.asarray(node.members)
        if node.extent < 1.0:  # partitions with (nearly) one centre cannot be told apart: each is a leaf
            node.children = [_Group(f"{node.key}_{i}", node.extent, [m]) for i, m in enumerate(node.members)]
            continue
        half = node.extent / 2.0
        east = centres[idx, 0] >= x0 + half
        north = centres[idx, 1] >= y0 + half
        for q, mask in enumerate([~east & ~north, east & ~north, ~east & north, east & north]):
            if mask.any():
                child = _Group(f"{node.key}{q}", half, idx[mask].tolist())
                node.children.append(child)
                stack.append((child, x0 + half * (q % 2), y0 + half * (q // 2)))
    return _collapsed(root)


def _collapsed(node: _Group) -> _Group:
    """Groups with a single child say nothing their child does not: drop them."""
    node.children = [_collapsed(c) for c in node.children]
    while len(node.children) == 1 and node.children[0].children:
        only = node.children[0]
        node.children = only.children
        node.extent = only.extent
    if len(node.children) == 1:  # a group of one partition is that partition
        return node.children[0]
    return node


@dataclass(frozen=True)
class OverviewContext:
    """What writing the overview needs besides the partitions."""

    frame: LocalFrame
    crs: CRS
    out_dir: Path
    previous: Path | None
    previous_records: dict[str, dict[str, object]]  # the previous build's groups (root tileset extras)
    rules: str
    compression: str
    copyright: str | None = None


@dataclass
class OverviewResult:
    """The top of the tree (a partition's own tile if there is only one), what was written and reused."""

    top: Tile
    tiles: int = 0
    bytes: int = 0
    reused: int = 0
    records: dict[str, dict[str, object]] = field(default_factory=dict)  # per group: input, box, bytes

    def add(self, below: OverviewResult) -> None:
        """Count in what a subtree's task wrote."""
        self.records.update(below.records)
        self.tiles += below.tiles
        self.bytes += below.bytes
        self.reused += below.reused


# The executor's tasks are the subtrees of the highest level with at least this many groups (fewer only where
# the tree runs out): enough for every worker to get several, and the same tasks whatever the executor.
SUBTREE_TASKS = 64

_Parts = Mapping[int, PartitionTop]  # a partition by its position in the overview's list
_Written = dict[str, tuple[Tile, OverviewSample]]  # subtrees already written, by group key


@dataclass(frozen=True)
class _SubtreeTask:
    node: _Group
    parts: _Parts  # only the partitions under the node
    depth: int


def write_overview(
    parts: Sequence[PartitionTop], ctx: OverviewContext, executor: Executor | None = None
) -> OverviewResult:
    """Write the group tiles above ``parts`` into ``<out_dir>/o/`` (boxes in the twin's ENU frame).

    The lower subtrees go to ``executor`` (default: this process), one task each; this process writes the rest.
    """
    centres = np.array([(lo[:2] + hi[:2]) / 2.0 for lo, hi in (box_bounds(p.tile["boundingVolume"]) for p in parts)])
    tree = _group_tree(centres)
    result = OverviewResult(top=parts[0].reference())
    (ctx.out_dir / OVERVIEW_DIR).mkdir(parents=True, exist_ok=True)
    tasks = [_SubtreeTask(node, {m: parts[m] for m in _members(node)}, depth) for node, depth in _task_subtrees(tree)]
    # Largest first, so that no large subtree starts last while the other workers have nothing left to do. The
    # order changes no file: each subtree's tiles depend only on its own partitions.
    tasks.sort(key=lambda t: -sum(p.sample.buildings for p in t.parts.values()))
    written: _Written = {}
    results = (executor or LocalExecutor()).map(_write_subtree, ctx, tasks)
    for task, (below, sample) in zip(tasks, results, strict=True):
        written[task.node.key] = (below.top, sample)
        result.add(below)
    result.top = _write_group(tree, dict(enumerate(parts)), ctx, result, depth=0, written=written)[0]
    text = json.dumps(result.records, indent=0, sort_keys=True)
    (ctx.out_dir / OVERVIEW_DIR / GROUPS_FILE).write_text(text, encoding="utf-8")
    return result


def _task_subtrees(tree: _Group) -> list[tuple[_Group, int]]:
    """The subtrees (with their depth) handed out as tasks: a level of the tree wide enough (SUBTREE_TASKS)."""
    level = [(tree, 0)]
    while len(level) < SUBTREE_TASKS and any(node.children for node, _ in level):
        level = [pair for node, d in level for pair in ([(c, d + 1) for c in node.children] or [(node, d)])]
    return [(node, depth) for node, depth in level if node.children]  # a single partition needs no writing


def _write_subtree(ctx: OverviewContext, task: _SubtreeTask) -> tuple[OverviewResult, OverviewSample]:
    """One task: a subtree's groups, what they wrote (its top: the subtree's tile) and the sample it hands up."""
    below = OverviewResult(top=next(iter(task.parts.values())).reference())
    below.top, sample = _write_group(task.node, task.parts, ctx, below, depth=task.depth, written={})
    return below, sample


def previous_records(previous: Path | None) -> dict[str, dict[str, object]]:
    """The groups the previous build wrote (:data:`GROUPS_FILE`), to reuse the unchanged ones."""
    path = previous / OVERVIEW_DIR / GROUPS_FILE if previous else None
    if path is None or not path.is_file():
        return {}
    records = json.loads(path.read_text(encoding="utf-8"))
    return records if isinstance(records, dict) else {}


def _relative_to_overview(tile: Tile) -> None:
    """URIs in a tileset are relative to its file: a subtree moved into ``o/`` reaches the root folder by ``../``."""
    if "content" in tile:
        tile["content"] = {"uri": f"../{tile['content']['uri']}"}
    for child in tile.get("children", []):
        _relative_to_overview(child)


def _external(tile: Tile, key: str, ctx: OverviewContext) -> Tile:
    """Write a group's subtree as a tileset of its own; returns the tile that refers to it."""
    _relative_to_overview(tile)
    doc = tileset_json(tile, float(tile["geometricError"]))
    (ctx.out_dir / OVERVIEW_DIR / f"{key}.json").write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return {
        "boundingVolume": tile["boundingVolume"],
        "geometricError": tile["geometricError"],
        "refine": "REPLACE",  # see twin3d.tiling.tileset.REFINE
        "content": {"uri": f"{OVERVIEW_DIR}/{key}.json"},
    }


def _members(node: _Group) -> list[int]:
    return node.members if not node.children else [m for c in node.children for m in _members(c)]


def _write_group(
    node: _Group, parts: _Parts, ctx: OverviewContext, result: OverviewResult, *, depth: int, written: _Written
) -> tuple[Tile, OverviewSample]:
    """Write a group and the groups under it (but those in ``written``); returns its tile and the sample it hands
    up."""
    if node.key in written:
        return written[node.key]
    if not node.children:
        part = parts[node.members[0]]
        return part.reference(), part.sample.unpack()
    tile, sample = _group_tile(node, parts, ctx, result, depth=depth, written=written)
    if depth and depth % SUBTREE_LEVELS == 0:
        return _external(tile, node.key, ctx), sample
    return tile, sample


def _group_tile(
    node: _Group, parts: _Parts, ctx: OverviewContext, result: OverviewResult, *, depth: int, written: _Written
) -> tuple[Tile, OverviewSample]:
    below = [_write_group(child, parts, ctx, result, depth=depth + 1, written=written) for child in node.children]
    children = [tile for tile, _ in below]
    sample = _merged([s for _, s in below])
    bounds = [box_bounds(t["boundingVolume"]) for t in children]
    lo = np.min([b[0] for b in bounds], axis=0)
    hi = np.max([b[1] for b in bounds], axis=0)
    child_error = max(float(t["geometricError"]) for t in children)
    blocks = ExtrudedBuildings(sample.footprints, sample.base, sample.top, ctx.crs)
    everything = np.arange(len(sample.ids))
    left_out = (sample.dropped_area, sample.dropped_height)
    coarse = coarse_content(blocks, everything, ctx.frame, node.extent, sample.vertices, left_out=left_out)
    tile: Tile = {"boundingVolume": box_volume(list(lo), list(hi)), "geometricError": 0.0, "children": children}
    if coarse is None:
        # Blocks would not save enough over what they stand for: the group shows its children whenever visible.
        tile["refine"] = "REPLACE"  # empty: see twin3d.tiling.tileset.REFINE
        tile["geometricError"] = round(max(child_error, node.extent / 2.0), 3)
        return tile, sample
    error = max(coarse.geometric_error, sample.roof_error, child_error)
    # Without content the tile stays, empty (nothing here is big enough to show at its size): its error keeps
    # clients from refining into it until the buildings it leaves out would show.
    tile["refine"] = "REPLACE"
    tile["geometricError"] = round(error, 3)
    if len(coarse.shown):
        clo, chi = _group_content(node, parts, ctx, coarse=coarse, ids=sample.ids, result=result)
        tile["boundingVolume"] = box_volume(list(np.minimum(lo, clo)), list(np.maximum(hi, chi)))
        tile["content"] = {"uri": f"{OVERVIEW_DIR}/{node.key}.glb"}
    return tile, sample.take(coarse.shown, coarse.dropped_area, coarse.dropped_height)


def _group_content(
    node: _Group,
    parts: _Parts,
    ctx: OverviewContext,
    *,
    coarse: lod.CoarseContent,
    ids: np.ndarray,
    result: OverviewResult,
) -> tuple[np.ndarray, np.ndarray]:
    """Write (or link, if its partitions are unchanged) a group's tile; returns its box."""
    fingerprint = _fingerprint(ctx, node.key, node.extent, [parts[m] for m in _members(node)])
    name = f"{node.key}.glb"
    target = ctx.out_dir / OVERVIEW_DIR / name
    old = ctx.previous_records.get(node.key)
    source = ctx.previous / OVERVIEW_DIR / name if ctx.previous is not None else None
    if old is not None and old.get("input") == fingerprint and source is not None and source.is_file():
        link_file(source, target)
        record = old
        result.reused += 1
    else:
        mesh = coarse.mesh
        lo, hi = mesh.positions.min(axis=0) - BOX_PAD_M, mesh.positions.max(axis=0) + BOX_PAD_M
        origin = np.round((lo + hi) / 2.0, 3)
        props = [Property("id", "STRING", ids[coarse.shown], "building id in the twin store")]
        glb = encode_content(
            mesh, origin, props, len(coarse.shown), compression=ctx.compression, copyright=ctx.copyright
        )
        target.write_bytes(glb)
        record = {"input": fingerprint, "box": [*map(float, lo), *map(float, hi)], "bytes": len(glb)}
    result.records[node.key] = record
    result.tiles += 1
    result.bytes += int(cast(int, record["bytes"]))
    box = np.asarray(record["box"], dtype=np.float64)
    return box[:3], box[3:]


def _fingerprint(ctx: OverviewContext, key: str, extent: float, parts: Sequence[PartitionTop]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([ctx.rules, key, round(extent, 3), ctx.compression, ctx.copyright]).encode())
    digest.update(np.asarray(ctx.frame.origin, dtype=np.float64).tobytes())
    for part in parts:
        digest.update(f"{part.pid}:{part.fingerprint}".encode())
    return digest.hexdigest()


def _merged(samples: Sequence[OverviewSample]) -> OverviewSample:
    return OverviewSample(
        np.concatenate([s.ids for s in samples]),
        np.concatenate([s.footprints for s in samples]),
        np.concatenate([s.base for s in samples]),
        np.concatenate([s.top for s in samples]),
        sum(s.dropped_area for s in samples),
        max(s.dropped_height for s in samples),
        max(s.roof_error for s in samples),
        sum(s.vertices for s in samples),
    )
