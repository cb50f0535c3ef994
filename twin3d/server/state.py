"""What the app holds while it runs: the served twins, one read-only store connection each, reloaded when rebuilt.

A build commits by renaming a new ``<store_dir>/<twin>.duckdb`` into place. :meth:`Twins.watching` (entered by the
app's lifespan) compares every store's stamp (inode, mtime, size, ctime) about once a second; a changed stamp opens
the new store, swaps the twin's entry and retires the old handle. A retired handle closes its connection when the
last request that acquired it ends (``deps.get_twin`` holds it for the whole request, a streamed body included), so
no file handle of a replaced store outlives its requests. Each worker process polls for itself.

A store that cannot be opened disables its twin only: the twin is listed with a one-line reason (no path), its
routes answer 503, and a rebuild brings it back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from twin3d.errors import NotFoundError, StoreError
from twin3d.pipeline.staging import BUILD_ID, build_dir
from twin3d.store import queries, stat_series
from twin3d.store.connection import connect

log = logging.getLogger(__name__)
TWIN_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
RELOAD_SECONDS = 1.0
STORE = "store"  # the name the store file is attached under
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
Stamp = tuple[int, int, int, int]


def stamp_of(path: Path) -> Stamp | None:
    """(inode, mtime, size, ctime) of a file, following a symbolic link; None if it is gone.

    A build replaces the file (new inode); the ctime also changes when an unreadable store is made readable.
    """
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)


@dataclass(eq=False)
class TwinHandle:
    """A served twin: its store connection, metadata and tileset folder, shared by the requests that use it.

    Requests hold it between :meth:`acquire` and :meth:`release`; once retired (its store was replaced or removed)
    it closes its connection when the last of them releases it.
    """

    name: str
    store_file: Path
    tiles_dir: Path
    con: duckdb.DuckDBPyConnection
    meta: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    build_id: str | None = None
    stamp: Stamp | None = None
    #: The years of the district statistics per level and variable (the viewer's time slider), read with the counts.
    stat_years: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    _users: int = field(default=0, init=False, repr=False)
    _retired: bool = field(default=False, init=False, repr=False)
    _closed: bool = field(default=False, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one request (DuckDB cursors are safe to use from one thread each)."""
        cur = self.con.cursor()
        cur.execute(f"USE {STORE}")  # a cursor is a new connection: it starts in the in-memory database
        return cur

    @property
    def build_key(self) -> tuple[Any, ...]:
        """What tells this build of the twin from another (name, build id, store stamp): the key of every cache of
        what a build store answers, so that a rebuilt twin never gets the answers of the build before."""
        return (self.name, self.build_id, self.stamp, self.meta.get("built_at"))

    @property
    def closed(self) -> bool:
        """Whether the store connection has been closed (the handle was retired and is no longer used)."""
        return self._closed

    def acquire(self) -> bool:
        """Count one more user; False if the handle is already closed (look the twin up again)."""
        with self._lock:
            if self._closed:
                return False
            self._users += 1
            return True

    def release(self) -> None:
        """Count one user less; the last user of a retired handle closes it."""
        with self._lock:
            self._users -= 1
        self._close_when_unused()

    def retire(self) -> None:
        """No new requests get this handle; it closes now if unused, else when its last user releases it."""
        with self._lock:
            self._retired = True
        self._close_when_unused()

    def _close_when_unused(self) -> None:
        with self._lock:
            close = self._retired and self._users == 0 and not self._closed
            self._closed |= close
        if close:
            self.con.close()


@dataclass(frozen=True)
class TwinFault:
    """A twin whose store cannot be served, with the reason in one line (no path: it is shown to anyone)."""

    name: str
    reason: str
    stamp: Stamp | None = None


def _attach(path: Path) -> duckdb.DuckDBPyConnection:
    """``path`` read-only in a DuckDB instance of its own.

    Not ``connect(path)``: DuckDB keeps one instance per file path in a process and would hand out the replaced
    file's instance, old data and all, while a request still holds it. A new in-memory instance that attaches the
    file sees the file that is there now.
    """
    con = connect()
    try:
        con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS {STORE} (READ_ONLY)")
        con.execute(f"USE {STORE}")
    except BaseException:
        con.close()
        raise
    return con


def _unusable(exc: duckdb.Error) -> str:
    text = str(exc).lower()
    if "permission" in text:
        return "store cannot be opened: permission denied"
    if "version" in text:
        return "store cannot be opened: written by another DuckDB version"
    return "store cannot be opened: DuckDB cannot read it"


