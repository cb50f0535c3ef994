"""Secret files beside the store (the privacy key, the participation key): readable by their owner only, and made
once, whoever asks first.

Several server workers start at the same moment and each may be the first to need a twin's key. A key is written
whole into a private temporary file and then linked to its name, which fails if the name exists: so exactly one
process creates it, and no process ever reads a half-written key; the others read the one that won. A secret file
found with a looser mode (from an older twin3d, or a copy) is made owner-only when it is read. The JSON files that
hold token and code hashes (users, workshops) are written owner-only by :func:`twin3d.jsonfile.write_atomic` and
tightened with :func:`tighten` when read.

Example:
    >>> key = read_or_create_secret(tmp / "lauf.privacy-key")  # doctest: +SKIP
    >>> key == read_or_create_secret(tmp / "lauf.privacy-key")  # doctest: +SKIP
    True
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
import tempfile
import time
from pathlib import Path

from twin3d.errors import ConfigError

SECRET_BYTES = 32
MIN_SECRET_BYTES = 16
OWNER_ONLY = 0o600
_WAIT_SECONDS = 2.0  # how long a reader waits for a key another process is writing without hard links

log = logging.getLogger(__name__)


def tighten(path: Path) -> None:
    """Make ``path`` readable and writable by its owner only, if it is looser (a no-op where it is not there)."""
    try:
        loose = stat.S_IMODE(path.stat().st_mode) & 0o077
        if loose:
            path.chmod(OWNER_ONLY)
    except FileNotFoundError:
        return
    except PermissionError:  # another user's file: reading it still works, and the operator must fix the mode
        log.warning("cannot make %s readable by its owner only", path)


def read_secret(path: Path, *, min_bytes: int = MIN_SECRET_BYTES) -> bytes | None:
    """The secret in ``path`` (its mode tightened to 0600); None if there is no such file.

    Raises:
        ConfigError: the file is shorter than ``min_bytes``.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    tighten(path)
    if len(data) < min_bytes:
        raise ConfigError("the secret file is too short", file=path, hint="delete it; a new one is made")
    return data


def read_or_create_secret(path: Path, *, size: int = SECRET_BYTES) -> bytes:
    """The secret in ``path``, created with ``size`` random bytes (mode 0600) if there is none yet.

    Two processes that call this at once get the same secret.

    Raises:
        ConfigError: the file exists but is too short.
    """
    found = read_secret(path)
    if found is not None:
        return found
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(size)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # fails if the name exists: another process made it first, its key is read below
        except OSError as exc:
            if not isinstance(exc, FileExistsError):  # a file system without hard links
                with contextlib.suppress(FileExistsError):
                    _create_exclusive(path, key)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)  # noqa: PTH108
    return _read_when_whole(path)


def _create_exclusive(path: Path, key: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
        f.flush()
        os.fsync(f.fileno())


def _read_when_whole(path: Path) -> bytes:
    """Read a secret another process may still be writing (only without hard links): wait for it, briefly."""
    deadline = time.monotonic() + _WAIT_SECONDS
    while True:
        try:
            found = read_secret(path)
        except ConfigError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
            continue
        if found is None:
            raise ConfigError("the secret file disappeared while it was made", file=path, hint="start again")
        return found
