"""Bring live stores of earlier versions along: ``<twin>.live.duckdb`` is copied into the live store once.

Before several worker processes could share a live store, it was a DuckDB file that only one process could open.
The first process that opens a twin's new live store copies every table of the old file into it, in the same
transaction that records the import, so two workers starting together never copy twice. The old file is kept
(made readable by its owner only); nothing is deleted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from twin3d.errors import StoreError
from twin3d.store.live.base import LiveStore
from twin3d.store.live.dialect import Cursor

# Tables and columns in the order they are copied; columns a store of an older version lacks are left out.
TABLES: dict[str, list[str]] = {
    "scenarios": ["scenario_id", "name", "version", "description", "spec", "measures", "created_at"],
    "participants": ["participant", "ip_hash", "created_at"],
    "workshop_participants": ["participant", "workshop", "created_at"],
    "places": [
        "place_id",
        "kind",
        "category",
        "title",
        "text",
        "lon",
        "lat",
        "building_id",
        "height",
        "h3_10",
        "age_band",
        "household",
        "status",
        "answer",
        "answered_at",
        "participant",
        "ip_hash",
        "created_at",
        "updated_at",
    ],
    "votes": ["place_id", "participant", "value", "ip_hash", "created_at"],
    "comments": ["comment_id", "place_id", "parent_id", "text", "status", "participant", "ip_hash", "created_at"],
    "reports": [
        "report_id",
        "place_id",
        "comment_id",
        "reason",
        "text",
        "participant",
        "ip_hash",
        "created_at",
        "resolved_at",
    ],
    "moderation_log": (
        [
            "entry_id",
            "place_id",
            "comment_id",
            "action",
            "from_status",
            "to_status",
            "reason",
            "moderator",
            "created_at",
        ]
    ),
    "remarks": ["remark_id", "place_id", "text", "author", "created_at"],
}
IDENTITY = {
    "places": "place_id",
    "comments": "comment_id",
    "reports": "report_id",
    "moderation_log": "entry_id",
    "remarks": "remark_id",
}


def legacy_file(store_dir: Path, twin: str) -> Path:
    """Where an earlier version kept the live store of ``twin``."""
    return store_dir / f"{twin}.live.duckdb"


def _read(path: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise StoreError(
            "the live store of an earlier version cannot be read",
            hint="stop every older twin3d server that still holds it, then start again",
        ) from exc
    try:
        present = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        tables = {}
        for table, wanted in TABLES.items():
            if table not in present:
                continue
            have = {row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()}
            columns = [c for c in wanted if c in have]
            rows = con.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
            tables[table] = (columns, rows)
        return tables
    finally:
        con.close()


def _copy(cur: Cursor, tables: dict[str, tuple[list[str], list[tuple[Any, ...]]]]) -> int:
    copied = 0
    for table, (columns, stored) in tables.items():
        names, rows = list(columns), stored
        if table == "scenarios":  # visibility became a column; public scenarios are listed only by proposals
            names += ["visibility", "listed"]
            at = columns.index("spec")
            seen = [str(json.loads(row[at]).get("visibility", "public")) for row in stored]
            rows = [(*row, seen[i], int(seen[i] != "public")) for i, row in enumerate(stored)]
        marks = ", ".join("?" * len(names))
        cur.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
        copied += len(rows)
        key = IDENTITY.get(table)
        if key and rows and cur.dialect.name == "postgres":  # identities continue after the copied ids
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'), (SELECT max({key}) FROM {table}))")
    if "places" in tables:  # votes are counted on the row since version 2
        cur.execute(VOTE_COUNTS)
    return copied


VOTE_COUNTS = """
    UPDATE places SET
        votes_up = (SELECT count(*) FROM votes AS v WHERE v.place_id = places.place_id AND v.value > 0),
        votes_down = (SELECT count(*) FROM votes AS v WHERE v.place_id = places.place_id AND v.value < 0)
"""


def import_legacy(store: LiveStore, store_dir: Path) -> int:
    """Copy the twin's old DuckDB live store into ``store`` unless that was done before; returns the rows copied."""
    path = legacy_file(store_dir, store.name)
    if not path.is_file():
        return 0
    source = path.name
    if store.read("SELECT 1 AS done FROM live_imports WHERE source = ?", [source]):
        return 0
    path.chmod(0o600)
    tables = _read(path)

    def work(cur: Cursor) -> int:
        if cur.execute("SELECT 1 FROM live_imports WHERE source = ?", [source]).fetchone() is not None:
            return 0  # another worker was first
        copied = _copy(cur, tables)
        cur.execute("INSERT INTO live_imports (source, rows) VALUES (?, ?)", [source, copied])
        return copied

    return store.write(work)
