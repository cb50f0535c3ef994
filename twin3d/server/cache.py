"""A small least-recently-used cache of answers, bounded by bytes, for what a build store answers the same every
time (its population cells, its vector tiles).

Keys start with the twin handle's :attr:`~twin3d.server.state.TwinHandle.build_key`, so a rebuilt twin (a new
store file) never gets the answers of the one before; entries of the old build age out.

Example:
    >>> cache = ByteCache(max_bytes=2**20)
    >>> cache.put(("a",), b"12345", 5)
    >>> cache.get(("a",))
    b'12345'
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")
ENTRY_BYTES = 256  # what an entry costs beside its value (key, links): many empty answers are bounded too


class ByteCache(Generic[V]):
    """Values with their size in bytes; the least recently used go when the total passes ``max_bytes``.

    A value larger than a quarter of the budget is not kept (one large answer would push out many small ones).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value, or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        """Keep ``value`` (``size`` bytes) unless it is too large for the cache."""
        if size > self.max_bytes // 4:
            return
        size += ENTRY_BYTES
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    @property
    def size(self) -> int:
        """Bytes held."""
        return self._bytes
