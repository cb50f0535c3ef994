"""Statistics tables: municipal district tables and the Eurostat/Zensus 1 km census grid.

Both come back in long form (key, variable, value) so that any number of variables and years fit one table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from pyproj import CRS

from twin3d.errors import InputError
from twin3d.io.crs import reproject

_GRID_ID = r"^CRS3035RES(?P<res>\d+)mN(?P<n>\d+)E(?P<e>\d+)$"
LAEA_EUROPE = CRS.from_epsg(3035)


@dataclass(frozen=True)
class StatTable:
    """Values of one statistics file in long form.

    Attributes:
        path: the file read.
        keys: the district codes or grid cell ids, one per row of the file.
        values: columns ``key`` (string), ``variable`` (string), ``value`` (float64, null = not available).
        notes: what was left out and why (index columns, variables not delivered), for the build report.
    """

    path: Path
    keys: pa.Array
    values: pa.Table
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class GridCells:
    """Census grid cells with their geometry in the twin's CRS."""

    cell_ids: pa.Array
    resolution_m: np.ndarray
    geometry: np.ndarray
    stats: StatTable


def _read_csv(path: Path, delimiter: str = ",") -> pa.Table:
    if not path.is_file():
        raise InputError("file not found", file=path, hint="check the path in the pipeline definition")
    if path.stat().st_size == 0:
        raise InputError("file is empty (0 bytes)", file=path, hint="export the table again")
    try:
        return pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(strings_can_be_null=True),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InputError(
            f"not a readable CSV table: {exc}", file=path, hint="save it as UTF-8 CSV with one header row"
        ) from exc


def _to_long(path: Path, keys: pa.Array, table: pa.Table, rename: dict[str, str]) -> pa.Table:
    parts = []
    for name in table.column_names:
        col = table.column(name)
        values = pc.cast(col, pa.float64())
        parts.append(
            pa.table(
                {
                    "key": keys,
                    "variable": pa.array([rename.get(name, name)] * len(keys), pa.string()),
                    "value": values.combine_chunks(),
                }
            )
        )
    if not parts:
        raise InputError("the table has no numeric columns", file=path, hint="check the delimiter and the header")
    return pa.concat_tables(parts)


def read_district_table(path: Path, key_field: str, rename: dict[str, str] | None = None) -> StatTable:
    """Read a municipal statistics table with one row per district.

    Numeric columns become variables (renamed by ``rename``); text columns such as district names are left out;
    an unnamed first column (a row index written by R or pandas) is dropped and noted.

    Raises:
        InputError: the file is missing or empty, the key column is absent, or a district code repeats.
    """
    table = _read_csv(path)
    notes: list[str] = []
    unnamed = [n for n in table.column_names if n.strip() == "" or n.startswith("Unnamed")]
    if unnamed:
        notes.append(f"dropped {len(unnamed)} unnamed row-index column(s)")
        table = table.drop_columns(unnamed)
    if key_field not in table.column_names:
        raise InputError(
            f"key column {key_field!r} not found",
            file=path,
            hint=f"the table has: {', '.join(table.column_names)}",
        )
    keys = pc.cast(table.column(key_field), pa.string()).combine_chunks()
    if keys.null_count:
        row = int(np.flatnonzero(keys.is_null().to_numpy(zero_copy_only=False))[0]) + 2
        raise InputError(f"empty {key_field}", file=path, record=f"line {row}", hint="fill in the district code")
    counts = pc.value_counts(keys)
    repeated = [v["values"].as_py() for v in counts if v["counts"].as_py() > 1]
    if repeated:
        raise InputError(
            f"district code {repeated[0]!r} appears more than once",
            file=path,
            record=f"{key_field}={repeated[0]}",
            hint="keep one row per district",
        )
    numeric = [
        n
        for n in table.column_names
        if n != key_field
        and (pa.types.is_integer(table.schema.field(n).type) or pa.types.is_floating(table.schema.field(n).type))
    ]
    values = _to_long(path, keys, table.select(numeric), rename or {})
    return StatTable(path, keys, values, notes)


def read_eurostat_grid(path: Path, target_crs: CRS, rename: dict[str, str] | None = None) -> GridCells:
    """Read a Eurostat/Zensus census grid CSV (``GRD_ID, T, M, F, Y_LT15, ...``).

    Cells are rebuilt from the INSPIRE id (lower-left corner and resolution in EPSG:3035) and reprojected to the
    twin's CRS with densified edges. A value whose ``<var>_CI`` flag is 1 is confidential and becomes null;
    a variable that is 0 in every cell was not delivered (``EMP`` for Germany) and is left out with a note.

    Raises:
        InputError: a ``GRD_ID`` does not follow the INSPIRE pattern (the error names the line).
    """
    table = _read_csv(path)
    if "GRD_ID" not in table.column_names:
        raise InputError("column GRD_ID not found", file=path, hint="this reader expects the Eurostat grid CSV")
    ids = pc.cast(table.column("GRD_ID"), pa.string()).combine_chunks()
    parsed = pc.extract_regex(ids, _GRID_ID)
    valid = parsed.is_valid().to_numpy(zero_copy_only=False)
    if not valid.all():
        row = int(np.flatnonzero(~valid)[0])
        raise InputError(
            f"GRD_ID {ids[row].as_py()!r} is not an INSPIRE grid id",
            file=path,
            record=f"line {row + 2}",
            hint="expected e.g. CRS3035RES1000mN3440000E4456000",
        )
    res = pc.cast(pc.struct_field(parsed, "res"), pa.float64()).to_numpy()
    north = pc.cast(pc.struct_field(parsed, "n"), pa.float64()).to_numpy()
    east = pc.cast(pc.struct_field(parsed, "e"), pa.float64()).to_numpy()
    squares = shapely.box(east, north, east + res, north + res)
    squares = shapely.segmentize(squares, max_segment_length=np.maximum(res / 10.0, 10.0))
    geometry = reproject(squares, LAEA_EUROPE, target_crs)

    notes: list[str] = []
    value_cols = [n for n in table.column_names if n != "GRD_ID" and not n.endswith("_CI")]
    columns: dict[str, pa.Array] = {}
    for name in value_cols:
        col = pc.cast(table.column(name), pa.float64()).combine_chunks()
        flag_name = f"{name}_CI"
        if flag_name in table.column_names:
            confidential = pc.equal(pc.cast(table.column(flag_name), pa.int64()), 1).combine_chunks()
            col = pc.if_else(pc.fill_null(confidential, False), pa.scalar(None, pa.float64()), col)
        if pc.all(pc.equal(pc.fill_null(col, 0.0), 0.0)).as_py():
            notes.append(f"{path.name}: {name} is 0 in every cell (not delivered), left out")
            continue
        columns[name] = col
    stats = StatTable(path, ids, _to_long(path, ids, pa.table(columns), rename or {}), notes)
    return GridCells(ids, res, geometry, stats)
