"""The production live store: PostgreSQL, one schema per twin, psycopg 3 with a connection pool.

``TWIN3D_LIVE_DATABASE_URL`` (e.g. ``postgresql://twin3d@db.example:5432/twin3d``) names the database; each twin
gets the schema ``twin3d_<twin>`` with the tables of ``twin3d/sql/live/postgres_*.sql``, created and migrated by the
first process that opens it. Sessions run in UTC.

Writes keep the semantics of the embedded store: every write transaction first takes a transaction-level advisory
lock of its twin, so units of work that check and then write never race one another, in this process or any other;
within a process, writes share commits (:class:`twin3d.store.live.base.LiveStore`). Reads come from the pool and
never wait for writers.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from typing import Any

from twin3d.errors import StoreError
from twin3d.store.live.base import LiveStore
from twin3d.store.live.dialect import POSTGRES, Cursor
from twin3d.store.live.schema import migrate

POOL_WAIT_S = 5.0  # how long a read waits for a pooled connection: with the database down, a quick 503, not a hang


def driver() -> Any:
    try:
        import psycopg  # noqa: PLC0415  (optional: only a PostgreSQL live store needs it)
        import psycopg_pool  # noqa: PLC0415
    except ImportError as exc:
        raise StoreError(
            "TWIN3D_LIVE_DATABASE_URL is set but psycopg is not installed",
            hint="pip install 'twin3d[postgres]'",
        ) from exc
    return psycopg, psycopg_pool


def schema_name(twin: str) -> str:
    """The PostgreSQL schema of a twin's live tables.

    Twin names are ``[a-z0-9_-]{1,64}``; PostgreSQL cuts identifiers at 63 bytes and ``-`` would need quoting
    everywhere, so a name with ``-`` or a long one gets a short hash that keeps such names apart.
    """
    if "-" not in twin and len(twin) <= 40:
        return f"twin3d_{twin}"
    return f"twin3d_{twin[:40].replace('-', '_')}_{hashlib.sha256(twin.encode()).hexdigest()[:8]}"


def _lock_key(schema: str) -> int:
    """A stable 63-bit advisory lock key per schema."""
    return int.from_bytes(hashlib.sha256(schema.encode()).digest()[:8], "big") >> 1


def unavailable(exc: BaseException) -> StoreError:
    # The driver's message names the host and port: it goes to the log, never into an HTTP body.
    return StoreError("the live database is not reachable", hint="check TWIN3D_LIVE_DATABASE_URL and the database")


def schema_exists(url: str, twin: str) -> bool:
    """Whether the twin has live tables in the database at ``url``."""
    psycopg, _ = driver()
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as con:
            row = con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema_name(twin)]).fetchone()
    except psycopg.Error as exc:
        raise unavailable(exc) from exc
    return row is not None


class PostgresLiveStore(LiveStore):
    """A twin's live store in its own schema of a PostgreSQL database."""

    dialect = POSTGRES

    def __init__(self, url: str, twin: str, *, pool_size: int = 8) -> None:
        super().__init__(twin)
        psycopg, psycopg_pool = driver()
        self.db_errors = (psycopg.Error,)
        self._psycopg = psycopg
        self.url = url
        self.schema = schema_name(twin)
        self._key = _lock_key(self.schema)
        options = f"-c search_path={self.schema} -c timezone=UTC"
        self._connect_kwargs: dict[str, Any] = {"autocommit": True, "options": options, "connect_timeout": 10}
        self._reconnect_lock = threading.Lock()
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as con:
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            self._con = psycopg.connect(url, **self._connect_kwargs)
            migrate(self._writer(), self._begin)
            self._pool = psycopg_pool.ConnectionPool(
                url, min_size=1, max_size=pool_size, kwargs=self._connect_kwargs, open=True, timeout=POOL_WAIT_S
            )
        except psycopg.Error as exc:
            raise unavailable(exc) from exc

    def _writer(self) -> Cursor:
        if self._con.closed:  # the database restarted: the next batch gets a new connection
            with self._reconnect_lock:
                if self._con.closed:
                    try:
                        self._con = self._psycopg.connect(self.url, **self._connect_kwargs)
                    except self._psycopg.Error as exc:
                        raise unavailable(exc) from exc
        return Cursor(self._con, POSTGRES)

    def _begin(self, cur: Cursor) -> None:
        try:
            cur.execute("BEGIN")
        except self._psycopg.OperationalError:
            # The connection died with the database's restart: nothing of the batch has run yet, so it can start
            # again on a new connection (the cursor handed to the batch's work follows it).
            self._con.close()
            cur.connection = self._writer().connection
            cur.execute("BEGIN")
        cur.execute("SELECT pg_advisory_xact_lock(?)", [self._key])

    @contextlib.contextmanager
    def reader(self) -> Iterator[Cursor]:
        """A pooled connection for reading."""
        try:
            with self._pool.connection() as con:
                yield Cursor(con, POSTGRES)
        except self._psycopg.OperationalError as exc:
            raise unavailable(exc) from exc

    def close(self) -> None:
        """Close the pool and the writer connection."""
        with self._lock:
            self._pool.close()
            self._con.close()
