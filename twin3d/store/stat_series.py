"""District statistics over the years: which years each level has per variable, and one variable's whole series.

The viewer's time slider needs both: the years to offer (listed with the twin, :func:`years_by_level`) and every
year's figures at once (:func:`district_series`), so its colour classes can be fixed over all years and moving the
slider asks the server nothing more.
"""

from __future__ import annotations

from typing import Any

import duckdb

Cursor = duckdb.DuckDBPyConnection


def years_by_level(cur: Cursor) -> dict[str, dict[str, list[int]]]:
    """The years with statistics per district level and variable, in one grouped query.

    Returns:
        ``{level: {variable: [year, ...]}}``, years ascending; a level without statistics is absent.

    Example:
        >>> years_by_level(cur)["stadtbereich"]["population"][:2]  # doctest: +SKIP
        [2005, 2006]
    """
    rows = cur.execute(
        """
        SELECT d.level, s.variable, list(DISTINCT s.year ORDER BY s.year)
        FROM district_stats AS s JOIN districts AS d USING (district_id)
        GROUP BY d.level, s.variable
        ORDER BY d.level, s.variable
        """
    ).fetchall()
    out: dict[str, dict[str, list[int]]] = {}
    for level, variable, years in rows:
        out.setdefault(str(level), {})[str(variable)] = [int(y) for y in years]
    return out


def district_series(cur: Cursor, level: str, variable: str) -> dict[str, Any]:
    """Every year's value of ``variable`` for each district of ``level``.

    Returns:
        ``{"years": [...], "source": ..., "unit": ..., "values": {district_id: [value per year or None]}}``;
        ``years`` is empty where the level has no such statistic. ``source`` names the pipeline source the figures
        came from (the newest year's, should sources change over the years).
    """
    rows = cur.execute(
        """
        SELECT s.district_id, s.year, s.value, s.unit, s.source
        FROM district_stats AS s JOIN districts AS d USING (district_id)
        WHERE d.level = $level AND s.variable = $variable
        ORDER BY s.year, s.district_id
        """,
        {"level": level, "variable": variable},
    ).fetchall()
    years = sorted({int(r[1]) for r in rows})
    index = {year: i for i, year in enumerate(years)}
    values: dict[str, list[float | None]] = {}
    unit: str | None = None
    source: str | None = None
    for district_id, year, value, row_unit, row_source in rows:
        series = values.setdefault(str(district_id), [None] * len(years))
        series[index[int(year)]] = None if value is None else float(value)
        unit, source = row_unit or unit, row_source or source  # rows come by year: the newest wins
    return {"years": years, "source": source, "unit": unit, "values": values}
