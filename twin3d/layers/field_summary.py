"""What a vector layer's attributes hold, for styling and filtering by one of them in the viewer.

The viewer draws vector layers from tiles, which hold only the features of the area on screen (and are thinned):
it cannot know a field's range, its quantile classes or its categories over the whole layer. This module asks the
layer's stored features (GeoParquet, columns ``fid``, ``geom_wgs84``, ``bbox`` and the fields) once for all of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

Cursor = duckdb.DuckDBPyConnection
NUMERIC_TYPES = ("int", "uint", "float", "double", "decimal")
NOT_ATTRIBUTES = frozenset({"fid", "bbox", "geom", "geom_wgs84", "geometry"})
CLASSES = 5  # quantile classes of a numeric field (the viewer's palettes have five colours)
TOP_CATEGORIES = 12  # at most this many categories; more are shown as the first 11 and "other"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _numeric(cur: Cursor, relation: str, path: str, column: str) -> dict[str, Any]:
    row = cur.execute(
        f"""
        SELECT count({column}), min({column})::DOUBLE, max({column})::DOUBLE, count(DISTINCT {column}),
               quantile_disc({column}::DOUBLE, [{", ".join(str(i / CLASSES) for i in range(1, CLASSES))}])
        FROM {relation} WHERE isfinite({column}::DOUBLE)
        """,
        {"path": path},
    ).fetchone()
    count, low, high, distinct, quantiles = row if row else (0, None, None, 0, None)
    breaks = sorted({float(q) for q in quantiles or [] if q is not None and low is not None and q > low})
    counts = [0] * (len(breaks) + 1)
    if count:
        # The class of a value: how many breaks it reaches (as the viewer's classify.classOf counts).
        reached = " + ".join(f"({column}::DOUBLE >= $b{i})::INTEGER" for i in range(len(breaks))) or "0"
        params: dict[str, Any] = {"path": path, **{f"b{i}": b for i, b in enumerate(breaks)}}
        for k, n in cur.execute(
            f"SELECT {reached} AS k, count(*) FROM {relation} WHERE isfinite({column}::DOUBLE) GROUP BY k", params
        ).fetchall():
            counts[int(k)] = int(n)
    return {
        "kind": "numeric",
        "count": int(count),
        "distinct": int(distinct),
        "min": low,
        "max": high,
        "breaks": breaks,
        "class_counts": counts,
    }


def _categorical(cur: Cursor, relation: str, path: str, column: str) -> dict[str, Any]:
    rows = cur.execute(
        f"""
        SELECT {column}::VARCHAR AS value, count(*) AS n, count(*) OVER () AS distinct_values
        FROM {relation} WHERE {column} IS NOT NULL AND {column}::VARCHAR <> ''
        GROUP BY value ORDER BY n DESC, value LIMIT {TOP_CATEGORIES + 1}
        """,
        {"path": path},
    ).fetchall()
    distinct = int(rows[0][2]) if rows else 0
    total = cur.execute(
        f"SELECT count({column}) FILTER (WHERE {column}::VARCHAR <> '') FROM {relation}", {"path": path}
    ).fetchone()
    count = int(total[0]) if total else 0
    shown = rows if distinct <= TOP_CATEGORIES else rows[: TOP_CATEGORIES - 1]
    categories = [{"value": str(value), "count": int(n)} for value, n, _ in shown]
    listed = sum(int(n) for _, n, _ in shown)
    return {
        "kind": "categorical",
        "count": count,
        "distinct": distinct,
        "categories": categories,
        "other_count": count - listed,
    }


def summarise_fields(cur: Cursor, parquet: Path, fields: dict[str, str]) -> dict[str, dict[str, Any]]:
    """A summary of each attribute of a stored vector layer.

    Args:
        cur: a DuckDB cursor (the file is read with ``read_parquet``; nothing is written).
        parquet: the layer's stored features.
        fields: attribute name -> Arrow type, as the layer's catalogue entry lists them (only these are read, so a
            name never comes from a request).

    Returns:
        name -> numeric fields ``{kind: "numeric", count, distinct, min, max, breaks, class_counts}`` (quantile
        breaks of :data:`CLASSES` classes, features per class); other fields ``{kind: "categorical", count,
        distinct, categories: [{value, count}], other_count}`` with the most frequent values (all of them up to
        :data:`TOP_CATEGORIES`, else the first 11 and the rest counted in ``other_count``).
    """
    relation = "read_parquet($path)"
    path = str(parquet)
    out: dict[str, dict[str, Any]] = {}
    for name, arrow_type in fields.items():
        if name in NOT_ATTRIBUTES:
            continue
        column = _quoted(name)
        numeric = arrow_type.lower().startswith(NUMERIC_TYPES)
        out[name] = (_numeric if numeric else _categorical)(cur, relation, path, column)
    return out
