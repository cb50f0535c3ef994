"""The live store of a twin: scenarios and citizens' places, written while the server runs.

The build store is rebuilt and swapped as a whole and opened read-only; what users create must survive that, so it
lives in its own file, ``<store_dir>/<twin>.live.duckdb``, with one writer connection guarded by a lock.

Writes of many request threads share commits (group commit): :meth:`LiveStore.write` queues a unit of work, one
waiting thread runs every queued unit in one transaction and commits it, and each caller returns only after the
commit that holds its work. DuckDB writes a commit to its write-ahead log before returning, so an acknowledged write
survives a crash; one commit per batch instead of per request is what keeps hundreds of posts per second possible.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import duckdb
import pyarrow as pa

from twin3d.store.connection import connect, sql_file

T = TypeVar("T")
Cursor = duckdb.DuckDBPyConnection

_SCENARIO_COLUMNS = (
    "scenario_id, name, version, description, measures, strftime(created_at, '%Y-%m-%dT%H:%M:%SZ') AS created_at, "
    "coalesce(spec ->> 'visibility', 'public') AS visibility"
)


def live_store_file(store_dir: Path, twin: str) -> Path:
    """Where the live store of ``twin`` is kept."""
    return store_dir / f"{twin}.live.duckdb"


def _json_value(value: Any) -> str:
    """JSON for what :func:`json.dumps` cannot write itself: timestamps as ISO text."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


@dataclass(frozen=True)
class Row:
    """One row for :meth:`LiveStore.insert`.

    Attributes:
        table: the table; a constant of the calling module, never a user's value.
        types: its columns and their DuckDB types (``{"name": "VARCHAR", ...}``), a constant too.
        values: the row, by column name.
    """

    table: str
    types: Mapping[str, str]
    values: dict[str, Any]


@dataclass(eq=False)
class _Job(Generic[T]):
    """One queued unit of work (a function, or a row to insert) and what became of it."""

    work: Callable[[Cursor], T] | None = None
    row: Row | None = None
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    finished: bool = False
    result: T | None = None
    error: BaseException | None = None


