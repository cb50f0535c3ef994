"""Pipeline steps that turn one source into store-ready Arrow tables (pure: no writing, no globals)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.crs import reproject, reprojection_warning
from twin3d.io.stats import read_district_table, read_eurostat_grid
from twin3d.io.surfaces import SkipLog
from twin3d.io.vector import FeatureTable, read_vector
from twin3d.io.zensus import read_grid, read_zensus_grid
from twin3d.pipeline.config import (
    DistrictsSource,
    DistrictStatsSource,
    FacilitiesSource,
    GreensSource,
    GridStatsSource,
    HeightRules,
    PathsSource,
    RoadsSource,
    StreetsSource,
)
from twin3d.pipeline.report import BuildReport, SourceSummary
from twin3d.pipeline.validate import LINEAR, POLYGONAL, PUNCTUAL, check_geometries, duplicate_mask

WGS84 = CRS.from_epsg(4326)


def geometry_columns(geoms: np.ndarray, crs: CRS) -> dict[str, pa.Array]:
    """WKB columns ``geom`` (twin CRS) and ``geom_wgs84`` (lon/lat) for the store."""
    return {
        "geom": pa.array(shapely.to_wkb(geoms), pa.binary()),
        "geom_wgs84": pa.array(shapely.to_wkb(reproject(geoms, crs, WGS84)), pa.binary()),
    }


def text_column(table: FeatureTable, field: str | None, n: int) -> pa.Array:
    if field is None:
        return pa.nulls(n, pa.string())
    return pc.cast(table.column(field), pa.string()).combine_chunks()


def id_column(table: FeatureTable, field: str | None, prefix: str) -> pa.Array:
    if field is None:
        return pa.array([f"{prefix}{i}" for i in range(len(table))], pa.string())
    ids = pc.cast(table.column(field), pa.string()).combine_chunks()
    missing = ids.is_null().to_numpy(zero_copy_only=False)
    if missing.any():
        fill = pa.array([f"{prefix}{i}" for i in range(len(table))], pa.string())
        ids = pc.if_else(ids.is_null(), fill, ids)
    return ids


def attributes_json(table: FeatureTable, fields: list[str]) -> pa.Array:
    if not fields:
        return pa.nulls(len(table), pa.string())
    cols = {f: table.column(f).to_pylist() for f in fields if f in table.attributes.column_names}
    rows = [
        json.dumps({k: v[i] for k, v in cols.items() if v[i] is not None}, ensure_ascii=False)
        for i in range(len(table))
    ]
    return pa.array(rows, pa.string())


def checked(
    ctx: StepContext,
    summary: SourceSummary,
    table: FeatureTable,
    kinds: tuple[str, ...],
    ids: pa.Array,
    *,
    min_area: float = 0.0,
) -> tuple[FeatureTable, pa.Array, np.ndarray]:
    """Run the geometry checks and drop duplicate ids; every dropped record goes into the report.

    Returns:
        The kept rows (geometries repaired), their ids, and the boolean mask of kept rows over the input.
    """
    crs, report = ctx.crs, ctx.report
    summary.records_in += len(table)
    result = check_geometries(table, crs, kinds, min_area=min_area)
    for reason, rows in result.reasons.items():
        report.drop_many(summary, table.path, ids.take(pa.array(rows)).to_numpy(zero_copy_only=False), reason)
    summary.repaired += result.repaired
    kept = FeatureTable(table.path, table.source_crs, result.geometry, table.attributes).take(result.keep)
    kept_ids = ids.filter(pa.array(result.keep))
    mask = result.keep.copy()
    dupes = duplicate_mask(kept_ids)
    if dupes.any():
        report.drop_many(
            summary,
            table.path,
            kept_ids.filter(pa.array(dupes)).to_numpy(zero_copy_only=False),
            "duplicate id (first occurrence kept)",
        )
        kept = kept.take(~dupes)
        kept_ids = kept_ids.filter(pa.array(~dupes))
        mask[np.flatnonzero(mask)[dupes]] = False
    # Inputs in a CRS of their own: a transformation PROJ could do better with a missing grid is named once per source.
    warning = reprojection_warning(table.source_crs, crs, kept.geometry)
    if warning and f"{summary.name}: {warning}" not in report.warnings:
        report.warnings.append(f"{summary.name}: {warning}")
    summary.records_out += len(kept)
    return kept, kept_ids, mask


@dataclass(frozen=True)
class StepContext:
    """What every source step needs besides its source: the twin's CRS, rules, and the report to write to."""

    crs: CRS
    report: BuildReport
    heights: HeightRules
    ground_height: float
    min_footprint_area: float
    skip_invalid: bool = False
    dem_path: Path | None = None
    dem_crs: str | None = None


