"""Start the production set-up on this machine for tests and benchmarks: real processes, stopped by their PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from twin3d.errors import ConfigError

NGINX = "nginx"


def twin3d_command() -> list[str]:
    """The ``twin3d`` console script beside this interpreter (``python -m twin3d.cli`` when it is not installed)."""
    script = Path(sys.executable).with_name("twin3d")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "twin3d.cli"]


def wait_for_http(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``url`` answers with any HTTP status (the server accepts and answers requests).

    Raises:
        ConfigError: the process ended, or nothing answered within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise ConfigError(f"the process for {url} ended with code {process.returncode}")
        if time.monotonic() > deadline:
            raise ConfigError(f"nothing answered at {url} within {timeout:.0f} s")
        time.sleep(0.1)


@contextmanager
def started(
    command: Sequence[str], ready_url: str, *, env: Mapping[str, str] | None = None, log: Path, timeout: float = 60
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` (its output into ``log``) until the block ends; ready when ``ready_url`` answers.

    The command leads a process group of its own (its pid is the group's id), so that its workers go with it:
    ``os.killpg(process.pid, signal.SIGKILL)`` is a crash of the whole service. At the end the group gets SIGTERM
    (uvicorn's supervisor and nginx both shut down gracefully on it), then SIGKILL.
    """
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_http(ready_url, timeout, process)
        yield process
    finally:
        _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # the whole group is gone already
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        if sig is signal.SIGTERM:
            with contextlib.suppress(ProcessLookupError):  # workers the supervisor did not wait for
                os.killpg(process.pid, signal.SIGKILL)
        break
    process.wait()


@contextmanager
def nginx_running(conf: Path, run_dir: Path, ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    """Debian's nginx in the foreground on a standalone config (``twin3d deploy nginx --standalone``)."""
    binary = shutil.which(NGINX) or shutil.which(NGINX, path="/usr/sbin:/sbin")
    if binary is None:
        raise ConfigError("nginx is not installed", hint="apt-get install -y nginx")
    with started([binary, "-c", str(conf), "-p", str(run_dir)], ready_url, log=run_dir / "nginx.out") as process:
        yield process
