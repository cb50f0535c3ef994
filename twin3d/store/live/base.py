"""The live store of a twin: scenarios and citizens' places, written while the server runs, by every worker.

The build store is rebuilt and swapped as a whole and opened read-only; what users create must survive that, so it
lives apart: in SQLite (``<store_dir>/<twin>.live.sqlite``, the embedded default) or in PostgreSQL (one schema per
twin). :class:`LiveStore` is the one interface; the backends only open connections and frame transactions.

Writes are serialised across processes (SQLite's write lock, a PostgreSQL advisory lock per twin), so a unit of work
may check and then write as if it were alone. Within a process, writes of many request threads share commits (group
commit): :meth:`LiveStore.write` queues a unit of work, one waiting thread runs every queued unit in one transaction
and commits it, and each caller returns only after the commit that holds its work. Both databases make a commit
durable before it returns (SQLite ``synchronous=FULL`` in WAL mode; PostgreSQL's default), so an acknowledged write
survives a crash; one commit per batch instead of per request keeps hundreds of posts per second possible.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import pyarrow as pa

from twin3d.errors import StoreError
from twin3d.store.live.dialect import Cursor, Dialect

T = TypeVar("T")
log = logging.getLogger(__name__)
Params = Sequence[Any] | Mapping[str, Any]

_SCENARIO_COLUMNS = "scenario_id, name, version, description, measures, {created} AS created_at, visibility, listed"


def utc_now() -> datetime:
    """Now in UTC without a zone (how the live store's timestamps are bound)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(eq=False)
class _Job(Generic[T]):
    """One queued unit of work and what became of it."""

    work: Callable[[Cursor], T]
    wake: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    finished: bool = False
    result: T | None = None
    error: BaseException | None = None


class LiveStore:
    """Read and write a twin's live tables; safe to share between request threads.

    Subclasses provide the connections: :meth:`_writer`, the one writer connection of the process, :meth:`_begin`,
    which starts a transaction holding the store's write lock on it, and :meth:`reader` for reads.

    Attributes:
        dialect: the SQL dialect of the backend.
        name: the twin's name.
        db_errors: the driver's error classes (a batch that fails on one of them is retried unit by unit).
    """

    dialect: Dialect
    db_errors: tuple[type[BaseException], ...]

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()  # the writer connection
        self._queue: list[_Job[Any]] = []
        self._queue_lock = threading.Lock()
        self._leading = False

    # --- what a backend provides -------------------------------------------------------------------------------

    def _writer(self) -> Cursor:
        raise NotImplementedError

    def _begin(self, cur: Cursor) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def reader(self) -> Iterator[Cursor]:
        """A read cursor of its own for a moment: reads see every committed write and do not wait for writers."""
        raise NotImplementedError
        yield  # pragma: no cover

    def close(self) -> None:
        """Close every connection."""
        raise NotImplementedError

    # --- reading -----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def reading(self) -> Iterator[Cursor]:
        """:meth:`reader` with the database's errors as :class:`StoreError` (503)."""
        try:
            with self.reader() as cur:
                yield cur
        except self.db_errors as exc:
            raise self.failed("could not be read", exc) from exc

    def read(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        with self.reading() as cur:
            return list(cur.execute(sql, params or ()).dicts())

    def read_arrow(self, sql: str, params: Params | None = None, schema: pa.Schema | None = None) -> pa.Table:
        """A read query's result as an Arrow table (for vectorised work and exports), typed by ``schema`` if given."""
        with self.reading() as cur:
            cur.execute(sql, params or ())
            names, rows = cur.columns, cur.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
        if schema is None:
            return pa.table({name: pa.array(col) for name, col in zip(names, columns, strict=True)})
        return pa.table(
            {name: pa.array(col, type=schema.field(name).type) for name, col in zip(names, columns, strict=True)},
            schema=schema,
        )

    # --- writing -----------------------------------------------------------------------------------------------

    def write(self, work: Callable[[Cursor], T]) -> T:
        """Run ``work`` in a transaction and return its result once that transaction is committed.

        ``work`` may share its transaction with the work of other threads, and it may run twice (alone, after a
        batch failed on a database error), so it must only use the cursor it is given, and it must check before it
        writes: an exception it raises after writing would not undo its writes.

        Raises:
            Whatever ``work`` raised, or the database error that stopped its commit.
        """
        job = _Job(work=work)
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
        if isinstance(job.error, self.db_errors):
            raise self.failed("did not take the write", job.error) from job.error
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]  # set whenever no error was recorded

    def failed(self, what: str, exc: BaseException) -> StoreError:
        """The error a caller gets for a database error (a 503; the driver's text, which may name files or hosts,
        goes to the log only)."""
        log.warning("live store of %r %s: %s", self.name, what, str(exc).splitlines()[0] if str(exc) else exc)
        return StoreError(f"the live store of {self.name!r} {what}", hint="try again in a moment")

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
        cur = self._writer()
        try:
            self._begin(cur)
            for job in batch:
                try:
                    job.result = job.work(cur)
                except self.db_errors:
                    raise
                except Exception as exc:  # handed to the caller, whose request it is
                    job.error = exc
            cur.execute("COMMIT")
        except self.db_errors as exc:
            with contextlib.suppress(*self.db_errors):  # a failed COMMIT has already rolled back
                cur.execute("ROLLBACK")
            if len(batch) == 1:
                batch[0].error = exc
                return
            # One unit broke the shared transaction: run each alone so that only the broken one fails.
            for job in batch:
                job.result, job.error = None, None
                self._commit([job])

    # --- scenarios ---------------------------------------------------------------------------------------------

    def save_scenario(
        self, scenario_id: str, name: str, description: str, spec: dict[str, Any], *, listed: bool = True
    ) -> tuple[dict[str, Any], bool]:
        """Store a scenario unless one with the same id exists.

        Versions are counted per name *and* visibility (``spec["visibility"]``, default public): a council draft
        never raises the version a public scenario of the same name gets, so the version leaks no hidden name.
        ``listed`` False: reachable by its id only (what the public stores); saving it again listed lists it.

        Returns:
            The stored row (without the spec) and whether it was created now.
        """
        visibility = str(spec.get("visibility", "public"))

        def work(cur: Cursor) -> bool:
            if cur.execute("SELECT 1 FROM scenarios WHERE scenario_id = ?", [scenario_id]).fetchone() is not None:
                if listed:
                    cur.execute("UPDATE scenarios SET listed = 1 WHERE scenario_id = ? AND listed = 0", [scenario_id])
                return False
            found = cur.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM scenarios WHERE name = ? AND visibility = ?",
                [name, visibility],
            ).fetchone()
            version = int(found[0]) if found else 1
            cur.execute(
                "INSERT INTO scenarios (scenario_id, name, version, description, spec, measures, visibility, "
                "created_at, listed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    scenario_id,
                    name,
                    version,
                    description,
                    json.dumps(spec, ensure_ascii=False),
                    len(spec.get("measures", [])),
                    visibility,
                    utc_now(),
                    int(listed),
                ],
            )
            return True

        created = self.write(work)
        stored = self.scenario_summary(scenario_id)
        assert stored is not None
        return stored, created

    def _scenario_columns(self) -> str:
        return _SCENARIO_COLUMNS.format(created=self.dialect.iso("created_at"))

    def scenario_summary(self, scenario_id: str) -> dict[str, Any] | None:
        """One scenario's name, version, description, measure count and time; None if unknown."""
        rows = self.read(f"SELECT {self._scenario_columns()} FROM scenarios WHERE scenario_id = ?", [scenario_id])
        return rows[0] if rows else None

    def scenario_spec(self, scenario_id: str) -> dict[str, Any] | None:
        """The stored spec of a scenario; None if unknown."""
        rows = self.read("SELECT spec FROM scenarios WHERE scenario_id = ?", [scenario_id])
        spec: dict[str, Any] | None = json.loads(rows[0]["spec"]) if rows else None
        return spec

    def scenarios(self, *, listed_only: bool = False) -> list[dict[str, Any]]:
        """Every stored scenario, newest first; ``listed_only``: those listed, and those of a public proposal (a
        scenario the public stored is listed only through a moderated proposal)."""
        where = (
            "WHERE s.listed = 1 OR s.scenario_id IN (SELECT scenario_id FROM places WHERE kind = 'idea' AND "
            "status IN ('visible', 'answered') UNION SELECT official_scenario_id FROM places WHERE kind = 'idea' AND "
            "status IN ('visible', 'answered'))"
            if listed_only
            else ""
        )
        return self.read(
            # The table's column, not the ISO text of the same name (whole seconds would tie).
            f"SELECT {self._scenario_columns()} FROM scenarios AS s {where} "
            "ORDER BY s.created_at DESC, s.scenario_id DESC"
        )

    def list_scenario(self, scenario_id: str, listed: bool) -> bool:
        """List a stored scenario for everyone its visibility admits, or unlist it; False if there is none."""

        def work(cur: Cursor) -> bool:
            cur.execute("UPDATE scenarios SET listed = ? WHERE scenario_id = ?", [int(listed), scenario_id])
            return cur.rowcount > 0

        return self.write(work)
