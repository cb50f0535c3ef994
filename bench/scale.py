"""A Land's worth of buildings: throughput, memory per worker, bytes per building and the overview from 60 km.

Usage:
    python bench/scale.py                                   # 1 M LoD1 on every executor, 100k identity check
    python bench/scale.py --lod1 8500000 --executors dask:2 # the Bavarian count on a 2-worker LocalCluster
    python bench/scale.py --lod2 1000000 --executors dask:2 # NRW LoD2 replicated, parsing included
    python bench/scale.py --executors dask:1,dask:2,processes:2 --repeat 3 --identity 0   # ratios, median of 3

Every run's output stays until the end (about 1.3 GB per million LoD1 buildings): on ext4, files created soon
after many were deleted cost much more, so deleting one run's output slowed the next. TMPDIR=/dev/shm measures
without the disk (this machine's disk adds kernel time that grows with the number of writers).

The inputs are real: the Lauf OSM footprints (geodata/lauf) and the NRW LoD2 CityGML tiles (../shared/data), placed
as copies on a grid until there are N buildings. Both stages run as the streaming pipeline runs them on a Land:

1. **read** (one task per chunk of copies, or per CityGML file copy): the chunk is made (LoD2: the file is parsed,
   every time), cut into 1 km partitions and spilled to disk (twin3d.tiling.spill);
2. **tile** (one task per partition): the worker loads its partition from the spill folder and writes its tiles;
   the driver keeps only each partition's small overview sample and writes the tiles above the partitions.

The read-only inputs (the Lauf footprints, the NRW file names) are the executor's context: sent to each worker
once; they are read before the clock starts, and CPU seconds count from the moment the executor is up (a Dask
cluster's start, spawning workers and importing the steps, is not the run). One JSON line per figure (name, value,
unit, what it was measured on); the baseline of the same run is the local executor (one process) on the same data,
and the fork pool for the Dask figures.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from twin3d.executor import ExecutorSpec, open_executor  # noqa: E402
from twin3d.tiling.geodesy import frame_at  # noqa: E402
from twin3d.tiling.geometry import ExtrudedBuildings, SurfaceBuildings  # noqa: E402
from twin3d.tiling.spill import spill, spilled_partitions  # noqa: E402
from twin3d.tiling.tileset import BuildingProperties, TilingOptions, block_partitions, write_partitions  # noqa: E402

LAUF = REPO / "geodata" / "lauf" / "osm" / "lauf_buildings.geojson"
NRW = sorted((REPO.parent / "shared" / "data" / "lod2-citygml-nrw").glob("*.gml"))
UTM32 = CRS.from_epsg(25832)
BLOCK_M = 1000.0
GAP_M = 500.0
COPIES_PER_CHUNK = 8
LAUF_GROUND = 327.0 + 47.8  # metres above the ellipsoid
NRW_UNDULATION = 46.8


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    print(json.dumps({"name": name, "value": round(float(value), 3), "unit": unit, **extra}), flush=True)


class ProcessMemory:
    """Peak resident memory and CPU seconds of each process of this tree (driver and workers).

    The peak is the kernel's own high-water mark (VmHWM), read every 0.5 s: no page-table walks, which would hold
    the workers' memory lock (reading PSS from smaps_rollup did, and slowed the 2-worker runs). For forked workers
    it counts the pages they share with the driver: an upper bound.
    """

    def __init__(self) -> None:
        self.peaks: dict[int, float] = {}
        self.cpu: dict[int, float] = {}
        self._start_cpu = self._cpu_seconds(os.getpid())
        self._cpu_at_mark: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _peak_mib(pid: int) -> float:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0.0
        return next((int(line.split()[1]) / 1024.0 for line in text.splitlines() if line.startswith("VmHWM:")), 0.0)

    @staticmethod
    def _cpu_seconds(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    @staticmethod
    def _tree() -> list[int]:
        """This process and its descendants (Dask's nannies start workers from threads: walk parent ids)."""
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        pids = [os.getpid()]
        for pid in pids:
            pids.extend(children.get(pid, []))
        return pids

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for pid in self._tree():
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), self._peak_mib(pid))
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), self._cpu_seconds(pid))

    def mark(self) -> None:
        """Count CPU from now on: a Dask cluster's start (spawning workers, importing the steps) is not the run."""
        self._cpu_at_mark = {pid: self._cpu_seconds(pid) for pid in self._tree()}
        self._start_cpu = self._cpu_at_mark[os.getpid()]

    def cpu_since_mark(self) -> tuple[float, float]:
        """CPU seconds since :meth:`mark` of the driver and of every other process of the tree (those still running
        read now, those gone, as a fork pool's, at their last sample)."""
        for pid in self._tree():
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), self._cpu_seconds(pid))
        driver = self._cpu_seconds(os.getpid()) - self._start_cpu
        others = sum(v - self._cpu_at_mark.get(pid, 0.0) for pid, v in self.cpu.items() if pid != os.getpid())
        return driver, others

    def __enter__(self) -> ProcessMemory:
        with contextlib.suppress(OSError):  # start the driver's high-water mark afresh: earlier runs raised it
            Path("/proc/self/clear_refs").write_text("5")
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peaks[os.getpid()] = self._peak_mib(os.getpid())

    def driver(self) -> float:
        return self.peaks.get(os.getpid(), 0.0)

    def worker(self) -> float:
        return max((v for k, v in self.peaks.items() if k != os.getpid()), default=0.0)


