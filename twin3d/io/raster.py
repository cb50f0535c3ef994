"""Terrain: a DEM GeoTIFF (or any raster GDAL reads) sampled at building footprints.

Only the window that covers the twin is read, so a state-wide mosaic costs no more than the town. Heights are
interpolated bilinearly between pixel centres; a building stands on the lowest terrain point of its outline, so
that no wall floats above a slope.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from pyproj import CRS
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine
from rasterio.windows import Window, from_bounds

from twin3d.errors import CRSError, InputError
from twin3d.io.crs import parse_crs, transform_points


@dataclass(frozen=True)
class Dem:
    """Terrain heights on a regular grid.

    Attributes:
        path: the raster file.
        crs: its CRS.
        values: heights (float64, NaN where the raster has no data), row 0 at the top.
        origin: x, y of the top-left pixel's centre.
        pixel: pixel width and height (both positive), in CRS units.
    """

    path: Path
    crs: CRS
    values: np.ndarray
    origin: tuple[float, float]
    pixel: tuple[float, float]

    def sample(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Bilinear heights at points in the DEM's CRS; NaN outside the raster or next to no-data pixels.

        Within half a pixel of the raster's edge (outside the outermost pixel centres) the edge pixels are held.
        """
        rows, cols = self.values.shape
        col = (np.asarray(x, dtype=np.float64) - self.origin[0]) / self.pixel[0]
        row = (self.origin[1] - np.asarray(y, dtype=np.float64)) / self.pixel[1]
        inside = (col >= -0.5) & (row >= -0.5) & (col <= cols - 0.5) & (row <= rows - 0.5)
        c0 = np.clip(np.floor(col), 0, cols - 2).astype(np.int64)
        r0 = np.clip(np.floor(row), 0, rows - 2).astype(np.int64)
        fc = np.clip(col - c0, 0.0, 1.0)
        fr = np.clip(row - r0, 0.0, 1.0)
        v = self.values
        top = v[r0, c0] * (1 - fc) + v[r0, c0 + 1] * fc
        bottom = v[r0 + 1, c0] * (1 - fc) + v[r0 + 1, c0 + 1] * fc
        return np.where(inside, top * (1 - fr) + bottom * fr, np.nan)


def read_dem(
    path: Path,
    *,
    declared_crs: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    bounds_crs: CRS | None = None,
) -> Dem:
    """Read a DEM, or the part of it that covers ``bounds`` (given in ``bounds_crs``) plus a pixel.

    Raises:
        InputError: the file is missing, empty, not a raster, or does not overlap the bounds.
        CRSError: the raster has no CRS and none is declared.
    """
    if not path.is_file():
        raise InputError("DEM not found", file=path, hint="check dem = ... in the pipeline definition")
    if path.stat().st_size == 0:
        raise InputError("DEM file is empty (0 bytes)", file=path)
    try:
        with rasterio.open(path) as src:
            if declared_crs is not None:
                crs = parse_crs(declared_crs, file=path)
            elif src.crs is not None:
                crs = parse_crs(src.crs.to_wkt(), file=path)
            else:
                raise CRSError("the DEM has no CRS", file=path, hint='declare it with dem_crs = "EPSG:...."')
            window = Window(0, 0, src.width, src.height)
            if bounds is not None:
                x0, y0, x1, y1 = bounds
                if bounds_crs is not None and bounds_crs != crs:
                    xs, ys = transform_points(np.array([x0, x1, x0, x1]), np.array([y0, y0, y1, y1]), bounds_crs, crs)
                    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
                pad = 2 * max(abs(src.transform.a), abs(src.transform.e))
                wanted = from_bounds(x0 - pad, y0 - pad, x1 + pad, y1 + pad, src.transform)
                window = wanted.intersection(window).round_offsets().round_lengths()
            values = src.read(1, window=window, masked=True).astype(np.float64).filled(np.nan)
            transform = src.window_transform(window)
    except RasterioIOError as exc:
        raise InputError(f"cannot be read as a raster: {exc}", file=path, hint="export it again as GeoTIFF") from exc
    except rasterio.errors.WindowError as exc:
        raise InputError("the DEM does not cover the twin", file=path, hint="use a DEM of this area") from exc
    if transform.b or transform.d:
        raise InputError("rotated rasters are not supported", file=path, hint="warp it to a north-up grid")
    if min(values.shape) < 2:
        raise InputError("the DEM covers less than 2 x 2 pixels of the twin", file=path, hint="use a DEM of this area")
    pixel = (abs(transform.a), abs(transform.e))
    origin = (transform.c + transform.a / 2, transform.f + transform.e / 2)
    return Dem(path, crs, values, origin, pixel)


