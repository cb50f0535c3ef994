"""The live store of a twin: scenarios (and, later, citizens' places) written while the server runs.

The build store is rebuilt and swapped as a whole and opened read-only; what users create must survive that, so it
lives in its own file, ``<store_dir>/<twin>.live.duckdb``, with one writer connection guarded by a lock.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from twin3d.store.connection import connect, sql_file

_SCENARIO_COLUMNS = (
    "scenario_id, name, version, description, measures, strftime(created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at"
)


def live_store_file(store_dir: Path, twin: str) -> Path:
    """Where the live store of ``twin`` is kept."""
    return store_dir / f"{twin}.live.duckdb"


class LiveStore:
    """Read and write a twin's live tables; safe to share between request threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._con = connect(path)
        self._con.execute(sql_file("live_schema.sql"))
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the connection (checkpointing what was written)."""
        with self._lock:
            self._con.close()

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._con.cursor()
            result = cur.execute(sql, params)
            names = [d[0] for d in result.description or []]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def save_scenario(
        self, scenario_id: str, name: str, description: str, spec: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """Store a scenario unless one with the same id exists.

        Returns:
            The stored row (without the spec) and whether it was created now.
        """
        with self._lock:
            cur = self._con.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                existing = cur.execute("SELECT 1 FROM scenarios WHERE scenario_id = ?", [scenario_id]).fetchone()
                created = existing is None
                if created:
                    row = cur.execute("SELECT coalesce(max(version), 0) + 1 FROM scenarios WHERE name = ?", [name])
                    version = int(row.fetchone()[0])  # type: ignore[index]
                    cur.execute(
                        "INSERT INTO scenarios VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [
                            scenario_id,
                            name,
                            version,
                            description,
                            json.dumps(spec, ensure_ascii=False),
                            len(spec.get("measures", [])),
                            datetime.now(UTC).replace(tzinfo=None),
                        ],
                    )
                cur.execute("COMMIT")
            except duckdb.Error:
                cur.execute("ROLLBACK")
                raise
        stored = self.scenario_summary(scenario_id)
        assert stored is not None
        return stored, created

    def scenario_summary(self, scenario_id: str) -> dict[str, Any] | None:
        """One scenario's name, version, description, measure count and time; None if unknown."""
        rows = self._rows(f"SELECT {_SCENARIO_COLUMNS} FROM scenarios WHERE scenario_id = ?", [scenario_id])
        return rows[0] if rows else None

    def scenario_spec(self, scenario_id: str) -> dict[str, Any] | None:
        """The stored spec of a scenario; None if unknown."""
        rows = self._rows("SELECT spec FROM scenarios WHERE scenario_id = ?", [scenario_id])
        spec: dict[str, Any] | None = json.loads(rows[0]["spec"]) if rows else None
        return spec

    def scenarios(self) -> list[dict[str, Any]]:
        """Every stored scenario, newest first."""
        return self._rows(f"SELECT {_SCENARIO_COLUMNS} FROM scenarios ORDER BY rowid DESC", [])
