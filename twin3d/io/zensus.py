"""German Zensus 2022 grid tables ("Gitterzellen" CSV as published by Destatis) and a reader that picks the format.

Destatis publishes every grid table (``Zensus2022_Bevoelkerungszahl_100m-Gitter.csv`` and the same layout for the
1 km and 10 km grids) as semicolon-separated text with a comma as decimal separator::

    GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner
    CRS3035RES100mN2689100E4337000;4337050;2689150;4

``GITTER_ID`` is the INSPIRE id (lower-left corner in EPSG:3035), ``x_mp``/``y_mp`` the cell centre. Values that
are secret, not available or nil are written with a sign instead of a number. The cells come back as the same
:class:`~twin3d.io.stats.GridCells` that :func:`~twin3d.io.stats.read_eurostat_grid` returns, so both census grids
feed the same pipeline steps.

Example:
    >>> grid = read_grid(Path("Zensus2022_Bevoelkerungszahl_1km-Gitter.csv"), CRS.from_epsg(25832))  # doctest: +SKIP
    >>> grid.stats.notes  # doctest: +SKIP
    ['Zensus2022_Bevoelkerungszahl_1km-Gitter.csv: read as Windows-1252 (cp1252)']
"""

from __future__ import annotations

import contextlib
import gzip
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.crs import reproject
from twin3d.io.stats import _GRID_ID, LAEA_EUROPE, GridCells, StatTable, _to_long, read_eurostat_grid

_ID_COLUMN = re.compile(r"^GITTER_ID_(?P<size>\d+)(?P<unit>km|m)$")
_CENTRE_COLUMN = re.compile(r"^(?P<axis>[xy])_mp_(?P<suffix>\w+)$")
# Destatis signs for "no number here": en dash nil or not available, . secret or unknown, / not reliable enough,
# x cell locked, ... not yet available; "-" is the ASCII spelling of the en dash found in re-saved files.
SUPPRESSION_MARKS = ("\u2013", "-", ".", "/", "x", "X", "...")
# An integer or a comma decimal, optionally grouped by thousands with dots ("1.234,5"); a dot decimal is refused.
_NUMBER = r"^-?(\d+|\d{1,3}(\.\d{3})+)(,\d+)?$"
_TEXT_COLUMN_SUFFIX = "werterlaeuternde_Zeichen"
_CENTRE_TOLERANCE_M = 1e-3
_ENCODINGS = {"utf8": "UTF-8", "cp1252": "Windows-1252 (cp1252)"}
_BOM = b"\xef\xbb\xbf"
_GZIP = b"\x1f\x8b"


def _first_line(path: Path) -> tuple[str, bool]:
    """The decoded header line of a text table, and whether the file starts with a UTF-8 byte-order mark."""
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path in the pipeline definition")
    if path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", file=path, hint="download or export the table again")
    # A gzipped table (the tiled Eurostat grid comes as .csv.gz) is read through gzip; pyarrow does the same
    # for the table itself, by the .gz suffix.
    with path.open("rb") as fh:
        gzipped = fh.read(2) == _GZIP
    with gzip.open(path, "rb") if gzipped else path.open("rb") as fh:
        raw = fh.readline(1 << 16)
    bom = raw.startswith(_BOM)
    raw = raw.removeprefix(_BOM).rstrip(b"\r\n")
    try:
        return raw.decode("utf-8"), bom
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), bom


def _line(row: int) -> str:
    return f"line {row + 2}"  # the header is line 1


def _first(mask: pa.Array | pa.ChunkedArray) -> int:
    return int(np.flatnonzero(pc.fill_null(mask, False).to_numpy(zero_copy_only=False))[0])