def districts_table(src: DistrictsSource, file: Path, ctx: StepContext, summary: SourceSummary) -> pa.Table:
    """District polygons of one level, keyed ``<level>:<code>``."""
    crs = ctx.crs
    table = read_vector(file, crs, declared_crs=src.crs, layer=src.layer)
    codes = text_column(table, src.code_field, len(table))
    if codes.null_count:
        row = int(np.flatnonzero(codes.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputError(
            f"district without {src.code_field}", file=file, record=row, hint="every district needs a code"
        )
    kept, kept_codes, _ = checked(ctx, summary, table, POLYGONAL, codes)
    n = len(kept)
    return pa.table(
        {
            "district_id": pc.binary_join_element_wise(pa.array([src.level] * n), kept_codes, ":"),
            "level": pa.array([src.level] * n, pa.string()),
            "code": kept_codes,
            "name": pc.fill_null(text_column(kept, src.name_field, n), ""),
            "area_m2": pa.array(shapely.area(kept.geometry), pa.float64()),
            **geometry_columns(kept.geometry, crs),
        }
    )


def district_stats_table(
    src: DistrictStatsSource, base: Path, known_codes: set[str], ctx: StepContext, summary: SourceSummary
) -> pa.Table:
    """Statistics rows per (district, year, variable); rows for unknown district codes are dropped."""
    report = ctx.report
    parts = []
    notes: Counter[str] = Counter()
    for year, file in src.files_by_year(base):
        stats = read_district_table(file, src.key_field, src.rename)
        notes.update(stats.notes)
        summary.records_in += len(stats.keys)
        unknown = ~np.isin(stats.keys.to_numpy(zero_copy_only=False), list(known_codes))
        if unknown.any():
            report.drop_many(
                summary,
                file,
                stats.keys.filter(pa.array(unknown)).to_numpy(zero_copy_only=False),
                f"no {src.level} district with this code",
            )
        summary.records_out += int((~unknown).sum())
        values = stats.values.filter(pc.is_in(stats.values["key"], value_set=pa.array(sorted(known_codes))))
        n = values.num_rows
        variables = values["variable"]
        parts.append(
            pa.table(
                {
                    "district_id": pc.binary_join_element_wise(pa.array([src.level] * n), values["key"], ":"),
                    "year": pa.array([year] * n, pa.int32()),
                    "variable": variables,
                    "value": values["value"],
                    "unit": pa.array([src.units.get(v) for v in variables.to_pylist()], pa.string()),
                    "source": pa.array([src.name] * n, pa.string()),
                }
            )
        )
    report.notes.extend(f"{src.name}: {note} ({n} file(s))" for note, n in notes.items())
    return pa.concat_tables(parts)


def grid_tables(
    src: GridStatsSource, file: Path, ctx: StepContext, summary: SourceSummary
) -> tuple[pa.Table, pa.Table]:
    """Census grid cells (geometry) and their statistics."""
    crs, report = ctx.crs, ctx.report
    reader = {"auto": read_grid, "eurostat-grid": read_eurostat_grid, "zensus-grid": read_zensus_grid}[src.format]
    grid = reader(file, crs, src.rename)
    report.notes.extend(grid.stats.notes)
    summary.records_in += len(grid.cell_ids)
    summary.records_out += len(grid.cell_ids)
    cells = pa.table(
        {
            "cell_id": grid.cell_ids,
            "resolution_m": pa.array(grid.resolution_m, pa.float64()),
            **geometry_columns(grid.geometry, crs),
        }
    )
    values = grid.stats.values
    n = values.num_rows
    stats = pa.table(
        {
            "cell_id": values["key"],
            "year": pa.array([src.year] * n, pa.int32()),
            "variable": values["variable"],
            "value": values["value"],
            "unit": pa.array([src.units.get(v) for v in values["variable"].to_pylist()], pa.string()),
            "source": pa.array([src.name] * n, pa.string()),
        }
    )
    return cells, stats


def read_features(
    src: FacilitiesSource | GreensSource | PathsSource | RoadsSource,
    file: Path,
    ctx: StepContext,
    summary: SourceSummary,
) -> FeatureTable:
    """A vector file, or an OSM extract (whose unusable objects are reported as dropped)."""
    if src.format != "osm":
        return read_vector(file, ctx.crs, declared_crs=src.crs, layer=src.layer)
    from twin3d.io import osm, osm_roads  # noqa: PLC0415  (pyosmium only when needed)

    skipped = SkipLog()
    readers = {
        "facilities": osm.read_osm_pois,
        "greens": osm.read_osm_greens,
        "paths": osm.read_osm_paths,
        "roads": osm_roads.read_osm_roads,
    }
    reader = readers[src.kind]
    table = reader(file, ctx.crs, skipped=skipped)
    report_skipped(ctx, summary, skipped)
    return table


def report_skipped(ctx: StepContext, summary: SourceSummary, skipped: SkipLog) -> None:
    """Count what a reader left out as dropped records of the source, with the reader's reasons."""
    for path, object_id, reason in skipped.entries:
        ctx.report.drop_many(summary, Path(path), np.array([object_id]), reason)
    summary.records_in += len(skipped)


def facilities_table(src: FacilitiesSource, file: Path, ctx: StepContext, summary: SourceSummary) -> pa.Table:
    """Facilities as points; areas are represented by a point inside them."""
    crs, report = ctx.crs, ctx.report
    table = read_features(src, file, ctx, summary)
    ids = id_column(table, src.id_field, f"{src.name}-")
    kept, kept_ids, _ = checked(ctx, summary, table, PUNCTUAL + POLYGONAL, ids)
    geoms = kept.geometry.copy()
    areas = np.isin(shapely.get_type_id(geoms), [3, 6])
    if areas.any():
        geoms[areas] = shapely.point_on_surface(geoms[areas])
        report.notes.append(f"{file.name}: {int(areas.sum())} facility area(s) represented by a point inside")
    multi = shapely.get_type_id(geoms) == 4
    if multi.any():
        geoms[multi] = shapely.centroid(geoms[multi])
    n = len(kept)
    category = text_column(kept, src.category_field, n)
    return pa.table(
        {
            "facility_id": kept_ids,
            "category": pc.fill_null(category, "unknown"),
            "name": text_column(kept, src.name_field, n),
            "attributes": attributes_json(kept, src.keep_fields),
            "source": pa.array([src.name] * n, pa.string()),
            **geometry_columns(geoms, crs),
        }
    )


def greens_table(src: GreensSource, file: Path, ctx: StepContext, summary: SourceSummary) -> pa.Table:
    """Green areas as polygons with their area; the category is the OSM tag or the source's category field."""
    table = read_features(src, file, ctx, summary)
    ids = id_column(table, src.id_field or ("osm_id" if src.format == "osm" else None), f"{src.name}-")
    kept, kept_ids, _ = checked(ctx, summary, table, POLYGONAL, ids, min_area=1.0)
    n = len(kept)
    category_field = src.category_field or ("poi_kind" if src.format == "osm" else None)
    category = text_column(kept, category_field, n) if category_field else pa.nulls(n, pa.string())
    return pa.table(
        {
            "green_id": kept_ids,
            "category": pc.fill_null(category, "green"),
            "name": text_column(kept, src.name_field or ("name" if src.format == "osm" else None), n),
            "area_m2": pa.array(shapely.area(kept.geometry), pa.float64()),
            "source": pa.array([src.name] * n, pa.string()),
            **geometry_columns(kept.geometry, ctx.crs),
        }
    )


def paths_table(src: PathsSource, file: Path, ctx: StepContext, summary: SourceSummary) -> pa.Table:
    """Network lines (streets, footpaths) with their length."""
    crs = ctx.crs
    table = read_features(src, file, ctx, summary)
    ids = id_column(table, src.id_field, f"{src.name}-")
    kept, kept_ids, _ = checked(ctx, summary, table, LINEAR, ids)
    n = len(kept)
    return pa.table(
        {
            "path_id": kept_ids,
            "path_class": text_column(kept, src.class_field, n),
            "name": text_column(kept, src.name_field, n),
            "length_m": pa.array(shapely.length(kept.geometry), pa.float64()),
            "source": pa.array([src.name] * n, pa.string()),
            **geometry_columns(kept.geometry, crs),
        }
    )


_NO = frozenset({"no", "false", "0"})


def _optional_text(table: FeatureTable, src: RoadsSource, name: str) -> pa.Array:
    """A road attribute named by ``src``: nulls where the field is unset, or is a default the file lacks (a field
    named explicitly must exist)."""
    field = getattr(src, name)
    if field is None or (field not in table.attributes.column_names and name not in src.model_fields_set):
        return pa.nulls(len(table), pa.string())
    return text_column(table, field, len(table))


def _flag(values: pa.Array) -> pa.Array:
    """OSM yes/no-like values as booleans: null stays null; ``no``, ``false`` and ``0`` are false, others true."""
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    flags = pc.invert(pc.is_in(lowered, value_set=pa.array(sorted(_NO))))
    return pc.if_else(pc.is_null(values), pa.scalar(None, pa.bool_()), flags)  # is_in answers false for null


def _leading_int(values: pa.Array) -> pa.Array:
    """The integer a value starts with (``"2"``, ``"2;3"``, ``"-1"``), null where there is none."""
    found = pc.extract_regex(pc.utf8_trim_whitespace(values), r"^(?P<n>[-+]?\d+)")
    return pc.cast(pc.struct_field(found, "n"), pa.int32())


def roads_table(src: RoadsSource, file: Path, ctx: StepContext, summary: SourceSummary) -> pa.Table:
    """Roads for motor traffic with class, parsed speed limit (km/h), lanes, oneway, layer, tunnel and bridge.

    Rows whose class is not in :data:`twin3d.io.osm_roads.MOTOR_ROAD_CLASSES` are left out (reported); speed limits
    that give no number are counted by reason in a note (the noise model assumes the class's speed there).
    """
    from twin3d.io.osm_roads import MOTOR_ROAD_CLASSES, parse_maxspeed  # noqa: PLC0415  (pyosmium only when needed)

    table = read_features(src, file, ctx, summary)
    ids = id_column(table, src.id_field or ("osm_id" if src.format == "osm" else None), f"{src.name}-")
    classes = pc.utf8_trim_whitespace(text_column(table, src.class_field, len(table)))
    other = pc.invert(pc.fill_null(pc.is_in(classes, value_set=pa.array(MOTOR_ROAD_CLASSES)), False))
    if (other_mask := other.to_numpy(zero_copy_only=False)).any():
        summary.records_in += int(other_mask.sum())
        ctx.report.drop_many(
            summary,
            file,
            ids.filter(other).to_numpy(zero_copy_only=False),
            f"{src.class_field} is no motor road class ({', '.join(MOTOR_ROAD_CLASSES[:9])} or a *_link)",
        )
        table, ids = table.take(~other_mask), ids.filter(pc.invert(other))
    kept, kept_ids, _ = checked(ctx, summary, table, LINEAR, ids)
    n = len(kept)
    maxspeed = _optional_text(kept, src, "maxspeed_field")
    speeds, why = parse_maxspeed(maxspeed.to_pylist())
    for reason, count in Counter(r for r in why if r is not None).most_common():
        ctx.report.notes.append(f"{src.name}: {count:,} road(s): {reason}")
    return pa.table(
        {
            "road_id": kept_ids,
            "road_class": pc.utf8_trim_whitespace(text_column(kept, src.class_field, n)),
            "name": _optional_text(kept, src, "name_field"),
            "maxspeed": maxspeed,
            "maxspeed_kmh": pa.array(speeds, pa.float64(), mask=np.isnan(speeds)),
            "lanes": _leading_int(_optional_text(kept, src, "lanes_field")),
            "oneway": _flag(_optional_text(kept, src, "oneway_field")),
            "layer": _leading_int(_optional_text(kept, src, "layer_field")),
            "tunnel": pc.fill_null(_flag(_optional_text(kept, src, "tunnel_field")), False),
            "bridge": pc.fill_null(_flag(_optional_text(kept, src, "bridge_field")), False),
            "length_m": pa.array(shapely.length(kept.geometry), pa.float64()),
            "source": pa.array([src.name] * n, pa.string()),
            **geometry_columns(kept.geometry, ctx.crs),
        }
    )


def streets_table(src: StreetsSource, file: Path, ctx: StepContext, summary: SourceSummary) -> pa.Table:
    """Street axes with their name, official key and class; an axis without a name is left out (reported)."""
    table = read_vector(file, ctx.crs, declared_crs=src.crs, layer=src.layer)
    ids = id_column(table, src.id_field, f"{src.name}-")
    names = pc.utf8_trim_whitespace(text_column(table, src.name_field, len(table)))
    # A street nobody can name cannot be searched for: left out and reported like any other record.
    unnamed = pc.fill_null(pc.equal(names, ""), True).to_numpy(zero_copy_only=False)
    if unnamed.any():
        summary.records_in += int(unnamed.sum())
        dropped = ids.filter(pa.array(unnamed)).to_numpy(zero_copy_only=False)
        ctx.report.drop_many(summary, file, dropped, f"street without a name ({src.name_field})")
        table, ids = table.take(~unnamed), ids.filter(pa.array(~unnamed))
    kept, kept_ids, _ = checked(ctx, summary, table, LINEAR, ids)
    n = len(kept)
    return pa.table(
        {
            "street_id": kept_ids,
            "name": pc.utf8_trim_whitespace(text_column(kept, src.name_field, n)),
            "street_key": text_column(kept, src.key_field, n),
            "street_class": text_column(kept, src.class_field, n),
            "length_m": pa.array(shapely.length(kept.geometry), pa.float64()),
            "source": pa.array([src.name] * n, pa.string()),
            **geometry_columns(kept.geometry, ctx.crs),
        }
    )
