from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
import shapely
from pyproj import CRS

from tests.conftest import GEODATA
from twin3d.errors import InputError
from twin3d.io.stats import read_district_table, read_eurostat_grid

STATS = GEODATA / "rostock" / "stadtbereiche" / "population_csv"
ROSTOCK_GRID = GEODATA / "rostock" / "census-grid" / "census2021_1km_rostock.csv"


def _variable_sum(table, variable: str) -> float:  # type: ignore[no-untyped-def]
    values = table.values.filter(pc.equal(table.values["variable"], variable))
    return float(pc.sum(values["value"]).as_py())


def test_district_table_reads_the_real_2023_register_totals() -> None:
    table = read_district_table(STATS / "insgesamt_2023.csv", "stadtbereich_code", {"einwohnerzahl": "population"})
    assert len(table.keys) == 21
    assert _variable_sum(table, "population") == 211_692
    assert any("row-index" in note for note in table.notes)


def test_age_bands_add_up_to_the_population() -> None:
    table = read_district_table(STATS / "alter_2023.csv", "stadtbereich_code")
    bands = [v for v in set(table.values["variable"].to_pylist()) if v.startswith("anzahl_")]
    assert len(bands) == 10
    assert sum(_variable_sum(table, b) for b in bands) == 211_692


def test_repeated_district_code_is_an_error(tmp_path: Path) -> None:
    lines = (STATS / "insgesamt_2023.csv").read_text(encoding="utf-8").splitlines()
    (tmp_path / "dup.csv").write_text("\n".join([*lines, lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="more than once") as err:
        read_district_table(tmp_path / "dup.csv", "stadtbereich_code")
    assert "dup.csv" in err.value.one_line()


def test_eurostat_grid_cells_are_one_square_kilometre_in_the_twin_crs() -> None:
    grid = read_eurostat_grid(ROSTOCK_GRID, CRS.from_epsg(25833), {"T": "population"})
    assert len(grid.cell_ids) == 145
    assert _variable_sum(grid.stats, "population") == 208_933
    areas = shapely.area(grid.geometry)
    assert np.allclose(areas, 1e6, rtol=0.002)  # LAEA is equal-area; UTM scale error near Rostock is < 0.1 %
    assert "EMP" not in set(grid.stats.values["variable"].to_pylist())
    assert any("EMP" in note for note in grid.stats.notes)


def test_confidential_values_become_null(tmp_path: Path) -> None:
    lines = ROSTOCK_GRID.read_text().splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("M_CI")] = "1"
    (tmp_path / "grid.csv").write_text("\n".join([lines[0], ",".join(row), lines[2]]) + "\n")
    grid = read_eurostat_grid(tmp_path / "grid.csv", CRS.from_epsg(25833))
    male = grid.stats.values.filter(pc.equal(grid.stats.values["variable"], "M"))
    assert male["value"][0].as_py() is None


def test_bad_grid_id_names_the_line(tmp_path: Path) -> None:
    lines = ROSTOCK_GRID.read_text().splitlines()
    lines[3] = lines[3].replace("CRS3035RES1000m", "CRS3035-1000m")
    (tmp_path / "grid.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="line 4"):
        read_eurostat_grid(tmp_path / "grid.csv", CRS.from_epsg(25833))
