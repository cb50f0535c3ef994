"""Synthesis inputs read back from a built twin store (for re-synthesis, scenarios, tests and benchmarks)."""

from __future__ import annotations

import duckdb
import numpy as np
import shapely
from pyproj import CRS

from twin3d.population.controls import AreaStats
from twin3d.population.placement import BuildingStock
from twin3d.population.synthesis import PopulationInputs


def _pivot(rows: list[tuple[str, str, float | None]], ids: np.ndarray) -> dict[str, np.ndarray]:
    index = {key: i for i, key in enumerate(ids.tolist())}
    out: dict[str, np.ndarray] = {}
    for key, variable, value in rows:
        column = out.setdefault(variable, np.full(len(ids), np.nan))
        if key in index and value is not None:
            column[index[key]] = value
    return out


def inputs_from_store(
    con: duckdb.DuckDBPyConnection, crs: CRS, district_level: str | None, year: int | None
) -> PopulationInputs:
    """The districts of ``district_level`` with ``year``'s statistics, the census grid and the buildings.

    Per variable there are a few dozen to a few thousand rows, so the pivot is a plain loop over rows.
    """
    districts = None
    if district_level is not None:
        rows = con.execute(
            "SELECT district_id, ST_AsWKB(geom) FROM districts WHERE level = ? ORDER BY district_id", [district_level]
        ).fetchall()
        ids = np.array([r[0] for r in rows], dtype=object)
        stats = con.execute(
            "SELECT s.district_id, s.variable, s.value FROM district_stats s JOIN districts d USING (district_id) "
            "WHERE d.level = ? AND s.year = ?",
            [district_level, year],
        ).fetchall()
        districts = AreaStats(ids, shapely.from_wkb([bytes(r[1]) for r in rows]), _pivot(stats, ids))
    grid = None
    rows = con.execute("SELECT cell_id, ST_AsWKB(geom) FROM grid_cells ORDER BY cell_id").fetchall()
    if rows:
        ids = np.array([r[0] for r in rows], dtype=object)
        stats = con.execute("SELECT cell_id, variable, value FROM grid_stats").fetchall()
        grid = AreaStats(ids, shapely.from_wkb([bytes(r[1]) for r in rows]), _pivot(stats, ids))
    table = con.execute(
        "SELECT building_id, building_type, coalesce(levels, 'NaN'::DOUBLE) AS levels, height, ST_AsWKB(geom) AS wkb "
        "FROM buildings ORDER BY building_id"
    ).to_arrow_table()
    buildings = None
    if table.num_rows:
        buildings = BuildingStock(
            ids=table["building_id"].to_numpy(zero_copy_only=False).astype(object),
            footprints=shapely.from_wkb(table["wkb"].to_numpy(zero_copy_only=False)),
            building_type=table["building_type"].to_numpy(zero_copy_only=False).astype(object),
            levels=table["levels"].to_numpy(zero_copy_only=False).astype(np.float64),
            height=table["height"].to_numpy(zero_copy_only=False).astype(np.float64),
        )
    return PopulationInputs(crs, districts, grid, buildings)
