"""Write a folder beside its target and swap it in only when the whole build succeeded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import TracebackType


class StagedDir:
    """A temporary folder next to ``target`` that replaces ``target`` on a clean exit.

    On an exception the staged folder is removed and ``target`` is left as it was. The swap is two renames on
    the same file system: the old folder is moved aside, the new one moved in, and the old one deleted.
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
