"""3D layers: city models (CityJSON, CityGML) through the twin's own readers and tiler, and point clouds
(LAS/LAZ) through py3dtiles' converter; each written as a tileset folder ``tileset/`` inside the layer's folder.

Heights: both kinds read heights in the twin's height system (DHHN2016 for German data) and raise them by the
twin's geoid undulation, as the twin's own tiles are, so a layer stands on the same ground as the buildings.
City models additionally get ``features.parquet`` (footprints and attributes by building id) so that a click on a
tile can be answered like any vector feature.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from twin3d.errors import CRSError, InputError
from twin3d.io.crs import parse_crs, reproject, transform_points, transformer
from twin3d.layers.context import WGS84, LoadJob, check_region, feature_number
from twin3d.layers.model import FEATURES_FILE, TILESET_DIR
from twin3d.layers.vector import Features, SourceTable, crs_label, write_features
from twin3d.settings import LayerSettings
from twin3d.tiling.geodesy import ECEF, WGS84_3D, frame_at
from twin3d.tiling.tileset import BuildingProperties, TilingOptions, block_partitions, write_tileset

OUTSIDE_REASON = "outside the twin's region"
POINT_CHUNK = 1_000_000


@dataclass(frozen=True)
class ThreeDResult:
    """A stored 3D layer."""

    count: int
    extent: tuple[float, float, float, float]
    source_crs: str
    files: dict[str, str]
    fields: dict[str, str]


def _lonlat_box(x0: float, y0: float, x1: float, y1: float, crs: CRS) -> np.ndarray:
    xs, ys = np.array([x0, x1, x0, x1, (x0 + x1) / 2]), np.array([y0, y0, y1, y1, (y0 + y1) / 2])
    lon, lat = transform_points(xs, ys, crs, WGS84)
    return np.array([[lon.min(), lat.min(), lon.max(), lat.max()]])


def write_city_model(job: LoadJob) -> ThreeDResult:
    """Read a CityJSON or CityGML file with the twin's readers and tile its buildings with the twin's tiler.

    Raises:
        InputError: as the readers raise (truncated, broken objects without ``skip_invalid``), no buildings, or
            buildings outside the twin's region.
        CRSError: no or an unknown CRS and none declared.
    """
    from twin3d.pipeline.buildings import buildings_from_3d  # noqa: PLC0415  (pulls in the pipeline)
    from twin3d.pipeline.config import BuildingsSource, HeightRules  # noqa: PLC0415
    from twin3d.pipeline.report import BuildReport, SourceSummary  # noqa: PLC0415
    from twin3d.pipeline.sources import StepContext  # noqa: PLC0415

    path, fmt, out_dir, opts, twin, report = job.path, job.format, job.out_dir, job.options, job.twin, job.report
    build_report = BuildReport(twin.name)
    summary = SourceSummary(report.layer_id, "buildings", [path])
    ctx = StepContext(twin.crs, build_report, HeightRules(), 0.0, 0.0, skip_invalid=opts.skip_invalid)
    source = BuildingsSource(
        name=report.layer_id, kind="buildings", format=fmt, path=str(path), crs=opts.crs, source_label="layer"
    )
    rows = buildings_from_3d(source, path, ctx, summary)
    outside = [d for d in build_report.drops if d.reason == OUTSIDE_REASON]
    if outside:
        raise InputError(
            f"coordinates out of range: {len(outside):,} building(s) lie outside the twin's region",
            file=path,
            record=outside[0].record,
            hint="the file's CRS is probably wrong: declare the right one with --crs EPSG:....",
        )
    n = len(rows.ids)
    if not n:
        raise InputError("the file has no usable buildings", file=path, hint="check the export (LoD1/LoD2 solids)")
    report.records_in, report.records_out, report.repaired = summary.records_in, n, summary.repaired
    for reason, count in build_report.drop_reasons().items():
        report.drop(reason, count)
    wgs = reproject(rows.footprints, twin.crs, WGS84)
    check_region(shapely.bounds(wgs), twin, job.limits.max_distance_km, file=path)

    geometry = rows.geometry(twin.crs, twin.geoid_undulation)
    x0, y0, x1, y1 = shapely.total_bounds(rows.footprints)
    lon, lat = transform_points(np.array([(x0 + x1) / 2]), np.array([(y0 + y1) / 2]), twin.crs, WGS84)
    frame = frame_at(float(lon[0]), float(lat[0]), float(np.nanmedian(rows.ground)) + twin.geoid_undulation)
    ids = np.asarray(rows.ids.to_numpy(zero_copy_only=False), dtype=object)
    types = np.asarray(rows.columns["building_type"].to_numpy(zero_copy_only=False), dtype=object)
    tiles = write_tileset(
        geometry,
        BuildingProperties(ids=ids, columns={"height": ("FLOAT32", rows.height), "type": ("STRING", types)}),
        partition_of=block_partitions(geometry.centroids(), 1000.0),
        frame=frame,
        out_dir=out_dir / TILESET_DIR,
        options=TilingOptions(),
    )
    attributes = pa.table(
        {
            "building_id": rows.ids,
            "building_type": rows.columns["building_type"],
            "name": rows.columns["name"],
            "height": pa.array(rows.height, pa.float64()),
            "ground_height": pa.array(rows.ground, pa.float64()),
            "tile": pa.array(tiles.content_of_building.astype(str), pa.string()),
        }
    )
    model = next(m for _, m in rows.parts if m is not None)
    src = SourceTable(path, fmt, model.source_crs, rows.footprints, attributes, feature_number)
    fields, _ = write_features(
        out_dir / FEATURES_FILE, src, Features(np.arange(n), rows.footprints, wgs, "polygons"), twin.crs
    )
    w, s, e, nn = shapely.total_bounds(wgs)
    return ThreeDResult(
        n,
        (float(w), float(s), float(e), float(nn)),
        crs_label(model.source_crs),
        {"tileset": f"{TILESET_DIR}/tileset.json", "features": FEATURES_FILE},
        fields,
    )


@dataclass(frozen=True)
class _Cloud:
    crs: CRS
    count: int
    mins: np.ndarray
    maxs: np.ndarray
    has_rgb: bool


def _scan_cloud(path: Path, declared: str | None, limits: LayerSettings) -> _Cloud:
    """Header, CRS and true bounds of a LAS/LAZ file; reading every point finds truncated files."""
    import laspy  # noqa: PLC0415  (only for point clouds)

    try:
        with laspy.open(path) as reader:
            header = reader.header
            count = int(header.point_count)
            if count > limits.max_points:
                raise InputError(
                    f"{count:,} points, more than the limit of {limits.max_points:,}",
                    file=path,
                    hint="thin or cut the cloud, or raise TWIN3D_LAYER_MAX_POINTS",
                )
            file_crs = header.parse_crs()
            mins, maxs = np.full(3, np.inf), np.full(3, -np.inf)
            seen = 0
            for chunk in reader.chunk_iterator(POINT_CHUNK):
                xyz = np.column_stack([np.asarray(chunk.x), np.asarray(chunk.y), np.asarray(chunk.z)])
                mins, maxs = np.minimum(mins, xyz.min(axis=0)), np.maximum(maxs, xyz.max(axis=0))
                seen += len(xyz)
            has_rgb = "red" in header.point_format.dimension_names
    except (laspy.errors.LaspyException, OSError, ValueError, EOFError, RuntimeError) as exc:  # lazrs: RuntimeError
        raise InputError(
            f"cannot be read as a LAS/LAZ point cloud: {exc}",
            file=path,
            hint="the file may be truncated or damaged; export it again",
        ) from exc
    if seen < count:
        raise InputError(
            f"the file holds {seen:,} of the {count:,} points its header announces",
            file=path,
            hint="the file is truncated; copy or export it again",
        )
    if not count or not np.isfinite(mins).all():
        raise InputError("the point cloud has no points", file=path, hint="check the export")
    if declared is not None:
        crs = parse_crs(declared, file=path)
    elif file_crs is not None:
        crs = parse_crs(file_crs.to_wkt(), file=path)  # a compound CRS is reduced to its horizontal part
    else:
        raise CRSError(
            "the point cloud has no CRS", file=path, hint="declare it with --crs EPSG:.... (e.g. EPSG:25832)"
        )
    return _Cloud(crs, count, mins, maxs, has_rgb)


def raise_root(tileset: dict[str, Any], metres: float) -> None:
    """Move a tileset up along the ellipsoid normal at its root (ECEF translation) by ``metres``."""
    root = tileset["root"]
    matrix = np.array(root.get("transform", np.eye(4).ravel().tolist()), dtype=np.float64)
    tx, ty, tz = matrix[12:15]
    if not np.any(matrix[12:15]):
        tx, ty, tz = np.asarray(root["boundingVolume"]["box"][:3], dtype=np.float64)
    lon_deg, lat_deg, _ = transformer(ECEF, WGS84_3D).transform(tx, ty, tz)
    lon, lat = np.radians(lon_deg), np.radians(lat_deg)
    up = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    matrix[12:15] += metres * up
    root["transform"] = matrix.tolist()


def write_point_cloud(job: LoadJob) -> ThreeDResult:
    """Convert a LAS/LAZ file into a point-cloud tileset (``.pnts`` content) with py3dtiles.

    Raises:
        InputError: unreadable or truncated, no points, too many, outside the twin, or the converter failed.
        CRSError: no CRS and none declared.
    """
    from py3dtiles.convert import convert  # noqa: PLC0415  (heavy: numba, zmq)
    from py3dtiles.exceptions import Py3dtilesException  # noqa: PLC0415

    path, twin, report = job.path, job.twin, job.report
    cloud = _scan_cloud(path, job.options.crs, job.limits)
    box = _lonlat_box(cloud.mins[0], cloud.mins[1], cloud.maxs[0], cloud.maxs[1], cloud.crs)
    check_region(box, twin, job.limits.max_distance_km, file=path, record_of=lambda _: "(point cloud bounds)")
    target = job.out_dir / TILESET_DIR
    try:
        # py3dtiles prints progress and warnings; the CLI shows its own.
        with contextlib.redirect_stdout(io.StringIO()):
            convert(
                [path],
                target,
                crs_in=cloud.crs,
                force_crs_in=True,
                crs_out=ECEF,
                pyproj_always_xy=True,
                jobs=max(1, min(4, os.cpu_count() or 1)),
                rgb=cloud.has_rgb,
                verbose=0,
            )
    except Py3dtilesException as exc:
        raise InputError(f"the point-cloud converter failed: {exc}", file=path, hint="check the file") from exc
    tileset_file = target / "tileset.json"
    tileset = json.loads(tileset_file.read_text(encoding="utf-8"))
    raise_root(tileset, twin.geoid_undulation)
    tileset_file.write_text(json.dumps(tileset), encoding="utf-8")
    report.records_in = report.records_out = cloud.count
    report.notes.append(f"heights {cloud.mins[2]:.2f}..{cloud.maxs[2]:.2f} m, raised by {twin.geoid_undulation:.2f} m")
    w, s, e, n = (float(v) for v in box[0])
    return ThreeDResult(cloud.count, (w, s, e, n), crs_label(cloud.crs), {"tileset": f"{TILESET_DIR}/tileset.json"}, {})