# --- the read stage: make a chunk of copies, cut it into partitions, spill it ---------------------------------


@dataclass(frozen=True)
class Lod1Input:
    """The real Lauf footprints and heights (sent to each worker once) and where copies go."""

    footprints: np.ndarray
    heights: np.ndarray
    step: float
    side: int
    total: int
    folder: Path


def lauf_input(n: int, folder: Path) -> Lod1Input:
    from twin3d.io.vector import read_vector  # noqa: PLC0415
    from twin3d.pipeline.config import HeightRules  # noqa: PLC0415
    from twin3d.pipeline.heights import infer_heights  # noqa: PLC0415

    table = read_vector(LAUF, UTM32)
    heights = infer_heights(
        len(table), HeightRules(), levels_tag=table.column("building:levels"), building_type=table.column("building")
    ).height
    x0, y0, x1, y1 = shapely.total_bounds(table.geometry)
    copies = -(-n // len(table))
    return Lod1Input(table.geometry, heights, max(x1 - x0, y1 - y0) + GAP_M, math.ceil(math.sqrt(copies)), n, folder)


def lod1_chunk(data: Lod1Input, chunk: int) -> int:
    per = len(data.footprints)
    parts, heights, ids = [], [], []
    for k in range(chunk * COPIES_PER_CHUNK, (chunk + 1) * COPIES_PER_CHUNK):
        take = min(per, data.total - k * per)
        if take <= 0:
            break
        offset = np.array([(k % data.side) * data.step, (k // data.side) * data.step])
        parts.append(shapely.transform(data.footprints[:take], lambda c, o=offset: c + o))
        heights.append(data.heights[:take])
        ids.append(np.char.add(f"c{k}_", np.arange(take).astype(str)).astype(object))
    if not parts:
        return 0
    footprints = np.concatenate(parts)
    base = np.full(len(footprints), LAUF_GROUND)
    geometry = ExtrudedBuildings(footprints, base, base + np.concatenate(heights), UTM32)
    props = BuildingProperties(np.concatenate(ids), {"height": ("FLOAT32", np.concatenate(heights))})
    spill(data.folder, f"{chunk:07d}", geometry, props, block_partitions(geometry.centroids(), BLOCK_M))
    return len(footprints)


@dataclass(frozen=True)
class Lod2Input:
    files: tuple[Path, ...]
    step: float
    side: int
    copies: int
    folder: Path


def nrw_input(n: int, folder: Path) -> Lod2Input:
    from twin3d.io.citygml import read_citygml_buildings  # noqa: PLC0415

    per_round = sum(len(read_citygml_buildings(p, UTM32)) for p in NRW)
    copies = -(-n // per_round)
    # The two tiles lie 10 km apart: a copy of both spans about 11 km.
    return Lod2Input(tuple(NRW), 12_000.0, math.ceil(math.sqrt(copies)), copies, folder)


def lod2_file(data: Lod2Input, task: int) -> int:
    """Parse one NRW file (every time: parsing is part of the measure), move it to its copy's place, spill it."""
    from twin3d.io.citygml import read_citygml_buildings  # noqa: PLC0415
    from twin3d.io.surfaces import Buildings3D  # noqa: PLC0415

    k, f = divmod(task, len(data.files))
    model = read_citygml_buildings(data.files[f], UTM32)
    offset = np.array([(k % data.side) * data.step, (k // data.side) * data.step, 0.0])
    model = Buildings3D(
        model.path,
        model.source_crs,
        model.vertices + offset,
        model.ring_offsets,
        model.polygon_rings,
        model.polygon_kind,
        model.building_polygons,
        model.attributes,
    )
    geometry = SurfaceBuildings(model, NRW_UNDULATION, UTM32, model.footprints())
    lo, hi = geometry.heights()
    ids = np.char.add(f"c{task}_", np.arange(len(model)).astype(str)).astype(object)
    props = BuildingProperties(ids, {"height": ("FLOAT32", hi - lo)})
    spill(data.folder, f"{task:07d}", geometry, props, block_partitions(geometry.centroids(), BLOCK_M))
    return len(model)


# --- what a client fetches from 60 km ------------------------------------------------------------------------


def _partition_boxes(tile: dict[str, Any], folder: Path) -> list[np.ndarray]:
    """The boxes of the tiles that refer to a partition's tileset, through the overview's external subtrees."""
    uri = tile.get("content", {}).get("uri", "")
    if uri.startswith("p/") or "/p/" in uri:
        return [np.asarray(tile["boundingVolume"]["box"])]
    if uri.endswith(".json"):
        return _partition_boxes(json.loads((folder / uri).read_text())["root"], (folder / uri).parent)
    return [b for child in tile.get("children", []) for b in _partition_boxes(child, folder)]


def fetched_bytes(tileset: Path, height_m: float, screen_px: float = 900.0, fov_deg: float = 60.0) -> int:
    """Bytes a 3D Tiles client loads looking straight down from ``height_m`` over the middle of the tileset.

    Screen-space error as CesiumJS computes it (maximumScreenSpaceError 16); every tile on the way down is loaded
    (CesiumJS's default traversal shows parents while children load), no frustum culling (an upper bound).
    """
    doc = json.loads(tileset.read_text())
    box = np.asarray(doc["root"]["boundingVolume"]["box"])
    # Over the partition nearest the middle: the middle of a sparse layout (NRW's copies) may be empty land.
    centres = np.asarray([b[:3] for b in _partition_boxes(doc["root"], tileset.parent)] or [box[:3]])
    below = centres[np.argmin(np.hypot(centres[:, 0] - box[0], centres[:, 1] - box[1]))]
    camera = np.array([below[0], below[1], below[2] + height_m])
    scale = screen_px / (2.0 * math.tan(math.radians(fov_deg) / 2.0))
    total = 0
    stack = [(doc["root"], tileset.parent)]
    while stack:
        tile, folder = stack.pop()
        b = np.asarray(tile["boundingVolume"]["box"])
        half = np.abs(b[3:].reshape(3, 3)).sum(axis=0)
        distance = max(float(np.linalg.norm(np.maximum(np.abs(camera - b[:3]) - half, 0.0))), 1e-3)
        uri = tile.get("content", {}).get("uri", "")
        if uri.endswith(".json"):
            sub = json.loads((folder / uri).read_text())
            stack.append((sub["root"], (folder / uri).parent))
            continue
        if uri:
            total += (folder / uri).stat().st_size
        if float(tile["geometricError"]) * scale / distance > 16.0:
            stack.extend((child, folder) for child in tile.get("children", []))
    return total


# --- one run ---------------------------------------------------------------------------------------------------


def run(kind: str, n: int, spec: ExecutorSpec, work: Path) -> dict[str, float]:
    spill_dir, out = work / "spill", work / "tiles"
    # The sample the copies are made of is the script's scaffolding, read before the clock starts: in a build every
    # task reads its own file (the LoD2 copies still parse their CityGML file in every task).
    lod1 = lauf_input(n, spill_dir) if kind == "lod1" else None
    lod2 = nrw_input(n, spill_dir) if kind == "lod2" else None
    with ProcessMemory() as memory, open_executor(spec) as runner:
        memory.mark()
        start = time.perf_counter()
        if lod1 is not None:
            copies = -(-n // len(lod1.footprints))
            read = sum(runner.map(lod1_chunk, lod1, range(-(-copies // COPIES_PER_CHUNK))))
            frame = frame_at(11.28, 49.51, LAUF_GROUND)
        else:
            assert lod2 is not None
            read = sum(runner.map(lod2_file, lod2, range(lod2.copies * len(lod2.files))))
            frame = frame_at(6.6, 51.6, 20.0 + NRW_UNDULATION)
        spilled = time.perf_counter()
        summary = write_partitions(
            spilled_partitions(spill_dir),
            crs=UTM32,
            frame=frame,
            out_dir=out,
            options=TilingOptions(),
            executor=runner,
        )
        done = time.perf_counter()
        driver_cpu, workers_cpu = memory.cpu_since_mark()  # before the cluster stops
    return {
        "buildings": read,
        "seconds": done - start,
        "read_seconds": spilled - start,
        "tile_seconds": done - spilled,
        "bytes": summary.bytes,
        "leaf_bytes": summary.leaf_bytes,
        "partitions": summary.partitions,
        "worker_mib": memory.worker(),
        "driver_mib": memory.driver(),
        "driver_cpu": driver_cpu,
        "workers_cpu": workers_cpu,
        "overview_60km": fetched_bytes(out / "tileset.json", 60_000.0),
        "near_500m": fetched_bytes(out / "tileset.json", 500.0),
    }


def write_build_inputs(n: int, folder: Path, per_file: int = 200_000) -> Path:
    """The Lauf footprints replicated to ``n`` buildings as FlatGeobuf files of ``per_file``, and a pipeline."""
    import pyogrio  # noqa: PLC0415

    from twin3d.io.vector import read_vector  # noqa: PLC0415

    table = read_vector(LAUF, UTM32)
    base = table.geometry
    levels = np.asarray(table.column("building:levels").to_numpy(zero_copy_only=False), dtype=object)
    kind = np.asarray(table.column("building").to_numpy(zero_copy_only=False), dtype=object)
    x0, y0, x1, y1 = shapely.total_bounds(base)
    step, copies = max(x1 - x0, y1 - y0) + GAP_M, -(-n // len(base))
    side = math.ceil(math.sqrt(copies))
    (folder / "data").mkdir(parents=True)
    written, k = 0, 0
    while written < n:
        parts: list[np.ndarray] = []
        ids, lv, kd = [], [], []
        while (pending := sum(len(x) for x in parts)) < per_file and written + pending < n:
            take = min(len(base), n - written - pending)
            offset = np.array([(k % side) * step, (k // side) * step])
            parts.append(shapely.transform(base[:take], lambda c, o=offset: c + o))
            ids.append(np.char.add(f"c{k}_", np.arange(take).astype(str)))
            lv.append(levels[:take])
            kd.append(kind[:take])
            k += 1
        geoms = np.concatenate(parts)
        pyogrio.raw.write(
            folder / "data" / f"buildings_{written // per_file:04d}.fgb",
            geometry=shapely.to_wkb(geoms),
            field_data=[np.concatenate(ids).astype(object), np.concatenate(lv), np.concatenate(kd)],
            fields=["osm_id", "building:levels", "building"],
            crs="EPSG:25832",
            geometry_type="Unknown",
            driver="FlatGeobuf",
        )
        written += len(geoms)
    pipeline = folder / "pipelines" / "scale.toml"
    pipeline.parent.mkdir()
    pipeline.write_text(
        '[twin]\nname = "scale"\ntitle = "Lauf replicated"\ncrs = "EPSG:25832"\n'
        "ground_height = 327.0\ngeoid_undulation = 47.8\n\n"
        '[[sources]]\nname = "buildings"\nkind = "buildings"\npath = "../data/*.fgb"\n'
        'id_field = "osm_id"\ntype_field = "building"\nlevels_field = "building:levels"\n'
        'source_label = "osm"\n',
        encoding="utf-8",
    )
    return pipeline


def run_build(pipeline: Path, spec: ExecutorSpec, work: Path) -> dict[str, float]:
    """The real ``twin3d build`` on the replicated files: read per file, spill, tile, load the store."""
    from twin3d.pipeline.build import build_twin  # noqa: PLC0415
    from twin3d.pipeline.config import load_pipeline  # noqa: PLC0415
    from twin3d.settings import PathSettings  # noqa: PLC0415

    paths = PathSettings(pipelines_dir=pipeline.parent, store_dir=work / "var", tiles_dir=work / "tiles")
    with ProcessMemory() as memory:
        start = time.perf_counter()
        report = build_twin(load_pipeline(pipeline), paths, executor=spec)
        seconds = time.perf_counter() - start
    return {
        "buildings": report.counts.get("buildings", 0),
        "seconds": seconds,
        "bytes": report.tile_bytes,
        "worker_mib": memory.worker(),
        "driver_mib": memory.driver(),
    }


def tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            digest.update(f.relative_to(folder).as_posix().encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def emit_rate_and_memory(tag: str, r: dict[str, float], **extra: object) -> None:
    emit(
        f"{tag}_buildings_per_s",
        r["buildings"] / r["seconds"],
        "buildings/s",
        buildings=int(r["buildings"]),
        seconds=round(r["seconds"], 1),
        cpus=os.cpu_count(),
        **extra,
    )
    emit(f"{tag}_peak_memory_per_worker", r["worker_mib"], "MiB", measure="peak RSS (VmHWM), largest worker process")
    emit(f"{tag}_peak_memory_driver", r["driver_mib"], "MiB", measure="peak RSS (VmHWM), the driver process")


def run_executors(kind: str, n: int, executors: list[str], scratch: Path, round_no: int) -> dict[str, float]:
    """One round: every executor once on the same data; returns buildings/s by executor."""
    rates = {}
    for text in executors:
        spec = parse_executor(text)
        r = run(kind, n, spec, scratch / f"{kind}-{text.replace(':', '-')}-{round_no}")
        tag = f"{kind}_{spec.kind}_{spec.workers}"
        rates[f"{spec.kind}:{spec.workers}"] = r["buildings"] / r["seconds"]
        emit_rate_and_memory(
            tag,
            r,
            round=round_no,
            read_seconds=round(r["read_seconds"], 1),
            tile_seconds=round(r["tile_seconds"], 1),
            partitions=int(r["partitions"]),
            driver_cpu_s=round(r["driver_cpu"], 1),
            workers_cpu_s=round(r["workers_cpu"], 1),
        )
        if round_no:
            continue  # the same bytes every round
        emit(
            f"{tag}_bytes_per_building",
            r["bytes"] / r["buildings"],
            "B/building",
            full_detail_only=round(r["leaf_bytes"] / r["buildings"], 1),
        )
        emit(
            f"{tag}_fetched_from_60km",
            r["overview_60km"] / 1e6,
            "MB",
            near_500m_mb=round(r["near_500m"] / 1e6, 2),
            how="screen-space error 16, 900 px, 60 degrees, every tile on the way loaded",
        )
    return rates


# Ratios the issue asks about: (faster, baseline) pairs, each compared within a round (this machine's speed swings
# between minutes, not within one), the median over the rounds.
RATIOS = (("dask:2", "dask:1"), ("dask:2", "processes:2"), ("processes:2", "local:1"), ("dask:2", "local:1"))


def emit_ratios(kind: str, rounds: list[dict[str, float]]) -> None:
    for fast, base in RATIOS:
        per_round = [r[fast] / r[base] for r in rounds if fast in r and base in r]
        if per_round:
            emit(
                f"{kind}_{fast.replace(':', '_')}_over_{base.replace(':', '_')}",
                float(np.median(per_round)),
                "x",
                rounds=[round(v, 3) for v in per_round],
                baseline=base,
            )


def parse_executor(text: str) -> ExecutorSpec:
    kind, _, workers = text.partition(":")
    return ExecutorSpec(kind, int(workers or 1))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lod1", type=int, default=1_000_000, help="LoD1 buildings (0: skip)")
    parser.add_argument("--lod2", type=int, default=0, help="LoD2 buildings (0: skip)")
    parser.add_argument("--executors", default="local,processes:2,dask:1,dask:2", help="comma-separated kind[:workers]")
    parser.add_argument("--build", type=int, default=0, help="buildings of a whole `twin3d build` (0: skip)")
    parser.add_argument("--identity", type=int, default=100_000, help="buildings of the byte-identity check (0: skip)")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of every executor (ratios: median of rounds)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="twin3d-scale-", dir=args.work))
    try:
        if args.identity:
            digests = {}
            for spec in (ExecutorSpec("local"), ExecutorSpec("dask", 2)):
                work = scratch / f"identity-{spec.kind}"
                run("lod1", args.identity, spec, work)
                digests[spec.kind] = tree_digest(work / "tiles")
            emit(
                "lod1_identical_across_executors",
                float(len(set(digests.values())) == 1),
                "bool",
                buildings=args.identity,
                compared="local vs dask:2, every file of the tileset",
            )
        if args.build:
            pipeline = write_build_inputs(args.build, scratch / "inputs")
            for text in args.executors.split(","):
                spec = parse_executor(text)
                r = run_build(pipeline, spec, scratch / f"build-{text.replace(':', '-')}")
                what = "twin3d build: read FlatGeobuf files, check, spill, tile, load the DuckDB store"
                emit_rate_and_memory(f"build_{spec.kind}_{spec.workers}", r, what=what)
        for kind, n in (("lod1", args.lod1), ("lod2", args.lod2)):
            if n:
                rates = [run_executors(kind, n, args.executors.split(","), scratch, r) for r in range(args.repeat)]
                emit_ratios(kind, rates)
    finally:
        # Removed only now: on ext4, files created soon after many were deleted cost much more (the inode
        # allocator steps over recently deleted inodes), so a run that deleted the previous one's output slowed
        # the next one down.
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