class LiveStore:
    """Read and write a twin's live tables; safe to share between request threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._con = connect(path)
        self._con.execute(sql_file("live_schema.sql"))
        self._lock = threading.Lock()
        self._queue: list[_Job[Any]] = []
        self._queue_lock = threading.Lock()
        self._leading = False
        self._idle_readers: list[Cursor] = []
        self._all_readers: list[Cursor] = []
        self._ids: dict[tuple[str, str], int] = {}
        self._ids_lock = threading.Lock()

    def close(self) -> None:
        """Close the connection (checkpointing what was written)."""
        with self._lock:
            for reader in self._all_readers:
                reader.close()
            self._all_readers.clear()
            self._idle_readers.clear()
            self._con.close()

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._con.cursor()
            result = cur.execute(sql, params)
            names = [d[0] for d in result.description or []]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    @contextlib.contextmanager
    def reader(self) -> Iterator[Cursor]:
        """A read cursor of its own for a moment: reads see every committed write and do not wait for the writer.

        Cursors are pooled, so there are never more than threads that read at once, however often the server's
        worker threads come and go.
        """
        try:
            cur = self._idle_readers.pop()  # list.pop and append are atomic: no lock needed
        except IndexError:
            with self._lock:
                cur = self._con.cursor()
                self._all_readers.append(cur)
        try:
            yield cur
        finally:
            self._idle_readers.append(cur)

    def read(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Rows of a read query as dicts, outside the writer's lock."""
        with self.reader() as cur:
            result = cur.execute(sql, params or [])
            names = [d[0] for d in result.description or []]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]

    def read_arrow(self, sql: str, params: list[Any] | dict[str, Any] | None = None) -> pa.Table:
        """A read query's result as an Arrow table (for vectorised work and exports)."""
        with self.reader() as cur:
            table: pa.Table = cur.execute(sql, params or []).to_arrow_table()
        return table

    def write(self, work: Callable[[Cursor], T]) -> T:
        """Run ``work`` in a transaction and return its result once that transaction is committed.

        ``work`` may share its transaction with the work of other threads, and it may run twice (alone, after a
        batch failed on a database error), so it must only use the cursor it is given, and it must check before it
        writes: a :class:`Exception` it raises after writing would not undo its writes.

        Raises:
            Whatever ``work`` raised, or the database error that stopped its commit.
        """
        return self._submit(_Job(work=work))

    def insert(self, row: Row) -> None:
        """Insert one row and return once it is committed.

        Rows that wait for the same commit and go into the same table are written with one statement, handed over
        as one JSON parameter: per statement and per parameter value DuckDB's Python client costs more than the
        row itself, and this is what keeps hundreds of posts per second on one core.

        Raises:
            The database error that stopped the row (a batch that fails is retried row by row).
        """
        self._submit(_Job[None](row=row))

    def next_id(self, table: str, column: str) -> int:
        """A new id for ``table.column``: one more than any given before (ids are never reused while running).

        The server is the store's only writer (DuckDB locks the file), so counting in memory is safe; it starts
        from the largest id in the table. Ids of rows that failed are skipped.
        """
        with self._ids_lock:
            key = (table, column)
            if key not in self._ids:
                with self._lock:
                    found = self._con.execute(f"SELECT coalesce(max({column}), 0) FROM {table}").fetchone()
                self._ids[key] = int(found[0]) if found else 0
            self._ids[key] += 1
            return self._ids[key]

    def _submit(self, job: _Job[T]) -> T:
        """Queue ``job``, lead a batch when it is this thread's turn, and wait until the job is committed."""
        with self._queue_lock:
            self._queue.append(job)
            if not self._leading:
                self._leading = job.lead = True
        while not job.finished:
            if job.lead:
                self._run_batch()
            else:
                job.wake.wait()
                job.wake.clear()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]  # set whenever no error was recorded

    def _run_batch(self) -> None:
        """Commit everything queued, wake its callers, and pass the lead to the next waiting caller."""
        with self._queue_lock:
            batch, self._queue = self._queue, []
        try:
            with self._lock:
                self._commit(batch)
        except Exception as exc:  # the commit's fate is unknown: every caller hears of it
            for job in batch:
                job.error = job.error or exc
        finally:
            for job in batch:
                job.finished = True
                job.wake.set()
            with self._queue_lock:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].wake.set()
                else:
                    self._leading = False

    def _commit(self, batch: list[_Job[Any]]) -> None:
        cur = self._con
        try:
            cur.execute("BEGIN TRANSACTION")
            start = 0
            while start < len(batch):
                end = self._run_jobs(cur, batch, start)
                start = end
            cur.execute("COMMIT")
        except duckdb.Error as exc:
            with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already rolled back
                cur.execute("ROLLBACK")
            if len(batch) == 1:
                batch[0].error = exc
                return
            # One unit broke the shared transaction: run each alone so that only the broken one fails.
            for job in batch:
                job.result, job.error = None, None
                self._commit([job])

    @staticmethod
    def _run_jobs(cur: Cursor, batch: list[_Job[Any]], start: int) -> int:
        """Run ``batch[start]``, or the run of row jobs into the same table that starts there; returns the next."""
        job = batch[start]
        if job.row is None:
            assert job.work is not None
            try:
                job.result = job.work(cur)
            except duckdb.Error:
                raise
            except Exception as exc:  # handed to the caller, whose request it is
                job.error = exc
            return start + 1
        first, rows = job.row, []
        end = start
        while end < len(batch) and (row := batch[end].row) is not None and row.table == first.table:
            rows.append(row.values)
            end += 1
        cur.execute(
            f"INSERT INTO {first.table} BY NAME SELECT unnest(r) "
            f"FROM (SELECT unnest(json_transform(?::JSON, '[{json.dumps(first.types)}]')) AS r)",
            [json.dumps(rows, default=_json_value)],
        )
        return end

    def save_scenario(
        self, scenario_id: str, name: str, description: str, spec: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """Store a scenario unless one with the same id exists.

        Versions are counted per name *and* visibility (``spec["visibility"]``, default public): a council draft
        never raises the version a public scenario of the same name gets, so the version leaks no hidden name.

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
                    row = cur.execute(
                        "SELECT coalesce(max(version), 0) + 1 FROM scenarios "
                        "WHERE name = ? AND coalesce(spec ->> 'visibility', 'public') = ?",
                        [name, str(spec.get("visibility", "public"))],
                    )
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


class LiveStores:
    """The twins' live stores, opened on first use (reading a twin that has none creates nothing)."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir
        self._open: dict[str, LiveStore] = {}
        self._lock = threading.Lock()

    def get(self, twin: str, *, create: bool) -> LiveStore | None:
        """The live store of ``twin``; None when it has none yet and ``create`` is false."""
        with self._lock:
            if twin not in self._open:
                path = live_store_file(self.store_dir, twin)
                if not create and not path.is_file():
                    return None
                self._open[twin] = LiveStore(path)
            return self._open[twin]

    def close(self) -> None:
        """Close every open live store."""
        with self._lock:
            for store in self._open.values():
                store.close()
            self._open.clear()
