"""The search index of a twin: streets, addresses, districts, parcels, named facilities, greens and buildings.

A build writes ``search_index`` once its tables are in the store (:func:`build_search_index`): one row per thing a
person looks for, with what to read (``name``, ``detail``), a normalised ``key`` to match, where to fly (``lon``,
``lat``) and the box to fit. Everything is done in DuckDB over whole tables. Only public tables are read (streets,
paths, buildings, districts, parcels, facilities, greens); the synthetic population never is.

:func:`search` answers a query: every query token must be the beginning of a token of the key ("kroep str" finds
"Kröpeliner Straße"), ranked by kind, then whole-key matches, then shorter names; with no such hit it falls back
to names whose words resemble the first query word (Jaro-Winkler), so a typo still finds something.

Example:
    >>> build_search_index(con, town="Lauf a.d. Pegnitz")  # doctest: +SKIP
    >>> [h.name for h in search(con.cursor(), "marktpl")][:1]  # doctest: +SKIP
    ['Marktplatz']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import duckdb

from twin3d.store.queries import table_columns

Cursor = duckdb.DuckDBPyConnection
Kind = Literal["street", "address", "district", "parcel", "facility", "green", "place"]

RANK: dict[str, int] = {"street": 1, "place": 2, "district": 2, "facility": 3, "green": 3, "address": 4, "parcel": 5}
"""Lower first: streets and named places above districts, facilities above addresses and parcels."""
STREET_GAP_M = 250.0  # segments of one name closer than this are one street; farther apart, two (two villages)
POINT_BOX_M = 40.0  # half the side of the box a point (an address, a stop) is shown in
PLACE_DEDUPE_M = 150.0  # a named building this close to a facility or green of the same name is that one
MAX_TOKENS = 8  # query words beyond these are ignored (a query is at most 100 characters)
FUZZY_MIN_SIMILARITY = 0.89  # Jaro-Winkler: "kropeliner" ~ "kroepeliner" 0.91, "lauf" ~ "laufamholz" 0.88 (not)
FUZZY_MIN_LENGTH = 3
# OSM tags of one stop (its pole, platform, stop position): one result where they share a name.
STOP_CATEGORIES = (
    "highway=bus_stop",
    "public_transport=platform",
    "public_transport=stop_position",
    "public_transport=station",
    "amenity=bus_station",
    "railway=tram_stop",
    "railway=halt",
    "railway=station",
    "railway=platform",
)
PARCEL_COLUMNS = ("parcel_id", "cadastral_id", "gemarkung", "flur", "number", "label", "geom_wgs84")


def key_sql(expression: str) -> str:
    """SQL that normalises the text of ``expression`` to a search key.

    Lower case; ä, ö, ü, ß as ae, oe, ue, ss; other accents dropped; "str." as "strasse"; every run of other
    characters (punctuation, hyphens, ``%``, ``_``) one space, except a slash between digits ("123/4", a parcel
    number). The same SQL normalises the stored names and the query, so both always agree.
    """
    text = (
        f"strip_accents(replace(replace(replace(replace(lower({expression}), 'ä', 'ae'), 'ö', 'oe'), 'ü', 'ue'), "
        "'ß', 'ss'))"
    )
    text = f"regexp_replace({text}, 'str\\.', 'strasse ', 'g')"
    # Lower case holds no capital letter: "S" marks a slash between digits while every other character goes.
    text = f"regexp_replace({text}, '([0-9])/([0-9])', '\\1S\\2', 'g')"
    text = f"regexp_replace({text}, '[^a-z0-9S]+', ' ', 'g')"
    return f"trim(replace({text}, 'S', '/'))"


# Named line pieces: the street register's axes and the named segments of the path network.
_PIECES = f"""
CREATE OR REPLACE TEMP TABLE _search_pieces AS
SELECT row_number() OVER (ORDER BY ref) AS id, * FROM (
    SELECT name, {key_sql("name")} AS key, ref, geom, geom_wgs84 FROM (
        SELECT trim(name) AS name, street_id AS ref, geom, geom_wgs84 FROM streets
        UNION ALL
        -- A platform's or stop's name is a stop's, not a street's (the stops are facilities).
        SELECT trim(name), path_id, geom, geom_wgs84 FROM paths
        WHERE name IS NOT NULL AND NOT regexp_matches(coalesce(path_class, ''), '(^|=)(platform|bus_stop)$')
    )
    WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom)
)
WHERE key <> ''
"""

# Pieces of one name within STREET_GAP_M of each other, transitively, are one street: its smallest piece id
# (a recursive walk over the links; UNION stops once no pair is new).
_STREETS = f"""
CREATE OR REPLACE TEMP TABLE _search_streets AS
WITH RECURSIVE links AS (
    SELECT a.id AS a, b.id AS b FROM _search_pieces AS a JOIN _search_pieces AS b
        ON a.key = b.key AND a.id <> b.id AND ST_DWithin(a.geom, b.geom, {STREET_GAP_M})
), reach(id, street) AS (
    SELECT id, id FROM _search_pieces
    UNION
    SELECT links.b, reach.street FROM reach JOIN links ON links.a = reach.id
), street_of AS (
    SELECT id, min(street) AS street FROM reach GROUP BY id
), streets AS (
    SELECT mode(p.name) AS name, any_value(p.key) AS key, arg_max(p.ref, ST_Length(p.geom)) AS ref,
           ST_Collect(list(p.geom_wgs84)) AS lines,
           min(ST_XMin(p.geom_wgs84)) AS west, min(ST_YMin(p.geom_wgs84)) AS south,
           max(ST_XMax(p.geom_wgs84)) AS east, max(ST_YMax(p.geom_wgs84)) AS north
    FROM _search_pieces AS p JOIN street_of USING (id) GROUP BY street_of.street
)
-- Fly to the point of the street nearest its middle: on the street even where it bends.
SELECT name, key, ref, ST_ClosestPoint(lines, ST_Centroid(lines)) AS pt, west, south, east, north FROM streets
"""

# Buildings' addresses (OSM addr:street + addr:housenumber); one row per address, at its largest building.
_ADDRESSES = f"""
CREATE OR REPLACE TEMP TABLE _search_addresses AS
WITH tagged AS (
    SELECT building_id, footprint_m2, geom_wgs84,
           trim(json_extract_string(attributes, '$."addr:street"')) AS street,
           trim(json_extract_string(attributes, '$."addr:housenumber"')) AS number,
           trim(json_extract_string(attributes, '$."addr:postcode"')) AS postcode,
           trim(json_extract_string(attributes, '$."addr:city"')) AS city
    FROM buildings WHERE attributes IS NOT NULL
)
SELECT arg_max(street, footprint_m2) AS street, {key_sql("street")} AS street_key,
       arg_max(street || ' ' || number, footprint_m2) AS name, {key_sql("street || ' ' || number")} AS key,
       arg_max(nullif(concat_ws(' ', nullif(postcode, ''), nullif(city, '')), ''), footprint_m2) AS postal,
       arg_max(building_id, footprint_m2) AS ref, arg_max(ST_PointOnSurface(geom_wgs84), footprint_m2) AS pt,
       min(ST_XMin(geom_wgs84)) AS west, min(ST_YMin(geom_wgs84)) AS south,
       max(ST_XMax(geom_wgs84)) AS east, max(ST_YMax(geom_wgs84)) AS north
