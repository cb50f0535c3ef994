"""Raster layers from GeoTIFF: an overlay image, or the twin's terrain, stored as Cloud-Optimised GeoTIFF.

- Overlay (``overlay.tif``): warped by GDAL's COG driver onto the Web Mercator tile grid
  (``TILING_SCHEME=GoogleMapsCompatible``): every 256 x 256 block of the file and of each overview is exactly
  one XYZ tile, so serving PNG tiles is a block read and a colour map, without reprojection per request.
- Terrain (``terrain.tif``): in the twin's CRS (warped if the file is in another), float32, for height sampling
  (:class:`twin3d.io.raster.Dem` reads it) and terrain meshes; a twin has at most one terrain layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.crs import CRS as RioCRS
from rasterio.errors import RasterioError
from rasterio.warp import transform_bounds

from twin3d.errors import CRSError, InputError
from twin3d.io.crs import parse_crs
from twin3d.layers.context import LoadJob, LoadOptions, TwinInfo, check_region
from twin3d.layers.model import OVERLAY_FILE, TERRAIN_FILE, LayerStyle, LegendItem, RasterInfo
from twin3d.layers.vector import crs_label
from twin3d.settings import LayerSettings

_COG = {"COMPRESS": "DEFLATE", "BLOCKSIZE": "256", "OVERVIEWS": "AUTO", "BIGTIFF": "IF_SAFER"}
RAMP_LOW, RAMP_HIGH = "#1a9850", "#d73027"


@dataclass(frozen=True)
class RasterResult:
    """A stored raster layer."""

    file: str
    info: RasterInfo
    extent: tuple[float, float, float, float]
    source_crs: str
    crs: str


def _source_crs(src: rasterio.DatasetReader, path: Path, declared: str | None) -> RioCRS:
    if declared is not None:
        return RioCRS.from_wkt(parse_crs(declared, file=path).to_wkt())
    if src.crs is None:
        raise CRSError("the GeoTIFF has no CRS", file=path, hint="declare it with --crs EPSG:.... (e.g. EPSG:25832)")
    parse_crs(src.crs.to_wkt(), file=path)
    return src.crs


def _check_source(path: Path, opts: LoadOptions, twin: TwinInfo, limits: LayerSettings) -> tuple[RioCRS, bool]:
    """The raster's CRS, and whether it is a palette image (resampled by nearest neighbour)."""
    with rasterio.open(path) as src:
        crs = _source_crs(src, path, opts.crs)
        pixels = src.width * src.height * src.count
        if pixels > limits.max_raster_pixels:
            raise InputError(
                f"{src.width:,} x {src.height:,} pixels x {src.count} band(s), more than {limits.max_raster_pixels:,}",
                file=path,
                hint="cut the raster to the twin, or raise TWIN3D_LAYER_MAX_RASTER_PIXELS",
            )
        if src.transform.b or src.transform.d:
            raise InputError("rotated rasters are not supported", file=path, hint="warp it to a north-up grid")
        if opts.role == "terrain" and src.count != 1:
            raise InputError(
                f"terrain must have one band of heights, the file has {src.count}",
                file=path,
                hint="load it as an overlay (--as overlay), or export the height band alone",
            )
        paletted = src.count == 1 and src.colorinterp[0].name == "palette"
        try:
            box = transform_bounds(crs, RioCRS.from_epsg(4326), *src.bounds, densify_pts=21)
        except RasterioError as exc:
            raise InputError(f"the raster's bounds cannot be transformed: {exc}", file=path) from exc
    check_region(np.array([box]), twin, limits.max_distance_km, file=path, record_of=lambda _: "(raster bounds)")
    return crs, paletted


