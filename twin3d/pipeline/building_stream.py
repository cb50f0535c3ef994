"""The buildings of a build as a stream: read per file, spilled per partition, tiled per partition, loaded from disk.

A Land's buildings do not fit in one process, so no step holds them all:

1. **read** (one task per file, on the build's executor): a worker reads a file, checks it, cuts its buildings
   into partitions and writes each partition's share into the spill folder (:mod:`twin3d.tiling.spill`), and the
   store's rows of the file as Parquet. It hands back only counts, bounds and what it reported.
2. **tile** (one task per partition): a worker loads its partition's shares, writes its tiles and which tile
   holds each building.
3. **load**: DuckDB reads the rows and the tile of each building from those files into the store.

The step context (CRS, rules, DEM, the districts that partition) is sent to each worker once. Results come back
in file and partition order, and shares are joined in file order, so tiles, store and report are the same
whichever executor ran the steps. With several machines the spill folder must be on storage they share.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS

from twin3d.executor import Executor
from twin3d.io.osm_split import OsmPiece, split_osm
from twin3d.pipeline.buildings import BuildingRows, buildings_from_3d, buildings_from_vector
from twin3d.pipeline.config import BuildingsSource
from twin3d.pipeline.heights import HEIGHT_SOURCES
from twin3d.pipeline.report import BuildReport, SourceSummary
from twin3d.pipeline.sources import StepContext, geometry_columns
from twin3d.pipeline.tiles import building_properties, partition_ids
from twin3d.population.placement import BuildingStock
from twin3d.store.writer import StoreWriter
from twin3d.tiling.spill import Piece, read_pieces, spilled_pieces, write_pieces
from twin3d.tiling.tileset import Partition, partition_groups

PARTS_DIR = "parts"
OSM_DIR = "osm"  # the pieces of large OSM files
ROWS_DIR = "rows"
TILE_OF = "tile_of"  # <pid>.parquet: which content file holds each building, written by the tiling tasks
STORE_COLUMNS = (
    "building_id",
    "source",
    "building_type",
    "name",
    "height",
    "height_source",
    "levels",
    "ground_height",
    "footprint_m2",
    "attributes",
)


@dataclass(frozen=True)
class ReadContext:
    """What every file task shares: the step context, how buildings are partitioned, where shares go."""

    step: StepContext
    partition: str
    block_size_m: float
    districts: tuple[pa.Table, ...]
    folder: Path
    with_stock: bool  # hand back what the population synthesis needs of each building


@dataclass(frozen=True)
class _FileTask:
    src: BuildingsSource
    file: Path
    chunk: str
    piece: OsmPiece | None = None  # one piece of a large OSM file (see twin3d.io.osm_split)


@dataclass(frozen=True)
class FileRead:
    """What a file task hands back: no buildings, only what the driver needs of them."""

    count: int
    bounds: np.ndarray  # x0, y0, x1, y1 in the twin CRS (NaN without buildings)
    height_sources: dict[str, int]
    report: BuildReport
    summary: SourceSummary
    stock: BuildingStock | None


def building_stock(rows: BuildingRows) -> BuildingStock:
    """What the population synthesis needs of the buildings: a point inside each, its area, kind, storeys, height."""
    levels = rows.columns["levels"].to_numpy(zero_copy_only=False).astype(np.float64)
    return BuildingStock.of(
        ids=rows.ids.to_numpy(zero_copy_only=False).astype(object),
        footprints=rows.footprints,
        building_type=rows.columns["building_type"].to_numpy(zero_copy_only=False).astype(object),
        levels=levels,
        height=rows.height,
    )


def _store_rows(rows: BuildingRows, crs: CRS) -> pa.Table:
    return pa.table(
        {
            "building_id": rows.ids,
            **{k: rows.columns[k] for k in ("source", "building_type", "name")},
            "height": pa.array(rows.height, pa.float64()),
            "height_source": rows.columns["height_source"],
            "levels": rows.columns["levels"],
            "ground_height": pa.array(rows.ground, pa.float64()),
            "footprint_m2": pa.array(shapely.area(rows.footprints), pa.float64()),
            "attributes": rows.columns["attributes"],
            **geometry_columns(rows.footprints, crs),
        }
    )


def _read_file(ctx: ReadContext, task: _FileTask) -> FileRead:
    """Read one file and spill it; its report and summary are its own (the worker's context is a private copy)."""
    report = BuildReport(ctx.step.report.twin)
    summary = SourceSummary(task.src.name, task.src.kind, [task.file])
    step = replace(ctx.step, report=report)
    if task.src.format in ("cityjson", "citygml"):
        rows = buildings_from_3d(task.src, task.file, step, summary)
    else:
        rows = buildings_from_vector(task.src, task.file, step, summary, task.piece)
    n = len(rows.ids)
    bounds = np.asarray(shapely.total_bounds(rows.footprints)) if n else np.full(4, np.nan)
    sources = rows.columns["height_source"].to_numpy(zero_copy_only=False)
    if n:
        centroids = shapely.centroid(rows.footprints)
        xy = np.column_stack([shapely.get_x(centroids), shapely.get_y(centroids)])
        pids, groups = partition_groups(partition_ids(xy, ctx.partition, ctx.block_size_m, list(ctx.districts)))
        write_pieces(ctx.folder / PARTS_DIR, task.chunk, {p: rows.take(m) for p, m in zip(pids, groups, strict=True)})
        (ctx.folder / ROWS_DIR).mkdir(parents=True, exist_ok=True)
        pq.write_table(_store_rows(rows, step.crs), ctx.folder / ROWS_DIR / f"{task.chunk}.parquet")
    return FileRead(
        n,
        bounds,
        {s: int((sources == s).sum()) for s in HEIGHT_SOURCES if (sources == s).any()},
        report,
        summary,
        building_stock(rows) if ctx.with_stock and n else None,
    )


def _merge(report: BuildReport, summary: SourceSummary, result: FileRead, seen: set[tuple[str, str]]) -> None:
    """Add a file's (or piece's) report and counts; a drop already reported by another piece is counted once."""
    fresh = [d for d in result.report.drops if (d.record, d.reason) not in seen]
    if again := len(result.report.drops) - len(fresh):
        # An object broken in the file (a way cut at the extract's edge) is broken in every piece it reaches.
        result.summary.records_in -= again
        result.summary.dropped -= again
        result.report.drops = fresh
    seen.update((d.record, d.reason) for d in result.report.drops)
    report.drops.extend(result.report.drops)
    report.notes.extend(result.report.notes)
    report.warnings.extend(w for w in result.report.warnings if w not in report.warnings)
    for f in fields(SourceSummary):
        value = getattr(result.summary, f.name)
        if isinstance(value, int) and not isinstance(value, bool):
            setattr(summary, f.name, getattr(summary, f.name) + value)


def read_building_files(
    executor: Executor, ctx: ReadContext, src: BuildingsSource, files: list[Path], summary: SourceSummary, *, first: int
) -> list[FileRead]:
    """Read and spill every file of ``src`` (chunks numbered from ``first``); drops and counts go to the report.

    An OSM file larger than ``src.split_mb`` is cut into pieces first, one task each (chunks ``<file>-<piece>``).
    """
    out = []
    tasks = []
    for i, f in enumerate(files):
        chunk = f"{first + i:07d}"
        pieces = split_osm(f, src.split_mb, ctx.folder / OSM_DIR / chunk) if src.format == "osm" else []
        tasks.extend(
            [_FileTask(src, f, f"{chunk}-{j:04d}", p) for j, p in enumerate(pieces)] or [_FileTask(src, f, chunk)]
        )
    seen: dict[Path, set[tuple[str, str]]] = {}
    for task, result in zip(tasks, executor.map(_read_file, ctx, tasks), strict=True):
        _merge(ctx.step.report, summary, result, seen.setdefault(task.file, set()))
        out.append(result)
    return out


@dataclass(frozen=True)
class SpilledBuildings:
    """A partition of the build's buildings in the spill folder; the tiling worker loads it."""

    pid: str
    folder: Path
    pieces: tuple[Piece, ...]
    crs: CRS
    undulation: float

    def load(self) -> Partition:
        rows = BuildingRows.concat(read_pieces(self.folder / PARTS_DIR, self.pieces))
        return Partition(self.pid, rows.geometry(self.crs, self.undulation), building_properties(rows))


def spilled(folder: Path, crs: CRS, undulation: float) -> list[SpilledBuildings]:
    parts = folder / PARTS_DIR
    pieces = spilled_pieces(parts) if parts.is_dir() else {}
    return [SpilledBuildings(pid, folder, found, crs, undulation) for pid, found in pieces.items()]


def load_buildings(store: StoreWriter, folder: Path) -> int:
    """Insert the spilled rows with the tile of each building into the store, in file order."""
    rows = sorted(str(p) for p in (folder / ROWS_DIR).glob("*.parquet")) if (folder / ROWS_DIR).is_dir() else []
    if not rows:
        return 0
    columns = ", ".join(STORE_COLUMNS)
    selected = ", ".join(f"r.{c}" for c in STORE_COLUMNS)
    return store.insert_query(
        "buildings",
        f"{columns}, tile, geom, geom_wgs84",
        f"SELECT {selected}, t.tile, ST_GeomFromWKB(r.geom), ST_GeomFromWKB(r.geom_wgs84) "
        "FROM read_parquet(?, filename = true, file_row_number = true) r "
        "JOIN read_parquet(?) t USING (building_id) ORDER BY r.filename, r.file_row_number",
        [rows, str(folder / TILE_OF / "*.parquet")],
    )
