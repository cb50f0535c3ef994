"""``twin3d build``: read every source, check it, load a new store and write the tileset, then swap both in.

All reading and checking happens before anything is written, and both outputs are staged beside their targets,
so a bad input leaves an existing twin exactly as it was. Each build writes its tiles into a folder of its own
(``<tiles_dir>/<twin>/<build_id>/``, see :mod:`twin3d.pipeline.staging`) and then swaps the store in: that rename
is the commit point, so a store is never paired with the tiles of another build.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from twin3d import __version__
from twin3d.errors import StoreError
from twin3d.executor import Executor, ExecutorSpec, open_executor
from twin3d.io.crs import datum_fallback, geoid_undulation, grid_fix, transform_points
from twin3d.jsonfile import locked
from twin3d.pipeline.basemap import basemap_step
from twin3d.pipeline.building_stream import (
    TILE_OF,
    FileRead,
    ReadContext,
    load_buildings,
    read_building_files,
    spilled,
)
from twin3d.pipeline.cadastre import land_use_table, parcels_table, twin_type_names, type_names_table
from twin3d.pipeline.config import (
    BuildingsSource,
    DistrictsSource,
    DistrictStatsSource,
    FacilitiesSource,
    GreensSource,
    GridStatsSource,
    LandUseSource,
    ParcelsSource,
    PathsSource,
    PipelineConfig,
    RoadsSource,
    StreetsSource,
)
from twin3d.pipeline.heights import HEIGHT_SOURCES
from twin3d.pipeline.population_step import population_step
from twin3d.pipeline.report import BuildReport, SourceSummary
from twin3d.pipeline.sources import (
    StepContext,
    district_stats_table,
    districts_table,
    facilities_table,
    greens_table,
    grid_tables,
    paths_table,
    roads_table,
    streets_table,
)
from twin3d.pipeline.staging import (
    BUILD_ID,
    StagedDir,
    build_dir,
    latest_build,
    new_build_id,
    prune_builds,
    remove_leftovers,
)
from twin3d.pipeline.terrain import terrain_table
from twin3d.pipeline.tiles import tiling_options
from twin3d.population.placement import BuildingStock
from twin3d.settings import PathSettings
from twin3d.store import queries
from twin3d.store.area_names import name_grid_cells
from twin3d.store.connection import connect
from twin3d.store.search import build_search_index
from twin3d.store.writer import StoreWriter
from twin3d.tiling.geodesy import frame_at
from twin3d.tiling.tileset import write_partitions

Progress = Callable[[str, int, int], None]
TILESET_FILE = "tileset.json"
SPILL = ".spill"
HOME_VIEW_MIN_BUILDINGS = 100


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class _Loaded:
    """Everything read from the sources, held until the store is written."""

    def __init__(self) -> None:
        self.tables: dict[str, list[pa.Table]] = {}
        self.buildings: list[FileRead] = []  # the buildings themselves are in the spill folder
        self.parents: list[tuple[str, str]] = []

    def building_bounds(self) -> list[np.ndarray]:
        return [r.bounds for r in self.buildings if r.count]

    def add(self, name: str, table: pa.Table) -> None:
        self.tables.setdefault(name, []).append(table)


def _context(cfg: PipelineConfig, crs: CRS, report: BuildReport, skip_invalid: bool) -> StepContext:
    return StepContext(
        crs,
        report,
        cfg.heights,
        cfg.twin.ground_height,
        cfg.tiles.min_footprint_area,
        skip_invalid,
        dem_path=Path(os.path.normpath(cfg.base_dir / cfg.twin.dem)) if cfg.twin.dem else None,
        dem_crs=cfg.twin.dem_crs,
    )


# Sources each of whose files becomes rows of one store table (buildings are read by tasks of their own, below).
_TABLE_STEPS: dict[type, tuple[str, Callable[[Any, Path, StepContext, SourceSummary], pa.Table]]] = {
    FacilitiesSource: ("facilities", facilities_table),
    PathsSource: ("paths", paths_table),
    GreensSource: ("greens", greens_table),
    ParcelsSource: ("parcels", parcels_table),
    LandUseSource: ("land_use", land_use_table),
    StreetsSource: ("streets", streets_table),
    RoadsSource: ("roads", roads_table),
}


def _read_sources(
    cfg: PipelineConfig,
    crs: CRS,
    report: BuildReport,
    progress: Progress,
    skip_invalid: bool,
    *,
    executor: Executor,
    spill_dir: Path,
) -> _Loaded:
    loaded = _Loaded()
    ctx = _context(cfg, crs, report, skip_invalid)
    base = cfg.base_dir
    codes_by_level: dict[str, set[str]] = {}
    # Districts first: statistics are joined to them.
    ordered = sorted(cfg.sources, key=lambda s: 0 if isinstance(s, DistrictsSource) else 1)
    for i, src in enumerate(ordered):
        progress(f"reading {src.name}", i, len(ordered))
        files = [f for _, f in src.files_by_year(base)] if isinstance(src, DistrictStatsSource) else src.files(base)
        summary = SourceSummary(src.name, src.kind, files)
        report.sources.append(summary)
        for file in files:
            if isinstance(src, DistrictsSource):
                table = districts_table(src, file, ctx, summary)
                codes_by_level.setdefault(src.level, set()).update(table["code"].to_pylist())
                loaded.add("districts", table)
                if src.parent_level:
                    loaded.parents.append((src.level, src.parent_level))
            elif (step := _TABLE_STEPS.get(type(src))) is not None:
                loaded.add(step[0], step[1](src, file, ctx, summary))
            elif isinstance(src, GridStatsSource):
                cells, stats = grid_tables(src, file, ctx, summary)
                loaded.add("grid_cells", cells)
                loaded.add("grid_stats", stats)
        if isinstance(src, BuildingsSource):
            # Districts come first, so the districts that partition the buildings are known here.
            shared = ReadContext(
                ctx,
                cfg.tiles.partition,
                cfg.tiles.block_size_m,
                tuple(loaded.tables.get("districts", [])),
                spill_dir,
                with_stock=cfg.population is not None,
            )
            if (names := type_names_table(src, base)) is not None:
                loaded.add("type_names", names)
            chunk = len(loaded.buildings)
            loaded.buildings.extend(read_building_files(executor, shared, src, files, summary, first=chunk))
        if isinstance(src, DistrictStatsSource):
            known = codes_by_level.get(src.level, set())
            loaded.add("district_stats", district_stats_table(src, base, known, ctx, summary))
    return loaded


def _origin(cfg: PipelineConfig, crs: CRS, loaded: _Loaded) -> tuple[float, float]:
    """The twin origin (lon, lat): the middle of the buildings, else of the districts or grid."""
    if bounds := loaded.building_bounds():
        found = np.array(bounds)
        geoms = shapely.box(found[:, 0].min(), found[:, 1].min(), found[:, 2].max(), found[:, 3].max())
    else:
        geoms = np.concatenate(
            [
                shapely.from_wkb(t["geom"].to_numpy(zero_copy_only=False))
                for name in ("districts", "grid_cells")
                for t in loaded.tables.get(name, [])
            ]
            or [np.array([shapely.Point(0, 0)])]
        )
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    lon, lat = transform_points(np.array([(x0 + x1) / 2]), np.array([(y0 + y1) / 2]), crs, CRS.from_epsg(4326))
    return float(lon[0]), float(lat[0])


def _extent(loaded: _Loaded) -> tuple[float, float, float, float]:
    """The bounds (twin CRS) of everything the twin holds: where its terrain is kept."""
    bounds = loaded.building_bounds()
    for tables in loaded.tables.values():
        for t in tables:
            if "geom" in t.column_names:
                bounds.append(shapely.total_bounds(shapely.from_wkb(t["geom"].to_numpy(zero_copy_only=False))))
    found = np.array([b for b in bounds if np.isfinite(b).all()]).reshape(-1, 4)
    if not len(found):
        return (0.0, 0.0, 0.0, 0.0)
    return (found[:, 0].min(), found[:, 1].min(), found[:, 2].max(), found[:, 3].max())


def _building_stock(loaded: _Loaded) -> BuildingStock | None:
    stocks = [r.stock for r in loaded.buildings if r.stock is not None]
    if not stocks:
        return None
    return BuildingStock.concat(stocks)


def _population_note(report: dict[str, Any]) -> str:
    levels = ", ".join(
        f"{lv['level']} SRMSE <= {lv['max_srmse_fitted']} ({'met' if lv['met'] else 'NOT met'})"
        for lv in report["levels"]
    )
    return f"population: {report['persons']:,} persons in {report['households']:,} households; {levels}"


def _build_of(store: Path) -> str | None:
    """The build id of the store a build replaces (None: there is none, it predates build ids, or it is broken)."""
    if not store.is_file():
        return None
    try:
        con = connect(store, read_only=True)
    except StoreError:
        return None
    try:
        found = queries.build_id(con.cursor())
    except duckdb.Error:
        return None
    finally:
        con.close()
    return found if found and BUILD_ID.match(found) else None


def current_tiles(paths: PathSettings, twin: str) -> Path | None:
    """The tileset folder of the build the twin's store names (its old-layout folder if it predates build ids);
    None if the twin has no store or no tileset."""
    folder = build_dir(paths.tileset_dir(twin), _build_of(paths.store_file(twin)))
    return folder if (folder / TILESET_FILE).is_file() else None


@dataclass
class _Build:
    """A build being written: its id, its store, its staged tiles folder and the tileset it follows."""

    build_id: str
    store: StoreWriter
    tiles: Path
    previous_tiles: Path | None


@contextmanager
def _committing(paths: PathSettings, twin: str) -> Iterator[_Build]:
    """Write a build, then commit it: the tiles folder moves into place, then the store (the commit point).

    After the commit, build folders older than the one replaced go, and what killed builds of this twin left.
    Builds of one twin commit one at a time, so one's clean-up never meets another's uncommitted build folder.
    """
    build_id = new_build_id()
    twin_tiles = paths.tileset_dir(twin)
    with locked(paths.store_dir / f".{twin}.build"):
        replaced = _build_of(paths.store_file(twin))
        named = build_dir(twin_tiles, replaced)
        # Unchanged partitions are linked from the replaced build; from any finished one if its store is broken.
        previous_tiles = named if (named / TILESET_FILE).is_file() else latest_build(twin_tiles)
        # Exits run inner first: the staged tiles are renamed into place before the store is swapped in.
        with StoreWriter(paths.store_file(twin)) as store, StagedDir(twin_tiles / build_id) as staged:
            yield _Build(build_id, store, staged.path, previous_tiles)
            store.put_meta("build_id", build_id)
        prune_builds(twin_tiles, build_id, replaced)
        remove_leftovers(twin_tiles, BUILD_ID)
        remove_leftovers(paths.tiles_dir, re.compile(re.escape(twin)))  # staged by builds before build folders
        remove_leftovers(paths.store_dir, re.compile(re.escape(paths.store_file(twin).name)))


def _undulation(cfg: PipelineConfig, crs: CRS, origin: tuple[float, float], report: BuildReport) -> float:
    """The geoid undulation at the twin origin (PROJ's grid, else the configured value, with a warning)."""
    twin = cfg.twin
    lon, lat = origin
    geoid = geoid_undulation(lon, lat, twin.height_system)
    if geoid.value is not None:
        undulation = geoid.value
        report.notes.append(f"geoid undulation {undulation:.3f} m at the twin origin from PROJ ({geoid.method})")
    else:
        undulation = twin.geoid_undulation
        grids = geoid.missing_grids
        # The grid named is the height system's own (NAP: nlgeo2018), so a wrong height_system shows here too.
        lacks = f"lacks the grid {', '.join(grids)} of" if grids else "has no grid covering the twin origin for"
        fix = f"; fix: {grid_fix(grids)}" if grids else ""
        report.warnings.append(
            f"heights above the ellipsoid use the configured quasigeoid undulation of {undulation:.2f} m at the twin "
            f"origin ({twin.geoid_source or 'pipeline definition'}): PROJ {lacks} {geoid.height_system}{fix}; "
            "if the heights are in another system, set height_system in [twin]"
        )
    if fallback := datum_fallback(crs, (lon, lat)):
        report.warnings.append(f"twin CRS {fallback.message()}")
    return float(undulation)


def build_twin(
    cfg: PipelineConfig,
    paths: PathSettings,
    progress: Progress | None = None,
    *,
    skip_invalid: bool = False,
    executor: ExecutorSpec | None = None,
) -> BuildReport:
    """Build one twin: store ``<store_dir>/<twin>.duckdb`` and tileset ``<tiles_dir>/<twin>/<build_id>/``.

    Args:
        cfg: the validated pipeline definition.
        paths: where the store and the tiles go.
        progress: called as ``progress(step, done, total)``.
        skip_invalid: leave out broken objects of 3D city models (counted in the report) instead of failing.
        executor: where city-model files are read and partitions tiled (default: forked processes if the
            pipeline's ``tiles.workers`` > 1, else this process); the outputs do not depend on it.

    Returns:
        The build report (also stored in the twin's metadata).

    Raises:
        Twin3dError: an input is unusable; nothing has been written then.
    """
    spec = executor or ExecutorSpec("processes" if cfg.tiles.workers > 1 else "local", cfg.tiles.workers)
    if spec.workers is None:
        spec = replace(spec, workers=cfg.tiles.workers)
    # The buildings' shares per partition and their store rows, between reading and tiling (next to the store:
    # with several machines on shared storage; removed with the build, or as a killed build's leftover).
    spill_dir = paths.store_dir / f".{cfg.twin.name}{SPILL}.{os.getpid()}.tmp"
    paths.store_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(paths.store_dir, re.compile(re.escape(cfg.twin.name + SPILL)))
    shutil.rmtree(spill_dir, ignore_errors=True)
    spill_dir.mkdir()
    try:
        with open_executor(spec) as runner:
            return _build(
                cfg,
                paths,
                report_progress=progress or (lambda step, done, total: None),
                skip_invalid=skip_invalid,
                runner=runner,
                spill_dir=spill_dir,
            )
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)