def open_twin(name: str, path: Path, tiles_root: Path) -> TwinHandle | TwinFault:
    """Open one store read-only; a store that cannot be served becomes a :class:`TwinFault` (logged with its path)."""
    stamp = stamp_of(path)
    reason = None
    try:
        with path.open("rb") as fh:
            header = fh.read(12)
        if header[8:12] != DUCKDB_MAGIC:
            reason = "store cannot be opened: not a valid store file"
    except PermissionError:
        reason = "store cannot be opened: permission denied"
    except OSError as exc:
        reason = f"store cannot be opened: {(exc.strerror or 'read error').lower()}"
    if reason is not None:
        log.warning("twin %s is unavailable: %s (%s)", name, reason, path)
        return TwinFault(name, reason, stamp)
    try:
        con = _attach(path)
    except duckdb.Error as exc:
        log.warning("twin %s is unavailable: %s", name, exc)
        return TwinFault(name, _unusable(exc), stamp)
    try:
        meta = queries.meta(con, "twin") or {"name": name, "title": name}
        counts = queries.table_counts(con)
        years = stat_series.years_by_level(con)
        build_id = queries.build_id(con)
    except duckdb.Error as exc:
        con.close()
        log.warning("twin %s is unavailable: %s (%s)", name, exc, path)
        return TwinFault(name, "store cannot be read: not a complete twin store", stamp)
    if build_id is not None and not BUILD_ID.match(build_id):
        con.close()
        return TwinFault(name, "store names no valid build", stamp)
    tiles = build_dir(tiles_root / name, build_id)
    if meta.get("tileset") and not tiles.is_dir():
        log.warning("twin %s: the tiles of its build are missing (%s)", name, tiles)
    return TwinHandle(name, path, tiles, con, meta, counts, build_id, stamp, stat_years=years)


class Twins:
    """The twins of one store folder: ``<twin>.duckdb`` with a plain twin name (live stores and staged files have
    dots in their names and are not twins), each served or disabled, and reloaded when its file changes.

    Args:
        store_dir: the folder of the stores.
        tiles_root: the folder of the twins' tiles folders.
    """

    def __init__(self, store_dir: Path, tiles_root: Path) -> None:
        self.store_dir = store_dir
        self.tiles_root = tiles_root
        self._entries: dict[str, TwinHandle | TwinFault] = {}
        self._lock = threading.Lock()  # one refresh at a time, and none after close
        self._closed = False

    def entries(self) -> list[TwinHandle | TwinFault]:
        """Every twin, served or not, by name."""
        return [e for _, e in sorted(self._entries.items())]

    def handles(self) -> list[TwinHandle]:
        """The served twins, by name."""
        return [e for e in self.entries() if isinstance(e, TwinHandle)]

    def lookup(self, name: str) -> TwinHandle:
        """The served twin ``name``; NotFoundError if there is none, StoreError (503) if it cannot be served."""
        entry = self._entries.get(name)
        if entry is None:
            served = ", ".join(sorted(self._entries)) or "none"
            raise NotFoundError(f"no twin named {name!r}", hint=f"served twins: {served}")
        if isinstance(entry, TwinFault):
            raise StoreError(
                f"twin {name!r} is unavailable: {entry.reason}",
                hint=f"rebuild it: twin3d build {name}",
                reason=entry.reason,  # the answer's one line for clients (a 503 tells them no more), path-free
            )
        return entry

    def acquire(self, name: str) -> TwinHandle:
        """:meth:`lookup` and count the caller as a user until it calls ``release()`` on the handle."""
        for _ in range(8):
            handle = self.lookup(name)
            if handle.acquire():
                return handle
            # Retired and closed between the lookup and now: the new entry is already in place.
        raise StoreError(f"twin {name!r} is being reloaded", hint="try again in a moment")

    def refresh(self) -> list[str]:
        """Open new and changed stores, drop removed ones; returns the names whose entry changed."""
        with self._lock:
            if self._closed:
                return []
            found = {}
            if self.store_dir.is_dir():
                found = {p.stem: p for p in self.store_dir.glob("*.duckdb") if TWIN_NAME.match(p.stem)}
            changed = []
            for name in sorted(set(self._entries) - set(found)):
                self._retire(self._entries.pop(name))
                changed.append(name)
            for name, path in sorted(found.items()):
                old = self._entries.get(name)
                if old is not None and old.stamp == stamp_of(path):
                    continue
                self._entries[name] = open_twin(name, path, self.tiles_root)  # swapped in before the old closes
                if old is not None:
                    self._retire(old)
                changed.append(name)
            return changed

    @staticmethod
    def _retire(entry: TwinHandle | TwinFault) -> None:
        if isinstance(entry, TwinHandle):
            entry.retire()

    async def watch(self, interval: float = RELOAD_SECONDS) -> None:
        """Refresh every ``interval`` seconds until cancelled (opening stores runs in a worker thread)."""
        while True:
            await asyncio.sleep(interval)
            try:
                changed = await asyncio.to_thread(self.refresh)
            except Exception:  # the next poll tries again; a dead poller would never reload anything
                log.exception("polling %s failed", self.store_dir)
                continue
            if changed:
                log.info("reloaded twins: %s", ", ".join(changed))

    @contextlib.asynccontextmanager
    async def watching(self, interval: float = RELOAD_SECONDS) -> AsyncIterator[None]:
        """Run :meth:`watch` while the block runs."""
        task = asyncio.create_task(self.watch(interval))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        """Stop refreshing and retire every handle (each closes once its requests are done)."""
        with self._lock:
            self._closed = True
            entries, self._entries = list(self._entries.values()), {}
        for entry in entries:
            self._retire(entry)


def open_twins(store_dir: Path, tiles_root: Path) -> Twins:
    """The twins of ``store_dir``, opened now."""
    twins = Twins(store_dir, tiles_root)
    twins.refresh()
    return twins


def close_twins(twins: Twins) -> None:
    """Close every store connection (see :meth:`Twins.close`)."""
    twins.close()