def write_raster(job: LoadJob) -> RasterResult:
    """Check a GeoTIFF and write it as the layer's COG; reading every block also finds truncated files.

    Raises:
        InputError: unreadable, truncated, rotated, too large, no valid pixels, outside the twin, terrain with
            more than one band.
        CRSError: no CRS and none declared, or an unknown one.
    """
    path, out_dir, opts, twin = job.path, job.out_dir, job.options, job.twin
    try:
        crs, paletted = _check_source(path, opts, twin, job.limits)
        name = OVERLAY_FILE if opts.role == "overlay" else TERRAIN_FILE
        target = out_dir / name
        resampling = "NEAREST" if paletted else "BILINEAR"
        with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"), rasterio.open(path) as src:
            if opts.role == "overlay":
                options = {**_COG, "TILING_SCHEME": "GoogleMapsCompatible", "ZOOM_LEVEL_STRATEGY": "UPPER"}
            else:
                options = {**_COG, "PREDICTOR": "YES"}
                if parse_crs(crs.to_wkt()) != twin.crs:
                    options["TARGET_SRS"] = twin.crs.to_wkt()
            if opts.crs is not None:
                # The COG driver warps from the dataset's own CRS: give it the declared one through a VRT copy.
                vrt = out_dir / ".declared.vrt"
                rasterio.shutil.copy(src, vrt, driver="VRT")
                with rasterio.open(vrt, "r+") as v:
                    v.crs = crs
                rasterio.shutil.copy(vrt, target, driver="COG", RESAMPLING=resampling, **options)
                vrt.unlink()
            else:
                rasterio.shutil.copy(src, target, driver="COG", RESAMPLING=resampling, **options)
        with rasterio.open(target) as out:
            stats = _band_range(out, path)
            box = transform_bounds(out.crs, RioCRS.from_epsg(4326), *out.bounds, densify_pts=21)
            info = RasterInfo(
                width=out.width,
                height=out.height,
                bands=out.count,
                dtype=str(out.dtypes[0]),
                nodata=out.nodata,
                resolution=(abs(out.transform.a), abs(out.transform.e)),
                minimum=stats[0],
                maximum=stats[1],
            )
            stored_crs = "EPSG:3857" if opts.role == "overlay" else crs_label(twin.crs)
    except RasterioError as exc:
        raise InputError(
            f"cannot be read as a GeoTIFF: {exc}",
            file=path,
            hint="the file may be truncated or damaged; export it again",
        ) from exc
    job.report.records_in = job.report.records_out = 1
    w, s, e, n = (float(v) for v in box)
    return RasterResult(name, info, (w, s, e, n), crs_label(parse_crs(crs.to_wkt())), stored_crs)


def _band_range(ds: rasterio.DatasetReader, path: Path) -> tuple[float | None, float | None]:
    """Minimum and maximum of band 1 over valid pixels, from the smallest overview (cheap on big rasters)."""
    overviews = ds.overviews(1)
    factor = overviews[-1] if overviews else 1
    shape = (max(1, ds.height // factor), max(1, ds.width // factor))
    band = ds.read(1, out_shape=shape, masked=True)
    if band.count() == 0:
        band = ds.read(1, masked=True)
        if band.count() == 0:
            raise InputError("the raster has no valid pixels (all no-data)", file=path, hint="check the export")
    return float(band.min()), float(band.max())


def default_style(info: RasterInfo, role: str) -> LayerStyle:
    """Terrain and single-band rasters get a colour ramp over their value range; images are shown as they are."""
    if info.bands != 1 and role == "overlay":
        return LayerStyle(opacity=0.8)
    rescale = (info.minimum, info.maximum) if info.minimum is not None and info.maximum is not None else None
    return LayerStyle(opacity=0.8, colormap="terrain" if role == "terrain" else "viridis", rescale=rescale)


def default_legend(style: LayerStyle) -> list[LegendItem]:
    """A two-stop ramp legend for single-band rasters, none for images."""
    if style.rescale is None:
        return []
    low, high = style.rescale
    return [
        LegendItem(label=f"{low:.6g}", color=RAMP_LOW, symbol="ramp", value=low),
        LegendItem(label=f"{high:.6g}", color=RAMP_HIGH, symbol="ramp", value=high),
    ]