def _read_once(path: Path, names: list[str], encoding: str, bad: list[int | None] | None = None) -> pa.Table:
    """One pass of the CSV reader; with ``bad`` it runs on one thread, which numbers the rows, and collects them."""

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        if bad is not None:
            bad.append(row.number)
        return "error"

    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, encoding=encoding, use_threads=bad is None),
        parse_options=pacsv.ParseOptions(delimiter=";", invalid_row_handler=on_invalid_row),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def _read_strings(path: Path, names: list[str]) -> tuple[pa.Table, str]:
    """Every column as text (empty -> null), trying UTF-8 first and then Windows-1252."""
    try:
        return _read_once(path, names, "utf8"), "utf8"
    except pa.ArrowInvalid as exc:
        if "invalid UTF8" not in str(exc):
            raise _unreadable(path, names, "utf8", exc) from exc
    try:
        return _read_once(path, names, "cp1252"), "cp1252"
    except pa.ArrowInvalid as exc:
        raise _unreadable(path, names, "cp1252", exc) from exc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"the file is neither UTF-8 nor Windows-1252 text ({exc.reason} at byte {exc.start})",
            file=path,
            hint="save the table as UTF-8",
        ) from exc


def _unreadable(path: Path, names: list[str], encoding: str, exc: pa.ArrowInvalid) -> InputError:
    bad: list[int | None] = []
    with contextlib.suppress(pa.ArrowInvalid):  # again on one thread to learn the line where the file breaks
        _read_once(path, names, encoding, bad)
    return InputError(
        f"not a readable semicolon-separated table: {exc}",
        file=path,
        record=f"line {bad[0]}" if bad and bad[0] is not None else None,
        hint=f"every line needs {len(names)} fields separated by ';' like the header",
    )


def _parse_numbers(path: Path, name: str, column: pa.ChunkedArray) -> tuple[pa.Array | None, int, int]:
    """German-formatted numbers as float64 with null for suppression marks.

    Returns ``(values, suppressed, grouped)``; ``values`` is None for a text column (no value is a number).
    """
    text = pc.utf8_trim_whitespace(column.combine_chunks())
    suppressed = pc.or_(pc.is_null(text), pc.is_in(text, value_set=pa.array(("", *SUPPRESSION_MARKS))))
    number = pc.fill_null(pc.match_substring_regex(text, _NUMBER), False)
    bad = pc.invert(pc.or_(suppressed, number))
    if pc.any(bad).as_py():
        if not pc.any(number).as_py():
            return None, 0, 0
        row = _first(bad)
        raise InputError(
            f"{text[row].as_py()!r} in column {name!r} is neither a number nor a suppression mark",
            file=path,
            record=_line(row),
            hint="write numbers like 1234 or 12,5 (decimal comma) and secret values as an en dash",
        )
    grouped = int(pc.sum(pc.and_(number, pc.match_substring(text, "."))).as_py() or 0)
    plain = pc.replace_substring(pc.replace_substring(text, ".", ""), ",", ".")
    values = pc.cast(pc.if_else(suppressed, pa.scalar(None, pa.string()), plain), pa.float64())
    return values, int(pc.sum(suppressed).as_py() or 0), grouped


def _cell_squares(east: np.ndarray, north: np.ndarray, res: np.ndarray, target_crs: CRS) -> np.ndarray:
    # the same construction as read_eurostat_grid, so a cell has one geometry whichever file it came from
    squares = shapely.box(east, north, east + res, north + res)
    squares = shapely.segmentize(squares, max_segment_length=np.maximum(res / 10.0, 10.0))
    return np.asarray(reproject(squares, LAEA_EUROPE, target_crs))


@dataclass(frozen=True)
class _Layout:
    """What the header line of a Zensus grid table says."""

    names: list[str]
    id_col: str
    suffix: str
    resolution_m: float
    centre_cols: dict[str, str]  # axis ("x", "y") -> column name


def _split_header(header: str, delimiter: str) -> list[str]:
    return [n.strip().strip('"').strip() for n in header.split(delimiter)]


def _layout(path: Path, header: str) -> _Layout:
    names = _split_header(header, ";")
    id_matches = [m for m in map(_ID_COLUMN.match, names) if m]
    if len(id_matches) != 1:
        raise InputError(
            "no GITTER_ID_100m, GITTER_ID_1km or GITTER_ID_10km column" if not id_matches else "two id columns",
            file=path,
            record="line 1",
            hint=f"this reader expects a Zensus 2022 grid table separated by ';'; the header is {header[:200]!r}",
        )
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"column {repeated[0]!r} appears twice", file=path, record="line 1", hint="rename one")
    id_col = id_matches[0].group(0)
    suffix = id_col.removeprefix("GITTER_ID_")
    res = float(id_matches[0].group("size")) * (1000.0 if id_matches[0].group("unit") == "km" else 1.0)
    centre_cols = {}
    for name in names:
        centre = _CENTRE_COLUMN.match(name)
        if centre is None:
            continue
        if centre.group("suffix") != suffix:
            raise InputError(
                f"centre column {name!r} does not fit the id column {id_col!r}",
                file=path,
                record="line 1",
                hint=f"expected x_mp_{suffix} and y_mp_{suffix}",
            )
        centre_cols[centre.group("axis")] = name
    return _Layout(names, id_col, suffix, res, centre_cols)


