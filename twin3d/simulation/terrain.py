"""The terrain a scenario floods: the twin's DEM as its build kept it, or its twin-wide ground.

A twin built with a DEM holds it in its store's ``terrain`` row (:mod:`twin3d.pipeline.terrain`): a grid in the
twin's CRS. A twin without one stands on one ground height (``ground_height`` of its pipeline); it gets a flat grid
of :data:`FLAT_PIXEL_M` cells over everything it holds, so areas and walls act on it as on a DEM while every cell has
the same height. Cells are addressed by their centres: cell (r, c) is centred at
(origin_x + c * pixel_x, origin_y - r * pixel_y).

Example:
    >>> terrain = load_terrain(con)  # doctest: +SKIP
    >>> terrain.describe()["kind"]  # "dem" or "twin_ground"  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import shapely
from rasterio.transform import Affine

from twin3d.store.queries import has_table, meta

FLAT_PIXEL_M = 10.0
"""Cell size of the flat grid of a twin without a DEM."""
MAX_FLAT_CELLS = 1_000_000
"""The flat grid's cells grow beyond FLAT_PIXEL_M where a twin is larger than this many."""
_EXTENT_SQL = """
SELECT min(ST_XMin(geom)), min(ST_YMin(geom)), max(ST_XMax(geom)), max(ST_YMax(geom)) FROM (
    SELECT geom FROM buildings UNION ALL SELECT geom FROM districts UNION ALL SELECT geom FROM grid_cells
    UNION ALL SELECT geom FROM facilities UNION ALL SELECT geom FROM paths)
"""


