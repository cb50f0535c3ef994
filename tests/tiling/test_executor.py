"""The executors: a build's outputs are the same byte for byte whether it ran here, in forked processes or on Dask.

The Lauf twin (OSM footprints, LoD1) and the NRW test twin (CityGML LoD2 files read one task per file) are built
with each executor into folders of their own; every tile file and the store's buildings (with the tile each one
is in) must match the local build exactly.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import PIPELINES, TEST_PIPELINES
from tests.pipeline.test_build import BUILDINGS, _fingerprint, _run
from twin3d.errors import InputError
from twin3d.executor import ExecutorSpec, open_executor
from twin3d.pipeline.build import build_twin, current_tiles
from twin3d.pipeline.config import load_pipeline
from twin3d.settings import PathSettings

pytestmark = pytest.mark.slow

EXECUTORS = {
    "local": ExecutorSpec("local"),
    "processes": ExecutorSpec("processes", 2),
    "dask": ExecutorSpec("dask", 2),
}


def _outputs(paths: PathSettings, twin: str) -> tuple[dict[str, bytes], list[tuple[object, ...]]]:
    folder = current_tiles(paths, twin)
    assert folder is not None
    files = {f.relative_to(folder).as_posix(): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}
    con = duckdb.connect(str(paths.store_file(twin)), read_only=True)
    try:
        rows = con.execute(
            "SELECT building_id, tile, height, ground_height, footprint_m2 FROM buildings ORDER BY building_id"
        ).fetchall()
    finally:
        con.close()
    return files, rows


@pytest.mark.parametrize(("twin", "pipelines"), [("lauf", PIPELINES), ("nrw", TEST_PIPELINES)])
def test_every_executor_writes_the_same_bytes(tmp_path: Path, twin: str, pipelines: Path) -> None:
    cfg = load_pipeline(pipelines / f"{twin}.toml")
    outputs = {}
    for name, spec in EXECUTORS.items():
        paths = PathSettings(
            pipelines_dir=pipelines, store_dir=tmp_path / name / "var", tiles_dir=tmp_path / name / "t"
        )
        report = build_twin(cfg, paths, executor=spec)
        assert report.tiles
        outputs[name] = _outputs(paths, twin)
    files, rows = outputs["local"]
    assert len(files) >= 3
    assert rows
    for name in ("processes", "dask"):
        other_files, other_rows = outputs[name]
        assert other_files.keys() == files.keys(), name
        assert [k for k in files if files[k] != other_files[k]] == [], name
        assert other_rows == rows, name


def test_a_task_s_error_reaches_the_build_with_its_message() -> None:
    """An error raised in a worker (a bad file, say) is the build's error, named as the worker raised it."""
    with open_executor(ExecutorSpec("dask", 1)) as runner, pytest.raises(InputError, match="record 3 is broken"):
        list(runner.map(_fail_on_three, None, range(5)))


def _fail_on_three(_context: None, task: int) -> int:
    if task == 3:
        raise InputError("record 3 is broken", hint="fix record 3")
    return task


@pytest.mark.parametrize("spec", [ExecutorSpec("processes", 2), ExecutorSpec("dask", 2)], ids=["processes", "dask"])
def test_a_slow_first_task_does_not_hold_up_the_other_worker(spec: ExecutorSpec, tmp_path: Path) -> None:
    """The first task waits until the last one has run: it can only if the other worker goes on past it."""
    with open_executor(spec) as runner:
        saw_last = list(runner.map(_wait_for_last, (tmp_path, 11), range(12)))
    assert saw_last[0], "the other worker stopped while the first task ran"
    assert saw_last[1:] == [False] * 11  # results still in task order


def _wait_for_last(context: tuple[Path, int], task: int) -> bool:
    folder, last = context
    if task == last:
        (folder / "last-ran").touch()
    if task != 0:
        return False
    deadline = time.monotonic() + 60.0  # a safety net only: the file appears within a second when it works
    while time.monotonic() < deadline:
        if (folder / "last-ran").exists():
            return True
        time.sleep(0.02)
    return False


def test_of_two_failing_tasks_the_first_in_order_is_the_error() -> None:
    """Whichever fails first in time, the error is the same on every run and executor: the first task's."""
    with open_executor(ExecutorSpec("dask", 2)) as runner, pytest.raises(InputError, match="record 1 is broken"):
        list(runner.map(_fail_slowly_on_one, None, range(6)))


def _fail_slowly_on_one(_context: None, task: int) -> int:
    if task == 1:
        time.sleep(0.5)
    if task in {1, 4}:
        raise InputError(f"record {task} is broken", hint="fix it")
    return task


def test_a_scheduler_that_does_not_answer_is_named() -> None:
    with pytest.raises(InputError, match=r"no Dask scheduler answers at tcp://127\.0\.0\.1:9"):  # noqa: SIM117
        with open_executor(ExecutorSpec("dask", scheduler="tcp://127.0.0.1:9")):
            pass


def test_a_bad_file_read_by_a_dask_worker_fails_the_build_in_one_line_and_leaves_the_twin(
    project_copy: PathSettings,
) -> None:
    code, _ = _run(project_copy, "build", "lauf")
    assert code == 0
    before = _fingerprint(project_copy, "lauf")
    path = project_copy.pipelines_dir.parent / BUILDINGS
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, output = _run(project_copy, "build", "lauf", "--executor", "dask", "--workers", "2")
    assert code == InputError.exit_code
    assert "cannot be read as vector data" in output
    assert "Traceback" not in output
    assert _fingerprint(project_copy, "lauf") == before
    assert [p.name for p in project_copy.store_dir.iterdir() if ".spill" in p.name] == []  # no shares left behind


def test_the_cli_names_a_scheduler_that_does_not_answer(project_copy: PathSettings) -> None:
    code, output = _run(project_copy, "build", "lauf", "--scheduler", "tcp://127.0.0.1:9")
    assert code == InputError.exit_code
    assert "no Dask scheduler answers at tcp://127.0.0.1:9" in output
