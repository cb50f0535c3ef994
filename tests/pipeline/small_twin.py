"""A small real twin for tests of builds and reloads: three LoD2 buildings of the NRW test tile (under a second)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import PIPELINES, TEST_PIPELINES
from twin3d.pipeline.build import build_twin, current_tiles
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings
from twin3d.store import queries
from twin3d.store.connection import connect

TWIN = "nrw"


def small_paths(root: Path) -> PathSettings:
    """Store and tiles folders under ``root`` (the repository's pipelines, for the server's scenario files)."""
    return PathSettings(pipelines_dir=PIPELINES, store_dir=root / "var", tiles_dir=root / "tiles")


def build_small(paths: PathSettings) -> str:
    """Build the small twin into ``paths``; returns the build id its store names."""
    build_twin(load_pipeline(TEST_PIPELINES / f"{TWIN}.toml"), paths)
    found = store_build_id(paths)
    assert found is not None
    return found


def store_build_id(paths: PathSettings) -> str | None:
    con = connect(paths.store_file(TWIN), read_only=True)
    try:
        return queries.build_id(con.cursor())
    finally:
        con.close()


def make_legacy(paths: PathSettings) -> str:
    """Turn the built twin into one built before build ids: tiles directly in ``tiles/<twin>/``, no ``build_id``.

    Returns:
        The build id it had.
    """
    build_id = store_build_id(paths)
    folder = current_tiles(paths, TWIN)
    assert build_id is not None
    assert folder is not None
    for entry in folder.iterdir():
        entry.rename(paths.tileset_dir(TWIN) / entry.name)
    folder.rmdir()
    for other in paths.tileset_dir(TWIN).iterdir():
        if other.name.startswith("20") and other.is_dir():
            shutil.rmtree(other)
    con = connect(paths.store_file(TWIN))
    try:
        con.execute("DELETE FROM twin_meta WHERE key = 'build_id'")
    finally:
        con.close()
    return build_id


def dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
