"""The two SQL dialects of the live store, and the one cursor type its SQL is written against.

Live-store SQL is written once, in SQLite's style: ``?`` for positional and ``:name`` for named parameters, standard
SQL otherwise. What the two databases spell differently (JSON objects, ISO timestamps, "is in this list") comes from
the :class:`Dialect` as a fragment; a query that needs one is built per dialect and cached. For PostgreSQL the
placeholders are rewritten to psycopg's ``%s`` / ``%(name)s`` once per statement text.

Example:
    >>> POSTGRES.prepare("SELECT 1 WHERE a = ? AND b LIKE 'x%'")
    "SELECT 1 WHERE a = %s AND b LIKE 'x%%'"
    >>> POSTGRES.prepare("SELECT :one + :two")
    'SELECT %(one)s + %(two)s'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Many(tuple[Any, ...]):
    """A list of values bound as one parameter and tested with :meth:`Dialect.within` (SQLite has no arrays)."""

    __slots__ = ()


@lru_cache(maxsize=1024)
def _psycopg_sql(sql: str) -> str:
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%").replace("?", "%s"))


@dataclass(frozen=True)
class Dialect:
    """What differs between SQLite and PostgreSQL in the live store's SQL.

    Attributes:
        name: ``sqlite`` or ``postgres``.
        object_fn: the function that builds a JSON object from key/value pairs.
        array_fn: the function that builds a JSON array from values.
    """

    name: Literal["sqlite", "postgres"]
    object_fn: str
    array_fn: str

    def iso(self, expr: str) -> str:
        """``expr`` (a UTC timestamp) as ``YYYY-MM-DDTHH:MM:SSZ`` text; NULL stays NULL."""
        if self.name == "sqlite":
            return f"strftime('%Y-%m-%dT%H:%M:%SZ', {expr})"
        return f"""to_char({expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""

    def within(self, expr: str, param: str) -> str:
        """``expr`` is one of the values of the :class:`Many` parameter ``param``."""
        if self.name == "sqlite":
            return f"{expr} IN (SELECT value FROM json_each(:{param}))"
        return f"{expr} = ANY(:{param})"

    def parse_json(self, expr: str) -> str:
        """JSON stored as text, as a JSON value inside an object or array built by :attr:`object_fn`."""
        return f"json({expr})" if self.name == "sqlite" else f"CAST({expr} AS json)"

    def json_text(self, expr: str) -> str:
        """A JSON value as text (PostgreSQL's json type would otherwise be parsed by the driver)."""
        return f"CAST({expr} AS TEXT)"

    def prepare(self, sql: str) -> str:
        """The statement text for the driver."""
        return sql if self.name == "sqlite" else _psycopg_sql(sql)

    def params(self, params: Sequence[Any] | Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """Parameters for the driver: :class:`Many` as JSON text (SQLite) or a list (PostgreSQL)."""
        convert = (lambda v: json.dumps(list(v))) if self.name == "sqlite" else list
        if isinstance(params, Mapping):
            return {k: convert(v) if isinstance(v, Many) else v for k, v in params.items()}
        return [convert(v) if isinstance(v, Many) else v for v in params]


SQLITE = Dialect("sqlite", "json_object", "json_array")
POSTGRES = Dialect("postgres", "json_build_object", "json_build_array")


class RawCursor(Protocol):
    """What both drivers' cursors offer."""

    @property
    def description(self) -> Any: ...

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class RawConnection(Protocol):
    """What both drivers' connections offer (``execute`` returns a cursor)."""

    def execute(self, sql: Any, params: Any = ...) -> Any: ...


class Cursor:
    """A connection of the live store with its dialect: ``execute`` takes SQLite-style SQL on either database.

    ``execute`` returns the cursor itself, so ``cur.execute(...).fetchone()`` reads as it does with DB-API drivers.
    """

    def __init__(self, connection: RawConnection, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect
        self._last: RawCursor | None = None

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Cursor:
        """Run one statement."""
        self._last = self.connection.execute(self.dialect.prepare(sql), self.dialect.params(params))
        return self

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for many rows (bulk copies; one round trip per batch where the driver can)."""
        statement = self.dialect.prepare(sql)
        if self.dialect.name == "sqlite":
            self.connection.executemany(statement, rows)  # type: ignore[attr-defined]
        else:
            with self.connection.cursor() as cur:  # type: ignore[attr-defined]
                cur.executemany(statement, rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None."""
        assert self._last is not None
        row = self._last.fetchone()
        return tuple(row) if row is not None else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        """Every remaining row."""
        assert self._last is not None
        return [tuple(row) for row in self._last.fetchall()]

    @property
    def columns(self) -> list[str]:
        """The column names of the last statement's result."""
        assert self._last is not None
        return [d[0] for d in self._last.description or []]

    @property
    def rowcount(self) -> int:
        """Rows changed by the last statement."""
        assert self._last is not None
        return int(self._last.rowcount)

    def dicts(self) -> Iterator[dict[str, Any]]:
        """The remaining rows as dicts."""
        names = self.columns
        for row in self.fetchall():
            yield dict(zip(names, row, strict=True))
