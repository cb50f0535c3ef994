"""What the app holds while it runs: one read-only store connection per twin, opened in the lifespan."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from twin3d.store import queries
from twin3d.store.connection import connect

TWIN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass
class TwinHandle:
    """A served twin: its store connection, metadata and tileset folder."""

    name: str
    store_file: Path
    tiles_dir: Path
    con: duckdb.DuckDBPyConnection
    meta: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one request (DuckDB cursors are safe to use from one thread each)."""
        return self.con.cursor()


def open_twins(store_dir: Path, tiles_root: Path) -> dict[str, TwinHandle]:
    """Open every ``<twin>.duckdb`` in ``store_dir`` read-only (temporary build files are skipped)."""
    twins: dict[str, TwinHandle] = {}
    if not store_dir.is_dir():
        return twins
    for path in sorted(store_dir.glob("*.duckdb")):
        if not TWIN_NAME.match(path.stem):
            continue
        con = connect(path, read_only=True)
        cur = con.cursor()
        meta = queries.meta(cur, "twin") or {"name": path.stem, "title": path.stem}
        twins[path.stem] = TwinHandle(path.stem, path, tiles_root / path.stem, con, meta, queries.table_counts(cur))
    return twins


def close_twins(twins: dict[str, TwinHandle]) -> None:
    """Close every store connection."""
    for handle in twins.values():
        handle.con.close()
    twins.clear()