def footprint_ground(dem: Dem, footprints: np.ndarray, crs: CRS) -> np.ndarray:
    """The lowest terrain height along each footprint's outline (NaN where the DEM has none)."""
    coords, owner = shapely.get_coordinates(footprints, return_index=True)
    x, y = transform_points(coords[:, 0], coords[:, 1], crs, dem.crs)
    heights = dem.sample(x, y)
    out = np.full(len(footprints), np.inf)
    ok = np.isfinite(heights)
    np.minimum.at(out, owner[ok], heights[ok])
    out[~np.isfinite(out)] = np.nan
    return out


def terrain_grid(dem: Dem, crs: CRS, *, max_cells: int) -> tuple[Dem, int]:
    """The DEM as a twin keeps it for its scenarios: in the twin's CRS and at most ``max_cells`` cells.

    A DEM in another CRS is warped bilinearly onto a grid of the same pixel size; a DEM larger than ``max_cells``
    is coarsened by a whole factor k (each cell the mean of k x k source cells with data). A DEM already in the
    twin's CRS and small enough is returned as it is, cell for cell.

    Returns:
        The grid and the coarsening factor (1: the source cells).
    """
    if dem.crs != crs:
        dem = _warped(dem, crs)
    rows, cols = dem.values.shape
    k = max(1, int(np.ceil(np.sqrt(rows * cols / max_cells))))
    if k == 1:
        return dem, 1
    padded = np.full((-(-rows // k) * k, -(-cols // k) * k), np.nan)
    padded[:rows, :cols] = dem.values
    blocks = padded.reshape(padded.shape[0] // k, k, padded.shape[1] // k, k)
    count = np.isfinite(blocks).sum(axis=(1, 3))
    total = np.nansum(blocks, axis=(1, 3))
    values = np.divide(total, count, out=np.full(count.shape, np.nan), where=count > 0)
    # The new top-left cell's centre: k source pixels from the old top-left corner, halved.
    corner = (dem.origin[0] - dem.pixel[0] / 2, dem.origin[1] + dem.pixel[1] / 2)
    pixel = (dem.pixel[0] * k, dem.pixel[1] * k)
    return Dem(dem.path, dem.crs, values, (corner[0] + pixel[0] / 2, corner[1] - pixel[1] / 2), pixel), k


def _warped(dem: Dem, crs: CRS) -> Dem:
    """The DEM warped bilinearly into ``crs`` at its own pixel size (NaN where it has no data)."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject  # noqa: PLC0415  (only when warping)

    rows, cols = dem.values.shape
    west, north = dem.origin[0] - dem.pixel[0] / 2, dem.origin[1] + dem.pixel[1] / 2
    src_transform = Affine(dem.pixel[0], 0.0, west, 0.0, -dem.pixel[1], north)
    east, south = west + cols * dem.pixel[0], north - rows * dem.pixel[1]
    src_crs, dst_crs = dem.crs.to_wkt(), crs.to_wkt()
    transform, width, height = calculate_default_transform(src_crs, dst_crs, cols, rows, west, south, east, north)
    out = np.full((height, width), np.nan)
    reproject(
        dem.values,
        out,
        src_transform=src_transform,
        src_crs=src_crs,
        src_nodata=np.nan,
        dst_transform=transform,
        dst_crs=dst_crs,
        dst_nodata=np.nan,
        resampling=Resampling.bilinear,
    )
    pixel = (abs(transform.a), abs(transform.e))
    return Dem(dem.path, crs, out, (transform.c + transform.a / 2, transform.f + transform.e / 2), pixel)
