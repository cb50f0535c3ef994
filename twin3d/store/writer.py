"""The only place that writes a twin store.

A build writes a complete new store into a temporary file beside the target and swaps it in with one atomic
rename when everything succeeded, so a failed build leaves the previous twin untouched.

Example:
    >>> with StoreWriter(Path("var/lauf.duckdb")) as store:  # doctest: +SKIP
    ...     store.insert("buildings", table)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from twin3d.errors import StoreError
from twin3d.store.connection import connect, sql_file

if TYPE_CHECKING:
    from twin3d.pipeline.report import BuildReport

GEOMETRY_COLUMNS = frozenset({"geom", "geom_wgs84"})


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class StoreWriter:
    """Write a new twin store and swap it in atomically on success.

    Args:
        target: the store file to create or replace.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        self._con: duckdb.DuckDBPyConnection | None = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The open connection to the new store (valid inside the ``with`` block)."""
        if self._con is None:
            raise StoreError("the store writer is not open", file=self.target)
        return self._con

    def __enter__(self) -> StoreWriter:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.unlink(missing_ok=True)
        self._con = connect(self.tmp)
        self._con.execute(sql_file("schema.sql"))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        con, self._con = self._con, None
        try:
            if exc_type is None and con is not None:
                con.execute(sql_file("indexes.sql"))
                con.execute("CHECKPOINT")
                con.close()
                self.tmp.replace(self.target)
                return
            if con is not None:
                con.close()
        finally:
            self.tmp.unlink(missing_ok=True)
            Path(f"{self.tmp}.wal").unlink(missing_ok=True)

    def insert(self, table: str, data: pa.Table) -> int:
        """Append an Arrow table to a store table; ``geom*`` columns are WKB and become GEOMETRY.

        Returns:
            The number of rows written.
        """
        if data.num_rows == 0:
            return 0
        columns = ", ".join(_quote(c) for c in data.column_names)
        select = ", ".join(
            f"ST_GeomFromWKB({_quote(c)})" if c in GEOMETRY_COLUMNS else _quote(c) for c in data.column_names
        )
        self.con.register("_incoming", data)
        try:
            self.con.execute(f"INSERT INTO {_quote(table)} ({columns}) SELECT {select} FROM _incoming")
        except duckdb.ConstraintException as exc:
            raise StoreError(f"rows for {table} break a constraint: {exc}", file=self.target) from exc
        finally:
            self.con.unregister("_incoming")
        return int(data.num_rows)

    def insert_query(self, table: str, columns: str, select: str, params: list[Any]) -> int:
        """Append the rows of a parameterised ``SELECT`` (e.g. over Parquet files a build wrote) to a store table.

        Returns:
            The number of rows written.
        """
        try:
            self.con.execute(f"INSERT INTO {_quote(table)} ({columns}) {select}", params)
        except duckdb.ConstraintException as exc:
            raise StoreError(f"rows for {table} break a constraint: {exc}", file=self.target) from exc
        found = self.con.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()
        return int(found[0]) if found else 0

    def put_meta(self, key: str, value: Any) -> None:
        """Store one JSON value under ``key`` in ``twin_meta``."""
        self.con.execute("INSERT OR REPLACE INTO twin_meta VALUES (?, ?)", [key, json.dumps(value)])

    def assign_parents(self, level: str, parent_level: str) -> None:
        """Set ``parent_id`` of the districts of ``level`` to the ``parent_level`` district that holds them.

        A district belongs to the parent that contains a point inside it; district boundaries of different
        levels are often digitised separately, so containment of the whole polygon would be too strict.
        """
        self.con.execute(
            """
            UPDATE districts AS d SET parent_id = (
                SELECT p.district_id FROM districts AS p
                WHERE p.level = $parent AND ST_Contains(p.geom, ST_PointOnSurface(d.geom))
                ORDER BY p.district_id LIMIT 1)
            WHERE d.level = $level
            """,
            {"parent": parent_level, "level": level},
        )

    def derive_parcels(self, storey_height: float) -> str:
        """The parcels' figures from what stands on them: see :func:`derive_parcels`."""
        return derive_parcels(self.con, storey_height)

    def counts(self) -> dict[str, int]:
        """Rows per table of the new store."""
        tables = [
            "districts",
            "district_stats",
            "grid_cells",
            "grid_stats",
            "buildings",
            "facilities",
            "paths",
            "parcels",
            "land_use",
            "streets",
            "roads",
        ]
        return {t: int(self.con.execute(f"SELECT count(*) FROM {_quote(t)}").fetchone()[0]) for t in tables}  # type: ignore[index]

    def extent_wgs84(
        self, tables: tuple[str, ...] = ("districts", "grid_cells", "buildings", "facilities")
    ) -> list[float] | None:
        """[west, south, east, north] over the geometries of ``tables`` (all spatial tables by default)."""
        union = " UNION ALL ".join(f"SELECT geom_wgs84 AS g FROM {_quote(t)}" for t in tables)
        row = self.con.execute(
            f"SELECT min(ST_XMin(g)), min(ST_YMin(g)), max(ST_XMax(g)), max(ST_YMax(g)) FROM ({union})"
        ).fetchone()
        if row is None or row[0] is None:
            return None
        return [float(v) for v in row]

    def write_sources(self, report: BuildReport, attribution: dict[str, str], sha256: dict[str, list[str]]) -> None:
        """The per-source counts and every dropped record of a build."""
        for s in report.sources:
            self.con.execute(
                "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    s.name,
                    s.kind,
                    [str(f) for f in s.files],
                    sha256.get(s.name, []),
                    attribution.get(s.name, ""),
                    s.records_in,
                    s.records_out,
                    s.repaired,
                    s.dropped,
                ],
            )
        if report.drops:
            self.insert(
                "dropped_records",
                pa.table(
                    {
                        "source": [d.source for d in report.drops],
                        "file": [d.file for d in report.drops],
                        "record": [d.record for d in report.drops],
                        "reason": [d.reason for d in report.drops],
                    }
                ),
            )


def derive_parcels(con: duckdb.DuckDBPyConnection, storey_height: float) -> str:
    """The parcels' built-up area, floor area, GRZ, GFZ and main land use, and the building <-> parcel relation
    (``parcels.sql``), from the buildings, parcels and land use loaded into a store.

    Returns:
        A line for the build report: parcels with buildings, buildings on no parcel, storeys estimated.
    """
    for statement in sql_file("parcels.sql").split("\n;"):
        body = "\n".join(line for line in statement.splitlines() if not line.strip().startswith("--")).strip()
        if body:
            con.execute(body, {"storey_height": storey_height} if "$storey_height" in body else {})
    row = con.execute(
        """
        SELECT count(*) FILTER (WHERE buildings > 0), count(*) FILTER (WHERE storeys_estimated),
               (SELECT count(*) FROM buildings WHERE building_id NOT IN (SELECT building_id FROM building_parcels)),
               count(*) FILTER (WHERE land_use IS NULL)
        FROM parcels
        """
    ).fetchone()
    with_buildings, estimated, off_parcels, no_land_use = row if row else (0, 0, 0, 0)
    return (
        f"parcels: {with_buildings:,} with buildings ({estimated:,} with storeys estimated from heights at "
        f"{storey_height:g} m); {off_parcels:,} building(s) on no parcel; {no_land_use:,} parcel(s) without land use"
    )
