"""PNG map tiles (XYZ, Web Mercator, 256 px) of a raster layer, coloured by its style and legend.

An overlay is stored on the web-map tile grid (:mod:`twin3d.layers.raster`), so the tile at the file's own zoom
is one block read, and lower zooms are block reads of the overviews: GDAL picks the overview when the buffer is
smaller than the window. Tiles beyond the native zoom upsample part of a block; a terrain layer (stored in the
twin's CRS) is warped on the fly. Pixels without data, and the part of a tile outside the raster, are transparent.

Colours: a palette image keeps its palette; RGB(A) images are shown as they are; a single band is mapped onto a
ramp. The ramp is the legend's when the legend has at least two ``ramp`` entries with values (so the map shows
what the legend says), otherwise the named ``style.colormap`` over ``style.rescale`` (or the band's range).

Example:
    >>> png = render_tile(layer_file(paths, entry, "raster"), entry, 15, 17_407, 11_260)  # doctest: +SKIP
    >>> png[:4]  # doctest: +SKIP
    b'\\x89PNG'
"""

from __future__ import annotations

import contextlib
import functools
import math
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import ColorInterp, Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window, from_bounds

from twin3d.layers.model import LayerEntry, LayerStyle, LegendItem

TILE_SIZE = 256
WEB_MERCATOR_HALF = 20037508.342789244  # metres from the origin to the grid's edge
NAMED_RAMPS: dict[str, list[tuple[float, str]]] = {
    "viridis": [(0.0, "#440154"), (0.25, "#3b528b"), (0.5, "#21918c"), (0.75, "#5ec962"), (1.0, "#fde725")],
    "terrain": [(0.0, "#2b7a3b"), (0.35, "#a6d96a"), (0.6, "#fee08b"), (0.85, "#a0522d"), (1.0, "#ffffff")],
    "greys": [(0.0, "#000000"), (1.0, "#ffffff")],
}
DEFAULT_RAMP = "viridis"


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Web Mercator bounds ``(left, bottom, right, top)`` of XYZ tile ``z/x/y`` (y counted from the north)."""
    size = 2 * WEB_MERCATOR_HALF / 2**z
    left = -WEB_MERCATOR_HALF + x * size
    top = WEB_MERCATOR_HALF - y * size
    return left, top - size, left + size, top


def native_zoom(resolution_m: float) -> int:
    """The zoom whose tile pixels are as large as ``resolution_m`` (Web Mercator metres), the file's own level."""
    return max(0, min(24, round(math.log2(2 * WEB_MERCATOR_HALF / (TILE_SIZE * resolution_m)))))


def encode_png(rgba: np.ndarray) -> bytes:
    """An RGBA ``uint8`` array of shape (height, width, 4) as PNG bytes.

    Written by hand (no filter, one deflate stream): the server then needs neither Pillow nor a GDAL driver
    round trip for each tile.
    """
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + width * 4), dtype=np.uint8)  # a leading 0 per row: filter type "none"
    rows[:, 1:] = rgba.reshape(height, width * 4)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bit, RGBA, deflate, no filter, no interlace
    body = zlib.compress(rows.tobytes(), 6)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@functools.cache
def empty_tile() -> bytes:
    """A fully transparent tile, for tiles outside a layer's raster."""
    return encode_png(np.zeros((TILE_SIZE, TILE_SIZE, 4), dtype=np.uint8))


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _lut(stops: list[tuple[float, str]]) -> np.ndarray:
    """256 colours interpolated between ``(position 0..1, colour)`` stops."""
    positions = np.array([p for p, _ in stops])
    colors = np.array([_rgb(c) for _, c in stops], dtype=np.float64)
    at = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(at, positions, colors[:, i]) for i in range(3)], axis=1).round().astype(np.uint8)


def ramp_for(
    style: LayerStyle, legend: list[LegendItem], data_range: tuple[float, float]
) -> tuple[np.ndarray, float, float]:
    """The colour table of a single-band layer and the values its ends stand for."""
    ramp = sorted((i for i in legend if i.symbol == "ramp" and i.value is not None), key=lambda i: i.value or 0.0)
    if len(ramp) >= 2 and ramp[-1].value != ramp[0].value:
        low, high = float(ramp[0].value or 0.0), float(ramp[-1].value or 0.0)
        return _lut([((float(i.value or 0.0) - low) / (high - low), i.color) for i in ramp]), low, high
    low, high = style.rescale or data_range
    return _lut(NAMED_RAMPS.get(style.colormap or DEFAULT_RAMP, NAMED_RAMPS[DEFAULT_RAMP])), low, high