FROM tagged WHERE street <> '' AND number <> ''
GROUP BY ALL HAVING key <> ''
"""

# Every candidate: kind, name, detail (NULL: the district it lies in, else the town), category, key, point, box.
_CANDIDATES = f"""
CREATE OR REPLACE TEMP TABLE _search_candidates AS
SELECT 'street' AS kind, name, NULL::VARCHAR AS detail, NULL::VARCHAR AS category, key, ref, pt,
       west, south, east, north FROM _search_streets
UNION ALL
-- Streets known only from their addresses (not in the street register or the path network).
SELECT 'street', mode(street), NULL, NULL, street_key, NULL,
       ST_ClosestPoint(ST_Collect(list(pt)), ST_Centroid(ST_Collect(list(pt)))),
       min(west), min(south), max(east), max(north)
FROM _search_addresses
WHERE street_key NOT IN (SELECT key FROM _search_streets) AND street_key <> ''
GROUP BY street_key
UNION ALL
SELECT 'address', name, postal, NULL, key, ref, pt, west, south, east, north FROM _search_addresses
UNION ALL
SELECT 'district', d.name, coalesce(p.name, $town), NULL, {key_sql("d.name || ' ' || d.code")}, d.district_id,
       ST_PointOnSurface(d.geom_wgs84),
       ST_XMin(d.geom_wgs84), ST_YMin(d.geom_wgs84), ST_XMax(d.geom_wgs84), ST_YMax(d.geom_wgs84)
