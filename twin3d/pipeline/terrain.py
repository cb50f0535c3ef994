"""The terrain a twin keeps for its scenarios: its DEM over the twin's extent, in the twin's CRS.

Per-building ground heights are sampled during the building steps; the flood model of the scenarios
(:mod:`twin3d.simulation.flood`) needs the whole surface between the buildings too, so the build keeps the DEM's
window over everything the twin holds as one ``terrain`` row: cell for cell where the DEM is in the twin's CRS
and small enough, else warped and/or coarsened (the row states the source file and both resolutions).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import shapely
from pyproj import CRS

from twin3d.io.crs import reprojection_warning
from twin3d.io.raster import read_dem, terrain_grid
from twin3d.pipeline.report import BuildReport
from twin3d.pipeline.sources import StepContext

MAX_TERRAIN_CELLS = 4_000_000
"""The most cells a twin keeps (16 MB as float32): 2 x 2 km at 1 m, a 6 x 6 km town at 3 m."""


def terrain_table(
    ctx: StepContext,
    bounds: tuple[float, float, float, float],
    report: BuildReport,
    *,
    max_cells: int = MAX_TERRAIN_CELLS,
) -> pa.Table | None:
    """The ``terrain`` row of a twin with a DEM (None without one): the DEM's window over ``bounds`` (twin CRS)."""
    if ctx.dem_path is None:
        return None
    dem = read_dem(ctx.dem_path, declared_crs=ctx.dem_crs, bounds=bounds, bounds_crs=ctx.crs)
    # A DEM in a CRS of its own (Gauss-Krueger, say) is warped here and for the buildings' ground: named once if
    # PROJ lacks the grid of the best transformation.
    if warning := reprojection_warning(dem.crs, ctx.crs, np.array([shapely.box(*bounds)])):
        report.warnings.append(f"DEM {ctx.dem_path.name}: {warning}")
    source_pixel = float(max(dem.pixel))
    grid, factor = terrain_grid(dem, ctx.crs, max_cells=max_cells)
    heights = grid.values.astype("<f4")
    finite = heights[np.isfinite(heights)]
    rows, cols = heights.shape
    how = "as it is" if factor == 1 and dem.crs == ctx.crs else f"resampled from {source_pixel:g} m"
    report.notes.append(
        f"terrain: {ctx.dem_path.name} kept for the scenarios, {rows} x {cols} cells of {max(grid.pixel):g} m ({how})"
    )
    return pa.table(
        {
            "source": [ctx.dem_path.name],
            "crs": [CRS.from_user_input(ctx.crs).to_string()],
            "origin_x": [grid.origin[0]],
            "origin_y": [grid.origin[1]],
            "pixel_x": [grid.pixel[0]],
            "pixel_y": [grid.pixel[1]],
            "n_rows": pa.array([rows], pa.int32()),
            "n_cols": pa.array([cols], pa.int32()),
            "source_pixel_m": [source_pixel],
            "min_m": [float(finite.min()) if len(finite) else None],
            "max_m": [float(finite.max()) if len(finite) else None],
            "heights": pa.array([heights.tobytes()], pa.binary()),
        }
    )
