"""Small JSON files beside the store that the CLI edits while a server reads them (users, workshop codes).

A file is replaced atomically (a temporary file, then ``os.replace``), so a running server never reads half of
it; read-modify-write is serialised between processes with a lock file; and a reader notices a change by the
file's stamp (mtime, size, inode), so changes take effect without a restart.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

from twin3d.secretfile import tighten

T = TypeVar("T")


def write_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON; ``mkstemp`` makes it readable only by its owner (it holds hashes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        Path(tmp).replace(path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # noqa: PTH108
        raise


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialise read-modify-write of ``path`` between processes (two ``users add`` at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl  # noqa: PLC0415  (POSIX only; elsewhere the atomic replace still keeps the file whole)
    except ImportError:  # pragma: no cover
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as lock:  # noqa: PTH123
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class Watched(Generic[T]):
    """A file's parsed content, parsed again when the file changes.

    Args:
        path: the file; it need not exist.
        parse: the file's content from its path; called with None when there is no file.
    """

    def __init__(self, path: Path, parse: Callable[[Path | None], T]) -> None:
        self.path = path
        self._parse = parse
        self._stamp: tuple[int, int, int] | bool | None = False  # False: never read
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        """The content as of the file's current stamp."""
        try:
            st = self.path.stat()
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = None
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    if stamp is not None:
                        tighten(self.path)  # it holds hashes: a file from before write_atomic made it 0600
                    self._value = self._parse(self.path if stamp is not None else None)
                    self._stamp = stamp
        return self._value  # type: ignore[return-value]  # set by the first call
