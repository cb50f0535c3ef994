"""Rate limits that every worker process of a server shares: token buckets in a database, not in memory.

With several worker processes, buckets in each process's memory would let a client through N times as often, one
allowance per worker it happens to reach. :class:`SharedRateLimiter` keeps the buckets where the live store is:

- embedded: ``<store_dir>/ratelimits.sqlite`` (WAL), shared by the workers of the machine; a take is one
  ``BEGIN IMMEDIATE`` transaction, which SQLite serialises across processes;
- with ``TWIN3D_LIVE_DATABASE_URL``: an unlogged table of PostgreSQL (schema ``twin3d_shared``), shared by every
  machine of the deployment; a take locks its key (``pg_advisory_xact_lock``) for its transaction.

Buckets are not worth a disk sync (``synchronous=OFF``, unlogged): a crash forgets who was limited, as a restart
always did. Only keyed hashes and role names are kept, never an address. The arithmetic is :class:`RateLimiter`'s.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path

from twin3d.errors import StoreError
from twin3d.participation.ratelimit import Rate, RateLimiter
from twin3d.settings import LiveSettings
from twin3d.store.live.dialect import POSTGRES, SQLITE, Cursor
from twin3d.store.live.sqlite import create_private, open_sqlite

PRUNE_EVERY = 5_000  # takes between sweeps of idle buckets
IDLE_SECONDS = 86_400  # a bucket untouched for a day is full again at every rate the settings allow
_TABLE = (
    "CREATE {unlogged} TABLE IF NOT EXISTS rate_buckets "
    "(key TEXT PRIMARY KEY, tokens {real} NOT NULL, updated {real} NOT NULL)"
)


def _key(key: Hashable) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    return "\x1f".join(str(part) for part in parts)


def _sqlite(path: Path) -> tuple[Cursor, tuple[type[BaseException], ...]]:
    create_private(path)
    con = open_sqlite(path, synchronous="OFF")
    con.execute("PRAGMA journal_mode = WAL")
    con.execute(_TABLE.format(unlogged="", real="REAL"))
    return Cursor(con, SQLITE), (sqlite3.Error,)


def _postgres(url: str) -> tuple[Cursor, tuple[type[BaseException], ...]]:
    from twin3d.store.live.postgres import driver, unavailable  # noqa: PLC0415  (psycopg is optional)

    psycopg, _ = driver()
    try:
        con = psycopg.connect(url, autocommit=True, connect_timeout=10)
        con.execute("CREATE SCHEMA IF NOT EXISTS twin3d_shared")
        con.execute("SET search_path TO twin3d_shared")
        con.execute(_TABLE.format(unlogged="UNLOGGED", real="double precision"))
    except psycopg.Error as exc:
        raise unavailable(exc) from exc
    return Cursor(con, POSTGRES), (psycopg.Error,)


class SharedRateLimiter(RateLimiter):
    """Token buckets in a database that every process using it shares (same arithmetic as :class:`RateLimiter`).

    Args:
        path: the embedded buckets' file (created readable by its owner only), used without ``database_url``.
        database_url: a PostgreSQL database for the buckets instead (the live store's).
        clock: wall-clock seconds, the same in every process (tests pass a fake one).
    """

    def __init__(self, path: Path, database_url: str | None = None, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self._url = database_url
        self._cur, self._errors = _postgres(database_url) if database_url else _sqlite(path)
        self._db_lock = threading.Lock()
        self._takes = 0

    @classmethod
    def for_server(cls, path: Path, live: LiveSettings) -> SharedRateLimiter:
        """Where the server's live store is: PostgreSQL if it has one, else the file beside the stores."""
        return cls(path, live.database_url)

    @contextlib.contextmanager
    def _transaction(self, key: str) -> Iterator[Cursor]:
        """The bucket of ``key`` locked against every other process until the block ends."""
        with self._db_lock:
            try:
                if self._cur.dialect is SQLITE:
                    self._cur.execute("BEGIN IMMEDIATE")
                else:
                    self._begin_postgres(key)
                try:
                    yield self._cur
                    self._cur.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(*self._errors):
                        self._cur.execute("ROLLBACK")
                    raise
            except self._errors as exc:  # the database is gone: refuse for now (503), never wave everyone through
                self._reconnect()
                raise StoreError("the rate limits cannot be checked right now", hint="try again in a moment") from exc

    def _begin_postgres(self, key: str) -> None:
        try:
            self._cur.execute("BEGIN")
        except self._errors:  # a connection the database's restart left dead: nothing ran yet, start anew once
            self._reconnect()
            self._cur.execute("BEGIN")
        self._cur.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [key])

    def _reconnect(self) -> None:
        if self._url is None:
            return
        with contextlib.suppress(StoreError):
            with contextlib.suppress(*self._errors):
                self._cur.connection.close()  # type: ignore[attr-defined]
            self._cur, self._errors = _postgres(self._url)

    @staticmethod
    def _refilled(cur: Cursor, key: str, rate: Rate, now: float) -> float:
        row = cur.execute("SELECT tokens, updated FROM rate_buckets WHERE key = ?", [key]).fetchone()
        if row is None:
            return float(rate.burst)
        tokens, updated = float(row[0]), float(row[1])
        return min(float(rate.burst), tokens + max(0.0, now - updated) * rate.per_second)

    def take(self, key: Hashable, rate: Rate) -> float:
        """Take one token for ``key``: 0.0 if the request may go ahead, else the seconds until one is there."""
        name, now = _key(key), self._clock()
        with self._transaction(name) as cur:
            tokens = self._refilled(cur, name, rate, now)
            allowed = tokens >= 1.0
            cur.execute(
                "INSERT INTO rate_buckets (key, tokens, updated) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated = excluded.updated",
                [name, tokens - 1.0 if allowed else tokens, now],
            )
            self._takes += 1
            if self._takes % PRUNE_EVERY == 0:
                cur.execute("DELETE FROM rate_buckets WHERE updated < ?", [now - IDLE_SECONDS])
        return 0.0 if allowed else (1.0 - tokens) / rate.per_second

    def wait(self, key: Hashable, rate: Rate) -> float:
        """Seconds until ``key`` has a token (0.0: one is there), without taking it."""
        name = _key(key)
        with self._transaction(name) as cur:
            tokens = self._refilled(cur, name, rate, self._clock())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate.per_second

    def __len__(self) -> int:
        with self._db_lock:
            row = self._cur.execute("SELECT count(*) FROM rate_buckets").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the connection."""
        with self._db_lock, contextlib.suppress(*self._errors):
            self._cur.connection.close()  # type: ignore[attr-defined]
