"""Names of census grid cells a person can place: where a cell lies, not its INSPIRE id.

A cell is named after the district covering most of it when the twin's districts cover at least half of it (the
finest district level: the one with the smallest districts), else after the town and the cell's compass position
from the town centre ("Lauf a.d. Pegnitz - Nordost", with an en dash; the cell holding the centre is "Mitte").
Where several cells get one name, each is told apart by what is known about it, in this order: its position within
the cells of that name (districts: "Südstadt (Nordost)"), the street most of its addressed buildings stand on, else
the named street or path with the longest stretch in it ("Lauf a.d. Pegnitz - Nordost (Hugo-Dietz-Straße)"), its
distance from the town centre ("(3,4 km)"), and at last a number. The town centre is the median of the buildings'
positions (the middle of the grid without buildings).

Names are written once per build (:func:`name_grid_cells`), in German and English; the INSPIRE id stays the
cell's id.
"""

from __future__ import annotations

import re
from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa

COMPASS = (
    ("Nord", "North"),
    ("Nordost", "North-east"),
    ("Ost", "East"),
    ("Südost", "South-east"),
    ("Süd", "South"),
    ("Südwest", "South-west"),
    ("West", "West"),
    ("Nordwest", "North-west"),
)
CENTRE = ("Mitte", "Centre")
DASH = "\N{EN DASH}"  # between the town and the position: "Lauf a.d. Pegnitz – Nordost"  # noqa: RUF003
MOSTLY = 0.5  # the share of a cell the districts must cover for the cell to be named after one

Pair = tuple[str, str]  # a name part in German and English

_CELLS = """
SELECT cell_id, ST_X(ST_Centroid(geom)) AS x, ST_Y(ST_Centroid(geom)) AS y, resolution_m
FROM grid_cells ORDER BY cell_id
"""
_CENTRE = "SELECT median(ST_X(ST_PointOnSurface(geom))), median(ST_Y(ST_PointOnSurface(geom))) FROM buildings"
# The finest level's district covering most of each cell, and how much of the cell that level's districts cover.
_DISTRICTS = """
WITH finest AS (SELECT level FROM districts GROUP BY level ORDER BY avg(area_m2), level LIMIT 1),
overlap AS (
    SELECT c.cell_id, d.name, ST_Area(ST_Intersection(c.geom, d.geom)) AS a, ST_Area(c.geom) AS cell_area
    FROM grid_cells AS c JOIN districts AS d ON ST_Intersects(c.geom, d.geom)
    WHERE d.level = (SELECT level FROM finest)
)
SELECT cell_id, arg_max(name, a) AS district, sum(a) / any_value(cell_area) AS covered
FROM overlap GROUP BY cell_id
"""
# The street most addressed buildings of each cell stand on (ties: the first name in order).
_STREETS = """
WITH counted AS (
    SELECT c.cell_id, b.street, count(*) AS n
    FROM (SELECT trim(attributes->>'addr:street') AS street, ST_PointOnSurface(geom) AS pt FROM buildings
          WHERE trim(attributes->>'addr:street') <> '') AS b
    JOIN grid_cells AS c ON ST_Contains(c.geom, b.pt)
    GROUP BY ALL
)
SELECT cell_id, street FROM counted QUALIFY row_number() OVER (PARTITION BY cell_id ORDER BY n DESC, street) = 1
"""
# For cells without addressed buildings: the named street or path with the longest stretch in the cell.
_LINES = """
WITH named AS (
    SELECT trim(name) AS name, geom FROM paths WHERE trim(name) <> ''
    UNION ALL SELECT trim(name), geom FROM streets WHERE trim(name) <> '' AND geom IS NOT NULL
), stretches AS (
    SELECT c.cell_id, l.name, sum(ST_Length(ST_Intersection(c.geom, l.geom))) AS length
    FROM grid_cells AS c JOIN named AS l ON ST_Intersects(c.geom, l.geom)
    GROUP BY ALL
)
SELECT cell_id, name FROM stretches
QUALIFY row_number() OVER (PARTITION BY cell_id ORDER BY length DESC, name) = 1
"""


