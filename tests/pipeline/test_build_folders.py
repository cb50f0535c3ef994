"""Each build writes a folder of its own; a committed build cleans up older builds and what killed builds left."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.pipeline.small_twin import TWIN, build_small, dead_pid, make_legacy, small_paths
from twin3d.pipeline.build import current_tiles
from twin3d.pipeline.staging import BUILD_ID, new_build_id


def _dot_entries(*folders: Path) -> set[str]:
    return {f"{p.parent.name}/{p.name}" for folder in folders for p in folder.iterdir() if p.name.startswith(".")}


def test_each_build_gets_a_folder_and_the_current_and_the_one_before_stay(tmp_path: Path) -> None:
    paths = small_paths(tmp_path)
    ids = [build_small(paths) for _ in range(3)]
    assert len(set(ids)) == 3
    assert all(BUILD_ID.match(i) for i in ids)
    folders = {p.name for p in paths.tileset_dir(TWIN).iterdir()}
    assert folders == {ids[1], ids[2]}  # the first is gone: no client can still be on it
    assert current_tiles(paths, TWIN) == paths.tileset_dir(TWIN) / ids[2]
    # The unchanged partition was linked from the build before, not written again.
    glbs = [sorted((paths.tileset_dir(TWIN) / i).rglob("*.glb")) for i in ids[1:]]
    assert [g.relative_to(paths.tileset_dir(TWIN) / ids[1]) for g in glbs[0]] == [
        g.relative_to(paths.tileset_dir(TWIN) / ids[2]) for g in glbs[1]
    ]
    assert all(a.stat().st_ino == b.stat().st_ino for a, b in zip(*glbs, strict=True))


def test_leftovers_of_killed_builds_go_and_those_of_a_running_build_stay(tmp_path: Path) -> None:
    paths = small_paths(tmp_path)
    build_small(paths)
    running = subprocess.Popen(["sleep", "60"])
    try:
        for pid in (dead_pid(), running.pid):
            (paths.tileset_dir(TWIN) / f".{new_build_id()}.{pid}.staged" / "p").mkdir(parents=True)
            (paths.tiles_dir / f".{TWIN}.{pid}.old").mkdir()  # a build from before build folders
            (paths.store_dir / f".{TWIN}.duckdb.{pid}.tmp").write_bytes(b"half a store")
            (paths.store_dir / f".{TWIN}.duckdb.{pid}.tmp.wal").write_bytes(b"its log")
        # Another twin's leftovers are its own build's to remove.
        (paths.store_dir / f".lauf.duckdb.{dead_pid()}.tmp").write_bytes(b"another twin")
        before = _dot_entries(paths.tileset_dir(TWIN), paths.tiles_dir, paths.store_dir)

        build_small(paths)

        after = _dot_entries(paths.tileset_dir(TWIN), paths.tiles_dir, paths.store_dir)
        assert after < before
        assert {name for name in before - after if f".{running.pid}." in name} == set()
        assert all(f".{running.pid}." in name or "lauf" in name or name.endswith(".build.lock") for name in after)
        assert sum(f".{running.pid}." in name for name in after) == 4
    finally:
        running.kill()
        running.wait()


def test_a_twin_built_before_build_ids_keeps_its_tiles_until_they_are_two_builds_old(tmp_path: Path) -> None:
    paths = small_paths(tmp_path)
    build_small(paths)
    make_legacy(paths)
    assert current_tiles(paths, TWIN) == paths.tileset_dir(TWIN)

    first = build_small(paths)
    assert (paths.tileset_dir(TWIN) / "tileset.json").is_file()  # clients of the old layout still load it
    assert current_tiles(paths, TWIN) == paths.tileset_dir(TWIN) / first

    second = build_small(paths)
    assert {p.name for p in paths.tileset_dir(TWIN).iterdir()} == {first, second}