@dataclass(frozen=True)
class Terrain:
    """Terrain heights on a regular grid in the twin's CRS.

    Attributes:
        heights: float64 (rows, cols), metres above NHN; NaN where the DEM has no data. Row 0 is the northernmost.
        origin: x, y of the top-left cell's centre.
        pixel: cell width and height (positive), metres.
        source: the DEM file's name; None for a twin-wide ground.
        source_pixel_m: the DEM's own cell size (the grid's cells are larger where the build coarsened it).
        ground_m: the twin-wide ground height of a twin without a DEM, else None.
    """

    heights: np.ndarray
    origin: tuple[float, float]
    pixel: tuple[float, float]
    source: str | None
    source_pixel_m: float
    ground_m: float | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        rows, cols = self.heights.shape
        return int(rows), int(cols)

    @property
    def flat(self) -> bool:
        """Whether every cell has the one twin-wide ground (no DEM)."""
        return self.source is None

    @property
    def transform(self) -> Affine:
        """The grid's affine transform (top-left corner), as rasterio wants it."""
        (ox, oy), (px, py) = self.origin, self.pixel
        return Affine(px, 0.0, ox - px / 2, 0.0, -py, oy + py / 2)

    @property
    def cell_area_m2(self) -> float:
        """Area of one cell."""
        return self.pixel[0] * self.pixel[1]

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The flat index (row * cols + col) of the cell holding each point, and whether it is on the grid at all
        (index 0 where it is not)."""
        rows, cols = self.shape
        col = np.floor((np.asarray(x, np.float64) - self.origin[0]) / self.pixel[0] + 0.5)
        row = np.floor((self.origin[1] - np.asarray(y, np.float64)) / self.pixel[1] + 0.5)
        inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
        index = np.where(inside, row * cols + col, 0).astype(np.int64)
        return index, inside

    def centres(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x, y of the centres of cells given by flat index."""
        row, col = np.divmod(np.asarray(index, np.int64), self.shape[1])
        return self.origin[0] + col * self.pixel[0], self.origin[1] - row * self.pixel[1]

    def range_m(self) -> tuple[float, float]:
        """The lowest and highest height of the terrain."""
        finite = self.heights[np.isfinite(self.heights)]
        return (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 0.0)

    def describe(self) -> dict[str, Any]:
        """What the terrain is, as a scenario's result states it."""
        low, high = self.range_m()
        rows, cols = self.shape
        grid = {"resolution_m": max(self.pixel), "rows": rows, "cols": cols, "min_m": low, "max_m": high}
        if self.flat:
            return {"kind": "twin_ground", "source": None, "ground_m": self.ground_m, **grid}
        return {"kind": "dem", "source": self.source, "source_resolution_m": self.source_pixel_m, **grid}

    def footprint_cells(self, geometry: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The cells under each footprint: those whose centre lies in it, or where it holds no cell centre (a
        footprint smaller than a cell) the cell at its point ``x, y`` inside. Returns (footprint, cell) pairs.

        Vectorised: the cells of each footprint's bounding box are listed at once and tested in one call.
        """
        rows, cols = self.shape
        (ox, oy), (px, py) = self.origin, self.pixel
        bounds = shapely.bounds(geometry).reshape(-1, 4)
        ok = np.isfinite(bounds).all(axis=1)
        c0 = np.clip(np.ceil((bounds[:, 0] - ox) / px), 0, cols).astype(np.int64)
        c1 = np.clip(np.floor((bounds[:, 2] - ox) / px), -1, cols - 1).astype(np.int64)
        r0 = np.clip(np.ceil((oy - bounds[:, 3]) / py), 0, rows).astype(np.int64)
        r1 = np.clip(np.floor((oy - bounds[:, 1]) / py), -1, rows - 1).astype(np.int64)
        width = np.where(ok, np.maximum(c1 - c0 + 1, 0), 0)
        count = width * np.where(ok, np.maximum(r1 - r0 + 1, 0), 0)
        owner = np.repeat(np.arange(len(geometry)), count)
        k = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        row = r0[owner] + k // np.maximum(width[owner], 1)
        col = c0[owner] + k % np.maximum(width[owner], 1)
        shapely.prepare(geometry)
        inside = shapely.contains_xy(geometry[owner], ox + col * px, oy - row * py)
        owner, cell = owner[inside], (row * cols + col)[inside]
        lonely = np.setdiff1d(np.arange(len(geometry)), owner)
        at, on_grid = self.cell_of(x[lonely], y[lonely])
        return np.concatenate([owner, lonely[on_grid]]), np.concatenate([cell, at[on_grid]])


def _ground_height(con: duckdb.DuckDBPyConnection) -> float:
    twin = meta(con, "twin")
    assert twin is not None, "a built twin has its metadata"
    return float(twin["ground_height"])


def load_terrain(con: duckdb.DuckDBPyConnection) -> Terrain:
    """The twin's terrain: its DEM from the store, else a flat grid at its twin-wide ground over its extent."""
    if has_table(con, "terrain"):  # stores built before terrains were kept stand on their twin-wide ground
        row = con.execute(
            "SELECT source, origin_x, origin_y, pixel_x, pixel_y, n_rows, n_cols, source_pixel_m, heights FROM terrain"
        ).fetchone()
        if row is not None:
            source, ox, oy, px, py, n_rows, n_cols, source_pixel, blob = row
            heights = np.frombuffer(blob, dtype="<f4").astype(np.float64).reshape(n_rows, n_cols)
            return Terrain(heights, (ox, oy), (px, py), str(source), float(source_pixel))
    ground = _ground_height(con)
    extent = con.execute(_EXTENT_SQL).fetchone()
    x0, y0, x1, y1 = (float(v) for v in extent) if extent and extent[0] is not None else (0.0, 0.0, 1.0, 1.0)
    pixel = max(FLAT_PIXEL_M, float(np.ceil(np.sqrt((x1 - x0) * (y1 - y0) / MAX_FLAT_CELLS))))
    cols, rows = int(np.ceil((x1 - x0) / pixel)) + 1, int(np.ceil((y1 - y0) / pixel)) + 1
    origin = (x0 + pixel / 2 - (cols * pixel - (x1 - x0)) / 2, y1 - pixel / 2 + (rows * pixel - (y1 - y0)) / 2)
    return Terrain(np.full((rows, cols), ground), origin, (pixel, pixel), None, pixel, ground)


def terrain_range(con: duckdb.DuckDBPyConnection) -> tuple[float, float]:
    """The lowest and highest terrain height of a twin (its twin-wide ground twice where it has no DEM), without
    reading the grid: what a scenario's water levels and wall crests are checked against."""
    if has_table(con, "terrain"):
        row = con.execute("SELECT min_m, max_m FROM terrain").fetchone()
        if row is not None and row[0] is not None:
            return float(row[0]), float(row[1])
    ground = _ground_height(con)
    return ground, ground