FROM districts AS d LEFT JOIN districts AS p ON p.district_id = d.parent_id
WHERE trim(d.name) <> ''
UNION ALL
-- A category reads as its value ("amenity=kindergarten": "kindergarten") until the server labels it.
SELECT 'facility', trim(name), replace(coalesce(nullif(split_part(category, '=', 2), ''), category), '_', ' '),
       category, {key_sql("name")}, facility_id, ST_PointOnSurface(geom_wgs84),
       ST_XMin(geom_wgs84), ST_YMin(geom_wgs84), ST_XMax(geom_wgs84), ST_YMax(geom_wgs84)
FROM facilities WHERE trim(name) <> ''
UNION ALL
SELECT 'green', trim(name), replace(coalesce(nullif(split_part(category, '=', 2), ''), category), '_', ' '),
       category, {key_sql("name")}, green_id, ST_PointOnSurface(geom_wgs84),
       ST_XMin(geom_wgs84), ST_YMin(geom_wgs84), ST_XMax(geom_wgs84), ST_YMax(geom_wgs84)
FROM greens WHERE trim(name) <> ''
UNION ALL
SELECT 'place', arg_max(trim(name), footprint_m2), NULL, NULL, {key_sql("name")}, arg_max(building_id, footprint_m2),
       arg_max(ST_PointOnSurface(geom_wgs84), footprint_m2),
       min(ST_XMin(geom_wgs84)), min(ST_YMin(geom_wgs84)), max(ST_XMax(geom_wgs84)), max(ST_YMax(geom_wgs84))
FROM buildings WHERE trim(name) <> '' AND name <> building_id GROUP BY {key_sql("name")}
"""

# Parcels (when the store has them): "Flurstück 123/4" in "Gemarkung Monzel (2566), Flur 3" (the label up to the
# parcel number); the key also holds the whole label and the cadastral id, so each of them finds the parcel.
_PARCELS = f"""
INSERT INTO _search_candidates
SELECT 'parcel', coalesce('Flurstück ' || nullif(trim(number), ''), label),
       coalesce(
           nullif(CASE WHEN contains(label, 'Flurstück') THEN regexp_replace(label, ',?\\s*Flurstück.*$', '') END, ''),
           nullif(concat_ws(', ', 'Flur ' || nullif(trim(flur), ''), 'Gemarkung ' || nullif(trim(gemarkung), '')), ''),
           $town),
       NULL, {key_sql("concat_ws(' ', label, cadastral_id, 'flurstueck', number)")}, parcel_id,
       ST_PointOnSurface(geom_wgs84),
       ST_XMin(geom_wgs84), ST_YMin(geom_wgs84), ST_XMax(geom_wgs84), ST_YMax(geom_wgs84)
FROM (SELECT {{columns}} FROM parcels) WHERE geom_wgs84 IS NOT NULL AND NOT ST_IsEmpty(geom_wgs84)
"""

# One thing, one result: a named building that is a listed facility or green (the same name close by) is found as
# that one, a park listed as a facility too is found as the green (whose outline gives the box), and the two stops
# of one name on either side of a street are one.
_DEDUPE = f"""
DELETE FROM _search_candidates AS c WHERE c.kind IN ('place', 'facility') AND EXISTS (
    SELECT 1 FROM _search_candidates AS o
    WHERE o.kind IN (CASE c.kind WHEN 'place' THEN 'facility' END, 'green') AND o.key = c.key
      AND ST_Distance_Sphere(o.pt, c.pt) < {PLACE_DEDUPE_M});
DELETE FROM _search_candidates AS c WHERE c.kind = 'facility' AND EXISTS (
    SELECT 1 FROM _search_candidates AS o
    WHERE o.kind = 'facility' AND o.key = c.key AND o.ref < c.ref AND ST_Distance_Sphere(o.pt, c.pt) < {PLACE_DEDUPE_M}
      AND (o.category = c.category OR (o.category IN {STOP_CATEGORIES} AND c.category IN {STOP_CATEGORIES})));
"""

# The rows: the detail a candidate has not got is the smallest district it lies in, else the town; a box smaller
# than a point's is widened to it.
_INSERT = f"""
INSERT INTO search_index
WITH placed AS (
    SELECT row_number() OVER () AS row, c.*, ST_X(c.pt) AS lon, ST_Y(c.pt) AS lat,
           {POINT_BOX_M} / 111320.0 AS dlat, {POINT_BOX_M} / (111320.0 * cos(radians(ST_Y(c.pt)))) AS dlon
    FROM _search_candidates AS c WHERE c.pt IS NOT NULL AND NOT ST_IsEmpty(c.pt) AND c.key <> ''
), inside AS (
    SELECT p.row, arg_min(d.name, d.area_m2) AS district
    FROM placed AS p
    JOIN districts AS d ON ST_Intersects_Extent(d.geom_wgs84, p.pt) AND ST_Contains(d.geom_wgs84, p.pt)
    WHERE p.detail IS NULL
    GROUP BY p.row
)
SELECT kind, name, coalesce(detail, inside.district, $town), category, key, lon, lat,
       least(west, lon - dlon), least(south, lat - dlat), greatest(east, lon + dlon), greatest(north, lat + dlat),
       CASE kind {" ".join(f"WHEN '{k}' THEN {r}" for k, r in RANK.items())} END, ref