def _cells(path: Path, layout: _Layout, table: pa.Table) -> tuple[pa.Array, np.ndarray, np.ndarray, np.ndarray]:
    """Cell ids with their lower-left corners and sizes, checked against the header and for repeats."""
    ids = pc.utf8_trim_whitespace(table.column(layout.id_col).combine_chunks())
    parsed = pc.extract_regex(ids, _GRID_ID)
    if parsed.null_count:
        row = _first(parsed.is_null())
        raise InputError(
            f"{layout.id_col} {ids[row].as_py()!r} is not an INSPIRE grid id",
            file=path,
            record=_line(row),
            hint=f"expected e.g. CRS3035RES{layout.resolution_m:.0f}mN2689000E4337000",
        )
    res = pc.cast(pc.struct_field(parsed, "res"), pa.float64()).to_numpy()
    north = pc.cast(pc.struct_field(parsed, "n"), pa.float64()).to_numpy()
    east = pc.cast(pc.struct_field(parsed, "e"), pa.float64()).to_numpy()
    other = res != layout.resolution_m
    if other.any():
        row = int(np.flatnonzero(other)[0])
        raise InputError(
            f"cell {ids[row].as_py()!r} is {res[row]:.0f} m wide but the column {layout.id_col} says "
            f"{layout.resolution_m:.0f} m",
            file=path,
            record=_line(row),
            hint="a file holds one grid resolution; check that the id column's name fits the ids",
        )
    counts = pc.value_counts(ids)
    twice = counts.filter(pc.greater(counts.field("counts"), 1)).field("values")
    if len(twice):
        rows = np.flatnonzero(pc.equal(ids, twice[0]).to_numpy(zero_copy_only=False))
        raise InputError(
            f"cell {twice[0].as_py()!r} appears more than once (lines {', '.join(str(r + 2) for r in rows)})",
            file=path,
            record=_line(int(rows[1])),
            hint="keep one line per cell",
        )
    return ids, east, north, res


def _check_centres(
    path: Path, layout: _Layout, table: pa.Table, *, ids: pa.Array, corners: dict[str, np.ndarray], res: np.ndarray
) -> list[str]:
    """Raise on the first centre that is not its id's corner plus half a cell; note missing centre columns."""
    notes = []
    for axis, corner in corners.items():
        name = layout.centre_cols.get(axis)
        if name is None:
            notes.append(f"{path.name}: no {axis}_mp_{layout.suffix} column; cells built from the ids alone")
            continue
        values, _, _ = _parse_numbers(path, name, table.column(name))
        centre = np.full(len(corner), np.nan) if values is None else values.to_numpy(zero_copy_only=False)
        wrong = ~(np.abs(centre - (corner + res / 2.0)) <= _CENTRE_TOLERANCE_M)  # NaN (no number) is wrong too
        if wrong.any():
            row = int(np.flatnonzero(wrong)[0])
            raise InputError(
                f"{name} = {table.column(name)[row].as_py()!r} is not the centre of cell {ids[row].as_py()!r} "
                f"(expected {corner[row] + res[row] / 2.0:.0f})",
                file=path,
                record=_line(row),
                hint="the centre is the id's lower-left corner plus half the cell size",
            )
    return notes


