"""Synthesis inputs read back from a built twin store (for re-synthesis, scenarios, tests and benchmarks)."""

from __future__ import annotations

import duckdb
import numpy as np
import shapely
from pyproj import CRS

from twin3d.population.controls import AreaStats, pivot_stats
from twin3d.population.placement import BuildingStock
from twin3d.population.synthesis import PopulationInputs


def inputs_from_store(
    con: duckdb.DuckDBPyConnection, crs: CRS, district_level: str | None, year: int | None
) -> PopulationInputs:
    """The districts of ``district_level`` with ``year``'s statistics, the census grid and the buildings."""
    districts = None
    if district_level is not None:
        rows = con.execute(
            "SELECT district_id, ST_AsWKB(geom) FROM districts WHERE level = ? ORDER BY district_id", [district_level]
        ).fetchall()
        ids = np.array([r[0] for r in rows], dtype=object)
        stats = con.execute(
            "SELECT s.district_id, s.year, s.variable, s.value FROM district_stats s JOIN districts d "
            "USING (district_id) WHERE d.level = ?",
            [district_level],
        ).to_arrow_table()
        values = pivot_stats(ids, stats, "district_id", year)
        districts = AreaStats(ids, shapely.from_wkb([bytes(r[1]) for r in rows]), values)
    grid = None
    rows = con.execute("SELECT cell_id, ST_AsWKB(geom) FROM grid_cells ORDER BY cell_id").fetchall()
    if rows:
        ids = np.array([r[0] for r in rows], dtype=object)
        stats = con.execute("SELECT cell_id, year, variable, value FROM grid_stats").to_arrow_table()
        grid = AreaStats(ids, shapely.from_wkb([bytes(r[1]) for r in rows]), pivot_stats(ids, stats, "cell_id", None))
    table = con.execute(
        "SELECT building_id, building_type, coalesce(levels, 'NaN'::DOUBLE) AS levels, height, ST_AsWKB(geom) AS wkb "
        "FROM buildings ORDER BY building_id"
    ).to_arrow_table()
    buildings = None
    if table.num_rows:
        buildings = BuildingStock.of(
            ids=table["building_id"].to_numpy(zero_copy_only=False).astype(object),
            footprints=shapely.from_wkb(table["wkb"].to_numpy(zero_copy_only=False)),
            building_type=table["building_type"].to_numpy(zero_copy_only=False).astype(object),
            levels=table["levels"].to_numpy(zero_copy_only=False).astype(np.float64),
            height=table["height"].to_numpy(zero_copy_only=False).astype(np.float64),
        )
    return PopulationInputs(crs, districts, grid, buildings)
