"""The folders of a twin's builds: build ids, staged writes, and the clean-up after a build is committed.

Layout (an nginx configuration is generated against it, so keep to it)::

    <tiles_dir>/<twin>/<build_id>/tileset.json   one folder per build, never changed once renamed into place
    <tiles_dir>/<twin>/.<build_id>.<pid>.staged  a build's folder while it is written
    <store_dir>/<twin>.duckdb                    the current build; its meta ``build_id`` names its folder

A twin built before build ids has its tileset directly in ``<tiles_dir>/<twin>/`` and no ``build_id``; it is
served from there until it is built again. Staged names carry the writer's process id, so the leftovers of a
killed build can be told from the files of a build still running.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

BUILD_ID = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$")
# ``.<name>.<pid>.<kind>``: staged tiles and their swap-outs (``StagedDir``), store files (``StoreWriter``).
LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.(?:staged|old|tmp|tmp\.wal)$")


def new_build_id(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-xxxxxx``: the UTC time and 6 random hex digits (two builds in one second differ)."""
    return f"{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def build_dir(twin_tiles: Path, build_id: str | None) -> Path:
    """The tiles folder of a build; ``twin_tiles`` itself for a twin built before build ids."""
    return twin_tiles / build_id if build_id else twin_tiles


def finished_builds(twin_tiles: Path) -> list[str]:
    """The build folders in ``twin_tiles``, oldest first (build ids sort by time)."""
    if not twin_tiles.is_dir():
        return []
    return sorted(p.name for p in twin_tiles.iterdir() if BUILD_ID.match(p.name) and p.is_dir())


def _legacy_entries(twin_tiles: Path) -> list[Path]:
    """What a build before build ids left directly in ``twin_tiles`` (its tileset.json and partitions)."""
    if not twin_tiles.is_dir():
        return []
    return [p for p in twin_tiles.iterdir() if not p.name.startswith(".") and not BUILD_ID.match(p.name)]


def latest_build(twin_tiles: Path) -> Path | None:
    """The newest finished tileset folder of a twin (a build folder, or the old layout's twin folder), if any.

    Builds of the same second sort by their random part: the store names the current build
    (``twin3d.pipeline.build.current_tiles``).
    """
    builds = finished_builds(twin_tiles)
    if builds:
        return twin_tiles / builds[-1]
    return twin_tiles if (twin_tiles / "tileset.json").is_file() else None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def prune_builds(twin_tiles: Path, current: str, previous: str | None) -> list[Path]:
    """Remove the build folders of a twin but ``current`` and ``previous`` (clients mid-session still use it).

    Where the replaced store named no build (it predates build ids, or could not be read), the old layout's
    files and the newest other build folder are kept in its place.

    Returns:
        What was removed.
    """
    others = [b for b in finished_builds(twin_tiles) if b != current]
    if previous is None:
        keep = set(others[-1:])
        removed = [twin_tiles / b for b in others if b not in keep]
    else:
        removed = [twin_tiles / b for b in others if b != previous] + _legacy_entries(twin_tiles)
    for path in removed:
        _remove(path)
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (one of another user counts; this process counts)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(folder: Path, owned: re.Pattern[str]) -> list[Path]:
    """Remove staged files of killed builds in ``folder`` whose target name matches ``owned``.

    Only leftovers whose process is gone are removed, so a build running at the same time keeps its files.

    Returns:
        What was removed.
    """
    if not folder.is_dir():
        return []
    removed = []
    for path in folder.iterdir():
        found = LEFTOVER.match(path.name)
        if found and owned.fullmatch(found["name"]) and not pid_alive(int(found["pid"])):
            _remove(path)
            removed.append(path)
    return removed


class StagedDir:
    """A temporary folder next to ``target`` that replaces ``target`` on a clean exit.

    On an exception the staged folder is removed and ``target`` is left as it was. The swap is two renames on
    the same file system: the old folder (if any) is moved aside, the new one moved in, and the old one deleted.
    """

    def __init__(self, target: Path) -> None:
        self.target = target
        self.path = target.with_name(f".{target.name}.{os.getpid()}.staged")

    def __enter__(self) -> StagedDir:
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        old = self.target.with_name(f".{self.target.name}.{os.getpid()}.old")
        shutil.rmtree(old, ignore_errors=True)
        if self.target.exists():
            self.target.rename(old)
        self.path.rename(self.target)
        shutil.rmtree(old, ignore_errors=True)
