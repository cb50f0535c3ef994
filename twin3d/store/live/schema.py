"""Migrations of the live store: numbered SQL files per dialect, applied once, in order, by whichever process
comes first.

``twin3d/sql/live/<dialect>_<NNN>.sql`` holds version NNN. The table ``live_schema`` records the version reached;
a process that opens the store takes the write lock, applies what is missing and commits, so two workers starting
together never apply a file twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources

from twin3d.store.live.dialect import Cursor

_FILE = re.compile(r"^(sqlite|postgres)_(\d{3})\.sql$")


def migrations(dialect: str) -> list[tuple[int, str]]:
    """The (version, SQL text) of every migration of ``dialect``, in order."""
    found = []
    for entry in resources.files("twin3d.sql.live").iterdir():
        match = _FILE.match(entry.name)
        if match and match.group(1) == dialect:
            found.append((int(match.group(2)), entry.read_text(encoding="utf-8")))
    return sorted(found)


def statements(script: str) -> list[str]:
    """The statements of a migration file (comments dropped; statements end with ``;`` at a line's end)."""
    lines = [line.split("--", 1)[0].rstrip() for line in script.splitlines()]
    text = "\n".join(line for line in lines if line.strip())
    return [part.strip() for part in re.split(r";\s*\n", text + "\n") if part.strip()]


def migrate(cur: Cursor, begin: Callable[[Cursor], None]) -> int:
    """Bring the store's schema to the newest version; returns the version.

    Args:
        cur: the writer connection (autocommit: transactions are framed here).
        begin: starts a transaction that holds the store's write lock.
    """
    cur.execute("CREATE TABLE IF NOT EXISTS live_schema (version INTEGER NOT NULL)")
    begin(cur)
    try:
        row = cur.execute("SELECT max(version) FROM live_schema").fetchone()
        version = int(row[0]) if row and row[0] is not None else 0
        for number, script in migrations(cur.dialect.name):
            if number > version:
                for statement in statements(script):
                    cur.execute(statement)
                version = number
        cur.execute("DELETE FROM live_schema")
        cur.execute("INSERT INTO live_schema (version) VALUES (?)", [version])
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return version