def _build(
    cfg: PipelineConfig,
    paths: PathSettings,
    *,
    report_progress: Progress,
    skip_invalid: bool,
    runner: Executor,
    spill_dir: Path,
) -> BuildReport:
    started = perf_counter()
    crs = CRS.from_user_input(cfg.twin.crs)
    twin = cfg.twin
    report = BuildReport(twin.name)
    loaded = _read_sources(cfg, crs, report, report_progress, skip_invalid, executor=runner, spill_dir=spill_dir)
    terrain = terrain_table(_context(cfg, crs, report, skip_invalid), _extent(loaded), report)

    lon, lat = _origin(cfg, crs, loaded)
    undulation = _undulation(cfg, crs, (lon, lat), report)
    ground_ellipsoidal = twin.ground_height + undulation
    frame = frame_at(lon, lat, ground_ellipsoidal)

    loaded.tables["type_names"] = twin_type_names(cfg, loaded.tables.get("type_names", []))
    with _committing(paths, twin.name) as build:
        store = build.store
        for table_name in (
            "districts", "district_stats", "grid_cells", "grid_stats", "facilities", "greens", "paths", "roads",
            "parcels", "land_use", "type_names",
        ):  # fmt: skip
            for table in loaded.tables.get(table_name, []):
                store.insert(table_name, table)
        for table in loaded.tables.get("streets", []):
            store.insert("streets", table)
        for level, parent in loaded.parents:
            store.assign_parents(level, parent)
        if terrain is not None:
            store.insert("terrain", terrain)

        if cfg.population is not None:
            report_progress("synthesising the population", 0, 1)
            population = population_step(
                cfg, loaded.tables, _building_stock(loaded), paths.privacy_key_file(twin.name), runner
            )
            for batch in population.households:
                store.insert("households", batch)
            for batch in population.persons:
                store.insert("persons", batch)
            store.insert("personas", population.personas)
            store.insert("population_public", population.public)
            store.put_meta("population_report", population.report)
            report.notes.append(_population_note(population.report))

        if partitions := spilled(spill_dir, crs, undulation):
            summary = write_partitions(
                partitions,
                crs=crs,
                frame=frame,
                out_dir=build.tiles,
                options=tiling_options(cfg),
                executor=runner,
                previous=build.previous_tiles,
                progress=lambda done: report_progress("writing tiles", done, len(partitions)),
                tile_of=spill_dir / TILE_OF,
            )
            report.tiles, report.tile_bytes = summary.tiles, summary.bytes
            report.notes.append(
                f"tiles: {summary.partitions} partition(s), {summary.reused_partitions} unchanged and kept; "
                f"{summary.leaf_bytes / max(summary.buildings, 1):.0f} B per building at full detail, "
                f"{summary.bytes / max(summary.buildings, 1):.0f} B with coarse levels"
            )
            report_progress("loading the buildings", 0, 1)
            load_buildings(store, spill_dir)
            for r in loaded.buildings:
                for source, n in r.height_sources.items():
                    report.height_sources[source] = report.height_sources.get(source, 0) + n
            report.height_sources = {s: report.height_sources[s] for s in HEIGHT_SOURCES if s in report.height_sources}

        name_grid_cells(store.con, twin.title)
        build_search_index(store.con, town=twin.title)
        if loaded.tables.get("parcels"):
            report.notes.append(store.derive_parcels(cfg.heights.storey_height))
        basemap = basemap_step(cfg, build, report, report_progress)
        report.counts = store.counts()
        report.seconds = perf_counter() - started
        attributions = {s.name: s.attribution for s in cfg.sources}
        store.write_sources(report, attributions, {s.name: [_sha256(f) for f in s.files] for s in report.sources})
        store.put_meta(
            "twin",
            {
                "name": twin.name,
                "title": twin.title,
                "description": twin.description,
                # The municipality's texts in the viewer's other language (German is the default).
                "i18n": {"en": twin.english()},
                "crs": twin.crs,
                "origin": {"lon": lon, "lat": lat, "height": ground_ellipsoidal},
                "ground_height": twin.ground_height,
                "geoid_undulation": undulation,
                "attribution": twin.attribution,
                "choropleth": twin.choropleth.model_dump() if twin.choropleth else None,
                "bbox_wgs84": store.extent_wgs84(),
                # The view a twin opens with: its buildings where it has a town's worth, else all of it.
                "home_bbox_wgs84": store.extent_wgs84(("buildings",))
                if report.counts.get("buildings", 0) >= HOME_VIEW_MIN_BUILDINGS
                else store.extent_wgs84(),
                "tileset": TILESET_FILE if report.tiles else None,
                "basemap": basemap,
                "district_levels": [
                    {
                        "level": s.level,
                        "title": s.level_title or s.level,
                        "title_en": s.level_title_en,
                        "parent_level": s.parent_level,
                    }
                    for s in cfg.sources
                    if isinstance(s, DistrictsSource)
                ],
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "twin3d_version": __version__,
            },
        )
        store.put_meta("build_report", report.as_dict())
    report.seconds = perf_counter() - started
    return report
