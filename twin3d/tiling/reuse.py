"""Reusing the files of an unchanged part of the previous build instead of writing them again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def link_file(src: Path, dst: Path) -> None:
    """Hard-link ``src`` to ``dst`` (a copy across file systems): an unchanged tile keeps its bytes and inode."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def link_tree(src: Path, dst: Path) -> None:
    """Link every file of the folder ``src`` into ``dst`` (created)."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        link_file(f, dst / f.name)
