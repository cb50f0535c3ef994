"""Building sources: footprints with inferred heights (LoD1) and 3D city models (CityJSON, CityGML).

Each step returns :class:`BuildingRows`: what the store keeps about each building, and the geometry the tiler
meshes (extruded footprints or the model's own surfaces).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.alkis import postnas_text, read_nas
from twin3d.io.cityjson import read_cityjson
from twin3d.io.osm_split import OsmPiece
from twin3d.io.raster import footprint_ground, read_dem
from twin3d.io.surfaces import Buildings3D, SkipLog, concat
from twin3d.io.vector import FeatureTable, read_vector
from twin3d.pipeline.config import BuildingsSource
from twin3d.pipeline.heights import infer_heights
from twin3d.pipeline.report import BuildReport, SourceSummary
from twin3d.pipeline.sources import StepContext, attributes_json, checked, id_column, report_skipped, text_column
from twin3d.pipeline.validate import POLYGONAL
from twin3d.tiling.geometry import BuildingGeometry, ExtrudedBuildings, MixedBuildings, SurfaceBuildings


@dataclass
class BuildingRows:
    """Buildings of one or more sources, ready for the store and the tiler.

    Attributes:
        ids: building ids.
        footprints: 2D footprints in the twin's CRS.
        ground: ground height under each building, metres above sea level.
        height: height above that ground, metres.
        columns: further store columns (source, building_type, name, height_source, levels, attributes).
        parts: consecutive runs of rows and their 3D model (None: extrude the footprints), in order.
    """

    ids: pa.Array
    footprints: np.ndarray
    ground: np.ndarray
    height: np.ndarray
    columns: dict[str, pa.Array]
    parts: list[tuple[int, Buildings3D | None]]

    @staticmethod
    def concat(parts: list[BuildingRows]) -> BuildingRows:
        return BuildingRows(
            pa.concat_arrays([p.ids for p in parts]),
            np.concatenate([p.footprints for p in parts]),
            np.concatenate([p.ground for p in parts]),
            np.concatenate([p.height for p in parts]),
            {k: pa.concat_arrays([p.columns[k] for p in parts]) for k in parts[0].columns},
            _joined_runs([run for p in parts for run in p.parts]),
        )

    def take(self, members: np.ndarray) -> BuildingRows:
        """The rows at the ascending positions ``members`` (a partition's share of a file)."""
        runs: list[tuple[int, Buildings3D | None]] = []
        start = 0
        for count, model in self.parts:
            mine = members[(members >= start) & (members < start + count)] - start
            if len(mine):
                runs.append((len(mine), model.subset(mine) if model is not None else None))
            start += count
        index = pa.array(members)
        return BuildingRows(
            self.ids.take(index),
            self.footprints[members],
            self.ground[members],
            self.height[members],
            {k: v.take(index) for k, v in self.columns.items()},
            runs,
        )

    def geometry(self, crs: CRS, undulation: float) -> BuildingGeometry:
        """What the tiler meshes: extruded footprints or model surfaces, heights above the ellipsoid."""
        pieces: list[BuildingGeometry] = []
        start = 0
        for count, model in self.parts:
            rows = slice(start, start + count)
            if model is None:
                base = self.ground[rows] + undulation
                pieces.append(ExtrudedBuildings(self.footprints[rows], base, base + self.height[rows], crs))
            else:
                pieces.append(SurfaceBuildings(model, undulation, crs, self.footprints[rows]))
            start += count
        return pieces[0] if len(pieces) == 1 else MixedBuildings(tuple(pieces), crs)


def _joined_runs(runs: list[tuple[int, Buildings3D | None]]) -> list[tuple[int, Buildings3D | None]]:
    """Neighbouring runs of one kind as one (footprints with footprints, models with models): a partition whose
    buildings came from several files or chunks meshes as one collection, whichever way they were cut."""
    groups: list[list[tuple[int, Buildings3D | None]]] = []
    for run in runs:
        if groups and (run[1] is None) == (groups[-1][0][1] is None):
            groups[-1].append(run)
        else:
            groups.append([run])
    return [
        (sum(n for n, _ in g), concat([m for _, m in g if m is not None]) if g[0][1] is not None else None)
        for g in groups
    ]


def sampled_ground(ctx: StepContext, footprints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ground height (above sea level) under each footprint, and where the DEM gave it: the DEM where it covers a
    footprint, else the twin-wide ``ground_height``."""
    ground = np.full(len(footprints), ctx.ground_height)
    covered = np.zeros(len(footprints), dtype=bool)
    if ctx.dem_path is None or not len(footprints):
        return ground, covered
    dem = read_dem(
        ctx.dem_path, declared_crs=ctx.dem_crs, bounds=tuple(shapely.total_bounds(footprints)), bounds_crs=ctx.crs
    )
    sampled = footprint_ground(dem, footprints, ctx.crs)
    covered = np.isfinite(sampled)
    ground[covered] = sampled[covered]
    return ground, covered


def terrain_ground(ctx: StepContext, footprints: np.ndarray, report: BuildReport, file: Path) -> np.ndarray:
    """Ground height (above sea level) under each footprint: the DEM where it covers it, else the twin-wide one."""
    ground, covered = sampled_ground(ctx, footprints)
    if ctx.dem_path is not None and len(footprints):
        report.notes.append(
            f"{file.name}: ground from the DEM for {int(covered.sum()):,} building(s), "
            f"twin-wide {ctx.ground_height:g} m for {int((~covered).sum()):,} outside it"
        )
    return ground


BASE_TOLERANCE_M = 10.0
"""How far a measured building base may lie from the ground under it (the DEM, else the twin-wide height): slopes,
basements and a coarse ground leave a few metres; a relative height (z = 0) or another vertical datum leaves tens."""


def check_base_heights(
    file: Path, base: np.ndarray, ground: np.ndarray, from_dem: np.ndarray, report: BuildReport
) -> None:
    """Measured building bases against the ground: a warning with the count and the likely cause, or an error where
    the heights are clearly wrong (relative heights, or most bases off the DEM) and the buildings would float or sink.

    Raises:
        InputError: the bases look relative to the ground (z = 0), or more than half lie off the DEM.
    """
    offset = base - ground
    off = np.abs(offset) > BASE_TOLERANCE_M
    if not off.any():
        return
    where = "the DEM" if from_dem.all() else "the twin-wide ground_height" if not from_dem.any() else "the ground"
    message = (
        f"{int(off.sum()):,} of {len(base):,} building bases lie more than {BASE_TOLERANCE_M:g} m from {where} "
        f"(median offset {float(np.median(offset)):+.1f} m)"
    )
    # Bases around z = 0 where the ground lies well above (or below) it: heights measured from the ground.
    relative = abs(float(np.median(base))) < BASE_TOLERANCE_M / 2 < float(np.median(np.abs(ground))) / 4
    if relative:
        cause = "the heights look relative to the ground (z = 0 at the base)"
        fix = "use a file with absolute heights (DHHN2016), or footprints with heights instead of 3D buildings"
    else:
        cause = "another vertical datum (ellipsoidal or DHHN12 heights, a Bessel-era datum) or a wrong ground_height"
        fix = "check the file's height reference and the twin's ground_height and DEM"
    if relative or (from_dem[off].sum() > len(base) / 2):
        raise InputError(f"{message}; likely cause: {cause}", file=file, hint=fix)
    report.warnings.append(f"{file.name}: {message}; likely cause: {cause} ({fix})")


def _optional(table: FeatureTable, name: str | None) -> pa.ChunkedArray | None:
    return table.column(name) if name and name in table.attributes.column_names else None


def buildings_from_vector(
    src: BuildingsSource, file: Path, ctx: StepContext, summary: SourceSummary, piece: OsmPiece | None = None
) -> BuildingRows:
    """Footprints with heights inferred from tags (see :mod:`twin3d.pipeline.heights`), extruded to LoD1.

    With ``piece`` only that piece of the OSM ``file`` is read, and of it only the buildings the piece owns; the
    report names ``file``.
    """
    crs, report = ctx.crs, ctx.report
    if src.format == "osm":
        from twin3d.io.osm import read_osm_buildings  # noqa: PLC0415  (pyosmium only when needed)

        skipped = SkipLog()
        table = read_osm_buildings(piece.path if piece else file, crs, skipped=skipped)
        if piece is not None:
            table = table.take(piece.owns(table.geometry, crs))
            table = FeatureTable(file, table.source_crs, table.geometry, table.attributes)
            skipped.entries = [(str(file), record, reason) for _, record, reason in skipped.entries]
        report_skipped(ctx, summary, skipped)
    elif src.format == "nas":
        skipped = SkipLog()
        table = read_nas(file, crs, "buildings", declared_crs=src.crs, skipped=skipped)
        report_skipped(ctx, summary, skipped)
    else:
        table = read_vector(file, crs, declared_crs=src.crs, layer=src.layer)
    # OSM ids by default: stable across builds, and the same whichever piece of a split file a building came from.
    ids = id_column(table, src.id_field or ("osm_id" if src.format == "osm" else None), f"{src.name}-")
    kept, kept_ids, _ = checked(ctx, summary, table, POLYGONAL, ids, min_area=ctx.min_footprint_area)
    n = len(kept)
    types = pc.fill_null(text_column(kept, src.type_field, n), "yes" if src.source_label == "osm" else "building")
    heights = infer_heights(
        n,
        ctx.heights,
        height_tag=_optional(kept, src.height_field),
        levels_tag=_optional(kept, src.levels_field),
        building_type=types,
    )
    if heights.unusable_tags:
        report.notes.append(f"{file.name}: {heights.unusable_tags} height tag(s) unusable, next rule used")
    if heights.unusable_levels:
        report.notes.append(f"{file.name}: {heights.unusable_levels} storey tag(s) unusable, next rule used")
    ground = terrain_ground(ctx, kept.geometry, report, file)
    return BuildingRows(
        kept_ids,
        kept.geometry,
        ground,
        heights.height,
        {
            "source": pa.array([src.source_label] * n, pa.string()),
            "building_type": types,
            "name": postnas_text(text_column(kept, src.name_field, n)),
            "height_source": pa.array(heights.source.astype(str), pa.string()),
            "levels": pa.array(heights.levels, pa.float64(), mask=np.isnan(heights.levels)),
            "attributes": attributes_json(kept, src.keep_fields),
        },
        [(n, None)],
    )


def read_3d(src: BuildingsSource, file: Path, ctx: StepContext, skipped: SkipLog) -> Buildings3D:
    """The 3D buildings of a CityJSON or CityGML file, reprojected to the twin's CRS."""
    if src.format == "citygml":
        from twin3d.io.citygml import read_citygml_buildings  # noqa: PLC0415  (lxml only when needed)

        return read_citygml_buildings(
            file, ctx.crs, declared_crs=src.crs, skip_invalid=ctx.skip_invalid, skipped=skipped
        )
    return read_cityjson(file, ctx.crs, declared_crs=src.crs, skip_invalid=ctx.skip_invalid, skipped=skipped)


def buildings_from_3d(src: BuildingsSource, file: Path, ctx: StepContext, summary: SourceSummary) -> BuildingRows:
    """3D buildings with measured heights: ground = lowest vertex, height = highest - lowest; LoD2 tiles."""
    skipped = SkipLog()
    model = read_3d(src, file, ctx, skipped)
    report_skipped(ctx, summary, skipped)
    ctx.report.textures_dropped(summary, skipped.textured)
    footprints = model.footprints()
    table = FeatureTable(file, model.source_crs, footprints, model.attributes)
    ids = pc.cast(model.attributes["id"], pa.string()).combine_chunks()
    kept, kept_ids, mask = checked(ctx, summary, table, POLYGONAL, ids, min_area=ctx.min_footprint_area)
    model = model.take(mask)
    lo, hi = model.z_range()
    ground, from_dem = sampled_ground(ctx, kept.geometry)
    check_base_heights(file, lo, ground, from_dem, ctx.report)
    n = len(kept)
    attrs = model.attributes
    measured = attrs["measured_height"].to_numpy(zero_copy_only=False)
    extra = [
        json.dumps({k: v for k, v in row.items() if v is not None and k not in ("id", "function", "name")})
        for row in attrs.select(["measured_height", "roof_type", "storeys", "lod"]).to_pylist()
    ]
    height = hi - lo
    return BuildingRows(
        kept_ids,
        kept.geometry,
        lo,
        np.where(np.isfinite(measured) & (measured > 0), measured, height) if len(measured) else height,
        {
            "source": pa.array([src.source_label] * n, pa.string()),
            "building_type": pc.fill_null(pc.cast(attrs["function"], pa.string()), "Building").combine_chunks(),
            "name": pc.cast(attrs["name"], pa.string()).combine_chunks(),
            "height_source": pa.array(["measured"] * n, pa.string()),
            "levels": pc.cast(attrs["storeys"], pa.float64()).combine_chunks(),
            "attributes": pa.array(extra, pa.string()),
        },
        [(n, model)],
    )