def town_name(title: str) -> str:
    """The town's name from the twin's title: "Monzel (Osann-Monzel)" -> "Monzel"."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", title).strip() or title


def _compass(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """The index into COMPASS of each offset (east, north) in metres: eight sectors of 45° from north."""
    bearing = np.degrees(np.arctan2(dx, dy)) % 360.0
    sectors: np.ndarray = np.round(bearing / 45.0).astype(np.int64) % 8
    return sectors


def _position(dx: np.ndarray, dy: np.ndarray, centre: np.ndarray) -> list[Pair]:
    """Compass words of each offset, "Mitte" where ``centre`` is true."""
    sectors = _compass(dx, dy)
    return [CENTRE if mid else COMPASS[s] for s, mid in zip(sectors, centre, strict=True)]


def _told_apart(primary: list[Pair], qualifiers: list[list[Pair | None]]) -> list[Pair]:
    """Names made unique: each qualifier in turn is added to the names still shared (where the cell has one), then
    a number to those still shared. Decisions follow the German names; the English ones mirror them."""
    parts: list[list[Pair]] = [[] for _ in primary]

    def names() -> list[Pair]:
        out = []
        for (de, en), extra in zip(primary, parts, strict=True):
            if extra:
                out.append((f"{de} ({', '.join(p[0] for p in extra)})", f"{en} ({', '.join(p[1] for p in extra)})"))
            else:
                out.append((de, en))
        return out

    for candidates in qualifiers:
        shared = Counter(de for de, _ in names())
        for i, (de, _) in enumerate(names()):
            if shared[de] > 1 and candidates[i] is not None:
                parts[i].append(candidates[i])  # type: ignore[arg-type]
    current = names()
    shared = Counter(de for de, _ in current)
    seen: Counter[str] = Counter()
    out = []
    for de, en in current:
        if shared[de] > 1:
            seen[de] += 1
            out.append((f"{de} {seen[de]}", f"{en} {seen[de]}"))
        else:
            out.append((de, en))
    return out


def grid_cell_names(con: duckdb.DuckDBPyConnection, town: str) -> pa.Table:
    """The name of every grid cell (columns cell_id, name, name_en), from the store's cells, districts and buildings.

    The cells of a twin are few (hundreds, a few thousand for a city): their names are put together in Python; the
    spatial work (overlaps, buildings per cell) is done in DuckDB.
    """
    cells = con.execute(_CELLS).fetchnumpy()
    ids = [str(c) for c in cells["cell_id"]]
    if not ids:
        return pa.table({"cell_id": pa.array([], pa.string()), "name": pa.array([], pa.string()),
                         "name_en": pa.array([], pa.string())})  # fmt: skip
    x, y = np.asarray(cells["x"], float), np.asarray(cells["y"], float)
    resolution = np.asarray(cells["resolution_m"], float)
    row = con.execute(_CENTRE).fetchone()
    cx, cy = (float(row[0]), float(row[1])) if row and row[0] is not None else (float(x.mean()), float(y.mean()))
    distance = np.hypot(x - cx, y - cy)
    # The cell holding the town centre (the nearest, if the centre lies within the grid) is its "Mitte".
    middle = np.zeros(len(ids), bool)
    nearest = int(np.argmin(distance))
    middle[nearest] = distance[nearest] <= resolution[nearest] * 0.71
    from_centre = _position(x - cx, y - cy, middle)

    districts = {str(r[0]): (str(r[1]), float(r[2])) for r in con.execute(_DISTRICTS).fetchall()}
    streets = {str(r[0]): str(r[1]) for r in con.execute(_LINES).fetchall()}
    streets.update({str(r[0]): str(r[1]) for r in con.execute(_STREETS).fetchall()})
    primary: list[Pair] = []
    in_district = np.zeros(len(ids), bool)
    for i, cell in enumerate(ids):
        district = districts.get(cell)
        if district is not None and district[1] >= MOSTLY:
            primary.append((district[0], district[0]))
            in_district[i] = True
        else:
            primary.append((f"{town} {DASH} {from_centre[i][0]}", f"{town} {DASH} {from_centre[i][1]}"))

    # Within the cells of one district: each cell's position from their middle.
    within: list[Pair | None] = [None] * len(ids)
    groups: dict[str, list[int]] = {}
    for i, (de, _) in enumerate(primary):
        if in_district[i]:
            groups.setdefault(de, []).append(i)
    for members in groups.values():
        if len(members) > 1:
            index = np.array(members)
            gx, gy = x[index] - x[index].mean(), y[index] - y[index].mean()
            off = np.hypot(gx, gy)
            # "Mitte": the cell nearest the middle of its district's cells, if the middle lies in it.
            centre = (np.arange(len(index)) == np.argmin(off)) & (off < resolution[index] / 2)
            for j, pair in zip(index, _position(gx, gy, centre), strict=True):
                within[int(j)] = pair
    street_parts: list[Pair | None] = [(s, s) if (s := streets.get(cell)) else None for cell in ids]
    km: list[Pair | None] = [
        None if in_district[i] else (f"{distance[i] / 1000:.1f} km".replace(".", ","), f"{distance[i] / 1000:.1f} km")
        for i in range(len(ids))
    ]
    named = _told_apart(primary, [within, street_parts, km])
    return pa.table(
        {
            "cell_id": pa.array(ids, pa.string()),
            "name": pa.array([de for de, _ in named], pa.string()),
            "name_en": pa.array([en for _, en in named], pa.string()),
        }
    )


def name_grid_cells(con: duckdb.DuckDBPyConnection, town: str) -> int:
    """Write the names of the store's grid cells (:func:`grid_cell_names`); returns how many cells were named."""
    table = grid_cell_names(con, town_name(town))
    if table.num_rows == 0:
        return 0
    con.register("_cell_names", table)
    try:
        con.execute(
            "UPDATE grid_cells AS c SET name = n.name, name_en = n.name_en FROM _cell_names AS n "
            "WHERE c.cell_id = n.cell_id"
        )
    finally:
        con.unregister("_cell_names")
    return int(table.num_rows)
