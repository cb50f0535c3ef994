"""Named, parameterised read queries over a twin store (what the server asks for).

Every function takes a DuckDB cursor, so each request can use its own cursor on a shared read-only connection.
GeoJSON is assembled from ``ST_AsGeoJSON`` text without a round trip through Python objects per feature.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb
from pyproj import CRS

from twin3d.io.crs import transformer

Cursor = duckdb.DuckDBPyConnection
WGS84 = CRS.from_epsg(4326)


def _feature_collection(rows: list[tuple[str, str]]) -> bytes:
    """Join (geometry JSON, properties JSON) rows into a GeoJSON FeatureCollection."""
    features = ",".join(f'{{"type":"Feature","geometry":{g},"properties":{p}}}' for g, p in rows)
    return f'{{"type":"FeatureCollection","features":[{features}]}}'.encode()


def meta(cur: Cursor, key: str) -> Any:
    """A value of ``twin_meta`` (decoded JSON), or None."""
    row = cur.execute("SELECT value FROM twin_meta WHERE key = ?", [key]).fetchone()
    return json.loads(row[0]) if row else None


def build_id(cur: Cursor) -> str | None:
    """The id of the build that wrote the store (its tiles are in ``<tiles_dir>/<twin>/<build_id>/``); None for a
    store built before build ids."""
    found = meta(cur, "build_id")
    return str(found) if found is not None else None


def has_table(cur: Cursor, name: str) -> bool:
    """Whether the store has the table (stores built by an older twin3d may lack newer ones)."""
    row = cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchone()
    return bool(row and row[0])


def has_column(cur: Cursor, table: str, column: str) -> bool:
    """Whether a table has a column (stores built by an older twin3d may lack newer ones)."""
    return column in table_columns(cur, table)


def table_columns(cur: Cursor, table: str) -> set[str]:
    """The columns of a store table; none if the store lacks it (stores built by an older twin3d lack newer ones)."""
    rows = cur.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main'", [table]
    ).fetchall()
    return {str(r[0]) for r in rows}


def type_names_relation(cur: Cursor) -> str:
    """The ``type_names`` relation (names of coded values), empty for a store built before it."""
    if has_table(cur, "type_names"):
        return "type_names"
    return "(SELECT ''::VARCHAR AS domain, ''::VARCHAR AS code, ''::VARCHAR AS name, ''::VARCHAR AS name_en LIMIT 0)"


OPTIONAL_TABLES = ("parcels", "land_use", "streets", "type_names", "roads", "terrain")
"""Tables stores built by an older twin3d lack (counted 0 there): the cadastre, street axes, names of codes, roads,
the kept terrain."""


def table_counts(cur: Cursor) -> dict[str, int]:
    """Rows in the tables a viewer can show (``personas`` > 0: the twin has a synthetic population; ``parcels``
    > 0: it has a cadastre)."""
    out = {}
    for table in ("districts", "grid_cells", "buildings", "facilities", "paths", "personas"):
        row = cur.execute(f"SELECT count(*) FROM {table}").fetchone()  # table names are constants above
        out[table] = int(row[0]) if row else 0
    for table in OPTIONAL_TABLES:
        row = cur.execute(f"SELECT count(*) FROM {table}").fetchone() if has_table(cur, table) else None
        out[table] = int(row[0]) if row else 0
    return out


def districts_geojson(cur: Cursor, level: str, year: int | None) -> bytes:
    """The districts of one level with their statistics of ``year`` (default: each variable's latest year).

    Properties: ``district_id``, ``code``, ``name``, ``parent_id``, ``area_km2`` and one entry per statistic.
    """
    rows = cur.execute(
        """
        WITH latest AS (
            SELECT district_id, variable, arg_max(value, year) AS value, max(year) AS year
            FROM district_stats WHERE $year IS NULL OR year = $year
            GROUP BY district_id, variable
        ), stats AS (
            SELECT district_id, json_group_object(variable, value) AS stats, max(year) AS year
            FROM latest GROUP BY district_id
        )
        SELECT ST_AsGeoJSON(d.geom_wgs84),
               json_merge_patch(
                   json_object('district_id', d.district_id, 'code', d.code, 'name', d.name,
                               'parent_id', d.parent_id, 'area_km2', round(d.area_m2 / 1e6, 3),
                               'year', s.year),
                   coalesce(s.stats, '{}'::JSON))::VARCHAR
        FROM districts AS d LEFT JOIN stats AS s USING (district_id)
        WHERE d.level = $level
        ORDER BY d.code
        """,
        {"level": level, "year": year},
    ).fetchall()
    return _feature_collection(rows)


def grid_geojson(cur: Cursor, year: int | None) -> bytes:
    """Census grid cells with their names (where they lie, :mod:`twin3d.store.area_names`) and statistics (null
    where confidential or not delivered)."""
    names = "'name', c.name, 'name_en', c.name_en," if has_column(cur, "grid_cells", "name") else ""
    rows = cur.execute(
        f"""
        WITH stats AS (
            SELECT cell_id, json_group_object(variable, value) AS stats, max(year) AS year
            FROM grid_stats WHERE $year IS NULL OR year = $year
            GROUP BY cell_id
        )
        SELECT ST_AsGeoJSON(c.geom_wgs84),
               json_merge_patch(json_object('cell_id', c.cell_id, {names} 'resolution_m', c.resolution_m,
                                            'year', s.year),
                                coalesce(s.stats, '{{}}'::JSON))::VARCHAR
        FROM grid_cells AS c LEFT JOIN stats AS s USING (cell_id)
        ORDER BY c.cell_id
        """,
        {"year": year},
    ).fetchall()
    return _feature_collection(rows)


def facilities_geojson(cur: Cursor, category: str | None) -> bytes:
    """Facilities (points of interest), optionally of one category, with the category's name in German and English
    (``type_names``; the category itself where it has none) and the source's attributes kept for them (operator,
    wheelchair access, capacity ...: the viewer's info popup labels them)."""
    rows = cur.execute(
        f"""
        SELECT ST_AsGeoJSON(f.geom_wgs84),
               json_object('facility_id', f.facility_id, 'category', f.category,
                           'category_name', coalesce(n.name, f.category),
                           'category_name_en', coalesce(n.name_en, n.name, f.category), 'name', f.name,
                           'attributes', coalesce(f.attributes, '{{}}'::JSON))::VARCHAR
        FROM facilities AS f
        LEFT JOIN {type_names_relation(cur)} AS n ON n.domain = 'facility_category' AND n.code = f.category
        WHERE $category IS NULL OR f.category = $category
        ORDER BY f.facility_id
        """,
        {"category": category},
    ).fetchall()
    return _feature_collection(rows)


def paths_geojson(cur: Cursor) -> bytes:
    """The street and footpath network lines."""
    rows = cur.execute(
        """
        SELECT ST_AsGeoJSON(geom_wgs84),
               json_object('path_id', path_id, 'path_class', path_class, 'name', name)::VARCHAR
        FROM paths ORDER BY path_id
        """
    ).fetchall()
    return _feature_collection(rows)


def facility_categories(cur: Cursor) -> list[dict[str, Any]]:
    """Facility categories with their names (German, English) and counts, most frequent first."""
    rows = cur.execute(
        f"""
        SELECT f.category, coalesce(any_value(n.name), f.category), coalesce(any_value(n.name_en), any_value(n.name),
               f.category), count(*)
        FROM facilities AS f
        LEFT JOIN {type_names_relation(cur)} AS n ON n.domain = 'facility_category' AND n.code = f.category
        GROUP BY f.category ORDER BY count(*) DESC, f.category
        """
    ).fetchall()
    return [{"category": c, "name": name, "name_en": name_en, "count": int(n)} for c, name, name_en, n in rows]


_BUILDING_COLUMNS = """
    b.building_id, b.source, b.building_type, b.name, b.height, b.height_source, b.levels, b.ground_height,
    b.footprint_m2, b.tile, b.attributes, ST_AsGeoJSON(b.geom_wgs84) AS geometry,
    ST_X(ST_Centroid(b.geom_wgs84)) AS lon, ST_Y(ST_Centroid(b.geom_wgs84)) AS lat
"""
# The smallest district a building lies in: its own query, since DuckDB plans the same as a correlated subquery of
# the building's row for 1.8 ms more, districts or not.
_DISTRICT_OF = """
    SELECT d.name FROM districts AS d, buildings AS b
    WHERE b.building_id = ? AND ST_Contains(d.geom, ST_PointOnSurface(b.geom))
    ORDER BY d.area_m2 LIMIT 1
"""


def _building_dict(cur: Cursor, row: tuple[Any, ...] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    names = [d[0] for d in cur.description or []]
    out = dict(zip(names, row, strict=False))
    out["attributes"] = json.loads(out["attributes"]) if out.get("attributes") else {}
    out["geometry"] = json.loads(out["geometry"])
    for key in ("height", "ground_height", "footprint_m2"):
        out[key] = round(float(out[key]), 2)
    district = cur.execute(_DISTRICT_OF, [out["building_id"]]).fetchone()
    out["district"] = district[0] if district else None
    return out


def building(cur: Cursor, building_id: str) -> dict[str, Any] | None:
    """One building by id, with its attributes and the district it lies in."""
    cur.execute(f"SELECT {_BUILDING_COLUMNS} FROM buildings AS b WHERE b.building_id = ?", [building_id])
    return _building_dict(cur, cur.fetchone())


def building_at(cur: Cursor, lon: float, lat: float, crs: str, tolerance_m: float) -> dict[str, Any] | None:
    """The building under a clicked point (lon/lat), or the nearest one within ``tolerance_m``.

    A click on a wall lands on the footprint's edge, a click near a roof edge can miss it by a little: the
    footprint containing the point wins, else the nearest within the tolerance.
    """
    x, y = transformer(WGS84, CRS.from_user_input(crs)).transform(lon, lat)
    # The envelope lets the R-tree pick the candidates (a buffer built from parameters would not); the nearest of
    # the few within the tolerance is chosen here, since an ORDER BY ... LIMIT makes DuckDB scan every building.
    candidates = cur.execute(
        """
        SELECT b.building_id, ST_Distance(b.geom, ST_Point($x, $y)) AS distance_m, b.footprint_m2
        FROM buildings AS b
        WHERE ST_Intersects(b.geom, ST_MakeEnvelope($x - $tol, $y - $tol, $x + $tol, $y + $tol))
          AND ST_DWithin(b.geom, ST_Point($x, $y), $tol)
        """,
        {"x": float(x), "y": float(y), "tol": tolerance_m},
    ).fetchall()
    if not candidates:
        return None
    building_id, distance, _ = min(candidates, key=lambda c: (c[1], c[2], c[0]))
    cur.execute(
        f"SELECT {_BUILDING_COLUMNS}, ? AS distance_m FROM buildings AS b WHERE b.building_id = ?",
        [distance, building_id],
    )
    found = _building_dict(cur, cur.fetchone())
    if found is not None:
        found["distance_m"] = round(float(found["distance_m"]), 2)
    return found
