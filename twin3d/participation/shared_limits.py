"""Rate limits that every worker process of a server shares: token buckets in a small SQLite file.

With several worker processes, buckets in each process's memory would let a client through N times as often, one
allowance per worker it happens to reach. :class:`SharedRateLimiter` keeps the buckets in
``<store_dir>/ratelimits.sqlite`` instead: each take reads and writes its bucket in one ``BEGIN IMMEDIATE``
transaction, which SQLite serialises across processes. Buckets are not worth a disk sync (``synchronous=OFF``): a
crash forgets who was limited, as a restart always did. Only keyed hashes and role names are kept, never an address.
The file is per machine: workers on several machines (behind one PostgreSQL live store) each limit on their own.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Hashable
from pathlib import Path

from twin3d.participation.ratelimit import Rate, RateLimiter

PRUNE_EVERY = 5_000  # takes between sweeps of idle buckets
IDLE_SECONDS = 86_400  # a bucket untouched for a day is full again at every rate the settings allow


def _key(key: Hashable) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    return "\x1f".join(str(part) for part in parts)


class SharedRateLimiter(RateLimiter):
    """Token buckets in an SQLite file that every process opening it shares (same arithmetic as
    :class:`RateLimiter`).

    Args:
        path: the buckets' file (created readable by its owner only).
        clock: wall-clock seconds, the same in every process (tests pass a fake one).
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 30000")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS buckets (key TEXT PRIMARY KEY, tokens REAL NOT NULL, updated REAL NOT NULL)"
        )
        self._db_lock = threading.Lock()
        self._takes = 0

    def _bucket(self, key: str, rate: Rate, now: float) -> float:
        row = self._db.execute("SELECT tokens, updated FROM buckets WHERE key = ?", [key]).fetchone()
        if row is None:
            return float(rate.burst)
        tokens, updated = float(row[0]), float(row[1])
        return min(float(rate.burst), tokens + max(0.0, now - updated) * rate.per_second)

    def take(self, key: Hashable, rate: Rate) -> float:
        """Take one token for ``key``: 0.0 if the request may go ahead, else the seconds until one is there."""
        name, now = _key(key), self._clock()
        with self._db_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                tokens = self._bucket(name, rate, now)
                allowed = tokens >= 1.0
                self._db.execute(
                    "INSERT INTO buckets (key, tokens, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated = excluded.updated",
                    [name, tokens - 1.0 if allowed else tokens, now],
                )
                self._takes += 1
                if self._takes % PRUNE_EVERY == 0:
                    self._db.execute("DELETE FROM buckets WHERE updated < ?", [now - IDLE_SECONDS])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return 0.0 if allowed else (1.0 - tokens) / rate.per_second

    def wait(self, key: Hashable, rate: Rate) -> float:
        """Seconds until ``key`` has a token (0.0: one is there), without taking it."""
        with self._db_lock:
            tokens = self._bucket(_key(key), rate, self._clock())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate.per_second

    def __len__(self) -> int:
        with self._db_lock:
            row = self._db.execute("SELECT count(*) FROM buckets").fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the file."""
        with self._db_lock:
            self._db.close()