FROM placed LEFT JOIN inside USING (row)
"""


def build_search_index(con: Cursor, *, town: str) -> int:
    """Fill ``search_index`` from the store's tables (call it once they are all written).

    Args:
        con: the connection of the store being built.
        town: the twin's title, the detail of what lies in no district.

    Returns:
        The number of rows written.
    """
    con.execute(_PIECES)
    con.execute(_STREETS)
    con.execute(_ADDRESSES)
    con.execute(_CANDIDATES, {"town": town})
    # A store may lack the parcels table or some of its columns (built before them): the missing ones are NULL.
    have = table_columns(con, "parcels")
    if {"parcel_id", "geom_wgs84"} <= have:
        columns = ", ".join(c if c in have else f"NULL::VARCHAR AS {c}" for c in PARCEL_COLUMNS)
        con.execute(_PARCELS.replace("{columns}", columns), {"town": town})
    con.execute(_DEDUPE)
    con.execute(_INSERT, {"town": town})
    for table in ("_search_candidates", "_search_addresses", "_search_streets", "_search_pieces"):
        con.execute(f"DROP TABLE IF EXISTS {table}")  # names from the tuple above
    row = con.execute("SELECT count(*) FROM search_index").fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Hit:
    """One search result.

    Attributes:
        kind: street, address, district, parcel, facility, green or place (a named building).
        name: what a person reads; detail: where or what it is.
        category: the source category of a facility or green (``amenity=kindergarten``), else None.
        lon, lat: where to fly; bbox: (west, south, east, north) to fit.
        ref: the object's id in its table.
        fuzzy: found by resemblance, not by the words typed.
    """

    kind: Kind
    name: str
    detail: str
    category: str | None
    lon: float
    lat: float
    bbox: tuple[float, float, float, float]
    ref: str | None
    fuzzy: bool


_COLUMNS = "kind, name, detail, category, lon, lat, west, south, east, north, ref"


def normalise(cur: Cursor, text: str) -> str:
    """The search key of ``text`` (the same SQL as the stored keys)."""
    row = cur.execute(f"SELECT {key_sql('?')}", [text]).fetchone()
    return str(row[0]) if row and row[0] is not None else ""


def search(cur: Cursor, text: str, limit: int = 10) -> list[Hit]:
    """The best ``limit`` entries of the index for a query; none if the store has no index (built before it).

    Args:
        cur: a cursor on the store.
        text: what the person typed.
        limit: most results.
    """
    tokens = normalise(cur, text).split()[:MAX_TOKENS]
    if not tokens:
        return []  # nothing but punctuation: nothing to look for
    whole = " ".join(tokens)
    # A token of the key begins with the query token where the key, after a space, holds " <token>".
    where = " AND ".join(["contains(' ' || key, ?)"] * len(tokens))
    try:
        rows = cur.execute(
            f"SELECT {_COLUMNS} FROM search_index WHERE {where} "
            "ORDER BY rank, key = ? DESC, starts_with(key, ?) DESC, length(name), name LIMIT ?",
            [*(" " + t for t in tokens), whole, whole, limit],
        ).fetchall()
    except duckdb.CatalogException:
        return []  # a store built before the index (asking the catalogue first costs more than the search)
    fuzzy = False
    if not rows and len(tokens[0]) >= FUZZY_MIN_LENGTH:
        fuzzy = True
        rows = cur.execute(
            f"SELECT {_COLUMNS} FROM ("
            "  SELECT *, list_max(list_transform(string_split(key, ' '), t -> jaro_winkler_similarity(t, ?))) AS sim"
            "  FROM search_index"
            ") WHERE sim >= ? ORDER BY sim DESC, rank, length(name), name LIMIT ?",
            [tokens[0], FUZZY_MIN_SIMILARITY, limit],
        ).fetchall()
    return [
        Hit(cast("Kind", r[0]), r[1], r[2], r[3], float(r[4]), float(r[5]), (r[6], r[7], r[8], r[9]), r[10], fuzzy)
        for r in rows
    ]