def _variables(path: Path, layout: _Layout, table: pa.Table) -> tuple[dict[str, pa.Array], list[str]]:
    """The value columns as float64 (null = suppressed), and notes on suppressed values and left-out columns."""
    columns: dict[str, pa.Array] = {}
    notes = []
    for name in layout.names:
        if name == layout.id_col or name in layout.centre_cols.values():
            continue
        values, suppressed, grouped = None, 0, 0
        if not name.endswith(_TEXT_COLUMN_SUFFIX):
            values, suppressed, grouped = _parse_numbers(path, name, table.column(name))
        if values is None:
            notes.append(f"{path.name}: text column {name} left out")
            continue
        if suppressed:
            notes.append(
                f"{path.name}: {name}: {suppressed} of {table.num_rows} values suppressed or not available, "
                "read as null"
            )
        if grouped:
            notes.append(f"{path.name}: {name}: {grouped} value(s) written with '.' thousands separators")
        columns[name] = values
    return columns, notes


def read_zensus_grid(path: Path, target_crs: CRS, rename: dict[str, str] | None = None) -> GridCells:
    """Read a Zensus 2022 grid table from Destatis (``GITTER_ID_100m;x_mp_100m;y_mp_100m;Einwohner``).

    The resolution comes from the id column's name (``GITTER_ID_100m``, ``_1km``, ``_10km``) and must agree with
    every id; the centre columns must be the id's corner plus half a cell. Cells are rebuilt from the ids and
    reprojected with densified edges exactly like :func:`~twin3d.io.stats.read_eurostat_grid`. Numbers may use a
    decimal comma; the en dash (U+2013), ``-``, ``.``, ``/``, ``x``, ``...`` and empty fields mean "secret, nil
    or not available" and become null. Text columns (``werterlaeuternde_Zeichen`` and any column with no number
    in it) are left out. ``stats.notes`` says which encoding was read (UTF-8 first, then Windows-1252), how many
    values each column had suppressed, and what was left out.

    Args:
        path: the CSV file.
        target_crs: the twin's projected CRS.
        rename: variable names to use instead of the column names, e.g. ``{"Einwohner": "population"}``.

    Returns:
        The cells in file order with their geometry and the values in long form.

    Raises:
        InputError: the file is missing, empty, not UTF-8 or Windows-1252 text, or has no ``GITTER_ID_*``
            column; or a line has a malformed id, an id of another resolution, a centre that does not match
            its id, a value that is neither a number nor a suppression mark, or repeats a cell id (the error
            names the line).

    Example:
        >>> grid = read_zensus_grid(path, CRS.from_epsg(25832), {"Einwohner": "population"})  # doctest: +SKIP
    """
    header, bom = _first_line(path)
    layout = _layout(path, header)
    table, encoding = _read_strings(path, layout.names)
    if table.num_rows == 0:
        raise InputError("the table has a header but no cells", file=path, hint="download or export it again")
    ids, east, north, res = _cells(path, layout, table)
    notes = [f"{path.name}: read as {_ENCODINGS[encoding]}{' with byte-order mark' if bom else ''}"]
    notes += _check_centres(path, layout, table, ids=ids, corners={"x": east, "y": north}, res=res)
    columns, variable_notes = _variables(path, layout, table)
    stats = StatTable(path, ids, _to_long(path, ids, pa.table(columns), rename or {}), notes + variable_notes)
    return GridCells(ids, res, _cell_squares(east, north, res, target_crs), stats)


def read_grid(path: Path, target_crs: CRS, rename: dict[str, str] | None = None) -> GridCells:
    """Read a census grid CSV in either layout, chosen by its header line.

    A semicolon-separated header with a ``GITTER_ID_100m``/``_1km``/``_10km`` column goes to
    :func:`read_zensus_grid` (Destatis); a comma-separated one with ``GRD_ID`` goes to
    :func:`~twin3d.io.stats.read_eurostat_grid` (Eurostat Census 2021 grid).

    Raises:
        InputError: the file is missing or empty, or its header fits neither layout.
    """
    header, _ = _first_line(path)
    if any(map(_ID_COLUMN.match, _split_header(header, ";"))):
        return read_zensus_grid(path, target_crs, rename)
    if "GRD_ID" in _split_header(header, ","):
        return read_eurostat_grid(path, target_crs, rename)
    raise InputError(
        "not a census grid table: the header has neither GITTER_ID_100m/1km/10km (Zensus 2022, separated by ';') "
        "nor GRD_ID (Eurostat, separated by ',')",
        file=path,
        record="line 1",
        hint=f"the header is {header[:200]!r}",
    )
