"""Read queries of the cadastre: a parcel with its figures and buildings, the parcel under a point, the parcels a
building stands on, and the names of coded values (``type_names``) a person reads instead of codes.

Every function takes a DuckDB cursor of a twin store; a store without the cadastre tables (built before them, or
without parcels) answers as if the parcel were not there.
"""

from __future__ import annotations

import json
from typing import Any

from pyproj import CRS

from twin3d.io.crs import transformer
from twin3d.store.queries import WGS84, Cursor, has_column, has_table

_PARCEL = """
SELECT p.parcel_id, p.label, p.cadastral_id, p.gemarkung, {gemarkung_name}, p.flur, p.number, p.area_m2,
       p.official_area_m2,
       p.land_use, p.land_use_name,
       (SELECT any_value(l.name_en) FROM land_use AS l WHERE l.land_use_class = p.land_use) AS land_use_name_en,
       p.buildings, p.built_m2, p.floor_area_m2, p.storeys_estimated, p.grz, p.gfz,
       ST_AsGeoJSON(p.geom_wgs84) AS geometry,
       ST_X(ST_PointOnSurface(p.geom_wgs84)) AS lon, ST_Y(ST_PointOnSurface(p.geom_wgs84)) AS lat
FROM parcels AS p WHERE p.parcel_id = ?
"""
# The buildings on a parcel: the footprint on it and the share of the building's footprint that is.
_ON_PARCEL = """
SELECT b.building_id, b.name, b.building_type, n.name AS building_type_name, n.name_en AS building_type_name_en,
       b.levels, b.height, r.area_m2, r.share
FROM building_parcels AS r JOIN buildings AS b USING (building_id)
LEFT JOIN type_names AS n ON n.domain = 'building_type' AND n.code = b.building_type
WHERE r.parcel_id = ?
ORDER BY r.area_m2 DESC, b.building_id
"""
_OF_BUILDING = """
SELECT r.parcel_id, p.label, p.gemarkung, {gemarkung_name}, p.flur, p.number, r.area_m2, r.share
FROM building_parcels AS r JOIN parcels AS p USING (parcel_id)
WHERE r.building_id = ?
ORDER BY r.share DESC, r.parcel_id
"""


def has_parcels(cur: Cursor) -> bool:
    """Whether the store has the cadastre tables (empty or not)."""
    return has_table(cur, "parcels") and has_table(cur, "building_parcels")


def _with_names(cur: Cursor, sql: str) -> str:
    """A query of parcels with their Gemarkung's name (null from a store built before parcels kept it)."""
    name = "p.gemarkung_name" if has_column(cur, "parcels", "gemarkung_name") else "NULL::VARCHAR AS gemarkung_name"
    return sql.format(gemarkung_name=name)


def label_parts(row: dict[str, Any]) -> dict[str, str | None] | None:
    """The parts a parcel's name is built from, for a viewer to write it in its reader's language (``label`` is
    German): the Gemarkung's name and number, the Flur, and the Flurstück number's numerator and denominator
    (``6/2``: Zähler 6, Nenner 2). Pops ``gemarkung_name`` from ``row``; None where the parcel has none of them
    (its label is then its cadastral key or id)."""
    name = row.pop("gemarkung_name", None)
    number = row.get("number")
    numerator, _, denominator = number.partition("/") if number else (None, "", "")
    parts = {
        "gemarkung_name": name or None,
        "gemarkung": row.get("gemarkung") or None,
        "flur": row.get("flur") or None,
        "numerator": numerator or None,
        "denominator": denominator or None,
    }
    return parts if any(parts.values()) else None


def _rounded(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def parcel(cur: Cursor, parcel_id: str) -> dict[str, Any] | None:
    """One parcel with its figures (areas in m², GRZ and GFZ) and the buildings on it; None if there is none."""
    if not has_parcels(cur):
        return None
    cur.execute(_with_names(cur, _PARCEL), [parcel_id])
    row = cur.fetchone()
    if row is None:
        return None
    names = [d[0] for d in cur.description or []]
    out = dict(zip(names, row, strict=True))
    out["label_parts"] = label_parts(out)
    out["geometry"] = json.loads(out["geometry"])
    for key in ("area_m2", "official_area_m2", "built_m2", "floor_area_m2"):
        out[key] = _rounded(out[key], 1)
    for key in ("grz", "gfz"):
        out[key] = _rounded(out[key], 3)
    cur.execute(_ON_PARCEL, [parcel_id])
    columns = [d[0] for d in cur.description or []]
    buildings = []
    for values in cur.fetchall():
        b = dict(zip(columns, values, strict=True))
        b["building_type_name"] = b["building_type_name"] or b["building_type"]
        b["height"] = _rounded(b["height"], 1)
        b["area_m2"] = _rounded(b["area_m2"], 1)
        b["share"] = _rounded(min(float(b["share"]), 1.0), 3)
        buildings.append(b)
    out["building_list"] = buildings
    return out


def parcel_at(cur: Cursor, lon: float, lat: float, crs: str) -> dict[str, Any] | None:
    """The parcel under a point (lon/lat), with its figures and buildings; None where there is none.

    Parcels tile the land without overlaps, so the one containing the point is the answer (a point on a shared
    boundary takes the first by id).
    """
    if not has_parcels(cur):
        return None
    x, y = transformer(WGS84, CRS.from_user_input(crs)).transform(lon, lat)
    # The envelope lets the R-tree pick the candidates; the exact test follows on those few.
    row = cur.execute(
        """
        SELECT parcel_id FROM parcels
        WHERE ST_Intersects(geom, ST_MakeEnvelope($x, $y, $x, $y)) AND ST_Intersects(geom, ST_Point($x, $y))
        ORDER BY parcel_id LIMIT 1
        """,
        {"x": float(x), "y": float(y)},
    ).fetchone()
    return parcel(cur, str(row[0])) if row else None


def building_parcels(cur: Cursor, building_id: str) -> list[dict[str, Any]]:
    """The parcels a building stands on: id, label (German) and its parts (:func:`label_parts`), the footprint area
    on each and its share of the footprint, the largest share first (empty without a cadastre)."""
    if not has_parcels(cur):
        return []
    cur.execute(_with_names(cur, _OF_BUILDING), [building_id])
    names = [d[0] for d in cur.description or []]
    out = []
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        out.append(
            {
                "parcel_id": row["parcel_id"],
                "label": row["label"],
                "label_parts": label_parts(row),
                "area_m2": _rounded(row["area_m2"], 1),
                "share": _rounded(min(float(row["share"]), 1.0), 3),
            }
        )
    return out


def type_name(cur: Cursor, domain: str, code: str | None) -> tuple[str | None, str | None]:
    """The German and English name of a coded value (``type_names``), the code itself where it has none."""
    if code is None:
        return None, None
    if not has_table(cur, "type_names"):
        return code, None
    row = cur.execute("SELECT name, name_en FROM type_names WHERE domain = ? AND code = ?", [domain, code]).fetchone()
    return (str(row[0]), None if row[1] is None else str(row[1])) if row else (code, None)
