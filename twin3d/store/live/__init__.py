"""The live stores of the twins: what users create while the server runs (see :mod:`twin3d.store.live.base`).

:class:`LiveStores` opens each twin's store on first use, in SQLite by default or in PostgreSQL when
``TWIN3D_LIVE_DATABASE_URL`` is set (:class:`twin3d.settings.LiveSettings`), and brings a store of an earlier
version along (:mod:`twin3d.store.live.legacy`).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from twin3d.settings import LiveSettings
from twin3d.store.live.base import LiveStore, utc_now
from twin3d.store.live.dialect import Cursor, Dialect, Many
from twin3d.store.live.legacy import import_legacy, legacy_file

__all__ = ["Cursor", "Dialect", "LiveStore", "LiveStores", "Many", "live_store_file", "open_live_store", "utc_now"]

ABSENT_RECHECK_S = 1.0  # how long "this twin has no live store yet" is believed (another worker may create it)


def live_store_file(store_dir: Path, twin: str) -> Path:
    """Where the embedded live store of ``twin`` is kept."""
    return store_dir / f"{twin}.live.sqlite"


def open_live_store(store_dir: Path, twin: str, settings: LiveSettings | None = None) -> LiveStore:
    """Open (and create or migrate) the live store of ``twin``, bringing an earlier version's store along."""
    settings = settings or LiveSettings()
    store: LiveStore
    if settings.database_url:
        from twin3d.store.live.postgres import PostgresLiveStore  # noqa: PLC0415  (psycopg is optional)

        store = PostgresLiveStore(settings.database_url, twin, pool_size=settings.pool_size)
    else:
        from twin3d.store.live.sqlite import SqliteLiveStore  # noqa: PLC0415

        store = SqliteLiveStore(live_store_file(store_dir, twin), twin)
    try:
        import_legacy(store, store_dir)
    except BaseException:
        store.close()
        raise
    return store


class LiveStores:
    """The twins' live stores, opened on first use (reading a twin that has none creates nothing)."""

    def __init__(self, store_dir: Path, settings: LiveSettings | None = None) -> None:
        self.store_dir = store_dir
        self.settings = settings or LiveSettings()
        self._open: dict[str, LiveStore] = {}
        self._absent: dict[str, float] = {}
        self._lock = threading.Lock()

    def _exists(self, twin: str) -> bool:
        if legacy_file(self.store_dir, twin).is_file():
            return True
        if not self.settings.database_url:
            return live_store_file(self.store_dir, twin).is_file()
        from twin3d.store.live.postgres import schema_exists  # noqa: PLC0415

        return schema_exists(self.settings.database_url, twin)

    def get(self, twin: str, *, create: bool) -> LiveStore | None:
        """The live store of ``twin``; None when it has none yet and ``create`` is false."""
        with self._lock:
            store = self._open.get(twin)
            if store is not None:
                return store
            if not create:
                if self.settings.database_url and time.monotonic() < self._absent.get(twin, 0.0):
                    return None  # a query to the database per request would be too much; a file check is not
                if not self._exists(twin):
                    self._absent[twin] = time.monotonic() + ABSENT_RECHECK_S
                    return None
            store = self._open[twin] = open_live_store(self.store_dir, twin, self.settings)
            self._absent.pop(twin, None)
            return store

    def close(self) -> None:
        """Close every open live store."""
        with self._lock:
            for store in self._open.values():
                store.close()
            self._open.clear()
