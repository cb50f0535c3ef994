"""The Zensus 2022 grid reader (Destatis "Gitterzellen" CSV) and the grid format dispatcher.

Every file here carries the real Zensus 2022 values of Lauf a.d. Pegnitz (the Eurostat 1 km extract copied to
``tests/data/zensus``), re-encoded in the Destatis layout; see ``tests/data/zensus/SOURCE.md``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest
import shapely
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.stats import GridCells, StatTable, read_eurostat_grid
from twin3d.io.zensus import read_grid, read_zensus_grid

DATA = Path(__file__).resolve().parent.parent / "data" / "zensus"
EUROSTAT_LAUF = DATA / "census2021_1km_lauf.csv"
ZENSUS_LAUF = DATA / "Zensus2022_Bevoelkerungszahl_1km-Gitter_lauf.csv"
UTM32 = CRS.from_epsg(25832)
LAUF_CELLS = 31
LAUF_POPULATION = 33_663
EN_DASH = "\u2013"
SIZES = {"100m": 100, "1km": 1000, "10km": 10_000}


def _eurostat_rows() -> list[dict[str, str]]:
    with EUROSTAT_LAUF.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _destatis_value(row: dict[str, str], variable: str) -> str:
    """A Eurostat value in Destatis notation: the en dash where it is confidential (CI = 1) or 0/not available."""
    if row[f"{variable}_CI"] == "1" or row[variable] == "0":
        return EN_DASH
    return row[variable]


def destatis_lines(variables: dict[str, str], grid: str = "1km") -> list[str]:
    """The Lauf extract in the Destatis layout: ``GITTER_ID_<grid>;x_mp_<grid>;y_mp_<grid>;<columns>``.

    ``variables`` maps the Destatis column name to the Eurostat variable. With ``grid`` other than ``1km`` the
    real 1 km values are re-labelled onto cells of that size at the same lower-left corner: a format exercise
    only, never data.
    """
    size = SIZES[grid]
    lines = [";".join([f"GITTER_ID_{grid}", f"x_mp_{grid}", f"y_mp_{grid}", *variables])]
    for row in _eurostat_rows():
        north, east = row["GRD_ID"].removeprefix("CRS3035RES1000mN").split("E")
        cell = f"CRS3035RES{size}mN{north}E{east}"
        values = [_destatis_value(row, v) for v in variables.values()]
        lines.append(";".join([cell, str(int(east) + size // 2), str(int(north) + size // 2), *values]))
    return lines


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes("\r\n".join([*lines, ""]).encode(encoding))
    return path


def _values(stats: StatTable, variable: str) -> list[float | None]:
    values: list[float | None] = stats.values.filter(pc.equal(stats.values["variable"], variable))["value"].to_pylist()
    return values


def _by_cell(grid: GridCells, variable: str) -> dict[str, float | None]:
    return dict(zip(grid.cell_ids.to_pylist(), _values(grid.stats, variable), strict=True))


def test_the_committed_fixture_is_the_documented_re_encoding() -> None:
    expected = "\r\n".join([*destatis_lines({"Einwohner": "T"}), ""]).encode("cp1252")
    assert ZENSUS_LAUF.read_bytes() == expected


def test_real_lauf_cells_and_population_match_the_eurostat_extract() -> None:
    zensus = read_zensus_grid(ZENSUS_LAUF, UTM32, {"Einwohner": "population"})
    eurostat = read_eurostat_grid(EUROSTAT_LAUF, UTM32, {"T": "population"})
    assert len(zensus.cell_ids) == LAUF_CELLS
    assert sum(v or 0 for v in _values(zensus.stats, "population")) == LAUF_POPULATION
    assert _by_cell(zensus, "population") == _by_cell(eurostat, "population")
    assert set(zensus.stats.values["variable"].to_pylist()) == {"population"}  # the centres are no variables
    assert np.all(zensus.resolution_m == 1000.0)
    assert "read as UTF-8" in zensus.stats.notes[0]  # no T is secret or 0 in Lauf: no en dash, the bytes are ASCII


def test_cells_have_the_geometry_the_eurostat_reader_builds() -> None:
    zensus = read_zensus_grid(ZENSUS_LAUF, UTM32)
    eurostat = read_eurostat_grid(EUROSTAT_LAUF, UTM32)
    assert zensus.cell_ids.to_pylist() == eurostat.cell_ids.to_pylist()
    assert np.allclose(shapely.bounds(zensus.geometry), shapely.bounds(eurostat.geometry), rtol=0, atol=1e-6)
    assert np.allclose(shapely.area(zensus.geometry), shapely.area(eurostat.geometry), rtol=1e-12)
    assert np.allclose(shapely.area(zensus.geometry), 1e6, rtol=0.002)  # LAEA is equal-area; UTM 32 near Lauf
    assert shapely.get_num_coordinates(zensus.geometry).min() > 5  # densified edges, like the Eurostat cells


def test_suppressed_values_become_null_and_are_counted(tmp_path: Path) -> None:
    lines = destatis_lines({"Insgesamt_Bevoelkerung": "T", "Maenner": "M", "Frauen": "F", "unter15": "Y_LT15"})
    # Destatis' other spellings for "no number": the ASCII dash, the dot (secret) and an empty field
    lines[1] = lines[1].removesuffix("191") + "."  # Y_LT15 of the first cell
    lines[2] = lines[2].removesuffix("379") + "-"
    lines[3] = lines[3].removesuffix("160")
    path = _write(tmp_path / "Zensus2022_Geschlecht_1km-Gitter.csv", lines, "cp1252")
    grid = read_zensus_grid(path, UTM32)
    female = _by_cell(grid, "Frauen")
    male = _by_cell(grid, "Maenner")
    assert female["CRS3035RES1000mN2933000E4416000"] is None  # F = 0 in the extract, written as en dash
    assert male["CRS3035RES1000mN2935000E4415000"] is None  # M = 0
    assert _values(grid.stats, "unter15")[:3] == [None, None, None]
    nulls_under_15 = sum(1 for row in _eurostat_rows() if row["Y_LT15"] == "0") + 3
    assert sum(v is None for v in _values(grid.stats, "unter15")) == nulls_under_15
    notes = "\n".join(grid.stats.notes)
    assert f"Frauen: 1 of {LAUF_CELLS} values suppressed" in notes
    assert f"unter15: {nulls_under_15} of {LAUF_CELLS} values suppressed" in notes
    assert "Insgesamt_Bevoelkerung" not in notes  # nothing suppressed there
    assert sum(v or 0 for v in _values(grid.stats, "Insgesamt_Bevoelkerung")) == LAUF_POPULATION


@pytest.mark.parametrize(
    ("encoding", "label"),
    [("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with byte-order mark"), ("cp1252", "Windows-1252 (cp1252)")],
)
def test_utf8_with_or_without_bom_and_cp1252_read_the_same(tmp_path: Path, encoding: str, label: str) -> None:
    lines = destatis_lines({"Einwohner": "T", "Frauen": "F"})
    grid = read_zensus_grid(_write(tmp_path / "grid.csv", lines, encoding), UTM32)
    reference = read_zensus_grid(ZENSUS_LAUF, UTM32)
    assert _by_cell(grid, "Einwohner") == _by_cell(reference, "Einwohner")
    assert _by_cell(grid, "Frauen")["CRS3035RES1000mN2933000E4416000"] is None  # the en dash survived decoding
    assert grid.stats.notes[0] == f"grid.csv: read as {label}"


def test_comma_decimals_are_read_and_text_columns_left_out(tmp_path: Path) -> None:
    rows = _eurostat_rows()
    lines = destatis_lines({"Einwohner": "T"})
    lines[0] += ";Anteil_unter15;werterlaeuternde_Zeichen;Ort"
    shares = [round(100 * int(r["Y_LT15"]) / int(r["T"]), 2) for r in rows]
    for i, share in enumerate(shares, start=1):
        # a quoted comma decimal, as Destatis writes shares; the flag column holds KLAMMERN on one line only
        lines[i] += ';"' + f"{share:.2f}".replace(".", ",") + '";' + ("KLAMMERN" if i == 5 else "") + ";Lauf"
    grid = read_zensus_grid(_write(tmp_path / "grid.csv", lines), UTM32, {"Anteil_unter15": "share_under_15"})
    assert _values(grid.stats, "share_under_15") == pytest.approx(shares)
    assert set(grid.stats.values["variable"].to_pylist()) == {"Einwohner", "share_under_15"}
    notes = "\n".join(grid.stats.notes)
    assert "text column werterlaeuternde_Zeichen left out" in notes
    assert "text column Ort left out" in notes


def test_dot_thousands_separators_are_read_and_noted(tmp_path: Path) -> None:
    lines = destatis_lines({"Einwohner": "T"})
    lines[2] = lines[2].replace(";2557", ";2.557")  # German grouping; Destatis itself writes none
    grid = read_zensus_grid(_write(tmp_path / "grid.csv", lines), UTM32)
    assert sum(v or 0 for v in _values(grid.stats, "Einwohner")) == LAUF_POPULATION
    assert any("Einwohner: 1 value(s) written with '.' thousands separators" in note for note in grid.stats.notes)


@pytest.mark.parametrize("grid_size", ["100m", "1km", "10km"])
def test_each_grid_layout_gives_cells_of_its_size(tmp_path: Path, grid_size: str) -> None:
    # the 1 km values re-labelled onto 100 m / 10 km cells only to exercise the layouts (see SOURCE.md)
    lines = destatis_lines({"Einwohner": "T"}, grid_size)
    grid = read_zensus_grid(_write(tmp_path / f"Zensus2022_Bevoelkerungszahl_{grid_size}-Gitter.csv", lines), UTM32)
    size = SIZES[grid_size]
    assert len(grid.cell_ids) == LAUF_CELLS
    assert grid.cell_ids[0].as_py() == f"CRS3035RES{size}mN2931000E4410000"
    assert np.all(grid.resolution_m == size)
    assert np.allclose(shapely.area(grid.geometry), size * size, rtol=0.002)
    lower_left = shapely.bounds(read_eurostat_grid(EUROSTAT_LAUF, CRS.from_epsg(3035)).geometry)[:, :2]
    assert np.allclose(
        shapely.bounds(read_zensus_grid(grid.stats.path, CRS.from_epsg(3035)).geometry)[:, :2], lower_left
    )


def _broken(tmp_path: Path, line: int, old: str, new: str) -> Path:
    lines = destatis_lines({"Einwohner": "T", "Frauen": "F"})
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    return _write(tmp_path / "broken.csv", lines)


@pytest.mark.parametrize(
    ("line", "old", "new", "message"),
    [
        (4, "CRS3035RES1000mN", "CRS3035-1000mN", "not an INSPIRE grid id"),
        (5, "CRS3035RES1000m", "CRS3035RES100m", "100 m wide but the column GITTER_ID_1km says 1000 m"),
        (6, ";4415500;", ";4415000;", "is not the centre of cell"),
        (7, ";2931500;", ";" + EN_DASH + ";", "is not the centre of cell"),
        (8, ";523", ";52,3x", "'52,3x' in column 'Frauen' is neither a number nor a suppression mark"),
        (9, ";1928;", ";1928.5;", "'1928.5' in column 'Einwohner'"),
        (10, ";1033;528", ";1033", "Expected 5 columns, got 4"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, line: int, old: str, new: str, message: str) -> None:
    path = _broken(tmp_path, line, old, new)
    with pytest.raises(InputError, match=message) as err:
        read_zensus_grid(path, UTM32)
    assert err.value.record == f"line {line}"
    assert "broken.csv" in err.value.one_line()
    assert err.value.hint


def test_a_repeated_cell_names_both_lines(tmp_path: Path) -> None:
    lines = destatis_lines({"Einwohner": "T"})
    path = _write(tmp_path / "dup.csv", [*lines, lines[3]])
    with pytest.raises(InputError, match=r"appears more than once \(lines 4, 33\)") as err:
        read_zensus_grid(path, UTM32)
    assert err.value.record == "line 33"
    assert "dup.csv" in err.value.one_line()


@pytest.mark.parametrize(
    ("content", "message", "record"),
    [
        (None, "file not found", None),
        (b"", "file is empty", None),
        (b"GITTER_ID_1km;x_mp_1km;y_mp_1km;Einwohner\r\n", "header but no cells", None),
        (b"GRD_ID;x_mp_1km;y_mp_1km;Einwohner\r\nCRS3035RES1000mN2931000E4410000;1;2;3\r\n", "no GITTER_ID", "line 1"),
        (b"GITTER_ID_1km;x_mp_100m;y_mp_100m;Einwohner\r\n", "does not fit the id column", "line 1"),
        (
            b"GITTER_ID_1km;Einwohner\r\nCRS3035RES1000mN2931000E4410000;\x81\r\n",
            "neither UTF-8 nor Windows-1252",
            None,
        ),
    ],
)
def test_unusable_files_are_errors(tmp_path: Path, content: bytes | None, message: str, record: str | None) -> None:
    path = tmp_path / "zensus.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        read_zensus_grid(path, UTM32)
    assert err.value.record == record
    assert "zensus.csv" in err.value.one_line()


def test_the_dispatcher_picks_the_reader_from_the_header(tmp_path: Path) -> None:
    zensus = read_grid(ZENSUS_LAUF, UTM32, {"Einwohner": "population"})
    eurostat = read_grid(EUROSTAT_LAUF, UTM32, {"T": "population"})
    assert any("read as UTF-8" in note for note in zensus.stats.notes)  # only the Zensus reader says so
    assert "M" in set(eurostat.stats.values["variable"].to_pylist())  # only the Eurostat file has M
    assert _by_cell(zensus, "population") == _by_cell(eurostat, "population")
    semicolon_eurostat = _write(tmp_path / "grid.csv", ["GRD_ID;T", "CRS3035RES1000mN2931000E4410000;1164"])
    with pytest.raises(InputError, match="not a census grid table") as err:
        read_grid(semicolon_eurostat, UTM32)
    assert err.value.record == "line 1"
    assert "grid.csv" in err.value.one_line()