@contextlib.contextmanager
def _web_mercator(path: Path) -> Iterator[rasterio.io.DatasetReaderBase]:
    """The raster on the Web Mercator grid: the file itself for overlays, a warped view for terrain."""
    with rasterio.open(path) as ds:
        if ds.crs is not None and ds.crs.to_epsg() == 3857:
            yield ds
            return
        with WarpedVRT(ds, crs="EPSG:3857", resampling=Resampling.bilinear) as vrt:
            yield vrt


def _placement(
    ds: rasterio.io.DatasetReaderBase, z: int, x: int, y: int
) -> tuple[Window, tuple[int, int, int, int]] | None:
    """The part of the raster under tile z/x/y, and where it goes in the tile ``(col0, row0, col1, row1)``."""
    left, bottom, right, top = tile_bounds(z, x, y)
    d_left, d_bottom, d_right, d_top = ds.bounds
    if right <= d_left or left >= d_right or top <= d_bottom or bottom >= d_top:
        return None
    win = from_bounds(left, bottom, right, top, ds.transform)
    col0, row0 = max(win.col_off, 0.0), max(win.row_off, 0.0)
    col1, row1 = min(win.col_off + win.width, ds.width), min(win.row_off + win.height, ds.height)
    sx, sy = TILE_SIZE / win.width, TILE_SIZE / win.height
    box = (
        round((col0 - win.col_off) * sx),
        round((row0 - win.row_off) * sy),
        round((col1 - win.col_off) * sx),
        round((row1 - win.row_off) * sy),
    )
    if box[2] <= box[0] or box[3] <= box[1]:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0), box


def _colour(ds: rasterio.io.DatasetReaderBase, entry: LayerEntry, data: np.ndarray) -> np.ndarray:
    """RGB ``uint8`` (height, width, 3) of the data bands read."""
    if data.shape[0] >= 3:
        rgb = data[:3]
        if rgb.dtype != np.uint8:
            low, high = entry.style.rescale or (float(rgb.min()), float(rgb.max()))
            rgb = np.clip((rgb.astype(np.float64) - low) / ((high - low) or 1.0) * 255, 0, 255).astype(np.uint8)
        return np.moveaxis(rgb, 0, -1)
    band = data[0]
    if ds.colorinterp[0] == ColorInterp.palette:
        palette = np.zeros((256, 3), dtype=np.uint8)
        for index, color in ds.colormap(1).items():
            if 0 <= index < 256:
                palette[index] = color[:3]
        picked: np.ndarray = palette[band.astype(np.uint8)]
        return picked
    info = entry.raster
    if info is not None and info.minimum is not None and info.maximum is not None:
        data_range = (info.minimum, info.maximum)
    else:
        data_range = (float(np.nanmin(band)), float(np.nanmax(band)))
    lut, low, high = ramp_for(entry.style, entry.legend, data_range)
    scaled = (band.astype(np.float64) - low) / ((high - low) or 1.0)
    coloured: np.ndarray = lut[np.clip(np.nan_to_num(scaled) * 255, 0, 255).astype(np.uint8)]
    return coloured


def render_tile(path: Path, entry: LayerEntry, z: int, x: int, y: int) -> bytes | None:
    """Tile ``z/x/y`` of a raster layer as PNG; None where the tile lies outside the raster.

    Args:
        path: the layer's stored raster (Cloud-Optimised GeoTIFF).
        entry: its catalogue entry (style, legend, value range).
        z, x, y: the XYZ tile, y counted from the north.
    """
    with rasterio.Env(GDAL_DISABLE_READDIR_ON_OPEN="EMPTY_DIR"), _web_mercator(path) as ds:
        placed = _placement(ds, z, x, y)
        if placed is None:
            return None
        window, (c0, r0, c1, r1) = placed
        shape = (r1 - r0, c1 - c0)
        bands = [i + 1 for i, ci in enumerate(ds.colorinterp) if ci != ColorInterp.alpha] or [1]
        data = ds.read(bands, window=window, out_shape=(len(bands), *shape), resampling=Resampling.nearest)
        mask = ds.read_masks(1, window=window, out_shape=shape, resampling=Resampling.nearest)
        if not mask.any():
            return None
        rgba = np.zeros((TILE_SIZE, TILE_SIZE, 4), dtype=np.uint8)
        rgba[r0:r1, c0:c1, :3] = _colour(ds, entry, data)
        rgba[r0:r1, c0:c1, 3] = np.where(mask > 0, 255, 0)
    return encode_png(rgba)
