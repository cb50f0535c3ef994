"""``twin3d serve`` as a real process group for tests that need worker processes or a crash: started on a free
port over the session's demo build, stopped (or killed) with its workers."""

from __future__ import annotations

import contextlib
import http.client
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import free_port
from twin3d.deploy.processes import started, twin3d_command
from twin3d.settings import PathSettings


def call(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, *, timeout: float = 30
) -> tuple[int, Any]:
    """One JSON request on a connection of its own (so that successive calls reach either worker): status, body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        payload = response.read()
    finally:
        conn.close()
    return response.status, json.loads(payload) if payload else None


@dataclass(frozen=True)
class Served:
    """A running server: its supervisor's pid (the process group), its port and its worker processes."""

    pid: int
    port: int
    workers: frozenset[int]


def worker_pids(supervisor: int) -> set[int]:
    """The worker processes uvicorn's supervisor started (its resource tracker is a child too)."""
    pids = set()
    with contextlib.suppress(OSError):
        for pid in Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split():
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.add(int(pid))
    return pids


@contextmanager
def serving_workers(
    store_dir: Path, demo_paths: PathSettings, *, workers: int, env: dict[str, str], log: Path
) -> Iterator[Served]:
    """``twin3d serve --workers N`` over ``store_dir``, ready once every worker runs and the API answers."""
    port = free_port()
    full_env = {
        **env,
        "TWIN3D_STORE_DIR": str(store_dir),
        "TWIN3D_PIPELINES_DIR": str(demo_paths.pipelines_dir),
        "TWIN3D_TILES_DIR": str(demo_paths.tiles_dir),
    }
    command = [*twin3d_command(), "serve", "--port", str(port), "--workers", str(workers)]
    with started(command, f"http://127.0.0.1:{port}/api/twins", env=full_env, log=log) as process:
        deadline = time.monotonic() + 60
        while workers > 1 and len(worker_pids(process.pid)) < workers:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.1)
        yield Served(process.pid, port, frozenset(worker_pids(process.pid)))
